// Pixel memory is allocated only after the checks that need none (spec
// §7.3, §4.1): a small file whose frame claims 2^28 pixels but whose
// records or band layout are broken is rejected without a large
// allocation, whichever path would allocate (a probe without a buffer,
// another channel layout, a reference chain).
//
// This program counts the bytes in use (alloc_counter.h), so it is built on
// its own, not into codec_tests.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "alloc_counter.h"
#include "hostile_frames.h"
#include "qohi/qohi.h"

namespace qohi_test {
namespace {

constexpr size_t kSmall = size_t(1) << 20;  // what a rejection may allocate

// A pointer the reader must never write through: the frames are refused.
uint8_t* const kNowhere = reinterpret_cast<uint8_t*>(uintptr_t{4096});
constexpr size_t kHuge = size_t(kSide) * kSide * 4;

struct Case {
    const char* label;
    std::vector<HostileFrame> frames;
    uint32_t decode;  // the frame asked for
};

TEST(FrameMemory, BrokenFramesAreRejectedBeforePixelMemory) {
    const std::vector<Case> cases = {
        {"CRC mismatch", {frame(one_band(), true)}, 0},
        {"band table too short", {frame(short_band_table(), false)}, 0},
        {"reference with a CRC mismatch", {frame(one_band(), true), frame(one_band(), false, 0)}, 1},
        {"reference with a short band table", {frame(short_band_table(), false), frame(one_band(), false, 0)}, 1},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.label);
        const std::vector<uint8_t> file = hostile_file(c.frames);
        ASSERT_LT(file.size(), 10000u);
        qohi_reader* r = nullptr;
        qohi_error err{};
        ASSERT_EQ(qohi_reader_open_memory(file.data(), file.size(), nullptr, &r, &err), QOHI_OK) << err.message;
        qohi_status st = QOHI_OK;
        // A probe (no buffer): the failure, not the missing buffer.
        EXPECT_LT(peak_bytes_during([&] { st = qohi_reader_decode_frame(r, c.decode, nullptr, 0, 0, 0); }), kSmall);
        EXPECT_EQ(st, QOHI_ERROR_CORRUPT) << qohi_reader_message(r);
        // RGBA from an RGB frame: the reader's own buffer; the frame itself.
        for (uint32_t channels : {0u, 4u}) {
            SCOPED_TRACE(channels);
            EXPECT_LT(peak_bytes_during([&] { st = qohi_reader_decode_frame(r, c.decode, kNowhere, kHuge, 0, channels); }),
                      kSmall);
            EXPECT_EQ(st, QOHI_ERROR_CORRUPT) << qohi_reader_message(r);
        }
        qohi_reader_close(r);
    }
}

// A valid frame still passes the probe: it answers the missing buffer.
TEST(FrameMemory, ProbeOfAValidFrameAnswersTheMissingBuffer) {
    const uint8_t px[3] = {1, 2, 3};
    void* data = nullptr;
    size_t size = 0;
    ASSERT_EQ(qohi_encode(px, 1, 1, 3, 0, nullptr, &data, &size, nullptr), QOHI_OK);
    qohi_reader* r = nullptr;
    ASSERT_EQ(qohi_reader_open_memory(data, size, nullptr, &r, nullptr), QOHI_OK);
    EXPECT_EQ(qohi_reader_decode_frame(r, 0, nullptr, 0, 0, 0), QOHI_ERROR_INVALID_ARGUMENT);
    uint8_t out[3] = {0, 0, 0};
    EXPECT_EQ(qohi_reader_decode_frame(r, 0, out, 3, 0, 0), QOHI_OK);
    EXPECT_EQ(out[2], 3);
    qohi_reader_close(r);
    qohi_free(data);
}

}  // namespace
}  // namespace qohi_test
