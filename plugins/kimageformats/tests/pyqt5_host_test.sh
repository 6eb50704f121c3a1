#!/usr/bin/env bash
# kimg_qohi in PyQt5 (see pyqt5_host_test.py), on a collection packed by
# qohienc; the file PyQt5 writes is checked independently.
#   pyqt5_host_test.sh PYTHON3 pyqt5_host_test.py
. "$TEST_LIB"
PYTHON=$1
SCRIPT=$2
mkdir -p "$WORK/set"
make_icon_folder "$WORK/set"
cp "$TEST_DATA/trash-rgb.png" "$WORK/set/"
pack_folder "$WORK/set" "$WORK/set.qohi"
"$PYTHON" "$SCRIPT" "$WORK/set.qohi" "$WORK/set" "$WORK/out.qohi" || fail "PyQt5 could not read or write .qohi"
same_pixels "$WORK/out.qohi" -- "$(frame_files "$WORK/set.qohi" "$WORK/set" | head -1)"
