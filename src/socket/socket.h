/* The socket table: handles to TCP connections and listeners. */
#ifndef FINACK_SOCKET_SOCKET_H
#define FINACK_SOCKET_SOCKET_H

#include <stdbool.h>
#include <stdint.h>

#include "finack/finack.h"

struct tcp_conn;
struct finack_stack;

struct finack_sock {
    bool in_use;
    bool bound, listening, connected_once;
    bool reuseaddr, nodelay, linger_on, shut_wr, shut_rd;
    int linger_seconds;
    uint32_t sndbuf, rcvbuf;      /* 0 = default */
    bool keepalive;               /* SO_KEEPALIVE */
    uint16_t keepidle, keepintvl; /* TCP_KEEPIDLE, TCP_KEEPINTVL in seconds; 0 = default */
    uint8_t keepcnt;              /* TCP_KEEPCNT; 0 = default */
    int user_timeout;             /* TCP_USER_TIMEOUT in ms; 0 = off */
    uint32_t laddr;
    uint16_t lport;
    struct tcp_conn *conn;        /* connection or listener; NULL before connect/listen */
    int error;                    /* SO_ERROR not yet reported (positive errno) */
};

struct socket_table {
    struct finack_sock *socks;
    int count, cap;
};

void socket_table_free(struct finack_stack *stack);

#endif
