#!/usr/bin/env bash
# The SVG as a browser draws it: headless Chromium renders the ladder of
# lossy.json to a PNG, and the picture must hold a diagram — enough dark
# pixels (lines and text), the blue of segments, the red of a lost one's
# cross, the orange of retransmissions. The PNG is decoded with zlib alone.
#
# usage: bash tests/ladder/svg_render.sh /path/to/finack
# Exit 0 pass, 1 fail, 77 skipped (no chromium).
set -u

finack=${1:?usage: svg_render.sh /path/to/finack}
here=$(cd "$(dirname "$0")" && pwd)
browser=
for b in chromium chromium-browser google-chrome; do
    command -v "$b" >/dev/null && { browser=$(command -v "$b"); break; }
done
[ -n "$browser" ] || { echo "SKIP: no chromium to render the SVG (apt-get install chromium)"; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/finack-ladder-svg.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

"$finack" ladder --format svg "$here/lossy.json" --out "$tmp/ladder.svg" ||
    { echo "FAIL: finack ladder --format svg"; exit 1; }
size=$(/usr/bin/python3 -c '
import re, sys
head = open(sys.argv[1]).read(600)
m = re.search(r"width=\"(\d+)\" height=\"(\d+)\"", head)
print("%s,%s" % (m.group(1), m.group(2)))' "$tmp/ladder.svg") ||
    { echo "FAIL: no width and height on the <svg> element"; exit 1; }

# A profile of its own, so that nothing of the user's is read or written.
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --user-data-dir="$tmp/profile" --screenshot="$tmp/ladder.png" --window-size="$size" \
    "file://$tmp/ladder.svg" >"$tmp/browser.log" 2>&1
[ -s "$tmp/ladder.png" ] || { echo "FAIL: chromium wrote no screenshot"; tail -n5 "$tmp/browser.log"; exit 1; }

/usr/bin/python3 - "$tmp/ladder.png" <<'PY'
import struct, sys, zlib

def pixels(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, w = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype in (2, 6) and interlace == 0, "unexpected PNG format"
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
    raw, stride = zlib.decompress(idat), w * bpp
    prev, out, i = bytearray(stride), [], 0
    for _ in range(h):
        f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], prev[x - bpp] if x >= bpp else 0
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + b) & 255
            elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out.append(line)
        prev = line
    return w, h, bpp, out

w, h, bpp, rows = pixels(sys.argv[1])
dark = blue = red = orange = 0
for line in rows:
    for x in range(0, len(line), bpp):
        r, g, b = line[x], line[x + 1], line[x + 2]
        if r + g + b < 600: dark += 1
        if b > r + 60 and b > g + 30: blue += 1
        if r > 150 and g < 90 and b < 90: red += 1
        if r > 180 and 90 < g < 170 and b < 100: orange += 1
print("rendered %dx%d: %d non-white pixels, %d blue, %d red, %d orange" % (w, h, dark, blue, red, orange))
problems = []
if dark < 5000: problems.append("the picture is (nearly) blank")
if blue < 300: problems.append("no segment arrows (blue)")
if red < 50: problems.append("no lost segment (red)")
if orange < 50: problems.append("no retransmission (orange)")
if problems:
    print("FAIL: " + "; ".join(problems))
    sys.exit(1)
print("PASS: chromium draws the ladder's SVG")
PY
