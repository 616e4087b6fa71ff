#!/usr/bin/env bash
# Build finack and run every test:
#   1. gcc, -Werror: unit, simulator and interop tests (interop needs root,
#      TUN and network namespaces; it skips itself otherwise);
#   2. clang with AddressSanitizer + UndefinedBehaviorSanitizer: unit and
#      simulator tests, and the parser fuzzer for a bounded 30 s;
#   3. install into a scratch prefix and build a program against it with
#      pkg-config.
# Run as root on a fresh Debian machine, it first installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake make gcc clang libclang-rt-14-dev pkg-config iproute2 iputils-ping tshark
          tcpdump util-linux netcat-openbsd curl wrk iperf3 python3 coreutils chromium
          libxml2-utils)
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    missing=()
    for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "== installing: ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null
    fi
fi

jobs=$(nproc)

echo "== gcc build, all tests"
cmake -S . -B build/gcc -DCMAKE_C_COMPILER=gcc >/dev/null
cmake --build build/gcc -j"$jobs"
ctest --test-dir build/gcc --output-on-failure -j"$jobs"

echo "== clang build with ASan+UBSan, unit/simulator tests and the fuzzer"
cmake -S . -B build/asan -DCMAKE_C_COMPILER=clang -DFINACK_SANITIZE=ON -DFINACK_FUZZ=ON \
    -DFINACK_INTEROP=OFF >/dev/null
cmake --build build/asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build/asan --output-on-failure -j"$jobs"

echo "== install and pkg-config"
prefix=$(pwd)/build/install
rm -rf "$prefix"
cmake --install build/gcc --prefix "$prefix" >/dev/null
PKG_CONFIG_PATH=$prefix/lib/pkgconfig:$prefix/lib/x86_64-linux-gnu/pkgconfig \
    bash tests/install/check.sh "$prefix"
