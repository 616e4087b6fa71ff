/* pcap capture files: the classic libpcap format (not pcapng), which every
 * version of tcpdump, tshark and Wireshark reads.
 *
 * Writing: always little-endian, microsecond magic, LINKTYPE_RAW, so a given
 * run yields the same bytes on every host (tests compare captures with
 * memcmp). Reading: both byte orders, µs and ns resolution, and the link
 * types a Linux capture of IPv4 traffic is likely to use. */
#include "finack/pcap.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du
#define PCAP_VERSION_MAJOR 2
#define PCAP_VERSION_MINOR 4
#define PCAP_SNAPLEN 65535u
#define PCAP_FILE_HEADER_LEN 24
#define PCAP_RECORD_HEADER_LEN 16
/* libpcap refuses records above 256 KiB as corrupt; so do we, so that a
 * damaged length field cannot make us allocate gigabytes. */
#define PCAP_MAX_RECORD 262144u

#define LINKTYPE_ETHERNET 1
#define LINKTYPE_LINUX_SLL 113
#define LINKTYPE_IPV4 228
/* The upper bits of the link-type field carry FCS information (pcap spec,
 * "LinkType and additional information"); only the low 26 bits name the type. */
#define LINKTYPE_MASK 0x03ffffffu

#define ETH_HEADER_LEN 14
#define VLAN_TAG_LEN 4
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_VLAN 0x8100
#define SLL_HEADER_LEN 16

struct finack_pcap {
    FILE *file;          /* NULL for a memory capture */
    uint8_t *buf;        /* memory capture */
    size_t len, cap;
    uint64_t epoch_us;
    int error;           /* first error seen; sticky, reported by close */
};

/* ---- Writing ----------------------------------------------------------------- */

static void put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static int memory_reserve(struct finack_pcap *pcap, size_t extra)
{
    if (pcap->cap - pcap->len >= extra) return 0;
    size_t cap = pcap->cap ? pcap->cap : 4096;
    while (cap - pcap->len < extra) {
        if (cap > SIZE_MAX / 2) return -ENOMEM;
        cap *= 2;
    }
    uint8_t *buf = realloc(pcap->buf, cap);
    if (!buf) return -ENOMEM;
    pcap->buf = buf;
    pcap->cap = cap;
    return 0;
}

/* Append bytes to the file or the buffer; the first failure sticks so that
 * later writes do not produce a file with a hole in it. */
static int emit(struct finack_pcap *pcap, const void *data, size_t len)
{
    if (pcap->error) return pcap->error;
    if (pcap->file) {
        if (len && fwrite(data, 1, len, pcap->file) != len) pcap->error = -EIO;
        return pcap->error;
    }
    pcap->error = memory_reserve(pcap, len);
    if (pcap->error) return pcap->error;
    if (len) memcpy(pcap->buf + pcap->len, data, len);
    pcap->len += len;
    return 0;
}

static int emit_file_header(struct finack_pcap *pcap)
{
    uint8_t h[PCAP_FILE_HEADER_LEN] = {0};
    put_le32(h, PCAP_MAGIC_US);
    put_le16(h + 4, PCAP_VERSION_MAJOR);
    put_le16(h + 6, PCAP_VERSION_MINOR);
    /* thiszone and sigfigs stay 0, as every modern writer does */
    put_le32(h + 16, PCAP_SNAPLEN);
    put_le32(h + 20, FINACK_PCAP_LINKTYPE_RAW);
    return emit(pcap, h, sizeof h);
}

static int pcap_new(struct finack_pcap **out, FILE *file)
{
    struct finack_pcap *pcap = calloc(1, sizeof *pcap);
    if (!pcap) return -ENOMEM;
    pcap->file = file;
    int err = emit_file_header(pcap);
    if (err) {
        free(pcap->buf);
        free(pcap);
        return err;
    }
    *out = pcap;
    return 0;
}

int finack_pcap_open_file(struct finack_pcap **out, const char *path)
{
    if (!out || !path) return -EINVAL;
    FILE *file = fopen(path, "wb");
    if (!file) return errno ? -errno : -EIO;
    int err = pcap_new(out, file);
    if (err) fclose(file);
    return err;
}

int finack_pcap_open_memory(struct finack_pcap **out)
{
    if (!out) return -EINVAL;
    return pcap_new(out, NULL);
}

void finack_pcap_set_epoch(struct finack_pcap *pcap, uint64_t epoch_us)
{
    if (pcap) pcap->epoch_us = epoch_us;
}

