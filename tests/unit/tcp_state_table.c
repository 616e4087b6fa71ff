/* The state machine as a table: for every state of RFC 9293 and every event
 * the RFC defines for it — each kind of segment (SYN, SYN-ACK, ACK, data,
 * FIN, RST exact and in-window, old or out-of-window), each user call
 * (open, send, receive, close, abort) and each timeout — the segment finack
 * sends (or that it sends none) and the state it ends in.
 *
 * Each row is a few packetdrill lines run after a prelude that brings one
 * connection into the row's state; `finack script` checks every segment
 * exactly and that nothing else is sent, and the row names the state the
 * connection must end in. Connections here negotiate no options beyond the
 * MSS, so windows are plain and lines stay short. */
#include <string.h>

#include "script/script.h"
#include "test.h"

/* ---- Preludes: one connection brought into each state -------------------- */
/* The script's fd 4 is the connection (3 for an active open). */

#define LISTEN_                                                                    \
    "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"                                \
    "+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n"                                \
    "+0 bind(3, ..., ...) = 0\n"                                                   \
    "+0 listen(3, 1) = 0\n"

#define SYN_SENT_                                                                  \
    "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"                                \
    "+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n"                                \
    "+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)\n"       \
    "+0 > S 0:0(0) win 65535 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>\n"

#define SYN_RCVD_ LISTEN_                                                          \
    "+0 < S 0:0(0) win 65535 <mss 1460>\n"                                         \
    "+0 > S. 0:0(0) ack 1 win 65535 <mss 1460>\n"

#define ESTABLISHED_ SYN_RCVD_                                                     \
    "+.1 < . 1:1(0) ack 1 win 65535\n"                                             \
    "+0 accept(3, ..., ...) = 4\n"                                                 \
    "+0 fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n"

#define FIN_WAIT_1_ ESTABLISHED_                                                   \
    "+0 shutdown(4, SHUT_WR) = 0\n"                                                \
    "+0 > F. 1:1(0) ack 1 win 65535\n"

#define FIN_WAIT_2_ FIN_WAIT_1_ "+.1 < . 1:1(0) ack 2 win 65535\n"

#define CLOSE_WAIT_ ESTABLISHED_                                                   \
    "+.1 < F. 1:1(0) ack 1 win 65535\n"                                            \
    "+0 > . 1:1(0) ack 2 win 65534\n"

#define CLOSING_ FIN_WAIT_1_                                                       \
    "+.05 < F. 1:1(0) ack 1 win 65535\n"                                           \
    "+0 > . 2:2(0) ack 2 win 65534\n"

#define LAST_ACK_ CLOSE_WAIT_                                                      \
    "+0 shutdown(4, SHUT_WR) = 0\n"                                                \
    "+0 > F. 1:1(0) ack 2 win 65534\n"

#define TIME_WAIT_ FIN_WAIT_2_                                                     \
    "+.1 < F. 1:1(0) ack 2 win 65535\n"                                            \
    "+0 > . 2:2(0) ack 2 win 65534\n"

/* TIME_WAIT after close(): no socket holds it, so it is the small record
 * of tcp/timewait.c, which must answer exactly as the TCB does. */
#define TIME_WAIT_RECORD_ TIME_WAIT_ "+0 close(4) = 0\n"

struct row {
    const char *state;   /* where the prelude leaves the connection */
    const char *event;
    const char *prelude;
    const char *lines;   /* the event, then every segment it makes finack send */
    const char *next;    /* the state the connection ends in */
};

