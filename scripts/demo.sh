#!/usr/bin/env bash
# Installs dependencies, builds, then packs every bundled sample image
# (tests/data/*.png) into .qohi, unpacks it to PNG again and checks that the
# pixels survived: re-encoding the unpacked PNG must give the same bytes,
# which for a lossless, deterministic codec holds only if the pixels match.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/scripts/setup.sh"
ENC=$BUILD_DIR/tools/qohienc
DEC=$BUILD_DIR/tools/qohidec
OUT=$(mktemp -d "${TMPDIR:-/tmp}/qohi-demo.XXXXXX")
trap 'rm -rf "$OUT"' EXIT

printf '%-24s %10s %10s %7s  %s\n' image png_bytes qohi_bytes ratio result
fail=0 total_png=0 total_qohi=0
for png in "$ROOT"/tests/data/*.png; do
    name=$(basename "$png" .png)
    if ! "$ENC" -q - -o "$OUT/$name.qohi" < "$png" 2>"$OUT/err"; then
        printf '%-24s %10s %10s %7s  %s\n' "$name" "$(stat -c %s "$png")" - - "refused: $(cut -d: -f2- "$OUT/err")"
        continue
    fi
    "$DEC" -q "$OUT/$name.qohi" -o "$OUT/$name.png"
    "$ENC" -q - -o "$OUT/$name.again.qohi" < "$OUT/$name.png"
    png_bytes=$(stat -c %s "$png")
    qohi_bytes=$(stat -c %s "$OUT/$name.qohi")
    if cmp -s "$OUT/$name.qohi" "$OUT/$name.again.qohi"; then result="round trip exact"; else result="MISMATCH"; fail=1; fi
    total_png=$((total_png + png_bytes))
    total_qohi=$((total_qohi + qohi_bytes))
    printf '%-24s %10d %10d %7s  %s\n' "$name" "$png_bytes" "$qohi_bytes" \
        "$(awk -v a="$qohi_bytes" -v b="$png_bytes" 'BEGIN{printf "%.3f", a/b}')" "$result"
done
printf '%-24s %10d %10d %7s\n' TOTAL "$total_png" "$total_qohi" \
    "$(awk -v a="$total_qohi" -v b="$total_png" 'BEGIN{printf "%.3f", a/b}')"
if [ "$fail" != 0 ]; then echo "demo: round trip FAILED" >&2; exit 1; fi
echo "demo: every image round-tripped bit-exactly" >&2
