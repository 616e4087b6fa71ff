/* finack_tun_bench: what tun_bench.c (the driver, Linux and finack) and
 * tun_lwip.c (lwIP on the TUN device) share. */
#ifndef FINACK_TUN_BENCH_H
#define FINACK_TUN_BENCH_H

#include <netinet/in.h>
#include <stdint.h>

struct tun_bench_opts {
    const char *stack, *role;  /* "finack"|"lwip"|"linux", "sink"|"source" */
    const char *tun;
    uint32_t addr;             /* ours, host byte order */
    uint8_t prefix_len;
    uint16_t port;             /* the sink listens here */
    struct sockaddr_in peer;   /* the source connects here */
    uint64_t bytes;
    uint32_t bufsize;          /* 0: the stack's default */
};

/* The sink's line: "STACK ROLE bytes=.. seconds=.. MB/s=.. segs_in/s=..". */
void tun_bench_report(const struct tun_bench_opts *o, const char *stack, uint64_t bytes,
                      double seconds, uint64_t segs_in);
/* Exits with a message if data received at offset `at` is not the pattern. */
void tun_bench_check(uint64_t at, const uint8_t *data, size_t len);
/* BENCH_SRC_LEN bytes the sources send over and over. */
const uint8_t *tun_bench_pattern(void);

/* lwIP on the TUN device (tun_lwip.c; a stub that fails without lwIP). */
int tun_bench_lwip(const struct tun_bench_opts *o);

#endif
