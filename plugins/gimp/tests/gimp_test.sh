#!/usr/bin/env bash
# End-to-end tests of the file-qohi plug-in in the real GIMP 2.10, headless
# (gimp-console in batch mode), with a private profile holding the plug-in
# from the build tree.
#   gimp_test.sh CASE
# Environment (from CTest): GIMP_CONSOLE, QOHI_GIMP_PLUGIN (the built
# executable), plus what plugin_test_lib.sh needs.
#
# GIMP exits 0 even when a batch command fails, so every run's standard
# error is checked for the batch error line, and outputs are checked to exist.
. "$TEST_LIB"

D=$TEST_DATA

# A private GIMP profile: only this plug-in added, no user settings.
export GIMP2_DIRECTORY=$WORK/gimp-profile
mkdir -p "$GIMP2_DIRECTORY/plug-ins/file-qohi" "$GIMP2_DIRECTORY/gradients"
cp "$QOHI_GIMP_PLUGIN" "$GIMP2_DIRECTORY/plug-ins/file-qohi/file-qohi"
chmod +x "$GIMP2_DIRECTORY/plug-ins/file-qohi/file-qohi"

# Script-Fu helpers given to every run.
#  (qohi-export-layers IMG PREFIX): every layer to PREFIX<i>.png, i counted
#    from the bottom layer (frame order), and "LAYER <i> <name>" printed.
#  (qohi-load FILE): the image GIMP loads from FILE.
#  (qohi-add-layer IMG FILE): FILE loaded as a new top layer of IMG.
SCHEME_HELPERS='
(define (qohi-load file) (car (gimp-file-load RUN-NONINTERACTIVE file file)))
(define (qohi-add-layer img file)
  (let ((layer (car (gimp-file-load-layer RUN-NONINTERACTIVE img file))))
    (gimp-image-insert-layer img layer 0 0)))
(define (qohi-export-layers img prefix)
  (let* ((layers (cadr (gimp-image-get-layers img)))
         (n (vector-length layers))
         (i 0))
    (gimp-message (string-append "LAYERS " (number->string n)))
    (while (< i n)
      (let ((layer (vector-ref layers (- n 1 i)))
            (out (string-append prefix (number->string i) ".png")))
        (gimp-message (string-append "LAYER " (number->string i) " " (car (gimp-item-get-name layer))))
        (file-png-save2 RUN-NONINTERACTIVE img layer out out 0 9 0 0 0 0 0 0 1))
      (set! i (+ i 1)))))
'

# gimp_batch SCHEME: runs SCHEME in GIMP; its standard error goes to
# $WORK/gimp.err. Fails unless GIMP reports success.
gimp_batch() {
    gimp_run "$1"
    if grep -q "batch command experienced an execution error" "$WORK/gimp.err" ||
        ! grep -q "batch command executed successfully" "$WORK/gimp.err"; then
        cat "$WORK/gimp.err" >&2
        fail "GIMP batch command failed: $1"
    fi
}

# gimp_run SCHEME: runs SCHEME in GIMP, whatever happens (the caller checks).
gimp_run() {
    # Definitions do not outlive one -b command: helpers and command go together.
    timeout 120 "$GIMP_CONSOLE" -i -n -d -f -b "(begin $SCHEME_HELPERS $1)" -b '(gimp-quit 0)' \
        > "$WORK/gimp.out" 2> "$WORK/gimp.err" < /dev/null || {
        cat "$WORK/gimp.err" >&2
        fail "gimp-console did not exit cleanly"
    }
}

# expect_layers N NAME...: the last run exported N layers, named NAME... from
# the bottom up (checked only if names are given).
expect_layers() {
    local n=$1 i=0 name
    shift
    grep -q "LAYERS $n\$" "$WORK/gimp.err" || {
        cat "$WORK/gimp.err" >&2
        fail "expected $n layers"
    }
    for name in "$@"; do
        grep -qF "LAYER $i $name" "$WORK/gimp.err" || {
            grep "LAYER " "$WORK/gimp.err" >&2
            fail "layer $i is not named '$name'"
        }
        i=$((i + 1))
    done
}

