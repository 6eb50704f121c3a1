// Little-endian fixed-width integers and LEB128 variable-length integers in
// byte buffers (spec §1.3).
#ifndef QOHI_BYTE_IO_H
#define QOHI_BYTE_IO_H

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace qohi {

inline uint16_t load_u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
inline uint32_t load_u32(const uint8_t* p) {
    return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
}
inline uint64_t load_u64(const uint8_t* p) { return uint64_t(load_u32(p)) | (uint64_t(load_u32(p + 4)) << 32); }

inline void store_u32(uint8_t* p, uint32_t v) {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

// Appends little-endian fields to a byte vector.
class ByteWriter {
public:
    explicit ByteWriter(std::vector<uint8_t>& out) : out_(out) {}
    void u8(uint8_t v) { out_.push_back(v); }
    void u16(uint16_t v) { put(v, 2); }
    void u32(uint32_t v) { put(v, 4); }
    void u64(uint64_t v) { put(v, 8); }
    // Unsigned LEB128: 7 bits per byte, low groups first, the high bit set
    // on every byte but the last.
    void varint(uint64_t v) {
        for (; v >= 0x80; v >>= 7) out_.push_back(static_cast<uint8_t>(v | 0x80));
        out_.push_back(static_cast<uint8_t>(v));
    }
    void bytes(const void* data, size_t n) {
        const uint8_t* p = static_cast<const uint8_t*>(data);
        out_.insert(out_.end(), p, p + n);
    }

private:
    void put(uint64_t v, int n) {
        for (int i = 0; i < n; ++i) out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
    }
    std::vector<uint8_t>& out_;
};

// Reads little-endian fields with bounds checks; after the first failed read
// every read returns 0 and ok() stays false.
class ByteReader {
public:
    ByteReader(const uint8_t* data, size_t size) : p_(data), end_(data + size) {}
    uint8_t u8() { return take(1) ? p_[-1] : 0; }
    uint16_t u16() { return take(2) ? load_u16(p_ - 2) : 0; }
    uint32_t u32() { return take(4) ? load_u32(p_ - 4) : 0; }
    uint64_t u64() { return take(8) ? load_u64(p_ - 8) : 0; }
    // A varint of at most `max`. Cut short, larger than `max`, or longer
    // than its shortest form: fails (so every value has one encoding).
    uint64_t varint(uint64_t max) {
        uint64_t v = 0;
        for (unsigned shift = 0; shift < 64; shift += 7) {
            const uint8_t b = u8();
            if (!ok_) return 0;
            if (shift == 63 && b > 1) break;  // more than 64 bits
            v |= uint64_t(b & 0x7F) << shift;
            if (b & 0x80) continue;
            if ((b == 0 && shift != 0) || v > max) break;
            return v;
        }
        ok_ = false;
        return 0;
    }
    const uint8_t* bytes(size_t n) { return take(n) ? p_ - n : nullptr; }
    size_t remaining() const { return static_cast<size_t>(end_ - p_); }
    const uint8_t* position() const { return p_; }
    bool ok() const { return ok_; }

private:
    bool take(size_t n) {
        if (!ok_ || remaining() < n) {
            ok_ = false;
            return false;
        }
        p_ += n;
        return true;
    }
    const uint8_t* p_;
    const uint8_t* end_;
    bool ok_ = true;
};

}  // namespace qohi

#endif
