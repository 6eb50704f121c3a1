#include "reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "crc32.h"
#include "frame_codec.h"
#include "parallel.h"

namespace qohi {
namespace {

class MemorySource : public Source {
public:
    MemorySource(const void* data, size_t size) : data_(static_cast<const uint8_t*>(data)), size_(size) {}
    uint64_t size() const override { return size_; }
    Status read(uint64_t offset, size_t n, std::vector<uint8_t>&, const uint8_t** out) override {
        if (offset > size_ || n > size_ - offset) return truncated("read past the end of the data");
        *out = data_ + offset;
        return ok_status();
    }

private:
    const uint8_t* data_;
    size_t size_;
};

class FileSource : public Source {
public:
    FileSource(int fd, uint64_t size) : fd_(fd), size_(size) {}
    ~FileSource() override { ::close(fd_); }
    uint64_t size() const override { return size_; }
    Status read(uint64_t offset, size_t n, std::vector<uint8_t>& scratch, const uint8_t** out) override {
        if (offset > size_ || n > size_ - offset) return truncated("read past the end of the file");
        scratch.resize(n);
        size_t done = 0;
        while (done < n) {
            const ssize_t got = ::pread(fd_, scratch.data() + done, n - done, static_cast<off_t>(offset + done));
            if (got < 0 && errno == EINTR) continue;
            if (got < 0) return Status(QOHI_ERROR_IO, std::string("read failed: ") + std::strerror(errno));
            if (got == 0) return truncated("file shrank while being read");
            done += static_cast<size_t>(got);
        }
        *out = scratch.data();
        return ok_status();
    }

private:
    int fd_;
    uint64_t size_;
};

// Converts packed native pixels to the caller's layout.
Status convert_pixels(const uint8_t* src, uint32_t width, uint32_t height, unsigned src_channels, uint8_t* dst,
                      size_t stride, unsigned dst_channels) {
    for (uint32_t y = 0; y < height; ++y) {
        const uint8_t* s = src + size_t(y) * width * src_channels;
        uint8_t* d = dst + size_t(y) * stride;
        if (src_channels == dst_channels) {
            std::memcpy(d, s, size_t(width) * src_channels);
        } else if (dst_channels == 4) {
            for (uint32_t x = 0; x < width; ++x, s += 3, d += 4) {
                d[0] = s[0];
                d[1] = s[1];
                d[2] = s[2];
                d[3] = 0xFF;
            }
        } else {
            for (uint32_t x = 0; x < width; ++x, s += 4, d += 3) {
                if (s[3] != 0xFF) return invalid_argument("frame has transparent pixels; decode it as RGBA");
                d[0] = s[0];
                d[1] = s[1];
                d[2] = s[2];
            }
        }
    }
    return ok_status();
}

}  // namespace

std::unique_ptr<Source> memory_source(const void* data, size_t size) {
    return std::unique_ptr<Source>(new MemorySource(data, size));
}

Status file_source(const char* path, std::unique_ptr<Source>& out) {
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status(QOHI_ERROR_IO, std::string(path) + ": " + std::strerror(errno));
    struct stat st;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        const int e = errno;
        ::close(fd);
        return Status(QOHI_ERROR_IO, std::string(path) + ": " + (e ? std::strerror(e) : "not a regular file"));
    }
    out.reset(new FileSource(fd, static_cast<uint64_t>(st.st_size)));
    return ok_status();
}

Reader::Reader(std::unique_ptr<Source> source, const qohi_read_options& options)
    : source_(std::move(source)), options_(options) {
    if (options_.max_pixels == 0) options_.max_pixels = QOHI_DEFAULT_MAX_PIXELS;
    cache_limit_ = options_.low_memory ? 0 : options_.cache_bytes ? options_.cache_bytes : QOHI_DEFAULT_CACHE_BYTES;
    if (options_.max_memory) cache_limit_ = std::min(cache_limit_, options_.max_memory);
}

