// End-to-end tests of the collection features of qohienc and qohidec:
// packing a folder, listing, unpacking, single frames by name, baselines,
// metadata, and the refusals (broken PNGs, unsafe names). The real
// executables run in a fresh temporary directory per test.
#include <gtest/gtest.h>
#include <png.h>
#include <qohi/qohi.h>
#include <zlib.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli_test_util.h"
#include "collection.h"
#include "png_io.h"

namespace fs = std::filesystem;

namespace {

using namespace qohi_cli_test;
using qohi_tools::Image;
using qohi_tools::Metadata;

// ------------------------------------------------------------------ files

// Every file below `dir`, as relative paths ("a/b.png"); folders end in '/'.
std::set<std::string> tree(const std::string& dir) {
    std::set<std::string> names;
    for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator(); ++it) {
        std::string rel = it->path().lexically_relative(dir).string();
        if (it->is_directory() && !it->is_symlink()) rel += "/";
        names.insert(rel);
    }
    return names;
}

Bytes concat_bytes(const std::vector<Bytes>& parts) {
    Bytes out;
    for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

size_t lines(const std::string& text) { return static_cast<size_t>(std::count(text.begin(), text.end(), '\n')); }

// ------------------------------------------------------------ images

// A noisy picture (costly on its own, so that references pay off).
Image picture(uint32_t width, uint32_t height, uint32_t channels, uint32_t seed) {
    Image img;
    img.width = width;
    img.height = height;
    img.channels = channels;
    img.pixels.resize(size_t{width} * height * channels);
    uint32_t x = 0x9e3779b9u * (seed + 1);
    for (auto& p : img.pixels) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p = static_cast<uint8_t>(x >> 24);
    }
    return img;
}

// `base` with a few pixels changed.
Image variant(const Image& base, uint32_t k) {
    Image img = base;
    for (uint32_t i = 0; i < 5; ++i) {
        size_t at = (size_t{k} * 131 + i * 17) % img.pixels.size();
        img.pixels[at] = static_cast<uint8_t>(img.pixels[at] + 1 + k);
    }
    return img;
}

Bytes png_of(const Image& image) {
    Bytes out;
    std::string error;
    EXPECT_TRUE(qohi_tools::encode_png(image, -1, out, error)) << error;
    return out;
}

::testing::AssertionResult decode_file(const std::string& path, Image& image) {
    Bytes data = read_bytes(path);
    if (data.empty()) return ::testing::AssertionFailure() << path << ": missing or empty";
    std::string error;
    if (!qohi_tools::decode_png(data.data(), data.size(), image, error)) {
        return ::testing::AssertionFailure() << path << ": " << error;
    }
    return ::testing::AssertionSuccess();
}

::testing::AssertionResult same_pixels(const std::string& a_path, const std::string& b_path) {
    Image a, b;
    auto ra = decode_file(a_path, a);
    if (!ra) return ra;
    auto rb = decode_file(b_path, b);
    if (!rb) return rb;
    if (a.width != b.width || a.height != b.height || a.channels != b.channels) {
        return ::testing::AssertionFailure() << a_path << " and " << b_path << " differ in shape";
    }
    if (a.pixels != b.pixels) return ::testing::AssertionFailure() << a_path << " and " << b_path << " differ";
    return ::testing::AssertionSuccess();
}

// ------------------------------------------------- a PNG with metadata (libpng)

// A small ICC profile libpng accepts: a v2 RGB display profile header, one
// tag pointing at filler bytes.
Bytes make_icc() {
    const uint32_t size = 240;
    Bytes p(size, 0);
    auto put32 = [&](size_t at, uint32_t v) {
        p[at] = uint8_t(v >> 24), p[at + 1] = uint8_t(v >> 16), p[at + 2] = uint8_t(v >> 8), p[at + 3] = uint8_t(v);
    };
    auto put4 = [&](size_t at, const char* s) { std::memcpy(&p[at], s, 4); };
    put32(0, size);
    p[8] = 2;
    p[9] = 0x10;
    put4(12, "mntr");
    put4(16, "RGB ");
    put4(20, "XYZ ");
    put4(36, "acsp");
    put32(68, 0x0000F6D6);
    put32(72, 0x00010000);
    put32(76, 0x0000D32D);
    put32(128, 1);
    put4(132, "desc");
    put32(136, 144);
    put32(140, size - 144);
    for (uint32_t i = 144; i < size; ++i) p[i] = uint8_t(i * 7 + 3);
    return p;
}

// An RGB PNG with an iCCP chunk ("Test profile") and a tEXt chunk (Comment =
// `comment`).
Bytes write_meta_png(const Image& image, const Bytes& icc, const std::string& comment) {
    PngSpec spec;
    spec.width = image.width;
    spec.height = image.height;
    spec.color_type = PNG_COLOR_TYPE_RGB;
    spec.icc_name = "Test profile";
    spec.icc = icc;
    spec.text = {{"Comment", comment}};
    for (uint32_t y = 0; y < image.height; ++y) {
        const auto row = image.pixels.begin() + static_cast<std::ptrdiff_t>(size_t{y} * image.width * 3);
        spec.samples.emplace_back(row, row + static_cast<std::ptrdiff_t>(size_t{image.width} * 3));
    }
    return make_png(spec);
}

// A 16-bit RGB PNG (which the tools refuse).
Bytes write_png16(uint32_t width, uint32_t height) {
    PngSpec spec;
    spec.width = width;
    spec.height = height;
    spec.bit_depth = 16;
    spec.color_type = PNG_COLOR_TYPE_RGB;
    spec.samples.assign(height, std::vector<unsigned>(size_t{width} * 3, 0x4242));
    return make_png(spec);
}

// ------------------------------------------------------- archives (library)

struct FrameRow {
    std::string name;
    uint32_t width = 0, height = 0, channels = 0;
    int64_t reference = -1;
    uint32_t depth = 0;
    bool baseline = false;
};

::testing::AssertionResult read_frames(const std::string& path, std::vector<FrameRow>& rows) {
    qohi_reader* reader = nullptr;
    qohi_error err{};
    if (qohi_reader_open_file(path.c_str(), nullptr, &reader, &err) != QOHI_OK) {
        return ::testing::AssertionFailure() << path << ": " << err.message;
    }
    rows.clear();
    for (uint32_t i = 0; i < qohi_reader_frame_count(reader); ++i) {
        qohi_frame_info info{};
        if (qohi_reader_frame_info(reader, i, &info) != QOHI_OK) {
            qohi_reader_close(reader);
            return ::testing::AssertionFailure() << path << ": frame " << i;
        }
        FrameRow row;
        row.name.assign(info.name, info.name_size);
        row.width = info.width;
        row.height = info.height;
        row.channels = info.channels;
        row.reference = info.reference;
        row.depth = info.depth;
        row.baseline = info.baseline != 0;
        rows.push_back(row);
    }
    qohi_reader_close(reader);
    return ::testing::AssertionSuccess();
}

