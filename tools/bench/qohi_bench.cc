// qohi_bench: single-image benchmark of QOHI against the reference QOI
// (qoi.h from libqoi-dev), libpng and lossless WebP (libwebp), on the same
// decoded pixels.
//
//   qohi_bench [--runs N] [--effort E] [--no-webp] [--csv FILE] [--filter SUBSTR] DIR
//
// Every *.png under DIR (recursive, sorted by path) is decoded once with
// libpng; each codec then encodes those pixels to memory and decodes them
// back, N times, keeping the best encode and the best decode time. Decoded
// pixels must equal the source bit for bit. Images are grouped by their
// first-level folder under DIR ("." for files directly in DIR).
//
// WebP is measured twice, both lossless and exact: method 0 (the fastest,
// `cwebp -lossless -exact -m 0`) and libwebp's default method 4. It is
// compiled in only when CMake found libwebp (QOHI_BENCH_WEBP).
//
// Exit status: 0 if every codec round-tripped every readable image exactly,
// 1 on any mismatch or codec failure, 2 on usage errors.

#include <qohi/qohi.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#if QOHI_BENCH_WEBP
#include <webp/decode.h>
#include <webp/encode.h>
#endif

#include "bench_util.h"
#include "file_io.h"
#include "png_io.h"

// The reference QOI implementation, compiled in this translation unit only.
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wcast-qual"
#endif
#define QOI_NO_STDIO
#define QOI_IMPLEMENTATION
#include <qoi.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

namespace fs = std::filesystem;
using qohi_tools::Image;
using namespace qohi_bench_util;

namespace {

constexpr bool kHaveWebp = QOHI_BENCH_WEBP != 0;

// QOHI-2t is QOHI with two threads (the same file; speeds only).
enum Codec { kQohi, kQohi2, kQoi, kPng, kWebpM0, kWebpM4, kCodecs };
const char* const kCodecName[kCodecs] = {"QOHI", "QOHI-2t", "QOI", "PNG", "WebP-m0", "WebP-m4"};
const char* const kCsvName[kCodecs] = {"qohi", "qohi_2t", "qoi", "png", "webp_m0", "webp_m4"};
// Issue 4's target for two threads applies to images this large.
constexpr uint64_t kLargeImagePixels = 1000000;

struct Options {
    int runs = 3;
    int effort = 0;  // QOHI's qohi_write_options.effort
    bool webp = kHaveWebp;
    std::string csv_path;
    std::string filter;
    std::string dir;
};

// Result of one codec on one image.
struct CodecResult {
    bool ok = false;      // encoded and decoded without error
    bool exact = false;   // decoded pixels equal the source
    uint64_t size = 0;    // compressed bytes
    double enc_s = 0;     // best encode time, seconds
    double dec_s = 0;     // best decode time, seconds
    std::string error;    // why !ok or !exact
};

struct Totals {
    uint64_t images = 0;
    uint64_t pixels = 0;
    uint64_t raw_bytes = 0;
    uint64_t size[kCodecs] = {};
    double enc_s[kCodecs] = {};
    double dec_s[kCodecs] = {};

    void add(uint64_t px, uint64_t raw, const CodecResult* r) {
        ++images;
        pixels += px;
        raw_bytes += raw;
        for (int c = 0; c < kCodecs; ++c) {
            size[c] += r[c].size;
            enc_s[c] += r[c].enc_s;
            dec_s[c] += r[c].dec_s;
        }
    }
};

// Encoded bytes or decoded pixels as a codec hands them over: memory from the
// codec's own allocator, released with the codec's function, or (libpng
// through png_io) a vector. Decoded pixels also carry their dimensions.
struct Buffer {
    std::unique_ptr<uint8_t, void (*)(void*)> allocated{nullptr, std::free};
    std::vector<uint8_t> vec;
    size_t size = 0;
    uint32_t width = 0, height = 0, channels = 0;

