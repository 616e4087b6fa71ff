/* The iperf3 protocol over finack's blocking calls (see iperf3.h). */
#include "iperf3.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "finack/runtime.h"

/* iperf3's states (src/iperf_api.h), sent as one signed byte. */
enum {
    TEST_START = 1,
    TEST_RUNNING = 2,
    TEST_END = 4,
    PARAM_EXCHANGE = 9,
    CREATE_STREAMS = 10,
    EXCHANGE_RESULTS = 13,
    DISPLAY_RESULTS = 14,
    IPERF_DONE = 16,
    SERVER_ERROR = -2,
};

#define COOKIE_SIZE 37       /* 36 characters and a NUL */
#define MAX_JSON 65536       /* longer parameter or result objects are refused */

static int proto_error(const char *what)
{
    fprintf(stderr, "finack iperf3: %s\n", what);
    return -EPROTO;
}

static int send_all(struct finack_loop *loop, int fd, const void *buf, size_t len)
{
    ssize_t n = finack_loop_send(loop, fd, buf, len, 0);
    if (n < 0) return (int)n;
    return (size_t)n == len ? 0 : -EIO;
}

/* Exactly len bytes, or -ECONNRESET if the peer ended the stream first. */
static int recv_all(struct finack_loop *loop, int fd, void *buf, size_t len)
{
    ssize_t n = finack_loop_recv(loop, fd, buf, len, MSG_WAITALL);
    if (n < 0) return (int)n;
    return (size_t)n == len ? 0 : -ECONNRESET;
}

static int send_state(struct finack_loop *loop, int fd, int8_t state)
{
    return send_all(loop, fd, &state, 1);
}

static int recv_state(struct finack_loop *loop, int fd, int8_t *state)
{
    return recv_all(loop, fd, state, 1);
}

static int send_json(struct finack_loop *loop, int fd, const char *json)
{
    size_t len = strlen(json);
    uint8_t hdr[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                      (uint8_t)len};
    int err = send_all(loop, fd, hdr, 4);
    return err ? err : send_all(loop, fd, json, len);
}

/* A length-prefixed JSON object into a malloc'ed NUL-terminated string. */
static int recv_json(struct finack_loop *loop, int fd, char **out)
{
    uint8_t hdr[4];
    int err = recv_all(loop, fd, hdr, 4);
    if (err) return err;
    uint32_t len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
    if (len == 0 || len > MAX_JSON) return proto_error("JSON message of a length iperf3 never sends");
    char *json = malloc(len + 1);
    if (!json) return -ENOMEM;
    err = recv_all(loop, fd, json, len);
    if (err) {
        free(json);
        return err;
    }
    json[len] = 0;
    *out = json;
    return 0;
}

/* The number after "key": in a flat JSON object; def if absent. Enough for
 * iperf3's parameters, which are one level of numbers and booleans. */
static double json_number(const char *json, const char *key, double def)
{
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\"", key);
    const char *p = strstr(json, pattern);
    if (!p) return def;
    p += strlen(pattern);
    while (*p == ' ' || *p == '\t' || *p == '\n') p++;
    if (*p++ != ':') return def;
    while (*p == ' ' || *p == '\t' || *p == '\n') p++;
    if (strncmp(p, "true", 4) == 0) return 1;
    if (strncmp(p, "false", 5) == 0) return 0;
    char *end;
    double v = strtod(p, &end);
    return end == p ? def : v;
}

static double now_s(void) { return (double)finack_clock_now() / 1e6; }

static void print_line(FILE *report, const char *who, const struct iperf3_result *r)
{
    double secs = r->seconds > 0 ? r->seconds : 1e-9;
    fprintf(report, "[SUM]   0.00-%.2f sec  %" PRIu64 " bytes  %.1f Mbits/sec  %s (%u stream%s)\n",
            r->seconds, r->bytes, (double)r->bytes * 8 / secs / 1e6, who, r->streams,
            r->streams == 1 ? "" : "s");
    fflush(report);
}

