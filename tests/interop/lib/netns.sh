# Shared by the interop tests (sourced, not run): a network namespace with
# a TUN device fa0, the kernel side 10.77.0.1/24, finack at 10.77.0.2; a
# finack subcommand started in it and stopped with SIGINT; checks on
# captures. Everything is removed by the EXIT trap, also on failure or
# interruption. Nothing leaves the namespace.
#
# The test sets $finack and $name before sourcing, then calls ns_setup.

ns=finack-$name-$$
tmp=
finack_pid=
ns_made=

skip() { echo "SKIP: $*"; exit 77; }
# fail_show: a file the test wants printed when it fails (its own output).
fail_show=
fail() {
    echo "FAIL: $*"
    [ -n "$tmp" ] && [ -s "$tmp/finack.err" ] && sed 's/^/  finack: /' "$tmp/finack.err" | tail -n 30
    [ -n "$fail_show" ] && [ -s "$fail_show" ] && sed 's/^/  /' "$fail_show"
    exit 1
}
in_ns() { ip netns exec "$ns" "$@"; }

ns_cleanup() {
    if [ -n "$finack_pid" ]; then
        kill -TERM "$finack_pid" 2>/dev/null
        wait "$finack_pid" 2>/dev/null
    fi
    # Whatever else still runs in the namespace was started by this test.
    if [ -n "$ns_made" ]; then
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
        ip netns del "$ns" 2>/dev/null
    fi
    [ -n "$tmp" ] && rm -rf "$tmp"
}
trap ns_cleanup EXIT
trap 'exit 1' INT TERM HUP

# need CMD...: skip unless each command is installed.
need() {
    for c in "$@"; do
        command -v "$c" >/dev/null || skip "no '$c' command (apt-get install ${pkg[$c]:-$c})"
    done
}
declare -A pkg=([nc]=netcat-openbsd [ip]=iproute2 [tshark]=tshark [python3]=python3 [tcpdump]=tcpdump [ping]=iputils-ping
                [curl]=curl [wrk]=wrk [iperf3]=iperf3 [sha256sum]=coreutils)

# ns_create: the namespace alone (with lo up) and $tmp, for tests that
# need no TUN device.
ns_create() {
    [ -x "$finack" ] || fail "no finack executable at '$finack'"
    [ "$(id -u)" -eq 0 ] || skip "needs root for network namespaces"
    need ip
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/finack-$name.XXXXXX") || fail "mktemp"
    ip netns add "$ns" 2>"$tmp/netns.err" ||
        skip "network namespaces not permitted: $(head -n1 "$tmp/netns.err")"
    ns_made=1
    in_ns ip link set lo up
}

# ns_setup: the namespace and the TUN device fa0, 10.77.0.1/24 on the
# kernel's side (no IPv6 on it: router solicitations would only clutter
# captures).
ns_setup() {
    [ -c /dev/net/tun ] || skip "no /dev/net/tun"
    ns_create
    in_ns ip tuntap add dev fa0 mode tun 2>"$tmp/tuntap.err" ||
        skip "cannot create a TUN device: $(head -n1 "$tmp/tuntap.err")"
    in_ns sysctl -qw net.ipv6.conf.fa0.disable_ipv6=1 2>/dev/null || true
    in_ns ip addr add 10.77.0.1/24 dev fa0 || fail "ip addr add"
    in_ns ip link set fa0 up || fail "ip link set fa0 up"
}

# finack_start ARGS...: run `finack ARGS` in the namespace in the background
# and wait for its ready line ("listening on" or "running") on stderr.
finack_start() {
    : >"$tmp/finack.err"
    # Not through in_ns: $! must be finack itself (ip netns exec execs it).
    # <&0: a background command's stdin would be /dev/null otherwise, and
    # callers redirect ours (finack_start cat -l ... <file).
    ip netns exec "$ns" "$finack" "$@" 2>"$tmp/finack.err" <&0 &
    finack_pid=$!
    for _ in $(seq 100); do
        grep -Eq 'listening on|running$' "$tmp/finack.err" && return 0
        kill -0 "$finack_pid" 2>/dev/null || fail "finack $1 exited early"
        sleep 0.05
    done
    fail "finack $1 did not start within 5 s"
}

# finack_stop: SIGINT, then it must exit 0 within 5 s.
finack_stop() {
    kill -INT "$finack_pid" 2>/dev/null
    for _ in $(seq 100); do
        kill -0 "$finack_pid" 2>/dev/null || break
        sleep 0.05
    done
    kill -0 "$finack_pid" 2>/dev/null && fail "finack still running 5 s after SIGINT"
    local status=0
    wait "$finack_pid" || status=$?
    finack_pid=
    [ "$status" -eq 0 ] || fail "finack exited with status $status after SIGINT"
}

# check_capture FILE [PORT...]: tshark reads it and finds no malformed
# packet. Random payloads on the PORTs are decoded as plain data: tshark
# would otherwise take them for whatever protocol it guesses for the port
# (5000 is GSM's IPA) and call them malformed.
check_capture() {
    local file=$1
    shift
    local decode=() p
    for p in "$@"; do decode+=(-d "tcp.port==$p,data"); done
    set -- "$file" "${decode[@]}"
    [ -s "$1" ] || fail "no capture written at $1"
    if ! command -v tshark >/dev/null; then
        echo "note: no tshark, capture not checked"
        return 0
    fi
    # tshark warns on stderr when run as root; only its stdout matters.
    tshark -r "$@" -Y _ws.malformed >"$tmp/malformed.out" 2>"$tmp/tshark.err" ||
        fail "tshark cannot read $1: $(head -n1 "$tmp/tshark.err")"
    if [ -s "$tmp/malformed.out" ]; then
        head -n 20 "$tmp/malformed.out"
        fail "tshark finds malformed packets in $(basename "$1")"
    fi
    echo "capture $(basename "$1"): $(tshark -r "$1" 2>/dev/null | wc -l) packets, none malformed"
}

# now_ms: for timing figures.
now_ms() { date +%s%3N; }
