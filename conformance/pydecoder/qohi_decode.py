#!/usr/bin/env python3
"""Independent QOHI decoder, written from spec/qohi.md alone.

    python3 qohi_decode.py INPUT.qohi OUTDIR [--max-pixels N] [--entries]

Opens INPUT.qohi as the specification's random-access reader does (§3.12,
§3.11, §7.2), decodes every frame in index order (§3.13, §7.3) and writes
OUTDIR/NNNN.png (NNNN the 0-based frame index) for each frame that decodes,
as 8-bit RGB or RGBA like the frame. With --entries it also reads every
entry (§3.15, §7.3a) into OUTDIR/entry-NNNN.bin and every frame's attr
record, and lists them in OUTDIR/entries.json. Errors go to standard error as

    error: CLASS: message                  the file cannot be opened
    error: frame N: CLASS: message         frame N fails (the others go on)
    error: entry N: CLASS: message         entry N's content cannot be read (--entries)
    error: frame N attributes: CLASS: ...  frame N's attr record is malformed (--entries)

with CLASS one of NOT_QOHI, TRUNCATED, CORRUPT, UNSUPPORTED, LIMIT (§9.2).
Exit status: 0 if everything decoded, 1 if anything failed, 2 usage error.

Only the Python standard library is used. Section numbers (§) refer to
spec/qohi.md; the structure follows its decoder pseudocode (§7).
"""

import argparse
import json
import os
import struct
import sys
import zlib
from array import array

# ---------------------------------------------------------------- errors (§9.2)

NOT_QOHI = "NOT_QOHI"
TRUNCATED = "TRUNCATED"
CORRUPT = "CORRUPT"
UNSUPPORTED = "UNSUPPORTED"
LIMIT = "LIMIT"


class QohiError(Exception):
    """A rejection (§1.5 `fail`): an error class of §9.2 and a text."""

    def __init__(self, cls, text):
        super().__init__("%s: %s" % (cls, text))
        self.cls = cls
        self.text = text


def fail(cls, text):
    raise QohiError(cls, text)


# ---------------------------------------------------------------- constants (Appendix B)

SIGNATURE = b"\x89QOHI\r\n\x1a"                 # §3.2
FIRST_FRAME = 28                                # §3.5: 8 + 12 + 8
TRAILER_SIZE = 24                               # §3.12
DEFAULT_MAX_PIXELS = 1 << 28                    # §8: the reference default
MAX_SIDE = 1 << 24                              # §3.7
MAX_PIXELS_PER_FRAME = 1 << 29                  # §3.7 check 4
MAX_NAME = 65535                                # §3.7, §3.8
FRAME_RECORD_TYPES = (b"QHDR", b"FHDR", b"QIDX", b"QEND", b"EHDR", b"EDAT")   # §3.13 step 2
ENTRY_RECORD_TYPES = (b"QHDR", b"FHDR", b"FDAT", b"QIDX", b"QEND", b"EHDR")   # §3.15, content cut short
MAX_U64 = (1 << 64) - 1
MAX_MODE = 4095                                 # §3.15
MAX_NSEC = 999999999                            # §3.15
MAX_LINK = 65535                                # §3.15: a symbolic link's target
ENTRY_KINDS = {0: "file", 1: "symlink", 2: "folder"}     # §3.15; 3 ... 255 reserved
METADATA_TYPES = (b"iccp", b"exif", b"xmpd", b"text", b"pngc")  # §3.9

# ---------------------------------------------------------------- integers (§1.3)


def u16(b, o):
    return struct.unpack_from("<H", b, o)[0]


def u32(b, o):
    return struct.unpack_from("<I", b, o)[0]


def u64(b, o):
    return struct.unpack_from("<Q", b, o)[0]


def read_varint(p, pos, maximum):
    """§1.3 read_varint: (value, position after it); every invalid varint
    is CORRUPT, since varints only occur inside records whose CRC matched."""
    v = 0
    for k in range(10):
        if pos >= len(p):
            fail(CORRUPT, "varint cut short")
        b = p[pos]
        pos += 1
        if k == 9 and b > 1:
            fail(CORRUPT, "varint of more than 64 bits")
        v += (b & 0x7F) << (7 * k)
        if b < 0x80:
            if b == 0 and k > 0:
                fail(CORRUPT, "varint not in its shortest form")
            if v > maximum:
                fail(CORRUPT, "varint above its maximum")
            return v, pos
    raise AssertionError("not reached: a tenth byte 0x00 or 0x01 ends the varint")


def write_varint(v):
    """§1.3 write_varint (shortest form)."""
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


# ---------------------------------------------------------------- names (§3.8)


def valid_utf8_without_nul(s):
    """The acceptance procedure of §3.8 (also used for metadata text, §3.9)."""
    i = 0
    n = len(s)
    while i < n:
        c = s[i]
        if c == 0x00:
            return False
        if c <= 0x7F:
            i += 1
            continue
        if 0xC2 <= c <= 0xDF:
            k, cp = 1, c & 0x1F
        elif 0xE0 <= c <= 0xEF:
            k, cp = 2, c & 0x0F
        elif 0xF0 <= c <= 0xF4:
            k, cp = 3, c & 0x07
        else:
            return False
        if n - i < k + 1:
            return False
        for j in range(1, k + 1):
            if s[i + j] & 0xC0 != 0x80:
                return False
            cp = (cp << 6) | (s[i + j] & 0x3F)
        if k == 2 and cp < 0x800:
            return False
        if k == 3 and (cp < 0x10000 or cp > 0x10FFFF):
            return False
        if 0xD800 <= cp <= 0xDFFF:
            return False
        i += k + 1
    return True


def type_name(rtype):
    """A record type for messages."""
    return rtype.decode("latin-1").encode("unicode_escape").decode("ascii")


# ---------------------------------------------------------------- frame headers (§3.7)


def front_coded_name_ok(previous, shared, suffix):
    """Check 7 of §3.7 for an index entry's name previous[:shared] + suffix
    (§3.11), `previous` being a valid name: the bytes before the UTF-8
    sequence that holds byte shared - 1 are whole valid sequences, so only
    the rest is checked. This costs the size of the suffix, not of the name:
    a 10-byte entry can describe a name of 65,535 bytes."""
    start = shared
    if start > 0:
        start -= 1
        while start > 0 and previous[start] & 0xC0 == 0x80:    # at most 3 steps
            start -= 1
    return valid_utf8_without_nul(bytes(previous[start:shared]) + bytes(suffix))


class Header:
    """The fields of a frame header (§3.7), with the derived reference. The
    name is not kept here (see QohiFile.name)."""

    __slots__ = ("width", "height", "channels", "bit_depth", "method", "flags",
                 "ref_distance", "reference", "name_size")

    def fhdr_fields(self):
        """The FHDR payload of this header (§3.7, §7.2 encode_fhdr) up to
        its name."""
        return (write_varint(self.width) + write_varint(self.height)
                + bytes((self.channels, self.bit_depth, self.method, self.flags))
                + write_varint(self.ref_distance) + write_varint(self.name_size))