Status Reader::open(std::unique_ptr<Source> source, const qohi_read_options& options, std::unique_ptr<Reader>& out) {
    std::unique_ptr<Reader> r(new Reader(std::move(source), options));
    Source& src = *r->source_;
    const uint8_t* p = nullptr;
    if (src.size() < sizeof kSignature) {
        if (src.size() > 0 && src.read(0, size_t(src.size()), r->scratch_, &p).ok() &&
            std::memcmp(p, kSignature, size_t(src.size())) == 0)
            return truncated("file ends inside the signature");
        return Status(QOHI_ERROR_NOT_QOHI, "not a QOHI file (too short for the signature)");
    }
    QOHI_RETURN_IF_ERROR(src.read(0, sizeof kSignature, r->scratch_, &p));
    if (std::memcmp(p, kSignature, sizeof kSignature) != 0)
        return Status(QOHI_ERROR_NOT_QOHI, "not a QOHI file (bad signature)");

    Record rec;
    QOHI_RETURN_IF_ERROR(r->read_record(sizeof kSignature, src.size(), rec, r->scratch_));
    if (rec.type != kTypeFileHeader) return corrupt("first record is " + type_name(rec.type) + ", not QHDR");
    QOHI_RETURN_IF_ERROR(decode_file_header(rec.payload, rec.size, r->file_header_));
    const Status index_status = r->load_index();
    if (!index_status.ok()) {
        // Only the trailer and the index are wrong: the frames before them
        // may still be whole.
        const bool recoverable = index_status.code == QOHI_ERROR_TRUNCATED || index_status.code == QOHI_ERROR_CORRUPT;
        if (!options.recover || !recoverable) return index_status;
        QOHI_RETURN_IF_ERROR(r->recover(index_status));
    }
    out = std::move(r);
    return ok_status();
}

Status Reader::read_record(uint64_t offset, uint64_t limit, Record& record, std::vector<uint8_t>& scratch,
                           bool keep_payload) {
    auto at = [offset] { return " at offset " + std::to_string(offset); };  // for messages only
    if (limit > source_->size()) limit = source_->size();
    if (offset > limit || limit - offset < kRecordOverhead) {
        if (limit < source_->size()) return corrupt("frame ends inside a record header" + at());
        return truncated("file ends inside a record header" + at());
    }
    const uint8_t* p;
    QOHI_RETURN_IF_ERROR(source_->read(offset, 8, scratch, &p));
    record.type = load_u32(p);
    record.size = load_u32(p + 4);
    if (record.size > limit - offset - kRecordOverhead) {
        if (limit < source_->size()) return corrupt("record " + type_name(record.type) + at() + " runs past its frame");
        return truncated("record " + type_name(record.type) + at() + " runs past the end of the file");
    }
    record.end = offset + kRecordOverhead + record.size;
    auto crc_mismatch = [&] { return corrupt("CRC mismatch in record " + type_name(record.type) + at()); };
    // Pieces of at most 1 MiB: a frame's data can be as large as the file.
    constexpr size_t kPiece = size_t(1) << 20;
    if (keep_payload || record.size <= kPiece) {
        QOHI_RETURN_IF_ERROR(source_->read(offset, kRecordOverhead + size_t(record.size), scratch, &p));
        record.payload = p + 8;
        if (record_crc(record.type, record.payload, record.size) != load_u32(p + 8 + record.size))
            return crc_mismatch();
        return ok_status();
    }
    record.payload = nullptr;
    uint32_t crc = crc32_update(0, p, 4);
    for (uint64_t done = 0; done < record.size;) {
        const size_t n = size_t(std::min<uint64_t>(kPiece, record.size - done));
        QOHI_RETURN_IF_ERROR(source_->read(offset + 8 + done, n, scratch, &p));
        crc = crc32_update(crc, p, n);
        done += n;
    }
    QOHI_RETURN_IF_ERROR(source_->read(offset + 8 + record.size, 4, scratch, &p));
    if (load_u32(p) != crc) return crc_mismatch();
    return ok_status();
}

Status Reader::check_reference(const FrameHeader& h, uint32_t index, uint16_t& depth) const {
    depth = 0;
    if (h.reference == kNoReference) return ok_status();
    const std::string which = "frame " + std::to_string(index);
    const Frame& ref = frames_[h.reference];
    if (ref.header.width != h.width || ref.header.height != h.height || ref.header.channels != h.channels ||
        ref.header.bit_depth != h.bit_depth)
        return corrupt(which + " differs in size or channels from its reference frame");
    if (h.method == kMethodStored || h.method == kMethodDici)
        return corrupt(which + " has a reference frame but is not a QOHI frame");
    if (ref.depth + 1u > file_header_.max_chain_depth)
        return corrupt(which + " has a reference chain longer than the file's limit of " +
                       std::to_string(file_header_.max_chain_depth));
    depth = static_cast<uint16_t>(ref.depth + 1);
    return ok_status();
}