# Loading files made by qohienc: RGBA and RGB, pixels exactly as stored.
case_load_single() {
    encode_png "$D/trash-rgba.png" "$WORK/rgba.qohi"
    encode_png "$D/trash-rgb.png" "$WORK/rgb.qohi"
    gimp_batch "(begin
      (qohi-export-layers (qohi-load \"$WORK/rgba.qohi\") \"$WORK/rgba_\")
      (qohi-export-layers (qohi-load \"$WORK/rgb.qohi\") \"$WORK/rgb_\"))"
    same_pixels "$WORK/rgba_0.png" -- "$D/trash-rgba.png"
    same_pixels "$WORK/rgb_0.png" -- "$D/trash-rgb.png"
}

# A collection: one layer per frame, named after the frames, first frame at
# the bottom, frames of different sizes.
case_load_multi() {
    mkdir -p "$WORK/set"
    make_icon_folder "$WORK/set"
    cp "$D/trash-rgb.png" "$WORK/set/"
    pack_folder "$WORK/set" "$WORK/set.qohi"
    local expected=() names=()
    mapfile -t expected < <(frame_files "$WORK/set.qohi" "$WORK/set")
    mapfile -t names < <("$TEST_PIXELS" names "$WORK/set.qohi")
    gimp_batch "(qohi-export-layers (qohi-load \"$WORK/set.qohi\") \"$WORK/layer_\")"
    expect_layers "${#expected[@]}" "${names[@]}"
    local i
    for i in "${!expected[@]}"; do
        same_pixels "$WORK/layer_$i.png" -- "${expected[$i]}"
    done
}

# Saving a PNG opened in GIMP: by extension through gimp-file-save, and by
# calling file-qohi-save; decoded independently. RGBA stays RGBA, RGB stays
# RGB; grey and indexed images are stored as RGB(A).
case_save_single() {
    gimp_batch "(begin
      (let ((img (qohi-load \"$D/trash-rgba.png\")))
        (gimp-file-save RUN-NONINTERACTIVE img (car (gimp-image-get-active-drawable img))
                        \"$WORK/rgba.qohi\" \"$WORK/rgba.qohi\"))
      (let ((img (qohi-load \"$D/trash-rgb.png\")))
        (file-qohi-save RUN-NONINTERACTIVE img (car (gimp-image-get-active-drawable img))
                        \"$WORK/rgb.qohi\" \"$WORK/rgb.qohi\" 0 1))
      (let ((img (qohi-load \"$D/grey.png\")))
        (gimp-file-save RUN-NONINTERACTIVE img (car (gimp-image-get-active-drawable img))
                        \"$WORK/grey.qohi\" \"$WORK/grey.qohi\"))
      (let ((img (qohi-load \"$D/palette-trns.png\")))
        (gimp-file-save RUN-NONINTERACTIVE img (car (gimp-image-get-active-drawable img))
                        \"$WORK/palette.qohi\" \"$WORK/palette.qohi\")))"
    same_pixels --channels 4 "$WORK/rgba.qohi" -- "$D/trash-rgba.png"
    same_pixels --channels 3 "$WORK/rgb.qohi" -- "$D/trash-rgb.png"
    same_pixels --channels 3 "$WORK/grey.qohi" -- "$D/grey.png"
    same_pixels --channels 4 "$WORK/palette.qohi" -- "$D/palette-trns.png"
    # qohidec, the project's own decoder, reads what GIMP wrote.
    "$QOHIDEC" -q "$WORK/rgba.qohi" -o "$WORK/rgba.png" || fail "qohidec cannot read GIMP's file"
    same_pixels "$WORK/rgba.png" -- "$D/trash-rgba.png"
}

# Layers -> frames -> layers: every layer saved as a frame (bottom first,
# named after the layers; GIMP names the first one "Background"), then
# loaded back.
case_multi_layer_round_trip() {
    cp "$D/icon-rgba.png" "$WORK/a.png"
    gimp_batch "(let ((img (qohi-load \"$WORK/a.png\")))
      (qohi-add-layer img \"$D/interlaced-rgba.png\")
      (qohi-add-layer img \"$D/trash-rgb.png\")
      (qohi-add-layer img \"$D/grey.png\")
      (file-qohi-save RUN-NONINTERACTIVE img (car (gimp-image-get-active-drawable img))
                      \"$WORK/layers.qohi\" \"$WORK/layers.qohi\" 1 0))"
    same_pixels "$WORK/layers.qohi" -- "$WORK/a.png" "$D/interlaced-rgba.png" "$D/trash-rgb.png" "$D/grey.png"
    "$TEST_PIXELS" names "$WORK/layers.qohi" > "$WORK/names"
    printf 'Background\ninterlaced-rgba.png\ntrash-rgb.png\ngrey.png\n' | diff - "$WORK/names" ||
        fail "frames are not named after the layers, bottom first"
    gimp_batch "(qohi-export-layers (qohi-load \"$WORK/layers.qohi\") \"$WORK/back_\")"
    expect_layers 4 Background interlaced-rgba.png trash-rgb.png grey.png
    same_pixels "$WORK/back_0.png" "$WORK/back_1.png" "$WORK/back_2.png" "$WORK/back_3.png" -- "$WORK/layers.qohi"
}

# GIMP picks the plug-in by the signature when the name says otherwise.
case_wrong_extension() {
    encode_png "$D/icon-rgba.png" "$WORK/x.qohi"
    cp "$WORK/x.qohi" "$WORK/looks-like.png"
    cp "$WORK/x.qohi" "$WORK/no_extension"
    gimp_batch "(begin
      (qohi-export-layers (qohi-load \"$WORK/looks-like.png\") \"$WORK/a_\")
      (qohi-export-layers (qohi-load \"$WORK/no_extension\") \"$WORK/b_\"))"
    same_pixels "$WORK/a_0.png" "$WORK/b_0.png" -- "$D/icon-rgba.png" "$D/icon-rgba.png"
}

# A broken file: the batch command fails with the library's reason.
expect_load_error() {
    local file=$1 pattern=$2
    gimp_run "(qohi-export-layers (qohi-load \"$file\") \"$WORK/broken_\")"
    grep -q "batch command experienced an execution error" "$WORK/gimp.err" || {
        cat "$WORK/gimp.err" >&2
        fail "GIMP loaded $(basename "$file") without an error"
    }
    expect_message "$WORK/gimp.err" "$pattern"
    expect_no_file "$WORK/broken_0.png"
}

case_corrupt() {
    encode_png "$D/trash-rgba.png" "$WORK/t.qohi"
    corrupt_copy "$WORK/t.qohi" "$WORK/bad.qohi"
    expect_load_error "$WORK/bad.qohi" "corrupt|CRC"
}

case_truncated() {
    encode_png "$D/trash-rgba.png" "$WORK/t.qohi"
    truncated_copy "$WORK/t.qohi" "$WORK/cut.qohi"
    expect_load_error "$WORK/cut.qohi" "truncat|ends early|cut off|incomplete|no complete|no frames"
}

# A save that cannot succeed fails with a reason and leaves no file (and no
# temporary file) behind.
case_save_error() {
    gimp_run "(let ((img (qohi-load \"$D/icon-rgba.png\")))
      (file-qohi-save RUN-NONINTERACTIVE img (car (gimp-image-get-active-drawable img))
                      \"$WORK/missing/x.qohi\" \"$WORK/missing/x.qohi\" 0 0))"
    grep -q "batch command experienced an execution error" "$WORK/gimp.err" ||
        fail "saving into a missing folder did not fail"
    expect_message "$WORK/gimp.err" "missing/x.qohi"
    expect_no_file "$WORK/missing"
    mkdir -p "$WORK/out"
    gimp_run "(let ((img (qohi-load \"$D/icon-rgba.png\")))
      (file-qohi-save RUN-NONINTERACTIVE img (car (gimp-image-get-active-drawable img))
                      \"$WORK/out/y.qohi\" \"$WORK/out/y.qohi\" 0 7))"
    grep -q "batch command experienced an execution error" "$WORK/gimp.err" || fail "effort 7 was accepted"
    expect_message "$WORK/gimp.err" "effort must be 0 or 1"
    [ -z "$(ls -A "$WORK/out")" ] || fail "a failed save left files: $(ls "$WORK/out")"
}

"case_$1"
