"""Small PNG reader and writer for the conformance runner and its adapters.

Python 3 standard library only. Reads non-interlaced 8-bit PNGs of every
colour type (grey, RGB, palette, grey + alpha, RGBA; tRNS for grey, RGB
and palette), which is what the decoders under test write, and returns
their pixels as RGBA bytes. Writes 8-bit RGB or RGBA PNGs with no filter.
Whole-row and whole-column operations keep it fast enough for frames of
2^24 pixels: runs of rows filtered with None or Up are undone column by
column, Sub row by row per channel; only Average and Paeth go byte by byte.
"""
import itertools
import struct
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"


class PngError(Exception):
    pass


def _mask(byte, n):
    return int.from_bytes(bytes([byte]) * n, "little") if n else 0


def _add_rows(a, b):
    """Bytewise (a + b) mod 256 of two equal-length byte strings."""
    n = len(a)
    x = int.from_bytes(a, "little")
    y = int.from_bytes(b, "little")
    low, high = _mask(0x7F, n), _mask(0x80, n)
    return (((x & low) + (y & low)) ^ ((x ^ y) & high)).to_bytes(n, "little")


def _and255(values):
    return bytes(map((255).__and__, values))


def _unfilter(raw, width, height, bpp):
    stride = width * bpp
    line = stride + 1
    if len(raw) < line * height:
        raise PngError("image data too short")
    filters = raw[0 : line * height : line]
    if max(filters, default=0) > 4:
        raise PngError("invalid filter type")
    out = bytearray(stride * height)
    # Drop the filter bytes: by rows or by byte columns, whichever are fewer.
    if height <= stride:
        for y in range(height):
            out[y * stride : (y + 1) * stride] = raw[y * line + 1 : (y + 1) * line]
    else:
        for k in range(stride):
            out[k::stride] = raw[k + 1 : line * height : line]
    row = 0
    for ftype, group in itertools.groupby(filters):
        count = sum(1 for _ in group)
        start, end = row, row + count
        row = end
        if ftype == 0:
            continue
        if ftype == 2 and count > 1 and stride < 64:
            # A run of Up rows: prefix sums down each byte column.
            for k in range(stride):
                first = start * stride + k
                column = out[first : end * stride : stride]
                base = out[first - stride] if start > 0 else 0
                out[first : end * stride : stride] = _and255(
                    itertools.accumulate(column, initial=base)
                )[1:]
            continue
        for y in range(start, end):
            at = y * stride
            cur = bytes(out[at : at + stride])
            prev = bytes(out[at - stride : at]) if y > 0 else bytes(stride)
            if ftype == 1:
                rec = bytearray(cur)
                for k in range(bpp):
                    rec[k::bpp] = _and255(itertools.accumulate(cur[k::bpp]))
                out[at : at + stride] = rec
            elif ftype == 2:
                out[at : at + stride] = _add_rows(cur, prev)
            else:
                rec = bytearray(stride)
                for i in range(stride):
                    a = rec[i - bpp] if i >= bpp else 0
                    b = prev[i]
                    if ftype == 3:
                        rec[i] = (cur[i] + ((a + b) >> 1)) & 255
                    else:
                        c = prev[i - bpp] if i >= bpp else 0
                        p = a + b - c
                        pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                        pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                        rec[i] = (cur[i] + pred) & 255
                out[at : at + stride] = rec
    return out


def to_rgba(pixels, channels, count):
    """RGBA bytes from `count` pixels of 3 or 4 channels."""
    if channels == 4:
        return bytes(pixels)
    out = bytearray(count * 4)
    for k in range(3):
        out[k::4] = pixels[k::3]
    out[3::4] = b"\xff" * count
    return bytes(out)


def read_png(data):
    """(width, height, rgba bytes) of a PNG held in `data`."""
    if data[:8] != SIGNATURE:
        raise PngError("not a PNG file")
    pos = 8
    header = None
    palette = b""
    trns = None
    idat = []
    while pos + 12 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        ctype = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if len(body) != length:
            raise PngError("chunk cut short")
        pos += 12 + length
        if ctype == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif ctype == b"PLTE":
            palette = body
        elif ctype == b"tRNS":
            trns = body
        elif ctype == b"IDAT":
            idat.append(body)
        elif ctype == b"IEND":
            break
    if header is None:
        raise PngError("no IHDR")
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or interlace != 0:
        raise PngError("only 8-bit, non-interlaced PNGs are read (bit depth %d, interlace %d)" % (depth, interlace))
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(colour)
    if channels is None:
        raise PngError("invalid colour type %d" % colour)
    raw = zlib.decompress(b"".join(idat))
    px = _unfilter(raw, width, height, channels)
    n = width * height
    if colour == 6:
        return width, height, bytes(px)
    if colour == 2:
        rgba = bytearray(to_rgba(px, 3, n))
        if trns is not None and len(trns) == 6:
            key = bytes(trns[1::2])
            for i in range(n):
                if px[3 * i : 3 * i + 3] == key:
                    rgba[4 * i + 3] = 0
        return width, height, bytes(rgba)
    out = bytearray(n * 4)
    if colour in (0, 4):
        grey = px[0::channels]
        for k in range(3):
            out[k::4] = grey
        if colour == 4:
            out[3::4] = px[1::2]
        else:
            out[3::4] = b"\xff" * n
            if trns is not None and len(trns) == 2:
                for i in range(n):
                    if grey[i] == trns[1]:
                        out[4 * i + 3] = 0
        return width, height, bytes(out)
    # Palette.
    table = []
    for i in range(256):
        rgb = palette[3 * i : 3 * i + 3]
        alpha = trns[i] if trns is not None and i < len(trns) else 255
        table.append(bytes(rgb) + bytes([alpha]) if len(rgb) == 3 else None)
    for i, index in enumerate(px):
        entry = table[index]
        if entry is None:
            raise PngError("palette index out of range")
        out[4 * i : 4 * i + 4] = entry
    return width, height, bytes(out)


def png_size(data):
    """(width, height) from a PNG's IHDR."""
    if data[:8] != SIGNATURE or data[12:16] != b"IHDR":
        raise PngError("not a PNG file")
    return struct.unpack(">II", data[16:24])


def _chunk(ctype, body):
    crc = zlib.crc32(ctype + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", crc)


def write_png(width, height, channels, pixels, level=6):
    """An 8-bit RGB (channels 3) or RGBA (4) PNG, rows unfiltered."""
    stride = width * channels
    raw = bytearray((stride + 1) * height)
    if height <= stride:
        for y in range(height):
            raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)] = pixels[y * stride : (y + 1) * stride]
    else:
        for k in range(stride):
            raw[k + 1 :: stride + 1] = pixels[k::stride]
    colour = 6 if channels == 4 else 2
    ihdr = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    return (
        SIGNATURE
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", zlib.compress(bytes(raw), level))
        + _chunk(b"IEND", b"")
    )