// Writes a file of `names` frames (2x2 RGB each) with the library's writer.
Bytes library_archive(const std::vector<std::string>& names) {
    qohi_writer* w = nullptr;
    qohi_error err{};
    EXPECT_EQ(qohi_writer_open_memory(nullptr, &w, &err), QOHI_OK) << err.message;
    if (!w) return {};
    for (size_t i = 0; i < names.size(); ++i) {
        Image img = picture(2, 2, 3, static_cast<uint32_t>(i));
        EXPECT_EQ(qohi_writer_add_frame(w, img.pixels.data(), 2, 2, 3, 0,
                                        names[i].empty() ? nullptr : names[i].c_str()),
                  QOHI_OK)
            << names[i] << ": " << qohi_writer_message(w);
    }
    void* data = nullptr;
    size_t size = 0;
    EXPECT_EQ(qohi_writer_finish(w, &data, &size), QOHI_OK) << qohi_writer_message(w);
    qohi_writer_destroy(w);
    Bytes bytes(static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
    qohi_free(data);
    return bytes;
}

// ------------------------------------------------------------- the fixture

// The test folder "photos": five variants of one picture in sub-folders (one
// with a non-ASCII path, one with an upper-case extension), images of other
// sizes and channel counts, and two files that are not PNG.
const std::vector<std::string> kPngNames = {
    "a.png",          "mixed/Upper.PNG",     "mixed/small.png", "mixed/wide.png",
    "sub/b.png",      "sub/deeper/c.png",    "\xC3\xA9/\xE6\x97\xA5\xE6\x9C\xAC.png",  // é/日本.png
    "sub/other.png",
};
const std::vector<std::string> kOtherNames = {"notes.txt", "sub/image.jpg"};

class CollectionTest : public ::testing::Test {
public:
    void SetUp() override {
        ASSERT_TRUE(make_temp_dir("qohi-collection-test", root_));
        dir_ = root_ + "/work";  // captured output goes to root_, beside it
        fs::create_directory(dir_);

        const Image p = picture(24, 16, 3, 1);
        write_bytes(path("photos/a.png"), png_of(p));
        write_bytes(path("photos/mixed/Upper.PNG"), png_of(variant(p, 1)));
        write_bytes(path("photos/sub/b.png"), png_of(variant(p, 2)));
        write_bytes(path("photos/sub/deeper/c.png"), png_of(variant(p, 3)));
        write_bytes(path("photos/" + kPngNames[6]), png_of(variant(p, 4)));
        write_bytes(path("photos/mixed/small.png"), png_of(picture(5, 3, 4, 7)));
        write_bytes(path("photos/mixed/wide.png"), png_of(picture(40, 2, 3, 8)));
        write_bytes(path("photos/sub/other.png"), png_of(picture(24, 16, 4, 9)));
        write_bytes(path("photos/notes.txt"), Bytes{'h', 'i', '\n'});
        write_bytes(path("photos/sub/image.jpg"), Bytes{0xff, 0xd8, 0xff});
    }
    void TearDown() override { remove_temp_dir(root_); }

    std::string path(const std::string& name) const { return dir_ + "/" + name; }

    // Runs `args` in dir_, stdin from /dev/null, stdout and stderr captured
    // beside dir_ (stdout to `stdout_path` instead if given).
    RunResult run_here(const std::vector<std::string>& args, const std::string& stdout_path = "") {
        return run(args, dir_, "/dev/null", stdout_path, -1, root_);
    }
    RunResult enc(std::vector<std::string> args) {
        args.insert(args.begin(), kEnc);
        return run_here(args);
    }
    RunResult dec(std::vector<std::string> args) {
        args.insert(args.begin(), kDec);
        return run_here(args);
    }

    // The tree of a restored folder: every PNG name and its folders.
    static std::set<std::string> expected_tree(const std::vector<std::string>& names) {
        std::set<std::string> want;
        for (const std::string& n : names) {
            want.insert(n);
            for (size_t slash = n.find('/'); slash != std::string::npos; slash = n.find('/', slash + 1)) {
                want.insert(n.substr(0, slash + 1));
            }
        }
        return want;
    }

    // Checks that `out` holds exactly what photos/ holds: the PNGs pixel for
    // pixel, the other files byte for byte.
    void expect_restored(const std::string& out) {
        EXPECT_EQ(tree(path(out)), tree(path("photos")));
        for (const std::string& n : kPngNames) {
            EXPECT_TRUE(same_pixels(path("photos/" + n), path(out + "/" + n))) << n;
        }
        for (const std::string& n : kOtherNames) EXPECT_EQ(read_bytes(path(out + "/" + n)), read_bytes(path("photos/" + n))) << n;
    }

    std::string root_;
    std::string dir_;
};

// ------------------------------------------------------------------- tests

struct ModeCase {
    const char* label;
    std::vector<std::string> args;
};

void PrintTo(const ModeCase& c, std::ostream* os) { *os << c.label; }

class CollectionModes : public CollectionTest, public ::testing::WithParamInterface<ModeCase> {};

// Pack, unpack: every image comes back bit-exact under its name, whatever the
// mode; the references follow the mode.
TEST_P(CollectionModes, PackUnpackRoundTrip) {
    std::vector<std::string> args = {"photos", "-o", "album.qohi"};
    args.insert(args.end(), GetParam().args.begin(), GetParam().args.end());
    RunResult e = enc(args);
    ASSERT_EQ(e.exit_code, 0) << describe(e);
    // Nothing left out, nothing to warn about.
    EXPECT_EQ(e.err, "");

    std::vector<FrameRow> rows;
    ASSERT_TRUE(read_frames(path("album.qohi"), rows));
    ASSERT_EQ(rows.size(), kPngNames.size());
    std::set<std::string> names;
    size_t deltas = 0;
    uint32_t deepest = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
        names.insert(rows[i].name);
        if (rows[i].reference >= 0) {
            ++deltas;
            ASSERT_LT(rows[i].reference, static_cast<int64_t>(i));
            const FrameRow& ref = rows[static_cast<size_t>(rows[i].reference)];
            EXPECT_EQ(ref.width, rows[i].width);
            EXPECT_EQ(ref.height, rows[i].height);
        }
        deepest = std::max(deepest, rows[i].depth);
        EXPECT_FALSE(rows[i].baseline);
    }
    EXPECT_EQ(names, std::set<std::string>(kPngNames.begin(), kPngNames.end()));
    const std::string label = GetParam().label;
    if (label == "none" || label == "max-depth-0" || label == "stored") {
        EXPECT_EQ(deltas, 0u);  // --method stored keeps raw pixels: no delta frames
    } else if (label == "keyframe-every-2") {
        // Every other image on its own: chains of one.
        EXPECT_GE(deltas, 1u);
        EXPECT_LE(deepest, 1u);
    } else {
        // Five variants of one picture: four of them refer to another.
        EXPECT_GE(deltas, 4u) << label;
    }
    if (label == "max-depth-1" || label == "first") {
        EXPECT_LE(deepest, 1u) << label;
    }
    if (label == "prior") {
        EXPECT_GE(deepest, 2u);
    }

    RunResult d = dec({"album.qohi", "-o", "out"});
    ASSERT_EQ(d.exit_code, 0) << describe(d);
    EXPECT_EQ(d.err, "");
    expect_restored("out");
}

INSTANTIATE_TEST_SUITE_P(
    Modes, CollectionModes,
    ::testing::Values(ModeCase{"default", {}}, ModeCase{"auto", {"--mode", "auto"}},
                      ModeCase{"prior", {"--mode", "prior"}}, ModeCase{"first", {"--mode=first"}},
                      ModeCase{"keyframe-every-2", {"--keyframe-every", "2"}},
                      ModeCase{"keyframe", {"--mode", "keyframe"}}, ModeCase{"none", {"--mode", "none"}},
                      ModeCase{"max-depth-1", {"--max-depth", "1"}},
                      ModeCase{"max-depth-0", {"--max-depth=0"}},
                      ModeCase{"stored", {"--method", "stored", "--mode", "prior"}}),
    [](const ::testing::TestParamInfo<ModeCase>& param_info) {
        std::string name = param_info.param.label;
        std::replace(name.begin(), name.end(), '-', '_');
        return name;
    });

// --list prints every frame with its reference, depth and type, and a summary.
TEST_F(CollectionTest, ListShowsFramesAndReferences) {
    RunResult e = enc({"-q", "photos", "--mode", "first"});
    ASSERT_EQ(e.exit_code, 0) << describe(e);
    EXPECT_EQ(e.err, "");
    ASSERT_TRUE(exists(path("photos.qohi")));
    std::vector<FrameRow> rows;
    ASSERT_TRUE(read_frames(path("photos.qohi"), rows));

    RunResult l = dec({"--list", "photos.qohi"});
    ASSERT_EQ(l.exit_code, 0) << describe(l);
    EXPECT_EQ(l.err, "");
    std::istringstream in(l.out);
    std::string line;
    ASSERT_TRUE(std::getline(in, line));
    EXPECT_TRUE(contains(line, "index") && contains(line, "ref") && contains(line, "name")) << line;
    size_t deltas = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
        ASSERT_TRUE(std::getline(in, line)) << l.out;
        std::istringstream fields(line);
        std::string index, size, ch, method, ref, depth, bytes, type, name;
        fields >> index >> size >> ch >> method >> ref >> depth >> bytes >> type >> name;
        EXPECT_EQ(index, std::to_string(i)) << line;
        EXPECT_EQ(name, rows[i].name) << line;
        EXPECT_EQ(size, std::to_string(rows[i].width) + "x" + std::to_string(rows[i].height)) << line;
        EXPECT_EQ(ch, std::to_string(rows[i].channels)) << line;
        EXPECT_TRUE(method == "qohi" || method == "stored" || method == "dici") << line;
        EXPECT_EQ(ref, rows[i].reference >= 0 ? std::to_string(rows[i].reference) : "-") << line;
        EXPECT_EQ(depth, std::to_string(rows[i].depth)) << line;
        EXPECT_EQ(type, rows[i].reference >= 0 ? "delta" : "intra") << line;
        if (rows[i].reference >= 0) ++deltas;
    }
    EXPECT_GE(deltas, 4u);
    ASSERT_TRUE(std::getline(in, line));
    EXPECT_EQ(line.rfind("8 frames (0 baselines, " + std::to_string(deltas) + " with a reference", 0), 0u) << line;
    // Then what is stored as it is: the folders and the files that are not
    // images, with their permission bits.
    auto mode_of = [&](const std::string& name) {
        char m[8];
        std::snprintf(m, sizeof m, "%04o", unsigned(fs::status(path("photos/" + name)).permissions()) & 07777u);
        return std::string(m);
    };
    const std::vector<std::pair<std::string, std::string>> entries = {
        {"folder  0 bytes", "mixed"}, {"file  3 bytes", "notes.txt"}, {"folder  0 bytes", "sub"},
        {"folder  0 bytes", "sub/deeper"}, {"file  3 bytes", "sub/image.jpg"}, {"folder  0 bytes", "\xC3\xA9"}};
    for (size_t k = 0; k < entries.size(); ++k) {
        ASSERT_TRUE(std::getline(in, line));
        EXPECT_EQ(line, "entry " + std::to_string(k) + "  " + entries[k].first + "  mode " + mode_of(entries[k].second) +
                            "  " + entries[k].second);
    }
    ASSERT_TRUE(std::getline(in, line));
    EXPECT_EQ(line.rfind("6 entries stored as they are, ", 0), 0u) << line;
    EXPECT_FALSE(std::getline(in, line)) << "extra output: " << line;
    for (const std::string& n : kPngNames) EXPECT_TRUE(contains(l.out, n)) << n;

    // --list writes nothing and takes no -o or --frame.
    EXPECT_EQ(dec({"--list", "photos.qohi", "-o", "x"}).exit_code, 2);
    EXPECT_EQ(dec({"--list", "photos.qohi", "--frame", "0"}).exit_code, 2);
    EXPECT_FALSE(exists(path("x")));
}

