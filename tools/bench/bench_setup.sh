# Shared set-up of run_bench.sh and run_sets_bench.sh; sourced, not run.
#
# bench_setup TARGET [CORPUS_DIR] [BUILD_DIR]
# Sets ROOT (the repository), CORPUS and BUILD, builds TARGET (Release) in
# BUILD (configuring it first if needed) and builds the shared corpus if
# CORPUS/SHA256SUMS is missing.
# Defaults: CORPUS_DIR=<repo>/../corpus, BUILD_DIR=<repo>/build-bench.
# QOHI_CORPUS_SCRIPT overrides the corpus script (relative to the repo root).
bench_setup() {
  ROOT=$(cd "$(dirname "$0")/../.." && pwd)
  CORPUS=${2:-$ROOT/../corpus}
  BUILD=${3:-$ROOT/build-bench}

  if [ ! -f "$BUILD/CMakeCache.txt" ]; then
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release
  fi
  cmake --build "$BUILD" --target "$1" -j1

  if [ ! -f "$CORPUS/SHA256SUMS" ]; then
    SCRIPT=${QOHI_CORPUS_SCRIPT:-../shared/corpus/build-corpus.sh}
    case $SCRIPT in /*) ;; *) SCRIPT=$ROOT/$SCRIPT ;; esac
    "$SCRIPT" "$CORPUS"
  fi
}
