// End-to-end tests of qohienc and qohidec: the real executables run in a
// fresh temporary directory per test.
//
// Pixels are checked against an oracle that is independent of the tools'
// PNG code: PNGs are read with libpng without any expansion transform (only
// de-interlacing), and grey / palette / tRNS expansion is done here, sample by
// sample.
#include <gtest/gtest.h>
#include <png.h>
#include <zlib.h>
#include <qohi/qohi.h>

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli_test_util.h"
#include "png_io.h"

#ifndef QOHI_TEST_DATA_DIR
#error "QOHI_TEST_DATA_DIR must be defined"
#endif

namespace fs = std::filesystem;

namespace {

using namespace qohi_cli_test;

const std::string kDataDir = QOHI_TEST_DATA_DIR;

// ------------------------------------------------------------------ files

void write_text(const std::string& path, const std::string& text) {
    write_bytes(path, std::vector<uint8_t>(text.begin(), text.end()));
}

std::set<std::string> list_dir(const std::string& dir) {
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
    return names;
}

// ------------------------------------------------------------ PNG oracle

unsigned sample_at(const RawPng& raw, uint32_t y, uint32_t index) {
    const auto& row = raw.rows[y];
    switch (raw.bit_depth) {
        case 1: return (row[index / 8] >> (7 - index % 8)) & 1;
        case 2: return (row[index / 4] >> (6 - 2 * (index % 4))) & 3;
        case 4: return (row[index / 2] >> (4 - 4 * (index % 2))) & 15;
        case 8: return row[index];
        default: return (row[2 * index] << 8) | row[2 * index + 1];
    }
}

// The expected expansion to 8-bit RGB / RGBA.
bool expand(const RawPng& raw, qohi_tools::Image& img, std::string& error) {
    if (raw.bit_depth > 8) {
        error = "16-bit";
        return false;
    }
    const unsigned maxval = (1u << raw.bit_depth) - 1;
    auto scale = [&](unsigned v) { return static_cast<uint8_t>(v * 255 / maxval); };
    const bool key = raw.has_trns_key;
    const bool alpha = raw.color_type == PNG_COLOR_TYPE_RGB_ALPHA ||
                       raw.color_type == PNG_COLOR_TYPE_GRAY_ALPHA ||
                       (raw.color_type == PNG_COLOR_TYPE_PALETTE && !raw.trns_alpha.empty()) || key;
    img.width = raw.width;
    img.height = raw.height;
    img.channels = alpha ? 4 : 3;
    img.pixels.clear();
    for (uint32_t y = 0; y < raw.height; ++y) {
        for (uint32_t x = 0; x < raw.width; ++x) {
            unsigned r = 0, g = 0, b = 0, a = 255;
            switch (raw.color_type) {
                case PNG_COLOR_TYPE_GRAY: {
                    unsigned v = sample_at(raw, y, x);
                    r = g = b = scale(v);
                    if (key && v == raw.trns_key.gray) a = 0;
                    break;
                }
                case PNG_COLOR_TYPE_GRAY_ALPHA:
                    r = g = b = sample_at(raw, y, 2 * x);
                    a = sample_at(raw, y, 2 * x + 1);
                    break;
                case PNG_COLOR_TYPE_RGB:
                    r = sample_at(raw, y, 3 * x);
                    g = sample_at(raw, y, 3 * x + 1);
                    b = sample_at(raw, y, 3 * x + 2);
                    if (key && r == raw.trns_key.red && g == raw.trns_key.green &&
                        b == raw.trns_key.blue) {
                        a = 0;
                    }
                    break;
                case PNG_COLOR_TYPE_RGB_ALPHA:
                    r = sample_at(raw, y, 4 * x);
                    g = sample_at(raw, y, 4 * x + 1);
                    b = sample_at(raw, y, 4 * x + 2);
                    a = sample_at(raw, y, 4 * x + 3);
                    break;
                case PNG_COLOR_TYPE_PALETTE: {
                    unsigned i = sample_at(raw, y, x);
                    if (i >= raw.palette.size()) {
                        error = "palette index out of range";
                        return false;
                    }
                    r = raw.palette[i].red;
                    g = raw.palette[i].green;
                    b = raw.palette[i].blue;
                    if (i < raw.trns_alpha.size()) a = raw.trns_alpha[i];
                    break;
                }
                default:
                    error = "unknown colour type";
                    return false;
            }
            img.pixels.push_back(static_cast<uint8_t>(r));
            img.pixels.push_back(static_cast<uint8_t>(g));
            img.pixels.push_back(static_cast<uint8_t>(b));
            if (alpha) img.pixels.push_back(static_cast<uint8_t>(a));
        }
    }
    return true;
}

// Expected pixels of a PNG file, computed by the oracle.
::testing::AssertionResult oracle_pixels(const std::string& path, qohi_tools::Image& img) {
    RawPng raw;
    std::string error;
    if (!read_raw_png(read_bytes(path), raw, error)) {
        return ::testing::AssertionFailure() << path << ": " << error;
    }
    if (!expand(raw, img, error)) return ::testing::AssertionFailure() << path << ": " << error;
    return ::testing::AssertionSuccess();
}

// Reads a PNG written by qohidec (in its source's colour type and depth).
::testing::AssertionResult output_pixels(const std::string& path, qohi_tools::Image& img) {
    RawPng raw;
    std::string error;
    if (!read_raw_png(read_bytes(path), raw, error)) {
        return ::testing::AssertionFailure() << path << ": " << error;
    }
    if (!expand(raw, img, error)) return ::testing::AssertionFailure() << path << ": " << error;
    return ::testing::AssertionSuccess();
}

bool same_colour(const png_color& a, const png_color& b) {
    return a.red == b.red && a.green == b.green && a.blue == b.blue;
}

// The restored PNG has its source's IHDR fields, palette and tRNS.
::testing::AssertionResult same_png_header(const std::string& source, const std::string& restored) {
    RawPng a, b;
    std::string error;
    if (!read_raw_png(read_bytes(source), a, error) || !read_raw_png(read_bytes(restored), b, error)) {
        return ::testing::AssertionFailure() << error;
    }
    if (a.width != b.width || a.height != b.height || a.bit_depth != b.bit_depth ||
        a.color_type != b.color_type || a.interlace != b.interlace) {
        return ::testing::AssertionFailure()
               << "IHDR: depth " << a.bit_depth << " type " << a.color_type << " interlace " << a.interlace
               << " became depth " << b.bit_depth << " type " << b.color_type << " interlace " << b.interlace;
    }
    if (a.palette.size() != b.palette.size() ||
        !std::equal(a.palette.begin(), a.palette.end(), b.palette.begin(), same_colour)) {
        return ::testing::AssertionFailure() << "PLTE differs";
    }
    if (a.trns_alpha != b.trns_alpha || a.has_trns_key != b.has_trns_key ||
        (a.has_trns_key && (a.trns_key.gray != b.trns_key.gray || a.trns_key.red != b.trns_key.red ||
                            a.trns_key.green != b.trns_key.green || a.trns_key.blue != b.trns_key.blue))) {
        return ::testing::AssertionFailure() << "tRNS differs";
    }
    return ::testing::AssertionSuccess();
}

::testing::AssertionResult same_image(const qohi_tools::Image& a, const qohi_tools::Image& b) {
    if (a.width != b.width || a.height != b.height || a.channels != b.channels) {
        return ::testing::AssertionFailure()
               << "shape " << a.width << "x" << a.height << "x" << a.channels << " vs " << b.width
               << "x" << b.height << "x" << b.channels;
    }
    if (a.pixels.size() != b.pixels.size()) {
        return ::testing::AssertionFailure() << "buffer sizes differ";
    }
    for (size_t i = 0; i < a.pixels.size(); ++i) {
        if (a.pixels[i] != b.pixels[i]) {
            size_t px = i / a.channels;
            return ::testing::AssertionFailure()
                   << "first difference at pixel (" << px % a.width << ", " << px / a.width
                   << ") channel " << i % a.channels << ": " << int(a.pixels[i]) << " vs "
                   << int(b.pixels[i]);
        }
    }
    return ::testing::AssertionSuccess();
}

// ------------------------------------------------------------- the fixture

class CliTest : public ::testing::Test {
public:
    void SetUp() override { ASSERT_TRUE(make_temp_dir("qohi-cli-test", dir_)); }
    void TearDown() override { remove_temp_dir(dir_); }