// --verify decodes the finished file and says so; a single image too.
TEST_F(CollectionTest, VerifyPasses) {
    RunResult e = enc({"-v", "--verify", "--progress", "photos", "-o", "album.qohi"});
    ASSERT_EQ(e.exit_code, 0) << describe(e);
    EXPECT_TRUE(contains(e.err, "\rqohienc: verifying 8/8 images")) << e.err;
    EXPECT_TRUE(contains(e.err, "qohienc: photos: 8 images")) << e.err;
    EXPECT_TRUE(contains(e.err, "verified")) << e.err;
    e = enc({"--progress", "photos", "-o", "unverified.qohi"});
    ASSERT_EQ(e.exit_code, 0) << describe(e);
    EXPECT_FALSE(contains(e.err, "verifying")) << e.err;
    RunResult s = enc({"-v", "--verify", "photos/a.png", "-o", "one.qohi"});
    ASSERT_EQ(s.exit_code, 0) << describe(s);
    EXPECT_TRUE(contains(s.err, "verified")) << s.err;
    RunResult d = dec({"one.qohi", "-o", "one.png"});
    ASSERT_EQ(d.exit_code, 0) << describe(d);
    EXPECT_TRUE(same_pixels(path("photos/a.png"), path("one.png")));
}

// A broken PNG anywhere in the folder fails the pack, naming the file, and no
// archive (nor a temporary file) is left; a file that only starts like a PNG
// or is empty is stored as it is.
TEST_F(CollectionTest, BrokenPngFailsAndWritesNothing) {
    Bytes good = read_bytes(path("photos/sub/b.png"));
    ASSERT_GT(good.size(), 60u);
    struct Case {
        std::string label;
        Bytes data;
        std::string message;
    };
    Bytes bad_crc = good;
    bad_crc[29] ^= 1;  // inside IHDR
    std::vector<Case> cases = {
        {"truncated", Bytes(good.begin(), good.begin() + good.size() / 2), "truncated"},
        {"bad IHDR CRC", bad_crc, ""},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.label);
        write_bytes(path("photos/sub/zz-broken.png"), c.data);
        RunResult e = enc({"photos", "-o", "album.qohi", "--mode", "prior"});
        EXPECT_EQ(e.exit_code, 1) << describe(e);
        EXPECT_TRUE(contains(e.err, "qohienc: photos/sub/zz-broken.png: ")) << e.err;
        if (!c.message.empty()) {
            EXPECT_TRUE(contains(e.err, c.message)) << e.err;
        }
        EXPECT_FALSE(exists(path("album.qohi")));
        std::set<std::string> top;
        for (const auto& entry : fs::directory_iterator(dir_)) top.insert(entry.path().filename().string());
        EXPECT_EQ(top, std::set<std::string>{"photos"});
    }
    // The same when an existing archive would be replaced: it is kept.
    write_bytes(path("album.qohi"), Bytes{'o', 'l', 'd'});
    RunResult e = enc({"-f", "photos", "-o", "album.qohi"});
    EXPECT_EQ(e.exit_code, 1) << describe(e);
    EXPECT_EQ(read_text(path("album.qohi")), "old");
    ::unlink(path("album.qohi").c_str());

    // Every broken PNG is named, not only the first.
    write_bytes(path("photos/sub/zz-broken.png"), cases[0].data);
    write_bytes(path("photos/aa-broken.png"), cases[1].data);
    e = enc({"photos", "-o", "album.qohi"});
    EXPECT_EQ(e.exit_code, 1) << describe(e);
    EXPECT_TRUE(contains(e.err, "qohienc: photos/sub/zz-broken.png: ")) << e.err;
    EXPECT_TRUE(contains(e.err, "qohienc: photos/aa-broken.png: ")) << e.err;
    EXPECT_TRUE(contains(e.err, "2 broken PNGs; nothing written")) << e.err;
    EXPECT_FALSE(exists(path("album.qohi")));

    // --skip-bad stores them as they are, says so, and exits with 3.
    e = enc({"photos", "-o", "album.qohi", "--skip-bad"});
    EXPECT_EQ(e.exit_code, 3) << describe(e);
    EXPECT_TRUE(contains(e.err, "photos/aa-broken.png: stored as it is: a broken PNG")) << e.err;
    EXPECT_TRUE(contains(e.err, "photos/sub/zz-broken.png: stored as it is: a broken PNG")) << e.err;
    RunResult d = dec({"album.qohi", "-o", "out"});
    ASSERT_EQ(d.exit_code, 0) << describe(d);
    EXPECT_EQ(read_bytes(path("out/aa-broken.png")), cases[1].data);
    EXPECT_EQ(read_bytes(path("out/sub/zz-broken.png")), cases[0].data);
    ::unlink(path("album.qohi").c_str());
    ::unlink(path("photos/sub/zz-broken.png").c_str());
    ::unlink(path("photos/aa-broken.png").c_str());

    // Files that are not PNGs, whatever their names, are stored as they are;
    // so is a 16-bit PNG, which a frame cannot hold yet.
    const Bytes deep = write_png16(3, 2);
    ASSERT_GT(deep.size(), 30u);
    write_bytes(path("photos/deep16.png"), deep);
    write_bytes(path("photos/sub/not-a.png"), Bytes{'n', 'o', 'p', 'e', 0, 1, 2, 3, 4, 5, 6, 7});
    write_bytes(path("photos/sub/empty.png"), Bytes{});
    e = enc({"photos", "-o", "album.qohi"});
    EXPECT_EQ(e.exit_code, 0) << describe(e);
    EXPECT_TRUE(contains(e.err, "photos/deep16.png: stored as it is: 16-bit")) << e.err;
    d = dec({"album.qohi", "-o", "out2"});
    ASSERT_EQ(d.exit_code, 0) << describe(d);
    for (const char* n : {"deep16.png", "sub/not-a.png", "sub/empty.png"})
        EXPECT_EQ(read_bytes(path(std::string("out2/") + n)), read_bytes(path(std::string("photos/") + n))) << n;
    EXPECT_EQ(tree(path("out2")), tree(path("photos")));
}

// Files are read, planned and coded on several threads: the archive, the
// messages and the exit status are the same for any --threads, with more
// files than one batch of reading (1,024) and broken PNGs in later batches.
TEST_F(CollectionTest, TheArchiveDoesNotDependOnTheThreadCount) {
    ASSERT_EQ(::mkdir(path("many").c_str(), 0755), 0);
    for (uint32_t i = 0; i < 2100; ++i) {
        char name[32];
        std::snprintf(name, sizeof name, "many/%04u.png", i);
        write_bytes(path(name), png_of(picture(6, 5, i % 3 == 0 ? 3 : 4, i % 40)));
    }
    const Bytes good = read_bytes(path("many/0001.png"));
    write_bytes(path("many/1500.png"), Bytes(good.begin(), good.begin() + good.size() / 2));
    write_bytes(path("many/2050.png"), Bytes(good.begin(), good.begin() + 20));
    RunResult one = enc({"--threads", "1", "many", "-o", "one.qohi"});
    RunResult three = enc({"--threads", "3", "many", "-o", "three.qohi"});
    EXPECT_EQ(one.exit_code, 1) << describe(one);
    EXPECT_EQ(three.exit_code, one.exit_code) << describe(three);
    EXPECT_EQ(three.err, one.err);
    EXPECT_TRUE(contains(one.err, "2 broken PNGs; nothing written")) << one.err;

    write_bytes(path("many/1500.png"), png_of(picture(6, 5, 4, 1500 % 40)));
    write_bytes(path("many/2050.png"), png_of(picture(7, 5, 4, 3)));
    one = enc({"--threads", "1", "many", "-o", "one.qohi"});
    ASSERT_EQ(one.exit_code, 0) << describe(one);
    for (const char* threads : {"2", "3", "0"}) {
        const std::string out = std::string("t") + threads + ".qohi";
        RunResult r = enc({"--threads", threads, "many", "-o", out});
        ASSERT_EQ(r.exit_code, 0) << describe(r);
        EXPECT_TRUE(read_bytes(path(out)) == read_bytes(path("one.qohi"))) << threads << " threads";
    }
    RunResult d = dec({"one.qohi", "-o", "back"});
    ASSERT_EQ(d.exit_code, 0) << describe(d);
    EXPECT_EQ(tree(path("back")), tree(path("many")));
}

