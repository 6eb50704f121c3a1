// Unit tests of the tools' PNG reader and writer (tools/common/png_io.*):
// metadata (iCCP, eXIf, tEXt, zTXt, iTXt, XMP) in and out, and that pixels
// and errors are as before.
//
// Fixtures are written two ways, both independent of png_io: with libpng's
// own writer (png_set_iCCP, png_set_eXIf_1, png_set_text, before and after
// IDAT), and chunk by chunk (chunk order and malformed chunks libpng's writer
// cannot produce).
#include <gtest/gtest.h>
#include <png.h>
#include <qohi/qohi.h>
#include <zlib.h>

#include <algorithm>
#include <csetjmp>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <cstring>
#include <string>
#include <vector>

#include "frame_metadata.h"
#include "png_io.h"

namespace {

using qohi_tools::Image;
using qohi_tools::kMetadataExif;
using qohi_tools::kMetadataIcc;
using qohi_tools::kMetadataText;
using qohi_tools::kMetadataXmp;
using qohi_tools::Metadata;
using Bytes = std::vector<uint8_t>;

static_assert(kMetadataIcc == QOHI_METADATA_ICC, "kinds match qohi.h");
static_assert(kMetadataExif == QOHI_METADATA_EXIF, "kinds match qohi.h");
static_assert(kMetadataXmp == QOHI_METADATA_XMP, "kinds match qohi.h");
static_assert(kMetadataText == QOHI_METADATA_TEXT, "kinds match qohi.h");

// ------------------------------------------------------------ values

Bytes bytes_of(const std::string& s) { return Bytes(s.begin(), s.end()); }

Metadata item(uint32_t kind, const std::string& key, const std::string& data) {
    return Metadata{kind, key, bytes_of(data)};
}
Metadata text_item(const std::string& key, const std::string& utf8) {
    return item(kMetadataText, key, utf8);
}

std::string printable(const std::string& s) {
    std::string out;
    for (unsigned char c : s.substr(0, 60)) {
        if (c >= 0x20 && c < 0x7f) {
            out += static_cast<char>(c);
        } else {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02X", c);
            out += hex;
        }
    }
    return s.size() > 60 ? out + "...(" + std::to_string(s.size()) + " bytes)" : out;
}

std::string describe(const std::vector<Metadata>& items) {
    std::string out;
    for (const Metadata& m : items) {
        out += "  kind " + std::to_string(m.kind) + " key \"" + printable(m.key) + "\" data \"" +
               printable(std::string(m.data.begin(), m.data.end())) + "\"\n";
    }
    return out.empty() ? "  (none)\n" : out;
}

::testing::AssertionResult same_metadata(const std::vector<Metadata>& want,
                                         const std::vector<Metadata>& got) {
    if (want == got) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "want:\n" << describe(want) << "got:\n" << describe(got);
}

// A small ICC profile libpng accepts: a v2 header ("acsp", D50, PCS XYZ) for
// `space` ("RGB " or "GRAY"), one tag pointing at filler bytes.
Bytes make_icc(const char* space = "RGB ", uint32_t size = 240, uint8_t major = 2) {
    Bytes p(size, 0);
    auto put32 = [&](size_t at, uint32_t v) {
        p[at] = uint8_t(v >> 24), p[at + 1] = uint8_t(v >> 16), p[at + 2] = uint8_t(v >> 8),
        p[at + 3] = uint8_t(v);
    };
    auto put4 = [&](size_t at, const char* s) { std::memcpy(&p[at], s, 4); };
    put32(0, size);
    p[8] = major;
    p[9] = 0x10;
    put4(12, "mntr");
    put4(16, space);
    put4(20, "XYZ ");
    put4(36, "acsp");
    put32(64, 0);  // perceptual
    put32(68, 0x0000F6D6);
    put32(72, 0x00010000);
    put32(76, 0x0000D32D);
    put32(128, 1);  // one tag
    put4(132, "desc");
    put32(136, 144);
    put32(140, size - 144);
    for (uint32_t i = 144; i < size; ++i) p[i] = uint8_t(i * 7 + 3);
    return p;
}

// EXIF as in eXIf: a big-endian TIFF header, an empty IFD, then filler.
Bytes make_exif() {
    const uint8_t head[] = {'M', 'M', 0, 42, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0xE9, 0x00, 0xFF, 0x7F};
    return Bytes(std::begin(head), std::end(head));
}

// Test pixels: a pattern that differs in every channel.
Bytes pattern(uint32_t width, uint32_t height, uint32_t channels, uint32_t seed = 0) {
    Bytes px(size_t{width} * height * channels);
    for (size_t i = 0; i < px.size(); ++i) px[i] = uint8_t(i * 37 + seed * 11 + (i >> 5));
    return px;
}

// ------------------------------------------------------------ libpng writer

struct Fixture {
    uint32_t width = 5;
    uint32_t height = 4;
    int color_type = PNG_COLOR_TYPE_RGB;
    int bit_depth = 8;
    int interlace = PNG_INTERLACE_NONE;
    std::vector<png_color> palette;   // PLTE if not empty
    Bytes trns_alpha;                 // palette tRNS if not empty
    bool has_key = false;             // grey / RGB tRNS
    png_color_16 key{};
    Bytes pixels;                     // rows as libpng wants them
    std::vector<png_bytep> rows;      // filled by write_fixture's caller
    const Bytes* icc = nullptr;
    const char* icc_name = nullptr;
    const Bytes* exif_before = nullptr;
    const Bytes* exif_after = nullptr;
    std::vector<png_text> text_before;
    std::vector<png_text> text_after;  // written by png_write_end, after IDAT
};

// png_text pointing at `key` and `text`, which must outlive the write.
png_text make_text(int compression, const std::string& key, const std::string& text) {
    png_text t;
    std::memset(&t, 0, sizeof t);
    t.compression = compression;
    t.key = const_cast<char*>(key.c_str());
    t.text = const_cast<char*>(text.c_str());
    t.text_length = text.size();
    return t;
}

extern "C" void fixture_write(png_structp png, png_bytep data, size_t size) {
    auto* out = static_cast<Bytes*>(png_get_io_ptr(png));
    out->insert(out->end(), data, data + size);
}
extern "C" void fixture_error(png_structp png, png_const_charp message) {
    std::fprintf(stderr, "fixture libpng error: %s\n", message);
    png_longjmp(png, 1);
}
extern "C" void fixture_warning(png_structp, png_const_charp message) {
    std::fprintf(stderr, "fixture libpng warning: %s\n", message);
}

// No C++ object with a destructor lives in this frame (setjmp).
bool write_fixture_png(Fixture* f, Bytes* out) {
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, fixture_error,
                                              fixture_warning);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return false;
    }
    png_set_write_fn(png, out, fixture_write, nullptr);
    png_set_IHDR(png, info, f->width, f->height, f->bit_depth, f->color_type, f->interlace,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (!f->palette.empty()) {
        png_set_PLTE(png, info, f->palette.data(), static_cast<int>(f->palette.size()));
    }
    if (!f->trns_alpha.empty() || f->has_key) {
        png_set_tRNS(png, info, f->trns_alpha.empty() ? nullptr : f->trns_alpha.data(),
                     static_cast<int>(f->trns_alpha.size()), f->has_key ? &f->key : nullptr);
    }
    if (f->icc) {
        png_set_iCCP(png, info, f->icc_name, 0, f->icc->data(),
                     static_cast<png_uint_32>(f->icc->size()));
    }
    if (f->exif_before) {
        png_set_eXIf_1(png, info, static_cast<png_uint_32>(f->exif_before->size()),
                       const_cast<png_bytep>(f->exif_before->data()));
    }
    if (!f->text_before.empty()) {
        png_set_text(png, info, f->text_before.data(), static_cast<int>(f->text_before.size()));
    }
    png_write_info(png, info);
    // libpng 1.6.39 does not remember that png_write_info wrote eXIf, and
    // png_write_end would write it again.
    if (f->exif_before) png_set_invalid(png, info, PNG_INFO_eXIf);
    if (f->exif_after) {
        png_set_eXIf_1(png, info, static_cast<png_uint_32>(f->exif_after->size()),
                       const_cast<png_bytep>(f->exif_after->data()));
    }
    if (!f->text_after.empty()) {
        png_set_text(png, info, f->text_after.data(), static_cast<int>(f->text_after.size()));
    }
    png_write_image(png, f->rows.data());
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    return true;
}

Bytes write_fixture(Fixture& f) {
    const int samples = f.color_type == PNG_COLOR_TYPE_GRAY         ? 1
                        : f.color_type == PNG_COLOR_TYPE_GRAY_ALPHA ? 2
                        : f.color_type == PNG_COLOR_TYPE_RGB        ? 3
                                                                    : 4;
    const int per_pixel = f.color_type == PNG_COLOR_TYPE_PALETTE ? 1 : samples;
    const size_t row_bytes = (size_t{f.width} * per_pixel * f.bit_depth + 7) / 8;
    if (f.pixels.empty()) f.pixels = pattern(f.width, f.height, uint32_t(row_bytes / f.width));
    f.rows.resize(f.height);
    for (uint32_t y = 0; y < f.height; ++y) f.rows[y] = f.pixels.data() + y * row_bytes;
    Bytes out;
    if (!write_fixture_png(&f, &out)) out.clear();
    return out;
}

