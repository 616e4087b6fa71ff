#!/usr/bin/env python3
"""Write the seed corpus for fuzz_parsers into tests/fuzz/corpus/.

Valid packets built here without finack's code, so that the seeds do not
inherit its bugs: whole IPv4 packets (SYN, SYN-ACK, ACK with SACK, ICMP echo,
ICMP port unreachable quoting a TCP header) and a bare TCP segment and ICMP
message for the parsers the fuzzer calls directly (their TCP checksum uses
the fuzzer's fixed addresses 10.0.0.1 -> 10.0.0.2). Run from anywhere:
    python3 tests/fuzz/make_corpus.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
A, B = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])


def csum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ipv4(proto, payload, src=A, dst=B, ttl=64):
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0x4000, ttl,
                         proto, 0, src, dst)
    header = header[:10] + struct.pack("!H", csum(header)) + header[12:]
    return header + payload


def tcp(sport, dport, seq, ack, flags, window, options=b"", payload=b"", src=A, dst=B):
    assert len(options) % 4 == 0
    offset = (20 + len(options)) // 4
    header = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, offset << 4, flags, window,
                         0, 0) + options
    segment = header + payload
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(segment))
    check = csum(pseudo + segment)
    return segment[:16] + struct.pack("!H", check) + segment[18:]


def icmp(kind, code, word, payload):
    message = struct.pack("!BBHI", kind, code, 0, word) + payload
    return message[:2] + struct.pack("!H", csum(message)) + message[4:]


SYN_OPTIONS = bytes.fromhex("020405b4" "0402080a" "00000001" "00000000" "01030307")
SYNACK_OPTIONS = bytes.fromhex("020405b4" "0402080a" "00000002" "00000001" "01030307")
ACK_SACK_OPTIONS = bytes.fromhex("0101080a" "00000010" "00000011" "0101050a"
                                 "00002000" "00003000")

syn = tcp(40000, 80, 1000, 0, 0x02, 64240, SYN_OPTIONS)
synack = tcp(80, 40000, 5000, 1001, 0x12, 65160, SYNACK_OPTIONS, src=B, dst=A)
ack_sack = tcp(40000, 80, 1001, 5001, 0x18, 502, ACK_SACK_OPTIONS, b"GET / HTTP")
echo = icmp(8, 0, 0x12340001, b"abcdefghijklmnop")

# A SYN Linux sent on lo, captured with tcpdump (TCP checksum completed: the
# capture held the partial sum that checksum offload leaves).
LINUX_SYN = bytes.fromhex("4500003c038c40004006392e7f0000017f000001"
                          "a1740009bad0ef9800000000a002ffd7aee70000"
                          "0204ffd70402080ab8999c96000000000103030a")

SEEDS = {
    "ipv4_tcp_syn_linux_capture": LINUX_SYN,
    "ipv4_tcp_syn": ipv4(6, syn),
    "ipv4_tcp_synack": ipv4(6, synack, src=B, dst=A),
    "ipv4_tcp_ack_sack_data": ipv4(6, ack_sack),
    "ipv4_icmp_echo": ipv4(1, echo),
    # Port unreachable from B quoting our SYN's IPv4 header and whole TCP header.
    "ipv4_icmp_unreach_tcp": ipv4(1, icmp(3, 3, 0, ipv4(6, syn)[:40]), src=B, dst=A),
    "tcp_syn": syn,
    "tcp_ack_sack_data": ack_sack,
    "icmp_echo": echo,
}

os.makedirs(os.path.join(HERE, "corpus"), exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join(HERE, "corpus", name + ".bin"), "wb") as f:
        f.write(data)