Status Reader::recover(const Status& index_error) {
    frames_ = std::vector<Frame>();  // what the index listed, capacity included
    names_ = IndexNames();
    entries_ = std::vector<Entry>();
    entry_names_ = IndexNames();
    const Status end = scan_frames();
    if (end.code == QOHI_ERROR_IO) return end;  // the file could not be read: nothing is known
    names_.finish_loading();
    entry_names_.finish_loading();
    const uint32_t n = frame_count();
    const uint32_t e = entry_count();
    file_status_ = Status(index_error.code,
                          index_error.message + "; recovered " + std::to_string(n) + (n == 1 ? " frame" : " frames") +
                              (e ? " and " + std::to_string(e) + (e == 1 ? " entry" : " entries") : std::string()) +
                              " by reading the file from the start; " +
                              (end.ok() ? "the frames end at the index" : "the scan ended: " + end.message));
    return ok_status();
}

Status Reader::scan_frames() {
    // The frames are read in file order as a sequential reader reads them
    // (spec §3.14); a frame is kept once its FHDR, ancillary records and
    // FDAT have all been read. The first record that does not fit in the
    // file (where the writer stopped), fails its CRC (its length may be
    // what is damaged, so nothing after it can be found) or breaks the
    // record order, the first invalid frame header, or the index ends the
    // scan; it returns which (OK for the index).
    std::string previous_name;  // of the last frame kept: the next is front-coded against it
    std::string previous_entry_name;
    uint64_t offset = kFirstFrameOffset;
    for (;;) {
        const std::string at = " at offset " + std::to_string(offset);
        Record rec;
        QOHI_RETURN_IF_ERROR(read_record(offset, source_->size(), rec, scratch_, false));
        if (rec.type == kTypeIndex) return ok_status();
        if (rec.type == kTypeEntryHeader) {
            const uint32_t index = entry_count();
            const std::string which = "entry " + std::to_string(index) + at;
            if (index == UINT32_MAX) return Status(QOHI_ERROR_LIMIT, which + ": more entries than a file can hold");
            if (rec.size > kMaxEntryHeaderSize) return corrupt(which + ": entry header longer than any valid one");
            Entry e;
            e.offset = offset;
            ByteReader in(rec.payload, rec.size);
            Status st = decode_entry_header(in, e.header);
            if (st.ok() && in.remaining() != 0) st = corrupt("bytes after the name in the entry header");
            if (st.ok()) st = scan_entry(e.header.size, rec.end, e.end);
            if (!st.ok()) {
                st.message = which + ": " + st.message;
                return st;
            }
            const std::string& name = e.header.name;
            const size_t shared = shared_prefix(name, previous_entry_name);
            entry_names_.append(shared, reinterpret_cast<const uint8_t*>(name.data()) + shared, name.size() - shared);
            previous_entry_name.swap(e.header.name);
            e.header.name.clear();
            offset = e.end;
            entries_.push_back(std::move(e));
            continue;
        }
        if (rec.type != kTypeFrameHeader)
            return corrupt("record " + type_name(rec.type) + at + ", where a frame, an entry or the index should start");
        const uint32_t index = frame_count();
        const std::string which = "frame " + std::to_string(index) + at;
        if (index == kNoReference) return Status(QOHI_ERROR_LIMIT, which + ": more frames than a file can hold");
        if (rec.size > kMaxFrameHeaderSize) return corrupt(which + ": frame header longer than any valid one");
        Frame f;  // rec.payload is the FHDR's: records that small are read whole
        f.offset = offset;
        ByteReader in(rec.payload, rec.size);
        Status st = decode_frame_header(in, index, f.header);
        if (st.ok() && in.remaining() != 0) st = corrupt("bytes after the name in the frame header");
        if (st.ok()) st = check_reference(f.header, index, f.depth);
        if (!st.ok()) {
            st.message = which + ": " + st.message;
            return st;
        }
        // Ancillary records up to FDAT, and critical records this library
        // does not know: the frame is then refused when it is decoded
        // (§3.13 step 2), and the scan goes on past it.
        for (;;) {
            QOHI_RETURN_IF_ERROR(read_record(rec.end, source_->size(), rec, scratch_, false));
            if (rec.type == kTypeFrameData) break;
            if (rec.type == kTypeFrameHeader || rec.type == kTypeIndex || rec.type == kTypeTrailer ||
                rec.type == kTypeFileHeader || rec.type == kTypeEntryHeader || rec.type == kTypeEntryData)
                return corrupt(which + " has no FDAT record");
        }
        f.end = rec.end;

        const std::string& name = f.header.name;
        const size_t shared = shared_prefix(name, previous_name);
        names_.append(shared, reinterpret_cast<const uint8_t*>(name.data()) + shared, name.size() - shared);
        previous_name.swap(f.header.name);
        f.header.name.clear();  // names_ has it
        if (f.header.reference != kNoReference) frames_[f.header.reference].referenced = true;
        offset = f.end;
        frames_.push_back(std::move(f));
    }
}