static const struct row rows[] = {
    /* ---- CLOSED (no connection: §3.10.7.1) ---- */
    {"CLOSED", "SYN", "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n",
     "+0 < S 0:0(0) win 65535 <mss 1460>\n"
     "+0 > R. 0:0(0) ack 1 win 0\n", ""},
    {"CLOSED", "ACK", "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n",
     "+0 < . 1:1(0) ack 100 win 65535\n"
     "+0 > R 100:100(0) win 0\n", ""},
    {"CLOSED", "data", "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n",
     "+0 < P. 1:11(10) ack 100 win 65535\n"
     "+0 > R 100:100(0) win 0\n", ""},
    {"CLOSED", "RST", "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n",
     "+0 < R. 1:1(0) ack 100 win 65535\n", ""},
    {"CLOSED", "FIN without ACK", "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n",
     "+0 < F 5:5(0) win 65535\n"
     "+0 > R. 0:0(0) ack 6 win 0\n", ""},

    /* ---- LISTEN (§3.10.7.2) ---- */
    {"LISTEN", "SYN", LISTEN_,
     "+0 < S 0:0(0) win 65535 <mss 1460>\n"
     "+0 > S. 0:0(0) ack 1 win 65535 <mss 1460>\n", "SYN_RCVD"},
    {"LISTEN", "ACK", LISTEN_,
     "+0 < . 1:1(0) ack 100 win 65535\n"
     "+0 > R 100:100(0) win 0\n", ""},
    {"LISTEN", "RST", LISTEN_, "+0 < R 1:1(0) win 65535\n", ""},
    {"LISTEN", "FIN", LISTEN_, "+0 < F 1:1(0) win 65535\n", ""},
    {"LISTEN", "data", LISTEN_, "+0 < P 1:11(10) win 65535\n", ""},
    {"LISTEN", "SYN-ACK", LISTEN_,
     "+0 < S. 0:0(0) ack 100 win 65535 <mss 1460>\n"
     "+0 > R 100:100(0) win 0\n", ""},
    {"LISTEN", "user send", LISTEN_,
     "+0 write(3, ..., 10) = -1 ENOTCONN (Transport endpoint is not connected)\n", ""},
    {"LISTEN", "user close", LISTEN_, "+0 close(3) = 0\n", ""},

    /* ---- SYN_SENT (§3.10.7.3) ---- */
    {"SYN_SENT", "SYN-ACK", SYN_SENT_,
     "+.1 < S. 0:0(0) ack 1 win 65535 <mss 1460>\n"
     "+0 > . 1:1(0) ack 1 win 65535\n", "ESTABLISHED"},
    {"SYN_SENT", "SYN (simultaneous open)", SYN_SENT_,
     "+.1 < S 0:0(0) win 65535 <mss 1460>\n"
     "+0 > S. 0:0(0) ack 1 win 65535 <mss 1460>\n", "SYN_RCVD"},
    {"SYN_SENT", "SYN-ACK with a bad ACK", SYN_SENT_,
     "+.1 < S. 0:0(0) ack 100 win 65535 <mss 1460>\n"
     "+0 > R 100:100(0) win 0\n", "SYN_SENT"},
    {"SYN_SENT", "RST with acceptable ACK", SYN_SENT_,
     "+.1 < R. 0:0(0) ack 1 win 0\n"
     "+0 read(3, ..., 10) = -1 ECONNREFUSED (Connection refused)\n", "CLOSED"},
    {"SYN_SENT", "RST without ACK", SYN_SENT_, "+.1 < R 0:0(0) win 0\n", "SYN_SENT"},
    {"SYN_SENT", "ACK only", SYN_SENT_,
     "+.1 < . 0:0(0) ack 1 win 65535\n", "SYN_SENT"},
    {"SYN_SENT", "timeout", SYN_SENT_,
     "+1 > S 0:0(0) win 65535 <mss 1460,sackOK,TS val 1100 ecr 0,nop,wscale 7>\n",
     "SYN_SENT"},
    {"SYN_SENT", "user send", SYN_SENT_,
     "+0 write(3, ..., 10) = -1 EAGAIN (Resource temporarily unavailable)\n", "SYN_SENT"},
    {"SYN_SENT", "user close", SYN_SENT_, "+0 close(3) = 0\n", "CLOSED"},

    /* ---- SYN_RCVD (§3.10.7.4) ---- */
    {"SYN_RCVD", "ACK", SYN_RCVD_, "+.1 < . 1:1(0) ack 1 win 65535\n", "ESTABLISHED"},
    {"SYN_RCVD", "ACK with data", SYN_RCVD_,
     "+.1 < P. 1:11(10) ack 1 win 65535\n"
     "+0 > . 1:1(0) ack 11 win 65525\n", "ESTABLISHED"},
    {"SYN_RCVD", "ACK with FIN", SYN_RCVD_,
     "+.1 < F. 1:1(0) ack 1 win 65535\n"
     "+0 > . 1:1(0) ack 2 win 65534\n", "CLOSE_WAIT"},
    {"SYN_RCVD", "bad ACK", SYN_RCVD_,
     "+.1 < . 1:1(0) ack 100 win 65535\n"
     "+0 > R 100:100(0) win 0\n", "SYN_RCVD"},
    {"SYN_RCVD", "RST", SYN_RCVD_, "+.1 < R 1:1(0) win 0\n", "CLOSED"},
    {"SYN_RCVD", "retransmitted SYN", SYN_RCVD_,
     "+.1 < S 0:0(0) win 65535 <mss 1460>\n"
     "+0 > S. 0:0(0) ack 1 win 65535 <mss 1460>\n", "SYN_RCVD"},
    {"SYN_RCVD", "timeout", SYN_RCVD_, "+1 > S. 0:0(0) ack 1 win 65535 <mss 1460>\n",
     "SYN_RCVD"},

    /* ---- ESTABLISHED ---- */
    {"ESTABLISHED", "data", ESTABLISHED_,
     "+.1 < P. 1:11(10) ack 1 win 65535\n"
     "+0 > . 1:1(0) ack 11 win 65525\n", "ESTABLISHED"},
    {"ESTABLISHED", "old data (duplicate)", ESTABLISHED_,
     "+.1 < P. 1:11(10) ack 1 win 65535\n"
     "+0 > . 1:1(0) ack 11 win 65525\n"
     "+.1 < P. 1:11(10) ack 1 win 65535\n"
     "+0 > . 1:1(0) ack 11 win 65525\n", "ESTABLISHED"},
    {"ESTABLISHED", "segment beyond the window", ESTABLISHED_,
     "+.1 < P. 70000:70010(10) ack 1 win 65535\n"
     "+0 > . 1:1(0) ack 1 win 65535\n", "ESTABLISHED"},
    {"ESTABLISHED", "ACK of unsent data", ESTABLISHED_,
     "+.1 < . 1:1(0) ack 100 win 65535\n"
     "+0 > . 1:1(0) ack 1 win 65535\n", "ESTABLISHED"},
    {"ESTABLISHED", "FIN", ESTABLISHED_,
     "+.1 < F. 1:1(0) ack 1 win 65535\n"
     "+0 > . 1:1(0) ack 2 win 65534\n", "CLOSE_WAIT"},
    {"ESTABLISHED", "RST at RCV.NXT", ESTABLISHED_,
     "+.1 < R. 1:1(0) ack 1 win 0\n"
     "+0 read(4, ..., 10) = -1 ECONNRESET (Connection reset by peer)\n", "CLOSED"},
    {"ESTABLISHED", "RST in window", ESTABLISHED_,
     "+.1 < R. 100:100(0) ack 1 win 0\n"
     "+0 > . 1:1(0) ack 1 win 65535\n", "ESTABLISHED"},
    {"ESTABLISHED", "RST out of window", ESTABLISHED_, "+.1 < R. 90000:90000(0) ack 1 win 0\n",
     "ESTABLISHED"},
    {"ESTABLISHED", "SYN", ESTABLISHED_,
     "+.1 < S 0:0(0) win 65535 <mss 1460>\n"
     "+0 > . 1:1(0) ack 1 win 65535\n", "ESTABLISHED"},
    {"ESTABLISHED", "segment without ACK", ESTABLISHED_, "+.1 < P 1:11(10) win 65535\n",
     "ESTABLISHED"},
    {"ESTABLISHED", "user send", ESTABLISHED_,
     "+0 write(4, ..., 10) = 10\n"
     "+0 > P. 1:11(10) ack 1 win 65535\n", "ESTABLISHED"},
    {"ESTABLISHED", "ACK of data", ESTABLISHED_,
     "+0 write(4, ..., 10) = 10\n"
     "+0 > P. 1:11(10) ack 1 win 65535\n"
     "+.1 < . 1:1(0) ack 11 win 65535\n", "ESTABLISHED"},
    {"ESTABLISHED", "retransmission timeout", ESTABLISHED_,
     "+0 write(4, ..., 10) = 10\n"
     "+0 > P. 1:11(10) ack 1 win 65535\n"
     "+.3 > P. 1:11(10) ack 1 win 65535\n", "ESTABLISHED"}, /* RTO: 100 ms RTT + 200 ms */
    {"ESTABLISHED", "user receive, nothing there", ESTABLISHED_,
     "+0 read(4, ..., 10) = -1 EAGAIN (Resource temporarily unavailable)\n", "ESTABLISHED"},
    {"ESTABLISHED", "user close", ESTABLISHED_,
     "+0 close(4) = 0\n"
     "+0 > F. 1:1(0) ack 1 win 65535\n", "FIN_WAIT_1"},
    {"ESTABLISHED", "user abort (SO_LINGER 0)", ESTABLISHED_,
     "+0 setsockopt(4, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) = 0\n"
     "+0 close(4) = 0\n"
     "+0 > R. 1:1(0) ack 1 win 65535\n", "CLOSED"},

    /* ---- FIN_WAIT_1 ---- */
    {"FIN_WAIT_1", "ACK of FIN", FIN_WAIT_1_, "+.1 < . 1:1(0) ack 2 win 65535\n", "FIN_WAIT_2"},
    {"FIN_WAIT_1", "FIN (simultaneous close)", FIN_WAIT_1_,
     "+.1 < F. 1:1(0) ack 1 win 65535\n"
     "+0 > . 2:2(0) ack 2 win 65534\n", "CLOSING"},
    {"FIN_WAIT_1", "FIN with ACK of FIN", FIN_WAIT_1_,
     "+.1 < F. 1:1(0) ack 2 win 65535\n"
     "+0 > . 2:2(0) ack 2 win 65534\n", "TIME_WAIT"},
    {"FIN_WAIT_1", "data", FIN_WAIT_1_,
     "+.1 < P. 1:11(10) ack 1 win 65535\n"
     "+0 > . 2:2(0) ack 11 win 65525\n", "FIN_WAIT_1"},
    {"FIN_WAIT_1", "RST at RCV.NXT", FIN_WAIT_1_, "+.1 < R. 1:1(0) ack 1 win 0\n", "CLOSED"},
    {"FIN_WAIT_1", "RST in window", FIN_WAIT_1_,
     "+.1 < R. 100:100(0) ack 1 win 0\n"
     "+0 > . 2:2(0) ack 1 win 65535\n", "FIN_WAIT_1"},
    {"FIN_WAIT_1", "SYN", FIN_WAIT_1_,
     "+.1 < S 0:0(0) win 65535 <mss 1460>\n"
     "+0 > . 2:2(0) ack 1 win 65535\n", "FIN_WAIT_1"},
    {"FIN_WAIT_1", "FIN retransmission timeout", FIN_WAIT_1_,
     "+.3 > F. 1:1(0) ack 1 win 65535\n", "FIN_WAIT_1"},
    {"FIN_WAIT_1", "user send", FIN_WAIT_1_,
     "+0 write(4, ..., 10) = -1 EPIPE (Broken pipe)\n", "FIN_WAIT_1"},

    /* ---- FIN_WAIT_2 ---- */
    {"FIN_WAIT_2", "FIN", FIN_WAIT_2_,
     "+.1 < F. 1:1(0) ack 2 win 65535\n"
     "+0 > . 2:2(0) ack 2 win 65534\n", "TIME_WAIT"},
    {"FIN_WAIT_2", "data", FIN_WAIT_2_,
     "+.1 < P. 1:11(10) ack 2 win 65535\n"
     "+0 > . 2:2(0) ack 11 win 65525\n", "FIN_WAIT_2"},
    {"FIN_WAIT_2", "data and FIN", FIN_WAIT_2_,
     "+.1 < FP. 1:11(10) ack 2 win 65535\n"
     "+0 > . 2:2(0) ack 12 win 65524\n", "TIME_WAIT"},
    {"FIN_WAIT_2", "RST at RCV.NXT", FIN_WAIT_2_, "+.1 < R. 1:1(0) ack 2 win 0\n", "CLOSED"},
    {"FIN_WAIT_2", "RST in window", FIN_WAIT_2_,
     "+.1 < R. 100:100(0) ack 2 win 0\n"
     "+0 > . 2:2(0) ack 1 win 65535\n", "FIN_WAIT_2"},
    {"FIN_WAIT_2", "old segment", FIN_WAIT_2_,
     "+.1 < . 0:0(0) ack 2 win 65535\n"
     "+0 > . 2:2(0) ack 1 win 65535\n", "FIN_WAIT_2"},
    {"FIN_WAIT_2", "no timeout while the socket is open", FIN_WAIT_2_, "+600 read(4, ..., 10) = -1 EAGAIN (Resource temporarily unavailable)\n",
     "FIN_WAIT_2"},
    {"FIN_WAIT_2", "orphan timeout (tcp_fin_timeout)", FIN_WAIT_2_, "+0 close(4) = 0\n"
     "+60 < . 1:1(0) ack 2 win 65535\n"
     "+0 > R 2:2(0) win 0\n", "CLOSED"},

    /* ---- CLOSE_WAIT ---- */
    {"CLOSE_WAIT", "user send", CLOSE_WAIT_,
     "+0 write(4, ..., 10) = 10\n"
     "+0 > P. 1:11(10) ack 2 win 65534\n", "CLOSE_WAIT"},
    {"CLOSE_WAIT", "user receive (EOF)", CLOSE_WAIT_, "+0 read(4, ..., 10) = 0\n", "CLOSE_WAIT"},
    {"CLOSE_WAIT", "lasts while the app does not close", CLOSE_WAIT_,
     "+600 read(4, ..., 10) = 0\n", "CLOSE_WAIT"},
    {"CLOSE_WAIT", "user close", CLOSE_WAIT_,
     "+0 close(4) = 0\n"
     "+0 > F. 1:1(0) ack 2 win 65534\n", "LAST_ACK"},
    {"CLOSE_WAIT", "retransmitted FIN", CLOSE_WAIT_,
     "+.1 < F. 1:1(0) ack 1 win 65535\n"
     "+0 > . 1:1(0) ack 2 win 65534\n", "CLOSE_WAIT"},
    {"CLOSE_WAIT", "RST at RCV.NXT", CLOSE_WAIT_, "+.1 < R. 2:2(0) ack 1 win 0\n", "CLOSED"},
    {"CLOSE_WAIT", "RST in window", CLOSE_WAIT_,
     "+.1 < R. 100:100(0) ack 1 win 0\n"
     "+0 > . 1:1(0) ack 2 win 65534\n", "CLOSE_WAIT"},
    {"CLOSE_WAIT", "SYN", CLOSE_WAIT_,
     "+.1 < S 0:0(0) win 65535 <mss 1460>\n"
     "+0 > . 1:1(0) ack 2 win 65534\n", "CLOSE_WAIT"},

    /* ---- CLOSING ---- */
    {"CLOSING", "ACK of FIN", CLOSING_, "+.1 < . 2:2(0) ack 2 win 65535\n", "TIME_WAIT"},
    {"CLOSING", "FIN retransmission timeout", CLOSING_,
     "+.25 > F. 1:1(0) ack 2 win 65534\n", "CLOSING"},
    {"CLOSING", "RST at RCV.NXT", CLOSING_, "+.1 < R. 2:2(0) ack 1 win 0\n", "CLOSED"},
    {"CLOSING", "retransmitted FIN", CLOSING_,
     "+.1 < F. 1:1(0) ack 1 win 65535\n"
     "+0 > . 2:2(0) ack 2 win 65534\n", "CLOSING"},

    /* ---- LAST_ACK ---- */
    {"LAST_ACK", "ACK of FIN", LAST_ACK_, "+.1 < . 2:2(0) ack 2 win 65535\n", "CLOSED"},
    {"LAST_ACK", "FIN retransmission timeout", LAST_ACK_,
     "+.3 > F. 1:1(0) ack 2 win 65534\n", "LAST_ACK"},
    {"LAST_ACK", "RST at RCV.NXT", LAST_ACK_, "+.1 < R. 2:2(0) ack 1 win 0\n", "CLOSED"},
    {"LAST_ACK", "retransmitted FIN", LAST_ACK_,
     "+.1 < F. 1:1(0) ack 1 win 65535\n"
     "+0 > . 2:2(0) ack 2 win 65534\n", "LAST_ACK"},
    {"LAST_ACK", "segment after CLOSED", LAST_ACK_,
     "+.1 < . 2:2(0) ack 2 win 65535\n"
     "+.1 < . 2:2(0) ack 2 win 65535\n"
     "+0 > R 2:2(0) win 0\n", "CLOSED"},

    /* ---- TIME_WAIT ---- */
    {"TIME_WAIT", "2·MSL expiry", TIME_WAIT_, "+120 < . 2:2(0) ack 2 win 65535\n"
     "+0 > R 2:2(0) win 0\n", "CLOSED"},
    {"TIME_WAIT", "still there just before 2·MSL", TIME_WAIT_,
     "+119.9 < . 2:2(0) ack 2 win 65535\n", "TIME_WAIT"},
    {"TIME_WAIT", "retransmitted FIN (re-ACK, restart 2·MSL)", TIME_WAIT_,
     "+60 < F. 1:1(0) ack 2 win 65535\n"
     "+0 > . 2:2(0) ack 2 win 65534\n"
     "+119.9 < . 2:2(0) ack 2 win 65535\n", "TIME_WAIT"},
    {"TIME_WAIT", "RST (RFC 1337)", TIME_WAIT_, "+.1 < R. 2:2(0) ack 2 win 0\n", "TIME_WAIT"},
    /* After the peer's FIN its text is ignored (§3.10.7.4, seventh). */
    {"TIME_WAIT", "data", TIME_WAIT_, "+.1 < P. 2:12(10) ack 2 win 65535\n", "TIME_WAIT"},
    {"CLOSE_WAIT", "data", CLOSE_WAIT_, "+.1 < P. 2:12(10) ack 1 win 65535\n", "CLOSE_WAIT"},
    {"TIME_WAIT", "SYN with a higher sequence (RFC 6191)", TIME_WAIT_,
     "+.1 < S 1000:1000(0) win 65535 <mss 1460>\n"
     "+0 > S. 0:0(0) ack 1001 win 65535 <mss 1460>\n", "SYN_RCVD"},
    {"TIME_WAIT", "old SYN", TIME_WAIT_,
     "+.1 < S 0:0(0) win 65535 <mss 1460>\n"
     "+0 > . 2:2(0) ack 2 win 65534\n", "TIME_WAIT"},

    /* ---- TIME_WAIT as a record (the socket closed) ---- */
    {"TIME_WAIT record", "2·MSL expiry", TIME_WAIT_RECORD_,
     "+120 < . 2:2(0) ack 2 win 65535\n"
     "+0 > R 2:2(0) win 0\n", "CLOSED"},
    {"TIME_WAIT record", "still there just before 2·MSL", TIME_WAIT_RECORD_,
     "+119.9 < . 2:2(0) ack 2 win 65535\n", "TIME_WAIT"},
    {"TIME_WAIT record", "retransmitted FIN (re-ACK, restart 2·MSL)", TIME_WAIT_RECORD_,
     "+60 < F. 1:1(0) ack 2 win 65535\n"
     "+0 > . 2:2(0) ack 2 win 65534\n"
     "+119.9 < . 2:2(0) ack 2 win 65535\n"
     "+.2 < . 2:2(0) ack 2 win 65535\n"
     "+0 > R 2:2(0) win 0\n", "CLOSED"},
    {"TIME_WAIT record", "RST (RFC 1337)", TIME_WAIT_RECORD_,
     "+.1 < R. 2:2(0) ack 2 win 0\n", "TIME_WAIT"},
    {"TIME_WAIT record", "RST in window (RFC 5961)", TIME_WAIT_RECORD_,
     "+.1 < R. 100:100(0) ack 2 win 0\n"
     "+0 > . 2:2(0) ack 2 win 65534\n", "TIME_WAIT"},
    {"TIME_WAIT record", "data", TIME_WAIT_RECORD_, "+.1 < P. 2:12(10) ack 2 win 65535\n",
     "TIME_WAIT"},
    {"TIME_WAIT record", "ACK of data never sent", TIME_WAIT_RECORD_,
     "+.1 < . 2:2(0) ack 50 win 65535\n"
     "+0 > . 2:2(0) ack 2 win 65534\n", "TIME_WAIT"},
    {"TIME_WAIT record", "SYN with a higher sequence (RFC 6191)", TIME_WAIT_RECORD_,
     "+.1 < S 1000:1000(0) win 65535 <mss 1460>\n"
     "+0 > S. 0:0(0) ack 1001 win 65535 <mss 1460>\n", "SYN_RCVD"},
    {"TIME_WAIT record", "old SYN", TIME_WAIT_RECORD_,
     "+.1 < S 0:0(0) win 65535 <mss 1460>\n"
     "+0 > . 2:2(0) ack 2 win 65534\n", "TIME_WAIT"},
};

