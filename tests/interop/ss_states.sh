#!/usr/bin/env bash
# finack ss beside Linux's ss -tan, on both ends of the same TCP connection:
# the seed article's close sequences, seen from each side.
#
#   1. Linux client, finack server (finack cat -l); Linux closes first. While
#      the finack application has not closed, finack ss shows CLOSE-WAIT and
#      Linux FIN-WAIT-2; once it closes, Linux shows TIME-WAIT and finack's
#      row goes (LAST-ACK, then closed).
#   2. finack client (finack cat), Linux server; finack closes first: finack
#      ss shows FIN-WAIT-2 while Linux, whose application has not closed,
#      shows CLOSE-WAIT; when Linux closes, finack reaches TIME-WAIT (cat
#      then exits).
#   3. finack ss with the socket file of a process that died (SIGKILL):
#      the file is removed, the table is empty, exit 0.
#   4. A finack server (finack http) closes first after an HTTP/1.0
#      response; the Linux client holds on: finack ss shows FIN-WAIT-2 (no
#      socket, its timeout running) and Linux CLOSE-WAIT; when Linux
#      closes, finack ss shows TIME-WAIT with its 2·MSL timer, while the
#      server process lives on.
#
# Everything runs in a network namespace this script creates (a TUN device
# fa0 with Linux at 10.77.0.1 and finack at 10.77.0.2) and removes; no
# packet leaves it. Control sockets go to a temporary FINACK_RUN_DIR.
#
# usage: bash tests/interop/ss_states.sh /path/to/finack
# Exit 0 pass, 1 fail, 77 skip (not root, no TUN, no ip or python3). Cases
# 1, 2 and 4 are skipped (and said so) while finack cat does not serve a
# control socket.
set -u

finack=${1:?usage: ss_states.sh /path/to/finack}
ns=finack-ss-$$
tmp=
bg_pids=()
failures=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
skip() { echo "SKIP: $*"; exit 77; }
in_ns() { ip netns exec "$ns" "$@"; }

