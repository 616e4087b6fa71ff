#!/usr/bin/env bash
# The finack command's errors: one line on stderr, the right exit status,
# and nothing left behind. The cases that touch TUN devices run as root in a
# network namespace this script creates and removes; the others need nothing.
#
# usage: bash tests/interop/tool_errors.sh /path/to/finack
# Exit 0 pass (cases that cannot run here are reported as SKIP), 1 fail.
set -u

finack=${1:?usage: tool_errors.sh /path/to/finack}
ns=finack-errors-$$
tmp=
failures=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
in_ns() { ip netns exec "$ns" "$@"; }

cleanup() {
    ip netns del "$ns" 2>/dev/null
    [ -n "$tmp" ] && rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

[ -x "$finack" ] || { echo "FAIL: no finack executable at '$finack'"; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/finack-errors.XXXXXX") || exit 1

# expect NAME STATUS-TEST [--] COMMAND...: runs COMMAND, then checks that its
# exit status passes STATUS-TEST ("2", or "nonzero") and that stderr is one line.
expect() {
    local name=$1 want=$2
    shift 2
    local status=0
    "$@" >"$tmp/out" 2>"$tmp/err" || status=$?
    local lines
    lines=$(wc -l <"$tmp/err")
    echo "$name: exit $status: $(head -n1 "$tmp/err")"
    if [ "$want" = nonzero ]; then
        [ "$status" -ne 0 ] || fail "$name: expected a non-zero exit"
    else
        [ "$status" -eq "$want" ] || fail "$name: expected exit $want, got $status"
    fi
    [ "$lines" -eq 1 ] || { fail "$name: expected one line on stderr, got $lines"; cat "$tmp/err"; }
    [ ! -s "$tmp/out" ] || fail "$name: expected nothing on stdout"
}

# --- Cases that need no privilege ---------------------------------------------
expect "unknown command" 2 "$finack" frobnicate
grep -qx "finack: unknown command 'frobnicate' (try 'finack --help')" "$tmp/err" ||
    fail "unknown command: wrong message"
status=0
"$finack" >/dev/null 2>&1 || status=$?
echo "no command: exit $status"
[ "$status" -eq 2 ] || fail "no command: expected exit 2, got $status"
expect "help for an unknown command" 2 "$finack" help frobnicate
expect "malformed address" nonzero "$finack" up --tun fa0 --addr 10.77.0.300/24
expect "malformed prefix" nonzero "$finack" up --tun fa0 --addr 10.77.0.2/33
expect "missing address" nonzero "$finack" up --tun fa0
expect "over-long device name" nonzero "$finack" up --tun doesnotexist0123456789 --addr 10.77.0.2/24
expect "MTU out of range" nonzero "$finack" up --tun fa0 --addr 10.77.0.2/24 --mtu 40
expect "bad duration" nonzero "$finack" up --tun fa0 --addr 10.77.0.2/24 --duration -1
expect "unknown option" 2 "$finack" up --tun fa0 --addr 10.77.0.2/24 --frob
expect "stray argument" 2 "$finack" up --tun fa0 --addr 10.77.0.2/24 extra

# The network commands (cat, echo, http): bad arguments are exit 2, one line.
net="--tun fa0 --addr 10.77.0.2/24"
expect "echo: missing --port" 2 "$finack" echo $net
expect "echo: port 0" 2 "$finack" echo $net --port 0
expect "echo: port too big" 2 "$finack" echo $net --port 65536
expect "echo: malformed address" 2 "$finack" echo --tun fa0 --addr 10.77.0 --port 7
expect "echo: missing --tun" 2 "$finack" echo --addr 10.77.0.2/24 --port 7
expect "echo: loss above 1" 2 "$finack" echo $net --port 7 --loss 1.5
expect "echo: negative delay" 2 "$finack" echo $net --port 7 --delay -3
expect "echo: reorder not a number" 2 "$finack" echo $net --port 7 --reorder lots
expect "echo: mss too small" 2 "$finack" echo $net --port 7 --mss 10
expect "echo: --msl 0" 2 "$finack" echo $net --port 7 --msl 0
expect "cat: no HOST PORT" 2 "$finack" cat $net
expect "cat: malformed HOST" 2 "$finack" cat $net 10.77.0.999 80
expect "cat: HOST with a prefix" 2 "$finack" cat $net 10.77.0.1/24 80
expect "cat: malformed PORT" 2 "$finack" cat $net 10.77.0.1 http
expect "cat: -l without --port" 2 "$finack" cat -l $net
expect "cat: -l with HOST PORT" 2 "$finack" cat -l $net --port 9 10.77.0.1 80
expect "cat: unknown short option" 2 "$finack" cat -z $net 10.77.0.1 80
expect "http: missing --root" 2 "$finack" http $net --port 80
expect "http: --root does not exist" 2 "$finack" http $net --port 80 --root "$tmp/nonexistent"
expect "http: --root is a file" 2 "$finack" http $net --port 80 --root "$finack"
for cmd in cat echo http; do
    "$finack" help $cmd >"$tmp/out" 2>&1 && grep -q "^usage: finack $cmd" "$tmp/out" ||
        fail "finack help $cmd does not print the usage"
    "$finack" $cmd --help >"$tmp/out" 2>&1 && grep -q "^usage: finack $cmd" "$tmp/out" ||
        fail "finack $cmd --help does not print the usage"
done

"$finack" --help >"$tmp/out" 2>&1 && grep -q '^  up ' "$tmp/out" ||
    fail "finack --help does not list 'up'"
"$finack" help up >"$tmp/out" 2>&1 && grep -q '^usage: finack up' "$tmp/out" ||
    fail "finack help up does not print the usage"
"$finack" up --help >"$tmp/out" 2>&1 && grep -q '^usage: finack up' "$tmp/out" ||
    fail "finack up --help does not print the usage"

# --- Cases with TUN devices, inside a namespace of our own ----------------------
run_privileged_cases() {
    # A device finack creates itself disappears when it exits.
    local status=0
    in_ns "$finack" up --tun fa1 --addr 10.77.1.2/24 --duration 0.3 2>"$tmp/err" || status=$?
    echo "created device: exit $status: $(head -n1 "$tmp/err")"
    [ "$status" -eq 0 ] || { fail "finack up on a new device failed"; cat "$tmp/err"; }
    ! in_ns ip link show fa1 >/dev/null 2>&1 || fail "device fa1 left behind"

    # A device that is not a TUN device.
    in_ns ip tuntap add dev fa2 mode tap || { fail "ip tuntap add fa2"; return; }
    expect "TAP device" nonzero in_ns "$finack" up --tun fa2 --addr 10.77.2.2/24

    # Without privilege: one line, and no device created.
    local as_nobody=
    if command -v setpriv >/dev/null; then
        as_nobody="setpriv --reuid=$(id -u nobody) --regid=$(id -g nobody) --clear-groups"
    elif command -v runuser >/dev/null; then
        as_nobody="runuser -u nobody --"
    fi
    if [ -z "$as_nobody" ] || ! id nobody >/dev/null 2>&1; then
        echo "SKIP: permission case (no setpriv/runuser or no user nobody)"
    elif ! $as_nobody test -x "$finack"; then
        echo "SKIP: permission case (user nobody cannot run $finack)"
    else
        expect "not permitted" nonzero in_ns $as_nobody "$finack" up --tun fa3 --addr 10.77.3.2/24
        grep -Eqi 'permission denied|not permitted' "$tmp/err" ||
            fail "not permitted: the message does not say so"
        ! in_ns ip link show fa3 >/dev/null 2>&1 || fail "device fa3 left behind"
        # The same for the network commands, on a device that does not
        # exist (nobody cannot create it). (A device root made without
        # 'user' is not a case: the kernel here lets nobody attach to it.)
        for cmd in "echo --port 7" "http --port 80 --root /" "cat 10.77.9.1 80"; do
            expect "$cmd: device cannot be created" 1 in_ns $as_nobody "$finack" $cmd \
                --tun fa9 --addr 10.77.9.2/24
            grep -Eqi 'permission denied|not permitted' "$tmp/err" ||
                fail "$cmd: the message does not say permission"
            ! in_ns ip link show fa9 >/dev/null 2>&1 || fail "device fa9 left behind"
        done
    fi

    # Address in use: the kernel's own address on the device, given to finack.
    in_ns ip tuntap add dev fa6 mode tun || { fail "ip tuntap add fa6"; return; }
    in_ns ip addr add 10.77.6.1/24 dev fa6
    expect "address in use" 1 in_ns "$finack" echo --tun fa6 --addr 10.77.6.1/24 --port 7
    grep -q 'Address already in use' "$tmp/err" || fail "address in use: the message does not say so"

    # The device deleted under a running command: one line, exit 1, no hang.
    in_ns ip tuntap add dev fa7 mode tun || { fail "ip tuntap add fa7"; return; }
    ip netns exec "$ns" timeout 10 "$finack" echo --tun fa7 --addr 10.77.7.2/24 --port 7 \
        2>"$tmp/gone.err" &
    pid=$!
    for _ in $(seq 100); do grep -q 'listening on' "$tmp/gone.err" && break; sleep 0.05; done
    in_ns ip link del fa7
    status=0
    wait "$pid" || status=$?
    echo "device deleted under finack echo: exit $status: $(tail -n1 "$tmp/gone.err")"
    [ "$status" -eq 1 ] || fail "device deleted: exit $status, expected 1 (124: it hung)"
    grep -q 'stopped working' "$tmp/gone.err" || fail "device deleted: no message"

    # Not a TUN device at all.
    expect "echo on lo" 1 in_ns "$finack" echo --tun lo --addr 10.77.5.2/24 --port 7

    # A device finack echo creates itself is removed when SIGTERM stops it.
    local pid
    ip netns exec "$ns" "$finack" echo --tun fa5 --addr 10.77.5.2/24 --port 7 2>"$tmp/echo.err" &
    pid=$!
    for _ in $(seq 100); do grep -q 'listening on' "$tmp/echo.err" && break; sleep 0.05; done
    in_ns ip link show fa5 >/dev/null 2>&1 || fail "finack echo did not create fa5"
    # Busy: a second finack on the same device.
    expect "second finack on a busy device" 1 in_ns "$finack" http --tun fa5 \
        --addr 10.77.5.3/24 --port 80 --root /
    grep -q 'busy' "$tmp/err" || fail "busy device: the message does not say busy"
    kill -TERM "$pid"
    status=0
    wait "$pid" || status=$?
    echo "finack echo after SIGTERM: exit $status"
    [ "$status" -eq 0 ] || { fail "finack echo: exit $status after SIGTERM"; cat "$tmp/echo.err"; }
    ! in_ns ip link show fa5 >/dev/null 2>&1 || fail "device fa5 left behind after SIGTERM"
}

if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: TUN cases (need root)"
elif [ ! -c /dev/net/tun ] || ! command -v ip >/dev/null; then
    echo "SKIP: TUN cases (no /dev/net/tun or no 'ip')"
elif ! ip netns add "$ns" 2>/dev/null; then
    echo "SKIP: TUN cases (network namespaces not permitted)"
else
    run_privileged_cases
fi

[ "$failures" -eq 0 ] || { echo "$failures check(s) failed"; exit 1; }
echo "PASS: finack command errors"
