/* finack_bench: bulk throughput, CPU per GB, memory per idle connection and
 * connection rate, beside lwIP and the Linux kernel measured in the same run.
 *
 *   finack_bench [--bytes N] [--repeat N] [--conns N] [--rate-conns LIST]
 *                [--rate-repeat N] [--bufsize N] [--mtu N]
 *                [--only finack,lwip,linux] [--no-bulk] [--no-memory]
 *                [--no-rate] [--verify] [--json]
 *
 * Absolute figures swing between runs on a shared machine; the ratios of
 * one run are what to compare. Each stack runs --repeat times, interleaved
 * (finack, finack with lwIP's 64 KiB window, lwIP, Linux, Linux at MSS 1460,
 * finack, ...), and each figure is the median. The connection rate is taken
 * the same way at each connection count (finack, lwIP, Linux, finack, ...,
 * --rate-repeat times). docs/PERFORMANCE.md says how each is taken. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

static uint8_t pattern[BENCH_SRC_LEN];

bool bench_check(const struct bench_opts *o, uint64_t at, const uint8_t *data, size_t len)
{
    if (!o->verify) return true;
    return bench_matches(pattern, at, data, len);
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
void lwip_connect_rate(unsigned n, struct mem_result *r)
{
    (void)n;
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

/* ---- connection rate ------------------------------------------------------- */

enum { R_FINACK, R_LWIP, R_LINUX, R__COUNT };
static const char *const rate_key[R__COUNT] = {"finack", "lwip", "linux"};
static const char *const rate_label[R__COUNT] = {"finack", "lwIP 2.1.3", "Linux loopback"};
#define RATE_SLOW_S 10.0 /* a run this long is not repeated */
#define RATE_MAX_RUNS 16
#define RATE_MAX_COLS 9 /* --conns and up to 8 of --rate-conns */

/* One stack at one connection count, over its runs. */
struct rate_fig {
    bool ok, slow;
    char why[256], note[256];
    unsigned conns, ports, runs;
    double v[RATE_MAX_RUNS], c[RATE_MAX_RUNS]; /* connections/s, closes/s per run */
    double rate, min, max, close_rate;          /* medians and spread, by rate_finish */
};

static void rate_add(struct rate_fig *f, bool ok, const char *why, const char *note,
                     unsigned conns, unsigned ports, double setup_s, double close_s)
{
    if (!ok) {
        f->ok = false;
        snprintf(f->why, sizeof f->why, "%s", why);
        f->runs = 0;
        return;
    }
    if (f->runs == RATE_MAX_RUNS) return;
    f->ok = true;
    f->conns = conns;
    f->ports = ports;
    snprintf(f->note, sizeof f->note, "%s", note);
    f->v[f->runs] = setup_s > 0 ? conns / setup_s : 0;
    f->c[f->runs] = close_s > 0 ? conns / close_s : 0;
    f->runs++;
    if (setup_s > RATE_SLOW_S) f->slow = true;
}

static void rate_finish(struct rate_fig *f)
{
    if (!f->ok || !f->runs) return;
    f->min = f->max = f->v[0];
    for (unsigned i = 1; i < f->runs; i++) {
        if (f->v[i] < f->min) f->min = f->v[i];
        if (f->v[i] > f->max) f->max = f->v[i];
    }
    double v[RATE_MAX_RUNS], c[RATE_MAX_RUNS];
    memcpy(v, f->v, sizeof v);
    memcpy(c, f->c, sizeof c);
    f->rate = median(v, f->runs);
    f->close_rate = median(c, f->runs);
}

static void rate_progress(const char *stack, unsigned n, const struct rate_fig *f)
{
    if (f->ok)
        fprintf(stderr, "  connection rate %-15s %6u connections  %9.0f /s\n", stack, f->conns,
                f->v[f->runs - 1]);
    else
        fprintf(stderr, "  connection rate %-15s %6u connections  failed: %s\n", stack, n,
                f->why);
}

/* Linux's figure is compared only when it ran (nearly) as many connections:
 * RLIMIT_NOFILE may have cut it short. */
static bool like_for_like(unsigned n, const struct rate_fig *x)
{
    return x->ok && x->conns >= n - n / 100;
}