    void adopt(void* p, size_t n, void (*release)(void*)) {
        allocated = std::unique_ptr<uint8_t, void (*)(void*)>(static_cast<uint8_t*>(p), release);
        size = n;
    }
    void adopt(std::vector<uint8_t>&& v) {
        vec = std::move(v);
        size = vec.size();
    }
    const uint8_t* data() const { return allocated ? allocated.get() : vec.data(); }
};

bool same_pixels(const Image& src, const Buffer& decoded, std::string& why) {
    if (decoded.width != src.width || decoded.height != src.height ||
        decoded.channels != src.channels) {
        why = "decoded " + std::to_string(decoded.width) + "x" + std::to_string(decoded.height) +
              "x" + std::to_string(decoded.channels) + ", expected " + std::to_string(src.width) +
              "x" + std::to_string(src.height) + "x" + std::to_string(src.channels);
        return false;
    }
    if (decoded.data() == nullptr) {
        why = "no pixels";
        return false;
    }
    why = first_mismatch(decoded.data(), src.pixels.data(), src.pixels.size(), decoded.width,
                         decoded.channels);
    return why.empty();
}

// Encodes and decodes `img` `runs` times with
//   bool encode(const Image&, Buffer& encoded, std::string& error)
//   bool decode(const Image&, const Buffer& encoded, Buffer& decoded, std::string& error)
// keeping the best times. A run's buffers are released and its decoded
// pixels checked outside the timed regions.
template <class Encode, class Decode>
CodecResult measure(const Image& img, int runs, Encode encode, Decode decode) {
    CodecResult r;
    r.enc_s = r.dec_s = 1e300;
    r.exact = true;
    for (int i = 0; i < runs; ++i) {
        Buffer encoded, decoded;
        Clock::time_point t0 = Clock::now();
        const bool encode_ok = encode(img, encoded, r.error);
        const double te = seconds_since(t0);
        if (!encode_ok) return r;
        t0 = Clock::now();
        const bool decode_ok = decode(img, encoded, decoded, r.error);
        const double td = seconds_since(t0);
        if (!decode_ok) return r;
        r.size = encoded.size;
        r.enc_s = std::min(r.enc_s, te);
        r.dec_s = std::min(r.dec_s, td);
        std::string why;
        if (r.exact && !same_pixels(img, decoded, why)) {
            r.exact = false;
            r.error = why;
        }
    }
    r.ok = true;
    return r;
}

// One thread, like every other codec here (libqohi's default is one per
// core), or `threads` for the QOHI-2t column.
CodecResult run_qohi(const Image& img, int runs, int effort, uint32_t threads) {
    qohi_write_options options;
    qohi_write_options_init(&options);
    options.effort = effort;
    options.threads = threads;
    qohi_read_options read_options;
    qohi_read_options_init(&read_options);
    read_options.threads = threads;
    auto encode = [&options](const Image& src, Buffer& out, std::string& error) {
        void* data = nullptr;
        size_t size = 0;
        qohi_error err{};
        const qohi_status st = qohi_encode(src.pixels.data(), src.width, src.height,
                                           src.channels, 0, &options, &data, &size, &err);
        out.adopt(data, size, qohi_free);
        if (st == QOHI_OK) return true;
        error = std::string("qohi_encode: ") + qohi_status_string(st) + ": " + err.message;
        return false;
    };
    auto decode = [&read_options](const Image&, const Buffer& in, Buffer& out,
                                  std::string& error) {
        void* pixels = nullptr;
        qohi_frame_info info{};
        qohi_error err{};
        const qohi_status st =
            qohi_decode(in.data(), in.size, &read_options, 0, &pixels, &info, &err);
        out.adopt(pixels, size_t{info.width} * info.height * info.channels, qohi_free);
        if (st != QOHI_OK) {
            error = std::string("qohi_decode: ") + qohi_status_string(st) + ": " + err.message;
            return false;
        }
        out.width = info.width;
        out.height = info.height;
        out.channels = info.channels;
        return true;
    };
    return measure(img, runs, encode, decode);
}

CodecResult run_qoi(const Image& img, int runs) {
    qoi_desc desc{};
    desc.width = img.width;
    desc.height = img.height;
    desc.channels = static_cast<unsigned char>(img.channels);
    desc.colorspace = QOI_SRGB;
    auto encode = [&desc](const Image& src, Buffer& out, std::string& error) {
        int size = 0;
        void* data = qoi_encode(src.pixels.data(), &desc, &size);
        if (!data) {
            error = "qoi_encode failed";
            return false;
        }
        out.adopt(data, static_cast<size_t>(size), std::free);
        return true;
    };
    auto decode = [](const Image& src, const Buffer& in, Buffer& out, std::string& error) {
        qoi_desc header{};
        // qoi_decode returns the requested channel count, not the header's.
        void* pixels = qoi_decode(in.data(), static_cast<int>(in.size), &header,
                                  static_cast<int>(src.channels));
        if (!pixels) {
            error = "qoi_decode failed";
            return false;
        }
        out.adopt(pixels, size_t{header.width} * header.height * src.channels, std::free);
        out.width = header.width;
        out.height = header.height;
        out.channels = src.channels;
        return true;
    };
    return measure(img, runs, encode, decode);
}

CodecResult run_png(const Image& img, int runs) {
    auto encode = [](const Image& src, Buffer& out, std::string& error) {
        std::vector<uint8_t> png;
        std::string err;
        if (!qohi_tools::encode_png(src, -1, png, err)) {
            error = "encode_png: " + err;
            return false;
        }
        out.adopt(std::move(png));
        return true;
    };
    auto decode = [](const Image&, const Buffer& in, Buffer& out, std::string& error) {
        Image dec;
        std::string err;
        if (!qohi_tools::decode_png(in.data(), in.size, dec, err)) {
            error = "decode_png: " + err;
            return false;
        }
        out.adopt(std::move(dec.pixels));
        out.width = dec.width;
        out.height = dec.height;
        out.channels = dec.channels;
        return true;
    };
    return measure(img, runs, encode, decode);
}

#if QOHI_BENCH_WEBP
// Lossless WebP set up as `cwebp -lossless -exact` does: quality 75, method
// 4 and the rest at libwebp's defaults (the caller may then set the method,
// as cwebp -m). `exact` keeps the RGB of fully transparent pixels: without
// it WebP is not lossless on RGBA.
bool lossless_webp_config(WebPConfig& config) {
    if (!WebPConfigInit(&config)) return false;
    config.lossless = 1;
    config.exact = 1;
    return true;
}

// Encode timing covers what a caller of the advanced API does: import the
// pixels into a WebPPicture, encode into memory, release the picture.
// Decoding allocates its output, like the other codecs' decoders.
CodecResult run_webp(const Image& img, int runs, const WebPConfig& config) {
    auto encode = [&config](const Image& src, Buffer& out, std::string& error) {
        WebPPicture picture;
        if (!WebPPictureInit(&picture)) {
            error = "WebPPictureInit: libwebp version mismatch";
            return false;
        }
        picture.use_argb = 1;  // lossless encodes ARGB; importing to YUV would lose colour
        picture.width = static_cast<int>(src.width);
        picture.height = static_cast<int>(src.height);
        const int stride = static_cast<int>(src.width * src.channels);
        WebPMemoryWriter writer;
        WebPMemoryWriterInit(&writer);
        picture.writer = WebPMemoryWrite;
        picture.custom_ptr = &writer;
        const bool imported =
            (src.channels == 4 ? WebPPictureImportRGBA(&picture, src.pixels.data(), stride)
                               : WebPPictureImportRGB(&picture, src.pixels.data(), stride)) != 0;
        const bool encoded = imported && WebPEncode(&config, &picture) != 0;
        const int error_code = static_cast<int>(picture.error_code);
        WebPPictureFree(&picture);
        out.adopt(writer.mem, writer.size, WebPFree);
        if (encoded) return true;
        error = imported ? "WebPEncode failed, error " + std::to_string(error_code)
                         : std::string("WebPPictureImport failed");
        return false;
    };
    auto decode = [](const Image& src, const Buffer& in, Buffer& out, std::string& error) {
        int width = 0, height = 0;
        uint8_t* pixels = src.channels == 4 ? WebPDecodeRGBA(in.data(), in.size, &width, &height)
                                            : WebPDecodeRGB(in.data(), in.size, &width, &height);
        if (!pixels) {
            error = "WebPDecode failed";
            return false;
        }
        out.width = static_cast<uint32_t>(width);
        out.height = static_cast<uint32_t>(height);
        out.channels = src.channels;
        out.adopt(pixels, size_t{out.width} * out.height * out.channels, WebPFree);
        return true;
    };
    return measure(img, runs, encode, decode);
}
#endif

void print_usage(FILE* f) {
    std::fprintf(f,
                 "usage: qohi_bench [options] DIR\n"
                 "\n"
                 "Benchmark QOHI against QOI (reference qoi.h), libpng (default level) and\n"
                 "lossless WebP (libwebp, exact; method 0 and the default method 4) on every\n"
                 "*.png under DIR, recursively. Each image is decoded once; every codec then\n"
                 "encodes and decodes the same pixels in memory and must reproduce them\n"
                 "exactly. Times are the best of N runs, single-threaded, except QOHI-2t:\n"
                 "QOHI with two threads (the same files), compared with one thread in the\n"
                 "2t/1t columns and on images of 1 Mpixel and more. Results are grouped by\n"
                 "first-level folder under DIR (\".\" for files directly in DIR).\n"
                 "\n"
                 "options:\n"
                 "  --runs N         runs per codec and image, best time kept (default 3)\n"
                 "  --effort E       QOHI encoder effort, 0 (default) or 1 (as qohienc --effort)\n"
                 "  --no-webp        leave WebP out (at its default method, the slowest encoder)\n"
                 "  --csv FILE       also write one CSV line per image to FILE\n"
                 "  --filter SUBSTR  only images whose path under DIR contains SUBSTR\n"
                 "  -h, --help       show this help\n"
                 "\n"
                 "Exit status: 0 all exact, 1 mismatch or codec failure, 2 usage error.\n");
    if (!kHaveWebp)
        std::fprintf(f,
                     "\nThis build has no WebP (libwebp was not found when it was configured):\n"
                     "the WebP columns are left out and --no-webp changes nothing.\n");
}

int match_option(const char* name, int argc, char** argv, int& i, std::string& value) {
    return qohi_bench_util::match_option("qohi_bench", name, argc, argv, i, value);
}

// Parses argv; returns -1 to continue, otherwise an exit status.
int parse_args(int argc, char** argv, Options& opt) {
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        std::string value;
        int m = 0;
        if (a == "-h" || a == "--help") {
            print_usage(stdout);
            return 0;
        }
        if ((m = match_option("--runs", argc, argv, i, value)) != 0) {
            if (m < 0) return 2;
            long n = 0;
            if (!parse_number(value, 1, 1000, n)) {
                std::fprintf(stderr, "qohi_bench: --runs wants a number from 1 to 1000\n");
                return 2;
            }
            opt.runs = static_cast<int>(n);
        } else if ((m = match_option("--effort", argc, argv, i, value)) != 0) {
            if (m < 0) return 2;
            long n = 0;
            if (!parse_number(value, 0, 1, n)) {
                std::fprintf(stderr, "qohi_bench: --effort wants 0 or 1\n");
                return 2;
            }
            opt.effort = static_cast<int>(n);
        } else if (a == "--no-webp") {
            opt.webp = false;
        } else if ((m = match_option("--csv", argc, argv, i, value)) != 0) {
            if (m < 0) return 2;
            opt.csv_path = value;
        } else if ((m = match_option("--filter", argc, argv, i, value)) != 0) {
            if (m < 0) return 2;
            opt.filter = value;
        } else if (a.size() > 1 && a[0] == '-') {
            std::fprintf(stderr, "qohi_bench: unknown option '%s' (try --help)\n", a.c_str());
            return 2;
        } else if (!opt.dir.empty()) {
            std::fprintf(stderr, "qohi_bench: only one DIR, got '%s' and '%s'\n",
                         opt.dir.c_str(), a.c_str());
            return 2;
        } else {
            opt.dir = a;
        }
    }
    if (opt.dir.empty()) {
        print_usage(stderr);
        return 2;
    }
    return -1;
}

