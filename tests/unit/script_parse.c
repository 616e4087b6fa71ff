/* The script parser: every time form, flag string, packet field, TCP option
 * and expression kind into exact AST fields; comments, commands, code and
 * option lines; constructs finack cannot run as UNSUPPORTED events; and
 * malformed scripts rejected with "path:line: message". */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "script/script.h"
#include "test.h"
#include "wire/tcp.h"

/* Parses text as "t.pkt"; on failure reports the message at the caller's line. */
static bool parse_ok(int line, const char *text, struct script *s)
{
    char err[256];
    if (script_parse("t.pkt", text, strlen(text), s, err, sizeof err) != 0) {
        test_fail(__FILE__, line, "script_parse failed: %s", err);
        return false;
    }
    return true;
}

#define REQUIRE_PARSE(text, s) REQUIRE(parse_ok(__LINE__, (text), (s)))

/* Parses text expecting exactly the error message want. */
static void check_error(int line, const char *text, const char *want)
{
    struct script s;
    char err[256];
    memset(err, 'x', sizeof err);
    int rc = script_parse("t.pkt", text, strlen(text), &s, err, sizeof err);
    if (rc != -1) {
        test_fail(__FILE__, line, "expected -1 for %s", text);
        if (rc == 0) script_free(&s);
        return;
    }
    if (strcmp(err, want) != 0)
        test_fail(__FILE__, line, "error \"%s\", expected \"%s\"", err, want);
    if (s.events != NULL || s.count != 0 || s.path != NULL)
        test_fail(__FILE__, line, "a failed parse left events or a path behind");
}

#define CHECK_ERROR(text, want) check_error(__LINE__, (text), (want))

/* ---- Times --------------------------------------------------------------------- */

static void test_times(void)
{
    struct script s;
    REQUIRE_PARSE("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                  "0.100 close(3) = 0\n"
                  ".1 close(3) = 0\n"
                  "+0.1 close(3) = 0\n"
                  "+.1 close(3) = 0\n"
                  "1.5 close(3) = 0\n"
                  "+2 close(3) = 0\n"
                  "0.000001 close(3) = 0\n"
                  "0.1234567 close(3) = 0\n"
                  "* > S 0:0(0)\n"
                  "0.1~0.2 > S 0:0(0)\n"
                  "+0.1~+0.25 > . 1:1(0) ack 1\n"
                  "4000000 close(3) = 0\n",
                  &s);
    REQUIRE(s.count == 13);
    const struct {
        enum script_time_kind kind;
        int64_t start;
    } want[] = {
        {SCRIPT_TIME_ABSOLUTE, 0},       {SCRIPT_TIME_ABSOLUTE, 100000},
        {SCRIPT_TIME_ABSOLUTE, 100000},  {SCRIPT_TIME_RELATIVE, 100000},
        {SCRIPT_TIME_RELATIVE, 100000},  {SCRIPT_TIME_ABSOLUTE, 1500000},
        {SCRIPT_TIME_RELATIVE, 2000000}, {SCRIPT_TIME_ABSOLUTE, 1},
        {SCRIPT_TIME_ABSOLUTE, 123456},  {SCRIPT_TIME_ANY, 0},
        {SCRIPT_TIME_ABSOLUTE, 100000},  {SCRIPT_TIME_RELATIVE, 100000},
        {SCRIPT_TIME_ABSOLUTE, 4000000000000},
    };
    for (size_t i = 0; i < s.count; i++) {
        CHECK_EQ(s.events[i].line, (int)i + 1);
        CHECK_EQ(s.events[i].time.kind, want[i].kind);
        CHECK_EQ(s.events[i].time.start, want[i].start);
        CHECK(!s.events[i].time.has_end);
        if (i < 10) CHECK(!s.events[i].time.has_range);
    }
    CHECK(s.events[10].time.has_range);
    CHECK_EQ(s.events[10].time.range_end, 200000);
    CHECK(s.events[11].time.has_range);
    CHECK_EQ(s.events[11].time.range_end, 250000);
    script_free(&s);
}

static void test_blocking_times(void)
{
    struct script s;
    REQUIRE_PARSE("+0...0.1 accept(3, ..., ...) = 4\n"
                  "+.1...0.200 connect(3, ..., ...) = 0\n"
                  "0.1...0.35 read(4, ..., 10) = 10\n"
                  "+0...0.000 read(4, ..., 1000) = 1000\n"
                  "+0...30 connect(3, ..., ...) = -1 ETIMEDOUT (Connection Timed Out)\n",
                  &s);
    REQUIRE(s.count == 5);
    const struct {
        enum script_time_kind kind;
        int64_t start, end;
    } want[] = {
        {SCRIPT_TIME_RELATIVE, 0, 100000},      /* returns 0.1 s after it starts */
        {SCRIPT_TIME_RELATIVE, 100000, 100000}, /* both ends on the same base */
        {SCRIPT_TIME_ABSOLUTE, 100000, 250000},
        {SCRIPT_TIME_RELATIVE, 0, 0},
        {SCRIPT_TIME_RELATIVE, 0, 30000000},
    };
    for (size_t i = 0; i < s.count; i++) {
        CHECK_EQ(s.events[i].kind, SCRIPT_EVENT_SYSCALL);
        CHECK_EQ(s.events[i].time.kind, want[i].kind);
        CHECK_EQ(s.events[i].time.start, want[i].start);
        CHECK(s.events[i].time.has_end);
        CHECK_EQ(s.events[i].time.end, want[i].end);
    }
    CHECK_STR(s.events[0].call.name, "accept");
    script_free(&s);
}

/* ---- Packets ----------------------------------------------------------------------- */