Status Reader::load_index() {
    const uint64_t size = source_->size();
    if (size < kFirstFrameOffset + kTrailerSize) return truncated("file ends before its index trailer");
    Record rec;
    Status st = read_record(size - kTrailerSize, size, rec, scratch_);
    if (!st.ok() || rec.type != kTypeTrailer || rec.size != kTrailerPayloadSize)
        return truncated("no valid trailer at the end of the file (truncated, damaged, or data appended)");
    ByteReader t(rec.payload, rec.size);
    const uint64_t index_offset = t.u64();
    const uint32_t count = t.u32();
    if (index_offset < kFirstFrameOffset || index_offset > size - kTrailerSize - kRecordOverhead)
        return corrupt("trailer points outside the file");

    std::vector<uint8_t> index_bytes;
    QOHI_RETURN_IF_ERROR(read_record(index_offset, size - kTrailerSize, rec, index_bytes));
    if (rec.type != kTypeIndex) return corrupt("trailer does not point at the index");
    if (rec.end != size - kTrailerSize) return corrupt("data between the index and the trailer");
    ByteReader in(rec.payload, rec.size);
    const uint32_t listed = in.u32();
    if (!in.ok() || listed != count) return corrupt("index and trailer disagree on the frame count");
    if (uint64_t(count) * kMinIndexEntrySize > in.remaining()) return corrupt("index too short for its frame count");

    frames_.resize(count);
    names_.reserve(count);
    uint64_t offset = 0;
    for (uint32_t i = 0; i < count; ++i) {
        Frame& f = frames_[i];
        offset += in.varint(size);
        if (!in.ok()) return corrupt("index entry " + std::to_string(i) + ": frame offset cut short or out of range");
        f.offset = offset;
        Status hs = decode_index_entry_header(in, i, names_, f.header);
        if (!hs.ok()) {
            hs.message = "index entry " + std::to_string(i) + ": " + hs.message;
            return hs;
        }
        // Frames (and entries) tile the file from the end of QHDR to the
        // index: tile_items() checks them together.
        if ((i == 0 ? f.offset < kFirstFrameOffset : f.offset < frames_[i - 1].offset + kRecordOverhead) ||
            f.offset >= index_offset)
            return corrupt("index entry " + std::to_string(i) + " has an invalid frame offset");
        QOHI_RETURN_IF_ERROR(check_reference(f.header, i, f.depth));
        if (f.header.reference != kNoReference) frames_[f.header.reference].referenced = true;
    }
    if (in.remaining() != 0) QOHI_RETURN_IF_ERROR(load_entry_index(in, size, index_offset));
    if (in.remaining() != 0) return corrupt("unused bytes at the end of the index");
    names_.finish_loading();
    entry_names_.finish_loading();
    return tile_items(index_offset);
}

Status Reader::load_entry_index(ByteReader& in, uint64_t file_size, uint64_t index_offset) {
    const uint64_t count = in.varint(0xFFFFFFFFu);
    if (!in.ok()) return corrupt("index: entry count cut short or out of range");
    if (count == 0) return corrupt("index: an entry section with no entries");
    if (count * kMinEntryIndexItemSize > in.remaining()) return corrupt("index too short for its entry count");
    entries_.resize(size_t(count));
    entry_names_.reserve(uint32_t(count));
    uint64_t offset = 0;
    for (uint32_t j = 0; j < count; ++j) {
        Entry& e = entries_[j];
        const std::string which = "index: entry " + std::to_string(j);
        offset += in.varint(file_size);
        if (!in.ok()) return corrupt(which + ": offset cut short or out of range");
        e.offset = offset;
        Status st = decode_entry_index_item(in, entry_names_, e.header);
        if (!st.ok()) {
            st.message = which + ": " + st.message;
            return st;
        }
        if ((j > 0 && e.offset < entries_[j - 1].offset + kRecordOverhead) || e.offset >= index_offset)
            return corrupt(which + " has an invalid offset");
    }
    return ok_status();
}

