#!/usr/bin/env bash
# curl and wrk against `finack http` over TUN:
#   a 50 MB file intact (sha256); HEAD (headers, no body); 404; 400 for a
#   '..' path and for a malformed request; 405 for POST; two requests on one
#   kept-alive connection; Connection: close honoured; the whole exchange
#   captured and checked with tshark (HTTP dissected);
#   then wrk -t2 -c200 -d5s on keep-alive connections: zero socket errors,
#   zero non-2xx responses. Prints the download rate and wrk's requests/s.
#
# usage: bash tests/interop/http_curl.sh /path/to/finack
# Exit 0 pass, 1 fail, 77 skipped.
set -u
finack=${1:?usage: http_curl.sh /path/to/finack}
name=http
. "$(dirname "$0")/lib/netns.sh"
ns_setup
need curl wrk nc sha256sum

www=$tmp/www
mkdir -p "$www/sub" || fail "mkdir"
printf '<!doctype html><title>finack</title><p>hello</p>\n' >"$www/index.html"
printf 'plain text\n' >"$www/sub/a.txt"
mkfifo "$www/fifo" || fail "mkfifo"  # opening it must not stall the server
head -c 50000000 /dev/urandom >"$www/big.bin"
url=http://10.77.0.2

finack_start http --tun fa0 --addr 10.77.0.2/24 --port 80 --root "$www" --pcap "$tmp/http.pcap"

# The 50 MB file.
t0=$(now_ms)
in_ns curl -sS --max-time 60 -o "$tmp/big.out" -w '%{http_code} %{size_download}\n' \
    "$url/big.bin" >"$tmp/curl.out" 2>&1 || fail "curl big.bin: $(cat "$tmp/curl.out")"
t1=$(now_ms)
[ "$(cat "$tmp/curl.out")" = "200 50000000" ] || fail "big.bin: curl says $(cat "$tmp/curl.out")"
[ "$(sha256sum <"$www/big.bin")" = "$(sha256sum <"$tmp/big.out")" ] || fail "big.bin differs"
ms=$((t1 - t0)); [ "$ms" -gt 0 ] || ms=1
echo "GET 50 MB: intact, ${ms} ms, $((50000 * 1000 / ms)) KB/s"

# code PATH [curl options...]: the status code curl gets.
code() {
    local path=$1
    shift
    in_ns curl -sS --max-time 10 -o "$tmp/body" -w '%{http_code}' "$@" "$url$path" 2>&1
}
[ "$(code /)" = 200 ] && grep -q hello "$tmp/body" || fail "GET / is not index.html"
[ "$(code /sub/a.txt)" = 200 ] && [ "$(cat "$tmp/body")" = "plain text" ] || fail "GET /sub/a.txt"
[ "$(code /missing)" = 404 ] || fail "expected 404 for /missing"
[ "$(code /../../etc/passwd --path-as-is)" = 400 ] || fail "expected 400 for a '..' path"
[ "$(code /sub/%2e%2e/%2e%2e/etc/passwd --path-as-is)" = 400 ] ||
    fail "expected 400 for an encoded '..' path"
[ "$(code / -X POST -d x=1)" = 405 ] || fail "expected 405 for POST"
[ "$(code /fifo)" = 404 ] || fail "expected 404 for a FIFO, not a stalled server"
[ "$(code /)" = 200 ] || fail "GET / after the FIFO"
echo "GET /, /sub/a.txt: 200; /missing, /fifo: 404; '..' paths: 400; POST: 405"

# An answer to a request the server does not read to the end (a head over
# 8 KiB: 431) must reach the client, not be reset away by unread bytes.
cat >"$tmp/big_head.py" <<'PY'
import socket, sys
s = socket.create_connection(("10.77.0.2", 80), timeout=10)
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 30000 + b"\r\n\r\n")
got = b""
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        got += d
except ConnectionResetError:
    print("reset after %d bytes: %r" % (len(got), got[:40]))
    sys.exit(1)
print(got.split(b"\r\n")[0].decode())
sys.exit(0 if got.startswith(b"HTTP/1.1 431") else 1)
PY
for i in 1 2 3; do
    in_ns timeout 20 python3 "$tmp/big_head.py" >"$tmp/big_head.out" 2>&1 ||
        fail "431 for an oversized head: $(cat "$tmp/big_head.out")"
done
echo "oversized head: $(cat "$tmp/big_head.out"), read whole, not reset (3 tries)"

