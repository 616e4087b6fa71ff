/* Clocks, memory readings and the byte pattern, shared by finack_bench and
 * finack_tun_bench. */
#include <malloc.h>
#include <string.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

double bench_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

uint64_t bench_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

double bench_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

size_t bench_heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

size_t bench_rss(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%lu %lu", &size, &resident) != 2) resident = 0;
        fclose(f);
    }
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

void bench_fill(uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) buf[i] = (uint8_t)(i * 131 + (i >> 8));
}

bool bench_matches(const uint8_t *pattern, uint64_t at, const uint8_t *data, size_t len)
{
    while (len) {
        size_t off = (size_t)(at % BENCH_SRC_LEN);
        size_t n = BENCH_SRC_LEN - off < len ? BENCH_SRC_LEN - off : len;
        if (memcmp(pattern + off, data, n)) return false;
        data += n;
        at += n;
        len -= n;
    }
    return true;
}
