// fuzz_reader: the reader over multi-frame files, with random access.
//
// Input layout:
//   byte 0      flags: bit 0 low-memory mode; bits 1-2 cache size (1 byte,
//               4 KiB, 64 KiB, 1 MiB); bit 3 cross-check every decoded frame
//               with a second reader in the other memory mode; bit 4 also
//               pass absurd strides to the "undersized buffer" operation;
//               bit 5 the second reader of bit 3 reads from a file; bit 6
//               recovery (qohi_read_options.recover) for both readers
//   byte 1      N, the number of operations (at most 64; 0: a default walk)
//   2N bytes    operations: a kind byte and a frame byte each
//   rest        the .qohi file (record CRCs repaired, see fuzz_common.h)
//
// Checks: frame info is consistent (references backwards, same size, depth
// = reference depth + 1, names NUL-terminated, find_frame gives the first
// frame of a name); decoding a frame gives the same status and pixels every
// time, whatever was decoded before, in either memory mode; RGB/RGBA/stride
// layouts agree with the native one; undersized buffers are refused;
// metadata is readable; frame attributes and entries (info, lookup by name,
// content) are consistent and read the same every time.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <string>

#include "fuzz_common.h"

namespace {

using qohi_fuzz::check_status;

constexpr uint32_t kMaxInfoFrames = 4096;     // frames whose info is checked
constexpr uint64_t kWorkBudget = uint64_t(1) << 21;  // pixels decoded (frames x chain) per input

struct Result {
    qohi_status status;
    uint64_t hash;
};

struct Session {
    qohi_reader* reader = nullptr;
    uint32_t count = 0;
    std::vector<qohi_frame_info> info;  // first min(count, kMaxInfoFrames) frames
    std::map<uint32_t, Result> native;  // first native decode of each frame
    uint64_t work = 0;

    // Whether decoding frame `index` still fits the work budget (the worst
    // case: its whole chain, nothing cached).
    bool afford(uint32_t index) {
        if (index >= info.size()) return true;  // NOT_FOUND or unchecked: cheap or refused
        const qohi_frame_info& f = info[index];
        const uint64_t pixels = uint64_t(f.width) * f.height;
        const uint64_t cost = pixels > qohi_fuzz::kMaxPixels ? 1 : pixels * (f.depth + 1);
        if (work + cost > kWorkBudget) return false;
        work += cost;
        return true;
    }

    // Decodes frame `index` in its own layout; checks it against earlier decodes.
    qohi_status decode_native(uint32_t index, std::vector<uint8_t>* out = nullptr) {
        size_t bytes = 0;
        if (index < info.size()) {
            const qohi_frame_info& f = info[index];
            if (uint64_t(f.width) * f.height <= qohi_fuzz::kMaxPixels && (f.channels == 3 || f.channels == 4))
                bytes = size_t(f.width) * f.height * f.channels;
        }
        std::vector<uint8_t> px(bytes ? bytes : 1);
        const qohi_status s = qohi_reader_decode_frame(reader, index, px.data(), bytes, 0, 0);
        check_status(s, qohi_reader_message(reader));
        if (index >= info.size()) {
            if (index >= count) QOHI_FUZZ_CHECK(s == QOHI_ERROR_NOT_FOUND);
            return s;
        }
        if (bytes == 0) QOHI_FUZZ_CHECK(s != QOHI_OK);
        const Result r{s, s == QOHI_OK ? qohi_fuzz::hash_bytes(px.data(), bytes) : 0};
        auto it = native.find(index);
        if (it == native.end()) {
            native.emplace(index, r);
        } else {
            if (it->second.status != r.status || it->second.hash != r.hash)
                std::fprintf(stderr, "frame %u: status %d then %d\n", index, int(it->second.status), int(r.status));
            QOHI_FUZZ_CHECK(it->second.status == r.status);
            QOHI_FUZZ_CHECK(it->second.hash == r.hash);
        }
        if (out && s == QOHI_OK) out->swap(px);
        return s;
    }