struct Entry {
    std::string rel;       // path under DIR, '/'-separated
    std::string category;  // first folder under DIR, or "."
    fs::path path;
};

bool list_pngs(const std::string& dir, const std::string& filter, std::vector<Entry>& out) {
    std::error_code ec;
    const fs::path root(dir);
    if (!fs::is_directory(root, ec)) {
        std::fprintf(stderr, "qohi_bench: '%s' is not a directory\n", dir.c_str());
        return false;
    }
    fs::recursive_directory_iterator it(
        root, fs::directory_options::skip_permission_denied, ec);
    if (ec) {
        std::fprintf(stderr, "qohi_bench: cannot list '%s': %s\n", dir.c_str(),
                     ec.message().c_str());
        return false;
    }
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) {
            std::fprintf(stderr, "qohi_bench: warning: listing '%s': %s\n", dir.c_str(),
                         ec.message().c_str());
            ec.clear();
            break;
        }
        std::error_code ec2;
        if (!it->is_regular_file(ec2) || !has_png_extension(it->path())) continue;
        Entry e;
        e.path = it->path();
        const fs::path rel = e.path.lexically_relative(root);
        e.rel = rel.generic_string();
        if (!filter.empty() && e.rel.find(filter) == std::string::npos) continue;
        auto first = rel.begin();
        auto second = first;
        if (second != rel.end()) ++second;
        e.category = (second == rel.end()) ? std::string(".") : first->generic_string();
        out.push_back(std::move(e));
    }
    std::sort(out.begin(), out.end(),
              [](const Entry& a, const Entry& b) { return a.rel < b.rel; });
    return true;
}

