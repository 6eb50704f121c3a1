// qohi_conformance_vectors: writes the conformance vectors of spec/qohi.md.
//
//   qohi_conformance_vectors OUT_DIR [README]
//
// QOHI_VECTORS_VERBOSE=1 prints libqohi's message for each failing case.
//
// For every case (cases_valid.cc, cases_invalid.cc) it builds the file, then
// checks it two ways before writing anything:
//  - the tracer (vec_trace.cc, a decoder written from the spec alone) must
//    decode every valid file to the case's source pixels and find every
//    feature the case claims to exercise;
//  - libqohi must report exactly the expected outcome: the error class (and
//    the part of its message that names the intended check) for the file or
//    for each failing frame, and the source pixels for every other frame.
// A case that fails either check stops the generator. It then writes
// OUT_DIR/<case>/ (input.qohi, expected.txt, case.txt, NNNN.png) and, given
// README, the coverage tables between its GENERATED markers.
#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "qohi/qohi.h"
#include "vec_cases.h"
#include "vec_trace.h"

namespace vec {

namespace {

std::vector<std::function<Case()>>& registry() {
    static std::vector<std::function<Case()>> r;
    return r;
}

// ------------------------------------------------------------ catalogues

struct Feature {
    std::string id;
    std::string text;
    std::string spec;
    std::vector<std::string> all_of;  // covered when the trace has all of these (else `id` itself)
};

std::vector<std::string> numbered(const std::string& prefix, unsigned from, unsigned to) {
    std::vector<std::string> v;
    for (unsigned k = from; k <= to; ++k) v.push_back(prefix + std::to_string(k));
    return v;
}

const std::vector<Feature>& features() {
    static const std::vector<Feature> f = {
        // Container and frames.
        {"rgb", "RGB frames (3 channels)", "§2", {}},
        {"rgba", "RGBA frames (4 channels)", "§2", {}},
        {"file:no-frames", "A file without frames", "§3.1", {}},
        {"file:multi-frame", "A file of several frames", "§3.5", {}},
        {"qhdr:max-depth-0", "`max_chain_depth` 0 (intra frames only)", "§3.6", {}},
        {"flag:baseline", "Frame flag bit 0 (baseline), informative", "§3.7", {}},
        {"varint:multibyte-dims", "Width or height as a varint of 2 or more bytes", "§1.3, §3.7", {}},
        {"varint:multibyte-offset", "Index `offset_delta` of 2 or more bytes", "§3.11", {}},
        {"varint:multibyte-band-rows", "`band_rows` of 2 or more bytes", "§4.1", {}},
        {"varint:multibyte-band-size", "A band size of 2 or more bytes", "§4.1", {}},
        {"size:1x1", "A 1 x 1 frame", "§3.7", {}},
        {"size:1xN", "A frame 1 pixel wide", "§3.7", {}},
        {"size:Nx1", "A frame 1 pixel high", "§3.7", {}},
        {"size:max-width", "Width 2^24, the largest", "§3.7, §8", {}},
        {"size:max-height", "Height 2^24, the largest", "§3.7, §8", {}},
        {"record:iccp", "`iccp` metadata record", "§3.9", {}},
        {"record:exif", "`exif` metadata record", "§3.9", {}},
        {"record:xmpd", "`xmpd` metadata record", "§3.9", {}},
        {"record:text", "`text` metadata record", "§3.9", {}},
        {"record:unknown-ancillary", "Unknown ancillary records, skipped", "§3.4", {}},
        {"record:attr", "`attr` record: a frame's source file's mode and time", "§3.9", {}},
        // Entries (§3.15).
        {"entry:file", "Regular file entries (kind 0)", "§3.15", {}},
        {"entry:symlink", "Symbolic link entries (kind 1)", "§3.15", {}},
        {"entry:folder", "Folder entries (kind 2)", "§3.15", {}},
        {"entry:empty-file", "An empty regular file (no `EDAT`)", "§3.15", {}},
        {"entry:several-edat", "Content in several `EDAT` records", "§3.15", {}},
        {"entry:ancillary", "Ancillary records inside an entry, skipped", "§3.15", {}},
        {"entry:attributes", "Entries with attributes (mode, mtime)", "§3.15", {}},
        {"entry:no-attributes", "Entries without attributes", "§3.15", {}},
        {"entry:negative-mtime", "A modification time before 1970 (negative, zig-zag)", "§3.15", {}},
        {"entry:no-frames", "A file of entries only, no frames", "§3.1, §3.11", {}},
        {"entry:before-frame", "An entry followed by a frame", "§3.5", {}},
        {"entry:after-frame", "A frame followed by an entry", "§3.5", {}},
        {"index:entry-shared", "Front-coded entry names (`shared` > 0)", "§3.11", {}},
        {"name:none", "Frames without a name", "§3.8", {}},
        {"name:subfolder", "Names with sub-folders (`/`)", "§3.8", {}},
        {"name:utf8-2", "Names with 2-byte UTF-8 sequences", "§3.8", {}},
        {"name:utf8-3", "Names with 3-byte UTF-8 sequences", "§3.8", {}},
        {"name:utf8-4", "Names with 4-byte UTF-8 sequences", "§3.8", {}},
        {"name:long", "A name of 128 bytes or more (2-byte `name_size`)", "§3.7", {}},
        {"index:shared", "Front-coded index names (`shared` > 0)", "§3.11", {}},
        {"index:shared-mid-utf8", "`shared` ending inside a UTF-8 sequence", "§3.11", {}},
        {"index:shared-multibyte", "`shared` of 128 or more (2-byte varint)", "§3.11", {}},
        {"method:stored", "Method 0, stored bands", "§4.2", {}},
        {"method:qohi", "Method 1, QOHI bands", "§4.3", {}},
        {"method:dici", "Method 2, DICI bands", "§4.4", {}},
        {"bands:several", "Several bands in a frame", "§4.1", {}},
        {"bands:partial-last", "`band_rows` not dividing the height (a shorter last band)", "§4.1", {}},
        {"bands:one-row", "Bands of one row", "§4.1", {}},
        {"delta", "Delta frames (a reference frame)", "§3.7, §4.5", {}},
        {"delta:chain-2+", "Reference chains of depth 2 or more", "§4.5", {}},
        {"delta:depth-at-max", "A chain exactly as deep as `max_chain_depth`", "§3.6", {}},
        {"delta:ref-distance-gt1", "`ref_distance` above 1", "§3.7", {}},
        {"delta:ref-distance-multibyte", "`ref_distance` of 128 or more (2-byte varint)", "§3.7", {}},
        {"delta:ref-stored", "A stored frame as a reference", "§4.5", {}},
        {"delta:shared-ref", "A frame referenced by several frames", "§4.5", {}},
        {"delta:band-layout-differs", "A delta frame whose band layout differs from its reference's", "§4.5", {}},
        // Code tables.
        {"grouping:op-1", "OP grouping mode 1", "§5.14", {}},
        {"grouping:op-2", "OP grouping mode 2", "§5.14", {}},
        {"grouping:g-1", "G grouping mode 1", "§5.14", {}},
        {"grouping:g-2", "G grouping mode 2", "§5.14", {}},
        {"grouping:rb-1", "R/B grouping mode 1", "§5.14", {}},
        {"grouping:rb-2", "R/B grouping mode 2", "§5.14", {}},
        {"ctx:op-all", "Every op context 0-3 selecting a table", "§5.14", numbered("ctx:op-", 0, 3)},
        {"ctx:g-all", "Every G context 0-3 selecting a table", "§5.14", numbered("ctx:g-", 0, 3)},
        {"ctx:rb-all", "Every R/B context 0-3 selecting a table", "§5.14", numbered("ctx:rb-", 0, 3)},
        {"table:absent", "Absent (empty) tables", "§6.2, §6.3", {}},
        {"table:single-symbol", "Single-symbol tables (zero-bit codes)", "§6.2", {}},
        {"table:len-12", "Codes of 12 bits (the limit) decoded", "§6.2", {}},
        {"table:unused-present", "Present tables the op stream never uses", "§5.9", {}},
        {"clen:len-7", "Code-length code with 7-bit codes (its limit) used", "§6.3", {}},
        {"items:literal-zero", "Length items: literal 0", "§6.3", {}},
        {"items:13-nonzero", "Length item 13 repeating a non-zero length", "§6.3", {}},
        {"items:13-zero", "Length item 13 repeating zeros", "§6.3", {}},
        {"items:14", "Length item 14 (3-9 zeros)", "§6.3", {}},
        {"items:14-max", "Length item 14 with 10 zeros", "§6.3", {}},
        {"items:15", "Length item 15 (11-137 zeros)", "§6.3", {}},
        {"items:15-max", "Length item 15 with 138 zeros", "§6.3", {}},
        // Ops.
        {"op:diff", "Difference op (symbol 0)", "§5.5", {}},
        {"op:diff-alpha", "Difference op with alpha (symbol 1)", "§5.5", {}},
        {"op:diff-alpha-zero", "Symbol 1 with dA = 0", "§5.5", {}},
        {"op:run", "Run ops", "§5.6", {}},
        {"run:direct-all", "Runs of every direct length class 0-15", "§5.6", numbered("run:class-", 0, 15)},
        {"run:long-16-25", "Runs of the long length classes 16-25", "§5.6", numbered("run:class-", 16, 25)},
        {"run:class-35", "A run of length class 35 (2^23 < L <= 2^24)", "§5.6", {}},
        {"run:from-start-pixel", "A run of the start pixel (0, 0, 0, 255)", "§5.2", {}},
        {"run:wraps-rows", "Runs across row ends", "§5.6", {}},
        {"op:index", "Index ops", "§5.7", {}},
        {"index:collision", "Index entry overwritten by another colour of the same hash", "§5.3", {}},
        {"index:unwritten-rgb", "Index op on an unwritten entry, RGB (opaque black)", "§5.7", {}},
        {"index:unwritten-rgba", "Index op on an unwritten entry, RGBA (transparent black)", "§5.7", {}},
        {"op:match", "Match ops", "§5.12", {}},
        {"match:direct-class", "Match lengths of direct classes", "§5.12", {}},
        {"match:long-class", "Match lengths of long classes", "§5.12", {}},
        {"match:len-1", "A match of length 1", "§5.8", {}},
        {"match:overlap", "Overlapping matches (D < L)", "§5.12", {}},
        {"match:wraps-rows", "Matches across row ends", "§5.12", {}},
        {"dist:above", "DIST symbol 0 (the row above)", "§5.12", {}},
        {"dist:direct-class", "DIST symbols 1-16 (direct classes)", "§5.12", {}},
        {"dist:long-class", "DIST symbols 17-42 (long classes)", "§5.12", {}},
        {"dist:column", "DIST symbol 43 (column distance)", "§5.12", {}},
        {"match:from-ref", "Matches copying from the reference band", "§5.12", {}},
        {"match:across-ref-boundary", "Matches across the reference band's end", "§5.12", {}},
        {"match:above-from-ref", "DIST 0 in the first row of a delta band", "§5.12", {}},
        {"op:grad", "Gradient difference (symbol 340)", "§5.13", {}},
        {"op:grad-alpha", "Gradient difference with alpha (symbol 341)", "§5.13", {}},
        {"grad:first-row", "Gradient ops in a band's first row", "§5.13", {}},
        {"grad:first-column", "Gradient ops in the first column", "§5.13", {}},
        {"grad:clamp-low", "Gradient prediction clamped at 0", "§5.13", {}},
        {"grad:clamp-high", "Gradient prediction clamped at 255", "§5.13", {}},
        {"op:refrun", "Reference runs", "§5.11", {}},
        {"refrun:direct-class", "Reference runs of direct classes", "§5.11", {}},
        {"refrun:long-class", "Reference runs of long classes", "§5.11", {}},
        {"op:refdiff", "Reference difference (symbol 383)", "§5.11", {}},
        {"op:refdiff-alpha", "Reference difference with alpha (symbol 384)", "§5.11", {}},
        // DICI (§4.4).
        {"dici:palette-1", "DICI palette of 1 colour (size class e = 0)", "§4.4", {}},
        {"dici:palette-2", "DICI palette of 2 colours (e = 1, no extra bits)", "§4.4", {}},
        {"dici:palette-large", "DICI palettes with e >= 2 (extra bits)", "§4.4", {}},
        {"dici:palette-duplicates", "DICI palette with a colour twice", "§4.4", {}},
        {"dici:rank-direct", "DICI ranks of direct classes", "§4.4", {}},
        {"dici:rank-long", "DICI ranks of long classes (palettes of more than 16 colours)", "§4.4", {}},
        {"dici:run-direct", "DICI runs of direct classes", "§4.4", {}},
        {"dici:run-long", "DICI runs of long classes", "§4.4", {}},
        {"dici:run-from-start", "DICI run at the band's start (prev = palette[0])", "§4.4", {}},
        {"dici:copy-direct", "DICI copies from above of direct classes", "§4.4", {}},
        {"dici:copy-long", "DICI copies from above of long classes", "§4.4", {}},
        {"dici:copy-overlap", "DICI copy longer than a row (repeating its own pixels)", "§4.4", {}},
        {"dici:ctx-all", "Every DICI op context 0-2 (a table each)", "§4.4", numbered("dici:ctx-", 0, 2)},
        {"dici:table-empty", "DICI bands with an empty (unused) table", "§4.4", {}},
        // Stated by the case (how it was made), not traced.
        {"encoder:effort-0", "Written by libqohi at effort 0 (claimed)", "§10", {}},
        {"encoder:effort-1", "Written by libqohi at effort 1 (claimed)", "§10", {}},
        {"encoder:auto-reference", "libqohi's writer choosing references (claimed)", "§10", {}},
        {"encoder:stored-fallback", "libqohi falling back to the stored method (claimed)", "§10", {}},
        {"encoder:dici", "libqohi choosing DICI, or forced to it (claimed)", "§10", {}},
        {"encoder:entries", "Entries and frame attributes written by libqohi's writer (claimed)", "§3.15", {}},
        {"metadata:malformed", "Malformed metadata records that must not stop the pixels (claimed)", "§3.9", {}},
        {"limit:default", "A frame just above the default pixel limit 2^28 (claimed)", "§8, §9.2", {}},
    };
    return f;
}

struct ErrorRow {
    std::string id;
    std::string text;  // the row of spec §9.3, shortened
    std::string scope;
    std::string cls;
};

const std::vector<ErrorRow>& error_rows() {
    static const std::vector<ErrorRow> r = {
        {"R01", "Empty input; first 8 bytes differ from the signature", "file", "NOT_QOHI"},
        {"R02", "1-7 bytes that are a prefix of the signature", "file", "TRUNCATED"},
        {"R03", "Fewer than 12 bytes for `QHDR`, or its length runs past the file", "file", "TRUNCATED"},
        {"R04", "CRC mismatch in `QHDR`", "file", "CORRUPT"},
        {"R05", "First record is not `QHDR`", "file", "CORRUPT"},
        {"R06", "`QHDR` payload < 2 bytes", "file", "CORRUPT"},
        {"R07", "`version` != 1", "file", "UNSUPPORTED"},
        {"R08", "`QHDR` payload size != 8", "file", "CORRUPT"},
        {"R09", "`QHDR.flags` != 0", "file", "UNSUPPORTED"},
        {"R10", "`QHDR.reserved` != 0", "file", "CORRUPT"},
        {"R11", "File shorter than 52 bytes", "file", "TRUNCATED"},
        {"R12", "Bytes appended after `QEND` (CORRUPT when they end with a valid `QEND` record)", "file", "TRUNCATED"},
        {"R13", "Last 24 bytes not a valid `QEND` (length past the end, CRC, type, length != 12)", "file", "TRUNCATED"},
        {"R14", "`index_offset` < 28 or > file size - 36", "file", "CORRUPT"},
        {"R15", "`QIDX` record does not fit before the trailer", "file", "CORRUPT"},
        {"R16", "CRC mismatch in `QIDX`", "file", "CORRUPT"},
        {"R17", "Record at `index_offset` is not `QIDX`", "file", "CORRUPT"},
        {"R18", "Bytes between `QIDX` and `QEND`", "file", "CORRUPT"},
        {"R19", "`QIDX` payload < 4 bytes; index and trailer frame counts differ", "file", "CORRUPT"},
        {"R20", "Index payload too small for `frame_count` x 10 bytes", "file", "CORRUPT"},
        {"R21", "Index entry cut off by the end of the index", "file", "CORRUPT"},
        {"R22", "Index entry varint not in its shortest form or of more than 64 bits", "file", "CORRUPT"},
        {"R23", "`offset_delta` larger than the file size", "file", "CORRUPT"},
        {"R24", "`shared` larger than the previous name (any `shared` > 0 in entry 0)", "file", "CORRUPT"},
        {"R25", "`width`/`height` > 2^24, `ref_distance` > 2^32 - 1, `suffix_size` > 65,535 - `shared`", "file",
         "CORRUPT"},
        {"R26", "`ref_distance` larger than the frame's own number", "file", "CORRUPT"},
        {"R27", "Other header validity checks: zero width/height, > 2^29 pixels, channels, bit depth, name", "file",
         "CORRUPT"},
        {"R28", "Frame offsets: frame 0 < 28 (not at 28 without entries), < previous + 12, >= `index_offset`", "file",
         "CORRUPT"},
        {"R29", "Reference frame of another width, height, channel count or bit depth", "file", "CORRUPT"},
        {"R30", "Stored or DICI frame (method 0 or 2) with a reference", "file", "CORRUPT"},
        {"R31", "Chain depth larger than `QHDR.max_chain_depth`", "file", "CORRUPT"},
        {"R32", "Bytes after the last index entry that are no entry section, or after its last item", "file",
         "CORRUPT"},
        {"R33", "No frames and no entries, and `index_offset` != 28", "file", "CORRUPT"},
        {"E01", "Entry section: `entry_count` = 0", "file", "CORRUPT"},
        {"E02", "Entry section: `entry_count` cut short, not shortest, > 64 bits or > 2^32 - 1", "file", "CORRUPT"},
        {"E03", "Entry section: fewer than `entry_count` x 7 bytes after the count", "file", "CORRUPT"},
        {"E04", "Entry item cut off by the end of the index", "file", "CORRUPT"},
        {"E05", "Entry item varint not shortest or > 64 bits; `offset_delta` > file size; `shared` too long; "
                "`suffix_size` > 65,535 - `shared`", "file", "CORRUPT"},
        {"E06", "Entry item with an empty name", "file", "CORRUPT"},
        {"E07", "Entry item whose name is not UTF-8 without NUL", "file", "CORRUPT"},
        {"E08", "Entry item with `mode` > 4,095", "file", "CORRUPT"},
        {"E09", "Entry item with `mtime_nsec` > 999,999,999", "file", "CORRUPT"},
        {"E10", "Symbolic link item with `size` 0 or > 65,535", "file", "CORRUPT"},
        {"E11", "Folder item with `size` != 0", "file", "CORRUPT"},
        {"E12", "Entry offset < previous entry's + 12, or >= `index_offset`", "file", "CORRUPT"},
        {"E13", "Frames and entries: first item not at 28; two items less than 12 bytes apart", "file", "CORRUPT"},
        {"E14", "An entry's `size` larger than its extent", "file", "CORRUPT"},
        {"R34", "Frame with channels 1/2, bit depth 16, method > 2 or a reserved flag", "frame", "UNSUPPORTED"},
        {"R35", "Frame larger than the caller's pixel limit", "frame", "LIMIT"},
        {"R36", "A frame of the reference chain fails the decodability checks", "frame", "UNSUPPORTED"},
        {"R37", "A frame of the reference chain fails to decode", "frame", "its class"},
        {"R38", "Frame record cut off by the frame's extent, or no `FDAT` before it ends", "frame", "CORRUPT"},
        {"R39", "CRC mismatch in a record of the frame (`FHDR`, ancillary, `FDAT`)", "frame", "CORRUPT"},
        {"R40", "Record at the frame's offset is not `FHDR`", "frame", "CORRUPT"},
        {"R41", "`FHDR` payload differs from the index entry's encoding", "frame", "CORRUPT"},
        {"R42", "`QHDR`/`FHDR`/`QIDX`/`QEND`/`EHDR`/`EDAT` before the frame's `FDAT`", "frame", "CORRUPT"},
        {"R43", "Unknown critical record inside a frame", "frame", "UNSUPPORTED"},
        {"R44", "Bytes between the end of `FDAT` and the next frame (or the index)", "frame", "CORRUPT"},
        {"R45", "`FDAT` payload empty; `band_rows` cut short or not in its shortest form", "frame", "CORRUPT"},
        {"R46", "`band_rows` = 0 or > height", "frame", "CORRUPT"},
        {"R47", "Fewer bytes after `band_rows` than band sizes (B - 1)", "frame", "CORRUPT"},
        {"R48", "A band size cut off, not in its shortest form, or larger than the payload", "frame", "CORRUPT"},
        {"R49", "Sum of the band sizes >= the bytes after them (empty last band)", "frame", "CORRUPT"},
        {"R50", "Stored band size != width x channels x rows", "frame", "CORRUPT"},
        {"R51", "Grouping mode 3 (reserved)", "frame", "CORRUPT"},
        {"R52", "Code-length code over-subscribed, incomplete, or a single length != 1", "frame", "CORRUPT"},
        {"R53", "A table present while the code-length code is empty", "frame", "CORRUPT"},
        {"R54", "Length symbol 13 at the first position", "frame", "CORRUPT"},
        {"R55", "Length symbols define more lengths than the alphabet has", "frame", "CORRUPT"},
        {"R56", "Table bits run past the end of the band", "frame", "CORRUPT"},
        {"R57", "Table marked present with all lengths 0", "frame", "CORRUPT"},
        {"R58", "Symbol table over-subscribed, incomplete, or a single symbol of length != 1", "frame", "CORRUPT"},
        {"R59", "An OP table empty (also one no op would use)", "frame", "CORRUPT"},
        {"R60", "Difference symbols coded but a G, R or B table empty", "frame", "CORRUPT"},
        {"R61", "Alpha op symbols coded in an RGB frame, or with table A empty", "frame", "CORRUPT"},
        {"R62", "Match symbols coded but DIST empty", "frame", "CORRUPT"},
        {"R63", "DIST symbol 43 while `column[x]` = 0", "frame", "CORRUPT"},
        {"R64", "Run, match or reference run longer than the pixels left in the band", "frame", "CORRUPT"},
        {"R65", "Match source before the first pixel", "frame", "CORRUPT"},
        {"R66", "Band bits end before its last pixel", "frame", "CORRUPT"},
        {"R67", "A whole unused byte after the last pixel", "frame", "CORRUPT"},
        {"R68", "Non-zero padding bits after the last pixel", "frame", "CORRUPT"},
        {"R69", "DICI palette size class e > 29; N above the band's pixels; palette bits past the band", "frame",
         "CORRUPT"},
        {"R70", "DICI op read with an empty OP table (its context's)", "frame", "CORRUPT"},
        {"R71", "DICI rank L - 1 >= N", "frame", "CORRUPT"},
        {"R72", "DICI run or copy longer than the pixels left in the band", "frame", "CORRUPT"},
        {"R73", "DICI copy from above starting in the band's first row", "frame", "CORRUPT"},
        {"R74", "DICI band: bits end before its last pixel, a whole unused byte, non-zero padding", "frame", "CORRUPT"},
        {"E15", "Entry with `kind` > 2, `method` != 0 or a reserved flag", "entry", "UNSUPPORTED"},
        {"E16", "An entry record cut off by the entry's extent", "entry", "CORRUPT"},
        {"E17", "CRC mismatch in a record of the entry (`EHDR`, ancillary, `EDAT`)", "entry", "CORRUPT"},
        {"E18", "Record at the entry's offset is not `EHDR`", "entry", "CORRUPT"},
        {"E19", "`EHDR` payload differs from the index item's encoding", "entry", "CORRUPT"},
        {"E20", "`QHDR`/`FHDR`/`FDAT`/`QIDX`/`QEND`/`EHDR` before the content is complete", "entry", "CORRUPT"},
        {"E21", "Unknown critical record inside an entry", "entry", "UNSUPPORTED"},
        {"E22", "`EDAT` payload empty", "entry", "CORRUPT"},
        {"E23", "`EDAT` payload making the content longer than `size`", "entry", "CORRUPT"},
        {"E24", "Bytes after the record that completes the content", "entry", "CORRUPT"},
        {"E25", "NUL byte in a symbolic link's target", "entry", "CORRUPT"},
        // The paragraph on metadata after the table.
        {"A01", "Malformed `attr` record, or two in a frame (for the frame's attributes only)", "attributes",
         "CORRUPT"},
        // The paragraphs after the table.
        {"S01", "Sequential readers: a record other than `FHDR`/`EHDR`/`QIDX` after `QHDR`, an `FDAT` or an entry", "frame",
         "CORRUPT"},
        {"S02", "Sequential readers: `QIDX`/`QEND` disagreeing with the frames read", "file", "CORRUPT"},
        {"S03", "Sequential readers: a record past the end of the input, a stream ending before `QEND`", "file",
         "TRUNCATED"},
    };
    return r;
}

// ------------------------------------------------------------ PNG output

void png_chunk(std::vector<uint8_t>& out, const char* type, const std::vector<uint8_t>& data) {
    for (int i = 3; i >= 0; --i) out.push_back(uint8_t(data.size() >> (8 * i)));
    const size_t start = out.size();
    out.insert(out.end(), type, type + 4);
    out.insert(out.end(), data.begin(), data.end());
    const uLong crc = crc32(0, &out[start], uInt(out.size() - start));
    for (int i = 3; i >= 0; --i) out.push_back(uint8_t(crc >> (8 * i)));
}

// An 8-bit RGB or RGBA PNG, every row with filter 0 (so that simple readers
// read it fast), compressed at level 9.
std::vector<uint8_t> png(const Img& img) {
    static const uint8_t kSig[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
    std::vector<uint8_t> out(kSig, kSig + 8), ihdr;
    for (uint32_t v : {img.w, img.h})
        for (int i = 3; i >= 0; --i) ihdr.push_back(uint8_t(v >> (8 * i)));
    ihdr.insert(ihdr.end(), {8, uint8_t(img.c == 4 ? 6 : 2), 0, 0, 0});
    png_chunk(out, "IHDR", ihdr);
    const std::vector<uint8_t> px = img.bytes();
    const size_t row = size_t(img.w) * img.c;
    std::vector<uint8_t> raw;
    raw.reserve(px.size() + img.h);
    for (uint32_t y = 0; y < img.h; ++y) {
        raw.push_back(0);
        raw.insert(raw.end(), px.begin() + long(y * row), px.begin() + long((y + 1) * row));
    }
    uLongf size = compressBound(uLong(raw.size()));
    std::vector<uint8_t> z(size);
    check(compress2(z.data(), &size, raw.data(), uLong(raw.size()), 9) == Z_OK, "zlib failed");
    z.resize(size);
    png_chunk(out, "IDAT", z);
    png_chunk(out, "IEND", {});
    return out;
}

// ------------------------------------------------------------ checks

std::string class_name(qohi_status s) {
    switch (s) {
        case QOHI_ERROR_NOT_QOHI:
            return "NOT_QOHI";
        case QOHI_ERROR_TRUNCATED:
            return "TRUNCATED";
        case QOHI_ERROR_CORRUPT:
            return "CORRUPT";
        case QOHI_ERROR_UNSUPPORTED:
            return "UNSUPPORTED";
        case QOHI_ERROR_LIMIT:
            return "LIMIT";
        case QOHI_OK:
            return "OK";
        default:
            return std::string("status ") + std::to_string(int(s)) + " (" + qohi_status_string(s) + ")";
    }
}

// Every frame, entry and attribute of the case is expected to read.
bool all_ok(const Case& c) {
    bool ok = c.open_error.empty();
    for (const FrameExpect& f : c.frames) ok = ok && f.ok;
    for (const EntryExpect& e : c.entries) ok = ok && e.ok;
    for (const AttrExpect& a : c.frame_attributes) ok = ok && a.error.empty();
    return ok;
}

std::string attrs_text(const std::optional<Attrs>& a) {
    if (!a) return "none";
    return std::to_string(a->mode) + " " + std::to_string(a->mtime) + " " + std::to_string(a->nsec);
}

std::optional<Attrs> attrs_of(const qohi_file_attributes& a) {
    if (!a.present) return std::nullopt;
    return Attrs{a.mode, a.mtime, a.mtime_nsec};
}

qohi_status collect(void* user, const void* data, size_t size) {
    auto* out = static_cast<std::vector<uint8_t>*>(user);
    out->insert(out->end(), static_cast<const uint8_t*>(data), static_cast<const uint8_t*>(data) + size);
    return QOHI_OK;
}

// libqohi's entries and frame attributes against the case's.
void check_entries_with_library(const Case& c, qohi_reader* r, std::string& first_message) {
    auto fail = [&](const std::string& what) { die(c.name + ": libqohi " + what); };
    const uint32_t count = qohi_reader_entry_count(r);
    if (count != c.entries.size())
        fail("sees " + std::to_string(count) + " entries, expected " + std::to_string(c.entries.size()));
    for (uint32_t j = 0; j < count; ++j) {
        const EntryExpect& want = c.entries[j];
        const std::string which = "entry " + std::to_string(j) + ": ";
        qohi_entry_info info{};
        check(qohi_reader_entry_info(r, j, &info) == QOHI_OK, c.name + ": entry info");
        if (std::string(info.name, info.name_size) != want.name || info.kind != want.kind ||
            info.method != want.method || info.size != want.size ||
            attrs_text(attrs_of(info.attributes)) != attrs_text(want.attributes))
            fail(which + "listed otherwise than expected");
        std::vector<uint8_t> got;
        const qohi_status st = qohi_reader_read_entry(r, j, collect, &got);
        if (want.ok) {
            if (st != QOHI_OK) fail(which + class_name(st) + ": " + qohi_reader_message(r));
            if (got != want.content) fail(which + "other content");
        } else {
            if (class_name(st) != want.error)
                fail(which + class_name(st) + " (" + qohi_reader_message(r) + "), expected " + want.error);
            if (first_message.empty()) first_message = qohi_reader_message(r);
        }
    }
    check(c.frame_attributes.size() == c.frames.size(), c.name + ": frame attributes for every frame");
    for (uint32_t i = 0; i < c.frames.size(); ++i) {
        const AttrExpect& want = c.frame_attributes[i];
        qohi_file_attributes a{};
        const qohi_status st = qohi_reader_frame_attributes(r, i, &a);
        const std::string which = "frame " + std::to_string(i) + " attributes: ";
        if (want.error.empty()) {
            if (!c.frames[i].ok) continue;  // the frame's records fail: so do its attributes
            if (st != QOHI_OK) fail(which + class_name(st) + ": " + qohi_reader_message(r));
            if (attrs_text(attrs_of(a)) != attrs_text(want.attributes))
                fail(which + attrs_text(attrs_of(a)) + ", expected " + attrs_text(want.attributes));
        } else {
            if (class_name(st) != want.error)
                fail(which + class_name(st) + " (" + qohi_reader_message(r) + "), expected " + want.error);
            if (first_message.empty()) first_message = qohi_reader_message(r);
        }
    }
}

// Decodes with libqohi (default options) and compares with the case.
void check_with_library(const Case& c) {
    static const uint8_t kEmpty[1] = {0};
    qohi_reader* r = nullptr;
    qohi_error e{};
    const qohi_status st =
        qohi_reader_open_memory(c.file.empty() ? kEmpty : c.file.data(), c.file.size(), nullptr, &r, &e);
    std::string first_message;
    auto fail = [&](const std::string& what) { die(c.name + ": libqohi " + what); };
    if (!c.open_error.empty()) {
        if (st == QOHI_OK) qohi_reader_close(r);
        if (class_name(st) != c.open_error)
            fail("opens with " + class_name(st) + " (" + e.message + "), expected " + c.open_error);
        first_message = e.message;
    } else {
        if (st != QOHI_OK) fail(std::string("cannot open the file: ") + class_name(st) + ": " + e.message);
        const uint32_t count = qohi_reader_frame_count(r);
        if (count != c.frames.size())
            fail("sees " + std::to_string(count) + " frames, expected " + std::to_string(c.frames.size()));
        for (uint32_t i = 0; i < count; ++i) {
            const FrameExpect& want = c.frames[i];
            qohi_frame_info info{};
            check(qohi_reader_frame_info(r, i, &info) == QOHI_OK, c.name + ": frame info");
            // A buffer for the whole frame (the reader checks its size after
            // the frame's own checks and the pixel limit, before its chain's).
            uint64_t n = uint64_t(info.width) * info.height;
            if (n > QOHI_DEFAULT_MAX_PIXELS || info.channels < 3) n = 1;
            std::vector<uint8_t> px(size_t(n) * 4);
            const qohi_status ds = qohi_reader_decode_frame(r, i, px.data(), px.size(), 0, 4);
            const std::string got = class_name(ds);
            if (want.ok) {
                if (ds != QOHI_OK) fail("frame " + std::to_string(i) + ": " + got + ": " + qohi_reader_message(r));
                if (info.width != want.img.w || info.height != want.img.h || info.channels != want.img.c)
                    fail("frame " + std::to_string(i) + ": other size or channels");
                for (size_t k = 0; k < want.img.px.size(); ++k) {
                    const Px& p = want.img.px[k];
                    if (px[4 * k] != p.r || px[4 * k + 1] != p.g || px[4 * k + 2] != p.b || px[4 * k + 3] != p.a)
                        fail("frame " + std::to_string(i) + ": pixel " + std::to_string(k) + " differs");
                }
            } else {
                if (got != want.error)
                    fail("frame " + std::to_string(i) + ": " + got + " (" + qohi_reader_message(r) + "), expected " +
                         want.error);
                if (first_message.empty()) first_message = qohi_reader_message(r);
            }
        }
        if (c.check_entries) {
            check_entries_with_library(c, r, first_message);
        } else if (qohi_reader_entry_count(r) != 0) {
            fail("sees entries in a case that does not check them");
        }
        qohi_reader_close(r);
    }
    if (std::getenv("QOHI_VECTORS_VERBOSE") && !first_message.empty())
        std::fprintf(stderr, "%-45s %s\n", c.name.c_str(), first_message.c_str());
    if (!c.message.empty() && first_message.find(c.message) == std::string::npos)
        fail("reports \"" + first_message + "\", which does not name the intended check (\"" + c.message + "\")");
}

// The tracer must decode a fully valid file to the source pixels and find
// the claimed features; returns what it found.
std::set<std::string> check_with_tracer(const Case& c) {
    if (!all_ok(c)) {
        check(c.features.empty(), c.name + ": features are only traced in files whose frames all decode");
        return {};
    }
    const Trace t = trace_file(c.file);
    if (!t.error.empty()) die(c.name + ": the tracer fails: " + t.error);
    check(t.frames.size() == c.frames.size(), c.name + ": the tracer sees another frame count");
    for (size_t i = 0; i < t.frames.size(); ++i)
        check(t.frames[i] == c.frames[i].img,
              c.name + ": the tracer decodes frame " + std::to_string(i) + " to other pixels");
    if (c.check_entries) {
        check(t.entries.size() == c.entries.size(), c.name + ": the tracer sees another entry count");
        for (size_t j = 0; j < t.entries.size(); ++j) {
            const TracedEntry& e = t.entries[j];
            const EntryExpect& w = c.entries[j];
            const std::optional<Attrs> a =
                (e.flags & 1) ? std::optional<Attrs>(Attrs{e.mode, e.mtime, e.nsec}) : std::nullopt;
            check(e.name == w.name && e.kind == w.kind && e.method == w.method && e.size == w.size &&
                      attrs_text(a) == attrs_text(w.attributes) && e.content == w.content,
                  c.name + ": the tracer reads entry " + std::to_string(j) + " otherwise");
        }
        for (size_t i = 0; i < t.attrs.size(); ++i) {
            const TracedAttrs& a = t.attrs[i];
            const std::optional<Attrs> got = a.present ? std::optional<Attrs>(Attrs{a.mode, a.mtime, a.nsec})
                                                       : std::nullopt;
            check(attrs_text(got) == attrs_text(c.frame_attributes[i].attributes),
                  c.name + ": the tracer reads frame " + std::to_string(i) + "'s attributes otherwise");
        }
    } else {
        check(t.entries.empty(), c.name + ": the tracer finds entries in a case that does not check them");
    }
    for (const std::string& f : c.features) {
        const Feature* cat = nullptr;
        for (const Feature& k : features())
            if (k.id == f) cat = &k;
        check(cat != nullptr, c.name + ": unknown feature " + f);
        for (const std::string& part : cat->all_of.empty() ? std::vector<std::string>{f} : cat->all_of) {
            if (t.features.count(part)) continue;
            std::string seen;
            for (const std::string& x : t.features) seen += " " + x;
            die(c.name + ": the trace does not show " + part + "; it shows:" + seen);
        }
    }
    return t.features;
}

bool covered_by_trace(const Feature& f, const std::set<std::string>& traced) {
    if (f.all_of.empty()) return traced.count(f.id) != 0;
    for (const std::string& part : f.all_of)
        if (!traced.count(part)) return false;
    return true;
}

// ------------------------------------------------------------ output

void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    check(bool(out), "cannot write " + path);
}

void write_text(const std::string& path, const std::string& text) {
    write_file(path, std::vector<uint8_t>(text.begin(), text.end()));
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
    std::string s;
    for (const std::string& x : v) s += (s.empty() ? "" : sep) + x;
    return s;
}

std::string frame_file(size_t i) {
    char name[32];
    std::snprintf(name, sizeof name, "%04zu.png", i);
    return name;
}

// A JSON string of UTF-8 text (names are UTF-8 without NUL, §3.8).
std::string json_string(const std::string& s) {
    std::string o = "\"";
    for (unsigned char ch : s) {
        if (ch == '"' || ch == '\\') {
            o += '\\';
            o += char(ch);
        } else if (ch < 0x20 || ch == 0x7F) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", ch);
            o += buf;
        } else {
            o += char(ch);
        }
    }
    return o + "\"";
}

std::string json_attrs(const std::optional<Attrs>& a) {
    if (!a) return "null";
    return "{\"mode\": " + std::to_string(a->mode) + ", \"mtime\": " + std::to_string(a->mtime) +
           ", \"mtime_nsec\": " + std::to_string(a->nsec) + "}";
}

std::string entry_file(size_t j) {
    char name[32];
    std::snprintf(name, sizeof name, "entry-%04zu.bin", j);
    return name;
}

// entries.json: the entries as a decoder lists them, with their content
// file or the class of the failure to read them, and each frame's
// attributes (format: conformance/README.md).
std::string entries_json(const Case& c) {
    std::ostringstream o;
    o << "{\n \"entries\": [";
    for (size_t j = 0; j < c.entries.size(); ++j) {
        const EntryExpect& e = c.entries[j];
        o << (j ? ",\n" : "\n") << "  {\"name\": " << json_string(e.name) << ", \"kind\": " << e.kind
          << ", \"method\": " << e.method << ", \"size\": " << e.size
          << ", \"attributes\": " << json_attrs(e.attributes) << ", ";
        if (e.ok)
            o << "\"content\": \"" << entry_file(j) << "\"}";
        else
            o << "\"error\": \"" << e.error << "\"}";
    }
    o << (c.entries.empty() ? "],\n" : "\n ],\n") << " \"frames\": [";
    for (size_t i = 0; i < c.frame_attributes.size(); ++i) {
        const AttrExpect& a = c.frame_attributes[i];
        o << (i ? ",\n" : "\n") << "  {";
        if (a.error.empty())
            o << "\"attributes\": " << json_attrs(a.attributes) << "}";
        else
            o << "\"attributes_error\": \"" << a.error << "\"}";
    }
    o << (c.frame_attributes.empty() ? "]\n}\n" : "\n ]\n}\n");
    return o.str();
}

void write_case(const std::string& root, const Case& c, const std::set<std::string>& traced) {
    const std::string dir = root + "/" + c.name;
    check(::mkdir(dir.c_str(), 0755) == 0, "cannot create " + dir + " (does it exist already?)");
    write_file(dir + "/input.qohi", c.file);
    std::ostringstream exp;
    exp << "# " << c.name << ": expected result (format: conformance/README.md)\n";
    if (!c.open_error.empty()) {
        exp << "open error " << c.open_error << "\n";
    } else {
        exp << "frames " << c.frames.size() << "\n";
        for (size_t i = 0; i < c.frames.size(); ++i) {
            if (c.frames[i].ok) {
                exp << "frame " << i << " ok " << frame_file(i) << "\n";
                write_file(dir + "/" + frame_file(i), png(c.frames[i].img));
            } else {
                exp << "frame " << i << " error " << c.frames[i].error << "\n";
            }
        }
        if (c.check_entries) {
            exp << "entries " << c.entries.size() << "\n";
            write_text(dir + "/entries.json", entries_json(c));
            for (size_t j = 0; j < c.entries.size(); ++j)
                if (c.entries[j].ok) write_file(dir + "/" + entry_file(j), c.entries[j].content);
        }
    }
    write_text(dir + "/expected.txt", exp.str());
    std::ostringstream t;
    t << "name: " << c.name << "\nsummary: " << c.summary << "\nspec: " << c.spec << "\n";
    if (!c.errors.empty()) t << "invalid inputs (spec 9.3 rows, see README): " << join(c.errors, " ") << "\n";
    if (!c.features.empty()) t << "exercises (checked by the tracer): " << join(c.features, " ") << "\n";
    if (!c.claims.empty()) t << "made as (stated): " << join(c.claims, " ") << "\n";
    if (!traced.empty()) {
        std::vector<std::string> all(traced.begin(), traced.end());
        t << "traced: " << join(all, " ") << "\n";
    }
    if (!c.tags.empty()) t << "tags: " << join(c.tags, " ") << "\n";
    t << "\n" << c.details << "\n";
    write_text(dir + "/case.txt", t.str());
}

// The coverage tables for conformance/README.md.
std::string coverage(const std::vector<Case>& cases, const std::map<std::string, std::set<std::string>>& traced) {
    std::ostringstream o;
    size_t valid = 0;
    for (const Case& c : cases) valid += all_ok(c);
    o << cases.size() << " cases: " << valid << " valid files, " << cases.size() - valid
      << " files that must not open or have frames, entries or attributes that must not read.\n\n";
    o << "### Spec features\n\n"
      << "A case covers a feature when the generator's tracer found it while decoding the case; "
         "features marked (claimed) are stated by the case instead: how the file was made.\n\n"
      << "| Feature | Spec | Cases |\n|---|---|---|\n";
    for (const Feature& f : features()) {
        std::vector<std::string> names;
        for (const Case& c : cases) {
            const bool claimed = std::find(c.claims.begin(), c.claims.end(), f.id) != c.claims.end();
            if (claimed || covered_by_trace(f, traced.at(c.name))) names.push_back("`" + c.name + "`");
        }
        check(!names.empty(), "no case covers the feature " + f.id);
        if (names.size() > 6) {
            const size_t more = names.size() - 5;
            names.resize(5);
            names.push_back("and " + std::to_string(more) + " more");
        }
        o << "| " << f.text << " (`" << f.id << "`) | " << f.spec << " | " << join(names, ", ") << " |\n";
    }
    o << "\n### Invalid inputs (spec §9.3)\n\n"
      << "Rows R01-R74 are the table's rows about frames and the file (§9.3), in its order; E01-E25 its rows "
         "about entries (§3.15), also in its order (E01-E14 follow R33, E15-E25 follow R74); A01 the "
         "paragraph on `attr` records after it, and S01-S03 the sequential readers' additional rules.\n\n"
      << "| Row | Invalid input | Scope | Class | Cases |\n|---|---|---|---|---|\n";
    for (const ErrorRow& e : error_rows()) {
        std::vector<std::string> names;
        for (const Case& c : cases)
            if (std::find(c.errors.begin(), c.errors.end(), e.id) != c.errors.end())
                names.push_back("`" + c.name + "`");
        check(!names.empty(), "no case covers the invalid input " + e.id);
        o << "| " << e.id << " | " << e.text << " | " << e.scope << " | " << e.cls << " | " << join(names, ", ")
          << " |\n";
    }
    return o.str();
}

void update_readme(const std::string& path, const std::string& table) {
    std::ifstream in(path);
    check(bool(in), "cannot read " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    const std::string begin = "<!-- BEGIN GENERATED COVERAGE (qohi_conformance_vectors) -->\n";
    const std::string end = "<!-- END GENERATED COVERAGE -->";
    const size_t b = text.find(begin), e = text.find(end);
    check(b != std::string::npos && e != std::string::npos && b < e, path + " has no coverage markers");
    text = text.substr(0, b + begin.size()) + "\n" + table + "\n" + text.substr(e);
    write_text(path, text);
}

}  // namespace

void add_case(std::function<Case()> make) { registry().push_back(std::move(make)); }

}  // namespace vec

