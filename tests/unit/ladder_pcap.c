/* A capture as a ladder: each end's states inferred from the segments of a
 * pcap written here with finack's own writer (handshake, data, the 4-way
 * close; a simultaneous close; a reset), only the first connection drawn,
 * windows scaled, retransmissions marked, bad files refused in one line. */
#include "ladder/ladder.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "finack/pcap.h"
#include "test.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

#define CLIENT 0xc0a80001u
#define SERVER 0xc0a80002u
#define CPORT 40000
#define SPORT 8080
#define CISN 1000u
#define SISN 4294967000u /* wraps during the connection */

struct capture {
    struct finack_pcap *pcap;
    char path[64];
    finack_time_t t;
};

static void capture_open(struct capture *c)
{
    snprintf(c->path, sizeof c->path, "/tmp/finack-ladder-XXXXXX");
    int fd = mkstemp(c->path);
    REQUIRE(fd >= 0);
    close(fd);
    c->t = 1700000000000000ull; /* wall-clock stamps, as tcpdump writes */
    CHECK_EQ(finack_pcap_open_file(&c->pcap, c->path), 0);
}

/* Bytes of each packet written, as a capture's snap length cuts them; 0
 * for all. */
static size_t snaplen;

/* One TCP segment from the client (from_client) or the server, 1 ms after
 * the one before. */
static void packet(struct capture *c, bool from_client, uint8_t flags, uint32_t seq, uint32_t ack,
                   uint16_t win, size_t len, uint16_t sport_override)
{
    uint8_t buf[1600], payload[1500];
    memset(payload, 'x', sizeof payload);
    uint32_t src = from_client ? CLIENT : SERVER, dst = from_client ? SERVER : CLIENT;
    struct tcp_segment seg = {
        .src_port = sport_override ? sport_override : from_client ? CPORT : SPORT,
        .dst_port = from_client ? SPORT : CPORT,
        .seq = seq, .ack = ack, .flags = flags, .window = win,
        .payload = payload, .payload_len = len,
    };
    if (flags & TCP_FLAG_SYN) {
        seg.opt.has_mss = true, seg.opt.mss = 1460;
        seg.opt.has_wscale = true, seg.opt.wscale = 7;
    }
    int n = wire_tcp_emit(buf + 20, sizeof buf - 20, src, dst, &seg);
    REQUIRE(n > 0);
    struct ipv4_header ip = {.total_len = (uint16_t)(20 + n), .ttl = 64,
                             .protocol = IPPROTO_TCP_, .src = src, .dst = dst};
    REQUIRE(wire_ipv4_emit(buf, 20, &ip) == 20);
    c->t += 1000;
    size_t caplen = snaplen && snaplen < (size_t)(20 + n) ? snaplen : (size_t)(20 + n);
    CHECK_EQ(finack_pcap_write(c->pcap, buf, caplen, c->t), 0);
}

#define C true
#define S false
#define SYN TCP_FLAG_SYN
#define ACK TCP_FLAG_ACK
#define FIN TCP_FLAG_FIN
#define PSH TCP_FLAG_PSH
#define RST TCP_FLAG_RST

static void handshake(struct capture *c)
{
    packet(c, C, SYN, CISN, 0, 65535, 0, 0);
    packet(c, S, SYN | ACK, SISN, CISN + 1, 65535, 0, 0);
    packet(c, C, ACK, CISN + 1, SISN + 1, 502, 0, 0);
}

/* The states of side, in order, as "A B C". */
static void states_of(const struct ladder *l, int side, char *buf, size_t size)
{
    buf[0] = 0;
    for (size_t i = 0; i < l->count; i++) {
        const struct ladder_event *e = &l->events[i];
        if (e->kind != FINACK_TRACE_STATE || e->side != side) continue;
        size_t n = strlen(buf);
        snprintf(buf + n, size - n, "%s%s", n ? " " : "", e->to);
    }
}

static int read_capture(struct capture *c, struct ladder *l, char *err, size_t errlen)
{
    CHECK_EQ(finack_pcap_close(c->pcap), 0);
    ladder_init(l);
    int rc = ladder_read_pcap(l, c->path, err, errlen);
    unlink(c->path);
    return rc;
}

