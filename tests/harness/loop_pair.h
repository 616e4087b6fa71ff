/* Two stacks behind run loops, for the tests that use real threads and
 * real time: A (10.0.0.1/24) and B (10.0.0.2/24), each run by a loop
 * (finack/loop.h) on one end of a datagram socketpair, optionally with an
 * impairment (finack/impair.h) between B and its end. */
#ifndef FINACK_TEST_LOOP_PAIR_H
#define FINACK_TEST_LOOP_PAIR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "finack/impair.h"
#include "finack/loop.h"
#include "finack/runtime.h"

#define ADDR_A 0x0a000001u /* 10.0.0.1 */
#define ADDR_B 0x0a000002u /* 10.0.0.2 */
#define GUARD_MS 10000     /* the longest a guarded call may wait */

struct loop_pair {
    struct finack_dgram_link *la, *lb;
    struct finack_impair *imp; /* NULL unless opened impaired */
    int fd_b;                  /* B's end of the socketpair, read through imp */
    struct finack_stack *a, *b;
    struct finack_loop *loop_a, *loop_b;
};

/* Each opens the whole pair or nothing (false, *p left closed). The pair
 * must stay where it is while open: the impairment reads through &p->fd_b. */
bool loop_pair_open(struct loop_pair *p);
bool loop_pair_open_impaired(struct loop_pair *p, const struct finack_impair_config *cfg);
/* Stops the loops and frees everything; a closed pair is left zeroed. */
void loop_pair_close(struct loop_pair *p);

/* A stack named name with one interface, addr/24 on link; NULL on failure. */
struct finack_stack *loop_new_stack(const char *name, struct finack_link *link, uint32_t addr);

struct sockaddr_in sin_of(uint32_t addr, uint16_t port);

int loop_set_timeo(struct finack_loop *loop, int fd, int name, long ms);
/* Bounds every wait on fd by GUARD_MS (SO_RCVTIMEO and SO_SNDTIMEO), so a
 * lost wake-up fails a check instead of hanging the test. Returns fd. */
int loop_guarded(struct finack_loop *loop, int fd);
/* A guarded TCP socket; type adds SOCK_NONBLOCK and the like. */
int loop_tcp_socket(struct finack_loop *loop, int type);

/* Milliseconds of the real clock since t0. */
double ms_since(finack_time_t t0);
/* Yields until n threads are asleep in loop's blocking calls; false if
 * that takes longer than GUARD_MS. */
bool loop_await_waiters(struct finack_loop *loop, int n);

#endif