    // Decodes into another layout (channels 3 or 4, optional row padding) and
    // compares with the native pixels.
    void decode_layout(uint32_t index, uint32_t channels, size_t pad) {
        if (index >= info.size()) {
            uint8_t px[4];
            const qohi_status s = qohi_reader_decode_frame(reader, index, px, sizeof px, 0, channels);
            check_status(s, qohi_reader_message(reader));
            if (index >= count) QOHI_FUZZ_CHECK(s == QOHI_ERROR_NOT_FOUND);
            return;
        }
        const qohi_frame_info& f = info[index];
        if (uint64_t(f.width) * f.height > qohi_fuzz::kMaxPixels) {
            uint8_t px[4];
            check_status(qohi_reader_decode_frame(reader, index, px, sizeof px, 0, channels));
            return;
        }
        const size_t row = size_t(f.width) * channels, stride = row + pad;
        const size_t bytes = stride * (f.height - 1) + row;  // exactly what is needed: ASan sees overflows
        std::vector<uint8_t> px(bytes);
        const qohi_status s = qohi_reader_decode_frame(reader, index, px.data(), bytes, stride, channels);
        check_status(s, qohi_reader_message(reader));
        std::vector<uint8_t> ref;
        const qohi_status sn = decode_native(index, &ref);
        if (sn != QOHI_OK) {
            QOHI_FUZZ_CHECK(s != QOHI_OK);
            return;
        }
        bool opaque = true;
        const unsigned c0 = f.channels;
        for (size_t i = 0; c0 == 4 && i < size_t(f.width) * f.height; ++i) opaque &= ref[4 * i + 3] == 0xFF;
        if (c0 == 4 && channels == 3 && !opaque) {
            QOHI_FUZZ_CHECK(s == QOHI_ERROR_INVALID_ARGUMENT);
            return;
        }
        QOHI_FUZZ_CHECK(s == QOHI_OK);
        for (uint32_t y = 0; y < f.height; ++y)
            for (uint32_t x = 0; x < f.width; ++x) {
                const uint8_t* a = &ref[(size_t(y) * f.width + x) * c0];
                const uint8_t* b = &px[y * stride + size_t(x) * channels];
                QOHI_FUZZ_CHECK(a[0] == b[0] && a[1] == b[1] && a[2] == b[2]);
                if (channels == 4) QOHI_FUZZ_CHECK(b[3] == (c0 == 4 ? a[3] : 0xFF));
            }
    }

    // Buffers one byte too small, and strides shorter than a row, are
    // refused; with `hostile`, so are strides so large that the buffer size
    // they need does not fit in 64 bits.
    void decode_bad_buffer(uint32_t index, bool hostile) {
        if (index >= info.size()) return;
        const qohi_frame_info& f = info[index];
        if (uint64_t(f.width) * f.height > qohi_fuzz::kMaxPixels || (f.channels != 3 && f.channels != 4)) return;
        const size_t row = size_t(f.width) * f.channels;
        std::vector<uint8_t> px(row * f.height - 1 + 1);
        qohi_status s = qohi_reader_decode_frame(reader, index, px.data(), row * f.height - 1, 0, 0);
        check_status(s);
        QOHI_FUZZ_CHECK(s != QOHI_OK);
        s = qohi_reader_decode_frame(reader, index, px.data(), px.size(), row - 1, 0);
        check_status(s);
        QOHI_FUZZ_CHECK(s != QOHI_OK);
        s = qohi_reader_decode_frame(reader, index, nullptr, 0, 0, 0);
        check_status(s);
        QOHI_FUZZ_CHECK(s != QOHI_OK);
        if (hostile && f.height >= 2) {
            // stride * (height - 1) wraps around to less than the buffer.
            const size_t stride = SIZE_MAX / (f.height - 1) + 1;
            s = qohi_reader_decode_frame(reader, index, px.data(), px.size(), stride, 0);
            check_status(s);
            QOHI_FUZZ_CHECK(s != QOHI_OK);
        }
    }

