/* finack iperf3: an iperf3 server (TCP tests only) on a TUN device, so that
 * Linux's `iperf3 -c` measures finack.
 *
 * iperf3's control protocol, server side: the client connects a control
 * connection and sends a 37-byte cookie; the server answers with one-byte
 * states (PARAM_EXCHANGE, then CREATE_STREAMS, TEST_START, TEST_RUNNING,
 * EXCHANGE_RESULTS, DISPLAY_RESULTS), takes the test's parameters as a
 * length-prefixed JSON object, accepts one data connection per stream
 * (each opens with the cookie), counts (or, with -R, sends) bytes until the
 * client sends TEST_END, and trades JSON results. Stream ids are 1, 3, 4,
 * ... as iperf3 numbers them (iperf_add_stream). One test at a time;
 * anything else (UDP, --bidir) is refused with ACCESS_DENIED. */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "finack/runtime.h"
#include "finack/socket.h"
#include "net.h"
#include "tool.h"

const char cmd_iperf3_usage[] =
    "usage: finack iperf3 -s --tun IF --addr ADDR[/LEN] [--port P] [-1] [OPTIONS]\n"
    "       finack iperf3 -c HOST --tun IF --addr ADDR[/LEN] [--port P] [-t SEC] [-P N]\n"
    "\n"
    "iperf3's own protocol on the TUN device IF, so that Linux's iperf3 measures\n"
    "finack's TCP. As a server (-s): 'iperf3 -c ADDR' (also -R for finack\n"
    "sending, -P N for parallel streams, -t SEC); tests are served one after\n"
    "another until SIGINT or SIGTERM, one line each on stderr, and\n"
    "'finack iperf3: listening on ADDR:P' is printed to stderr when ready.\n"
    "As a client (-c HOST): a test against 'iperf3 -s' at HOST, finack\n"
    "sending; one line on stdout with what was sent and what the server got.\n"
    "UDP and --bidir tests are refused.\n"
    "\n"
    "  -s, --server     run as the server\n"
    "  -1, --one-off    with -s: exit after one test\n"
    "  -c, --client H   run a test against the iperf3 server at H\n"
    "  -t, --time SEC   with -c: seconds to send (default 10; decimals allowed)\n"
    "  -P, --parallel N with -c: parallel streams, 1 to 128 (default 1)\n"
    "  --port P         the server's port (default 5201, iperf3's)\n"
    "\n" NET_OPTIONS_USAGE;

/* iperf3's states (iperf_api.h). */
enum {
    IP3_TEST_START = 1,
    IP3_TEST_RUNNING = 2,
    IP3_TEST_END = 4,
    IP3_PARAM_EXCHANGE = 9,
    IP3_CREATE_STREAMS = 10,
    IP3_SERVER_TERMINATE = 11,
    IP3_CLIENT_TERMINATE = 12,
    IP3_EXCHANGE_RESULTS = 13,
    IP3_DISPLAY_RESULTS = 14,
    IP3_IPERF_DONE = 16,
    IP3_ACCESS_DENIED = -1,
};

#define IP3_COOKIE 37
#define IP3_MAX_STREAMS 128
#define IP3_MAX_JSON (64u << 10)
#define IP3_BUF (128u << 10)

enum { OPT_PORT = NET_OPT__END, OPT_SERVER, OPT_ONE_OFF, OPT_CLIENT, OPT_TIME, OPT_PARALLEL };

struct ip3_stream {
    int fd;
    bool eof;
    uint64_t bytes;
    uint64_t retransmits; /* when finack sends (-R) */
};

struct ip3_test {
    struct net_session *net;
    int ctrl;
    bool reverse;
    int nstreams;
    struct ip3_stream streams[IP3_MAX_STREAMS];
};

static uint8_t ip3_buf[IP3_BUF];

/* ---- Blocking helpers over non-blocking sockets (a signal ends them) ----------- */

