// The DICI method (spec §4.4): a band's colours in a table sorted by
// frequency, and every pixel coded as its rank in that table, a run of the
// previous pixel, or a copy of the pixels above. Ranks and lengths are
// length classes (length_class.h) coded with canonical Huffman codes.
#ifndef QOHI_DICI_H
#define QOHI_DICI_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "status.h"

namespace qohi {

// When the encoder tries DICI unasked (spec §10): only on frames that QOHI
// codes in at least one bit per pixel, and only while no band has more
// than 1,024 colours (spec §11 has the measurements).
constexpr uint32_t kDiciAutoMaxColours = 1024;
inline bool dici_may_pay(uint64_t qohi_bytes, uint64_t pixels) { return qohi_bytes * 8 >= pixels; }

// Encodes one band in three steps, so that the caller can give up early:
// construction estimates the size from a sample of rows, plan() finds the
// exact size (and may find the band unusable after all), write() produces
// the bits.
class DiciBandEncoder {
public:
    // With `max_colours` set, gives up (usable() false) as soon as the band
    // shows more colours than that.
    DiciBandEncoder(const uint8_t* pixels, size_t stride, uint32_t width, uint32_t rows, unsigned channels,
                    uint32_t max_colours);
    ~DiciBandEncoder();
    DiciBandEncoder(const DiciBandEncoder&) = delete;
    DiciBandEncoder& operator=(const DiciBandEncoder&) = delete;

    // Whether the band's colours (so far: sampled, then all) are within
    // `max_colours`.
    bool usable() const;
    // Size in bytes from a sample of the rows (when usable).
    uint64_t estimated_size() const;
    void plan();
    // Exact size in bytes of the coded band (after plan()).
    uint64_t coded_size() const;
    // Appends the coded band to `out` (after plan()).
    void write(std::vector<uint8_t>& out) const;

private:
    struct Plan;
    std::unique_ptr<Plan> plan_;
};

// Decodes one DICI band of `pixel_count` pixels into `out` (packed,
// `channels` bytes per pixel). `data` must be exactly the band's bytes.
Status decode_dici_band(const uint8_t* data, size_t size, uint32_t width, uint64_t pixel_count, unsigned channels,
                        uint8_t* out);

}  // namespace qohi

#endif