    void metadata(uint32_t index) {
        const qohi_metadata* items = nullptr;
        size_t n = 0;
        const qohi_status s = qohi_reader_frame_metadata(reader, index, &items, &n);
        check_status(s, qohi_reader_message(reader));
        if (s != QOHI_OK) {
            if (index >= count) QOHI_FUZZ_CHECK(s == QOHI_ERROR_NOT_FOUND);
            return;
        }
        QOHI_FUZZ_CHECK(index < count);
        QOHI_FUZZ_CHECK(n == 0 || items != nullptr);
        for (size_t i = 0; i < n; ++i) {
            const qohi_metadata& m = items[i];
            QOHI_FUZZ_CHECK(m.kind >= QOHI_METADATA_ICC && m.kind <= QOHI_METADATA_PNG);
            if (m.kind == QOHI_METADATA_ICC || m.kind == QOHI_METADATA_TEXT) {
                QOHI_FUZZ_CHECK(m.key != nullptr);
                const size_t k = std::strlen(m.key);
                QOHI_FUZZ_CHECK(k >= 1 && k <= 79);
            } else {
                QOHI_FUZZ_CHECK(m.key == nullptr);
            }
            QOHI_FUZZ_CHECK(m.size == 0 || m.data != nullptr);
            if (m.size) (void)qohi_fuzz::hash_bytes(m.data, m.size);  // every byte readable
        }
    }

    // The frame's attributes: readable or refused, the same every time.
    void attributes(uint32_t index) {
        qohi_file_attributes a, b;
        const qohi_status s = qohi_reader_frame_attributes(reader, index, &a);
        check_status(s, qohi_reader_message(reader));
        QOHI_FUZZ_CHECK(qohi_reader_frame_attributes(reader, index, &b) == s);
        if (index >= count) QOHI_FUZZ_CHECK(s == QOHI_ERROR_NOT_FOUND);
        if (s != QOHI_OK) return;
        QOHI_FUZZ_CHECK(a.present == b.present && a.mode == b.mode && a.mtime == b.mtime && a.mtime_nsec == b.mtime_nsec);
        if (a.present) QOHI_FUZZ_CHECK(a.mode <= 07777 && a.mtime_nsec <= 999999999u);
    }

    // Entries (spec §3.15): info consistent with the index's checks, found
    // by name, content read whole or refused, the same every time.
    void entries() {
        const uint32_t n = qohi_reader_entry_count(reader);
        for (uint32_t j = 0; j < n && j < 64; ++j) {
            qohi_entry_info e;
            const qohi_status s = qohi_reader_entry_info(reader, j, &e);
            check_status(s);
            QOHI_FUZZ_CHECK(s == QOHI_OK);
            QOHI_FUZZ_CHECK(e.name != nullptr && e.name_size > 0 && std::strlen(e.name) == e.name_size);
            if (e.kind == QOHI_ENTRY_FOLDER) QOHI_FUZZ_CHECK(e.size == 0);
            if (e.kind == QOHI_ENTRY_SYMLINK) QOHI_FUZZ_CHECK(e.size >= 1 && e.size <= 65535);
            if (e.method == 0) QOHI_FUZZ_CHECK(e.size <= e.coded_size);
            if (e.attributes.present) QOHI_FUZZ_CHECK(e.attributes.mode <= 07777 && e.attributes.mtime_nsec <= 999999999u);
            uint32_t found = UINT32_MAX;
            QOHI_FUZZ_CHECK(qohi_reader_find_entry(reader, e.name, &found) == QOHI_OK);
            QOHI_FUZZ_CHECK(found <= j);
            struct Sum {
                uint64_t bytes = 0, hash = 0;
            } first, again;
            auto sink = [](void* user, const void* data, size_t size) {
                auto* sum = static_cast<Sum*>(user);
                QOHI_FUZZ_CHECK(size > 0 && data != nullptr);
                sum->bytes += size;
                sum->hash = sum->hash * 31 + qohi_fuzz::hash_bytes(data, size);
                return QOHI_OK;
            };
            const qohi_status r = qohi_reader_read_entry(reader, j, sink, &first);
            check_status(r, qohi_reader_message(reader));
            QOHI_FUZZ_CHECK(qohi_reader_read_entry(reader, j, sink, &again) == r);
            if (r == QOHI_OK) {
                QOHI_FUZZ_CHECK(first.bytes == e.size);
                QOHI_FUZZ_CHECK(first.hash == again.hash);
            }
        }
        qohi_entry_info past;
        QOHI_FUZZ_CHECK(qohi_reader_entry_info(reader, n, &past) == QOHI_ERROR_NOT_FOUND);
    }

