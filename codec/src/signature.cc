#include "signature.h"

#include <cstdlib>
#include <vector>

namespace qohi {

Signature compute_signature(const uint8_t* pixels, size_t stride, uint32_t width, uint32_t height,
                            unsigned channels) {
    constexpr unsigned G = Signature::kGrid;
    uint64_t sum[G * G * 4] = {};
    uint64_t count[G * G] = {};
    for (uint32_t y = 0; y < height; ++y) {
        const uint8_t* p = pixels + size_t(y) * stride;
        const unsigned cy = unsigned(uint64_t(y) * G / height);
        for (uint32_t x = 0; x < width; ++x, p += channels) {
            const unsigned cell = cy * G + unsigned(uint64_t(x) * G / width);
            for (unsigned k = 0; k < 3; ++k) sum[cell * 4 + k] += p[k];
            sum[cell * 4 + 3] += channels == 4 ? p[3] : 255;
            count[cell]++;
        }
    }
    Signature s;
    for (unsigned cell = 0; cell < G * G; ++cell)
        for (unsigned k = 0; k < 4; ++k)
            s.cells[cell * 4 + k] = count[cell] ? uint8_t(sum[cell * 4 + k] / count[cell]) : uint8_t(0);
    return s;
}

uint32_t signature_distance(const Signature& a, const Signature& b) {
    uint32_t d = 0;
    for (size_t i = 0; i < a.cells.size(); ++i) d += uint32_t(std::abs(int(a.cells[i]) - int(b.cells[i])));
    return d;
}

}  // namespace qohi