    std::string path(const std::string& name) const { return dir_ + "/" + name; }

    // Copies a file from tests/data into the temporary directory.
    std::string copy_data(const std::string& name, const std::string& as = "") {
        std::string dest = path(as.empty() ? name : as);
        fs::copy_file(kDataDir + "/" + name, dest, fs::copy_options::overwrite_existing);
        return dest;
    }

    RunResult enc(const std::vector<std::string>& args, const std::string& stdin_path = "/dev/null") {
        std::vector<std::string> argv{kEnc};
        argv.insert(argv.end(), args.begin(), args.end());
        return run(argv, dir_, stdin_path);
    }
    RunResult dec(const std::vector<std::string>& args, const std::string& stdin_path = "/dev/null") {
        std::vector<std::string> argv{kDec};
        argv.insert(argv.end(), args.begin(), args.end());
        return run(argv, dir_, stdin_path);
    }
    RunResult shell(const std::string& command) {
        return run({"/bin/sh", "-c", command}, dir_);
    }

    // Names in the temporary directory (for "no stray temporary files").
    std::set<std::string> files() const { return list_dir(dir_); }

    std::string dir_;
};

std::string quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) {
        if (c == '\'') q += "'\\''";
        else q += c;
    }
    return q + "'";
}

// ------------------------------------------------------------------- tests

const char* const kDataImages[] = {
    "icon-rgba.png",       "trash-rgba.png",        "trash-rgb.png",     "grey.png",
    "grey-alpha.png",      "grey-1bit.png",         "palette-trns.png",  "palette-4bit.png",
    "interlaced-rgba.png", "interlaced-grey2.png",  "rgb-trns.png",
};

// The test images this file relies on are all present.
TEST(CliData, TestImagesPresent) {
    std::set<std::string> found = list_dir(kDataDir);
    for (const char* name : kDataImages) EXPECT_EQ(found.count(name), 1u) << name;
    EXPECT_EQ(found.count("rgb16.png"), 1u);
}

// The oracle and the tools' PNG reader agree on every test image, and the
// expected channel counts hold.
TEST(CliData, PngReaderMatchesOracle) {
    const std::set<std::string> rgba = {"icon-rgba.png",       "trash-rgba.png", "grey-alpha.png",
                                        "palette-trns.png",    "rgb-trns.png",
                                        "interlaced-rgba.png"};
    for (const char* name : kDataImages) {
        SCOPED_TRACE(name);
        qohi_tools::Image want;
        ASSERT_TRUE(oracle_pixels(kDataDir + "/" + name, want));
        EXPECT_EQ(want.channels, rgba.count(name) ? 4u : 3u);
        auto bytes = read_bytes(kDataDir + "/" + name);
        qohi_tools::Image got;
        std::string error;
        ASSERT_TRUE(qohi_tools::decode_png(bytes.data(), bytes.size(), got, error)) << error;
        EXPECT_TRUE(same_image(got, want));
    }
}

class CliRoundTrip : public CliTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(CliRoundTrip, BitExactWithEveryMethod) {
    const std::string name = GetParam();
    const std::string in = copy_data(name);
    qohi_tools::Image want;
    ASSERT_TRUE(oracle_pixels(in, want));
    const std::string stem = fs::path(name).stem().string();

    for (const char* method : {"auto", "stored", "qohi", "dici"}) {
        SCOPED_TRACE(method);
        RunResult e = enc({name, "-f", "--method", method});
        ASSERT_EQ(e.exit_code, 0) << describe(e);
        EXPECT_EQ(e.err, "");
        ASSERT_TRUE(exists(path(stem + ".qohi")));

        RunResult d = dec({stem + ".qohi", "-f", "-o", "out.png"});
        ASSERT_EQ(d.exit_code, 0) << describe(d);
        qohi_tools::Image got;
        ASSERT_TRUE(output_pixels(path("out.png"), got));
        EXPECT_TRUE(same_image(got, want));
        EXPECT_TRUE(same_png_header(in, path("out.png")));

        // Independently of the CLI, the library sees the method asked for.
        auto file = read_bytes(path(stem + ".qohi"));
        qohi_reader* reader = nullptr;
        ASSERT_EQ(qohi_reader_open_memory(file.data(), file.size(), nullptr, &reader, nullptr),
                  QOHI_OK);
        ASSERT_EQ(qohi_reader_frame_count(reader), 1u);
        qohi_frame_info info;
        ASSERT_EQ(qohi_reader_frame_info(reader, 0, &info), QOHI_OK);
        EXPECT_EQ(info.width, want.width);
        EXPECT_EQ(info.height, want.height);
        EXPECT_EQ(info.channels, want.channels);
        EXPECT_EQ(std::string(info.name, info.name_size), name);
        if (std::string(method) == "stored") {
            EXPECT_EQ(info.method, QOHI_METHOD_STORED);
        } else if (std::string(method) == "qohi") {
            EXPECT_EQ(info.method, QOHI_METHOD_QOHI);
        } else if (std::string(method) == "dici") {
            // Forced DICI falls back to stored only for noise-like images.
            EXPECT_TRUE(info.method == QOHI_METHOD_DICI || info.method == QOHI_METHOD_STORED) << info.method;
        }
        qohi_reader_close(reader);
    }
}

