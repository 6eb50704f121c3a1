#include "frame_codec.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>

#include "byte_io.h"
#include "parallel.h"
#include "qoi_ops.h"

namespace qohi {

uint32_t auto_band_rows(uint32_t width, uint32_t height, bool thorough) {
    const uint64_t pixels = thorough ? kAutoBandPixelsThorough : kAutoBandPixels;
    const uint64_t rows = (pixels + width - 1) / width;
    return uint32_t(std::min<uint64_t>(rows, height));
}

bool encode_frame_data(const uint8_t* pixels, size_t stride, const uint8_t* ref, size_t ref_stride, uint32_t width,
                       uint32_t height, unsigned channels, const FrameCoding& coding, uint8_t& method,
                       std::vector<uint8_t>& out) {
    qohi_method_choice choice = coding.choice;
    uint32_t band_rows = coding.band_rows == 0 ? auto_band_rows(width, height, coding.thorough) : std::min(coding.band_rows, height);
    const uint32_t band_count = (height + band_rows - 1) / band_rows;
    const uint64_t row_bytes = uint64_t(width) * channels;

    std::vector<std::unique_ptr<QohiBandEncoder>> bands;
    uint64_t qohi_bytes = 0;
    if (ref) choice = QOHI_CHOOSE_QOHI;  // a delta frame is a QOHI frame
    if (choice != QOHI_CHOOSE_STORED) {
        bands.resize(band_count);
        parallel_for(band_count, coding.threads, [&](uint32_t b) {
            const uint32_t y0 = b * band_rows;
            const uint32_t rows = std::min(band_rows, height - y0);
            bands[b].reset(new QohiBandEncoder(pixels + size_t(y0) * stride, stride,
                                               ref ? ref + size_t(y0) * ref_stride : nullptr, ref_stride, width,
                                               rows, channels, coding.thorough));
        });
        for (const auto& band : bands) qohi_bytes += band->coded_size();
    }
    // A forced QOHI frame still falls back to stored if its record could not
    // hold it (only possible for huge noise-like frames).
    const bool fits = qohi_bytes + 10 * (uint64_t(band_count) + 1) < 0xFFFFFFFFu;
    const bool use_qohi = fits && ((choice == QOHI_CHOOSE_QOHI && !bands.empty()) ||
                                   (choice == QOHI_CHOOSE_AUTO && qohi_bytes < row_bytes * height));
    if (ref && (!use_qohi || qohi_bytes >= row_bytes * height)) return false;
    method = use_qohi ? kMethodQohi : kMethodStored;

    out.clear();
    ByteWriter w(out);
    // Band height, then the size of every band but the last (spec §3.10).
    w.varint(band_rows);
    for (uint32_t b = 0; b + 1 < band_count; ++b)
        w.varint(use_qohi ? bands[b]->coded_size() : row_bytes * band_rows);
    out.reserve(out.size() + (use_qohi ? qohi_bytes : row_bytes * height));
    for (uint32_t b = 0; b < band_count; ++b) {
        if (use_qohi) {
            bands[b]->write(out);
        } else {
            const uint32_t y0 = b * band_rows;
            const uint32_t rows = std::min(band_rows, height - y0);
            for (uint32_t y = y0; y < y0 + rows; ++y) w.bytes(pixels + size_t(y) * stride, row_bytes);
        }
    }
    return true;
}

Status decode_frame_data(const uint8_t* data, size_t size, uint32_t width, uint32_t height, unsigned channels,
                         uint8_t method, const uint8_t* ref, uint8_t* out, unsigned threads) {
    if (method != kMethodStored && method != kMethodQohi) return unsupported("unknown frame method");
    ByteReader r(data, size);
    const uint32_t band_rows = uint32_t(r.varint(height));
    if (!r.ok() || band_rows == 0) return corrupt("band height missing or out of range");
    const uint32_t band_count = (height - 1) / band_rows + 1;
    // Sizes of all bands but the last, which takes the rest; each at least a byte.
    if (band_count - 1 > r.remaining()) return corrupt("frame data too short for its band table");
    // Two passes over the sizes (no allocation that a hostile band count
    // could inflate): the first checks them, the second decodes the bands.
    ByteReader band_sizes = r;
    uint64_t total = 0;
    for (uint32_t b = 0; b + 1 < band_count; ++b) total += r.varint(size);
    if (!r.ok()) return corrupt("frame data too short for its band table, or a band size out of range");
    if (total >= r.remaining()) return corrupt("frame data shorter than its bands");
    const uint64_t last_size = r.remaining() - total;

    const uint64_t row_bytes = uint64_t(width) * channels;
    auto decode_band = [&](uint32_t b, const uint8_t* band, uint64_t band_size) -> Status {
        const uint32_t y0 = b * band_rows;
        const uint32_t rows = std::min(band_rows, height - y0);
        uint8_t* dst = out + y0 * row_bytes;
        if (method == kMethodStored) {
            if (band_size != row_bytes * rows) return corrupt("stored band size does not match its rows");
            std::memcpy(dst, band, band_size);
            return ok_status();
        }
        return decode_qohi_band(band, band_size, width, uint64_t(width) * rows, channels, dst,
                                ref ? ref + y0 * row_bytes : nullptr);
    };

    // Bands go to the threads in batches whose offsets are found first, so
    // that memory stays fixed however many bands a file declares.
    constexpr uint32_t kBatch = 64;
    const uint8_t* band = r.position();
    struct Slice {
        const uint8_t* data;
        uint64_t size;
    };
    Slice batch[kBatch];
    for (uint32_t first = 0; first < band_count; first += kBatch) {
        const uint32_t n = std::min(kBatch, band_count - first);
        for (uint32_t k = 0; k < n; ++k) {
            const uint32_t b = first + k;
            batch[k] = {band, b + 1 < band_count ? band_sizes.varint(size) : last_size};
            band += batch[k].size;
        }
        std::mutex error_mutex;
        uint32_t error_band = band_count;
        Status error;
        parallel_for(n, threads, [&](uint32_t k) {
            Status st = decode_band(first + k, batch[k].data, batch[k].size);
            if (st.ok()) return;
            std::lock_guard<std::mutex> lock(error_mutex);
            if (first + k < error_band) {
                error_band = first + k;
                error = std::move(st);
            }
        });
        if (!error.ok()) {
            error.message = "band " + std::to_string(error_band) + ": " + error.message;
            return error;
        }
    }
    return ok_status();
}

}  // namespace qohi
