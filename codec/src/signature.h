// Cheap image similarity (spec: informative, encoder side): an 8x8 grid of
// mean colours. Two images whose grids are close are likely to code well as
// deltas of each other; the exact cost is then measured on few candidates.
#ifndef QOHI_SIGNATURE_H
#define QOHI_SIGNATURE_H

#include <array>
#include <cstddef>
#include <cstdint>

namespace qohi {

struct Signature {
    static constexpr unsigned kGrid = 8;
    std::array<uint8_t, kGrid * kGrid * 4> cells{};  // mean R, G, B, A per cell
};

Signature compute_signature(const uint8_t* pixels, size_t stride, uint32_t width, uint32_t height,
                            unsigned channels);

// Sum of absolute differences of the cells: 0 for identical grids.
uint32_t signature_distance(const Signature& a, const Signature& b);

}  // namespace qohi

#endif
