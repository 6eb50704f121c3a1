#!/usr/bin/env bash
# End-to-end tests of the QOHI coder module in the real ImageMagick 6
# programs (convert, identify), loaded from the build tree.
#   imagemagick_test.sh CASE
# Environment (from CTest): CONVERT, IDENTIFY, QOHI_CODERS (build coders
# folder), QOHI_MAGIC (folder with magic.xml), IM_SYSTEM_CODERS, plus what
# plugin_test_lib.sh needs.
. "$TEST_LIB"

# MAGICK_CODER_MODULE_PATH replaces ImageMagick's own coder path: keep the
# system's for PNG. MAGICK_CONFIGURE_PATH is searched before the system's.
export MAGICK_CODER_MODULE_PATH="$QOHI_CODERS:$IM_SYSTEM_CODERS"
export MAGICK_CONFIGURE_PATH="$QOHI_MAGIC"

convert() { "$CONVERT" "$@"; }
identify() { "$IDENTIFY" "$@"; }

D=$TEST_DATA

# PNG -> QOHI -> PNG, bit-exact, and the file stored with CHANNELS channels.
round_trip() {
    local png=$1 channels=$2 base
    base=$WORK/$(basename "$png" .png)
    convert "$png" "$base.qohi" || fail "convert could not write $base.qohi"
    same_pixels --channels "$channels" "$base.qohi" -- "$png"
    convert "$base.qohi" "$base.back.png" || fail "convert could not read $base.qohi"
    same_pixels "$base.back.png" -- "$png"
    identify "$base.qohi" | grep -q " QOHI " || fail "identify does not name the format QOHI"
}

# A file written by qohienc reads back through ImageMagick.
read_encoder_file() {
    local png=$1 base
    base=$WORK/enc-$(basename "$png" .png)
    encode_png "$png" "$base.qohi"
    convert "$base.qohi" "$base.png" || fail "convert could not read $base.qohi"
    same_pixels "$base.png" -- "$png"
}

case_single_rgba() {
    round_trip "$D/icon-rgba.png" 4
    round_trip "$D/trash-rgba.png" 4
    read_encoder_file "$D/trash-rgba.png"
}

case_single_rgb() {
    round_trip "$D/trash-rgb.png" 3
    round_trip "$D/grey.png" 3            # grey is stored as RGB
    round_trip "$D/palette-4bit.png" 3
    round_trip "$D/palette-trns.png" 4    # palette with transparency: RGBA
    read_encoder_file "$D/trash-rgb.png"
}

# Several images make one file, in order, named after their sources, and
# similar frames are coded against each other.
case_multi_frame_write() {
    local base=$D/icon-rgba.png
    convert "$base" -fill red -draw 'point 5,5' "$WORK/v1.png"
    convert "$base" -fill blue -draw 'rectangle 10,10 14,14' "$WORK/v2.png"
    convert "$base" "$WORK/v1.png" "$WORK/v2.png" "$D/trash-rgb.png" "$WORK/m.qohi" ||
        fail "convert could not write a multi-frame file"
    same_pixels "$WORK/m.qohi" -- "$base" "$WORK/v1.png" "$WORK/v2.png" "$D/trash-rgb.png"
    "$TEST_PIXELS" names "$WORK/m.qohi" > "$WORK/names"
    printf 'icon-rgba.png\nv1.png\nv2.png\ntrash-rgb.png\n' | diff - "$WORK/names" ||
        fail "frames are not named after their source files"
    "$TEST_PIXELS" info "$WORK/m.qohi" > "$WORK/info"
    awk '$3 >= 0' "$WORK/info" | grep -q . || {
        cat "$WORK/info" >&2
        fail "no frame refers to an earlier one (automatic references not used)"
    }
    # +adjoin writes one file per image.
    convert "$base" "$WORK/v1.png" +adjoin "$WORK/single_%d.qohi"
    same_pixels "$WORK/single_0.qohi" -- "$base"
    same_pixels "$WORK/single_1.qohi" -- "$WORK/v1.png"
    # -define qohi:reference=none: every frame on its own.
    convert "$base" "$WORK/v1.png" -define qohi:reference=none "$WORK/intra.qohi"
    same_pixels "$WORK/intra.qohi" -- "$base" "$WORK/v1.png"
    [ "$(awk '$3 >= 0' <("$TEST_PIXELS" info "$WORK/intra.qohi") | wc -l)" = 0 ] ||
        fail "qohi:reference=none still wrote delta frames"
}

