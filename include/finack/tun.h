/* The TUN link driver: IPv4 packets to and from a Linux TUN device
 * (IFF_TUN | IFF_NO_PI, so every read and write is one bare IPv4 packet).
 *
 * The driver owns a non-blocking file descriptor and one receive buffer; it
 * allocates nothing per packet. It does not read a clock: the run loop
 * (finack/runtime.h) passes the time in. */
#ifndef FINACK_TUN_H
#define FINACK_TUN_H

#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

#include "finack/finack.h"
#include "finack/loop.h"
#include "finack/pcap.h"

#ifdef __cplusplus
extern "C" {
#endif

struct finack_tun;

/* What the driver saw, beside the stack's own counters. */
struct finack_tun_stats {
    uint64_t rx_packets;  /* packets read from the device */
    uint64_t rx_bytes;
    uint64_t tx_packets;  /* packets written to the device */
    uint64_t tx_bytes;
    uint64_t tx_eagain;   /* writes refused because the device queue was full */
    uint64_t tx_errors;   /* writes that failed for any other reason */
};

/* Attach to the TUN device called name: an existing one (made beforehand by
 * `ip tuntap add dev NAME mode tun`), or a new one if the caller may create
 * devices (CAP_NET_ADMIN); a device created here disappears on close.
 *
 * mtu 0 takes the device's MTU; otherwise the device's MTU is set to mtu
 * (68..65535) unless it already has it, so both ends agree.
 *
 * Returns 0, or -EINVAL (name empty or IFNAMSIZ bytes or longer, bad mtu, or
 * the device is not a TUN device), -ENOENT (no /dev/net/tun), -EPERM or
 * -EACCES (not permitted), -EBUSY (another process holds the device),
 * -ENODEV, -ENOMEM, or another negative errno from the kernel. */
int finack_tun_open(struct finack_tun **out, const char *name, uint32_t mtu);

/* Close the descriptor and free the driver. NULL is allowed. */
void finack_tun_close(struct finack_tun *tun);

/* The link to hand to finack_stack_add_interface(). Its transmit writes one
 * packet to the device; it returns -EAGAIN (and counts tx_eagain) when the
 * device queue is full, or another negative errno. Valid until close. */
struct finack_link *finack_tun_link(struct finack_tun *tun);

/* The non-blocking descriptor, for the caller's own epoll set. */
int finack_tun_fd(const struct finack_tun *tun);

/* The device's name as the kernel reports it. */
const char *finack_tun_name(const struct finack_tun *tun);

/* Read packets until the device has none left (or max were read; max 0
 * means no limit), handing each to finack_stack_input() stamped now.
 * Returns the number of packets read, or a negative errno if the first read
 * failed for a reason other than "nothing to read". */
int finack_tun_receive_batch(struct finack_tun *tun, struct finack_stack *stack,
                             finack_time_t now, size_t max);

/* Read one packet into buf (room for cap bytes; the device MTU is
 * enough), counted and captured as received at now. Returns its length,
 * 0 when the device has nothing waiting, or a negative errno. For drivers
 * that do not hand packets straight to a stack (finack/impair.h). */
ssize_t finack_tun_read(struct finack_tun *tun, uint8_t *buf, size_t cap, finack_time_t now);

/* The device as a link of the run loop (finack/loop.h): blocking
 * applications over TUN. Each wake-up reads up to the loop's batch, then
 * timers get a turn; the descriptor stays readable until the device is
 * drained (read until EAGAIN across wake-ups).
 *
 * Transmit never queues: when the device refuses a write (EAGAIN, which a
 * TUN device does only when the kernel side is overwhelmed) the packet is
 * dropped, counted as tx_eagain here and OUT_LINK_ERROR by the stack, and
 * TCP retransmits it as it would a packet lost on the wire. A queue in
 * front of the device would only add delay on a path where writes are
 * accepted straight into the kernel's receive path. */
struct finack_loop_link finack_tun_loop_link(struct finack_tun *tun);

/* Record every packet read from and written to the device in pcap (which
 * the caller owns and closes after the driver). NULL stops capturing. */
void finack_tun_set_capture(struct finack_tun *tun, struct finack_pcap *pcap);

void finack_tun_get_stats(const struct finack_tun *tun, struct finack_tun_stats *out);

#ifdef __cplusplus
}
#endif
#endif
