# Helpers for the plugin test scripts (sourced, bash). The test's environment
# (set by CTest, see testing/CMakeLists.txt) names the tools:
#   QOHIENC, QOHIDEC   the project's encoder and decoder
#   TEST_PIXELS        qohi_test_pixels, the independent pixel oracle
#   TEST_DATA          tests/data (small PNGs, see its README.md)
# Every script runs one named case and exits 0 (pass) or non-zero (fail).
set -euo pipefail

for var in QOHIENC QOHIDEC TEST_PIXELS TEST_DATA; do
    if [ -z "${!var:-}" ]; then
        echo "FAIL: $var is not set (run the test through ctest)" >&2
        exit 1
    fi
done

# A private scratch folder, removed when the test ends.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/qohi-plugin-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# same_pixels [--channels N] LEFT... -- RIGHT...
# Frame lists (PNG: one frame, .qohi: all frames) equal bit for bit.
same_pixels() {
    "$TEST_PIXELS" compare "$@" || fail "pixels differ: $*"
}

# encode_png PNG OUT.qohi: a single-frame file made by qohienc.
encode_png() {
    "$QOHIENC" -q -f "$1" -o "$2" || fail "qohienc could not encode $1"
}

# pack_folder DIR OUT.qohi: a multi-frame file made by qohienc from every PNG
# of DIR, each frame named by its file name.
pack_folder() {
    "$QOHIENC" -q -f "$1" -o "$2" || fail "qohienc could not pack $1"
}

# frame_files FILE.qohi DIR: the files of DIR named like the frames of
# FILE.qohi, in frame order (qohienc chooses the order of a pack).
frame_files() {
    local name
    "$TEST_PIXELS" names "$1" > "$WORK/.names" || fail "cannot list the frames of $1"
    while IFS= read -r name; do
        printf '%s\n' "$2/$name"
    done < "$WORK/.names"
}

# frame_count FILE.qohi
frame_count() {
    "$TEST_PIXELS" info "$1" | wc -l
}

# corrupt_copy IN OUT: IN with one byte inverted in its middle, where frame
# data lies (the CRC of that record no longer matches).
corrupt_copy() {
    local size offset byte
    cp "$1" "$2"
    size=$(stat -c %s "$2")
    offset=$((size / 2))
    byte=$(od -An -tu1 -j "$offset" -N1 "$2" | tr -d ' ')
    printf "$(printf '\\%03o' $((255 - byte)))" |
        dd of="$2" bs=1 seek="$offset" conv=notrunc status=none
    cmp -s "$1" "$2" && fail "corrupt_copy did not change $2"
    return 0
}

# truncated_copy IN OUT: the first two thirds of IN.
truncated_copy() {
    local size
    size=$(stat -c %s "$1")
    head -c $((size * 2 / 3)) "$1" > "$2"
}

# A folder of same-size PNGs (48x48, RGBA and RGB): frames that can refer to
# each other.
make_icon_folder() {
    mkdir -p "$1"
    cp "$TEST_DATA/icon-rgba.png" "$TEST_DATA/interlaced-rgba.png" "$TEST_DATA/palette-trns.png" \
        "$TEST_DATA/grey.png" "$1/"
}

# expect_no_file PATH: a failed write left nothing behind.
expect_no_file() {
    [ ! -e "$1" ] || fail "$1 exists after a failed write"
}

# expect_message FILE REGEX: FILE (captured stderr) explains the failure.
expect_message() {
    grep -Eqi -- "$2" "$1" || {
        echo "--- stderr:" >&2
        cat "$1" >&2
        fail "no message matching '$2'"
    }
}
