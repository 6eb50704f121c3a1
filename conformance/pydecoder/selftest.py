#!/usr/bin/env python3
"""Self-test of qohi_decode.py, the independent decoder, against the
reference implementation used as a black box.

    python3 selftest.py --qohienc PATH --qohidec PATH [--lib libqohi.so]

1. Appendix A of the spec: the worked examples decode to the pixels the
   spec states.
2. Encoded images: generated images (RGB and RGBA, tiny and odd sizes,
   smooth, noisy, flat, screen-like, transparent) encoded by qohienc with
   --effort 0/1, --method auto/qohi/stored, and folders (names with
   sub-folders and non-ASCII characters, metadata, delta frames of every
   --mode, --max-depth, --baseline). Every frame decoded by qohi_decode.py
   must equal the source image and qohidec's output, bit for bit.
3. Assembled files: container features qohienc does not write (several
   bands per frame, QOHI bands cut from qohienc output, delta bands over
   other band layouts, reference chains, unknown records, reserved header
   values, malformed metadata, front-coded names, the container checks of
   §3 and §4.1 one by one), with the outcome the spec requires.
3b. DICI (method 2, §4.4): frames qohienc makes with --method dici and
   --method auto (few colours, screen-like, palette images, RGB and RGBA,
   tiny and odd sizes, several bands, a folder with delta frames over DICI
   frames), assembled valid DICI bands qohienc does not write, a damaged
   band for each DICI row of §9.3, DICI frames with a reference (§3.7
   check 9).
4. Damaged files: every (or many) truncation points, appended bytes,
   flipped bytes, and flipped bytes with the record's CRC recomputed (which
   reach the header, index, band layout and band checks), for a QOHI frame,
   a folder and a DICI frame; then random QOHI and DICI bands, valid and
   broken.
4c. Entries (§3.15): files written by libqohi's writer with random entries
   of every kind and size (content over 4 MiB in several EDAT records)
   among frames with and without attr records, read back by qohi_decode and
   the library; every cut, flipped byte and EHDR/EDAT/QIDX/attr payload
   change (CRC recomputed) of one of them: the same classes, listings,
   contents and attributes from both.
5. The command line: output files, error lines, exit status, --max-pixels,
   --entries.

For 3, 3b and 4 the reference library's result is obtained from libqohi
(ctypes, public API only): its error class per file and per frame, and its
pixels, must equal qohi_decode.py's. Without --lib those comparisons are
skipped and only the spec's expected outcomes are checked.
"""

import argparse
import collections
import ctypes
import json
import math
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import qohi_decode as qd  # noqa: E402

OK = "OK"
CLASSES = ("NOT_QOHI", "TRUNCATED", "CORRUPT", "UNSUPPORTED", "LIMIT")

# ====================================================================== PNG


def png_chunk(ctype, body):
    return (struct.pack(">I", len(body)) + ctype + body
            + struct.pack(">I", zlib.crc32(body, zlib.crc32(ctype))))


def png_bytes(img, chunks=()):
    """An 8-bit RGB/RGBA PNG of `img`, with extra chunks before IDAT."""
    w, h, c, px = img
    stride = w * c
    raw = b"".join(b"\x00" + px[y * stride:(y + 1) * stride] for y in range(h))
    return (b"\x89PNG\r\n\x1a\n"
            + png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2 if c == 3 else 6, 0, 0, 0))
            + b"".join(png_chunk(t, b) for t, b in chunks)
            + png_chunk(b"IDAT", zlib.compress(raw)) + png_chunk(b"IEND", b""))


def read_png(path):
    """(w, h, channels, samples) of an 8-bit non-interlaced PNG, expanded to
    RGB or RGBA as the tools do (grey and palette; tRNS gives alpha)."""
    with open(path, "rb") as f:
        d = f.read()
    if d[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, ihdr, plte, trns = 8, [], None, b"", None
    while pos < len(d):
        n, t = struct.unpack(">I4s", d[pos:pos + 8])
        body = d[pos + 8:pos + 8 + n]
        pos += 12 + n
        if t == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif t == b"PLTE":
            plte = body
        elif t == b"tRNS" and not idat:
            trns = body
        elif t == b"IDAT":
            idat.append(body)
    w, h, depth, ctype, _, _, interlace = ihdr
    if depth != 8 or ctype not in (0, 2, 3, 4, 6) or interlace:
        raise ValueError("unexpected PNG format %r" % (ihdr,))
    c = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype]
    raw = zlib.decompress(b"".join(idat))
    stride = w * c
    out = bytearray()
    prev = bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for i in range(c, stride):
                line[i] = (line[i] + line[i - c]) & 255
        elif f == 2:
            for i in range(stride):
                line[i] = (line[i] + prev[i]) & 255
        elif f == 3:
            for i in range(stride):
                left = line[i - c] if i >= c else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif f == 4:
            for i in range(stride):
                a = line[i - c] if i >= c else 0
                b = prev[i]
                cc = prev[i - c] if i >= c else 0
                p = a + b - cc
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - cc)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else cc)) & 255
        out += line
        prev = line
    if ctype == 6 or (ctype == 2 and trns is None):
        return w, h, c, bytes(out)
    px = bytearray()
    for i in range(w * h):
        s = out[i * c:(i + 1) * c]
        if ctype == 3:
            rgb, a = plte[3 * s[0]:3 * s[0] + 3], (trns[s[0]] if s[0] < len(trns) else 255) if trns else None
        elif ctype == 4:
            rgb, a = bytes([s[0]] * 3), s[1]
        elif ctype == 0:
            rgb, a = bytes([s[0]] * 3), (0 if s[0] == trns[1] else 255) if trns else None
        else:
            rgb, a = bytes(s), 0 if bytes(s) == trns[1::2] else 255
        px += rgb + (bytes([a]) if a is not None else b"")
    return w, h, 4 if (ctype in (4, 6) or trns) else 3, bytes(px)


# ====================================================================== images


def image(w, h, c, fn):
    """An image whose pixel (x, y) is fn(x, y) -> (r, g, b, a)."""
    px = bytearray()
    for y in range(h):
        for x in range(w):
            v = fn(x, y)
            px += bytes(v[:c])
    return (w, h, c, bytes(px))


def clamp(v):
    return 0 if v < 0 else 255 if v > 255 else int(v)


def img_smooth(w, h, c, seed):
    r = random.Random(seed)
    fx, fy, ph = r.uniform(5, 30), r.uniform(5, 30), r.uniform(0, 6)
    return image(w, h, c, lambda x, y: (
        clamp(128 + 90 * math.sin(x / fx + ph)), clamp(x * 255 / max(1, w - 1)),
        clamp(128 + 90 * math.cos(y / fy)), clamp(255 - y * 4)))


def img_noise(w, h, c, seed):
    r = random.Random(seed)
    return image(w, h, c, lambda x, y: (r.randrange(256), r.randrange(256),
                                        r.randrange(256), r.randrange(256)))


def img_photo(w, h, c, seed):
    r = random.Random(seed)
    return image(w, h, c, lambda x, y: (
        clamp(100 + 60 * math.sin(x / 9) + r.randrange(-5, 6)),
        clamp(120 + 50 * math.cos((x + y) / 14) + r.randrange(-5, 6)),
        clamp(90 + y + r.randrange(-5, 6)), clamp(200 + r.randrange(-3, 4))))