// A file name that is not UTF-8 cannot become a frame name: the pack fails,
// naming the file.
TEST_F(CollectionTest, NonUtf8FileNameFails) {
    write_bytes(path("photos/bad\xff.png"), png_of(picture(2, 2, 3, 1)));
    RunResult e = enc({"photos", "-o", "album.qohi"});
    EXPECT_EQ(e.exit_code, 1) << describe(e);
    EXPECT_TRUE(contains(e.err, "photos/bad\\xff.png")) << e.err;
    EXPECT_TRUE(contains(e.err, "UTF-8")) << e.err;
    EXPECT_FALSE(exists(path("album.qohi")));
}

// Unsafe names in an archive are refused; the other frames are restored;
// nothing is written outside the target folder.
TEST_F(CollectionTest, UnsafeNamesAreRefused) {
    const std::string abs_name = "/qohi-collection-test-abs-" + std::to_string(getpid()) + ".png";
    const std::vector<std::string> names = {
        "../evil.png", abs_name, "ok/../../evil2.png", "ok/good.png", "back\\slash.png",
        "", "ok//empty.png", "./dot.png", "link/through.png"};
    write_bytes(path("evil.qohi"), library_archive(names));
    fs::create_directories(path("t/target"));
    fs::create_directories(path("elsewhere"));
    ASSERT_EQ(symlink("../../elsewhere", path("t/target/link").c_str()), 0);

    RunResult d = dec({"evil.qohi", "-o", "t/target"});
    EXPECT_EQ(d.exit_code, 1) << describe(d);
    EXPECT_TRUE(contains(d.err, "'../evil.png'")) << d.err;
    EXPECT_TRUE(contains(d.err, "'" + abs_name + "'")) << d.err;
    EXPECT_TRUE(contains(d.err, "unsafe name")) << d.err;
    EXPECT_TRUE(contains(d.err, "symbolic link")) << d.err;
    EXPECT_TRUE(contains(d.err, "qohidec: evil.qohi: 7 of 9 items not restored")) << d.err;
    EXPECT_EQ(lines(d.err), 8u) << d.err;
    // The safe ones are there, and nothing else.
    EXPECT_EQ(tree(path("t")), (std::set<std::string>{"target/", "target/ok/", "target/ok/good.png",
                                                      "target/frame_5.png", "target/link"}));
    EXPECT_TRUE(fs::is_empty(path("elsewhere")));
    EXPECT_FALSE(exists(path("evil.png")));
    EXPECT_FALSE(exists(path("evil2.png")));
    EXPECT_FALSE(exists(abs_name));
    Image got;
    ASSERT_TRUE(decode_file(path("t/target/ok/good.png"), got));
    EXPECT_EQ(got.pixels, picture(2, 2, 3, 3).pixels);
}

// ICC profile and text survive pack and unpack (and --frame).
TEST_F(CollectionTest, MetadataSurvives) {
    const Bytes icc = make_icc();
    const Image img = picture(6, 4, 3, 11);
    const std::string comment = "hello, caf\xC3\xA9";
    Bytes png = write_meta_png(img, icc, "hello, caf\xE9");  // tEXt is Latin-1
    ASSERT_FALSE(png.empty());
    RawPng source;
    std::string error;
    ASSERT_TRUE(read_raw_png(png, source, error)) << error;
    ASSERT_EQ(source.icc, icc);  // the test's own writer works
    write_bytes(path("photos/meta/tagged.png"), png);

    RunResult e = enc({"photos", "-o", "album.qohi"});
    ASSERT_EQ(e.exit_code, 0) << describe(e);

    // In the archive, as the library reports it.
    qohi_reader* reader = nullptr;
    ASSERT_EQ(qohi_reader_open_file(path("album.qohi").c_str(), nullptr, &reader, nullptr), QOHI_OK);
    uint32_t index = 0;
    ASSERT_EQ(qohi_reader_find_frame(reader, "meta/tagged.png", &index), QOHI_OK);
    const qohi_metadata* items = nullptr;
    size_t count = 0;
    ASSERT_EQ(qohi_reader_frame_metadata(reader, index, &items, &count), QOHI_OK);
    bool have_icc = false, have_text = false;
    for (size_t i = 0; i < count; ++i) {
        const auto* data = static_cast<const uint8_t*>(items[i].data);
        if (items[i].kind == QOHI_METADATA_ICC) {
            have_icc = Bytes(data, data + items[i].size) == icc && std::string(items[i].key) == "Test profile";
        }
        if (items[i].kind == QOHI_METADATA_TEXT && items[i].key && std::string(items[i].key) == "Comment") {
            have_text = std::string(data, data + items[i].size) == comment;
        }
    }
    qohi_reader_close(reader);
    EXPECT_TRUE(have_icc);
    EXPECT_TRUE(have_text);

    // Written back by unpacking and by --frame.
    RunResult d = dec({"album.qohi", "-o", "out"});
    ASSERT_EQ(d.exit_code, 0) << describe(d);
    RunResult f = dec({"album.qohi", "--frame", "meta/tagged.png", "-o", "one.png"});
    ASSERT_EQ(f.exit_code, 0) << describe(f);
    for (const char* out : {"out/meta/tagged.png", "one.png"}) {
        SCOPED_TRACE(out);
        RawPng got;
        ASSERT_TRUE(read_raw_png(read_bytes(path(out)), got, error)) << error;
        EXPECT_EQ(got.icc_name, "Test profile");
        EXPECT_EQ(got.icc, icc);
        EXPECT_EQ(got.text["Comment"], "hello, caf\xE9");
        EXPECT_TRUE(same_pixels(path("photos/meta/tagged.png"), path(out)));
    }
}

// ------------------------------------------------------------ PNG layouts

struct PngChunkBytes {
    std::string type;
    Bytes data;
};

std::vector<PngChunkBytes> png_chunks(const Bytes& png) {
    std::vector<PngChunkBytes> out;
    size_t pos = 8;
    while (pos + 12 <= png.size()) {
        const size_t n = size_t{png[pos]} << 24 | size_t{png[pos + 1]} << 16 | size_t{png[pos + 2]} << 8 | png[pos + 3];
        if (png.size() - pos - 12 < n) break;
        out.push_back({std::string(png.begin() + long(pos + 4), png.begin() + long(pos + 8)),
                       Bytes(png.begin() + long(pos + 8), png.begin() + long(pos + 8 + n))});
        pos += 12 + n;
    }
    return out;
}

Bytes png_from_chunks(const std::vector<PngChunkBytes>& chunks) {
    Bytes out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    for (const PngChunkBytes& c : chunks) {
        const auto n = static_cast<uint32_t>(c.data.size());
        out.insert(out.end(), {uint8_t(n >> 24), uint8_t(n >> 16), uint8_t(n >> 8), uint8_t(n)});
        const size_t body = out.size();
        out.insert(out.end(), c.type.begin(), c.type.end());
        out.insert(out.end(), c.data.begin(), c.data.end());
        const auto crc = static_cast<uint32_t>(crc32(0, out.data() + body, static_cast<uInt>(out.size() - body)));
        out.insert(out.end(), {uint8_t(crc >> 24), uint8_t(crc >> 16), uint8_t(crc >> 8), uint8_t(crc)});
    }
    return out;
}

// The chunk sequence, IDAT runs as one "IDAT", zTXt text inflated.
std::vector<PngChunkBytes> chunk_sequence(const Bytes& png) {
    std::vector<PngChunkBytes> out;
    for (PngChunkBytes c : png_chunks(png)) {
        if (c.type == "IDAT") {
            if (out.empty() || out.back().type != "IDAT") out.push_back({"IDAT", {}});
            continue;
        }
        if (c.type == "zTXt") {
            const size_t nul = std::find(c.data.begin(), c.data.end(), 0) - c.data.begin();
            Bytes text(1 << 16);
            uLongf size = static_cast<uLongf>(text.size());
            EXPECT_EQ(uncompress(text.data(), &size, c.data.data() + nul + 2, static_cast<uLong>(c.data.size() - nul - 2)), Z_OK);
            c.data.resize(nul + 2);
            c.data.insert(c.data.end(), text.begin(), text.begin() + long(size));
        }
        out.push_back(c);
    }
    return out;
}