int finack_pcap_write(struct finack_pcap *pcap, const uint8_t *packet, size_t len, finack_time_t t)
{
    if (!pcap || (!packet && len)) return -EINVAL;
    uint64_t us = pcap->epoch_us + t;
    size_t caplen = len < PCAP_SNAPLEN ? len : PCAP_SNAPLEN;
    uint8_t h[PCAP_RECORD_HEADER_LEN];
    /* 32-bit seconds, as the format has them: good until 2106 */
    put_le32(h, (uint32_t)(us / 1000000u));
    put_le32(h + 4, (uint32_t)(us % 1000000u));
    put_le32(h + 8, (uint32_t)caplen);
    put_le32(h + 12, len > UINT32_MAX ? UINT32_MAX : (uint32_t)len);
    int err = emit(pcap, h, sizeof h);
    return err ? err : emit(pcap, packet, caplen);
}

const uint8_t *finack_pcap_bytes(const struct finack_pcap *pcap, size_t *len)
{
    if (!pcap || pcap->file) {
        if (len) *len = 0;
        return NULL;
    }
    if (len) *len = pcap->len;
    return pcap->buf;
}

int finack_pcap_close(struct finack_pcap *pcap)
{
    if (!pcap) return 0;
    int err = pcap->error;
    if (pcap->file) {
        if (fclose(pcap->file) != 0 && !err) err = -EIO;
    }
    free(pcap->buf);
    free(pcap);
    return err;
}

/* ---- Reading ----------------------------------------------------------------- */

/* Where the bytes come from: a memory buffer or a FILE, behind one call. */
struct pcap_source {
    const uint8_t *data; /* memory source */
    size_t len, pos;
    FILE *file;          /* file source */
    uint8_t *scratch;    /* file source: holds the current record */
    size_t scratch_cap;
};

/* The per-file facts the header told us. */
struct pcap_format {
    bool big_endian;     /* the writer's host order; we write little-endian */
    bool nanosecond;
    uint32_t linktype;
};

enum { READ_OK = 0, READ_EOF = 1 };

/* Make the next n bytes available at *out. Returns READ_OK, READ_EOF if
 * there were no bytes at all, -EINVAL if fewer than n remained (a truncated
 * file), or -errno from reading. */
static int source_take(struct pcap_source *src, size_t n, const uint8_t **out)
{
    if (!src->file) {
        size_t left = src->len - src->pos;
        if (left == 0 && n > 0) return READ_EOF;
        if (left < n) return -EINVAL;
        *out = src->data + src->pos;
        src->pos += n;
        return READ_OK;
    }
    if (n > src->scratch_cap) {
        uint8_t *p = realloc(src->scratch, n);
        if (!p) return -ENOMEM;
        src->scratch = p;
        src->scratch_cap = n;
    }
    size_t got = fread(src->scratch, 1, n, src->file);
    if (got < n && ferror(src->file)) return -EIO;
    if (got == 0 && n > 0) return READ_EOF;
    if (got < n) return -EINVAL;
    *out = src->scratch;
    return READ_OK;
}

static uint32_t get_u32(const struct pcap_format *fmt, const uint8_t *p)
{
    if (fmt->big_endian) return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static uint16_t get_u16(const struct pcap_format *fmt, const uint8_t *p)
{
    return fmt->big_endian ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[1] << 8 | p[0]);
}

static uint16_t get_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static bool linktype_supported(uint32_t linktype)
{
    return linktype == FINACK_PCAP_LINKTYPE_RAW || linktype == LINKTYPE_IPV4 ||
           linktype == LINKTYPE_ETHERNET || linktype == LINKTYPE_LINUX_SLL;
}

/* The magic is tried as little-endian first; if it only matches read as
 * big-endian, the whole file is big-endian. */
static int parse_file_header(const uint8_t *h, struct pcap_format *fmt)
{
    fmt->big_endian = false;
    uint32_t magic = get_u32(fmt, h);
    if (magic != PCAP_MAGIC_US && magic != PCAP_MAGIC_NS) {
        fmt->big_endian = true;
        magic = get_u32(fmt, h);
        if (magic != PCAP_MAGIC_US && magic != PCAP_MAGIC_NS) return -EINVAL;
    }
    fmt->nanosecond = magic == PCAP_MAGIC_NS;
    if (get_u16(fmt, h + 4) != PCAP_VERSION_MAJOR) return -EINVAL;
    fmt->linktype = get_u32(fmt, h + 20) & LINKTYPE_MASK;
    /* A capture of a link type we cannot decode is not malformed, but we
     * could return none of its packets; say so rather than return nothing. */
    return linktype_supported(fmt->linktype) ? 0 : -EINVAL;
}

/* Drop link-layer padding (Ethernet pads frames to 60 bytes) and any FCS:
 * the IPv4 total length says where the packet ends. */
static size_t trim_to_ipv4_length(const uint8_t *p, size_t len)
{
    if (len < 20 || p[0] >> 4 != 4) return len;
    size_t total = get_be16(p + 2);
    return total >= 20 && total < len ? total : len;
}

