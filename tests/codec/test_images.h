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

// A file of two frames written through the public API: `base` on its own,
// then `next` with `base` as its reference (the writer may still code it on
// its own if that is smaller). Empty on failure.
inline std::vector<uint8_t> encode_pair(const TestImage& base, const TestImage& next,
                                        const qohi_write_options* options = nullptr) {
    qohi_writer* w = nullptr;
    if (qohi_writer_open_memory(options, &w, nullptr) != QOHI_OK) return {};
    qohi_frame_options f;
    qohi_frame_options_init(&f);
    bool ok = qohi_writer_add_frame_with(w, base.pixels.data(), base.width, base.height, base.channels, 0, &f) ==
              QOHI_OK;
    f.reference = 0;
    f.reference_pixels = base.pixels.data();
    ok = ok && qohi_writer_add_frame_with(w, next.pixels.data(), next.width, next.height, next.channels, 0, &f) ==
                   QOHI_OK;
    void* data = nullptr;
    size_t size = 0;
    ok = ok && qohi_writer_finish(w, &data, &size) == QOHI_OK;
    qohi_writer_destroy(w);
    std::vector<uint8_t> file;
    if (ok) file.assign(static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
    qohi_free(data);
    return file;
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

// A frame header's fields as stored (spec §3.7), without validation, so
// tests can write invalid values.
struct RawFrameHeader {
    uint64_t width = 0, height = 0;
    uint8_t channels = 0, bit_depth = 0, method = 0, flags = 0;
    uint64_t reference_distance = 0;  // 0: intra
    std::string name;
};

inline RawFrameHeader parse_raw_header(const uint8_t* payload, size_t size) {
    qohi::ByteReader in(payload, size);
    RawFrameHeader h;
    h.width = in.varint(~uint64_t(0));
    h.height = in.varint(~uint64_t(0));
    h.channels = in.u8();
    h.bit_depth = in.u8();
    h.method = in.u8();
    h.flags = in.u8();
    h.reference_distance = in.varint(~uint64_t(0));
    const size_t n = size_t(in.varint(~uint64_t(0)));
    const uint8_t* name = in.bytes(n);
    if (name) h.name.assign(reinterpret_cast<const char*>(name), n);
    return h;
}

inline void write_raw_header(const RawFrameHeader& h, qohi::ByteWriter& w) {
    w.varint(h.width);
    w.varint(h.height);
    w.u8(h.channels);
    w.u8(h.bit_depth);
    w.u8(h.method);
    w.u8(h.flags);
    w.varint(h.reference_distance);
    w.varint(h.name.size());
    w.bytes(h.name.data(), h.name.size());
}

// Rebuilds `file` (a file with an index) with the payloads of its frame
// records passed through `transform(frame, type, payload)` (FHDR, ancillary
// records and FDAT of frame number `frame`), and a new index and trailer
// that agree with the result: offsets and CRCs stay consistent, so only
// what `transform` changed is wrong.
template <class F>
std::vector<uint8_t> rebuild_file(const std::vector<uint8_t>& file, F&& transform) {
    std::vector<uint8_t> out(file.begin(), file.begin() + 8);
    std::vector<std::vector<uint8_t>> headers;
    std::vector<uint64_t> offsets;
    for (const RecordSpan& r : records(file)) {
        if (r.type == qohi::kTypeIndex || r.type == qohi::kTypeTrailer) continue;
        std::vector<uint8_t> payload(file.begin() + long(r.offset + 8), file.begin() + long(r.offset + 8 + r.size));
        if (r.type == qohi::kTypeFrameHeader) offsets.push_back(out.size());
        if (r.type != qohi::kTypeFileHeader) transform(offsets.size() - 1, r.type, payload);
        if (r.type == qohi::kTypeFrameHeader) headers.push_back(payload);
        qohi::append_record(out, r.type, payload.data(), payload.size());
    }
    std::vector<uint8_t> index;
    qohi::ByteWriter w(index);
    w.u32(uint32_t(headers.size()));
    for (size_t i = 0; i < headers.size(); ++i) {
        w.varint(offsets[i] - (i ? offsets[i - 1] : 0));
        w.varint(0);  // no name bytes shared with the previous entry
        w.bytes(headers[i].data(), headers[i].size());
    }
    const qohi::Trailer t{out.size(), uint32_t(headers.size())};
    qohi::append_record(out, qohi::kTypeIndex, index.data(), index.size());
    std::vector<uint8_t> trailer;
    qohi::encode_trailer(t, trailer);
    qohi::append_record(out, qohi::kTypeTrailer, trailer.data(), trailer.size());
    return out;
}

// `file` with `change` applied to the header of frame `frame`, in its FHDR
// record and in its index entry alike.
template <class F>
std::vector<uint8_t> with_frame_header(const std::vector<uint8_t>& file, size_t frame, F&& change) {
    return rebuild_file(file, [&](size_t i, uint32_t type, std::vector<uint8_t>& payload) {
        if (i != frame || type != qohi::kTypeFrameHeader) return;
        RawFrameHeader h = parse_raw_header(payload.data(), payload.size());
        change(h);
        payload.clear();
        qohi::ByteWriter w(payload);
        write_raw_header(h, w);
    });
}

}  // namespace qohi_test

#endif
