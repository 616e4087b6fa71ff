#!/usr/bin/env bash
# Linux's nc sends a file to `finack echo` over TUN and reads the echo back
# until finack closes; the bytes must come back exact (sha256). Three runs:
#   100 MB on a clean link,
#    20 MB with 1% loss each way (finack side, --loss),
#     5 MB with 5% loss and 5% reordering each way,
# the impaired runs smaller to keep the test under a minute on two cores
# (measured: ~1 s, ~10 s and ~25 s; finack's recovery as a sender under
# loss is NewReno with a 200 ms RTO floor, slow at these loss rates). The impaired runs are captured and
# the captures checked with tshark. Prints each run's time and rate.
#
# usage: bash tests/interop/echo_bulk.sh /path/to/finack
# Exit 0 pass, 1 fail, 77 skipped.
set -u
finack=${1:?usage: echo_bulk.sh /path/to/finack}
name=echo
. "$(dirname "$0")/lib/netns.sh"
ns_setup
need nc sha256sum

head -c 100000000 /dev/urandom >"$tmp/in.bin" || fail "cannot make the input"

# run MB TIMEOUT [finack options...]
run() {
    local mb=$1 limit=$2
    shift 2
    finack_start echo --tun fa0 --addr 10.77.0.2/24 --port 7 --verbose "$@"
    head -c $((mb * 1000000)) "$tmp/in.bin" >"$tmp/part.bin"
    local t0 t1 status=0
    t0=$(now_ms)
    in_ns timeout "$limit" nc -N 10.77.0.2 7 <"$tmp/part.bin" >"$tmp/out.bin" 2>"$tmp/nc.err" ||
        status=$?
    t1=$(now_ms)
    finack_stop
    [ "$status" -eq 0 ] || fail "nc exited with status $status ($(head -n1 "$tmp/nc.err")) [$*]"
    local want got
    want=$(sha256sum <"$tmp/part.bin" | cut -d' ' -f1)
    got=$(sha256sum <"$tmp/out.bin" | cut -d' ' -f1)
    [ "$want" = "$got" ] ||
        fail "echo of $mb MB differs: $(stat -c %s "$tmp/out.bin") bytes back [$*]"
    local ms=$((t1 - t0))
    [ "$ms" -gt 0 ] || ms=1
    echo "echo $mb MB [${*:-clean}]: ${ms} ms, $((mb * 1000 * 1000 / ms)) KB/s each way"
    grep -E '^#finack impair' "$tmp/finack.err" | sed 's/^/  /'
}

run 100 120
run 20 120 --loss 0.01 --seed 1 --pcap "$tmp/loss1.pcap"
check_capture "$tmp/loss1.pcap" 7
run 5 150 --loss 0.05 --reorder 0.05 --seed 2 --pcap "$tmp/loss5.pcap"
check_capture "$tmp/loss5.pcap" 7
echo "PASS: finack echo returned every byte, clean and impaired"
