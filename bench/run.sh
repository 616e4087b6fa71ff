#!/usr/bin/env bash
# Configure, build (Release, in build/bench) and run finack_bench. Arguments
# go to finack_bench: bench/run.sh --json, bench/run.sh --bytes 200M, ...
# lwIP is measured when Debian's liblwip-dev is installed; as root this
# script installs it if it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -e /usr/include/lwip/lwipopts.h ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "bench/run.sh: installing liblwip-dev for the lwIP comparison" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q liblwip-dev >&2 ||
    { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q liblwip-dev >&2; } ||
    echo "bench/run.sh: liblwip-dev not installed; lwIP will read 'unavailable'" >&2
fi
cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DFINACK_BENCH=ON >/dev/null
cmake --build build/bench --target finack_bench -j "$(nproc)" >/dev/null
exec build/bench/bench/finack_bench "$@"