def img_few(w, h, c, seed):
    r = random.Random(seed)
    pal = [(r.randrange(256), r.randrange(256), r.randrange(256), r.choice((0, 128, 255)))
           for _ in range(6)]
    cells = {}
    return image(w, h, c, lambda x, y: pal[cells.setdefault((x // 3, y // 2), r.randrange(6))])


def img_screen(w, h, c, seed):
    """Flat background, boxes and repeated glyphs (matches, column distances)."""
    r = random.Random(seed)
    glyphs = [[[r.random() < 0.45 for _ in range(5)] for _ in range(7)] for _ in range(4)]
    bg = (240, 240, 236, 255)
    px = [[bg] * w for _ in range(h)]
    for _ in range(3):
        x0, y0 = r.randrange(w), r.randrange(h)
        col = (r.randrange(256), r.randrange(256), r.randrange(256), r.choice((255, 90)))
        for y in range(y0, min(h, y0 + r.randrange(3, 12))):
            for x in range(x0, min(w, x0 + r.randrange(3, 30))):
                px[y][x] = col
    ink = (20, 30, 60, 255)
    for line in range(2, h - 8, 9):
        x = 2
        while x < w - 6:
            g = glyphs[r.randrange(4)]
            for gy in range(7):
                for gx in range(5):
                    if g[gy][gx]:
                        px[line + gy][x + gx] = ink
            x += 6
    return image(w, h, c, lambda x, y: px[y][x])


def img_alpha(w, h, seed):
    """RGBA: transparent pixels of several colours, soft edges, opaque core."""
    r = random.Random(seed)
    cx, cy = w / 2, h / 2
    def fn(x, y):
        d = math.hypot(x - cx, y - cy) / max(1, min(w, h) / 2)
        a = clamp(255 * (1.2 - d)) if d < 1.2 else 0
        return (clamp(x * 7) if a else r.randrange(3), 100, clamp(y * 5), a)
    return image(w, h, 4, fn)


def img_palette(w, h, c, seed):
    """A 16-colour image with a pattern that neither runs nor copies from
    above capture well: palette images, dithering."""
    r = random.Random(seed)
    pal = [(r.randrange(256), r.randrange(256), r.randrange(256), r.choice((255, 255, 0, 77)))
           for _ in range(16)]
    return image(w, h, c, lambda x, y: pal[((x // 4) * 3 + (y // 3) * 5 + ((x ^ y) & 1)) % 16])


def variant(img, seed, kind):
    """A modified copy of img, for delta frames."""
    w, h, c, px = img
    r = random.Random(seed)
    px = bytearray(px)
    if kind == "shift":                       # content moved down by k rows
        k = r.randrange(1, 4)
        px = px[:w * c * k] + px[:w * c * (h - k)]
    elif kind == "dots":                      # a few changed pixels
        for _ in range(max(1, w * h // 40)):
            i = r.randrange(w * h) * c
            px[i + r.randrange(c)] ^= r.randrange(1, 8)
    elif kind == "box":                       # a block copied elsewhere
        bw, bh = max(1, w // 3), max(1, h // 3)
        sx, sy, dx, dy = r.randrange(w - bw + 1), r.randrange(h - bh + 1), \
            r.randrange(w - bw + 1), r.randrange(h - bh + 1)
        src = bytes(px)
        for y in range(bh):
            px[((dy + y) * w + dx) * c:((dy + y) * w + dx + bw) * c] = \
                src[((sy + y) * w + sx) * c:((sy + y) * w + sx + bw) * c]
    return (w, h, c, bytes(px))


# ====================================================================== container writer (§3)

SIG = qd.SIGNATURE
varint = qd.write_varint


def record(rtype, payload):
    return (rtype + struct.pack("<I", len(payload)) + payload
            + struct.pack("<I", zlib.crc32(payload, zlib.crc32(rtype))))


def fhdr(w, h, c=3, method=1, flags=0, dist=0, name=b"", depth=8):
    return (varint(w) + varint(h) + bytes((c, depth, method, flags)) + varint(dist)
            + varint(len(name)) + name)


def fdat(band_rows, bands, sizes=None):
    """An FDAT payload: band_rows, the sizes of all bands but the last, the bands."""
    if sizes is None:
        sizes = [len(b) for b in bands[:-1]]
    return varint(band_rows) + b"".join(varint(s) for s in sizes) + b"".join(bands)


class Frame:
    """A frame to assemble: its header fields and its records."""

    def __init__(self, w, h, c=3, method=1, flags=0, dist=0, name=b"", depth=8,
                 payload=b"", before=(), after=b"", fhdr_bytes=None,
                 head_type=b"FHDR", data_type=b"FDAT"):
        self.fields = (w, h, c, method, flags, dist, name, depth)
        self.head_type = head_type             # another type: invalid
        self.data_type = data_type
        self.payload = payload                 # FDAT payload
        self.before = list(before)             # records between FHDR and FDAT (bytes)
        self.after = after                     # bytes after FDAT (invalid)
        self.fhdr_bytes = fhdr_bytes           # FHDR payload override

    def header_payload(self):
        w, h, c, method, flags, dist, name, depth = self.fields
        return fhdr(w, h, c, method, flags, dist, name, depth)

    def extent(self):
        return (record(self.head_type, self.fhdr_bytes if self.fhdr_bytes is not None
                       else self.header_payload())
                + b"".join(self.before) + record(self.data_type, self.payload) + self.after)


def assemble(frames, max_chain_depth=16, qhdr=None, shared=None, entries=None,
             gap=b"", index_extra=b"", count=None):
    """A file of `frames` (§3.5), with an index front-coding the names
    (`shared[i]` overrides the shared prefix of entry i). The other
    arguments make invalid files: bytes between QHDR and frame 0, bytes
    after the index entries, another frame count, replaced entries."""
    out = SIG + record(b"QHDR", qhdr if qhdr is not None
                       else struct.pack("<HHHH", 1, 0, max_chain_depth, 0)) + gap
    idx = bytearray(struct.pack("<I", len(frames) if count is None else count))
    prev_offset, prev_name = 0, b""
    for i, f in enumerate(frames):
        offset = len(out)
        out += f.extent()
        w, h, c, method, flags, dist, name, depth = f.fields
        if shared is not None and i in shared:
            sh = shared[i]
        else:
            sh = 0
            while sh < min(len(name), len(prev_name)) and name[sh] == prev_name[sh]:
                sh += 1
        entry = (varint(offset - prev_offset) + varint(sh) + varint(w) + varint(h)
                 + bytes((c, depth, method, flags)) + varint(dist)
                 + varint(len(name) - sh) + name[sh:])
        if entries is not None and i in entries:
            entry = entries[i]
        idx += entry
        prev_offset, prev_name = offset, name
    idx += index_extra
    index_offset = len(out)
    out += record(b"QIDX", bytes(idx))
    out += record(b"QEND", struct.pack("<QI", index_offset,
                                       len(frames) if count is None else count))
    return bytes(out)


def name_amplification(n):
    """A file of n frames whose index entries name each frame with the
    65,535 bytes of the first name (shared 65,535, no suffix). The frames'
    12-byte extents hold zeros (not a record: CORRUPT when decoded)."""
    out = SIG + record(b"QHDR", struct.pack("<HHHH", 1, 0, 16, 0)) + bytes(12 * n)
    idx = bytearray(struct.pack("<I", n))
    idx += varint(28) + b"\x00" + fhdr(1, 1, 3, 0, name=b"a" * 65535)
    idx += (varint(12) + varint(65535) + fhdr(1, 1, 3, 0)) * (n - 1)
    index_offset = len(out)
    return out + record(b"QIDX", bytes(idx)) + record(b"QEND", struct.pack("<QI", index_offset, n))


def read_frames(data):
    """The frames of a valid file as (header, name, [records], FDAT payload),
    read with the decoder's own record reader."""
    qf = qd.QohiFile(data)
    out = []
    for i, f in enumerate(qf.frames):
        rtype, hp, end = qf.read_record(f.offset, f.end)
        others = []
        while True:
            rtype, p, end = qf.read_record(end, f.end)
            if rtype == b"FDAT":
                break
            others.append((rtype, p))
        out.append((f.header, qf.name(i), others, p))
    return out


def single_band(payload):
    """The band of a one-band FDAT payload."""
    _, pos = qd.read_varint(payload, 0, 1 << 24)
    return payload[pos:]


# ====================================================================== random QOHI bands (§5, §6)


class BitWriter:
    """Packs bits LSB-first (§1.4)."""

    def __init__(self):
        self.bits = []

    def value(self, v, n):                     # an n-bit value, least significant bit first
        self.bits.extend((v >> k) & 1 for k in range(n))

    def code(self, c, n):                      # a Huffman code, most significant bit first
        self.bits.extend((c >> (n - 1 - k)) & 1 for k in range(n))

    def tobytes(self, pad_bit=0):
        bits = self.bits + [pad_bit] * (-len(self.bits) % 8)
        return bytes(sum(bits[i + k] << k for k in range(8)) for i in range(0, len(bits), 8))


def complete_lengths(symbols, rng):
    """Code lengths forming a complete code over `symbols` (§6.2):
    2^L - k of them get L - 1 bits, the others L; one symbol gets 1."""
    symbols = sorted(set(symbols))
    if len(symbols) == 1:
        return {symbols[0]: 1}
    L = (len(symbols) - 1).bit_length()
    short = (1 << L) - len(symbols)
    rng.shuffle(symbols)
    return {s: (L - 1 if i < short else L) for i, s in enumerate(symbols)}


def canonical(lengths):
    """symbol -> (code, length), as §6.1 builds it."""
    out, code = {}, 0
    for n in range(1, 13):
        for s in sorted(s for s, l in lengths.items() if l == n):
            out[s] = (code, n)
            code += 1
        code <<= 1
    return out


def length_items(lengths, n, rng):
    """Code-length-code items (symbol, extra value, extra bits) for a table
    of n symbols, with random but valid choices of §6.3."""
    lens = [lengths.get(s, 0) for s in range(n)]
    items, i = [], 0
    while i < n:
        v = lens[i]
        run = 1
        while i + run < n and lens[i + run] == v:
            run += 1
        choice = rng.random()
        if v == 0 and run >= 11 and choice < 0.7:
            k = rng.randrange(11, min(run, 138) + 1)
            items.append((15, k - 11, 7))
        elif v == 0 and run >= 3 and choice < 0.8:
            k = rng.randrange(3, min(run, 10) + 1)
            items.append((14, k - 3, 3))
        elif i > 0 and lens[i - 1] == v and run >= 3 and choice < 0.9:
            k = rng.randrange(3, min(run, 6) + 1)
            items.append((13, k - 3, 2))
        else:
            k = 1
            items.append((v, 0, 0))
        i += k
    return items


def write_tables(w, tables, rng):
    """Writes the code-length code and then each table (§6.3) to BitWriter
    w. `tables`: (lengths {symbol: length}, empty for an absent table,
    alphabet size) in stream order. Returns each table's canonical codes."""
    items = [length_items(lengths, n, rng) if lengths else None for lengths, n in tables]
    used = {sym for table in items if table for sym, _, _ in table}
    pre = canonical(complete_lengths(used, rng)) if used else {}
    for s in range(16):
        w.value(pre[s][1] if s in pre and len(pre) > 1 else (1 if s in pre else 0), 3)
    for table in items:
        w.value(1 if table else 0, 1)
        for sym, x, n in table or ():
            if len(pre) > 1:
                w.code(*pre[sym])
            w.value(x, n)
    return [canonical(lengths) for lengths, _ in tables]


def put_symbol(w, codes, s):
    """Symbol s with a table's codes; nothing for a single-symbol table."""
    if len(codes) > 1:
        w.code(*codes[s])


def length_value(L):
    """(class, extra value, extra bits) of a length or distance L (§5.6)."""
    n = L - 1
    if n < 16:
        return n, 0, 0
    e = n.bit_length()
    return e + 11, n - (1 << (e - 1)), e - 1


def random_band(rng, W, rows, C, delta, invalid):
    """A random QOHI band of W x rows pixels. With `invalid`, the band
    breaks one rule of §5 on purpose. Returns the band's bytes."""
    N = W * rows
    M = N if delta else 0
    modes = [rng.randrange(3) for _ in range(3)]
    m_op, m_g, m_rb = modes
    kinds = ["diff", "run", "index", "match", "gradient"] + (["ref run", "ref diff"] * 2 if delta else [])
    if C == 4:
        kinds += ["diff alpha", "gradient alpha"] + (["ref diff alpha"] if delta else [])
    weights = {k: rng.random() for k in kinds}
    ops = []                                  # (op context, symbol, extras, payload)
    column = [0] * W
    p, ctx, broken = 0, 0, None
    while p < N and broken is None:
        kind = rng.choices(kinds, [weights[k] for k in kinds])[0]
        left = N - p
        L = 1
        if kind in ("run", "match", "ref run"):
            L = rng.choice((1, 2, rng.randrange(1, left + 1), left))
            if rng.random() < 0.05:
                L = rng.randrange(17, 600)        # a long class, maybe too long
        extras, payload = [], []
        if kind in ("diff", "diff alpha", "gradient", "gradient alpha", "ref diff", "ref diff alpha"):
            base = {"diff": 0, "gradient": 340, "ref diff": 383}[kind.replace(" alpha", "")]
            sym = base + (kind.endswith("alpha"))
            if kind.endswith("alpha"):
                payload.append(("A", rng.choice((0, 1, 255, rng.randrange(256)))))
            dg = rng.choice((0, 1, 255, 2, 254, 128, rng.randrange(256)))
            k = qd.RB_CONTEXT[dg]
            payload += [("G", dg), ("R%d" % k, rng.randrange(256)), ("B%d" % k, rng.randrange(256))]
        elif kind == "index":
            sym = 43 + rng.randrange(256)
        elif kind in ("run", "ref run"):
            c, x, n = length_value(L)
            sym = (2 if kind == "run" else 342) + c
            extras.append((x, n))
        else:                                     # match
            c, x, n = length_value(L)
            sym = 299 + c
            extras.append((x, n))
            col = column[p % W]
            choices = ["above"] if p - W >= -M else []
            choices += ["column"] if col and p - col >= -M else []
            choices += ["class"] if p + M >= 1 else []
            if invalid and rng.random() < 0.1:
                choices.append("bad")
            if not choices:
                continue
            how = rng.choice(choices)
            if how == "above":
                D, d = W, 0
            elif how == "column":
                D, d = col, 43
            elif how == "class":
                D = rng.choice([d for d in (1, W, rng.randrange(1, p + M + 1)) if d <= p + M])
                dc, dx, dn = length_value(D)
                d = 1 + dc
            else:                                 # a distance that breaks a rule
                if col == 0 and rng.random() < 0.5:
                    D, d = 0, 43
                    broken = "column distance 0"
                else:
                    D = p + M + 1 + rng.randrange(3)
                    dc, dx, dn = length_value(D)
                    d = 1 + dc
                    broken = "match before the start"
            payload.append(("D", d))
            if d not in (0, 43):
                payload.append(("Dx", (dx, dn)))
        if L > left:
            if not invalid:
                continue
            broken = "longer than the band"
        if kind == "match" and broken is None:
            for k in range(L):
                column[(p + k) % W] = D
        ops.append((ctx, sym, extras, payload))
        ctx = qd.OP_CONTEXT[sym]
        p += L

    # Tables: OP per op-context group, G identical in every group (its
    # context depends on the pixels), R and B per R/B-context group.
    fam = collections.defaultdict(set)
    for c, sym, _, payload in ops:
        fam["OP%d" % (c >> (2 - m_op))].add(sym)
        for t, v in payload:
            if t[0] in "RB":
                fam["%s%d" % (t[0], int(t[1]) >> (2 - m_rb))].add(v)
            elif t in ("G", "A", "D"):
                fam[t].add(v)
    alphabet = 385 if delta else 342
    has_diff = any(s in (0, 1, 340, 341, 383, 384) for c, s, _, _ in ops)
    tables = []
    for g in range(1 << m_op):
        syms = fam["OP%d" % g] or {rng.choice((2, 43, 0 if has_diff else 2))}
        tables.append(("OP%d" % g, alphabet, syms))
    g_syms = fam["G"] or ({rng.randrange(256)} if has_diff or rng.random() < 0.2 else set())
    tables += [("G", 256, g_syms)] * (1 << m_g)
    for f in "RB":
        for g in range(1 << m_rb):
            syms = fam["%s%d" % (f, g)]
            if not syms and (has_diff or rng.random() < 0.2):
                syms = {rng.randrange(256)}
            tables.append(("%s%d" % (f, g), 256, syms))
    a_syms = fam["A"] or ({rng.randrange(256)} if rng.random() < 0.2 else set())
    d_syms = fam["D"] or ({rng.randrange(44)} if rng.random() < 0.2 else set())
    tables += [("A", 256, a_syms), ("DIST", 44, d_syms)]
    g_lengths = complete_lengths(g_syms, rng) if g_syms else {}
    w = BitWriter()
    w.value(m_op + 4 * m_g + 16 * m_rb, 6)
    codes = dict(zip([name for name, _, _ in tables], write_tables(w, [
        (g_lengths if name == "G" else complete_lengths(syms, rng) if syms else {}, n)
        for name, n, syms in tables], rng)))

    def put(name, v):
        put_symbol(w, codes[name], v)
    for c, sym, extras, payload in ops:
        put("OP%d" % (c >> (2 - m_op)), sym)
        for x, n in extras:
            w.value(x, n)
        for t, v in payload:
            if t == "Dx":
                w.value(*v)
            elif t in ("G", "A"):
                put(t, v)
            elif t == "D":
                put("DIST", v)
            else:
                put("%s%d" % (t[0], int(t[1]) >> (2 - m_rb)), v)
    data = w.tobytes()
    if invalid and broken is None:
        pad = -len(w.bits) % 8
        how = rng.choice(["extra byte", "cut"] + (["padding bit"] if pad else []))
        if how == "extra byte":
            data += bytes((rng.randrange(256),))
        elif how == "cut":
            data = data[:-1]
        else:
            data = w.tobytes(pad_bit=1)
    return data


# ====================================================================== DICI bands (§4.4)

DICI_KIND = {"rank": 0, "run": 1, "copy": 2}     # also the op context that follows


def dici_symbol(kind, L):
    """(symbol, extra value, extra bits) of a DICI op (§4.4, §5.6)."""
    c, x, n = length_value(L)
    return 41 * DICI_KIND[kind] + c, x, n


def dici_band(C, palette, ops, rng, lengths=None, size=None, unused=((), (), ()), empty=()):
    """A DICI band as a BitWriter (padding not yet added): the palette
    (colours as (r, g, b, a)), the op list [(kind, L)] (a rank L codes
    palette[L - 1]). The code lengths of tables 0 - 2 are complete codes
    over the symbols each context uses and `unused[t]`, none for a table
    in `empty`; `lengths` replaces them ({}: an empty table). `size`
    writes (e, x) as the palette size field. An op whose table has no code
    for it ends the stream there."""
    used = [set(u) for u in unused]
    ctx = 0
    for kind, L in ops:
        used[ctx].add(dici_symbol(kind, L)[0])
        ctx = DICI_KIND[kind]
    if lengths is None:
        lengths = [complete_lengths(u, rng) if u and t not in empty else {}
                   for t, u in enumerate(used)]
    if size is None:
        n = len(palette) - 1
        e = n.bit_length()
        size = (e, n - (1 << (e - 1)) if e else 0)
    w = BitWriter()
    e, x = size
    w.value(e, 5)
    if e >= 2:
        w.value(x, e - 1)
    for colour in palette:
        for v in colour[:C]:
            w.value(v, 8)
    codes = write_tables(w, [(t, 123) for t in lengths], rng)
    ctx = 0
    for kind, L in ops:
        s, x, n = dici_symbol(kind, L)
        if s not in codes[ctx]:
            break
        put_symbol(w, codes[ctx], s)
        w.value(x, n)
        ctx = DICI_KIND[kind]
    return w


def dici_pixels(W, C, palette, ops):
    """The samples that `ops` produce (§4.4): the test's expectation."""
    out, prev = [], palette[0]
    for kind, L in ops:
        if kind == "rank":
            prev = palette[L - 1]
            out.append(prev)
        elif kind == "run":
            out += [prev] * L
        else:
            for _ in range(L):
                out.append(out[-W])
            prev = out[-1]
    return b"".join(bytes(px[:C]) for px in out)


def dici_ops(W, px):
    """Ops for the pixels px (a list of colours), with the greedy choice of
    §10 (the longer of the run of prev and the copy from above, ranks in
    order of first appearance). Returns (palette, ops)."""
    palette = []
    for c in px:
        if c not in palette:
            palette.append(c)
    rank = {c: i + 1 for i, c in enumerate(palette)}
    ops, p, prev = [], 0, palette[0]
    while p < len(px):
        run = 0
        while p + run < len(px) and px[p + run] == prev:
            run += 1
        copy = 0
        while p >= W and p + copy < len(px) and px[p + copy] == px[p + copy - W]:
            copy += 1
        if run == copy == 0:
            ops.append(("rank", rank[px[p]]))
            prev = px[p]
            p += 1
        else:
            ops.append(("run", run) if run >= copy else ("copy", copy))
            p += max(run, copy)
            prev = px[p - 1]
    return palette, ops


def random_dici_band(rng, W, rows, C, invalid):
    """A random DICI band of W x rows pixels: (bytes, samples). With
    `invalid` it breaks one rule of §4.4 (samples are then None)."""
    N = W * rows
    n_colours = rng.choice((1, min(2, N), rng.randrange(1, N + 1), min(N, rng.randrange(1, 40))))
    palette = [(rng.randrange(256), rng.randrange(256), rng.randrange(256),
                rng.choice((0, 255, rng.randrange(256)))) for _ in range(n_colours)]
    if n_colours > 2 and rng.random() < 0.3:
        palette[-1] = palette[0]                  # colours need not be distinct
    weights = {k: rng.random() for k in DICI_KIND}
    ops, p, broken = [], 0, None
    while p < N and broken is None:
        left = N - p
        kinds = [k for k in DICI_KIND if k != "copy" or p >= W or (invalid and rng.random() < 0.1)]
        kind = rng.choices(kinds, [weights[k] for k in kinds])[0]
        if kind == "rank":
            L = rng.choice((1, 1, min(2, n_colours), rng.randrange(1, n_colours + 1), n_colours))
            if invalid and rng.random() < 0.05:
                L = n_colours + rng.choice((1, 1, rng.randrange(1, 3000)))
                broken = "rank beyond the palette"
        else:
            L = rng.choice((1, 2, W, W + 1, rng.randrange(1, left + 1), left))
            if rng.random() < 0.05:
                L = rng.randrange(17, 700)        # a long class, maybe too long
            if L > left:
                if not invalid:
                    continue
                broken = "past the band"
            if kind == "copy" and p < W:
                broken = "copy in the first row"
        ops.append((kind, L))
        p += L if kind != "rank" else 1
    w = dici_band(C, palette, ops, rng)
    if not invalid:
        return w.tobytes(), dici_pixels(W, C, palette, ops)
    data = w.tobytes()
    if broken is None:
        pad = -len(w.bits) % 8
        how = rng.choice(["extra byte", "cut", "palette size class", "palette too large"]
                         + (["padding bit"] if pad else []))
        if how == "extra byte":
            data += bytes((rng.randrange(256),))
        elif how == "cut":
            data = data[:-1]
        elif how == "padding bit":
            data = w.tobytes(pad_bit=1)
        else:                                    # N > 2^29, or N - 1 >= 2^(e-1) >= the pixels
            e = rng.randrange(30, 32) if how == "palette size class" else N.bit_length() + 1
            data = dici_band(C, palette, ops, rng, size=(e, rng.randrange(1 << (e - 1)))).tobytes()
    return data, None


# ====================================================================== decoders under test


class FileAttributes(ctypes.Structure):
    _fields_ = [("present", ctypes.c_int), ("mode", ctypes.c_uint32), ("mtime", ctypes.c_int64),
                ("mtime_nsec", ctypes.c_uint32)]


class EntryOptions(ctypes.Structure):
    _fields_ = [("kind", ctypes.c_uint32), ("name", ctypes.c_char_p),
                ("attributes", ctypes.POINTER(FileAttributes)), ("size", ctypes.c_uint64),
                ("data", ctypes.c_void_p), ("source", ctypes.c_void_p), ("source_user", ctypes.c_void_p)]


class EntryInfo(ctypes.Structure):
    _fields_ = [("kind", ctypes.c_uint32), ("method", ctypes.c_uint32), ("name", ctypes.c_void_p),
                ("name_size", ctypes.c_size_t), ("size", ctypes.c_uint64), ("attributes", FileAttributes),
                ("coded_size", ctypes.c_uint64)]


class FrameOptions(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("baseline", ctypes.c_int), ("reference", ctypes.c_int64),
                ("reference_pixels", ctypes.c_void_p), ("reference_stride", ctypes.c_size_t),
                ("metadata", ctypes.c_void_p), ("metadata_count", ctypes.c_size_t),
                ("attributes", ctypes.POINTER(FileAttributes))]


ENTRY_SINK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)


def attrs_struct(a):
    return None if a is None else FileAttributes(1, a[0], a[1], a[2])


class RefLib:
    """The reference library through its public C API (ctypes)."""

    STATUS = {0: OK, 3: "NOT_QOHI", 4: "TRUNCATED", 5: "CORRUPT", 6: "UNSUPPORTED", 7: "LIMIT"}

    def __init__(self, path):
        lib = ctypes.CDLL(path)
        vp, u32, sz = ctypes.c_void_p, ctypes.c_uint32, ctypes.c_size_t
        lib.qohi_read_options_init.argtypes = [vp]
        lib.qohi_reader_open_memory.argtypes = [vp, sz, vp, ctypes.POINTER(vp), vp]
        lib.qohi_reader_frame_count.argtypes = [vp]
        lib.qohi_reader_frame_count.restype = u32
        lib.qohi_reader_decode_frame.argtypes = [vp, u32, vp, sz, sz, u32]
        lib.qohi_reader_frame_metadata.argtypes = [vp, u32, vp, vp]
        lib.qohi_reader_message.argtypes = [vp]
        lib.qohi_reader_message.restype = ctypes.c_char_p
        lib.qohi_reader_close.argtypes = [vp]
        lib.qohi_reader_entry_count.argtypes = [vp]
        lib.qohi_reader_entry_count.restype = u32
        lib.qohi_reader_entry_info.argtypes = [vp, u32, ctypes.POINTER(EntryInfo)]
        lib.qohi_reader_read_entry.argtypes = [vp, u32, ENTRY_SINK, vp]
        lib.qohi_reader_frame_attributes.argtypes = [vp, u32, ctypes.POINTER(FileAttributes)]
        lib.qohi_writer_open_memory.argtypes = [vp, ctypes.POINTER(vp), vp]
        lib.qohi_writer_add_entry.argtypes = [vp, ctypes.POINTER(EntryOptions)]
        lib.qohi_writer_add_frame_with.argtypes = [vp, vp, u32, u32, u32, sz, ctypes.POINTER(FrameOptions)]
        lib.qohi_writer_finish.argtypes = [vp, ctypes.POINTER(vp), ctypes.POINTER(sz)]
        lib.qohi_writer_destroy.argtypes = [vp]
        lib.qohi_writer_message.argtypes = [vp]
        lib.qohi_writer_message.restype = ctypes.c_char_p
        lib.qohi_free.argtypes = [vp]
        self.lib = lib

    def write(self, items):
        """A file written by the library's writer: `items` in order, each
        ("entry", kind, name, content, attributes) or ("frame", w, h, c,
        samples, name, attributes); attributes None or (mode, mtime, nsec)."""
        lib = self.lib
        w = ctypes.c_void_p()
        if lib.qohi_writer_open_memory(None, ctypes.byref(w), None) != 0:
            raise RuntimeError("qohi_writer_open_memory failed")
        keep = []
        try:
            for item in items:
                if item[0] == "entry":
                    _, kind, name, content, a = item
                    buf = ctypes.create_string_buffer(content, max(1, len(content)))
                    at = attrs_struct(a)
                    keep += [buf, at]
                    o = EntryOptions(kind, name, ctypes.pointer(at) if at else None, len(content),
                                     ctypes.cast(buf, ctypes.c_void_p), None, None)
                    st = lib.qohi_writer_add_entry(w, ctypes.byref(o))
                else:
                    _, width, height, c, samples, name, a = item
                    at = attrs_struct(a)
                    keep.append(at)
                    o = FrameOptions(name, 0, -1, None, 0, None, 0, ctypes.pointer(at) if at else None)
                    st = lib.qohi_writer_add_frame_with(w, samples, width, height, c, 0, ctypes.byref(o))
                if st != 0:
                    raise RuntimeError("writer: %s" % lib.qohi_writer_message(w))
            data, size = ctypes.c_void_p(), ctypes.c_size_t()
            if lib.qohi_writer_finish(w, ctypes.byref(data), ctypes.byref(size)) != 0:
                raise RuntimeError("writer finish: %s" % lib.qohi_writer_message(w))
            out = ctypes.string_at(data, size.value)
            lib.qohi_free(data)
            return out
        finally:
            lib.qohi_writer_destroy(w)

    def entry_results(self, data, frame_count):
        """'CLASS' if the file does not open, else (entries, attributes):
        per entry ((name, kind, method, size, attributes), class, content or
        None), per frame (class, attributes)."""
        lib = self.lib
        err = ctypes.create_string_buffer(4096)
        reader = ctypes.c_void_p()
        buf = ctypes.create_string_buffer(data, max(1, len(data)))
        st = lib.qohi_reader_open_memory(buf, len(data), None, ctypes.byref(reader), err)
        if st != 0:
            return self.STATUS.get(st, "status %d" % st)
        try:
            entries = []
            for j in range(lib.qohi_reader_entry_count(reader)):
                info = EntryInfo()
                lib.qohi_reader_entry_info(reader, j, ctypes.byref(info))
                a = info.attributes
                listing = (ctypes.string_at(info.name, info.name_size), info.kind, info.method, info.size,
                           (a.mode, a.mtime, a.mtime_nsec) if a.present else None)
                pieces = []

                def sink(user, p, n, pieces=pieces):
                    pieces.append(ctypes.string_at(p, n))
                    return 0
                st = lib.qohi_reader_read_entry(reader, j, ENTRY_SINK(sink), None)
                cls = self.STATUS.get(st, "status %d" % st)
                entries.append((listing, cls, b"".join(pieces) if st == 0 else None))
            attrs = []
            for i in range(frame_count):
                a = FileAttributes()
                st = lib.qohi_reader_frame_attributes(reader, i, ctypes.byref(a))
                attrs.append((self.STATUS.get(st, "status %d" % st),
                              ((a.mode, a.mtime, a.mtime_nsec) if a.present else None) if st == 0 else None))
            return entries, attrs
        finally:
            lib.qohi_reader_close(reader)

    def results(self, data, headers, max_pixels):
        """'CLASS' if the file does not open, else a list with, per frame,
        (class, samples or message). `headers` (the frame headers as
        qohi_decode read them) give the buffer sizes."""
        lib = self.lib
        opts = ctypes.create_string_buffer(1024)
        lib.qohi_read_options_init(opts)
        struct.pack_into("<Q", opts, 0, max_pixels)    # max_pixels: the first field
        err = ctypes.create_string_buffer(4096)
        reader = ctypes.c_void_p()
        buf = ctypes.create_string_buffer(data, max(1, len(data)))
        st = lib.qohi_reader_open_memory(buf, len(data), opts, ctypes.byref(reader), err)
        if st != 0:
            return self.STATUS.get(st, "status %d" % st)
        try:
            n = lib.qohi_reader_frame_count(reader)
            if headers is None or n != len(headers):
                return ["%d frames" % n]
            out = []
            for i, h in enumerate(headers):
                c = h.channels if h.channels in (3, 4) else 4
                size = h.width * h.height * c if h.width * h.height <= max_pixels else 16
                pixels = ctypes.create_string_buffer(size)
                st = lib.qohi_reader_decode_frame(reader, i, pixels, size, 0, c)
                if st == 0:
                    items, count = ctypes.c_void_p(), ctypes.c_size_t()
                    st = lib.qohi_reader_frame_metadata(reader, i, ctypes.byref(items),
                                                        ctypes.byref(count))
                cls = self.STATUS.get(st, "status %d" % st)
                out.append((cls, pixels.raw if st == 0 else
                            (lib.qohi_reader_message(reader) or b"").decode("utf-8", "replace")))
            return out
        finally:
            lib.qohi_reader_close(reader)


def py_results(data, max_pixels):
    """The same for qohi_decode.py: 'CLASS', or per frame (class, samples or
    message); also the frame headers and names."""
    try:
        qf = qd.QohiFile(data)
    except qd.QohiError as e:
        return e.cls, None, None
    except Exception as e:                      # a bug: reported, not fatal
        return "exception %r" % e, None, None
    out = []
    try:
        for i, h, r, meta in qd.decode_frames(qf, max_pixels):
            # As the library's side: pixels, then the frame's metadata.
            if isinstance(r, qd.QohiError):
                out.append((r.cls, r.text))
            else:
                out.append((meta.cls, meta.text) if meta else (OK, r))
    except Exception as e:
        out.append(("exception %r" % e, ""))
    return out, [f.header for f in qf.frames], [qf.name(i) for i in range(len(qf.frames))]


def summarize(res):
    """Entry results for messages, contents as their sizes."""
    if isinstance(res, str):
        return res
    entries, attrs = res
    return str(([(listing, c, None if b is None else len(b)) for listing, c, b in entries], attrs))


def py_entry_results(data):
    """The same as RefLib.entry_results for qohi_decode.py."""
    try:
        qf = qd.QohiFile(data)
    except qd.QohiError as e:
        return e.cls
    except Exception as e:                      # a bug: reported, not fatal
        return "exception %r" % e
    entries = []
    for j, e in enumerate(qf.entries):
        h = e.header
        listing = (qf.entry_name(j), h.kind, h.method, h.size, h.attributes)
        try:
            entries.append((listing, OK, qf.read_entry(j)))
        except qd.QohiError as x:
            entries.append((listing, x.cls, None))
        except Exception as x:
            entries.append((listing, "exception %r" % x, None))
    attrs = []
    for i in range(len(qf.frames)):
        try:
            attrs.append((OK, qf.frame_attributes(i)))
        except qd.QohiError as x:
            attrs.append((x.cls, None))
        except Exception as x:
            attrs.append(("exception %r" % x, None))
    return entries, attrs


# ====================================================================== the checks


class Suite:
    def __init__(self, args):
        self.args = args
        self.lib = RefLib(args.lib) if args.lib else None
        self.failures = []
        self.counts = collections.Counter()
        self.lib_disagreements = []
        self.work = tempfile.mkdtemp(prefix="qohi-pydec-")
        self.bands = {}                          # bands cut from qohienc output

    # ------------------------------------------------------------------ helpers

    def fail(self, what):
        self.failures.append(what)
        if len(self.failures) <= 30:
            print("FAIL:", what, flush=True)

    def path(self, *parts):
        """A file in the work folder (its folder is made)."""
        p = os.path.join(self.work, *parts)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        return p

    def folder(self, *parts):
        """A folder in the work folder (made)."""
        p = os.path.join(self.work, *parts)
        os.makedirs(p, exist_ok=True)
        return p

    def run(self, cmd, **kw):
        return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)

    def encode(self, src, out, *opts):
        r = self.run([self.args.qohienc, "-q", "-f", *opts, src, "-o", out])
        if r.returncode != 0:
            raise RuntimeError("qohienc %s failed: %s" % (src, r.stderr.decode()))
        with open(out, "rb") as f:
            return f.read()

    def compare(self, name, data, expect=None, max_pixels=qd.DEFAULT_MAX_PIXELS, pixels=None,
                why=None):
        """Decodes `data` with qohi_decode and (if available) the library.
        `expect`: the spec's outcome, a file-level class or a list of
        per-frame classes (OK for a frame that decodes). `pixels`: expected
        samples per frame (None: not checked). `why`: a text that
        qohi_decode's error for the first failing frame must contain (the
        rule the case is meant to break)."""
        self.counts["files compared"] += 1
        py, headers, _ = py_results(data, max_pixels)
        py_summary = py if isinstance(py, str) else [c for c, _ in py]
        if expect is not None and py_summary != expect:
            self.fail("%s: expected %s, qohi_decode gives %s%s" % (
                name, expect, py_summary,
                "" if isinstance(py, str) else " " + str([t for c, t in py if c != OK])))
        elif why is not None and not isinstance(py, str):
            texts = [t for c, t in py if c != OK]
            if not texts or why not in texts[0]:
                self.fail("%s: expected an error about %r, qohi_decode gives %r" % (name, why, texts))
        if pixels is not None and not isinstance(py, str):
            for i, (c, r) in enumerate(py):
                if c == OK and pixels[i] is not None and r != pixels[i]:
                    self.fail("%s: frame %d: pixels differ from the expected ones" % (name, i))
        if self.lib is None:
            return py
        ref = self.lib.results(data, headers, max_pixels)
        ref_summary = ref if isinstance(ref, str) else [c for c, _ in ref]
        if ref_summary != py_summary:
            what = "%s: library gives %s, qohi_decode %s%s" % (
                name, ref_summary, py_summary,
                "" if isinstance(ref, str) else " (library: %s)" % [t for c, t in ref if c != OK])
            if expect is not None and py_summary == expect:
                self.lib_disagreements.append(what)   # the spec and the library differ
            self.fail(what)
        elif not isinstance(py, str):
            for i, ((c, a), (_, b)) in enumerate(zip(py, ref)):
                if c == OK and a != b:
                    self.fail("%s: frame %d: pixels differ from the library's" % (name, i))
        return py

    # ------------------------------------------------------------------ 1. Appendix A

    def appendix(self):
        spec = open(os.path.join(HERE, "..", "..", "spec", "qohi.md"), encoding="utf-8").read()

        def hexdump(section_start, section_end):
            part = spec[spec.index(section_start):spec.index(section_end)]
            block = part.split("```")[1]
            return bytes.fromhex("".join(line[6:] for line in block.strip().splitlines()))

        # A.1: a whole file
        a1 = hexdump("### A.1", "### A.2")
        self.compare("A.1", a1, [OK], pixels=[bytes((0, 0, 0, 255, 0, 0, 255, 0, 0))])
        # A.2: frame 1's band, here against a stored frame 0 (§4.5: the
        # reference band is cut from the decoded pixels, whatever the method)
        dump = hexdump("### A.2", "| Offset | Bytes | Meaning |\n|---|---|---|\n| 102")
        band = dump[dump.index(b"FDAT") + 9:dump.index(b"FDAT") + 8 + 29]
        f0 = bytes(v for y in range(4) for x in range(8) for v in (30 * x, 60 * y, 0))
        rows = [f0[y * 24:(y + 1) * 24] for y in range(4)]
        r1 = bytearray(rows[1])
        r1[3 * 3 + 1] = 62
        f1 = rows[0] + bytes(r1) + rows[1] + rows[2]
        data = assemble([Frame(8, 4, 3, 0, name=b"f0", payload=fdat(4, [f0])),
                         Frame(8, 4, 3, 1, dist=1, name=b"f1", payload=fdat(4, [band]))])
        self.compare("A.2", data, [OK, OK], pixels=[f0, f1])
        # A.3: a band with context-selected tables
        band = hexdump("### A.3", "Its 280 bits")
        px = bytes((0, 0, 0, 10, 10, 10, 10, 10, 10, 12, 11, 10, 17, 16, 15, 20, 19, 18))
        data = assemble([Frame(3, 2, 3, 1, payload=fdat(2, [band]))])
        self.compare("A.3", data, [OK], pixels=[px])

    # ------------------------------------------------------------------ 2. encoded images

    def check_encoded(self, name, data, sources, expect_deltas=False):
        """Every frame of `data` decodes with qohi_decode to `sources[name]`
        and to qohidec's output."""
        py, headers, names = py_results(data, qd.DEFAULT_MAX_PIXELS)
        if isinstance(py, str):
            self.fail("%s: qohi_decode cannot open it: %s" % (name, py))
            return
        qpath = self.path("enc", name + ".qohi")
        with open(qpath, "wb") as f:
            f.write(data)
        for i, ((cls, result), h, fname) in enumerate(zip(py, headers, names)):
            self.counts["frames decoded"] += 1
            if h.reference is not None:
                self.counts["delta frames decoded"] += 1
            self.counts["method %d frames" % h.method] += 1
            label = "%s frame %d (%s)" % (name, i, fname.decode("utf-8"))
            if cls != OK:
                self.fail("%s: %s: %s" % (label, cls, result))
                continue
            src = sources.get(fname.decode("utf-8"))
            if src is not None and (src[:3] != (h.width, h.height, h.channels) or src[3] != result):
                self.fail("%s: differs from the source image" % label)
            out = self.path("enc", "%s-%d.png" % (name, i))
            r = self.run([self.args.qohidec, "-q", "-f", "--frame", str(i), qpath, "-o", out])
            if r.returncode != 0:
                self.fail("%s: qohidec fails: %s" % (label, r.stderr.decode()))
                continue
            if read_png(out) != (h.width, h.height, h.channels, result):
                self.fail("%s: differs from qohidec's output" % label)
        if expect_deltas and not any(h.reference is not None for h in headers):
            self.fail("%s: no delta frame" % name)

    def encoded(self):
        r = random.Random(7)
        singles = {
            "smooth-rgb": img_smooth(61, 37, 3, 1),
            "smooth-rgba": img_smooth(40, 33, 4, 2),
            "photo-rgb": img_photo(96, 64, 3, 3),
            "photo-rgba": img_photo(48, 40, 4, 4),
            "noise-rgb": img_noise(23, 17, 3, 5),
            "noise-rgba": img_noise(16, 16, 4, 6),
            "few-rgb": img_few(50, 30, 3, 7),
            "few-rgba": img_few(31, 29, 4, 8),
            "screen-rgb": img_screen(120, 48, 3, 9),
            "screen-rgba": img_screen(77, 35, 4, 10),
            "alpha": img_alpha(45, 41, 11),
            "1x1": img_smooth(1, 1, 3, 12),
            "1x1-rgba": img_few(1, 1, 4, 13),
            "1x9": img_photo(1, 9, 3, 14),
            "13x1": img_few(13, 1, 4, 15),
            "2x3": img_noise(2, 3, 3, 16),
            "3x2": img_few(3, 2, 3, 17),
            "big-screen": img_screen(256, 128, 3, 18),
        }
        for name, img in singles.items():
            src = self.path("png", name + ".png")
            with open(src, "wb") as f:
                f.write(png_bytes(img))
            for opts in (("--effort", "0"), ("--effort", "1"),
                         ("--effort", "0", "--method", "qohi"),
                         ("--effort", "1", "--method", "qohi"),
                         ("--method", "stored")):
                if name == "big-screen" and "stored" in opts:
                    continue
                tag = name + "".join(opts).replace("--", "-")
                data = self.encode(src, self.path("enc", tag + ".qohi"), *opts)
                self.check_encoded(tag, data, {name + ".png": img})
        # tests/data PNGs of the project (8-bit ones), as qohienc reads them
        data_dir = os.path.join(HERE, "..", "..", "tests", "data")
        for fn in ("icon-rgba.png", "trash-rgb.png", "palette-trns.png", "grey-alpha.png"):
            src = os.path.join(data_dir, fn)
            if os.path.exists(src):
                for e in ("0", "1"):
                    data = self.encode(src, self.path("enc", fn + e + ".qohi"), "--effort", e,
                                       "--method", "qohi")
                    self.check_encoded(fn + "-e" + e, data, {})

        # Folders: names with sub-folders and non-ASCII characters, mixed
        # sizes and channels, metadata, delta frames.
        base = img_screen(64, 40, 3, 20)
        base4 = img_alpha(30, 20, 21)
        photo = img_photo(32, 24, 3, 22)
        xmp = b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>\xc3\xa9</x:xmpmeta>"
        meta = [(b"tEXt", b"Comment\x00hello"), (b"tEXt", b"Empty\x00"),
                (b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + xmp),
                (b"eXIf", b"MM\x00*\x00\x00\x00\x08\x00\x00")]
        members = {
            "base.png": (base, meta),
            "sub/shift.png": (variant(base, 1, "shift"), ()),
            "sub/dots.png": (variant(base, 2, "dots"), ()),
            "sub/dïr/日本語.png": (variant(base, 3, "box"), ()),
            "sub/dïr/zz-box2.png": (variant(variant(base, 4, "box"), 5, "dots"), ()),
            "a/alpha.png": (base4, ()),
            "a/alpha-dots.png": (variant(base4, 6, "dots"), ()),
            "a/alpha-shift.png": (variant(base4, 7, "shift"), meta[:1]),
            "photo.png": (photo, ()),
            "photo2.png": (variant(photo, 8, "dots"), ()),
            "tiny.png": (img_few(3, 1, 3, 9), ()),
        }
        folder = self.folder("folder", "set")
        sources = {}
        for name, (img, chunks) in members.items():
            with open(self.path("folder", "set", name), "wb") as f:
                f.write(png_bytes(img, chunks))
            sources[name] = img
        baseline = self.path("folder", "pin.png")
        with open(baseline, "wb") as f:
            f.write(png_bytes(variant(base, 9, "dots")))
        sources["baseline/pin.png"] = variant(base, 9, "dots")
        for opts in ((), ("--effort", "0"), ("--mode", "prior"), ("--mode", "first", "--effort", "0"),
                     ("--mode", "keyframe", "--keyframe-every", "3"), ("--mode", "none"),
                     ("--max-depth", "1"), ("--mode", "prior", "--max-depth", "2"),
                     ("--baseline", baseline), ("--method", "qohi", "--mode", "prior")):
            tag = "folder" + "".join(opts).replace("--", "-").replace(baseline, "pin")
            data = self.encode(folder, self.path("enc", tag + ".qohi"), *opts)
            self.check_encoded(tag, data, sources,
                               expect_deltas="none" not in opts and "stored" not in opts)
        # Larger than 2^17 pixels: qohienc's default bands of about 2^17
        # pixels at effort 0 (§10) give several bands, in delta frames too.
        big = img_photo(520, 260, 3, 23)
        members = {"big0.png": big, "big1.png": variant(big, 24, "dots")}
        for name, img in members.items():
            with open(self.path("large", name), "wb") as f:
                f.write(png_bytes(img))
        folder = os.path.join(self.work, "large")
        data = self.encode(folder, self.path("enc", "large.qohi"), "--mode", "prior", "--effort", "0")
        self.check_encoded("large", data, members, expect_deltas=True)
        if not all(qd.read_varint(p, 0, h.height)[0] < h.height for h, _, _, p in read_frames(data)):
            self.fail("large: frames of one band; expected several")

    # ------------------------------------------------------------------ 3. assembled files

    def qohi_band(self, img, effort=0):
        """The band qohienc writes for `img` as a one-band QOHI frame."""
        key = ("intra", img, effort)
        if key not in self.bands:
            tag = "band%d" % len(self.bands)
            src = self.path("bands", tag + ".png")
            with open(src, "wb") as f:
                f.write(png_bytes(img))
            data = self.encode(src, self.path("bands", tag + ".qohi"),
                               "--method", "qohi", "--effort", str(effort))
            self.bands[key] = single_band(read_frames(data)[0][3])
        return self.bands[key]

    def delta_band(self, ref, img, effort=0):
        """A delta band for `img` against `ref` (qohienc, two-image folder),
        or None if qohienc codes it as an intra frame."""
        key = ("delta", ref, img, effort)
        if key not in self.bands:
            folder = self.folder("bands", "d%d" % len(self.bands))
            for name, im in (("0.png", ref), ("1.png", img)):
                with open(os.path.join(folder, name), "wb") as f:
                    f.write(png_bytes(im))
            data = self.encode(folder, folder + ".qohi", "--mode", "prior", "--effort", str(effort))
            band = None
            frames = read_frames(data)
            for h, name, _, payload in frames:
                if name == b"1.png" and h.reference is not None and \
                        frames[h.reference][1] == b"0.png":
                    band = single_band(payload)
            self.bands[key] = band
        return self.bands[key]

    def strips(self, img, rows):
        w, h, c, px = img
        return [(w, min(rows, h - y), c, px[y * w * c:min(h, y + rows) * w * c])
                for y in range(0, h, rows)]

    def assembled(self):
        C = self.compare
        rgb = img_screen(40, 30, 3, 30)
        rgba = img_alpha(10, 9, 31)
        px = lambda img: img[3]

        # -- several bands per frame (§4.1): QOHI bands cut from one-band
        # frames (a band is decoded with a fresh state, so the band of a
        # strip coded alone is the band of those rows), stored bands
        bands = [self.qohi_band(s, e % 2) for e, s in enumerate(self.strips(rgb, 7))]
        C("bands: QOHI, 7 rows (5 bands)", assemble([Frame(40, 30, 3, 1, payload=fdat(7, bands))]),
          [OK], pixels=[px(rgb)])
        C("bands: stored RGBA, 4 rows", assemble([Frame(
            10, 9, 4, 0, payload=fdat(4, [s[3] for s in self.strips(rgba, 4)]))]), [OK],
          pixels=[px(rgba)])
        one_row = [self.qohi_band(s) for s in self.strips(rgba, 1)]
        C("bands: one row each", assemble([Frame(10, 9, 4, 1, payload=fdat(1, one_row))]), [OK],
          pixels=[px(rgba)])

        # -- delta frames over other band layouts, a chain of depth 3
        v1, v2, v3 = variant(rgb, 40, "dots"), variant(rgb, 41, "box"), variant(rgb, 42, "shift")
        def delta_frame(ref, img, rows, dist, effort=0):
            bands, expected = [], b""
            for rs, s in zip(self.strips(ref, rows), self.strips(img, rows)):
                band = self.delta_band(rs, s, effort)
                if band is None:                 # keep the reference rows: a reference run
                    band, s = self.delta_band(rs, rs, effort), rs
                bands.append(band)
                expected += s[3]
            return Frame(40, 30, 3, 1, dist=dist, payload=fdat(rows, bands)), expected
        f1, e1 = delta_frame(rgb, v1, 11, 1)
        f2, e2 = delta_frame((40, 30, 3, e1), v2, 30, 1, 1)
        f3, e3 = delta_frame((40, 30, 3, e2), v3, 4, 1)
        f4, e4 = delta_frame((40, 30, 3, e1), v3, 8, 3)
        base = Frame(40, 30, 3, 0, name=b"base", payload=fdat(13, [s[3] for s in self.strips(rgb, 13)]))
        frames = [base, f1, f2, f3, f4]
        C("delta chain of depth 3 over a stored frame", assemble(frames, 3), [OK] * 5,
          pixels=[px(rgb), e1, e2, e3, e4])
        # Without a cache of reference frames: each chain decoded again (§4.5)
        got = [r for _, _, r, _ in qd.decode_frames(qd.QohiFile(assemble(frames, 3)), 1 << 28, 0)]
        if got != [px(rgb), e1, e2, e3, e4]:
            self.fail("delta chain without a cache: other results")
        C("chain depth above max_chain_depth", assemble(frames, 2), "CORRUPT")
        C("max_chain_depth 0 with a delta frame", assemble(frames[:2], 0), "CORRUPT")
        lost = Frame(40, 30, 3, 0, payload=b"\x1e" + b"\x00" * 3599)   # stored, wrong size
        C("delta frame over a corrupt reference", assemble([lost, f1]), ["CORRUPT", "CORRUPT"])
        mid = Frame(40, 30, 3, 1, dist=1, payload=f1.payload, data_type=b"FDAX")
        C("chain through a frame with an unknown critical record",
          assemble([base, mid, f2, f3]), [OK, "UNSUPPORTED", "UNSUPPORTED", "UNSUPPORTED"])
        C("ref_distance before the first frame", assemble([Frame(40, 30, 3, 1, dist=1,
                                                                 payload=f1.payload)]), "CORRUPT")
        C("reference of another size", assemble([Frame(40, 29, 3, 0, payload=b"\x1d" + bytes(3480)),
                                                 f1]), "CORRUPT")
        C("reference with other channels", assemble([Frame(40, 30, 4, 0, payload=b"\x1e" + bytes(4800)),
                                                      f1]), "CORRUPT")
        C("stored frame with a reference", assemble([base, Frame(40, 30, 3, 0, dist=1,
                                                                 payload=base.payload)]), "CORRUPT")

        # -- records inside frames (§3.4, §3.9, §3.13)
        tiny = img_few(3, 2, 3, 32)
        stored = lambda **kw: Frame(3, 2, 3, 0, payload=fdat(2, [tiny[3]]), **kw)
        good_meta = [record(b"iccp", b"\x04ICC\xff" + bytes(40)), record(b"exif", b"II*\x00"),
                     record(b"xmpd", "<x>é</x>".encode()), record(b"text", b"\x01k"),
                     record(b"text", b"\x4f" + b"K" * 79 + "ü".encode()),
                     record(b"pngc", b"\x02\x08\x00\x00\x00"),
                     record(b"abcd", b""), record(b"zzzz", b"\x00\xff")]
        C("metadata and unknown ancillary records", assemble([stored(before=good_meta)]), [OK],
          pixels=[tiny[3]])
        bad_meta = {
            "text: empty payload": record(b"text", b""),
            "text: key past the payload": record(b"text", b"\x05abc"),
            "text: empty key": record(b"text", b"\x00abc"),
            "text: key of 80 bytes": record(b"text", b"\x50" + b"k" * 80),
            "text: NUL in the key": record(b"text", b"\x02k\x00t"),
            "text: not UTF-8": record(b"text", b"\x01k\xe9t"),
            "text: NUL in the text": record(b"text", b"\x01kt\x00"),
            "iccp: empty payload": record(b"iccp", b""),
            "iccp: empty key": record(b"iccp", b"\x00profile"),
            "iccp: no profile": record(b"iccp", b"\x03abc"),
            "iccp: key past the payload": record(b"iccp", b"\x09abc"),
            "exif: empty": record(b"exif", b""),
            "xmpd: empty": record(b"xmpd", b""),
            "pngc: empty": record(b"pngc", b""),
            "xmpd: overlong UTF-8": record(b"xmpd", b"<\xc0\xae>"),
            "xmpd: surrogate": record(b"xmpd", b"\xed\xa0\x80"),
        }
        for what, rec in bad_meta.items():
            C("malformed metadata, " + what, assemble([stored(before=[rec]), stored()]),
              ["CORRUPT", OK])
        C("malformed metadata in a reference frame", assemble(
            [Frame(40, 30, 3, 0, payload=base.payload, before=[bad_meta["exif: empty"]]), f1]),
          ["CORRUPT", OK], pixels=[None, e1])
        C("unknown critical record", assemble([stored(before=[record(b"ABCD", b"")]), stored()]),
          ["UNSUPPORTED", OK])
        for t in (b"FHDR", b"QHDR", b"QIDX", b"QEND"):
            C("%s before FDAT" % t.decode(), assemble([stored(before=[record(t, b"")]), stored()]),
              ["CORRUPT", OK])
        C("no FDAT in the extent", assemble([stored(data_type=b"fdat"), stored()]), ["CORRUPT", OK])
        C("record at the frame offset not FHDR", assemble([stored(head_type=b"FHDX"), stored()]),
          ["CORRUPT", OK])
        C("bytes after FDAT", assemble([stored(after=b"\x00"), stored()]), ["CORRUPT", OK])
        C("record after FDAT", assemble([stored(after=record(b"text", b"\x01k")), stored()]),
          ["CORRUPT", OK])
        for what, hp in (("width not in shortest form", b"\x83\x00\x02\x03\x08\x00\x00\x00\x00"),
                         ("byte after the name", fhdr(3, 2, 3, 0) + b"\x00"),
                         ("other name", fhdr(3, 2, 3, 0, name=b"x")),
                         ("other flags", fhdr(3, 2, 3, 0, flags=1))):
            C("FHDR disagrees with the index: " + what, assemble([stored(fhdr_bytes=hp), stored()]),
              ["CORRUPT", OK])
        C("CRC mismatch in an ancillary record",
          assemble([stored(before=[record(b"abcd", b"xy")[:-1] + b"\x00"]), stored()]),
          ["CORRUPT", OK])
        C("record length past the extent", assemble([stored(before=[b"abcd\xff\x00\x00\x00"]),
                                                     stored()]), ["CORRUPT", OK])

        # -- header values (§3.7)
        big = Frame(1 << 24, 32, 3, 1, payload=b"\x20\x00")
        frames = [stored(), Frame(3, 2, 1, 0, payload=b"\x02" + bytes(6)),
                  Frame(3, 2, 3, 1, depth=16, payload=b"\x02\x00"),
                  Frame(3, 2, 3, 3, payload=b"\x02\x00"), Frame(3, 2, 3, 255, payload=b""),
                  stored(flags=0x80), stored(flags=0x02), stored(flags=1),
                  Frame(3, 2, 1, 1, dist=7, payload=b"\x02\x00"),
                  Frame(3, 2, 3, 1, dist=6, payload=b"\x02\x00"),
                  Frame(3, 2, 3, 3, dist=10, payload=b"\x02\x00"),
                  Frame(3, 2, 2, 0, depth=16, payload=b""), big]
        C("reserved header values", assemble(frames),
          [OK] + ["UNSUPPORTED"] * 6 + [OK] + ["UNSUPPORTED"] * 4 + ["LIMIT"])
        C("pixel limit", assemble([stored(), stored()]), ["LIMIT", "LIMIT"], max_pixels=5)
        C("pixel limit, exactly", assemble([stored()]), [OK], max_pixels=6)
        C("pixel limit after the decodability checks", assemble(
            [Frame(1 << 24, 32, 3, 3, payload=b"\x20"), Frame(1 << 24, 32, 3, 1, dist=1, flags=1,
                                                             payload=b"\x20")]),
          ["UNSUPPORTED", "LIMIT"])
        for what, f in (("width 0", Frame(0, 2, 3, 0)), ("height 0", Frame(3, 0, 3, 0)),
                        ("width above 2^24", Frame((1 << 24) + 1, 1, 3, 0)),
                        ("more than 2^29 pixels", Frame(1 << 24, 33, 3, 1)),
                        ("channels 0", Frame(3, 2, 0, 0)), ("channels 5", Frame(3, 2, 5, 0)),
                        ("bit depth 12", Frame(3, 2, 3, 0, depth=12)),
                        ("name not UTF-8", stored(name=b"a\xffb")),
                        ("name with NUL", stored(name=b"a\x00b")),
                        ("name with an overlong form", stored(name=b"\xe0\x80\xaf")),
                        ("name beyond U+10FFFF", stored(name=b"\xf4\x90\x80\x80"))):
            C("invalid header: " + what, assemble([stored(), f]), "CORRUPT")

        # -- names and the index (§3.8, §3.11)
        names = [n.encode() for n in ("", "dir/é1.png", "dir/é2.png", "", "日本/x", "日本/x", "")]
        files = [stored(name=n) for n in names]
        C("names, front-coded", assemble(files), [OK] * 7)
        C("names, shared 0", assemble(files, shared={i: 0 for i in range(7)}), [OK] * 7)
        C("names, shared inside a UTF-8 sequence", assemble(files, shared={2: 5}), [OK] * 7)
        C("names, shared above the previous name", assemble(files, shared={1: 1}), "CORRUPT")
        C("names, shared in entry 0", assemble([stored(name=b"ab")], shared={0: 1}), "CORRUPT")
        for what, n0, n1, sh, expect in (
                ("a sequence completed by the suffix", "日".encode(), b"\xe6\x97\xa5x", 2, [OK, OK]),
                ("a sequence cut by shared", "é".encode(), b"\xc3x", 1, "CORRUPT"),
                ("a continuation byte after an ASCII prefix", b"ab", b"ab\xa9", 2, "CORRUPT"),
                ("a continuation byte after a whole sequence", "日".encode(), "日".encode() + b"\xa5",
                 3, "CORRUPT"),
                ("NUL in the suffix", b"ab", b"ab\x00", 2, "CORRUPT")):
            C("front-coded name, " + what, assemble([stored(name=n0), stored(name=n1)],
                                                    shared={1: sh}), expect)
        # Names described by the front coding, not held by the file: 300
        # entries of 65,535-byte names in a file of some 80 KB (§13).
        C("names longer than the file", name_amplification(300), ["CORRUPT"] * 300)
        data = name_amplification(20000)
        t = time.time()
        qd.QohiFile(data)
        if time.time() - t > 2:
            self.fail("opening %d entries of 65,535-byte names took %.1f s" % (20000, time.time() - t))
        C("no frames", assemble([]), [])
        C("no frames, data before the index", assemble([], gap=b"\x00"), "CORRUPT")
        C("data before the first frame", assemble([stored()], gap=record(b"text", b"\x01k")),
          "CORRUPT")
        C("bytes after the index entries", assemble([stored()], index_extra=b"\x00"), "CORRUPT")
        C("frame count larger than the entries", assemble([stored()], count=2), "CORRUPT")
        e0 = b"\x1c\x00" + fhdr(3, 2, 3, 0)
        for what, entry in (("offset_delta not in shortest form", b"\x9c\x00\x00" + fhdr(3, 2, 3, 0)),
                            ("offset_delta above the file size", b"\xff\xff\x03\x00" + fhdr(3, 2, 3, 0)),
                            ("first offset not 28", b"\x1d\x00" + fhdr(3, 2, 3, 0)),
                            ("suffix cut off", e0[:-1] + b"\x05")):
            C("index entry: " + what, assemble([stored()], entries={0: entry}), "CORRUPT")
        C("index entry: second offset too close", assemble(
            [stored(), stored()], entries={1: b"\x0b\x00" + fhdr(3, 2, 3, 0)}), "CORRUPT")
        C("index entry disagrees with FHDR", assemble([stored(), stored()], entries={
            1: varint(len(stored().extent())) + b"\x00" + fhdr(3, 2, 3, 0, flags=1)}), [OK, "CORRUPT"])

        # -- the file header and trailer (§3.6, §3.12)
        for what, q, expect in (("version 2", struct.pack("<HHHH", 2, 0, 0, 0), "UNSUPPORTED"),
                                ("version 2, short payload", struct.pack("<H", 2), "UNSUPPORTED"),
                                ("payload of 1 byte", b"\x01", "CORRUPT"),
                                ("payload of 10 bytes", struct.pack("<HHHHH", 1, 0, 0, 0, 0), "CORRUPT"),
                                ("flags", struct.pack("<HHHH", 1, 1, 0, 0), "UNSUPPORTED"),
                                ("reserved", struct.pack("<HHHH", 1, 0, 0, 1), "CORRUPT")):
            C("QHDR " + what, assemble([stored()], qhdr=q), expect)
        good = assemble([stored()])
        C("first record not QHDR", good[:8] + record(b"QHDX", good[16:24]) + good[28:], "CORRUPT")
        C("empty input", b"", "NOT_QOHI")
        # A file cut right after stored pixels that happen to hold a QEND
        # record: its last 24 bytes are a valid trailer, so the index checks
        # apply (§3.12 steps 3 - 4): CORRUPT, not TRUNCATED.
        qend = record(b"QEND", struct.pack("<QI", 28, 0))
        data = assemble([Frame(4, 3, 3, 0, payload=fdat(3, [qend + bytes(12)]))])
        C("stored pixels holding a QEND record", data, [OK])
        C("cut after stored pixels holding a QEND record", data[:data.index(qend) + 24], "CORRUPT")
        C("not the signature", b"\x89PNG\r\n\x1a\n" + good[8:], "NOT_QOHI")
        C("index offset below 28", good[:-24] + record(b"QEND", struct.pack("<QI", 27, 1)), "CORRUPT")
        C("index offset too high", good[:-24] + record(b"QEND", struct.pack(
            "<QI", len(good) - 35, 1)), "CORRUPT")
        C("index offset not at the index", good[:-24] + record(b"QEND", struct.pack("<QI", 28, 1)),
          "CORRUPT")
        index_offset = struct.unpack_from("<Q", good, len(good) - 16)[0]
        C("trailer frame count differs", good[:-24] + record(b"QEND", struct.pack(
            "<QI", index_offset, 2)), "CORRUPT")

        # -- the band layout (§4.1, §4.2, §5.10)
        band = self.qohi_band(tiny)
        for what, payload in (("empty payload", b""), ("band_rows 0", b"\x00" + band),
                              ("band_rows above the height", b"\x03" + band),
                              ("band_rows not in shortest form", b"\x82\x00" + band),
                              ("band sizes cut off", b"\x01"),
                              ("band size not in shortest form", b"\x01\x81\x00" + band + band),
                              ("band size above the payload", b"\x01\x7f" + band + band),
                              ("last band empty", b"\x01" + varint(len(band)) + band),
                              ("byte after the last band", b"\x02" + band + b"\x00"),
                              ("band cut short", b"\x02" + band[:-1])):
            C("band layout: " + what, assemble([Frame(3, 2, 3, 1, payload=payload), stored()]),
              ["CORRUPT", OK])
        C("two QOHI bands", assemble([Frame(3, 2, 3, 1, payload=b"\x01" + varint(len(
            self.qohi_band((3, 1, 3, tiny[3][:9])))) + self.qohi_band((3, 1, 3, tiny[3][:9]))
            + self.qohi_band((3, 1, 3, tiny[3][9:])))]), [OK], pixels=[tiny[3]])
        for what, payload in (("stored band too long", b"\x02" + tiny[3] + b"\x00"),
                              ("stored band too short", b"\x02" + tiny[3][:-1]),
                              ("stored bands of the wrong sizes", b"\x01\x08" + tiny[3])):
            C(what, assemble([Frame(3, 2, 3, 0, payload=payload), stored()]), ["CORRUPT", OK])

    # ------------------------------------------------------------------ 3b. DICI

    def dici(self):
        """DICI frames (§4.4): made by qohienc, forced and chosen; assembled
        valid bands that qohienc does not make; a damaged band for each
        DICI row of §9.3; DICI frames and references (§3.7 check 9)."""
        self.dici_encoded()
        self.dici_assembled()
        want = ["DICI rank", "DICI run", "DICI copy", "DICI long class",
                "DICI copy longer than a row", "DICI frames of several bands"]
        missing = [k for k in want if not qd.STATS[k]]
        if missing:
            self.fail("DICI: never decoded: %s" % ", ".join(missing))

    def dici_encoded(self):
        images = {
            "few-rgb": img_few(50, 30, 3, 60), "few-rgba": img_few(31, 29, 4, 61),
            "screen-rgb": img_screen(120, 48, 3, 62), "screen-rgba": img_screen(77, 35, 4, 63),
            "palette-rgb": img_palette(64, 40, 3, 64), "palette-rgba": img_palette(45, 33, 4, 65),
            "alpha": img_alpha(45, 41, 66), "photo": img_photo(40, 30, 3, 67),
            "1x1": img_few(1, 1, 3, 68), "1x1-rgba": img_few(1, 1, 4, 69),
            "1x7": img_few(1, 7, 4, 70), "7x1": img_few(7, 1, 3, 71),
            "2x3": img_noise(2, 3, 3, 72), "3x2-rgba": img_few(3, 2, 4, 73),
            "33x17": img_palette(33, 17, 3, 74),
            # bands of about 2^17 pixels at effort 0 (§10): 3 and 2 bands
            "600x500": img_screen(600, 500, 3, 75), "520x300-rgba": img_few(520, 300, 4, 76),
        }
        auto, auto_bands = 0, 0                  # DICI frames qohienc chose, of several bands
        for name, img in images.items():
            src = self.path("dici", name + ".png")
            with open(src, "wb") as f:
                f.write(png_bytes(img))
            large = img[0] * img[1] > 1 << 17
            for opts in (("--method", "dici"), ("--method", "dici", "--effort", "1"), ()):
                if large and "1" in opts:
                    continue
                tag = "dici-" + name + "".join(opts).replace("--", "-")
                data = self.encode(src, self.path("enc", tag + ".qohi"), *opts)
                self.check_encoded(tag, data, {name + ".png": img})
                frames = read_frames(data)
                h, payload = frames[0][0], frames[0][3]
                several = qd.read_varint(payload, 0, h.height)[0] < h.height
                if opts and h.method != 2:
                    self.fail("%s: qohienc --method dici wrote method %d" % (tag, h.method))
                if large and h.method == 2 and not several:
                    self.fail("%s: a DICI frame of one band; expected several" % tag)
                if not opts and h.method == 2:
                    auto += 1
                    auto_bands += several
        self.counts["DICI frames qohienc chose (--method auto)"] += auto
        if auto < 3 or not auto_bands:
            self.fail("DICI: --method auto chose DICI for %d images (%d of several bands); "
                      "expected 3 or more, one of several bands" % (auto, auto_bands))
        data_dir = os.path.join(HERE, "..", "..", "tests", "data")
        for fn in ("icon-rgba.png", "trash-rgb.png", "palette-trns.png", "grey-alpha.png"):
            src = os.path.join(data_dir, fn)
            if os.path.exists(src):
                data = self.encode(src, self.path("enc", fn + "-dici.qohi"), "--method", "dici")
                self.check_encoded(fn + "-dici", data, {})
        # A folder: intra frames DICI, delta frames QOHI over DICI references
        base = img_screen(48, 30, 3, 77)
        members = {"a.png": base, "b.png": variant(base, 78, "dots"),
                   "c.png": variant(base, 79, "box"), "d.png": img_few(20, 10, 4, 80)}
        for name, img in members.items():
            with open(self.path("dici", "set", name), "wb") as f:
                f.write(png_bytes(img))
        data = self.encode(os.path.join(self.work, "dici", "set"), self.path("enc", "dici-set.qohi"),
                           "--method", "dici", "--mode", "prior")
        self.check_encoded("dici-set", data, members, expect_deltas=True)
        headers = [f.header for f in qd.QohiFile(data).frames]
        if not any(h.reference is not None and headers[h.reference].method == 2 for h in headers):
            self.fail("dici-set: no delta frame over a DICI frame")

    def dici_assembled(self):
        C = self.compare
        rng = random.Random(81)
        pal = [(10, 20, 30, 255), (200, 0, 7, 128), (1, 2, 3, 0), (255, 255, 255, 255)]
        tiny = img_few(3, 2, 3, 82)
        stored = Frame(3, 2, 3, 0, payload=fdat(2, [tiny[3]]))

        def band(ops, c=3, palette=pal, pad=0, extra=b"", cut=0, keep=None, **kw):
            data = dici_band(c, palette, ops, rng, **kw).tobytes(pad)
            return data[:len(data) - cut if keep is None else keep] + extra

        def ok(what, ops, c=3, palette=pal, w=5, h=3, **kw):
            C("DICI: " + what, assemble([Frame(w, h, c, 2, payload=fdat(h, [band(
                ops, c, palette, **kw)]))]), [OK], pixels=[dici_pixels(w, c, palette, ops)])

        def bad(what, why, ops, c=3, palette=pal, w=5, h=3, **kw):
            C("DICI: " + what, assemble([Frame(w, h, c, 2, payload=fdat(h, [band(
                ops, c, palette, **kw)])), stored]), ["CORRUPT", OK], why=why)
            self.counts["DICI bands broken by hand"] += 1

        # -- valid bands qohienc does not write (5 x 3 pixels unless said)
        ranks = [("rank", 1 + (k * 7) % 4) for k in range(15)]
        for c in (3, 4):
            ok("ranks only, tables 1 and 2 empty (%d channels)" % c, ranks, c)
            ok("a run of palette[0] first (%d channels)" % c, [("run", 15)], c)
            ok("copy at p = width, longer than a row, to the end (%d channels)" % c,
               [("rank", 2), ("rank", 3), ("run", 3), ("copy", 10)], c)
            ok("every op after every op (%d channels)" % c,
               [("rank", 1), ("rank", 2), ("run", 3), ("copy", 1), ("rank", 4), ("copy", 4),
                ("run", 1), ("copy", 3)], c)
        ok("duplicate and unsorted palette colours", ranks, palette=[pal[3], pal[3], pal[0], pal[1]])
        ok("palette as large as the band", [("rank", 1 + (k * 4) % 15) for k in range(15)],
           palette=[(k, 2 * k, 255 - k, 255) for k in range(15)])
        ok("one colour (e = 0), a zero-bit op", [("run", 15)], palette=[pal[1]])
        ok("one colour, a rank then a run", [("rank", 1), ("run", 14)], c=4, palette=[pal[2]])
        ok("two colours (e = 1)", [("rank", 2), ("run", 4), ("rank", 1), ("copy", 9)],
           palette=pal[:2])
        ok("symbols no op uses", [("rank", 2), ("run", 4), ("copy", 9), ("rank", 1)],
           unused=({40, 81, 122}, {0, 41, 82}, {5, 60, 100}))
        big = [(k, 255 - k, k * 3 % 256, 255 - 2 * k) for k in range(20)]
        ok("long classes: ranks, a run, a copy (7 x 9)",
           [("rank", 20), ("rank", 17), ("run", 30), ("copy", 31)], c=4, palette=big, w=7, h=9)
        ok("codes of 1 to 12 bits (13 x 1)", [("rank", k) for k in range(1, 14)], palette=big[:13],
           w=13, h=1, lengths=[dict([(k, k + 1) for k in range(12)] + [(12, 12)]), {}, {}])
        # several bands, one of a single row, from an image
        img = img_few(6, 7, 4, 83)
        colours = [tuple(img[3][i:i + 4]) for i in range(0, len(img[3]), 4)]
        bands = []
        for y in range(0, 7, 3):
            palette, ops = dici_ops(6, colours[6 * y:6 * min(7, y + 3)])
            bands.append(band(ops, 4, palette))
        C("DICI: bands of 3, 3 and 1 rows", assemble([Frame(6, 7, 4, 2, payload=fdat(3, bands))]),
          [OK], pixels=[img[3]])
        # a QOHI delta frame over a DICI frame (§4.5: whatever the method)
        src = img_screen(24, 10, 3, 84)
        colours = [tuple(src[3][i:i + 3]) + (255,) for i in range(0, len(src[3]), 3)]
        palette, ops = dici_ops(24, colours)
        dici_frame = Frame(24, 10, 3, 2, payload=fdat(10, [band(ops, 3, palette)]))
        moved = variant(src, 85, "dots")
        delta = self.delta_band(src, moved)
        if delta is not None:
            C("DICI: a QOHI delta frame over a DICI frame", assemble([
                dici_frame, Frame(24, 10, 3, 1, dist=1, payload=fdat(10, [delta]))]),
              [OK, OK], pixels=[src[3], moved[3]])
        # §3.7 check 9: DICI frames never have a reference
        for what, ref in (("a DICI frame", dici_frame), ("a stored frame", Frame(
                24, 10, 3, 0, payload=fdat(10, [src[3]])))):
            C("DICI frame with a reference to " + what, assemble([
                ref, Frame(24, 10, 3, 2, dist=1, payload=dici_frame.payload)]), "CORRUPT")

        # -- the DICI rows of §9.3, one by one
        run_copy = [("rank", 2), ("run", 4), ("copy", 9), ("rank", 1)]
        bad("palette size class 30", "palette size class", run_copy, size=(30, 0))
        bad("palette size class 31", "palette size class", run_copy, size=(31, 5))
        bad("palette larger than the band", "larger than the band", ranks,
            palette=[(k, k, k, 255) for k in range(16)])
        bad("palette past the band's end", "palette runs past", run_copy, keep=12)
        bad("palette past the band's end, one colour", "palette runs past", [("run", 15)],
            palette=pal[:1], keep=3)
        bad("2^20 colours in a short band of 2^20 pixels", "palette runs past", [],
            palette=[(0, 0, 0, 255)], size=(20, (1 << 19) - 1), w=1024, h=1024, extra=b"\0\0")
        bad("every table empty, and the code-length code", "empty table", run_copy,
            lengths=[{}, {}, {}])
        bad("table 0 empty", "empty table (context 0)", run_copy,
            lengths=[{}, complete_lengths({0, 1}, rng), complete_lengths({82, 41}, rng)])
        bad("table 1 empty, an op after a run", "empty table (context 1)", run_copy, empty={1})
        bad("table 2 empty, an op after a copy", "empty table (context 2)", run_copy, empty={2})
        bad("rank beyond the palette", "beyond the palette", [("rank", 1), ("rank", 5)])
        bad("rank beyond the palette, a long class", "beyond the palette", [("rank", 3000)])
        bad("run past the band", "run past", [("rank", 1), ("run", 15)])
        bad("run of 2^29 pixels", "run past", [("run", 1 << 29)], extra=bytes(4))
        bad("copy past the band", "copy past", [("run", 5), ("copy", 11)])
        bad("copy from above at p = 0", "first row", [("copy", 1), ("run", 14)])
        bad("copy from above at p = width - 1", "first row", [("run", 4), ("copy", 11)])
        bad("copy at p = 0 and past the band: the length first (§7.5a)", "copy past",
            [("copy", 16)])
        bad("a zero byte after the last pixel", "unused bytes", run_copy, extra=b"\0")
        bad("two bytes after the last pixel", "unused bytes", run_copy, extra=b"\1\0")
        for ops in (run_copy, ranks):
            bits = len(dici_band(3, pal, ops, random.Random(1)).bits)
            if bits % 8:
                bad("non-zero padding (%d bits)" % (8 - bits % 8), "padding", ops, pad=1)
                break
        bad("last byte cut off", "ends before its last pixel", run_copy, cut=1)
        bad("op stream cut off", "ends before its last pixel", ranks, cut=3)
        C("DICI: a band of 0 bytes (band 0 of 2)", assemble([Frame(5, 3, 3, 2, payload=fdat(
            2, [b"", band([("run", 5)], palette=pal[:1])], [0])), stored]), ["CORRUPT", OK],
          why="band 0: band data ends before its last pixel")
        C("DICI: band 1 of 3 broken", assemble([Frame(5, 6, 3, 2, payload=fdat(2, [
            band([("run", 10)]), band([("rank", 1), ("run", 9)], extra=b"\0"),
            band([("run", 10)])])), stored]), ["CORRUPT", OK], why="band 1: unused bytes")


    def small_files(self):
        """Three small valid files: one RGBA frame with contexts, a folder
        of four frames with delta frames and metadata, one DICI frame."""
        if getattr(self, "_small", None):
            return self._small
        img = img_screen(14, 9, 4, 50)
        src = self.path("small", "one.png")
        with open(src, "wb") as f:
            f.write(png_bytes(img))
        one = self.encode(src, self.path("small", "one.qohi"), "--method", "qohi", "--effort", "1")
        base = img_screen(12, 8, 3, 51)
        members = {"a.png": (base, [(b"tEXt", b"k\x00v"), (b"eXIf", b"II*\x00")]),
                   "b/é.png": (variant(base, 52, "dots"), ()),
                   "b/f.png": (variant(base, 53, "shift"), ()),
                   "c.png": (img_few(5, 3, 4, 54), ())}
        for name, (im, chunks) in members.items():
            with open(self.path("small", "set", name), "wb") as f:
                f.write(png_bytes(im, chunks))
        folder = self.encode(os.path.join(self.work, "small", "set"),
                             self.path("small", "set.qohi"), "--mode", "prior", "--effort", "1")
        src = self.path("small", "dici.png")
        with open(src, "wb") as f:
            f.write(png_bytes(img_screen(13, 10, 4, 55)))
        dici = self.encode(src, self.path("small", "dici.qohi"), "--method", "dici")
        self._small = {"one": one, "set": folder, "dici": dici}
        return self._small

    @staticmethod
    def records_of(data):
        """(offset, length) of every record, reading from offset 8."""
        out, pos = [], 8
        while pos + 12 <= len(data):
            n = struct.unpack_from("<I", data, pos + 4)[0]
            out.append((pos, n))
            pos += 12 + n
        return out

    @staticmethod
    def fix_crc(data, pos, n):
        d = bytearray(data)
        d[pos + 8 + n:pos + 12 + n] = struct.pack("<I", zlib.crc32(bytes(d[pos:pos + 4]) + bytes(d[pos + 8:pos + 8 + n])))
        return bytes(d)

    @staticmethod
    def entries_fail(data):
        # Whether reading the file's entries or frame attributes (a packed
        # folder's folders, its files' attr records) finds the damage.
        try:
            f = qd.QohiFile(data)
            for j in range(len(f.entries)):
                f.read_entry(j)
            for i in range(len(f.frames)):
                f.frame_attributes(i)
        except qd.QohiError:
            return True
        return False

    def damaged(self):
        r = random.Random(99)
        for name, data in self.small_files().items():
            py = self.compare(name, data, [OK] * len(qd.QohiFile(data).frames))
            # Every non-empty prefix is TRUNCATED (§9.2); bytes appended too (§3.12).
            for n in range(len(data)):
                self.compare("%s cut to %d bytes" % (name, n), data[:n], "TRUNCATED" if n else "NOT_QOHI")
            for extra in (b"\x00", bytes(r.randrange(256) for _ in range(24)), data[-12:]):
                self.compare("%s with %d bytes appended" % (name, len(extra)), data + extra, "TRUNCATED")
            # A copy of the trailer appended: the last 24 bytes are a valid
            # trailer whose index does not end right before it (§3.12 step 4).
            self.compare("%s with its trailer repeated" % name, data + data[-24:], "CORRUPT")
            # Every byte flipped: always detected (§13: an accepted file has
            # been checked all through).
            for pos in range(len(data)):
                d = bytearray(data)
                d[pos] ^= r.randrange(1, 256)
                res = self.compare("%s byte %d flipped" % (name, pos), bytes(d))
                self.counts["flipped bytes"] += 1
                if not isinstance(res, str) and all(c == OK for c, _ in res) and \
                        not self.entries_fail(bytes(d)):
                    self.fail("%s byte %d flipped: not detected" % (name, pos))
            # Bytes changed inside a payload and the CRC recomputed: reaches the
            # header, index, band layout, metadata and band checks.
            for pos, n in self.records_of(data):
                if n == 0:
                    continue
                is_band = data[pos:pos + 4] == b"FDAT"
                tries = [(k, 1 << b) for k in range(n) for b in range(8)] if is_band else \
                    [(k, v) for k in range(n) for v in (1, 0x80, r.randrange(1, 256))]
                for k, v in tries:
                    d = bytearray(data)
                    d[pos + 8 + k] ^= v
                    self.counts["payload changes, CRC recomputed"] += 1
                    self.compare("%s %s payload byte %d ^ %d, CRC fixed" % (
                        name, data[pos:pos + 4].decode(), k, v), self.fix_crc(d, pos, n))
                if is_band:                      # random spans
                    for _ in range(40):
                        d = bytearray(data)
                        a = r.randrange(n)
                        b = min(n, a + r.randrange(1, 6))
                        d[pos + 8 + a:pos + 8 + b] = bytes(r.randrange(256) for _ in range(b - a))
                        self.compare("%s FDAT bytes %d-%d random, CRC fixed" % (name, a, b),
                                     self.fix_crc(d, pos, n))

    # ------------------------------------------------------------------ 4c. entries

    def compare_entries(self, name, data, expect=None):
        """Frames as compare() does, then entries and frame attributes:
        qohi_decode's must equal the library's (and `expect`, a pair
        (entries, attributes) as entry_results gives, when given)."""
        self.counts["files with entries compared"] += 1
        self.compare(name, data)
        py = py_entry_results(data)
        if expect is not None and py != expect:
            self.fail("%s: entries: qohi_decode gives %s, expected %s" % (name, summarize(py), summarize(expect)))
        if self.lib is None:
            return py
        frames = 0 if isinstance(py, str) else len(py[1])
        ref = self.lib.entry_results(data, frames)
        if ref != py:
            self.fail("%s: entries: library gives %s, qohi_decode %s" % (name, summarize(ref), summarize(py)))
        return py

    def entries(self):
        """Files with entries written by libqohi (qohi_writer_add_entry):
        random entries of every kind and size, content over 4 MiB split into
        several EDAT records, interleaved with frames with and without attr
        records; each read back as written by qohi_decode and the library.
        Then every cut, flipped byte and payload change (CRC recomputed) of
        a small one: qohi_decode and the library give the same classes."""
        if self.lib is None:
            print("entries: skipped (no --lib: the files are written by the library)")
            return
        rng = random.Random(self.args.seed + 7)
        names = ["a", "docs/readme.txt", "caf\xc3\xa9/\xe2\x82\xac", "x/\xf0\x9f\x98\x80", "t\x01\x7f",
                 "deep/" * 30 + "end"]

        def attrs():
            r = rng.random()
            if r < 0.3:
                return None
            if r < 0.4:
                return (4095, -(1 << 63), 999999999)
            return (rng.randrange(4096), rng.randrange(-(1 << 40), 1 << 40), rng.randrange(10 ** 9))

        def content(kind, size):
            if kind == 2:
                return b""
            if kind == 1:
                return bytes(rng.randrange(1, 256) for _ in range(max(1, min(size, 65535))))
            return bytes(rng.getrandbits(8) for _ in range(size)) if size < 4096 else \
                (bytes(range(256)) * (size // 256 + 1))[:size]

        small = None
        for t in range(6):
            items, want_entries, want_attrs = [], [], []
            for k in range(rng.randrange(1, 9)):
                kind = rng.choice((0, 0, 1, 2))
                size = rng.choice((0, 1, 2, 100, rng.randrange(5000), 65535 if kind == 1 else 70000))
                if t == 5 and k == 0:
                    kind, size = 0, 9 * (1 << 20) + 17          # three EDAT records of at most 4 MiB
                data = content(kind, size)
                if kind == 1 and not data:
                    data = b"target"
                name = ("%d/" % k).encode() + rng.choice(names).encode("latin-1").decode("utf-8").encode()
                a = attrs()
                items.append(("entry", kind, name, data, a))
                want_entries.append(((name, kind, 0, len(data), a), OK, data))
                if rng.random() < 0.5:
                    w, h, c = rng.randrange(1, 9), rng.randrange(1, 6), rng.choice((3, 4))
                    px = bytes(rng.getrandbits(8) for _ in range(w * h * c))
                    fa = attrs()
                    items.append(("frame", w, h, c, px, ("f%d.png" % k).encode(), fa))
                    want_attrs.append((OK, fa))
            data = self.lib.write(items)
            if t == 5:
                edats = sum(1 for pos, n in self.records_of(data) if data[pos:pos + 4] == b"EDAT" and n == 4 << 20)
                if edats < 2:
                    self.fail("entries: the 9 MiB entry is not split into EDAT records of 4 MiB (%d)" % edats)
            self.compare_entries("written file %d with entries" % t, data, (want_entries, want_attrs))
            if t == 1 or (small is None and len(data) < 3000 and len(want_entries) > 2):
                small = data
        # Damage a small file: cuts, flipped bytes, payload changes with the CRC fixed.
        small = small or self.lib.write([("entry", 0, b"e", b"abc", (0o644, 5, 6)),
                                         ("frame", 2, 2, 3, bytes(12), b"f", (0o600, -5, 0)),
                                         ("entry", 1, b"l", b"f", None), ("entry", 2, b"d", b"", None)])
        for n in range(len(small)):
            self.compare("entries file cut to %d bytes" % n, small[:n], "TRUNCATED" if n else "NOT_QOHI")
        r = random.Random(5)
        for pos in range(len(small)):
            d = bytearray(small)
            d[pos] ^= r.randrange(1, 256)
            self.counts["flipped bytes (entries)"] += 1
            res = self.compare_entries("entries file byte %d flipped" % pos, bytes(d))
            if not isinstance(res, str) and all(c == OK for _, c, _ in res[0]) and \
                    all(c == OK for c, _ in res[1]):
                fr = py_results(bytes(d), qd.DEFAULT_MAX_PIXELS)[0]
                if not isinstance(fr, str) and all(c == OK for c, _ in fr):
                    self.fail("entries file byte %d flipped: not detected" % pos)
        for pos, n in self.records_of(small):
            if small[pos:pos + 4] not in (b"EHDR", b"EDAT", b"QIDX", b"attr") or n == 0:
                continue
            for k in range(n):
                for v in (1, 0x80, r.randrange(1, 256)):
                    d = bytearray(small)
                    d[pos + 8 + k] ^= v
                    self.counts["payload changes in entries, CRC recomputed"] += 1
                    self.compare_entries("entries file %s payload byte %d ^ %d, CRC fixed" % (
                        small[pos:pos + 4].decode(), k, v), self.fix_crc(d, pos, n))

    # ------------------------------------------------------------------ 4b. random bands

    def random_bands(self):
        """Random op streams of every kind, written with random tables and
        groupings: valid ones must decode (as the library does); broken
        ones must be CORRUPT (and the library must agree)."""
        rng = random.Random(self.args.seed)
        for t in range(self.args.random):
            W, rows, C = rng.choice((1, 2, 3, 5, 8, 13)), rng.randrange(1, 7), rng.choice((3, 4))
            delta = rng.random() < 0.5
            invalid = rng.random() < 0.3
            nb = rng.randrange(1, 3)
            H = rows * nb - rng.randrange(rows) if nb > 1 else rows
            bands = []
            for b in range(nb):
                r = min(rows, H - b * rows)
                bands.append(random_band(rng, W, r, C, delta, invalid and b == nb - 1))
            ref = bytes(rng.choice((0, 255, rng.randrange(256))) for _ in range(W * H * C))
            frames = [Frame(W, H, C, 0, payload=fdat(H, [ref]))] if delta else []
            frames.append(Frame(W, H, C, 1, dist=1 if delta else 0, payload=fdat(rows, bands)))
            expect = [OK] * (len(frames) - 1) + ["CORRUPT" if invalid else OK]
            self.counts["random bands"] += nb
            self.compare("random band %d (%dx%d, %d channels, %s%s)" % (
                t, W, H, C, "delta" if delta else "intra", ", broken" if invalid else ""),
                assemble(frames), expect)
        for t in range(self.args.random // 2):           # DICI bands (§4.4)
            W, rows, C = rng.choice((1, 2, 3, 5, 8, 13)), rng.randrange(1, 7), rng.choice((3, 4))
            invalid = rng.random() < 0.3
            nb = rng.randrange(1, 3)
            H = rows * nb - rng.randrange(rows) if nb > 1 else rows
            bands, samples = [], b""
            for b in range(nb):
                band, px = random_dici_band(rng, W, min(rows, H - b * rows), C, invalid and b == nb - 1)
                bands.append(band)
                samples += px or b""
            self.counts["random DICI bands"] += nb
            self.compare("random DICI band %d (%dx%d, %d channels%s)" % (
                t, W, H, C, ", broken" if invalid else ""),
                assemble([Frame(W, H, C, 2, payload=fdat(rows, bands))]),
                ["CORRUPT" if invalid else OK], pixels=None if invalid else [samples])

    # ------------------------------------------------------------------ 5. command line

    def cli(self):
        data = self.small_files()["set"]
        py, headers, _ = py_results(data, qd.DEFAULT_MAX_PIXELS)
        tool = [sys.executable, os.path.join(HERE, "qohi_decode.py")]

        def run(name, content, *extra):
            path = self.path("cli", name + ".qohi")
            with open(path, "wb") as f:
                f.write(content)
            out = os.path.join(self.work, "cli", name)
            r = self.run(tool + [path, out] + list(extra))
            return r.returncode, r.stderr.decode("utf-8"), sorted(os.listdir(out)) if os.path.isdir(out) else [], out

        rc, err, files_written, out = run("valid", data)
        want = ["%04d.png" % i for i in range(len(py))]
        if rc != 0 or err or files_written != want:
            self.fail("CLI on a valid file: status %d, %r, %r" % (rc, err, files_written))
        for i, (cls, samples) in enumerate(py):
            h = headers[i]
            if read_png(os.path.join(out, "%04d.png" % i)) != (h.width, h.height, h.channels, samples):
                self.fail("CLI: %04d.png differs" % i)
        # Frame 1 damaged: one error line, the other frames written.
        pos, n = [(p, n) for p, n in self.records_of(data) if data[p:p + 4] == b"FDAT"][1]
        d = bytearray(data)
        d[pos + 8] ^= 0x40
        rc, err, files_written, _ = run("frame1", bytes(d))
        lines = err.splitlines()
        if rc != 1 or len(lines) < 1 or not re.fullmatch(r"error: frame 1: CORRUPT: .+", lines[0]) or \
                "0001.png" in files_written or "0000.png" not in files_written:
            self.fail("CLI on a damaged frame: status %d, %r, %r" % (rc, err, files_written))
        for name, content, cls in (("empty", b"", "NOT_QOHI"), ("cut", data[:-1], "TRUNCATED"),
                                   ("qhdr", assemble([], qhdr=struct.pack("<HHHH", 3, 0, 0, 0)),
                                    "UNSUPPORTED")):
            rc, err, files_written, _ = run(name, content)
            if rc != 1 or not re.fullmatch(r"error: %s: .+\n" % cls, err) or files_written:
                self.fail("CLI on %s: status %d, %r, %r" % (name, rc, err, files_written))
        rc, err, files_written, _ = run("limit", data, "--max-pixels", "15")
        over = [i for i, h in enumerate(headers) if h.width * h.height > 15]
        got = [re.fullmatch(r"error: frame (\d+): LIMIT: .+", line) for line in err.splitlines()]
        if rc != 1 or not all(got) or [int(m.group(1)) for m in got] != over or \
                files_written != ["%04d.png" % i for i in range(len(headers)) if i not in over]:
            self.fail("CLI with --max-pixels: status %d, %r, %r" % (rc, err, files_written))
        rc, err, files_written, _ = run("none", assemble([]))
        if rc != 0 or err or files_written:
            self.fail("CLI on a file without frames: status %d, %r" % (rc, err))
        r = self.run(tool + ["only-one-argument"])
        if r.returncode != 2:
            self.fail("CLI usage error: status %d" % r.returncode)
        if self.lib is None:
            return
        # --entries: entry-NNNN.bin for each entry that reads, entries.json.
        data = self.lib.write([("entry", 0, b"a.txt", b"hello", (0o640, -3, 7)),
                               ("frame", 2, 1, 3, bytes(6), b"f.png", (0o600, 9, 0)),
                               ("entry", 1, b"l", b"a.txt", None), ("entry", 2, b"d", b"", None)])
        rc, err, files_written, out = run("entries", data, "--entries")
        want = {"entries": [
            {"name": "a.txt", "kind": 0, "method": 0, "size": 5,
             "attributes": {"mode": 0o640, "mtime": -3, "mtime_nsec": 7}, "content": "entry-0000.bin"},
            {"name": "l", "kind": 1, "method": 0, "size": 5, "attributes": None, "content": "entry-0001.bin"},
            {"name": "d", "kind": 2, "method": 0, "size": 0, "attributes": None, "content": "entry-0002.bin"}],
            "frames": [{"attributes": {"mode": 0o600, "mtime": 9, "mtime_nsec": 0}}]}
        listing = json.load(open(os.path.join(out, "entries.json"), encoding="utf-8")) \
            if "entries.json" in files_written else None
        contents = [open(os.path.join(out, "entry-%04d.bin" % j), "rb").read()
                    if "entry-%04d.bin" % j in files_written else None for j in range(3)]
        if rc != 0 or err or listing != want or contents != [b"hello", b"a.txt", b""]:
            self.fail("CLI --entries: status %d, %r, %r, %r" % (rc, err, listing, contents))
        pos, n = [(p, n) for p, n in self.records_of(data) if data[p:p + 4] == b"EDAT"][1]
        d = bytearray(data)
        d[pos + 8] ^= 0x40
        rc, err, files_written, out = run("entries-bad", bytes(d), "--entries")
        if rc != 1 or not re.fullmatch(r"error: entry 1: CORRUPT: .+\n", err) or "entry-0001.bin" in files_written \
                or "entry-0000.bin" not in files_written:
            self.fail("CLI --entries on a damaged entry: status %d, %r, %r" % (rc, err, files_written))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--qohienc", required=True)
    ap.add_argument("--qohidec", required=True)
    ap.add_argument("--lib", help="libqohi shared library, for the class comparisons")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("--random", type=int, default=400, metavar="N",
                    help="number of random frames of random bands (default 400)")
    ap.add_argument("--seed", type=int, default=2024, help="seed of the random bands")
    args = ap.parse_args()
    suite = Suite(args)
    qd.STATS = collections.Counter()
    start = time.time()
    try:
        for part in (suite.appendix, suite.encoded, suite.assembled, suite.dici, suite.damaged,
                     suite.entries, suite.random_bands, suite.cli):
            t = time.time()
            part()
            print("%-10s %5.1f s" % (part.__name__, time.time() - t), flush=True)
    finally:
        if args.keep:
            print("work folder:", suite.work)
        else:
            shutil.rmtree(suite.work, ignore_errors=True)
    print("coverage (ops and bands decoded by qohi_decode):")
    for k, v in sorted(qd.STATS.items()):
        print("  %-32s %d" % (k, v))
    for k, v in sorted(suite.counts.items()):
        print("%-40s %d" % (k, v))
    if not args.lib:
        print("note: no --lib, library comparisons skipped")
    for what in suite.lib_disagreements:
        print("library differs from the spec:", what)
    print("%d failures, %.1f s" % (len(suite.failures), time.time() - start))
    return 1 if suite.failures else 0


if __name__ == "__main__":
    sys.exit(main())
