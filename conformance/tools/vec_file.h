// The container side of the generator (spec §3): a file described as its
// header fields and frames, each frame as its header and records, built into
// bytes with every CRC, offset, index entry (front-coded names) and trailer
// consistent, unless the case overrides a part to make it wrong. Byte-level
// edits after building (cuts, flipped bytes, CRC repairs) work on the result.
#ifndef QOHI_CONFORMANCE_VEC_FILE_H
#define QOHI_CONFORMANCE_VEC_FILE_H

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "vec_model.h"

namespace vec {

// LEB128 (§1.3); `min_bytes` pads with 0x80 groups into a non-shortest form.
void put_varint(std::vector<uint8_t>& out, uint64_t v, unsigned min_bytes = 1);
void put_u16(std::vector<uint8_t>& out, uint16_t v);
void put_u32(std::vector<uint8_t>& out, uint32_t v);
void put_u64(std::vector<uint8_t>& out, uint64_t v);

struct Record {
    std::string type;  // 4 bytes
    std::vector<uint8_t> payload;
};

// A frame header's fields as stored (§3.7), any values.
struct Header {
    uint64_t w = 1, h = 1;
    uint8_t c = 3, depth = 8, method = 1, flags = 0;
    uint64_t dist = 0;  // ref_distance
    std::string name;
};
std::vector<uint8_t> header_payload(const Header& h);
// The header's fields with `name` for the name: the FHDR payload when `name`
// is the whole name, the end of an index entry when it is the suffix.
void put_header_fields(std::vector<uint8_t>& out, const Header& h, const std::string& name);

struct Frame {
    Header h;
    std::vector<Record> before;                // between FHDR and FDAT (metadata, ancillary, ...)
    std::vector<uint8_t> fdat;                 // the FDAT payload
    std::vector<Record> after;                 // inside the frame's extent after FDAT (invalid)
    std::vector<uint8_t> tail;                 // raw bytes ending the extent (invalid)
    std::vector<Record> lead;                  // records before FHDR, inside the extent (invalid)
    std::optional<std::vector<uint8_t>> fhdr;  // FHDR payload instead of header_payload(h)
    bool no_fhdr = false, no_fdat = false;
};

// Entries (§3.15): an entry header's fields as stored, any values; the
// attributes (mode, zig-zag mtime, mtime_nsec) are written when flags bit 0
// is set.
struct EHeader {
    uint8_t kind = 0, method = 0, flags = 0;
    uint64_t mode = 0, mtime_zz = 0, nsec = 0;
    uint64_t size = 0;
    std::string name;
};
uint64_t zigzag(int64_t v);
int64_t unzigzag(uint64_t z);
std::vector<uint8_t> entry_payload(const EHeader& h);
// The header's fields from `kind` with `name` for the name (the EHDR
// payload, or the end of an index item when `name` is the suffix).
void put_entry_fields(std::vector<uint8_t>& out, const EHeader& h, const std::string& name);
// The attr record of a frame (§3.9).
std::vector<uint8_t> attr_payload(uint64_t mode, int64_t mtime, uint64_t nsec);

struct Entry {
    EHeader h;
    // Where it goes: before frames[before_frame] (entries in entry order,
    // so non-decreasing), or after the last frame when >= the frame count.
    size_t before_frame = SIZE_MAX;
    std::vector<Record> records;               // after EHDR: EDAT and ancillary records, in order
    std::vector<uint8_t> tail;                 // raw bytes ending the extent (invalid)
    std::optional<std::vector<uint8_t>> ehdr;  // EHDR payload instead of entry_payload(h)
    std::string head_type = "EHDR";            // another type: invalid
};
// An entry of this kind, name and content, in EDAT records of the sizes
// `pieces` (their sum the content's size; empty: one piece, none for no
// content); attributes when `attrs`.
struct Attrs {
    uint64_t mode;
    int64_t mtime;
    uint64_t nsec;
};
Entry make_entry(uint8_t kind, const std::string& name, const std::string& content,
                 const std::optional<Attrs>& attrs = std::nullopt, const std::vector<size_t>& pieces = {},
                 size_t before_frame = SIZE_MAX);

// What an index entry is made from, for File::raw_entry.
struct EntryContext {
    size_t i;
    const Header& h;
    uint64_t offset, offset_delta, index_offset;
    const std::string& previous_name;
};

// What an entry section item is made from, for File::raw_item.
struct ItemContext {
    size_t j;
    uint64_t offset, delta, index_offset;
    const std::string& previous;
};

struct File {
    uint16_t version = 1, flags = 0, max_depth = 16, reserved = 0;
    std::optional<std::vector<uint8_t>> qhdr;  // QHDR payload instead of the fields
    std::vector<Frame> frames;
    // Index entry i is index_entry(h, offset_delta, previous name) unless
    // this returns the entry's bytes (offset difference included).
    std::function<std::optional<std::vector<uint8_t>>(const EntryContext&)> raw_entry;
    std::function<void(std::vector<uint8_t>&)> edit_index;  // edits the finished QIDX payload
    std::optional<uint64_t> index_offset;                   // trailer overrides
    std::optional<uint32_t> trailer_count;
    std::vector<Entry> entries;
    // The index's entry section (§3.11) instead of the one built from
    // `entries` (count and items), or item j's bytes (offset difference
    // included) instead of the built one.
    std::optional<std::vector<uint8_t>> entry_section;
    std::function<std::optional<std::vector<uint8_t>>(const ItemContext&)> raw_item;
    std::vector<Record> after_index;   // records between QIDX and QEND (invalid)
    std::vector<Record> before_index;  // records between the last frame (or QHDR) and QIDX (invalid)
};

// The front-coded item of entry header `h` in the index's entry section.
std::vector<uint8_t> index_item(const EHeader& h, uint64_t offset_delta, const std::string& previous_name);
// The front-coded index entry of header `h` (§3.11).
std::vector<uint8_t> index_entry(const Header& h, uint64_t offset_delta, const std::string& previous_name);
std::vector<uint8_t> build(const File& f);

// A stored FDAT payload (§4.2): `band_rows` 0 means one band.
std::vector<uint8_t> stored_fdat(const Img& img, uint32_t band_rows = 0);
// A QOHI FDAT payload from coded bands.
std::vector<uint8_t> bands_fdat(uint32_t band_rows, const std::vector<std::vector<uint8_t>>& bands);

// Records of a built file, in order, from offset 8.
struct Span {
    size_t offset;
    std::string type;
    size_t size;  // payload
    size_t payload() const { return offset + 8; }
    size_t end() const { return offset + 12 + size; }
};
std::vector<Span> spans(const std::vector<uint8_t>& file);
// The n-th record of `type` (0-based).
Span find(const std::vector<uint8_t>& file, const std::string& type, size_t nth = 0);
// Recomputes the CRC of the record at `s` after its payload was edited.
void fix_crc(std::vector<uint8_t>& file, const Span& s);

}  // namespace vec

#endif
