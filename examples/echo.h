/* A blocking echo server and client written against finack/loop.h: the
 * same code as over BSD sockets, with finack_loop_ in front of each call. */
#ifndef FINACK_EXAMPLES_ECHO_H
#define FINACK_EXAMPLES_ECHO_H

#include <stddef.h>
#include <stdint.h>

#include "finack/loop.h"

/* Listen on port and echo every byte each client sends until it closes,
 * one thread per connection. Serves max_conns connections (0: for ever)
 * and returns 0 once their threads are done, or a negative errno. */
int echo_server_run(struct finack_loop *loop, uint16_t port, unsigned max_conns);

/* Connect to addr:port (host byte order), send len bytes of msg, close the
 * sending direction, and read what comes back until EOF into reply (room
 * for cap bytes). Returns the bytes read back or a negative errno. */
ssize_t echo_client_run(struct finack_loop *loop, uint32_t addr, uint16_t port, const void *msg,
                        size_t len, void *reply, size_t cap);

/* For the command-line programs: a TUN device (made beforehand with
 * `ip tuntap add dev IF mode tun user $USER`), a stack with addr/len on
 * it, and a loop running it. */
struct echo_tun_net {
    struct finack_tun *tun;
    struct finack_stack *stack;
    struct finack_loop *loop;
};
int echo_tun_open(struct echo_tun_net *net, const char *tun_name, const char *addr);
void echo_tun_close(struct echo_tun_net *net);

#endif