static int ip3_wait(struct net_session *s, int fd, short events)
{
    struct pollfd p = {.fd = fd, .events = events};
    int rc = net_poll(s, &p, 1, NULL, 0);
    return rc < 0 ? rc : 0;
}

static int ip3_recv_exact(struct net_session *s, int fd, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = finack_loop_recv(s->loop, fd, (uint8_t *)buf + got, len - got, 0);
        if (n == -EAGAIN) {
            int rc = ip3_wait(s, fd, POLLIN);
            if (rc < 0) return rc;
            continue;
        }
        if (n < 0) return (int)n;
        if (n == 0) return -ECONNRESET; /* closed in the middle of a message */
        got += (size_t)n;
    }
    return 0;
}

static int ip3_send_all(struct net_session *s, int fd, const void *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = finack_loop_send(s->loop, fd, (const uint8_t *)buf + done, len - done, 0);
        if (n == -EAGAIN) {
            int rc = ip3_wait(s, fd, POLLOUT);
            if (rc < 0) return rc;
            continue;
        }
        if (n < 0) return (int)n;
        done += (size_t)n;
    }
    return 0;
}

static int ip3_send_state(struct net_session *s, int fd, int state)
{
    int8_t b = (int8_t)state;
    return ip3_send_all(s, fd, &b, 1);
}

static int ip3_accept(struct net_session *s, int lfd)
{
    for (;;) {
        int fd = finack_loop_accept(s->loop, lfd, NULL, NULL);
        if (fd != -EAGAIN) {
            if (fd >= 0) finack_loop_set_nonblock(s->loop, fd, true);
            return fd;
        }
        int rc = ip3_wait(s, lfd, POLLIN);
        if (rc < 0) return rc;
    }
}

/* A length-prefixed JSON object into a malloc'd NUL-terminated string. */
static int ip3_recv_json(struct net_session *s, int fd, char **out)
{
    uint32_t nlen;
    int rc = ip3_recv_exact(s, fd, &nlen, sizeof nlen);
    if (rc < 0) return rc;
    uint32_t len = ntohl(nlen);
    if (len > IP3_MAX_JSON) return -EMSGSIZE;
    char *json = malloc(len + 1);
    if (!json) return -ENOMEM;
    rc = ip3_recv_exact(s, fd, json, len);
    if (rc < 0) {
        free(json);
        return rc;
    }
    json[len] = '\0';
    *out = json;
    return 0;
}

static int ip3_send_json(struct net_session *s, int fd, const char *json)
{
    uint32_t nlen = htonl((uint32_t)strlen(json));
    int rc = ip3_send_all(s, fd, &nlen, sizeof nlen);
    return rc < 0 ? rc : ip3_send_all(s, fd, json, strlen(json));
}

/* The value after "key": in a flat JSON object (iperf3's parameters are
 * one level of numbers, booleans and strings), or NULL. */
static const char *json_value(const char *json, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *p = strstr(json, pat);
    if (!p) return NULL;
    p += strlen(pat);
    while (*p == ' ' || *p == ':') p++;
    return p;
}

static bool json_true(const char *json, const char *key)
{
    const char *v = json_value(json, key);
    return v && strncmp(v, "true", 4) == 0;
}

/* ---- One test -------------------------------------------------------------------------- */

static int ip3_params(struct ip3_test *t, const char *json)
{
    t->reverse = json_true(json, "reverse");
    const char *p = json_value(json, "parallel");
    t->nstreams = p ? atoi(p) : 1;
    if (json_true(json, "udp") || json_true(json, "bidirectional") || json_true(json, "sctp") ||
        t->nstreams < 1 || t->nstreams > IP3_MAX_STREAMS)
        return -EPROTONOSUPPORT;
    return 0;
}

static int ip3_stream_id(int i) { return i == 0 ? 1 : i + 2; }

