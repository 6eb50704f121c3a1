#!/usr/bin/env bash
# Regenerates the seed corpora fuzz/corpus/<target>/ from libqohi itself:
# synthetic single and multi-frame files, writer inputs and code tables
# (qohi_fuzz_seeds, fuzz/make_seeds.cc), plus the PNGs of tests/data encoded
# one by one and packed as a collection by qohienc, plus the inputs of the
# conformance vectors (conformance/cases/).
#
#   fuzz/make_seeds.sh [BUILD_DIR]      (default: build; a normal, non-fuzz build)
#
# Rerun it when the format changes, and commit the result; keep the corpus
# small (it is replayed by ctest on every build).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$ROOT/build}
OUT=$ROOT/fuzz/corpus

cmake --build "$BUILD" -j "${QOHI_FUZZ_JOBS:-2}" --target qohi_fuzz_seeds qohienc >/dev/null
rm -rf "$OUT/decode" "$OUT/reader" "$OUT/roundtrip" "$OUT/huffman"
"$BUILD/fuzz/qohi_fuzz_seeds" "$OUT"

QOHIENC=$BUILD/tools/qohienc
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/pack/sub"
for png in "$ROOT"/tests/data/*.png; do
    name=$(basename "$png" .png)
    # 16-bit PNGs are refused by qohienc; skip what it refuses.
    "$QOHIENC" -q -f "$png" -o "$OUT/decode/png-$name.qohi" 2>/dev/null || continue
    case $name in trash-*|icon-*) "$QOHIENC" -q -f --effort 1 "$png" -o "$OUT/decode/png-$name-e1.qohi" ;; esac
    # The 48x48 images (all but the two trash-*) make a collection with deltas.
    case $name in trash-*) ;; grey*) cp "$png" "$TMP/pack/sub/" ;; *) cp "$png" "$TMP/pack/" ;; esac
done
"$QOHIENC" -q -f "$TMP/pack" -o "$TMP/pack.qohi"
"$QOHIENC" -q -f --mode prior --max-depth 3 "$TMP/pack" -o "$TMP/pack-prior.qohi"
cp "$TMP/pack.qohi" "$OUT/decode/pack-testdata.qohi"
# Reader inputs: flags (8 + 32: cross-check in the other memory mode, from a file), no operations
# (the default walk), then the file; and one with random access by name.
{ printf '\050\000'; cat "$TMP/pack.qohi"; } >"$OUT/reader/pack-testdata.bin"
{ printf '\011\006\003\001\003\004\000\006\001\003\004\002\002\005'; cat "$TMP/pack-prior.qohi"; } \
    >"$OUT/reader/pack-testdata-prior.bin"
# The conformance vectors' inputs (conformance/cases/*/input.qohi, made by
# conformance/tools/regenerate.sh): every kind of valid and invalid file the
# spec describes, for fuzz_decode as they are, for fuzz_reader behind the
# same control bytes as the packs above.
for dir in "$ROOT"/conformance/cases/*/; do
    name=$(basename "$dir")
    cp "$dir/input.qohi" "$OUT/decode/conf-$name.qohi"
    { printf '\050\000'; cat "$dir/input.qohi"; } >"$OUT/reader/conf-$name.bin"
done
echo "make_seeds.sh: $(find "$OUT" -type f | wc -l) files, $(du -sk "$OUT" | cut -f1) KiB in $OUT"
