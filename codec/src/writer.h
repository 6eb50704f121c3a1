// Writing .qohi files (spec §3): signature and file header on
// open, FHDR + FDAT per frame, then the index and trailer on finish. File
// output goes to a temporary file that gets its name only on finish.
#ifndef QOHI_WRITER_H
#define QOHI_WRITER_H

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "container.h"
#include "name_set.h"
#include "reference_store.h"
#include "qohi/qohi.h"
#include "status.h"

namespace qohi {

// Where the bytes go: a growing memory buffer or a temporary file.
class Sink {
public:
    virtual ~Sink() = default;
    virtual Status write(const uint8_t* data, size_t size) = 0;
    // Makes the output final (names the file for files). Called once, last.
    virtual Status commit(void** data, size_t* size) = 0;
    // The named temporary file written to, "" if none.
    virtual const std::string& temp_path() const {
        static const std::string none;
        return none;
    }
};

// Bytes appended in pieces of 64 KiB: the index of a file of many frames
// grows without a vector's spare half, and without copying itself as it
// grows (then three times its size for a moment).
class PieceBuffer {
public:
    void append(const uint8_t* data, size_t size);
    void append(const std::vector<uint8_t>& bytes) { append(bytes.data(), bytes.size()); }
    size_t size() const { return size_; }
    const std::vector<std::vector<uint8_t>>& pieces() const { return pieces_; }

private:
    std::vector<std::vector<uint8_t>> pieces_;
    size_t size_ = 0;
};

class Writer {
public:
    static Status open_file(const char* path, const qohi_write_options& options, std::unique_ptr<Writer>& out);
    static Status open_memory(const qohi_write_options& options, std::unique_ptr<Writer>& out);

    Status add_frame(const uint8_t* pixels, uint32_t width, uint32_t height, uint32_t channels, size_t stride,
                     const qohi_frame_options& options);
    Status add_entry(const qohi_entry_options& options);
    Status finish(void** data, size_t* size);
    const std::string& temp_path() const { return sink_->temp_path(); }

    std::string last_message;

private:
    Writer(std::unique_ptr<Sink> sink, const qohi_write_options& options);
    Status start();
    Status emit(uint32_t type, const std::vector<uint8_t>& payload);
    // The same for a payload in several parts, written one after another.
    struct Part {
        const uint8_t* data;
        size_t size;
    };
    Status emit(uint32_t type, const Part* parts, size_t part_count);
    // Chooses a reference for QOHI_REFERENCE_AUTO; nullptr for none.
    const ReferenceStore::Stored* pick_reference(const uint8_t* pixels, size_t stride, uint32_t width,
                                                 uint32_t height, uint32_t channels, const Signature& signature);

    // 12 bytes a frame: a writer may see hundreds of thousands.
    struct FrameShape {
        uint32_t width, height;
        uint16_t depth;  // at most max_depth (65535)
        uint8_t channels;
    };

    std::unique_ptr<Sink> sink_;
    qohi_write_options options_;
    uint64_t offset_ = 0;
    PieceBuffer index_;  // the QIDX payload's frame entries so far (spec §3.11), after the frame count
    uint64_t previous_offset_ = 0;  // of the last frame written (index entries code differences)
    std::string previous_name_;
    uint32_t frame_count_ = 0;
    std::deque<FrameShape> shapes_;  // per frame written, for reference checks (no doubling copies)
    ReferenceStore store_;
    NameSet names_;  // of frames and entries: no two may share one
    // The index's entry section (spec §3.11), appended to it on finish.
    PieceBuffer entry_index_;
    uint32_t entry_count_ = 0;
    uint64_t previous_entry_offset_ = 0;
    std::string previous_entry_name_;
    bool failed_ = false;
    bool finished_ = false;
};

}  // namespace qohi

#endif