# A pack made by qohienc (frames of different sizes) reads as an image list.
case_multi_frame_read() {
    mkdir -p "$WORK/set"
    make_icon_folder "$WORK/set"
    cp "$D/trash-rgb.png" "$D/trash-rgba.png" "$WORK/set/"
    pack_folder "$WORK/set" "$WORK/set.qohi"
    local frames
    frames=$(frame_count "$WORK/set.qohi")
    [ "$frames" = 6 ] || fail "expected 6 frames, got $frames"
    [ "$(identify "$WORK/set.qohi" | wc -l)" = 6 ] || fail "identify does not list 6 frames"
    convert "$WORK/set.qohi" "$WORK/out_%d.png" || fail "convert could not split the file"
    local expected=() i
    mapfile -t expected < <(frame_files "$WORK/set.qohi" "$WORK/set")
    for i in "${!expected[@]}"; do
        same_pixels "$WORK/out_$i.png" -- "${expected[$i]}"
    done
    # The frame's name is the property qohi:name.
    identify -format '%[qohi:name]\n' "$WORK/set.qohi" | diff <("$TEST_PIXELS" names "$WORK/set.qohi") - ||
        fail "qohi:name does not give the frame names"
    # QOHI -> QOHI keeps every frame and its name.
    convert "$WORK/set.qohi" "$WORK/copy.qohi"
    same_pixels "$WORK/copy.qohi" -- "$WORK/set.qohi"
    diff <("$TEST_PIXELS" names "$WORK/set.qohi") <("$TEST_PIXELS" names "$WORK/copy.qohi") ||
        fail "names lost in a QOHI -> QOHI conversion"
}

# file.qohi[N] decodes only the frames asked for.
case_frame_select() {
    mkdir -p "$WORK/set"
    make_icon_folder "$WORK/set"
    pack_folder "$WORK/set" "$WORK/set.qohi"
    local expected=()
    mapfile -t expected < <(frame_files "$WORK/set.qohi" "$WORK/set")
    convert "$WORK/set.qohi[1]" "$WORK/one.png" || fail "convert could not read frame 1"
    same_pixels "$WORK/one.png" -- "${expected[1]}"
    convert "$WORK/set.qohi[2,0]" "$WORK/two.qohi"
    same_pixels "$WORK/two.qohi" -- "${expected[2]}" "${expected[0]}"
    convert "$WORK/set.qohi[1-3]" "$WORK/range.qohi"
    same_pixels "$WORK/range.qohi" -- "${expected[1]}" "${expected[2]}" "${expected[3]}"
    if convert "$WORK/set.qohi[9]" "$WORK/none.png" 2> "$WORK/err"; then
        fail "frame 9 of a 4-frame file was read"
    fi
    expect_no_file "$WORK/none.png"
}

# ping reads sizes from the headers without decoding pixels: it succeeds on
# a file whose pixel data is damaged, where a real read fails.
case_ping() {
    encode_png "$D/trash-rgba.png" "$WORK/t.qohi"
    [ "$(identify -ping -format '%w %h %A' "$WORK/t.qohi")" = "256 256 True" ] ||
        fail "identify -ping gives a wrong size or alpha"
    corrupt_copy "$WORK/t.qohi" "$WORK/bad.qohi"
    [ "$(identify -ping -format '%w %h' "$WORK/bad.qohi")" = "256 256" ] ||
        fail "identify -ping decoded pixels"
    if convert "$WORK/bad.qohi" "$WORK/bad.png" 2> /dev/null; then
        fail "a damaged frame decoded without error"
    fi
}

