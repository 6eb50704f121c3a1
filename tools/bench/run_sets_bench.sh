#!/bin/sh
# run_sets_bench.sh [CORPUS_DIR] [BUILD_DIR] [qohi_sets_bench options...]
# Builds qohi_sets_bench (Release) if needed, builds the shared corpus if
# CORPUS_DIR/SHA256SUMS is missing, and benchmarks the collections in
# CORPUS_DIR/sets against per-image WebP, solid tar|xz and lossless video.
# The peers are external programs, used when found (Debian: webp, xz-utils,
# tar, ffmpeg); a missing one is reported as n/a.
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
cmake --build "$BUILD" --target qohi_sets_bench -j1

if [ ! -f "$CORPUS/SHA256SUMS" ]; then
  SCRIPT=${QOHI_CORPUS_SCRIPT:-../shared/corpus/build-corpus.sh}
  case $SCRIPT in /*) ;; *) SCRIPT=$ROOT/$SCRIPT ;; esac
  "$SCRIPT" "$CORPUS"
fi

for tool in cwebp dwebp xz tar ffmpeg; do
  command -v "$tool" >/dev/null 2>&1 || echo "run_sets_bench.sh: note: $tool not found; its column is n/a" >&2
done

exec "$BUILD/tools/bench/qohi_sets_bench" "$@" --sets "$CORPUS/sets"
