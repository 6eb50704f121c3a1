// Length classes (spec §5.6): how both methods code a count L >= 1 (a run,
// a match length or distance, a DICI palette rank) as a class symbol plus
// extra bits. With n = L - 1: classes 0..15 are n itself; for n >= 16 with
// e significant bits the class is 16 + (e - 5) and the low e - 1 bits of n
// follow as extra bits.
#ifndef QOHI_LENGTH_CLASS_H
#define QOHI_LENGTH_CLASS_H

#include <cstdint>

#include "bit_io.h"

namespace qohi {

constexpr unsigned kRunDirectBits = 4;  // values 1..2^k have their own class
constexpr unsigned kRunDirect = 1u << kRunDirectBits;
// Classes for values up to 2^29 (a band's largest pixel count).
constexpr unsigned kRunClasses = kRunDirect + 29 - kRunDirectBits;

// A value's class (plus `base`, the first symbol of the classes in the
// caller's alphabet) and extra bits.
struct RunCode {
    unsigned symbol;
    unsigned extra_bits;
    uint32_t extra;
};
inline RunCode run_code(uint64_t length, unsigned base) {
    const uint32_t n = static_cast<uint32_t>(length - 1);
    if (n < kRunDirect) return {base + n, 0, 0};
    const unsigned e = 32u - static_cast<unsigned>(__builtin_clz(n));
    return {base + kRunDirect + (e - kRunDirectBits - 1), e - 1, n - (uint32_t(1) << (e - 1))};
}

// The value minus one for class `cls`, reading the class's extra bits.
inline uint64_t read_run(unsigned cls, BitReader& in) {
    if (cls < kRunDirect) return cls;
    const unsigned e = cls - kRunDirect + kRunDirectBits + 1;
    return (uint64_t(1) << (e - 1)) + in.take(e - 1);
}

}  // namespace qohi

#endif
