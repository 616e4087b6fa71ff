#!/usr/bin/env bash
# finack ladder from the command line: a JSON trace drawn byte for byte as
# lossy.txt holds it; ASCII, width, --out, JSON out and back in; a
# tcpdump capture drawn as linux-lo.txt holds it, states and folding; a hostile
# trace drawn as well-formed SVG; every bad input one line on stderr with
# exit 1, every bad usage exit 2.
#
# usage: bash tests/ladder/cli.sh /path/to/finack
# Set LADDER_UPDATE=1 to rewrite lossy.txt and linux-lo.txt.
set -u

finack=${1:?usage: cli.sh /path/to/finack}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/finack-ladder-cli.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# The widest line of a file in display columns (Python counts code points;
# the east-Asian wide ones count two).
widest() {
    /usr/bin/python3 - "$1" <<'PY'
import sys, unicodedata
w = 0
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.rstrip("\n")
    w = max(w, sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line))
print(w)
PY
}

# expect STATUS PATTERN -- command...: exit status, and one stderr line
# that starts "finack ladder: " and matches PATTERN.
expect() {
    local status=$1 pattern=$2
    shift 3
    "$@" >"$tmp/out" 2>"$tmp/err"
    local got=$?
    local lines
    lines=$(wc -l <"$tmp/err")
    if [ "$got" -ne "$status" ]; then
        fail "$*: exit $got, want $status ($(head -n1 "$tmp/err"))"
    elif [ "$lines" -ne 1 ]; then
        fail "$*: $lines lines on stderr, want 1"; sed 's/^/  /' "$tmp/err"
    elif ! grep -q "^finack ladder: .*$pattern" "$tmp/err"; then
        fail "$*: stderr '$(cat "$tmp/err")' does not match '$pattern'"
    fi
}

# ---- A trace, byte for byte ---------------------------------------------------------
"$finack" ladder "$here/lossy.json" >"$tmp/lossy.txt" 2>"$tmp/err" || fail "lossy.json: $(cat "$tmp/err")"
if [ -n "${LADDER_UPDATE:-}" ]; then
    cp "$tmp/lossy.txt" "$here/lossy.txt"
elif ! cmp -s "$tmp/lossy.txt" "$here/lossy.txt"; then
    fail "finack ladder lossy.json differs from lossy.txt:"
    diff -u "$here/lossy.txt" "$tmp/lossy.txt" | head -40
fi
grep -q '✕' "$tmp/lossy.txt" || fail "no lost segment drawn"
grep -q 'rtx SYN' "$tmp/lossy.txt" || fail "no retransmission marked"
[ "$(widest "$tmp/lossy.txt")" -le 100 ] || fail "a line wider than 100 columns"

"$finack" ladder --ascii --width 70 "$here/lossy.json" >"$tmp/ascii.txt" || fail "--ascii --width 70"
LC_ALL=C grep -q '[^ -~]' "$tmp/ascii.txt" && fail "--ascii output has non-ASCII bytes"
[ "$(widest "$tmp/ascii.txt")" -le 70 ] || fail "--width 70: a line wider than 70 columns"
grep -q -- '-x ' "$tmp/ascii.txt" || fail "--ascii: no lost segment drawn as x"

"$finack" ladder "$here/lossy.json" --out "$tmp/out.txt" >"$tmp/stdout" || fail "--out"
[ -s "$tmp/stdout" ] && fail "--out: something written to stdout"
cmp -s "$tmp/out.txt" "$tmp/lossy.txt" || fail "--out: not the same text as stdout"

# JSON out and in again draws the same ladder.
"$finack" ladder --format json "$here/lossy.json" >"$tmp/again.json" || fail "--format json"
"$finack" ladder "$tmp/again.json" >"$tmp/again.txt" || fail "reading our own JSON"
cmp -s "$tmp/again.txt" "$tmp/lossy.txt" || fail "JSON written and read back draws differently"
# A finack sim trace comes back line for line: the listener's own conn,
# win_raw, notes without conn.
for scenario in close zero-window; do
    "$finack" sim "$scenario" --format json >"$tmp/sim.json" || fail "sim $scenario"
    "$finack" ladder --format json "$tmp/sim.json" >"$tmp/back.json" || fail "ladder $scenario"
    cmp -s "$tmp/sim.json" "$tmp/back.json" || fail "sim $scenario: JSON does not round-trip"
done
"$finack" ladder - <"$here/lossy.json" >"$tmp/stdin.txt" || fail "reading stdin"
cmp -s "$tmp/stdin.txt" "$tmp/lossy.txt" || fail "stdin draws differently"

# ---- A capture ---------------------------------------------------------------------
# linux-lo.pcap: tcpdump -s 200 on a namespace's lo (Ethernet link type,
# packets cut at 200 bytes, GSO: a few large segments), a Python client
# sending 30000 bytes and closing first, the server 0.5 s later.
"$finack" ladder "$here/linux-lo.pcap" >"$tmp/linux.txt" 2>"$tmp/err" || fail "pcap: $(cat "$tmp/err")"
if [ -n "${LADDER_UPDATE:-}" ]; then
    cp "$tmp/linux.txt" "$here/linux-lo.txt"