// ------------------------------------------------------------ chunks by hand

struct Chunk {
    std::string type;
    Bytes data;
    bool bad_crc = false;
};

Bytes assemble(const std::vector<Chunk>& chunks) {
    Bytes out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    for (const Chunk& c : chunks) {
        const auto n = static_cast<uint32_t>(c.data.size());
        const uint8_t len[4] = {uint8_t(n >> 24), uint8_t(n >> 16), uint8_t(n >> 8), uint8_t(n)};
        out.insert(out.end(), len, len + 4);
        const size_t body = out.size();
        out.insert(out.end(), c.type.begin(), c.type.end());
        out.insert(out.end(), c.data.begin(), c.data.end());
        uint32_t crc = static_cast<uint32_t>(
            crc32(0, out.data() + body, static_cast<uInt>(out.size() - body)));
        if (c.bad_crc) crc ^= 1;
        const uint8_t tail[4] = {uint8_t(crc >> 24), uint8_t(crc >> 16), uint8_t(crc >> 8),
                                 uint8_t(crc)};
        out.insert(out.end(), tail, tail + 4);
    }
    return out;
}

std::vector<Chunk> split(const Bytes& png) {
    std::vector<Chunk> chunks;
    size_t pos = 8;
    while (pos + 12 <= png.size()) {
        const uint32_t n = uint32_t{png[pos]} << 24 | uint32_t{png[pos + 1]} << 16 |
                           uint32_t{png[pos + 2]} << 8 | png[pos + 3];
        if (png.size() - pos - 12 < n) break;
        Chunk c;
        c.type.assign(reinterpret_cast<const char*>(&png[pos + 4]), 4);
        c.data.assign(png.begin() + long(pos + 8), png.begin() + long(pos + 8 + n));
        chunks.push_back(c);
        pos += 12 + size_t{n};
    }
    return chunks;
}

std::vector<std::string> types_of(const std::vector<Chunk>& chunks) {
    std::vector<std::string> types;
    for (const Chunk& c : chunks) types.push_back(c.type);
    return types;
}

Bytes deflate(const Bytes& data) {
    uLongf size = compressBound(static_cast<uLong>(data.size()));
    Bytes out(size);
    EXPECT_EQ(compress2(out.data(), &size, data.data(), static_cast<uLong>(data.size()), 9), Z_OK);
    out.resize(size);
    return out;
}

Bytes concat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}
const Bytes kNul = {0};

Chunk tEXt(const std::string& key, const std::string& latin1) {
    return {"tEXt", concat({bytes_of(key), kNul, bytes_of(latin1)})};
}
Chunk zTXt(const std::string& key, const std::string& latin1) {
    return {"zTXt", concat({bytes_of(key), kNul, kNul, deflate(bytes_of(latin1))})};
}
Chunk iTXt(const std::string& key, const std::string& utf8, bool compressed = false,
           const std::string& lang = "", const std::string& translated = "") {
    const Bytes flags = {uint8_t(compressed ? 1 : 0), 0};
    return {"iTXt", concat({bytes_of(key), kNul, flags, bytes_of(lang), kNul, bytes_of(translated),
                            kNul, compressed ? deflate(bytes_of(utf8)) : bytes_of(utf8)})};
}
Chunk iCCP(const std::string& name, const Bytes& profile) {
    return {"iCCP", concat({bytes_of(name), kNul, kNul, deflate(profile)})};
}
Chunk eXIf(const Bytes& exif) { return {"eXIf", exif}; }

// A plain 5x4 RGB PNG written by libpng, as chunks: IHDR, IDAT..., IEND.
std::vector<Chunk> base_chunks(Bytes* pixels = nullptr) {
    Fixture f;
    const Bytes png = write_fixture(f);
    if (pixels) *pixels = f.pixels;
    return split(png);
}

// `chunks` with `before` inserted after IHDR and `after` after the last IDAT.
Bytes with_chunks(std::vector<Chunk> chunks, const std::vector<Chunk>& before,
                  const std::vector<Chunk>& after) {
    EXPECT_EQ(chunks.front().type, "IHDR");
    EXPECT_EQ(chunks.back().type, "IEND");
    chunks.insert(chunks.end() - 1, after.begin(), after.end());
    chunks.insert(chunks.begin() + 1, before.begin(), before.end());
    return assemble(chunks);
}

// ------------------------------------------------------------ strict reader

extern "C" void strict_error(png_structp png, png_const_charp message) {
    auto* log = static_cast<std::string*>(png_get_error_ptr(png));
    *log += std::string("error: ") + message + "\n";
    png_longjmp(png, 1);
}
extern "C" void strict_warning(png_structp png, png_const_charp message) {
    auto* log = static_cast<std::string*>(png_get_error_ptr(png));
    *log += std::string("warning: ") + message + "\n";
}
extern "C" void strict_read(png_structp png, png_bytep out, size_t size) {
    auto* in = static_cast<std::pair<const Bytes*, size_t>*>(png_get_io_ptr(png));
    if (in->first->size() - in->second < size) png_error(png, "truncated");
    std::memcpy(out, in->first->data() + in->second, size);
    in->second += size;
}

bool strict_read_png(std::pair<const Bytes*, size_t>* in, std::string* log) {
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, log, strict_error,
                                             strict_warning);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, nullptr);
        return false;
    }
    png_set_benign_errors(png, 0);  // what libpng would drop is an error here
    png_set_chunk_malloc_max(png, 0);
    png_set_read_fn(png, in, strict_read);
    png_read_png(png, info, PNG_TRANSFORM_IDENTITY, nullptr);
    png_destroy_read_struct(&png, &info, nullptr);
    return true;
}

// libpng reads `png` without a single warning or benign error.
::testing::AssertionResult clean_png(const Bytes& png) {
    std::pair<const Bytes*, size_t> in(&png, 0);
    std::string log;
    const bool ok = strict_read_png(&in, &log);
    if (ok && log.empty()) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "libpng complains:\n" << log;
}

Image decode(const Bytes& png) {
    Image image;
    std::string error;
    EXPECT_TRUE(qohi_tools::decode_png(png.data(), png.size(), image, error)) << error;
    return image;
}

Bytes encode(const Image& image, std::vector<std::string>* skipped = nullptr) {
    Bytes png;
    std::string error;
    EXPECT_TRUE(qohi_tools::encode_png(image, -1, png, error, skipped)) << error;
    return png;
}

std::string utf8_of_latin1(const std::string& latin1) {
    std::string out;
    for (unsigned char c : latin1) {
        if (c < 0x80) {
            out += static_cast<char>(c);
        } else {
            out += static_cast<char>(0xC0 | (c >> 6));
            out += static_cast<char>(0x80 | (c & 0x3F));
        }
    }
    return out;
}

// Long texts for the compressed chunks.
std::string long_latin1() {
    std::string s;
    while (s.size() < 3000) s += "Cr\xE8me br\xFBl\xE9" "e, na\xEFve fa\xE7" "ade. ";
    return s;
}
std::string long_utf8() {
    std::string s;
    while (s.size() < 3000) s += "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E text \xF0\x9F\x93\xB7 ";
    return s;
}
const std::string kXmp =
    "<?xpacket begin=\"\xEF\xBB\xBF\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>"
    "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/"
    "22-rdf-syntax-ns#\"><rdf:Description dc:title=\"\xE6\x97\xA5\xE6\x9C\xAC\"/></rdf:RDF>"
    "</x:xmpmeta><?xpacket end=\"w\"?>";
const std::string kNihon = "\xE6\x97\xA5\xE6\x9C\xAC";  // 日本

// ------------------------------------------------------------ tests

TEST(PngIoKeyword, FollowsThePngRules) {
    EXPECT_TRUE(qohi_tools::is_png_keyword("Title"));
    EXPECT_TRUE(qohi_tools::is_png_keyword("Creation Time"));
    EXPECT_TRUE(qohi_tools::is_png_keyword("L\xE9gende"));
    EXPECT_TRUE(qohi_tools::is_png_keyword("XML:com.adobe.xmp"));
    EXPECT_TRUE(qohi_tools::is_png_keyword(std::string(79, 'k')));
    EXPECT_FALSE(qohi_tools::is_png_keyword(""));
    EXPECT_FALSE(qohi_tools::is_png_keyword(std::string(80, 'k')));
    EXPECT_FALSE(qohi_tools::is_png_keyword(" Title"));
    EXPECT_FALSE(qohi_tools::is_png_keyword("Title "));
    EXPECT_FALSE(qohi_tools::is_png_keyword("Two  spaces"));
    EXPECT_FALSE(qohi_tools::is_png_keyword("tab\tkey"));
    EXPECT_FALSE(qohi_tools::is_png_keyword(std::string("nul\0key", 7)));
    EXPECT_FALSE(qohi_tools::is_png_keyword("nbsp\xA0key"));
    EXPECT_FALSE(qohi_tools::is_png_keyword("del\x7Fkey"));
}