static void test_four_way_close_states(void)
{
    struct capture c;
    capture_open(&c);
    handshake(&c);
    /* an unrelated connection and a retransmission in the middle */
    packet(&c, C, SYN, 5, 0, 65535, 0, CPORT + 1);
    packet(&c, C, PSH | ACK, CISN + 1, SISN + 1, 502, 100, 0);
    packet(&c, C, PSH | ACK, CISN + 1, SISN + 1, 502, 100, 0);
    packet(&c, S, ACK, SISN + 1, CISN + 101, 509, 0, 0);
    packet(&c, C, FIN | ACK, CISN + 101, SISN + 1, 502, 0, 0);
    packet(&c, S, ACK, SISN + 1, CISN + 102, 509, 0, 0);
    packet(&c, S, PSH | ACK, SISN + 1, CISN + 102, 509, 10, 0);
    packet(&c, C, ACK, CISN + 102, SISN + 11, 502, 0, 0);
    packet(&c, S, FIN | ACK, SISN + 11, CISN + 102, 509, 0, 0);
    packet(&c, C, ACK, CISN + 102, SISN + 12, 502, 0, 0);
    /* the next connection on the same 4-tuple is not drawn */
    packet(&c, C, SYN, CISN + 99999, 0, 65535, 0, 0);
    struct ladder l;
    char err[256] = "";
    REQUIRE(read_capture(&c, &l, err, sizeof err) == 0);
    CHECK_STR(l.host[0], "client");
    CHECK_STR(l.host[1], "server");
    CHECK_STR(l.endpoint[0], "192.168.0.1:40000");
    CHECK_STR(l.endpoint[1], "192.168.0.2:8080");
    char states[256];
    states_of(&l, 0, states, sizeof states);
    CHECK_STR(states, "SYN_SENT ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 TIME_WAIT");
    states_of(&l, 1, states, sizeof states);
    CHECK_STR(states, "LISTEN SYN_RCVD ESTABLISHED CLOSE_WAIT LAST_ACK CLOSED");
    CHECK(!l.traced[0] && !l.traced[1]);
    CHECK(l.have_isn[0] && l.have_isn[1]);
    CHECK_U64(l.isn[1], SISN);
    size_t segs = 0, rtx = 0;
    for (size_t i = 0; i < l.count; i++) {
        const struct ladder_event *e = &l.events[i];
        if (e->kind != FINACK_TRACE_SEG) continue;
        segs++;
        CHECK(e->out);
        rtx += e->retransmit;
        /* both SYNs offered wscale 7: windows after the handshake scale */
        if (!(e->flags & TCP_FLAG_SYN)) CHECK(e->win == 502u << 7 || e->win == 509u << 7);
        if (e->flags & TCP_FLAG_SYN) CHECK_EQ(e->win, 65535);
    }
    CHECK_EQ(segs, 12);
    CHECK_EQ(rtx, 1);
    for (size_t i = 0; i < l.count; i++) {
        if (l.events[i].kind != FINACK_TRACE_SEG) continue;
        CHECK(strstr(l.events[i].opts, "mss 1460") != NULL);
        CHECK(strstr(l.events[i].opts, "wscale 7") != NULL);
        break;
    }

    /* Drawn: relative numbers, times from the first packet. */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    REQUIRE(f != NULL);
    struct ladder_options o = {.ascii = true};
    CHECK_EQ(ladder_write_text(&l, &o, f), 0);
    fclose(f);
    CHECK(strstr(text, "    0.000    [SYN_SENT] |-- SYN seq=0 win=65535 -") != NULL);
    CHECK(strstr(text, "SYN+ACK seq=0 ack=1 win=65535 --| [SYN_RCVD]") != NULL);
    CHECK(strstr(text, "rtx PSH+ACK seq=1 ack=1 win=64256 len=100") != NULL);
    CHECK(strstr(text, "[FIN_WAIT_1] |-- FIN+ACK seq=101 ack=1") != NULL);
    CHECK(strstr(text, "| [CLOSE_WAIT]") != NULL);
    CHECK(strstr(text, "[TIME_WAIT] |-- ACK seq=102 ack=12 win=64256 --") != NULL);
    CHECK(strstr(text, "| [CLOSED]") != NULL);
    free(text);
    ladder_free(&l);
}