#define ROW_COUNT (sizeof rows / sizeof rows[0])

static enum script_result run(const char *text, char *why, size_t n, char *state, size_t sn)
{
    struct script s;
    char err[256];
    if (script_parse("row.pkt", text, strlen(text), &s, err, sizeof err) < 0) {
        snprintf(why, n, "parse: %s", err);
        return SCRIPT_FAIL;
    }
    struct script_options o;
    script_options_init(&o);
    o.final_state = state;
    o.final_state_len = sn;
    enum script_result r = script_run(&s, &o, why, n);
    script_free(&s);
    return r;
}

/* Every prelude reaches the state it is named after. */
static void preludes_reach_their_state(void)
{
    const struct {
        const char *text, *state;
    } p[] = {{SYN_SENT_, "SYN_SENT"},     {SYN_RCVD_, "SYN_RCVD"},
             {ESTABLISHED_, "ESTABLISHED"}, {FIN_WAIT_1_, "FIN_WAIT_1"},
             {FIN_WAIT_2_, "FIN_WAIT_2"},   {CLOSE_WAIT_, "CLOSE_WAIT"},
             {CLOSING_, "CLOSING"},         {LAST_ACK_, "LAST_ACK"},
             {TIME_WAIT_, "TIME_WAIT"}};
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) {
        char why[512], state[32];
        CHECK_EQ(run(p[i].text, why, sizeof why, state, sizeof state), SCRIPT_PASS);
        CHECK_STR(why, "");
        CHECK_STR(state, p[i].state);
    }
}

