#!/usr/bin/env bash
# Linux pings finack over a TUN device, inside a network namespace this script
# creates and removes: the kernel side is 10.77.0.1/24 on fa0, finack is
# 10.77.0.2. Checks that 5 pings get 5 replies, that finack's counters agree,
# and (with tshark) that the capture is 10 well-formed ICMP packets.
#
# usage: bash tests/interop/ping.sh /path/to/finack
# Exit 0 pass, 1 fail, 77 skipped (not root, no TUN, no ip, no namespaces).
set -u
finack=${1:?usage: ping.sh /path/to/finack}
name=ping
. "$(dirname "$0")/lib/netns.sh"
ns_setup
need ping

finack_start up --tun fa0 --addr 10.77.0.2/24 --pcap "$tmp/ping.pcap"
in_ns ping -c 5 -i 0.2 -W 2 10.77.0.2 >"$tmp/ping.out" 2>&1
grep -E 'packets transmitted|rtt' "$tmp/ping.out"
grep -q '5 packets transmitted, 5 received' "$tmp/ping.out" ||
    { cat "$tmp/ping.out"; fail "expected 5 replies to 5 pings"; }
finack_stop  # finack up prints its counters on the way out
cat "$tmp/finack.err"
grep -Eq '^IcmpInEchos +5$' "$tmp/finack.err" || fail "counters: expected IcmpInEchos 5"
grep -Eq '^IcmpOutEchoReps +5$' "$tmp/finack.err" || fail "counters: expected IcmpOutEchoReps 5"

check_capture "$tmp/ping.pcap"
if command -v tshark >/dev/null; then
    requests=$(tshark -r "$tmp/ping.pcap" -Y 'icmp.type == 8' 2>/dev/null | wc -l)
    replies=$(tshark -r "$tmp/ping.pcap" -Y 'icmp.type == 0' 2>/dev/null | wc -l)
    echo "capture: $requests echo requests, $replies echo replies"
    [ "$requests" -eq 5 ] && [ "$replies" -eq 5 ] || fail "expected 10 ICMP packets in the capture"
fi
echo "PASS: Linux pinged finack 5 times over TUN"
