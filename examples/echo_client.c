/* echo_client TUN ADDR/LEN SERVER [PORT] MESSAGE: send MESSAGE to an echo
 * server from a finack stack and print what comes back.
 *
 *   ip tuntap add dev fin1 mode tun user $USER
 *   ip addr add 10.9.1.1/24 dev fin1 && ip link set fin1 up
 *   ./echo_client fin1 10.9.1.2/24 10.9.1.1 7 hello   # against a host echo server */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "echo.h"

int main(int argc, char **argv)
{
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: %s TUN ADDR/LEN SERVER [PORT] MESSAGE\n", argv[0]);
        return 2;
    }
    uint32_t server;
    uint8_t len;
    if (finack_parse_ipv4(argv[3], &server, &len) < 0) {
        fprintf(stderr, "%s: bad server address '%s'\n", argv[0], argv[3]);
        return 2;
    }
    uint16_t port = (uint16_t)(argc == 6 ? atoi(argv[4]) : 7);
    const char *msg = argv[argc - 1];
    struct echo_tun_net net;
    int rc = echo_tun_open(&net, argv[1], argv[2]);
    if (rc < 0) {
        fprintf(stderr, "%s: %s: %s\n", argv[0], argv[1], strerror(-rc));
        return 1;
    }
    char reply[4096];
    ssize_t n = echo_client_run(net.loop, server, port, msg, strlen(msg), reply, sizeof reply);
    if (n < 0) fprintf(stderr, "%s: %s\n", argv[0], strerror((int)-n));
    else printf("%.*s\n", (int)n, reply);
    echo_tun_close(&net);
    return n < 0;
}
