/* pcap files: what we write is byte-exact and read back; what others write
 * (either byte order, nanosecond stamps, Ethernet and Linux cooked headers)
 * is read; malformed files are refused; tshark and tcpdump read our files
 * without complaint. */
#include "finack/pcap.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

/* ---- Building files and packets by hand --------------------------------------- */

/* A byte buffer written in a chosen byte order, for hand-made pcap files. */
struct blob {
    uint8_t data[4096];
    size_t len;
    bool big_endian;
};

static void blob_bytes(struct blob *b, const void *p, size_t n)
{
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void blob_u16(struct blob *b, uint16_t v)
{
    uint8_t p[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    if (b->big_endian) p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
    blob_bytes(b, p, 2);
}

static void blob_u32(struct blob *b, uint32_t v)
{
    uint8_t p[4];
    for (int i = 0; i < 4; i++) p[b->big_endian ? 3 - i : i] = (uint8_t)(v >> (8 * i));
    blob_bytes(b, p, 4);
}

static void file_header(struct blob *b, uint32_t magic, uint16_t major, uint32_t linktype)
{
    blob_u32(b, magic);
    blob_u16(b, major);
    blob_u16(b, 4);
    blob_u32(b, 0);
    blob_u32(b, 0);
    blob_u32(b, 65535);
    blob_u32(b, linktype);
}

static void record(struct blob *b, uint32_t sec, uint32_t frac, const void *p, uint32_t len)
{
    blob_u32(b, sec);
    blob_u32(b, frac);
    blob_u32(b, len);
    blob_u32(b, len);
    blob_bytes(b, p, len);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

/* RFC 1071, kept here rather than taken from src/wire so that these tests
 * check the capture code against an independent computation. */
static uint16_t inet_checksum(uint32_t sum, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i + 1 < len; i += 2) sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1) sum += (uint32_t)p[len - 1] << 8;
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

#define ADDR_A 0x0a000001u /* 10.0.0.1 */
#define ADDR_B 0x0a000002u /* 10.0.0.2 */

/* A 20-byte IPv4 header for a packet of total length len; returns len. */
static size_t ipv4_header(uint8_t *p, uint8_t proto, uint32_t src, uint32_t dst, size_t len,
                          uint16_t id)
{
    memset(p, 0, 20);
    p[0] = 0x45;
    put16(p + 2, (uint16_t)len);
    put16(p + 4, id);
    put16(p + 6, 0x4000); /* DF */
    p[8] = 64;
    p[9] = proto;
    put32(p + 12, src);
    put32(p + 16, dst);
    put16(p + 10, inet_checksum(0, p, 20));
    return len;
}

static size_t icmp_echo(uint8_t *p, bool reply, uint32_t src, uint32_t dst, uint16_t seq)
{
    static const char data[] = "finack ping data";
    uint8_t *icmp = p + 20;
    size_t icmp_len = 8 + sizeof data - 1;
    memset(icmp, 0, 8);
    icmp[0] = reply ? 0 : 8;
    put16(icmp + 4, 0x1234);
    put16(icmp + 6, seq);
    memcpy(icmp + 8, data, sizeof data - 1);
    put16(icmp + 2, inet_checksum(0, icmp, icmp_len));
    return ipv4_header(p, 1, src, dst, 20 + icmp_len, seq);
}

/* A TCP segment with payload_len bytes of payload; a SYN carries an MSS
 * option, as real ones do (tshark warns about MSS on other segments). */
static size_t tcp_segment(uint8_t *p, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                          uint32_t seq, uint32_t ack, uint8_t flags, size_t payload_len)
{
    uint8_t *t = p + 20;
    size_t header_len = flags & 0x02 ? 24 : 20;
    size_t tcp_len = header_len + payload_len;
    memset(t, 0, header_len);
    put16(t, sport);
    put16(t + 2, dport);
    put32(t + 4, seq);
    put32(t + 8, ack);
    t[12] = (uint8_t)(header_len / 4 << 4);
    t[13] = flags;
    put16(t + 14, 65535);
    if (header_len == 24) {
        t[20] = 2, t[21] = 4; /* MSS 1460 */
        put16(t + 22, 1460);
    }
    for (size_t i = 0; i < payload_len; i++) t[header_len + i] = (uint8_t)('a' + i % 26);
    uint32_t pseudo = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + 6 +
                      (uint32_t)tcp_len;
    put16(t + 16, inet_checksum(pseudo, t, tcp_len));
    return ipv4_header(p, 6, src, dst, 20 + tcp_len, (uint16_t)seq);
}

/* ---- Reading back ---------------------------------------------------------------- */

struct seen {
    size_t count;
    uint64_t t[16];
    size_t len[16];
    uint8_t bytes[16][128];
    int stop_after; /* return 7 after this many, if non-zero */
};

static int collect(void *ctx, const uint8_t *p, size_t len, uint64_t t_us)
{
    struct seen *s = ctx;
    if (s->count == 16) return -ENOSPC;
    s->t[s->count] = t_us;
    s->len[s->count] = len;
    memcpy(s->bytes[s->count], p, len < 128 ? len : 128);
    s->count++;
    return s->stop_after && (int)s->count == s->stop_after ? 7 : 0;
}

static int read_blob(const struct blob *b, struct seen *s)
{
    memset(s, 0, sizeof *s);
    return finack_pcap_read_memory(b->data, b->len, collect, s);
}

/* ---- Writing ---------------------------------------------------------------------- */

static void test_header_bytes_exact(void)
{
    struct finack_pcap *pcap;
    REQUIRE(finack_pcap_open_memory(&pcap) == 0);
    uint8_t p[64];
    size_t len = tcp_segment(p, ADDR_A, ADDR_B, 1000, 80, 1, 0, 0x02, 0);
    REQUIRE(len == 44);
    REQUIRE(finack_pcap_write(pcap, p, len, FINACK_SEC(3) + 250) == 0);
    size_t n;
    const uint8_t *bytes = finack_pcap_bytes(pcap, &n);
    static const uint8_t want[] = {
        0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, /* magic (little-endian), version 2.4 */
        0, 0, 0, 0, 0, 0, 0, 0,             /* thiszone, sigfigs */
        0xff, 0xff, 0, 0, 101, 0, 0, 0,     /* snaplen 65535, LINKTYPE_RAW */
        3, 0, 0, 0, 250, 0, 0, 0,           /* 3 s, 250 µs */
        44, 0, 0, 0, 44, 0, 0, 0,           /* captured and original length */
    };
    REQUIRE(n == sizeof want + 44);
    CHECK_MEM(bytes, want, sizeof want);
    CHECK_MEM(bytes + sizeof want, p, 44);
    CHECK_EQ(finack_pcap_close(pcap), 0);
}

static void test_memory_round_trip_with_times(void)
{
    struct finack_pcap *pcap;
    REQUIRE(finack_pcap_open_memory(&pcap) == 0);
    uint8_t p1[64], p2[64], p3[64];
    size_t n1 = icmp_echo(p1, false, ADDR_A, ADDR_B, 1);
    size_t n2 = icmp_echo(p2, true, ADDR_B, ADDR_A, 1);
    size_t n3 = tcp_segment(p3, ADDR_A, ADDR_B, 40000, 80, 7, 9, 0x18, 10);
    const uint64_t t3 = FINACK_SEC(3 * 3600) + 999999;
    REQUIRE(finack_pcap_write(pcap, p1, n1, 0) == 0);
    REQUIRE(finack_pcap_write(pcap, p2, n2, FINACK_MSEC(1500)) == 0);
    REQUIRE(finack_pcap_write(pcap, p3, n3, t3) == 0);
    size_t n;
    const uint8_t *bytes = finack_pcap_bytes(pcap, &n);
    CHECK_EQ(n, 24 + 3 * 16 + n1 + n2 + n3);
    struct seen s = {0};
    CHECK_EQ(finack_pcap_read_memory(bytes, n, collect, &s), 0);
    REQUIRE(s.count == 3);
    CHECK_U64(s.t[0], 0);
    CHECK_U64(s.t[1], 1500000);
    CHECK_U64(s.t[2], t3);
    CHECK_EQ(s.len[0], n1);
    CHECK_EQ(s.len[2], n3);
    CHECK_MEM(s.bytes[0], p1, n1);
    CHECK_MEM(s.bytes[1], p2, n2);
    CHECK_MEM(s.bytes[2], p3, n3);
    CHECK_EQ(finack_pcap_close(pcap), 0);
}

static void test_epoch_offsets_times(void)
{
    struct finack_pcap *pcap;
    REQUIRE(finack_pcap_open_memory(&pcap) == 0);
    const uint64_t epoch = UINT64_C(1700000000) * 1000000 + 123456;
    finack_pcap_set_epoch(pcap, epoch);
    uint8_t p[64];
    size_t len = icmp_echo(p, false, ADDR_A, ADDR_B, 1);
    REQUIRE(finack_pcap_write(pcap, p, len, 900000) == 0);
    size_t n;
    const uint8_t *bytes = finack_pcap_bytes(pcap, &n);
    struct seen s = {0};
    CHECK_EQ(finack_pcap_read_memory(bytes, n, collect, &s), 0);
    REQUIRE(s.count == 1);
    CHECK_U64(s.t[0], epoch + 900000);
    /* 123456 + 900000 µs carried into the seconds: the µs field is 23456 */
    CHECK_EQ(bytes[24 + 4] | bytes[24 + 5] << 8 | bytes[24 + 6] << 16, 23456);
    CHECK_EQ(finack_pcap_close(pcap), 0);
}

/* Packets beyond the 65535-byte snaplen are cut, their length kept. */
static void test_snaplen_cuts_long_packets(void)
{
    struct finack_pcap *pcap;
    REQUIRE(finack_pcap_open_memory(&pcap) == 0);
    size_t big = 70000;
    uint8_t *p = calloc(1, big);
    REQUIRE(p);
    p[0] = 0x45;
    REQUIRE(finack_pcap_write(pcap, p, big, 5) == 0);
    size_t n;
    const uint8_t *bytes = finack_pcap_bytes(pcap, &n);
    CHECK_EQ(n, 24 + 16 + 65535);
    CHECK_EQ(bytes[24 + 8] | bytes[24 + 9] << 8 | bytes[24 + 10] << 16, 65535);
    CHECK_EQ(bytes[24 + 12] | bytes[24 + 13] << 8 | bytes[24 + 14] << 16, 70000);
    struct seen s = {0};
    CHECK_EQ(finack_pcap_read_memory(bytes, n, collect, &s), 0);
    CHECK_EQ(s.count, 1);
    CHECK_EQ(s.len[0], 65535);
    free(p);
    CHECK_EQ(finack_pcap_close(pcap), 0);
}

/* Writes the same packets to a file and to memory: same bytes, same packets. */
static void test_file_round_trip(void)
{
    char path[] = "/tmp/finack_pcap_test_XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    close(fd);
    struct finack_pcap *file, *mem;
    REQUIRE(finack_pcap_open_file(&file, path) == 0);
    REQUIRE(finack_pcap_open_memory(&mem) == 0);
    CHECK(finack_pcap_bytes(file, NULL) == NULL);
    for (uint16_t i = 0; i < 10; i++) {
        uint8_t p[256];
        size_t len = tcp_segment(p, ADDR_A, ADDR_B, 5000, 80, i * 100u, 1, 0x10, i * 10u);
        CHECK_EQ(finack_pcap_write(file, p, len, i * 1000u), 0);
        CHECK_EQ(finack_pcap_write(mem, p, len, i * 1000u), 0);
    }
    CHECK_EQ(finack_pcap_close(file), 0);
    size_t n;
    const uint8_t *bytes = finack_pcap_bytes(mem, &n);
    FILE *f = fopen(path, "rb");
    REQUIRE(f);
    uint8_t *disk = malloc(n + 1);
    REQUIRE(disk);
    CHECK_EQ(fread(disk, 1, n + 1, f), n);
    fclose(f);
    CHECK_MEM(disk, bytes, n);
    struct seen s = {0};
    CHECK_EQ(finack_pcap_read_file(path, collect, &s), 0);
    CHECK_EQ(s.count, 10);
    CHECK_U64(s.t[9], 9000);
    CHECK_EQ(s.len[9], 20 + 20 + 90);
    free(disk);
    finack_pcap_close(mem);
    unlink(path);
    CHECK_EQ(finack_pcap_read_file(path, collect, &s), -ENOENT);
    CHECK_EQ(finack_pcap_open_file(&file, "/nonexistent-dir/x.pcap"), -ENOENT);
}

/* ---- Reading what others write ----------------------------------------------------- */

static void test_read_big_endian_and_nanosecond(void)
{
    uint8_t p[64];
    size_t len = icmp_echo(p, false, ADDR_A, ADDR_B, 3);
    for (int big = 0; big < 2; big++) {
        for (int ns = 0; ns < 2; ns++) {
            struct blob b = {.big_endian = big};
            file_header(&b, ns ? 0xa1b23c4d : 0xa1b2c3d4, 2, 101);
            record(&b, 17, ns ? 123456789 : 123456, p, (uint32_t)len);
            record(&b, 18, ns ? 999999999 : 999999, p, (uint32_t)len);
            struct seen s;
            CHECK_EQ(read_blob(&b, &s), 0);
            REQUIRE(s.count == 2);
            CHECK_U64(s.t[0], 17123456);
            CHECK_U64(s.t[1], 18999999);
            CHECK_EQ(s.len[0], len);
            CHECK_MEM(s.bytes[0], p, len);
            /* byte order and resolution are seen in the magic */
            CHECK_EQ(b.data[0], big ? 0xa1 : (ns ? 0x4d : 0xd4));
        }
    }
}

static void test_read_linktype_ipv4_and_raw_skips_ipv6(void)
{
    uint8_t p[64], v6[40] = {0x60};
    size_t len = icmp_echo(p, true, ADDR_B, ADDR_A, 1);
    struct blob b = {0};
    file_header(&b, 0xa1b2c3d4, 2, 228);
    record(&b, 1, 0, p, (uint32_t)len);
    struct seen s;
    CHECK_EQ(read_blob(&b, &s), 0);
    CHECK_EQ(s.count, 1);

    b = (struct blob){0};
    file_header(&b, 0xa1b2c3d4, 2, 101);
    record(&b, 1, 0, v6, sizeof v6);
    record(&b, 2, 0, p, 0); /* empty record: no packet */
    record(&b, 3, 0, p, (uint32_t)len);
    CHECK_EQ(read_blob(&b, &s), 0);
    REQUIRE(s.count == 1);
    CHECK_U64(s.t[0], 3000000);
}

/* Ethernet: the 14-byte header goes, one VLAN tag is skipped, frames that
 * are not IPv4 are skipped, and the padding to 60 bytes is trimmed. */
static void test_read_ethernet(void)
{
    uint8_t ip[64];
    size_t len = tcp_segment(ip, ADDR_A, ADDR_B, 1, 2, 3, 4, 0x02, 0); /* 44 bytes */
    uint8_t frame[128] = {0};
    memset(frame, 0xaa, 12); /* MACs */
    struct blob b = {0};
    file_header(&b, 0xa1b2c3d4, 2, 1);
    put16(frame + 12, 0x0800);
    memcpy(frame + 14, ip, len);
    record(&b, 1, 0, frame, 60 + 4); /* padded, and a 4-byte FCS */
    put16(frame + 12, 0x0806);        /* ARP */
    record(&b, 2, 0, frame, 60);
    put16(frame + 12, 0x8100); /* VLAN 5, then IPv4 */
    put16(frame + 14, 5);
    put16(frame + 16, 0x0800);
    memcpy(frame + 18, ip, len);
    record(&b, 3, 0, frame, (uint32_t)(18 + len));
    put16(frame + 16, 0x86dd); /* VLAN, then IPv6 */
    record(&b, 4, 0, frame, (uint32_t)(18 + len));
    record(&b, 5, 0, frame, 10); /* a runt */
    struct seen s;
    CHECK_EQ(read_blob(&b, &s), 0);
    REQUIRE(s.count == 2);
    CHECK_U64(s.t[0], 1000000);
    CHECK_EQ(s.len[0], len);
    CHECK_MEM(s.bytes[0], ip, len);
    CHECK_U64(s.t[1], 3000000);
    CHECK_EQ(s.len[1], len);
    CHECK_MEM(s.bytes[1], ip, len);
}

static void test_read_linux_cooked(void)
{
    uint8_t ip[64];
    size_t len = icmp_echo(ip, false, ADDR_A, ADDR_B, 9);
    uint8_t frame[128] = {0};
    put16(frame, 4); /* sent by us */
    put16(frame + 2, 1);
    put16(frame + 4, 6);
    put16(frame + 14, 0x0800);
    memcpy(frame + 16, ip, len);
    struct blob b = {.big_endian = true};
    file_header(&b, 0xa1b2c3d4, 2, 113);
    record(&b, 1, 5, frame, (uint32_t)(16 + len));
    put16(frame + 14, 0x86dd);
    record(&b, 2, 0, frame, (uint32_t)(16 + len));
    struct seen s;
    CHECK_EQ(read_blob(&b, &s), 0);
    REQUIRE(s.count == 1);
    CHECK_U64(s.t[0], 1000005);
    CHECK_EQ(s.len[0], len);
    CHECK_MEM(s.bytes[0], ip, len);
}

static void test_callback_stops_the_walk(void)
{
    uint8_t p[64];
    size_t len = icmp_echo(p, false, ADDR_A, ADDR_B, 1);
    struct blob b = {0};
    file_header(&b, 0xa1b2c3d4, 2, 101);
    for (uint32_t i = 0; i < 5; i++) record(&b, i, 0, p, (uint32_t)len);
    struct seen s = {.stop_after = 2};
    CHECK_EQ(finack_pcap_read_memory(b.data, b.len, collect, &s), 7);
    CHECK_EQ(s.count, 2);
}

static void test_malformed_files_are_einval(void)
{
    uint8_t p[64];
    size_t len = icmp_echo(p, false, ADDR_A, ADDR_B, 1);
    struct seen s;
    struct blob good = {0};
    file_header(&good, 0xa1b2c3d4, 2, 101);
    record(&good, 1, 0, p, (uint32_t)len);
    CHECK_EQ(read_blob(&good, &s), 0);

    struct blob b = good;
    b.len = 0; /* empty */
    CHECK_EQ(read_blob(&b, &s), -EINVAL);
    b.len = 23; /* short file header */
    CHECK_EQ(read_blob(&b, &s), -EINVAL);
    b.len = 24 + 10; /* short record header */
    CHECK_EQ(read_blob(&b, &s), -EINVAL);
    b.len = good.len - 1; /* short record data */
    CHECK_EQ(read_blob(&b, &s), -EINVAL);

    b = good;
    b.data[0] = 0x00; /* bad magic */
    CHECK_EQ(read_blob(&b, &s), -EINVAL);
    b = good;
    b.data[4] = 1; /* version 1.4 */
    CHECK_EQ(read_blob(&b, &s), -EINVAL);
    b = good;
    b.data[20] = 105; /* 802.11: nothing we can read */
    CHECK_EQ(read_blob(&b, &s), -EINVAL);
    b = good;
    b.data[24 + 8 + 2] = 0x10; /* captured length 1 MiB */
    CHECK_EQ(read_blob(&b, &s), -EINVAL);

    /* pcapng is not pcap */
    struct blob ng = {0};
    blob_u32(&ng, 0x0a0d0d0a);
    blob_u32(&ng, 28);
    blob_u32(&ng, 0x1a2b3c4d);
    for (int i = 0; i < 4; i++) blob_u32(&ng, 0);
    CHECK_EQ(read_blob(&ng, &s), -EINVAL);

    /* a file truncated mid-record: the packets before it were still seen */
    b = good;
    record(&b, 2, 0, p, (uint32_t)len);
    b.len -= 5;
    CHECK_EQ(read_blob(&b, &s), -EINVAL);
    CHECK_EQ(s.count, 1);

    /* the same through a file */
    char path[] = "/tmp/finack_pcap_bad_XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    CHECK_EQ(write(fd, b.data, b.len), (ssize_t)b.len);
    close(fd);
    memset(&s, 0, sizeof s);
    CHECK_EQ(finack_pcap_read_file(path, collect, &s), -EINVAL);
    CHECK_EQ(s.count, 1);
    unlink(path);

    CHECK_EQ(finack_pcap_read_memory(NULL, 10, collect, &s), -EINVAL);
    CHECK_EQ(finack_pcap_read_memory(good.data, good.len, NULL, NULL), -EINVAL);
}

/* ---- Other tools read our files ------------------------------------------------------ */


static void write_sample_capture(struct finack_pcap *pcap)
{
    uint8_t p[256];
    finack_time_t t = 0;
    finack_pcap_write(pcap, p, icmp_echo(p, false, ADDR_A, ADDR_B, 1), t += 1000);
    finack_pcap_write(pcap, p, icmp_echo(p, true, ADDR_B, ADDR_A, 1), t += 1000);
    finack_pcap_write(pcap, p, tcp_segment(p, ADDR_A, ADDR_B, 40000, 80, 1000, 0, 0x02, 0),
                      t += 1000);
    finack_pcap_write(pcap, p, tcp_segment(p, ADDR_B, ADDR_A, 80, 40000, 5000, 1001, 0x12, 0),
                      t += 1000);
    finack_pcap_write(pcap, p, tcp_segment(p, ADDR_A, ADDR_B, 40000, 80, 1001, 5001, 0x18, 100),
                      t += 1000);
    finack_pcap_write(pcap, p, tcp_segment(p, ADDR_B, ADDR_A, 80, 40000, 5001, 1101, 0x11, 0),
                      t += 1000);
}

static void test_tshark_and_tcpdump_read_our_file(void)
{
    char path[] = "/tmp/finack_pcap_tools_XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    close(fd);
    struct finack_pcap *pcap;
    REQUIRE(finack_pcap_open_file(&pcap, path) == 0);
    write_sample_capture(pcap);
    REQUIRE(finack_pcap_close(pcap) == 0);
    char cmd[512];
    if (test_have_tool("tshark")) {
        /* -V shows every field; checksum checks are off by default in tshark */
        static const char *const bad[] = {"Malformed", "Bad]", "incorrect", "Expert Info (Error",
                                          "Expert Info (Warning", NULL};
        static const char *const want[] = {"Echo (ping) request", "Echo (ping) reply",
                                           "Flags: 0x012 (SYN, ACK)", "Header checksum status: Good",
                                           "[Checksum Status: Good]", NULL};
        snprintf(cmd, sizeof cmd,
                 "tshark -r %s -V -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE 2>&1",
                 path);
        CHECK(test_tool_accepts(cmd, bad, want));
        snprintf(cmd, sizeof cmd, "tshark -r %s 2>&1", path);
        static const char *const want_summary[] = {"10.0.0.1", "ICMP", "TCP", NULL};
        CHECK(test_tool_accepts(cmd, bad, want_summary));
    } else {
        printf("SKIP tshark not installed\n");
    }
    if (test_have_tool("tcpdump")) {
        /* -vv makes tcpdump verify the TCP checksum; "[|" marks a truncated
         * packet */
        static const char *const bad[] = {"bad cksum", "incorrect", "[|", "malformed", NULL};
        static const char *const want[] = {"ICMP echo request", "Flags [S.]", "length 100",
                                           NULL};
        snprintf(cmd, sizeof cmd, "tcpdump -nn -vv -r %s 2>&1", path);
        CHECK(test_tool_accepts(cmd, bad, want));
    } else {
        printf("SKIP tcpdump not installed\n");
    }
    unlink(path);
}

TEST_MAIN("pcap", TEST_CASE(test_header_bytes_exact), TEST_CASE(test_memory_round_trip_with_times),
          TEST_CASE(test_epoch_offsets_times), TEST_CASE(test_snaplen_cuts_long_packets),
          TEST_CASE(test_file_round_trip), TEST_CASE(test_read_big_endian_and_nanosecond),
          TEST_CASE(test_read_linktype_ipv4_and_raw_skips_ipv6), TEST_CASE(test_read_ethernet),
          TEST_CASE(test_read_linux_cooked), TEST_CASE(test_callback_stops_the_walk),
          TEST_CASE(test_malformed_files_are_einval),
          TEST_CASE(test_tshark_and_tcpdump_read_our_file))