static int ip3_streams_open(struct ip3_test *t, int lfd, const char *cookie)
{
    for (int i = 0; i < t->nstreams; i++) {
        int fd = ip3_accept(t->net, lfd);
        if (fd < 0) return fd;
        t->streams[i] = (struct ip3_stream){.fd = fd};
        char c[IP3_COOKIE];
        int rc = ip3_recv_exact(t->net, fd, c, sizeof c);
        if (rc < 0) return rc;
        /* A connection from another client would be a stream of a test
         * that is not this one. */
        if (memcmp(c, cookie, IP3_COOKIE) != 0) return -EPROTO;
    }
    return 0;
}

/* Move stream bytes until the client's TEST_END on the control connection. */
static int ip3_run(struct ip3_test *t)
{
    struct finack_loop *loop = t->net->loop;
    struct pollfd pfds[1 + IP3_MAX_STREAMS];
    for (;;) {
        pfds[0] = (struct pollfd){.fd = t->ctrl, .events = POLLIN};
        for (int i = 0; i < t->nstreams; i++) {
            struct ip3_stream *st = &t->streams[i];
            pfds[1 + i] = (struct pollfd){.fd = st->eof ? -1 : st->fd,
                                          .events = t->reverse ? POLLOUT : POLLIN};
        }
        int rc = net_poll(t->net, pfds, (nfds_t)(1 + t->nstreams), NULL, 0);
        if (rc < 0) return rc;
        for (int i = 0; i < t->nstreams; i++) {
            struct ip3_stream *st = &t->streams[i];
            if (!pfds[1 + i].revents) continue;
            for (;;) {
                ssize_t n = t->reverse ? finack_loop_send(loop, st->fd, ip3_buf, sizeof ip3_buf, 0)
                                       : finack_loop_recv(loop, st->fd, ip3_buf, sizeof ip3_buf, 0);
                if (n == -EAGAIN) break;
                if (n <= 0) {
                    st->eof = true; /* the client may close a stream before TEST_END */
                    break;
                }
                st->bytes += (uint64_t)n;
            }
        }
        if (pfds[0].revents) {
            int8_t state;
            ssize_t n = finack_loop_recv(loop, t->ctrl, &state, 1, 0);
            if (n == -EAGAIN) continue;
            if (n <= 0) return n == 0 ? -ECONNRESET : (int)n;
            if (state == IP3_TEST_END) return 0;
            if (state == IP3_CLIENT_TERMINATE) return -ECONNABORTED;
        }
    }
}

struct ip3_info_ctx {
    int fd, rc;
    struct finack_tcp_info info;
};

static void ip3_info_fn(void *ctx, struct finack_stack *stack)
{
    struct ip3_info_ctx *c = ctx;
    c->rc = finack_tcp_info(stack, c->fd, &c->info);
}

/* The retransmissions TCP_INFO counted on each stream finack sent on. */
static void ip3_retransmits(struct ip3_test *t)
{
    for (int i = 0; t->reverse && i < t->nstreams; i++) {
        struct ip3_info_ctx ctx = {.fd = t->streams[i].fd};
        finack_loop_call(t->net->loop, ip3_info_fn, &ctx);
        t->streams[i].retransmits = ctx.rc == 0 ? ctx.info.total_retrans : 0;
    }
}

/* Trade results: the client's (read and dropped), then ours, with the
 * retransmissions TCP_INFO counted when finack was the sender. */