Status Reader::tile_items(uint64_t index_offset) {
    // Both lists are in file order: merge them, checking that each item
    // starts at least a record's overhead after the one before.
    uint64_t expected = kFirstFrameOffset;  // where the first item must start
    uint64_t* previous_end = nullptr;
    uint64_t previous_start = 0;
    size_t i = 0, j = 0;
    while (i < frames_.size() || j < entries_.size()) {
        const bool frame = j == entries_.size() || (i < frames_.size() && frames_[i].offset < entries_[j].offset);
        const uint64_t start = frame ? frames_[i].offset : entries_[j].offset;
        if (previous_end) {
            if (start < previous_start + kRecordOverhead)
                return corrupt("index: two items start at offsets " + std::to_string(previous_start) + " and " +
                               std::to_string(start));
            *previous_end = start;
        } else if (start != expected) {
            return corrupt(std::string(frame ? "index: frame 0" : "index: entry 0") +
                           " does not start right after the file header (offset 28)");
        }
        previous_start = start;
        previous_end = frame ? &frames_[i++].end : &entries_[j++].end;
    }
    if (!previous_end) {
        if (index_offset != kFirstFrameOffset) return corrupt("data between the file header and the index");
        return ok_status();
    }
    *previous_end = index_offset;
    for (size_t k = 0; k < entries_.size(); ++k)
        if (entries_[k].header.method == 0 && entries_[k].header.size > entries_[k].end - entries_[k].offset)
            return corrupt("index: entry " + std::to_string(k) + " is larger than the space it occupies");
    return ok_status();
}

Status Reader::scan_entry(uint64_t size, uint64_t start, uint64_t& end) {
    // Sequential reading (spec §3.14, §3.15): the records from `start` up to
    // the one that completes `size` bytes of content; each fits in the file,
    // passes its CRC (read_record) and is ancillary, EDAT or a critical
    // record this library does not know: the entry is then refused when it
    // is read (UNSUPPORTED, as a frame is), and the scan goes on past it.
    uint64_t have = 0;
    end = start;
    while (have < size) {
        Record rec;
        QOHI_RETURN_IF_ERROR(read_record(end, source_->size(), rec, scratch_, false));
        if (rec.type == kTypeEntryData) {
            if (rec.size == 0) return corrupt("empty EDAT record");
            if (rec.size > size - have) return corrupt("entry content longer than its header says");
            have += rec.size;
        } else if (rec.type == kTypeFileHeader || rec.type == kTypeFrameHeader || rec.type == kTypeFrameData ||
                   rec.type == kTypeIndex || rec.type == kTypeTrailer || rec.type == kTypeEntryHeader) {
            return corrupt("record " + type_name(rec.type) + " inside an entry's content");
        }
        end = rec.end;
    }
    return ok_status();
}

Status Reader::frame_info(uint32_t index, qohi_frame_info& info) {
    if (index >= frames_.size()) return Status(QOHI_ERROR_NOT_FOUND, "no frame " + std::to_string(index));
    const Frame& f = frames_[index];
    info.width = f.header.width;
    info.height = f.header.height;
    info.channels = f.header.channels;
    info.bit_depth = f.header.bit_depth;
    info.method = f.header.method;
    info.reference = f.header.reference == kNoReference ? -1 : int64_t(f.header.reference);
    info.depth = f.depth;
    info.baseline = (f.header.flags & kFrameFlagBaseline) != 0;
    info.name = names_.stable_name(index);
    info.name_size = names_.name_size(index);
    info.coded_size = f.end - f.offset;
    return ok_status();
}

Status Reader::find_frame(const std::string& name, uint32_t& index) {
    if (!names_.find(name, index)) return Status(QOHI_ERROR_NOT_FOUND, "no frame named \"" + name + "\"");
    return ok_status();
}

