#include "writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <system_error>

#include "crc32.h"
#include "file_commit.h"
#include "frame_codec.h"
#include "parallel.h"
#include "qoi_ops.h"
#include "signature.h"

namespace qohi {
namespace {

// Whether rows of `row_bytes` every `stride` bytes, `height` of them, span
// an address range that exists (a caller's nonsense stride must not wrap).
bool fits_in_memory(size_t stride, uint32_t height, size_t row_bytes) {
    return height <= 1 || stride <= (SIZE_MAX - row_bytes) / (height - 1);
}

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

// Grows with realloc so finish() can hand the buffer over without a copy.
class MemorySink : public Sink {
public:
    ~MemorySink() override { std::free(data_); }
    Status write(const uint8_t* data, size_t size) override {
        if (size > capacity_ - size_) {
            size_t cap = capacity_ ? capacity_ : 4096;
            while (cap - size_ < size) {
                if (cap > SIZE_MAX / 2) return Status(QOHI_ERROR_OUT_OF_MEMORY, "output too large");
                cap *= 2;
            }
            void* p = std::realloc(data_, cap);
            if (!p) return Status(QOHI_ERROR_OUT_OF_MEMORY, "out of memory growing the output");
            data_ = static_cast<uint8_t*>(p);
            capacity_ = cap;
        }
        std::memcpy(data_ + size_, data, size);
        size_ += size;
        return ok_status();
    }
    Status commit(void** data, size_t* size) override {
        if (!data || !size) return invalid_argument("a memory writer needs out_data and out_size");
        *data = data_;
        *size = size_;
        data_ = nullptr;
        size_ = capacity_ = 0;
        return ok_status();
    }

private:
    uint8_t* data_ = nullptr;
    size_t size_ = 0;
    size_t capacity_ = 0;
};

// Writes to an unnamed file in the target's directory (or a named
// temporary beside it) and names it `path` on commit, so readers never see
// a half-written file. Without `overwrite`, commit fails if `path` exists.
class TempFileSink : public Sink {
public:
    static Status create(const char* path, bool overwrite, std::unique_ptr<Sink>& out) {
        std::unique_ptr<TempFileSink> s(new TempFileSink);
        s->path_ = path;
        s->overwrite_ = overwrite;
        // The mode an ordinary new file would have, or that of the file it replaces.
        struct stat st;
        const mode_t mode = ::stat(path, &st) == 0 ? (st.st_mode & 07777) : 0644;
        const int err = s->file_.open(path, mode);
        if (err != 0) return Status(QOHI_ERROR_IO, std::string("cannot create a file beside ") + path + ": " + std::strerror(err));
        out = std::move(s);
        return ok_status();
    }
    const std::string& temp_path() const override { return file_.temp_path(); }
    Status write(const uint8_t* data, size_t size) override {
        while (size > 0) {
            const ssize_t n = ::write(file_.fd(), data, size);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return Status(QOHI_ERROR_IO, errno_text("write for " + path_ + " failed"));
            data += n;
            size -= static_cast<size_t>(n);
        }
        return ok_status();
    }
    Status commit(void**, size_t*) override {
        if (::fsync(file_.fd()) != 0) return Status(QOHI_ERROR_IO, errno_text("cannot flush the file for " + path_));
        const int err = file_.commit(overwrite_);
        if (err == EEXIST) return Status(QOHI_ERROR_IO, path_ + " appeared while it was written; not replaced");
        if (err != 0) return Status(QOHI_ERROR_IO, "cannot create " + path_ + ": " + std::strerror(err));
        return ok_status();
    }

private:
    std::string path_;
    bool overwrite_ = false;
    PendingFile file_;
};

}  // namespace

namespace {

// Largest EDAT payload the writer emits: a reader checks and hands over one
// piece at a time.
constexpr size_t kEntryPiece = size_t(4) << 20;

Status check_attributes(const qohi_file_attributes* a, FileAttributes& out) {
    out = FileAttributes();
    if (!a || !a->present) return ok_status();
    if (a->mode > kMaxMode) return invalid_argument("mode has bits other than the permission bits (07777)");
    if (a->mtime_nsec > kMaxNanoseconds) return invalid_argument("mtime_nsec must be below 1,000,000,000");
    out.present = true;
    out.mode = static_cast<uint16_t>(a->mode);
    out.mtime = a->mtime;
    out.mtime_nsec = a->mtime_nsec;
    return ok_status();
}

qohi_write_options with_defaults(qohi_write_options o) {
    if (o.max_pixels == 0) o.max_pixels = QOHI_DEFAULT_MAX_PIXELS;
    if (o.max_depth == 0) o.max_depth = QOHI_DEFAULT_MAX_DEPTH;
    if (o.reference_memory == 0) o.reference_memory = QOHI_DEFAULT_REFERENCE_MEMORY;
    return o;
}

}  // namespace

Writer::Writer(std::unique_ptr<Sink> sink, const qohi_write_options& options)
    : sink_(std::move(sink)), options_(with_defaults(options)), store_(options_.reference_memory) {}

Status Writer::open_file(const char* path, const qohi_write_options& options, std::unique_ptr<Writer>& out) {
    if (!path || !*path) return invalid_argument("empty output path");
    std::unique_ptr<Sink> sink;
    QOHI_RETURN_IF_ERROR(TempFileSink::create(path, options.overwrite != 0, sink));
    std::unique_ptr<Writer> w(new Writer(std::move(sink), options));
    QOHI_RETURN_IF_ERROR(w->start());
    out = std::move(w);
    return ok_status();
}

Status Writer::open_memory(const qohi_write_options& options, std::unique_ptr<Writer>& out) {
    std::unique_ptr<Writer> w(new Writer(std::unique_ptr<Sink>(new MemorySink), options));
    QOHI_RETURN_IF_ERROR(w->start());
    out = std::move(w);
    return ok_status();
}

Status Writer::start() {
    if (options_.method != QOHI_CHOOSE_AUTO && options_.method != QOHI_CHOOSE_STORED &&
        options_.method != QOHI_CHOOSE_QOHI && options_.method != QOHI_CHOOSE_DICI)
        return invalid_argument("unknown method choice");
    if (options_.max_depth > 0xFFFF) return invalid_argument("max_depth must be at most 65535");
    if (options_.effort < 0 || options_.effort > 1) return invalid_argument("effort must be 0 or 1");
    QOHI_RETURN_IF_ERROR(sink_->write(kSignature, sizeof kSignature));
    offset_ = sizeof kSignature;
    std::vector<uint8_t> payload;
    FileHeader file_header;
    file_header.max_chain_depth = static_cast<uint16_t>(options_.max_depth);
    encode_file_header(file_header, payload);
    QOHI_RETURN_IF_ERROR(emit(kTypeFileHeader, payload));
    return ok_status();
}

void PieceBuffer::append(const uint8_t* data, size_t size) {
    // Pieces start small (a file of one frame has a short index) and grow to 64 KiB.
    constexpr size_t kMaxPiece = size_t(64) << 10;
    while (size > 0) {
        if (pieces_.empty() || pieces_.back().size() == pieces_.back().capacity()) {
            const size_t capacity = pieces_.empty() ? 256 : std::min(kMaxPiece, pieces_.back().capacity() * 2);
            pieces_.emplace_back();
            pieces_.back().reserve(capacity);
        }
        std::vector<uint8_t>& p = pieces_.back();
        const size_t n = std::min(size, p.capacity() - p.size());
        p.insert(p.end(), data, data + n);
        data += n;
        size -= n;
        size_ += n;
    }
}

Status Writer::emit(uint32_t type, const std::vector<uint8_t>& payload) {
    const Part whole{payload.data(), payload.size()};
    return emit(type, &whole, 1);
}

Status Writer::emit(uint32_t type, const Part* parts, size_t part_count) {
    // Head and CRC around the payload, written without copying the payload
    // (a frame's data can be most of the file).
    size_t size = 0;
    uint8_t type_bytes[4];
    store_u32(type_bytes, type);
    uint32_t crc_value = crc32_update(0, type_bytes, 4);
    for (size_t i = 0; i < part_count; ++i) {
        size += parts[i].size;
        crc_value = crc32_update(crc_value, parts[i].data, parts[i].size);
    }
    uint8_t head[8], crc[4];
    record_head(type, size, head);
    store_u32(crc, crc_value);
    Status st = sink_->write(head, sizeof head);
    for (size_t i = 0; i < part_count && st.ok(); ++i) st = sink_->write(parts[i].data, parts[i].size);
    if (st.ok()) st = sink_->write(crc, sizeof crc);
    if (!st.ok()) {
        failed_ = true;
        return st;
    }
    offset_ += kRecordOverhead + size;
    return ok_status();
}

const ReferenceStore::Stored* Writer::pick_reference(const uint8_t* pixels, size_t stride, uint32_t width,
                                                     uint32_t height, uint32_t channels,
                                                     const Signature& signature) {
    // Two most recent frames and three most similar older ones, scored by
    // their estimated delta size against the frame coded on its own.
    const auto candidates = store_.candidates(width, height, channels, signature, options_.max_depth, 2, 3);
    if (candidates.empty()) return nullptr;
    uint64_t best = estimate_band_bits(pixels, stride, nullptr, 0, width, height, channels);
    const ReferenceStore::Stored* chosen = nullptr;
    for (const ReferenceStore::Stored* c : candidates) {
        const uint64_t bits =
            estimate_band_bits(pixels, stride, c->pixels.data(), size_t(width) * channels, width, height, channels);
        if (bits < best) {
            best = bits;
            chosen = c;
        }
    }
    return chosen;
}

Status Writer::add_frame(const uint8_t* pixels, uint32_t width, uint32_t height, uint32_t channels, size_t stride,
                         const qohi_frame_options& options) {
    if (finished_) return invalid_argument("writer already finished");
    if (failed_) return invalid_argument("writer failed earlier; destroy it");
    if (!pixels) return invalid_argument("no pixels");
    if (channels != 3 && channels != 4) return invalid_argument("channels must be 3 or 4");
    if (width == 0 || height == 0) return invalid_argument("image has zero width or height");
    if (width > kMaxDimension || height > kMaxDimension || uint64_t(width) * height > kMaxFramePixels)
        return Status(QOHI_ERROR_LIMIT, "image dimensions exceed the format's limits");
    if (uint64_t(width) * height > options_.max_pixels)
        return Status(QOHI_ERROR_LIMIT, "image exceeds the pixel limit of " + std::to_string(options_.max_pixels));
    const size_t row_bytes = size_t(width) * channels;
    if (stride == 0) stride = row_bytes;
    if (stride < row_bytes) return invalid_argument("stride smaller than a row");
    if (!fits_in_memory(stride, height, row_bytes)) return invalid_argument("stride too large for any buffer");
    if (frame_count_ == UINT32_MAX) return Status(QOHI_ERROR_LIMIT, "too many frames");

    FrameHeader h;
    h.width = width;
    h.height = height;
    h.channels = static_cast<uint8_t>(channels);
    h.flags = options.baseline ? kFrameFlagBaseline : 0;
    h.name = options.name ? options.name : "";
    if (h.name.size() > kMaxNameBytes) return invalid_argument("frame name longer than 65535 bytes");
    if (!is_valid_name(h.name)) return invalid_argument("frame name is not valid UTF-8");
    if (!h.name.empty() && names_.contains(h.name)) return invalid_argument("duplicate name \"" + h.name + "\"");
    FileAttributes attributes;
    QOHI_RETURN_IF_ERROR(check_attributes(options.attributes, attributes));

    std::vector<std::pair<uint32_t, std::vector<uint8_t>>> metadata;
    if (options.metadata_count && !options.metadata) return invalid_argument("metadata is NULL");
    for (size_t i = 0; i < options.metadata_count; ++i) {
        const qohi_metadata& m = options.metadata[i];
        if (!m.data && m.size) return invalid_argument("metadata data is NULL");
        MetadataItem item;
        item.kind = m.kind;
        item.key = m.key ? m.key : "";
        if (m.size) item.data.assign(static_cast<const uint8_t*>(m.data), static_cast<const uint8_t*>(m.data) + m.size);
        metadata.emplace_back();
        QOHI_RETURN_IF_ERROR(encode_metadata(item, metadata.back().first, metadata.back().second));
    }

    // The reference: given, chosen among kept frames, or none.
    const uint8_t* ref = nullptr;
    size_t ref_stride = row_bytes;
    uint32_t ref_index = kNoReference;
    Signature signature;
    // Stored frames and baselines are always intra.
    const bool intra_only = options_.method == QOHI_CHOOSE_STORED || options.baseline;
    const bool automatic = options.reference == QOHI_REFERENCE_AUTO;
    if (automatic && intra_only) {
        signature = compute_signature(pixels, stride, width, height, channels);  // still a candidate for others
    } else if (automatic) {
        signature = compute_signature(pixels, stride, width, height, channels);
        if (const ReferenceStore::Stored* c = pick_reference(pixels, stride, width, height, channels, signature)) {
            ref = c->pixels.data();
            ref_index = c->frame;
        }
    } else if (options.reference >= 0 && intra_only) {
        // the reference is not used
    } else if (options.reference >= 0) {
        if (options.reference >= int64_t(frame_count_)) return invalid_argument("reference is not an earlier frame");
        const FrameShape& r = shapes_[size_t(options.reference)];
        if (r.width != width || r.height != height || r.channels != channels)
            return invalid_argument("reference frame differs in size or channels");
        // A frame still being coded has at most its planned depth; once
        // written it may be less (coded without its reference).
        if (uint32_t(r.depth) + 1 > options_.max_depth && !queue_.empty() && queue_.back()->number >= options.reference)
            QOHI_RETURN_IF_ERROR(write_queued(uint32_t(options.reference)));
        if (uint32_t(shapes_[size_t(options.reference)].depth) + 1 > options_.max_depth)
            return invalid_argument("reference chain would exceed max_depth " + std::to_string(options_.max_depth));
        if (!options.reference_pixels) return invalid_argument("reference_pixels is NULL");
        ref = static_cast<const uint8_t*>(options.reference_pixels);
        if (options.reference_stride) ref_stride = options.reference_stride;
        if (ref_stride < row_bytes) return invalid_argument("reference stride smaller than a row");
        if (!fits_in_memory(ref_stride, height, row_bytes))
            return invalid_argument("reference stride too large for any buffer");
        ref_index = uint32_t(options.reference);
    } else if (options.reference != QOHI_REFERENCE_NONE) {
        return invalid_argument("invalid reference choice");
    }

    auto job = std::make_unique<FrameJob>();
    job->number = frame_count_;
    job->header = std::move(h);
    job->header.reference = ref_index;
    job->attributes = attributes;
    job->metadata = std::move(metadata);
    job->width = width;
    job->height = height;
    job->channels = channels;

    // A frame of one band gains nothing from row-band threads: with several
    // threads it is coded by a worker while the caller prepares the next
    // one, from copies of its pixels, and written when its turn comes. (Not
    // the first frame: a file of one image starts no threads.)
    const uint64_t band_pixels = options_.effort >= 1 ? kAutoBandPixelsThorough : kAutoBandPixels;
    const unsigned threads = resolve_threads(options_.threads);
    // Its index entry must fit whatever its offset turns out to be (a frame
    // refused for want of index room is refused before anything is written).
    std::vector<uint8_t> largest_entry;
    encode_index_entry(job->header, job->number, UINT64_MAX, std::string(), largest_entry);
    const bool index_room = 4 + index_.size() + queued_index_bytes_ + largest_entry.size() + entry_index_.size() + 5 <=
                            0xFFFFFFFFu;
    if (threads > 1 && frame_count_ > 0 && !automatic && index_room && uint64_t(width) * height <= band_pixels) {
        job->index_bytes = largest_entry.size();
        job->owned_pixels.resize(row_bytes * height);
        for (uint32_t y = 0; y < height; ++y)
            std::memcpy(job->owned_pixels.data() + y * row_bytes, pixels + y * stride, row_bytes);
        job->pixels = job->owned_pixels.data();
        job->stride = row_bytes;
        if (ref) {
            job->owned_reference.resize(row_bytes * height);
            for (uint32_t y = 0; y < height; ++y)
                std::memcpy(job->owned_reference.data() + y * row_bytes, ref + y * ref_stride, row_bytes);
            job->reference = job->owned_reference.data();
            job->reference_stride = row_bytes;
        }
        job->coding_threads = 1;
        // Until it is coded, its depth is at most the planned one.
        shapes_.push_back({width, height,
                           static_cast<uint16_t>(ref_index == kNoReference ? 0 : shapes_[ref_index].depth + 1),
                           static_cast<uint8_t>(channels)});
        ++frame_count_;
        if (!job->header.name.empty()) names_.insert(job->header.name);
        return enqueue(std::move(job), threads);
    }

    QOHI_RETURN_IF_ERROR(write_queued(kAll));  // earlier frames first
    job->pixels = pixels;
    job->stride = stride;
    job->reference = ref;
    job->reference_stride = ref_stride;
    job->coding_threads = threads;
    code_frame(*job);
    uint32_t depth = 0;
    QOHI_RETURN_IF_ERROR(write_frame(*job, depth));
    shapes_.push_back({width, height, static_cast<uint16_t>(depth), static_cast<uint8_t>(channels)});
    if (automatic) {
        ReferenceStore::Stored kept{frame_count_, width, height, channels, depth, signature, {}};
        kept.pixels.resize(row_bytes * height);
        for (uint32_t y = 0; y < height; ++y)
            std::memcpy(kept.pixels.data() + y * row_bytes, pixels + y * stride, row_bytes);
        store_.add(std::move(kept));
    }
    ++frame_count_;
    if (!job->header.name.empty()) names_.insert(job->header.name);
    return ok_status();
}

void Writer::code_frame(FrameJob& job) {
    FrameCoding coding;
    coding.choice = static_cast<qohi_method_choice>(options_.method);
    coding.band_rows = options_.band_rows;
    coding.thorough = options_.effort >= 1;
    coding.threads = job.coding_threads;
    FrameHeader& h = job.header;
    try {
        if (!job.reference || !encode_frame_data(job.pixels, job.stride, job.reference, job.reference_stride,
                                                 job.width, job.height, job.channels, coding, h.method, job.data)) {
            h.reference = kNoReference;  // no reference, or the delta would not be smaller
            encode_frame_data(job.pixels, job.stride, nullptr, 0, job.width, job.height, job.channels, coding,
                              h.method, job.data);
        }
    } catch (const std::bad_alloc&) {
        job.status = Status(QOHI_ERROR_OUT_OF_MEMORY, "out of memory coding frame " + std::to_string(job.number));
    } catch (const std::exception& e) {
        job.status = Status(QOHI_ERROR_INTERNAL, "frame " + std::to_string(job.number) + ": " + e.what());
    }
}

Status Writer::write_frame(const FrameJob& job, uint32_t& depth) {
    if (!job.status.ok()) {
        failed_ = true;
        return job.status;
    }
    const FrameHeader& h = job.header;
    depth = h.reference == kNoReference ? 0 : shapes_[h.reference].depth + 1;
    std::vector<uint8_t> header, entry;
    encode_frame_header(h, job.number, header);
    const uint64_t frame_offset = offset_;
    encode_index_entry(h, job.number, frame_offset - previous_offset_, previous_name_, entry);
    if (4 + index_.size() + entry.size() + entry_index_.size() + 5 > 0xFFFFFFFFu)
        return Status(QOHI_ERROR_LIMIT, "the index of this file is full; start another file");
    QOHI_RETURN_IF_ERROR(emit(kTypeFrameHeader, header));
    if (job.attributes.present) {
        std::vector<uint8_t> payload;
        encode_attributes(job.attributes, payload);
        QOHI_RETURN_IF_ERROR(emit(kTypeAttributes, payload));
    }
    for (const auto& m : job.metadata) QOHI_RETURN_IF_ERROR(emit(m.first, m.second));
    QOHI_RETURN_IF_ERROR(emit(kTypeFrameData, job.data));
    index_.append(entry);
    previous_offset_ = frame_offset;
    previous_name_ = h.name;
    return ok_status();
}

Status Writer::enqueue(std::unique_ptr<FrameJob> job, unsigned threads) {
    try {
        return enqueue_or_throw(std::move(job), threads);
    } catch (...) {
        failed_ = true;  // the frame is counted but will never be written
        throw;
    }
}

Status Writer::enqueue_or_throw(std::unique_ptr<FrameJob> job, unsigned threads) {
    if (workers_.empty()) {
        try {
            for (unsigned t = 0; t < threads; ++t) workers_.emplace_back([this] { work(); });
        } catch (const std::system_error&) {
            // Fewer workers than asked for; none at all: code it here.
        }
    }
    FrameJob* raw = job.get();
    queued_bytes_ += raw->owned_pixels.size() + raw->owned_reference.size();
    queued_index_bytes_ += raw->index_bytes;
    if (workers_.empty()) {
        code_frame(*raw);
        raw->done = true;
        queue_.push_back(std::move(job));
    } else {
        std::lock_guard<std::mutex> lock(mutex_);
        queue_.push_back(std::move(job));
        todo_.push_back(raw);
        work_ready_.notify_one();
    }
    // Bounded work in flight: a few frames per thread, at most kQueuedBytes.
    const size_t max_frames = size_t(2) * std::max<size_t>(1, workers_.size());
    while (queue_.size() > max_frames || queued_bytes_ > kQueuedBytes)
        QOHI_RETURN_IF_ERROR(write_queued(queue_.front()->number));
    return write_queued(kNone);
}

void Writer::work() {
    for (;;) {
        FrameJob* job = nullptr;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            work_ready_.wait(lock, [&] { return stopping_ || !todo_.empty(); });
            if (stopping_) return;
            job = todo_.front();
            todo_.pop_front();
        }
        code_frame(*job);
        {
            std::lock_guard<std::mutex> lock(mutex_);
            job->done = true;
        }
        job_done_.notify_all();
    }
}

