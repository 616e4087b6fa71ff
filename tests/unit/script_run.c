/* The script runner can fail: each case below is a script that is wrong in
 * exactly one way, and the runner must say FAIL with the message naming the
 * line and the difference. A correct base script passes first, so every
 * failure comes from the one change. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "script/script.h"
#include "test.h"

/* A passive open with data and the peer's close, correct for finack. */
static const char base[] =
    "0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"                                  /* 1 */
    "+0    bind(3, ..., ...) = 0\n"                                                      /* 2 */
    "+0    listen(3, 1) = 0\n"                                                           /* 3 */
    "+0    < S 0:0(0) win 65535 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>\n"       /* 4 */
    "+0    > S. 0:0(0) ack 1 win 65535 <mss 1460,sackOK,TS val 200 ecr 100,nop,wscale 7>\n" /* 5 */
    "+.01  < . 1:1(0) ack 1 win 1024 <nop,nop,TS val 110 ecr 200>\n"                     /* 6 */
    "+0    accept(3, ..., ...) = 4\n"                                                    /* 7 */
    "+0    < P. 1:101(100) ack 1 win 1024 <nop,nop,TS val 120 ecr 200>\n"                /* 8 */
    "+0    > . 1:1(0) ack 101 win 1023 <nop,nop,TS val 210 ecr 120>\n"                   /* 9 */
    "+0    read(4, ..., 1000) = 100\n"                                                   /* 10 */
    "+0    recv(4, ..., 1000, MSG_DONTWAIT) = -1 EAGAIN (Resource temporarily unavailable)\n" /* 11 */
    "+0    write(4, ..., 50) = 50\n"                                                     /* 12 */
    "+0    > P. 1:51(50) ack 101 win 1023 <nop,nop,TS val 210 ecr 120>\n"                /* 13 */
    "+.1   < . 101:101(0) ack 51 win 1024 <nop,nop,TS val 130 ecr 210>\n";               /* 14 */

static enum script_result run_text(const char *text, char *why, size_t n)
{
    struct script s;
    char err[256];
    int rc = script_parse("t.pkt", text, strlen(text), &s, err, sizeof err);
    if (rc < 0) {
        snprintf(why, n, "parse: %s", err);
        return SCRIPT_FAIL;
    }
    struct script_options o;
    script_options_init(&o);
    enum script_result r = script_run(&s, &o, why, n);
    script_free(&s);
    return r;
}

/* base with line `line` (1-based) replaced by `with` ("" deletes it), and
 * `extra` appended. */
static void edited(char *out, size_t n, int line, const char *with, const char *extra)
{
    const char *p = base;
    size_t w = 0;
    for (int l = 1; *p; l++) {
        const char *eol = strchr(p, '\n');
        size_t len = (size_t)(eol - p) + 1;
        if (l == line) w += (size_t)snprintf(out + w, n - w, "%s%s", with, *with ? "\n" : "");
        else w += (size_t)snprintf(out + w, n - w, "%.*s", (int)len, p);
        p += len;
    }
    snprintf(out + w, n - w, "%s", extra ? extra : "");
}

static void expect_fail(int line, const char *with, const char *extra, const char *message)
{
    char text[4096], why[512];
    edited(text, sizeof text, line, with, extra);
    enum script_result r = run_text(text, why, sizeof why);
    CHECK_EQ(r, SCRIPT_FAIL);
    CHECK_STR(why, message);
}

static void base_passes(void)
{
    char why[512];
    CHECK_EQ(run_text(base, why, sizeof why), SCRIPT_PASS);
    CHECK_STR(why, "");
}

static void wrong_flags(void)
{
    expect_fail(9, "+0 > P. 1:1(0) ack 101 win 1023 <nop,nop,TS val 210 ecr 120>", NULL,
                "line 9: expected > P. 1:1(0) ack 101 win 1023 <nop,nop,TS val 210 ecr 120> at "
                "0.010000, got > . 1:1(0) ack 101 win 1023 <nop,nop,TS val 210 ecr 120> "
                "at 0.010000 (flags ., expected P.)");
}

