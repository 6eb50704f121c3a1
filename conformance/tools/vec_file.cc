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

uint64_t zigzag(int64_t v) { return v >= 0 ? uint64_t(v) << 1 : ((~uint64_t(v)) << 1) | 1; }
int64_t unzigzag(uint64_t z) { return (z & 1) ? int64_t(~(z >> 1)) : int64_t(z >> 1); }

void put_entry_fields(std::vector<uint8_t>& out, const EHeader& h, const std::string& name) {
    out.push_back(h.kind);
    out.push_back(h.method);
    out.push_back(h.flags);
    if (h.flags & 1) {
        put_varint(out, h.mode);
        put_varint(out, h.mtime_zz);
        put_varint(out, h.nsec);
    }
    put_varint(out, h.size);
    put_varint(out, name.size());
    out.insert(out.end(), name.begin(), name.end());
}

std::vector<uint8_t> entry_payload(const EHeader& h) {
    std::vector<uint8_t> out;
    put_entry_fields(out, h, h.name);
    return out;
}

std::vector<uint8_t> attr_payload(uint64_t mode, int64_t mtime, uint64_t nsec) {
    std::vector<uint8_t> out;
    put_varint(out, mode);
    put_varint(out, zigzag(mtime));
    put_varint(out, nsec);
    return out;
}

Entry make_entry(uint8_t kind, const std::string& name, const std::string& content, const std::optional<Attrs>& attrs,
                 const std::vector<size_t>& pieces, size_t before_frame) {
    Entry e;
    e.h.kind = kind;
    e.h.name = name;
    e.h.size = content.size();
    if (attrs) {
        e.h.flags = 1;
        e.h.mode = attrs->mode;
        e.h.mtime_zz = zigzag(attrs->mtime);
        e.h.nsec = attrs->nsec;
    }
    e.before_frame = before_frame;
    std::vector<size_t> sizes = pieces;
    if (sizes.empty() && !content.empty()) sizes.push_back(content.size());
    size_t at = 0;
    for (size_t n : sizes) {
        check(at + n <= content.size(), "entry pieces longer than the content");
        e.records.push_back({"EDAT", std::vector<uint8_t>(content.begin() + long(at), content.begin() + long(at + n))});
        at += n;
    }
    check(at == content.size(), "entry pieces shorter than the content");
    return e;
}

std::vector<uint8_t> index_item(const EHeader& h, uint64_t offset_delta, const std::string& previous_name) {
    size_t shared = 0;
    while (shared < h.name.size() && shared < previous_name.size() && h.name[shared] == previous_name[shared]) ++shared;
    std::vector<uint8_t> out;
    put_varint(out, offset_delta);
    put_varint(out, shared);
    put_entry_fields(out, h, h.name.substr(shared));
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
    std::vector<uint64_t> offsets, eoffsets;
    size_t next_entry = 0;
    auto entries_before = [&](size_t frame) {
        for (; next_entry < f.entries.size() && f.entries[next_entry].before_frame <= frame; ++next_entry) {
            const Entry& e = f.entries[next_entry];
            eoffsets.push_back(out.size());
            append(out, e.head_type, e.ehdr ? *e.ehdr : entry_payload(e.h));
            for (const Record& r : e.records) append(out, r.type, r.payload);
            out.insert(out.end(), e.tail.begin(), e.tail.end());
        }
    };
    for (size_t k = 0; k < f.frames.size(); ++k) {
        const Frame& fr = f.frames[k];
        entries_before(k);
        offsets.push_back(out.size());
        for (const Record& r : fr.lead) append(out, r.type, r.payload);
        if (!fr.no_fhdr) append(out, "FHDR", fr.fhdr ? *fr.fhdr : header_payload(fr.h));
        for (const Record& r : fr.before) append(out, r.type, r.payload);
        if (!fr.no_fdat) append(out, "FDAT", fr.fdat);
        for (const Record& r : fr.after) append(out, r.type, r.payload);
        out.insert(out.end(), fr.tail.begin(), fr.tail.end());
    }
    entries_before(SIZE_MAX);
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
    if (f.entry_section) {
        index.insert(index.end(), f.entry_section->begin(), f.entry_section->end());
    } else if (!f.entries.empty()) {
        put_varint(index, f.entries.size());
        previous_name.clear();
        for (size_t j = 0; j < f.entries.size(); ++j) {
            const EHeader& h = f.entries[j].h;
            const uint64_t delta = eoffsets[j] - (j ? eoffsets[j - 1] : 0);
            std::optional<std::vector<uint8_t>> raw;
            if (f.raw_item) raw = f.raw_item(ItemContext{j, eoffsets[j], delta, index_offset, previous_name});
            const std::vector<uint8_t> item = raw ? *raw : index_item(h, delta, previous_name);
            index.insert(index.end(), item.begin(), item.end());
            previous_name = h.name;
        }
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