TEST(PngIoDecode, ReadsEveryKindWrittenByLibpng) {
    const Bytes icc = make_icc();
    const Bytes exif = make_exif();
    const std::string latin1_title = "Caf\xE9 cr\xE8me \xA9 \xFF";
    const std::string description = long_latin1();
    const std::string comment = "written after IDAT";
    const std::string copyright = "\xC2\xA9 2024 " + kNihon;
    const std::string k_title = "Title", k_legend = "L\xE9gende", k_desc = "Description",
                      k_author = "Author", k_xmp = "XML:com.adobe.xmp", k_comment = "Comment",
                      k_copyright = "Copyright", legend = "l\xE9gende";
    Fixture f;
    f.icc = &icc;
    f.icc_name = "Test RGB \xE9";
    f.exif_before = &exif;
    f.text_before = {make_text(PNG_TEXT_COMPRESSION_NONE, k_title, latin1_title),
                     make_text(PNG_TEXT_COMPRESSION_NONE, k_legend, legend),
                     make_text(PNG_TEXT_COMPRESSION_zTXt, k_desc, description),
                     make_text(PNG_ITXT_COMPRESSION_NONE, k_author, kNihon),
                     make_text(PNG_ITXT_COMPRESSION_zTXt, k_xmp, kXmp)};
    f.text_after = {make_text(PNG_TEXT_COMPRESSION_NONE, k_comment, comment),
                    make_text(PNG_ITXT_COMPRESSION_zTXt, k_copyright, copyright)};
    const Bytes png = write_fixture(f);
    ASSERT_FALSE(png.empty());
    // The fixture really has every chunk type, some after IDAT.
    const std::vector<std::string> want_types = {"IHDR", "iCCP", "eXIf", "tEXt", "tEXt",
                                                 "zTXt", "iTXt", "iTXt", "IDAT", "tEXt",
                                                 "iTXt", "IEND"};
    ASSERT_EQ(types_of(split(png)), want_types);

    const Image image = decode(png);
    EXPECT_EQ(image.width, 5u);
    EXPECT_EQ(image.height, 4u);
    EXPECT_EQ(image.channels, 3u);
    EXPECT_EQ(image.pixels, f.pixels);
    const std::vector<Metadata> want = {
        Metadata{kMetadataIcc, "Test RGB \xE9", icc},
        Metadata{kMetadataExif, "", exif},
        text_item("Title", "Caf\xC3\xA9 cr\xC3\xA8me \xC2\xA9 \xC3\xBF"),
        text_item("L\xE9gende", "l\xC3\xA9gende"),
        text_item("Description", utf8_of_latin1(description)),
        text_item("Author", kNihon),
        item(kMetadataXmp, "", kXmp),
        text_item("Comment", comment),
        text_item("Copyright", copyright),
    };
    EXPECT_TRUE(same_metadata(want, image.metadata));
}

TEST(PngIoDecode, ConvertsEveryLatin1ByteToUtf8) {
    std::string all;
    for (int c = 1; c < 256; ++c) all += static_cast<char>(c);
    std::string want;
    for (int c = 1; c < 0x80; ++c) want += static_cast<char>(c);
    for (int c = 0x80; c < 0x100; ++c) {
        want += static_cast<char>(0xC0 | (c >> 6));
        want += static_cast<char>(0x80 | (c & 0x3F));
    }
    const Bytes png = with_chunks(base_chunks(), {tEXt("Plain", all), zTXt("Packed", all)}, {});
    const Image image = decode(png);
    EXPECT_TRUE(same_metadata({text_item("Plain", want), text_item("Packed", want)},
                              image.metadata));
    // And back: these are not all tEXt material (controls), but they survive.
    const Image again = decode(encode(image));
    EXPECT_TRUE(same_metadata(image.metadata, again.metadata));
}

TEST(PngIoDecode, KeepsFileOrderAcrossKinds) {
    const Bytes icc = make_icc();
    const Bytes exif = make_exif();
    Bytes pixels;
    const Bytes png = with_chunks(
        base_chunks(&pixels),
        {tEXt("A", "first"), iCCP("Profile", icc), zTXt("B", "second"), eXIf(exif),
         iTXt("C", kNihon, false, "ja", "\xE6\x97\xA5")},
        {tEXt("D", "after"), iTXt("XML:com.adobe.xmp", kXmp), zTXt("E", "last \xE9")});
    const Image image = decode(png);
    EXPECT_EQ(image.pixels, pixels);
    const std::vector<Metadata> want = {
        text_item("A", "first"),        Metadata{kMetadataIcc, "Profile", icc},
        text_item("B", "second"),       Metadata{kMetadataExif, "", exif},
        text_item("C", kNihon),         text_item("D", "after"),
        item(kMetadataXmp, "", kXmp),   text_item("E", "last \xC3\xA9"),
    };
    EXPECT_TRUE(same_metadata(want, image.metadata));
}

TEST(PngIoDecode, ExifAfterIdatAndOnlyTheFirstExif) {
    const Bytes exif = make_exif();
    Bytes other = make_exif();
    other[0] = other[1] = 'I';
    other[2] = 42;
    other[3] = 0;
    // eXIf after IDAT, written by libpng.
    {
        Fixture f;
        const std::string k = "Before", v = "text";
        f.text_before = {make_text(PNG_TEXT_COMPRESSION_NONE, k, v)};
        f.exif_after = &exif;
        const Bytes png = write_fixture(f);
        ASSERT_EQ(types_of(split(png)),
                  (std::vector<std::string>{"IHDR", "tEXt", "IDAT", "eXIf", "IEND"}));
        EXPECT_TRUE(same_metadata({text_item("Before", "text"), Metadata{kMetadataExif, "", exif}},
                                  decode(png).metadata));
    }
    // One before and one after: the first only (PNG allows one).
    {
        const Bytes png = with_chunks(base_chunks(), {eXIf(exif)}, {tEXt("T", "x"), eXIf(other)});
        EXPECT_TRUE(same_metadata({Metadata{kMetadataExif, "", exif}, text_item("T", "x")},
                                  decode(png).metadata));
    }
}

TEST(PngIoDecode, SkipsMalformedMetadataAndKeepsTheImage) {
    const std::string too_long(80, 'k');
    Bytes bad_zlib = concat({bytes_of("Broken"), kNul, kNul, Bytes{0x78, 0x9C, 0xFF, 0xFF, 0x00}});
    Bytes bad_method = concat({bytes_of("Method"), kNul, Bytes{1}, deflate(bytes_of("x"))});
    Bytes bad_itxt_flag = concat({bytes_of("Flag"), kNul, Bytes{7, 0}, kNul, kNul, bytes_of("x")});
    Bytes garbage_profile(200);
    for (size_t i = 0; i < garbage_profile.size(); ++i) garbage_profile[i] = uint8_t(i);
    const Bytes exif_bad_order = {'X', 'Y', 0, 42, 0, 0, 0, 8};
    const Bytes exif_with_prefix = concat({bytes_of(std::string("Exif\0\0", 6)), make_exif()});
    const Bytes exif_too_short = {'I', 'I', 42, 0};
    Chunk bad_crc = tEXt("Crc", "damaged");
    bad_crc.bad_crc = true;

    Bytes pixels;
    const std::vector<Chunk> before = {
        tEXt("", "empty keyword"),
        tEXt(too_long, "keyword too long"),
        tEXt(" Lead", "leading space"),
        tEXt("Good1", "kept"),
        Chunk{"zTXt", bad_zlib},
        Chunk{"zTXt", bad_method},
        Chunk{"iTXt", bad_itxt_flag},
        iTXt("NotUtf8", "\xFF\xFE bad"),
        iTXt("XML:com.adobe.xmp", "\xC0\x80 overlong"),
        iCCP("Garbage", garbage_profile),
        eXIf(exif_bad_order),
        bad_crc,
    };
    const std::vector<Chunk> after = {
        eXIf(exif_with_prefix), eXIf(exif_too_short), tEXt("Good2", "kept too"),
        iCCP("Late", make_icc()),  // iCCP must precede IDAT
    };
    const Bytes png = with_chunks(base_chunks(&pixels), before, after);
    const Image image = decode(png);
    EXPECT_EQ(image.width, 5u);
    EXPECT_EQ(image.pixels, pixels);
    EXPECT_TRUE(same_metadata({text_item("Good1", "kept"), text_item("Good2", "kept too")},
                              image.metadata));
}

TEST(PngIoDecode, ReadsChunksLargerThanLibpngsDefaultLimit) {
    // libpng refuses chunks over 8,000,000 bytes unless told otherwise.
    const std::string big(9000000, 'x');
    const Bytes png = with_chunks(base_chunks(), {tEXt("Big", big)}, {zTXt("BigPacked", big)});
    const Image image = decode(png);
    // Both are over kMaxInflatedItem: they stay in the layout with no item,
    // the compressed one as the PNG compressed it, and the layout deflates
    // the other (spec §3.9.1, form 2): the archive holds no 9 MB of text.
    EXPECT_TRUE(image.metadata.empty());
    ASSERT_EQ(image.layout.chunks.size(), 2u);
    EXPECT_FALSE(image.layout.chunks[0].from_item);
    EXPECT_FALSE(image.layout.chunks[1].from_item);
    std::vector<uint8_t> pngc;
    qohi_tools::to_library_metadata(image, pngc);
    EXPECT_LT(pngc.size(), size_t{1} << 20);
    qohi_tools::PngLayout back;
    std::string error;
    ASSERT_TRUE(qohi_tools::decode_png_layout(pngc.data(), pngc.size(), image.metadata, back, error)) << error;
    EXPECT_TRUE(back == image.layout);
}