template <class F>
Status Reader::read_frame_records(uint32_t index, Record& rec, F&& ancillary) {
    const Frame& f = frames_[index];
    // FHDR (the same header as the index entry's), ancillary records, then
    // FDAT. Every header has one encoding, so equal headers are equal bytes.
    QOHI_RETURN_IF_ERROR(read_record(f.offset, f.end, rec, scratch_));
    if (rec.type != kTypeFrameHeader) return corrupt("index points at " + type_name(rec.type) + ", not FHDR");
    FrameHeader from_index = f.header;
    names_.build(index, from_index.name);
    std::vector<uint8_t> expected;
    encode_frame_header(from_index, index, expected);
    if (rec.size != expected.size() || std::memcmp(rec.payload, expected.data(), rec.size) != 0)
        return corrupt("frame header disagrees with the index");
    uint64_t offset = rec.end;
    for (;;) {
        QOHI_RETURN_IF_ERROR(read_record(offset, f.end, rec, scratch_));
        if (rec.type == kTypeFrameData) break;
        if (!is_ancillary(rec.type)) {
            if (rec.type == kTypeFrameHeader || rec.type == kTypeIndex || rec.type == kTypeTrailer ||
                rec.type == kTypeFileHeader || rec.type == kTypeEntryHeader || rec.type == kTypeEntryData)
                return corrupt("frame has no FDAT record");
            return unsupported("unknown critical record " + type_name(rec.type));
        }
        QOHI_RETURN_IF_ERROR(ancillary(rec));
        offset = rec.end;
    }
    if (rec.end != f.end) return corrupt("unexpected data after the frame's FDAT record");
    return ok_status();
}

Status Reader::read_frame_data(uint32_t index, Record& fdat) {
    const FrameHeader& h = frames_[index].header;
    QOHI_RETURN_IF_ERROR(read_frame_records(index, fdat, [](const Record&) { return ok_status(); }));
    Status st = check_frame_data(fdat.payload, fdat.size, h.width, h.height, h.channels, h.method);
    if (!st.ok()) st.message = "frame " + std::to_string(index) + ": " + st.message;
    return st;
}

Status Reader::decode_single(uint32_t index, const Record& fdat, const uint8_t* ref, uint8_t* out) {
    const FrameHeader& h = frames_[index].header;
    Status st = decode_frame_data(fdat.payload, fdat.size, h.width, h.height, h.channels, h.method, ref, out,
                                  resolve_threads(options_.threads));
    if (!st.ok()) st.message = "frame " + std::to_string(index) + ": " + st.message;
    return st;
}

Reader::Pixels Reader::cache_find(uint32_t index) {
    auto it = cache_where_.find(index);
    if (it == cache_where_.end()) return nullptr;
    cache_.splice(cache_.begin(), cache_, it->second);
    return it->second->pixels;
}

void Reader::cache_insert(uint32_t index, Pixels pixels) {
    const uint64_t limit = std::min(cache_limit_, cache_room_);
    if (pixels->size() > limit || cache_where_.count(index)) return;
    cache_bytes_ += pixels->size();
    cache_.push_front({index, std::move(pixels)});
    cache_where_[index] = cache_.begin();
    cache_trim(limit);
}

void Reader::cache_trim(uint64_t limit) {
    while (cache_bytes_ > limit) {
        cache_bytes_ -= cache_.back().pixels->size();
        cache_where_.erase(cache_.back().index);
        cache_.pop_back();
    }
}

Status Reader::reference_chain(uint32_t index, std::vector<uint32_t>& chain, Pixels& base) {
    for (uint32_t i = index; frames_[i].header.reference != kNoReference;) {
        const uint32_t ref = frames_[i].header.reference;
        if ((base = cache_find(ref))) break;
        QOHI_RETURN_IF_ERROR(check_decodable(frames_[ref].header));
        chain.push_back(ref);
        i = ref;
    }
    return ok_status();
}

Status Reader::check_without_pixels(uint32_t index) {
    std::vector<uint32_t> chain;
    Pixels base;
    QOHI_RETURN_IF_ERROR(reference_chain(index, chain, base));
    Record fdat;
    for (size_t k = chain.size(); k-- > 0;) QOHI_RETURN_IF_ERROR(read_frame_data(chain[k], fdat));
    return read_frame_data(index, fdat);
}

Status Reader::decode_native(uint32_t index, uint8_t* out) {
    // The frames to decode: `index`, then its reference, and so on down to an
    // intra frame or a frame still in the cache (its pixels are `base`).
    std::vector<uint32_t> chain;
    Pixels base;
    QOHI_RETURN_IF_ERROR(reference_chain(index, chain, base));
    // Decode upwards. Frames that others refer to go into the cache; the
    // shared pointers keep the current reference alive even if evicted.
    // Each buffer is allocated only once its frame's records passed.
    const FrameHeader& h = frames_[index].header;
    const size_t frame_bytes = size_t(h.width) * h.height * h.channels;
    Pixels ref = base;
    Record fdat;
    for (size_t k = chain.size(); k-- > 0;) {
        QOHI_RETURN_IF_ERROR(read_frame_data(chain[k], fdat));
        auto decoded = std::make_shared<PixelBuffer>(frame_bytes);
        QOHI_RETURN_IF_ERROR(decode_single(chain[k], fdat, ref ? ref->data() : nullptr, decoded->data()));
        ref = decoded;
        if (cache_limit_) cache_insert(chain[k], ref);
    }
    QOHI_RETURN_IF_ERROR(read_frame_data(index, fdat));
    if (!out) {
        pixels_.reset(new uint8_t[frame_bytes]);
        out = pixels_.get();
    }
    QOHI_RETURN_IF_ERROR(decode_single(index, fdat, ref ? ref->data() : nullptr, out));
    if (cache_limit_ && frames_[index].referenced && !cache_find(index)) {
        auto kept = std::make_shared<PixelBuffer>(frame_bytes);
        std::memcpy(kept->data(), out, frame_bytes);
        cache_insert(index, std::move(kept));
    }
    return ok_status();
}

