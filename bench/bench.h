/* finack_bench: shared types between the driver (main.c) and the stacks
 * measured (finack_bulk.c, lwip_bulk.c, linux_bulk.c, linux_conn.c). */
#ifndef FINACK_BENCH_H
#define FINACK_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bench_opts {
    uint64_t bytes;     /* bulk transfer size, client -> server */
    uint32_t bufsize;   /* SO_SNDBUF / SO_RCVBUF for finack */
    uint32_t mtu;       /* finack's in-memory link MTU */
    unsigned conns;     /* connections for the memory figure (and its connection rate) */
    unsigned repeat;    /* bulk runs per stack; the median is reported */
    bool verify;        /* receivers check every byte against the pattern */
};

/* One bulk transfer. */
struct bulk_result {
    bool ok;
    char why[256];        /* when !ok: what went wrong */
    uint64_t bytes;       /* bytes the receiver got */
    double wall_s;        /* CLOCK_MONOTONIC, first connect .. last byte read */
    double cpu_s;         /* CLOCK_PROCESS_CPUTIME_ID over the same span (all threads) */
    uint64_t data_segs;   /* TCP segments the sender sent (0 if unknown) */
    uint64_t ack_segs;    /* TCP segments the receiver sent (0 if unknown) */
    uint32_t mss;         /* payload bytes per full segment, as negotiated */
    char note[160];       /* how it was run, for the table */
};

/* Memory per idle ESTABLISHED connection (finack). */
struct mem_result {
    bool ok;
    char why[256];
    unsigned conns;             /* connections opened (each has two endpoints) */
    double heap_nobuf;          /* heap bytes per endpoint, no data sent yet */
    double heap_buf;            /* heap bytes per endpoint after a little data each way */
    double rss_nobuf, rss_buf;  /* resident-set growth per endpoint, same two points */
    double setup_s;             /* wall time to open and accept all connections */
    unsigned ports;             /* server ports the connections were spread over */
    char note[160];             /* how the connections were opened, when unusual */
    size_t sizeof_tcb;          /* sizeof(struct tcp_conn) */
    size_t sizeof_sock;         /* sizeof(struct finack_sock) */
    uint32_t sndbuf, rcvbuf;    /* default buffer sizes (getsockopt) */
};

/* Connection-rate runs spread their connections over ceil(n / 12500) server
 * ports, round robin, so that no destination uses more than half of an
 * ephemeral port range (Linux's and finack's 32768..60999 hold 28232 ports
 * per destination). 10 000 connections use one port, 50 000 use four. */
#define BENCH_CONNS_PER_PORT 12500u
#define BENCH_MAX_PORTS 64u
#define BENCH_MAX_CONNS (BENCH_CONNS_PER_PORT * BENCH_MAX_PORTS)
static inline unsigned bench_conn_ports(unsigned n)
{
    return (n + BENCH_CONNS_PER_PORT - 1) / BENCH_CONNS_PER_PORT;
}

/* Linux loopback connection rate: n connections over 127.0.0.1 between a
 * client and a listener in this process, one thread. */
struct linux_conn_result {
    bool ok;
    char why[256];
    unsigned want;      /* connections asked for */
    unsigned conns;     /* connections opened (fewer than want when descriptors are short) */
    unsigned ports;     /* listener ports */
    double setup_s;     /* first socket() .. last accept(), both ends ESTABLISHED */
    double close_s;     /* closing all 2 * conns descriptors, SO_LINGER 0 */
    char note[256];     /* why conns < want, when it is */
};

double bench_mono(void);      /* seconds, CLOCK_MONOTONIC */
double bench_cpu(void);       /* seconds, CLOCK_PROCESS_CPUTIME_ID */
uint64_t bench_mono_us(void); /* microseconds, CLOCK_MONOTONIC */
/* Bytes the allocator has handed out (mallinfo2: arena in use + mmapped). */
size_t bench_heap_in_use(void);
/* Resident set size in bytes (/proc/self/statm). */
size_t bench_rss(void);
/* The byte pattern the senders send: a 1 MiB buffer (BENCH_SRC_LEN), sent
 * over and over. */
#define BENCH_SRC_LEN (1u << 20)
void bench_fill(uint8_t *buf, size_t len);
/* Whether data, received at stream offset `at`, is what the senders sent:
 * pattern (BENCH_SRC_LEN bytes, from bench_fill) over and over. */
bool bench_matches(const uint8_t *pattern, uint64_t at, const uint8_t *data, size_t len);
/* With --verify: do len bytes received at stream offset `at` match what was
 * sent? (Always true without --verify.) */
bool bench_check(const struct bench_opts *o, uint64_t at, const uint8_t *data, size_t len);

void finack_bulk(const struct bench_opts *o, struct bulk_result *r);
void finack_idle_memory(const struct bench_opts *o, struct mem_result *r);
/* The connection rate alone: n connections opened and accepted, as in
 * finack_idle_memory, without the memory figure or the data. */
void finack_connect_rate(unsigned n, struct mem_result *r);
size_t finack_sizeof_tcb(void);  /* sizeof(struct tcp_conn) */
size_t finack_sizeof_sock(void); /* sizeof(struct finack_sock) */
void linux_bulk(const struct bench_opts *o, bool clamp_mss, struct bulk_result *r);
/* Defined only when built with lwIP (FINACK_BENCH_LWIP). */
void lwip_bulk(const struct bench_opts *o, struct bulk_result *r);
void lwip_idle_memory(const struct bench_opts *o, struct mem_result *r);
void lwip_connect_rate(unsigned n, struct mem_result *r);
/* sizeof(struct tcp_pcb) in the lwIP build measured, 0 without lwIP. */
size_t lwip_sizeof_pcb(void);
void linux_connect_rate(unsigned n, struct linux_conn_result *r);
/* Raise RLIMIT_NOFILE's soft limit to the hard limit; returns the limit now
 * in force. */
unsigned long bench_raise_nofile(void);
/* The object size of the kernel's "TCP" slab cache (/proc/slabinfo), 0 if
 * unreadable. */
size_t linux_tcp_slab_objsize(void);

#endif
