/* finack_bench: bulk throughput, CPU per GB and memory per idle connection,
 * beside lwIP and the Linux kernel measured in the same run.
 *
 *   finack_bench [--bytes N] [--repeat N] [--conns N] [--bufsize N] [--mtu N]
 *                [--only finack,lwip,linux] [--no-memory] [--verify] [--json]
 *
 * Absolute figures swing between runs on a shared machine; the ratios of
 * one run are what to compare. Each stack runs --repeat times, interleaved
 * (finack, finack with lwIP's 64 KiB window, lwIP, Linux, Linux at MSS 1460,
 * finack, ...), and each figure is the median. docs/PERFORMANCE.md says how
 * each is taken. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static uint8_t pattern[BENCH_SRC_LEN];

bool bench_check(const struct bench_opts *o, uint64_t at, const uint8_t *data, size_t len)
{
    if (!o->verify) return true;
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

#ifndef FINACK_BENCH_LWIP
void lwip_bulk(const struct bench_opts *o, struct bulk_result *r)
{
    (void)o;
    memset(r, 0, sizeof *r);
    snprintf(r->why, sizeof r->why,
             "not built: lwIP headers not found (apt-get install liblwip-dev, then reconfigure)");
}
void lwip_idle_memory(const struct bench_opts *o, struct mem_result *r)
{
    (void)o;
    memset(r, 0, sizeof *r);
    snprintf(r->why, sizeof r->why, "not built: lwIP headers not found");
}
size_t lwip_sizeof_pcb(void) { return 0; }
#endif

/* ---- figures ---------------------------------------------------------------- */

/* finack_64k: finack with lwIP's fixed 64 KiB windows, like for like. */
enum { S_FINACK, S_FINACK_64K, S_LWIP, S_LINUX, S_LINUX_MSS, S__COUNT };
static const char *const stack_key[S__COUNT] = {"finack", "finack_64k", "lwip", "linux",
                                                "linux_mss1460"};
static const char *const stack_label[S__COUNT] = {"finack", "finack, 64 KiB bufs", "lwIP 2.1.3",
                                                  "Linux loopback", "Linux lo, MSS 1460"};

struct summary {
    bool ok;
    char why[256];
    char note[160];
    unsigned runs;
    double mbps, segps, cpu_per_gb, wall_s;
    double mbps_min, mbps_max, cpu_min, cpu_max; /* the spread over the runs */
    uint64_t data_segs, ack_segs;
    uint32_t mss;
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, unsigned n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void summarize(const struct bulk_result *runs, unsigned n, struct summary *s)
{
    memset(s, 0, sizeof *s);
    double mbps[64], segps[64], cpu[64], wall[64];
    unsigned k = 0;
    for (unsigned i = 0; i < n; i++) {
        const struct bulk_result *r = &runs[i];
        if (!r->ok) {
            snprintf(s->why, sizeof s->why, "%s", r->why);
            return; /* any failed run fails the figure */
        }
        mbps[k] = (double)r->bytes / r->wall_s / 1e6;
        segps[k] = (double)r->data_segs / r->wall_s;
        cpu[k] = r->cpu_s / ((double)r->bytes / 1e9);
        wall[k] = r->wall_s;
        k++;
    }
    if (!k) return;
    s->ok = true;
    s->runs = k;
    s->mbps_min = s->mbps_max = mbps[0];
    s->cpu_min = s->cpu_max = cpu[0];
    for (unsigned i = 1; i < k; i++) {
        if (mbps[i] < s->mbps_min) s->mbps_min = mbps[i];
        if (mbps[i] > s->mbps_max) s->mbps_max = mbps[i];
        if (cpu[i] < s->cpu_min) s->cpu_min = cpu[i];
        if (cpu[i] > s->cpu_max) s->cpu_max = cpu[i];
    }
    s->mbps = median(mbps, k);
    s->segps = median(segps, k);
    s->cpu_per_gb = median(cpu, k);
    s->wall_s = median(wall, k);
    s->data_segs = runs[0].data_segs;
    s->ack_segs = runs[0].ack_segs;
    s->mss = runs[0].mss;
    snprintf(s->note, sizeof s->note, "%s", runs[0].note);
}

static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20) printf("\\u%04x", *s);
        else putchar(*s);
    }
    putchar('"');
}

