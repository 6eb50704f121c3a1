#include <gtest/gtest.h>

#include <cstring>

#include "test_images.h"

namespace qohi_test {
namespace {

TEST(Api, StatusStringsAreDistinct) {
    const qohi_status all[] = {QOHI_OK, QOHI_ERROR_INVALID_ARGUMENT, QOHI_ERROR_IO, QOHI_ERROR_NOT_QOHI,
                               QOHI_ERROR_TRUNCATED, QOHI_ERROR_CORRUPT, QOHI_ERROR_UNSUPPORTED, QOHI_ERROR_LIMIT,
                               QOHI_ERROR_OUT_OF_MEMORY, QOHI_ERROR_NOT_FOUND, QOHI_ERROR_INTERNAL};
    for (qohi_status a : all)
        for (qohi_status b : all)
            if (a != b) EXPECT_STRNE(qohi_status_string(a), qohi_status_string(b));
    EXPECT_STREQ(qohi_version_string(), QOHI_VERSION_STRING);
}

TEST(Api, NullArgumentsAreRejected) {
    qohi_error err;
    EXPECT_EQ(qohi_reader_open_memory(nullptr, 5, nullptr, nullptr, &err), QOHI_ERROR_INVALID_ARGUMENT);
    qohi_reader* r = reinterpret_cast<qohi_reader*>(1);
    EXPECT_EQ(qohi_reader_open_memory(nullptr, 5, nullptr, &r, &err), QOHI_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(r, nullptr);
    EXPECT_EQ(qohi_reader_open_file(nullptr, nullptr, &r, &err), QOHI_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(qohi_reader_frame_count(nullptr), 0u);
    EXPECT_EQ(qohi_reader_decode_frame(nullptr, 0, nullptr, 0, 0, 0), QOHI_ERROR_INVALID_ARGUMENT);
    EXPECT_STREQ(qohi_reader_message(nullptr), "");
    EXPECT_EQ(qohi_writer_add_frame(nullptr, nullptr, 1, 1, 3, 0, nullptr), QOHI_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(qohi_writer_finish(nullptr, nullptr, nullptr), QOHI_ERROR_INVALID_ARGUMENT);
    qohi_writer_destroy(nullptr);
    qohi_reader_close(nullptr);
    qohi_free(nullptr);
    void* out;
    size_t size;
    const uint8_t px[3] = {};
    EXPECT_EQ(qohi_encode(px, 1, 1, 3, 0, nullptr, nullptr, &size, &err), QOHI_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(qohi_encode(nullptr, 1, 1, 3, 0, nullptr, &out, &size, &err), QOHI_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(out, nullptr);
    EXPECT_EQ(qohi_decode(px, 3, nullptr, 5, &out, nullptr, &err), QOHI_ERROR_INVALID_ARGUMENT);
}

TEST(Api, ErrorsCarryReadableMessages) {
    const uint8_t junk[32] = {'P', 'K'};
    void* out = nullptr;
    qohi_error err;
    EXPECT_EQ(qohi_decode(junk, sizeof junk, nullptr, 0, &out, nullptr, &err), QOHI_ERROR_NOT_QOHI);
    EXPECT_EQ(err.status, QOHI_ERROR_NOT_QOHI);
    EXPECT_NE(std::strstr(err.message, "not a QOHI file"), nullptr) << err.message;
    EXPECT_EQ(qohi_decode(junk, 0, nullptr, 0, &out, nullptr, &err), QOHI_ERROR_NOT_QOHI);
}

TEST(Api, WriterLimitIsHonoured) {
    qohi_write_options o;
    qohi_write_options_init(&o);
    o.max_pixels = 10;
    const TestImage im = synthetic_images()[1];  // 37x23
    void* out = nullptr;
    size_t size = 0;
    qohi_error err;
    EXPECT_EQ(qohi_encode(im.pixels.data(), im.width, im.height, im.channels, 0, &o, &out, &size, &err),
              QOHI_ERROR_LIMIT);
    EXPECT_EQ(out, nullptr);
    EXPECT_NE(std::strstr(err.message, "limit"), nullptr) << err.message;
    o.method = 42;
    o.max_pixels = 0;
    EXPECT_EQ(qohi_encode(im.pixels.data(), im.width, im.height, im.channels, 0, &o, &out, &size, &err),
              QOHI_ERROR_INVALID_ARGUMENT);
}

TEST(Api, HugeStridesAreRefused) {
    // A stride whose stride * (height - 1) wraps around 2^64 to a small
    // number must not pass the buffer-size check (found by fuzz_reader).
    const TestImage im = synthetic_images()[1];  // 37x23
    void* data = nullptr;
    size_t size = 0;
    ASSERT_EQ(qohi_encode(im.pixels.data(), im.width, im.height, im.channels, 0, nullptr, &data, &size, nullptr),
              QOHI_OK);
    const std::vector<uint8_t> file(static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
    qohi_free(data);
    qohi_reader* r = nullptr;
    ASSERT_EQ(qohi_reader_open_memory(file.data(), file.size(), nullptr, &r, nullptr), QOHI_OK);
    const size_t wrapping = SIZE_MAX / (im.height - 1) + 1;
    std::vector<uint8_t> out(im.pixels.size());
    EXPECT_EQ(qohi_reader_decode_frame(r, 0, out.data(), out.size(), wrapping, 0), QOHI_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(qohi_reader_decode_frame(r, 0, out.data(), out.size(), 0, 0), QOHI_OK);
    EXPECT_EQ(out, im.pixels);
    qohi_reader_close(r);
    // The writer has no buffer size to check against, but refuses strides
    // that no buffer could have.
    EXPECT_EQ(qohi_encode(im.pixels.data(), im.width, im.height, im.channels, wrapping, nullptr, &data, &size,
                          nullptr),
              QOHI_ERROR_INVALID_ARGUMENT);
}

TEST(Api, MemoryLimitIsHonouredBeforeAllocating) {
    // Frame 0 intra, frame 1 a delta of it; 32x32 RGBA (opaque, so that
    // it may be read as RGB): 4096 bytes a frame.
    const TestImage base = make_image("base", 32, 32, 4, [](uint32_t x, uint32_t y, uint32_t k, std::mt19937&) {
        return uint8_t(k == 3 ? 255 : x * 8 + y * (k + 1));
    });
    TestImage next = base;
    next.pixels[101] ^= 0x55;  // a green value
    const std::vector<uint8_t> file = encode_pair(base, next);
    ASSERT_FALSE(file.empty());

    const auto decode_with_limit = [&](uint64_t limit, uint32_t frame, uint32_t channels, std::vector<uint8_t>& out) {
        qohi_read_options o;
        qohi_read_options_init(&o);
        o.max_memory = limit;
        qohi_reader* r = nullptr;
        EXPECT_EQ(qohi_reader_open_memory(file.data(), file.size(), &o, &r, nullptr), QOHI_OK);
        qohi_frame_info info;
        EXPECT_EQ(qohi_reader_frame_info(r, 1, &info), QOHI_OK);
        EXPECT_EQ(info.reference, 0);
        out.assign(size_t(32) * 32 * channels, 0);
        const qohi_status s = qohi_reader_decode_frame(r, frame, out.data(), out.size(), 0, channels);
        if (s == QOHI_ERROR_LIMIT) EXPECT_NE(std::strstr(qohi_reader_message(r), "memory limit"), nullptr);
        qohi_reader_close(r);
        return s;
    };
    std::vector<uint8_t> out;
    // The intra frame into the caller's buffer needs nothing more.
    EXPECT_EQ(decode_with_limit(1, 0, 4, out), QOHI_OK);
    EXPECT_EQ(out, base.pixels);
    // In another layout it needs a frame's buffer.
    EXPECT_EQ(decode_with_limit(4095, 0, 3, out), QOHI_ERROR_LIMIT);
    EXPECT_EQ(decode_with_limit(4096, 0, 3, out), QOHI_OK);
    // The delta frame needs two frames of its chain.
    EXPECT_EQ(decode_with_limit(8191, 1, 4, out), QOHI_ERROR_LIMIT);
    EXPECT_EQ(decode_with_limit(8192, 1, 4, out), QOHI_OK);
    EXPECT_EQ(out, next.pixels);
    EXPECT_EQ(decode_with_limit(0, 1, 4, out), QOHI_OK) << "0: no limit";

    // qohi_decode counts the image it returns.
    qohi_read_options o;
    qohi_read_options_init(&o);
    o.max_memory = 4095;
    void* pixels = nullptr;
    qohi_error err;
    EXPECT_EQ(qohi_decode(file.data(), file.size(), &o, 0, &pixels, nullptr, &err), QOHI_ERROR_LIMIT);
    EXPECT_EQ(pixels, nullptr);
    EXPECT_NE(std::strstr(err.message, "memory limit"), nullptr) << err.message;
    o.max_memory = 4096;
    ASSERT_EQ(qohi_decode(file.data(), file.size(), &o, 0, &pixels, nullptr, &err), QOHI_OK) << err.message;
    qohi_free(pixels);
}

TEST(Api, DecodeReportsFrameInfo) {
    const TestImage im = synthetic_images()[12];  // gradient_rgba
    ASSERT_EQ(im.channels, 4u);
    std::vector<uint8_t> out;
    qohi_frame_info info;
    ASSERT_EQ(decode(encode(im, nullptr), out, &info), QOHI_OK);
    EXPECT_EQ(info.width, im.width);
    EXPECT_EQ(info.height, im.height);
    EXPECT_EQ(info.method, QOHI_METHOD_QOHI);
    EXPECT_STREQ(info.name, "");
}

}  // namespace
}  // namespace qohi_test