Status Reader::decode_frame(uint32_t index, uint8_t* pixels, size_t buffer_size, size_t stride, uint32_t channels) {
    if (index >= frames_.size()) return Status(QOHI_ERROR_NOT_FOUND, "no frame " + std::to_string(index));
    const FrameHeader& h = frames_[index].header;
    QOHI_RETURN_IF_ERROR(check_decodable(h));
    const unsigned out_channels = channels ? channels : h.channels;
    if (out_channels != 3 && out_channels != 4) return invalid_argument("output channels must be 0, 3 or 4");
    const uint64_t pixel_count = uint64_t(h.width) * h.height;
    if (pixel_count > options_.max_pixels)
        return Status(QOHI_ERROR_LIMIT, "frame of " + std::to_string(h.width) + "x" + std::to_string(h.height) +
                                            " exceeds the pixel limit of " + std::to_string(options_.max_pixels));
    const uint64_t row_bytes = uint64_t(h.width) * out_channels;
    if (stride == 0) stride = static_cast<size_t>(row_bytes);
    if (stride < row_bytes) return invalid_argument("stride smaller than a row");
    // No buffer at all: a probe (qohi.h), answered after the checks below.
    const bool probe = !pixels && buffer_size == 0;
    // Rows end at stride * (height - 1) + row_bytes; divided, not
    // multiplied, so that a huge stride cannot wrap the check around.
    if (!probe &&
        (!pixels || buffer_size < row_bytes || (h.height > 1 && (buffer_size - row_bytes) / (h.height - 1) < stride)))
        return invalid_argument("pixel buffer too small for the frame");

    const bool direct = out_channels == h.channels && stride == row_bytes;
    if (options_.max_memory) {
        // Working buffers: the other layout's, and for a delta frame two
        // frames of its reference chain at a time (one decoding, its
        // reference). The cache gives up the rest.
        const uint64_t frame_bytes = pixel_count * h.channels;
        const uint64_t needed =
            (direct ? 0 : frame_bytes) + (h.reference != kNoReference ? 2 * frame_bytes : 0);
        if (needed > options_.max_memory)
            return Status(QOHI_ERROR_LIMIT, "decoding frame " + std::to_string(index) + " needs " +
                                                std::to_string(needed) + " bytes of buffers, above the memory limit of " +
                                                std::to_string(options_.max_memory));
        cache_room_ = options_.max_memory - needed;
        cache_trim(cache_room_);
    }
    struct RoomReset {
        uint64_t& room;
        ~RoomReset() { room = ~uint64_t(0); }
    } room_reset{cache_room_};
    if (probe) {
        QOHI_RETURN_IF_ERROR(check_without_pixels(index));
        return invalid_argument("no pixel buffer (the frame passed every check made without one)");
    }
    if (direct) return decode_native(index, pixels);
    Status st = decode_native(index, nullptr);
    if (st.ok()) st = convert_pixels(pixels_.get(), h.width, h.height, h.channels, pixels, stride, out_channels);
    pixels_.reset();
    return st;
}

Status Reader::frame_attributes(uint32_t index, qohi_file_attributes& out) {
    if (index >= frames_.size()) return Status(QOHI_ERROR_NOT_FOUND, "no frame " + std::to_string(index));
    out = qohi_file_attributes{};
    Record fdat;
    bool seen = false;
    return read_frame_records(index, fdat, [&](const Record& rec) {
        if (rec.type != kTypeAttributes) return ok_status();
        if (seen) return corrupt("frame " + std::to_string(index) + " has two attr records");
        seen = true;
        FileAttributes a;
        QOHI_RETURN_IF_ERROR(decode_attributes(rec.payload, rec.size, a));
        out.present = 1;
        out.mode = a.mode;
        out.mtime = a.mtime;
        out.mtime_nsec = a.mtime_nsec;
        return ok_status();
    });
}

