#!/bin/sh
# run_bench.sh [CORPUS_DIR] [BUILD_DIR] [qohi_bench options...]
# Builds qohi_bench (Release) if needed, builds the shared corpus if
# CORPUS_DIR/SHA256SUMS is missing, and benchmarks CORPUS_DIR/single.
# Defaults: CORPUS_DIR=<repo>/../corpus, BUILD_DIR=<repo>/build-bench.
# The qohi_bench options follow both directories, e.g. --no-webp to skip
# WebP (slow at its default method); see qohi_bench --help.
# QOHI_CORPUS_SCRIPT overrides the corpus script (relative to the repo root).
set -eu
. "$(dirname "$0")/bench_setup.sh"
bench_setup qohi_bench "$@"
[ $# -gt 0 ] && shift
[ $# -gt 0 ] && shift

exec "$BUILD/tools/bench/qohi_bench" "$@" "$CORPUS/single"
