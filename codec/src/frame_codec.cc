#include "frame_codec.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>

#include "byte_io.h"
#include "dici.h"
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
    const uint32_t band_rows =
        coding.band_rows == 0 ? auto_band_rows(width, height, coding.thorough) : std::min(coding.band_rows, height);
    const uint32_t band_count = (height + band_rows - 1) / band_rows;
    const uint64_t row_bytes = uint64_t(width) * channels;

    if (ref) choice = QOHI_CHOOSE_QOHI;  // a delta frame is a QOHI frame
    const bool try_qohi = choice == QOHI_CHOOSE_AUTO || choice == QOHI_CHOOSE_QOHI;
    const bool try_dici = choice == QOHI_CHOOSE_AUTO || choice == QOHI_CHOOSE_DICI;
    const auto band_pixels = [&](uint32_t b) { return pixels + size_t(b) * band_rows * stride; };
    const auto band_height = [&](uint32_t b) { return std::min(band_rows, height - b * band_rows); };
    std::vector<std::unique_ptr<QohiBandEncoder>> qohi_bands(try_qohi ? band_count : 0);
    parallel_for(uint32_t(qohi_bands.size()), coding.threads, [&](uint32_t b) {
        qohi_bands[b].reset(new QohiBandEncoder(band_pixels(b), stride,
                                                ref ? ref + size_t(b) * band_rows * ref_stride : nullptr, ref_stride,
                                                width, band_height(b), channels, coding.thorough));
    });
    uint64_t qohi_total = 0;
    for (const auto& band : qohi_bands) qohi_total += band->coded_size();
    // Unasked, DICI is tried only where it may pay (dici.h).
    const bool promising = choice == QOHI_CHOOSE_DICI || dici_may_pay(qohi_total, uint64_t(width) * height);
    std::vector<std::unique_ptr<DiciBandEncoder>> dici_bands(try_dici && promising ? band_count : 0);
    std::atomic<bool> dici_failed{false};  // a band with too many colours: the frame cannot be DICI
    parallel_for(uint32_t(dici_bands.size()), coding.threads, [&](uint32_t b) {
        if (dici_failed) return;
        dici_bands[b].reset(new DiciBandEncoder(band_pixels(b), stride, width, band_height(b), channels,
                                                choice == QOHI_CHOOSE_DICI ? UINT32_MAX : kDiciAutoMaxColours));
        if (!dici_bands[b]->usable()) dici_failed = true;
    });
    // Sizes of the candidates; kNone where a method is not tried or cannot
    // code the frame, including frames whose record could not hold them
    // (only huge noise-like frames): those are stored.
    constexpr uint64_t kNone = ~uint64_t(0);
    const auto fits = [&](uint64_t bytes) {
        return bytes != kNone && bytes + 10 * (uint64_t(band_count) + 1) < 0xFFFFFFFFu ? bytes : kNone;
    };
    const uint64_t qohi_bytes = fits(try_qohi ? qohi_total : kNone);
    // Estimated first; planned exactly only if the estimate beats QOHI.
    uint64_t dici_total = dici_bands.empty() || dici_failed ? kNone : 0;
    for (const auto& band : dici_bands)
        if (dici_total != kNone) dici_total += band->estimated_size();
    if (choice == QOHI_CHOOSE_AUTO && dici_total >= qohi_total) dici_total = kNone;
    if (dici_total != kNone) {
        parallel_for(uint32_t(dici_bands.size()), coding.threads, [&](uint32_t b) {
            if (dici_failed) return;
            dici_bands[b]->plan();
            if (!dici_bands[b]->usable()) dici_failed = true;
        });
        dici_total = 0;
        for (const auto& band : dici_bands) dici_total = dici_failed ? kNone : dici_total + band->coded_size();
    }
    const uint64_t dici_bytes = fits(dici_total);
    const uint64_t raw_bytes = row_bytes * height;
    method = kMethodStored;
    uint64_t best = choice == QOHI_CHOOSE_AUTO || choice == QOHI_CHOOSE_STORED ? raw_bytes : kNone;
    if (qohi_bytes < best) method = kMethodQohi, best = qohi_bytes;
    if (dici_bytes < best) method = kMethodDici, best = dici_bytes;
    if (ref && (method != kMethodQohi || qohi_bytes >= raw_bytes)) return false;

    out.clear();
    ByteWriter w(out);
    // Band height, then the size of every band but the last (spec §3.10).
    const auto band_size = [&](uint32_t b) {
        return method == kMethodQohi   ? qohi_bands[b]->coded_size()
               : method == kMethodDici ? dici_bands[b]->coded_size()
                                       : row_bytes * band_height(b);
    };
    w.varint(band_rows);
    for (uint32_t b = 0; b + 1 < band_count; ++b) w.varint(band_size(b));
    out.reserve(out.size() + (method == kMethodStored ? raw_bytes : best));
    for (uint32_t b = 0; b < band_count; ++b) {
        if (method == kMethodQohi) {
            qohi_bands[b]->write(out);
        } else if (method == kMethodDici) {
            dici_bands[b]->write(out);
        } else {
            for (uint32_t y = 0; y < band_height(b); ++y) w.bytes(band_pixels(b) + size_t(y) * stride, row_bytes);
        }
    }
    return true;
}

