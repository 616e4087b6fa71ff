#!/usr/bin/env bash
# 200 Linux clients at once (python asyncio) against `finack echo` over
# TUN: each sends 200 KB of its own random bytes, closes its side, and must
# read exactly those bytes back before finack closes. Also a delayed,
# duplicating link (--delay 5 --duplicate 0.02) with 50 clients.
#
# usage: bash tests/interop/echo_many.sh /path/to/finack
# Exit 0 pass, 1 fail, 77 skipped.
set -u
finack=${1:?usage: echo_many.sh /path/to/finack}
name=echomany
. "$(dirname "$0")/lib/netns.sh"
ns_setup
need python3

cat >"$tmp/clients.py" <<'PY'
import asyncio, os, sys, time

async def client(i, size):
    data = os.urandom(size)
    r, w = await asyncio.open_connection("10.77.0.2", 7)
    async def send():
        w.write(data)
        await w.drain()
        w.write_eof()
    sender = asyncio.create_task(send())
    got = await r.read(-1)  # until EOF
    await sender
    w.close()
    if got != data:
        return f"client {i}: {len(got)} bytes back, expected {len(data)}, equal={got == data}"
    return None

async def main(n, size):
    t0 = time.monotonic()
    results = await asyncio.wait_for(
        asyncio.gather(*(client(i, size) for i in range(n)), return_exceptions=True), 120)
    bad = [f"client {i}: {r!r}" if isinstance(r, Exception) else r
           for i, r in enumerate(results) if r is not None]
    dt = time.monotonic() - t0
    print(f"{n} clients x {size} bytes: {len(bad)} failed, {dt:.2f} s")
    for b in bad[:5]:
        print("  " + b)
    sys.exit(1 if bad else 0)

asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
PY

finack_start echo --tun fa0 --addr 10.77.0.2/24 --port 7
in_ns python3 "$tmp/clients.py" 200 200000 || fail "200 concurrent echo clients"
finack_stop

finack_start echo --tun fa0 --addr 10.77.0.2/24 --port 7 --delay 5 --duplicate 0.02 --seed 3 \
    --pcap "$tmp/dup.pcap"
in_ns python3 "$tmp/clients.py" 50 100000 || fail "50 clients over a delayed, duplicating link"
finack_stop
check_capture "$tmp/dup.pcap" 7
echo "PASS: finack echo served many clients at once"
