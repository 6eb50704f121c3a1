#!/bin/sh
# scale_bench.sh [BUILD_DIR] [N ...]
# How packing a folder with the real CLI scales with the number of images.
# For each N (default: 1000 2000 5000 10000 20000, or $QOHI_SCALE_NS):
#   qohi_scale_gen N IN          N synthetic 48x48 RGBA variants (~N/50 bases)
#                                in sub-folders of 1000 files
#   qohienc IN -o out.qohi       under /usr/bin/time: elapsed s, peak RSS
#   qohidec out.qohi -o OUT      unpack, timed
#   qohi_scale_gen --compare IN OUT   every image back, bit for bit
# and prints one table. Temporary data lives under ${TMPDIR:-/tmp} and is
# removed after each N. Builds the tools (Release) if needed.
# Defaults: BUILD_DIR=<repo>/build-bench. QOHI_SCALE_SEED sets the seed.
# Exit status: 0 if every round trip is exact, 1 otherwise.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build-bench}
[ $# -gt 0 ] && shift
NS=${*:-${QOHI_SCALE_NS:-1000 2000 5000 10000 20000}}
SEED=${QOHI_SCALE_SEED:-1}

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
for N in $NS; do
  IN=$TMP/in_$N
  OUT=$TMP/out_$N
  ARC=$TMP/out_$N.qohi
  echo "scale_bench.sh: N=$N: generating" >&2
  "$GEN" "$N" "$IN" "$SEED" >&2
  png_bytes=$(find "$IN" -type f -name '*.png' -printf '%s\n' | awk '{s += $1} END {print s + 0}')

  echo "scale_bench.sh: N=$N: packing" >&2
  if ! "$TIME" -f '%e %M' -o "$TMP/time_enc" "$ENC" -q "$IN" -o "$ARC" >&2; then
    echo "scale_bench.sh: N=$N: qohienc failed" >&2
    status=1
    rm -rf "$IN" "$OUT" "$ARC"
    continue
  fi
  enc_line=$(tail -n 1 "$TMP/time_enc")
  arc_bytes=$(wc -c < "$ARC" | tr -d ' ')

  echo "scale_bench.sh: N=$N: unpacking" >&2
  if "$TIME" -f '%e %M' -o "$TMP/time_dec" "$DEC" -q "$ARC" -o "$OUT" >&2 &&
     "$GEN" --compare "$IN" "$OUT" >&2; then
    check=exact
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
  echo "$N $enc_line $arc_bytes $png_bytes $dec_line ${deltas:-?} ${chain:-?} $check" >> "$ROWS"
  rm -rf "$IN" "$OUT" "$ARC"
done

echo "scale_bench.sh: $("$ENC" --version 2>&1 | head -n 1), synthetic 48x48 RGBA variants (seed $SEED),"
echo "  ~N/50 bases, sub-folders of 1000 files; pack = qohienc FOLDER -o out.qohi (plan auto),"
echo "  unpack = qohidec out.qohi -o FOLDER; times elapsed (wall), RSS = peak resident set"
echo
awk 'BEGIN {
       printf "%7s | %8s %8s %8s | %11s %7s %9s %6s | %6s %5s | %8s %8s | %s\n",
              "N", "pack s", "ms/img", "RSS MB", "archive B", "B/img", "PNG B/img", "/PNG",
              "deltas", "depth", "unpack s", "RSS MB", "round trip"
       printf "%s\n", "--------+----------------------------+----------------------------------------+--------------+-------------------+-----------"
     }
     {
       n = $1; es = $2; erss = $3; arc = $4; png = $5; ds = $6; drss = $7; dl = $8; ch = $9; chk = $10
       printf "%7d | %8.2f %8.3f %8.1f | %11d %7.1f %9.1f %6.3f | %6s %5s | %8.2f %8.1f | %s\n",
              n, es, es * 1000 / n, erss / 1024, arc, arc / n, png / n, arc / png, dl, ch, ds, drss / 1024, chk
     }' "$ROWS"
exit $status