# The signature, not the name, tells the format.
case_wrong_extension() {
    encode_png "$D/icon-rgba.png" "$WORK/x.qohi"
    cp "$WORK/x.qohi" "$WORK/looks-like.png"
    cp "$WORK/x.qohi" "$WORK/no_extension"
    identify "$WORK/looks-like.png" | grep -q " QOHI " || fail "a .png-named QOHI file is not detected"
    convert "$WORK/looks-like.png" "$WORK/a.png" || fail "convert could not read a .png-named QOHI file"
    same_pixels "$WORK/a.png" -- "$D/icon-rgba.png"
    convert "$WORK/no_extension" "$WORK/b.png" || fail "convert could not read a QOHI file without extension"
    same_pixels "$WORK/b.png" -- "$D/icon-rgba.png"
}

# qohi:- reads standard input and writes standard output.
case_stdin_stdout() {
    convert "$D/icon-rgba.png" qohi:- > "$WORK/out.qohi" || fail "convert could not write qohi:-"
    same_pixels --channels 4 "$WORK/out.qohi" -- "$D/icon-rgba.png"
    convert qohi:- png:- < "$WORK/out.qohi" > "$WORK/in.png" || fail "convert could not read qohi:-"
    same_pixels "$WORK/in.png" -- "$D/icon-rgba.png"
    # Standard input without a format prefix: detected by signature.
    convert - png:- < "$WORK/out.qohi" > "$WORK/in2.png" || fail "convert could not detect QOHI on stdin"
    same_pixels "$WORK/in2.png" -- "$D/icon-rgba.png"
    # A multi-frame file through a pipe.
    convert "$D/icon-rgba.png" "$D/grey.png" qohi:- | convert qohi:- "$WORK/p_%d.png"
    same_pixels "$WORK/p_0.png" "$WORK/p_1.png" -- "$D/icon-rgba.png" "$D/grey.png"
}

# Encoder options through -define qohi:KEY=VALUE.
case_defines() {
    local png=$D/trash-rgba.png
    convert "$png" -define qohi:effort=1 "$WORK/e1.qohi"
    convert "$png" -define qohi:effort=0 "$WORK/e0.qohi"
    same_pixels "$WORK/e1.qohi" "$WORK/e0.qohi" -- "$png" "$png"
    convert "$png" -define qohi:method=stored "$WORK/stored.qohi"
    same_pixels "$WORK/stored.qohi" -- "$png"
    [ "$(stat -c %s "$WORK/stored.qohi")" -gt $((256 * 256 * 4)) ] || fail "qohi:method=stored did not store raw pixels"
    [ "$(stat -c %s "$WORK/e0.qohi")" -lt $((256 * 256 * 4)) ] || fail "the default method did not compress"
    convert "$png" -define qohi:band-rows=16 -define qohi:max-depth=2 "$WORK/banded.qohi"
    same_pixels "$WORK/banded.qohi" -- "$png"
    if convert "$png" -define qohi:effort=7 "$WORK/bad.qohi" 2> "$WORK/err"; then
        fail "qohi:effort=7 was accepted"
    fi
    expect_message "$WORK/err" "qohi:effort must be 0 or 1"
    expect_no_file "$WORK/bad.qohi"
}

# A damaged file: a clear error, a failure status, no output, no crash.
expect_read_error() {
    local file=$1 pattern=$2 status=0
    convert "$file" "$WORK/out.png" 2> "$WORK/err" || status=$?
    [ "$status" = 1 ] || fail "convert exited with $status on $(basename "$file") (expected 1)"
    expect_message "$WORK/err" "$pattern"
    expect_no_file "$WORK/out.png"
    status=0
    # -verbose makes identify decode the pixels (it only pings otherwise).
    identify -verbose "$file" > /dev/null 2> "$WORK/err" || status=$?
    [ "$status" = 1 ] || fail "identify exited with $status on $(basename "$file") (expected 1)"
    expect_message "$WORK/err" "$pattern"
}

