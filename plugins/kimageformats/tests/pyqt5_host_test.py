"""kimg_qohi in a Qt program the project did not write: PyQt5.

Run by CTest with QT_PLUGIN_PATH set to the build tree's plugin folder:
    python3 pyqt5_host_test.py SET.qohi FOLDER OUT.qohi
SET.qohi was packed by qohienc from the PNGs in FOLDER; every frame must
read back with the pixels of its PNG (read by Qt's PNG support), and a
QImageWriter copy of the first frame must read back the same.
Exit status 0 on success, 1 with a message on failure.
"""
import os
import sys

from PyQt5.QtCore import QCoreApplication
from PyQt5.QtGui import QImage, QImageReader, QImageWriter


def rgba_bytes(image):
    image = image.convertToFormat(QImage.Format_RGBA8888)
    rows = []
    for y in range(image.height()):
        line = image.constScanLine(y)
        line.setsize(image.width() * 4)
        rows.append(bytes(line))
    return image.width(), image.height(), b"".join(rows)


def fail(message):
    print("FAIL: " + message, file=sys.stderr)
    sys.exit(1)


def main():
    collection, folder, out = sys.argv[1:4]
    app = QCoreApplication(sys.argv)  # noqa: F841 (plugins need an application)
    if b"qohi" not in [bytes(f) for f in QImageReader.supportedImageFormats()]:
        fail("the qohi plugin is not loaded")
    reader = QImageReader(collection)
    count = reader.imageCount()
    if count < 2:
        fail("expected several frames, got %d" % count)
    frames = []
    while reader.canRead():
        image = reader.read()
        if image.isNull():
            fail("frame %d: %s" % (len(frames), reader.errorString()))
        name = image.text("Name")
        expected = QImage(os.path.join(folder, name), "PNG")
        if expected.isNull() or rgba_bytes(image) != rgba_bytes(expected):
            fail("frame %d (%s) differs from its PNG" % (len(frames), name))
        frames.append(image)
    if len(frames) != count:
        fail("read %d frames of %d" % (len(frames), count))
    writer = QImageWriter(out, b"qohi")
    if not writer.write(frames[0]):
        fail("QImageWriter: " + writer.errorString())
    if rgba_bytes(QImage(out)) != rgba_bytes(frames[0]):
        fail("the written file reads back different")
    return 0


if __name__ == "__main__":
    sys.exit(main())
