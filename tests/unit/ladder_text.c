/* The text ladder: a small hand-made connection drawn byte for byte as
 * the fixtures in tests/ladder/ hold it, in Unicode and in ASCII; every line within
 * the width at every width; steady-state runs folded; sides placed by who
 * opened the connection. Set LADDER_UPDATE=1 to rewrite the fixtures. */
#include "ladder/ladder.h"

#include <errno.h>
#include <stdlib.h>

#include "test.h"

#ifndef LADDER_FIXTURES
#error "LADDER_FIXTURES: the tests/ladder directory, set by CMakeLists.txt"
#endif

#define CLIENT 0x0a000001u
#define SERVER 0x0a000002u
#define CPORT 5000
#define SPORT 80
#define DELAY 10000 /* µs each way */

/* Trace events as the two stacks would report them. */
struct script {
    struct ladder l;
    uint32_t isn[2];
};

static struct finack_trace_event base(finack_time_t t, int side, enum finack_trace_kind kind)
{
    struct finack_trace_event ev = {.t = t, .kind = kind};
    ev.host = side == 0 ? "client" : "server";
    ev.laddr = side == 0 ? CLIENT : SERVER;
    ev.raddr = side == 0 ? SERVER : CLIENT;
    ev.lport = side == 0 ? CPORT : SPORT;
    ev.rport = side == 0 ? SPORT : CPORT;
    return ev;
}

static void state(struct script *s, finack_time_t t, int side, const char *from, const char *to)
{
    struct finack_trace_event ev = base(t, side, FINACK_TRACE_STATE);
    ev.from = from;
    ev.to = to;
    CHECK_EQ(ladder_add_trace(&s->l, &ev), 0);
}

/* A segment from side: "out" at t, and "in" at the other side DELAY later
 * unless lost. seq and ack are relative to the ISNs. */
static void segment(struct script *s, finack_time_t t, int side, uint8_t flags, uint32_t seq,
                    uint32_t ack, uint32_t len, bool rtx, bool lost)
{
    static const uint8_t syn_opts[] = {2, 4, 0x05, 0xb4, 1, 3, 3, 7};
    struct finack_trace_event ev = base(t, side, FINACK_TRACE_SEG);
    ev.out = true;
    ev.flags = flags;
    ev.seq = s->isn[side] + seq;
    ev.ack = flags & FINACK_TCP_ACK ? s->isn[!side] + ack : 0;
    ev.win = 512;
    ev.win_scaled = flags & FINACK_TCP_SYN ? 65535 : 512u << 7;
    ev.len = len;
    ev.retransmit = rtx;
    if (flags & FINACK_TCP_SYN) {
        ev.opts = syn_opts;
        ev.opts_len = sizeof syn_opts;
    }
    CHECK_EQ(ladder_add_trace(&s->l, &ev), 0);
    if (lost) return;
    struct finack_trace_event in = ev;
    struct finack_trace_event other = base(t + DELAY, !side, FINACK_TRACE_SEG);
    in.t = other.t;
    in.host = other.host;
    in.laddr = other.laddr, in.raddr = other.raddr, in.lport = other.lport, in.rport = other.rport;
    in.out = false;
    in.retransmit = false;
    CHECK_EQ(ladder_add_trace(&s->l, &in), 0);
}

static void timer(struct script *s, finack_time_t t, int side, const char *name)
{
    struct finack_trace_event ev = base(t, side, FINACK_TRACE_TIMER);
    ev.timer = name;
    CHECK_EQ(ladder_add_trace(&s->l, &ev), 0);
}

#define SYN FINACK_TCP_SYN
#define ACK FINACK_TCP_ACK
#define FIN FINACK_TCP_FIN
#define PSH FINACK_TCP_PSH

/* The server listens first (so it is seen first), the client connects; a
 * data segment is lost and retransmitted; a bad checksum is dropped; the
 * client closes first. */