case_corrupt() {
    encode_png "$D/trash-rgba.png" "$WORK/t.qohi"
    corrupt_copy "$WORK/t.qohi" "$WORK/bad.qohi"
    expect_read_error "$WORK/bad.qohi" "qohi: .*(corrupt|CRC)"
}

case_truncated() {
    encode_png "$D/trash-rgba.png" "$WORK/t.qohi"
    truncated_copy "$WORK/t.qohi" "$WORK/cut.qohi"
    expect_read_error "$WORK/cut.qohi" "qohi: .*(truncat|ends early|cut off|incomplete|no complete|no frames)"
    # A file cut inside its signature.
    head -c 5 "$WORK/t.qohi" > "$WORK/tiny.qohi"
    expect_read_error "$WORK/tiny.qohi" "qohi: "
}

# Damage anywhere in a multi-frame file (a byte inverted at 40 places, cut
# at 20 lengths): convert succeeds or fails with status 1, never dies of a
# signal.
case_damaged_no_crash() {
    mkdir -p "$WORK/set"
    make_icon_folder "$WORK/set"
    pack_folder "$WORK/set" "$WORK/set.qohi"
    local size i offset byte status
    size=$(stat -c %s "$WORK/set.qohi")
    for i in $(seq 1 40); do
        offset=$((i * size / 41))
        cp "$WORK/set.qohi" "$WORK/bad.qohi"
        byte=$(od -An -tu1 -j "$offset" -N1 "$WORK/bad.qohi" | tr -d ' ')
        printf "$(printf '\\%03o' $((255 - byte)))" | dd of="$WORK/bad.qohi" bs=1 seek="$offset" conv=notrunc status=none
        status=0
        convert "$WORK/bad.qohi" "$WORK/out_%d.png" 2> /dev/null || status=$?
        [ "$status" -le 1 ] || fail "convert exited with $status on a file damaged at byte $offset"
    done
    # A cut file fails, or gives back exactly the frames that are complete
    # (a reader may recover them by a scan).
    local expected=()
    mapfile -t expected < <(frame_files "$WORK/set.qohi" "$WORK/set")
    for i in $(seq 1 20); do
        head -c $((i * size / 21)) "$WORK/set.qohi" > "$WORK/cut.qohi"
        rm -f "$WORK"/out_*.png
        status=0
        convert "$WORK/cut.qohi" "$WORK/out_%d.png" 2> /dev/null || status=$?
        [ "$status" -le 1 ] || fail "convert exited with $status on a file cut at $((i * size / 21)) bytes"
        if [ "$status" = 0 ]; then
            same_pixels "$WORK/out_0.png" -- "${expected[0]}"
        fi
    done
}

# Something else named .qohi is refused by the coder, not misread.
case_not_qohi() {
    cp "$D/icon-rgba.png" "$WORK/fake.qohi"
    expect_read_error "qohi:$WORK/fake.qohi" "qohi: .*(not a QOHI|signature)"
    : > "$WORK/empty.qohi"
    expect_read_error "qohi:$WORK/empty.qohi" "qohi: "
}

# The Magick++ program (magickpp_test.cc) on files made by qohienc.
run_magickpp() {
    [ -n "${MAGICKPP_TEST:-}" ] || fail "MAGICKPP_TEST is not set"
    encode_png "$D/trash-rgba.png" "$WORK/single.qohi"
    mkdir -p "$WORK/set"
    make_icon_folder "$WORK/set"
    cp "$D/trash-rgb.png" "$WORK/set/"
    pack_folder "$WORK/set" "$WORK/multi.qohi"
    "$MAGICKPP_TEST" "$1" "$WORK/single.qohi" "$WORK/multi.qohi" || fail "Magick++ case $1"
}
case_magickpp_read() { run_magickpp read; }
case_magickpp_read_multi() { run_magickpp read_multi; }
case_magickpp_write() { run_magickpp write; }
case_magickpp_metadata() { run_magickpp metadata; }
case_magickpp_errors() { run_magickpp errors; }

"case_$1"