def parse_header_fields(x, pos, i, shared, name_ok):
    """§7.2 parse_header_fields: the fields from `width` on, then the
    validity checks 1 - 7 of §3.7 for frame number i. In an index entry the
    name is front-coded (§3.11): `shared` bytes of the previous name, then
    the suffix read here; name_ok(suffix) makes check 7 on the full name.
    Returns (header, suffix, position after the fields)."""
    # Check 1: every field is read first, in payload order.
    width, pos = read_varint(x, pos, MAX_SIDE)
    height, pos = read_varint(x, pos, MAX_SIDE)
    if len(x) - pos < 4:
        fail(CORRUPT, "frame header cut short")
    channels, bit_depth, method, flags = x[pos], x[pos + 1], x[pos + 2], x[pos + 3]
    pos += 4
    ref_distance, pos = read_varint(x, pos, 0xFFFFFFFF)
    n, pos = read_varint(x, pos, MAX_NAME - shared)
    if len(x) - pos < n:
        fail(CORRUPT, "frame header cut short")
    suffix = x[pos:pos + n]
    pos += n
    # Checks 2 - 7, on the values read.
    if ref_distance > i:
        fail(CORRUPT, "frame refers to a frame before the first")
    if width == 0 or height == 0:
        fail(CORRUPT, "zero width or height")
    if width * height > MAX_PIXELS_PER_FRAME:
        fail(CORRUPT, "frame too large")
    if not 1 <= channels <= 4:
        fail(CORRUPT, "channel count")
    if bit_depth not in (8, 16):
        fail(CORRUPT, "bit depth")
    if not name_ok(suffix):
        fail(CORRUPT, "name is not UTF-8 without NUL")
    h = Header()
    h.width, h.height, h.channels, h.bit_depth = width, height, channels, bit_depth
    h.method, h.flags, h.ref_distance, h.name_size = method, flags, ref_distance, shared + n
    h.reference = None if ref_distance == 0 else i - ref_distance
    return h, suffix, pos


def check_decodable(h):
    """The decodability checks of §3.7, in their order (UNSUPPORTED)."""
    if h.channels not in (3, 4):
        fail(UNSUPPORTED, "grey frame (%d channels)" % h.channels)
    if h.bit_depth != 8:
        fail(UNSUPPORTED, "16-bit frame")
    if h.method > 2:
        fail(UNSUPPORTED, "method %d" % h.method)
    if h.flags & 0xFE:
        fail(UNSUPPORTED, "reserved frame flags 0x%02x" % h.flags)


# ---------------------------------------------------------------- entries (§3.15)


def unzigzag(z):
    """A signed modification time from its zig-zag varint (§3.15)."""
    return z >> 1 if z & 1 == 0 else -(z >> 1) - 1


def zigzag(v):
    return 2 * v if v >= 0 else -2 * v - 1


def read_attributes(x, pos):
    """mode, mtime, mtime_nsec (§3.15, also the attr record of §3.9):
    ((mode, mtime, nsec), position after them)."""
    mode, pos = read_varint(x, pos, MAX_MODE)
    z, pos = read_varint(x, pos, MAX_U64)
    nsec, pos = read_varint(x, pos, MAX_NSEC)
    return (mode, unzigzag(z), nsec), pos


def encode_attributes(a):
    mode, mtime, nsec = a
    return write_varint(mode) + write_varint(zigzag(mtime)) + write_varint(nsec)


class EntryHeader:
    """The fields of an entry header (§3.15); the name is not kept here
    (see QohiFile.entry_name)."""

    __slots__ = ("kind", "method", "flags", "attributes", "size", "name_size")

    def ehdr_fields(self):
        """The EHDR payload of this header up to its name (§7.2 encode_ehdr)."""
        out = bytes((self.kind, self.method, self.flags))
        if self.flags & 1:
            out += encode_attributes(self.attributes)
        return out + write_varint(self.size) + write_varint(self.name_size)


def parse_entry_fields(x, pos, shared, name_ok):
    """§7.2 parse_entry_fields: the EHDR fields from `kind` on and the
    validity checks of §3.15 (all CORRUPT). In an index item the name is
    front-coded: `shared` bytes of the previous item's name, then the suffix
    read here; name_ok(suffix) checks the full name (§3.8).
    Returns (header, suffix, position after the fields)."""
    if len(x) - pos < 3:
        fail(CORRUPT, "entry header cut short")
    kind, method, flags = x[pos], x[pos + 1], x[pos + 2]
    pos += 3
    attributes = None
    if flags & 1:
        attributes, pos = read_attributes(x, pos)
    size, pos = read_varint(x, pos, MAX_U64)
    n, pos = read_varint(x, pos, MAX_NAME - shared)
    if len(x) - pos < n:
        fail(CORRUPT, "entry header cut short")
    suffix = x[pos:pos + n]
    pos += n
    if shared + n == 0:
        fail(CORRUPT, "entry without a name")
    if kind == 1 and not 1 <= size <= MAX_LINK:
        fail(CORRUPT, "symbolic link target of %d bytes" % size)
    if kind == 2 and size != 0:
        fail(CORRUPT, "folder entry with content")
    if not name_ok(suffix):
        fail(CORRUPT, "entry name is not UTF-8 without NUL")
    h = EntryHeader()
    h.kind, h.method, h.flags, h.attributes = kind, method, flags, attributes
    h.size, h.name_size = size, shared + n
    return h, suffix, pos


def check_readable(h):
    """The readability checks of §3.15, in the order of §7.3a (UNSUPPORTED)."""
    if h.kind > 2:
        fail(UNSUPPORTED, "entry kind %d" % h.kind)
    if h.method != 0:
        fail(UNSUPPORTED, "entry method %d" % h.method)
    if h.flags & 0xFE:
        fail(UNSUPPORTED, "reserved entry flags 0x%02x" % h.flags)


# ---------------------------------------------------------------- metadata (§3.9)


def check_metadata(rtype, payload):
    """Raises CORRUPT if a metadata record of a type of §3.9 is malformed
    (rules 1 - 4, in their order). Records of other types are not checked."""
    if rtype in (b"iccp", b"text"):
        if len(payload) == 0 or len(payload) < 1 + payload[0]:          # rule 1
            fail(CORRUPT, "%s record cut short" % rtype.decode())
        key = payload[1:1 + payload[0]]
        if len(key) == 0 or len(key) > 79 or 0 in key:                  # rule 2
            fail(CORRUPT, "%s record with an invalid key" % rtype.decode())
        body = payload[1 + payload[0]:]
    else:
        body = payload
    if rtype in (b"xmpd", b"text") and not valid_utf8_without_nul(body):  # rule 3
        fail(CORRUPT, "%s record is not UTF-8 without NUL" % rtype.decode())
    if rtype in (b"iccp", b"exif", b"xmpd", b"pngc") and len(body) == 0:  # rule 4
        fail(CORRUPT, "empty %s record" % rtype.decode())


# ---------------------------------------------------------------- the file (§3, §7.1 - §7.3)


class FrameEntry:
    """A frame as the index describes it (§3.11), its name as front-coded
    there (`shared` bytes of the previous name, then `suffix`)."""

    __slots__ = ("header", "offset", "end", "depth", "shared", "suffix")


