// Reading .qohi files (spec §3.11-3.13, §4.5, §7): the trailer and the index on
// open, frames on demand, from a file or a memory buffer.
#ifndef QOHI_READER_H
#define QOHI_READER_H

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "container.h"
#include "index_names.h"
#include "qohi/qohi.h"
#include "status.h"

namespace qohi {

// Random-access bytes: a memory buffer or a file.
class Source {
public:
    virtual ~Source() = default;
    virtual uint64_t size() const = 0;
    // Points `*out` at `n` bytes from `offset`, reading into `scratch` if needed.
    virtual Status read(uint64_t offset, size_t n, std::vector<uint8_t>& scratch, const uint8_t** out) = 0;
};

std::unique_ptr<Source> memory_source(const void* data, size_t size);
Status file_source(const char* path, std::unique_ptr<Source>& out);

class Reader {
public:
    static Status open(std::unique_ptr<Source> source, const qohi_read_options& options,
                       std::unique_ptr<Reader>& out);

    uint32_t frame_count() const { return static_cast<uint32_t>(frames_.size()); }
    // info.name stays valid until the reader is destroyed.
    Status frame_info(uint32_t index, qohi_frame_info& info);
    Status find_frame(const std::string& name, uint32_t& index);
    Status decode_frame(uint32_t index, uint8_t* pixels, size_t buffer_size, size_t stride, uint32_t channels);
    // The frame's metadata records; valid until the next call on this reader.
    Status frame_metadata(uint32_t index, const qohi_metadata** items, size_t* count);
    Status frame_attributes(uint32_t index, qohi_file_attributes& out);

    // Entries (spec §3.15).
    uint32_t entry_count() const { return static_cast<uint32_t>(entries_.size()); }
    Status entry_info(uint32_t index, qohi_entry_info& info);
    Status find_entry(const std::string& name, uint32_t& index);
    Status read_entry(uint32_t index, qohi_entry_sink sink, void* user);
    // OK for a file opened through its trailer and index. A file opened with
    // options.recover whose trailer or index failed: that failure, with what
    // the recovery scan found (spec §3.14).
    const Status& file_status() const { return file_status_; }

    std::string last_message;

private:
    struct Record {
        uint32_t type;
        const uint8_t* payload;
        uint32_t size;
        uint64_t end;  // offset just past the record
    };
    struct Frame {
        uint64_t offset;  // of the FHDR record
        uint64_t end;     // where the next frame (or the index) starts
        FrameHeader header;  // its name is empty: names_ has the names
        uint16_t depth = 0;       // reference chain length
        bool referenced = false;  // some later frame uses it as its reference
    };
    struct Entry {
        uint64_t offset;  // of the EHDR record
        uint64_t end;     // where the next item (or the index) starts
        EntryHeader header;  // its name is empty: entry_names_ has the names
    };
    // Decoded pixels, not zeroed when allocated: the decoder writes every byte.
    class PixelBuffer {
    public:
        explicit PixelBuffer(size_t size) : data_(new uint8_t[size]), size_(size) {}
        uint8_t* data() { return data_.get(); }
        const uint8_t* data() const { return data_.get(); }
        size_t size() const { return size_; }

    private:
        std::unique_ptr<uint8_t[]> data_;
        size_t size_;
    };
    using Pixels = std::shared_ptr<const PixelBuffer>;
    // Decoded frames kept for reuse as references, least recently used first.
    struct CacheEntry {
        uint32_t index;
        Pixels pixels;
    };

    Reader(std::unique_ptr<Source> source, const qohi_read_options& options);
    // Reads the record at `offset` in the space that ends at `limit` (spec
    // §3.3) and checks its CRC. Without `keep_payload`, a record of more
    // than 1 MiB is read a piece at a time and its `payload` is null.
    Status read_record(uint64_t offset, uint64_t limit, Record& record, std::vector<uint8_t>& scratch,
                       bool keep_payload = true);
    Status load_index();
    // Validity checks 8 - 10 of spec §3.7 for frame `index` against the
    // frames before it; gives its chain depth.
    Status check_reference(const FrameHeader& h, uint32_t index, uint16_t& depth) const;
    // Recovery (spec §3.14), after load_index() failed with `index_error`.
    Status recover(const Status& index_error);
    Status scan_frames();
    // Reads the index's entry section from `in` (spec §3.11 check 4).
    Status load_entry_index(ByteReader& in, uint64_t file_size, uint64_t index_offset);
    // Checks that frames and entries together tile the file up to
    // `index_offset` and sets each one's end (spec §3.11 checks 6 and 7).
    Status tile_items(uint64_t index_offset);
    // Sequential reading of an entry whose EHDR record is `ehdr`, up to the
    // record that completes its content (spec §3.15); gives its end.
    Status scan_entry(uint64_t size, uint64_t start, uint64_t& end);
    // Reads frame `index`'s records up to FDAT; calls `ancillary` for each
    // ancillary record and returns the FDAT record.
    template <class F>
    Status read_frame_records(uint32_t index, Record& fdat, F&& ancillary);
    // Reads frame `index`'s records up to FDAT and makes the checks of its
    // frame data that need no pixel memory (check_frame_data).
    Status read_frame_data(uint32_t index, Record& fdat);
    // Decodes frame `index`, whose FDAT is `fdat`, into `out` (packed,
    // native channels); `ref` is its reference's pixels.
    Status decode_single(uint32_t index, const Record& fdat, const uint8_t* ref, uint8_t* out);
    // The frames whose pixels decoding `index` needs first, nearest first,
    // down to an intra frame or one in the cache (its pixels: `base`); each
    // checked as decodable.
    Status reference_chain(uint32_t index, std::vector<uint32_t>& chain, Pixels& base);
    // Every check of decoding frame `index` that needs no pixel memory: its
    // reference chain's decodability, then the records and frame data of the
    // chain from the bottom up, then its own.
    Status check_without_pixels(uint32_t index);
    // Decodes frame `index` with its reference chain into `out`; with `out`
    // null, into pixels_, allocated once the frame's records passed.
    Status decode_native(uint32_t index, uint8_t* out);
    Pixels cache_find(uint32_t index);
    void cache_insert(uint32_t index, Pixels pixels);
    // Drops the least recently used frames until the cache holds at most `limit` bytes.
    void cache_trim(uint64_t limit);

    std::unique_ptr<Source> source_;
    qohi_read_options options_;
    std::vector<Frame> frames_;
    IndexNames names_;  // the frames' names, as the index front-codes them
    std::vector<Entry> entries_;
    IndexNames entry_names_;
    FileHeader file_header_;
    Status file_status_;
    std::vector<uint8_t> scratch_;
    std::unique_ptr<uint8_t[]> pixels_;  // decode target when the caller's layout differs
    std::list<CacheEntry> cache_;  // most recently used at the front
    std::unordered_map<uint32_t, std::list<CacheEntry>::iterator> cache_where_;
    uint64_t cache_bytes_ = 0;
    uint64_t cache_limit_ = 0;
    // While a frame decodes under a memory limit, the cache's share of it.
    uint64_t cache_room_ = ~uint64_t(0);
    std::vector<MetadataItem> metadata_items_;  // last frame_metadata() answer ...
    std::vector<qohi_metadata> metadata_;       // ... as the API shows it
};

}  // namespace qohi

#endif