static void test_simultaneous_close_states(void)
{
    struct capture c;
    capture_open(&c);
    handshake(&c);
    packet(&c, C, FIN | ACK, CISN + 1, SISN + 1, 502, 0, 0);
    packet(&c, S, FIN | ACK, SISN + 1, CISN + 1, 509, 0, 0);
    packet(&c, C, ACK, CISN + 2, SISN + 2, 502, 0, 0);
    packet(&c, S, ACK, SISN + 2, CISN + 2, 509, 0, 0);
    struct ladder l;
    char err[256] = "";
    REQUIRE(read_capture(&c, &l, err, sizeof err) == 0);
    char states[256];
    states_of(&l, 0, states, sizeof states);
    CHECK_STR(states, "SYN_SENT ESTABLISHED FIN_WAIT_1 CLOSING TIME_WAIT");
    states_of(&l, 1, states, sizeof states);
    CHECK_STR(states, "LISTEN SYN_RCVD ESTABLISHED FIN_WAIT_1 CLOSING TIME_WAIT");
    ladder_free(&l);
}

/* When side entered state (the first time); 0 if never. */
static finack_time_t state_time(const struct ladder *l, int side, const char *state)
{
    for (size_t i = 0; i < l->count; i++) {
        const struct ladder_event *e = &l->events[i];
        if (e->kind == FINACK_TRACE_STATE && e->side == side && strcmp(e->to, state) == 0)
            return e->t;
    }
    return 0;
}

/* Seen from one end, the other end's CLOSING and TIME_WAIT are two
 * changes: the later one waits for the next packet, not stacked at one
 * instant. */
static void test_simultaneous_close_changes_apart(void)
{
    struct capture c;
    capture_open(&c);
    handshake(&c);
    packet(&c, C, FIN | ACK, CISN + 1, SISN + 1, 502, 0, 0);
    packet(&c, S, FIN | ACK, SISN + 1, CISN + 1, 509, 0, 0);
    packet(&c, C, ACK, CISN + 2, SISN + 2, 502, 0, 0);
    packet(&c, S, ACK, SISN + 2, CISN + 2, 509, 0, 0);
    struct ladder l;
    char err[256] = "";
    REQUIRE(read_capture(&c, &l, err, sizeof err) == 0);
    CHECK(state_time(&l, 1, "CLOSING") < state_time(&l, 1, "TIME_WAIT"));
    ladder_free(&l);
}

/* The FIN's receiver is in CLOSE_WAIT from the FIN, not from its delayed
 * ACK (Linux holds it ~40 ms). */
static void test_close_wait_at_the_fin(void)
{
    struct capture c;
    capture_open(&c);
    handshake(&c);
    packet(&c, S, FIN | ACK, SISN + 1, CISN + 1, 509, 0, 0);
    finack_time_t fin = c.t;
    c.t += 40000;
    packet(&c, C, ACK, CISN + 1, SISN + 2, 502, 0, 0);
    struct ladder l;
    char err[256] = "";
    REQUIRE(read_capture(&c, &l, err, sizeof err) == 0);
    CHECK_U64(state_time(&l, 0, "CLOSE_WAIT"), fin);
    CHECK_U64(state_time(&l, 1, "FIN_WAIT_2"), c.t);
    ladder_free(&l);
}

/* The last ACK lost: the server sends its FIN again, so it was not CLOSED
 * after the first ACK; it is after the ACK of the retransmitted FIN. */