class EntryItem:
    """An entry as the index's entry section describes it (§3.11, §3.15)."""

    __slots__ = ("header", "offset", "end", "shared", "suffix")


class QohiFile:
    """A file opened for random access (§3.12, §3.13)."""

    def __init__(self, data):
        self.data = data
        self.file_size = len(data)
        self.frames = []
        self.entries = []
        self._entry_name_at = -1                 # QohiFile.entry_name: the last name built
        self._entry_name = bytearray()
        self.max_chain_depth = 0
        self.index_offset = 0
        self._name_at = -1                       # QohiFile.name: the last name built
        self._name = bytearray()
        self._open()

    # §7.1
    def read_record(self, offset, limit):
        """The record at `offset`, which must fit in the space ending at
        `limit` (§3.3): (type, payload, end)."""
        limit = min(limit, self.file_size)
        cut = TRUNCATED if limit == self.file_size else CORRUPT
        if offset > limit or limit - offset < 12:
            fail(cut, "record header cut off at offset %d" % offset)
        d = self.data
        rtype = bytes(d[offset:offset + 4])
        length = u32(d, offset + 4)
        if length > limit - offset - 12:
            fail(cut, "record at offset %d runs past its space" % offset)
        payload = d[offset + 8:offset + 8 + length]
        # §3.3: the CRC-32 of PNG and zlib, over the type and the payload.
        if zlib.crc32(payload, zlib.crc32(rtype)) != u32(d, offset + 8 + length):
            fail(CORRUPT, "CRC mismatch in record %s at offset %d" % (type_name(rtype), offset))
        return rtype, payload, offset + 12 + length

    # §7.2
    def _open(self):
        d = self.data
        size = self.file_size
        # §3.2 signature
        if size < 8:
            if size > 0 and bytes(d) == SIGNATURE[:size]:
                fail(TRUNCATED, "input ends inside the signature")
            fail(NOT_QOHI, "not a QOHI file")
        if bytes(d[:8]) != SIGNATURE:
            fail(NOT_QOHI, "not a QOHI file")

        # §3.6 QHDR, rules in their order
        rtype, p, _ = self.read_record(8, size)
        if rtype != b"QHDR":
            fail(CORRUPT, "first record is not QHDR")
        if len(p) < 2:
            fail(CORRUPT, "QHDR payload too short")
        if u16(p, 0) != 1:
            fail(UNSUPPORTED, "format version %d" % u16(p, 0))
        if len(p) != 8:
            fail(CORRUPT, "QHDR payload size %d" % len(p))
        if u16(p, 2) != 0:
            fail(UNSUPPORTED, "file flags 0x%04x" % u16(p, 2))
        if u16(p, 6) != 0:
            fail(CORRUPT, "QHDR reserved field not 0")
        self.max_chain_depth = u16(p, 4)

        # §3.12 trailer
        if size < FIRST_FRAME + TRAILER_SIZE:
            fail(TRUNCATED, "file too short for a trailer")
        try:
            rtype, t, _ = self.read_record(size - TRAILER_SIZE, size)
        except QohiError:
            fail(TRUNCATED, "no valid trailer")
        if rtype != b"QEND" or len(t) != 12:
            fail(TRUNCATED, "no valid trailer")
        index_offset = u64(t, 0)
        count = u32(t, 8)
        if index_offset < FIRST_FRAME or index_offset > size - TRAILER_SIZE - 12:
            fail(CORRUPT, "index offset %d out of range" % index_offset)
        self.index_offset = index_offset

        # §3.12 step 4: the QIDX record, in the space that ends at the trailer
        rtype, x, end = self.read_record(index_offset, size - TRAILER_SIZE)
        if rtype != b"QIDX":
            fail(CORRUPT, "record at the index offset is not QIDX")
        if end != size - TRAILER_SIZE:
            fail(CORRUPT, "data between index and trailer")

        # §3.11 checks 1 - 7
        if len(x) < 4 or u32(x, 0) != count:
            fail(CORRUPT, "index and trailer frame counts differ")
        if count * 10 > len(x) - 4:                      # before any allocation
            fail(CORRUPT, "index too short for its frame count")
        pos = 4
        offset = 0
        name = bytearray()                       # the previous entry's full name
        frames = self.frames
        for i in range(count):
            delta, pos = read_varint(x, pos, size)
            shared, pos = read_varint(x, pos, len(name))
            h, suffix, pos = parse_header_fields(
                x, pos, i, shared, lambda sfx: front_coded_name_ok(name, shared, sfx))
            del name[shared:]
            name += suffix
            offset += delta
            if i == 0:
                if offset < FIRST_FRAME:         # exactly 28 without entries: check 6
                    fail(CORRUPT, "frame 0 before the end of QHDR")
            elif offset < frames[i - 1].offset + 12:
                fail(CORRUPT, "invalid offset of frame %d" % i)
            if offset >= index_offset:
                fail(CORRUPT, "frame %d does not start before the index" % i)
            f = FrameEntry()
            f.header, f.offset, f.depth, f.shared, f.suffix = h, offset, 0, shared, suffix
            if h.reference is not None:                  # §3.7 checks 8 - 10
                r = frames[h.reference]
                g = r.header
                if (g.width, g.height, g.channels, g.bit_depth) != \
                        (h.width, h.height, h.channels, h.bit_depth):
                    fail(CORRUPT, "frame %d: reference frame differs in size or channels" % i)
                if h.method in (0, 2):           # check 9: stored and DICI frames
                    fail(CORRUPT, "frame %d: %s frame with a reference"
                         % (i, "stored" if h.method == 0 else "DICI"))
                f.depth = r.depth + 1
                if f.depth > self.max_chain_depth:
                    fail(CORRUPT, "frame %d: reference chain too long" % i)
            frames.append(f)
        entries = self.entries
        if pos != len(x):                                # check 4: the entry section
            m, pos = read_varint(x, pos, 0xFFFFFFFF)
            if m == 0:
                fail(CORRUPT, "entry section without entries")
            if m * 7 > len(x) - pos:                     # before any allocation
                fail(CORRUPT, "index too short for its entry count")
            name = bytearray()                           # the previous item's full name
            offset = 0
            for j in range(m):
                delta, pos = read_varint(x, pos, size)
                shared, pos = read_varint(x, pos, len(name))
                h, suffix, pos = parse_entry_fields(
                    x, pos, shared, lambda sfx: front_coded_name_ok(name, shared, sfx))
                del name[shared:]
                name += suffix
                offset += delta
                if j > 0 and offset < entries[j - 1].offset + 12:
                    fail(CORRUPT, "invalid offset of entry %d" % j)
                if offset >= index_offset:
                    fail(CORRUPT, "entry %d does not start before the index" % j)
                e = EntryItem()
                e.header, e.offset, e.shared, e.suffix = h, offset, shared, suffix
                entries.append(e)
        if pos != len(x):                                # check 5
            fail(CORRUPT, "unused bytes in the index")
        # Check 6: the frames and entries (items) tile the space from offset
        # 28 to the index; the extents (§3.11) follow. Both lists are in
        # offset order already (checks 3 and 4): merge them.
        items = []
        fi = ej = 0
        while fi < len(frames) or ej < len(entries):
            if ej == len(entries) or (fi < len(frames) and frames[fi].offset < entries[ej].offset):
                items.append(frames[fi])
                fi += 1
            else:
                items.append(entries[ej])
                ej += 1
        if not items:
            if index_offset != FIRST_FRAME:
                fail(CORRUPT, "data between the file header and the index")
        else:
            if items[0].offset != FIRST_FRAME:
                fail(CORRUPT, "data between the file header and the first frame or entry")
            for k in range(1, len(items)):
                if items[k].offset < items[k - 1].offset + 12:
                    fail(CORRUPT, "two items start less than 12 bytes apart (offsets %d and %d)"
                         % (items[k - 1].offset, items[k].offset))
                items[k - 1].end = items[k].offset
            items[-1].end = index_offset
        for j, e in enumerate(entries):                  # check 7
            if e.header.size > e.end - e.offset:
                fail(CORRUPT, "entry %d is larger than its extent" % j)

    def name(self, i):
        """The full name of frame i (§3.11). Names are built one entry after
        the other from the front coding, so that asking for the frames in
        order costs the size of the index in all."""
        if i < self._name_at:
            self._name_at, self._name = -1, bytearray()
        while self._name_at < i:
            self._name_at += 1
            f = self.frames[self._name_at]
            del self._name[f.shared:]
            self._name += f.suffix
        return bytes(self._name)

    def entry_name(self, j):
        """The full name of entry j (§3.11, built as QohiFile.name)."""
        if j < self._entry_name_at:
            self._entry_name_at, self._entry_name = -1, bytearray()
        while self._entry_name_at < j:
            self._entry_name_at += 1
            e = self.entries[self._entry_name_at]
            del self._entry_name[e.shared:]
            self._entry_name += e.suffix
        return bytes(self._entry_name)

    # §7.3a
    def read_entry(self, j, sink=None):
        """Entry j's content (§3.15, "Reading an entry's content"; §7.3a
        read_entry). With `sink`, each EDAT payload is handed to it once its
        checks passed, and None is returned; on a failure after some pieces,
        the caller discards them."""
        e = self.entries[j]
        h = e.header
        check_readable(h)
        rtype, p, end = self.read_record(e.offset, e.end)
        if rtype != b"EHDR":
            fail(CORRUPT, "record at the entry's offset is not EHDR")
        fields = h.ehdr_fields()
        if len(p) != len(fields) + h.name_size or p[:len(fields)] != fields or \
                p[len(fields):] != self.entry_name(j):
            fail(CORRUPT, "entry header disagrees with the index")
        pieces = []
        have = 0
        while have < h.size:
            rtype, p, end = self.read_record(end, e.end)
            if 0x61 <= rtype[0] <= 0x7A:                 # ancillary (§3.4)
                continue
            if rtype in ENTRY_RECORD_TYPES:
                fail(CORRUPT, "entry content cut short by record %s" % type_name(rtype))
            if rtype != b"EDAT":
                fail(UNSUPPORTED, "unknown critical record %s in an entry" % type_name(rtype))
            if len(p) == 0:
                fail(CORRUPT, "empty EDAT record")
            if len(p) > h.size - have:
                fail(CORRUPT, "entry content longer than its size")
            if h.kind == 1 and 0 in p:
                fail(CORRUPT, "symbolic link target contains NUL")
            have += len(p)
            if sink is not None:
                sink(p)
            else:
                pieces.append(p)
        if end != e.end:
            fail(CORRUPT, "data after the entry's content")
        return None if sink is not None else b"".join(bytes(q) for q in pieces)

    def frame_attributes(self, i):
        """Frame i's attr record (§3.9, §7.3a frame_attributes): None, or
        (mode, mtime, mtime_nsec). Frame i's records are checked as for
        decoding (§3.13), not its FDAT payload."""
        _, ancillary = self.read_frame_records(i)
        a = None
        for rtype, p in ancillary:
            if rtype != b"attr":
                continue
            if a is not None:
                fail(CORRUPT, "two attr records")
            a, pos = read_attributes(p, 0)
            if pos != len(p):
                fail(CORRUPT, "bytes after mtime_nsec in the attr record")
        return a

    # §7.3
    def check_frame(self, i, max_pixels):
        """The checks made before any record of frame i is read, in the
        order of §7.3 / §9.4: decodability, pixel limit, the chain's
        decodability."""
        h = self.frames[i].header
        check_decodable(h)
        if h.width * h.height > max_pixels:
            fail(LIMIT, "frame of %dx%d pixels is above the limit of %d"
                 % (h.width, h.height, max_pixels))
        r = h.reference
        while r is not None:
            try:
                check_decodable(self.frames[r].header)
            except QohiError as e:
                fail(e.cls, "reference frame %d: %s" % (r, e.text))
            r = self.frames[r].header.reference

    def read_frame_records(self, i):
        """Steps 1 - 3 of §3.13: frame i's records within its extent.
        Returns (FDAT payload, ancillary records [(type, payload)])."""
        f = self.frames[i]
        rtype, p, end = self.read_record(f.offset, f.end)
        if rtype != b"FHDR":
            fail(CORRUPT, "record at the frame's offset is not FHDR")
        # Step 1: the payload equals the FHDR encoding of the entry's header
        # with its full name (compared by size first, so that a name is only
        # built when the record holds as many bytes).
        fields = f.header.fhdr_fields()
        if len(p) != len(fields) + f.header.name_size or p[:len(fields)] != fields or \
                p[len(fields):] != self.name(i):
            fail(CORRUPT, "frame header disagrees with the index")
        ancillary = []
        while True:
            rtype, p, end = self.read_record(end, f.end)
            if rtype == b"FDAT":
                break
            if 0x61 <= rtype[0] <= 0x7A:                 # ancillary (§3.4)
                ancillary.append((rtype, p))
                continue
            if rtype in FRAME_RECORD_TYPES:
                fail(CORRUPT, "frame has no FDAT")
            fail(UNSUPPORTED, "unknown critical record %s" % type_name(rtype))
        if end != f.end:
            fail(CORRUPT, "data after FDAT")
        return p, ancillary

    def decode_with_chain(self, i, cache=None):
        """§7.3 decode_with_chain, as a loop (§4.5): walks the reference
        chain down to an intra frame or to a frame whose result `cache`
        holds, then decodes upwards. Returns (pixels, ancillary records of
        frame i). `cache` maps a frame number to its decoded pixels, or to
        the QohiError it failed with; callers decide what it keeps."""
        cache = {} if cache is None else cache
        chain = [i]
        r = self.frames[i].header.reference
        while r is not None and r not in cache:
            chain.append(r)
            r = self.frames[r].header.reference
        ref = None
        if r is not None:
            ref = cache[r]
            if isinstance(ref, QohiError):
                fail(ref.cls, "reference frame %d: %s" % (r, ref.text))
        for k in reversed(chain):
            try:
                payload, ancillary = self.read_frame_records(k)
                pixels = decode_frame_data(payload, self.frames[k].header, ref)
            except QohiError as e:
                if k != i:
                    fail(e.cls, "reference frame %d: %s" % (k, e.text))
                raise
            ref = pixels
        return ref, ancillary