# HEAD: the GET's headers, no body.
in_ns curl -sS --max-time 10 -I "$url/big.bin" >"$tmp/head.out" 2>&1 || fail "curl -I"
tr -d '\r' <"$tmp/head.out" >"$tmp/head.txt"
grep -qx 'HTTP/1.1 200 OK' "$tmp/head.txt" || fail "HEAD: $(head -n1 "$tmp/head.txt")"
grep -qix 'Content-Length: 50000000' "$tmp/head.txt" || fail "HEAD: no Content-Length 50000000"
grep -qix 'Content-Type: text/html; charset=utf-8' <(in_ns curl -sSI "$url/" | tr -d '\r') ||
    fail "HEAD /: Content-Type is not text/html"
# A HEAD then a GET on one connection: a body after HEAD would corrupt the GET.
printf 'HEAD /sub/a.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /sub/a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
    in_ns timeout 10 nc 10.77.0.2 80 | tr -d '\r' >"$tmp/pipe.txt"
[ "$(grep -c '^HTTP/1.1 200 OK$' "$tmp/pipe.txt")" -eq 2 ] && [ "$(tail -n1 "$tmp/pipe.txt")" = "plain text" ] ||
    { cat "$tmp/pipe.txt"; fail "HEAD then GET on one connection"; }
echo "HEAD: headers with Content-Length, no body (pipelined HEAD+GET intact)"

# Keep-alive: curl reuses the connection for a second URL.
in_ns curl -sS -v --max-time 10 -o /dev/null -o /dev/null "$url/" "$url/sub/a.txt" \
    >"$tmp/ka.out" 2>&1 || fail "curl keep-alive"
grep -qi 're-using existing connection\|reusing existing connection' "$tmp/ka.out" ||
    fail "curl did not reuse the connection"
# Connection: close: the response says so and the server closes.
in_ns curl -sS -v --max-time 10 -o /dev/null -H 'Connection: close' "$url/" >"$tmp/close.out" 2>&1 ||
    fail "curl Connection: close"
grep -qi '< Connection: close' "$tmp/close.out" || fail "no 'Connection: close' in the response"
# Malformed request line.
printf 'GARBAGE\r\n\r\n' | in_ns timeout 10 nc 10.77.0.2 80 | head -n1 | tr -d '\r' >"$tmp/bad.txt"
[ "$(cat "$tmp/bad.txt")" = "HTTP/1.1 400 Bad Request" ] || fail "malformed request: $(cat "$tmp/bad.txt")"
echo "keep-alive reused; Connection: close honoured; malformed request: 400"

finack_stop
check_capture "$tmp/http.pcap"

# wrk: 200 keep-alive connections for 5 s.
finack_start http --tun fa0 --addr 10.77.0.2/24 --port 80 --root "$www"
in_ns wrk -t2 -c200 -d5s --timeout 5s "$url/" >"$tmp/wrk.out" 2>&1 || fail "wrk failed: $(cat "$tmp/wrk.out")"
finack_stop
sed 's/^/  /' "$tmp/wrk.out"
if grep -q 'Socket errors' "$tmp/wrk.out"; then fail "wrk: $(grep 'Socket errors' "$tmp/wrk.out")"; fi
if grep -q 'Non-2xx' "$tmp/wrk.out"; then fail "wrk: $(grep 'Non-2xx' "$tmp/wrk.out")"; fi
requests=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$tmp/wrk.out")
[ -n "$requests" ] && [ "$requests" -gt 0 ] || fail "wrk made no requests"
echo "wrk -c200 -d5s: $requests requests, $(sed -n 's/^Requests\/sec: *//p' "$tmp/wrk.out") requests/s, no errors"

# --idle: a client that connects and sends half a request is closed after
# the idle time, while one that keeps talking is not.
finack_start http --tun fa0 --addr 10.77.0.2/24 --port 80 --root "$www" --idle 1
cat >"$tmp/idle.py" <<'PY'
import socket, sys, time
t0 = time.monotonic()
quiet = socket.create_connection(("10.77.0.2", 80), timeout=20)
quiet.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")     # never finished
busy = socket.create_connection(("10.77.0.2", 80), timeout=20)
for _ in range(6):                                      # 3 s, a request every 0.5 s
    busy.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    if not busy.recv(65536):
        print("the busy connection was closed"); sys.exit(1)
    time.sleep(0.5)
try:
    closed = quiet.recv(1) == b""
except ConnectionResetError:
    closed = True
quiet_s = time.monotonic() - t0
print("quiet connection closed: %s; busy one served for %.1f s" % (closed, quiet_s))
sys.exit(0 if closed else 1)
PY
in_ns timeout 30 python3 "$tmp/idle.py" >"$tmp/idle.out" 2>&1 || fail "--idle 1: $(cat "$tmp/idle.out")"
finack_stop
echo "--idle 1: $(cat "$tmp/idle.out")"
echo "PASS: finack http served curl and wrk"