static void test_flags(void)
{
    const struct {
        const char *text;
        uint8_t flags;
    } cases[] = {
        {"S", TCP_FLAG_SYN},
        {"S.", TCP_FLAG_SYN | TCP_FLAG_ACK},
        {".", TCP_FLAG_ACK},
        {"P.", TCP_FLAG_PSH | TCP_FLAG_ACK},
        {"F.", TCP_FLAG_FIN | TCP_FLAG_ACK},
        {"R", TCP_FLAG_RST},
        {"R.", TCP_FLAG_RST | TCP_FLAG_ACK},
        {"FP.", TCP_FLAG_FIN | TCP_FLAG_PSH | TCP_FLAG_ACK},
        {"SEW", TCP_FLAG_SYN | TCP_FLAG_ECE | TCP_FLAG_CWR},
        {"U.", TCP_FLAG_URG | TCP_FLAG_ACK},
        {"E.", TCP_FLAG_ECE | TCP_FLAG_ACK},
        {"W.", TCP_FLAG_CWR | TCP_FLAG_ACK},
        {"P.U", TCP_FLAG_PSH | TCP_FLAG_ACK | TCP_FLAG_URG}, /* tcpdump's order */
        {".U", TCP_FLAG_ACK | TCP_FLAG_URG},
        {"-", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[64];
        struct script s;
        snprintf(text, sizeof text, "0 > %s 0:0(0)\n+0 < %s 0:0(0) win 1\n", cases[i].text,
                 cases[i].text);
        REQUIRE_PARSE(text, &s);
        CHECK_EQ(s.count, 2);
        for (size_t k = 0; k < s.count; k++) {
            const struct script_event *e = &s.events[k];
            if (e->kind != SCRIPT_EVENT_PACKET || e->packet.flags != cases[i].flags)
                test_fail(__FILE__, __LINE__, "flags '%s': kind %d flags 0x%02x", cases[i].text,
                          e->kind, e->packet.flags);
        }
        CHECK(s.events[0].packet.outbound);
        CHECK(!s.events[1].packet.outbound);
        script_free(&s);
    }
}

static void test_packet_fields(void)
{
    struct script s;
    REQUIRE_PARSE("0 < P. 1:1001(1000) ack 4294967295 win 65535 urg 5\n"
                  "+0 > . ack 1\n"
                  "+0 > S 4294967295:4294967295(0)\n"
                  "+0 < . 4294967000:704(1000) win 0\n"
                  "+0 < F. 1:1(0) ack 1 win 257\n",
                  &s);
    REQUIRE(s.count == 5);
    const struct script_packet *p = &s.events[0].packet;
    CHECK(!p->outbound);
    CHECK(p->has_seq);
    CHECK_U64(p->seq, 1);
    CHECK_U64(p->seq_end, 1001);
    CHECK_U64(p->len, 1000);
    CHECK(p->has_ack);
    CHECK_U64(p->ack, 4294967295u);
    CHECK(p->has_win);
    CHECK_U64(p->win, 65535);
    CHECK(p->has_urg);
    CHECK_U64(p->urg, 5);
    CHECK(!p->any_options);
    CHECK_EQ(p->option_count, 0);

    p = &s.events[1].packet; /* no sequence range, no window */
    CHECK(p->outbound);
    CHECK(!p->has_seq);
    CHECK(p->has_ack);
    CHECK_U64(p->ack, 1);
    CHECK(!p->has_win);
    CHECK(!p->has_urg);

    p = &s.events[2].packet;
    CHECK_U64(p->seq, 4294967295u);
    CHECK_U64(p->seq_end, 4294967295u);
    CHECK(!p->has_ack);

    p = &s.events[3].packet; /* the end wraps */
    CHECK_U64(p->seq, 4294967000u);
    CHECK_U64(p->seq_end, 704);
    CHECK_U64(p->win, 0);
    CHECK(p->has_win);

    CHECK_EQ(s.events[4].packet.flags, TCP_FLAG_FIN | TCP_FLAG_ACK);
    script_free(&s);
}

static void test_options(void)
{
    struct script s;
    REQUIRE_PARSE("0 < S 0:0(0) win 32792 <mss 1460,sackOK,TS val 4294967295 ecr 0,nop,wscale 7>\n"
                  "+0 < . 1:1(0) ack 1 win 257 <nop,nop,sack 1:1001 2001:3001 4001:5001 "
                  "4294967295:7>\n"
                  "+0 > S. 0:0(0) ack 1 <...>\n"
                  "+0 < . 1:1(0) ack 1 win 257 < nop , eol >\n"
                  "+0 < . 1:1(0) ack 1 win 257 <sack 5:6, TS val 7 ecr 8>\n",
                  &s);
    REQUIRE(s.count == 5);

    const struct script_packet *p = &s.events[0].packet;
    REQUIRE(p->option_count == 5);
    CHECK(!p->any_options);
    CHECK_EQ(p->options[0].kind, SCRIPT_OPT_MSS);
    CHECK_U64(p->options[0].a, 1460);
    CHECK_EQ(p->options[1].kind, SCRIPT_OPT_SACK_PERMITTED);
    CHECK_EQ(p->options[2].kind, SCRIPT_OPT_TIMESTAMP);
    CHECK_U64(p->options[2].a, 4294967295u);
    CHECK_U64(p->options[2].b, 0);
    CHECK_EQ(p->options[3].kind, SCRIPT_OPT_NOP);
    CHECK_EQ(p->options[4].kind, SCRIPT_OPT_WSCALE);
    CHECK_U64(p->options[4].a, 7);

    p = &s.events[1].packet;
    REQUIRE(p->option_count == 3);
    CHECK_EQ(p->options[0].kind, SCRIPT_OPT_NOP);
    CHECK_EQ(p->options[1].kind, SCRIPT_OPT_NOP);
    CHECK_EQ(p->options[2].kind, SCRIPT_OPT_SACK);
    REQUIRE(p->options[2].block_count == 4);
    const uint32_t blocks[4][2] = {{1, 1001}, {2001, 3001}, {4001, 5001}, {4294967295u, 7}};
    for (int i = 0; i < 4; i++) {
        CHECK_U64(p->options[2].blocks[i][0], blocks[i][0]);
        CHECK_U64(p->options[2].blocks[i][1], blocks[i][1]);
    }

    p = &s.events[2].packet;
    CHECK(p->any_options);
    CHECK_EQ(p->option_count, 0);

    p = &s.events[3].packet;
    REQUIRE(p->option_count == 2);
    CHECK_EQ(p->options[0].kind, SCRIPT_OPT_NOP);
    CHECK_EQ(p->options[1].kind, SCRIPT_OPT_EOL);

    p = &s.events[4].packet;
    REQUIRE(p->option_count == 2);
    CHECK_EQ(p->options[0].kind, SCRIPT_OPT_SACK);
    CHECK_EQ(p->options[0].block_count, 1);
    CHECK_U64(p->options[0].blocks[0][0], 5);
    CHECK_U64(p->options[0].blocks[0][1], 6);
    CHECK_EQ(p->options[1].kind, SCRIPT_OPT_TIMESTAMP);
    CHECK_U64(p->options[1].a, 7);
    CHECK_U64(p->options[1].b, 8);
    script_free(&s);

    /* Exactly SCRIPT_MAX_OPTIONS is fine. */
    char text[256] = "0 < . 1:1(0) ack 1 win 1 <nop";
    for (int i = 1; i < SCRIPT_MAX_OPTIONS; i++) strcat(text, ",nop");
    strcat(text, ">\n");
    REQUIRE_PARSE(text, &s);
    CHECK_EQ(s.events[0].packet.option_count, SCRIPT_MAX_OPTIONS);
    script_free(&s);
}

/* ---- System calls and expressions --------------------------------------------------- */

static void test_syscalls(void)
{
    struct script s;
    REQUIRE_PARSE("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                  "+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)\n"
                  "+0 read(4, ..., 1000) = -1 EAGAIN (Resource temporarily unavailable)\n"
                  "+0 write(4, ..., 10) = ...\n"
                  "+0 fcntl(3, F_GETFL) = 0x802 (flags O_RDWR|O_NONBLOCK)\n"
                  "+0 close(4) = -1 EBADF(Bad file descriptor)\n"
                  "+0 getpid() = -1\n"
                  "+0 recv(4, ..., 10, 0) = -1 EWOULDBLOCK\n"
                  "+0 fcntl(3, F_GETFL) = O_RDWR|O_NONBLOCK\n"
                  "+0 read(4, ..., 10) = 10 (a note)\n",
                  &s);
    REQUIRE(s.count == 10);

    const struct script_syscall *c = &s.events[0].call;
    CHECK_EQ(s.events[0].kind, SCRIPT_EVENT_SYSCALL);
    CHECK_STR(c->name, "socket");
    REQUIRE(c->arg_count == 3);
    CHECK_EQ(c->args[0]->kind, SCRIPT_EXPR_ELLIPSIS);
    CHECK_EQ(c->args[1]->kind, SCRIPT_EXPR_SYMBOL);
    CHECK_STR(c->args[1]->name, "SOCK_STREAM");
    CHECK_EQ(c->args[1]->value, SOCK_STREAM);
    CHECK_STR(c->args[2]->name, "IPPROTO_TCP");
    CHECK_EQ(c->args[2]->value, IPPROTO_TCP);
    CHECK(!c->ret_any);
    CHECK_EQ(c->ret, 3);
    CHECK(c->errno_name == NULL);
    CHECK_EQ(c->errno_value, 0);
    CHECK(s.events[0].text == NULL);

    c = &s.events[1].call;
    CHECK_EQ(c->ret, -1);
    CHECK_STR(c->errno_name, "EINPROGRESS");
    CHECK_EQ(c->errno_value, EINPROGRESS);
    CHECK_STR(s.events[1].text, "Operation now in progress");

    c = &s.events[2].call;
    CHECK_STR(c->errno_name, "EAGAIN");
    CHECK_EQ(c->errno_value, EAGAIN);
    CHECK_STR(s.events[2].text, "Resource temporarily unavailable");

    c = &s.events[3].call;
    CHECK(c->ret_any);
    CHECK(c->errno_name == NULL);

    c = &s.events[4].call;
    CHECK_EQ(c->ret, 0x802);
    CHECK_STR(s.events[4].text, "flags O_RDWR|O_NONBLOCK");

    c = &s.events[5].call;
    CHECK_STR(c->errno_name, "EBADF");
    CHECK_EQ(c->errno_value, EBADF);
    CHECK_STR(s.events[5].text, "Bad file descriptor");

    c = &s.events[6].call;
    CHECK_STR(c->name, "getpid");
    CHECK_EQ(c->arg_count, 0);
    CHECK(c->args == NULL);
    CHECK_EQ(c->ret, -1);
    CHECK(c->errno_name == NULL);

    c = &s.events[7].call; /* the alias, as written */
    CHECK_STR(c->errno_name, "EWOULDBLOCK");
    CHECK_EQ(c->errno_value, EAGAIN);
    CHECK(s.events[7].text == NULL);

    CHECK_EQ(s.events[8].call.ret, O_RDWR | O_NONBLOCK);
    CHECK_STR(s.events[9].text, "a note");
    CHECK(s.events[9].call.errno_name == NULL);
    script_free(&s);
}