// A folder of grey, palette, 1-bit and interlaced PNGs with assorted chunks
// comes back from qohienc and qohidec as the same files: IHDR, PLTE, the
// chunk sequence and the pixels.
TEST_F(CollectionTest, PngLayoutsSurvivePackAndUnpack) {
    const std::vector<std::string> sources = {"grey-1bit.png", "palette-4bit.png", "interlaced-grey2.png",
                                              "palette-trns.png", "grey-alpha.png", "rgb-trns.png", "grey.png"};
    const Bytes z = [] {
        const std::string text = "compressed comment, compressed comment, compressed comment";
        Bytes out(256);
        uLongf size = static_cast<uLongf>(out.size());
        compress2(out.data(), &size, reinterpret_cast<const Bytef*>(text.data()), static_cast<uLong>(text.size()), 9);
        out.resize(size);
        return out;
    }();
    auto bytes = [](const std::string& s) { return Bytes(s.begin(), s.end()); };
    std::vector<std::string> names;
    for (size_t i = 0; i < sources.size(); ++i) {
        std::vector<PngChunkBytes> chunks = png_chunks(read_bytes(std::string(QOHI_TEST_DATA_DIR) + "/" + sources[i]));
        ASSERT_GE(chunks.size(), 3u);
        const auto idat = std::find_if(chunks.begin(), chunks.end(), [](const PngChunkBytes& c) { return c.type == "IDAT"; });
        chunks.insert(idat, {{"pHYs", bytes(std::string("\0\0\x0B\x13\0\0\x0B\x13\x01", 9))},
                             {"iTXt", bytes(std::string("Title\0\0\0fr\0Titre\0titre n\xC2\xB0", 26) + std::to_string(i))},
                             {"prVt", bytes("private " + std::to_string(i))}});
        chunks.insert(chunks.begin() + 1, {{"gAMA", bytes(std::string("\0\0\xB1\x8F", 4))},
                                           {"tEXt", bytes(std::string("Author\0me", 9))}});
        chunks.insert(chunks.end() - 1, {{"tIME", bytes(std::string("\x07\xE8\x01\x02\x03\x04\x05", 7))},
                                         {"zTXt", [&] { Bytes d = bytes(std::string("Comment\0\0", 9)); d.insert(d.end(), z.begin(), z.end()); return d; }()}});
        names.push_back("layouts/" + sources[i]);
        write_bytes(path(names.back()), png_from_chunks(chunks));
    }
    RunResult e = enc({"layouts", "-o", "layouts.qohi"});
    ASSERT_EQ(e.exit_code, 0) << describe(e);
    RunResult d = dec({"layouts.qohi", "-o", "restored"});
    ASSERT_EQ(d.exit_code, 0) << describe(d);
    EXPECT_EQ(d.err, "");
    for (const std::string& name : names) {
        SCOPED_TRACE(name);
        const std::string restored = path("restored/" + name.substr(std::string("layouts/").size()));
        const std::vector<PngChunkBytes> want = chunk_sequence(read_bytes(path(name)));
        const std::vector<PngChunkBytes> got = chunk_sequence(read_bytes(restored));
        ASSERT_EQ(got.size(), want.size());
        for (size_t k = 0; k < want.size(); ++k) {
            EXPECT_EQ(got[k].type, want[k].type) << k;
            EXPECT_TRUE(got[k].data == want[k].data) << k << " " << want[k].type;
        }
        EXPECT_TRUE(same_pixels(path(name), restored));
    }
}

// Issue 11's folder: every kind of file a user keeps beside images. Packed
// and unpacked, the tree comes back whole: other files byte for byte, images
// with their pixels, colour type and chunks, symbolic links as links,
// folders (empty ones too), and everything's permission bits and
// modification time to the nanosecond.
TEST_F(CollectionTest, EveryKindOfFileComesBack) {
    const std::string data = QOHI_TEST_DATA_DIR;
    auto bytes = [](const std::string& s) { return Bytes(s.begin(), s.end()); };
    auto noise = [](size_t n, uint32_t seed) {
        Bytes b(n);
        for (auto& c : b) c = uint8_t((seed = seed * 1664525u + 1013904223u) >> 24);
        return b;
    };
    // Images, with chunks added around their data.
    for (const char* name : {"grey-1bit.png", "palette-4bit.png", "palette-trns.png", "grey-alpha.png",
                             "interlaced-grey2.png", "rgb-trns.png", "icon-rgba.png"}) {
        std::vector<PngChunkBytes> chunks = png_chunks(read_bytes(data + "/" + name));
        chunks.insert(chunks.begin() + 1, {{"gAMA", bytes(std::string("\0\0\xB1\x8F", 4))},
                                           {"tEXt", bytes(std::string("Author\0someone", 14))}});
        chunks.insert(chunks.end() - 1, {{"prVt", bytes(std::string("private data"))}});
        write_bytes(path(std::string("everything/images/") + name), png_from_chunks(chunks));
    }
    write_bytes(path("everything/images/no-extension"), read_bytes(data + "/trash-rgb.png"));
    write_bytes(path("everything/images/SHOUT.PNG"), read_bytes(data + "/grey.png"));
    // A PNG with a 2 MiB uncompressed text: kept, and stored compressed.
    {
        std::vector<PngChunkBytes> chunks = png_chunks(read_bytes(data + "/grey.png"));
        Bytes itxt = bytes(std::string("Story\0\0\0en\0Histoire\0", 21));
        itxt.resize(itxt.size() + (size_t{2} << 20), 'z');
        chunks.insert(chunks.end() - 1, {{"iTXt", itxt}});
        write_bytes(path("everything/images/long-story.png"), png_from_chunks(chunks));
    }
    // Files that are not images a frame can hold.
    write_bytes(path("everything/deep16.png"), read_bytes(data + "/rgb16.png"));
    write_bytes(path("everything/photo.jpg"), concat_bytes({Bytes{0xFF, 0xD8, 0xFF, 0xE0}, noise(3000, 1)}));
    write_bytes(path("everything/anim.gif"), concat_bytes({bytes("GIF89a"), noise(500, 2)}));
    write_bytes(path("everything/pic.webp"), concat_bytes({bytes("RIFF\x10\0\0\0WEBPVP8L"), noise(700, 3)}));
    write_bytes(path("everything/notes.txt"), bytes("notes\n"));
    write_bytes(path("everything/empty"), Bytes{});
    write_bytes(path("everything/big.bin"), noise((size_t{9} << 20) + 5, 4));  // several EDAT records
    write_bytes(path("everything/run.sh"), bytes("#!/bin/sh\necho hi\n"));
    fs::create_directories(path("everything/empty folder"));
    fs::create_directories(path("everything/a/b/c"));
    write_bytes(path("everything/a/b/c/d.txt"), bytes("deep"));
    ASSERT_EQ(symlink("notes.txt", path("everything/link-to-notes").c_str()), 0);
    ASSERT_EQ(symlink("nowhere/at all", path("everything/dangling").c_str()), 0);
    ASSERT_EQ(symlink("a/b", path("everything/link-to-folder").c_str()), 0);
    ASSERT_EQ(::chmod(path("everything/notes.txt").c_str(), 0600), 0);
    ASSERT_EQ(::chmod(path("everything/run.sh").c_str(), 02755), 0);
    ASSERT_EQ(::chmod(path("everything/images/SHOUT.PNG").c_str(), 0444), 0);
    ASSERT_EQ(::chmod(path("everything/a/b").c_str(), 0700), 0);
    // Times: distinct, with nanoseconds, one before 1970; folders last, deepest first.
    std::vector<std::string> all;
    for (auto it = fs::recursive_directory_iterator(path("everything")); it != fs::recursive_directory_iterator(); ++it)
        all.push_back(it->path().string());
    std::sort(all.begin(), all.end(), [](const std::string& a, const std::string& b) {
        return fs::is_directory(fs::symlink_status(a)) != fs::is_directory(fs::symlink_status(b))
                   ? !fs::is_directory(fs::symlink_status(a))
                   : a > b;
    });
    int64_t t = 1500000000;
    for (const std::string& p : all) {
        struct timespec times[2] = {{0, UTIME_OMIT}, {static_cast<time_t>(t += 3601), static_cast<long>(t % 999999937)}};
        if (p == path("everything/anim.gif")) times[1] = {-86400 * 400, 123456789};
        ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), times, AT_SYMLINK_NOFOLLOW), 0) << p;
    }

    RunResult e = enc({"everything", "-o", "everything.qohi", "--verify"});
    ASSERT_EQ(e.exit_code, 0) << describe(e);
    EXPECT_TRUE(contains(e.err, "deep16.png: stored as it is: ")) << e.err;
    // The long text is stored compressed: the archive is far smaller than it.
    EXPECT_LT(fs::file_size(path("everything.qohi")), (size_t{9} << 20) + (size_t{1} << 20));
    RunResult d = dec({"everything.qohi", "-o", "out"});
    ASSERT_EQ(d.exit_code, 0) << describe(d);
    EXPECT_EQ(d.err, "");

    EXPECT_EQ(tree(path("out")), tree(path("everything")));
    for (const std::string& src : all) {
        const std::string rel = fs::path(src).lexically_relative(path("everything")).string();
        const std::string out = path("out/" + rel);
        SCOPED_TRACE(rel);
        struct stat a, b;
        ASSERT_EQ(::lstat(src.c_str(), &a), 0);
        ASSERT_EQ(::lstat(out.c_str(), &b), 0);
        EXPECT_EQ(a.st_mode & S_IFMT, b.st_mode & S_IFMT);
        if (!S_ISLNK(a.st_mode)) {
            EXPECT_EQ(a.st_mode & 07777, b.st_mode & 07777);
        }
        EXPECT_EQ(a.st_mtim.tv_sec, b.st_mtim.tv_sec);
        EXPECT_EQ(a.st_mtim.tv_nsec, b.st_mtim.tv_nsec);
        if (S_ISLNK(a.st_mode)) {
            EXPECT_EQ(fs::read_symlink(src), fs::read_symlink(out));
        } else if (S_ISREG(a.st_mode)) {
            const Bytes want = read_bytes(src);
            const bool image = rel.rfind("images/", 0) == 0;
            if (!image) {
                EXPECT_TRUE(read_bytes(out) == want);
                continue;
            }
            // The same PNG as far as a PNG can be: chunks in order (IDAT
            // recompressed), IHDR and PLTE among them, and the pixels.
            const std::vector<PngChunkBytes> w = chunk_sequence(want), g = chunk_sequence(read_bytes(out));
            ASSERT_EQ(g.size(), w.size());
            for (size_t k = 0; k < w.size(); ++k) {
                EXPECT_EQ(g[k].type, w[k].type) << k;
                EXPECT_TRUE(g[k].data == w[k].data) << k << " " << w[k].type;
            }
            EXPECT_TRUE(same_pixels(src, out));
        }
    }
}