    void find(uint32_t index) {
        if (index >= info.size()) return;
        const qohi_frame_info& f = info[index];
        uint32_t found = UINT32_MAX;
        const qohi_status s = qohi_reader_find_frame(reader, f.name, &found);
        check_status(s);
        if (f.name_size == 0) {
            QOHI_FUZZ_CHECK(s == QOHI_ERROR_NOT_FOUND);
            return;
        }
        QOHI_FUZZ_CHECK(s == QOHI_OK);
        QOHI_FUZZ_CHECK(found <= index);  // the first frame of that name
        QOHI_FUZZ_CHECK(found < info.size());
        QOHI_FUZZ_CHECK(info[found].name_size == f.name_size &&
                        std::memcmp(info[found].name, f.name, f.name_size) == 0);
        for (uint32_t j = 0; j < found; ++j)
            QOHI_FUZZ_CHECK(info[j].name_size != f.name_size || std::memcmp(info[j].name, f.name, f.name_size) != 0);
        if (afford(found)) decode_native(found);
    }
};

// Opens `file` from memory, or with `path` from that file (the same bytes).
bool open(const std::vector<uint8_t>& file, int low_memory, uint64_t cache, int recover, Session& session,
          const char* path = nullptr) {
    qohi_read_options options;
    qohi_read_options_init(&options);
    options.max_pixels = qohi_fuzz::kMaxPixels;
    options.cache_bytes = cache;
    options.low_memory = low_memory;
    options.recover = recover;
    qohi_error error;
    const qohi_status s = path ? qohi_reader_open_file(path, &options, &session.reader, &error)
                               : qohi_reader_open_memory(file.data(), file.size(), &options, &session.reader, &error);
    qohi_fuzz::check_error(s, error);
    if (s != QOHI_OK) {
        QOHI_FUZZ_CHECK(session.reader == nullptr);
        return false;
    }
    // A file opened through its index is whole; one opened by recovery is
    // truncated or corrupt, and says so.
    const char* damage = nullptr;
    const qohi_status file_status = qohi_reader_file_status(session.reader, &damage);
    QOHI_FUZZ_CHECK(damage != nullptr);
    QOHI_FUZZ_CHECK(file_status == QOHI_OK ? *damage == '\0' : recover && *damage != '\0');
    QOHI_FUZZ_CHECK(file_status == QOHI_OK || file_status == QOHI_ERROR_TRUNCATED ||
                    file_status == QOHI_ERROR_CORRUPT);
    session.count = qohi_reader_frame_count(session.reader);
    const uint32_t n = session.count < kMaxInfoFrames ? session.count : kMaxInfoFrames;
    session.info.resize(n);
    for (uint32_t i = 0; i < n; ++i) {
        qohi_frame_info& f = session.info[i];
        const qohi_status fs = qohi_reader_frame_info(session.reader, i, &f);
        check_status(fs);
        QOHI_FUZZ_CHECK(fs == QOHI_OK);
        QOHI_FUZZ_CHECK(f.width >= 1 && f.height >= 1);
        QOHI_FUZZ_CHECK(f.channels >= 1 && f.channels <= 4);
        QOHI_FUZZ_CHECK(f.bit_depth == 8 || f.bit_depth == 16);
        QOHI_FUZZ_CHECK(f.name != nullptr && std::strlen(f.name) == f.name_size);
        QOHI_FUZZ_CHECK(f.coded_size > 0);
        if (f.reference == -1) {
            QOHI_FUZZ_CHECK(f.depth == 0);
        } else {
            QOHI_FUZZ_CHECK(f.reference >= 0 && f.reference < int64_t(i));
            const qohi_frame_info& r = session.info[size_t(f.reference)];
            QOHI_FUZZ_CHECK(f.depth == r.depth + 1);
            QOHI_FUZZ_CHECK(r.width == f.width && r.height == f.height && r.channels == f.channels);
            QOHI_FUZZ_CHECK(f.method != QOHI_METHOD_STORED);
        }
    }
    qohi_frame_info past;
    check_status(qohi_reader_frame_info(session.reader, session.count, &past));
    QOHI_FUZZ_CHECK(qohi_reader_frame_info(session.reader, session.count, &past) == QOHI_ERROR_NOT_FOUND);
    return true;
}

const uint64_t kCacheSizes[4] = {1, 4096, 65536, 1 << 20};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    qohi_fuzz::Bytes in(data, size);
    const uint8_t flags = in.u8();
    unsigned n_ops = in.u8();
    if (n_ops > 64) n_ops = 64;
    std::vector<uint8_t> ops(in.position(), in.position() + std::min<size_t>(2 * n_ops, in.remaining()));
    in.skip(ops.size());
    std::vector<uint8_t> file(in.position(), in.position() + in.remaining());
    qohi_fuzz::repair_crcs(file);
    qohi_fuzz::maybe_dump(file);

