/* echo_server TUN ADDR/LEN [PORT]: a blocking echo server on a finack stack.
 *
 *   ip tuntap add dev fin0 mode tun user $USER
 *   ip addr add 10.9.0.1/24 dev fin0 && ip link set fin0 up
 *   ./echo_server fin0 10.9.0.2/24 7      # then: nc 10.9.0.2 7 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "echo.h"

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s TUN ADDR/LEN [PORT]\n", argv[0]);
        return 2;
    }
    uint16_t port = (uint16_t)(argc == 4 ? atoi(argv[3]) : 7);
    struct echo_tun_net net;
    int rc = echo_tun_open(&net, argv[1], argv[2]);
    if (rc < 0) {
        fprintf(stderr, "%s: %s: %s\n", argv[0], argv[1], strerror(-rc));
        return 1;
    }
    rc = echo_server_run(net.loop, port, 0);
    if (rc < 0) fprintf(stderr, "%s: %s\n", argv[0], strerror(-rc));
    echo_tun_close(&net);
    return rc < 0;
}