INSTANTIATE_TEST_SUITE_P(DataImages, CliRoundTrip, ::testing::ValuesIn(kDataImages),
                         [](const ::testing::TestParamInfo<const char*>& param_info) {
                             std::string n;
                             for (const char* p = param_info.param; *p; ++p) {
                                 n += std::isalnum(static_cast<unsigned char>(*p)) ? *p : '_';
                             }
                             return n;
                         });

// Any other PNG in tests/data (added later, or by other tests) round-trips
// too, or is stored as it is if it has 16-bit samples.
TEST_F(CliTest, OtherDataPngsRoundTrip) {
    std::set<std::string> known(std::begin(kDataImages), std::end(kDataImages));
    known.insert("rgb16.png");
    for (const auto& name : list_dir(kDataDir)) {
        if (fs::path(name).extension() != ".png" || known.count(name)) continue;
        SCOPED_TRACE(name);
        copy_data(name, "other.png");
        RawPng raw;
        std::string error;
        ASSERT_TRUE(read_raw_png(read_bytes(path("other.png")), raw, error)) << error;
        RunResult e = enc({"-f", "other.png"});
        if (raw.bit_depth == 16) {
            EXPECT_EQ(e.exit_code, 0) << describe(e);  // stored as it is
            continue;
        }
        ASSERT_EQ(e.exit_code, 0) << describe(e);
        RunResult d = dec({"-f", "other.qohi", "-o", "out.png"});
        ASSERT_EQ(d.exit_code, 0) << describe(d);
        qohi_tools::Image want, got;
        ASSERT_TRUE(oracle_pixels(path("other.png"), want));
        ASSERT_TRUE(output_pixels(path("out.png"), got));
        EXPECT_TRUE(same_image(got, want));
    }
}

// --------------------------------------- expansion of synthetic PNGs

struct ExpansionCase {
    const char* label;
    PngSpec spec;
    std::vector<uint8_t> expected;  // RGB or RGBA, computed by hand below
    uint32_t channels;
};

// Round-trips a PNG built in the test and compares with hand-computed pixels.
void check_expansion(CliTest& t, const std::string& label, const PngSpec& spec,
                     const std::vector<uint8_t>& expected, uint32_t channels) {
    SCOPED_TRACE(label);
    auto png = make_png(spec);
    ASSERT_FALSE(png.empty());
    write_bytes(t.path("in.png"), png);
    std::vector<std::string> argv{kEnc, "in.png", "-f"};
    RunResult e = run(argv, t.dir_);
    ASSERT_EQ(e.exit_code, 0) << describe(e);
    RunResult d = run({kDec, "in.qohi", "-f", "-o", "out.png"}, t.dir_);
    ASSERT_EQ(d.exit_code, 0) << describe(d);
    RawPng raw;
    std::string error;
    ASSERT_TRUE(read_raw_png(read_bytes(t.path("out.png")), raw, error)) << error;
    // The file comes back as it was: same colour type, depth and interlacing.
    ASSERT_EQ(raw.bit_depth, spec.bit_depth);
    ASSERT_EQ(raw.color_type, spec.color_type);
    ASSERT_EQ(raw.interlace, spec.interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE);
    ASSERT_EQ(raw.width, spec.width);
    ASSERT_EQ(raw.height, spec.height);
    EXPECT_TRUE(same_png_header(t.path("in.png"), t.path("out.png")));
    qohi_tools::Image expanded;
    ASSERT_TRUE(expand(raw, expanded, error)) << error;
    ASSERT_EQ(expanded.channels, channels);
    const std::vector<uint8_t>& got = expanded.pixels;
    ASSERT_EQ(got.size(), expected.size());
    for (size_t i = 0; i < got.size(); ++i) {
        ASSERT_EQ(int(got[i]), int(expected[i]))
            << "pixel " << i / channels << " channel " << i % channels;
    }
}

class CliExpansion : public CliTest {};

TEST_F(CliExpansion, GreyAllBitDepths) {
    for (int depth : {1, 2, 4, 8}) {
        for (bool interlace : {false, true}) {
            PngSpec s;
            s.width = 13;  // odd width: partial bytes at the row end
            s.height = 9;
            s.bit_depth = depth;
            s.interlace = interlace;
            std::vector<uint8_t> want;
            const unsigned maxval = (1u << depth) - 1;
            for (uint32_t y = 0; y < s.height; ++y) {
                std::vector<unsigned> row;
                for (uint32_t x = 0; x < s.width; ++x) {
                    unsigned v = (x * 7 + y * 3) % (maxval + 1);
                    row.push_back(v);
                    // Hand-computed scale: 1 bit 0/255, 2 bits x85, 4 bits x17.
                    unsigned g = depth == 1 ? v * 255 : depth == 2 ? v * 85 : depth == 4 ? v * 17 : v;
                    want.insert(want.end(), {uint8_t(g), uint8_t(g), uint8_t(g)});
                }
                s.samples.push_back(row);
            }
            check_expansion(*this, "grey depth " + std::to_string(depth) +
                                       (interlace ? " interlaced" : ""),
                            s, want, 3);
        }
    }
}

TEST_F(CliExpansion, GreyAlpha) {
    PngSpec s;
    s.width = 5;
    s.height = 4;
    s.color_type = PNG_COLOR_TYPE_GRAY_ALPHA;
    std::vector<uint8_t> want;
    for (uint32_t y = 0; y < s.height; ++y) {
        std::vector<unsigned> row;
        for (uint32_t x = 0; x < s.width; ++x) {
            unsigned g = (x * 50 + y * 9) & 255, a = (255 - x * 60 + y) & 255;
            row.insert(row.end(), {g, a});
            want.insert(want.end(), {uint8_t(g), uint8_t(g), uint8_t(g), uint8_t(a)});
        }
        s.samples.push_back(row);
    }
    check_expansion(*this, "grey+alpha", s, want, 4);
}

TEST_F(CliExpansion, GreyWithColourKey) {
    PngSpec s;
    s.width = 4;
    s.height = 2;
    s.trns_key = true;
    s.key.gray = 100;
    s.samples = {{0, 100, 200, 100}, {100, 255, 1, 99}};
    std::vector<uint8_t> want;
    for (const auto& row : s.samples) {
        for (unsigned v : row) {
            want.insert(want.end(), {uint8_t(v), uint8_t(v), uint8_t(v), uint8_t(v == 100 ? 0 : 255)});
        }
    }
    check_expansion(*this, "grey + tRNS", s, want, 4);
}

TEST_F(CliExpansion, RgbWithColourKey) {
    PngSpec s;
    s.width = 3;
    s.height = 2;
    s.color_type = PNG_COLOR_TYPE_RGB;
    s.trns_key = true;
    s.key.red = 255;
    s.key.green = 0;
    s.key.blue = 255;
    s.samples = {{255, 0, 255, 255, 0, 254, 1, 2, 3}, {0, 0, 0, 255, 0, 255, 255, 1, 255}};
    const std::vector<uint8_t> want = {255, 0, 255, 0,   255, 0, 254, 255, 1,   2, 3,   255,
                                       0,   0, 0,   255, 255, 0, 255, 0,   255, 1, 255, 255};
    check_expansion(*this, "RGB + tRNS", s, want, 4);
}