    const int low_memory = flags & 1;
    const uint64_t cache = kCacheSizes[(flags >> 1) & 3];
    Session s;
    const int recover = (flags >> 6) & 1;
    if (!open(file, low_memory, cache, recover, s)) return 0;
    const uint32_t count = s.count;

    if (ops.size() < 2) {
        // Default walk: every frame in order, then backwards, with metadata.
        for (uint32_t i = 0; i < count && i < 64; ++i)
            if (s.afford(i)) s.decode_native(i);
        s.entries();
        for (uint32_t i = count < 64 ? count : 64; i-- > 0;) {
            s.metadata(i);
            s.attributes(i);
            if (s.afford(i)) s.decode_native(i);
        }
    }
    for (size_t k = 0; k + 1 < ops.size(); k += 2) {
        const unsigned kind = ops[k] & 7;
        const uint32_t index = ops[k + 1] % (count + 1);  // `count` itself: out of range
        switch (kind) {
            case 0:
                if (s.afford(index)) s.decode_native(index);
                break;
            case 1:
                if (s.afford(index)) s.decode_layout(index, 4, ops[k] >> 6);
                break;
            case 2:
                if (s.afford(index)) s.decode_layout(index, 3, ops[k] >> 6);
                break;
            case 3:
                s.find(index);
                break;
            case 4:
                s.metadata(index);
                break;
            case 5:
                if (s.afford(index)) s.decode_native(index);
                s.metadata(index);
                if (s.afford(index)) s.decode_native(index);
                break;
            case 6:
                s.decode_bad_buffer(index, flags & 16);
                break;
            default: {
                uint32_t found = 0;
                check_status(qohi_reader_find_frame(s.reader, "", &found));
                QOHI_FUZZ_CHECK(qohi_reader_find_frame(s.reader, "", &found) == QOHI_ERROR_NOT_FOUND);
                if (s.afford(index)) s.decode_native(index);
                break;
            }
        }
    }

    if (flags & 8) {
        // Every frame decoded above decodes alike in the other memory mode,
        // and with bit 5 when read from a file (an in-memory one).
        int fd = -1;
        char path[64] = "";
        if (flags & 32) {
            fd = memfd_create("qohi-fuzz", MFD_CLOEXEC);
            QOHI_FUZZ_CHECK(fd >= 0);
            QOHI_FUZZ_CHECK(file.empty() || write(fd, file.data(), file.size()) == ssize_t(file.size()));
            std::snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        }
        Session other;
        if (!open(file, !low_memory, low_memory ? 1 << 20 : 1, recover, other, fd >= 0 ? path : nullptr)) {
            qohi_fuzz::fail("the same file failed to open a second time", __FILE__, __LINE__);
        }
        if (fd >= 0) close(fd);  // the reader has its own descriptor
        QOHI_FUZZ_CHECK(other.count == count);
        for (auto it = s.native.rbegin(); it != s.native.rend(); ++it) {
            if (!other.afford(it->first)) break;
            other.decode_native(it->first);
            const Result& r = other.native.at(it->first);
            QOHI_FUZZ_CHECK(r.status == it->second.status && r.hash == it->second.hash);
        }
        qohi_reader_close(other.reader);
    }
    qohi_reader_close(s.reader);
    return 0;
}