static void test_expressions(void)
{
    struct script s;
    REQUIRE_PARSE("0 setsockopt(3, SOL_SOCKET, SO_LINGER, {l_onoff=1, l_linger=0}, 8) = 0\n"
                  "+0 poll([{fd=4, events=POLLIN|POLLOUT, revents=POLLIN}], 1, 0) = 1\n"
                  "+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK|0x10) = 0\n"
                  "+0 write(4, \"ab\\n\\x41\\101\\0z\" \"cd\", 9) = 9\n"
                  "+0 f(-5, -9223372036854775808, 9223372036854775807, 0xfF, NOT_A_SYMBOL, [], "
                  "{}, \"\") = 0\n",
                  &s);
    REQUIRE(s.count == 5);

    const struct script_expr *e = s.events[0].call.args[3];
    REQUIRE(e->kind == SCRIPT_EXPR_STRUCT);
    REQUIRE(e->count == 2);
    CHECK_EQ(e->items[0]->kind, SCRIPT_EXPR_FIELD);
    CHECK_STR(e->items[0]->name, "l_onoff");
    REQUIRE(e->items[0]->count == 1);
    CHECK_EQ(e->items[0]->items[0]->kind, SCRIPT_EXPR_INT);
    CHECK_EQ(e->items[0]->items[0]->value, 1);
    CHECK_STR(e->items[1]->name, "l_linger");
    CHECK_EQ(e->items[1]->items[0]->value, 0);
    CHECK_EQ(s.events[0].call.args[1]->value, SOL_SOCKET);
    CHECK_EQ(s.events[0].call.args[2]->value, SO_LINGER);

    e = s.events[1].call.args[0];
    REQUIRE(e->kind == SCRIPT_EXPR_LIST);
    REQUIRE(e->count == 1);
    e = e->items[0];
    REQUIRE(e->kind == SCRIPT_EXPR_STRUCT);
    REQUIRE(e->count == 3);
    CHECK_STR(e->items[0]->name, "fd");
    CHECK_EQ(e->items[0]->items[0]->value, 4);
    CHECK_STR(e->items[1]->name, "events");
    const struct script_expr *or = e->items[1]->items[0];
    REQUIRE(or->kind == SCRIPT_EXPR_OR);
    REQUIRE(or->count == 2);
    CHECK_STR(or->items[0]->name, "POLLIN");
    CHECK_EQ(or->items[0]->value, POLLIN);
    CHECK_STR(or->items[1]->name, "POLLOUT");
    CHECK_EQ(or->items[1]->value, POLLOUT);
    CHECK_STR(e->items[2]->name, "revents");
    CHECK_EQ(e->items[2]->items[0]->kind, SCRIPT_EXPR_SYMBOL);

    /* a|b|c is (a|b)|c */
    or = s.events[2].call.args[2];
    REQUIRE(or->kind == SCRIPT_EXPR_OR);
    CHECK_EQ(or->items[1]->kind, SCRIPT_EXPR_INT);
    CHECK_EQ(or->items[1]->value, 0x10);
    REQUIRE(or->items[0]->kind == SCRIPT_EXPR_OR);
    CHECK_EQ(or->items[0]->items[0]->value, O_RDWR);
    CHECK_EQ(or->items[0]->items[1]->value, O_NONBLOCK);

    e = s.events[3].call.args[1];
    REQUIRE(e->kind == SCRIPT_EXPR_STRING);
    CHECK_EQ(e->value, 9);
    CHECK_MEM(e->name, "ab\nAA\0zcd", 10);

    const struct script_expr *const *a = (const struct script_expr *const *)s.events[4].call.args;
    REQUIRE(s.events[4].call.arg_count == 8);
    CHECK_EQ(a[0]->kind, SCRIPT_EXPR_INT);
    CHECK_EQ(a[0]->value, -5);
    CHECK(a[1]->value == INT64_MIN);
    CHECK(a[2]->value == INT64_MAX);
    CHECK_EQ(a[3]->value, 255);
    CHECK_EQ(a[4]->kind, SCRIPT_EXPR_SYMBOL); /* unknown: no error, value 0 */
    CHECK_STR(a[4]->name, "NOT_A_SYMBOL");
    CHECK_EQ(a[4]->value, 0);
    CHECK_EQ(a[5]->kind, SCRIPT_EXPR_LIST);
    CHECK_EQ(a[5]->count, 0);
    CHECK_EQ(a[6]->kind, SCRIPT_EXPR_STRUCT);
    CHECK_EQ(a[6]->count, 0);
    CHECK_EQ(a[7]->kind, SCRIPT_EXPR_STRING);
    CHECK_STR(a[7]->name, "");
    CHECK_EQ(a[7]->value, 0);
    script_free(&s);
}