std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) {
        if (c == '"') q += '"';
        q += c;
    }
    return q + "\"";
}

double mb(uint64_t bytes) { return static_cast<double>(bytes) / 1e6; }

double mpix_per_s(uint64_t pixels, double seconds) {
    return seconds > 0 ? static_cast<double>(pixels) / 1e6 / seconds : 0.0;
}

std::string ratio(double num, double den) {
    if (den <= 0) return "-";
    return fmt("%.3fx", num / den);
}

std::string size_ratio(const Totals& t, int codec, int base) {
    return ratio(static_cast<double>(t.size[codec]), static_cast<double>(t.size[base]));
}

double encode_speed(const Totals& t, int codec) { return mpix_per_s(t.pixels, t.enc_s[codec]); }
double decode_speed(const Totals& t, int codec) { return mpix_per_s(t.pixels, t.dec_s[codec]); }

// A text table with one row of Totals per category: the category, then
// columns grouped under a heading (a codec, a ratio), groups separated by
// " | ". Columns are added with the function that fills their cell.
class Table {
public:
    using Value = std::function<std::string(const Totals&)>;

    void add(const std::string& group, const std::string& head, int width, Value value) {
        columns_.push_back({group, head, static_cast<size_t>(width), std::move(value)});
    }

    void print_header() const {
        std::string groups(kLabelWidth, ' ');
        std::string heads = aligned("category", kLabelWidth, true);
        for (size_t first = 0; first < columns_.size();) {
            size_t end = first + 1;
            size_t span = columns_[first].width;
            while (end < columns_.size() && columns_[end].group == columns_[first].group)
                span += 1 + columns_[end++].width;
            groups += separator(first) + centered(columns_[first].group, span);
            for (size_t i = first; i < end; ++i)
                heads += separator(i) + aligned(columns_[i].head, columns_[i].width, false);
            first = end;
        }
        groups.erase(groups.find_last_not_of(' ') + 1);
        std::printf("%s\n%s\n", groups.c_str(), heads.c_str());
        print_rule();
    }