TEST(PngIoDecode, CompressedTextBombStaysCompressed) {
    // Ten zTXt chunks of 60 KiB, each inflating to 60 MiB: 600 MiB of text.
    // None is inflated into an item (each is over kMaxInflatedItem); all are
    // kept compressed in the layout, and the image still decodes.
    const std::string big(size_t{60} << 20, 'a');
    const Bytes packed = deflate(bytes_of(big));
    ASSERT_LT(packed.size(), size_t{1} << 20);
    std::vector<Chunk> bombs;
    for (int i = 0; i < 10; ++i) {
        bombs.push_back({"zTXt", concat({bytes_of("Bomb" + std::to_string(i)), kNul, kNul, packed})});
    }
    Bytes pixels;
    const Bytes png = with_chunks(base_chunks(&pixels), bombs, {tEXt("After", "small")});
    const Image image = decode(png);
    EXPECT_EQ(image.pixels, pixels);
    ASSERT_EQ(image.metadata.size(), 1u);
    EXPECT_TRUE(image.metadata.back() == text_item("After", "small"));
    ASSERT_EQ(image.layout.chunks.size(), 11u);
    for (size_t i = 0; i < 10; ++i) {
        EXPECT_FALSE(image.layout.chunks[i].from_item);
        EXPECT_TRUE(image.layout.chunks[i].data == bombs[i].data);
    }
}

TEST(PngIoDecode, GreyProfileOnGreyImage) {
    const Bytes grey_icc = make_icc("GRAY");
    Fixture f;
    f.color_type = PNG_COLOR_TYPE_GRAY;
    f.icc = &grey_icc;
    f.icc_name = "Grey";
    const Bytes png = write_fixture(f);
    const Image image = decode(png);
    ASSERT_EQ(image.channels, 3u);
    for (size_t i = 0; i < f.pixels.size(); ++i) {
        EXPECT_EQ(image.pixels[3 * i], f.pixels[i]);
        EXPECT_EQ(image.pixels[3 * i + 2], f.pixels[i]);
    }
    EXPECT_TRUE(same_metadata({Metadata{kMetadataIcc, "Grey", grey_icc}}, image.metadata));
    // With its layout the image is grey again, and so is its profile.
    {
        const Bytes out = encode(image);
        EXPECT_TRUE(clean_png(out));
        const Image back = decode(out);
        EXPECT_EQ(back.pixels, image.pixels);
        EXPECT_EQ(back.layout, image.layout);
        EXPECT_TRUE(same_metadata(image.metadata, back.metadata));
    }
    // Without it the pixels are written as RGB: a grey profile does not fit
    // them, so it is not written back, and the image still is.
    Image rgb = image;
    rgb.layout = qohi_tools::PngLayout();
    std::vector<std::string> skipped;
    const Bytes out = encode(rgb, &skipped);
    EXPECT_TRUE(clean_png(out));
    const Image back = decode(out);
    EXPECT_EQ(back.pixels, image.pixels);
    EXPECT_TRUE(back.metadata.empty()) << describe(back.metadata);
    ASSERT_EQ(skipped.size(), 1u);
    EXPECT_NE(skipped[0].find("ICC profile \"Grey\""), std::string::npos) << skipped[0];
    EXPECT_NE(skipped[0].find("libpng refused"), std::string::npos) << skipped[0];
}

TEST(PngIoDecode, ErrorsAreUnchanged) {
    // 16-bit: refused as before, metadata or not.
    {
        Fixture f;
        f.bit_depth = 16;
        const std::string k = "Title", v = "sixteen";
        f.text_before = {make_text(PNG_TEXT_COMPRESSION_NONE, k, v)};
        const Bytes png = write_fixture(f);
        ASSERT_FALSE(png.empty());
        Image image;
        std::string error;
        EXPECT_FALSE(qohi_tools::decode_png(png.data(), png.size(), image, error));
        EXPECT_EQ(error, "16-bit PNG is not supported yet (QOHI stores 8-bit channels)");
        EXPECT_TRUE(image.metadata.empty());
    }
    // Truncated inside a text chunk after IDAT: still an error.
    {
        Bytes png = with_chunks(base_chunks(), {tEXt("Before", "x")}, {tEXt("After", "abcdef")});
        png.resize(png.size() - 12 - 8);  // IEND and the tail of the tEXt chunk
        Image image;
        std::string error;
        EXPECT_FALSE(qohi_tools::decode_png(png.data(), png.size(), image, error));
        EXPECT_EQ(error, "truncated PNG (file ends before the image is complete)");
    }
    // Not a PNG.
    {
        const Bytes junk = bytes_of("GIF89a, not a PNG at all");
        Image image;
        std::string error;
        EXPECT_FALSE(qohi_tools::decode_png(junk.data(), junk.size(), image, error));
        EXPECT_EQ(error, "not a PNG file (bad signature)");
    }
}

// Everything a PNG can carry, in the order libpng writes it (profile, EXIF,
// then the texts in the order given).
std::vector<Metadata> all_kinds() {
    std::string c1 = "C1 control \xC2\x85 and NBSP \xC2\xA0";
    return {
        Metadata{kMetadataIcc, "ICC profile", make_icc()},
        Metadata{kMetadataExif, "", make_exif()},
        text_item("Title", "Caf\xC3\xA9"),                       // Latin-1, short: tEXt
        text_item("Description", utf8_of_latin1(long_latin1())),  // Latin-1, long: zTXt
        text_item("Author", kNihon),                              // not Latin-1: iTXt
        text_item("Story", long_utf8()),                          // compressed iTXt
        item(kMetadataXmp, "", kXmp),                             // iTXt XML:com.adobe.xmp
        text_item("Tabs", "a\tb\r\nc"),                           // controls: iTXt
        text_item("Controls", c1),                                // C1: iTXt
        text_item("Empty", ""),                                   // tEXt
        text_item("L\xE9gende", "x"),                             // Latin-1 keyword
    };
}

TEST(PngIoRoundTrip, PreservesMetadataAndPixels) {
    for (uint32_t channels : {3u, 4u}) {
        SCOPED_TRACE(channels);
        Image image;
        image.width = 7;
        image.height = 3;
        image.channels = channels;
        image.pixels = pattern(7, 3, channels, channels);
        image.metadata = all_kinds();
        std::vector<std::string> skipped;
        const Bytes png = encode(image, &skipped);
        EXPECT_TRUE(skipped.empty()) << skipped.front();
        EXPECT_TRUE(clean_png(png));
        const Image back = decode(png);
        EXPECT_EQ(back.width, image.width);
        EXPECT_EQ(back.height, image.height);
        EXPECT_EQ(back.channels, channels);
        EXPECT_EQ(back.pixels, image.pixels);
        EXPECT_TRUE(same_metadata(image.metadata, back.metadata));

        // The chunks chosen for each item.
        const std::vector<Chunk> chunks = split(png);
        std::vector<std::string> types;
        std::vector<int> itxt_compressed;
        for (const Chunk& c : chunks) {
            if (c.type == "IDAT") break;
            if (c.type == "IHDR") continue;
            types.push_back(c.type);
            if (c.type == "iTXt") {
                const size_t nul = std::find(c.data.begin(), c.data.end(), 0) - c.data.begin();
                itxt_compressed.push_back(c.data.at(nul + 1));
            }
        }
        const std::vector<std::string> want_types = {"iCCP", "eXIf", "tEXt", "zTXt", "iTXt", "iTXt",
                                                     "iTXt", "iTXt", "iTXt", "tEXt", "tEXt"};
        EXPECT_EQ(types, want_types);
        EXPECT_EQ(itxt_compressed, (std::vector<int>{0, 1, 0, 0, 0}));
        // XMP is findable as plain text in the file.
        const std::string file(png.begin(), png.end());
        EXPECT_NE(file.find("XML:com.adobe.xmp"), std::string::npos);
        EXPECT_NE(file.find("<x:xmpmeta"), std::string::npos);
    }
}

TEST(PngIoRoundTrip, ProfileAndExifComeFirst) {
    Image image;
    image.width = 2;
    image.height = 2;
    image.channels = 3;
    image.pixels = pattern(2, 2, 3);
    const Metadata icc{kMetadataIcc, "P", make_icc()};
    const Metadata exif{kMetadataExif, "", make_exif()};
    image.metadata = {text_item("A", "1"), item(kMetadataXmp, "", kXmp), exif, text_item("B", "2"),
                      icc};
    const Image back = decode(encode(image));
    EXPECT_TRUE(same_metadata(
        {icc, exif, text_item("A", "1"), item(kMetadataXmp, "", kXmp), text_item("B", "2")},
        back.metadata));
    EXPECT_EQ(back.pixels, image.pixels);
}

