// Row bands (spec §4.1) and the threads that code them: the automatic band
// height, files that do not depend on the thread count, and errors that do
// not depend on which thread found them.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>

#include "frame_codec.h"
#include "parallel.h"
#include "test_images.h"

using namespace qohi_test;

namespace {

// Enough texture that every band has real work, repeats for the match ops.
TestImage textured(uint32_t w, uint32_t h, uint32_t c, uint32_t seed = 3) {
    return make_image("textured", w, h, c, [](uint32_t x, uint32_t y, uint32_t k, std::mt19937& r) {
        if ((x / 16 + y / 16) % 3 == 0) return uint8_t(r() % 4 + 100);
        return uint8_t((x * (k + 1) + y * 3) ^ (y / 7));
    }, seed);
}

std::vector<uint8_t> frame_data(const std::vector<uint8_t>& file, size_t frame) {
    size_t seen = 0;
    for (const RecordSpan& r : records(file)) {
        if (r.type != qohi::kTypeFrameData) continue;
        if (seen++ == frame) return {file.begin() + long(r.offset + 8), file.begin() + long(r.offset + 8 + r.size)};
    }
    return {};
}

uint64_t band_rows_of(const std::vector<uint8_t>& fdat) {
    qohi::ByteReader r(fdat.data(), fdat.size());
    return r.varint(UINT32_MAX);
}

std::vector<uint8_t> encode_with(const TestImage& im, uint32_t threads, int effort, uint32_t band_rows = 0) {
    qohi_write_options o;
    qohi_write_options_init(&o);
    o.threads = threads;
    o.effort = effort;
    o.band_rows = band_rows;
    return encode(im, &o);
}

qohi_status decode_with(const std::vector<uint8_t>& file, uint32_t threads, std::vector<uint8_t>& pixels,
                        std::string& message) {
    qohi_read_options o;
    qohi_read_options_init(&o);
    o.threads = threads;
    void* out = nullptr;
    qohi_frame_info info;
    qohi_error err;
    const qohi_status s = qohi_decode(file.data(), file.size(), &o, 0, &out, &info, &err);
    pixels.clear();
    message = s == QOHI_OK ? "" : err.message;
    if (s == QOHI_OK)
        pixels.assign(static_cast<uint8_t*>(out),
                      static_cast<uint8_t*>(out) + size_t(info.width) * info.height * info.channels);
    qohi_free(out);
    return s;
}

}  // namespace

TEST(Bands, DefaultHeightGivesAboutAFixedNumberOfPixelsPerBand) {
    const TestImage wide = textured(700, 500, 3);
    const std::vector<uint8_t> file = encode_with(wide, 1, 0);
    ASSERT_FALSE(file.empty());
    // ceil(131072 / 700) = 188 rows: three bands.
    EXPECT_EQ(band_rows_of(frame_data(file, 0)), 188u);
    EXPECT_EQ(qohi::auto_band_rows(700, 500, false), 188u);
    // Effort 1: eight times the pixels, ceil(1048576 / 700) = 1498 rows: one band.
    EXPECT_EQ(band_rows_of(frame_data(encode_with(wide, 1, 1), 0)), 500u);
    EXPECT_EQ(qohi::auto_band_rows(700, 2000, true), 1498u);
    // Small frames stay one band; a band is never taller than the frame.
    EXPECT_EQ(qohi::auto_band_rows(64, 64, false), 64u);
    EXPECT_EQ(qohi::auto_band_rows(1, 5, true), 5u);
    // Frames wider than a band's pixel budget get one row per band.
    EXPECT_EQ(qohi::auto_band_rows(300000, 4, false), 1u);

    const std::vector<uint8_t> one_band = encode_with(wide, 1, 0, 500);
    EXPECT_EQ(band_rows_of(frame_data(one_band, 0)), 500u);
    const std::vector<uint8_t> taller_than_frame = encode_with(wide, 1, 0, 100000);
    EXPECT_EQ(band_rows_of(frame_data(taller_than_frame, 0)), 500u);
}

TEST(Bands, FilesDoNotDependOnTheThreadCount) {
    for (uint32_t channels : {3u, 4u}) {
        for (int effort : {0, 1}) {
            const TestImage im = textured(257, 411, channels);
            const std::vector<uint8_t> single = encode_with(im, 1, effort, 37);  // 12 bands, last one short
            ASSERT_FALSE(single.empty());
            for (uint32_t threads : {2u, 3u, 8u, 0u})
                EXPECT_EQ(encode_with(im, threads, effort, 37), single)
                    << channels << " channels, effort " << effort << ", " << threads << " threads";
            for (uint32_t threads : {1u, 2u, 5u}) {
                std::vector<uint8_t> pixels;
                std::string message;
                ASSERT_EQ(decode_with(single, threads, pixels, message), QOHI_OK) << message;
                EXPECT_EQ(pixels, im.pixels) << threads << " decoding threads";
            }
        }
    }
}