elif ! cmp -s "$tmp/linux.txt" "$here/linux-lo.txt"; then
    fail "finack ladder linux-lo.pcap differs from linux-lo.txt:"
    diff -u "$here/linux-lo.txt" "$tmp/linux.txt" | head -40
fi
for state in SYN_SENT LISTEN SYN_RCVD ESTABLISHED FIN_WAIT_1 CLOSE_WAIT FIN_WAIT_2 LAST_ACK \
             TIME_WAIT CLOSED; do
    grep -q "\[$state\]" "$tmp/linux.txt" || fail "pcap: no [$state]"
done
grep -q 'data segments, 1\.\.30000 ' "$tmp/linux.txt" || fail "pcap: steady state not folded by default"
"$finack" ladder --no-collapse "$here/linux-lo.pcap" >"$tmp/all.txt" || fail "--no-collapse"
grep -q 'data segments' "$tmp/all.txt" && fail "--no-collapse still folds"
grep -q 'len=' "$tmp/all.txt" || fail "--no-collapse: no data segment drawn"
"$finack" ladder --absolute "$here/linux-lo.pcap" | grep -q 'SYN seq=0 ' && fail "--absolute: seq 0"
"$finack" ladder --collapse "$here/lossy.json" | grep -q 'data segments' ||
    fail "--collapse does not fold a trace"

# ---- SVG ------------------------------------------------------------------------------
for input in "$here/lossy.json" "$here/nasty.json" "$here/linux-lo.pcap"; do
    "$finack" ladder --format svg "$input" --out "$tmp/x.svg" || fail "svg of $input"
    /usr/bin/python3 -c 'import xml.dom.minidom,sys; xml.dom.minidom.parse(sys.argv[1])' \
        "$tmp/x.svg" 2>"$tmp/xml.err" ||
        fail "svg of $input is not well-formed XML: $(tail -n1 "$tmp/xml.err")"
    if command -v xmllint >/dev/null; then
        xmllint --noout "$tmp/x.svg" 2>"$tmp/xml.err" || fail "xmllint: $(head -n1 "$tmp/xml.err")"
    fi
    grep -q '<script\|xlink:href\|href=' "$tmp/x.svg" && fail "svg of $input refers outside itself"
done

# ---- Errors ---------------------------------------------------------------------------
expect 2 "no input file" -- "$finack" ladder
expect 2 "--format 'png'" -- "$finack" ladder --format png "$here/lossy.json"
expect 2 "--width" -- "$finack" ladder --width 10 "$here/lossy.json"
expect 2 "unknown option '--colour'" -- "$finack" ladder --colour "$here/lossy.json"
expect 2 "unexpected argument" -- "$finack" ladder "$here/lossy.json" "$here/nasty.json"
expect 1 "cannot read $tmp/none.json: No such file" -- "$finack" ladder "$tmp/none.json"
head -n 3 "$here/lossy.json" >"$tmp/bad.json"
echo '{"t_us":5,"host":"A",' >>"$tmp/bad.json"
expect 1 "bad.json: line 4: " -- "$finack" ladder "$tmp/bad.json"
printf '\x89PNG\r\n\x1a\nrest' >"$tmp/picture.png"
expect 1 "picture.png: neither a pcap nor a JSON-lines trace" -- "$finack" ladder "$tmp/picture.png"
head -c 64 /dev/urandom | tr '{ \t\r\n' 'xxxxx' >"$tmp/random.bin"
expect 1 "random.bin: neither a pcap nor a JSON-lines trace" -- "$finack" ladder "$tmp/random.bin"
expect 1 "cannot read $tmp: is a directory" -- "$finack" ladder "$tmp"
expect 1 "stdin: no trace events" -- bash -c '"$0" ladder - </dev/null' "$finack"
expect 1 "stdin: neither a pcap nor a JSON-lines trace" -- bash -c '"$0" ladder - <"$1"' "$finack" "$tmp/picture.png"
printf '\x0a\x0d\x0d\x0a\x1c\x00\x00\x00' >"$tmp/x.pcapng"
expect 1 "is pcapng; convert it first" -- "$finack" ladder "$tmp/x.pcapng"
head -c 30 "$here/linux-lo.pcap" >"$tmp/short.pcap"
expect 1 "not a pcap file, truncated" -- "$finack" ladder "$tmp/short.pcap"
: >"$tmp/empty.json"
expect 1 "no trace events" -- "$finack" ladder "$tmp/empty.json"
expect 1 "cannot write" -- "$finack" ladder "$here/lossy.json" --out "$tmp/no/such/dir.txt"

"$finack" help ladder | grep -q '^usage: finack ladder' || fail "finack help ladder"
"$finack" --help | grep -q '^  ladder ' || fail "ladder not listed in finack --help"

if [ "$failures" -ne 0 ]; then
    echo "FAIL: $failures checks failed"
    exit 1
fi
echo "PASS: finack ladder draws traces and captures, and refuses bad input in one line"