TEST_F(CliExpansion, PaletteWithAndWithoutTrns) {
    const std::vector<png_color> palette = {
        {10, 20, 30}, {40, 50, 60}, {70, 80, 90}, {255, 0, 0}, {0, 255, 0}, {0, 0, 255}};
    for (int depth : {2, 4, 8}) {
        for (bool with_trns : {false, true}) {
            for (bool interlace : {false, true}) {
                PngSpec s;
                s.width = 11;
                s.height = 7;
                s.color_type = PNG_COLOR_TYPE_PALETTE;
                s.bit_depth = depth;
                s.interlace = interlace;
                const size_t entries = depth == 2 ? 4 : palette.size();
                s.palette.assign(palette.begin(), palette.begin() + static_cast<long>(entries));
                // tRNS shorter than the palette: entries beyond it are opaque.
                if (with_trns) s.trns_alpha = {0, 128};
                std::vector<uint8_t> want;
                for (uint32_t y = 0; y < s.height; ++y) {
                    std::vector<unsigned> row;
                    for (uint32_t x = 0; x < s.width; ++x) {
                        unsigned i = static_cast<unsigned>((x + 2 * y) % entries);
                        row.push_back(i);
                        want.insert(want.end(), {palette[i].red, palette[i].green, palette[i].blue});
                        if (with_trns) want.push_back(i == 0 ? 0 : i == 1 ? 128 : 255);
                    }
                    s.samples.push_back(row);
                }
                check_expansion(*this,
                                "palette depth " + std::to_string(depth) +
                                    (with_trns ? " tRNS" : "") + (interlace ? " interlaced" : ""),
                                s, want, with_trns ? 4 : 3);
            }
        }
    }
}

// ------------------------------------------------------------ refusals

// A PNG that a frame cannot give back exactly (16 bits per sample, bytes
// after IEND) is stored as it is, with a note, and comes back byte for byte.
TEST_F(CliTest, PngsAFrameCannotHoldAreStoredAsTheyAre) {
    copy_data("rgb16.png");
    RunResult r = enc({"rgb16.png", "--verify"});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_TRUE(contains(r.err, "qohienc: note: rgb16.png: stored as it is: ")) << r.err;
    EXPECT_TRUE(contains(r.err, "16-bit")) << r.err;
    ASSERT_TRUE(exists(path("rgb16.qohi")));
    RunResult d = dec({"rgb16.qohi", "-o", "back.png"});
    ASSERT_EQ(d.exit_code, 0) << describe(d);
    EXPECT_EQ(read_bytes(path("back.png")), read_bytes(path("rgb16.png")));
    // Its default output is the input's name with .png, as for an image.
    ASSERT_EQ(std::rename(path("rgb16.png").c_str(), path("orig16.png").c_str()), 0);
    d = dec({"rgb16.qohi"});
    ASSERT_EQ(d.exit_code, 0) << describe(d);
    EXPECT_EQ(read_bytes(path("rgb16.png")), read_bytes(path("orig16.png")));

    Bytes trailing = read_bytes(kDataDir + "/icon-rgba.png");
    trailing.push_back('!');
    write_bytes(path("trailing.png"), trailing);
    r = enc({"trailing.png"});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_TRUE(contains(r.err, "stored as it is")) << r.err;
    d = dec({"trailing.qohi", "-o", "trailing-back.png"});
    ASSERT_EQ(d.exit_code, 0) << describe(d);
    EXPECT_EQ(read_bytes(path("trailing-back.png")), trailing);
}

TEST_F(CliTest, BrokenPngsFailCleanly) {
    auto good = read_bytes(kDataDir + "/icon-rgba.png");
    ASSERT_GT(good.size(), 100u);
    std::vector<std::pair<std::string, std::vector<uint8_t>>> cases;
    cases.push_back({"empty", {}});
    cases.push_back({"not a png", std::vector<uint8_t>{'h', 'e', 'l', 'l', 'o', '\n', 0, 1, 2}});
    cases.push_back({"signature only", std::vector<uint8_t>(good.begin(), good.begin() + 8)});
    cases.push_back({"truncated header", std::vector<uint8_t>(good.begin(), good.begin() + 20)});
    cases.push_back({"truncated data", std::vector<uint8_t>(good.begin(), good.begin() + good.size() / 2)});
    auto flipped = good;
    flipped[good.size() / 2] ^= 0x55;  // inside IDAT: CRC error
    cases.push_back({"bad IDAT CRC", flipped});
    auto huge = good;
    // IHDR width/height = 65536 x 65536 (2^32 pixels), CRC fixed up.
    huge[16] = 0; huge[17] = 1; huge[18] = 0; huge[19] = 0;
    huge[20] = 0; huge[21] = 1; huge[22] = 0; huge[23] = 0;
    uint32_t crc = static_cast<uint32_t>(crc32(0, huge.data() + 12, 17));
    huge[29] = uint8_t(crc >> 24); huge[30] = uint8_t(crc >> 16); huge[31] = uint8_t(crc >> 8); huge[32] = uint8_t(crc);
    cases.push_back({"absurd dimensions", huge});

    for (const auto& c : cases) {
        SCOPED_TRACE(c.first);
        write_bytes(path("bad.png"), c.second);
        RunResult r = enc({"bad.png"});
        EXPECT_EQ(r.exit_code, 1) << describe(r);
        EXPECT_TRUE(contains(r.err, "qohienc: bad.png: ")) << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
        EXPECT_FALSE(exists(path("bad.qohi")));
        if (c.first == "absurd dimensions") {
            EXPECT_TRUE(contains(r.err, "too large")) << r.err;
        }
        if (c.first.rfind("truncated", 0) == 0) {
            EXPECT_TRUE(contains(r.err, "truncated")) << r.err;
        }
    }
    EXPECT_EQ(files(), (std::set<std::string>{"bad.png"}));
}

// ------------------------------------------------------------ stdin/stdout

TEST_F(CliTest, PipeThroughStdinAndStdout) {
    copy_data("trash-rgba.png", "in.png");
    qohi_tools::Image want;
    ASSERT_TRUE(oracle_pixels(path("in.png"), want));
    RunResult r = shell(quote(kEnc) + " - -o - < in.png | " + quote(kDec) +
                        " - -o - > out.png; echo \"status ${?}\"");
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(r.out, "status 0\n");
    EXPECT_EQ(r.err, "");
    qohi_tools::Image got;
    ASSERT_TRUE(output_pixels(path("out.png"), got));
    EXPECT_TRUE(same_image(got, want));
}

