/* The text forms of trace events (include/finack/trace.h, docs/TRACE.md):
 * tcpdump's flag letters and option spelling, and one line of JSON per
 * event, byte for byte, for each kind of event. */
#include <string.h>

#include "finack/trace.h"
#include "test.h"

#define A_ADDR 0x0a000001u /* 10.0.0.1 */
#define B_ADDR 0x0a000002u /* 10.0.0.2 */

static struct finack_trace_event base(enum finack_trace_kind kind)
{
    return (struct finack_trace_event){.t = 1500, .kind = kind, .host = "A", .laddr = A_ADDR,
                                       .raddr = B_ADDR, .lport = 5000, .rport = 80};
}

static const char *json(const struct finack_trace_event *ev)
{
    static char buf[1024];
    int n = finack_trace_format_json(ev, buf, sizeof buf);
    if (n < 0 || (size_t)n != strlen(buf)) return "(length mismatch)";
    return buf;
}

static void test_flags_in_tcpdump_order(void)
{
    char buf[9];
    CHECK_STR(finack_trace_flags(FINACK_TCP_SYN, buf), "S");
    CHECK_STR(finack_trace_flags(FINACK_TCP_SYN | FINACK_TCP_ACK, buf), "SA");
    CHECK_STR(finack_trace_flags(FINACK_TCP_ACK, buf), "A");
    CHECK_STR(finack_trace_flags(FINACK_TCP_PSH | FINACK_TCP_ACK, buf), "PA");
    CHECK_STR(finack_trace_flags(FINACK_TCP_FIN | FINACK_TCP_ACK, buf), "FA");
    CHECK_STR(finack_trace_flags(FINACK_TCP_FIN | FINACK_TCP_PSH | FINACK_TCP_ACK, buf), "FPA");
    CHECK_STR(finack_trace_flags(FINACK_TCP_RST, buf), "R");
    CHECK_STR(finack_trace_flags(FINACK_TCP_RST | FINACK_TCP_ACK, buf), "RA");
    CHECK_STR(finack_trace_flags(0xff, buf), "FSRPAUEC");
    CHECK_STR(finack_trace_flags(0, buf), "");
}

static void test_options_in_tcpdump_spelling(void)
{
    /* Linux's SYN layout: mss, sackOK, TS, nop, wscale. */
    const uint8_t syn[] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7};
    char buf[256];
    int n = finack_trace_options(syn, sizeof syn, buf, sizeof buf);
    CHECK_STR(buf, "mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7");
    CHECK_EQ(n, (int)strlen(buf));

    const uint8_t sack[] = {1, 1, 5, 18, 0, 0, 0x03, 0xe8, 0, 0, 0x07, 0xd0,
                            0, 0, 0x0b, 0xb8, 0, 0, 0x0f, 0xa0};
    finack_trace_options(sack, sizeof sack, buf, sizeof buf);
    CHECK_STR(buf, "nop,nop,sack 2 {1000:2000}{3000:4000}");

    /* An unknown kind by its number, then EOL ends the list (padding after). */
    const uint8_t odd[] = {30, 4, 0xaa, 0xbb, 1, 0, 0, 0};
    finack_trace_options(odd, sizeof odd, buf, sizeof buf);
    CHECK_STR(buf, "opt-30,nop,eol");

    /* Nothing, and malformed lengths (the function is public: any bytes). */
    CHECK_EQ(finack_trace_options(NULL, 0, buf, sizeof buf), 0);
    CHECK_STR(buf, "");
    const uint8_t bad[] = {1, 2, 9};
    finack_trace_options(bad, sizeof bad, buf, sizeof buf);
    CHECK_STR(buf, "nop,[bad opt]");
    const uint8_t short_mss[] = {2, 3, 5};
    finack_trace_options(short_mss, sizeof short_mss, buf, sizeof buf);
    CHECK_STR(buf, "[bad opt]");
}

/* As snprintf: the full length whatever the room, never past size. */
static void test_options_truncate_as_snprintf(void)
{
    const uint8_t mss[] = {2, 4, 0x05, 0xb4};
    char buf[6];
    memset(buf, 'x', sizeof buf);
    CHECK_EQ(finack_trace_options(mss, sizeof mss, buf, sizeof buf), 8);
    CHECK_STR(buf, "mss 1");
    CHECK_EQ(finack_trace_options(mss, sizeof mss, NULL, 0), 8);
}

static void test_json_state(void)
{
    struct finack_trace_event ev = base(FINACK_TRACE_STATE);
    ev.from = "SYN_SENT";
    ev.to = "ESTABLISHED";
    CHECK_STR(json(&ev), "{\"t_us\":1500,\"host\":\"A\",\"conn\":\"10.0.0.1:5000-10.0.0.2:80\","
                         "\"ev\":\"state\",\"from\":\"SYN_SENT\",\"to\":\"ESTABLISHED\"}\n");
}