static int ip3_results(struct ip3_test *t, double seconds)
{
    char *theirs = NULL;
    int rc = ip3_send_state(t->net, t->ctrl, IP3_EXCHANGE_RESULTS);
    if (rc == 0) rc = ip3_recv_json(t->net, t->ctrl, &theirs);
    free(theirs);
    if (rc < 0) return rc;
    char json[128 + IP3_MAX_STREAMS * 192];
    size_t n = (size_t)snprintf(json, sizeof json,
                                "{\"cpu_util_total\":0,\"cpu_util_user\":0,"
                                "\"cpu_util_system\":0,\"sender_has_retransmits\":%d,"
                                "\"streams\":[",
                                t->reverse ? 1 : -1);
    for (int i = 0; i < t->nstreams; i++) {
        long long retrans = t->reverse ? (long long)t->streams[i].retransmits : -1;
        n += (size_t)snprintf(json + n, sizeof json - n,
                              "%s{\"id\":%d,\"bytes\":%" PRIu64 ",\"retransmits\":%lld,"
                              "\"jitter\":0,\"errors\":0,\"packets\":0,\"start_time\":0,"
                              "\"end_time\":%.6f}",
                              i ? "," : "", ip3_stream_id(i), t->streams[i].bytes, retrans,
                              seconds);
    }
    snprintf(json + n, sizeof json - n, "]}");
    rc = ip3_send_json(t->net, t->ctrl, json);
    if (rc == 0) rc = ip3_send_state(t->net, t->ctrl, IP3_DISPLAY_RESULTS);
    if (rc < 0) return rc;
    /* IPERF_DONE, or the client just closes. */
    int8_t done;
    rc = ip3_recv_exact(t->net, t->ctrl, &done, 1);
    return rc == -ECONNRESET ? 0 : rc;
}

static void ip3_close(struct ip3_test *t)
{
    for (int i = 0; i < t->nstreams; i++)
        if (t->streams[i].fd >= 0) finack_loop_close(t->net->loop, t->streams[i].fd);
    if (t->ctrl >= 0) finack_loop_close(t->net->loop, t->ctrl);
    t->nstreams = 0;
    t->ctrl = -1;
}

static int ip3_serve_one(struct net_session *s, int lfd)
{
    static struct ip3_test t;
    t = (struct ip3_test){.net = s, .ctrl = -1};
    t.ctrl = ip3_accept(s, lfd);
    if (t.ctrl < 0) return t.ctrl;
    char cookie[IP3_COOKIE];
    char *params = NULL;
    int rc = ip3_recv_exact(s, t.ctrl, cookie, sizeof cookie);
    if (rc == 0) rc = ip3_send_state(s, t.ctrl, IP3_PARAM_EXCHANGE);
    if (rc == 0) rc = ip3_recv_json(s, t.ctrl, &params);
    if (rc == 0) {
        rc = ip3_params(&t, params);
        if (rc == -EPROTONOSUPPORT) {
            ip3_send_state(s, t.ctrl, IP3_ACCESS_DENIED);
            tool_error("refused a test finack does not run (UDP, --bidir or -P above %d)",
                       IP3_MAX_STREAMS);
        }
    }
    free(params);
    int nstreams = t.nstreams;
    t.nstreams = 0;
    if (rc == 0) rc = ip3_send_state(s, t.ctrl, IP3_CREATE_STREAMS);
    if (rc == 0) {
        t.nstreams = nstreams;
        for (int i = 0; i < nstreams; i++) t.streams[i].fd = -1;
        rc = ip3_streams_open(&t, lfd, cookie);
    }
    if (rc == 0) rc = ip3_send_state(s, t.ctrl, IP3_TEST_START);
    if (rc == 0) rc = ip3_send_state(s, t.ctrl, IP3_TEST_RUNNING);
    finack_time_t start = finack_clock_now();
    if (rc == 0) rc = ip3_run(&t);
    double seconds = (double)(finack_clock_now() - start) / 1e6;
    if (rc == 0) {
        /* As iperf3's own server at TEST_END: the data connections close
         * before the results (a receiving client waits for their end). */
        ip3_retransmits(&t);
        for (int i = 0; i < t.nstreams; i++) {
            finack_loop_close(s->loop, t.streams[i].fd);
            t.streams[i].fd = -1;
        }
        rc = ip3_results(&t, seconds);
    }
    uint64_t bytes = 0;
    for (int i = 0; i < t.nstreams; i++) bytes += t.streams[i].bytes;
    if (rc == 0 || rc == -EINTR)
        fprintf(stderr, "finack iperf3: %s %" PRIu64 " bytes in %.2f s (%.1f Mbit/s), %d stream%s\n",
                t.reverse ? "sent" : "received", bytes, seconds,
                seconds > 0 ? (double)bytes * 8 / seconds / 1e6 : 0.0, t.nstreams,
                t.nstreams == 1 ? "" : "s");
    else if (rc != -EPROTONOSUPPORT && rc != -ENETDOWN) /* net_poll said */
        tool_error("test ended: %s", tool_strerror(rc));
    ip3_close(&t);
    return rc;
}

