#!/usr/bin/env bash
# Bulk TCP over real links, in network namespaces this script creates and
# removes (root only; no traffic leaves them):
#   - over a TUN device: Linux -> finack and finack -> Linux, then the same
#     with lwIP (Debian's liblwip-dev) in finack's place;
#   - over a veth pair between two namespaces: Linux -> Linux, the yardstick.
# Each line is the receiver's: bytes, seconds from first byte to EOF, MB/s,
# TCP segments received per second. Every byte is checked.
#
# usage: bench/tun.sh [BYTES] [REPEAT]      (default 200000000 bytes, 3 runs)
set -euo pipefail
cd "$(dirname "$0")/.."
bytes=${1:-200000000}
repeat=${2:-3}
[ "$(id -u)" = 0 ] || { echo "bench/tun.sh: needs root (namespaces, TUN)" >&2; exit 1; }
cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DFINACK_BENCH=ON >/dev/null
cmake --build build/bench --target finack_tun_bench -j "$(nproc)" >/dev/null
bin=$(pwd)/build/bench/bench/finack_tun_bench

ns=finack-tb-$$ nsa=finack-tba-$$ nsb=finack-tbb-$$
tmp=$(mktemp -d)
cleanup() {
    jobs -p | xargs -r kill 2>/dev/null || true
    for n in "$ns" "$nsa" "$nsb"; do ip netns del "$n" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" tuntap add dev tunb mode tun
ip -n "$ns" addr add 10.88.0.1/24 dev tunb
ip -n "$ns" link set tunb up
ip netns add "$nsa"
ip netns add "$nsb"
ip link add vetha netns "$nsa" type veth peer name vethb netns "$nsb"
ip -n "$nsa" addr add 10.89.0.1/24 dev vetha
ip -n "$nsb" addr add 10.89.0.2/24 dev vethb
ip -n "$nsa" link set vetha up
ip -n "$nsb" link set vethb up

# run_pair NS_SINK NS_SOURCE "sink args" "source args": the sink's line.
run_pair() {
    local out=$tmp/sink.out
    : >"$out"
    # shellcheck disable=SC2086
    ip netns exec "$1" "$bin" $3 >"$out" 2>"$tmp/sink.err" &
    local pid=$!
    for _ in $(seq 100); do grep -q ready "$out" && break; sleep 0.05; done
    # shellcheck disable=SC2086
    ip netns exec "$2" "$bin" $4 --bytes "$bytes" >/dev/null 2>"$tmp/source.err" ||
        { echo "source failed: $(cat "$tmp/source.err")"; }
    wait "$pid" || echo "sink failed: $(cat "$tmp/sink.err")"
    grep -v ready "$out" || true
}

tun="--tun tunb --addr 10.88.0.2/24"
echo "# $bytes bytes per run, $repeat runs each; receiver's figures"
for i in $(seq "$repeat"); do
    echo "## run $i"
    printf 'linux->finack tun  '; run_pair "$ns" "$ns" "finack sink $tun" "linux source --peer 10.88.0.2:5001"
    printf 'finack->linux tun  '; run_pair "$ns" "$ns" "linux sink" "finack source $tun --peer 10.88.0.1:5001"
    printf 'linux->lwip   tun  '; run_pair "$ns" "$ns" "lwip sink $tun" "linux source --peer 10.88.0.2:5001"
    printf 'lwip->linux   tun  '; run_pair "$ns" "$ns" "linux sink" "lwip source $tun --peer 10.88.0.1:5001"
    printf 'linux->linux veth  '; run_pair "$nsb" "$nsa" "linux sink" "linux source --peer 10.89.0.2:5001"
done