static void test_lost_last_ack_keeps_last_ack(void)
{
    struct capture c;
    capture_open(&c);
    handshake(&c);
    packet(&c, C, FIN | ACK, CISN + 1, SISN + 1, 502, 0, 0);
    packet(&c, S, ACK, SISN + 1, CISN + 2, 509, 0, 0);
    packet(&c, S, FIN | ACK, SISN + 1, CISN + 2, 509, 0, 0);
    packet(&c, C, ACK, CISN + 2, SISN + 2, 502, 0, 0); /* lost on the way */
    c.t += 200000;
    packet(&c, S, FIN | ACK, SISN + 1, CISN + 2, 509, 0, 0);
    packet(&c, C, ACK, CISN + 2, SISN + 2, 502, 0, 0);
    struct ladder l;
    char err[256] = "";
    REQUIRE(read_capture(&c, &l, err, sizeof err) == 0);
    char states[256];
    states_of(&l, 1, states, sizeof states);
    CHECK_STR(states, "LISTEN SYN_RCVD ESTABLISHED CLOSE_WAIT LAST_ACK CLOSED");
    CHECK_U64(state_time(&l, 1, "CLOSED"), c.t);
    ladder_free(&l);
}

/* The FIN and the ACK of the other's FIN in one segment: FIN_WAIT_1 passes
 * through FIN_WAIT_2 to TIME_WAIT at once. */
static void test_fin_ack_together(void)
{
    struct capture c;
    capture_open(&c);
    handshake(&c);
    packet(&c, C, FIN | ACK, CISN + 1, SISN + 1, 502, 0, 0);
    packet(&c, S, FIN | ACK, SISN + 1, CISN + 2, 509, 0, 0);
    packet(&c, C, ACK, CISN + 2, SISN + 2, 502, 0, 0);
    struct ladder l;
    char err[256] = "";
    REQUIRE(read_capture(&c, &l, err, sizeof err) == 0);
    char states[256];
    states_of(&l, 0, states, sizeof states);
    CHECK_STR(states, "SYN_SENT ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 TIME_WAIT");
    states_of(&l, 1, states, sizeof states);
    CHECK_STR(states, "LISTEN SYN_RCVD ESTABLISHED CLOSE_WAIT LAST_ACK CLOSED");
    ladder_free(&l);
}

static void test_reset_closes_both(void)
{
    struct capture c;
    capture_open(&c);
    handshake(&c);
    packet(&c, S, RST | ACK, SISN + 1, CISN + 1, 0, 0, 0);
    struct ladder l;
    char err[256] = "";
    REQUIRE(read_capture(&c, &l, err, sizeof err) == 0);
    char states[256];
    states_of(&l, 0, states, sizeof states);
    CHECK_STR(states, "SYN_SENT ESTABLISHED CLOSED");
    states_of(&l, 1, states, sizeof states);
    CHECK_STR(states, "LISTEN SYN_RCVD ESTABLISHED CLOSED");
    ladder_free(&l);
}

/* A capture that starts after the SYN: the SYN-ACK's receiver is still the
 * client, on the left; numbers stay absolute where no ISN was seen. */
static void test_capture_from_synack(void)
{
    struct capture c;
    capture_open(&c);
    packet(&c, S, SYN | ACK, SISN, CISN + 1, 65535, 0, 0);
    packet(&c, C, ACK, CISN + 1, SISN + 1, 502, 0, 0);
    struct ladder l;
    char err[256] = "";
    REQUIRE(read_capture(&c, &l, err, sizeof err) == 0);
    CHECK_STR(l.endpoint[0], "192.168.0.1:40000");
    CHECK(!l.have_isn[0] && l.have_isn[1]);
    char states[256];
    states_of(&l, 1, states, sizeof states);
    CHECK_STR(states, "SYN_RCVD ESTABLISHED");
    ladder_free(&l);
}

/* A capture started in the middle: both ends taken as ESTABLISHED, so the
 * close still shows its states; no ISN, so numbers stay absolute. */