    void print_row(const std::string& category, const Totals& t) const {
        const std::string label =
            category.size() > kLabelWidth ? category.substr(0, kLabelWidth - 1) + "~" : category;
        std::string line = aligned(label, kLabelWidth, true);
        for (size_t i = 0; i < columns_.size(); ++i)
            line += separator(i) + aligned(columns_[i].value(t), columns_[i].width, false);
        std::printf("%s\n", line.c_str());
    }

    void print_rule() const {
        size_t width = kLabelWidth;
        for (size_t i = 0; i < columns_.size(); ++i)
            width += separator(i).size() + columns_[i].width;
        std::printf("%s\n", std::string(width, '-').c_str());
    }

private:
    struct Column {
        std::string group;
        std::string head;
        size_t width;
        Value value;
    };
    static constexpr size_t kLabelWidth = 16;

    // The category column belongs to group "".
    std::string separator(size_t i) const {
        const std::string& previous = i == 0 ? std::string() : columns_[i - 1].group;
        return columns_[i].group == previous ? " " : " | ";
    }
    static std::string aligned(const std::string& s, size_t width, bool left) {
        if (s.size() >= width) return s;
        const std::string pad(width - s.size(), ' ');
        return left ? s + pad : pad + s;
    }
    static std::string centered(const std::string& s, size_t width) {
        if (s.size() >= width) return s;
        const size_t before = (width - s.size()) / 2;
        return std::string(before, ' ') + s + std::string(width - s.size() - before, ' ');
    }

