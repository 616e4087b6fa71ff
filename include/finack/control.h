/*
 * The control socket: how `finack ss` and `finack stats` see the stacks of
 * other processes on this machine.
 *
 * A process that runs a finack stack opens an AF_UNIX stream socket named
 * PID.sock in the run directory (finack_control_run_dir()). A client
 * connects, sends one command line, and reads text until the server closes:
 *
 *   conns        the connection table without listeners, TIME_WAIT and
 *                half-open rows (as `ss -t`)
 *   conns all    every row (as `ss -ta`)
 *   stats        the non-zero counters and drop reasons
 *
 * Every answer starts with "finack-control 1 PID NAME" (NAME is the one
 * given to the start call, without blanks); then one row per line, fields
 * separated by single spaces:
 *
 *   conn STATE LADDR:LPORT RADDR:RPORT FD RECVQ SENDQ TIMER EXPIRES_US
 *        RETRANSMITS RTT_US RTO_US CWND
 *        (STATE as RFC 9293 spells it; TIMER "on", "persist", "keepalive",
 *        "timewait" or "-"; EXPIRES_US the microseconds left, 0 with "-")
 *   counter NAME VALUE DESCRIPTION...
 *   drop NAME VALUE DESCRIPTION...
 *   error TEXT...                     (an unknown command)
 *
 * The server never touches the stack from its own thread: the table is
 * copied under the owner's exclusion (finack_loop_call(), or the owner's
 * own thread in polled mode) and written out after.
 *
 * Errors as everywhere in finack: 0 or a negative errno.
 */
#ifndef FINACK_CONTROL_H
#define FINACK_CONTROL_H

#include <stddef.h>
#include <sys/types.h>

#include "finack/finack.h"

#ifdef __cplusplus
extern "C" {
#endif

struct finack_loop;
struct finack_control;

#define FINACK_CONTROL_VERSION 1

/* The run directory: $FINACK_RUN_DIR if set; else /run/finack for root;
 * else $XDG_RUNTIME_DIR/finack if that is set; else /tmp/finack-UID.
 * Writes it into buf; -ENAMETOOLONG if it does not fit. */
int finack_control_run_dir(char *buf, size_t len);

/* Serve the control socket of a stack run by loop, from a thread of its
 * own; name (for example "echo") is shown by `finack ss` beside the pid.
 * Creates the run directory (mode 0700) if needed; one that exists must
 * be the user's and writable by nobody else (else -EPERM). Replaces a
 * socket file left by an earlier process with the same pid. Stop the
 * control before finack_loop_stop(loop): it calls finack_loop_call(). */
int finack_control_start(struct finack_control **out, struct finack_loop *loop,
                         const char *name);

/* Polled mode, for a program that runs its stack on one thread without a
 * finack_loop (finack_run_tun): the control thread accepts clients and
 * reads their commands, then waits until the owner calls
 * finack_control_poll() on the stack's thread. wake(ctx), if not NULL, is
 * called from the control thread when a command waits, so that the owner
 * returns to its loop soon (for example by pthread_kill() to cut an
 * epoll_wait() short); the owner may also just poll periodically. */
int finack_control_start_polled(struct finack_control **out, const char *name,
                                void (*wake)(void *ctx), void *ctx);
/* Answer what waits (does nothing if nothing does). Returns the number of
 * commands answered. Polled mode only, on the thread that owns stack. */
int finack_control_poll(struct finack_control *ctl, struct finack_stack *stack);

/* The socket's path (valid until finack_control_stop). */
const char *finack_control_path(const struct finack_control *ctl);

/* Stop the thread, remove the socket file, free ctl. NULL is fine. */
void finack_control_stop(struct finack_control *ctl);

/* ---- The client side (what `finack ss` uses) --------------------------------
 * Connect to the socket at path, send command (one line, no newline
 * needed), read the whole answer into a NUL-terminated malloc'd *out.
 * -ECONNREFUSED / -ENOENT when no process serves it. */
int finack_control_query(const char *path, const char *command, char **out);

/* Ask every process of this machine that serves a control socket in the
 * run directory (or only the one with pid only_pid, if not 0), in pid
 * order: fn(ctx, pid, answer) for each answer, until fn returns non-zero.
 * A socket file nobody listens on (its process died: ECONNREFUSED) is
 * removed. A process that fails to answer otherwise is reported through
 * fn with answer NULL and err its negative errno. Returns the number of
 * processes that answered (0 without a run directory), or fn's non-zero
 * value, or a negative errno. */
typedef int (*finack_control_answer_fn)(void *ctx, long pid, const char *answer, int err);
int finack_control_query_all(const char *command, long only_pid, finack_control_answer_fn fn,
                             void *ctx);

#ifdef __cplusplus
}
#endif
#endif