TEST(PngIoEncode, SkipsWhatAPngCannotHold) {
    Image image;
    image.width = 3;
    image.height = 2;
    image.channels = 4;
    image.pixels = pattern(3, 2, 4);
    const Metadata icc{kMetadataIcc, "Good profile", make_icc()};
    const Metadata exif{kMetadataExif, "", make_exif()};
    Bytes exif_le = make_exif();
    exif_le[0] = exif_le[1] = 'I';
    exif_le[2] = 42;
    exif_le[3] = 0;
    image.metadata = {
        Metadata{kMetadataIcc, "Bad  name", make_icc()},      // 1: keyword
        icc,                                                  // 2: kept
        Metadata{kMetadataIcc, "Second", make_icc()},         // 3: one profile per PNG
        Metadata{kMetadataExif, "", bytes_of(std::string("Exif\0\0MM\0*", 10))},  // 4: no TIFF header
        exif,                                                 // 5: kept
        Metadata{kMetadataExif, "", exif_le},                 // 6: one EXIF per PNG
        text_item("", "empty keyword"),                       // 7
        text_item(std::string(80, 'k'), "long keyword"),      // 8
        text_item(" Lead", "leading space"),                  // 9
        text_item("Two  spaces", "x"),                        // 10
        text_item("Tab\tkey", "x"),                           // 11
        text_item(std::string("Nul\0key", 7), "x"),           // 12
        text_item("Good", "kept"),                            // 13: kept
        text_item("NulText", std::string("a\0b", 3)),         // 14
        text_item("NotUtf8", "\xFF"),                         // 15
        text_item("Surrogate", "\xED\xA0\x80"),               // 16
        item(kMetadataXmp, "", std::string("<x\0>", 4)),      // 17
        item(kMetadataXmp, "", "\xC3"),                       // 18: truncated UTF-8
        Metadata{0, "zero", bytes_of("x")},                   // 19
        Metadata{99, "unknown", bytes_of("x")},               // 20
        text_item("Good2", kNihon),                           // 21: kept
    };
    std::vector<std::string> skipped;
    const Bytes png = encode(image, &skipped);
    ASSERT_FALSE(png.empty());
    EXPECT_TRUE(clean_png(png));
    const Image back = decode(png);
    EXPECT_EQ(back.pixels, image.pixels);
    EXPECT_TRUE(same_metadata({icc, exif, text_item("Good", "kept"), text_item("Good2", kNihon)},
                              back.metadata));
    std::string all;
    for (const std::string& s : skipped) all += s + "\n";
    ASSERT_EQ(skipped.size(), 17u) << all;
    EXPECT_EQ(skipped[0], "metadata item 1 (ICC profile \"Bad  name\"): the profile name is not a valid PNG keyword");
    EXPECT_EQ(skipped[1], "metadata item 3 (ICC profile \"Second\"): a PNG holds one ICC profile");
    EXPECT_EQ(skipped[2], "metadata item 4 (EXIF): does not start with a TIFF header");
    EXPECT_EQ(skipped[9], "metadata item 12 (text \"Nul\\x00key\"): the keyword is not a valid PNG keyword");
    EXPECT_EQ(skipped[10], "metadata item 14 (text \"NulText\"): contains a NUL byte");
    EXPECT_EQ(skipped[11], "metadata item 15 (text \"NotUtf8\"): not valid UTF-8");
    EXPECT_EQ(skipped[16], "metadata item 20 (kind 99): unknown kind");
}

TEST(PngIoEncode, SkipsProfilesLibpngRefuses) {
    Bytes no_signature = make_icc();
    no_signature[36] = 'x';
    Bytes wrong_length = make_icc();
    wrong_length[3] ^= 4;
    const Bytes v4_odd_length = make_icc("RGB ", 242, 4);
    for (const Bytes* profile : std::vector<const Bytes*>{&no_signature, &wrong_length, &v4_odd_length}) {
        Image image;
        image.width = 2;
        image.height = 1;
        image.channels = 3;
        image.pixels = pattern(2, 1, 3);
        image.metadata = {Metadata{kMetadataIcc, "Bad", *profile}, text_item("After", "kept")};
        std::vector<std::string> skipped;
        const Bytes png = encode(image, &skipped);
        ASSERT_FALSE(png.empty());
        EXPECT_TRUE(clean_png(png));
        const Image back = decode(png);
        EXPECT_EQ(back.pixels, image.pixels);
        EXPECT_TRUE(same_metadata({text_item("After", "kept")}, back.metadata));
        ASSERT_EQ(skipped.size(), 1u);
        EXPECT_EQ(skipped[0], "metadata item 1 (ICC profile \"Bad\"): libpng refused the profile");
    }
}

TEST(PngIoEncode, LimitsTextChunksAndSizes) {
    Image image;
    image.width = 1;
    image.height = 1;
    image.channels = 3;
    image.pixels = {1, 2, 3};
    for (size_t i = 0; i < qohi_tools::kMaxTextChunks + 2; ++i) {
        image.metadata.push_back(text_item("K" + std::to_string(i), std::to_string(i)));
    }
    image.metadata.push_back(
        Metadata{kMetadataExif, "", Bytes(qohi_tools::kMaxMetadataSize + 1, 'M')});
    image.metadata.back().data[2] = 0;
    image.metadata.back().data[3] = 42;
    std::vector<std::string> skipped;
    const Bytes png = encode(image, &skipped);
    EXPECT_EQ(skipped.size(), 3u);
    const Image back = decode(png);
    ASSERT_EQ(back.metadata.size(), qohi_tools::kMaxTextChunks);
    EXPECT_TRUE(std::equal(back.metadata.begin(), back.metadata.end(), image.metadata.begin()));
}

TEST(PngIoDecode, ReadsTheTestDataTextChunk) {
    // tests/data/trash-rgba.png carries two tEXt chunks from its source icon.
    const std::string path = std::string(QOHI_TEST_DATA_DIR) + "/trash-rgba.png";
    FILE* file = std::fopen(path.c_str(), "rb");
    ASSERT_NE(file, nullptr) << path;
    Bytes png;
    uint8_t buffer[65536];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) png.insert(png.end(), buffer, buffer + n);
    std::fclose(file);
    const Image image = decode(png);
    EXPECT_EQ(image.width, 256u);
    EXPECT_TRUE(same_metadata({text_item("Software", "www.inkscape.org"),
                               text_item("Author", "Jakub Steiner")},
                              image.metadata));
}


// ------------------------------------------------------------ layouts

// Samples packed into rows of `depth` bits each.
Bytes pack(const std::vector<unsigned>& v, uint32_t width, uint32_t height, int per_pixel, int depth) {
    const size_t row_samples = size_t{width} * per_pixel;
    const size_t row_bytes = (row_samples * depth + 7) / 8;
    Bytes out(row_bytes * height, 0);
    for (uint32_t y = 0; y < height; ++y) {
        for (size_t i = 0; i < row_samples; ++i) {
            const size_t bit = i * depth;
            out[y * row_bytes + bit / 8] |= uint8_t(v[y * row_samples + i] << (8 - depth - bit % 8));
        }
    }
    return out;
}

Bytes inflate_all(const uint8_t* data, size_t size) {
    z_stream z;
    std::memset(&z, 0, sizeof z);
    EXPECT_EQ(inflateInit(&z), Z_OK);
    z.next_in = const_cast<Bytef*>(data);
    z.avail_in = static_cast<uInt>(size);
    Bytes out;
    int rc = Z_OK;
    while (rc == Z_OK) {
        out.resize(out.size() + (size_t{1} << 20));
        z.next_out = out.data() + z.total_out;
        z.avail_out = static_cast<uInt>(out.size() - z.total_out);
        rc = inflate(&z, Z_NO_FLUSH);
    }
    EXPECT_EQ(rc, Z_STREAM_END);
    out.resize(z.total_out);
    inflateEnd(&z);
    return out;
}

// A chunk's content with its compressed part inflated (iCCP, zTXt,
// compressed iTXt): what must come back, whatever the compressor.
Bytes content(const Chunk& c) {
    const Bytes& d = c.data;
    const size_t nul = std::find(d.begin(), d.end(), 0) - d.begin();
    size_t from = d.size();
    if ((c.type == "iCCP" || c.type == "zTXt") && nul + 2 <= d.size()) {
        from = nul + 2;
    } else if (c.type == "iTXt" && nul + 3 <= d.size() && d[nul + 1] == 1) {
        const size_t lang = std::find(d.begin() + long(nul + 3), d.end(), 0) - d.begin();
        const size_t trans = std::find(d.begin() + long(std::min(lang + 1, d.size())), d.end(), 0) - d.begin();
        from = trans + 1;
    }
    if (from >= d.size()) return d;
    return concat({Bytes(d.begin(), d.begin() + long(from)), inflate_all(d.data() + from, d.size() - from)});
}

// The chunks of a PNG, each run of IDAT as one empty "IDAT", contents as
// content() gives them.
std::vector<Chunk> structure(const Bytes& png) {
    std::vector<Chunk> out;
    for (const Chunk& c : split(png)) {
        if (c.type == "IDAT") {
            if (out.empty() || out.back().type != "IDAT") out.push_back({"IDAT", {}});
            continue;
        }
        out.push_back({c.type, content(c)});
    }
    return out;
}

