// Pixels as both methods hold them while coding: R | G<<8 | B<<16 | A<<24,
// with alpha 255 for RGB frames.
#ifndef QOHI_PIXEL_H
#define QOHI_PIXEL_H

#include <cstdint>

namespace qohi {

constexpr uint32_t kOpaqueAlpha = 0xFF000000u;

template <unsigned C>
inline uint32_t load_pixel(const uint8_t* p) {
    if constexpr (C == 4) {
        return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
    } else {
        return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | kOpaqueAlpha;
    }
}

template <unsigned C>
inline void store_pixel(uint8_t* p, uint32_t px) {
    p[0] = uint8_t(px);
    p[1] = uint8_t(px >> 8);
    p[2] = uint8_t(px >> 16);
    if constexpr (C == 4) p[3] = uint8_t(px >> 24);
}

}  // namespace qohi

#endif