static void build_connection(struct script *s)
{
    ladder_init(&s->l);
    s->isn[0] = 1000000;
    s->isn[1] = 4000000000u;
    struct finack_trace_event listen = {.t = 0, .kind = FINACK_TRACE_STATE, .host = "server",
                                        .laddr = 0, .lport = SPORT, .from = "CLOSED",
                                        .to = "LISTEN"};
    CHECK_EQ(ladder_add_trace(&s->l, &listen), 0);
    state(s, 1000, 0, "CLOSED", "SYN_SENT");
    segment(s, 1000, 0, SYN, 0, 0, 0, false, false);
    state(s, 11000, 1, "LISTEN", "SYN_RCVD");
    segment(s, 11000, 1, SYN | ACK, 0, 1, 0, false, false);
    state(s, 21000, 0, "SYN_SENT", "ESTABLISHED");
    segment(s, 21000, 0, ACK, 1, 1, 0, false, false);
    segment(s, 21500, 0, PSH | ACK, 1, 1, 100, false, true);
    state(s, 31000, 1, "SYN_RCVD", "ESTABLISHED");
    struct finack_trace_event drop = {.t = 40000, .kind = FINACK_TRACE_DROP, .host = "server",
                                      .reason = FINACK_DROP_TCP_BAD_CHECKSUM};
    CHECK_EQ(ladder_add_trace(&s->l, &drop), 0);
    timer(s, 221500, 0, "RTO");
    segment(s, 221500, 0, PSH | ACK, 1, 1, 100, true, false);
    segment(s, 231500, 1, ACK, 1, 101, 0, false, false);
    state(s, 250000, 0, "ESTABLISHED", "FIN_WAIT_1");
    segment(s, 250000, 0, FIN | ACK, 101, 1, 0, false, false);
    state(s, 260000, 1, "ESTABLISHED", "CLOSE_WAIT");
    segment(s, 260000, 1, ACK, 1, 102, 0, false, false);
    state(s, 270000, 0, "FIN_WAIT_1", "FIN_WAIT_2");
    state(s, 280000, 1, "CLOSE_WAIT", "LAST_ACK");
    segment(s, 280000, 1, FIN | ACK, 1, 102, 0, false, false);
    state(s, 290000, 0, "FIN_WAIT_2", "TIME_WAIT");
    segment(s, 290000, 0, ACK, 102, 2, 0, false, false);
    state(s, 300000, 1, "LAST_ACK", "CLOSED");
    struct ladder_note note = {.t = 280000, .side = 1, .text = "close() = 0"};
    CHECK_EQ(ladder_add_note(&s->l, &note), 0);
}

/* ---- Helpers ---------------------------------------------------------------------- */

static char *render(const struct ladder *l, const struct ladder_options *o, int *err)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    *err = ladder_write_text(l, o, f);
    fclose(f);
    return buf;
}

static char *read_fixture(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", LADDER_FIXTURES, name);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = calloc(1, 1 << 16);
    size_t n = buf ? fread(buf, 1, (1 << 16) - 1, f) : 0;
    (void)n;
    fclose(f);
    return buf;
}

/* Compare with the fixture, or write it when LADDER_UPDATE is set. */
static void check_fixture(const char *name, const char *text)
{
    const char *update = getenv("LADDER_UPDATE");
    if (update && *update) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", LADDER_FIXTURES, name);
        FILE *f = fopen(path, "wb");
        REQUIRE(f != NULL);
        fputs(text, f);
        fclose(f);
        return;
    }
    char *want = read_fixture(name);
    REQUIRE(want != NULL);
    if (strcmp(want, text) != 0) {
        fprintf(stderr, "--- want (%s)\n%s--- got\n%s---\n", name, want, text);
        CHECK(strcmp(want, text) == 0);
    }
    free(want);
}

/* Columns by a count of our own: ASCII and the box-drawing and arrow
 * characters take one, Hangul syllables two. */
static size_t columns(const char *s, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t k = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
        uint32_t cp = k == 3 ? (uint32_t)(c & 0x0f) << 12 | (uint32_t)(s[i + 1] & 0x3f) << 6 |
                                   (uint32_t)(s[i + 2] & 0x3f)
                             : 0;
        w += cp >= 0xac00 && cp < 0xd7a4 ? 2 : 1;
        i += k;
    }
    return w;
}

static size_t widest_line(const char *text)
{
    size_t widest = 0;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        size_t w = columns(p, n);
        if (w > widest) widest = w;
        p += n + (nl ? 1 : 0);
    }
    return widest;
}

/* ---- Tests ---------------------------------------------------------------------- */

static void test_client_drawn_left_though_server_seen_first(void)
{
    struct script s;
    build_connection(&s);
    CHECK_STR(s.l.host[0], "client");
    CHECK_STR(s.l.host[1], "server");
    CHECK_STR(s.l.endpoint[0], "10.0.0.1:5000");
    CHECK_STR(s.l.endpoint[1], "10.0.0.2:80");
    CHECK(s.l.have_isn[0] && s.l.have_isn[1]);
    CHECK_U64(s.l.isn[0], 1000000);
    CHECK(s.l.traced[0] && s.l.traced[1]);
    ladder_free(&s.l);
}