/* An event continues across lines inside brackets. */
static void test_multiline_call(void)
{
    struct script s;
    REQUIRE_PARSE("0 poll([{fd=4,\n"
                  "         events=POLLIN}], 1,\n"
                  "       0) = 1\n"
                  "+0 setsockopt(3, SOL_SOCKET, SO_LINGER,\n"
                  "    {onoff=1, linger=0}, 8) = 0\n",
                  &s);
    REQUIRE(s.count == 2);
    CHECK_EQ(s.events[0].line, 1);
    CHECK_EQ(s.events[0].call.arg_count, 3);
    CHECK_EQ(s.events[0].call.ret, 1);
    CHECK_EQ(s.events[1].line, 4);
    CHECK_STR(s.events[1].call.args[3]->items[1]->name, "linger");
    script_free(&s);
}

/* ---- Comments, commands, code, options ------------------------------------------------- */

static void test_comments(void)
{
    struct script s;
    REQUIRE_PARSE("// a comment line\n"
                  "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3 // trailing\n"
                  "/* block */ +0 close(3) = 0\n"
                  "/* multi\n"
                  "   line */\n"
                  "+0 close(3) /* in the middle */ = 0\n"
                  "+0 close(/* in brackets\n"
                  " across lines */ 3) /* and\n"
                  " outside */ = 0\n"
                  "   // indented comment\n"
                  "+0 > . 1:1(0) ack 1 // ack\n"
                  "// at the end without a newline",
                  &s);
    REQUIRE(s.count == 5);
    CHECK_EQ(s.events[0].line, 2);
    CHECK_EQ(s.events[1].line, 3);
    CHECK_STR(s.events[1].call.name, "close");
    CHECK_EQ(s.events[2].line, 6);
    CHECK_EQ(s.events[3].line, 7);
    CHECK_EQ(s.events[3].call.args[0]->value, 3);
    CHECK_EQ(s.events[4].line, 11);
    CHECK_EQ(s.events[4].kind, SCRIPT_EVENT_PACKET);
    script_free(&s);
}