static void test_capture_from_the_middle(void)
{
    struct capture c;
    capture_open(&c);
    packet(&c, S, PSH | ACK, SISN + 1, CISN + 1, 509, 10, 0);
    packet(&c, C, FIN | ACK, CISN + 1, SISN + 11, 502, 0, 0);
    packet(&c, S, ACK, SISN + 11, CISN + 2, 509, 0, 0);
    packet(&c, S, FIN | ACK, SISN + 11, CISN + 2, 509, 0, 0);
    packet(&c, C, ACK, CISN + 2, SISN + 12, 502, 0, 0);
    struct ladder l;
    char err[256] = "";
    REQUIRE(read_capture(&c, &l, err, sizeof err) == 0);
    CHECK_STR(l.host[0], "");
    CHECK_STR(l.endpoint[0], "192.168.0.2:8080"); /* the first packet's sender */
    CHECK(!l.have_isn[0] && !l.have_isn[1]);
    char states[256];
    states_of(&l, 0, states, sizeof states);
    CHECK_STR(states, "CLOSE_WAIT LAST_ACK CLOSED");
    states_of(&l, 1, states, sizeof states);
    CHECK_STR(states, "FIN_WAIT_1 FIN_WAIT_2 TIME_WAIT");
    ladder_free(&l);
}

/* tcpdump -s 60: the payload and some options are cut off, the lengths
 * come from the IP header; the window scale is lost with the options. */
static void test_snap_length_cut(void)
{
    struct capture c;
    capture_open(&c);
    snaplen = 60;
    handshake(&c);
    packet(&c, C, PSH | ACK, CISN + 1, SISN + 1, 502, 1200, 0);
    packet(&c, S, ACK, SISN + 1, CISN + 1201, 509, 0, 0);
    snaplen = 0;
    struct ladder l;
    char err[256] = "";
    REQUIRE(read_capture(&c, &l, err, sizeof err) == 0);
    size_t segs = 0;
    for (size_t i = 0; i < l.count; i++) {
        const struct ladder_event *e = &l.events[i];
        if (e->kind != FINACK_TRACE_SEG) continue;
        segs++;
        if (e->flags & TCP_FLAG_PSH) CHECK_EQ(e->len, 1200);
    }
    CHECK_EQ(segs, 5);
    char states[256];
    states_of(&l, 0, states, sizeof states);
    CHECK_STR(states, "SYN_SENT ESTABLISHED");
    ladder_free(&l);
}

static void test_bad_files_refused(void)
{
    struct ladder l;
    ladder_init(&l);
    char err[256] = "";
    CHECK_EQ(ladder_read_pcap(&l, "/nonexistent/x.pcap", err, sizeof err), -ENOENT);
    CHECK_STR(err, "/nonexistent/x.pcap: No such file or directory");

    char path[] = "/tmp/finack-ladder-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, "this is not a capture at all", 28) == 28);
    close(fd);
    CHECK_EQ(ladder_read_pcap(&l, path, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "not a pcap file") != NULL);
    CHECK(strchr(err, '\n') == NULL);

    /* a pcap with no TCP in it */
    struct finack_pcap *p;
    REQUIRE(finack_pcap_open_file(&p, path) == 0);
    uint8_t icmp[28] = {0};
    struct ipv4_header ip = {.total_len = 28, .ttl = 64, .protocol = IPPROTO_ICMP_,
                             .src = CLIENT, .dst = SERVER};
    wire_ipv4_emit(icmp, 20, &ip);
    CHECK_EQ(finack_pcap_write(p, icmp, sizeof icmp, 5), 0);
    CHECK_EQ(finack_pcap_close(p), 0);
    CHECK_EQ(ladder_read_pcap(&l, path, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "no TCP segment") != NULL);
    unlink(path);
    ladder_free(&l);
}

TEST_MAIN("ladder_pcap", TEST_CASE(test_four_way_close_states),
          TEST_CASE(test_simultaneous_close_states), TEST_CASE(test_fin_ack_together),
          TEST_CASE(test_reset_closes_both), TEST_CASE(test_capture_from_synack),
          TEST_CASE(test_capture_from_the_middle), TEST_CASE(test_snap_length_cut),
          TEST_CASE(test_bad_files_refused), TEST_CASE(test_simultaneous_close_changes_apart),
          TEST_CASE(test_close_wait_at_the_fin), TEST_CASE(test_lost_last_ack_keeps_last_ack))
