/* What the run loop (link/loop.c) shows tests beyond finack/loop.h. */
#ifndef FINACK_LINK_LOOP_H
#define FINACK_LINK_LOOP_H

struct finack_loop;

/* Application threads asleep in a blocking call right now (a test waits
 * for its blocked thread to be asleep before acting on it). */
int loop_waiters(struct finack_loop *loop);

#endif
