#!/usr/bin/env bash
# A Linux-to-Linux TCP connection captured by tcpdump and drawn by finack
# ladder: inside a network namespace this script creates and removes, a
# Python server and client on 127.0.0.1 exchange a few kilobytes, the client
# closes first, the server a moment later (so that its ACK of the FIN and
# its own FIN are separate segments). The ladder must show the handshake and
# the close with each end's states on its own side: SYN_SENT, SYN_RCVD,
# ESTABLISHED, FIN_WAIT_1, CLOSE_WAIT, FIN_WAIT_2, LAST_ACK, TIME_WAIT.
#
# usage: bash tests/interop/ladder_pcap.sh /path/to/finack
# Exit 0 pass, 1 fail, 77 skipped (not root, no ip, no tcpdump, no python3,
# no namespaces).
set -u
finack=${1:?usage: ladder_pcap.sh /path/to/finack}
name=ladder
. "$(dirname "$0")/lib/netns.sh"
ns_create
need tcpdump python3
python=$(command -v python3)
port=8765
fail_show="$tmp/ladder.txt"

# Not through in_ns: $! must be tcpdump itself (ip netns exec execs it) for
# the signal below to reach it. --immediate-mode and -U hand over and write
# each packet as it comes (else the last ones may wait in the kernel's
# buffer past the SIGINT); -Z root keeps the right to write into our private
# directory.
ip netns exec "$ns" tcpdump -i lo -n --immediate-mode -U -Z root -w "$tmp/conn.pcap" "tcp port $port" \
    2>"$tmp/tcpdump.err" &
tcpdump_pid=$!
for _ in $(seq 50); do
    grep -q 'listening on' "$tmp/tcpdump.err" && break
    kill -0 "$tcpdump_pid" 2>/dev/null || fail "tcpdump exited: $(head -n1 "$tmp/tcpdump.err")"
    sleep 0.1
done
grep -q 'listening on' "$tmp/tcpdump.err" || fail "tcpdump did not start within 5 s"

cat >"$tmp/conn.py" <<PY
import socket, threading, time
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", $port))
srv.listen(1)
got = []
def serve():
    conn, _ = srv.accept()
    while True:
        data = conn.recv(65536)
        if not data:
            break
        got.append(len(data))
    time.sleep(0.5)   # CLOSE_WAIT for a while: the FIN's ACK goes out alone
    conn.close()
t = threading.Thread(target=serve)
t.start()
cli = socket.create_connection(("127.0.0.1", $port))
cli.sendall(b"x" * 3000)
time.sleep(0.1)
cli.close()           # the client closes first
t.join(5)
srv.close()
assert sum(got) == 3000, got
print("server read", sum(got), "bytes")
PY
in_ns "$python" "$tmp/conn.py" >"$tmp/conn.out" 2>&1 || fail "the connection: $(tail -n1 "$tmp/conn.out")"
sleep 0.5  # the last ACK reaches the capture

kill -INT "$tcpdump_pid"
wait "$tcpdump_pid" 2>/dev/null
tcpdump_pid=
[ -s "$tmp/conn.pcap" ] || fail "tcpdump wrote no capture"
packets=$(tcpdump -n -r "$tmp/conn.pcap" 2>/dev/null | wc -l)
echo "captured $packets packets"

"$finack" ladder "$tmp/conn.pcap" >"$tmp/ladder.txt" 2>"$tmp/ladder.err" ||
    fail "finack ladder: $(cat "$tmp/ladder.err")"
cat "$tmp/ladder.txt"

# Each state on its side: the client's left of its line, the server's right.
left() { grep -Eq "\[$1\] [│|]" "$tmp/ladder.txt" || fail "no [$1] on the client's side"; }
right() { grep -Eq "[│|] \[$1\]" "$tmp/ladder.txt" || fail "no [$1] on the server's side"; }
left SYN_SENT
right LISTEN
right SYN_RCVD
left ESTABLISHED
right ESTABLISHED
left FIN_WAIT_1
right CLOSE_WAIT
left FIN_WAIT_2
right LAST_ACK
left TIME_WAIT
right CLOSED
grep -Eq '\[SYN_SENT\] [│|][-─]+ SYN seq=0 ' "$tmp/ladder.txt" || fail "the SYN is not the first arrow"
grep -Eq 'SYN\+ACK seq=0 ack=1 .*[│|] \[SYN_RCVD\]' "$tmp/ladder.txt" || fail "no SYN-ACK from the server"
grep -Eq '\[FIN_WAIT_1\] [│|][-─]+ FIN\+ACK seq=3001 ack=1 ' "$tmp/ladder.txt" ||
    fail "no FIN from the client after its 3000 bytes"
grep -q 'len=3000' "$tmp/ladder.txt" || fail "the 3000 bytes are not drawn"

"$finack" ladder --ascii "$tmp/conn.pcap" >"$tmp/ascii.txt" || fail "finack ladder --ascii"
LC_ALL=C grep -q '[^ -~]' "$tmp/ascii.txt" && fail "--ascii output has non-ASCII bytes"
"$finack" ladder --format svg "$tmp/conn.pcap" --out "$tmp/conn.svg" || fail "finack ladder --format svg"
"$python" -c 'import xml.dom.minidom,sys; xml.dom.minidom.parse(sys.argv[1])' "$tmp/conn.svg" ||
    fail "the SVG is not well-formed"
echo "PASS: a Linux TCP connection captured by tcpdump is drawn with both ends' states"
