#!/usr/bin/env bash
# Runs the test suite under the sanitizers and valgrind (part of
# scripts/test.sh, so of CI):
#  1. everything built with ASan + UBSan (gcc, -O1) in BUILD-asan, and every
#     ctest test there but the host plugins' and the Python decoder's (those
#     load libqohi into programs that are not built with the sanitizers);
#  2. the codec unit tests and the fuzz corpus replays of the normal build
#     under valgrind's memcheck.
# Any report fails the run.
#
#   scripts/sanitizers.sh BUILD_DIR
#
# Needs cmake, g++ with libasan/libubsan, valgrind (scripts/setup.sh installs them).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:?usage: scripts/sanitizers.sh BUILD_DIR}
ASAN_BUILD=$BUILD-asan
JOBS=$(nproc 2>/dev/null || echo 2)

FLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined"
echo "sanitizers: building with ASan + UBSan in $ASAN_BUILD" >&2
cmake -S "$ROOT" -B "$ASAN_BUILD" -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_C_FLAGS="$FLAGS" -DCMAKE_CXX_FLAGS="$FLAGS" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
    -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" \
    -DQOHI_BUILD_FUZZ_REGRESSION=ON -DQOHI_BUILD_BENCH=OFF -DQOHI_BUILD_CONFORMANCE=OFF \
    -DQOHI_BUILD_IMAGEMAGICK=OFF -DQOHI_BUILD_GIMP=OFF -DQOHI_BUILD_QT=OFF -DQOHI_INSTALL_MIME=OFF >/dev/null
cmake --build "$ASAN_BUILD" -j "$JOBS" >/dev/null
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir "$ASAN_BUILD" --output-on-failure -j "$JOBS" -LE 'plugins|conformance'

echo "sanitizers: valgrind memcheck on the codec tests and the fuzz replays" >&2
VALGRIND=(valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite)
# Planning thousands of images several times over is minutes under valgrind;
# those tests run natively and under ASan above.
"${VALGRIND[@]}" "$BUILD/tests/codec_tests" --gtest_brief=1 \
    --gtest_filter='-Planner.RelativesAreFoundAtAnyCollectionSize:Planner.ThePlanIsTheSameForAnyThreadCount:Planner.LoaderErrorsArePropagatedFromEveryThread'

for replay in "$BUILD"/fuzz/fuzz_*_replay; do
    [ -x "$replay" ] || continue
    target=$(basename "$replay" _replay)
    target=${target#fuzz_}
    dirs=()
    for d in "$ROOT/fuzz/corpus/$target" "$ROOT/fuzz/regressions/$target"; do
        [ -d "$d" ] && dirs+=("$d")
    done
    [ ${#dirs[@]} -gt 0 ] || continue
    "${VALGRIND[@]}" "$replay" "${dirs[@]}" >/dev/null
done
echo "sanitizers: no reports" >&2