static void test_shell_and_code(void)
{
    struct script s;
    REQUIRE_PARSE("`../common/defaults.sh`\n"
                  "0 `sysctl -q net.ipv4.tcp_timestamps=0`\n"
                  "+0.1 `echo a\n"
                  "echo b`\n"
                  "+0 %{ assert tcpi_snd_cwnd == 10 }%\n"
                  "+0 %{\n"
                  "import os\n"
                  "}%\n"
                  "%{ print(1) }%\n"
                  "`cleanup`\n",
                  &s);
    REQUIRE(s.count == 7);
    CHECK_EQ(s.events[0].kind, SCRIPT_EVENT_SHELL);
    CHECK_STR(s.events[0].text, "../common/defaults.sh");
    CHECK_EQ(s.events[0].line, 1);
    CHECK_EQ(s.events[0].time.kind, SCRIPT_TIME_RELATIVE);
    CHECK_EQ(s.events[0].time.start, 0);

    CHECK_EQ(s.events[1].kind, SCRIPT_EVENT_SHELL);
    CHECK_STR(s.events[1].text, "sysctl -q net.ipv4.tcp_timestamps=0");
    CHECK_EQ(s.events[1].time.kind, SCRIPT_TIME_ABSOLUTE);

    CHECK_EQ(s.events[2].kind, SCRIPT_EVENT_SHELL);
    CHECK_STR(s.events[2].text, "echo a\necho b");
    CHECK_EQ(s.events[2].line, 3);
    CHECK_EQ(s.events[2].time.start, 100000);

    CHECK_EQ(s.events[3].kind, SCRIPT_EVENT_CODE);
    CHECK_STR(s.events[3].text, "assert tcpi_snd_cwnd == 10");
    CHECK_EQ(s.events[3].line, 5);
    CHECK_EQ(s.events[4].kind, SCRIPT_EVENT_CODE);
    CHECK_STR(s.events[4].text, "\nimport os\n");
    CHECK_EQ(s.events[4].line, 6);
    CHECK_EQ(s.events[5].kind, SCRIPT_EVENT_CODE);
    CHECK_STR(s.events[5].text, "print(1)");
    CHECK_EQ(s.events[5].line, 9);
    CHECK_EQ(s.events[6].kind, SCRIPT_EVENT_SHELL);
    CHECK_STR(s.events[6].text, "cleanup");
    CHECK_EQ(s.events[6].line, 10);
    script_free(&s);
}

static void test_option_lines(void)
{
    struct script s;
    REQUIRE_PARSE("--tolerance_usecs=10000\n"
                  "--ip_version=ipv4 --mss=1000\n"
                  "--define=X=1\n"
                  "--strict_segments\n"
                  "\n"
                  "0 close(3) = 0\n",
                  &s);
    CHECK_EQ(s.tolerance, 10000);
    CHECK_EQ(s.count, 1);
    CHECK_STR(s.path, "t.pkt");
    script_free(&s);

    REQUIRE_PARSE("0 close(3) = 0\n", &s);
    CHECK_EQ(s.tolerance, -1);
    script_free(&s);

    REQUIRE_PARSE("", &s); /* empty */
    CHECK_EQ(s.count, 0);
    CHECK_EQ(s.tolerance, -1);
    script_free(&s);

    /* The text need not be NUL-terminated: only len bytes are read. */
    const char text[] = "0 close(3) = 0\n+0 > garbage";
    char err[128];
    REQUIRE(script_parse("t.pkt", text, 15, &s, err, sizeof err) == 0);
    CHECK_EQ(s.count, 1);
    script_free(&s);
    script_free(&s); /* freeing twice is harmless */
}

/* ---- Unsupported constructs ------------------------------------------------------------ */

