#!/bin/sh
# scale_gen_real_test.sh GEN QOHIENC QOHIDEC DATA_DIR
# qohi_scale_gen --real, the scale benchmark's real images, on a tiny
# corpus made of tests/data (single/ with a large image to crop, an RGB one,
# grey, palette and a 16-bit file it must skip; sets/ with two members):
# the output is deterministic, keeps RGB and RGBA, goes through qohienc and
# qohidec exactly, and --compare sees a changed or a missing file.
set -eu
GEN=$1
ENC=$2
DEC=$3
DATA=$4
TMP=$(mktemp -d "${TMPDIR:-/tmp}/qohi-scale-gen.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM HUP
fail() {
  echo "scale_gen_real_test: $*" >&2
  exit 1
}

mkdir -p "$TMP/corpus/single/data" "$TMP/corpus/sets/icons"
cp "$DATA"/*.png "$TMP/corpus/single/data/"
cp "$DATA/icon-rgba.png" "$TMP/corpus/sets/icons/a.png"
cp "$DATA/interlaced-rgba.png" "$TMP/corpus/sets/icons/b.png"

"$GEN" --real "$TMP/corpus" 120 "$TMP/a" 5 > "$TMP/summary"
cat "$TMP/summary"
# trash-rgba.png (256x256) gives crops; rgb16.png is skipped.
grep -q "1 unreadable" "$TMP/summary" || fail "rgb16.png not counted as unreadable"
grep -q " 0 crops" "$TMP/summary" && fail "no crops of the large image"
grep -q "2 set members" "$TMP/summary" || fail "set members not counted"
[ "$(find "$TMP/a" -name '*.png' | wc -l)" -eq 120 ] || fail "not 120 files"

# Same corpus, N and seed: the same files.
"$GEN" --real "$TMP/corpus" 120 "$TMP/b" 5 > /dev/null
(cd "$TMP/a" && find . -type f | sort | xargs cat) > "$TMP/a.all"
(cd "$TMP/b" && find . -type f | sort | xargs cat) > "$TMP/b.all"
cmp -s "$TMP/a.all" "$TMP/b.all" || fail "not deterministic"

# Both RGB (colour type 2) and RGBA (6) files: channels are kept.
types=$(for f in $(find "$TMP/a" -name '*.png'); do od -An -tu1 -j25 -N1 "$f"; done | sort -u | tr -d ' \n')
[ "$types" = 26 ] || fail "colour types '$types', expected 2 and 6"

# Packed and unpacked by the tools, every image back.
"$ENC" -q "$TMP/a" -o "$TMP/a.qohi"
"$DEC" -q "$TMP/a.qohi" -o "$TMP/out"
"$GEN" --compare "$TMP/a" "$TMP/out" || fail "round trip differs"

# A changed file (a 256x256 image: no generated image has that size) and a
# missing one are seen.
first=$(cd "$TMP/out" && find . -name '*.png' | sort | head -n 1)
cp "$DATA/trash-rgba.png" "$TMP/out/$first"
if "$GEN" --compare "$TMP/a" "$TMP/out"; then fail "changed file not seen"; fi
cp "$TMP/a/$first" "$TMP/out/$first"
"$GEN" --compare "$TMP/a" "$TMP/out" > /dev/null || fail "restored file differs"
rm "$TMP/out/$first"
if "$GEN" --compare "$TMP/a" "$TMP/out"; then fail "missing file not seen"; fi
# Usage errors.
if "$GEN" --real "$TMP/corpus" 2> /dev/null; then fail "usage error not reported"; fi
echo "scale_gen_real_test: ok"
