/* pcap capture files (LINKTYPE_RAW: each record is one IPv4 packet) that
 * tcpdump, tshark and Wireshark read; written to a file or to memory, and
 * read back for tools such as `finack ladder`. */
#ifndef FINACK_PCAP_H
#define FINACK_PCAP_H

#include <stddef.h>
#include <stdint.h>

#include "finack/finack.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FINACK_PCAP_LINKTYPE_RAW 101

struct finack_pcap;

/* Create (truncate) path and write the file header. */
int finack_pcap_open_file(struct finack_pcap **out, const char *path);
/* Capture into a growing memory buffer (tests compare capture bytes). */
int finack_pcap_open_memory(struct finack_pcap **out);
/* Real-time drivers pass time since an arbitrary epoch; records are stamped
 * epoch_us + t. Default 0: simulated runs start at 1970-01-01 00:00:00. */
void finack_pcap_set_epoch(struct finack_pcap *pcap, uint64_t epoch_us);
/* Append one packet seen at time t (snaplen 65535: longer packets are cut,
 * their original length recorded). */
int finack_pcap_write(struct finack_pcap *pcap, const uint8_t *packet, size_t len, finack_time_t t);
/* The bytes written so far (memory captures only; NULL for files). */
const uint8_t *finack_pcap_bytes(const struct finack_pcap *pcap, size_t *len);
/* Flush and close; returns 0 or the first write error seen. */
int finack_pcap_close(struct finack_pcap *pcap);

/* Read a pcap file or buffer (microsecond or nanosecond, either byte order;
 * LINKTYPE_RAW, LINKTYPE_IPV4, Ethernet and Linux cooked captures, the link
 * header stripped), calling fn for each IPv4 packet with its time in µs.
 * fn returns 0 to go on, non-zero to stop (that value is returned). Returns
 * 0, or -EINVAL for a malformed file, or -errno from reading. */
typedef int (*finack_pcap_packet_fn)(void *ctx, const uint8_t *packet, size_t len,
                                     uint64_t t_us);
int finack_pcap_read_file(const char *path, finack_pcap_packet_fn fn, void *ctx);
int finack_pcap_read_memory(const uint8_t *data, size_t len, finack_pcap_packet_fn fn, void *ctx);

#ifdef __cplusplus
}
#endif
#endif