// A stored file is written as it is read, a piece at a time; one whose
// content is damaged further on leaves no file (nor a temporary) behind,
// and the other items are still restored.
TEST_F(CollectionTest, DamagedStoredFileLeavesNothing) {
    Bytes big((size_t{9} << 20) + 3);
    for (size_t i = 0; i < big.size(); ++i) big[i] = uint8_t(i * 2654435761u >> 13);
    write_bytes(path("photos/big.bin"), big);
    RunResult e = enc({"photos", "-o", "album.qohi"});
    ASSERT_EQ(e.exit_code, 0) << describe(e);
    Bytes file = read_bytes(path("album.qohi"));
    // The big file's second piece (EDAT records of 4 MiB): flip a byte in it.
    size_t seen = 0, flipped = 0;
    for (size_t pos = 28; pos + 12 <= file.size();) {
        const uint32_t n = uint32_t(file[pos + 4]) | uint32_t(file[pos + 5]) << 8 | uint32_t(file[pos + 6]) << 16 |
                           uint32_t(file[pos + 7]) << 24;
        if (std::memcmp(&file[pos], "EDAT", 4) == 0 && n == (4u << 20) && ++seen == 2) {
            file[pos + 8 + 1000] ^= 0x10;
            flipped = pos;
            break;
        }
        pos += 12 + size_t(n);
    }
    ASSERT_NE(flipped, 0u);
    write_bytes(path("damaged.qohi"), file);
    RunResult d = dec({"damaged.qohi", "-o", "out"});
    EXPECT_EQ(d.exit_code, 1) << describe(d);
    EXPECT_TRUE(contains(d.err, "('big.bin'): CORRUPT: ")) << d.err;
    EXPECT_TRUE(contains(d.err, "1 of 15 items not restored")) << d.err;
    EXPECT_FALSE(exists(path("out/big.bin")));
    std::set<std::string> want = tree(path("photos"));
    want.erase("big.bin");
    EXPECT_EQ(tree(path("out")), want);  // no temporary file either
    EXPECT_EQ(read_bytes(path("out/notes.txt")), read_bytes(path("photos/notes.txt")));
    // --frame NAME extracts a stored file alone; the damaged one fails cleanly.
    d = dec({"album.qohi", "--frame", "big.bin", "-o", "big-copy.bin"});
    ASSERT_EQ(d.exit_code, 0) << describe(d);
    EXPECT_TRUE(read_bytes(path("big-copy.bin")) == big);
    d = dec({"damaged.qohi", "--frame", "big.bin", "-o", "big-bad.bin"});
    EXPECT_EQ(d.exit_code, 1) << describe(d);
    EXPECT_FALSE(exists(path("big-bad.bin")));
}

// --baseline pins images: one outside the folder is added as
// "baseline/<name>", one inside keeps its name; both are listed as baselines,
// written first, and restored.
TEST_F(CollectionTest, BaselinesAreStoredAndListed) {
    write_bytes(path("pins/base.png"), png_of(variant(picture(24, 16, 3, 1), 9)));
    RunResult e = enc({"photos", "-o", "album.qohi", "--baseline", "pins/base.png", "--baseline",
                       "photos/sub/b.png", "--mode", "first"});
    ASSERT_EQ(e.exit_code, 0) << describe(e);
    std::vector<FrameRow> rows;
    ASSERT_TRUE(read_frames(path("album.qohi"), rows));
    ASSERT_EQ(rows.size(), kPngNames.size() + 1);
    std::set<std::string> baselines;
    size_t refer_to_baseline = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
        if (rows[i].baseline) {
            baselines.insert(rows[i].name);
            EXPECT_LT(i, 2u) << "baselines come first";
            EXPECT_EQ(rows[i].reference, -1);
        } else if (rows[i].reference >= 0 && rows[static_cast<size_t>(rows[i].reference)].baseline) {
            ++refer_to_baseline;
        }
    }
    EXPECT_EQ(baselines, (std::set<std::string>{"baseline/base.png", "sub/b.png"}));
    EXPECT_GE(refer_to_baseline, 1u);

    RunResult l = dec({"--list", "album.qohi"});
    ASSERT_EQ(l.exit_code, 0) << describe(l);
    std::istringstream in(l.out);
    std::string line;
    std::set<std::string> listed;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::vector<std::string> f{std::istream_iterator<std::string>(fields), {}};
        if (f.size() == 9 && f[7] == "baseline") listed.insert(f[8]);
    }
    EXPECT_EQ(listed, baselines) << l.out;
    EXPECT_TRUE(contains(l.out, "(2 baselines,")) << l.out;

    RunResult d = dec({"album.qohi", "-o", "out"});
    ASSERT_EQ(d.exit_code, 0) << describe(d);
    std::vector<std::string> names = kPngNames;
    names.push_back("baseline/base.png");
    names.insert(names.end(), kOtherNames.begin(), kOtherNames.end());
    EXPECT_EQ(tree(path("out")), expected_tree(names));
    EXPECT_TRUE(same_pixels(path("pins/base.png"), path("out/baseline/base.png")));
    EXPECT_TRUE(same_pixels(path("photos/sub/b.png"), path("out/sub/b.png")));

    // A missing baseline fails, naming it.
    RunResult bad = enc({"photos", "-o", "x.qohi", "--baseline", "pins/missing.png"});
    EXPECT_EQ(bad.exit_code, 1) << describe(bad);
    EXPECT_TRUE(contains(bad.err, "pins/missing.png")) << bad.err;
    EXPECT_FALSE(exists(path("x.qohi")));
}

// One image out of a packed folder, by its name (non-ASCII too) or index.
TEST_F(CollectionTest, FrameByName) {
    ASSERT_EQ(enc({"photos"}).exit_code, 0);
    for (const std::string& name : {kPngNames[6], std::string("sub/deeper/c.png"), std::string("mixed/small.png")}) {
        SCOPED_TRACE(name);
        RunResult d = dec({"photos.qohi", "--frame", name, "-f", "-o", "one.png"});
        ASSERT_EQ(d.exit_code, 0) << describe(d);
        EXPECT_TRUE(same_pixels(path("photos/" + name), path("one.png")));
    }
    std::vector<FrameRow> rows;
    ASSERT_TRUE(read_frames(path("photos.qohi"), rows));
    for (size_t i = 0; i < rows.size(); ++i) {
        RunResult d = dec({"photos.qohi", "--frame", std::to_string(i), "-f", "-o", "one.png"});
        ASSERT_EQ(d.exit_code, 0) << describe(d);
        EXPECT_TRUE(same_pixels(path("photos/" + rows[i].name), path("one.png"))) << rows[i].name;
    }
}

