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
ns=finack-ping-$$
tmp=
finack_pid=

skip() { echo "SKIP: $*"; exit 77; }
fail() {
    echo "FAIL: $*"
    [ -n "$tmp" ] && [ -s "$tmp/finack.err" ] && sed 's/^/  finack: /' "$tmp/finack.err"
    exit 1
}
in_ns() { ip netns exec "$ns" "$@"; }

cleanup() {
    if [ -n "$finack_pid" ]; then
        kill -TERM "$finack_pid" 2>/dev/null
        wait "$finack_pid" 2>/dev/null
    fi
    ip netns del "$ns" 2>/dev/null
    [ -n "$tmp" ] && rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP  # run the EXIT trap on interruption too

[ -x "$finack" ] || fail "no finack executable at '$finack'"
[ "$(id -u)" -eq 0 ] || skip "needs root for network namespaces and TUN devices"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
command -v ip >/dev/null || skip "no 'ip' command (apt-get install iproute2)"
command -v ping >/dev/null || skip "no 'ping' command (apt-get install iputils-ping)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/finack-ping.XXXXXX") || fail "mktemp"
ip netns add "$ns" 2>"$tmp/netns.err" ||
    skip "network namespaces not permitted: $(head -n1 "$tmp/netns.err")"
in_ns ip tuntap add dev fa0 mode tun 2>"$tmp/tuntap.err" ||
    skip "cannot create a TUN device: $(head -n1 "$tmp/tuntap.err")"
# No IPv6 on fa0: router solicitations would only clutter the capture.
in_ns sysctl -qw net.ipv6.conf.fa0.disable_ipv6=1 2>/dev/null || true
in_ns ip addr add 10.77.0.1/24 dev fa0 || fail "ip addr add"
in_ns ip link set fa0 up || fail "ip link set fa0 up"

# Not through in_ns: a backgrounded function is a subshell, and $! must be
# finack itself (ip netns exec execs it) for the signals below to reach it.
ip netns exec "$ns" "$finack" up --tun fa0 --addr 10.77.0.2/24 --pcap "$tmp/ping.pcap" \
    2>"$tmp/finack.err" &
finack_pid=$!

# finack prints "... running" once the device is attached.
for _ in $(seq 50); do
    grep -q ' running$' "$tmp/finack.err" && break
    kill -0 "$finack_pid" 2>/dev/null || fail "finack up exited early"
    sleep 0.1
done
grep -q ' running$' "$tmp/finack.err" || fail "finack up did not start within 5 s"

in_ns ping -c 5 -i 0.2 -W 2 10.77.0.2 >"$tmp/ping.out" 2>&1
grep -E 'packets transmitted|rtt' "$tmp/ping.out"
grep -q '5 packets transmitted, 5 received' "$tmp/ping.out" ||
    { cat "$tmp/ping.out"; fail "expected 5 replies to 5 pings"; }

kill -INT "$finack_pid"
for _ in $(seq 50); do
    kill -0 "$finack_pid" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$finack_pid" 2>/dev/null && fail "finack up still running 5 s after SIGINT"
status=0
wait "$finack_pid" || status=$?
finack_pid=
[ "$status" -eq 0 ] || fail "finack up exited with status $status after SIGINT"
cat "$tmp/finack.err"

grep -Eq '^IcmpInEchos +5$' "$tmp/finack.err" || fail "counters: expected IcmpInEchos 5"
grep -Eq '^IcmpOutEchoReps +5$' "$tmp/finack.err" || fail "counters: expected IcmpOutEchoReps 5"

[ -s "$tmp/ping.pcap" ] || fail "no capture written"
if command -v tshark >/dev/null; then
    # tshark warns on stderr when run as root; only its stdout matters here.
    tshark -r "$tmp/ping.pcap" >"$tmp/tshark.out" 2>/dev/null ||
        fail "tshark cannot read the capture"
    if grep -q Malformed "$tmp/tshark.out"; then
        cat "$tmp/tshark.out"
        fail "tshark finds malformed packets"
    fi
    requests=$(tshark -r "$tmp/ping.pcap" -Y 'icmp.type == 8' 2>/dev/null | wc -l)
    replies=$(tshark -r "$tmp/ping.pcap" -Y 'icmp.type == 0' 2>/dev/null | wc -l)
    echo "capture: $requests echo requests, $replies echo replies"
    [ "$requests" -eq 5 ] && [ "$replies" -eq 5 ] ||
        { cat "$tmp/tshark.out"; fail "expected 10 ICMP packets in the capture"; }
else
    echo "note: no tshark, capture not checked"
fi
echo "PASS: Linux pinged finack 5 times over TUN"