Status Writer::write_queued(uint32_t through) {
    while (!queue_.empty()) {
        FrameJob& job = *queue_.front();
        {
            std::unique_lock<std::mutex> lock(mutex_);
            if (!job.done) {
                if (through == kNone || job.number > through) return ok_status();
                job_done_.wait(lock, [&] { return job.done; });
            }
        }
        uint32_t depth = 0;
        const Status st = write_frame(job, depth);
        if (!st.ok()) {
            failed_ = true;
            return st;
        }
        shapes_[job.number].depth = static_cast<uint16_t>(depth);
        queued_bytes_ -= job.owned_pixels.size() + job.owned_reference.size();
        queued_index_bytes_ -= job.index_bytes;
        queue_.pop_front();
    }
    return ok_status();
}

Writer::~Writer() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
        todo_.clear();
    }
    work_ready_.notify_all();
    for (std::thread& t : workers_) t.join();
}

Status Writer::add_entry(const qohi_entry_options& options) {
    if (finished_) return invalid_argument("writer already finished");
    if (failed_) return invalid_argument("writer failed earlier; destroy it");
    EntryHeader h;
    if (options.kind > kEntryFolder) return invalid_argument("unknown entry kind " + std::to_string(options.kind));
    h.kind = static_cast<uint8_t>(options.kind);
    h.name = options.name ? options.name : "";
    if (h.name.empty()) return invalid_argument("an entry needs a name");
    if (h.name.size() > kMaxNameBytes) return invalid_argument("entry name longer than 65535 bytes");
    if (!is_valid_name(h.name)) return invalid_argument("entry name is not valid UTF-8");
    if (names_.contains(h.name)) return invalid_argument("duplicate name \"" + h.name + "\"");
    QOHI_RETURN_IF_ERROR(check_attributes(options.attributes, h.attributes));
    if (h.attributes.present) h.flags |= kEntryFlagAttributes;
    h.size = options.size;
    if (h.kind == kEntryFolder && h.size != 0) return invalid_argument("a folder entry has no content");
    if (h.kind == kEntrySymlink && (h.size == 0 || h.size > kMaxLinkTarget))
        return invalid_argument("a symbolic link's target must be 1 to 65535 bytes");
    if (h.size && !options.data && !options.source) return invalid_argument("no data and no source for the content");
    if (entry_count_ == UINT32_MAX) return Status(QOHI_ERROR_LIMIT, "too many entries");
    if (h.kind == kEntrySymlink) {
        const auto* target = static_cast<const uint8_t*>(options.data);
        if (!target) return invalid_argument("a symbolic link's target must be given as data");
        if (std::memchr(target, 0, size_t(h.size))) return invalid_argument("a symbolic link's target contains NUL");
    }

    QOHI_RETURN_IF_ERROR(write_queued(kAll));  // frames given earlier come first
    std::vector<uint8_t> header, item;
    encode_entry_header(h, header);
    encode_entry_index_item(h, offset_ - previous_entry_offset_, previous_entry_name_, item);
    if (4 + index_.size() + entry_index_.size() + item.size() + 5 > 0xFFFFFFFFu)
        return Status(QOHI_ERROR_LIMIT, "the index of this file is full; start another file");
    const uint64_t entry_offset = offset_;
    QOHI_RETURN_IF_ERROR(emit(kTypeEntryHeader, header));
    // From here on a failure leaves a partial entry behind: the writer fails.
    std::vector<uint8_t> piece;
    for (uint64_t done = 0; done < h.size;) {
        const size_t want = size_t(std::min<uint64_t>(kEntryPiece, h.size - done));
        if (options.data) {
            const auto* p = static_cast<const uint8_t*>(options.data) + done;
            piece.assign(p, p + want);
        } else {
            piece.resize(want);
            size_t filled = 0;
            while (filled < want) {
                size_t got = 0;
                const qohi_status st = options.source(options.source_user, piece.data() + filled, want - filled, &got);
                if (st != QOHI_OK || got > want - filled) {
                    failed_ = true;
                    return Status(st != QOHI_OK ? st : QOHI_ERROR_INVALID_ARGUMENT,
                                  "entry \"" + h.name + "\": the content source failed");
                }
                if (got == 0) {
                    failed_ = true;
                    return Status(QOHI_ERROR_IO, "entry \"" + h.name + "\": the content ended after " +
                                                     std::to_string(done + filled) + " of " +
                                                     std::to_string(h.size) + " bytes");
                }
                filled += got;
            }
        }
        QOHI_RETURN_IF_ERROR(emit(kTypeEntryData, piece));
        done += want;
    }
    entry_index_.append(item);
    previous_entry_offset_ = entry_offset;
    previous_entry_name_ = h.name;
    ++entry_count_;
    names_.insert(h.name);
    return ok_status();
}