static void test_unicode_matches_fixture(void)
{
    struct script s;
    build_connection(&s);
    struct ladder_options o = {0};
    int err = -1;
    char *text = render(&s.l, &o, &err);
    CHECK_EQ(err, 0);
    REQUIRE(text != NULL);
    check_fixture("connection.txt", text);
    /* The lost segment ends in a cross before the server's line; the
     * retransmission is marked; the drop and the timer are notes. */
    CHECK(strstr(text, "PSH+ACK seq=1 ack=1 win=65536 len=100 ──✕") != NULL);
    CHECK(strstr(text, "╌╌ rtx PSH+ACK seq=1 ack=1") != NULL);
    CHECK(strstr(text, "(drop TCP_BAD_CHECKSUM) │") != NULL);
    CHECK(strstr(text, "│ (RTO timer)") != NULL);
    free(text);
    ladder_free(&s.l);
}

static void test_ascii_matches_fixture(void)
{
    struct script s;
    build_connection(&s);
    struct ladder_options o = {.ascii = true, .width = 72};
    int err = -1;
    char *text = render(&s.l, &o, &err);
    CHECK_EQ(err, 0);
    REQUIRE(text != NULL);
    check_fixture("connection-ascii.txt", text);
    for (const char *p = text; *p; p++) CHECK((unsigned char)*p < 0x80);
    CHECK(widest_line(text) <= 72);
    free(text);
    ladder_free(&s.l);
}

static void test_every_line_within_width(void)
{
    struct script s;
    build_connection(&s);
    snprintf(s.l.title, sizeof s.l.title, "a title longer than the narrowest ladder drawn here, "
                                          "to be cut with an ellipsis at the width");
    /* Wide characters in a host name count two columns each. */
    snprintf(s.l.host[1], sizeof s.l.host[1], "서버 호스트");
    for (int ascii = 0; ascii < 2; ascii++) {
        for (unsigned width = LADDER_MIN_WIDTH; width <= 160; width += 3) {
            struct ladder_options o = {.ascii = ascii, .width = width};
            int err = -1;
            char *text = render(&s.l, &o, &err);
            CHECK_EQ(err, 0);
            REQUIRE(text != NULL);
            size_t widest = widest_line(text);
            if (widest > width) test_fail(__FILE__, __LINE__, "width %u: a line of %zu columns",
                                          width, widest);
            for (const char *p = text; *p;) {
                const char *nl = strchr(p, '\n');
                REQUIRE(nl != NULL);
                char line[1024];
                size_t n = (size_t)(nl - p) < sizeof line - 1 ? (size_t)(nl - p) : sizeof line - 1;
                memcpy(line, p, n);
                line[n] = 0;
                CHECK(ladder_text_width(line) <= width);
                p = nl + 1;
            }
            free(text);
        }
    }
    struct ladder_options narrow = {.width = LADDER_MIN_WIDTH - 1};
    int err = 0;
    char *text = render(&s.l, &narrow, &err);
    CHECK_EQ(err, -EINVAL);
    free(text);
    ladder_free(&s.l);
}

static void test_text_width_counts_columns(void)
{
    CHECK_EQ(ladder_text_width(""), 0);
    CHECK_EQ(ladder_text_width("SYN_SENT"), 8);
    CHECK_EQ(ladder_text_width("│──→✕…"), 6);
    CHECK_EQ(ladder_text_width("서버"), 4);
    CHECK_EQ(ladder_text_width("e\xcc\x81"), 1);  /* e + combining acute */
    CHECK_EQ(ladder_text_width("\xff"), 1);       /* a broken byte shows as U+FFFD */
}