# ---------------------------------------------------------------- pixels

# Decoded frames are arrays of packed pixels r | g << 8 | b << 16 | a << 24
# (the four-value state of §5.2, RGB frames with a = 255).
PIXEL_TYPE = "I" if array("I").itemsize == 4 else "L"
assert array(PIXEL_TYPE).itemsize == 4


def pixels_from_bytes(raw, channels):
    """Samples in the layout of §2 -> packed pixels (alpha 255 for RGB)."""
    if channels == 3:
        n = len(raw) // 3
        rgba = bytearray(b"\xff") * (4 * n)
        rgba[0::4] = raw[0::3]
        rgba[1::4] = raw[1::3]
        rgba[2::4] = raw[2::3]
        raw = rgba
    a = array(PIXEL_TYPE, bytes(raw))
    if sys.byteorder == "big":
        a.byteswap()
    return a


def pixels_to_bytes(pixels, channels):
    """Packed pixels -> samples in the layout of §2."""
    a = pixels
    if sys.byteorder == "big":
        a = array(PIXEL_TYPE, a)
        a.byteswap()
    rgba = a.tobytes()
    if channels == 4:
        return rgba
    n = len(pixels)
    rgb = bytearray(3 * n)
    rgb[0::3] = rgba[0::4]
    rgb[1::3] = rgba[1::4]
    rgb[2::3] = rgba[2::4]
    return bytes(rgb)


