/* JSON-lines traces: every kind of event read as docs/TRACE.md writes it,
 * the events written back and read again unchanged, and each kind of
 * malformed line refused with "line N: ..." naming what is wrong. */
#include "ladder/ladder.h"

#include <errno.h>
#include <stdlib.h>

#include "test.h"

static const char valid[] =
    "{\"t_us\":0,\"host\":\"B\",\"conn\":\"0.0.0.0:80-0.0.0.0:0\",\"ev\":\"state\","
    "\"from\":\"CLOSED\",\"to\":\"LISTEN\"}\n"
    "\n"
    "{\"t_us\":1000,\"host\":\"A\",\"conn\":\"10.0.0.1:5000-10.0.0.2:80\",\"ev\":\"state\","
    "\"from\":\"CLOSED\",\"to\":\"SYN_SENT\"}\n"
    "  {\"t_us\":1000,\"host\":\"A\",\"conn\":\"10.0.0.1:5000-10.0.0.2:80\",\"ev\":\"seg\","
    "\"dir\":\"out\",\"flags\":\"S\",\"seq\":4294967295,\"ack\":0,\"win\":65535,"
    "\"win_raw\":65535,\"len\":0,\"opts\":\"mss 1460,nop,wscale 7\"}  \r\n"
    "{\"t_us\":11000,\"host\":\"B\",\"conn\":\"10.0.0.2:80-10.0.0.1:5000\",\"ev\":\"seg\","
    "\"dir\":\"in\",\"flags\":\"S\",\"seq\":4294967295,\"ack\":0,\"win\":65535,\"len\":0,"
    "\"opts\":\"\",\"future\":{\"nested\":[1,2.5e3,-0.5,true,null,\"\\u00e9\"]}}\n"
    "{\"t_us\":11000,\"host\":\"B\",\"conn\":\"10.0.0.2:80-10.0.0.1:5000\",\"ev\":\"seg\","
    "\"dir\":\"out\",\"flags\":\"SA\",\"seq\":77,\"ack\":0,\"win\":65535,\"len\":0,"
    "\"opts\":\"\",\"rtx\":true}\n"
    "{\"t_us\":12000,\"host\":\"B\",\"conn\":\"0.0.0.0:0-0.0.0.0:0\",\"ev\":\"drop\","
    "\"reason\":\"TCP_BAD_CHECKSUM\"}\n"
    "{\"t_us\":13000,\"host\":\"A\",\"conn\":\"10.0.0.1:5000-10.0.0.2:80\",\"ev\":\"timer\","
    "\"timer\":\"SYN\"}\n"
    "{\"t_us\":14000,\"host\":\"A\",\"ev\":\"note\",\"text\":\"connect() = \\\"x\\\" \\ud83d\\ude00\"}\n"
    "{\"t_us\":15000,\"host\":\"A\",\"conn\":\"10.0.0.1:5000-10.0.0.2:80\",\"ev\":\"newkind\"}\n";

static int read_text(struct ladder *l, const char *text, char *err, size_t errlen)
{
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    if (!f) return -errno;
    int rc = ladder_read_json(l, f, err, errlen);
    fclose(f);
    return rc;
}