/* ---- The client: finack sends to `iperf3 -s` ----------------------------------------- */

/* A connection to the server that opens with the test's cookie. */
static int ip3_connect(struct net_session *s, const struct sockaddr_in *server,
                       const char *cookie)
{
    int fd = net_socket(s);
    if (fd < 0) return fd;
    int rc = finack_loop_connect(s->loop, fd, (const struct sockaddr *)server, sizeof *server);
    if (rc == -EINPROGRESS) {
        rc = ip3_wait(s, fd, POLLOUT);
        if (rc == 0) {
            int err = 0;
            socklen_t len = sizeof err;
            rc = finack_loop_getsockopt(s->loop, fd, SOL_SOCKET, SO_ERROR, &err, &len);
            if (rc == 0) rc = -err;
        }
    }
    if (rc == 0) rc = ip3_send_all(s, fd, cookie, IP3_COOKIE);
    if (rc < 0) {
        finack_loop_close(s->loop, fd);
        return rc;
    }
    return fd;
}

static int ip3_expect(struct net_session *s, int fd, int want)
{
    int8_t state;
    int rc = ip3_recv_exact(s, fd, &state, 1);
    if (rc < 0) return rc;
    if (state == want) return 0;
    tool_error(state == IP3_ACCESS_DENIED ? "the iperf3 server refused the test"
                                          : "the iperf3 server sent state %d, expected %d",
               state, want);
    return -EPROTO;
}

/* iperf3's cookie: 36 characters of [a-z2-7] and a NUL. */
static void ip3_make_cookie(char cookie[IP3_COOKIE])
{
    static const char chars[] = "abcdefghijklmnopqrstuvwxyz234567";
    uint8_t rnd[IP3_COOKIE - 1];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) memset(rnd, 7, sizeof rnd);
    for (size_t i = 0; i < IP3_COOKIE - 1; i++) cookie[i] = chars[rnd[i] % 32];
    cookie[IP3_COOKIE - 1] = 0;
}

/* Send on every stream until the time is up. */
static int ip3_send_for(struct ip3_test *t, finack_time_t until)
{
    struct pollfd pfds[IP3_MAX_STREAMS];
    while (finack_clock_now() < until) {
        for (int i = 0; i < t->nstreams; i++)
            pfds[i] = (struct pollfd){.fd = t->streams[i].fd, .events = POLLOUT};
        int rc = net_poll(t->net, pfds, (nfds_t)t->nstreams, NULL, 0);
        if (rc < 0) return rc;
        for (int i = 0; i < t->nstreams; i++) {
            if (!pfds[i].revents) continue;
            ssize_t n = finack_loop_send(t->net->loop, t->streams[i].fd, ip3_buf, sizeof ip3_buf, 0);
            if (n < 0 && n != -EAGAIN) return (int)n;
            if (n > 0) t->streams[i].bytes += (uint64_t)n;
        }
    }
    return 0;
}