static void wrong_seq(void)
{
    expect_fail(13, "+0 > P. 2:52(50) ack 101 win 1023 <nop,nop,TS val 210 ecr 120>", NULL,
                "line 13: expected > P. 2:52(50) ack 101 win 1023 <nop,nop,TS val 210 ecr 120> "
                "at 0.010000, got > P. 1:51(50) ack 101 win 1023 <nop,nop,TS val 210 ecr "
                "120> at 0.010000 (seq 1, expected 2)");
}

static void wrong_ack_and_window(void)
{
    expect_fail(9, "+0 > . 1:1(0) ack 100 win 1023 <nop,nop,TS val 210 ecr 120>", NULL,
                "line 9: expected > . 1:1(0) ack 100 win 1023 <nop,nop,TS val 210 ecr 120> at "
                "0.010000, got > . 1:1(0) ack 101 win 1023 <nop,nop,TS val 210 ecr 120> "
                "at 0.010000 (ack 101, expected 100)");
    expect_fail(9, "+0 > . 1:1(0) ack 101 win 1024 <nop,nop,TS val 210 ecr 120>", NULL,
                "line 9: expected > . 1:1(0) ack 101 win 1024 <nop,nop,TS val 210 ecr 120> at "
                "0.010000, got > . 1:1(0) ack 101 win 1023 <nop,nop,TS val 210 ecr 120> "
                "at 0.010000 (win 1023, expected 1024)");
}

static void wrong_options(void)
{
    expect_fail(5, "+0 > S. 0:0(0) ack 1 win 65535 <mss 1000,sackOK,TS val 200 ecr 100,nop,wscale 7>",
                NULL,
                "line 5: expected > S. 0:0(0) ack 1 win 65535 <mss 1000,sackOK,TS val 200 ecr "
                "100,nop,wscale 7> at 0.000000, got > S. 0:0(0) ack 1 win 65535 <mss 1460,sackOK,"
                "TS val 200 ecr 100,nop,wscale 7> at 0.000000 (mss 1460, expected 1000)");
    /* A line without options expects a segment without options. */
    expect_fail(9, "+0 > . 1:1(0) ack 101 win 1023", NULL,
                "line 9: expected > . 1:1(0) ack 101 win 1023 at 0.010000, got > . 1:1(0) ack "
                "101 win 1023 <nop,nop,TS val 210 ecr 120> at 0.010000 (options differ)");
}

static void missing_packet(void)
{
    /* Nothing more is sent after the last ACK: a FIN expected never comes. */
    expect_fail(0, "", "+0 > F. 51:51(0) ack 101 win 1023 <...>\n",
                "line 15: expected > F. 51:51(0) ack 101 win 1023 <...> at 0.110000, the stack "
                "sent nothing");
}

static void extra_packet(void)
{
    /* Delete the expected ACK of the data: the stack still sends it. */
    expect_fail(9, "", NULL,
                "line 9: the stack sent > . 1:1(0) ack 101 win 1023 <nop,nop,TS val 210 "
                "ecr 120> at 0.010000, which the script does not expect here");
}

static void wrong_return_and_errno(void)
{
    expect_fail(10, "+0 read(4, ..., 1000) = 99", NULL, "line 10: read() = 100, expected 99");
    expect_fail(11, "+0 recv(4, ..., 1000, MSG_DONTWAIT) = -1 ECONNRESET (Connection reset by peer)", NULL,
                "line 11: recv() = -1 EAGAIN (Resource temporarily unavailable), expected -1 "
                "ECONNRESET");
}

static void wrong_time(void)
{
    /* The data is ACKed at once (quick-ACK mode), not 30 ms later. */
    expect_fail(9, "+.03 > . 1:1(0) ack 101 win 1023 <nop,nop,TS val 210 ecr 120>", NULL,
                "line 9: expected > . 1:1(0) ack 101 win 1023 <nop,nop,TS val 210 ecr 120> at "
                "0.040000, got it at 0.010000 (tolerance 4000 us)");
}