// Same IHDR, PLTE, chunk sequence and chunk contents (compressed ones
// compared inflated), and the same pixels.
::testing::AssertionResult same_file(const Bytes& want, const Bytes& got) {
    const std::vector<Chunk> a = structure(want), b = structure(got);
    if (types_of(a) != types_of(b)) {
        std::string wa, ga;
        for (const std::string& t : types_of(a)) wa += t + " ";
        for (const std::string& t : types_of(b)) ga += t + " ";
        return ::testing::AssertionFailure() << "chunks " << wa << "became " << ga;
    }
    for (size_t i = 0; i < a.size(); ++i) {
        if (a[i].data != b[i].data) {
            return ::testing::AssertionFailure() << "chunk " << i << " (" << a[i].type << ") differs";
        }
    }
    Image x, y;
    std::string error;
    if (!qohi_tools::decode_png(want.data(), want.size(), x, error) ||
        !qohi_tools::decode_png(got.data(), got.size(), y, error)) {
        return ::testing::AssertionFailure() << error;
    }
    if (x.pixels != y.pixels || x.channels != y.channels) return ::testing::AssertionFailure() << "pixels differ";
    return ::testing::AssertionSuccess();
}

// `image` stored as a frame by the library and read back: the pixels, the
// metadata items and the layout (through its pngc record).
Image through_archive(const Image& image) {
    std::vector<uint8_t> pngc;
    const std::vector<qohi_metadata> items = qohi_tools::to_library_metadata(image, pngc);
    const bool stored = image.layout.present && !qohi_tools::is_plain_layout(image.layout, image.channels);
    EXPECT_EQ(items.size(), image.metadata.size() + (stored ? 1 : 0));
    qohi_write_options wopt;
    qohi_write_options_init(&wopt);
    qohi_writer* writer = nullptr;
    EXPECT_EQ(qohi_writer_open_memory(&wopt, &writer, nullptr), QOHI_OK);
    qohi_frame_options fopt;
    qohi_frame_options_init(&fopt);
    fopt.metadata = items.data();
    fopt.metadata_count = items.size();
    EXPECT_EQ(qohi_writer_add_frame_with(writer, image.pixels.data(), image.width, image.height,
                                         image.channels, 0, &fopt),
              QOHI_OK)
        << qohi_writer_message(writer);
    void* file = nullptr;
    size_t size = 0;
    EXPECT_EQ(qohi_writer_finish(writer, &file, &size), QOHI_OK);
    qohi_writer_destroy(writer);
    Image back;
    qohi_reader* reader = nullptr;
    EXPECT_EQ(qohi_reader_open_memory(file, size, nullptr, &reader, nullptr), QOHI_OK);
    if (reader != nullptr) {
        back.width = image.width;
        back.height = image.height;
        back.channels = image.channels;
        back.pixels.resize(image.pixels.size());
        EXPECT_EQ(qohi_reader_decode_frame(reader, 0, back.pixels.data(), back.pixels.size(), 0, 0), QOHI_OK);
        const qohi_metadata* got = nullptr;
        size_t count = 0;
        EXPECT_EQ(qohi_reader_frame_metadata(reader, 0, &got, &count), QOHI_OK);
        std::string error;
        EXPECT_TRUE(qohi_tools::from_library_metadata(got, count, back, error)) << error;
        qohi_reader_close(reader);
    }
    qohi_free(file);
    return back;
}

// decode -> archive -> encode gives the same file (and the same Image).
void check_round_trip(const Bytes& png) {
    const Image image = decode(png);
    ASSERT_EQ(image.not_exact, "");
    ASSERT_TRUE(image.layout.present);
    const Image back = through_archive(image);
    EXPECT_EQ(back.pixels, image.pixels);
    EXPECT_TRUE(same_metadata(image.metadata, back.metadata));
    // A plain 8-bit RGB or RGBA layout is not stored: the file comes back
    // the same without it.
    if (qohi_tools::is_plain_layout(image.layout, image.channels)) {
        EXPECT_FALSE(back.layout.present);
    } else {
        EXPECT_EQ(back.layout, image.layout);
    }
    const Bytes out = encode(back);
    EXPECT_TRUE(same_file(png, out));
    // What libpng reads without complaint still does (some inputs here are
    // odd on purpose: sRGB and iCCP both, APNG chunks).
    std::pair<const Bytes*, size_t> in(&png, 0);
    std::string log;
    if (strict_read_png(&in, &log) && log.empty()) {
        EXPECT_TRUE(clean_png(out));
    }
}

Bytes read_data_file(const std::string& name) {
    const std::string path = std::string(QOHI_TEST_DATA_DIR) + "/" + name;
    FILE* file = std::fopen(path.c_str(), "rb");
    EXPECT_NE(file, nullptr) << path;
    Bytes png;
    if (!file) return png;
    uint8_t buffer[65536];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) png.insert(png.end(), buffer, buffer + n);
    std::fclose(file);
    return png;
}

// `chunks` (IHDR, [PLTE], [tRNS], IDAT..., IEND) with `before` after IHDR,
// `middle` just before the first IDAT and `after` before IEND.
Bytes with_chunks3(std::vector<Chunk> chunks, const std::vector<Chunk>& before,
                   const std::vector<Chunk>& middle, const std::vector<Chunk>& after) {
    chunks.insert(chunks.end() - 1, after.begin(), after.end());
    const auto idat = std::find_if(chunks.begin(), chunks.end(), [](const Chunk& c) { return c.type == "IDAT"; });
    chunks.insert(idat, middle.begin(), middle.end());
    chunks.insert(chunks.begin() + 1, before.begin(), before.end());
    return assemble(chunks);
}

Chunk raw_chunk(const std::string& type, const std::string& data) { return {type, bytes_of(data)}; }

Bytes be32s(std::initializer_list<uint32_t> values) {
    Bytes out;
    for (uint32_t v : values) out.insert(out.end(), {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)});
    return out;
}

const std::vector<png_color> kPalette = {{10, 20, 30},  {40, 50, 60}, {70, 80, 90},  {255, 0, 0},
                                         {0, 255, 0},   {0, 0, 255},  {9, 9, 9},     {200, 100, 0},
                                         {1, 2, 3},     {4, 5, 6},    {7, 8, 9},     {250, 250, 250},
                                         {128, 0, 128}, {0, 128, 0},  {33, 66, 99},  {99, 66, 33},
                                         {11, 22, 33}};

// A PNG of colour type `ct`, depth `depth`, with a pattern using every
// sample value the depth allows (palette: every entry), written by libpng,
// with a few ancillary chunks around.
Bytes sample_png(int ct, int depth, bool interlace, bool trns) {
    Fixture f;
    f.width = 13;
    f.height = 11;
    f.color_type = ct;
    f.bit_depth = depth;
    f.interlace = interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE;
    const int per_pixel = ct == 0 || ct == 3 ? 1 : ct == 4 ? 2 : ct == 2 ? 3 : 4;
    unsigned values = 1u << depth;
    if (ct == 3) {
        const size_t entries = std::min<size_t>(kPalette.size(), values);
        f.palette.assign(kPalette.begin(), kPalette.begin() + long(entries));
        values = static_cast<unsigned>(entries);
        if (trns) f.trns_alpha = {0, 128};
    } else if (trns) {
        f.has_key = true;
        f.key.gray = uint16_t(values - 2);
        f.key.red = 5, f.key.green = 6, f.key.blue = 7;
    }
    std::vector<unsigned> v;
    for (uint32_t i = 0; i < f.width * f.height * uint32_t(per_pixel); ++i) v.push_back((i * 7 + i / 13) % values);
    if (ct == 2 && trns) v[3] = 5, v[4] = 6, v[5] = 7;  // one pixel has the key colour
    f.pixels = pack(v, f.width, f.height, per_pixel, depth);
    const Bytes png = write_fixture(f);
    EXPECT_FALSE(png.empty());
    return with_chunks3(split(png), {raw_chunk("gAMA", std::string("\0\0\xB1\x8F", 4)), tEXt("Title", "t")},
                        {raw_chunk("bKGD", ct == 3 ? std::string(1, '\1') : ct == 0 || ct == 4 ? std::string(2, '\0') : std::string(6, '\0'))},
                        {zTXt("Comment", "after the data"), raw_chunk("prVt", "private")});
}