TEST_F(CliTest, StdinDefaultsToStdoutAndHasNoFrameName) {
    copy_data("icon-rgba.png", "in.png");
    RunResult e = run({kEnc, "-"}, dir_, path("in.png"), path("from-stdin.qohi"));
    ASSERT_EQ(e.exit_code, 0) << describe(e);
    auto file = read_bytes(path("from-stdin.qohi"));
    qohi_reader* reader = nullptr;
    ASSERT_EQ(qohi_reader_open_memory(file.data(), file.size(), nullptr, &reader, nullptr), QOHI_OK);
    qohi_frame_info info;
    ASSERT_EQ(qohi_reader_frame_info(reader, 0, &info), QOHI_OK);
    EXPECT_EQ(info.name_size, 0u);
    qohi_reader_close(reader);

    RunResult d = run({kDec, "-"}, dir_, path("from-stdin.qohi"), path("out.png"));
    ASSERT_EQ(d.exit_code, 0) << describe(d);
    qohi_tools::Image want, got;
    ASSERT_TRUE(oracle_pixels(path("in.png"), want));
    ASSERT_TRUE(output_pixels(path("out.png"), got));
    EXPECT_TRUE(same_image(got, want));
    // Nothing but the redirections was created: no default-named file.
    EXPECT_EQ(files(), (std::set<std::string>{"in.png", "from-stdin.qohi", "out.png"}));
}

TEST_F(CliTest, RefusesToWriteBinaryToATerminal) {
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) {
        if (master >= 0) close(master);
        GTEST_SKIP() << "no pseudo-terminal available";
    }
    const char* slave_name = ptsname(master);
    int slave = slave_name ? open(slave_name, O_RDWR | O_NOCTTY) : -1;
    if (slave < 0) {
        close(master);
        GTEST_SKIP() << "cannot open the pseudo-terminal";
    }
    copy_data("icon-rgba.png", "in.png");
    RunResult e = run({kEnc, "in.png", "-o", "-"}, dir_, "/dev/null", "", slave);
    EXPECT_EQ(e.exit_code, 2) << describe(e);
    EXPECT_TRUE(contains(e.err, "terminal")) << e.err;
    RunResult d = run({kDec, "-"}, dir_, path("in.png"), "", slave);
    EXPECT_EQ(d.exit_code, 2) << describe(d);
    EXPECT_TRUE(contains(d.err, "terminal")) << d.err;
    close(slave);
    close(master);
}

// ------------------------------------------------------ overwrite, atomicity

