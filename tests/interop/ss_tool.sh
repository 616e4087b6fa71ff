#!/usr/bin/env bash
# finack ss and finack stats as commands, without a network: what they print
# with no finack process, how they treat the socket file of a process that
# died, and their usage errors. Needs no privilege: the run directory is a
# temporary FINACK_RUN_DIR.
#
# usage: bash tests/interop/ss_tool.sh /path/to/finack
# Exit 0 pass, 1 fail, 77 skip (no python3 to leave a dead socket file).
set -u

finack=${1:?usage: ss_tool.sh /path/to/finack}
tmp=
failures=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
cleanup() { [ -n "$tmp" ] && rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

[ -x "$finack" ] || { echo "FAIL: no finack executable at '$finack'"; exit 1; }
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/finack-ss-tool.XXXXXX") || exit 1
export FINACK_RUN_DIR=$tmp/run
header='State Recv-Q Send-Q Local Address:Port Peer Address:PortProcess'

# run NAME WANT-STATUS COMMAND...: stdout in $tmp/out, stderr in $tmp/err.
run() {
    local name=$1 want=$2
    shift 2
    local status=0
    "$@" >"$tmp/out" 2>"$tmp/err" || status=$?
    echo "$name: exit $status$([ -s "$tmp/err" ] && echo ": $(head -n1 "$tmp/err")")"
    [ "$status" -eq "$want" ] || fail "$name: expected exit $want, got $status"
}

# No run directory at all: ss's header only, nothing from stats.
run "ss, no run directory" 0 "$finack" ss -a -o
[ "$(cat "$tmp/out")" = "$header" ] || fail "ss, no run directory: not the header alone"
[ ! -s "$tmp/err" ] || fail "ss, no run directory: something on stderr"
run "stats, no run directory" 0 "$finack" stats
[ ! -s "$tmp/out" ] && [ ! -s "$tmp/err" ] || fail "stats, no run directory: printed something"

# The socket files of processes that died (bound, never listening or
# closed): removed by the reader, which goes on with exit 0. Other files
# are left alone.
mkdir -m 0700 "$FINACK_RUN_DIR"
python3 - "$FINACK_RUN_DIR" <<'EOF' || fail "could not leave dead socket files"
import os, socket, sys
for pid in (999991, 999992):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(os.path.join(sys.argv[1], "%d.sock" % pid))
    s.close()
EOF
touch "$FINACK_RUN_DIR/notes.txt"
run "ss, two dead sockets" 0 "$finack" ss
[ "$(cat "$tmp/out")" = "$header" ] || fail "ss, two dead sockets: not the header alone"
[ ! -e "$FINACK_RUN_DIR/999991.sock" ] && [ ! -e "$FINACK_RUN_DIR/999992.sock" ] ||
    fail "ss, two dead sockets: not removed"
[ -e "$FINACK_RUN_DIR/notes.txt" ] || fail "ss removed a file that is not a control socket"

python3 - "$FINACK_RUN_DIR" <<'EOF' || fail "could not leave a dead socket file"
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(os.path.join(sys.argv[1], "999993.sock"))
s.close()
EOF
run "stats, a dead socket" 0 "$finack" stats
[ ! -e "$FINACK_RUN_DIR/999993.sock" ] || fail "stats, a dead socket: not removed"

# --process for a pid nobody serves: one line, exit 1.
run "ss --process, nobody" 1 "$finack" ss --process 999994
[ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "ss --process, nobody: expected one line on stderr"
run "stats --process, nobody" 1 "$finack" stats --process 999994

# Usage errors: one line, exit 2.
run "ss, unknown option" 2 "$finack" ss --frob
run "ss, unknown short option" 2 "$finack" ss -x
run "ss, bad pid" 2 "$finack" ss --process abc
run "ss, stray argument" 2 "$finack" ss extra
run "stats, bad pid" 2 "$finack" stats --process 0
"$finack" help ss | grep -q '^usage: finack ss' || fail "finack help ss"
"$finack" stats --help | grep -q '^usage: finack stats' || fail "finack stats --help"
"$finack" --help | grep -q '^  ss ' || fail "finack --help does not list ss"

[ "$failures" -eq 0 ] || { echo "$failures check(s) failed"; exit 1; }
echo "PASS: finack ss and stats as commands"