static int ip3_client(struct net_session *s, const struct sockaddr_in *server,
                      finack_time_t duration, int nstreams)
{
    static struct ip3_test t;
    t = (struct ip3_test){.net = s, .ctrl = -1, .reverse = true}; /* finack sends */
    char cookie[IP3_COOKIE];
    ip3_make_cookie(cookie);
    char *theirs = NULL;
    int rc = t.ctrl = ip3_connect(s, server, cookie);
    if (rc >= 0) rc = ip3_expect(s, t.ctrl, IP3_PARAM_EXCHANGE);
    if (rc >= 0) {
        char params[256];
        snprintf(params, sizeof params,
                 "{\"tcp\":true,\"omit\":0,\"time\":%u,\"num\":0,\"blockcount\":0,"
                 "\"parallel\":%d,\"len\":%u,\"pacing_timer\":1000,"
                 "\"client_version\":\"3.12\"}",
                 (unsigned)((duration + 999999) / 1000000), nstreams, (unsigned)IP3_BUF);
        rc = ip3_send_json(s, t.ctrl, params);
    }
    if (rc >= 0) rc = ip3_expect(s, t.ctrl, IP3_CREATE_STREAMS);
    for (; rc >= 0 && t.nstreams < nstreams; t.nstreams++) {
        t.streams[t.nstreams] = (struct ip3_stream){.fd = ip3_connect(s, server, cookie)};
        if (t.streams[t.nstreams].fd < 0) rc = t.streams[t.nstreams].fd;
    }
    if (rc < 0 && t.nstreams > 0 && t.streams[t.nstreams - 1].fd < 0) t.nstreams--;
    if (rc >= 0) rc = ip3_expect(s, t.ctrl, IP3_TEST_START);
    if (rc >= 0) rc = ip3_expect(s, t.ctrl, IP3_TEST_RUNNING);
    finack_time_t start = finack_clock_now();
    if (rc >= 0) rc = ip3_send_for(&t, start + duration);
    double seconds = (double)(finack_clock_now() - start) / 1e6;
    uint64_t sent = 0;
    for (int i = 0; i < t.nstreams; i++) sent += t.streams[i].bytes;
    if (rc >= 0) rc = ip3_send_state(s, t.ctrl, IP3_TEST_END);
    if (rc >= 0) rc = ip3_expect(s, t.ctrl, IP3_EXCHANGE_RESULTS);
    if (rc >= 0) {
        ip3_retransmits(&t);
        char json[128 + IP3_MAX_STREAMS * 192];
        size_t n = (size_t)snprintf(json, sizeof json,
                                    "{\"cpu_util_total\":0,\"cpu_util_user\":0,"
                                    "\"cpu_util_system\":0,\"sender_has_retransmits\":1,"
                                    "\"streams\":[");
        for (int i = 0; i < t.nstreams; i++)
            n += (size_t)snprintf(json + n, sizeof json - n,
                                  "%s{\"id\":%d,\"bytes\":%" PRIu64 ",\"retransmits\":%" PRIu64
                                  ",\"jitter\":0,\"errors\":0,\"packets\":0,"
                                  "\"start_time\":0,\"end_time\":%.6f}",
                                  i ? "," : "", ip3_stream_id(i), t.streams[i].bytes,
                                  t.streams[i].retransmits, seconds);
        snprintf(json + n, sizeof json - n, "]}");
        rc = ip3_send_json(s, t.ctrl, json);
    }
    if (rc >= 0) rc = ip3_recv_json(s, t.ctrl, &theirs);
    if (rc >= 0) rc = ip3_expect(s, t.ctrl, IP3_DISPLAY_RESULTS);
    if (rc >= 0) rc = ip3_send_state(s, t.ctrl, IP3_IPERF_DONE);
    if (rc >= 0) {
        /* The server's count: the sum of its streams' "bytes". */
        uint64_t got = 0;
        for (const char *p = theirs; (p = json_value(p, "bytes")) != NULL;)
            got += strtoull(p, NULL, 10);
        printf("finack iperf3: sent %" PRIu64 " bytes in %.2f s (%.1f Mbit/s), %d stream%s; "
               "the server received %" PRIu64 " bytes (%.1f Mbit/s)\n",
               sent, seconds, seconds > 0 ? (double)sent * 8 / seconds / 1e6 : 0.0, t.nstreams,
               t.nstreams == 1 ? "" : "s", got,
               seconds > 0 ? (double)got * 8 / seconds / 1e6 : 0.0);
        rc = 0;
    } else if (rc != -EPROTO && rc != -EINTR) {
        char ep[22];
        tool_error("%s: %s",
                   net_format_endpoint(ntohl(server->sin_addr.s_addr), ntohs(server->sin_port), ep),
                   tool_strerror(rc));
    }
    free(theirs);
    ip3_close(&t);
    return rc;
}

