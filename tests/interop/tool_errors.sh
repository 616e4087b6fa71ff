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
    fi
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