static void json_figure(const char *figure, const char *stack, bool ok, double value,
                        const char *unit, const char *extra, const char *why)
{
    printf("{\"figure\":\"%s\",\"stack\":\"%s\",\"value\":", figure, stack);
    if (ok) printf("%.6g", value);
    else printf("null");
    printf(",\"unit\":\"%s\"", unit);
    if (extra && *extra) printf(",%s", extra);
    if (!ok && why) {
        printf(",\"error\":");
        json_str(why);
    }
    printf("}\n");
}

static void cpu_model(char *out, size_t len)
{
    snprintf(out, len, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10)) continue;
        char *colon = strchr(line, ':');
        if (!colon) break;
        colon++;
        while (*colon == ' ' || *colon == '\t') colon++;
        colon[strcspn(colon, "\n")] = 0;
        snprintf(out, len, "%s", colon);
        break;
    }
    fclose(f);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: finack_bench [--bytes N] [--repeat N] [--conns N] [--bufsize N] [--mtu N]\n"
            "                    [--only finack,lwip,linux] [--no-memory] [--verify] [--json]\n"
            "  --bytes N    bytes per bulk transfer, client to server (default 1000000000)\n"
            "  --repeat N   bulk runs per stack, interleaved; medians reported (default 7)\n"
            "  --conns N    connections for the idle-memory figure (default 10000)\n"
            "  --bufsize N  finack SO_SNDBUF and SO_RCVBUF for the bulk run (default 4194304)\n"
            "  --mtu N      finack in-memory link MTU (default 1500, as lwIP's fixed MSS)\n"
            "  --only LIST  stacks to run the bulk figure on (default all)\n"
            "  --no-memory  skip the idle-memory figure\n"
            "  --verify     receivers check every byte (slower; for checking, not timing)\n"
            "  --json       one JSON object per figure per line\n");
}

static uint64_t parse_u64(const char *s, const char *opt)
{
    char *end;
    double v = strtod(s, &end);
    /* Accept 1e9, 1G, 512M, 64K. */
    if (*end == 'G' || *end == 'g') v *= 1e9, end++;
    else if (*end == 'M' || *end == 'm') v *= 1e6, end++;
    else if (*end == 'K' || *end == 'k') v *= 1e3, end++;
    if (*end || v < 0) {
        fprintf(stderr, "finack_bench: bad value for %s: %s\n", opt, s);
        exit(2);
    }
    return (uint64_t)v;
}