static int ip3_listen(struct net_session *s, uint16_t port)
{
    int fd = net_socket(s);
    if (fd < 0) return fd;
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port),
                              .sin_addr.s_addr = htonl(INADDR_ANY)};
    int rc = finack_loop_bind(s->loop, fd, (struct sockaddr *)&sin, sizeof sin);
    if (rc == 0) rc = finack_loop_listen(s->loop, fd, IP3_MAX_STREAMS + 1);
    if (rc < 0) {
        finack_loop_close(s->loop, fd);
        return rc;
    }
    return fd;
}

int cmd_iperf3(int argc, char **argv)
{
    static const struct option options[] = {
        NET_LONG_OPTIONS,
        {"port", required_argument, NULL, OPT_PORT},
        {"server", no_argument, NULL, OPT_SERVER},
        {"one-off", no_argument, NULL, OPT_ONE_OFF},
        {"client", required_argument, NULL, OPT_CLIENT},
        {"time", required_argument, NULL, OPT_TIME},
        {"parallel", required_argument, NULL, OPT_PARALLEL},
        {NULL, 0, NULL, 0},
    };
    struct net_options o;
    net_options_init(&o);
    uint16_t port = 5201;
    bool server = false, once = false, client = false;
    uint32_t host = 0;
    finack_time_t duration = FINACK_SEC(10);
    int parallel = 1;
    int c;
    while ((c = tool_next_option_short(argc, argv, ":s1c:t:P:", options, false)) != -1) {
        if (net_option(&o, c, optarg)) continue;
        switch (c) {
        case OPT_PORT: port = (uint16_t)tool_parse_uint("--port", optarg, 1, 65535); break;
        case 's':
        case OPT_SERVER: server = true; break;
        case '1':
        case OPT_ONE_OFF: once = true; break;
        case 'c':
        case OPT_CLIENT: {
            uint8_t len;
            if (finack_parse_ipv4(optarg, &host, &len) < 0 || len != 32)
                tool_usage_error("-c '%s': expected an IPv4 address A.B.C.D", optarg);
            client = true;
            break;
        }
        case 't':
        case OPT_TIME: duration = tool_parse_seconds("--time", optarg, 86400); break;
        case 'P':
        case OPT_PARALLEL:
            parallel = (int)tool_parse_uint("--parallel", optarg, 1, IP3_MAX_STREAMS);
            break;
        }
    }
    net_options_check(&o);
    if (server == client) tool_usage_error("give one of -s and -c HOST (try 'finack help iperf3')");
    if (once && !server) tool_usage_error("-1 goes with -s");

    struct net_session s;
    if (net_open(&s, &o, "iperf3") < 0) return TOOL_EXIT_FAILURE;
    if (client) {
        struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port),
                                  .sin_addr.s_addr = htonl(host)};
        int rc = ip3_client(&s, &sin, duration, parallel);
        net_close(&s);
        return rc < 0 && rc != -EINTR ? TOOL_EXIT_FAILURE : TOOL_EXIT_OK;
    }
    int lfd = ip3_listen(&s, port);
    int rc = lfd < 0 ? lfd : 0;
    if (lfd < 0) {
        tool_error("cannot listen on port %u: %s", (unsigned)port, tool_strerror(lfd));
    } else {
        char ep[22];
        fprintf(stderr, "finack iperf3: listening on %s\n", net_format_endpoint(o.addr, port, ep));
        do {
            rc = ip3_serve_one(&s, lfd);
        } while (!once && rc != -EINTR && rc != -ENETDOWN);
        if (rc == -EINTR) rc = 0;
        finack_loop_close(s.loop, lfd);
    }
    net_close(&s);
    return rc < 0 ? TOOL_EXIT_FAILURE : TOOL_EXIT_OK;
}
