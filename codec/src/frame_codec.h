// Frame data (spec §4): the FDAT payload of a frame, i.e. its row
// bands and the method that codes them. Methods live in their own files
// (qoi_ops.* for QOHI); this layer picks one and lays out the bands.
#ifndef QOHI_FRAME_CODEC_H
#define QOHI_FRAME_CODEC_H

#include <cstddef>
#include <cstdint>
#include <vector>

#include "qohi/qohi.h"
#include "status.h"

namespace qohi {

constexpr uint8_t kMethodStored = 0;
constexpr uint8_t kMethodQohi = 1;
constexpr uint8_t kMethodDici = 2;
constexpr uint8_t kLastMethod = kMethodDici;

// Codes `height` rows of `width` pixels (`stride` bytes apart) into `out`
// (the FDAT payload) and sets `method`: the smallest of stored, QOHI and
// DICI, or the one `coding.choice` forces.
//
// With a reference frame (`ref`, `ref_stride`: same size and channels) the
// frame is coded as a delta frame, always with the QOHI method; the call
// returns false and writes nothing if that would not be smaller than the
// raw pixels (the caller then codes the frame on its own).
struct FrameCoding {
    qohi_method_choice choice = QOHI_CHOOSE_AUTO;
    uint32_t band_rows = 0;  // 0: auto_band_rows()
    bool thorough = false;   // see QohiBandEncoder
    unsigned threads = 1;    // bands coded at once; the bytes do not depend on it
};

// Pixels per band when the caller leaves the band height to the encoder:
// enough bands for every core on large frames, and smaller files too (code
// tables follow the content). A thorough encoder's matches reach back
// through the whole band, so its bands are eight times larger (spec §11
// has the measurements).
constexpr uint64_t kAutoBandPixels = uint64_t(1) << 17;
constexpr uint64_t kAutoBandPixelsThorough = uint64_t(1) << 20;
uint32_t auto_band_rows(uint32_t width, uint32_t height, bool thorough);

bool encode_frame_data(const uint8_t* pixels, size_t stride, const uint8_t* ref, size_t ref_stride, uint32_t width,
                       uint32_t height, unsigned channels, const FrameCoding& coding, uint8_t& method,
                       std::vector<uint8_t>& out);

// The checks of an FDAT payload that need no pixel memory: its band layout
// (spec §4.1) and, for stored frames, the size of every band. A payload
// that passes can still fail in decode_frame_data.
Status check_frame_data(const uint8_t* data, size_t size, uint32_t width, uint32_t height, unsigned channels,
                        uint8_t method);

// Decodes an FDAT payload into `out` (packed rows, width * channels bytes
// each). `ref` is the reference frame's pixels (packed), nullptr if none.
// Bands are decoded on up to `threads` threads; an error is the one of the
// first bad band, as if they were decoded in order.
Status decode_frame_data(const uint8_t* data, size_t size, uint32_t width, uint32_t height, unsigned channels,
                         uint8_t method, const uint8_t* ref, uint8_t* out, unsigned threads);

}  // namespace qohi

#endif
