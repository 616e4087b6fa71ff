#!/usr/bin/env bash
# The golden pictures of `finack sim` (see README in this folder).
#   check.sh FINACK SCENARIO txt|ascii|svg  draw it, compare byte for byte with the file here
#   check.sh --update FINACK                rewrite every golden file with FINACK's drawing
#   check.sh --xml DIR                      every DIR/*.svg is well-formed XML
#   check.sh --usage FINACK                 bad arguments: one line on stderr, exit 2
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

# What each golden file is drawn from: seed 1, and one fixed lossy custom run.
args_for() {
    case $1 in
    custom) echo "custom --seed 4 --loss 0.05 --bytes 20000 --rate 5000000" ;;
    *) echo "$1 --seed 1" ;;
    esac
}
file_for() {
    case $2 in
    txt) echo "$here/$1.txt" ;;
    ascii) echo "$here/$1.ascii.txt" ;;
    svg) echo "$here/$1.svg" ;;
    *) echo "check.sh: unknown kind '$2'" >&2; exit 2 ;;
    esac
}
opts_for() {
    case $2 in
    txt) ;;
    ascii) echo "--ascii" ;;
    svg) echo "--format svg" ;;
    esac
}
# The scenarios with a plain-ASCII golden file besides the Unicode one.
ascii_too="handshake close"

draw() { # FINACK SCENARIO KIND
    # shellcheck disable=SC2046
    "$1" sim $(args_for "$2") $(opts_for "$2" "$3")
}

xml_ok() { # FILE...
    /usr/bin/python3 -c '
import sys, xml.dom.minidom
for path in sys.argv[1:]:
    xml.dom.minidom.parse(path)
' "$@"
}

case ${1:-} in
--update)
    finack=$2
    for s in $("$finack" sim --list | awk '{print $1}'); do
        for kind in txt svg; do draw "$finack" "$s" "$kind" >"$(file_for "$s" "$kind")"; done
    done
    for s in $ascii_too; do draw "$finack" "$s" ascii >"$(file_for "$s" ascii)"; done
    echo "updated $(ls "$here"/*.txt "$here"/*.svg | wc -l) files in $here"
    ;;
--xml)
    shopt -s nullglob
    files=("$2"/*.svg)
    [ ${#files[@]} -gt 0 ] || { echo "no SVG files in $2" >&2; exit 1; }
    xml_ok "${files[@]}"
    echo "${#files[@]} SVG files parse as XML"
    ;;
--usage)
    finack=$2
    fail=0
    expect_usage() { # ARGS... : exit 2, nothing on stdout, exactly one line on stderr
        local out err rc=0
        out=$("$finack" sim "$@" 2>/tmp/finack-sim-usage.$$) || rc=$?
        err=$(cat /tmp/finack-sim-usage.$$)
        rm -f /tmp/finack-sim-usage.$$
        if [ "$rc" != 2 ] || [ -n "$out" ] || [ "$(printf '%s\n' "$err" | wc -l)" != 1 ]; then
            echo "finack sim $*: exit $rc, stdout '$out', stderr '$err'" >&2
            fail=1
        fi
        printf '%s\n' "$err"
    }
    expect_usage >/dev/null
    if ! expect_usage no-such-scenario | grep -q -- '--list'; then
        echo "unknown scenario: no --list in the message" >&2
        fail=1
    fi
    expect_usage handshake --seed x >/dev/null
    expect_usage handshake --format png >/dev/null
    expect_usage handshake --loss 0.1 >/dev/null
    expect_usage handshake --bogus >/dev/null
    expect_usage handshake close >/dev/null
    expect_usage custom --loss 2 >/dev/null
    expect_usage custom --bytes 0 >/dev/null
    list=$("$finack" sim --list)
    for s in handshake old-duplicate-syn isn close half-close close-wait time-wait-lost-ack \
        reuseaddr simultaneous-open simultaneous-close send-buffer zero-window bdp custom; do
        grep -q "^  $s " <<<"$list" || { echo "--list lacks $s" >&2; fail=1; }
    done
    exit $fail
    ;;
*)
    finack=$1 scenario=$2 kind=$3
    expected=$(file_for "$scenario" "$kind")
    got=$(mktemp)
    trap 'rm -f "$got"' EXIT
    draw "$finack" "$scenario" "$kind" >"$got"
    if ! cmp -s "$expected" "$got"; then
        echo "finack sim $(args_for "$scenario") $(opts_for "$scenario" "$kind")" \
            "differs from $expected:" >&2
        diff -u "$expected" "$got" | head -60 >&2 || true
        echo "(if the change is intended: tests/golden/check.sh --update build/.../finack)" >&2
        exit 1
    fi
    if [ "$kind" = svg ]; then xml_ok "$got"; fi
    ;;
esac
