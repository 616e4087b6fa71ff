/* The TUN link driver (see finack/tun.h). */
#include "finack/tun.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define TUN_MIN_MTU 68u     /* RFC 791: every IPv4 host must pass 68 bytes */
#define TUN_MAX_MTU 65535u  /* the IPv4 total length field */

struct finack_tun {
    struct finack_link link;
    int fd;
    char name[IFNAMSIZ];
    struct finack_pcap *capture;  /* not owned; NULL = no capture */
    struct finack_tun_stats stats;
    /* One packet at a time: a read never returns more than the device MTU,
     * which the kernel caps at 65535. */
    uint8_t rx_buf[TUN_MAX_MTU + 1];
};

static int tun_transmit(struct finack_link *link, const uint8_t *packet, size_t len,
                        finack_time_t now);

static const struct finack_link_ops tun_ops = {.transmit = tun_transmit};

static bool tun_name_valid(const char *name)
{
    return name != NULL && name[0] != '\0' && strlen(name) < IFNAMSIZ;
}

/* Copies name into ifr->ifr_name; the caller checked its length. */
static void tun_ifreq_init(struct ifreq *ifr, const char *name)
{
    memset(ifr, 0, sizeof(*ifr));
    memcpy(ifr->ifr_name, name, strlen(name) + 1);
}

static int tun_attach(int fd, const char *name, char actual[IFNAMSIZ])
{
    struct ifreq ifr;
    tun_ifreq_init(&ifr, name);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) return -errno;
    /* The kernel writes back the name it used (it expands a "%d" pattern). */
    memcpy(actual, ifr.ifr_name, IFNAMSIZ);
    actual[IFNAMSIZ - 1] = '\0';
    return 0;
}

/* MTU is an interface property, reached through any socket's ioctl. */
static int tun_sync_mtu(const char *name, uint32_t wanted, uint32_t *mtu)
{
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) return -errno;
    struct ifreq ifr;
    tun_ifreq_init(&ifr, name);
    int rc = 0;
    if (ioctl(sock, SIOCGIFMTU, &ifr) < 0) {
        rc = -errno;
    } else if (wanted == 0 || (uint32_t)ifr.ifr_mtu == wanted) {
        *mtu = (uint32_t)ifr.ifr_mtu;
    } else {
        ifr.ifr_mtu = (int)wanted;
        rc = ioctl(sock, SIOCSIFMTU, &ifr) < 0 ? -errno : 0;
        *mtu = wanted;
    }
    close(sock);
    return rc;
}

static int tun_set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return -errno;
    return 0;
}

/* Everything after open(): on failure the caller closes fd, which also
 * removes a device this call created (it is not persistent). */
static int tun_setup(struct finack_tun *tun, const char *name, uint32_t mtu)
{
    int rc = tun_attach(tun->fd, name, tun->name);
    if (rc == 0) rc = tun_sync_mtu(tun->name, mtu, &tun->link.mtu);
    if (rc == 0) rc = tun_set_nonblocking(tun->fd);
    return rc;
}

int finack_tun_open(struct finack_tun **out, const char *name, uint32_t mtu)
{
    *out = NULL;
    if (!tun_name_valid(name)) return -EINVAL;
    if (mtu != 0 && (mtu < TUN_MIN_MTU || mtu > TUN_MAX_MTU)) return -EINVAL;

    struct finack_tun *tun = calloc(1, sizeof(*tun));
    if (tun == NULL) return -ENOMEM;
    tun->fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (tun->fd < 0) {
        int rc = -errno;
        free(tun);
        return rc;
    }
    int rc = tun_setup(tun, name, mtu);
    if (rc < 0) {
        close(tun->fd);
        free(tun);
        return rc;
    }
    tun->link.ops = &tun_ops;
    tun->link.driver = tun;
    tun->link.name = tun->name;
    *out = tun;
    return 0;
}

void finack_tun_close(struct finack_tun *tun)
{
    if (tun == NULL) return;
    close(tun->fd);
    free(tun);
}

struct finack_link *finack_tun_link(struct finack_tun *tun) { return &tun->link; }

int finack_tun_fd(const struct finack_tun *tun) { return tun->fd; }

const char *finack_tun_name(const struct finack_tun *tun) { return tun->name; }

void finack_tun_set_capture(struct finack_tun *tun, struct finack_pcap *pcap)
{
    tun->capture = pcap;
}

void finack_tun_get_stats(const struct finack_tun *tun, struct finack_tun_stats *out)
{
    *out = tun->stats;
}

/* A capture that fails to write must not stop traffic; finack_pcap_close()
 * reports the first write error to whoever owns the capture. */
static void tun_capture(struct finack_tun *tun, const uint8_t *packet, size_t len,
                        finack_time_t now)
{
    if (tun->capture != NULL) (void)finack_pcap_write(tun->capture, packet, len, now);
}

static int tun_transmit(struct finack_link *link, const uint8_t *packet, size_t len,
                        finack_time_t now)
{
    struct finack_tun *tun = link->driver;
    ssize_t n;
    do {
        n = write(tun->fd, packet, len);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        int rc = -errno;
        if (rc == -EAGAIN || rc == -EWOULDBLOCK) {
            tun->stats.tx_eagain++;
            return -EAGAIN;
        }
        tun->stats.tx_errors++;
        return rc;
    }
    if ((size_t)n != len) {  /* a TUN write is one whole packet or nothing */
        tun->stats.tx_errors++;
        return -EIO;
    }
    tun->stats.tx_packets++;
    tun->stats.tx_bytes += len;
    tun_capture(tun, packet, len, now);
    return 0;
}

/* One read: the packet length, 0 when the device has nothing, or -errno. */
static ssize_t tun_read_one(struct finack_tun *tun)
{
    ssize_t n;
    do {
        n = read(tun->fd, tun->rx_buf, sizeof(tun->rx_buf));
    } while (n < 0 && errno == EINTR);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
    return n;
}

ssize_t finack_tun_read(struct finack_tun *tun, uint8_t *buf, size_t cap, finack_time_t now)
{
    ssize_t n;
    do {
        n = read(tun->fd, buf, cap);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
    tun->stats.rx_packets++;
    tun->stats.rx_bytes += (uint64_t)n;
    tun_capture(tun, buf, (size_t)n, now);
    return n;
}

static int tun_loop_receive(void *ctx, struct finack_stack *stack, finack_time_t now, int budget)
{
    return finack_tun_receive_batch(ctx, stack, now, budget > 0 ? (size_t)budget : 1);
}

struct finack_loop_link finack_tun_loop_link(struct finack_tun *tun)
{
    return (struct finack_loop_link){
        .link = &tun->link, .fd = tun->fd, .receive = tun_loop_receive, .ctx = tun};
}

int finack_tun_receive_batch(struct finack_tun *tun, struct finack_stack *stack,
                             finack_time_t now, size_t max)
{
    size_t count = 0;
    while (max == 0 || count < max) {
        ssize_t n = tun_read_one(tun);
        if (n < 0) return count == 0 ? (int)n : (int)count;  /* the error recurs next call */
        if (n == 0) break;
        tun->stats.rx_packets++;
        tun->stats.rx_bytes += (uint64_t)n;
        tun_capture(tun, tun->rx_buf, (size_t)n, now);
        (void)finack_stack_input(stack, &tun->link, tun->rx_buf, (size_t)n, now);
        count++;
        if (count == (size_t)INT_MAX) break;  /* keep the count representable */
    }
    return (int)count;
}