/* ---- server ------------------------------------------------------------------ */

struct stream_reader {
    struct finack_loop *loop;
    int fd;
    uint64_t bytes;
    pthread_t thread;
    bool started;
};

static void *read_stream(void *arg)
{
    struct stream_reader *s = arg;
    enum { BUF = 128 * 1024 };
    uint8_t *buf = malloc(BUF);
    while (buf) {
        ssize_t n = finack_loop_recv(s->loop, s->fd, buf, BUF, 0);
        if (n <= 0) break;
        __atomic_fetch_add(&s->bytes, (uint64_t)n, __ATOMIC_RELAXED);
    }
    free(buf);
    return NULL;
}

/* Accept a connection that starts with our cookie (iperf3 sends nothing
 * else first). */
static int accept_with_cookie(struct finack_loop *loop, int lfd, char cookie[COOKIE_SIZE])
{
    int fd = finack_loop_accept(loop, lfd, NULL, NULL);
    if (fd < 0) return fd;
    int err = recv_all(loop, fd, cookie, COOKIE_SIZE);
    if (err) {
        finack_loop_close(loop, fd);
        return err;
    }
    cookie[COOKIE_SIZE - 1] = 0;
    return fd;
}

int iperf3_serve_one(struct finack_loop *loop, int lfd, FILE *report, struct iperf3_result *r)
{
    memset(r, 0, sizeof *r);
    char cookie[COOKIE_SIZE], data_cookie[COOKIE_SIZE];
    struct stream_reader streams[IPERF3_MAX_STREAMS] = {0};
    char *params = NULL, *theirs = NULL;
    unsigned nstreams = 0;
    int err;
    int ctl = accept_with_cookie(loop, lfd, cookie);
    if (ctl < 0) return ctl;
    if ((err = send_state(loop, ctl, PARAM_EXCHANGE)) || (err = recv_json(loop, ctl, &params)))
        goto out;
    double parallel = json_number(params, "parallel", 1);
    if (json_number(params, "reverse", 0) != 0 || json_number(params, "bidirectional", 0) != 0 ||
        json_number(params, "udp", 0) != 0 || json_number(params, "tcp", 1) == 0) {
        send_state(loop, ctl, SERVER_ERROR);
        err = proto_error("only forward TCP tests are supported (no -R, --bidir or -u)");
        goto out;
    }
    if (parallel < 1 || parallel > IPERF3_MAX_STREAMS) {
        send_state(loop, ctl, SERVER_ERROR);
        err = proto_error("more parallel streams than finack iperf3 serves (16)");
        goto out;
    }
    if ((err = send_state(loop, ctl, CREATE_STREAMS))) goto out;
    while (nstreams < (unsigned)parallel) {
        int fd = accept_with_cookie(loop, lfd, data_cookie);
        if (fd < 0) {
            err = fd;
            goto out;
        }
        if (strcmp(data_cookie, cookie) != 0) { /* another client: not ours */
            finack_loop_close(loop, fd);
            continue;
        }
        streams[nstreams] = (struct stream_reader){.loop = loop, .fd = fd};
        nstreams++;
    }
    r->streams = nstreams;
    for (unsigned i = 0; i < nstreams; i++) {
        if (pthread_create(&streams[i].thread, NULL, read_stream, &streams[i]) != 0) {
            err = -EAGAIN;
            goto out;
        }
        streams[i].started = true;
    }
    double t0 = now_s();
    if ((err = send_state(loop, ctl, TEST_START)) || (err = send_state(loop, ctl, TEST_RUNNING)))
        goto out;
    int8_t state;
    if ((err = recv_state(loop, ctl, &state))) goto out;
    if (state != TEST_END) {
        err = proto_error("the client sent a state other than TEST_END during the test");
        goto out;
    }
    r->seconds = now_s() - t0;
    /* The client stops sending before TEST_END and closes its streams after
     * IPERF_DONE; what has arrived by now is the count. */
    uint64_t counted[IPERF3_MAX_STREAMS];
    for (unsigned i = 0; i < nstreams; i++) {
        counted[i] = __atomic_load_n(&streams[i].bytes, __ATOMIC_RELAXED);
        r->bytes += counted[i];
    }
    if ((err = send_state(loop, ctl, EXCHANGE_RESULTS)) || (err = recv_json(loop, ctl, &theirs)))
        goto out;
    char results[4096];
    size_t used = (size_t)snprintf(results, sizeof results,
                                   "{\"cpu_util_total\":0,\"cpu_util_user\":0,"
                                   "\"cpu_util_system\":0,\"sender_has_retransmits\":0,"
                                   "\"streams\":[");
    for (unsigned i = 0; i < nstreams && used < sizeof results; i++) {
        /* iperf3 numbers its streams 1, 3, 4, 5, ... (iperf_add_stream). */
        unsigned id = i == 0 ? 1 : i + 2;
        used += (size_t)snprintf(results + used, sizeof results - used,
                                 "%s{\"id\":%u,\"bytes\":%" PRIu64 ",\"retransmits\":-1,"
                                 "\"jitter\":0,\"errors\":0,\"packets\":0,"
                                 "\"start_time\":0,\"end_time\":%.6f}",
                                 i ? "," : "", id, counted[i], r->seconds);
    }
    if (used + 3 > sizeof results) {
        err = -ENOBUFS;
        goto out;
    }
    strcat(results, "]}");
    if ((err = send_json(loop, ctl, results)) || (err = send_state(loop, ctl, DISPLAY_RESULTS)))
        goto out;
    print_line(report, "receiver", r);
    /* IPERF_DONE, or the client just closing, ends the test. */
    if (recv_state(loop, ctl, &state) == 0 && state != IPERF_DONE)
        err = proto_error("the client sent a state other than IPERF_DONE at the end");
out:
    for (unsigned i = 0; i < nstreams; i++) {
        if (streams[i].started) {
            finack_loop_shutdown(loop, streams[i].fd, SHUT_RD);
            pthread_join(streams[i].thread, NULL);
        }
        finack_loop_close(loop, streams[i].fd);
    }
    finack_loop_close(loop, ctl);
    free(params);
    free(theirs);
    return err;
}