/* The length of an Ethernet header (with one VLAN tag skipped) in front of
 * an IPv4 packet, or 0 if the frame carries something else or is a runt. */
static size_t ethernet_ipv4_header(const uint8_t *p, size_t len)
{
    if (len < ETH_HEADER_LEN) return 0;
    size_t hdr = ETH_HEADER_LEN;
    uint16_t type = get_be16(p + 12);
    if (type == ETHERTYPE_VLAN) {
        if (len < ETH_HEADER_LEN + VLAN_TAG_LEN) return 0;
        hdr += VLAN_TAG_LEN;
        type = get_be16(p + 16);
    }
    return type == ETHERTYPE_IPV4 ? hdr : 0;
}

/* The same for a Linux cooked (SLL) header: protocol at offset 14. */
static size_t sll_ipv4_header(const uint8_t *p, size_t len)
{
    if (len < SLL_HEADER_LEN) return 0;
    return get_be16(p + 14) == ETHERTYPE_IPV4 ? SLL_HEADER_LEN : 0;
}

/* Find the IPv4 packet inside one captured frame. Returns false if the frame
 * carries something else (IPv6, ARP, a runt), which is skipped. */
static bool frame_ipv4(uint32_t linktype, const uint8_t **p, size_t *len)
{
    size_t hdr;
    switch (linktype) {
    case FINACK_PCAP_LINKTYPE_RAW:
        /* RAW may hold IPv6 too. Anything else goes through as recorded, so
         * that a capture of damaged packets reads back whole. */
        return *len > 0 && (*p)[0] >> 4 != 6;
    case LINKTYPE_IPV4:
        return *len > 0;
    case LINKTYPE_ETHERNET:
        hdr = ethernet_ipv4_header(*p, *len);
        break;
    case LINKTYPE_LINUX_SLL:
        hdr = sll_ipv4_header(*p, *len);
        break;
    default:
        return false;
    }
    if (!hdr) return false;
    *p += hdr;
    *len = trim_to_ipv4_length(*p, *len - hdr);
    return true;
}

static uint64_t record_time_us(const struct pcap_format *fmt, const uint8_t *h)
{
    uint64_t sec = get_u32(fmt, h), frac = get_u32(fmt, h + 4);
    return sec * 1000000u + (fmt->nanosecond ? frac / 1000u : frac);
}

/* Read the bytes of one record whose header is h and hand its IPv4 packet to
 * fn. Returns 0 to go on, fn's non-zero value, or a negative error. */
static int read_record(struct pcap_source *src, const struct pcap_format *fmt, const uint8_t *h,
                       finack_pcap_packet_fn fn, void *ctx)
{
    uint64_t t_us = record_time_us(fmt, h);
    uint32_t caplen = get_u32(fmt, h + 8);
    if (caplen > PCAP_MAX_RECORD) return -EINVAL;
    const uint8_t *p = NULL;
    int err = source_take(src, caplen, &p);
    if (err == READ_EOF) return -EINVAL; /* a record header without its bytes */
    if (err) return err;
    size_t len = caplen;
    if (!frame_ipv4(fmt->linktype, &p, &len)) return 0;
    return fn(ctx, p, len, t_us);
}

static int read_all(struct pcap_source *src, finack_pcap_packet_fn fn, void *ctx)
{
    const uint8_t *p;
    int err = source_take(src, PCAP_FILE_HEADER_LEN, &p);
    if (err) return err == READ_EOF ? -EINVAL : err;
    struct pcap_format fmt;
    err = parse_file_header(p, &fmt);
    if (err) return err;
    for (;;) {
        err = source_take(src, PCAP_RECORD_HEADER_LEN, &p);
        if (err == READ_EOF) return 0;
        if (err) return err;
        /* a file source reuses its scratch buffer for the record's bytes */
        uint8_t h[PCAP_RECORD_HEADER_LEN];
        memcpy(h, p, sizeof h);
        err = read_record(src, &fmt, h, fn, ctx);
        if (err) return err;
    }
}

int finack_pcap_read_memory(const uint8_t *data, size_t len, finack_pcap_packet_fn fn, void *ctx)
{
    if ((!data && len) || !fn) return -EINVAL;
    struct pcap_source src = {.data = data, .len = len};
    return read_all(&src, fn, ctx);
}

int finack_pcap_read_file(const char *path, finack_pcap_packet_fn fn, void *ctx)
{
    if (!path || !fn) return -EINVAL;
    FILE *file = fopen(path, "rb");
    if (!file) return errno ? -errno : -EIO;
    struct pcap_source src = {.file = file};
    int err = read_all(&src, fn, ctx);
    free(src.scratch);
    fclose(file);
    return err;
}