static void blocking_call_times(void)
{
    /* A blocking read that the data ends 50 ms later. */
    char why[512];
    const char *ok =
        "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
        "+0 bind(3, ..., ...) = 0\n"
        "+0 listen(3, 1) = 0\n"
        "+0 < S 0:0(0) win 65535 <mss 1460>\n"
        "+0 > S. 0:0(0) ack 1 win 65535 <mss 1460>\n"
        "+0 < . 1:1(0) ack 1 win 65535\n"
        "+0 accept(3, ..., ...) = 4\n"
        "+0...0.05 read(4, ..., 1000) = 10\n"
        "+.05 < P. 1:11(10) ack 1 win 65535\n"
        "+0 > . 1:1(0) ack 11 win 65525\n";
    CHECK_EQ(run_text(ok, why, sizeof why), SCRIPT_PASS);
    CHECK_STR(why, "");
    const char *late =
        "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
        "+0 bind(3, ..., ...) = 0\n"
        "+0 listen(3, 1) = 0\n"
        "+0 < S 0:0(0) win 65535 <mss 1460>\n"
        "+0 > S. 0:0(0) ack 1 win 65535 <mss 1460>\n"
        "+0 < . 1:1(0) ack 1 win 65535\n"
        "+0 accept(3, ..., ...) = 4\n"
        "+0...0.02 read(4, ..., 1000) = 10\n"
        "+.05 < P. 1:11(10) ack 1 win 65535\n"
        "+0 > . 1:1(0) ack 11 win 65525\n";
    CHECK_EQ(run_text(late, why, sizeof why), SCRIPT_FAIL);
    CHECK_STR(why, "line 8: read() returned at 0.050000, expected at 0.020000");
}

static void unsupported_is_never_pass(void)
{
    char why[512];
    const char *text = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                       "+0 %{ print(tcpi_rto) }%\n"
                       "+0 close(3) = 0\n";
    CHECK_EQ(run_text(text, why, sizeof why), SCRIPT_UNSUPPORTED);
    CHECK_STR(why, "line 2: %{ }% code block is not supported");
    const char *call = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                       "+0 epoll_create(1) = 4\n";
    CHECK_EQ(run_text(call, why, sizeof why), SCRIPT_UNSUPPORTED);
    CHECK_STR(why, "line 2: system call epoll_create() is not supported");
}

/* --trace: every event as one JSON object a line, in order, with the
 * virtual time, the script line and what happened. */
static void trace_lists_every_event(void)
{
    struct script s;
    char err[256], why[512];
    REQUIRE(script_parse("t.pkt", base, strlen(base), &s, err, sizeof err) == 0);
    char path[] = "/tmp/finack-trace-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    close(fd);
    struct script_options o;
    script_options_init(&o);
    o.trace_path = path;
    CHECK_EQ(script_run(&s, &o, why, sizeof why), SCRIPT_PASS);
    script_free(&s);
    FILE *f = fopen(path, "r");
    REQUIRE(f != NULL);
    char line[512];
    int n = 0;
    char first[512] = "", eighth[512] = "";
    while (fgets(line, sizeof line, f)) {
        n++;
        if (n == 1) snprintf(first, sizeof first, "%s", line);
        if (n == 8) snprintf(eighth, sizeof eighth, "%s", line);
    }
    fclose(f);
    unlink(path);
    CHECK_STR(first, "{\"t_us\":0,\"line\":1,\"kind\":\"call\",\"text\":\"socket() = 3\"}\n");
    CHECK_STR(eighth, "{\"t_us\":10000,\"line\":6,\"kind\":\"state\",\"text\":\"SYN_RCVD -> "
                     "ESTABLISHED\"}\n");
    CHECK_EQ(n, 16);
}

TEST_MAIN("script_run", TEST_CASE(base_passes), TEST_CASE(wrong_flags), TEST_CASE(wrong_seq),
          TEST_CASE(wrong_ack_and_window), TEST_CASE(wrong_options), TEST_CASE(missing_packet),
          TEST_CASE(extra_packet), TEST_CASE(wrong_return_and_errno), TEST_CASE(wrong_time),
          TEST_CASE(blocking_call_times), TEST_CASE(unsupported_is_never_pass),
          TEST_CASE(trace_lists_every_event))