/* 10 data segments and 5 ACKs in steady state fold into one row. */
static void test_collapse_folds_steady_state(void)
{
    struct script s;
    ladder_init(&s.l);
    s.isn[0] = 100, s.isn[1] = 900;
    segment(&s, 0, 0, SYN, 0, 0, 0, false, false);
    segment(&s, 10000, 1, SYN | ACK, 0, 1, 0, false, false);
    segment(&s, 20000, 0, ACK, 1, 1, 0, false, false);
    for (int i = 0; i < 10; i++) {
        segment(&s, 20000 + (finack_time_t)i * 100, 0, ACK, 1 + (uint32_t)i * 1448, 1, 1448,
                false, false);
        if (i % 2) segment(&s, 30000 + (finack_time_t)i * 100, 1, ACK, 1,
                           1 + (uint32_t)(i + 1) * 1448, 0, false, false);
    }
    segment(&s, 40000, 0, FIN | ACK, 14481, 1, 0, false, false);
    struct ladder_options o = {.collapse = true};
    int err = -1;
    char *text = render(&s.l, &o, &err);
    CHECK_EQ(err, 0);
    REQUIRE(text != NULL);
    CHECK(strstr(text, "… 10 data segments, 1..14480 → / 5 ACKs ←") != NULL);
    CHECK(strstr(text, "len=1448") == NULL);
    CHECK(strstr(text, "FIN+ACK seq=14481") != NULL);
    free(text);
    o.collapse = false;
    text = render(&s.l, &o, &err);
    REQUIRE(text != NULL);
    CHECK(strstr(text, "data segments") == NULL);
    CHECK(strstr(text, "seq=13033 ack=1 win=65536 len=1448") != NULL);
    free(text);
    o = (struct ladder_options){.collapse = true, .ascii = true, .absolute = true};
    text = render(&s.l, &o, &err);
    REQUIRE(text != NULL);
    CHECK(strstr(text, "... 10 data segments, 101..14580 -> / 5 ACKs <-") != NULL);
    free(text);
    ladder_free(&s.l);
}

/* Events of a third host and of a second connection are left out. */
static void test_other_connections_ignored(void)
{
    struct script s;
    ladder_init(&s.l);
    s.isn[0] = 1, s.isn[1] = 2;
    segment(&s, 0, 0, SYN, 0, 0, 0, false, false);
    size_t count = s.l.count;
    struct finack_trace_event ev = base(5, 0, FINACK_TRACE_SEG);
    ev.lport = CPORT + 1;
    ev.out = true;
    ev.flags = SYN;
    CHECK_EQ(ladder_add_trace(&s.l, &ev), 0);
    ev = base(6, 0, FINACK_TRACE_STATE);
    ev.host = "third";
    ev.laddr = 0x0a000003u;
    ev.from = "CLOSED", ev.to = "SYN_SENT";
    CHECK_EQ(ladder_add_trace(&s.l, &ev), 0);
    CHECK_EQ(s.l.count, count);
    ladder_free(&s.l);
}

/* Two stacks without a configured name are both "finack": their endpoints
 * tell them apart. */
static void test_unnamed_stacks_told_apart(void)
{
    struct ladder l;
    ladder_init(&l);
    struct finack_trace_event listen = {.kind = FINACK_TRACE_STATE, .host = "finack",
                                        .lport = SPORT, .from = "CLOSED", .to = "LISTEN"};
    CHECK_EQ(ladder_add_trace(&l, &listen), 0);
    struct finack_trace_event syn = base(1, 0, FINACK_TRACE_SEG);
    syn.host = "finack";
    syn.out = true;
    syn.flags = SYN;
    CHECK_EQ(ladder_add_trace(&l, &syn), 0);
    struct finack_trace_event in = base(2, 1, FINACK_TRACE_SEG);
    in.host = "finack";
    in.flags = SYN;
    CHECK_EQ(ladder_add_trace(&l, &in), 0);
    REQUIRE(l.count == 3);
    CHECK_STR(l.endpoint[0], "10.0.0.1:5000");
    CHECK_STR(l.endpoint[1], "10.0.0.2:80");
    CHECK_EQ(l.events[0].side, 1); /* LISTEN: the server's */
    CHECK_EQ(l.events[1].side, 0);
    CHECK_EQ(l.events[2].side, 1);
    ladder_free(&l);
}

/* ladder_set_hosts() fixes the sides: the server stays on the left. */
static void test_pinned_hosts_do_not_swap(void)
{
    struct script s;
    ladder_init(&s.l);
    ladder_set_hosts(&s.l, "server", "client");
    s.isn[0] = 1, s.isn[1] = 2;
    segment(&s, 0, 0, SYN, 0, 0, 0, false, false);
    CHECK_STR(s.l.host[0], "server");
    CHECK_STR(s.l.endpoint[0], "10.0.0.2:80");
    CHECK_EQ(s.l.events[0].side, 1); /* the client's SYN, drawn right */
    ladder_free(&s.l);
}

TEST_MAIN("ladder_text", TEST_CASE(test_client_drawn_left_though_server_seen_first),
          TEST_CASE(test_unicode_matches_fixture), TEST_CASE(test_ascii_matches_fixture),
          TEST_CASE(test_every_line_within_width), TEST_CASE(test_text_width_counts_columns),
          TEST_CASE(test_collapse_folds_steady_state), TEST_CASE(test_other_connections_ignored),
          TEST_CASE(test_unnamed_stacks_told_apart), TEST_CASE(test_pinned_hosts_do_not_swap))