# ---------------------------------------------------------------- frame data (§4, §7.4)


def decode_frame_data(p, h, ref):
    """§7.4: the FDAT payload `p` of a frame with header `h`; `ref` is the
    reference frame's packed pixels, or None. Returns packed pixels."""
    W, H, C = h.width, h.height, h.channels
    S = len(p)
    # §4.1 band layout, checks 1 - 4
    band_rows, pos = read_varint(p, 0, H)
    if band_rows == 0:
        fail(CORRUPT, "band height out of range")
    B = (H + band_rows - 1) // band_rows
    if B - 1 > S - pos:
        fail(CORRUPT, "band sizes cut off")
    sizes = []
    for _ in range(B - 1):
        n, pos = read_varint(p, pos, S)
        sizes.append(n)
    if sum(sizes) >= S - pos:
        fail(CORRUPT, "data shorter than its bands")
    sizes.append(S - pos - sum(sizes))       # the last band: the rest, >= 1 byte
    if STATS is not None:
        STATS["%sframes of %s" % ("DICI " if h.method == 2 else "",
                                  "several bands" if B > 1 else "one band")] += 1

    out = array(PIXEL_TYPE)
    for b in range(B):
        y0 = b * band_rows
        rows = min(band_rows, H - y0)
        data = p[pos:pos + sizes[b]]
        pos += sizes[b]
        try:
            if h.method == 0:                    # §4.2 stored (never a delta frame)
                if sizes[b] != W * C * rows:
                    fail(CORRUPT, "stored band of the wrong size")
                out.extend(pixels_from_bytes(data, C))
            elif h.method == 2:                  # §4.4 DICI (never a delta frame)
                out.extend(decode_dici_band(data, W, W * rows, C))
            else:                                # §4.3 QOHI
                ref_band = None if ref is None else ref[y0 * W:(y0 + rows) * W]  # §4.5
                out.extend(decode_band(data, W, W * rows, C, ref_band))
        except QohiError as e:
            if B > 1:
                fail(e.cls, "band %d: %s" % (b, e.text))
            raise
    return out


# ---------------------------------------------------------------- bits (§1.4)


class BitReader:
    """Reads a band LSB-first (§1.4). Bits past the end read as zeros;
    `overran()` tells whether any was consumed (§7)."""

    __slots__ = ("data", "pos", "nbits")

    def __init__(self, data):
        self.data = bytes(data)
        self.pos = 0
        self.nbits = 8 * len(self.data)

    def read(self, n):
        """An n-bit value, n <= 32 (§1.4)."""
        pos = self.pos
        self.pos = pos + n
        i = pos >> 3
        # A slice past the end is short or empty: the missing bits are 0.
        return (int.from_bytes(self.data[i:i + 5], "little") >> (pos & 7)) & ((1 << n) - 1)

    def decode(self, table):
        """One symbol of a non-empty code table (§6.4), by table lookup."""
        pos = self.pos
        i = pos >> 3
        e = table.lookup[(int.from_bytes(self.data[i:i + 3], "little") >> (pos & 7)) & table.mask]
        self.pos = pos + (e & 15)
        return e >> 4

    def overran(self):
        return self.pos > self.nbits


# ---------------------------------------------------------------- code tables (§6)


class CodeTable:
    """A canonical code (§6.1) checked as in §6.2, with a lookup table
    indexed by the next `bits` stream bits (§6.4): entry = symbol << 4 | length."""

    __slots__ = ("lengths", "empty", "lookup", "mask")

    def __init__(self, lengths, max_length):
        self.lengths = lengths
        used = [s for s, n in enumerate(lengths) if n]
        self.empty = not used
        self.lookup = None
        self.mask = 0
        if not used:                             # empty: never used to decode (§5.9)
            return
        if len(used) == 1:                       # single symbol: zero bits
            if lengths[used[0]] != 1:
                fail(CORRUPT, "single code of length %d" % lengths[used[0]])
            self.lookup = [used[0] << 4]
            return
        kraft = sum(1 << (max_length - lengths[s]) for s in used)
        if kraft > 1 << max_length:
            fail(CORRUPT, "over-subscribed code table")
        if kraft < 1 << max_length:
            fail(CORRUPT, "incomplete code table")
        # §6.1 canonical codes
        longest = max(lengths[s] for s in used)
        count = [0] * (longest + 1)
        for s in used:
            count[lengths[s]] += 1
        first = [0] * (longest + 1)
        code = 0
        for n in range(1, longest + 1):
            code = (code + count[n - 1]) << 1    # count[0] = 0
            first[n] = code
        lookup = [0] * (1 << longest)
        for s in used:
            n = lengths[s]
            c = first[n]
            first[n] += 1
            # The stream holds the code's first (most significant) bit first,
            # so it is indexed by the code's bits reversed (§1.4, §6.4).
            rev = int(format(c, "0%db" % n)[::-1], 2)
            lookup[rev::1 << n] = [(s << 4) | n] * (1 << (longest - n))
        self.lookup = lookup
        self.mask = (1 << longest) - 1

    def has_any(self, symbols):
        lengths = self.lengths
        return any(s < len(lengths) and lengths[s] for s in symbols)


def read_length_code(bits):
    """§6.3 / §7.6: the band's code-length code (16 x 3 bits, MAX 7)."""
    return CodeTable([bits.read(3) for _ in range(16)], 7)


