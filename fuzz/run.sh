#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for a
# bounded time over its seed corpus.
#
#   fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]     (default 60 s; all targets)
#
# TARGET is decode, reader, roundtrip or huffman. New interesting inputs go
# to $BUILD/new-corpus/<target>/ (kept between runs, never into fuzz/corpus/);
# crashing inputs to $BUILD/artifacts/. Exit status: 0 if no fuzzer found
# anything, 1 if one did (crash, failed check, leak, timeout, out of memory),
# 2 on a usage or build error.
#
# Environment: QOHI_FUZZ_BUILD_DIR (default build-fuzz), QOHI_FUZZ_JOBS
# (build parallelism, default 2), QOHI_FUZZ_NICE (default 19), CC/CXX
# (default clang/clang++), QOHI_FUZZ_ARGS (extra libFuzzer flags).
# Needs clang and libFuzzer (Debian: clang, libclang-rt-14-dev) and cmake.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${QOHI_FUZZ_BUILD_DIR:-$ROOT/build-fuzz}
JOBS=${QOHI_FUZZ_JOBS:-2}
NICE=${QOHI_FUZZ_NICE:-19}
ALL_TARGETS=(decode reader roundtrip huffman)

SECONDS_PER=60
if [ $# -gt 0 ]; then
    case $1 in
        -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        ''|*[!0-9]*) echo "run.sh: seconds must be a number, got '$1'" >&2; exit 2 ;;
    esac
    SECONDS_PER=$1
    shift
fi
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL_TARGETS[@]}")
for t in "${TARGETS[@]}"; do
    case " ${ALL_TARGETS[*]} " in *" $t "*) ;; *) echo "run.sh: unknown target '$t'" >&2; exit 2 ;; esac
done

CC=${CC:-clang}
CXX=${CXX:-clang++}
command -v "$CXX" >/dev/null || { echo "run.sh: $CXX not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 2; }

# The library and the targets with the sanitizers; the targets also link
# libFuzzer. Debug build type: no -DNDEBUG, no optimisation flags but ours.
FLAGS="-g -O2 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined"
echo "run.sh: configuring $BUILD" >&2
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
    -DCMAKE_C_FLAGS="$FLAGS" -DCMAKE_CXX_FLAGS="$FLAGS" \
    -DQOHI_BUILD_FUZZERS=ON -DQOHI_BUILD_FUZZ_REGRESSION=ON \
    -DQOHI_BUILD_TOOLS=OFF -DQOHI_BUILD_TESTS=OFF \
    -DQOHI_BUILD_IMAGEMAGICK=OFF -DQOHI_BUILD_GIMP=OFF -DQOHI_BUILD_QT=OFF -DQOHI_INSTALL_MIME=OFF \
    >"$BUILD.configure.log" 2>&1 || { cat "$BUILD.configure.log" >&2; exit 2; }
rm -f "$BUILD.configure.log"
echo "run.sh: building" >&2
build_targets=()
for t in "${TARGETS[@]}"; do build_targets+=(--target "fuzz_$t"); done
nice -n "$NICE" cmake --build "$BUILD" -j "$JOBS" "${build_targets[@]}" >"$BUILD/build.log" 2>&1 ||
    { tail -50 "$BUILD/build.log" >&2; exit 2; }

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$BUILD/artifacts"
status=0
summary=()
for t in "${TARGETS[@]}"; do
    corpus="$BUILD/new-corpus/$t"
    mkdir -p "$corpus"
    log="$BUILD/fuzz_$t.log"
    echo "run.sh: fuzz_$t for ${SECONDS_PER}s (log: $log)" >&2
    # The first corpus directory receives new inputs; the committed seeds and
    # past crashes are read only.
    dict=()
    case $t in decode|reader) dict=(-dict="$ROOT/fuzz/qohi.dict") ;; esac
    # shellcheck disable=SC2086
    nice -n "$NICE" "$BUILD/fuzz/fuzz_$t" -max_total_time="$SECONDS_PER" -timeout=25 -malloc_limit_mb=1024 \
        -print_final_stats=1 -artifact_prefix="$BUILD/artifacts/$t-" "${dict[@]}" ${QOHI_FUZZ_ARGS:-} \
        "$corpus" "$ROOT/fuzz/corpus/$t" $( [ -d "$ROOT/fuzz/regressions/$t" ] && echo "$ROOT/fuzz/regressions/$t" ) \
        >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*' "$log" | tail -1)
    line="fuzz_$t: ${execs:-?} execs, ${speed:-?} exec/s, ${cov:-no coverage line}"
    if [ $rc -ne 0 ]; then
        status=1
        line="$line -- FAILED (exit $rc)"
        echo "run.sh: fuzz_$t failed; end of $log:" >&2
        grep -E '^(==[0-9]+==|\*\*\*|SUMMARY|artifact_prefix|Test unit written|.*runtime error)' "$log" | head -20 >&2
    fi
    summary+=("$line")
done
printf '%s\n' "${summary[@]}"
exit $status
