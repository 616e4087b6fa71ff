#!/usr/bin/env bash
# Build finack and run its main job on the built-in default: the simulator
# (no root, no network). Extra arguments go to `finack demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build/gcc -DCMAKE_C_COMPILER=gcc >/dev/null
cmake --build build/gcc -j"$(nproc)" --target finack >/dev/null
exec build/gcc/finack demo "$@"