Status Reader::entry_info(uint32_t index, qohi_entry_info& info) {
    if (index >= entries_.size()) return Status(QOHI_ERROR_NOT_FOUND, "no entry " + std::to_string(index));
    const Entry& e = entries_[index];
    info.kind = e.header.kind;
    info.method = e.header.method;
    info.name = entry_names_.stable_name(index);
    info.name_size = entry_names_.name_size(index);
    info.size = e.header.size;
    const FileAttributes& a = e.header.attributes;
    info.attributes.present = a.present ? 1 : 0;
    info.attributes.mode = a.mode;
    info.attributes.mtime = a.mtime;
    info.attributes.mtime_nsec = a.mtime_nsec;
    info.coded_size = e.end - e.offset;
    return ok_status();
}

Status Reader::find_entry(const std::string& name, uint32_t& index) {
    if (!entry_names_.find(name, index)) return Status(QOHI_ERROR_NOT_FOUND, "no entry named \"" + name + "\"");
    return ok_status();
}

Status Reader::read_entry(uint32_t index, qohi_entry_sink sink, void* user) {
    if (index >= entries_.size()) return Status(QOHI_ERROR_NOT_FOUND, "no entry " + std::to_string(index));
    const Entry& e = entries_[index];
    const std::string which = "entry " + std::to_string(index) + ": ";
    QOHI_RETURN_IF_ERROR(check_readable(e.header));
    Record rec;
    QOHI_RETURN_IF_ERROR(read_record(e.offset, e.end, rec, scratch_));
    if (rec.type != kTypeEntryHeader) return corrupt(which + "index points at " + type_name(rec.type) + ", not EHDR");
    EntryHeader from_index = e.header;
    entry_names_.build(index, from_index.name);
    std::vector<uint8_t> expected;
    encode_entry_header(from_index, expected);
    if (rec.size != expected.size() || std::memcmp(rec.payload, expected.data(), rec.size) != 0)
        return corrupt(which + "entry header disagrees with the index");
    uint64_t have = 0, offset = rec.end;
    while (have < e.header.size) {
        QOHI_RETURN_IF_ERROR(read_record(offset, e.end, rec, scratch_));
        offset = rec.end;
        if (is_ancillary(rec.type)) continue;
        if (rec.type != kTypeEntryData) {
            if (rec.type == kTypeFileHeader || rec.type == kTypeFrameHeader || rec.type == kTypeFrameData ||
                rec.type == kTypeIndex || rec.type == kTypeTrailer || rec.type == kTypeEntryHeader)
                return corrupt(which + "content cut short by record " + type_name(rec.type));
            return unsupported(which + "unknown critical record " + type_name(rec.type));
        }
        if (rec.size == 0) return corrupt(which + "empty EDAT record");
        if (rec.size > e.header.size - have) return corrupt(which + "content longer than its header says");
        if (e.header.kind == kEntrySymlink && std::memchr(rec.payload, 0, rec.size))
            return corrupt(which + "symbolic link target contains NUL");
        have += rec.size;
        const qohi_status st = sink(user, rec.payload, rec.size);
        if (st != QOHI_OK) return Status(st, which + "the caller stopped reading");
    }
    if (offset != e.end) return corrupt(which + "unexpected data after the entry's content");
    return ok_status();
}

Status Reader::frame_metadata(uint32_t index, const qohi_metadata** items, size_t* count) {
    if (index >= frames_.size()) return Status(QOHI_ERROR_NOT_FOUND, "no frame " + std::to_string(index));
    metadata_items_.clear();
    metadata_.clear();
    Record fdat;
    QOHI_RETURN_IF_ERROR(read_frame_records(index, fdat, [&](const Record& rec) {
        MetadataItem item;
        const Status st = decode_metadata(rec.type, rec.payload, rec.size, item);
        if (st.code == QOHI_ERROR_UNSUPPORTED) return ok_status();  // an ancillary record we do not know
        if (st.ok()) metadata_items_.push_back(std::move(item));
        return st;
    }));
    for (const MetadataItem& m : metadata_items_)
        metadata_.push_back({m.kind, m.key.empty() ? nullptr : m.key.c_str(),
                             m.data.empty() ? static_cast<const void*>("") : m.data.data(), m.data.size()});
    *items = metadata_.data();
    *count = metadata_.size();
    return ok_status();
}

}  // namespace qohi
