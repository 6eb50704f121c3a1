// Bit packing for coded bands (spec §1.4): bits are written
// least-significant first into bytes, and a value of n bits is stored with its
// least-significant bit first. Huffman codes are written bit-reversed so that
// the first bit of a code is the first bit in the stream.
#ifndef QOHI_BIT_IO_H
#define QOHI_BIT_IO_H

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

// For the few small functions of the decoding loops that compilers stop
// inlining once those loops grow (measured: decoding twice as slow).
#if defined(__GNUC__) || defined(__clang__)
#define QOHI_ALWAYS_INLINE inline __attribute__((always_inline))
#define QOHI_LAMBDA_ALWAYS_INLINE __attribute__((always_inline))
#else
#define QOHI_ALWAYS_INLINE inline
#define QOHI_LAMBDA_ALWAYS_INLINE
#endif

namespace qohi {

inline uint64_t load_u64_le(const uint8_t* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

class BitWriter {
public:
    // Appends to `out`; call finish() before using `out` again.
    explicit BitWriter(std::vector<uint8_t>& out) : out_(out), start_(out.size()), pos_(out.size()) {}

    // Make room for `bytes` more bytes so that put() never reallocates when
    // the caller knows the coded size.
    void reserve(size_t bytes) { out_.resize(pos_ + bytes + 8); }

    // value < 2^nbits, nbits <= 56. Every call stores 8 bytes and keeps
    // fewer than 8 bits pending: no branch on the bit count.
    void put(uint64_t value, unsigned nbits) {
        acc_ |= value << count_;
        count_ += nbits;
        if (out_.size() - pos_ < 8) out_.resize(out_.size() * 2 + 64);
        uint8_t b[8];
        for (int i = 0; i < 8; ++i) b[i] = uint8_t(acc_ >> (8 * i));  // little-endian, compiled to one store
        std::memcpy(out_.data() + pos_, b, 8);
        pos_ += count_ >> 3;
        acc_ >>= count_ & ~7u;
        count_ &= 7;
    }

    // Pads with zero bits to a byte boundary, flushes, and trims `out`.
    void finish() {
        out_.resize(pos_ + 8);
        while (count_ > 0) {
            out_[pos_++] = uint8_t(acc_);
            acc_ >>= 8;
            count_ = count_ > 8 ? count_ - 8 : 0;
        }
        out_.resize(pos_);
    }

    uint64_t bits_written() const { return uint64_t(pos_ - start_) * 8 + count_; }

private:
    std::vector<uint8_t>& out_;
    size_t start_;
    size_t pos_;
    uint64_t acc_ = 0;
    unsigned count_ = 0;
};

// Reads a bounded buffer. Reading past the end yields zero bits and is
// remembered; callers check overran() (or finish_ok()) before trusting output.
// refill() guarantees at least 56 buffered bits.
class BitReader {
public:
    BitReader(const uint8_t* data, size_t size) : p_(data), end_(data + size) { refill(); }

    QOHI_ALWAYS_INLINE void refill() {
        if (end_ - p_ >= 8) {
            buf_ |= load_u64_le(p_) << count_;
            p_ += (63 - count_) >> 3;
            count_ |= 56;
        } else {
            refill_slow();
        }
    }

    // Peek/consume assume enough buffered bits (after refill(): 56).
    uint32_t peek(unsigned nbits) const { return uint32_t(buf_ & ((uint64_t(1) << nbits) - 1)); }
    void consume(unsigned nbits) {
        buf_ >>= nbits;
        count_ -= nbits;
    }
    uint32_t take(unsigned nbits) {
        uint32_t v = peek(nbits);
        consume(nbits);
        return v;
    }
    // Convenience for headers: refills first; nbits <= 32.
    uint32_t read(unsigned nbits) {
        if (count_ < nbits) refill();
        return take(nbits);
    }

    // True if any consumed bit lay beyond the end of the buffer.
    bool overran() const { return count_ < virtual_bytes_ * 8; }

    // True if the stream was consumed exactly: no overrun, fewer than 8 bits
    // left, and those padding bits are zero.
    bool finish_ok() const {
        if (overran()) return false;
        const uint64_t real_bits = bits_left();
        if (real_bits >= 8) return false;
        return peek(unsigned(real_bits)) == 0;
    }

    // Bits of the buffer not yet consumed (0 once overrun).
    uint64_t bits_left() const {
        return overran() ? 0 : (count_ - virtual_bytes_ * 8) + uint64_t(end_ - p_) * 8;
    }

private:
    void refill_slow() {
        while (count_ <= 56) {
            uint64_t byte = 0;
            if (p_ < end_) {
                byte = *p_++;
            } else {
                ++virtual_bytes_;
            }
            buf_ |= byte << count_;
            count_ += 8;
        }
    }

    const uint8_t* p_;
    const uint8_t* end_;
    uint64_t buf_ = 0;
    unsigned count_ = 0;
    uint64_t virtual_bytes_ = 0;  // zero bytes supplied past the end
};

}  // namespace qohi

#endif
