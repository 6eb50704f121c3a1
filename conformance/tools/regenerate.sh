#!/usr/bin/env bash
# Rebuilds every conformance vector: builds the generator in BUILD_DIR,
# replaces conformance/cases/ with its output and updates the coverage
# tables of conformance/README.md. Run it after any change to the format (or
# to the cases), then run the vectors (conformance/run) and commit the result.
#
#   conformance/tools/regenerate.sh [BUILD_DIR]     (default: build)
#
# The generator checks every case before writing anything (see
# make_vectors.cc); if it stops with a message, the format and a case no
# longer agree: fix the case (or the library) and rerun.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${1:-$ROOT/build}
cmake --build "$BUILD" -j "${QOHI_BUILD_JOBS:-2}" --target qohi_conformance_vectors >/dev/null
OUT=$ROOT/conformance/cases
TMP=$(mktemp -d "$ROOT/conformance/.cases.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
# Into a scratch folder first: a failing case leaves the committed vectors alone.
cp "$ROOT/conformance/README.md" "$TMP/README.md"
"$BUILD/conformance/qohi_conformance_vectors" "$TMP/cases" "$TMP/README.md"
rm -rf "$OUT"
mv "$TMP/cases" "$OUT"
cp "$TMP/README.md" "$ROOT/conformance/README.md"
