// Writing .qohi files (spec §3): signature and file header on
// open, FHDR + FDAT per frame, then the index and trailer on finish. File
// output goes to a temporary file that gets its name only on finish.
#ifndef QOHI_WRITER_H
#define QOHI_WRITER_H

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
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
    ~Writer();
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

    // A frame between add_frame and its records in the file.
    struct FrameJob {
        uint32_t number = 0;
        FrameHeader header;  // method and reference (kNoReference if coded alone) set when coded
        FileAttributes attributes;
        std::vector<std::pair<uint32_t, std::vector<uint8_t>>> metadata;  // encoded records
        uint32_t width = 0, height = 0, channels = 0;
        // The caller's pixels (coded during the call) or the owned copies
        // (coded by a worker after it returns).
        const uint8_t* pixels = nullptr;
        size_t stride = 0;
        const uint8_t* reference = nullptr;
        size_t reference_stride = 0;
        std::vector<uint8_t> owned_pixels, owned_reference;
        unsigned coding_threads = 1;
        size_t index_bytes = 0;  // the most its index entry can take
        std::vector<uint8_t> data;  // the FDAT payload
        Status status;
        bool done = false;  // coded (guarded by mutex_ while queued)
    };
    static constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();  // write_queued: only what is coded
    static constexpr uint32_t kAll = kNone - 1;                               // write_queued: everything
    static constexpr size_t kQueuedBytes = size_t(64) << 20;  // copies of pixels waiting to be coded

    // Codes job.pixels into job.data (intra if the delta is not smaller).
    void code_frame(FrameJob& job);
    // Writes a coded frame's records and its index entry; `depth` gets its
    // chain depth.
    Status write_frame(const FrameJob& job, uint32_t& depth);
    // Queues a frame for the workers (started on first use).
    Status enqueue(std::unique_ptr<FrameJob> job, unsigned threads);
    Status enqueue_or_throw(std::unique_ptr<FrameJob> job, unsigned threads);
    // Writes queued frames in order: those already coded, and waits for
    // frames up to number `through` (kAll: every one).
    Status write_queued(uint32_t through);
    void work();

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

    // Frames coded by workers, in frame order; written from the front.
    std::deque<std::unique_ptr<FrameJob>> queue_;
    size_t queued_bytes_ = 0;
    size_t queued_index_bytes_ = 0;  // reserved in the index for queued frames
    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable work_ready_, job_done_;
    std::deque<FrameJob*> todo_;  // queued, not yet taken by a worker
    bool stopping_ = false;
};

}  // namespace qohi

#endif