static void test_unsupported(void)
{
    struct script s;
    REQUIRE_PARSE("0 < S 0:10(10) win 32792 <mss 1460,sackOK,nop,nop,FO abcd1234,nop,nop>\n"
                  "+0 < S 0:0(0) win 1 <md5 0123>\n"
                  "+0.5 < udp (1000)\n"
                  "+0 > icmp unreachable port\n"
                  "+0 < [ect0] S. 0:0(0) ack 1 win 100\n"
                  "+0 > (tos 0x4) S 0:0(0)\n"
                  "+0 < 192.0.2.1:8080 > 192.168.0.1:9000 S 0:0(0) win 100\n"
                  "+0 > SEWA 0:0(0)\n"
                  "+0 > .5 1:1(0) ack 1\n"
                  "+0 bind(3, {sa_family=AF_INET, sin_port=htons(8080),\n"
                  "            sin_addr=inet_addr(\"192.0.2.1\")}, 16) = 0\n"
                  "+0 recvmsg(4, {msg_name(...)=..., msg_iov(1)=[{..., 100}], msg_flags=0},\n"
                  "              0) = 100\n"
                  "+0 write(4, \"abc\"..., 3) = 3\n"
                  "+0 > ipv4 1.2.3.4 > 5.6.7.8: S 0:0(0)\n"
                  "+0 < S 0:0(0) win 100 {mut ip ihl}\n"
                  "+0 setsockopt(3, SOL_SOCKET, SO_RCVBUF, [sizeof(int)], 4) = 0\n"
                  "+0 < [noecn] . 1:1(0) ack 1 win 100\n"
                  "+0 > [noecn] . 1:1(0) ack 1\n",
                  &s);
    const char *want[] = {
        "TCP option 'FO'",
        "TCP option 'md5'",
        "UDP packet",
        "ICMP packet",
        "IP annotation '[ect0]'",
        "IP annotation '(tos 0x4)'",
        "packet with explicit ports or addresses",
        "AccECN flags 'SEWA'",
        "AccECN flags '.5'",
        "expression 'htons(...)'",
        "expression 'msg_name(...)'",
        "string prefix match \"...\"...",
        "encapsulated packet 'ipv4'",
        "packet fuzzing {...}",
        "expression 'sizeof(...)'",
    };
    const int lines[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 15, 16, 17};
    size_t n = sizeof want / sizeof want[0];
    REQUIRE(s.count == n + 2);
    for (size_t i = 0; i < n; i++) {
        CHECK_EQ(s.events[i].kind, SCRIPT_EVENT_UNSUPPORTED);
        CHECK_STR(s.events[i].text, want[i]);
        CHECK_EQ(s.events[i].line, lines[i]);
        CHECK(s.events[i].call.name == NULL);
        CHECK(s.events[i].call.args == NULL);
    }
    CHECK_EQ(s.events[0].time.kind, SCRIPT_TIME_ABSOLUTE);
    CHECK_EQ(s.events[2].time.kind, SCRIPT_TIME_RELATIVE);
    CHECK_EQ(s.events[2].time.start, 500000);
    /* [noecn]: finack never sets ECN bits, so it is ignored. */
    CHECK_EQ(s.events[n].kind, SCRIPT_EVENT_PACKET);
    CHECK_EQ(s.events[n].packet.flags, TCP_FLAG_ACK);
    CHECK_EQ(s.events[n + 1].kind, SCRIPT_EVENT_PACKET);
    CHECK(s.events[n + 1].packet.outbound);
    script_free(&s);
}

/* ---- Malformed scripts ------------------------------------------------------------------ */