// --max-memory: a delta frame needs two frames of buffers (24x16 RGB: 1152
// bytes each), an intra frame into its PNG none.
TEST_F(CollectionTest, MaxMemory) {
    ASSERT_EQ(enc({"photos"}).exit_code, 0);
    std::vector<FrameRow> rows;
    ASSERT_TRUE(read_frames(path("photos.qohi"), rows));
    qohi_reader* reader = nullptr;
    ASSERT_EQ(qohi_reader_open_file(path("photos.qohi").c_str(), nullptr, &reader, nullptr), QOHI_OK);
    int deltas = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
        if (rows[i].width != 24 || rows[i].height != 16 || rows[i].channels != 3) continue;
        SCOPED_TRACE(rows[i].name);
        const bool delta = rows[i].reference >= 0;
        deltas += delta;
        // All that decoding the frame holds at once (qohidec --help): the
        // image, its PNG at most, two frames of the chain for a delta frame,
        // the largest frame data of the chain (these PNGs have no metadata).
        const uint64_t frame_bytes = 24 * 16 * 3;
        uint64_t coded = 0;
        for (int64_t r = static_cast<int64_t>(i); r >= 0;) {
            qohi_frame_info info{};
            ASSERT_EQ(qohi_reader_frame_info(reader, static_cast<uint32_t>(r), &info), QOHI_OK);
            coded = std::max(coded, info.coded_size);
            r = info.reference;
        }
        const uint64_t needed =
            frame_bytes + qohi_tools::png_size_bound(24, 16, 3, {}) + (delta ? 2 * frame_bytes : 0) + coded;
        RunResult d = dec({"photos.qohi", "--frame", std::to_string(i), "--max-memory", std::to_string(needed - 1),
                           "-f", "-o", "one.png"});
        EXPECT_EQ(d.exit_code, 1) << describe(d);
        EXPECT_NE(d.err.find("memory limit"), std::string::npos) << d.err;
        d = dec({"photos.qohi", "--frame", std::to_string(i), "--max-memory=" + std::to_string(needed), "-f", "-o",
                 "one.png"});
        ASSERT_EQ(d.exit_code, 0) << describe(d);
        EXPECT_TRUE(same_pixels(path("photos/" + rows[i].name), path("one.png")));
    }
    qohi_reader_close(reader);
    EXPECT_GT(deltas, 0);
    EXPECT_NE(dec({"photos.qohi", "--max-memory", "0"}).exit_code, 0);
}

// Default names: FOLDER -> FOLDER.qohi (also with a trailing '/'); unpacking
// without -o goes to the file name minus ".qohi" and keeps existing files
// unless -f.
TEST_F(CollectionTest, DefaultNamesAndOverwriting) {
    RunResult e = enc({"photos/"});
    ASSERT_EQ(e.exit_code, 0) << describe(e);
    EXPECT_TRUE(exists(path("photos.qohi")));
    e = enc({"photos"});
    EXPECT_EQ(e.exit_code, 1) << describe(e);
    EXPECT_TRUE(contains(e.err, "already exists")) << e.err;

    // Unpacking next to the source: every file exists already.
    Bytes before = read_bytes(path("photos/a.png"));
    RunResult d = dec({"photos.qohi"});
    EXPECT_EQ(d.exit_code, 1) << describe(d);
    EXPECT_TRUE(contains(d.err, "already exists")) << d.err;
    EXPECT_TRUE(contains(d.err, "10 of 14 items not restored")) << d.err;  // the folders are there already
    EXPECT_EQ(read_bytes(path("photos/a.png")), before);

    ASSERT_EQ(std::rename(path("photos.qohi").c_str(), path("copy.QOHI").c_str()), 0);
    d = dec({"copy.QOHI"});
    ASSERT_EQ(d.exit_code, 0) << describe(d);
    expect_restored("copy");
    // One file in the way: the others are still restored.
    write_bytes(path("fresh/a.png"), Bytes{'x'});
    d = dec({"copy.QOHI", "-o", "fresh"});
    EXPECT_EQ(d.exit_code, 1) << describe(d);
    EXPECT_TRUE(contains(d.err, "'fresh/a.png' already exists")) << d.err;
    EXPECT_TRUE(contains(d.err, "1 of 14 items not restored")) << d.err;
    EXPECT_EQ(lines(d.err), 2u) << d.err;
    EXPECT_EQ(read_text(path("fresh/a.png")), "x");
    EXPECT_EQ(tree(path("fresh")), tree(path("photos")));
    d = dec({"-f", "copy.QOHI", "-o", "fresh"});
    ASSERT_EQ(d.exit_code, 0) << describe(d);
    expect_restored("fresh");

    // Standard output.
    e = run_here({kEnc, "photos", "-o", "-"}, path("piped.qohi"));
    ASSERT_EQ(e.exit_code, 0) << describe(e);
    d = dec({"piped.qohi", "-o", "piped/"});
    ASSERT_EQ(d.exit_code, 0) << describe(d);
    expect_restored("piped");
}

// A folder of one image comes back as that folder, not as a file named after
// it; the image alone comes out with --frame or an -o that names a PNG.
TEST_F(CollectionTest, OneImageFolder) {
    write_bytes(path("single/only.png"), png_of(picture(7, 5, 4, 3)));
    RunResult e = enc({"single"});
    ASSERT_EQ(e.exit_code, 0) << describe(e);
    EXPECT_EQ(e.err, "");
    // Into the folder it came from, where the image is still: refused.
    RunResult d = dec({"single.qohi"});
    EXPECT_EQ(d.exit_code, 1) << describe(d);
    EXPECT_TRUE(contains(d.err, "'single/only.png' already exists")) << d.err;
    EXPECT_FALSE(exists(path("single.png")));
    d = dec({"single.qohi", "-o", "alone.png"});
    ASSERT_EQ(d.exit_code, 0) << describe(d);
    EXPECT_TRUE(same_pixels(path("single/only.png"), path("alone.png")));
    fs::remove_all(path("single"));
    d = dec({"single.qohi"});
    ASSERT_EQ(d.exit_code, 0) << describe(d);
    EXPECT_EQ(tree(path("single")), (std::set<std::string>{"only.png"}));
    fs::remove_all(path("single"));
    write_bytes(path("single/deep/only.png"), png_of(picture(7, 5, 4, 3)));
    e = enc({"-f", "single"});
    ASSERT_EQ(e.exit_code, 0) << describe(e);
    d = dec({"single.qohi", "-o", "restored/"});
    ASSERT_EQ(d.exit_code, 0) << describe(d);
    EXPECT_EQ(tree(path("restored")), (std::set<std::string>{"deep/", "deep/only.png"}));
    fs::create_directory(path("existing"));
    d = dec({"single.qohi", "-o", "existing"});
    ASSERT_EQ(d.exit_code, 0) << describe(d);
    EXPECT_TRUE(same_pixels(path("single/deep/only.png"), path("existing/deep/only.png")));
}

// The progress line: on request (or on a terminal), rewritten with '\r' and
// ended with a newline; never otherwise.
TEST_F(CollectionTest, ProgressLine) {
    RunResult e = enc({"--progress", "photos", "-o", "album.qohi"});
    ASSERT_EQ(e.exit_code, 0) << describe(e);
    EXPECT_TRUE(contains(e.err, "\rqohienc: packing 8/8 images")) << e.err;
    EXPECT_EQ(e.err.back(), '\n');
    e = enc({"photos", "-f", "-o", "album.qohi"});
    ASSERT_EQ(e.exit_code, 0) << describe(e);
    EXPECT_FALSE(contains(e.err, "\r")) << e.err;
    EXPECT_FALSE(contains(e.err, "packing")) << e.err;
}

// Symbolic links are stored as links, as tar does, never followed: to a
// folder, to a file, to nothing.
TEST_F(CollectionTest, SymlinksAreStoredAsLinks) {
    write_bytes(path("elsewhere/x.png"), png_of(picture(3, 3, 3, 2)));
    ASSERT_EQ(symlink("../elsewhere", path("photos/linked").c_str()), 0);
    ASSERT_EQ(symlink("../elsewhere/x.png", path("photos/file-link.png").c_str()), 0);
    ASSERT_EQ(symlink("nowhere", path("photos/sub/dangling").c_str()), 0);
    RunResult e = enc({"photos", "-o", "album.qohi"});
    ASSERT_EQ(e.exit_code, 0) << describe(e);
    EXPECT_EQ(e.err, "");
    std::vector<FrameRow> rows;
    ASSERT_TRUE(read_frames(path("album.qohi"), rows));
    std::set<std::string> names;
    for (const auto& r : rows) names.insert(r.name);
    EXPECT_EQ(names, std::set<std::string>(kPngNames.begin(), kPngNames.end()));
    RunResult d = dec({"album.qohi", "-o", "out"});
    ASSERT_EQ(d.exit_code, 0) << describe(d);
    EXPECT_EQ(tree(path("out")), tree(path("photos")));
    for (const char* link : {"linked", "file-link.png", "sub/dangling"}) {
        EXPECT_TRUE(fs::is_symlink(path(std::string("out/") + link))) << link;
        EXPECT_EQ(fs::read_symlink(path(std::string("out/") + link)), fs::read_symlink(path(std::string("photos/") + link)));
    }
    EXPECT_TRUE(fs::is_empty(path("elsewhere/..")) == false);
    EXPECT_EQ(tree(path("elsewhere")), (std::set<std::string>{"x.png"}));  // nothing written through a link

    // --images-only leaves them out, says so, and exits with 3.
    e = enc({"photos", "-o", "images.qohi", "--images-only"});
    EXPECT_EQ(e.exit_code, 3) << describe(e);
    EXPECT_TRUE(contains(e.err, "skipped: linked (a symbolic link)")) << e.err;
    EXPECT_TRUE(contains(e.err, "skipped: notes.txt (not a PNG)")) << e.err;
    EXPECT_TRUE(contains(e.err, "5 files not packed (--images-only)")) << e.err;
    d = dec({"images.qohi", "-o", "only"});
    ASSERT_EQ(d.exit_code, 0) << describe(d);
    EXPECT_EQ(tree(path("only")), expected_tree(kPngNames));
}