static void test_every_kind_read(void)
{
    struct ladder l;
    ladder_init(&l);
    char err[256] = "";
    CHECK_EQ(read_text(&l, valid, err, sizeof err), 0);
    CHECK_STR(err, "");
    REQUIRE(l.count == 8);
    /* B listened first, but A sent the SYN: A is side 0. */
    CHECK_STR(l.host[0], "A");
    CHECK_STR(l.host[1], "B");
    CHECK_STR(l.endpoint[0], "10.0.0.1:5000");
    CHECK_STR(l.endpoint[1], "10.0.0.2:80");
    const struct ladder_event *e = l.events;
    CHECK_EQ(e[0].kind, FINACK_TRACE_STATE);
    CHECK_EQ(e[0].side, 1);
    CHECK_STR(e[0].to, "LISTEN");
    CHECK_EQ(e[2].kind, FINACK_TRACE_SEG);
    CHECK(e[2].out);
    CHECK_EQ(e[2].side, 0);
    CHECK_EQ(e[2].flags, FINACK_TCP_SYN);
    CHECK_U64(e[2].seq, 4294967295u);
    CHECK_EQ(e[2].win, 65535);
    CHECK_STR(e[2].opts, "mss 1460,nop,wscale 7");
    CHECK(!e[3].out);
    CHECK_EQ(e[3].side, 1);
    CHECK_EQ(e[4].flags, FINACK_TCP_SYN | FINACK_TCP_ACK);
    CHECK(e[4].retransmit);
    CHECK(!e[2].retransmit);
    CHECK_EQ(e[5].kind, FINACK_TRACE_DROP);
    CHECK_EQ(e[5].side, 1);
    CHECK_STR(e[5].reason, "TCP_BAD_CHECKSUM");
    CHECK_EQ(e[6].kind, FINACK_TRACE_TIMER);
    CHECK_STR(e[6].timer, "SYN");
    CHECK_EQ(e[7].kind, LADDER_NOTE);
    CHECK_EQ(e[7].side, 0);
    CHECK_STR(e[7].opts, "connect() = \"x\" \xf0\x9f\x98\x80");
    CHECK(l.have_isn[0] && l.have_isn[1]);
    CHECK_U64(l.isn[0], 4294967295u);
    CHECK_U64(l.isn[1], 77);
    ladder_free(&l);
}

