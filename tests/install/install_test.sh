#!/usr/bin/env bash
# Installs the build into a temporary prefix and builds and runs a consumer
# that finds libqohi through its CMake package and through pkg-config.
set -euo pipefail
BUILD=$1
LINKER_FLAGS=${2:-}
SRC=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/qohi-install.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
cmake --install "$BUILD" --prefix "$TMP/prefix" >/dev/null
test -f "$TMP/prefix/include/qohi/qohi.h"
export PKG_CONFIG_PATH="$(dirname "$(find "$TMP/prefix" -name qohi.pc)")"
cmake -S "$SRC/consumer" -B "$TMP/build" -DCMAKE_PREFIX_PATH="$TMP/prefix" \
    -DCMAKE_EXE_LINKER_FLAGS="$LINKER_FLAGS" >/dev/null
cmake --build "$TMP/build" >/dev/null
LIBDIR=$(dirname "$(find "$TMP/prefix" -name 'libqohi.so' | head -1)")
LD_LIBRARY_PATH="$LIBDIR" "$TMP/build/consumer_cmake"
LD_LIBRARY_PATH="$LIBDIR" "$TMP/build/consumer_pkgconfig"
# pkg-config must resolve to the prefix the package was installed to.
case "$(pkg-config --cflags qohi)" in
    *"$TMP/prefix/"*include*) ;;
    *) echo "qohi.pc does not point into the install prefix: $(pkg-config --cflags qohi)" >&2; exit 1 ;;
esac