// --recover: an archive whose writer stopped early (cut inside a frame)
// still gives back every frame written whole, listed, unpacked or one by
// one, bit-exact, with a warning that the file is truncated.
TEST_F(CollectionTest, RecoverCutArchive) {
    RunResult e = enc({"-q", "photos", "-o", "album.qohi"});
    ASSERT_EQ(e.exit_code, 0) << describe(e);
    std::vector<FrameRow> rows;
    ASSERT_TRUE(read_frames(path("album.qohi"), rows));
    ASSERT_EQ(rows.size(), kPngNames.size());
    // Where frame 5 ends: frames tile the file from offset 28 (spec §3.5).
    qohi_reader* reader = nullptr;
    ASSERT_EQ(qohi_reader_open_file(path("album.qohi").c_str(), nullptr, &reader, nullptr), QOHI_OK);
    uint64_t end = 28;
    for (uint32_t i = 0; i <= 5; ++i) {
        qohi_frame_info info{};
        ASSERT_EQ(qohi_reader_frame_info(reader, i, &info), QOHI_OK);
        end += info.coded_size;
    }
    qohi_reader_close(reader);
    const Bytes whole = read_bytes(path("album.qohi"));
    write_bytes(path("cut.qohi"), Bytes(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(end + 7)));

    RunResult d = dec({"cut.qohi", "-o", "plain/"});
    EXPECT_EQ(d.exit_code, 1) << describe(d);
    EXPECT_TRUE(contains(d.err, "no valid trailer")) << d.err;
    EXPECT_FALSE(exists(path("plain")));

    const std::string warning = "qohidec: warning: cut.qohi: truncated data: ";
    // Finished, but the frames after the damage are lost: exit status 3.
    RunResult l = dec({"--recover", "--list", "cut.qohi"});
    ASSERT_EQ(l.exit_code, 3) << describe(l);
    EXPECT_EQ(l.err.rfind(warning, 0), 0u) << l.err;
    EXPECT_TRUE(contains(l.err, "recovered 6 frames")) << l.err;
    EXPECT_EQ(lines(l.err), 1u) << l.err;
    EXPECT_EQ(lines(l.out), 1 + 6 + 1u) << l.out;  // heading, frames, summary
    for (size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(contains(l.out, rows[i].name), i <= 5) << rows[i].name;

    RunResult u = dec({"--recover", "cut.qohi", "-o", "restored/"});
    ASSERT_EQ(u.exit_code, 3) << describe(u);
    EXPECT_EQ(u.err.rfind(warning, 0), 0u) << u.err;
    std::vector<std::string> kept;
    for (size_t i = 0; i <= 5; ++i) kept.push_back(rows[i].name);
    EXPECT_EQ(tree(path("restored")), expected_tree(kept));
    for (const std::string& n : kept) EXPECT_TRUE(same_pixels(path("photos/" + n), path("restored/" + n))) << n;

    RunResult one = dec({"-q", "--recover", "--frame", rows[2].name, "cut.qohi", "-o", "one.png"});
    ASSERT_EQ(one.exit_code, 3) << describe(one);
    EXPECT_EQ(one.err, "") << "-q: no warning";
    EXPECT_TRUE(same_pixels(path("photos/" + rows[2].name), path("one.png")));
    RunResult lost = dec({"--recover", "--frame", rows[7].name, "cut.qohi", "-o", "lost.png"});
    EXPECT_EQ(lost.exit_code, 1);
    EXPECT_TRUE(contains(lost.err, "no frame named")) << lost.err;

    // A complete archive: the same listing as without --recover, no warning.
    RunResult a = dec({"--list", "album.qohi"});
    RunResult b = dec({"--recover", "--list", "album.qohi"});
    ASSERT_EQ(b.exit_code, 0) << describe(b);
    EXPECT_EQ(b.err, "");
    EXPECT_EQ(b.out, a.out);
}

// Options that make no sense are usage errors (exit 2), and nothing is written.
TEST_F(CollectionTest, UsageErrors) {
    const std::vector<std::vector<std::string>> cases = {
        {"photos", "--mode", "bogus"},
        {"photos", "--mode"},
        {"photos", "--keyframe-every", "0"},
        {"photos", "--keyframe-every", "x"},
        {"photos", "--mode", "prior", "--keyframe-every", "2"},
        {"photos", "--max-depth", "65536"},
        {"photos", "--max-depth", "-1"},
        {"photos", "--mode", "auto", "--mode", "none"},
        {"photos/a.png", "--mode", "prior"},
        {"photos/a.png", "--baseline", "photos/sub/b.png"},
    };
    for (const auto& args : cases) {
        SCOPED_TRACE("qohienc " + join_args(args));
        RunResult r = enc(args);
        EXPECT_TRUE(is_usage_error(r, "qohienc"));
        EXPECT_EQ(lines(r.err), 1u) << r.err;
    }
    std::set<std::string> top;
    for (const auto& entry : fs::directory_iterator(dir_)) top.insert(entry.path().filename().string());
    EXPECT_EQ(top, std::set<std::string>{"photos"});
}

// The help texts describe the new options.
TEST_F(CollectionTest, HelpMentionsCollections) {
    RunResult r = enc({"--help"});
    ASSERT_EQ(r.exit_code, 0);
    for (const char* opt : {"FOLDER", "--mode", "--keyframe-every", "--max-depth", "--baseline", "--verify",
                            "--progress"}) {
        EXPECT_TRUE(contains(r.out, opt)) << opt;
    }
    r = dec({"--help"});
    ASSERT_EQ(r.exit_code, 0);
    for (const char* opt : {"FOLDER", "--list", "--frame", "--recover"}) EXPECT_TRUE(contains(r.out, opt)) << opt;
}

// ------------------------------------------------ the folder's listing

TEST_F(CollectionTest, ScanFolderListsInByteOrder) {
    write_bytes(path("photos/B.png"), Bytes{1});
    write_bytes(path("photos/\xc3\xa9t\xc3\xa9.png"), Bytes{2});
    write_bytes(path("photos/a-b.png"), Bytes{3});
    qohi_tools::FolderListing listing;
    std::string error;
    ASSERT_TRUE(qohi_tools::scan_folder(path("photos"), listing, error)) << error;
    std::vector<std::string> got;
    for (const qohi_tools::FolderItem& item : listing.items) got.push_back(listing.name(item));
    std::vector<std::string> want;
    for (const std::string& name : tree(path("photos")))
        want.push_back(name.back() == '/' ? name.substr(0, name.size() - 1) : name);  // folders end in '/'

    std::sort(want.begin(), want.end());
    EXPECT_EQ(got, want);
    for (const qohi_tools::FolderItem& item : listing.items) {
        const std::string name = listing.name(item);
        EXPECT_EQ(item.kind == qohi_tools::FolderItem::kFolder, fs::is_directory(path("photos/" + name))) << name;
        EXPECT_TRUE(item.attributes.unpacked().present) << name;
        if (name == "notes.txt") {
            EXPECT_EQ(item.size, 3u);
        }
    }
}

TEST(NameListTest, BuildsBackEveryName) {
    std::vector<std::string> names = {"", "a", "ab", "abc", "ab", "", "b/c/d.png", "b/c/e.png", std::string(300, 'x'),
                                      std::string(299, 'x') + "y", "\xc3\xa9t\xc3\xa9", "\xc3\xa9"};
    for (int k = 0; k < 100; ++k) names.push_back("d" + std::to_string(k / 7) + "/i" + std::to_string(k) + ".png");
    qohi_tools::NameList list;
    for (const std::string& n : names) list.push_back(n);
    ASSERT_EQ(list.size(), names.size());
    for (size_t k = 0; k < names.size(); ++k) EXPECT_EQ(list[k], names[k]) << k;
    list.shrink_to_fit();
    list.push_back("d14/i99.png");  // after shrinking still right
    names.push_back("d14/i99.png");
    for (size_t k = 0; k < names.size(); ++k) EXPECT_EQ(list[k], names[k]) << k;
}

}  // namespace
