/* The real-time run loop around the sans-IO stack: it owns the clock, waits
 * on the link's descriptor with epoll, and calls finack_stack_input() and
 * finack_stack_poll(). Nothing else in finack reads a clock. */
#ifndef FINACK_RUNTIME_H
#define FINACK_RUNTIME_H

#include <stdint.h>

#include "finack/finack.h"
#include "finack/tun.h"

#ifdef __cplusplus
extern "C" {
#endif

/* CLOCK_MONOTONIC in microseconds: the time base of every real-time run. */
finack_time_t finack_clock_now(void);

/* Microseconds to add to a finack_clock_now() value to get Unix time (for
 * finack_pcap_set_epoch(), so real captures carry wall-clock stamps). */
uint64_t finack_clock_epoch(void);

/* Run stack on tun until *stop_flag becomes non-zero (a signal handler sets
 * it; stop_flag may be NULL) or the clock reaches until (FINACK_TIME_NEVER =
 * no limit). The loop drains the device whenever it is readable and polls
 * the stack whenever its next deadline passes. A signal interrupts the wait
 * at once; the flag is also checked at least every FINACK_RUN_MAX_WAIT_MS.
 *
 * Returns 0 when stopped by the flag or the time limit, or a negative errno
 * if epoll or the device failed (for example -EBADFD when the device was
 * deleted under the loop). */
#define FINACK_RUN_MAX_WAIT_MS 200
int finack_run_tun(struct finack_stack *stack, struct finack_tun *tun,
                   const volatile int *stop_flag, finack_time_t until);

#ifdef __cplusplus
}
#endif
#endif