def read_code_table(bits, pre, n):
    """§6.3 / §7.6: one table of an alphabet of n symbols (MAX 12)."""
    lengths = [0] * n
    if bits.read(1) == 0:
        return CodeTable(lengths, 12)            # absent: empty
    if pre.empty:
        fail(CORRUPT, "code table present but the code-length code has no symbols")
    i = 0
    while i < n:
        sym = bits.decode(pre)
        if sym <= 12:
            value, count = sym, 1
        elif sym == 13:
            if i == 0:
                fail(CORRUPT, "repeat before the first length")
            value, count = lengths[i - 1], 3 + bits.read(2)
        elif sym == 14:
            value, count = 0, 3 + bits.read(3)
        else:
            value, count = 0, 11 + bits.read(7)
        if count > n - i:
            fail(CORRUPT, "lengths run past the alphabet")
        lengths[i:i + count] = [value] * count
        i += count
    if bits.overran():
        fail(CORRUPT, "code table runs past the end of its band")
    if not any(lengths):
        fail(CORRUPT, "present table without symbols")
    return CodeTable(lengths, 12)


def read_family(bits, pre, n, mode, is_op):
    """The 2^mode tables of a family (§5.14); returns the table of each
    context 0 - 3: context c uses group c >> (2 - mode)."""
    groups = []
    for _ in range(1 << mode):
        t = read_code_table(bits, pre, n)
        if is_op and t.empty:                    # §5.9 check 3
            fail(CORRUPT, "op code table is empty")
        groups.append(t)
    return [groups[c >> (2 - mode)] for c in range(4)]


# ---------------------------------------------------------------- the QOHI method (§5, §7.5)

DIFF_SYMBOLS = (0, 1, 340, 341)                  # §5.9 check 4 (+ 383, 384 in delta bands)
ALPHA_SYMBOLS = (1, 341)                         # §5.9 check 5 (+ 384 in delta bands)
MATCH_SYMBOLS = range(299, 340)                  # §5.9 check 6


def _op_context(s):
    """§5.14: the op context after an op with symbol s."""
    if s <= 1 or s in (340, 341, 383, 384):
        return 0                                 # a difference op of any kind
    if s <= 42:
        return 2                                 # a run
    if s <= 298:
        return 1                                 # an index op
    return 3                                     # a match or a reference run


def _rb_context(dg):
    """§5.14: the R/B context of a dG value."""
    m = dg if dg < 128 else 256 - dg
    return 0 if m == 0 else 1 if m <= 2 else 2 if m <= 8 else 3


OP_CONTEXT = [_op_context(s) for s in range(385)]

# Coverage counting for the self-test: when STATS is a collections.Counter,
# decode_band counts the kinds of op it decodes and the bands' groupings.
STATS = None
OP_KIND = (["difference", "difference+alpha"] + ["run"] * 41 + ["index"] * 256
           + ["match"] * 41 + ["gradient", "gradient+alpha"] + ["reference run"] * 41
           + ["reference difference", "reference difference+alpha"])
RB_CONTEXT = [_rb_context(v) for v in range(256)]


def _clamp(v):
    return 0 if v < 0 else 255 if v > 255 else v


def run_band(decode_bits, data, *args):
    """decode_bits(bits, *args) over a band's bytes. Every band error is
    CORRUPT; once bits past the end were consumed, only the text changes
    (§5.10, §9.4)."""
    bits = BitReader(data)
    try:
        return decode_bits(bits, *args)
    except QohiError:
        if bits.overran():
            fail(CORRUPT, "band data ends before its last pixel")
        raise


def end_of_band(bits):
    """§5.10: after the last pixel, fewer than 8 bits, all zero."""
    if bits.overran():
        fail(CORRUPT, "band data ends before its last pixel")
    remaining = bits.nbits - bits.pos
    if remaining >= 8:
        fail(CORRUPT, "unused bytes after the last pixel")
    if bits.read(remaining) != 0:
        fail(CORRUPT, "non-zero padding")


def decode_band(data, W, N, C, ref):
    """§7.5 decode_band: N pixels of width W from the band's bytes; `ref`
    is the reference band (N packed pixels) in a delta band, else None."""
    return run_band(_decode_band_bits, data, W, N, C, ref)


