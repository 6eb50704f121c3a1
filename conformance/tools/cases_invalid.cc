// Invalid vectors: files that must not open, and files with frames that
// must not decode (the others still must). Every case changes one thing in
// an otherwise valid file, with every CRC, offset and index entry that does
// not take part made consistent, so that the intended check is the one that
// fails (the generator also checks libqohi's message for it).
#include "vec_cases.h"

namespace vec {
namespace {

// ------------------------------------------------------------ building blocks

// A valid three-frame file that the file-level cases damage: an RGB frame,
// an RGBA frame with a text record and an unknown ancillary record, and a
// delta frame on frame 0.
struct Base {
    File f;
    std::vector<Img> imgs;
};
Base base() {
    Base b;
    const Img f0 = gradient(6, 4, 3);
    const Img f1 = noise(5, 3, 4, 7);
    Img f2 = f0;
    f2.px[7] = Px{200, 10, 10, 255};
    Frame a = qohi_frame(f0, "first");
    Frame c = qohi_frame(f1, "second");
    c.before = {keyed_record("text", "Comment", "second frame"), plain_record("zzzz", "ancillary")};
    Frame d = qohi_frame(f2, "third", &f0, 2);
    b.f.frames = {a, c, d};
    b.imgs = {f0, f1, f2};
    return b;
}

std::vector<FrameExpect> all_ok(const std::vector<Img>& imgs) {
    std::vector<FrameExpect> v;
    for (const Img& img : imgs) v.push_back(ok(img));
    return v;
}

// The base file with frame `i` changed by `edit`, its FHDR and index entry
// agreeing with the new header: for the validity checks of §3.7, which a
// random-access reader makes on the index and a sequential one on FHDR.
std::vector<uint8_t> base_with_header(size_t i, const std::function<void(Header&)>& edit, uint16_t max_depth = 16) {
    Base b = base();
    b.f.max_depth = max_depth;
    edit(b.f.frames[i].h);
    return build(b.f);
}

// A delta-frame file: frame 0 intra, frame 1 a delta frame on it with the
// band `band`, frame 2 valid.
std::vector<uint8_t> with_delta_band(const Img& ref, const std::vector<uint8_t>& band) {
    File f;
    Frame d;
    d.h = Header{ref.w, ref.h, uint8_t(ref.c), 8, 1, 0, 1, "delta"};
    put_varint(d.fdat, ref.h);
    d.fdat.insert(d.fdat.end(), band.begin(), band.end());
    f.frames = {qohi_frame(ref, "ref"), d, qohi_frame(good_img(), "good")};
    return build(f);
}

const Img& small_img() {  // 4 x 2 RGB, distinct colours
    static const Img img = make_img(4, 2, 3, [](uint32_t x, uint32_t y) {
        return Px{uint8_t(x * 50 + 10), uint8_t(y * 90 + 20), uint8_t(x * y * 30 + 5), 255};
    });
    return img;
}

std::vector<uint8_t> cut(const std::vector<uint8_t>& file, size_t size) {
    return std::vector<uint8_t>(file.begin(), file.begin() + long(size));
}

uint8_t class_extra(uint64_t length, uint64_t& extra, unsigned& bits) {
    const LengthClass c = length_class(length);
    extra = c.extra;
    bits = c.nbits;
    return uint8_t(c.cls);
}

// Raw op-stream pieces for BandWriter::raw().
void raw_run(BandWriter& b, uint64_t length) {
    uint64_t extra;
    unsigned bits;
    b.raw(kOp, 2u + class_extra(length, extra, bits));
    b.raw_bits(extra, bits);
}
void raw_refrun(BandWriter& b, uint64_t length) {
    uint64_t extra;
    unsigned bits;
    b.raw(kOp, 342u + class_extra(length, extra, bits));
    b.raw_bits(extra, bits);
}
// A match with DIST symbol `dist_symbol` (0, 43) or, with dist_symbol < 0,
// the class of `distance`.
void raw_match(BandWriter& b, uint64_t length, int dist_symbol, uint64_t distance = 0) {
    uint64_t extra;
    unsigned bits;
    b.raw(kOp, 299u + class_extra(length, extra, bits));
    b.raw_bits(extra, bits);
    if (dist_symbol >= 0) {
        b.raw(kDist, unsigned(dist_symbol));
        return;
    }
    b.raw(kDist, 1u + class_extra(distance, extra, bits));
    b.raw_bits(extra, bits);
}

// A band start written by hand: the grouping field, `clen`, then `tables`
// (6 of them for mode 0), then `tail` raw bits.
std::vector<uint8_t> hand_band(unsigned field, const std::array<uint8_t, 16>& clen,
                               const std::vector<TableSpec>& tables,
                               const std::vector<std::pair<uint64_t, unsigned>>& tail = {}) {
    BitSink s;
    write_table_section(s, field, clen, tables);
    for (auto [v, n] : tail) s.put(v, n);
    return s.bytes();
}

// ------------------------------------------------------------ cases

void signature_cases() {
    const std::vector<uint8_t> good = build(base().f);
    add_case([good] {
        return open_case("invalid-sig-empty", {}, "NOT_QOHI", {"R01"}, "not a QOHI file", "An empty file", "§3.2");
    });
    add_case([good] {
        std::vector<uint8_t> f = good;
        const uint8_t png[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
        std::copy(png, png + 8, f.begin());
        return open_case("invalid-sig-png", f, "NOT_QOHI", {"R01"}, "bad signature",
                         "A valid file whose signature is PNG's", "§3.2");
    });
    add_case([good] {
        std::vector<uint8_t> f = good;
        f[7] = 0x0B;
        return open_case("invalid-sig-last-byte", f, "NOT_QOHI", {"R01"}, "bad signature",
                         "A valid file with the last signature byte changed (0x1A -> 0x0B)", "§3.2");
    });
    add_case([] {
        return open_case("invalid-sig-short-other", {'G', 'I', 'F', '8', '9'}, "NOT_QOHI", {"R01"}, "not a QOHI file",
                         "5 bytes that are not a prefix of the signature", "§3.2");
    });
    for (size_t n : {size_t(1), size_t(7)}) {
        add_case([good, n] {
            return open_case("invalid-cut-in-signature-" + std::to_string(n), cut(good, n), "TRUNCATED", {"R02"},
                             "inside the signature",
                             "The first " + std::to_string(n) + " byte" + (n > 1 ? "s" : "") + " of the signature",
                             "§3.2");
        });
    }
}

void qhdr_cases() {
    const std::vector<uint8_t> good = build(base().f);
    add_case([good] {
        return open_case("invalid-cut-in-qhdr-header", cut(good, 18), "TRUNCATED", {"R03", "S03"},
                         "inside a record header", "The file ends 10 bytes into the QHDR record", "§3.3, §3.6");
    });
    add_case([good] {
        return open_case("invalid-cut-in-qhdr-payload", cut(good, 24), "TRUNCATED", {"R03", "S03"},
                         "past the end of the file",
                         "The file ends inside the QHDR payload (its length runs past the end)", "§3.3, §3.6");
    });
    add_case([good] {
        std::vector<uint8_t> f = good;
        f[8 + 8 + 4] ^= 1;  // max_chain_depth, CRC left as it was
        return open_case("invalid-crc-qhdr", f, "CORRUPT", {"R04"}, "CRC mismatch",
                         "QHDR payload changed without its CRC", "§3.3");
    });
    add_case([good] {
        std::vector<uint8_t> f = good;
        f.erase(f.begin() + 8, f.begin() + 28);  // the QHDR record
        return open_case("invalid-qhdr-missing", f, "CORRUPT", {"R05"}, "first record is",
                         "The first record is the first frame's FHDR (no QHDR)", "§3.6");
    });
    struct Q {
        const char* name;
        std::vector<uint8_t> payload;
        const char* cls;
        const char* row;
        const char* message;
        const char* summary;
    };
    const std::vector<Q> qs = {
        {"invalid-qhdr-payload-1", {1}, "CORRUPT", "R06", "too short", "A QHDR payload of 1 byte"},
        {"invalid-qhdr-version-0", {0, 0, 0, 0, 16, 0, 0, 0}, "UNSUPPORTED", "R07", "format version", "QHDR version 0"},
        {"invalid-qhdr-version-2", {2, 0, 0, 0, 16, 0, 0, 0}, "UNSUPPORTED", "R07", "format version", "QHDR version 2"},
        {"invalid-qhdr-version-2-size-10",
         {2, 0, 0, 0, 16, 0, 0, 0, 0, 0},
         "UNSUPPORTED",
         "R07",
         "format version",
         "QHDR version 2 with a 10-byte payload: the version is checked before the size"},
        {"invalid-qhdr-size-10",
         {1, 0, 0, 0, 16, 0, 0, 0, 0, 0},
         "CORRUPT",
         "R08",
         "wrong size",
         "A version-1 QHDR payload of 10 bytes"},
        {"invalid-qhdr-flags", {1, 0, 1, 0, 16, 0, 0, 0}, "UNSUPPORTED", "R09", "flags", "QHDR flags 1"},
        {"invalid-qhdr-reserved", {1, 0, 0, 0, 16, 0, 0, 1}, "CORRUPT", "R10", "reserved", "QHDR reserved field 256"},
    };
    for (const Q& q : qs) {
        add_case([q] {
            Base b = base();
            b.f.qhdr = q.payload;
            return open_case(q.name, build(b.f), q.cls, {q.row}, q.message, q.summary, "§3.6",
                             std::string(q.summary) +
                                 ", its CRC correct; the rest of the file is valid (with "
                                 "offsets as the different QHDR size leaves them).");
        });
    }
}

void trailer_cases() {
    const Base b = base();
    const std::vector<uint8_t> good = build(b.f);
    add_case([good] {
        return open_case("invalid-cut-after-qhdr", cut(good, 28), "TRUNCATED", {"R11", "S03"},
                         "before its index trailer", "Signature and QHDR only (28 bytes)", "§3.12");
    });
    add_case([good] {
        return open_case("invalid-cut-at-51", cut(good, 51), "TRUNCATED", {"R11", "S03"}, "before its index trailer",
                         "The first 51 bytes of a valid file (one less than the smallest file)", "§3.12");
    });
    add_case([good] {
        std::vector<uint8_t> f = good;
        f.push_back(0);
        return open_case("invalid-appended-byte", f, "TRUNCATED", {"R12"}, "no valid trailer",
                         "A valid file with one byte appended after QEND", "§3.12, §3.14");
    });
    add_case([good] {
        std::vector<uint8_t> f = good;
        f.insert(f.end(), good.end() - 24, good.end());  // the trailer twice
        return open_case("invalid-appended-trailer-copy", f, "CORRUPT", {"R12"}, "between the index and the trailer",
                         "A valid file with a second copy of its trailer appended", "§3.12, §3.14",
                         "The last 24 bytes are a valid QEND record again (the same index offset), so the file "
                         "is read through it, and the index no longer ends where the trailer starts: CORRUPT, "
                         "not TRUNCATED.");
    });
    add_case([] {
        // A stored frame whose pixels are the 24 bytes of a QEND record
        // (index_offset 28, 1 frame), the file cut right after them.
        std::vector<uint8_t> qend;
        for (char ch : std::string("QEND")) qend.push_back(uint8_t(ch));
        put_u32(qend, 12);
        put_u64(qend, 28);
        put_u32(qend, 1);
        put_u32(qend, 0);  // the CRC, below
        fix_crc(qend, Span{0, "QEND", 12});
        Img img(8, 1, 3);
        for (size_t k = 0; k < 8; ++k) img.px[k] = Px{qend[3 * k], qend[3 * k + 1], qend[3 * k + 2], 255};
        File f;
        f.frames = {stored_frame(img), qohi_frame(gradient(3, 3, 3))};
        const std::vector<uint8_t> whole = build(f);
        const Span fdat = find(whole, "FDAT");
        return open_case("invalid-cut-after-embedded-qend", cut(whole, fdat.end() - 4), "CORRUPT", {"R17"},
                         "does not point at the index",
                         "A file cut right after stored pixels that happen to form a valid QEND record", "§3.12, §9.2",
                         "The one exception to \"a cut file is TRUNCATED\" (§9.2): the last 24 bytes of the cut "
                         "file are stored pixels that form a valid QEND record pointing at offset 28, where an "
                         "FHDR is, not a QIDX: CORRUPT.");
    });
    add_case([good] {
        std::vector<uint8_t> f = good;
        f.back() ^= 0x40;
        return open_case("invalid-crc-qend", f, "TRUNCATED", {"R13"}, "no valid trailer", "QEND's CRC damaged",
                         "§3.12");
    });
    add_case([good] {
        std::vector<uint8_t> f = good;
        const Span s = find(f, "QEND");
        f[s.offset + 3] = 'X';
        Span t = s;
        t.type = "QENX";
        fix_crc(f, t);
        return open_case("invalid-qend-type", f, "TRUNCATED", {"R13"}, "no valid trailer",
                         "The trailer record's type is QENX (CRC correct)", "§3.12");
    });
    add_case([good] {
        std::vector<uint8_t> f = good;
        const Span s = find(f, "QEND");
        f[s.offset + 4] = 11;
        Span t = s;
        t.size = 11;
        fix_crc(f, t);
        return open_case("invalid-qend-length-11", f, "TRUNCATED", {"R13"}, "no valid trailer",
                         "The trailer record's length is 11 (its CRC correct for 11 bytes)", "§3.12");
    });
    add_case([good] {
        std::vector<uint8_t> f = good;
        f[find(f, "QEND").offset + 4] = 13;
        return open_case("invalid-qend-length-13", f, "TRUNCATED", {"R13"}, "no valid trailer",
                         "The trailer record's length is 13: it runs past the end of the file", "§3.12");
    });
    for (const bool low : {true, false}) {
        add_case([good, low] {
            File f = base().f;
            f.index_offset = low ? 27 : good.size() - 35;
            return open_case(low ? "invalid-trailer-offset-27" : "invalid-trailer-offset-high", build(f), "CORRUPT",
                             {"R14"}, "trailer points outside",
                             low ? "index_offset 27, before the first frame"
                                 : "index_offset = file size - 35: no room for a record before the trailer",
                             "§3.12");
        });
    }
    // Truncation at each structural point: always TRUNCATED (§9.2).
    const std::vector<Span> sp = spans(good);
    const Span text = find(good, "text"), fdat = find(good, "FDAT"), qidx = find(good, "QIDX");
    const Span qend = find(good, "QEND");
    struct Cut {
        const char* name;
        size_t at;
        const char* where;
    };
    const std::vector<Cut> cuts = {
        {"invalid-cut-in-fhdr-header", 28 + 5, "inside the first FHDR's record header"},
        {"invalid-cut-in-fhdr-payload", 28 + 12 + 2, "inside the first FHDR's payload"},
        {"invalid-cut-in-fdat", fdat.payload() + fdat.size / 2, "inside the first FDAT's payload"},
        {"invalid-cut-after-frame", fdat.end(), "right after frame 0 (at a record boundary)"},
        {"invalid-cut-in-metadata", text.payload() + 3, "inside frame 1's text record"},
        {"invalid-cut-before-index", qidx.offset, "right before the index"},
        {"invalid-cut-in-index", qidx.payload() + qidx.size / 2, "inside the index"},
        {"invalid-cut-before-trailer", qend.offset, "right before the trailer"},
        {"invalid-cut-in-trailer", good.size() - 5, "inside the trailer (5 bytes short)"},
    };
    for (const Cut& c : cuts) {
        add_case([good, c] {
            const bool short_file = c.at < 52;  // shorter than any complete file
            return open_case(c.name, cut(good, c.at), "TRUNCATED", {short_file ? "R11" : "R13", "S03"},
                             short_file ? "before its index trailer" : "no valid trailer",
                             std::string("A valid 3-frame file cut ") + c.where, "§3.12, §9.2",
                             std::string("A valid 3-frame file cut ") + c.where + " (" + std::to_string(c.at) +
                                 " bytes): the last 24 bytes are not a trailer. A file cut anywhere after the "
                                 "signature is TRUNCATED, never CORRUPT.");
        });
    }
}

void index_cases() {
    const std::vector<uint8_t> good = build(base().f);
    add_case([good] {
        std::vector<uint8_t> f = good;
        f[find(f, "QIDX").offset + 4]++;
        return open_case("invalid-qidx-past-trailer", f, "CORRUPT", {"R15"}, "runs past",
                         "QIDX's length runs 1 byte into the trailer", "§3.12");
    });
    add_case([good] {
        std::vector<uint8_t> f = good;
        f[find(f, "QIDX").payload() + 5] ^= 0x10;
        return open_case("invalid-crc-qidx", f, "CORRUPT", {"R16"}, "CRC mismatch", "An index byte changed, CRC not",
                         "§3.12");
    });
    add_case([good] {
        File f = base().f;
        f.index_offset = find(good, "FHDR", 2).offset;
        return open_case("invalid-qidx-wrong-record", build(f), "CORRUPT", {"R17"}, "does not point at the index",
                         "index_offset points at frame 2's FHDR", "§3.12");
    });
    add_case([] {
        File f = base().f;
        f.after_index = {plain_record("zzzz", "between")};
        return open_case("invalid-qidx-gap", build(f), "CORRUPT", {"R18"}, "between the index and the trailer",
                         "An ancillary record between QIDX and QEND", "§3.12");
    });
    add_case([] {
        File f;
        f.edit_index = [](std::vector<uint8_t>& x) { x.resize(3); };
        return open_case("invalid-qidx-payload-3", build(f), "CORRUPT", {"R19"}, "frame count",
                         "A file without frames whose QIDX payload has 3 bytes", "§3.11");
    });
    add_case([] {
        File f = base().f;
        f.trailer_count = 2;
        return open_case("invalid-qidx-count-mismatch", build(f), "CORRUPT", {"R19", "S02"}, "frame count",
                         "The trailer says 2 frames, the index 3", "§3.11, §3.12");
    });
    add_case([] {
        File f = base().f;
        f.trailer_count = 1000;
        f.edit_index = [](std::vector<uint8_t>& x) { x[0] = 0xE8, x[1] = 0x03; };
        return open_case("invalid-qidx-count-1000", build(f), "CORRUPT", {"R20"}, "too short for its frame count",
                         "Index and trailer say 1000 frames; the index holds 3 entries", "§3.11",
                         "frame_count 1000 in both; 1000 x 10 bytes exceed the payload, which a decoder "
                         "must check before allocating anything for the entries.");
    });
    add_case([] {
        File f = base().f;
        f.edit_index = [](std::vector<uint8_t>& x) { x.pop_back(); };
        return open_case("invalid-index-entry-cut-suffix", build(f), "CORRUPT", {"R21"}, "index entry",
                         "The last index entry loses the last byte of its name suffix", "§3.11");
    });
    add_case([] {
        File f = base().f;
        f.raw_entry = [](const EntryContext& e) -> std::optional<std::vector<uint8_t>> {
            if (e.i != 2) return std::nullopt;
            return std::vector<uint8_t>{0xC0};  // offset_delta cut after its first byte
        };
        return open_case("invalid-index-entry-cut-varint", build(f), "CORRUPT", {"R21"}, "index entry",
                         "The last index entry is one byte: a varint cut short", "§3.11");
    });
    auto entry_with = [](size_t which, const std::function<void(const EntryContext&, std::vector<uint8_t>&)>& make) {
        File f = base().f;
        f.raw_entry = [which, make](const EntryContext& e) -> std::optional<std::vector<uint8_t>> {
            if (e.i != which) return std::nullopt;
            std::vector<uint8_t> out;
            make(e, out);
            return out;
        };
        return build(f);
    };
    add_case([entry_with] {
        const auto f = entry_with(1, [](const EntryContext& e, std::vector<uint8_t>& out) {
            put_varint(out, e.offset_delta);
            put_varint(out, 0);
            put_varint(out, e.h.w, 2);  // width 5 as 85 00
            std::vector<uint8_t> rest;
            put_header_fields(rest, e.h, e.h.name);
            out.insert(out.end(), rest.begin() + 1, rest.end());
        });
        return open_case("invalid-index-varint-not-shortest", f, "CORRUPT", {"R22"}, "index entry",
                         "Index entry 1 writes width 5 as 85 00", "§1.3, §3.11");
    });
    add_case([entry_with] {
        const auto f = entry_with(1, [](const EntryContext& e, std::vector<uint8_t>& out) {
            for (int k = 0; k < 9; ++k) out.push_back(0x80 | (k == 0 ? uint8_t(e.offset_delta & 0x7F) : 0));
            out.push_back(0x02);  // a tenth byte above 1: 65 bits
            put_varint(out, 0);
            put_header_fields(out, e.h, e.h.name);
        });
        return open_case("invalid-index-varint-65-bits", f, "CORRUPT", {"R22"}, "index entry",
                         "Index entry 1's offset_delta is a 10-byte varint whose tenth byte is 0x02", "§1.3");
    });
    add_case([entry_with] {
        const auto f = entry_with(1, [](const EntryContext& e, std::vector<uint8_t>& out) {
            put_varint(out, uint64_t(1) << 40);
            put_varint(out, 0);
            put_header_fields(out, e.h, e.h.name);
        });
        return open_case("invalid-index-offset-delta-huge", f, "CORRUPT", {"R23"}, "index entry",
                         "Index entry 1's offset_delta is 2^40, more than the file size", "§3.11");
    });
    for (const bool entry0 : {false, true}) {
        add_case([entry_with, entry0] {
            const auto f = entry_with(entry0 ? 0 : 1, [entry0](const EntryContext& e, std::vector<uint8_t>& out) {
                put_varint(out, e.offset_delta);
                put_varint(out, entry0 ? 1 : e.previous_name.size() + 1);
                put_header_fields(out, e.h, e.h.name);
            });
            return open_case(entry0 ? "invalid-index-shared-entry-0" : "invalid-index-shared-too-long", f, "CORRUPT",
                             {"R24"}, "index entry",
                             entry0 ? "Index entry 0 has shared = 1 (there is no previous name)"
                                    : "Index entry 1 shares 6 bytes with the 5-byte name before it",
                             "§3.11");
        });
    }
    add_case([entry_with] {
        const auto f = entry_with(1, [](const EntryContext& e, std::vector<uint8_t>& out) {
            put_varint(out, e.offset_delta);
            put_varint(out, 3);  // "fir" of "first"
            Header h = e.h;
            h.name.clear();
            put_header_fields(out, h, "");
            out.pop_back();          // the empty name's size ...
            put_varint(out, 65533);  // ... replaced: 3 + 65533 > 65535
            out.insert(out.end(), {'s', 't'});
        });
        return open_case("invalid-index-suffix-size-over-max", f, "CORRUPT", {"R25"}, "field out of range",
                         "Index entry 1 shares 3 bytes and declares a suffix of 65,533 (at most 65,532)", "§3.11");
    });
    struct H {
        const char* name;
        size_t frame;
        std::function<void(Header&)> edit;
        const char* row;
        const char* message;
        const char* summary;
        uint16_t max_depth;
    };
    const std::vector<H> hs = {
        {"invalid-width-over-max", 1, [](Header& h) { h.w = (1u << 24) + 1; }, "R25", "field out of range",
         "Frame 1 is 16,777,217 pixels wide (FHDR and index)", 16},
        {"invalid-height-over-max", 1, [](Header& h) { h.h = (1u << 24) + 1; }, "R25", "field out of range",
         "Frame 1 is 16,777,217 pixels high", 16},
        {"invalid-ref-distance-over-max", 2, [](Header& h) { h.dist = uint64_t(1) << 32; }, "R25", "field out of range",
         "Frame 2's ref_distance is 2^32", 16},
        {"invalid-ref-before-first", 0, [](Header& h) { h.dist = 1; }, "R26", "before the first",
         "Frame 0 refers 1 frame back", 16},
        {"invalid-ref-distance-max", 2, [](Header& h) { h.dist = 0xFFFFFFFFu; }, "R26", "before the first",
         "Frame 2's ref_distance is 2^32 - 1 (valid varint, before frame 0)", 16},
        {"invalid-zero-width", 1, [](Header& h) { h.w = 0; }, "R27", "zero width or height", "Frame 1 has width 0", 16},
        {"invalid-zero-height", 1, [](Header& h) { h.h = 0; }, "R27", "zero width or height", "Frame 1 has height 0",
         16},
        {"invalid-too-many-pixels", 1, [](Header& h) { h.w = h.h = 1u << 15; }, "R27", "exceed the format's limits",
         "Frame 1 is 32768 x 32768 (2^30 pixels, more than 2^29)", 16},
        {"invalid-channels-0", 1, [](Header& h) { h.c = 0; }, "R27", "channel count", "Frame 1 has 0 channels", 16},
        {"invalid-channels-5", 1, [](Header& h) { h.c = 5; }, "R27", "channel count", "Frame 1 has 5 channels", 16},
        {"invalid-bit-depth-7", 1, [](Header& h) { h.depth = 7; }, "R27", "bit depth", "Frame 1 has bit depth 7", 16},
        {"invalid-ref-other-width", 2, [](Header& h) { h.w = 5; }, "R29", "differs in size or channels",
         "Frame 2 (5 x 4) refers to frame 0 (6 x 4)", 16},
        {"invalid-ref-other-channels", 2, [](Header& h) { h.c = 4; }, "R29", "differs in size or channels",
         "Frame 2 (RGBA) refers to frame 0 (RGB)", 16},
        {"invalid-ref-other-bit-depth", 2, [](Header& h) { h.depth = 16; }, "R29", "differs in size or channels",
         "Frame 2 (16-bit, reserved) refers to frame 0 (8-bit): the size check comes first", 16},
        {"invalid-stored-with-reference", 2, [](Header& h) { h.method = 0; }, "R30", "not a QOHI frame",
         "Frame 2 is stored (method 0) and has a reference", 16},
        {"invalid-chain-over-max-depth-0", 2, [](Header&) {}, "R31", "reference chain longer",
         "A delta frame in a file whose max_chain_depth is 0", 0},
    };
    for (const H& h : hs) {
        add_case([h] {
            return open_case(h.name, base_with_header(h.frame, h.edit, h.max_depth), "CORRUPT", {h.row}, h.message,
                             h.summary, "§3.7, §3.11",
                             std::string(h.summary) +
                                 "; the FHDR and the index entry agree, so random-access "
                                 "and sequential readers meet the same invalid header.");
        });
    }
    add_case([] {
        Base b = base();
        b.f.max_depth = 1;
        Img f3 = b.imgs[2];
        f3.px[0] = Px{1, 1, 1, 255};
        b.f.frames.push_back(qohi_frame(f3, "fourth", &b.imgs[2], 1));
        return open_case("invalid-chain-too-deep", build(b.f), "CORRUPT", {"R31"}, "reference chain longer",
                         "max_chain_depth 1; frame 3 refers to frame 2, itself a delta frame (depth 2)", "§3.6, §3.7");
    });
    // Names (§3.8).
    struct N {
        const char* name;
        std::string bytes;
        const char* what;
    };
    const std::vector<N> names = {
        {"invalid-name-nul", std::string("a\0b", 3), "a NUL byte"},
        {"invalid-name-lone-continuation", "a\x80", "a continuation byte without a lead byte"},
        {"invalid-name-overlong", "\xc0\xaf", "an overlong 2-byte form of '/'"},
        {"invalid-name-overlong-3", "\xe0\x80\xaf", "an overlong 3-byte form"},
        {"invalid-name-surrogate", "\xed\xa0\x80", "a UTF-16 surrogate (U+D800)"},
        {"invalid-name-beyond-unicode", "\xf4\x90\x80\x80", "U+110000, beyond Unicode"},
        {"invalid-name-cut-sequence", "ab\xe6\x97", "a 3-byte sequence cut by the end of the name"},
        {"invalid-name-lead-f5", "\xf5\x80\x80\x80", "the lead byte 0xF5"},
    };
    for (const N& n : names) {
        add_case([n] {
            return open_case(n.name, base_with_header(1, [&](Header& h) { h.name = n.bytes; }), "CORRUPT", {"R27"},
                             "not valid UTF-8", std::string("Frame 1's name has ") + n.what, "§3.8");
        });
    }
    add_case([] {
        Base b = base();
        b.f.frames[0].h.name = "x/\xc3\xa9";
        b.f.frames[1].h.name = "x/\xc3z";  // front-coded: shares "x/\xc3", suffix "z"
        return open_case("invalid-name-front-coded", build(b.f), "CORRUPT", {"R27"}, "not valid UTF-8",
                         "Index entry 1 shares 3 bytes of \"x/é\" and adds \"z\": a valid suffix, an invalid name",
                         "§3.8, §3.11",
                         "Entry 1's suffix \"z\" is valid UTF-8, but the full name x/ 0xC3 z is not; the name rules "
                         "apply to the full name.");
    });
    // Offsets (§3.11 step 3.2).
    struct O {
        const char* name;
        size_t frame;
        std::function<uint64_t(const EntryContext&)> delta;
        const char* summary;
        const char* message;
    };
    // Frame 0 after offset 28 is found by the check that frames and entries
    // tile the file (§3.11 check 6).
    const std::vector<O> os = {
        {"invalid-frame-0-offset-29", 0, [](const EntryContext&) { return uint64_t(29); },
         "Index entry 0 puts frame 0 at offset 29", "does not start right after the file header"},
        {"invalid-frame-offset-too-close", 1, [](const EntryContext&) { return uint64_t(11); },
         "Index entry 1 puts frame 1 11 bytes after frame 0", "invalid frame offset"},
        {"invalid-frame-offset-at-index", 2,
         [](const EntryContext& e) { return e.offset_delta + (e.index_offset - e.offset); },
         "Index entry 2 puts frame 2 at the index offset", "invalid frame offset"},
    };
    for (const O& o : os) {
        add_case([o] {
            File f = base().f;
            f.raw_entry = [o](const EntryContext& e) -> std::optional<std::vector<uint8_t>> {
                if (e.i != o.frame) return std::nullopt;
                std::vector<uint8_t> out;
                put_varint(out, o.delta(e));
                put_varint(out, 0);
                put_header_fields(out, e.h, e.h.name);
                return out;
            };
            // Entry 2's offset is relative to entry 1's, which stays.
            return open_case(o.name, build(f), "CORRUPT", {"R28"}, o.message, o.summary, "§3.11");
        });
    }
    add_case([] {
        File f;
        Frame fr;
        fr.h = Header{2, 2, 3, 8, 1, 0, 0, "only"};
        fr.no_fhdr = fr.no_fdat = true;  // an empty extent: the index is at 28 too
        f.frames = {fr};
        return open_case("invalid-frame-offset-index-at-28", build(f), "CORRUPT", {"R28"}, "invalid frame offset",
                         "One frame listed at offset 28, where the index starts", "§3.11",
                         "Signature, QHDR, then the index at offset 28 listing one frame at offset 28: frame 0 "
                         "would have an empty extent.");
    });
    add_case([] {
        File f = base().f;
        f.edit_index = [](std::vector<uint8_t>& x) { x.push_back(0); };
        return open_case("invalid-index-trailing-byte", build(f), "CORRUPT", {"R32", "E01"},
                         "an entry section with no entries", "One byte 0 after the last index entry", "§3.11",
                         "One byte 0 after the last index entry: bytes after the frame entries are the entry "
                         "section (§3.11), and this one is an entry_count of 0.");
    });
    add_case([] {
        File f;
        f.before_index = {plain_record("zzzz", "between")};
        return open_case("invalid-no-frames-gap", build(f), "CORRUPT", {"R33", "S01"},
                         "between the file header and the index",
                         "A file without frames with an ancillary record between QHDR and QIDX", "§3.11, §3.14");
    });
}

// A small frame for the middle of files whose frames fail one by one.
Frame stub_frame(const Header& h) {
    Frame f;
    f.h = h;
    // Bytes for the frame data; never read, since the frame is refused first.
    f.fdat = {uint8_t(h.h < 128 ? h.h : 1)};
    f.fdat.resize(1 + size_t(h.w) * h.h * (h.c ? h.c : 1), 0x55);
    return f;
}

// A 16385 x 16384 frame, just over the default pixel limit of 2^28: one run
// of the start pixel over all of it, length class 40 (the longest op class).
std::vector<uint8_t> huge_run_fdat() {
    const uint64_t n = uint64_t(16385) * 16384;
    std::vector<uint8_t> op(342, 0), none;
    const LengthClass c = length_class(n);
    check(c.cls == 40, "length class of the huge run");
    op[2 + c.cls] = 1;
    std::vector<TableSpec> tables = {{true, length_items(op)}, {}, {}, {}, {}, {}};
    std::vector<uint8_t> fdat;
    put_varint(fdat, 16384);
    const std::vector<uint8_t> b = hand_band(0, clen_for(tables), tables, {{c.extra, c.nbits}});
    fdat.insert(fdat.end(), b.begin(), b.end());
    return fdat;
}

void frame_cases() {
    const Img a = gradient(4, 3, 3), d = noise(4, 3, 4, 81);
    auto four = [a, d](const Header& h1, const Header& h2) {
        File f;
        f.frames = {qohi_frame(a, "ok-0"), stub_frame(h1), stub_frame(h2), qohi_frame(d, "ok-3")};
        return build(f);
    };
    add_case([four, a, d] {
        return frame_case("invalid-frame-grey",
                          four(Header{4, 3, 1, 8, 0, 0, 0, "grey"}, Header{4, 3, 2, 8, 0, 0, 0, "grey-alpha"}),
                          {ok(a), err("UNSUPPORTED"), err("UNSUPPORTED"), ok(d)}, {"R34"}, "grey",
                          "Frames 1 and 2 have 1 and 2 channels (reserved): refused, frames 0 and 3 decode", "§3.7",
                          "Reserved channel counts are valid headers: the file opens, lists 4 frames, and only "
                          "frames 1 and 2 are refused when decoded.");
    });
    add_case([four, a, d] {
        return frame_case("invalid-frame-16-bit",
                          four(Header{4, 3, 3, 16, 0, 0, 0, "deep"}, Header{4, 3, 4, 16, 1, 0, 0, "deep-rgba"}),
                          {ok(a), err("UNSUPPORTED"), err("UNSUPPORTED"), ok(d)}, {"R34"}, "16-bit",
                          "Frames 1 and 2 have bit depth 16 (reserved): refused, frames 0 and 3 decode", "§3.7");
    });
    add_case([a, d] {
        File f;
        Frame dm = stub_frame(Header{4, 3, 3, 8, 1, 0, 1, "on-method-3"});
        f.frames = {qohi_frame(a, "ok-0"), stub_frame(Header{4, 3, 3, 8, 3, 0, 0, "method-3"}),
                    stub_frame(Header{4, 3, 3, 8, 255, 0, 0, "method-255"}), dm, qohi_frame(d, "ok-4")};
        f.frames[3].h.dist = 2;  // refers to frame 1 (method 3)
        return frame_case("invalid-frame-method", build(f),
                          {ok(a), err("UNSUPPORTED"), err("UNSUPPORTED"), err("UNSUPPORTED"), ok(d)}, {"R34", "R36"},
                          "method", "Methods 3 and 255 (reserved), and a delta frame whose reference has method 3",
                          "§3.7, §4.4, §4.5",
                          "Frame 1 has method 3, the first reserved one, frame 2 method 255; frame 3 is a valid "
                          "QOHI delta frame on frame 1, refused because its reference cannot be decoded. Frames 0 "
                          "and 4 decode.");
    });
    add_case([four, a, d] {
        File f;
        Frame f3 = qohi_frame(d, "flags-81");
        f3.h.flags = 0x81;
        f.frames = {qohi_frame(a, "ok-0"), stub_frame(Header{4, 3, 3, 8, 0, 2, 0, "flags-2"}),
                    stub_frame(Header{4, 3, 3, 8, 0, 0x80, 0, "flags-80"}), f3, qohi_frame(a, "ok-4")};
        return frame_case("invalid-frame-flags", build(f),
                          {ok(a), err("UNSUPPORTED"), err("UNSUPPORTED"), err("UNSUPPORTED"), ok(a)}, {"R34"},
                          "frame flags", "Reserved frame flags 0x02, 0x80 and 0x81 (baseline + reserved)", "§3.7");
    });
    add_case([a] {
        File f;
        Frame big;
        big.h = Header{16385, 16384, 3, 8, 1, 0, 0, "over-limit"};
        big.fdat = huge_run_fdat();
        f.frames = {qohi_frame(a, "ok-0"), big, qohi_frame(a, "ok-2")};
        Case c = frame_case("invalid-frame-over-limit", build(f), {ok(a), err("LIMIT"), ok(a)}, {"R35"}, "pixel limit",
                            "A 16385 x 16384 frame: valid, but above the default limit of 2^28 pixels", "§8, §9.2",
                            "Frame 1 has 268,451,840 pixels (at most 2^29 are valid, the reference decoder refuses "
                            "more than 2^28 by default). Its band is valid: one run of the start pixel, length "
                            "class 40 with 28 extra bits, the longest op length. Decoders with a larger limit "
                            "would decode it to 768 MiB of black RGB; the conformance runner uses the default "
                            "limit.");
        c.claims = {"limit:default"};
        return c;
    });
    add_case([a] {
        File f;
        Frame m2 = stub_frame(Header{16385, 16384, 3, 8, 3, 0, 0, "method-3-huge"});
        m2.fdat = huge_run_fdat();
        Frame dl;
        dl.h = Header{16385, 16384, 3, 8, 1, 0, 1, "delta-huge"};
        dl.fdat = m2.fdat;
        Frame fl;
        fl.h = Header{16385, 16384, 3, 8, 1, 2, 0, "flags-huge"};
        fl.fdat = m2.fdat;
        f.frames = {m2, dl, fl, qohi_frame(a, "ok-3")};
        return frame_case("invalid-frame-check-order", build(f),
                          {err("UNSUPPORTED"), err("LIMIT"), err("UNSUPPORTED"), ok(a)}, {"R34", "R35", "R36"},
                          "method", "The order of the frame checks: decodability, then the pixel limit, then the chain",
                          "§3.13, §7.3, §9.4",
                          "Three frames over the default pixel limit: frame 0 with method 3 is UNSUPPORTED (its "
                          "own decodability comes before the limit), frame 1, a QOHI delta frame on frame 0, is "
                          "LIMIT (the limit comes before its reference chain's decodability), frame 2 with a "
                          "reserved flag is UNSUPPORTED. Frame 3 decodes.");
    });
    // Damage inside frames of the base file: frames 0 and 2 (a delta on 0)
    // still decode unless the damage is in frame 0.
    auto damaged = [](size_t frame, const std::function<void(Frame&)>& change) {
        Base b = base();
        change(b.f.frames[frame]);
        return build(b.f);
    };
    const Base b = base();
    const std::vector<Img> im = b.imgs;
    struct D {
        const char* name;
        size_t frame;
        std::function<void(Frame&)> change;
        const char* cls;
        std::vector<std::string> rows;
        const char* message;
        const char* summary;
        const char* spec;
    };
    const std::vector<D> ds = {
        {"invalid-frame-no-fdat",
         1,
         [](Frame& f) { f.no_fdat = true; },
         "CORRUPT",
         {"R38"},
         "ends inside a record header",
         "Frame 1 has FHDR and ancillary records but no FDAT before its extent ends",
         "§3.13"},
        {"invalid-frame-record-header-cut",
         1,
         [](Frame& f) { f.no_fdat = true, f.before.clear(), f.tail = {'F', 'D', 'A', 'T', 9, 0}; },
         "CORRUPT",
         {"R38"},
         "ends inside a record header",
         "Frame 1's extent ends 6 bytes into a record header",
         "§3.13"},
        {"invalid-frame-fhdr-twice",
         1,
         [](Frame& f) {
             f.before.insert(f.before.begin(), Record{"FHDR", header_payload(f.h)});
         },
         "CORRUPT",
         {"R42"},
         "has no FDAT",
         "Frame 1 has a second FHDR before its FDAT",
         "§3.13"},
        {"invalid-frame-qend-inside",
         1,
         [](Frame& f) {
             f.before.push_back(Record{"QEND", std::vector<uint8_t>(12, 0)});
         },
         "CORRUPT",
         {"R42"},
         "has no FDAT",
         "A QEND record between frame 1's FHDR and FDAT",
         "§3.13"},
        {"invalid-frame-critical-record",
         1,
         [](Frame& f) { f.before.push_back(plain_record("ZZZZ", "must understand")); },
         "UNSUPPORTED",
         {"R43"},
         "unknown critical record",
         "An unknown critical record (ZZZZ) in frame 1",
         "§3.4"},
        {"invalid-frame-text-before-fhdr",
         1,
         [](Frame& f) { f.lead = {keyed_record("text", "Comment", "early")}; },
         "CORRUPT",
         {"R40", "S01"},
         "not FHDR",
         "Frame 1's extent starts with a text record, then its FHDR",
         "§3.13, §3.14"},
        {"invalid-frame-starts-with-fdat",
         1,
         [](Frame& f) { f.no_fhdr = true, f.before.clear(); },
         "CORRUPT",
         {"R40"},
         "not FHDR",
         "Frame 1's extent starts with its FDAT (no FHDR)",
         "§3.13"},
        {"invalid-fhdr-width-differs",
         1,
         [](Frame& f) {
             Header h = f.h;
             h.w = 6;
             f.fhdr = header_payload(h);
         },
         "CORRUPT",
         {"R41", "S02"},
         "disagrees with the index",
         "Frame 1's FHDR says width 6, its index entry 5",
         "§3.13"},
        {"invalid-fhdr-name-differs",
         1,
         [](Frame& f) {
             Header h = f.h;
             h.name = "Second";
             f.fhdr = header_payload(h);
         },
         "CORRUPT",
         {"R41", "S02"},
         "disagrees with the index",
         "Frame 1's FHDR names it Second, the index second",
         "§3.13"},
        {"invalid-fhdr-not-shortest",
         1,
         [](Frame& f) {
             std::vector<uint8_t> p;
             put_varint(p, f.h.w, 2);
             std::vector<uint8_t> rest = header_payload(f.h);
             p.insert(p.end(), rest.begin() + 1, rest.end());
             f.fhdr = p;
         },
         "CORRUPT",
         {"R41"},
         "disagrees with the index",
         "Frame 1's FHDR writes width 5 as 85 00",
         "§1.3, §3.13"},
        {"invalid-fhdr-byte-after-name",
         1,
         [](Frame& f) {
             f.fhdr = header_payload(f.h);
             f.fhdr->push_back('!');
         },
         "CORRUPT",
         {"R41"},
         "disagrees with the index",
         "Frame 1's FHDR has a byte after the name",
         "§3.7, §3.13"},
        {"invalid-frame-record-after-fdat",
         0,
         [](Frame& f) { f.after = {keyed_record("text", "Comment", "late")}; },
         "CORRUPT",
         {"R44", "S01"},
         "after the frame's FDAT",
         "A text record after frame 0's FDAT",
         "§3.13, §3.14"},
        {"invalid-frame-bytes-after-fdat",
         1,
         [](Frame& f) {
             f.tail = {0, 0, 0};
         },
         "CORRUPT",
         {"R44"},
         "after the frame's FDAT",
         "3 bytes between frame 1's FDAT and frame 2",
         "§3.13"},
    };
    for (const D& x : ds) {
        add_case([damaged, im, x] {
            std::vector<FrameExpect> e = all_ok(im);
            e[x.frame] = err(x.cls);
            if (x.frame == 0) e[2] = err(x.cls);  // frame 2 refers to frame 0
            return frame_case(x.name, damaged(x.frame, x.change), e, x.rows, x.message, x.summary, x.spec,
                              std::string(x.summary) + ". The index is correct; the other frames decode" +
                                  (x.frame == 0 ? ", except frame 2, a delta frame on frame 0." : "."));
        });
    }
    // Lengths and CRCs of records inside frames (edited after building).
    const std::vector<uint8_t> good = build(b.f);
    add_case([good, im] {
        std::vector<uint8_t> f = good;
        f[find(f, "FDAT", 0).offset + 4]++;
        return frame_case("invalid-frame-fdat-past-extent", f, {err("CORRUPT"), ok(im[1]), err("CORRUPT")}, {"R38"},
                          "runs past its frame", "Frame 0's FDAT length runs 1 byte into frame 1", "§3.3, §3.13",
                          "Frame 0's FDAT record does not fit in its extent (CORRUPT, not TRUNCATED: the extent "
                          "ends before the file does). Frame 2, a delta frame on frame 0, fails with it.");
    });
    struct C {
        const char* name;
        const char* type;
        size_t nth;
        const char* summary;
    };
    const std::vector<C> crcs = {
        {"invalid-crc-fhdr", "FHDR", 1, "Frame 1's FHDR CRC does not match"},
        {"invalid-crc-metadata", "text", 0, "Frame 1's text record's CRC does not match"},
        {"invalid-crc-ancillary", "zzzz", 0, "Frame 1's unknown ancillary record's CRC does not match"},
        {"invalid-crc-fdat", "FDAT", 1, "Frame 1's FDAT CRC does not match"},
    };
    for (const C& c : crcs) {
        add_case([good, im, c] {
            std::vector<uint8_t> f = good;
            const Span s = find(f, c.type, c.nth);
            f[s.payload() + s.size] ^= 0x01;
            return frame_case(c.name, f, {ok(im[0]), err("CORRUPT"), ok(im[2])}, {"R39"}, "CRC mismatch", c.summary,
                              "§3.3, §3.4",
                              std::string(c.summary) +
                                  ": frame 1 is refused (even an ancillary record that is "
                                  "skipped is checked first); frames 0 and 2 decode.");
        });
    }
    add_case([] {
        Base b2 = base();
        // Frame 3: a delta frame on frame 1, whose FDAT is damaged.
        Img f3 = b2.imgs[1];
        f3.px[2] = Px{9, 9, 9, 9};
        b2.f.frames.push_back(qohi_frame(f3, "fourth", &b2.imgs[1], 2));
        std::vector<uint8_t> f = build(b2.f);
        const Span s = find(f, "FDAT", 1);
        f[s.payload() + s.size - 1] ^= 0x20;
        return frame_case("invalid-frame-chain-corrupt", f,
                          {ok(b2.imgs[0]), err("CORRUPT"), ok(b2.imgs[2]), err("CORRUPT")}, {"R37", "R39"},
                          "CRC mismatch", "A delta frame whose reference frame is damaged fails with its class", "§4.5",
                          "Frame 1's FDAT fails its CRC; frame 3, a delta frame on frame 1, fails with the same "
                          "class. Frames 0 and 2 decode.");
    });
}

void frame_data_cases() {
    const Img img = small_img();
    const Img tall = make_img(4, 10, 3, [](uint32_t x, uint32_t y) {
        return Px{uint8_t(x * 9), uint8_t(y * 7), 3, 255};
    });
    const std::vector<uint8_t> good_band = band(img, [](BandWriter& b) { b.greedy(); });
    auto fdat = [](std::initializer_list<std::vector<uint8_t>> parts) {
        std::vector<uint8_t> out;
        for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
        return out;
    };
    struct F {
        const char* name;
        Img img;
        std::vector<uint8_t> payload;
        const char* row;
        const char* message;
        const char* summary;
        uint8_t method;
    };
    const std::vector<uint8_t> rows1 = band(
        tall, [](BandWriter& b) { b.greedy(); }, 0, 1);
    const std::vector<F> fs = {
        {"invalid-fdat-empty", img, {}, "R45", "band height", "An empty FDAT payload", 1},
        {"invalid-fdat-band-rows-cut", img, {0x82}, "R45", "band height", "FDAT payload 82: band_rows cut short", 1},
        {"invalid-fdat-band-rows-not-shortest", img, fdat({{0x82, 0x00}, good_band}), "R45", "band height",
         "band_rows 2 written as 82 00", 1},
        {"invalid-fdat-band-rows-0", img, fdat({{0x00}, good_band}), "R46", "band height", "band_rows 0", 1},
        {"invalid-fdat-band-rows-over-height", img, fdat({{0x03}, good_band}), "R46", "band height",
         "band_rows 3 in a frame 2 rows high", 1},
        {"invalid-fdat-band-sizes-missing", tall, fdat({{0x01}, std::vector<uint8_t>(8, 1)}), "R47",
         "too short for its band table", "10 bands of 1 row need 9 band sizes; 8 bytes follow band_rows", 1},
        {"invalid-fdat-band-size-cut",
         img,
         {0x01, 0x85},
         "R48",
         "band size out of range",
         "The only band size is a varint cut short",
         1},
        {"invalid-fdat-band-size-not-shortest", tall, fdat({{0x05, uint8_t(0x80 | rows1.size()), 0x00}, rows1, rows1}),
         "R48", "band size out of range", "A band size written with a needless zero group", 1},
        {"invalid-fdat-band-size-too-large", img, fdat({{0x01, 0xE8, 0x07}, good_band}), "R48",
         "band size out of range", "A band size of 1000 in a smaller payload", 1},
        {"invalid-fdat-last-band-empty", img, fdat({{0x01, uint8_t(good_band.size())}, good_band}), "R49",
         "shorter than its bands", "The first band size takes every byte: the last band would be empty", 1},
        {"invalid-stored-band-size", img, fdat({{0x01, 11}, std::vector<uint8_t>(25, 7)}), "R50", "stored band size",
         "A stored frame whose first band is 11 bytes instead of 12", 0},
        {"invalid-stored-extra-byte", img, fdat({{0x02}, std::vector<uint8_t>(25, 7)}), "R50", "stored band size",
         "A stored frame of one band with a byte too many", 0},
    };
    for (const F& x : fs) {
        add_case([x] {
            return bad_frame0(x.name, with_fdat(x.img, x.payload, x.method), x.row, x.message, x.summary, "§4.1, §4.2",
                              std::string(x.summary) + " (frame 0, " + std::to_string(x.img.w) + " x " +
                                  std::to_string(x.img.h) + "); frame 1 decodes.");
        });
    }
}

void table_cases() {
    const Img img = small_img();
    std::vector<uint8_t> op(342, 0), value(256, 0);
    op[0] = 1, op[2] = 1;  // difference and run of 1
    value[0] = 1;
    const std::vector<TableSpec> six = {{true, length_items(op)},
                                        {true, length_items(value)},
                                        {true, length_items(value)},
                                        {true, length_items(value)},
                                        {},
                                        {}};
    const std::array<uint8_t, 16> clen = clen_for(six);
    struct T {
        const char* name;
        unsigned field;
        std::array<uint8_t, 16> clen;
        std::vector<TableSpec> tables;
        const char* row;
        const char* message;
        const char* summary;
    };
    auto all_lengths = [](uint8_t v) {
        std::array<uint8_t, 16> c{};
        c.fill(v);
        return c;
    };
    std::array<uint8_t, 16> two{}, single2{}, empty{};
    two[0] = two[1] = 2;
    single2[15] = 2;
    const std::vector<TableSpec> op_only = {{true, {}}};
    std::vector<TableSpec> repeat_first = six;
    repeat_first[0].items.insert(repeat_first[0].items.begin(), repeat_prev(3));
    std::vector<TableSpec> past = six;
    past[0].items = {zeros(138), zeros(138), zeros(67)};
    std::vector<TableSpec> all_zero = six;
    all_zero[0].items = {zeros(138), zeros(138), zeros(66)};
    const std::vector<T> ts = {
        {"invalid-grouping-op-3", 3, clen, six, "R51", "reserved context grouping", "Grouping field 3: m_OP = 3"},
        {"invalid-grouping-rb-3", 48, clen, six, "R51", "reserved context grouping", "Grouping field 48: m_RB = 3"},
        {"invalid-clen-over-subscribed", 0, all_lengths(1), op_only, "R52", "code-length code",
         "A code-length code of 16 codes of length 1"},
        {"invalid-clen-incomplete", 0, two, op_only, "R52", "code-length code",
         "A code-length code of two codes of length 2"},
        {"invalid-clen-single-length-2", 0, single2, op_only, "R52", "code-length code",
         "A code-length code with one symbol of length 2"},
        {"invalid-table-clen-empty", 0, empty, op_only, "R53", "code-length code has no symbols",
         "An empty code-length code and a present OP table"},
        {"invalid-items-repeat-first", 0, clen_for(repeat_first), repeat_first, "R54", "repeats a length",
         "The OP table's items start with symbol 13"},
        {"invalid-items-past-alphabet", 0, clen_for(past), past, "R55", "past the alphabet",
         "The OP table's items define 343 lengths (the alphabet has 342)"},
        {"invalid-table-all-zero", 0, clen_for(all_zero), all_zero, "R57", "no symbols",
         "The OP table is present with all 342 lengths 0"},
    };
    for (const T& t : ts) {
        add_case([img, t] {
            // The clen of 48 bits is written whatever it holds; tables that a
            // broken code-length code cannot code are left out.
            BitSink s;
            s.put(t.field, 6);
            for (uint8_t l : t.clen) s.put(l, 3);
            const Canonical pre = canonical(std::vector<uint8_t>(t.clen.begin(), t.clen.end()));
            bool codable = pre.used > 0;
            uint64_t kraft = 0;
            for (uint8_t l : t.clen)
                if (l) kraft += 1u << (7 - l);
            codable = codable && (pre.used == 1 ? true : kraft == 128);
            for (const TableSpec& spec : t.tables) {
                s.put(spec.present ? 1 : 0, 1);
                if (!spec.present || !codable) break;
                for (const LenItem& it : spec.items) {
                    put_symbol(s, pre, it.sym);
                    s.put(it.extra, it.nbits);
                }
            }
            s.put(0, 16);  // more bits than the decoder reads before it fails
            return bad_frame0(t.name, with_band(img, s.bytes()), t.row, t.message, t.summary, "§5.1, §6.2, §6.3",
                              std::string(t.summary) + ", in frame 0's only band; frame 1 decodes.");
        });
    }
    add_case([img] {
        std::vector<uint8_t> b = band(img, [](BandWriter& w) { w.greedy(); });
        b.resize(7);
        return bad_frame0("invalid-tables-cut", with_band(img, b), "R56", "ends before its last pixel",
                          "A band that ends inside its tables", "§6.3, §9.4",
                          "Frame 0's band is a valid band cut to 7 bytes, inside its tables (the band size agrees: "
                          "the payload ends there). Reported as CORRUPT (band data ends before its last pixel).");
    });
    // Symbol tables (§6.2) and what the op stream needs (§5.9).
    static const Img rgba = noise(4, 2, 4, 91);
    auto op_lengths = [](std::initializer_list<std::pair<unsigned, uint8_t>> l) {
        std::vector<uint8_t> v(342, 0);
        for (auto [s2, n] : l) v[s2] = n;
        return v;
    };
    std::vector<uint8_t> incomplete12(256, 0);
    for (unsigned k = 0; k < 12; ++k) incomplete12[k] = uint8_t(k + 1);
    const std::vector<WriterCase<BandWriter>> ss = {
        {"invalid-op-table-over-subscribed",
         [op_lengths](BandWriter& b) {
             b.set_lengths(kOp, 0, op_lengths({{0, 1}, {2, 1}, {43, 1}}));
         },
         "R58", "over-subscribed", "OP lengths 1, 1, 1"},
        {"invalid-op-table-incomplete",
         [op_lengths](BandWriter& b) {
             b.set_lengths(kOp, 0, op_lengths({{0, 1}, {2, 2}}));
         },
         "R58", "incomplete", "OP lengths 1 and 2 only"},
        {"invalid-op-table-single-length-2",
         [op_lengths](BandWriter& b) {
             b.set_lengths(kOp, 0, op_lengths({{0, 2}}));
         },
         "R58", "single-symbol", "An OP table with one symbol of length 2"},
        {"invalid-table-needs-13-bits", [incomplete12](BandWriter& b) { b.set_lengths(kG, 0, incomplete12); }, "R58",
         "incomplete", "G lengths 1, 2, ... 12: complete only with a 13-bit code, which cannot exist"},
        {"invalid-op-table-absent", [](BandWriter& b) { b.set_absent(kOp, 0); }, "R59", "op code table is empty",
         "The OP table is absent"},
        {"invalid-diff-without-r-table", [](BandWriter& b) { b.set_absent(kR, 0); }, "R60", "without all G/R/B",
         "Difference ops coded, table R absent"},
        {"invalid-alpha-op-in-rgb",
         [op_lengths](BandWriter& b) {
             std::vector<uint8_t> v = op_lengths({});
             v[0] = 2, v[1] = 2, v[2] = 2, v[43] = 2;  // symbol 1 has a code, never used
             b.set_lengths(kOp, 0, v);
         },
         "R61", "alpha op in a frame without alpha", "An RGB band whose OP table codes symbol 1 (unused)"},
        {"invalid-grad-alpha-in-rgb",
         [op_lengths](BandWriter& b) {
             std::vector<uint8_t> v = op_lengths({});
             v[0] = 2, v[2] = 2, v[43] = 2, v[341] = 2;
             b.set_lengths(kOp, 0, v);
         },
         "R61", "alpha op in a frame without alpha", "An RGB band whose OP table codes symbol 341 (unused)"},
        {"invalid-alpha-op-no-a-table", [](BandWriter& b) { b.set_absent(kA, 0); }, "R61", "without an A code table",
         "An RGBA band with alpha difference ops and no A table"},
        {"invalid-match-without-dist",
         [op_lengths](BandWriter& b) {
             std::vector<uint8_t> v = op_lengths({});
             v[0] = 2, v[2] = 2, v[43] = 2, v[300] = 2;  // a match symbol with a code, never used
             b.set_lengths(kOp, 0, v);
         },
         "R62", "without a distance code table", "A match symbol coded, DIST absent"},
    };
    for (const WriterCase<BandWriter>& x : ss) {
        // RGBA where the case is about an alpha op, RGB otherwise.
        const Img& image = std::string(x.name) == "invalid-alpha-op-no-a-table" ? rgba : img;
        add_case([x, image] {
            BandWriter b(image, 0, image.h);
            Greedy g;
            g.runs = g.index = false;
            b.greedy(UINT64_MAX, g);
            x.ops(b);
            b.set_lenient();
            return bad_frame0(x.name, with_band(image, b.finish()), x.row, x.message, x.summary, "§5.9, §6.2",
                              std::string(x.summary) + " (frame 0, one band of difference ops); frame 1 decodes.");
        });
    }
    // With context groupings: tables of groups that no value would use.
    add_case([img] {
        BandWriter b(img, 0, img.h, nullptr, Modes{2, 0, 0});
        b.greedy();
        b.set_absent(kOp, 3);
        return bad_frame0("invalid-op-table-unreached-absent", with_band(img, b.finish()), "R59",
                          "op code table is empty", "m_OP = 2 and the table of op context 3 (never reached) absent",
                          "§5.9, §5.14",
                          "Every OP table in the stream must have a symbol, also one that only an unreached "
                          "context would use (no match or reference run occurs here).");
    });
    add_case([img] {
        BandWriter b(img, 0, img.h, nullptr, Modes{0, 2, 0});
        Greedy g;
        g.runs = g.index = false;
        b.greedy(UINT64_MAX, g);
        b.set_absent(kG, 0);
        return bad_frame0("invalid-diff-unreached-g-absent", with_band(img, b.finish()), "R60", "without all G/R/B",
                          "m_G = 2 and the G table of context 0 absent, though no value uses it", "§5.9, §5.14");
    });
    add_case([] {
        const Img ref = small_img();
        Img cur = ref;
        cur.px[1].r = uint8_t(cur.px[1].r + 1);
        BandWriter b(cur, 0, cur.h, &ref);
        b.refrun(1);
        b.refdiff();
        b.refrun(6);
        std::vector<uint8_t> v(385, 0);
        v[342] = 2, v[347] = 2, v[383] = 2, v[384] = 2;  // reference runs of 1, 6; reference differences
        b.set_lengths(kOp, 0, v);
        return frame_case("invalid-refdiff-alpha-in-rgb", with_delta_band(ref, b.finish()),
                          {ok(ref), err("CORRUPT"), ok(good_img())}, {"R61"}, "alpha op in a frame without alpha",
                          "An RGB delta band whose OP table codes symbol 384", "§5.9, §5.11");
    });
}

void op_stream_cases() {
    const Img img = small_img();  // N = 8, width 4
    const std::vector<WriterCase<BandWriter>> os = {
        {"invalid-column-distance-unset",
         [](BandWriter& b) {
             b.diff();
             raw_match(b, 2, 43);
         },
         "R63", "column match distance", "A match with DIST symbol 43 before any match"},
        {"invalid-column-distance-other-column",
         [](BandWriter& b) {
             b.diff();
             b.diff();
             b.raw(kOp, 299);  // match of 1 at position 2 (column 2), distance 2: sets column 2 only
             b.raw(kDist, 2);
             raw_match(b, 1, 43);  // position 3: column 3 has no distance
         },
         "R63", "column match distance", "DIST 43 in a column where no match has been, after one in another column"},
        {"invalid-run-past-end",
         [](BandWriter& b) {
             b.diff();
             raw_run(b, 8);
         },
         "R64", "run goes past the end", "A run of 8 at position 1 of 8"},
        {"invalid-match-past-end",
         [](BandWriter& b) {
             b.diff();
             b.diff();
             raw_match(b, 7, -1, 1);
         },
         "R64", "match goes past the end", "A match of 7 at position 2 of 8"},
        {"invalid-match-before-start",
         [](BandWriter& b) {
             b.diff();
             b.diff();
             raw_match(b, 1, -1, 3);
         },
         "R65", "before the start", "A match of distance 3 at position 2"},
        {"invalid-match-above-in-first-row",
         [](BandWriter& b) {
             b.diff();
             raw_match(b, 1, 0);
         },
         "R65", "before the start", "DIST symbol 0 (the row above) in the first row of an intra band"},
    };
    for (const WriterCase<BandWriter>& x : os) {
        add_case([img, x] {
            BandWriter b(img, 0, img.h);
            x.ops(b);
            b.raw_bits(0, 16);
            return bad_frame0(x.name, with_band(img, b.finish(false)), x.row, x.message, x.summary, "§5.6, §5.12",
                              std::string(x.summary) + " (frame 0, 4 x 2 RGB, one band); frame 1 decodes.");
        });
    }
    add_case([] {
        const Img two = small_img();
        BandWriter b0(two, 0, 1);
        b0.diff();
        raw_run(b0, 5);  // 5 more pixels: within the frame, past the band
        BandWriter b1(two, 1, 1);
        b1.greedy();
        std::vector<uint8_t> fdat = bands_fdat(1, {b0.finish(false), b1.finish()});
        return bad_frame0("invalid-run-past-band", with_fdat(two, fdat), "R64", "run goes past the end",
                          "A run that fits in the frame but not in its band", "§4.1, §5.6",
                          "Frame 0 (4 x 2) has bands of 1 row; band 0 codes a difference and a run of 5: the "
                          "frame has 7 more pixels, the band 3.");
    });
    add_case([] {
        const Img ref = small_img();
        BandWriter b(ref, 0, ref.h, &ref);
        b.refrun(2);
        raw_refrun(b, 7);
        b.raw_bits(0, 8);
        return frame_case("invalid-refrun-past-end", with_delta_band(ref, b.finish(false)),
                          {ok(ref), err("CORRUPT"), ok(good_img())}, {"R64"}, "reference run goes past the end",
                          "A reference run of 7 at position 2 of 8", "§5.11");
    });
    add_case([] {
        const Img ref = small_img();
        BandWriter b(ref, 0, ref.h, &ref);
        b.refrun(1);
        raw_match(b, 1, -1, 10);  // position 1 - 10 = -9 < -8
        b.raw_bits(0, 8);
        return frame_case("invalid-match-before-reference", with_delta_band(ref, b.finish(false)),
                          {ok(ref), err("CORRUPT"), ok(good_img())}, {"R65"}, "before the start",
                          "A match in a delta band reaching before the reference band (p - D = -9, N = 8)", "§5.12");
    });
    // The end of a band (§5.10).
    const std::vector<uint8_t> whole = band(img, [](BandWriter& b) { b.greedy(); });
    add_case([img, whole] {
        std::vector<uint8_t> b = whole;
        b.pop_back();
        return bad_frame0("invalid-band-ends-early", with_band(img, b), "R66", "ends before its last pixel",
                          "A valid band without its last byte", "§5.10");
    });
    add_case([img, whole] {
        std::vector<uint8_t> fdat = bands_fdat(1, {{},
                                                   band(
                                                       img, [](BandWriter& b) { b.greedy(); }, 1, 1)});
        return bad_frame0("invalid-band-no-bytes", with_fdat(img, fdat), "R66", "ends before its last pixel",
                          "A band of 0 bytes (band size 0, not the last band)", "§4.1, §9.4",
                          "Frame 0 has two bands; band 0's size is 0: its grouping field already lies beyond its "
                          "end.");
    });
    add_case([img, whole] {
        std::vector<uint8_t> b = whole;
        b.push_back(0);
        return bad_frame0("invalid-band-unused-byte", with_band(img, b), "R67", "unused data",
                          "A valid band followed by a zero byte", "§5.10");
    });
    add_case([] {
        // A band whose last byte has padding bits: set the highest one.
        for (uint64_t seed = 1;; ++seed) {
            const Img im = noise(4, 2, 3, 100 + seed);
            BandWriter w(im, 0, 2);
            w.greedy();
            std::vector<uint8_t> b = w.finish();
            if (w.bits_used() % 8 == 0) continue;
            b.back() = uint8_t(b.back() | 0x80);
            return frame_case("invalid-band-padding", with_band(im, b), {err("CORRUPT"), ok(good_img())}, {"R68"},
                              "unused data", "A band whose last padding bit is 1", "§5.10");
        }
    });
}

}  // namespace

void add_invalid_cases() {
    signature_cases();
    qhdr_cases();
    trailer_cases();
    index_cases();
    frame_cases();
    frame_data_cases();
    table_cases();
    op_stream_cases();
}

}  // namespace vec