int main(int argc, char **argv)
{
    struct bench_opts o = {.bytes = 1000000000u, .bufsize = 4u << 20, .mtu = 1500,
                           .conns = 10000, .repeat = 7};
    bool json = false, memory = true;
    bool want[S__COUNT] = {true, true, true, true, true};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--json")) json = true;
        else if (!strcmp(a, "--verify")) o.verify = true;
        else if (!strcmp(a, "--no-memory")) memory = false;
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (v && !strcmp(a, "--bytes")) o.bytes = parse_u64(v, a), i++;
        else if (v && !strcmp(a, "--repeat")) o.repeat = (unsigned)parse_u64(v, a), i++;
        else if (v && !strcmp(a, "--conns")) o.conns = (unsigned)parse_u64(v, a), i++;
        else if (v && !strcmp(a, "--bufsize")) o.bufsize = (uint32_t)parse_u64(v, a), i++;
        else if (v && !strcmp(a, "--mtu")) o.mtu = (uint32_t)parse_u64(v, a), i++;
        else if (v && !strcmp(a, "--only")) {
            memset(want, 0, sizeof want);
            want[S_FINACK] = want[S_FINACK_64K] = strstr(v, "finack") != NULL;
            want[S_LWIP] = strstr(v, "lwip") != NULL;
            want[S_LINUX] = want[S_LINUX_MSS] = strstr(v, "linux") != NULL;
            i++;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (o.repeat < 1 || o.repeat > 64 || o.bytes < 1 || o.mtu < 576 || o.mtu > 65535 ||
        o.conns < 1 || o.conns > 28000) {
        fprintf(stderr, "finack_bench: --repeat 1..64, --bytes >= 1, --mtu 576..65535, "
                        "--conns 1..28000\n");
        return 2;
    }

    bench_fill(pattern, sizeof pattern);
    char cpu[256];
    cpu_model(cpu, sizeof cpu);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (!json) {
        printf("finack_bench: %llu bytes client->server per run, median of %u runs per stack\n",
               (unsigned long long)o.bytes, o.repeat);
        printf("machine: %ld CPUs, %s\n\n", ncpu, cpu);
        fflush(stdout);
    }

    /* Bulk runs, interleaved so that a noisy neighbour hits every stack. */
    struct bulk_result *runs = calloc((size_t)S__COUNT * o.repeat, sizeof *runs);
    if (!runs) return 1;
    for (unsigned rep = 0; rep < o.repeat; rep++) {
        for (int s = 0; s < S__COUNT; s++) {
            if (!want[s]) continue;
            struct bulk_result *r = &runs[(size_t)s * o.repeat + rep];
            switch (s) {
            case S_FINACK: finack_bulk(&o, r); break;
            case S_FINACK_64K: {
                struct bench_opts small = o;
                small.bufsize = 65536;
                finack_bulk(&small, r);
                break;
            }
            case S_LWIP: lwip_bulk(&o, r); break;
            case S_LINUX: linux_bulk(&o, false, r); break;
            case S_LINUX_MSS: linux_bulk(&o, true, r); break;
            }
            if (json) continue;
            if (r->ok)
                fprintf(stderr, "  run %u %-20s %8.1f MB/s  %6.3f CPU s/GB\n", rep + 1,
                        stack_label[s], (double)r->bytes / r->wall_s / 1e6,
                        r->cpu_s / ((double)r->bytes / 1e9));
            else
                fprintf(stderr, "  run %u %-20s failed: %s\n", rep + 1, stack_label[s], r->why);
        }
    }
    struct summary sum[S__COUNT];
    for (int s = 0; s < S__COUNT; s++) {
        if (want[s]) summarize(&runs[(size_t)s * o.repeat], o.repeat, &sum[s]);
        else memset(&sum[s], 0, sizeof sum[s]);
    }

    struct mem_result mem = {0}, lmem = {0};
    if (memory && want[S_FINACK]) finack_idle_memory(&o, &mem);
    if (memory && want[S_LWIP]) lwip_idle_memory(&o, &lmem);
    size_t slab = linux_tcp_slab_objsize();
    size_t sizeof_tcb = finack_sizeof_tcb(), sizeof_sock = finack_sizeof_sock();

    /* Ratios: finack over each. Throughput ratio > 1 means finack is faster;
     * CPU-per-GB ratio < 1 means finack spends less CPU per byte. */
    struct ratio {
        const char *key, *label;
        int self, other;
    } ratios[] = {{"finack/lwip", "finack / lwIP", S_FINACK, S_LWIP},
                  {"finack_64k/lwip", "finack 64 KiB / lwIP", S_FINACK_64K, S_LWIP},
                  {"finack/linux", "finack / Linux loopback", S_FINACK, S_LINUX},
                  {"finack/linux_mss1460", "finack / Linux lo MSS 1460", S_FINACK, S_LINUX_MSS}};

    if (json) {
        char extra[512];
        for (int s = 0; s < S__COUNT; s++) {
            if (!want[s]) continue;
            const struct summary *m = &sum[s];
            snprintf(extra, sizeof extra, "\"bytes\":%llu,\"runs\":%u,\"mss\":%u",
                     (unsigned long long)o.bytes, o.repeat, m->mss);
            char spread[700];
            snprintf(spread, sizeof spread, "%s,\"min\":%.6g,\"max\":%.6g", extra, m->mbps_min,
                     m->mbps_max);
            json_figure("bulk_mbps", stack_key[s], m->ok, m->mbps, "MB/s", spread, m->why);
            json_figure("bulk_segments_per_s", stack_key[s], m->ok, m->segps, "segments/s",
                        extra, m->why);
            snprintf(spread, sizeof spread, "%s,\"min\":%.6g,\"max\":%.6g", extra, m->cpu_min,
                     m->cpu_max);
            json_figure("cpu_per_gb", stack_key[s], m->ok, m->cpu_per_gb, "CPU s/GB", spread,
                        m->why);
        }
        for (size_t i = 0; i < sizeof ratios / sizeof *ratios; i++) {
            int f = ratios[i].self, t = ratios[i].other;
            if (!want[f] || !want[t]) continue;
            bool ok = sum[f].ok && sum[t].ok;
            const char *why = !sum[f].ok ? sum[f].why : sum[t].why;
            json_figure("bulk_mbps_ratio", ratios[i].key, ok, ok ? sum[f].mbps / sum[t].mbps : 0,
                        "x", NULL, why);
            json_figure("cpu_per_gb_ratio", ratios[i].key, ok,
                        ok ? sum[f].cpu_per_gb / sum[t].cpu_per_gb : 0, "x", NULL, why);
        }
        const struct mem_result *mems[2] = {&mem, &lmem};
        const char *mem_stack[2] = {"finack", "lwip"};
        for (int i = 0; memory && i < 2; i++) {
            const struct mem_result *mr = mems[i];
            if (!want[i == 0 ? S_FINACK : S_LWIP]) continue;
            snprintf(extra, sizeof extra,
                     "\"connections\":%u,\"endpoints\":%u,\"rss_bytes\":%.0f", mr->conns,
                     2 * mr->conns, mr->rss_nobuf);
            json_figure("idle_conn_bytes", mem_stack[i], mr->ok, mr->heap_nobuf, "bytes", extra,
                        mr->why);
            snprintf(extra, sizeof extra,
                     "\"connections\":%u,\"endpoints\":%u,\"rss_bytes\":%.0f,\"sndbuf\":%u,"
                     "\"rcvbuf\":%u",
                     mr->conns, 2 * mr->conns, mr->rss_buf, mr->sndbuf, mr->rcvbuf);
            json_figure("idle_conn_bytes_with_buffers", mem_stack[i], mr->ok, mr->heap_buf,
                        "bytes", extra, mr->why);
            json_figure("connect_accept_per_s", mem_stack[i], mr->ok,
                        mr->setup_s > 0 ? mr->conns / mr->setup_s : 0, "connections/s", NULL,
                        mr->why);
        }
        json_figure("sizeof_tcb", "finack", true, (double)sizeof_tcb, "bytes",
                    "\"type\":\"struct tcp_conn\"", NULL);
        json_figure("sizeof_socket", "finack", true, (double)sizeof_sock, "bytes",
                    "\"type\":\"struct finack_sock\"", NULL);
        if (lwip_sizeof_pcb())
            json_figure("sizeof_tcb", "lwip", true, (double)lwip_sizeof_pcb(), "bytes",
                        "\"type\":\"struct tcp_pcb\"", NULL);
        if (slab)
            json_figure("sizeof_tcb", "linux", true, (double)slab, "bytes",
                        "\"type\":\"TCP slab object (struct tcp_sock)\"", NULL);
        free(runs);
        return 0;
    }

    printf("bulk transfer (median of %u runs; MB = 10^6 bytes, GB = 10^9 bytes)\n", o.repeat);
    printf("  %-20s %8s %17s %12s %8s %15s %6s %10s %9s\n", "stack", "MB/s", "(min..max)",
           "segments/s", "CPU s/GB", "(min..max)", "MSS", "data segs", "ACK segs");
    for (int s = 0; s < S__COUNT; s++) {
        if (!want[s]) continue;
        const struct summary *m = &sum[s];
        if (!m->ok) {
            printf("  %-20s unavailable: %s\n", stack_label[s], m->why);
            continue;
        }
        char r1[40], r2[40];
        snprintf(r1, sizeof r1, "(%.0f..%.0f)", m->mbps_min, m->mbps_max);
        snprintf(r2, sizeof r2, "(%.3f..%.3f)", m->cpu_min, m->cpu_max);
        printf("  %-20s %8.1f %17s %12.0f %8.3f %15s %6u %10llu %9llu\n", stack_label[s], m->mbps,
               r1, m->segps, m->cpu_per_gb, r2, m->mss, (unsigned long long)m->data_segs,
               (unsigned long long)m->ack_segs);
    }
    printf("\n");
    for (int s = 0; s < S__COUNT; s++)
        if (want[s] && sum[s].ok) printf("  %-20s %s\n", stack_label[s], sum[s].note);
    printf("\nratios, this run (throughput: >1 = finack faster; CPU per GB: <1 = finack "
           "cheaper)\n");
    for (size_t i = 0; i < sizeof ratios / sizeof *ratios; i++) {
        int f = ratios[i].self, t = ratios[i].other;
        if (!want[f] || !want[t]) continue;
        if (!sum[f].ok || !sum[t].ok) {
            printf("  %-28s unavailable\n", ratios[i].label);
            continue;
        }
        printf("  %-28s throughput %6.3fx   CPU per GB %6.3fx\n", ratios[i].label,
               sum[f].mbps / sum[t].mbps, sum[f].cpu_per_gb / sum[t].cpu_per_gb);
    }
    if (memory) {
        printf("\nmemory per idle ESTABLISHED connection (%u connections = %u endpoints; heap "
               "growth from mallinfo2 per endpoint)\n",
               o.conns, 2 * o.conns);
        printf("  %-20s %12s %12s %14s %14s %12s\n", "stack", "heap, idle", "RSS, idle",
               "heap, w/ bufs", "RSS, w/ bufs", "connects/s");
        const struct mem_result *mems[2] = {&mem, &lmem};
        for (int i = 0; i < 2; i++) {
            const struct mem_result *mr = mems[i];
            const char *label = stack_label[i == 0 ? S_FINACK : S_LWIP];
            if (!want[i == 0 ? S_FINACK : S_LWIP]) continue;
            if (!mr->ok) {
                printf("  %-20s unavailable: %s\n", label, mr->why);
                continue;
            }
            printf("  %-20s %12.0f %12.0f %14.0f %14.0f %12.0f\n", label, mr->heap_nobuf,
                   mr->rss_nobuf, mr->heap_buf, mr->rss_buf, mr->conns / mr->setup_s);
        }
        printf("  \"w/ bufs\": after 64 bytes each way, read and acknowledged.");
        if (mem.ok)
            printf(" finack's rings (SO_SNDBUF %u +\n  SO_RCVBUF %u) are allocated whole on "
                   "first use;", mem.sndbuf, mem.rcvbuf);
        printf(" lwIP holds no buffer once data is\n  acknowledged and read. RSS counts pages "
               "touched, and reuses what earlier runs freed.\n");
        printf("  sizeof: finack struct tcp_conn %zu + struct finack_sock %zu", sizeof_tcb,
               sizeof_sock);
        if (lwip_sizeof_pcb()) printf("; lwIP struct tcp_pcb %zu", lwip_sizeof_pcb());
        if (slab) printf("; Linux TCP slab object %zu", slab);
        printf("\n");
    }
    free(runs);
    return 0;
}
