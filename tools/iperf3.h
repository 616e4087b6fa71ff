/* The iperf3 protocol (esnet/iperf 3.x, TCP tests) over finack's blocking
 * calls, so that a real `iperf3 -c` can measure a finack server and a
 * finack client can measure against `iperf3 -s`.
 *
 * The protocol: a control connection carries a 37-byte cookie, one-byte
 * state changes from the server (PARAM_EXCHANGE, CREATE_STREAMS,
 * TEST_START, TEST_RUNNING, EXCHANGE_RESULTS, DISPLAY_RESULTS) and the
 * client's (TEST_END, IPERF_DONE), and JSON objects behind a 4-byte
 * big-endian length (the parameters, then each side's results). Each data
 * stream is a further connection to the same port that starts with the
 * cookie. finack supports the forward direction (client sends) and
 * -P streams; reverse and bidirectional tests are refused with a message. */
#ifndef FINACK_TOOL_IPERF3_H
#define FINACK_TOOL_IPERF3_H

#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>

#include "finack/loop.h"

#define IPERF3_DEFAULT_PORT 5201
#define IPERF3_MAX_STREAMS 16

/* What one test measured, as the receiving side counted it. */
struct iperf3_result {
    uint64_t bytes;     /* received (server) or sent (client) */
    double seconds;     /* from TEST_START to TEST_END */
    unsigned streams;
};

/* Serve one test on the listening socket lfd; prints iperf3-like lines
 * to report. Returns 0, or a negative errno (-EPROTO: the peer broke the
 * protocol, with a line on stderr saying how). */
int iperf3_serve_one(struct finack_loop *loop, int lfd, FILE *report, struct iperf3_result *r);

/* Run a test against server for `seconds` with `streams` parallel
 * connections, blocks of `block` bytes. */
int iperf3_run_client(struct finack_loop *loop, const struct sockaddr_in *server, double seconds,
                      unsigned streams, uint32_t block, FILE *report, struct iperf3_result *r);

#endif