static void every_row(void)
{
    static char text[8192];
    for (size_t i = 0; i < ROW_COUNT; i++) {
        const struct row *r = &rows[i];
        snprintf(text, sizeof text, "%s%s", r->prelude, r->lines);
        char why[512] = "", state[32] = "";
        enum script_result res = run(text, why, sizeof why, state, sizeof state);
        if (res != SCRIPT_PASS || strcmp(state, r->next) != 0)
            test_fail(__FILE__, __LINE__, "%s + %s: %s%s (state %s, expected %s)", r->state,
                      r->event, res == SCRIPT_PASS ? "passed" : "failed: ", why,
                      state[0] ? state : "none", r->next[0] ? r->next : "none");
    }
}

/* The table covers every state (CLOSED is the row set without a prelude
 * connection) and for each synchronized state at least the RST, FIN and
 * timeout events. */
static void table_covers_every_state(void)
{
    static const char *const states[] = {"CLOSED",     "LISTEN",     "SYN_SENT",   "SYN_RCVD",
                                         "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT",
                                         "CLOSING",    "LAST_ACK",   "TIME_WAIT"};
    for (size_t s = 0; s < sizeof states / sizeof states[0]; s++) {
        unsigned n = 0;
        for (size_t i = 0; i < ROW_COUNT; i++) n += strcmp(rows[i].state, states[s]) == 0;
        CHECK(n >= 4);
    }
}

TEST_MAIN("tcp_state_table", TEST_CASE(preludes_reach_their_state), TEST_CASE(every_row),
          TEST_CASE(table_covers_every_state))
