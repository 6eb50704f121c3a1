#!/usr/bin/env bash
# Builds a private MIME database from qohi.xml (plus the system's) and asks
# QMimeDatabase about .qohi files.
#   mime_test.sh UPDATE_MIME_DATABASE QOHI_XML QOHI_MIME_TEST
. "$TEST_LIB"
mkdir -p "$WORK/share/mime/packages" "$WORK/home"
cp "$2" "$WORK/share/mime/packages/qohi.xml"
"$1" "$WORK/share/mime" || fail "update-mime-database rejected qohi.xml"
[ -f "$WORK/share/mime/image/x-qohi.xml" ] || fail "update-mime-database did not define image/x-qohi"
encode_png "$TEST_DATA/icon-rgba.png" "$WORK/sample.qohi"
XDG_DATA_HOME=$WORK/home XDG_DATA_DIRS="$WORK/share:/usr/share" "$3" "$WORK/sample.qohi" ||
    fail "QMimeDatabase does not recognise .qohi files"