static void test_json_segment(void)
{
    const uint8_t opts[] = {1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0, 3};
    struct finack_trace_event ev = base(FINACK_TRACE_SEG);
    ev.out = true;
    ev.flags = FINACK_TCP_ACK;
    ev.seq = 1001;
    ev.ack = 2001;
    ev.win = 502;
    ev.win_scaled = 64256;
    ev.len = 0;
    ev.opts = opts;
    ev.opts_len = sizeof opts;
    CHECK_STR(json(&ev), "{\"t_us\":1500,\"host\":\"A\",\"conn\":\"10.0.0.1:5000-10.0.0.2:80\","
                         "\"ev\":\"seg\",\"dir\":\"out\",\"flags\":\"A\",\"seq\":1001,"
                         "\"ack\":2001,\"win\":64256,\"win_raw\":502,\"len\":0,"
                         "\"opts\":\"nop,nop,TS val 7 ecr 3\"}\n");

    /* A retransmission received: "rtx" only on what we send. An incoming
     * segment with no options has "opts":"". */
    ev.out = false;
    ev.flags = FINACK_TCP_PSH | FINACK_TCP_ACK;
    ev.seq = 4294967295u;
    ev.len = 1448;
    ev.opts = NULL;
    ev.opts_len = 0;
    ev.retransmit = true;
    CHECK_STR(json(&ev), "{\"t_us\":1500,\"host\":\"A\",\"conn\":\"10.0.0.1:5000-10.0.0.2:80\","
                         "\"ev\":\"seg\",\"dir\":\"in\",\"flags\":\"PA\",\"seq\":4294967295,"
                         "\"ack\":2001,\"win\":64256,\"win_raw\":502,\"len\":1448,"
                         "\"opts\":\"\",\"rtx\":true}\n");
}

static void test_json_drop_before_tcp_has_zero_tuple(void)
{
    struct finack_trace_event ev = {.t = 7, .kind = FINACK_TRACE_DROP, .host = "B",
                                    .reason = FINACK_DROP_TCP_BAD_CHECKSUM};
    CHECK_STR(json(&ev), "{\"t_us\":7,\"host\":\"B\",\"conn\":\"0.0.0.0:0-0.0.0.0:0\","
                         "\"ev\":\"drop\",\"reason\":\"TCP_BAD_CHECKSUM\"}\n");
}

static void test_json_timer(void)
{
    struct finack_trace_event ev = base(FINACK_TRACE_TIMER);
    ev.t = 1201500;
    ev.timer = "RTO";
    CHECK_STR(json(&ev), "{\"t_us\":1201500,\"host\":\"A\",\"conn\":\"10.0.0.1:5000-10.0.0.2:80\","
                         "\"ev\":\"timer\",\"timer\":\"RTO\"}\n");
}

/* Host names are the application's: quotes, backslashes and control
 * characters are escaped (RFC 8259 §7); a NULL host is "". */
static void test_json_escapes_strings(void)
{
    struct finack_trace_event ev = base(FINACK_TRACE_TIMER);
    ev.t = 0;
    ev.host = "a\"b\\c\nd\x01";
    ev.timer = "DELACK";
    CHECK_STR(json(&ev), "{\"t_us\":0,\"host\":\"a\\\"b\\\\c\\nd\\u0001\","
                         "\"conn\":\"10.0.0.1:5000-10.0.0.2:80\",\"ev\":\"timer\","
                         "\"timer\":\"DELACK\"}\n");
    ev.host = NULL;
    CHECK_STR(json(&ev), "{\"t_us\":0,\"host\":\"\",\"conn\":\"10.0.0.1:5000-10.0.0.2:80\","
                         "\"ev\":\"timer\",\"timer\":\"DELACK\"}\n");
}

static void test_json_truncates_as_snprintf(void)
{
    struct finack_trace_event ev = base(FINACK_TRACE_STATE);
    ev.from = "LISTEN";
    ev.to = "CLOSED";
    char full[512], small[20];
    int n = finack_trace_format_json(&ev, full, sizeof full);
    memset(small, 'x', sizeof small);
    CHECK_EQ(finack_trace_format_json(&ev, small, sizeof small), n);
    CHECK_EQ(strlen(small), sizeof small - 1);
    CHECK(memcmp(small, full, sizeof small - 1) == 0);
    CHECK_EQ(finack_trace_format_json(&ev, NULL, 0), n);
}

TEST_MAIN("trace", TEST_CASE(test_flags_in_tcpdump_order),
          TEST_CASE(test_options_in_tcpdump_spelling),
          TEST_CASE(test_options_truncate_as_snprintf), TEST_CASE(test_json_state),
          TEST_CASE(test_json_segment), TEST_CASE(test_json_drop_before_tcp_has_zero_tuple),
          TEST_CASE(test_json_timer), TEST_CASE(test_json_escapes_strings),
          TEST_CASE(test_json_truncates_as_snprintf))