TEST(Bands, DeltaFramesDoNotDependOnTheThreadCount) {
    const TestImage base = textured(300, 300, 4, 5);
    TestImage variant = base;
    for (size_t i = 0; i < variant.pixels.size(); i += 997) variant.pixels[i] ^= 0x5A;
    auto pack = [&](uint32_t threads) {
        qohi_write_options o;
        qohi_write_options_init(&o);
        o.threads = threads;
        o.band_rows = 29;
        return encode_pair(base, variant, &o);
    };
    const std::vector<uint8_t> single = pack(1);
    ASSERT_FALSE(single.empty());
    EXPECT_EQ(pack(4), single);

    qohi_read_options o;
    qohi_read_options_init(&o);
    o.threads = 3;
    qohi_reader* r = nullptr;
    ASSERT_EQ(qohi_reader_open_memory(single.data(), single.size(), &o, &r, nullptr), QOHI_OK);
    qohi_frame_info info;
    ASSERT_EQ(qohi_reader_frame_info(r, 1, &info), QOHI_OK);
    EXPECT_EQ(info.reference, 0);
    std::vector<uint8_t> pixels(variant.pixels.size());
    EXPECT_EQ(qohi_reader_decode_frame(r, 1, pixels.data(), pixels.size(), 0, 0), QOHI_OK);
    EXPECT_EQ(pixels, variant.pixels);
    qohi_reader_close(r);
}

TEST(Bands, TheFirstBadBandIsReportedWhateverTheThreads) {
    const TestImage im = textured(128, 200, 3);
    const std::vector<uint8_t> file = encode_with(im, 1, 0, 10);  // 20 bands
    // Bands 6 and 15 become a single zero byte: their code tables run out.
    const std::vector<uint8_t> bad = rebuild_file(file, [](size_t, uint32_t type, std::vector<uint8_t>& payload) {
        if (type != qohi::kTypeFrameData) return;
        qohi::ByteReader r(payload.data(), payload.size());
        const uint32_t band_rows = uint32_t(r.varint(UINT32_MAX));
        std::vector<uint64_t> sizes;
        for (int b = 0; b < 19; ++b) sizes.push_back(r.varint(UINT64_MAX));
        const uint8_t* band = r.position();
        std::vector<uint8_t> rebuilt;
        qohi::ByteWriter w(rebuilt);
        w.varint(band_rows);
        for (int b = 0; b < 19; ++b) w.varint(b == 6 || b == 15 ? 1 : sizes[size_t(b)]);
        uint64_t used = 0;
        for (uint64_t s : sizes) used += s;
        const uint64_t last = uint64_t(payload.data() + payload.size() - band) - used;
        for (int b = 0; b < 20; ++b) {
            const uint64_t size = b < 19 ? sizes[size_t(b)] : last;
            if (b == 6 || b == 15)
                rebuilt.push_back(0);
            else
                w.bytes(band, size);
            band += size;
        }
        payload = rebuilt;
    });
    std::vector<uint8_t> pixels;
    std::string single_message;
    ASSERT_EQ(decode_with(bad, 1, pixels, single_message), QOHI_ERROR_CORRUPT);
    EXPECT_NE(single_message.find("band 6:"), std::string::npos) << single_message;
    for (uint32_t threads : {2u, 4u, 16u}) {
        std::string message;
        EXPECT_EQ(decode_with(bad, threads, pixels, message), QOHI_ERROR_CORRUPT);
        EXPECT_EQ(message, single_message) << threads << " threads";
    }
}

TEST(Parallel, RunsEveryTaskOnceAndPassesExceptionsOn) {
    std::vector<std::atomic<int>> runs(1000);
    qohi::parallel_for(1000, 4, [&](uint32_t i) { runs[i]++; });
    for (const auto& r : runs) EXPECT_EQ(r.load(), 1);

    for (unsigned threads : {1u, 3u}) {
        std::atomic<int> started{0};
        auto task = [&](uint32_t i) {
            started++;
            if (i == 10) throw std::runtime_error("task 10");
        };
        EXPECT_THROW(qohi::parallel_for(1000, threads, task), std::runtime_error);
        if (threads == 1) EXPECT_EQ(started.load(), 11);  // in order, none after the failure
    }
    EXPECT_GE(qohi::resolve_threads(0), 1u);
    EXPECT_EQ(qohi::resolve_threads(3), 3u);
}
