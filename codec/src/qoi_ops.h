// The QOHI method (spec §5): QOI's op stream (run, colour
// index, difference) with every op and payload coded by canonical Huffman
// codes. One call codes one band: a run of whole rows coded independently of
// the rest of the frame. A delta band also sees the same rows of a reference
// frame and gains ops that copy from it or code differences to it.
#ifndef QOHI_QOI_OPS_H
#define QOHI_QOI_OPS_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "status.h"

namespace qohi {

// Encodes one band in two steps so that the caller can compare the exact size
// with other methods before any bits are produced.
class QohiBandEncoder {
public:
    // `ref` (with `ref_stride`) is the reference frame's first row of this
    // band, or nullptr for an intra band. `thorough`: intra bands search all
    // earlier pixels for repeats, not only the row above, gradient ops are
    // tried, and code tables may be chosen by context (slower to encode and
    // to decode, smaller).
    QohiBandEncoder(const uint8_t* pixels, size_t stride, const uint8_t* ref, size_t ref_stride, uint32_t width,
                    uint32_t rows, unsigned channels, bool thorough);
    ~QohiBandEncoder();
    QohiBandEncoder(const QohiBandEncoder&) = delete;
    QohiBandEncoder& operator=(const QohiBandEncoder&) = delete;

    // Exact size in bytes of the coded band (valid after construction).
    uint64_t coded_size() const;
    // Appends the coded band to `out`.
    void write(std::vector<uint8_t>& out) const;

private:
    struct Plan;
    std::unique_ptr<Plan> plan_;
};

// Estimated coded size in bits of a band (intra if `ref` is nullptr), from
// a quick pass over every fourth row: for choosing between references.
uint64_t estimate_band_bits(const uint8_t* pixels, size_t stride, const uint8_t* ref, size_t ref_stride,
                            uint32_t width, uint32_t rows, unsigned channels);

// Decodes one band of `pixel_count` pixels into `out` (packed, `channels`
// bytes per pixel). `data` must be exactly the band's bytes. `ref` is the
// reference frame's pixels of the same band (packed), nullptr if intra.
Status decode_qohi_band(const uint8_t* data, size_t size, uint32_t width, uint64_t pixel_count, unsigned channels,
                        uint8_t* out, const uint8_t* ref);

}  // namespace qohi

#endif
