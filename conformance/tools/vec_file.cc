#include "vec_file.h"

#include "container.h"

namespace vec {

void put_varint(std::vector<uint8_t>& out, uint64_t v, unsigned min_bytes) {
    for (unsigned k = 1; v >= 0x80 || k < min_bytes; ++k, v >>= 7) out.push_back(uint8_t(0x80 | (v & 0x7F)));
    out.push_back(uint8_t(v));
}
void put_u16(std::vector<uint8_t>& out, uint16_t v) {
    out.push_back(uint8_t(v));
    out.push_back(uint8_t(v >> 8));
}
void put_u32(std::vector<uint8_t>& out, uint32_t v) {
    put_u16(out, uint16_t(v));
    put_u16(out, uint16_t(v >> 16));
}
void put_u64(std::vector<uint8_t>& out, uint64_t v) {
    put_u32(out, uint32_t(v));
    put_u32(out, uint32_t(v >> 32));
}

namespace {

uint32_t type_code(const std::string& type) {
    check(type.size() == 4, "record type of " + std::to_string(type.size()) + " bytes");
    return uint32_t(uint8_t(type[0])) | uint32_t(uint8_t(type[1])) << 8 | uint32_t(uint8_t(type[2])) << 16 |
           uint32_t(uint8_t(type[3])) << 24;
}

void append(std::vector<uint8_t>& out, const std::string& type, const std::vector<uint8_t>& payload) {
    qohi::append_record(out, type_code(type), payload.data(), payload.size());
}

}  // namespace

void put_header_fields(std::vector<uint8_t>& out, const Header& h, const std::string& name) {
    put_varint(out, h.w);
    put_varint(out, h.h);
    out.push_back(h.c);
    out.push_back(h.depth);
    out.push_back(h.method);
    out.push_back(h.flags);
    put_varint(out, h.dist);
    put_varint(out, name.size());
    out.insert(out.end(), name.begin(), name.end());
}

std::vector<uint8_t> header_payload(const Header& h) {
    std::vector<uint8_t> out;
    put_header_fields(out, h, h.name);
    return out;
}

std::vector<uint8_t> index_entry(const Header& h, uint64_t offset_delta, const std::string& previous_name) {
    size_t shared = 0;
    while (shared < h.name.size() && shared < previous_name.size() && h.name[shared] == previous_name[shared]) ++shared;
    std::vector<uint8_t> out;
    put_varint(out, offset_delta);
    put_varint(out, shared);
    put_header_fields(out, h, h.name.substr(shared));
    return out;
}

std::vector<uint8_t> build(const File& f) {
    std::vector<uint8_t> out(qohi::kSignature, qohi::kSignature + 8);
    std::vector<uint8_t> qhdr;
    if (f.qhdr) {
        qhdr = *f.qhdr;
    } else {
        put_u16(qhdr, f.version);
        put_u16(qhdr, f.flags);
        put_u16(qhdr, f.max_depth);
        put_u16(qhdr, f.reserved);
    }
    append(out, "QHDR", qhdr);
    std::vector<uint64_t> offsets;
    for (const Frame& fr : f.frames) {
        offsets.push_back(out.size());
        for (const Record& r : fr.lead) append(out, r.type, r.payload);
        if (!fr.no_fhdr) append(out, "FHDR", fr.fhdr ? *fr.fhdr : header_payload(fr.h));
        for (const Record& r : fr.before) append(out, r.type, r.payload);
        if (!fr.no_fdat) append(out, "FDAT", fr.fdat);
        for (const Record& r : fr.after) append(out, r.type, r.payload);
        out.insert(out.end(), fr.tail.begin(), fr.tail.end());
    }
    for (const Record& r : f.before_index) append(out, r.type, r.payload);
    const uint64_t index_offset = out.size();
    std::vector<uint8_t> index;
    put_u32(index, uint32_t(f.frames.size()));
    std::string previous_name;
    for (size_t i = 0; i < f.frames.size(); ++i) {
        const Header& h = f.frames[i].h;
        const uint64_t delta = offsets[i] - (i ? offsets[i - 1] : 0);
        std::optional<std::vector<uint8_t>> raw;
        if (f.raw_entry) raw = f.raw_entry(EntryContext{i, h, offsets[i], delta, index_offset, previous_name});
        const std::vector<uint8_t> entry = raw ? *raw : index_entry(h, delta, previous_name);
        index.insert(index.end(), entry.begin(), entry.end());
        previous_name = h.name;
    }
    if (f.edit_index) f.edit_index(index);
    append(out, "QIDX", index);
    for (const Record& r : f.after_index) append(out, r.type, r.payload);
    std::vector<uint8_t> trailer;
    put_u64(trailer, f.index_offset ? *f.index_offset : index_offset);
    put_u32(trailer, f.trailer_count ? *f.trailer_count : uint32_t(f.frames.size()));
    append(out, "QEND", trailer);
    return out;
}

std::vector<uint8_t> stored_fdat(const Img& img, uint32_t band_rows) {
    if (band_rows == 0) band_rows = img.h;
    std::vector<uint8_t> out;
    put_varint(out, band_rows);
    const uint64_t row = uint64_t(img.w) * img.c;
    for (uint32_t y0 = 0; y0 + band_rows < img.h; y0 += band_rows) put_varint(out, row * band_rows);
    const std::vector<uint8_t> px = img.bytes();
    out.insert(out.end(), px.begin(), px.end());
    return out;
}

std::vector<uint8_t> bands_fdat(uint32_t band_rows, const std::vector<std::vector<uint8_t>>& bands) {
    std::vector<uint8_t> out;
    put_varint(out, band_rows);
    for (size_t b = 0; b + 1 < bands.size(); ++b) put_varint(out, bands[b].size());
    for (const auto& band : bands) out.insert(out.end(), band.begin(), band.end());
    return out;
}

std::vector<Span> spans(const std::vector<uint8_t>& file) {
    std::vector<Span> v;
    for (size_t off = 8; off + 12 <= file.size();) {
        const size_t size = qohi::load_u32(&file[off + 4]);
        if (size > file.size() - off - 12) break;
        v.push_back({off, std::string(reinterpret_cast<const char*>(&file[off]), 4), size});
        off += 12 + size;
    }
    return v;
}

Span find(const std::vector<uint8_t>& file, const std::string& type, size_t nth) {
    size_t seen = 0;
    for (const Span& s : spans(file))
        if (s.type == type && seen++ == nth) return s;
    die("no record " + type + " #" + std::to_string(nth));
}

void fix_crc(std::vector<uint8_t>& file, const Span& s) {
    qohi::store_u32(&file[s.payload() + s.size], qohi::record_crc(type_code(s.type), &file[s.payload()], s.size));
}

}  // namespace vec