Status Writer::finish(void** data, size_t* size) {
    if (finished_) return invalid_argument("writer already finished");
    if (failed_) return invalid_argument("writer failed earlier; destroy it");
    QOHI_RETURN_IF_ERROR(write_queued(kAll));
    // The index: the frame count, the frame entries, then the entry count
    // and the entries' section if there are any.
    std::vector<uint8_t> count, entry_count;
    ByteWriter(count).u32(frame_count_);
    std::vector<Part> parts{{count.data(), count.size()}};
    for (const auto& p : index_.pieces()) parts.push_back({p.data(), p.size()});
    if (entry_count_ > 0) {
        ByteWriter(entry_count).varint(entry_count_);
        parts.push_back({entry_count.data(), entry_count.size()});
        for (const auto& p : entry_index_.pieces()) parts.push_back({p.data(), p.size()});
    }
    Trailer trailer;
    trailer.index_offset = offset_;
    trailer.frame_count = frame_count_;
    QOHI_RETURN_IF_ERROR(emit(kTypeIndex, parts.data(), parts.size()));
    std::vector<uint8_t> payload;
    encode_trailer(trailer, payload);
    QOHI_RETURN_IF_ERROR(emit(kTypeTrailer, payload));
    Status st = sink_->commit(data, size);
    if (!st.ok()) {
        failed_ = true;
        return st;
    }
    finished_ = true;
    return ok_status();
}

}  // namespace qohi
