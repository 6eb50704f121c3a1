#!/bin/sh
# scale_bench.sh [BUILD_DIR] [N ...]
# How packing a folder with the real CLI scales with the number of images.
# For each N (default: 1000 2000 5000 10000 20000, or $QOHI_SCALE_NS):
#   qohi_scale_gen N IN          N synthetic 48x48 RGBA variants (~N/50 bases)
#                                in sub-folders of 1000 files
#   qohienc --threads 1 IN -o out.qohi   under /usr/bin/time: elapsed s,
#                                peak RSS (the table's pack columns)
#   qohienc --threads 2 IN -o out2.qohi  elapsed s (the 2t columns); the
#                                file must be the same as with one thread
#   qohidec out.qohi -o OUT      unpack, timed
#   qohi_scale_gen --compare IN OUT   every image back, bit for bit
# and prints one table. Temporary data lives under ${TMPDIR:-/tmp} and is
# removed after each N. Builds the tools (Release) if needed.
# Defaults: BUILD_DIR=<repo>/build-bench. QOHI_SCALE_SEED sets the seed.
#
# Real images: with QOHI_SCALE_REAL=CORPUS_DIR (the shared corpus: single/
# and sets/ of PNGs) the table also has rows "real N", one for each N of
# $QOHI_SCALE_REAL_NS (default 100000), measured the same way on
#   qohi_scale_gen --real CORPUS_DIR N IN
# Recipe (see qohi_scale_gen.cc): every corpus PNG gives bases, a small one
# (both sides <= 128) whole, a large one 2..16 crops of 32..128 pixels a
# side at its busiest of a few random places; the members of sets/<set>/
# are kept as they are (a large set is cut at the same 1..4 places in every
# member). About 4300 bases from the 1474 files; N/20 of them (all of them
# from N = 85000 on) get ~20 variants each, a small realistic edit or two
# (a few pixels, a patch copied from elsewhere, a rectangle recoloured,
# text-like glyphs drawn, a region moved by 1 pixel, alpha faded or, for
# RGB, a highlight). RGB stays RGB, RGBA stays RGBA (grey and palette PNGs
# become RGB(A)). Files are shuffled over sub-folders of 1000, as for the
# synthetic rows. The PNG column is the generated files, written by libpng
# at its default level. 100000 real images: ~0.4 GB of PNGs (0.65 GB on
# disk), twice (input and unpacked copy), plus the archive; generating them
# takes ~2-3 minutes, the whole row ~10 minutes on 2 cores.
# QOHI_SCALE_NS= (set, empty) leaves the synthetic rows out.
# Exit status: 0 if every round trip is exact, 1 otherwise.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build-bench}
[ $# -gt 0 ] && shift
NS=${*:-${QOHI_SCALE_NS-1000 2000 5000 10000 20000}}
SEED=${QOHI_SCALE_SEED:-1}
REAL=${QOHI_SCALE_REAL:-}
REAL_NS=${QOHI_SCALE_REAL_NS:-100000}
if [ -n "$REAL" ] && [ ! -d "$REAL" ]; then
  echo "scale_bench.sh: QOHI_SCALE_REAL=$REAL is not a folder" >&2
  exit 2
fi

if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release
fi
cmake --build "$BUILD" --target qohienc qohidec qohi_scale_gen -j1 >&2

ENC=$BUILD/tools/qohienc
DEC=$BUILD/tools/qohidec
GEN=$BUILD/tools/bench/qohi_scale_gen
TIME=/usr/bin/time
if [ ! -x "$TIME" ]; then
  echo "scale_bench.sh: $TIME not found (Debian: apt-get install time)" >&2
  exit 2
fi
if ! "$ENC" --help 2>&1 | grep -qi folder; then
  echo "scale_bench.sh: $ENC cannot pack folders" >&2
  exit 2
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/qohi_scale.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM HUP

# Header, rows and a summary go to stdout; tool chatter to stderr.
ROWS=$TMP/rows.txt
: > "$ROWS"
status=0
# run_one KIND N: one row; KIND is syn (synthetic) or real.
run_one() {
  kind=$1
  N=$2
  IN=$TMP/in_$N
  OUT=$TMP/out_$N
  ARC=$TMP/out_$N.qohi
  label=$N
  [ "$kind" = real ] && label="real $N"
  echo "scale_bench.sh: $label: generating" >&2
  if [ "$kind" = real ]; then
    "$GEN" --real "$REAL" "$N" "$IN" "$SEED" > "$TMP/gen_real"
    cat "$TMP/gen_real" >&2
    tail -n 1 "$TMP/gen_real" >> "$TMP/real_summaries"
  else
    "$GEN" "$N" "$IN" "$SEED" >&2
  fi
  png_bytes=$(find "$IN" -type f -name '*.png' -printf '%s\n' | awk '{s += $1} END {print s + 0}')

  echo "scale_bench.sh: $label: packing (1 thread)" >&2
  if ! "$TIME" -f '%e %M' -o "$TMP/time_enc" "$ENC" -q --threads 1 "$IN" -o "$ARC" >&2; then
    echo "scale_bench.sh: $label: qohienc failed" >&2
    status=1
    rm -rf "$IN" "$OUT" "$ARC"
    return
  fi
  enc_line=$(tail -n 1 "$TMP/time_enc")
  arc_bytes=$(wc -c < "$ARC" | tr -d ' ')
  echo "scale_bench.sh: $label: packing (2 threads)" >&2
  same=yes
  if "$TIME" -f '%e %M' -o "$TMP/time_enc2" "$ENC" -q --threads 2 "$IN" -o "$ARC.2t" >&2; then
    enc2=$(tail -n 1 "$TMP/time_enc2" | cut -d' ' -f1)
    cmp -s "$ARC" "$ARC.2t" || same=no
  else
    echo "scale_bench.sh: $label: qohienc --threads 2 failed" >&2
    enc2=0
    same=no
  fi
  rm -f "$ARC.2t"

  echo "scale_bench.sh: $label: unpacking" >&2
  if "$TIME" -f '%e %M' -o "$TMP/time_dec" "$DEC" -q "$ARC" -o "$OUT" >&2 &&
     "$GEN" --compare "$IN" "$OUT" >&2; then
    check=exact
    if [ "$same" != yes ]; then
      echo "scale_bench.sh: $label: the file differs with 2 threads" >&2
      check="FAILED (2 threads)"
      status=1
    fi
  else
    check=FAILED
    status=1
  fi
  dec_line=$(tail -n 1 "$TMP/time_dec")
  # frames with a reference and the longest chain, from the listing's summary:
  # "N frames (B baselines, D with a reference, longest chain L), ..."
  summary=$("$DEC" --list "$ARC" 2>/dev/null | grep " frames (" | tail -n 1) || summary=
  deltas=$(echo "$summary" | sed -n 's/.* \([0-9][0-9]*\) with a reference.*/\1/p')
  chain=$(echo "$summary" | sed -n 's/.*longest chain \([0-9][0-9]*\).*/\1/p')
  echo "$kind $N $enc_line $enc2 $arc_bytes $png_bytes $dec_line ${deltas:-?} ${chain:-?} $check" >> "$ROWS"
  rm -rf "$IN" "$OUT" "$ARC"
}
for N in $NS; do
  run_one syn "$N"
done
if [ -n "$REAL" ]; then
  for N in $REAL_NS; do
    run_one real "$N"
  done
fi

echo "scale_bench.sh: $("$ENC" --version 2>&1 | head -n 1); pack = qohienc --threads 1 FOLDER -o out.qohi"
echo "  (plan auto), 2t = the same with --threads 2 (same file); unpack = qohidec out.qohi -o FOLDER;"
echo "  times elapsed (wall), RSS = peak resident set"
if [ -n "$NS" ]; then
  echo "  N: synthetic 48x48 RGBA variants (seed $SEED), ~N/50 bases, sub-folders of 1000 files"
fi
if [ -n "$REAL" ]; then
  echo "  real N: PNGs cut from $REAL (seed $SEED): small images whole, crops of 32..128 px"
  echo "    of large ones, sets/ members as they are; ~20 variants a base with small edits;"
  echo "    sub-folders of 1000 files. Generator:"
  sed -e 's/^qohi_scale_gen: /    /' -e 's| in [^ ]*: |: |' "$TMP/real_summaries"
fi
echo
# Wider first column only when there are "real N" labels.
width=7
[ -n "$REAL" ] && width=12
awk -v w="$width" 'BEGIN {
       dash = sprintf("%*s", w + 1, ""); gsub(/ /, "-", dash)
       printf "%*s | %8s %8s %8s %8s %6s | %11s %7s %9s %6s | %6s %5s | %8s %8s | %s\n",
              w, "N", "pack s", "ms/img", "RSS MB", "2t s", "2t/1t", "archive B", "B/img", "PNG B/img", "/PNG",
              "deltas", "depth", "unpack s", "RSS MB", "round trip"
       printf "%s%s\n", dash, "+--------------------------------------------+----------------------------------------+--------------+-------------------+-----------"
     }
     {
       kind = $1; n = $2; es = $3; erss = $4; es2 = $5; arc = $6; png = $7; ds = $8; drss = $9; dl = $10; ch = $11
       chk = $12; for (i = 13; i <= NF; ++i) chk = chk " " $i
       label = (kind == "real" ? "real " n : n)
       printf "%*s | %8.2f %8.3f %8.1f %8.2f %6.3f | %11d %7.1f %9.1f %6.3f | %6s %5s | %8.2f %8.1f | %s\n",
              w, label, es, es * 1000 / n, erss / 1024, es2, (es > 0 ? es2 / es : 0), arc, arc / n, png / n, arc / png,
              dl, ch, ds, drss / 1024, chk
     }' "$ROWS"
exit $status