    std::vector<Column> columns_;
};

// Sizes: every codec's total and its ratio to QOI, then QOHI against WebP
// method 0 (issue 4's target: smaller in total).
Table sizes_table(const bool* enabled) {
    Table t;
    t.add("", "images", 6, [](const Totals& x) { return std::to_string(x.images); });
    t.add("", "Mpixels", 8,
          [](const Totals& x) { return fmt("%.2f", static_cast<double>(x.pixels) / 1e6); });
    t.add("", "raw MB", 9, [](const Totals& x) { return fmt("%.2f", mb(x.raw_bytes)); });
    for (int c = 0; c < kCodecs; ++c) {
        if (!enabled[c] || c == kQohi2) continue;  // QOHI-2t writes QOHI's bytes
        t.add(kCodecName[c], "MB", 9, [c](const Totals& x) { return fmt("%.3f", mb(x.size[c])); });
        if (c != kQoi)
            t.add(kCodecName[c], "/QOI", 7, [c](const Totals& x) { return size_ratio(x, c, kQoi); });
    }
    if (enabled[kWebpM0])
        t.add("QOHI/WebP-m0", "size", 12,
              [](const Totals& x) { return size_ratio(x, kQohi, kWebpM0); });
    return t;
}

// Speeds: every codec's encode and decode speed, then QOHI's relative to QOI.
Table speeds_table(const bool* enabled) {
    Table t;
    for (int c = 0; c < kCodecs; ++c) {
        if (!enabled[c]) continue;
        t.add(kCodecName[c], "enc Mp/s", 8,
              [c](const Totals& x) { return fmt("%.1f", encode_speed(x, c)); });
        t.add(kCodecName[c], "dec Mp/s", 8,
              [c](const Totals& x) { return fmt("%.1f", decode_speed(x, c)); });
    }
    t.add("QOHI/QOI", "enc", 7, [](const Totals& x) {
        return ratio(encode_speed(x, kQohi), encode_speed(x, kQoi));
    });
    t.add("QOHI/QOI", "dec", 7, [](const Totals& x) {
        return ratio(decode_speed(x, kQohi), decode_speed(x, kQoi));
    });
    t.add("2t/1t", "enc", 7,
          [](const Totals& x) { return ratio(encode_speed(x, kQohi2), encode_speed(x, kQohi)); });
    t.add("2t/1t", "dec", 7,
          [](const Totals& x) { return ratio(decode_speed(x, kQohi2), decode_speed(x, kQohi)); });
    return t;
}

void print_table(const Table& table, const std::vector<std::string>& category_order,
                 const std::map<std::string, Totals>& by_category, const Totals& total) {
    table.print_header();
    for (const std::string& c : category_order) table.print_row(c, by_category.at(c));
    table.print_rule();
    table.print_row("TOTAL", total);
}