static void print_rates(const bool *want, const int *rate_stack,
                        struct rate_fig (*rate)[RATE_MAX_COLS], unsigned ncols,
                        const unsigned *col_n, unsigned repeat)
{
    printf("connection rate: connect + accept until both ends are ESTABLISHED, one thread "
           "per stack;\nconnections/s, median of up to %u runs (min..max)\n", repeat);
    printf("  %-24s", "stack");
    for (unsigned c = 0; c < ncols; c++) {
        char h[32];
        snprintf(h, sizeof h, "%u connections", col_n[c]);
        printf(" %26s", h);
    }
    printf("\n");
    for (int k = 0; k < R__COUNT; k++) {
        if (!want[rate_stack[k]]) continue;
        printf("  %-24s", rate_label[k]);
        for (unsigned c = 0; c < ncols; c++) {
            const struct rate_fig *f = &rate[k][c];
            char cell[64];
            if (!f->ok) snprintf(cell, sizeof cell, "unavailable");
            else if (f->runs > 1)
                snprintf(cell, sizeof cell, "%.0f (%.0f..%.0f)%s", f->rate, f->min, f->max,
                         f->conns != col_n[c] ? "*" : "");
            else
                snprintf(cell, sizeof cell, "%.0f (1 run)%s", f->rate,
                         f->conns != col_n[c] ? "*" : "");
            printf(" %26s", cell);
        }
        printf("\n");
    }
    for (int k = R_LWIP; k < R__COUNT; k++) {
        if (!want[S_FINACK] || !want[rate_stack[k]]) continue;
        char label[40];
        snprintf(label, sizeof label, "finack / %s", k == R_LWIP ? "lwIP" : "Linux");
        printf("  %-24s", label);
        for (unsigned c = 0; c < ncols; c++) {
            const struct rate_fig *f = &rate[R_FINACK][c], *t = &rate[k][c];
            char cell[40];
            if (!f->ok || !t->ok) snprintf(cell, sizeof cell, "-");
            else if (k == R_LINUX && !like_for_like(col_n[c], t))
                snprintf(cell, sizeof cell, "- (Linux at %u)", t->conns);
            else snprintf(cell, sizeof cell, "%.2fx", f->rate / t->rate);
            printf(" %26s", cell);
        }
        printf("\n");
    }
    if (want[S_LINUX]) {
        printf("  %-24s", "Linux close, both ends");
        for (unsigned c = 0; c < ncols; c++) {
            const struct rate_fig *t = &rate[R_LINUX][c];
            char cell[40];
            if (!t->ok) snprintf(cell, sizeof cell, "-");
            else snprintf(cell, sizeof cell, "%.0f", t->close_rate);
            printf(" %26s", cell);
        }
        printf("\n");
    }
    printf("  Server ports:");
    for (unsigned c = 0; c < ncols; c++)
        printf("%s %u at %u", c ? "," : "", bench_conn_ports(col_n[c]), col_n[c]);
    printf(" (at most %u connections per destination,\n  round robin). Linux: non-blocking "
           "connect() and accept4() in one thread over 127.0.0.1;\n  closed with SO_LINGER 0 "
           "on both ends (RST: no TIME_WAIT, no port kept), clients first.\n",
           BENCH_CONNS_PER_PORT);
    for (int k = 0; k < R__COUNT; k++) {
        if (!want[rate_stack[k]]) continue;
        for (unsigned c = 0; c < ncols; c++) {
            const struct rate_fig *f = &rate[k][c];
            if (!f->ok) printf("  %s at %u: %s\n", rate_label[k], col_n[c], f->why);
            else if (*f->note)
                printf("  %s%s at %u: %s\n", f->conns != col_n[c] ? "* " : "", rate_label[k],
                       col_n[c], f->note);
        }
    }
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: finack_bench [--bytes N] [--repeat N] [--conns N] [--rate-conns LIST]\n"
            "                    [--rate-repeat N] [--bufsize N] [--mtu N]\n"
            "                    [--only finack,lwip,linux] [--no-bulk] [--no-memory]\n"
            "                    [--no-rate] [--verify] [--json]\n"
            "  --bytes N    bytes per bulk transfer, client to server (default 1000000000)\n"
            "  --repeat N   bulk runs per stack, interleaved; medians reported (default 7)\n"
            "  --conns N    connections for the idle-memory figure and the first\n"
            "               connection-rate column (default 10000)\n"
            "  --rate-conns LIST  more connection counts, comma-separated, for the\n"
            "               connection-rate table (default 50000; 0 for none)\n"
            "  --rate-repeat N  connection-rate runs per stack and count, interleaved;\n"
            "               medians reported; a run over 10 s is not repeated (default 5)\n"
            "  --bufsize N  finack SO_SNDBUF and SO_RCVBUF for the bulk run (default 4194304)\n"
            "  --mtu N      finack in-memory link MTU (default 1500, as lwIP's fixed MSS)\n"
            "  --only LIST  stacks to measure (default finack,lwip,linux)\n"
            "  --no-bulk    skip the bulk figure\n"
            "  --no-memory  skip the idle-memory figure\n"
            "  --no-rate    skip the connection-rate table\n"
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
    bool json = false, memory = true, bulk = true, rate_on = true;
    unsigned rate_repeat = 5;
    bool want[S__COUNT] = {true, true, true, true, true};
    unsigned rate_conns[8] = {50000}, nrate = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--json")) json = true;
        else if (!strcmp(a, "--verify")) o.verify = true;
        else if (!strcmp(a, "--no-memory")) memory = false;
        else if (!strcmp(a, "--no-bulk")) bulk = false;
        else if (!strcmp(a, "--no-rate")) rate_on = false;
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (v && !strcmp(a, "--bytes")) o.bytes = parse_u64(v, a), i++;
        else if (v && !strcmp(a, "--repeat")) o.repeat = (unsigned)parse_u64(v, a), i++;
        else if (v && !strcmp(a, "--conns")) o.conns = (unsigned)parse_u64(v, a), i++;
        else if (v && !strcmp(a, "--rate-repeat"))
            rate_repeat = (unsigned)parse_u64(v, a), i++;
        else if (v && !strcmp(a, "--rate-conns")) {
            nrate = 0;
            char list[256];
            snprintf(list, sizeof list, "%s", v);
            for (char *save, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                uint64_t c = parse_u64(t, a);
                if (c > BENCH_MAX_CONNS || nrate == sizeof rate_conns / sizeof *rate_conns) {
                    fprintf(stderr, "finack_bench: --rate-conns: at most %zu counts, each "
                                    "0..%u\n", sizeof rate_conns / sizeof *rate_conns,
                            BENCH_MAX_CONNS);
                    return 2;
                }
                if (c) rate_conns[nrate++] = (unsigned)c;
            }
            i++;
        }
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
        o.conns < 1 || o.conns > BENCH_MAX_CONNS || rate_repeat < 1 ||
        rate_repeat > RATE_MAX_RUNS) {
        fprintf(stderr, "finack_bench: --repeat 1..64, --bytes >= 1, --mtu 576..65535, "
                        "--conns 1..%u, --rate-repeat 1..%u\n", BENCH_MAX_CONNS, RATE_MAX_RUNS);
        return 2;
    }
    /* Linux's connection rate holds two descriptors per connection. */
    unsigned long nofile = bench_raise_nofile();

    bench_fill(pattern, sizeof pattern);
    char cpu[256];
    cpu_model(cpu, sizeof cpu);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (!json) {
        printf("finack_bench: %llu bytes client->server per run, median of %u runs per stack\n",
               (unsigned long long)o.bytes, o.repeat);
        printf("machine: %ld CPUs, %s; RLIMIT_NOFILE %lu\n\n", ncpu, cpu, nofile);
        fflush(stdout);
    }

    /* Bulk runs, interleaved so that a noisy neighbour hits every stack. */
    struct bulk_result *runs = calloc((size_t)S__COUNT * o.repeat, sizeof *runs);
    if (!runs) return 1;
    for (unsigned rep = 0; bulk && rep < o.repeat; rep++) {
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
        if (want[s] && bulk) summarize(&runs[(size_t)s * o.repeat], o.repeat, &sum[s]);
        else memset(&sum[s], 0, sizeof sum[s]);
    }

    struct mem_result mem = {0}, lmem = {0};
    if (memory && want[S_FINACK]) finack_idle_memory(&o, &mem);
    if (memory && want[S_LWIP]) lwip_idle_memory(&o, &lmem);
    size_t slab = linux_tcp_slab_objsize();
    size_t sizeof_tcb = finack_sizeof_tcb(), sizeof_sock = finack_sizeof_sock();

    /* Connection rate, a column per connection count: --conns, then each of
     * --rate-conns. Rate-only runs, interleaved finack, lwIP, Linux, up to
     * --rate-repeat times each; the median is reported. A stack whose run
     * took over RATE_SLOW_S seconds is not run again at that count (lwIP at
     * 50 000 takes a minute). */
    unsigned ncols = 0, col_n[RATE_MAX_COLS];
    col_n[ncols++] = o.conns;
    for (unsigned i = 0; i < nrate; i++) {
        bool dup = false;
        for (unsigned j = 0; j < ncols; j++) dup |= col_n[j] == rate_conns[i];
        if (!dup) col_n[ncols++] = rate_conns[i];
    }
    static struct rate_fig rate[R__COUNT][RATE_MAX_COLS];
    const int rate_stack[R__COUNT] = {S_FINACK, S_LWIP, S_LINUX};
    for (unsigned c = 0; rate_on && c < ncols; c++) {
        unsigned n = col_n[c];
        for (unsigned rep = 0; rep < rate_repeat; rep++) {
            for (int k = 0; k < R__COUNT; k++) {
                struct rate_fig *f = &rate[k][c];
                if (!want[rate_stack[k]] || (rep && (!f->ok || f->slow))) continue;
                if (k == R_LINUX) {
                    struct linux_conn_result x;
                    linux_connect_rate(n, &x);
                    rate_add(f, x.ok, x.why, x.note, x.conns, x.ports, x.setup_s, x.close_s);
                } else {
                    struct mem_result m;
                    if (k == R_FINACK) finack_connect_rate(n, &m);
                    else lwip_connect_rate(n, &m);
                    rate_add(f, m.ok, m.why, m.note, m.conns, m.ports, m.setup_s, 0);
                }
                if (!json) rate_progress(rate_label[k], n, f);
            }
        }
        for (int k = 0; k < R__COUNT; k++) rate_finish(&rate[k][c]);
    }

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
        for (int s = 0; bulk && s < S__COUNT; s++) {
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
        for (size_t i = 0; bulk && i < sizeof ratios / sizeof *ratios; i++) {
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
        }
        for (unsigned c = 0; rate_on && c < ncols; c++) {
            unsigned n = col_n[c];
            for (int k = 0; k < R__COUNT; k++) {
                const struct rate_fig *f = &rate[k][c];
                if (!want[rate_stack[k]]) continue;
                int len = snprintf(extra, sizeof extra,
                                   "\"connections\":%u,\"requested\":%u,\"ports\":%u,"
                                   "\"runs\":%u,\"min\":%.6g,\"max\":%.6g",
                                   f->ok ? f->conns : n, n, f->ok ? f->ports : bench_conn_ports(n),
                                   f->runs, f->min, f->max);
                if (*f->note) /* notes hold no quote or backslash */
                    snprintf(extra + len, sizeof extra - (size_t)len, ",\"note\":\"%s\"",
                             f->note);
                json_figure("connect_accept_per_s", rate_key[k], f->ok, f->rate, "connections/s",
                            extra, f->why);
                if (k == R_LINUX) {
                    snprintf(extra, sizeof extra,
                             "\"connections\":%u,\"runs\":%u,\"close\":\"SO_LINGER 0 on "
                             "both ends: RST, no TIME_WAIT\"",
                             f->conns, f->runs);
                    json_figure("close_per_s", rate_key[k], f->ok, f->close_rate,
                                "connections/s", extra, f->why);
                }
            }
            const struct rate_fig *ff = &rate[R_FINACK][c];
            for (int k = R_LWIP; k < R__COUNT; k++) {
                const struct rate_fig *t = &rate[k][c];
                if (!want[S_FINACK] || !want[rate_stack[k]]) continue;
                bool ok = ff->ok && t->ok && (k != R_LINUX || like_for_like(n, t));
                char key[32], why[300];
                snprintf(key, sizeof key, "finack/%s", rate_key[k]);
                snprintf(why, sizeof why, "%s",
                         !ff->ok ? ff->why
                         : !t->ok ? t->why
                                  : "Linux ran fewer connections (RLIMIT_NOFILE)");
                snprintf(extra, sizeof extra, "\"connections\":%u", n);
                json_figure("connect_accept_per_s_ratio", key, ok, ok ? ff->rate / t->rate : 0,
                            "x", extra, why);
            }
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

    if (bulk) {
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
            printf("  %-20s %8.1f %17s %12.0f %8.3f %15s %6u %10llu %9llu\n", stack_label[s],
                   m->mbps, r1, m->segps, m->cpu_per_gb, r2, m->mss,
                   (unsigned long long)m->data_segs, (unsigned long long)m->ack_segs);
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
        printf("\n");
    }
    if (memory) {
        printf("memory per idle ESTABLISHED connection (%u connections = %u endpoints; heap "
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
        for (int i = 0; i < 2; i++)
            if (want[i == 0 ? S_FINACK : S_LWIP] && mems[i]->ok && *mems[i]->note)
                printf("  %s: %s\n", stack_label[i == 0 ? S_FINACK : S_LWIP], mems[i]->note);
        printf("  \"w/ bufs\": after 64 bytes each way, read and acknowledged.");
        if (mem.ok)
            printf(" finack allocates a ring (SO_SNDBUF\n  %u, SO_RCVBUF %u) whole when data "
                   "comes and gives it back once empty;", mem.sndbuf, mem.rcvbuf);
        printf(" lwIP holds no\n  buffer once data is acknowledged and read. RSS counts pages "
               "touched, and reuses what\n  earlier runs freed. The harness's link queues are "
               "grown beforehand, so not counted.\n");
        printf("  sizeof: finack struct tcp_conn %zu + struct finack_sock %zu", sizeof_tcb,
               sizeof_sock);
        if (lwip_sizeof_pcb()) printf("; lwIP struct tcp_pcb %zu", lwip_sizeof_pcb());
        if (slab) printf("; Linux TCP slab object %zu", slab);
        printf("\n  connects/s: this one run (the first of its size in the process); the "
               "connection-rate\n  table takes the median of runs of their own.\n\n");
    }
    if (rate_on) print_rates(want, rate_stack, rate, ncols, col_n, rate_repeat);
    free(runs);
    return 0;
}
