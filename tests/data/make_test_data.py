#!/usr/bin/python3
"""Regenerate the PNG test images in this directory (see README.md).

Sources are icons from Debian's adwaita-icon-theme package (43-1), read from
/usr/share/icons/Adwaita. Needs python3-pil. Run from any directory:
    /usr/bin/python3 tests/data/make_test_data.py
PIL cannot write interlaced PNGs, so a small writer below produces those
(and the 16-bit one) with zlib directly.
"""
import os
import shutil
import struct
import zlib

from PIL import Image

ICONS = "/usr/share/icons/Adwaita"
HERE = os.path.dirname(os.path.abspath(__file__))


def src(rel):
    return os.path.join(ICONS, rel)


def out(name):
    return os.path.join(HERE, name)


def on_background(im, colour):
    """Composite an RGBA image over a solid colour -> RGB."""
    bg = Image.new("RGBA", im.size, colour + (255,))
    bg.alpha_composite(im.convert("RGBA"))
    return bg.convert("RGB")


# ---------------------------------------------------------------- raw writer
def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def pack_row(samples, depth):
    """samples: flat list of channel samples for one row."""
    if depth == 8:
        return bytes(samples)
    if depth == 16:
        return b"".join(struct.pack(">H", s) for s in samples)
    per_byte = 8 // depth
    outb = bytearray()
    for i in range(0, len(samples), per_byte):
        group = samples[i:i + per_byte]
        byte = 0
        for j, s in enumerate(group):
            byte |= s << (8 - depth * (j + 1))
        outb.append(byte)
    return bytes(outb)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4),
         (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def write_png(path, width, height, color_type, depth, pixels, interlace=False,
              extra_chunks=()):
    """pixels: list of rows, each a list of pixels, each a tuple of samples."""
    raw = bytearray()
    if interlace:
        passes = ADAM7
    else:
        passes = [(0, 0, 1, 1)]
    for x0, y0, dx, dy in passes:
        xs = range(x0, width, dx)
        ys = range(y0, height, dy)
        if len(xs) == 0 or len(ys) == 0:
            continue
        for y in ys:
            samples = [s for x in xs for s in pixels[y][x]]
            raw.append(0)  # filter: none
            raw += pack_row(samples, depth)
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0,
                       1 if interlace else 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
    for kind, body in extra_chunks:
        data += chunk(kind, body)
    data += chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(data)


def rows_of(im):
    w, h = im.size
    px = im.load()
    return [[px[x, y] if isinstance(px[x, y], tuple) else (px[x, y],)
             for x in range(w)] for y in range(h)]


def main():
    # 1. Real-world RGBA icons, byte for byte as shipped.
    shutil.copyfile(src("48x48/legacy/applications-graphics.png"), out("icon-rgba.png"))
    shutil.copyfile(src("256x256/places/user-trash.png"), out("trash-rgba.png"))

    # 2. RGB: an icon flattened onto a light background.
    trash_full = Image.open(src("256x256/status/user-trash-full.png"))
    rgb = on_background(trash_full.resize((128, 128), Image.LANCZOS), (236, 232, 224))
    rgb.save(out("trash-rgb.png"), optimize=False)

    help_icon = Image.open(src("48x48/legacy/help-browser.png")).convert("RGBA")
    # 3. Grey (8-bit) and grey+alpha.
    on_background(help_icon, (255, 255, 255)).convert("L").save(out("grey.png"))
    help_icon.convert("LA").save(out("grey-alpha.png"))

    # 4. Palette with tRNS (alpha per palette entry), 8-bit indices.
    angel = Image.open(src("48x48/legacy/face-angel.png")).convert("RGBA")
    pal = angel.quantize(colors=200, method=Image.Quantize.FASTOCTREE)
    pal.save(out("palette-trns.png"))

    # 5. Palette without tRNS, 16 colours in 4-bit indices.
    web = on_background(Image.open(src("48x48/legacy/web-browser.png")), (255, 255, 255))
    web.quantize(colors=16).save(out("palette-4bit.png"), bits=4)

    # 6. 1-bit grey (dithered).
    on_background(help_icon, (255, 255, 255)).convert("1").save(out("grey-1bit.png"))

    # 7. Interlaced (Adam7) RGBA, and interlaced 2-bit grey.
    find = Image.open(src("48x48/legacy/edit-find-replace.png")).convert("RGBA")
    write_png(out("interlaced-rgba.png"), 48, 48, 6, 8, rows_of(find), interlace=True)
    grey2 = on_background(find, (255, 255, 255)).convert("L")
    rows2 = [[(v >> 6,) for (v,) in row] for row in rows_of(grey2)]
    write_png(out("interlaced-grey2.png"), 48, 48, 0, 2, rows2, interlace=True)

    # 8. RGB with a tRNS colour key: magenta background is transparent.
    graphics = Image.open(src("48x48/legacy/applications-graphics.png")).convert("RGBA")
    keyed = on_background(graphics, (255, 0, 255))
    keyed.save(out("rgb-trns.png"), transparency=(255, 0, 255))

    # 9. 16-bit RGB (must be refused by the tools).
    small = on_background(help_icon, (255, 255, 255)).resize((24, 24), Image.LANCZOS)
    rows16 = [[tuple(c * 257 ^ ((x * 7 + y * 13) & 0xFF) for c in p) for x, p in enumerate(row)]
              for y, row in enumerate(rows_of(small))]
    write_png(out("rgb16.png"), 24, 24, 2, 16, rows16)


if __name__ == "__main__":
    main()
