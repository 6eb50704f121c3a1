#!/usr/bin/env bash
# Installs dependencies, builds, and runs the whole test suite: every ctest
# test (unit, tools, host plugins, conformance, fuzz corpus replays), the
# tests again under ASan + UBSan and valgrind (scripts/sanitizers.sh;
# QOHI_SANITIZERS=0 skips), then each fuzzer for QOHI_FUZZ_SECONDS (default
# 30; 0 skips) with ASan and UBSan.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/scripts/setup.sh"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$JOBS"
if [ "${QOHI_SANITIZERS:-1}" != 0 ]; then
    bash "$ROOT/scripts/sanitizers.sh" "$BUILD_DIR"
fi
FUZZ_SECONDS=${QOHI_FUZZ_SECONDS:-30}
if [ "$FUZZ_SECONDS" != 0 ]; then
    QOHI_FUZZ_BUILD_DIR="$BUILD_DIR-fuzz" bash "$ROOT/fuzz/run.sh" "$FUZZ_SECONDS"
fi