int run(const Options& opt) {
    bool enabled[kCodecs];
    for (int c = 0; c < kCodecs; ++c) enabled[c] = (c != kWebpM0 && c != kWebpM4) || opt.webp;
#if QOHI_BENCH_WEBP
    WebPConfig webp_m0{}, webp_default{};  // default: libwebp's method 4, quality 75
    if (opt.webp && !(lossless_webp_config(webp_m0) && lossless_webp_config(webp_default))) {
        std::fprintf(stderr, "qohi_bench: WebPConfigInit failed (libwebp version mismatch)\n");
        return 1;
    }
    webp_m0.method = 0;
#endif

    std::vector<Entry> entries;
    if (!list_pngs(opt.dir, opt.filter, entries)) return 2;
    if (entries.empty()) {
        std::fprintf(stderr, "qohi_bench: no *.png under '%s'%s\n", opt.dir.c_str(),
                     opt.filter.empty() ? "" : " matching the filter");
        return 1;
    }

    FILE* csv = nullptr;
    if (!opt.csv_path.empty()) {
        csv = std::fopen(opt.csv_path.c_str(), "w");
        if (!csv) {
            std::fprintf(stderr, "qohi_bench: cannot write '%s': %s\n", opt.csv_path.c_str(),
                         std::strerror(errno));
            return 2;
        }
        std::fprintf(csv, "path,category,width,height,channels,raw_bytes");
        for (int c = 0; c < kCodecs; ++c) {
            if (!enabled[c]) continue;
            const char* n = kCsvName[c];
            std::fprintf(csv, ",%s_size,%s_enc_s,%s_dec_s,%s_exact", n, n, n, n);
        }
        std::fprintf(csv, "\n");
    }

    std::map<std::string, Totals> by_category;
    std::vector<std::string> category_order;
    Totals total, large;  // large: images of kLargeImagePixels and more
    uint64_t skipped = 0;
    std::vector<std::string> failures;  // "codec: file: reason"

    const Clock::time_point start = Clock::now();
    size_t done = 0;
    for (const Entry& e : entries) {
        if (done > 0 && done % 50 == 0)
            std::fprintf(stderr, "qohi_bench: %zu/%zu images, %.0f s\n", done, entries.size(),
                         seconds_since(start));
        ++done;

        std::vector<uint8_t> file;
        std::string err;
        Image img;
        if (!qohi_tools::read_file(e.path.string(), file, err)) {
            std::fprintf(stderr, "qohi_bench: warning: skipped %s: %s\n", e.rel.c_str(),
                         err.c_str());
            ++skipped;
            continue;
        }
        if (!qohi_tools::decode_png(file.data(), file.size(), img, err)) {
            std::fprintf(stderr, "qohi_bench: warning: skipped %s: %s\n", e.rel.c_str(),
                         err.c_str());
            ++skipped;
            continue;
        }
        if ((img.channels != 3 && img.channels != 4) || img.width == 0 || img.height == 0 ||
            img.pixels.size() != static_cast<size_t>(img.width) * img.height * img.channels) {
            std::fprintf(stderr, "qohi_bench: warning: skipped %s: unexpected decoded layout\n",
                         e.rel.c_str());
            ++skipped;
            continue;
        }
        file.clear();
        file.shrink_to_fit();

        CodecResult r[kCodecs];
        r[kQohi] = run_qohi(img, opt.runs, opt.effort, 1);
        r[kQohi2] = run_qohi(img, opt.runs, opt.effort, 2);
        if (r[kQohi].ok && r[kQohi2].ok && r[kQohi2].size != r[kQohi].size) {
            r[kQohi2].exact = false;
            r[kQohi2].error = "two threads wrote another size than one";
        }
        r[kQoi] = run_qoi(img, opt.runs);
        r[kPng] = run_png(img, opt.runs);
#if QOHI_BENCH_WEBP
        if (opt.webp) {
            r[kWebpM0] = run_webp(img, opt.runs, webp_m0);
            r[kWebpM4] = run_webp(img, opt.runs, webp_default);
        }
#endif

        bool all_ok = true;
        for (int c = 0; c < kCodecs; ++c) {
            if (!enabled[c]) continue;
            if (!r[c].ok || !r[c].exact) {
                const std::string what = r[c].ok ? "NOT BIT-EXACT" : "FAILED";
                std::fprintf(stderr, "qohi_bench: ERROR: %s %s on %s: %s\n", kCodecName[c],
                             what.c_str(), e.rel.c_str(), r[c].error.c_str());
                failures.push_back(std::string(kCodecName[c]) + " " + what + ": " + e.rel +
                                   ": " + r[c].error);
            }
            if (!r[c].ok) all_ok = false;
        }

        const uint64_t px = static_cast<uint64_t>(img.width) * img.height;
        const uint64_t raw = px * img.channels;
        if (csv) {
            std::fprintf(csv, "%s,%s,%u,%u,%u,%llu", csv_field(e.rel).c_str(),
                         csv_field(e.category).c_str(), img.width, img.height, img.channels,
                         static_cast<unsigned long long>(raw));
            for (int c = 0; c < kCodecs; ++c) {
                if (!enabled[c]) continue;
                if (r[c].ok)
                    std::fprintf(csv, ",%llu,%.9f,%.9f,%d",
                                 static_cast<unsigned long long>(r[c].size), r[c].enc_s,
                                 r[c].dec_s, r[c].exact ? 1 : 0);
                else
                    std::fprintf(csv, ",,,,0");
            }
            std::fprintf(csv, "\n");
        }
        // An image enters the table only if every codec produced a result, so
        // that all columns cover the same pixels.
        if (!all_ok) continue;
        if (by_category.find(e.category) == by_category.end())
            category_order.push_back(e.category);
        by_category[e.category].add(px, raw, r);
        total.add(px, raw, r);
        if (px >= kLargeImagePixels) large.add(px, raw, r);
    }
    if (csv && std::fclose(csv) != 0) {
        std::fprintf(stderr, "qohi_bench: error writing '%s'\n", opt.csv_path.c_str());
        failures.push_back("CSV write failed");
    }

    std::printf("qohi_bench: %s, %d run%s per codec (best time), single thread (QOHI-2t: two), libqohi %s, "
                "QOHI effort %d\n",
                opt.dir.c_str(), opt.runs, opt.runs == 1 ? "" : "s", qohi_version_string(), opt.effort);
#if QOHI_BENCH_WEBP
    const int v = WebPGetEncoderVersion();
    if (opt.webp)
        std::printf("WebP: libwebp %d.%d.%d, lossless, exact; WebP-m0 = method 0, WebP-m4 = default "
                    "(method 4, quality 75)\n",
                    v >> 16, (v >> 8) & 0xff, v & 0xff);
#endif
    if (!opt.webp)
        std::printf("WebP: %s\n", kHaveWebp ? "left out (--no-webp)" : "not in this build (no libwebp)");
    std::printf("\nsizes in MB (1e6 bytes); /QOI%s = size ratios\n",
                opt.webp ? ", QOHI/WebP-m0" : "");
    print_table(sizes_table(enabled), category_order, by_category, total);
    std::printf("\nspeeds in Mpixel/s, best of %d run%s; QOHI/QOI = speed ratio\n", opt.runs,
                opt.runs == 1 ? "" : "s");
    print_table(speeds_table(enabled), category_order, by_category, total);
    std::printf("\nQOHI with two threads on images of %.0f Mpixel and more: %llu images, %.1f Mpixels; "
                "encoding %s, decoding %s the single-thread speed\n",
                static_cast<double>(kLargeImagePixels) / 1e6, static_cast<unsigned long long>(large.images),
                static_cast<double>(large.pixels) / 1e6,
                ratio(encode_speed(large, kQohi2), encode_speed(large, kQohi)).c_str(),
                ratio(decode_speed(large, kQohi2), decode_speed(large, kQohi)).c_str());
    std::printf("\n%llu image%s measured, %llu skipped (unreadable PNG), %zu failure%s, %.0f s\n",
                static_cast<unsigned long long>(total.images), total.images == 1 ? "" : "s",
                static_cast<unsigned long long>(skipped), failures.size(),
                failures.size() == 1 ? "" : "s", seconds_since(start));
    if (!failures.empty()) {
        std::printf("\n*** %zu FAILURE%s ***\n", failures.size(), failures.size() == 1 ? "" : "S");
        for (const std::string& f : failures) std::printf("  %s\n", f.c_str());
        return 1;
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    Options opt;
    const int rc = parse_args(argc, argv, opt);
    if (rc >= 0) return rc;
    return run_guarded("qohi_bench", [&opt] { return run(opt); });
}
