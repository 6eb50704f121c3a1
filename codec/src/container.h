// The .qohi container (spec §3): signature, records with
// length and CRC-32, the file header, self-describing frame headers, the
// frame index and the fixed-size trailer that points to it.
#ifndef QOHI_CONTAINER_H
#define QOHI_CONTAINER_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "byte_io.h"
#include "status.h"

namespace qohi {

class IndexNames;

constexpr uint8_t kSignature[8] = {0x89, 'Q', 'O', 'H', 'I', 0x0D, 0x0A, 0x1A};
constexpr size_t kRecordOverhead = 12;  // type, length, CRC
constexpr uint16_t kFormatVersion = 1;

constexpr uint32_t record_type(const char (&s)[5]) {
    return uint32_t(uint8_t(s[0])) | uint32_t(uint8_t(s[1])) << 8 | uint32_t(uint8_t(s[2])) << 16 |
           uint32_t(uint8_t(s[3])) << 24;
}
constexpr uint32_t kTypeFileHeader = record_type("QHDR");
constexpr uint32_t kTypeFrameHeader = record_type("FHDR");
constexpr uint32_t kTypeFrameData = record_type("FDAT");
constexpr uint32_t kTypeIndex = record_type("QIDX");
constexpr uint32_t kTypeTrailer = record_type("QEND");
// Entries (spec §3.15): files stored as they are.
constexpr uint32_t kTypeEntryHeader = record_type("EHDR");
constexpr uint32_t kTypeEntryData = record_type("EDAT");
// Permission bits and modification time of a frame's source file (spec §3.9).
constexpr uint32_t kTypeAttributes = record_type("attr");
// Frame metadata (spec §3.9): ancillary records between FHDR and FDAT.
constexpr uint32_t kTypeIcc = record_type("iccp");
constexpr uint32_t kTypeExif = record_type("exif");
constexpr uint32_t kTypeXmp = record_type("xmpd");
constexpr uint32_t kTypeText = record_type("text");
constexpr uint32_t kTypePng = record_type("pngc");
constexpr size_t kMaxMetadataKey = 79;

// Records whose type starts with a lowercase letter are ancillary: readers
// that do not know them skip them. Unknown critical records are an error.
inline bool is_ancillary(uint32_t type) { return (type & 0xFF) >= 'a' && (type & 0xFF) <= 'z'; }
std::string type_name(uint32_t type);

constexpr size_t kFileHeaderSize = 8;
constexpr size_t kTrailerPayloadSize = 12;
constexpr size_t kTrailerSize = kTrailerPayloadSize + kRecordOverhead;
constexpr uint32_t kNoReference = 0xFFFFFFFFu;
constexpr uint8_t kFrameFlagBaseline = 1;  // informative: a pinned reference image
constexpr uint32_t kMaxDimension = 1u << 24;
constexpr uint64_t kMaxFramePixels = uint64_t(1) << 29;
constexpr size_t kMaxNameBytes = 65535;
constexpr size_t kMinIndexEntrySize = 10;  // every varint one byte, empty name
// FHDR payload: varints of at most 4, 4, 5 and 3 bytes, 4 bytes, the name.
constexpr size_t kMaxFrameHeaderSize = 4 + 4 + 4 + 5 + 3 + kMaxNameBytes;
// Where frame 0 (or, in a file of no frames, the index) starts: after the
// signature and QHDR.
constexpr uint64_t kFirstFrameOffset = sizeof kSignature + kRecordOverhead + kFileHeaderSize;

struct FileHeader {
    uint16_t version = kFormatVersion;
    uint16_t flags = 0;
    uint16_t max_chain_depth = 0;
};

struct FrameHeader {
    uint32_t width = 0;
    uint32_t height = 0;
    uint8_t channels = 0;
    uint8_t bit_depth = 8;
    uint8_t method = 0;
    uint8_t flags = 0;
    uint32_t reference = kNoReference;  // absolute frame index (coded as a distance back)
    std::string name;
};

// What a tar archive keeps of a file besides its bytes (spec §3.15).
struct FileAttributes {
    bool present = false;
    uint16_t mode = 0;  // st_mode & 07777
    int64_t mtime = 0;  // seconds since 1970-01-01 UTC
    uint32_t mtime_nsec = 0;
};
constexpr uint32_t kMaxMode = 07777;
constexpr uint32_t kMaxNanoseconds = 999999999;

// Entry kinds; others are reserved (listed, refused when read).
constexpr uint8_t kEntryRegular = 0;
constexpr uint8_t kEntrySymlink = 1;
constexpr uint8_t kEntryFolder = 2;
constexpr uint8_t kEntryFlagAttributes = 1;
constexpr uint64_t kMaxLinkTarget = 65535;
constexpr size_t kMinEntryIndexItemSize = 7;  // every varint one byte, no suffix
// EHDR payload: 3 bytes, varints of at most 2, 10, 5 and 10 bytes, the name's size (3) and the name.
constexpr size_t kMaxEntryHeaderSize = 3 + 2 + 10 + 5 + 10 + 3 + kMaxNameBytes;

struct EntryHeader {
    uint8_t kind = kEntryRegular;
    uint8_t method = 0;
    uint8_t flags = 0;  // bit 0 (kEntryFlagAttributes): `attributes` are stored
    FileAttributes attributes;
    uint64_t size = 0;  // content bytes
    std::string name;
};

struct MetadataItem {
    uint32_t kind = 0;  // a qohi_metadata_kind
    std::string key;
    std::vector<uint8_t> data;
};

struct Trailer {
    uint64_t index_offset = 0;
    uint32_t frame_count = 0;
};

// The 8 bytes before a record's payload: type and payload length.
void record_head(uint32_t type, size_t size, uint8_t out[8]);
// Appends a whole record (type, length, payload, CRC) to `out`.
void append_record(std::vector<uint8_t>& out, uint32_t type, const uint8_t* payload, size_t size);
// CRC of a record as stored: over the type bytes and the payload.
uint32_t record_crc(uint32_t type, const uint8_t* payload, size_t size);

void encode_file_header(const FileHeader& h, std::vector<uint8_t>& payload);
Status decode_file_header(const uint8_t* payload, size_t size, FileHeader& h);

// FHDR payload of frame number `index` (spec §3.7).
void encode_frame_header(const FrameHeader& h, uint32_t index, std::vector<uint8_t>& payload);
// Index entry (spec §3.11): the frame's offset as the distance from the
// previous entry's (0 for the first), then its header with the name coded
// as the bytes it shares with `previous_name` and the rest.
void encode_index_entry(const FrameHeader& h, uint32_t index, uint64_t offset_delta, const std::string& previous_name,
                        std::vector<uint8_t>& payload);
// Parses the FHDR payload of frame number `index` from `in` and checks that
// every field is valid (spec §3.7, checks 1 - 7; CORRUPT if not). Values that
// are valid but that this library cannot decode are accepted here, so the
// other frames of a file stay readable; check_decodable() refuses them
// (UNSUPPORTED).
Status decode_frame_header(ByteReader& in, uint32_t index, FrameHeader& h);
// The same for the rest of index entry `index` after its offset (spec
// §3.11): its name, front-coded against the previous entry's, is checked and
// appended to `names` (which holds the previous entries'), and `h.name` is
// left empty.
Status decode_index_entry_header(ByteReader& in, uint32_t index, IndexNames& names, FrameHeader& h);
Status check_decodable(const FrameHeader& h);

// EHDR payload (spec §3.15) and the entry's item in the index's entry
// section (spec §3.11), as for frames.
void encode_entry_header(const EntryHeader& h, std::vector<uint8_t>& payload);
void encode_entry_index_item(const EntryHeader& h, uint64_t offset_delta, const std::string& previous_name,
                             std::vector<uint8_t>& payload);
// Parses an EHDR payload and makes the validity checks of spec §3.15
// (CORRUPT); reserved kinds, methods and flags are accepted here and
// refused by check_readable() (UNSUPPORTED).
Status decode_entry_header(ByteReader& in, EntryHeader& h);
// The same for an index item after its offset; the name goes to `names`.
Status decode_entry_index_item(ByteReader& in, IndexNames& names, EntryHeader& h);
Status check_readable(const EntryHeader& h);

// The attr record (spec §3.9).
void encode_attributes(const FileAttributes& a, std::vector<uint8_t>& payload);
Status decode_attributes(const uint8_t* payload, size_t size, FileAttributes& a);

void encode_trailer(const Trailer& t, std::vector<uint8_t>& payload);

// Metadata records. encode_metadata() refuses items a reader would reject
// (INVALID_ARGUMENT); decode_metadata() gives UNSUPPORTED for ancillary
// records that are not metadata and CORRUPT for malformed ones.
Status encode_metadata(const MetadataItem& item, uint32_t& type, std::vector<uint8_t>& payload);
Status decode_metadata(uint32_t type, const uint8_t* payload, size_t size, MetadataItem& item);

// How many leading bytes `name` shares with `previous`: what an index entry
// front-codes (spec §3.11).
size_t shared_prefix(const std::string& name, const std::string& previous);

// Checks that `bytes` is well-formed UTF-8 without NUL (frame names, spec §3.8).
bool is_valid_name(const uint8_t* bytes, size_t size);
inline bool is_valid_name(const std::string& bytes) {
    return is_valid_name(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

}  // namespace qohi

#endif
