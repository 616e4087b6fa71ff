#!/usr/bin/env bash
# Connection refused, both ways:
#   Linux connecting to a port finack does not listen on gets ECONNREFUSED
#   (finack answers the SYN with RST);
#   finack cat connecting to a closed Linux port prints one line
#   "finack cat: connect 10.77.0.1:5999: Connection refused" and exits 1.
#
# usage: bash tests/interop/refused.sh /path/to/finack
# Exit 0 pass, 1 fail, 77 skipped.
set -u
finack=${1:?usage: refused.sh /path/to/finack}
name=refused
. "$(dirname "$0")/lib/netns.sh"
ns_setup
need python3

finack_start echo --tun fa0 --addr 10.77.0.2/24 --port 7 --pcap "$tmp/refused.pcap"
out=$(in_ns timeout 10 python3 -c '
import errno, socket
s = socket.socket()
s.settimeout(5)
try:
    s.connect(("10.77.0.2", 80))
    print("connected")
except OSError as e:
    print(errno.errorcode.get(e.errno, e))
' 2>&1)
finack_stop
echo "Linux → finack port 80: $out"
[ "$out" = ECONNREFUSED ] || fail "expected ECONNREFUSED, got '$out'"
check_capture "$tmp/refused.pcap"

status=0
in_ns timeout 20 "$finack" cat --tun fa0 --addr 10.77.0.2/24 10.77.0.1 5999 </dev/null \
    >"$tmp/out" 2>"$tmp/err" || status=$?
echo "finack cat → Linux port 5999: exit $status: $(cat "$tmp/err")"
[ "$status" -eq 1 ] || fail "expected exit 1, got $status"
[ "$(cat "$tmp/err")" = "finack cat: connect 10.77.0.1:5999: Connection refused" ] ||
    fail "expected one line 'finack cat: connect 10.77.0.1:5999: Connection refused'"
[ ! -s "$tmp/out" ] || fail "expected nothing on stdout"
in_ns ip link show fa0 >/dev/null || fail "the test's own device fa0 vanished"
echo "PASS: connection refused, both ways"