static void test_errors(void)
{
    CHECK_ERROR("0 < Q 0:0(0) win 1\n", "t.pkt:1: expected packet flags after '<', got 'Q'");
    CHECK_ERROR("0 close(3) = 0\n\n\n+0 > SQ 0:0(0)\n",
                "t.pkt:4: expected packet flags after '>', got 'SQ'");
    CHECK_ERROR("0 > 0:0(0)\n", "t.pkt:1: expected packet flags after '>', got '0'");
    CHECK_ERROR("socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n",
                "t.pkt:1: expected a time (0, +0.1, *, ...) to start the event, got 'socket'");
    CHECK_ERROR("-1 close(3) = 0\n", "t.pkt:1: expected a time (0, +0.1, *, ...) to start the "
                                     "event, got '-': times cannot be negative");
    CHECK_ERROR("0x10 close(3) = 0\n", "t.pkt:1: malformed time '0x10'");
    CHECK_ERROR("0 socket(..., SOCK_STREAM, IPPROTO_TCP)\n",
                "t.pkt:1: expected '=' and the return value after socket(...), got end of line");
    CHECK_ERROR("0 close 3\n", "t.pkt:1: expected '(' after system call name 'close', got '3'");
    CHECK_ERROR("+ close(3) = 0\n", "t.pkt:1: expected a time after '+', got 'close'");
    CHECK_ERROR("0 + close(3) = 0\n", "t.pkt:1: expected a packet ('<' or '>'), a system call, "
                                       "a `command` or %{ code }% after the time, got '+'");
    CHECK_ERROR("0 poll([{fd=4, events=POLLIN}], 1, 0 = 1\n+0 close(3) = 0\n",
                "t.pkt:1: expected ',' or ')' in the arguments of poll(), got '='");
    CHECK_ERROR("0 poll([{fd=4 events=POLLIN}], 1, 0) = 1\n",
                "t.pkt:1: expected ',' or '}' in a struct, got 'events'");
    CHECK_ERROR("0 f([1 2]) = 0\n", "t.pkt:1: expected ',' or ']' in a list, got '2'");
    CHECK_ERROR("0 f(,) = 0\n", "t.pkt:1: expected an expression, got ','");
    CHECK_ERROR("0 close(3) = 0 garbage\n",
                "t.pkt:1: expected an errno name or '(' after the return value, got 'garbage'");
    CHECK_ERROR("0 close(3) = 0 (note) more\n",
                "t.pkt:1: expected end of line after the event, got 'more'");
    CHECK_ERROR("0 close(3) = -1 ENOTANERRNO (x)\n",
                "t.pkt:1: expected an errno name or '(' after the return value, got "
                "'ENOTANERRNO'");
    CHECK_ERROR("0 close(3) = 0 EBADF (Bad file descriptor)\n",
                "t.pkt:1: errno EBADF given but the return value is not -1");
    CHECK_ERROR("0 close(3) = FOO\n", "t.pkt:1: expected an integer, a known symbol or '...' as "
                                      "the return value of close(), got 'FOO'");
    CHECK_ERROR("0 close(3) = \"x\"\n", "t.pkt:1: expected an integer, a known symbol or '...' "
                                        "as the return value of close(), got '\"x\"'");
    CHECK_ERROR("0 close(0x) = 0\n", "t.pkt:1: malformed number '0x'");
    CHECK_ERROR("0 close(12ab) = 0\n", "t.pkt:1: malformed number '12ab'");
    CHECK_ERROR("0 close(1.5) = 0\n", "t.pkt:1: malformed number '1.5'");
    CHECK_ERROR("0 f(18446744073709551616) = 0\n",
                "t.pkt:1: number '18446744073709551616' is too large");
    CHECK_ERROR("0 f(9223372036854775808) = 0\n",
                "t.pkt:1: number '9223372036854775808' is out of range");
    CHECK_ERROR("0 f(-) = 0\n", "t.pkt:1: expected a number after '-', got ')'");
    CHECK_ERROR("0 close(3) = 0\n+0 > S 0:5(10)\n",
                "t.pkt:2: inconsistent sequence range 0:5(10): end must be start + length");
    CHECK_ERROR("0 > S 0:0\n", "t.pkt:1: expected '(' after start:end, got end of line");
    CHECK_ERROR("0 > S 0 0\n",
                "t.pkt:1: expected ':' in the sequence range start:end(length), got '0'");
    CHECK_ERROR("0 < S 0:0(0) win 70000\n", "t.pkt:1: window 70000 is out of range (0..65535)");
    CHECK_ERROR("0 < S 4294967296:4294967296(0) win 1\n",
                "t.pkt:1: start sequence number 4294967296 is out of range (0..4294967295)");
    CHECK_ERROR("0 < S 0:0(65536) win 1\n",
                "t.pkt:1: payload length 65536 is out of range (0..65535)");
    CHECK_ERROR("0 < S 0:0(0) win 1 <mss 65536>\n",
                "t.pkt:1: mss value 65536 is out of range (0..65535)");
    CHECK_ERROR("0 < . 1:1(0) ack win 1\n", "t.pkt:1: expected ack number, got 'win'");
    CHECK_ERROR("0 < S 0:0(0) win 100 foo\n",
                "t.pkt:1: expected 'ack', 'win', 'urg', '<' TCP options or end of line in the "
                "packet, got 'foo'");
    CHECK_ERROR("0 < S 0:0(0) win 100 ack 1\n",
                "t.pkt:1: expected 'ack', 'win', 'urg', '<' TCP options or end of line in the "
                "packet, got 'ack'");
    CHECK_ERROR("0 < S 0:0(0) win 1 <mss 1460 nop>\n",
                "t.pkt:1: expected ',' or '>' in the TCP options, got 'nop'");
    CHECK_ERROR("0 < S 0:0(0) win 1 <mss 1460,>\n", "t.pkt:1: expected a TCP option, got '>'");
    CHECK_ERROR("0 < S 0:0(0) win 1 <TS 5 ecr 6>\n", "t.pkt:1: expected 'val' after 'TS', got '5'");
    CHECK_ERROR("0 < S 0:0(0) win 1 <TS val 5>\n",
                "t.pkt:1: expected 'ecr' after the TS val, got '>'");
    CHECK_ERROR("0 < . 1:1(0) win 1 <sack>\n",
                "t.pkt:1: expected a SACK block left:right after 'sack', got '>'");
    CHECK_ERROR("0 < . 1:1(0) win 1 <sack 1:2 3:4 5:6 7:8 9:10>\n",
                "t.pkt:1: more than 4 SACK blocks");
    CHECK_ERROR("0 < . 1:1(0) win 1 <sack 1-2>\n",
                "t.pkt:1: expected ':' in the SACK block left:right, got '-'");
    CHECK_ERROR("0 < S 0:0(0) win 1 <...>\n",
                "t.pkt:1: <...> for TCP options can only be used with outbound packets");
    CHECK_ERROR("0 > S 0:0(0) <...\n", "t.pkt:1: expected '>' after '<...', got end of line");
    CHECK_ERROR("* close(3) = 0\n", "t.pkt:1: the time '*' can only be used with outbound packets");
    CHECK_ERROR("0.1~0.2 < S 0:0(0) win 1\n",
                "t.pkt:1: a time range can only be used with outbound packets");
    CHECK_ERROR("0.2~0.1 > S 0:0(0)\n", "t.pkt:1: time range is backwards");
    CHECK_ERROR("+0.1~0.2 > S 0:0(0)\n",
                "t.pkt:1: expected '+' after '~' (a relative range ends relative), got '0.2'");
    CHECK_ERROR("0.1~+0.2 > S 0:0(0)\n",
                "t.pkt:1: an absolute time range cannot end with a relative time");
    CHECK_ERROR("+0...0.1 > S 0:0(0)\n",
                "t.pkt:1: expected a system call after the return time, got '>'");
    CHECK_ERROR("0.2...0.1 read(4, ..., 1) = 1\n",
                "t.pkt:1: the return time is before the start time");
    CHECK_ERROR("*...0.1 read(4, ..., 1) = 1\n",
                "t.pkt:1: a return time ('...') needs a start time, not '*'");
    CHECK_ERROR("0 write(4, \"\\q\", 1) = 1\n",
                "t.pkt:1: unknown escape '\\q' in string '\"\\q\"'");
    CHECK_ERROR("0 write(4, \"abc, 3) = 3\n", "t.pkt:1: unterminated string");
    CHECK_ERROR("0 close(3) = 0\n/* never closed\n", "t.pkt:2: unterminated /* comment");
    CHECK_ERROR("0 close(3) = 0\n+0 `echo\n", "t.pkt:2: unterminated `command`");
    CHECK_ERROR("0 %{ x\n", "t.pkt:1: unterminated %{ code }%");
    CHECK_ERROR("0 close(3) = 0\n+0 < [ect0 S 0:0(0)\n", "t.pkt:2: unterminated '['");
    CHECK_ERROR("0 close(3) = 0\n--tolerance_usecs=5\n",
                "t.pkt:2: option '--tolerance_usecs=5' must come before the first event");
    CHECK_ERROR("--tolerance_usecs=abc\n",
                "t.pkt:1: malformed value in option '--tolerance_usecs=abc'");
    CHECK_ERROR("--tolerance_usecs\n", "t.pkt:1: option --tolerance_usecs needs a value");
    CHECK_ERROR("--mss=1000 0 close(3) = 0\n",
                "t.pkt:1: expected end of line after an option, got '0'");
    CHECK_ERROR("0 \n", "t.pkt:1: expected a packet ('<' or '>'), a system call, a `command` or "
                        "%{ code }% after the time, got end of line");
    CHECK_ERROR("0 `a` `b`\n", "t.pkt:1: expected end of line after the event, got '`b`'");

    /* More than SCRIPT_MAX_OPTIONS TCP options. */
    char text[256] = "0 < . 1:1(0) ack 1 win 1 <nop";
    for (int i = 0; i < SCRIPT_MAX_OPTIONS; i++) strcat(text, ",nop");
    strcat(text, ">\n");
    CHECK_ERROR(text, "t.pkt:1: more than 20 TCP options");

    /* A long token is cut in the message. */
    CHECK_ERROR("0 > S 0:0(0) win 1 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
                "t.pkt:1: expected 'ack', 'win', 'urg', '<' TCP options or end of line in the "
                "packet, got 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...'");
}

