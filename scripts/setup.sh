#!/usr/bin/env bash
# Installs the build dependencies (Debian 12, apt) and builds QOHI in ./build.
# Sourced by demo.sh and test.sh; safe to run again (skips what is done).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${QOHI_BUILD_DIR:-$ROOT/build}

PACKAGES=(g++ make cmake pkg-config libpng-dev libgtest-dev libqoi-dev libwebp-dev)
# The plugin hosts, with their development files: the plugins are built and
# tested against the real programs (see plugins/).
PACKAGES+=(imagemagick libmagick++-dev gimp libgimp2.0-dev qtbase5-dev python3-pyqt5 shared-mime-info)
# clang with libFuzzer and the sanitizers, for the bounded fuzzing runs (fuzz/).
PACKAGES+=(clang libclang-rt-14-dev)
# valgrind for the memcheck run of the tests (scripts/sanitizers.sh).
PACKAGES+=(valgrind)

missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}" >&2
    SUDO=()
    [ "$(id -u)" = 0 ] || SUDO=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null
fi

JOBS=$(nproc 2>/dev/null || echo 2)
cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS" >/dev/null
echo "setup: built in $BUILD_DIR" >&2
