#!/usr/bin/env bash
# Linux's iperf3 client against `finack iperf3 -s` over TUN: Linux sending
# (-t 3), finack sending (-R -t 3), four parallel streams (-P 4 -t 2), and
# Linux sending over 1% loss each way (-t 3); each must end with iperf3
# exit 0 and bytes received. A 2 MB test (-n 2M) is captured and checked.
# A UDP test is refused. Then `finack iperf3 -c` against Linux's
# `iperf3 -s` (-t 2, and -P 2): finack sending, the server's count must be
# above zero and iperf3 -s must exit 0. Prints the receiver rate for each.
#
# usage: bash tests/interop/iperf3.sh /path/to/finack
# Exit 0 pass, 1 fail, 77 skipped.
set -u
finack=${1:?usage: iperf3.sh /path/to/finack}
name=iperf3
. "$(dirname "$0")/lib/netns.sh"
ns_setup
need iperf3 python3

# client LABEL [iperf3 options...]
client() {
    local label=$1
    shift
    in_ns timeout 30 iperf3 -c 10.77.0.2 -J "$@" >"$tmp/iperf3.json" 2>"$tmp/iperf3.err" ||
        fail "$label: iperf3 exit $?: $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("error",""))' "$tmp/iperf3.json" 2>/dev/null) $(head -n1 "$tmp/iperf3.err")"
    python3 - "$tmp/iperf3.json" "$label" <<'PY' || fail "$label: no bytes received"
import json, sys
r = json.load(open(sys.argv[1]))
s = r["end"]["sum_received"]
rt = r["end"].get("sum_sent", {}).get("retransmits")
print(f"{sys.argv[2]}: {s['bytes'] / 1e6:.1f} MB in {s['seconds']:.2f} s, "
      f"{s['bits_per_second'] / 1e6:.0f} Mbit/s" + (f", {rt} retransmits" if rt is not None else ""))
sys.exit(0 if s["bytes"] > 0 else 1)
PY
}

finack_start iperf3 -s --tun fa0 --addr 10.77.0.2/24
client "Linux → finack, -t 3" -t 3
client "finack → Linux, -R -t 3" -R -t 3
client "4 streams, -P 4 -t 2" -P 4 -t 2
status=0
in_ns timeout 10 iperf3 -c 10.77.0.2 -u -t 1 >"$tmp/udp.out" 2>&1 || status=$?
[ "$status" -ne 0 ] || fail "a UDP test was not refused"
echo "UDP test: refused ($(grep -o 'error - .*' "$tmp/udp.out" | head -n1))"
finack_stop

finack_start iperf3 -s --tun fa0 --addr 10.77.0.2/24 --loss 0.01 --seed 4
client "Linux → finack over 1% loss, -t 3" -t 3
finack_stop

finack_start iperf3 -s --tun fa0 --addr 10.77.0.2/24 --pcap "$tmp/iperf3.pcap"
client "captured, -n 2M" -n 2M
finack_stop
check_capture "$tmp/iperf3.pcap"

# finack's client against Linux's server: one test each (-1).
for streams in 1 2; do
    in_ns timeout 30 iperf3 -s -1 -B 10.77.0.1 >"$tmp/iperf3s.out" 2>&1 &
    server_pid=$!
    for _ in $(seq 100); do in_ns ss -tln | grep -q ':5201 ' && break; sleep 0.05; done
    in_ns timeout 30 "$finack" iperf3 -c 10.77.0.1 -t 2 -P "$streams" --tun fa0 \
        --addr 10.77.0.2/24 >"$tmp/client.out" 2>"$tmp/client.err" ||
        fail "finack iperf3 -c -P $streams: exit $?: $(head -n1 "$tmp/client.err")"
    wait "$server_pid" || fail "iperf3 -s exited $? after finack's test: $(tail -n2 "$tmp/iperf3s.out")"
    line=$(cat "$tmp/client.out")
    echo "finack → Linux iperf3 -s, -P $streams: ${line#finack iperf3: }"
    got=$(sed -n 's/.*server received \([0-9]*\) bytes.*/\1/p' "$tmp/client.out")
    [ -n "$got" ] && [ "$got" -gt 0 ] || fail "finack iperf3 -c: the server received nothing"
    grep -q "receiver" "$tmp/iperf3s.out" || fail "iperf3 -s printed no receiver line"
done
echo "PASS: iperf3 measured finack"
