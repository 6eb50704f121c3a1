#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "test_images.h"
#ifdef QOHI_TEST_HAVE_PNG
#include "png_io.h"
#endif

namespace qohi_test {
namespace {

struct Variant {
    const char* name;
    qohi_method_choice method;
    uint32_t band_rows;
    int effort;
};
const Variant kVariants[] = {
    {"auto", QOHI_CHOOSE_AUTO, 0, 0},          {"qohi", QOHI_CHOOSE_QOHI, 0, 0},
    {"stored", QOHI_CHOOSE_STORED, 0, 0},      {"qohi_bands1", QOHI_CHOOSE_QOHI, 1, 0},
    {"qohi_bands7", QOHI_CHOOSE_QOHI, 7, 0},   {"stored_bands5", QOHI_CHOOSE_STORED, 5, 0},
    {"qohi_thorough", QOHI_CHOOSE_QOHI, 0, 1}, {"qohi_thorough_bands7", QOHI_CHOOSE_QOHI, 7, 1},
    {"dici", QOHI_CHOOSE_DICI, 0, 0},          {"dici_bands1", QOHI_CHOOSE_DICI, 1, 0},
    {"dici_bands7", QOHI_CHOOSE_DICI, 7, 0},
};

class RoundTrip : public ::testing::TestWithParam<Variant> {};

TEST_P(RoundTrip, SyntheticImagesAreBitExact) {
    qohi_write_options o;
    qohi_write_options_init(&o);
    o.method = GetParam().method;
    o.band_rows = GetParam().band_rows;
    o.effort = GetParam().effort;
    for (const TestImage& im : synthetic_images()) {
        SCOPED_TRACE(im.name);
        std::vector<uint8_t> file = encode(im, &o);
        ASSERT_FALSE(file.empty());
        std::vector<uint8_t> out;
        qohi_frame_info info;
        ASSERT_EQ(decode(file, out, &info), QOHI_OK);
        EXPECT_EQ(info.width, im.width);
        EXPECT_EQ(info.height, im.height);
        EXPECT_EQ(info.channels, im.channels);
        if (o.method == QOHI_CHOOSE_STORED) EXPECT_EQ(info.method, QOHI_METHOD_STORED);
        if (o.method == QOHI_CHOOSE_QOHI) EXPECT_EQ(info.method, QOHI_METHOD_QOHI);
        // Forced DICI takes any number of colours; noise is still stored,
        // being smaller raw.
        if (o.method == QOHI_CHOOSE_DICI)
            EXPECT_TRUE(info.method == QOHI_METHOD_DICI || info.method == QOHI_METHOD_STORED) << info.method;
        ASSERT_EQ(out, im.pixels);
    }
}

INSTANTIATE_TEST_SUITE_P(Methods, RoundTrip, ::testing::ValuesIn(kVariants),
                         [](const ::testing::TestParamInfo<Variant>& p) { return std::string(p.param.name); });

TEST(RoundTripAuto, PicksTheSmallerMethod) {
    qohi_write_options stored, qohi, dici;
    qohi_write_options_init(&stored);
    qohi_write_options_init(&qohi);
    qohi_write_options_init(&dici);
    stored.method = QOHI_CHOOSE_STORED;
    qohi.method = QOHI_CHOOSE_QOHI;
    dici.method = QOHI_CHOOSE_DICI;
    int dici_wins = 0, qohi_wins = 0, auto_dici = 0;
    for (const TestImage& im : synthetic_images()) {
        SCOPED_TRACE(im.name);
        const size_t auto_size = encode(im, nullptr).size();
        const size_t stored_size = encode(im, &stored).size();
        const size_t qohi_size = encode(im, &qohi).size(), dici_size = encode(im, &dici).size();
        // DICI is tried only where it may pay (an estimate first), so auto
        // is at most the smaller of the other two, and one of the three.
        EXPECT_LE(auto_size, std::min(stored_size, qohi_size));
        EXPECT_TRUE(auto_size == stored_size || auto_size == qohi_size || auto_size == dici_size);
        dici_wins += dici_size < qohi_size;
        qohi_wins += qohi_size < dici_size;
        auto_dici += auto_size == dici_size && dici_size < qohi_size;
    }
    // Each method wins somewhere (palette images DICI, gradients QOHI), and
    // auto finds DICI's wins where QOHI needs many bits.
    EXPECT_GT(dici_wins, 0);
    EXPECT_GT(qohi_wins, 0);
    EXPECT_GT(auto_dici, 0);
}

// Twelve colours in cells two pixels wide and two rows tall: every second
// row is a copy of the one above, which DICI codes almost for free. Its
// sampled estimate must not see only the cells' first rows (sampling rows
// 0, 8, 16 ... kept QOHI: 28,403 B against DICI's 22,350 B).
TEST(RoundTripAuto, DiciIsFoundForCellsTwoRowsTall) {
    std::mt19937 rng(76);
    std::vector<uint8_t> cell_colour(260 * 150);
    for (uint8_t& c : cell_colour) c = uint8_t(rng() % 12);
    TestImage im{"cells", 520, 300, 3, std::vector<uint8_t>(520 * 300 * 3)};
    for (uint32_t y = 0; y < 300; ++y)
        for (uint32_t x = 0; x < 520; ++x)
            for (uint32_t k = 0; k < 3; ++k)
                im.pixels[(size_t(y) * 520 + x) * 3 + k] = uint8_t(cell_colour[(y / 2) * 260 + x / 2] * 20 + k * 17);
    qohi_write_options dici;
    qohi_write_options_init(&dici);
    dici.method = QOHI_CHOOSE_DICI;
    const std::vector<uint8_t> automatic = encode(im, nullptr), forced = encode(im, &dici);
    std::vector<uint8_t> out;
    qohi_frame_info info;
    ASSERT_EQ(decode(automatic, out, &info), QOHI_OK);
    EXPECT_EQ(out, im.pixels);
    EXPECT_EQ(info.method, QOHI_METHOD_DICI);
    EXPECT_EQ(automatic.size(), forced.size());
}

TEST(RoundTripAuto, NoiseFallsBackToStoredAndFlatImagesShrink) {
    for (const TestImage& im : synthetic_images()) {
        std::vector<uint8_t> file = encode(im, nullptr);
        std::vector<uint8_t> out;
        qohi_frame_info info;
        ASSERT_EQ(decode(file, out, &info), QOHI_OK);
        if (im.name.rfind("noise", 0) == 0) EXPECT_EQ(info.method, QOHI_METHOD_STORED) << im.name;
        if (im.name.rfind("flat", 0) == 0) {
            EXPECT_NE(info.method, QOHI_METHOD_STORED);
            EXPECT_LT(file.size(), im.pixels.size() / 4);
        }
    }
}

// A pattern that repeats far away, not in the row above: only the thorough
// search finds it.
TEST(RoundTripEffort, ThoroughSearchFindsDistantRepeats) {
    TestImage im = make_image("repeats", 64, 64, 4, [](uint32_t x, uint32_t y, uint32_t k, std::mt19937& r) {
        static std::vector<uint8_t> tile;
        if (tile.empty()) {
            std::mt19937 t(9);
            for (int i = 0; i < 16 * 16 * 4; ++i) tile.push_back(uint8_t(t()));
        }
        (void)r;
        const uint32_t shift = (y / 16) * 5;  // each band of rows shifted: no vertical repeats
        return tile[(((y % 16) * 16) + ((x + shift) % 16)) * 4 + k];
    });
    qohi_write_options fast, thorough;
    qohi_write_options_init(&fast);
    qohi_write_options_init(&thorough);
    thorough.effort = 1;
    const std::vector<uint8_t> a = encode(im, &fast), b = encode(im, &thorough);
    std::vector<uint8_t> out;
    ASSERT_EQ(decode(b, out), QOHI_OK);
    EXPECT_EQ(out, im.pixels);
    EXPECT_LT(b.size() * 2, a.size()) << "the repeated tile must be found";
    thorough.effort = 2;
    EXPECT_TRUE(encode(im, &thorough).empty()) << "effort 2 does not exist";
}

TEST(RoundTripStride, PaddedRowsAreRead) {
    TestImage im = synthetic_images()[3];  // gradient_rgb
    const size_t row = size_t(im.width) * im.channels, stride = row + 13;
    std::vector<uint8_t> padded(stride * im.height, 0xAB);
    for (uint32_t y = 0; y < im.height; ++y) std::copy_n(&im.pixels[y * row], row, &padded[y * stride]);
    void* data;
    size_t size;
    ASSERT_EQ(qohi_encode(padded.data(), im.width, im.height, im.channels, stride, nullptr, &data, &size, nullptr),
              QOHI_OK);
    std::vector<uint8_t> file(static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
    qohi_free(data);
    std::vector<uint8_t> out;
    ASSERT_EQ(decode(file, out), QOHI_OK);
    EXPECT_EQ(out, im.pixels);
}

#ifdef QOHI_TEST_HAVE_PNG
// The small real images committed under tests/data, through every method.
TEST(RoundTripReal, CommittedImagesAreBitExact) {
    int tested = 0;
    for (const auto& entry : std::filesystem::directory_iterator(QOHI_TEST_DATA_DIR)) {
        if (entry.path().extension() != ".png") continue;
        std::ifstream f(entry.path(), std::ios::binary);
        std::vector<uint8_t> png((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        qohi_tools::Image src;
        std::string error;
        if (!qohi_tools::decode_png(png.data(), png.size(), src, error)) continue;  // e.g. the 16-bit sample
        SCOPED_TRACE(entry.path().filename().string());
        TestImage im{entry.path().filename().string(), src.width, src.height, src.channels, src.pixels};
        for (const Variant& v : kVariants) {
            qohi_write_options o;
            qohi_write_options_init(&o);
            o.method = v.method;
            o.band_rows = v.band_rows;
            o.effort = v.effort;
            std::vector<uint8_t> out;
            ASSERT_EQ(decode(encode(im, &o), out), QOHI_OK) << v.name;
            ASSERT_EQ(out, im.pixels) << v.name;
        }
        ++tested;
    }
    EXPECT_GE(tested, 3) << "too few readable PNGs in " << QOHI_TEST_DATA_DIR;
}
#endif

}  // namespace
}  // namespace qohi_test