/* ---- client ------------------------------------------------------------------ */

static void make_cookie(char cookie[COOKIE_SIZE])
{
    static const char chars[] = "abcdefghijklmnopqrstuvwxyz234567";
    uint8_t rnd[COOKIE_SIZE - 1];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
        for (size_t i = 0; i < sizeof rnd; i++) rnd[i] = (uint8_t)(rand() & 0xff);
    for (size_t i = 0; i < COOKIE_SIZE - 1; i++) cookie[i] = chars[rnd[i] % 32];
    cookie[COOKIE_SIZE - 1] = 0;
}

static int connect_with_cookie(struct finack_loop *loop, const struct sockaddr_in *server,
                               const char cookie[COOKIE_SIZE])
{
    int fd = finack_loop_socket(loop, AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return fd;
    int err = finack_loop_connect(loop, fd, (const struct sockaddr *)server, sizeof *server);
    if (!err) err = send_all(loop, fd, cookie, COOKIE_SIZE);
    if (err) {
        finack_loop_close(loop, fd);
        return err;
    }
    return fd;
}

static int expect_state(struct finack_loop *loop, int ctl, int8_t want)
{
    int8_t state;
    int err = recv_state(loop, ctl, &state);
    if (err) return err;
    if (state == want) return 0;
    if (state == SERVER_ERROR || state == -1) return proto_error("the iperf3 server refused the test");
    return proto_error("the iperf3 server sent an unexpected state");
}

int iperf3_run_client(struct finack_loop *loop, const struct sockaddr_in *server, double seconds,
                      unsigned nstreams, uint32_t block, FILE *report, struct iperf3_result *r)
{
    memset(r, 0, sizeof *r);
    if (nstreams < 1 || nstreams > IPERF3_MAX_STREAMS || block == 0) return -EINVAL;
    char cookie[COOKIE_SIZE];
    make_cookie(cookie);
    int fds[IPERF3_MAX_STREAMS];
    uint64_t sent[IPERF3_MAX_STREAMS] = {0};
    unsigned open = 0;
    char *theirs = NULL;
    uint8_t *buf = calloc(1, block);
    if (!buf) return -ENOMEM;
    int err;
    int ctl = connect_with_cookie(loop, server, cookie);
    if (ctl < 0) {
        free(buf);
        return ctl;
    }
    if ((err = expect_state(loop, ctl, PARAM_EXCHANGE))) goto out;
    char params[256];
    snprintf(params, sizeof params,
             "{\"tcp\":true,\"omit\":0,\"time\":%u,\"num\":0,\"blockcount\":0,"
             "\"parallel\":%u,\"len\":%u,\"pacing_timer\":1000,\"client_version\":\"3.12\"}",
             (unsigned)(seconds + 0.999), nstreams, block);
    if ((err = send_json(loop, ctl, params)) || (err = expect_state(loop, ctl, CREATE_STREAMS)))
        goto out;
    for (; open < nstreams; open++) {
        fds[open] = connect_with_cookie(loop, server, cookie);
        if (fds[open] < 0) {
            err = fds[open];
            goto out;
        }
    }
    r->streams = nstreams;
    if ((err = expect_state(loop, ctl, TEST_START)) || (err = expect_state(loop, ctl, TEST_RUNNING)))
        goto out;
    double t0 = now_s(), end = t0 + seconds;
    while (now_s() < end) {
        for (unsigned i = 0; i < nstreams; i++) {
            ssize_t n = finack_loop_send(loop, fds[i], buf, block, 0);
            if (n < 0) {
                err = (int)n;
                goto out;
            }
            sent[i] += (uint64_t)n;
            r->bytes += (uint64_t)n;
        }
    }
    r->seconds = now_s() - t0;
    if ((err = send_state(loop, ctl, TEST_END)) || (err = expect_state(loop, ctl, EXCHANGE_RESULTS)))
        goto out;
    char results[4096];
    size_t used = (size_t)snprintf(results, sizeof results,
                                   "{\"cpu_util_total\":0,\"cpu_util_user\":0,"
                                   "\"cpu_util_system\":0,\"sender_has_retransmits\":0,"
                                   "\"streams\":[");
    for (unsigned i = 0; i < nstreams; i++)
        used += (size_t)snprintf(results + used, sizeof results - used,
                                 "%s{\"id\":%u,\"bytes\":%" PRIu64 ",\"retransmits\":-1,"
                                 "\"jitter\":0,\"errors\":0,\"packets\":0,"
                                 "\"start_time\":0,\"end_time\":%.6f}",
                                 i ? "," : "", i == 0 ? 1 : i + 2, sent[i], r->seconds);
    snprintf(results + used, sizeof results - used, "]}");
    if ((err = send_json(loop, ctl, results)) || (err = recv_json(loop, ctl, &theirs)) ||
        (err = expect_state(loop, ctl, DISPLAY_RESULTS)))
        goto out;
    /* The receiver's count, summed over its streams: what arrived. */
    uint64_t received = 0;
    for (const char *p = theirs; (p = strstr(p, "\"bytes\"")) != NULL; p += 7)
        received += (uint64_t)json_number(p, "bytes", 0);
    print_line(report, "sender", r);
    struct iperf3_result rr = {.bytes = received, .seconds = r->seconds, .streams = nstreams};
    print_line(report, "receiver", &rr);
    err = send_state(loop, ctl, IPERF_DONE);
out:
    for (unsigned i = 0; i < open; i++) finack_loop_close(loop, fds[i]);
    finack_loop_close(loop, ctl);
    free(theirs);
    free(buf);
    return err;
}