namespace {

// The band layout of an FDAT payload (spec §4.1), its checks 1 - 4 made.
struct BandLayout {
    uint32_t band_rows = 0, band_count = 0;
    ByteReader band_sizes{nullptr, 0};  // at the first band size
    const uint8_t* bands = nullptr;
    uint64_t last_size = 0;
};

Status read_band_layout(const uint8_t* data, size_t size, uint32_t height, BandLayout& layout) {
    ByteReader r(data, size);
    layout.band_rows = uint32_t(r.varint(height));
    if (!r.ok() || layout.band_rows == 0) return corrupt("band height missing or out of range");
    layout.band_count = (height - 1) / layout.band_rows + 1;
    // Sizes of all bands but the last, which takes the rest; each at least a byte.
    if (layout.band_count - 1 > r.remaining()) return corrupt("frame data too short for its band table");
    // Two passes over the sizes (no allocation that a hostile band count
    // could inflate): this one checks them, the caller's finds the bands.
    layout.band_sizes = r;
    uint64_t total = 0;
    for (uint32_t b = 0; b + 1 < layout.band_count; ++b) total += r.varint(size);
    if (!r.ok()) return corrupt("frame data too short for its band table, or a band size out of range");
    if (total >= r.remaining()) return corrupt("frame data shorter than its bands");
    layout.bands = r.position();
    layout.last_size = r.remaining() - total;
    return ok_status();
}

const char kStoredSizeMismatch[] = "stored band size does not match its rows";

}  // namespace

Status check_frame_data(const uint8_t* data, size_t size, uint32_t width, uint32_t height, unsigned channels,
                        uint8_t method) {
    if (method > kLastMethod) return unsupported("unknown frame method");
    BandLayout layout;
    QOHI_RETURN_IF_ERROR(read_band_layout(data, size, height, layout));
    if (method != kMethodStored) return ok_status();
    const uint64_t row_bytes = uint64_t(width) * channels;
    for (uint32_t b = 0; b < layout.band_count; ++b) {
        const uint64_t band_size = b + 1 < layout.band_count ? layout.band_sizes.varint(size) : layout.last_size;
        const uint32_t rows = std::min(layout.band_rows, height - b * layout.band_rows);
        if (band_size != row_bytes * rows)
            return corrupt("band " + std::to_string(b) + ": " + kStoredSizeMismatch);
    }
    return ok_status();
}

Status decode_frame_data(const uint8_t* data, size_t size, uint32_t width, uint32_t height, unsigned channels,
                         uint8_t method, const uint8_t* ref, uint8_t* out, unsigned threads) {
    if (method > kLastMethod) return unsupported("unknown frame method");
    BandLayout layout;
    QOHI_RETURN_IF_ERROR(read_band_layout(data, size, height, layout));
    const uint32_t band_rows = layout.band_rows;
    const uint32_t band_count = layout.band_count;
    ByteReader band_sizes = layout.band_sizes;
    const uint64_t last_size = layout.last_size;

    const uint64_t row_bytes = uint64_t(width) * channels;
    auto decode_band = [&](uint32_t b, const uint8_t* band, uint64_t band_size) -> Status {
        const uint32_t y0 = b * band_rows;
        const uint32_t rows = std::min(band_rows, height - y0);
        uint8_t* dst = out + y0 * row_bytes;
        if (method == kMethodStored) {
            if (band_size != row_bytes * rows) return corrupt(kStoredSizeMismatch);
            std::memcpy(dst, band, band_size);
            return ok_status();
        }
        if (method == kMethodDici) return decode_dici_band(band, band_size, width, uint64_t(width) * rows, channels, dst);
        return decode_qohi_band(band, band_size, width, uint64_t(width) * rows, channels, dst,
                                ref ? ref + y0 * row_bytes : nullptr);
    };

    // Bands go to the threads in batches whose offsets are found first, so
    // that memory stays fixed however many bands a file declares.
    constexpr uint32_t kBatch = 64;
    const uint8_t* band = layout.bands;
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
