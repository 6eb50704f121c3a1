// Helpers shared by the fuzz targets (see fuzz/README.md).
//
// Every target is an LLVMFuzzerTestOneInput(); the same source is linked
// either with libFuzzer (clang, -fsanitize=fuzzer) or with replay_main.cc
// (any compiler) to replay the corpus and past crashes under ctest. Checks
// must therefore not rely on assert(): the normal build defines NDEBUG.
#ifndef QOHI_FUZZ_COMMON_H
#define QOHI_FUZZ_COMMON_H

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "qohi/qohi.h"

// Internal headers of libqohi (codec/src): only for the record layout and
// its CRC, so that the targets can repair CRCs (below).
#include "byte_io.h"
#include "container.h"

namespace qohi_fuzz {

// A failed invariant: print it and abort, so libFuzzer (and the replay
// driver, through the abort) report the input.
[[noreturn]] inline void fail(const char* what, const char* file, int line) {
    std::fprintf(stderr, "\n*** QOHI fuzz check failed at %s:%d: %s\n", file, line, what);
    std::fflush(stderr);
    std::abort();
}
#define QOHI_FUZZ_CHECK(cond)                                           \
    do {                                                                \
        if (!(cond)) ::qohi_fuzz::fail(#cond, __FILE__, __LINE__);      \
    } while (0)

// Every status a call may return must be a known code, and never
// QOHI_ERROR_INTERNAL ("a bug in libqohi").
inline void check_status(qohi_status s, const char* message = nullptr) {
    if (s == QOHI_ERROR_INTERNAL || s < QOHI_OK || s > QOHI_ERROR_INTERNAL) {
        std::fprintf(stderr, "\n*** libqohi returned status %d (%s): %s\n", int(s), qohi_status_string(s),
                     message ? message : "");
        fail("unexpected status", __FILE__, __LINE__);
    }
    if (message) {
        // Messages are NUL-terminated and readable (touch every byte).
        volatile size_t n = std::strlen(message);
        (void)n;
    }
}

inline void check_error(qohi_status s, const qohi_error& e) {
    check_status(s);
    QOHI_FUZZ_CHECK(std::memchr(e.message, 0, sizeof e.message) != nullptr);
    if (s != QOHI_OK) QOHI_FUZZ_CHECK(e.status == s);
}

// FNV-1a, to compare decoded pixels cheaply.
inline uint64_t hash_bytes(const void* data, size_t size, uint64_t h = 1469598103934665603ull) {
    const uint8_t* p = static_cast<const uint8_t*>(data);
    for (size_t i = 0; i < size; ++i) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

// Record CRCs stop almost every mutation at the first record it touches.
// The file targets therefore recompute the CRC of every record they can
// find (walking the records from the signature on, then the trailer) before
// handing the bytes to libqohi. A record whose stored CRC is 0 is left
// alone, so that the CRC checks themselves stay reachable.
inline void repair_crcs(std::vector<uint8_t>& buf) {
    using namespace qohi;
    const size_t size = buf.size();
    auto repair_at = [&](size_t off) -> size_t {  // returns the record's end, 0 if it does not fit
        if (off > size || size - off < kRecordOverhead) return 0;
        const uint32_t type = load_u32(&buf[off]);
        const uint32_t len = load_u32(&buf[off + 4]);
        if (len > size - off - kRecordOverhead) return 0;
        uint8_t* crc = &buf[off + 8 + len];
        if (load_u32(crc) != 0) store_u32(crc, record_crc(type, &buf[off + 8], len));
        return off + kRecordOverhead + len;
    };
    size_t off = sizeof kSignature;
    while (off < size) {
        const size_t end = repair_at(off);
        if (end == 0) break;
        off = end;
    }
    if (off != size && size >= kTrailerSize + sizeof kSignature) {
        // The walk got lost: still give the trailer, and the index it
        // points at, a valid CRC.
        const size_t t = size - kTrailerSize;
        if (load_u32(&buf[t + 4]) == kTrailerPayloadSize) {
            repair_at(t);
            const uint64_t index = load_u64(&buf[t + 8]);
            if (index >= sizeof kSignature && index < t) repair_at(size_t(index));
        }
    }
}

// QOHI_FUZZ_DUMP=path: write the bytes a target actually decodes (after
// repair_crcs) to `path`, to turn a fuzzer input into a .qohi file for
// qohidec or a conformance vector.
inline void maybe_dump(const std::vector<uint8_t>& buf) {
    static const char* path = std::getenv("QOHI_FUZZ_DUMP");
    if (!path || !*path) return;
    if (FILE* f = std::fopen(path, "wb")) {
        if (!buf.empty()) std::fwrite(buf.data(), 1, buf.size(), f);
        std::fclose(f);
    }
}

// Known bugs that are not fixed yet can be skipped by name, so that a long
// fuzzing run gets past them: QOHI_FUZZ_SKIP=name,name (see fuzz/pending/).
inline bool skip_known(const char* name) {
    static const char* list = std::getenv("QOHI_FUZZ_SKIP");
    if (!list) return false;
    const size_t n = std::strlen(name);
    for (const char* p = list; (p = std::strstr(p, name)) != nullptr; p += n)
        if ((p == list || p[-1] == ',') && (p[n] == 0 || p[n] == ',')) return true;
    return false;
}

// Reads control bytes from the front of an input; past the end it yields 0.
class Bytes {
public:
    Bytes(const uint8_t* data, size_t size) : p_(data), end_(data + size) {}
    uint8_t u8() { return p_ < end_ ? *p_++ : 0; }
    uint16_t u16() {
        const uint16_t lo = u8();
        return static_cast<uint16_t>(lo | (u8() << 8));
    }
    uint32_t u32() {
        const uint32_t lo = u16();
        return lo | (uint32_t(u16()) << 16);
    }
    size_t remaining() const { return size_t(end_ - p_); }
    const uint8_t* position() const { return p_; }
    void skip(size_t n) { p_ += n < remaining() ? n : remaining(); }

private:
    const uint8_t* p_;
    const uint8_t* end_;
};

// UTF-8 as RFC 3629 defines it (no overlong forms, surrogates or code points
// past U+10FFFF), without NUL: what the API requires of names and text.
// Written here independently of libqohi's check, to compare the two.
inline bool valid_utf8_no_nul(const uint8_t* p, size_t n) {
    size_t i = 0;
    while (i < n) {
        const uint8_t c = p[i];
        if (c == 0) return false;
        if (c < 0x80) {
            ++i;
            continue;
        }
        size_t len;
        uint8_t lo = 0x80, hi = 0xBF;  // range of the second byte
        if (c >= 0xC2 && c <= 0xDF) len = 2;
        else if (c == 0xE0) len = 3, lo = 0xA0;
        else if (c >= 0xE1 && c <= 0xEC) len = 3;
        else if (c == 0xED) len = 3, hi = 0x9F;
        else if (c >= 0xEE && c <= 0xEF) len = 3;
        else if (c == 0xF0) len = 4, lo = 0x90;
        else if (c >= 0xF1 && c <= 0xF3) len = 4;
        else if (c == 0xF4) len = 4, hi = 0x8F;
        else return false;
        if (n - i < len) return false;
        if (p[i + 1] < lo || p[i + 1] > hi) return false;
        for (size_t k = 2; k < len; ++k)
            if (p[i + k] < 0x80 || p[i + k] > 0xBF) return false;
        i += len;
    }
    return true;
}

// The largest frame the file targets decode: big enough for every seed,
// small enough that a header promising a huge frame is refused at once.
constexpr uint64_t kMaxPixels = uint64_t(1) << 16;

}  // namespace qohi_fuzz

#endif
