#!/usr/bin/env bash
# `finack cat` against Linux, both ways round, byte-exact, with half-close:
#   1. finack cat connects to a Linux nc -l: 2 MB each way at once;
#   2. Linux nc connects to finack cat -l: the same;
#   3. half-close, finack the client: a Linux server reads to EOF and only
#      then answers (the sha256 of what it read), so finack must keep
#      reading after its FIN;
#   4. half-close, finack the server: a Linux client sends, shuts down its
#      side, and reads finack's 1 MB to the end;
#   5. case 1 again with 2% loss and 2% reordering each way, captured.
# Case 3 also writes a --trace, which finack ladder must draw from
# SYN_SENT through TIME_WAIT.
#
# usage: bash tests/interop/cat_nc.sh /path/to/finack
# Exit 0 pass, 1 fail, 77 skipped.
set -u
finack=${1:?usage: cat_nc.sh /path/to/finack}
name=cat
. "$(dirname "$0")/lib/netns.sh"
ns_setup
need nc python3 sha256sum

head -c 2000000 /dev/urandom >"$tmp/a.bin"
head -c 2000000 /dev/urandom >"$tmp/b.bin"
same() { cmp -s "$1" "$2" || fail "$3: $(stat -c %s "$2") bytes, expected $(stat -c %s "$1") and the same bytes"; }

# wait_listen PORT: until something listens on the Linux side.
wait_listen() {
    for _ in $(seq 100); do
        in_ns ss -ltn "sport = :$1" | grep -q LISTEN && return 0
        sleep 0.05
    done
    fail "nothing listening on port $1"
}

# 1 and 5: finack cat → Linux nc -l
cat_to_nc() {
    local label=$1
    shift
    in_ns timeout 60 nc -l -N 10.77.0.1 5000 <"$tmp/b.bin" >"$tmp/nc.out" 2>"$tmp/nc.err" &
    local nc_pid=$!
    wait_listen 5000
    local status=0
    in_ns timeout 60 "$finack" cat --tun fa0 --addr 10.77.0.2/24 "$@" 10.77.0.1 5000 \
        <"$tmp/a.bin" >"$tmp/cat.out" 2>"$tmp/finack.err" || status=$?
    wait "$nc_pid" || fail "$label: nc -l exited with $? ($(head -n1 "$tmp/nc.err"))"
    [ "$status" -eq 0 ] || fail "$label: finack cat exited with $status"
    same "$tmp/a.bin" "$tmp/nc.out" "$label: finack → Linux"
    same "$tmp/b.bin" "$tmp/cat.out" "$label: Linux → finack"
    echo "$label: 2 MB each way, exact"
}
cat_to_nc "finack cat → nc -l"

# 2: Linux nc → finack cat -l
finack_start cat -l --port 6000 --tun fa0 --addr 10.77.0.2/24 <"$tmp/a.bin" >"$tmp/cat.out"
in_ns timeout 60 nc -N 10.77.0.2 6000 <"$tmp/b.bin" >"$tmp/nc.out" || fail "nc → finack cat -l"
finack_wait() {
    local status=0
    for _ in $(seq 100); do kill -0 "$finack_pid" 2>/dev/null || break; sleep 0.05; done
    wait "$finack_pid" || status=$?
    finack_pid=
    [ "$status" -eq 0 ] || fail "$1: finack cat -l exited with $status"
}
finack_wait "nc → finack cat -l"
same "$tmp/a.bin" "$tmp/nc.out" "nc → finack cat -l: finack → Linux"
same "$tmp/b.bin" "$tmp/cat.out" "nc → finack cat -l: Linux → finack"
echo "nc → finack cat -l: 2 MB each way, exact"

# 3: half-close with finack as the client
cat >"$tmp/server.py" <<'PY'
import hashlib, socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.77.0.1", 5001))
s.listen(1)
c, _ = s.accept()
h, n = hashlib.sha256(), 0
while True:
    d = c.recv(65536)
    if not d:
        break
    h.update(d)
    n += len(d)
c.sendall(f"{n} {h.hexdigest()}\n".encode())
c.close()
PY
in_ns timeout 60 python3 "$tmp/server.py" &
py_pid=$!
wait_listen 5001
in_ns timeout 60 "$finack" cat --tun fa0 --addr 10.77.0.2/24 --trace "$tmp/cat.trace" \
    10.77.0.1 5001 <"$tmp/a.bin" >"$tmp/cat.out" 2>"$tmp/finack.err" ||
    fail "half-close (finack client): exit $?"
wait "$py_pid" || fail "half-close (finack client): the server failed"
want="$(stat -c %s "$tmp/a.bin") $(sha256sum <"$tmp/a.bin" | cut -d' ' -f1)"
[ "$(cat "$tmp/cat.out")" = "$want" ] ||
    fail "half-close (finack client): server answered '$(cat "$tmp/cat.out")', expected '$want'"
echo "half-close, finack client: the answer after its FIN arrived"
# Its --trace, drawn: finack's side goes through the active close.
"$finack" ladder --ascii "$tmp/cat.trace" >"$tmp/cat.ladder" 2>"$tmp/ladder.err" ||
    fail "finack ladder on cat's --trace: $(head -n1 "$tmp/ladder.err")"
for st in SYN_SENT ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 TIME_WAIT; do
    grep -q "\[$st\]" "$tmp/cat.ladder" || fail "cat's trace drawn without [$st]"
done
echo "half-close, finack client: --trace drawn by finack ladder, SYN_SENT to TIME_WAIT"

# 4: half-close with finack as the server
head -c 1000000 "$tmp/b.bin" >"$tmp/b1.bin"
finack_start cat -l --port 6001 --tun fa0 --addr 10.77.0.2/24 <"$tmp/b1.bin" >"$tmp/cat.out"
cat >"$tmp/client.py" <<'PY'
import socket, sys
data = open(sys.argv[1], "rb").read()
s = socket.create_connection(("10.77.0.2", 6001))
s.sendall(data)
s.shutdown(socket.SHUT_WR)
out = bytearray()
while True:
    d = s.recv(65536)
    if not d:
        break
    out += d
open(sys.argv[2], "wb").write(out)
PY
in_ns timeout 60 python3 "$tmp/client.py" "$tmp/a.bin" "$tmp/py.out" || fail "half-close (finack server): client"
finack_wait "half-close (finack server)"
same "$tmp/a.bin" "$tmp/cat.out" "half-close, finack server: Linux → finack"
same "$tmp/b1.bin" "$tmp/py.out" "half-close, finack server: finack → Linux"
echo "half-close, finack server: exact both ways"

# 5: impaired
cat_to_nc "finack cat → nc -l, 2% loss + 2% reorder" --loss 0.02 --reorder 0.02 --seed 5 \
    --pcap "$tmp/cat.pcap"
check_capture "$tmp/cat.pcap" 5000
echo "PASS: finack cat and Linux nc, both ways, with half-close"