TEST(PngIoLayout, EveryColourTypeAndDepthComesBackTheSame) {
    for (bool interlace : {false, true}) {
        for (int depth : {1, 2, 4, 8}) {
            for (bool trns : {false, true}) {
                SCOPED_TRACE("depth " + std::to_string(depth) + (interlace ? " interlaced" : "") + (trns ? " tRNS" : ""));
                {
                    SCOPED_TRACE("grey");
                    check_round_trip(sample_png(0, depth, interlace, trns));
                }
                {
                    SCOPED_TRACE("palette");
                    check_round_trip(sample_png(3, depth, interlace, trns));
                }
            }
        }
        for (bool trns : {false, true}) {
            SCOPED_TRACE(std::string("RGB") + (interlace ? " interlaced" : "") + (trns ? " tRNS" : ""));
            check_round_trip(sample_png(2, 8, interlace, trns));
        }
        SCOPED_TRACE(interlace ? "interlaced" : "");
        check_round_trip(sample_png(4, 8, interlace, false));
        check_round_trip(sample_png(6, 8, interlace, false));
    }
    // What the frames hold: grey expanded, alpha only with tRNS or an alpha type.
    EXPECT_EQ(decode(sample_png(0, 2, false, false)).channels, 3u);
    EXPECT_EQ(decode(sample_png(0, 2, false, true)).channels, 4u);
    EXPECT_EQ(decode(sample_png(3, 4, false, true)).channels, 4u);
    EXPECT_EQ(decode(sample_png(2, 8, false, true)).channels, 4u);
    const Image grey1 = decode(sample_png(0, 1, false, false));
    EXPECT_EQ(grey1.layout.color_type, 0);
    EXPECT_EQ(grey1.layout.bit_depth, 1);
    EXPECT_TRUE(grey1.pixels[0] == 0 || grey1.pixels[0] == 255);
}

TEST(PngIoLayout, TestDataFilesComeBackTheSame) {
    for (const char* name : {"grey-1bit.png", "grey-alpha.png", "grey.png", "icon-rgba.png", "interlaced-grey2.png",
                             "interlaced-rgba.png", "palette-4bit.png", "palette-trns.png", "rgb-trns.png",
                             "trash-rgb.png", "trash-rgba.png"}) {
        SCOPED_TRACE(name);
        check_round_trip(read_data_file(name));
    }
}

TEST(PngIoLayout, EveryChunkKindInOrder) {
    Fixture f;
    f.width = 6;
    f.height = 3;
    f.color_type = PNG_COLOR_TYPE_PALETTE;
    f.palette.assign(kPalette.begin(), kPalette.begin() + 6);
    std::vector<unsigned> v;
    for (unsigned i = 0; i < 18; ++i) v.push_back(i % 6);
    f.pixels = pack(v, 6, 3, 1, 8);
    const Bytes icc = make_icc();
    const Bytes exif = make_exif();
    Bytes trailing = zTXt("Trailing", "zlib stream with a byte after it").data;
    trailing.push_back(0x55);
    const std::vector<Chunk> before = {
        raw_chunk("gAMA", std::string("\0\0\xB1\x8F", 4)),
        Chunk{"cHRM", be32s({31270, 32900, 64000, 33000, 30000, 60000, 15000, 6000})},
        raw_chunk("sRGB", std::string(1, '\0')),
        iCCP("Profile", icc),
        raw_chunk("sBIT", "\x08\x08\x08"),
        tEXt("Title", "Caf\xE9"),
    };
    const std::vector<Chunk> middle = {
        raw_chunk("tRNS", std::string("\x00\x80\xFF", 3)),
        raw_chunk("bKGD", std::string(1, '\2')),
        raw_chunk("hIST", std::string(12, '\0')),
        raw_chunk("sPLT", std::string("pal\0\x08\x01\x02\x03\x04\x00\x05", 11)),
        raw_chunk("pHYs", std::string("\0\0\x0B\x13\0\0\x0B\x13\x01", 9)),
        raw_chunk("acTL", std::string("\0\0\0\x01\0\0\0\0", 8)),
        raw_chunk("fcTL", std::string(26, '\0')),
        iTXt("Author", kNihon, false, "ja", "\xE8\x91\x97\xE8\x80\x85"),
        zTXt("Description", long_latin1()),
        eXIf(exif),
        raw_chunk("prVt", std::string("\0private\xFF", 9)),
        iCCP("Second", icc),  // a second profile: kept as it is
    };
    const std::vector<Chunk> after = {
        raw_chunk("tIME", std::string("\x07\xE8\x01\x02\x03\x04\x05", 7)),
        raw_chunk("fdAT", std::string("\0\0\0\x02xyz", 7)),
        tEXt("Comment", "after"),
        iTXt("Story", long_utf8(), true, "en-GB", "Story"),
        iTXt("XML:com.adobe.xmp", kXmp),
        Chunk{"zTXt", trailing},
        raw_chunk("prVt", "second private chunk"),
    };
    const Bytes png = with_chunks3(split(write_fixture(f)), before, middle, after);
    check_round_trip(png);

    const Image image = decode(png);
    EXPECT_EQ(image.channels, 4u);  // tRNS
    const std::vector<Metadata> want = {
        Metadata{kMetadataIcc, "Profile", icc}, text_item("Title", "Caf\xC3\xA9"),
        text_item("Author", kNihon), text_item("Description", utf8_of_latin1(long_latin1())),
        Metadata{kMetadataExif, "", exif}, text_item("Comment", "after"), text_item("Story", long_utf8()),
        item(kMetadataXmp, "", kXmp), text_item("Trailing", "zlib stream with a byte after it"),
    };
    EXPECT_TRUE(same_metadata(want, image.metadata));
    // Rebuilt from items where that is exact; the zTXt with a byte after its
    // stream and the second profile are kept as they are.
    std::string forms;
    for (const qohi_tools::PngChunk& c : image.layout.chunks) forms += c.from_item ? '1' : '0';
    EXPECT_EQ(forms, "000101" "000000011100" "0011100");
    EXPECT_EQ(image.layout.palette.size(), 18u);
}

TEST(PngIoLayout, HugeCompressedTextIsKept) {
    // 200 MB of text deflates to about 200 KB.
    const std::string big(size_t{200} << 20, 'a');
    const Bytes png = with_chunks(base_chunks(), {zTXt("Huge", big)}, {});
    ASSERT_LT(png.size(), size_t{1} << 20);
    const Image image = decode(png);
    // Kept as the PNG compressed it: no item of 200 MB in the archive.
    EXPECT_TRUE(image.metadata.empty());
    ASSERT_EQ(image.layout.chunks.size(), 1u);
    EXPECT_FALSE(image.layout.chunks[0].from_item);
    std::vector<uint8_t> pngc;
    qohi_tools::to_library_metadata(image, pngc);
    EXPECT_LT(pngc.size(), size_t{1} << 20);
    const Image back = through_archive(image);
    EXPECT_TRUE(back.metadata == image.metadata);
    const std::vector<Chunk> out = split(encode(back));
    ASSERT_EQ(out.size(), 4u);
    EXPECT_EQ(out[1].type, "zTXt");
    EXPECT_TRUE(content(out[1]) == concat({bytes_of("Huge"), kNul, kNul, bytes_of(big)}));
}

TEST(PngIoLayout, FilesTheLayoutCannotReproduceAreReported) {
    // 16-bit: no 8-bit pixels; a distinct reason, not only an error.
    {
        Fixture f;
        f.bit_depth = 16;
        const Bytes png = write_fixture(f);
        Image image;
        std::string error;
        EXPECT_FALSE(qohi_tools::decode_png(png.data(), png.size(), image, error));
        EXPECT_NE(image.not_exact.find("16-bit"), std::string::npos);
    }
    auto reason = [](const Bytes& png) {
        const Image image = decode(png);
        EXPECT_FALSE(image.layout.present && !image.not_exact.empty());
        EXPECT_FALSE(image.pixels.empty());
        return image.not_exact;
    };
    // A palette repeating a used colour: the indices cannot be recovered.
    Fixture f;
    f.width = 4;
    f.height = 1;
    f.color_type = PNG_COLOR_TYPE_PALETTE;
    f.palette = {{1, 2, 3}, {4, 5, 6}, {1, 2, 3}};
    f.pixels = {0, 1, 2, 1};
    const Bytes repeated = write_fixture(f);
    EXPECT_NE(reason(repeated).find("same colour"), std::string::npos);
    // Repeated but unused: fine.
    f.pixels = {0, 1, 1, 0};
    EXPECT_EQ(reason(write_fixture(f)), "");
    check_round_trip(write_fixture(f));
    // With tRNS the alphas tell equal colours apart.
    f.pixels = {0, 1, 2, 1};
    f.trns_alpha = {255, 255, 0};
    EXPECT_EQ(reason(write_fixture(f)), "");
    check_round_trip(write_fixture(f));
    // Bytes after IEND.
    Bytes tail = with_chunks(base_chunks(), {}, {});
    tail.push_back('x');
    EXPECT_NE(reason(tail).find("after IEND"), std::string::npos);
    // An ancillary chunk with a bad CRC (a critical one is an error).
    Chunk bad = tEXt("K", "v");
    bad.bad_crc = true;
    EXPECT_NE(reason(with_chunks(base_chunks(), {bad}, {})).find("CRC"), std::string::npos);
    // A chunk between two IDATs.
    std::vector<Chunk> chunks = base_chunks();
    const auto idat = std::find_if(chunks.begin(), chunks.end(), [](const Chunk& c) { return c.type == "IDAT"; });
    Chunk first_half{"IDAT", Bytes(idat->data.begin(), idat->data.begin() + 5)};
    idat->data.erase(idat->data.begin(), idat->data.begin() + 5);
    chunks.insert(idat, {first_half, tEXt("Between", "x")});
    EXPECT_NE(reason(assemble(chunks)).find("between IDAT"), std::string::npos);
}

