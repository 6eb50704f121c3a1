// Synthetic images and small helpers shared by the codec tests: images,
// encode/decode through the public API, and walking a file's records
// (with repairing a record's CRC after a test has changed its payload).
#ifndef QOHI_TEST_IMAGES_H
#define QOHI_TEST_IMAGES_H

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "byte_io.h"
#include "container.h"
#include "qohi/qohi.h"

namespace qohi_test {

struct TestImage {
    std::string name;
    uint32_t width, height, channels;
    std::vector<uint8_t> pixels;
};

inline TestImage make_image(const std::string& name, uint32_t w, uint32_t h, uint32_t c,
                            uint8_t (*f)(uint32_t x, uint32_t y, uint32_t ch, std::mt19937& rng), uint32_t seed = 1) {
    TestImage im{name, w, h, c, std::vector<uint8_t>(size_t(w) * h * c)};
    std::mt19937 rng(seed);
    for (uint32_t y = 0; y < h; ++y)
        for (uint32_t x = 0; x < w; ++x)
            for (uint32_t k = 0; k < c; ++k) im.pixels[(size_t(y) * w + x) * c + k] = f(x, y, k, rng);
    return im;
}

// Images that between them exercise every op: runs (short and very long),
// index hits, differences of every size, alpha changes.
inline std::vector<TestImage> synthetic_images() {
    std::vector<TestImage> v;
    for (uint32_t c : {3u, 4u}) {
        const std::string s = c == 3 ? "_rgb" : "_rgba";
        v.push_back(make_image("1x1" + s, 1, 1, c, [](uint32_t, uint32_t, uint32_t k, std::mt19937&) {
            return uint8_t(k * 60 + 7);
        }));
        v.push_back(make_image("flat" + s, 37, 23, c, [](uint32_t, uint32_t, uint32_t, std::mt19937&) {
            return uint8_t(200);
        }));
        v.push_back(make_image("start_pixel_run" + s, 9, 5, c, [](uint32_t, uint32_t, uint32_t k, std::mt19937&) {
            return uint8_t(k == 3 ? 255 : 0);  // equals the decoder's initial pixel
        }));
        v.push_back(make_image("gradient" + s, 131, 67, c, [](uint32_t x, uint32_t y, uint32_t k, std::mt19937&) {
            return uint8_t(k == 3 ? 255 - y : x * (k + 1) + y * 2);
        }));
        v.push_back(make_image("noise" + s, 61, 45, c, [](uint32_t, uint32_t, uint32_t, std::mt19937& r) {
            return uint8_t(r());
        }));
        v.push_back(make_image("palette" + s, 97, 31, c, [](uint32_t x, uint32_t y, uint32_t k, std::mt19937&) {
            const uint32_t colour = ((x / 3) * 7 + y * 13) % 11;  // few colours, repeating: index hits
            return uint8_t(colour * 23 + k * 5);
        }));
        v.push_back(make_image("stripes_runs" + s, 300, 7, c, [](uint32_t x, uint32_t, uint32_t k, std::mt19937&) {
            return uint8_t((x / 40) % 2 ? 10 + k : 250 - k);  // runs of 40 cross rows
        }));
        v.push_back(make_image("alpha_varied" + s, 33, 33, c, [](uint32_t x, uint32_t y, uint32_t k, std::mt19937& r) {
            if (k == 3) return uint8_t((x * y) % 5 == 0 ? r() : 255 - x);
            return uint8_t(x + y * k);
        }));
        v.push_back(make_image("odd_width" + s, 1, 17, c, [](uint32_t, uint32_t y, uint32_t k, std::mt19937&) {
            return uint8_t(y * 15 + k);
        }));
    }
    // One run long enough to need the widest run classes used by small files.
    v.push_back(make_image("long_run_rgba", 1000, 300, 4, [](uint32_t x, uint32_t y, uint32_t k, std::mt19937&) {
        return uint8_t(x == 999 && y == 299 ? k : 77);
    }));
    return v;
}

// Encodes with the given options through the public API.
inline std::vector<uint8_t> encode(const TestImage& im, const qohi_write_options* options) {
    void* data = nullptr;
    size_t size = 0;
    qohi_error err;
    if (qohi_encode(im.pixels.data(), im.width, im.height, im.channels, 0, options, &data, &size, &err) != QOHI_OK)
        return {};
    std::vector<uint8_t> v(static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
    qohi_free(data);
    return v;
}

// Decodes the first frame in its own channel layout; status returned.
inline qohi_status decode(const std::vector<uint8_t>& file, std::vector<uint8_t>& pixels, qohi_frame_info* info = nullptr,
                          uint32_t channels = 0) {
    void* out = nullptr;
    qohi_frame_info i;
    qohi_status s = qohi_decode(file.data(), file.size(), nullptr, channels, &out, &i, nullptr);
    pixels.clear();
    if (s == QOHI_OK) {
        pixels.assign(static_cast<uint8_t*>(out), static_cast<uint8_t*>(out) + size_t(i.width) * i.height *
                                                                                (channels ? channels : i.channels));
        if (info) *info = i;
    }
    qohi_free(out);
    return s;
}

// One record of a file: where it starts, its type and its payload size.
struct RecordSpan {
    size_t offset;  // of the record
    uint32_t type;
    uint32_t size;
};

// The records of `file`, in order (after the 8-byte signature).
inline std::vector<RecordSpan> records(const std::vector<uint8_t>& file) {
    std::vector<RecordSpan> v;
    for (size_t off = 8; off + 12 <= file.size();) {
        const uint32_t size = qohi::load_u32(&file[off + 4]);
        v.push_back({off, qohi::load_u32(&file[off]), size});
        off += 12 + size;
    }
    return v;
}

// Rewrites the CRC of record `r` to match its (changed) payload.
inline void fix_crc(std::vector<uint8_t>& file, const RecordSpan& r) {
    qohi::store_u32(&file[r.offset + 8 + r.size], qohi::record_crc(r.type, &file[r.offset + 8], r.size));
}

}  // namespace qohi_test

#endif