def _decode_band_bits(bits, W, N, C, ref):
    delta = ref is not None
    read = bits.read
    decode = bits.decode

    # §5.1 grouping field, §5.9 check 1
    field = read(6)
    m_op, m_g, m_rb = field & 3, (field >> 2) & 3, field >> 4
    if 3 in (m_op, m_g, m_rb):
        fail(CORRUPT, "reserved context grouping")
    # §6.3 code-length code (§5.9 check 2), then the tables in the order of §5.1
    stats = STATS
    if stats is not None:
        stats["grouping %d/%d/%d" % (m_op, m_g, m_rb)] += 1
        stats["delta band" if delta else "intra band"] += 1
    pre = read_length_code(bits)
    OP = read_family(bits, pre, 385 if delta else 342, m_op, True)
    G = read_family(bits, pre, 256, m_g, False)
    R = read_family(bits, pre, 256, m_rb, False)
    Bt = read_family(bits, pre, 256, m_rb, False)
    A = read_code_table(bits, pre, 256)
    D = read_code_table(bits, pre, 44)

    # §5.9 checks 4 - 6, on the tables (not on the ops used)
    diff_symbols = DIFF_SYMBOLS + ((383, 384) if delta else ())
    alpha_symbols = ALPHA_SYMBOLS + ((384,) if delta else ())
    op_tables = OP[:]
    if any(t.has_any(diff_symbols) for t in op_tables) and \
            any(t.empty for t in G + R + Bt):
        fail(CORRUPT, "difference ops without all G/R/B code tables")
    if any(t.has_any(alpha_symbols) for t in op_tables):
        if C != 4:
            fail(CORRUPT, "alpha op in an RGB frame")
        if A.empty:
            fail(CORRUPT, "alpha ops without code table A")
    if any(t.has_any(MATCH_SYMBOLS) for t in op_tables) and D.empty:
        fail(CORRUPT, "match ops without DIST")

    def length(c):
        """§5.6: the value of length class c and its extra bits."""
        if c < 16:
            return c + 1
        e = c - 11
        return (1 << (e - 1)) + read(e - 1) + 1

    # Positions: buf[M + q] is position q (§5.12). In a delta band the
    # reference band occupies buf[0:N] (positions -N ... -1), so ref[p]
    # is buf[p]; in an intra band M = 0 and buf is the band's output.
    M = N if delta else 0
    buf = array(PIXEL_TYPE, ref) if delta else array(PIXEL_TYPE)
    buf.extend(array(PIXEL_TYPE, bytes(4 * N)))

    # §5.2 state at the start of the band
    prev = 0xFF000000                            # (0, 0, 0, 255)
    index = [0] * 256                            # (0, 0, 0, 0)
    opctx = 0
    column = [0] * W
    opaque = 0xFF000000 if C == 3 else 0

    def g_context(p):
        """§5.14 G context of position p (prev is out[p - 1] when used)."""
        if p < W or p % W == 0:
            return 1
        up = buf[M + p - W]
        ul = buf[M + p - W - 1]
        act = 0
        for sh in (0, 8, 16):
            c = (ul >> sh) & 255
            act += abs(((prev >> sh) & 255) - c) + abs(((up >> sh) & 255) - c)
        return 0 if act == 0 else 1 if act <= 6 else 2 if act <= 30 else 3

    p = 0
    while p < N:
        s = decode(OP[opctx])
        opctx = OP_CONTEXT[s]
        if stats is not None:
            stats[OP_KIND[s]] += 1

        if s <= 42 and s >= 2:                   # §5.6 run
            L = length(s - 2)
            if L > N - p:
                fail(CORRUPT, "run past the end of the band")
            buf[M + p:M + p + L] = array(PIXEL_TYPE, (prev,)) * L
            p += L                               # prev and index unchanged
            continue

        if 299 <= s <= 339:                      # §5.12 match
            L = length(s - 299)
            d = decode(D)
            x = p % W
            if d == 43:                          # the column distance
                dist = column[x]
                if dist == 0:
                    fail(CORRUPT, "column match distance before any match in the column")
            elif d == 0:                         # the pixel above
                dist = W
            else:
                dist = length(d - 1)
            f = p - dist
            if stats is not None:
                stats["DIST %s" % ("column" if d == 43 else "above" if d == 0 else "class")] += 1
                if dist < L:
                    stats["overlapping match"] += 1
                if f < 0:
                    stats["match from the reference band"] += 1
            if f < -M:
                fail(CORRUPT, "match reaches before the start of its data")
            if L > N - p:
                fail(CORRUPT, "match past the end of the band")
            src, dst = M + f, M + p
            if dist >= L:
                buf[dst:dst + L] = buf[src:src + L]
            else:                                # overlapping: repeats the last dist pixels
                buf[dst:dst + L] = (buf[src:dst] * (L // dist + 1))[:L]
            # column[(p + k) % W] = dist for k = 0 ... L-1
            if L >= W:
                column = [dist] * W
            elif x + L <= W:
                column[x:x + L] = [dist] * L
            else:
                column[x:] = [dist] * (W - x)
                column[:x + L - W] = [dist] * (x + L - W)
            prev = buf[dst + L - 1]              # index unchanged
            p += L
            continue

        if 342 <= s <= 382:                      # §5.11 reference run
            L = length(s - 342)
            if L > N - p:
                fail(CORRUPT, "reference run past the end of the band")
            buf[M + p:M + p + L] = buf[p:p + L]
            prev = buf[M + p + L - 1]            # index unchanged
            p += L
            continue

        if 43 <= s <= 298:                       # §5.7 index op
            px = index[s - 43] | opaque          # RGB frames: alpha 255
        else:
            # A difference op of one of three kinds: its base pixel
            if s <= 1:                           # §5.5 difference: prev
                base = prev
            elif s <= 341:                       # §5.13 gradient: prediction
                if p < W:
                    base = prev
                else:
                    up = buf[M + p - W]
                    if p % W == 0:
                        base = (up & 0xFFFFFF) | (prev & 0xFF000000)
                    else:
                        ul = buf[M + p - W - 1]
                        base = prev & 0xFF000000
                        for sh in (0, 8, 16):
                            base |= _clamp(((prev >> sh) & 255) + ((up >> sh) & 255)
                                           - ((ul >> sh) & 255)) << sh
            else:                                # §5.11 reference difference: ref[p]
                base = buf[p]
            # Payload (§5.14): dA for 1, 341, 384; dG; dR - dG, dB - dG
            a = base >> 24
            if s in (1, 341, 384):
                a = (a + decode(A)) & 255
            dg = decode(G[g_context(p) if m_g else 0])
            k = RB_CONTEXT[dg]
            drg = decode(R[k])
            dbg = decode(Bt[k])
            px = ((((base & 255) + dg + drg) & 255)
                  | ((((base >> 8) & 255) + dg) & 255) << 8
                  | ((((base >> 16) & 255) + dg + dbg) & 255) << 16
                  | a << 24)
        # §5.3 index update (difference ops of every kind, index ops)
        index[((px & 255) * 3 + ((px >> 8) & 255) * 5 + ((px >> 16) & 255) * 7
               + (px >> 24) * 11) & 255] = px
        buf[M + p] = px
        prev = px
        p += 1

    end_of_band(bits)
    return buf[M:]


# ---------------------------------------------------------------- the DICI method (§4.4, §7.5a)

DICI_ALPHABET = 123                              # 3 x 41 length classes
DICI_KIND = ("rank", "run", "copy")              # s // 41, also the next op context


def decode_dici_band(data, W, N, C):
    """§7.5a decode_dici_band: N pixels of width W from a DICI band's bytes."""
    return run_band(_decode_dici_bits, data, W, N, C)


def _decode_dici_bits(bits, W, N, C):
    read = bits.read
    decode = bits.decode

    # Palette size: 5 bits e, then e - 1 bits x (e >= 2); checks in order.
    e = read(5)
    if e > 29:
        fail(CORRUPT, "palette size class %d" % e)
    n_colours = 1 if e == 0 else 1 + (1 << (e - 1)) + (read(e - 1) if e >= 2 else 0)
    if n_colours > N:
        fail(CORRUPT, "palette of %d colours larger than the band" % n_colours)
    nbytes = n_colours * C
    if 8 * nbytes > bits.nbits - bits.pos:       # before anything is stored
        fail(CORRUPT, "palette runs past the band")
    # The palette: nbytes 8-bit values at any bit position, LSB-first (§1.4).
    i, sh = bits.pos >> 3, bits.pos & 7
    raw = (int.from_bytes(bits.data[i:i + nbytes + 1], "little") >> sh) & ((1 << (8 * nbytes)) - 1)
    bits.pos += 8 * nbytes
    palette = pixels_from_bytes(raw.to_bytes(nbytes, "little"), C)

    # The shared code-length code and the three OP tables (§6.3); tables 1
    # and 2 may be empty, an empty table fails only when an op needs it.
    pre = read_length_code(bits)
    tables = [read_code_table(bits, pre, DICI_ALPHABET) for _ in range(3)]

    stats = STATS
    if stats is not None:
        stats["DICI band"] += 1
        stats["DICI palette of %s colours" % (
            "1" if n_colours == 1 else "2-16" if n_colours <= 16 else "17-256"
            if n_colours <= 256 else "257-1024" if n_colours <= 1024 else "> 1024")] += 1
    out = array(PIXEL_TYPE, bytes(4 * N))
    prev = palette[0]
    ctx = 0
    p = 0
    while p < N:
        t = tables[ctx]
        if t.empty:
            fail(CORRUPT, "op with an empty table (context %d)" % ctx)
        s = decode(t)
        ctx, c = divmod(s, 41)                   # the op's kind is the next context
        L = c + 1 if c < 16 else (1 << (c - 12)) + read(c - 12) + 1    # §5.6
        if stats is not None:
            stats["DICI " + DICI_KIND[ctx]] += 1
            if c >= 16:
                stats["DICI long class"] += 1
        if ctx == 0:                             # rank: palette[L - 1]
            if L > n_colours:
                fail(CORRUPT, "rank %d beyond the palette of %d colours" % (L, n_colours))
            prev = palette[L - 1]
            out[p] = prev
            p += 1
            continue
        if L > N - p:                            # before any pixel is written
            fail(CORRUPT, "%s past the end of the band" % DICI_KIND[ctx])
        if ctx == 1:                             # run of prev
            out[p:p + L] = array(PIXEL_TYPE, (prev,)) * L
        else:                                    # copy from above
            if p < W:
                fail(CORRUPT, "copy from above in the band's first row")
            if L <= W:
                out[p:p + L] = out[p - W:p - W + L]
            else:                                # repeats the row it produces
                out[p:p + L] = (out[p - W:p] * (L // W + 1))[:L]
                if stats is not None:
                    stats["DICI copy longer than a row"] += 1
            prev = out[p + L - 1]
        p += L

    end_of_band(bits)
    return out


# ---------------------------------------------------------------- PNG output


def _png_chunk(ctype, body):
    return (struct.pack(">I", len(body)) + ctype + body
            + struct.pack(">I", zlib.crc32(body, zlib.crc32(ctype))))


def write_png(path, width, height, channels, samples):
    """An 8-bit RGB (channels 3) or RGBA (4) PNG, no filtering."""
    stride = width * channels
    comp = zlib.compressobj(6)
    parts = []
    for y in range(height):
        parts.append(comp.compress(b"\x00" + samples[y * stride:(y + 1) * stride]))
    parts.append(comp.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2 if channels == 3 else 6, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr)
                + _png_chunk(b"IDAT", b"".join(parts)) + _png_chunk(b"IEND", b""))


# ---------------------------------------------------------------- command line


def decode_frames(qf, max_pixels, cache_bytes=256 << 20):
    """Decodes every frame of the opened file `qf` in index order. Yields
    (i, header, samples, metadata_error) with the frame's samples in the
    layout of §2, or (i, header, QohiError, None) for a frame that fails;
    metadata_error is the QohiError of a malformed metadata record of the
    frame (its pixels still decode, §3.9), or None.

    A frame's result is kept while a later frame still refers to it, within
    `cache_bytes` of pixels (the oldest go first); a reference no longer
    kept is decoded again with its chain (§4.5), at most max_chain_depth
    further frame decodes (§13)."""
    frames = qf.frames
    last_use = {}
    for i, f in enumerate(frames):
        if f.header.reference is not None:
            last_use[f.header.reference] = i
    cache = {}                                   # insertion order: oldest first
    kept = 0
    for i, f in enumerate(frames):
        h = f.header
        try:
            try:
                qf.check_frame(i, max_pixels)
                pixels, ancillary = qf.decode_with_chain(i, cache)
            except QohiError as e:
                if i in last_use:
                    cache[i] = e                 # a failure costs nothing to keep
                raise
            if i in last_use:
                cache[i] = pixels
                kept += 4 * len(pixels)
                for r in list(cache):
                    if kept <= cache_bytes:
                        break
                    if not isinstance(cache[r], QohiError):
                        kept -= 4 * len(cache.pop(r))
            # This reader checks metadata as a reader that reports it must
            # (§3.9): a malformed record is CORRUPT for the frame's metadata
            # only; the pixels are still delivered.
            metadata_error = None
            try:
                for rtype, payload in ancillary:
                    if rtype in METADATA_TYPES:
                        check_metadata(rtype, payload)
            except QohiError as e:
                metadata_error = e
            result = pixels_to_bytes(pixels, h.channels)
        except QohiError as e:
            result = e
            metadata_error = None
        for r in [r for r in cache if last_use[r] <= i]:
            done = cache.pop(r)
            if not isinstance(done, QohiError):
                kept -= 4 * len(done)
        yield i, h, result, metadata_error


def attributes_json(a):
    return None if a is None else {"mode": a[0], "mtime": a[1], "mtime_nsec": a[2]}


def write_entries(qf, outdir, err):
    """The command's --entries part: OUTDIR/entry-NNNN.bin for every entry
    whose content reads (§3.15), OUTDIR/entries.json listing every entry and
    every frame's attributes (attr record, §3.9), an error line for each
    failure. Returns the number of failures."""
    failures = 0
    listing = {"entries": [], "frames": []}
    for j, e in enumerate(qf.entries):
        h = e.header
        item = {"name": qf.entry_name(j).decode("utf-8"), "kind": h.kind, "method": h.method,
                "size": h.size, "attributes": attributes_json(h.attributes)}
        path = os.path.join(outdir, "entry-%04d.bin" % j)
        try:
            with open(path + ".part", "wb") as f:
                qf.read_entry(j, f.write)
            os.replace(path + ".part", path)
            item["content"] = os.path.basename(path)
        except QohiError as x:
            os.remove(path + ".part")            # pieces already written are discarded (§7.3a)
            print("error: entry %d: %s: %s" % (j, x.cls, x.text), file=err)
            item["error"] = x.cls
            failures += 1
        listing["entries"].append(item)
    for i in range(len(qf.frames)):
        try:
            listing["frames"].append({"attributes": attributes_json(qf.frame_attributes(i))})
        except QohiError as x:
            print("error: frame %d attributes: %s: %s" % (i, x.cls, x.text), file=err)
            listing["frames"].append({"attributes_error": x.cls})
            failures += 1
    with open(os.path.join(outdir, "entries.json"), "w", encoding="utf-8") as f:
        json.dump(listing, f, indent=1, ensure_ascii=False)
        f.write("\n")
    return failures


def decode_to_pngs(data, outdir, max_pixels, err=sys.stderr, entries=False):
    """The command: opens `data`, writes OUTDIR/NNNN.png for every frame
    that decodes, reports errors on `err`; with `entries`, also the entries
    and attributes (write_entries). Returns the exit status."""
    try:
        qf = QohiFile(data)
    except QohiError as e:
        print("error: %s: %s" % (e.cls, e.text), file=err)
        return 1
    status = 0
    if entries and write_entries(qf, outdir, err):
        status = 1
    for i, h, result, metadata_error in decode_frames(qf, max_pixels):
        if metadata_error is not None:
            print("warning: frame %d: metadata: %s: %s" % (i, metadata_error.cls, metadata_error.text), file=err)
        if isinstance(result, QohiError):
            print("error: frame %d: %s: %s" % (i, result.cls, result.text), file=err)
            status = 1
        else:
            write_png(os.path.join(outdir, "%04d.png" % i), h.width, h.height,
                      h.channels, result)
    return status


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Decode every frame of a QOHI file to OUTDIR/NNNN.png "
                    "(an independent decoder written from spec/qohi.md).")
    ap.add_argument("input", metavar="INPUT.qohi")
    ap.add_argument("outdir", metavar="OUTDIR")
    ap.add_argument("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS, metavar="N",
                    help="refuse frames of more than N pixels (LIMIT); default 2^28")
    ap.add_argument("--entries", action="store_true",
                    help="also write OUTDIR/entry-NNNN.bin for each entry whose content reads and "
                         "OUTDIR/entries.json listing the entries and the frames' attributes")
    args = ap.parse_args(argv)
    if args.max_pixels < 1:
        ap.error("--max-pixels must be at least 1")
    try:
        with open(args.input, "rb") as f:
            data = f.read()
        os.makedirs(args.outdir, exist_ok=True)
    except OSError as e:
        print("error: IO: %s" % e, file=sys.stderr)
        return 1
    return decode_to_pngs(data, args.outdir, args.max_pixels, entries=args.entries)


if __name__ == "__main__":
    sys.exit(main())