/* A small or absent error buffer is never overrun. */
static void test_error_buffer(void)
{
    struct script s;
    char err[8];
    memset(err, 'x', sizeof err);
    CHECK_EQ(script_parse("t.pkt", "0 < Q", 5, &s, err, 6), -1);
    CHECK_STR(err, "t.pkt");
    CHECK_EQ(err[6], 'x');
    CHECK_EQ(script_parse("t.pkt", "0 < Q", 5, &s, NULL, 0), -1);
    CHECK_EQ(script_parse(NULL, "0 < Q", 5, &s, err, sizeof err), -1);
}

/* ---- Symbols ------------------------------------------------------------------------------ */

static void test_symbols(void)
{
    const struct {
        const char *name;
        int64_t value;
    } cases[] = {
        {"AF_INET", AF_INET},           {"AF_INET6", AF_INET6},
        {"SOCK_STREAM", SOCK_STREAM},   {"SOCK_NONBLOCK", SOCK_NONBLOCK},
        {"IPPROTO_TCP", IPPROTO_TCP},   {"SOL_SOCKET", SOL_SOCKET},
        {"SOL_TCP", SOL_TCP},           {"SO_REUSEADDR", SO_REUSEADDR},
        {"SO_LINGER", SO_LINGER},       {"SO_ERROR", SO_ERROR},
        {"TCP_NODELAY", TCP_NODELAY},   {"TCP_MAXSEG", TCP_MAXSEG},
        {"TCP_INFO", TCP_INFO},         {"TCP_NOTSENT_LOWAT", TCP_NOTSENT_LOWAT},
        {"O_NONBLOCK", O_NONBLOCK},     {"O_RDWR", O_RDWR},
        {"F_GETFL", F_GETFL},           {"F_SETFL", F_SETFL},
        {"SHUT_RDWR", SHUT_RDWR},       {"POLLIN", POLLIN},
        {"POLLRDHUP", POLLRDHUP},       {"POLLWRBAND", POLLWRBAND},
        {"MSG_NOSIGNAL", MSG_NOSIGNAL}, {"MSG_PEEK", MSG_PEEK},
        {"E2BIG", E2BIG},               {"EXDEV", EXDEV},
        {"EAGAIN", EAGAIN},             {"EWOULDBLOCK", EAGAIN},
        {"EINPROGRESS", EINPROGRESS},   {"ECONNREFUSED", ECONNREFUSED},
        {"ENOTSUP", EOPNOTSUPP},        {"EHWPOISON", EHWPOISON},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t v = -12345;
        if (!script_symbol_value(cases[i].name, &v) || v != cases[i].value)
            test_fail(__FILE__, __LINE__, "%s: %lld, expected %lld", cases[i].name, (long long)v,
                      (long long)cases[i].value);
    }
    int64_t v = 77;
    CHECK(!script_symbol_value("NOT_A_SYMBOL", &v));
    CHECK(!script_symbol_value("", &v));
    CHECK(!script_symbol_value(NULL, &v));
    CHECK_EQ(v, 77);

    CHECK_STR(script_errno_name(EAGAIN), "EAGAIN");
    CHECK_STR(script_errno_name(EOPNOTSUPP), "EOPNOTSUPP");
    CHECK_STR(script_errno_name(EDEADLK), "EDEADLK");
    CHECK_STR(script_errno_name(ECONNRESET), "ECONNRESET");
    CHECK_STR(script_errno_name(EPERM), "EPERM");
    CHECK(script_errno_name(0) == NULL);
    CHECK(script_errno_name(-EAGAIN) == NULL);
    CHECK(script_errno_name(9999) == NULL);
}

TEST_MAIN("script_parse", TEST_CASE(test_times), TEST_CASE(test_blocking_times),
          TEST_CASE(test_flags), TEST_CASE(test_packet_fields), TEST_CASE(test_options),
          TEST_CASE(test_syscalls), TEST_CASE(test_expressions), TEST_CASE(test_multiline_call),
          TEST_CASE(test_comments), TEST_CASE(test_shell_and_code), TEST_CASE(test_option_lines),
          TEST_CASE(test_unsupported), TEST_CASE(test_errors), TEST_CASE(test_error_buffer),
          TEST_CASE(test_symbols))
