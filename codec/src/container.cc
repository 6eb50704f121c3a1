#include "container.h"

#include "crc32.h"
#include "frame_codec.h"
#include "index_names.h"

namespace qohi {

std::string type_name(uint32_t type) {
    std::string s;
    for (int i = 0; i < 4; ++i) {
        const char c = static_cast<char>((type >> (8 * i)) & 0xFF);
        s += (c >= 0x20 && c < 0x7F) ? c : '?';
    }
    return s;
}

uint32_t record_crc(uint32_t type, const uint8_t* payload, size_t size) {
    uint8_t t[4];
    store_u32(t, type);
    return crc32_update(crc32_update(0, t, 4), payload, size);
}

void record_head(uint32_t type, size_t size, uint8_t out[8]) {
    store_u32(out, type);
    store_u32(out + 4, static_cast<uint32_t>(size));
}

void append_record(std::vector<uint8_t>& out, uint32_t type, const uint8_t* payload, size_t size) {
    uint8_t head[8];
    record_head(type, size, head);
    ByteWriter w(out);
    w.bytes(head, sizeof head);
    w.bytes(payload, size);
    w.u32(record_crc(type, payload, size));
}

void encode_file_header(const FileHeader& h, std::vector<uint8_t>& payload) {
    ByteWriter w(payload);
    w.u16(h.version);
    w.u16(h.flags);
    w.u16(h.max_chain_depth);
    w.u16(0);
}

Status decode_file_header(const uint8_t* payload, size_t size, FileHeader& h) {
    ByteReader r(payload, size);
    h.version = r.u16();
    if (!r.ok()) return corrupt("file header record too short");
    if (h.version != kFormatVersion)
        return unsupported("format version " + std::to_string(h.version) + " (this library reads version " +
                           std::to_string(kFormatVersion) + ")");
    if (size != kFileHeaderSize) return corrupt("file header record has the wrong size");
    h.flags = r.u16();
    h.max_chain_depth = r.u16();
    const uint16_t reserved = r.u16();
    if (h.flags != 0) return unsupported("file header flags not understood");
    if (reserved != 0) return corrupt("reserved file header field is not zero");
    return ok_status();
}

namespace {

// The fields of FHDR; an index entry has the same after its name prefix.
void write_header_fields(ByteWriter& w, const FrameHeader& h, uint32_t index, size_t name_from) {
    w.varint(h.width);
    w.varint(h.height);
    w.u8(h.channels);
    w.u8(h.bit_depth);
    w.u8(h.method);
    w.u8(h.flags);
    w.varint(h.reference == kNoReference ? 0 : index - h.reference);
    w.varint(h.name.size() - name_from);
    w.bytes(h.name.data() + name_from, h.name.size() - name_from);
}

}  // namespace

void encode_frame_header(const FrameHeader& h, uint32_t index, std::vector<uint8_t>& payload) {
    ByteWriter w(payload);
    write_header_fields(w, h, index, 0);
}

void encode_index_entry(const FrameHeader& h, uint32_t index, uint64_t offset_delta, const std::string& previous_name,
                        std::vector<uint8_t>& payload) {
    const size_t shared = shared_prefix(h.name, previous_name);
    ByteWriter w(payload);
    w.varint(offset_delta);
    w.varint(shared);
    write_header_fields(w, h, index, shared);
}

namespace {

// Reads the fields from `width` on, with the name's bytes (a whole name, or
// what an index entry adds to the `shared` bytes before them), and makes
// validity checks 1 - 6 of spec §3.7; the caller makes check 7 on the name.
Status read_header_fields(ByteReader& in, uint32_t index, size_t shared, FrameHeader& h, const uint8_t*& name,
                          size_t& name_size) {
    h.width = uint32_t(in.varint(kMaxDimension));
    h.height = uint32_t(in.varint(kMaxDimension));
    h.channels = in.u8();
    h.bit_depth = in.u8();
    h.method = in.u8();
    h.flags = in.u8();
    const uint64_t distance = in.varint(0xFFFFFFFFu);
    name_size = size_t(in.varint(kMaxNameBytes - shared));
    name = in.bytes(name_size);
    if (!in.ok()) return corrupt("frame header cut short, or a field out of range");
    if (distance > index) return corrupt("frame refers to a frame before the first");
    h.reference = distance == 0 ? kNoReference : index - uint32_t(distance);

    if (h.width == 0 || h.height == 0) return corrupt("frame has zero width or height");
    if (uint64_t(h.width) * h.height > kMaxFramePixels)
        return corrupt("frame dimensions " + std::to_string(h.width) + "x" + std::to_string(h.height) +
                       " exceed the format's limits");
    if (h.channels < 1 || h.channels > 4) return corrupt("invalid channel count " + std::to_string(h.channels));
    if (h.bit_depth != 8 && h.bit_depth != 16) return corrupt("invalid bit depth " + std::to_string(h.bit_depth));
    return ok_status();
}

const char kInvalidName[] = "frame name is not valid UTF-8";

}  // namespace

Status decode_frame_header(ByteReader& in, uint32_t index, FrameHeader& h) {
    const uint8_t* name;
    size_t name_size;
    QOHI_RETURN_IF_ERROR(read_header_fields(in, index, 0, h, name, name_size));
    h.name.assign(reinterpret_cast<const char*>(name), name_size);
    if (!is_valid_name(h.name)) return corrupt(kInvalidName);
    return ok_status();
}

Status decode_index_entry_header(ByteReader& in, uint32_t index, IndexNames& names, FrameHeader& h) {
    const size_t shared = size_t(in.varint(names.last_size()));
    const uint8_t* suffix;
    size_t suffix_size;
    QOHI_RETURN_IF_ERROR(read_header_fields(in, index, shared, h, suffix, suffix_size));
    h.name.clear();
    if (!names.append(shared, suffix, suffix_size)) return corrupt(kInvalidName);
    return ok_status();
}

Status check_decodable(const FrameHeader& h) {
    if (h.channels != 3 && h.channels != 4) return unsupported("grey frames are not supported yet");
    if (h.bit_depth != 8) return unsupported("16-bit frames are not supported yet");
    if (h.method > kLastMethod) return unsupported("frame method " + std::to_string(h.method) + " is not supported");
    if (h.flags & ~kFrameFlagBaseline) return unsupported("frame flags not understood");
    return ok_status();
}

namespace {

uint64_t zigzag(int64_t v) { return v >= 0 ? uint64_t(v) << 1 : ((~uint64_t(v)) << 1) | 1; }
int64_t unzigzag(uint64_t v) { return (v & 1) ? int64_t(~(v >> 1)) : int64_t(v >> 1); }

void write_attributes(ByteWriter& w, const FileAttributes& a) {
    w.varint(a.mode);
    w.varint(zigzag(a.mtime));
    w.varint(a.mtime_nsec);
}

void read_attributes(ByteReader& in, FileAttributes& a) {
    a.present = true;
    a.mode = uint16_t(in.varint(kMaxMode));
    a.mtime = unzigzag(in.varint(~uint64_t(0)));
    a.mtime_nsec = uint32_t(in.varint(kMaxNanoseconds));
}

// The EHDR fields from `kind` on, with the name's last `name.size() - name_from` bytes.
void write_entry_fields(ByteWriter& w, const EntryHeader& h, size_t name_from) {
    w.u8(h.kind);
    w.u8(h.method);
    w.u8(h.flags);
    if (h.flags & kEntryFlagAttributes) write_attributes(w, h.attributes);
    w.varint(h.size);
    w.varint(h.name.size() - name_from);
    w.bytes(h.name.data() + name_from, h.name.size() - name_from);
}

// Reads the fields from `kind` to the name's bytes (all of them, or what an
// index item adds to `shared` bytes) and checks them; the caller checks the
// name's UTF-8.
Status read_entry_fields(ByteReader& in, size_t shared, EntryHeader& h, const uint8_t*& name, size_t& name_size) {
    h.kind = in.u8();
    h.method = in.u8();
    h.flags = in.u8();
    h.attributes = FileAttributes();
    if (h.flags & kEntryFlagAttributes) read_attributes(in, h.attributes);
    h.size = in.varint(~uint64_t(0));
    name_size = size_t(in.varint(kMaxNameBytes - shared));
    name = in.bytes(name_size);
    if (!in.ok()) return corrupt("entry header cut short, or a field out of range");
    if (shared + name_size == 0) return corrupt("entry has no name");
    if (h.kind == kEntrySymlink && (h.size == 0 || h.size > kMaxLinkTarget))
        return corrupt("symbolic link target of " + std::to_string(h.size) + " bytes");
    if (h.kind == kEntryFolder && h.size != 0) return corrupt("folder entry with content");
    return ok_status();
}

}  // namespace

void encode_entry_header(const EntryHeader& h, std::vector<uint8_t>& payload) {
    ByteWriter w(payload);
    write_entry_fields(w, h, 0);
}

void encode_entry_index_item(const EntryHeader& h, uint64_t offset_delta, const std::string& previous_name,
                             std::vector<uint8_t>& payload) {
    const size_t shared = shared_prefix(h.name, previous_name);
    ByteWriter w(payload);
    w.varint(offset_delta);
    w.varint(shared);
    write_entry_fields(w, h, shared);
}

Status decode_entry_header(ByteReader& in, EntryHeader& h) {
    const uint8_t* name;
    size_t name_size;
    QOHI_RETURN_IF_ERROR(read_entry_fields(in, 0, h, name, name_size));
    h.name.assign(reinterpret_cast<const char*>(name), name_size);
    if (!is_valid_name(h.name)) return corrupt("entry name is not valid UTF-8");
    return ok_status();
}

Status decode_entry_index_item(ByteReader& in, IndexNames& names, EntryHeader& h) {
    const size_t shared = size_t(in.varint(names.last_size()));
    const uint8_t* suffix;
    size_t suffix_size;
    QOHI_RETURN_IF_ERROR(read_entry_fields(in, shared, h, suffix, suffix_size));
    h.name.clear();
    if (!names.append(shared, suffix, suffix_size)) return corrupt("entry name is not valid UTF-8");
    return ok_status();
}

Status check_readable(const EntryHeader& h) {
    if (h.kind > kEntryFolder) return unsupported("entry kind " + std::to_string(h.kind) + " is not supported");
    if (h.method != 0) return unsupported("entry method " + std::to_string(h.method) + " is not supported");
    if (h.flags & ~kEntryFlagAttributes) return unsupported("entry flags not understood");
    return ok_status();
}

void encode_attributes(const FileAttributes& a, std::vector<uint8_t>& payload) {
    ByteWriter w(payload);
    write_attributes(w, a);
}

Status decode_attributes(const uint8_t* payload, size_t size, FileAttributes& a) {
    ByteReader in(payload, size);
    read_attributes(in, a);
    if (!in.ok() || in.remaining() != 0) return corrupt("malformed attr record");
    return ok_status();
}

void encode_trailer(const Trailer& t, std::vector<uint8_t>& payload) {
    ByteWriter w(payload);
    w.u64(t.index_offset);
    w.u32(t.frame_count);
}

namespace {

bool valid_key(const std::string& key) {
    if (key.size() > kMaxMetadataKey || key.empty()) return false;
    return key.find('\0') == std::string::npos;
}

bool valid_utf8(const std::vector<uint8_t>& data) { return is_valid_name(data.data(), data.size()); }

}  // namespace

Status encode_metadata(const MetadataItem& item, uint32_t& type, std::vector<uint8_t>& payload) {
    payload.clear();
    ByteWriter w(payload);
    switch (item.kind) {
        case QOHI_METADATA_ICC:
        case QOHI_METADATA_TEXT: {
            const bool icc = item.kind == QOHI_METADATA_ICC;
            if (!valid_key(item.key)) return invalid_argument("metadata key must be 1 to 79 bytes without NUL");
            if (!icc && !valid_utf8(item.data)) return invalid_argument("text metadata must be UTF-8 without NUL");
            type = icc ? kTypeIcc : kTypeText;
            w.u8(static_cast<uint8_t>(item.key.size()));
            w.bytes(item.key.data(), item.key.size());
            break;
        }
        case QOHI_METADATA_EXIF:
            type = kTypeExif;
            break;
        case QOHI_METADATA_XMP:
            if (!valid_utf8(item.data)) return invalid_argument("XMP metadata must be UTF-8 without NUL");
            type = kTypeXmp;
            break;
        case QOHI_METADATA_PNG:
            // The payload's structure is the concern of the tools that write PNG.
            if (!item.key.empty()) return invalid_argument("PNG layout metadata has no key");
            type = kTypePng;
            break;
        default:
            return invalid_argument("unknown metadata kind " + std::to_string(item.kind));
    }
    if (item.kind != QOHI_METADATA_TEXT && item.data.empty()) return invalid_argument("empty metadata");
    if (item.data.size() > 0xFFFFFFFFu - payload.size()) return invalid_argument("metadata too large");
    w.bytes(item.data.data(), item.data.size());
    return ok_status();
}

Status decode_metadata(uint32_t type, const uint8_t* payload, size_t size, MetadataItem& item) {
    ByteReader r(payload, size);
    item = MetadataItem();
    if (type == kTypeIcc || type == kTypeText) {
        const uint8_t key_size = r.u8();
        const uint8_t* key = r.bytes(key_size);
        if (!r.ok()) return corrupt("metadata record " + type_name(type) + " cut short");
        item.key.assign(reinterpret_cast<const char*>(key), key_size);
        item.kind = type == kTypeIcc ? QOHI_METADATA_ICC : QOHI_METADATA_TEXT;
    } else if (type == kTypeExif) {
        item.kind = QOHI_METADATA_EXIF;
    } else if (type == kTypeXmp) {
        item.kind = QOHI_METADATA_XMP;
    } else if (type == kTypePng) {
        item.kind = QOHI_METADATA_PNG;
    } else {
        return unsupported("not a metadata record");
    }
    item.data.assign(r.position(), r.position() + r.remaining());
    MetadataItem check = item;
    uint32_t t;
    std::vector<uint8_t> again;
    if (!encode_metadata(check, t, again).ok()) return corrupt("malformed metadata record " + type_name(type));
    return ok_status();
}

size_t shared_prefix(const std::string& name, const std::string& previous) {
    size_t shared = 0;
    while (shared < name.size() && shared < previous.size() && name[shared] == previous[shared]) ++shared;
    return shared;
}

bool is_valid_name(const uint8_t* bytes, size_t size) {
    const uint8_t* p = bytes;
    const uint8_t* end = p + size;
    while (p < end) {
        const uint8_t c = *p;
        if (c == 0) return false;
        if (c < 0x80) {
            ++p;
            continue;
        }
        unsigned extra;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) {
            extra = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            extra = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            extra = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (size_t(end - p) <= extra) return false;
        for (unsigned k = 1; k <= extra; ++k) {
            if ((p[k] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (p[k] & 0x3F);
        }
        // Overlong forms, surrogates and values past U+10FFFF.
        if ((extra == 2 && cp < 0x800) || (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        p += extra + 1;
    }
    return true;
}

}  // namespace qohi