cleanup() {
    exec 3>&- 4>&-
    for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${bg_pids[@]}"; do wait "$p" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
    [ -n "$tmp" ] && rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

[ -x "$finack" ] || { echo "FAIL: no finack executable at '$finack'"; exit 1; }
[ "$(id -u)" -eq 0 ] || skip "needs root (TUN device, network namespace)"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
command -v ip >/dev/null || skip "no 'ip'"
command -v ss >/dev/null || skip "no 'ss'"
command -v python3 >/dev/null || skip "no python3 (the Linux server)"
"$finack" help cat >/dev/null 2>&1 || skip "no 'finack cat' in this build"
ip netns add "$ns" 2>/dev/null || skip "network namespaces not permitted"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/finack-ss.XXXXXX") || exit 1
export FINACK_RUN_DIR=$tmp/run

# wait_for SECONDS COMMAND...: until COMMAND succeeds (polled every 50 ms).
wait_for() {
    local limit=$1
    shift
    local deadline=$((SECONDS + limit))
    until "$@"; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.05
    done
}

# The two tables, as a human would compare them.
show_tables() {
    echo "--- finack ss -a -o ($1)"
    "$finack" ss -a -o
    echo "--- ss -tan -o in the namespace"
    in_ns ss -tan -o
}

# finack_row STATE LOCAL PEER: finack ss -a has that row (LOCAL/PEER as
# regular expressions, e.g. '10\.77\.0\.2:8080').
finack_row() {
    "$finack" ss -a -o 2>/dev/null | grep -Eq "^$1 +[0-9]+ +[0-9]+ +$2 +$3 "
}
linux_row() {
    in_ns ss -tan 2>/dev/null | grep -Eq "^$1 +[0-9]+ +[0-9]+ +$2 +$3( |\$)"
}

in_ns ip link set lo up
in_ns ip tuntap add dev fa0 mode tun || { fail "ip tuntap add fa0"; exit 1; }
in_ns ip addr add 10.77.0.1/24 dev fa0
in_ns ip link set fa0 up

# Does finack cat serve a control socket? (The network subcommands call
# finack_control_start(); a build without it cannot be tested here.)
probe() {
    mkfifo "$tmp/probe_in"
    ip netns exec "$ns" "$finack" cat -l --tun fa0 --addr 10.77.0.2/24 --port 1 <"$tmp/probe_in" \
        >/dev/null 2>"$tmp/probe_err" &
    local pid=$!
    exec 3>"$tmp/probe_in"
    local served=0
    if wait_for 5 grep -q 'listening on' "$tmp/probe_err" &&
        wait_for 2 test -S "$FINACK_RUN_DIR/$pid.sock"; then
        served=1
    fi
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    exec 3>&-
    rm -f "$tmp/probe_in"
    [ "$served" -eq 1 ]
}

# --- 1. Linux client, finack server; Linux closes first ------------------------
case_linux_closes_first() {
    mkfifo "$tmp/in1"
    ip netns exec "$ns" "$finack" cat -l --tun fa0 --addr 10.77.0.2/24 --port 8080 <"$tmp/in1" \
        >"$tmp/out1" 2>"$tmp/err1" &
    local cat_pid=$!
    bg_pids+=("$cat_pid")
    exec 3>"$tmp/in1" # the application's stdin stays open: it will not close
    wait_for 5 grep -q 'listening on' "$tmp/err1" || { fail "case 1: finack cat did not listen"; cat "$tmp/err1"; return; }

    # The Linux client sends a line and closes at once.
    in_ns bash -c 'exec 5<>/dev/tcp/10.77.0.2/8080 && printf "hello\n" >&5 && exec 5>&-' ||
        { fail "case 1: the Linux client could not connect"; return; }
    local srv='10\.77\.0\.2:8080' cli='10\.77\.0\.1:[0-9]+'
    wait_for 5 finack_row CLOSE-WAIT "$srv" "$cli" || fail "case 1: finack ss shows no CLOSE-WAIT"
    wait_for 5 linux_row FIN-WAIT-2 "$cli" "$srv" || fail "case 1: Linux shows no FIN-WAIT-2"
    show_tables "case 1, before the finack application closes"
    "$finack" ss -o | grep -Eq "^CLOSE-WAIT .* users:\(\(\"cat\",pid=$cat_pid,fd=[0-9]+\)\)" ||
        fail "case 1: the CLOSE-WAIT row does not name cat, pid $cat_pid, and its socket"

    # The application closes (stdin ends: cat sends its FIN, then exits).
    exec 3>&-
    wait_for 5 linux_row TIME-WAIT "$cli" "$srv" || fail "case 1: Linux shows no TIME-WAIT"
    wait_for 5 bash -c "! kill -0 $cat_pid 2>/dev/null" || fail "case 1: finack cat did not exit"
    show_tables "case 1, after it closed"
    ! finack_row 'CLOSE-WAIT|ESTAB' "$srv" "$cli" || fail "case 1: the finack row is still open"
    grep -qx hello "$tmp/out1" || fail "case 1: finack cat did not print what the client sent"
}

# --- 2. finack client, Linux server; finack closes first ---------------------------
case_finack_closes_first() {
    mkfifo "$tmp/srv_in" "$tmp/in2"
    ip netns exec "$ns" python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.77.0.1", 9090))
s.listen(1)
print("ready", flush=True)
c, _ = s.accept()
sys.stdin.readline()          # the test says when to close
c.close()
sys.stdin.readline()
' <"$tmp/srv_in" >"$tmp/srv_out" 2>&1 &
    bg_pids+=("$!")
    exec 4>"$tmp/srv_in"
    wait_for 5 grep -q ready "$tmp/srv_out" || { fail "case 2: the Linux server did not start"; return; }

    ip netns exec "$ns" "$finack" cat --tun fa0 --addr 10.77.0.2/24 10.77.0.1 9090 <"$tmp/in2" \
        >"$tmp/out2" 2>"$tmp/err2" &
    local cat_pid=$!
    bg_pids+=("$cat_pid")
    exec 3>"$tmp/in2"
    local cli='10\.77\.0\.2:[0-9]+' srv='10\.77\.0\.1:9090'
    wait_for 5 finack_row ESTAB "$cli" "$srv" || { fail "case 2: no ESTAB row in finack ss"; cat "$tmp/err2"; return; }

    exec 3>&- # finack's application closes its side first
    wait_for 5 finack_row FIN-WAIT-2 "$cli" "$srv" || fail "case 2: finack ss shows no FIN-WAIT-2"
    wait_for 5 linux_row CLOSE-WAIT "$srv" "$cli" || fail "case 2: Linux shows no CLOSE-WAIT"
    show_tables "case 2, before Linux closes"

    echo close >&4 # now the Linux application closes
    # finack reaches TIME-WAIT and cat, its work done, exits (it lingers
    # only until then): the row is TIME-WAIT if still seen, then gone.
    wait_for 5 bash -c "! kill -0 $cat_pid 2>/dev/null" || fail "case 2: finack cat did not exit"
    wait "$cat_pid"
    local status=$?
    [ "$status" -eq 0 ] || fail "case 2: finack cat exited $status"
    ! finack_row 'FIN-WAIT-2|ESTAB' "$cli" "$srv" || fail "case 2: finack still shows the connection open"
    ! linux_row CLOSE-WAIT "$srv" "$cli" || fail "case 2: Linux still in CLOSE-WAIT"
    show_tables "case 2, after Linux closed"
    exec 4>&-
}

# --- 3. A stale socket file ---------------------------------------------------------
case_stale_socket() {
    ip netns exec "$ns" "$finack" up --tun fa0 --addr 10.77.0.2/24 2>"$tmp/err3" &
    local pid=$!
    bg_pids+=("$pid")
    wait_for 5 test -S "$FINACK_RUN_DIR/$pid.sock" || { fail "case 3: finack up made no control socket"; cat "$tmp/err3"; return; }
    # finack up answers between runs of its loop (polled mode).
    in_ns ping -c 1 -W 2 10.77.0.2 >/dev/null || fail "case 3: finack up does not answer ping"
    "$finack" stats --process "$pid" >"$tmp/stats3" || fail "case 3: finack stats failed"
    head -n1 "$tmp/stats3" | grep -qx "#finack $pid up" || fail "case 3: finack stats header"
    grep -Eq '^IcmpInEchos +1 ' "$tmp/stats3" || fail "case 3: finack stats has no IcmpInEchos 1"
    "$finack" ss -a --process "$pid" >/dev/null || fail "case 3: finack ss --process failed"
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null
    [ -S "$FINACK_RUN_DIR/$pid.sock" ] || { fail "case 3: the socket file went with SIGKILL"; return; }
    local status=0
    "$finack" ss -a >"$tmp/ss3" 2>"$tmp/ss3err" || status=$?
    [ "$status" -eq 0 ] || fail "case 3: finack ss exited $status"
    [ ! -e "$FINACK_RUN_DIR/$pid.sock" ] || fail "case 3: the stale socket file is still there"
    [ "$(wc -l <"$tmp/ss3")" -eq 1 ] || fail "case 3: expected the header only"
    [ ! -s "$tmp/ss3err" ] || fail "case 3: finack ss wrote to stderr: $(cat "$tmp/ss3err")"
    grep -q '^State  *Recv-Q Send-Q Local Address:Port Peer Address:Port' "$tmp/ss3" ||
        fail "case 3: not ss's header"
    echo "case 3: stale $pid.sock removed, header only, exit 0"
}

# --- 4. A finack server closes first and keeps running: TIME-WAIT ------------------
case_finack_server_closes_first() {
    if ! "$finack" help http 2>/dev/null | grep -q -- '--root'; then
        echo "SKIP: case 4 (no finack http in this build)"
        return
    fi
    mkdir -p "$tmp/www" "$tmp/cli"
    printf 'hello\n' >"$tmp/www/index.html"
    ip netns exec "$ns" "$finack" http --tun fa0 --addr 10.77.0.2/24 --port 8081 \
        --root "$tmp/www" 2>"$tmp/err4" &
    local http_pid=$!
    bg_pids+=("$http_pid")
    wait_for 5 grep -q 'listening on' "$tmp/err4" || { fail "case 4: finack http did not listen"; cat "$tmp/err4"; return; }
    if ! wait_for 2 test -S "$FINACK_RUN_DIR/$http_pid.sock"; then
        echo "SKIP: case 4 (finack http serves no control socket in this build)"
        return
    fi
    mkfifo "$tmp/cli_in"
    ip netns exec "$ns" python3 -c '
import socket, sys
c = socket.create_connection(("10.77.0.2", 8081))
c.sendall(b"GET / HTTP/1.0\r\n\r\n")
while c.recv(4096):
    pass
print("eof", flush=True)       # the server closed; this side still holds on
sys.stdin.readline()
c.close()
sys.stdin.readline()
' <"$tmp/cli_in" >"$tmp/cli_out" 2>&1 &
    bg_pids+=("$!")
    exec 4>"$tmp/cli_in"
    wait_for 5 grep -q eof "$tmp/cli_out" || { fail "case 4: the Linux client saw no EOF"; return; }
    local srv='10\.77\.0\.2:8081' cli='10\.77\.0\.1:[0-9]+'
    wait_for 5 finack_row FIN-WAIT-2 "$srv" "$cli" || fail "case 4: finack ss shows no FIN-WAIT-2"
    wait_for 5 linux_row CLOSE-WAIT "$cli" "$srv" || fail "case 4: Linux shows no CLOSE-WAIT"
    show_tables "case 4, the finack server closed, Linux has not"
    # finack http shut its side down and still holds the socket (a lingering
    # close: it reads what the client may still send until the client's
    # FIN), so the row has the process and its descriptor, and no timer.
    "$finack" ss -o | grep -Eq "^FIN-WAIT-2 .* users:\(\(\"http\",pid=$http_pid,fd=[0-9]+\)\)" ||
        fail "case 4: FIN-WAIT-2 without the http process and its descriptor"

    echo close >&4
    wait_for 5 finack_row TIME-WAIT "$srv" "$cli" || fail "case 4: finack ss shows no TIME-WAIT"
    show_tables "case 4, after Linux closed"
    "$finack" ss -a -o | grep -Eq "^TIME-WAIT .* users:\(\(\"http\",pid=$http_pid\)\) timer:\(timewait,1min5[0-9]sec,0\)" ||
        fail "case 4: TIME-WAIT without its 2 x MSL timer"
    "$finack" ss -o | grep -q TIME-WAIT && fail "case 4: TIME-WAIT shown without -a (ss hides it)"
    ! linux_row 'CLOSE-WAIT|LAST-ACK' "$cli" "$srv" || fail "case 4: Linux has not finished closing"
    exec 4>&-
}

case_stale_socket # finack up's control socket: always there
if probe; then
    case_linux_closes_first
    case_finack_closes_first
    case_finack_server_closes_first
else
    echo "SKIP: cases 1, 2 and 4 (finack cat serves no control socket in this build)"
fi

[ "$failures" -eq 0 ] || { echo "$failures check(s) failed"; exit 1; }
echo "PASS: finack ss beside ss -tan"