static void test_written_and_read_back(void)
{
    struct ladder a, b;
    ladder_init(&a);
    ladder_init(&b);
    char err[256] = "";
    REQUIRE(read_text(&a, valid, err, sizeof err) == 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    REQUIRE(f != NULL);
    CHECK_EQ(ladder_write_json(&a, f), 0);
    fclose(f);
    CHECK_EQ(read_text(&b, buf, err, sizeof err), 0);
    CHECK_STR(err, "");
    REQUIRE(a.count == b.count);
    for (size_t i = 0; i < a.count; i++) {
        const struct ladder_event *x = &a.events[i], *y = &b.events[i];
        CHECK_U64(x->t, y->t);
        CHECK_EQ(x->kind, y->kind);
        CHECK_EQ(x->side, y->side);
        CHECK_EQ(x->out, y->out);
        CHECK_EQ(x->flags, y->flags);
        CHECK_U64(x->seq, y->seq);
        CHECK_EQ(x->retransmit, y->retransmit);
        CHECK_STR(x->opts, y->opts);
        CHECK_STR(x->to, y->to);
        CHECK_STR(x->reason, y->reason);
        CHECK_STR(x->timer, y->timer);
    }
    CHECK_STR(a.endpoint[1], b.endpoint[1]);
    free(buf);
    ladder_free(&a);
    ladder_free(&b);
}

/* A good first line, then the bad one: the error names line 2. */
static const char good[] = "{\"t_us\":0,\"host\":\"A\",\"conn\":\"10.0.0.1:1-10.0.0.2:2\","
                           "\"ev\":\"state\",\"from\":\"CLOSED\",\"to\":\"SYN_SENT\"}\n";

static const struct {
    const char *line;
    const char *message;  /* what err must say after "line 2: " */
} bad[] = {
    {"not json", "expected '{' at column 1"},
    {"{\"t_us\":1,}", "expected a key at column 11"},
    {"{\"t_us\" 1}", "expected ':' after key at column 9"},
    {"{\"t_us\":1 \"host\":\"A\"}", "expected ',' or '}' at column 11"},
    {"{\"t_us\":1", "expected ',' or '}' at column 10"},
    {"{\"t_us\":01}", "leading zero in number"},
    {"{\"t_us\":1.}", "bad number"},
    {"{\"t_us\":-1,\"host\":\"A\",\"ev\":\"timer\"}", "\"t_us\" must be an integer"},
    {"{\"t_us\":1.5}", "\"t_us\" must be an integer"},
    {"{\"t_us\":\"1\"}", "\"t_us\" must be a number"},
    {"{\"t_us\":99999999999999999999}", "\"t_us\" must be an integer"},
    {"{\"t_us\":1,\"t_us\":2}", "duplicate key"},
    {"{\"host\":\"A\\q\"}", "bad escape in string"},
    {"{\"host\":\"A\\ud800\"}", "high surrogate without its low half"},
    {"{\"host\":\"A\\udc00\"}", "lone low surrogate"},
    {"{\"host\":\"A\\u12g4\"}", "bad \\u escape"},
    {"{\"host\":\"A", "unterminated string"},
    {"{\"host\":\"A\tB\"}", "control character in string"},
    {"{\"host\":\"\xff\"}", "invalid UTF-8 in string"},
    {"{\"rtx\":tru}", "unexpected character"},
    {"{\"x\":[1,2}", "expected ',' or ']'"},
    {"{\"t_us\":1} {}", "text after the object"},
    {"{\"t_us\":1,\"host\":\"A\"}", "\"ev\" missing"},
    {"{\"host\":\"A\",\"ev\":\"seg\"}", "\"t_us\" missing"},
    {"{\"t_us\":1,\"host\":\"A\",\"ev\":\"seg\",\"conn\":\"10.0.0.1:1-10.0.0.2:2\",\"dir\":\"out\"}",
     "\"flags\" missing"},
    {"{\"t_us\":1,\"host\":\"A\",\"ev\":\"state\",\"conn\":\"10.0.0.1-10.0.0.2:2\","
     "\"from\":\"A\",\"to\":\"B\"}",
     "\"conn\" is not ADDR:PORT-ADDR:PORT"},
    {"{\"t_us\":1,\"host\":\"A\",\"ev\":\"state\",\"conn\":\"10.0.0.256:1-10.0.0.2:2\","
     "\"from\":\"A\",\"to\":\"B\"}",
     "\"conn\" is not ADDR:PORT-ADDR:PORT"},
    {"{\"t_us\":1,\"host\":\"A\",\"ev\":\"seg\",\"conn\":\"10.0.0.1:1-10.0.0.2:2\",\"dir\":\"up\","
     "\"flags\":\"S\",\"seq\":1,\"ack\":0,\"win\":1,\"len\":0}",
     "\"dir\" must be \"in\" or \"out\""},
    {"{\"t_us\":1,\"host\":\"A\",\"ev\":\"seg\",\"conn\":\"10.0.0.1:1-10.0.0.2:2\",\"dir\":\"in\","
     "\"flags\":\"SX\",\"seq\":1,\"ack\":0,\"win\":1,\"len\":0}",
     "\"flags\" must be letters of FSRPAUEC"},
    {"{\"t_us\":1,\"host\":\"A\",\"ev\":\"seg\",\"conn\":\"10.0.0.1:1-10.0.0.2:2\",\"dir\":\"in\","
     "\"flags\":\"S\",\"seq\":4294967296,\"ack\":0,\"win\":1,\"len\":0}",
     "\"seq\" must be an integer in 0..4294967295"},
    {"{\"t_us\":1,\"host\":\"A\",\"ev\":\"timer\",\"timer\":true,\"conn\":\"10.0.0.1:1-10.0.0.2:2\"}",
     "\"timer\" must be a string"},
};

static void test_malformed_lines_refused(void)
{
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[1024], err[256] = "", want[256];
        snprintf(text, sizeof text, "%s%s\n", good, bad[i].line);
        snprintf(want, sizeof want, "line 2: %s", bad[i].message);
        struct ladder l;
        ladder_init(&l);
        int rc = read_text(&l, text, err, sizeof err);
        if (rc != -EINVAL || strncmp(err, want, strlen(want)) != 0)
            test_fail(__FILE__, __LINE__, "%s: rc %d, err \"%s\", want \"%s...\"", bad[i].line, rc,
                      err, want);
        ladder_free(&l);
    }
}

static void test_nul_byte_refused(void)
{
    static const char text[] = "{\"t_us\":1}\0\n";
    struct ladder l;
    ladder_init(&l);
    char err[128] = "";
    FILE *f = fmemopen((void *)text, sizeof text - 1, "r");
    REQUIRE(f != NULL);
    CHECK_EQ(ladder_read_json(&l, f, err, sizeof err), -EINVAL);
    fclose(f);
    CHECK_STR(err, "line 1: NUL byte in the line");
    ladder_free(&l);
}

TEST_MAIN("ladder_json", TEST_CASE(test_every_kind_read), TEST_CASE(test_written_and_read_back),
          TEST_CASE(test_malformed_lines_refused), TEST_CASE(test_nul_byte_refused))
