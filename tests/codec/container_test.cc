#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "test_images.h"

namespace qohi_test {
namespace {

namespace fs = std::filesystem;

std::vector<uint8_t> write_frames(const std::vector<TestImage>& images, const std::vector<std::string>& names) {
    qohi_writer* w = nullptr;
    EXPECT_EQ(qohi_writer_open_memory(nullptr, &w, nullptr), QOHI_OK);
    for (size_t i = 0; i < images.size(); ++i) {
        const TestImage& im = images[i];
        EXPECT_EQ(qohi_writer_add_frame(w, im.pixels.data(), im.width, im.height, im.channels, 0, names[i].c_str()),
                  QOHI_OK)
            << qohi_writer_message(w);
    }
    void* data = nullptr;
    size_t size = 0;
    EXPECT_EQ(qohi_writer_finish(w, &data, &size), QOHI_OK);
    qohi_writer_destroy(w);
    std::vector<uint8_t> v(static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
    qohi_free(data);
    return v;
}

TEST(Container, ManyFramesRandomAccessByIndexAndName) {
    std::vector<TestImage> images = synthetic_images();
    std::vector<std::string> names;
    for (size_t i = 0; i < images.size(); ++i) names.push_back("dir/sub/" + images[i].name + "_\xC3\xA9t\xC3\xA9.png");
    std::vector<uint8_t> file = write_frames(images, names);

    qohi_reader* r = nullptr;
    ASSERT_EQ(qohi_reader_open_memory(file.data(), file.size(), nullptr, &r, nullptr), QOHI_OK);
    ASSERT_EQ(qohi_reader_frame_count(r), images.size());
    uint64_t coded_total = 0;
    // Backwards, to show that frames do not depend on reading order.
    for (size_t k = images.size(); k-- > 0;) {
        const TestImage& im = images[k];
        uint32_t index = 999;
        ASSERT_EQ(qohi_reader_find_frame(r, names[k].c_str(), &index), QOHI_OK);
        ASSERT_EQ(index, k);
        qohi_frame_info info;
        ASSERT_EQ(qohi_reader_frame_info(r, index, &info), QOHI_OK);
        EXPECT_EQ(info.width, im.width);
        EXPECT_EQ(info.height, im.height);
        EXPECT_EQ(info.channels, im.channels);
        EXPECT_EQ(info.reference, -1);
        EXPECT_EQ(std::string(info.name, info.name_size), names[k]);
        coded_total += info.coded_size;
        std::vector<uint8_t> out(im.pixels.size());
        ASSERT_EQ(qohi_reader_decode_frame(r, index, out.data(), out.size(), 0, 0), QOHI_OK) << qohi_reader_message(r);
        EXPECT_EQ(out, im.pixels) << im.name;
    }
    EXPECT_LT(coded_total, file.size());
    uint32_t index;
    EXPECT_EQ(qohi_reader_find_frame(r, "missing", &index), QOHI_ERROR_NOT_FOUND);
    EXPECT_EQ(qohi_reader_find_frame(r, "", &index), QOHI_ERROR_NOT_FOUND);
    qohi_frame_info info;
    EXPECT_EQ(qohi_reader_frame_info(r, uint32_t(images.size()), &info), QOHI_ERROR_NOT_FOUND);
    qohi_reader_close(r);
}

TEST(Container, EmptyFileHasNoFrames) {
    std::vector<uint8_t> file = write_frames({}, {});
    qohi_reader* r = nullptr;
    ASSERT_EQ(qohi_reader_open_memory(file.data(), file.size(), nullptr, &r, nullptr), QOHI_OK);
    EXPECT_EQ(qohi_reader_frame_count(r), 0u);
    qohi_reader_close(r);
    std::vector<uint8_t> out;
    EXPECT_EQ(decode(file, out), QOHI_ERROR_NOT_FOUND);
}

TEST(Container, ChannelConversionAndStride) {
    TestImage rgb = synthetic_images()[3];       // gradient_rgb
    TestImage rgba = synthetic_images()[9 + 7];  // alpha_varied_rgba
    ASSERT_EQ(rgb.channels, 3u);
    ASSERT_EQ(rgba.name, "alpha_varied_rgba");
    std::vector<uint8_t> out;
    ASSERT_EQ(decode(encode(rgb, nullptr), out, nullptr, 4), QOHI_OK);
    for (size_t i = 0; i < size_t(rgb.width) * rgb.height; ++i) {
        ASSERT_EQ(out[4 * i + 0], rgb.pixels[3 * i + 0]);
        ASSERT_EQ(out[4 * i + 2], rgb.pixels[3 * i + 2]);
        ASSERT_EQ(out[4 * i + 3], 255);
    }
    EXPECT_EQ(decode(encode(rgba, nullptr), out, nullptr, 3), QOHI_ERROR_INVALID_ARGUMENT);

    std::vector<uint8_t> file = encode(rgb, nullptr);
    qohi_reader* r = nullptr;
    ASSERT_EQ(qohi_reader_open_memory(file.data(), file.size(), nullptr, &r, nullptr), QOHI_OK);
    const size_t stride = size_t(rgb.width) * 3 + 5;
    std::vector<uint8_t> padded(stride * rgb.height, 0xEE);
    const size_t needed = stride * (rgb.height - 1) + size_t(rgb.width) * 3;  // last row unpadded
    EXPECT_EQ(qohi_reader_decode_frame(r, 0, padded.data(), needed - 1, stride, 0), QOHI_ERROR_INVALID_ARGUMENT);
    ASSERT_EQ(qohi_reader_decode_frame(r, 0, padded.data(), padded.size(), stride, 0), QOHI_OK);
    for (uint32_t y = 0; y < rgb.height; ++y) {
        ASSERT_TRUE(std::equal(&padded[y * stride], &padded[y * stride] + rgb.width * 3, &rgb.pixels[y * rgb.width * 3]));
        EXPECT_EQ(padded[y * stride + rgb.width * 3], 0xEE);
    }
    qohi_reader_close(r);
}

TEST(Container, WriterRejectsBadFramesAndNames) {
    qohi_writer* w = nullptr;
    ASSERT_EQ(qohi_writer_open_memory(nullptr, &w, nullptr), QOHI_OK);
    const uint8_t px[12] = {};
    EXPECT_EQ(qohi_writer_add_frame(w, px, 2, 2, 3, 0, "a"), QOHI_OK);
    EXPECT_EQ(qohi_writer_add_frame(w, px, 2, 2, 3, 0, "a"), QOHI_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(qohi_writer_message(w)).find("duplicate"), std::string::npos);
    EXPECT_EQ(qohi_writer_add_frame(w, px, 2, 2, 3, 0, "bad\xC3"), QOHI_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(qohi_writer_add_frame(w, px, 2, 2, 3, 0, "\xED\xA0\x80"), QOHI_ERROR_INVALID_ARGUMENT);  // surrogate
    EXPECT_EQ(qohi_writer_add_frame(w, px, 2, 2, 2, 0, "grey"), QOHI_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(qohi_writer_add_frame(w, px, 0, 2, 3, 0, "zero"), QOHI_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(qohi_writer_add_frame(w, px, 2, 2, 3, 2, "stride"), QOHI_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(qohi_writer_add_frame(w, nullptr, 2, 2, 3, 0, "null"), QOHI_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(qohi_writer_add_frame(w, px, 1u << 25, 1, 3, 0, "wide"), QOHI_ERROR_LIMIT);
    EXPECT_EQ(qohi_writer_add_frame(w, px, 2, 2, 3, 0, ""), QOHI_OK);
    EXPECT_EQ(qohi_writer_add_frame(w, px, 2, 2, 3, 0, nullptr), QOHI_OK);  // unnamed frames may repeat
    void* data;
    size_t size;
    ASSERT_EQ(qohi_writer_finish(w, &data, &size), QOHI_OK);
    EXPECT_EQ(qohi_writer_add_frame(w, px, 2, 2, 3, 0, "late"), QOHI_ERROR_INVALID_ARGUMENT);
    qohi_writer_destroy(w);
    qohi_reader* r;
    ASSERT_EQ(qohi_reader_open_memory(data, size, nullptr, &r, nullptr), QOHI_OK);
    EXPECT_EQ(qohi_reader_frame_count(r), 3u);
    qohi_reader_close(r);
    qohi_free(data);
}

class TempDir : public ::testing::Test {
protected:
    void SetUp() override {
        char templ[] = "/tmp/qohi_test_XXXXXX";
        ASSERT_NE(mkdtemp(templ), nullptr);
        dir_ = templ;
    }
    void TearDown() override { fs::remove_all(dir_); }
    size_t entries() const { return size_t(std::distance(fs::directory_iterator(dir_), fs::directory_iterator())); }
    fs::path dir_;
};

using FileWriter = TempDir;

TEST_F(FileWriter, FinishCommitsAndReaderReadsTheFile) {
    const std::string path = (dir_ / "out.qohi").string();
    const TestImage im = synthetic_images()[4];
    qohi_writer* w;
    ASSERT_EQ(qohi_writer_open_file(path.c_str(), nullptr, &w, nullptr), QOHI_OK);
    ASSERT_EQ(qohi_writer_add_frame(w, im.pixels.data(), im.width, im.height, im.channels, 0, "x"), QOHI_OK);
    EXPECT_FALSE(fs::exists(path)) << "the target must not appear before finish";
    ASSERT_EQ(qohi_writer_finish(w, nullptr, nullptr), QOHI_OK);
    qohi_writer_destroy(w);
    EXPECT_EQ(entries(), 1u);

    qohi_reader* r;
    ASSERT_EQ(qohi_reader_open_file(path.c_str(), nullptr, &r, nullptr), QOHI_OK);
    std::vector<uint8_t> out(im.pixels.size());
    ASSERT_EQ(qohi_reader_decode_frame(r, 0, out.data(), out.size(), 0, 0), QOHI_OK);
    EXPECT_EQ(out, im.pixels);
    qohi_reader_close(r);
}

TEST_F(FileWriter, AbandonedWriterLeavesTheOldFileAndNoTemporary) {
    const std::string path = (dir_ / "keep.qohi").string();
    { std::ofstream(path) << "precious"; }
    qohi_writer* w;
    ASSERT_EQ(qohi_writer_open_file(path.c_str(), nullptr, &w, nullptr), QOHI_OK);
    const uint8_t px[3] = {1, 2, 3};
    ASSERT_EQ(qohi_writer_add_frame(w, px, 1, 1, 3, 0, nullptr), QOHI_OK);
    // The target, and the temporary file if the file system gave it a name.
    EXPECT_EQ(entries(), *qohi_writer_temporary_path(w) ? 2u : 1u);
    qohi_writer_destroy(w);
    EXPECT_EQ(entries(), 1u);
    std::ifstream f(path);
    std::string content((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    EXPECT_EQ(content, "precious");
}

// A file that appears at the path while the writer works is kept, unless
// the writer was told to overwrite.
TEST_F(FileWriter, FileThatAppearsIsNotReplacedWithoutOverwrite) {
    const std::string path = (dir_ / "late.qohi").string();
    const uint8_t px[3] = {1, 2, 3};
    for (int overwrite = 0; overwrite <= 1; ++overwrite) {
        SCOPED_TRACE(overwrite);
        fs::remove(path);
        qohi_write_options options;
        qohi_write_options_init(&options);
        EXPECT_EQ(options.overwrite, 0);
        options.overwrite = overwrite;
        qohi_writer* w = nullptr;
        ASSERT_EQ(qohi_writer_open_file(path.c_str(), &options, &w, nullptr), QOHI_OK);
        ASSERT_EQ(qohi_writer_add_frame(w, px, 1, 1, 3, 0, nullptr), QOHI_OK);
        { std::ofstream(path) << "appeared"; }
        const qohi_status st = qohi_writer_finish(w, nullptr, nullptr);
        const std::string message = qohi_writer_message(w);
        qohi_writer_destroy(w);
        EXPECT_EQ(entries(), 1u) << "no temporary file is left";
        std::ifstream f(path);
        std::string content((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        if (overwrite) {
            EXPECT_EQ(st, QOHI_OK) << message;
            EXPECT_EQ(content.compare(1, 4, "QOHI"), 0) << "replaced";
        } else {
            EXPECT_EQ(st, QOHI_ERROR_IO);
            EXPECT_NE(message.find("late.qohi"), std::string::npos) << message;
            EXPECT_EQ(content, "appeared");
        }
    }
}

TEST_F(FileWriter, UnwritableDirectoryIsAnIoError) {
    qohi_writer* w = nullptr;
    qohi_error err;
    const std::string path = (dir_ / "no" / "such" / "dir.qohi").string();
    EXPECT_EQ(qohi_writer_open_file(path.c_str(), nullptr, &w, &err), QOHI_ERROR_IO);
    EXPECT_EQ(w, nullptr);
    EXPECT_NE(std::string(err.message).find("no/such"), std::string::npos) << err.message;
}

TEST_F(FileWriter, ReaderReportsMissingFiles) {
    qohi_reader* r = nullptr;
    qohi_error err;
    EXPECT_EQ(qohi_reader_open_file((dir_ / "absent.qohi").c_str(), nullptr, &r, &err), QOHI_ERROR_IO);
    EXPECT_EQ(r, nullptr);
    EXPECT_NE(std::string(err.message).find("absent.qohi"), std::string::npos);
}

}  // namespace
}  // namespace qohi_test
