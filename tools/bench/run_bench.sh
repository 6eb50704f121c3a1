#!/bin/sh
# run_bench.sh [CORPUS_DIR] [BUILD_DIR] [qohi_bench options...]
# Builds qohi_bench (Release) if needed, builds the shared corpus if
# CORPUS_DIR/SHA256SUMS is missing, and benchmarks CORPUS_DIR/single.
# Defaults: CORPUS_DIR=<repo>/../corpus, BUILD_DIR=<repo>/build-bench.
# QOHI_CORPUS_SCRIPT overrides the corpus script (relative to the repo root).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CORPUS=${1:-$ROOT/../corpus}
BUILD=${2:-$ROOT/build-bench}
[ $# -gt 0 ] && shift
[ $# -gt 0 ] && shift

if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release
fi
cmake --build "$BUILD" --target qohi_bench -j1

if [ ! -f "$CORPUS/SHA256SUMS" ]; then
  SCRIPT=${QOHI_CORPUS_SCRIPT:-../shared/corpus/build-corpus.sh}
  case $SCRIPT in /*) ;; *) SCRIPT=$ROOT/$SCRIPT ;; esac
  "$SCRIPT" "$CORPUS"
fi

exec "$BUILD/tools/bench/qohi_bench" "$@" "$CORPUS/single"