TEST(PngIoLayout, EncodeRefusesPixelsTheLayoutCannotHold) {
    Image grey = decode(sample_png(0, 2, false, false));
    grey.pixels[0] = 1;  // not a 2-bit level, nor grey
    Bytes png;
    std::string error;
    EXPECT_FALSE(qohi_tools::encode_png(grey, -1, png, error));
    EXPECT_NE(error.find("pixel (0, 0)"), std::string::npos) << error;
    Image palette = decode(sample_png(3, 8, false, false));
    palette.pixels[3 * 5] ^= 1;
    EXPECT_FALSE(qohi_tools::encode_png(palette, -1, png, error));
    EXPECT_NE(error.find("pixel (5, 0) has a colour the palette lacks"), std::string::npos) << error;
    Image keyed = decode(sample_png(2, 8, false, true));
    keyed.pixels[3] = 0;  // transparent, but not the key colour
    EXPECT_FALSE(qohi_tools::encode_png(keyed, -1, png, error));
    Image wrong_channels = decode(sample_png(0, 8, false, false));
    wrong_channels.channels = 4;
    wrong_channels.pixels.resize(wrong_channels.pixels.size() / 3 * 4);
    EXPECT_FALSE(qohi_tools::encode_png(wrong_channels, -1, png, error));
    EXPECT_NE(error.find("channels"), std::string::npos) << error;
}

TEST(PngIoLayout, HostilePayloadsAreErrors) {
    const Bytes png = with_chunks3(split(sample_png(3, 4, false, true)), {iCCP("P", make_icc())}, {},
                                   {iTXt("K", "v", true, "de", "k")});
    const Image image = decode(png);
    ASSERT_TRUE(image.layout.present);
    Bytes good;
    qohi_tools::encode_png_layout(image.layout, good);
    qohi_tools::PngLayout layout;
    std::string error;
    ASSERT_TRUE(qohi_tools::decode_png_layout(good.data(), good.size(), image.metadata, layout, error)) << error;
    EXPECT_EQ(layout, image.layout);
    auto refused = [&](const Bytes& payload, const std::vector<Metadata>& items) {
        qohi_tools::PngLayout got;
        std::string why;
        const bool ok = qohi_tools::decode_png_layout(payload.data(), payload.size(), items, got, why);
        if (!ok) {
            EXPECT_FALSE(got.present);
        }
        return !ok && !why.empty();
    };
    // Every truncation.
    for (size_t n = 0; n < good.size(); ++n) {
        EXPECT_TRUE(refused(Bytes(good.begin(), good.begin() + long(n)), image.metadata)) << n;
    }
    // Bytes after the last chunk.
    EXPECT_TRUE(refused(concat({good, Bytes{0}}), image.metadata));
    // Form 1 pointing past the items (the same payload with fewer items).
    EXPECT_TRUE(refused(good, {}));
    // An item of the wrong kind.
    std::vector<Metadata> swapped = image.metadata;
    std::swap(swapped.front(), swapped.back());
    EXPECT_TRUE(refused(good, swapped));

    // Payloads built by hand: header, palette, chunks.
    const Bytes head = {0, 8, 0, 0};  // grey, 8-bit, not interlaced, no palette
    EXPECT_TRUE(refused(concat({head, Bytes{0}}), {}) == false);  // valid: no chunks
    EXPECT_TRUE(refused(concat({Bytes{1, 8, 0, 0}, Bytes{0}}), {}));       // colour type 1
    EXPECT_TRUE(refused(concat({Bytes{2, 4, 0, 0}, Bytes{0}}), {}));       // 4-bit RGB
    EXPECT_TRUE(refused(concat({Bytes{0, 16, 0, 0}, Bytes{0}}), {}));      // 16-bit
    EXPECT_TRUE(refused(concat({Bytes{0, 8, 2, 0}, Bytes{0}}), {}));       // interlace 2
    EXPECT_TRUE(refused(concat({Bytes{0, 8, 0, 1, 1, 2, 3}, Bytes{0}}), {}));  // palette in grey
    EXPECT_TRUE(refused(concat({Bytes{3, 8, 0, 0}, Bytes{0}}), {}));       // palette image without one
    EXPECT_TRUE(refused(concat({Bytes{3, 8, 0, 0x81, 0x02}, Bytes(771, 0), Bytes{0}}), {}));  // 257 entries
    const Bytes chunk_a = concat({bytes_of("gAMA"), Bytes{2, 0, 1, 7}});  // after the data
    const Bytes chunk_b = concat({bytes_of("tEXt"), Bytes{0, 0, 1, 7}});  // before PLTE
    EXPECT_TRUE(refused(concat({head, Bytes{2}, chunk_b, chunk_a}), {}) == false);
    EXPECT_TRUE(refused(concat({head, Bytes{2}, chunk_a, chunk_b}), {}));  // placements out of order
    EXPECT_TRUE(refused(concat({head, Bytes{1}, bytes_of("gAMA"), Bytes{3, 0, 0}}), {}));  // placement 3
    EXPECT_TRUE(refused(concat({head, Bytes{1}, bytes_of("IDAT"), Bytes{0, 0, 0}}), {}));  // critical
    EXPECT_TRUE(refused(concat({head, Bytes{1}, bytes_of("g1MA"), Bytes{0, 0, 0}}), {}));  // not letters
    EXPECT_TRUE(refused(concat({head, Bytes{1}, bytes_of("gAMA"), Bytes{0, 3, 0}}), {}));  // form 3
    // Form 2: a zlib stream of the chunk data. Valid; claiming more than
    // deflate can expand (refused before allocating); not inflating to its
    // size; a byte after the stream.
    const Bytes z = deflate(Bytes(4000, 'a'));
    ASSERT_LT(z.size(), 100u);
    auto form2 = [&](uint64_t size, const Bytes& stream) {
        Bytes p = concat({head, Bytes{1}, bytes_of("tEXt"), Bytes{0, 2}});
        for (uint64_t v : {size, uint64_t(stream.size())}) {
            for (; v >= 0x80; v >>= 7) p.push_back(uint8_t(v | 0x80));
            p.push_back(uint8_t(v));
        }
        return concat({p, stream});
    };
    qohi_tools::PngLayout inflated;
    const Bytes valid2 = form2(4000, z);
    ASSERT_TRUE(qohi_tools::decode_png_layout(valid2.data(), valid2.size(), {}, inflated, error)) << error;
    ASSERT_EQ(inflated.chunks.size(), 1u);
    EXPECT_TRUE(inflated.chunks[0].data == Bytes(4000, 'a'));
    EXPECT_TRUE(refused(form2(uint64_t(z.size()) * 1032 + 1, z), {}));
    EXPECT_TRUE(refused(form2(3999, z), {}));
    EXPECT_TRUE(refused(form2(4001, z), {}));
    EXPECT_TRUE(refused(form2(4000, concat({z, Bytes{0}})), {}));
    EXPECT_TRUE(refused(concat({head, Bytes{1}, bytes_of("gAMA"), Bytes{0, 1, 0}}), {}));  // form 1, no item
    EXPECT_TRUE(refused(concat({head, Bytes{1}, bytes_of("gAMA"), Bytes{0, 1, 0}}),
                        {item(kMetadataText, "k", "v")}));  // gAMA from a text item
    // Huge sizes: a chunk, a chunk count, a varint of more than 64 bits,
    // one not in its shortest form.
    EXPECT_TRUE(refused(concat({head, Bytes{1}, bytes_of("gAMA"), Bytes{0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0x07}}), {}));
    EXPECT_TRUE(refused(concat({head, Bytes{0xFF, 0xFF, 0xFF, 0xFF, 0x0F}}), {}));
    EXPECT_TRUE(refused(concat({head, Bytes(9, 0xFF), Bytes{0x7F}}), {}));
    EXPECT_TRUE(refused(concat({head, Bytes{0x80, 0x00}}), {}));
    // iTXt fields: flag 2, a NUL in the language tag, a huge language tag.
    const std::vector<Metadata> text = {item(kMetadataText, "k", "v")};
    const Bytes itxt = concat({head, Bytes{1}, bytes_of("iTXt"), Bytes{0, 1, 0}});
    EXPECT_TRUE(refused(concat({itxt, Bytes{0, 0, 0}}), text) == false);
    EXPECT_TRUE(refused(concat({itxt, Bytes{2, 0, 0}}), text));
    EXPECT_TRUE(refused(concat({itxt, Bytes{0, 1, 0, 0}}), text));
    EXPECT_TRUE(refused(concat({itxt, Bytes{0, 0xFF, 0xFF, 0xFF, 0xFF, 0x07, 0}}), text));

    // Through from_library_metadata: a clear error, the items kept, no layout.
    const std::vector<qohi_metadata> items = {{QOHI_METADATA_TEXT, "k", "v", 1},
                                              {QOHI_METADATA_PNG, nullptr, "\x03", 1}};
    Image out;
    EXPECT_FALSE(qohi_tools::from_library_metadata(items.data(), items.size(), out, error));
    EXPECT_NE(error.find("PNG layout"), std::string::npos) << error;
    EXPECT_TRUE(same_metadata({item(kMetadataText, "k", "v")}, out.metadata));
    EXPECT_FALSE(out.layout.present);
}

}  // namespace
