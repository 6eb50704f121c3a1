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
. "$(dirname "$0")/bench_setup.sh"
bench_setup qohi_sets_bench "$@"
[ $# -gt 0 ] && shift
[ $# -gt 0 ] && shift

for tool in cwebp dwebp xz tar ffmpeg; do
  command -v "$tool" >/dev/null 2>&1 || echo "run_sets_bench.sh: note: $tool not found; its column is n/a" >&2
done

exec "$BUILD/tools/bench/qohi_sets_bench" "$@" --sets "$CORPUS/sets"