int main(int argc, char** argv) {
    using namespace vec;
    if (argc < 2 || argc > 3) {
        std::fprintf(stderr, "usage: qohi_conformance_vectors OUT_DIR [README.md]\n");
        return 2;
    }
    add_valid_cases();
    add_dici_cases();
    add_invalid_cases();
    add_entry_cases();
    std::vector<Case> cases;
    std::map<std::string, std::set<std::string>> traced;
    for (auto& make : registry()) {
        current_case() = std::to_string(cases.size()) + " (after " + (cases.empty() ? "none" : cases.back().name) + ")";
        Case c = make();
        current_case().clear();
        check(!traced.count(c.name), "two cases named " + c.name);
        check(!c.errors.empty() || !c.features.empty() || !c.claims.empty(), c.name + " covers nothing");
        for (const std::string& id : c.errors) {
            bool known = false;
            for (const ErrorRow& e : error_rows()) known = known || e.id == id;
            check(known, c.name + ": unknown row " + id);
        }
        check_with_library(c);
        traced[c.name] = check_with_tracer(c);
        cases.push_back(std::move(c));
    }
    const std::string root = argv[1];
    ::mkdir(root.c_str(), 0755);
    size_t valid = 0, bytes = 0;
    for (const Case& c : cases) {
        write_case(root, c, traced[c.name]);
        valid += all_ok(c);
        bytes += c.file.size();
    }
    const std::string table = coverage(cases, traced);
    if (argc == 3) update_readme(argv[2], table);
    std::printf("qohi_conformance_vectors: %zu cases (%zu valid, %zu with errors), %zu bytes of inputs, in %s\n",
                cases.size(), valid, cases.size() - valid, bytes, root.c_str());
    return 0;
}
