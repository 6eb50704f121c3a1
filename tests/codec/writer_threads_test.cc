// Frames coded by the writer's workers (qohi_write_options.threads > 1,
// frames of one band): the file does not depend on the thread count, and
// what the writer refuses or accepts does not either.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "test_images.h"

using namespace qohi_test;

namespace {

// A family of small images (cheap deltas of each other) and, now and then,
// noise whose delta is no smaller than the frame alone: the writer codes it
// without its reference, so its chain depth is less than planned.
TestImage frame_image(uint32_t k) {
    if (k % 7 == 3)
        return make_image("noise" + std::to_string(k), 24, 20, 4,
                          [](uint32_t, uint32_t, uint32_t, std::mt19937& r) { return uint8_t(r()); }, k);
    TestImage im = make_image("f" + std::to_string(k), 24, 20, 4, [](uint32_t x, uint32_t y, uint32_t c, std::mt19937&) {
        return uint8_t(c == 3 ? 255 : x * 9 + y * 5 + c * 60);
    });
    for (uint32_t n = 0; n < 3; ++n) im.pixels[(k * 37 + n * 101) % im.pixels.size()] ^= 0x33;
    return im;
}

struct Written {
    qohi_status status = QOHI_OK;
    std::string message;  // of the first call that failed
    std::vector<uint8_t> file;
};

// 60 frames; frame k refers to k - 1 when that keeps its chain within
// max_depth 2 counting noise frames as coded alone (so the successor of a
// noise frame planned at depth 2 is accepted only once the writer has
// found that it was), except every fifth; a text item on every fifth,
// attributes on every third, and a stored file after every tenth.
// `duplicate`: frame 41 reuses frame 40's name.
Written write_all(uint32_t threads, bool duplicate = false) {
    qohi_write_options o;
    qohi_write_options_init(&o);
    o.threads = threads;
    o.max_depth = 2;
    qohi_writer* w = nullptr;
    Written out;
    EXPECT_EQ(qohi_writer_open_memory(&o, &w, nullptr), QOHI_OK);
    std::vector<TestImage> images;
    for (uint32_t k = 0; k < 60; ++k) images.push_back(frame_image(k));
    std::vector<uint32_t> depth(60, 0);  // with noise frames coded alone
    for (uint32_t k = 0; k < 60 && out.status == QOHI_OK; ++k) {
        const std::string name = "frame" + std::to_string(duplicate && k == 41 ? 40 : k);
        const std::string text = "frame number " + std::to_string(k);
        qohi_metadata item{};
        item.kind = QOHI_METADATA_TEXT;
        item.key = "Comment";
        item.data = text.data();
        item.size = text.size();
        qohi_file_attributes attributes{};
        attributes.present = 1;
        attributes.mode = 0644;
        attributes.mtime = 1700000000 + k;
        qohi_frame_options f;
        qohi_frame_options_init(&f);
        f.name = name.c_str();
        f.metadata = k % 5 == 0 ? &item : nullptr;
        f.metadata_count = k % 5 == 0 ? 1 : 0;
        f.attributes = k % 3 == 0 ? &attributes : nullptr;
        if (k % 5 != 0 && depth[k - 1] < 2) {
            f.reference = k - 1;
            f.reference_pixels = images[k - 1].pixels.data();
            depth[k] = k % 7 == 3 ? 0 : depth[k - 1] + 1;
        }
        const TestImage& im = images[k];
        out.status = qohi_writer_add_frame_with(w, im.pixels.data(), im.width, im.height, im.channels, 0, &f);
        if (out.status == QOHI_OK && k % 10 == 9) {
            const std::string content = "stored file " + std::to_string(k);
            const std::string entry_name = "file" + std::to_string(k) + ".txt";
            qohi_entry_options e;
            qohi_entry_options_init(&e);
            e.kind = QOHI_ENTRY_FILE;
            e.name = entry_name.c_str();
            e.data = content.data();
            e.size = content.size();
            out.status = qohi_writer_add_entry(w, &e);
        }
        if (out.status != QOHI_OK) out.message = qohi_writer_message(w);
    }
    void* data = nullptr;
    size_t size = 0;
    if (out.status == QOHI_OK) {
        out.status = qohi_writer_finish(w, &data, &size);
        if (out.status != QOHI_OK) out.message = qohi_writer_message(w);
    }
    if (data) out.file.assign(static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
    qohi_free(data);
    qohi_writer_destroy(w);
    return out;
}

TEST(WriterThreads, FramesCodedByWorkersGiveTheSameFile) {
    const Written one = write_all(1);
    ASSERT_EQ(one.status, QOHI_OK) << one.message;
    for (uint32_t threads : {2u, 3u, 8u, 0u}) {
        const Written many = write_all(threads);
        ASSERT_EQ(many.status, QOHI_OK) << threads << " threads: " << many.message;
        EXPECT_TRUE(many.file == one.file) << threads << " threads";
    }
    // Every frame reads back, and noise frames were coded alone.
    qohi_reader* r = nullptr;
    ASSERT_EQ(qohi_reader_open_memory(one.file.data(), one.file.size(), nullptr, &r, nullptr), QOHI_OK);
    ASSERT_EQ(qohi_reader_frame_count(r), 60u);
    EXPECT_EQ(qohi_reader_entry_count(r), 6u);
    for (uint32_t k = 0; k < 60; ++k) {
        const TestImage im = frame_image(k);
        qohi_frame_info info;
        ASSERT_EQ(qohi_reader_frame_info(r, k, &info), QOHI_OK);
        if (k % 7 == 3) EXPECT_EQ(info.reference, -1) << "noise frame " << k;
        std::vector<uint8_t> pixels(im.pixels.size());
        ASSERT_EQ(qohi_reader_decode_frame(r, k, pixels.data(), pixels.size(), 0, 4), QOHI_OK) << k;
        EXPECT_EQ(pixels, im.pixels) << "frame " << k;
    }
    qohi_reader_close(r);
}

TEST(WriterThreads, ADuplicateNameIsRefusedWhileTheFirstIsStillBeingCoded) {
    const Written one = write_all(1, true);
    EXPECT_EQ(one.status, QOHI_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(one.message.find("duplicate name \"frame40\""), std::string::npos) << one.message;
    const Written many = write_all(4, true);
    EXPECT_EQ(many.status, one.status);
    EXPECT_EQ(many.message, one.message);
}

}  // namespace