TEST_F(CliTest, RefusesToOverwriteWithoutForce) {
    copy_data("icon-rgba.png", "in.png");
    write_text(path("in.qohi"), "precious");
    RunResult r = enc({"in.png"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_TRUE(contains(r.err, "in.qohi")) << r.err;
    EXPECT_TRUE(contains(r.err, "already exists")) << r.err;
    EXPECT_TRUE(contains(r.err, "--force")) << r.err;
    EXPECT_EQ(read_text(path("in.qohi")), "precious");

    r = enc({"--force", "in.png"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_NE(read_text(path("in.qohi")), "precious");

    write_text(path("in.png.out"), "keep me");
    RunResult d = dec({"in.qohi", "-o", "in.png.out"});
    EXPECT_EQ(d.exit_code, 1) << describe(d);
    EXPECT_TRUE(contains(d.err, "already exists")) << d.err;
    EXPECT_EQ(read_text(path("in.png.out")), "keep me");
    d = dec({"-f", "in.qohi", "-o", "in.png.out"});
    ASSERT_EQ(d.exit_code, 0) << describe(d);
    qohi_tools::Image want, got;
    ASSERT_TRUE(oracle_pixels(path("in.png"), want));
    ASSERT_TRUE(output_pixels(path("in.png.out"), got));
    EXPECT_TRUE(same_image(got, want));
    EXPECT_EQ(files(), (std::set<std::string>{"in.png", "in.qohi", "in.png.out"}));
}

TEST_F(CliTest, FailedEncodeLeavesExistingOutputAndNoTempFiles) {
    auto good = read_bytes(kDataDir + "/trash-rgba.png");
    write_bytes(path("corrupt.png"), std::vector<uint8_t>(good.begin(), good.begin() + good.size() * 3 / 4));
    write_text(path("out.qohi"), "old contents");
    RunResult r = enc({"corrupt.png", "-f", "-o", "out.qohi"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_EQ(read_text(path("out.qohi")), "old contents");
    EXPECT_EQ(files(), (std::set<std::string>{"corrupt.png", "out.qohi"}));

    // Same for the decoder with a corrupt .qohi.
    copy_data("trash-rgba.png", "in.png");
    ASSERT_EQ(enc({"in.png"}).exit_code, 0);
    auto q = read_bytes(path("in.qohi"));
    write_bytes(path("bad.qohi"), std::vector<uint8_t>(q.begin(), q.begin() + q.size() / 2));
    write_text(path("out.png"), "old png");
    RunResult d = dec({"bad.qohi", "-f", "-o", "out.png"});
    EXPECT_EQ(d.exit_code, 1) << describe(d);
    EXPECT_EQ(read_text(path("out.png")), "old png");
    EXPECT_EQ(files(), (std::set<std::string>{"corrupt.png", "out.qohi", "in.png", "in.qohi",
                                              "bad.qohi", "out.png"}));
}

// Every error from the library names its class after the input (and the
// frame): scripts (conformance/adapters/qohidec) read it.
TEST_F(CliTest, DecoderErrorsNameTheirClass) {
    copy_data("trash-rgba.png", "in.png");
    ASSERT_EQ(enc({"in.png"}).exit_code, 0);
    const Bytes q = read_bytes(path("in.qohi"));
    ASSERT_GT(q.size(), 100u);
    write_bytes(path("cut.qohi"), Bytes(q.begin(), q.begin() + long(q.size() / 2)));
    write_bytes(path("text.qohi"), Bytes{'h', 'e', 'l', 'l', 'o'});
    Bytes crc = q;
    const std::string fdat = "FDAT";
    auto at = std::search(crc.begin(), crc.end(), fdat.begin(), fdat.end());
    ASSERT_NE(at, crc.end());
    const size_t payload = size_t(at - crc.begin()) + 8;
    const size_t size =
        crc[payload - 4] | crc[payload - 3] << 8 | crc[payload - 2] << 16 | size_t(crc[payload - 1]) << 24;
    crc[payload + size] ^= 1;  // the FDAT record's CRC
    write_bytes(path("crc.qohi"), crc);
    struct Case {
        std::vector<std::string> args;
        std::string message;
    };
    const std::vector<Case> cases = {
        {{"cut.qohi", "-o", "a.png"}, "qohidec: cut.qohi: TRUNCATED: "},
        {{"text.qohi", "-o", "a.png"}, "qohidec: text.qohi: NOT_QOHI: "},
        {{"crc.qohi", "-o", "a.png"}, "qohidec: crc.qohi: frame 0: CORRUPT: "},
        {{"crc.qohi", "-o", "unpacked/"}, "qohidec: crc.qohi: frame 0 ('in.png'): CORRUPT: "},
        {{"in.qohi", "--max-pixels", "10", "-o", "a.png"}, "qohidec: in.qohi: frame 0: LIMIT: "},
        {{"--list", "cut.qohi"}, "qohidec: cut.qohi: TRUNCATED: "},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(join_args(c.args));
        RunResult r = dec(c.args);
        EXPECT_EQ(r.exit_code, 1) << describe(r);
        EXPECT_TRUE(contains(r.err, c.message)) << r.err;
    }
    EXPECT_FALSE(exists(path("a.png")));
}

TEST_F(CliTest, SuccessfulWriteLeavesNoTempFilesAndKeepsPermissions) {
    copy_data("icon-rgba.png", "in.png");
    write_text(path("in.qohi"), "old");
    ASSERT_EQ(chmod(path("in.qohi").c_str(), 0640), 0);
    RunResult r = enc({"-f", "in.png"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    struct stat st;
    ASSERT_EQ(stat(path("in.qohi").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0640u);
    EXPECT_EQ(files(), (std::set<std::string>{"in.png", "in.qohi"}));
}

TEST_F(CliTest, OutputThroughSymlinkReplacesTheTarget) {
    copy_data("icon-rgba.png", "in.png");
    fs::create_directory(path("d"));
    ASSERT_EQ(symlink("../real.qohi", path("d/link.qohi").c_str()), 0);
    RunResult r = enc({"in.png", "-o", "d/link.qohi"});  // dangling link: creates the target
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    struct stat st;
    ASSERT_EQ(lstat(path("d/link.qohi").c_str(), &st), 0);
    EXPECT_TRUE(S_ISLNK(st.st_mode));
    auto first = read_bytes(path("real.qohi"));
    EXPECT_FALSE(first.empty());
    r = enc({"in.png", "-o", "d/link.qohi"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);  // exists now
    r = enc({"-f", "in.png", "-o", "d/link.qohi"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    ASSERT_EQ(lstat(path("d/link.qohi").c_str(), &st), 0);
    EXPECT_TRUE(S_ISLNK(st.st_mode));
    EXPECT_EQ(read_bytes(path("real.qohi")), first);
    EXPECT_EQ(files(), (std::set<std::string>{"in.png", "d", "real.qohi"}));
    EXPECT_EQ(list_dir(path("d")), (std::set<std::string>{"link.qohi"}));
}

TEST_F(CliTest, OutputToDevNull) {
    copy_data("icon-rgba.png", "in.png");
    RunResult r = enc({"in.png", "-o", "/dev/null"});  // no --force needed, device kept
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    struct stat st;
    ASSERT_EQ(stat("/dev/null", &st), 0);
    EXPECT_TRUE(S_ISCHR(st.st_mode));
}

TEST_F(CliTest, OutputIntoMissingDirectoryFails) {
    copy_data("icon-rgba.png", "in.png");
    RunResult r = enc({"in.png", "-o", "no/such/dir/out.qohi"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_TRUE(contains(r.err, "no/such/dir/out.qohi")) << r.err;
    EXPECT_TRUE(contains(r.err, std::strerror(ENOENT))) << r.err;
}

TEST_F(CliTest, DefaultOutputNames) {
    fs::create_directory(path("sub.dir"));
    copy_data("icon-rgba.png", "sub.dir/x.y.png");
    RunResult r = enc({"sub.dir/x.y.png"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_TRUE(exists(path("sub.dir/x.y.qohi")));
    ASSERT_EQ(std::rename(path("sub.dir/x.y.qohi").c_str(), path("sub.dir/noext").c_str()), 0);
    RunResult d = dec({"sub.dir/noext"});
    ASSERT_EQ(d.exit_code, 0) << describe(d);
    EXPECT_TRUE(exists(path("sub.dir/noext.png")));
    EXPECT_EQ(list_dir(path("sub.dir")), (std::set<std::string>{"x.y.png", "noext", "noext.png"}));
}

TEST_F(CliTest, OutputNeverReplacesInput) {
    // A PNG named .qohi: the default output would be the input itself.
    copy_data("icon-rgba.png", "odd.qohi");
    auto before = read_bytes(path("odd.qohi"));
    RunResult r = enc({"-f", "odd.qohi"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_TRUE(contains(r.err, "odd.qohi")) << r.err;
    EXPECT_EQ(read_bytes(path("odd.qohi")), before);
}

// ------------------------------------------------------------ arguments

TEST_F(CliTest, BadArgumentsAreUsageErrors) {
    copy_data("icon-rgba.png", "in.png");
    const std::vector<std::vector<std::string>> enc_cases = {
        {},
        {"--bogus", "in.png"},
        {"-x", "in.png"},
        {"in.png", "-o"},
        {"in.png", "extra.png"},
        {"in.png", "--method", "zip"},
        {"in.png", "--method"},
        {"in.png", "-o", "a.qohi", "-o", "b.qohi"},
        {"--force=yes", "in.png"},
    };
    for (const auto& args : enc_cases) {
        SCOPED_TRACE("qohienc " + join_args(args));
        RunResult r = enc(args);
        EXPECT_TRUE(is_usage_error(r, "qohienc"));
        EXPECT_TRUE(contains(r.err, "--help")) << r.err;
        EXPECT_EQ(r.out, "");
    }
    const std::vector<std::vector<std::string>> dec_cases = {
        {},
        {"--bogus", "in.qohi"},
        {"in.qohi", "--frame"},
        {"in.qohi", "--max-pixels", "abc"},
        {"in.qohi", "--max-pixels", "0"},
        {"in.qohi", "--max-pixels=-5"},
        {"a.qohi", "b.qohi"},
    };
    for (const auto& args : dec_cases) {
        SCOPED_TRACE("qohidec " + join_args(args));
        RunResult r = dec(args);
        EXPECT_TRUE(is_usage_error(r, "qohidec"));
        EXPECT_TRUE(contains(r.err, "--help")) << r.err;
    }
    EXPECT_EQ(files(), (std::set<std::string>{"in.png"}));
}

TEST_F(CliTest, OptionSpellings) {
    copy_data("icon-rgba.png", "in.png");
    RunResult r = enc({"--output=a.qohi", "--method=qohi", "in.png"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    r = enc({"-fqo", "b.qohi", "in.png"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    r = enc({"-oc.qohi", "--", "in.png"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(files(), (std::set<std::string>{"in.png", "a.qohi", "b.qohi", "c.qohi"}));
}

TEST_F(CliTest, MissingOrUnreadableInput) {
    RunResult r = enc({"nonexistent.png"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_TRUE(contains(r.err, "nonexistent.png")) << r.err;
    EXPECT_TRUE(contains(r.err, std::strerror(ENOENT))) << r.err;

    r = dec({"nonexistent.qohi"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_TRUE(contains(r.err, "nonexistent.qohi")) << r.err;

    // A folder is packed (collection_test.cc); an empty one has nothing to pack.
    fs::create_directory(path("adir.png"));
    r = enc({"adir.png", "-o", "x.qohi"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_TRUE(contains(r.err, "adir.png")) << r.err;
    EXPECT_TRUE(contains(r.err, "the folder is empty")) << r.err;
    r = dec({"adir.png", "-o", "x.png"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_TRUE(contains(r.err, "adir.png")) << r.err;
    EXPECT_TRUE(contains(r.err, std::strerror(EISDIR))) << r.err;

    if (geteuid() != 0) {  // root reads anything
        copy_data("icon-rgba.png", "locked.png");
        ASSERT_EQ(chmod(path("locked.png").c_str(), 0), 0);
        r = enc({"locked.png"});
        EXPECT_EQ(r.exit_code, 1) << describe(r);
        EXPECT_TRUE(contains(r.err, "locked.png")) << r.err;
        EXPECT_TRUE(contains(r.err, std::strerror(EACCES))) << r.err;
    }
    EXPECT_FALSE(exists(path("nonexistent.qohi")));
    EXPECT_FALSE(exists(path("x.qohi")));
    EXPECT_FALSE(exists(path("x.png")));
}

TEST_F(CliTest, HelpAndVersion) {
    for (const std::string& tool : {kEnc, kDec}) {
        const std::string name = fs::path(tool).filename().string();
        SCOPED_TRACE(name);
        for (const char* opt : {"--help", "-h"}) {
            RunResult r = run({tool, opt}, dir_);
            EXPECT_EQ(r.exit_code, 0) << describe(r);
            EXPECT_EQ(r.out.rfind("Usage: " + name, 0), 0u) << r.out;
            EXPECT_TRUE(contains(r.out, "--force"));
            EXPECT_TRUE(contains(r.out, "Exit status"));
            EXPECT_EQ(r.err, "");
        }
        for (const char* opt : {"--version", "-V"}) {
            RunResult r = run({tool, opt}, dir_);
            EXPECT_EQ(r.exit_code, 0) << describe(r);
            EXPECT_EQ(r.out.rfind(name + " ", 0), 0u) << r.out;
            EXPECT_TRUE(contains(r.out, qohi_version_string())) << r.out;
        }
    }
    RunResult r = run({kEnc, "--help"}, dir_);
    EXPECT_TRUE(contains(r.out, "--method"));
    r = run({kDec, "--help"}, dir_);
    EXPECT_TRUE(contains(r.out, "--frame"));
    EXPECT_TRUE(contains(r.out, "--max-pixels"));
}

TEST_F(CliTest, VerboseAndQuiet) {
    copy_data("icon-rgba.png", "in.png");
    RunResult r = enc({"-v", "in.png"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.err.rfind("qohienc: in.png: 48x48, 4 channels, ", 0), 0u) << r.err;
    EXPECT_TRUE(contains(r.err, std::to_string(read_bytes(path("in.png")).size()) + " -> " +
                                    std::to_string(read_bytes(path("in.qohi")).size()) + " bytes"))
        << r.err;
    EXPECT_TRUE(contains(r.err, "ratio")) << r.err;

    r = enc({"-q", "-f", "in.png"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(r.err, "");
    r = dec({"-v", "in.qohi", "-o", "out.png"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_TRUE(contains(r.err, "48x48")) << r.err;
}

// --------------------------------------------------------- .qohi problems

TEST_F(CliTest, TruncatedOrCorruptQohiFails) {
    copy_data("trash-rgba.png", "in.png");
    ASSERT_EQ(enc({"in.png", "--method", "qohi"}).exit_code, 0);
    auto q = read_bytes(path("in.qohi"));
    ASSERT_GT(q.size(), 64u);
    std::vector<std::pair<std::string, std::vector<uint8_t>>> cases;
    cases.push_back({"empty", {}});
    cases.push_back({"4 bytes", std::vector<uint8_t>(q.begin(), q.begin() + 4)});
    cases.push_back({"half", std::vector<uint8_t>(q.begin(), q.begin() + q.size() / 2)});
    auto flipped = q;
    flipped[q.size() / 2] ^= 0x10;
    cases.push_back({"flipped byte", flipped});
    cases.push_back({"a PNG", read_bytes(path("in.png"))});
    for (const auto& c : cases) {
        SCOPED_TRACE(c.first);
        write_bytes(path("bad.qohi"), c.second);
        RunResult r = dec({"bad.qohi"});
        EXPECT_EQ(r.exit_code, 1) << describe(r);
        EXPECT_EQ(r.err.rfind("qohidec: bad.qohi: ", 0), 0u) << r.err;
        EXPECT_GT(r.err.size(), std::string("qohidec: bad.qohi: \n").size()) << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
        EXPECT_FALSE(exists(path("bad.png")));
    }
}

TEST_F(CliTest, DamagedTrailerRecoversExactlyOrFails) {
    // The index is redundant: a reader may recover the frame by a scan.
    // Either way: no crash, and never wrong pixels.
    copy_data("icon-rgba.png", "in.png");
    ASSERT_EQ(enc({"in.png"}).exit_code, 0);
    auto q = read_bytes(path("in.qohi"));
    write_bytes(path("cut.qohi"), std::vector<uint8_t>(q.begin(), q.end() - 1));
    RunResult r = dec({"cut.qohi"});
    ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1) << describe(r);
    if (r.exit_code == 0) {
        qohi_tools::Image want, got;
        ASSERT_TRUE(oracle_pixels(path("in.png"), want));
        ASSERT_TRUE(output_pixels(path("cut.png"), got));
        EXPECT_TRUE(same_image(got, want));
    } else {
        EXPECT_EQ(r.err.rfind("qohidec: cut.qohi: ", 0), 0u) << r.err;
        EXPECT_FALSE(exists(path("cut.png")));
    }
}

TEST_F(CliTest, MaxPixels) {
    copy_data("icon-rgba.png", "in.png");  // 48x48 = 2304 pixels
    ASSERT_EQ(enc({"in.png"}).exit_code, 0);
    RunResult r = dec({"--max-pixels", "2303", "in.qohi", "-o", "out.png"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_TRUE(contains(r.err, "in.qohi")) << r.err;
    EXPECT_TRUE(contains(r.err, "2303")) << r.err;
    EXPECT_EQ(files(), (std::set<std::string>{"in.png", "in.qohi"}));
    r = dec({"--max-pixels=2304", "in.qohi", "-o", "ok.png"});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
}

TEST_F(CliTest, ThreadsGiveTheSameFileAndPixels) {
    PngSpec s;  // 600x500 RGB: three row bands by default
    s.width = 600;
    s.height = 500;
    s.color_type = PNG_COLOR_TYPE_RGB;
    for (uint32_t y = 0; y < s.height; ++y) {
        std::vector<unsigned> row;
        for (uint32_t x = 0; x < s.width; ++x)
            for (unsigned k = 0; k < 3; ++k) row.push_back(((x / 5) * (k + 2) + y * y / 64) % 256);
        s.samples.push_back(row);
    }
    write_bytes(path("in.png"), make_png(s));
    ASSERT_EQ(enc({"--threads", "1", "in.png", "-o", "one.qohi"}).exit_code, 0);
    ASSERT_EQ(enc({"--threads=3", "in.png", "-o", "three.qohi"}).exit_code, 0);
    ASSERT_EQ(enc({"in.png", "-o", "default.qohi"}).exit_code, 0);
    EXPECT_EQ(read_bytes(path("one.qohi")), read_bytes(path("three.qohi")));
    EXPECT_EQ(read_bytes(path("one.qohi")), read_bytes(path("default.qohi")));
    for (const char* threads : {"1", "2", "0"}) {
        const std::string out = std::string("out") + threads + ".png";
        RunResult r = dec({"--threads", threads, "one.qohi", "-o", out});
        ASSERT_EQ(r.exit_code, 0) << describe(r);
        RawPng raw;
        std::string error;
        ASSERT_TRUE(read_raw_png(read_bytes(path(out)), raw, error)) << error;
        ASSERT_EQ(raw.rows.size(), s.height);
        for (uint32_t y = 0; y < s.height; ++y)
            for (size_t i = 0; i < s.samples[y].size(); ++i)
                ASSERT_EQ(raw.rows[y][i], s.samples[y][i]) << "threads " << threads << ", row " << y;
    }
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"--threads", "x", "in.png"}, {"--threads=1025", "in.png"},
          {"--threads", "1", "--threads", "2", "in.png"}}) {
        SCOPED_TRACE(join_args(args));
        EXPECT_TRUE(is_usage_error(enc(args), "qohienc"));
        EXPECT_TRUE(is_usage_error(dec(args), "qohidec"));
    }
}

// Builds a three-frame file with the library's writer.
class CliMultiFrame : public CliTest {
protected:
    void SetUp() override {
        CliTest::SetUp();
        // Frame 0: 3x2 RGB; frame 1: 2x2 RGBA; frame 2: 4x1 RGB named "7".
        frames_.push_back(make_image(3, 2, 3, 1));
        frames_.push_back(make_image(2, 2, 4, 2));
        frames_.push_back(make_image(4, 1, 3, 3));
        qohi_writer* w = nullptr;
        qohi_error err;
        ASSERT_EQ(qohi_writer_open_memory(nullptr, &w, &err), QOHI_OK) << err.message;
        const char* names[] = {"a.png", "sub/b.png", "7"};
        for (size_t i = 0; i < frames_.size(); ++i) {
            const auto& f = frames_[i];
            ASSERT_EQ(qohi_writer_add_frame(w, f.pixels.data(), f.width, f.height, f.channels, 0,
                                            names[i]),
                      QOHI_OK)
                << qohi_writer_message(w);
        }
        void* data = nullptr;
        size_t size = 0;
        ASSERT_EQ(qohi_writer_finish(w, &data, &size), QOHI_OK) << qohi_writer_message(w);
        qohi_writer_destroy(w);
        std::vector<uint8_t> bytes(static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
        qohi_free(data);
        write_bytes(path("multi.qohi"), bytes);
    }

    static qohi_tools::Image make_image(uint32_t w, uint32_t h, uint32_t c, unsigned seed) {
        qohi_tools::Image img;
        img.width = w;
        img.height = h;
        img.channels = c;
        for (uint32_t i = 0; i < w * h * c; ++i) {
            img.pixels.push_back(static_cast<uint8_t>((i * 37 + seed * 101) & 255));
        }
        return img;
    }

    void expect_frame(const std::vector<std::string>& frame_args, size_t index) {
        std::vector<std::string> args = {"multi.qohi", "-f", "-o", "out.png"};
        args.insert(args.end(), frame_args.begin(), frame_args.end());
        RunResult r = dec(args);
        ASSERT_EQ(r.exit_code, 0) << describe(r);
        qohi_tools::Image got;
        ASSERT_TRUE(output_pixels(path("out.png"), got));
        EXPECT_TRUE(same_image(got, frames_[index]));
    }

    std::vector<qohi_tools::Image> frames_;
};

// Without --frame, a PNG output or standard output cannot hold several frames.
TEST_F(CliMultiFrame, NeedsFrameOrFolder) {
    RunResult r = dec({"multi.qohi", "-o", "multi.png"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_TRUE(contains(r.err, "3 frames")) << r.err;
    EXPECT_TRUE(contains(r.err, "--frame")) << r.err;
    EXPECT_TRUE(contains(r.err, "-o FOLDER")) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    r = run({kDec, "-"}, dir_, path("multi.qohi"), path("stdout.png"));
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_TRUE(contains(r.err, "3 frames")) << r.err;
    EXPECT_EQ(read_bytes(path("stdout.png")).size(), 0u);
    EXPECT_EQ(files(), (std::set<std::string>{"multi.qohi", "stdout.png"}));
}

// Without --frame and -o, every frame is restored into INPUT minus ".qohi".
TEST_F(CliMultiFrame, DefaultUnpacksIntoFolder) {
    RunResult r = dec({"multi.qohi"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(files(), (std::set<std::string>{"multi.qohi", "multi"}));
    EXPECT_EQ(list_dir(path("multi")), (std::set<std::string>{"a.png", "sub", "7"}));
    const char* names[] = {"a.png", "sub/b.png", "7"};
    for (size_t i = 0; i < 3; ++i) {
        qohi_tools::Image got;
        ASSERT_TRUE(output_pixels(path(std::string("multi/") + names[i]), got)) << names[i];
        EXPECT_TRUE(same_image(got, frames_[i])) << names[i];
    }
}

TEST_F(CliMultiFrame, SelectByIndexOrName) {
    expect_frame({"--frame", "0"}, 0);
    expect_frame({"--frame", "1"}, 1);
    expect_frame({"--frame=2"}, 2);
    expect_frame({"--frame", "a.png"}, 0);
    expect_frame({"--frame", "sub/b.png"}, 1);
    // "7" is not a valid index (3 frames), so it is taken as a name.
    expect_frame({"--frame", "7"}, 2);
}

TEST_F(CliMultiFrame, UnknownFrame) {
    RunResult r = dec({"multi.qohi", "--frame", "5"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_TRUE(contains(r.err, "no frame 5")) << r.err;
    r = dec({"multi.qohi", "--frame", "missing.png"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_TRUE(contains(r.err, "missing.png")) << r.err;
    EXPECT_EQ(files(), (std::set<std::string>{"multi.qohi"}));
}

}  // namespace
