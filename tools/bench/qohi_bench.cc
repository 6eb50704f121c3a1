// qohi_bench: single-image benchmark of QOHI against the reference QOI
// (qoi.h from libqoi-dev) and libpng, on the same decoded pixels.
//
//   qohi_bench [--runs N] [--effort E] [--csv FILE] [--filter SUBSTR] DIR
//
// Every *.png under DIR (recursive, sorted by path) is decoded once with
// libpng; each codec then encodes those pixels to memory and decodes them
// back, N times, keeping the best encode and the best decode time. Decoded
// pixels must equal the source bit for bit. Images are grouped by their
// first-level folder under DIR ("." for files directly in DIR).
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
#include <map>
#include <memory>
#include <string>
#include <vector>

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

enum Codec { kQohi = 0, kQoi = 1, kPng = 2, kCodecs = 3 };
const char* const kCodecName[kCodecs] = {"QOHI", "QOI", "PNG"};

struct Options {
    int runs = 3;
    int effort = 0;  // QOHI's qohi_write_options.effort
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
    uint64_t size[kCodecs] = {0, 0, 0};
    double enc_s[kCodecs] = {0, 0, 0};
    double dec_s[kCodecs] = {0, 0, 0};

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

struct FreeDeleter {
    void operator()(void* p) const { std::free(p); }
};

bool same_pixels(const Image& src, const uint8_t* data, uint32_t w, uint32_t h, uint32_t ch,
                 std::string& why) {
    if (w != src.width || h != src.height || ch != src.channels) {
        why = "decoded " + std::to_string(w) + "x" + std::to_string(h) + "x" +
              std::to_string(ch) + ", expected " + std::to_string(src.width) + "x" +
              std::to_string(src.height) + "x" + std::to_string(src.channels);
        return false;
    }
    if (data == nullptr) {
        why = "no pixels";
        return false;
    }
    why = first_mismatch(data, src.pixels.data(), src.pixels.size(), w, ch);
    return why.empty();
}

// Each run_* encodes and decodes `img` `runs` times; the decoded pixels of
// every run are checked (outside the timed regions).
CodecResult run_qohi(const Image& img, int runs, int effort) {
    qohi_write_options options;
    qohi_write_options_init(&options);
    options.effort = effort;
    CodecResult r;
    r.enc_s = r.dec_s = 1e300;
    r.exact = true;
    for (int i = 0; i < runs; ++i) {
        void* raw_enc = nullptr;
        size_t enc_size = 0;
        qohi_error err{};
        Clock::time_point t0 = Clock::now();
        qohi_status st = qohi_encode(img.pixels.data(), img.width, img.height, img.channels, 0,
                                     &options, &raw_enc, &enc_size, &err);
        const double te = seconds_since(t0);
        std::unique_ptr<void, QohiDeleter> enc(raw_enc);
        if (st != QOHI_OK) {
            r.error = std::string("qohi_encode: ") + qohi_status_string(st) + ": " + err.message;
            return r;
        }
        void* raw_dec = nullptr;
        qohi_frame_info info{};
        err = qohi_error{};
        t0 = Clock::now();
        st = qohi_decode(enc.get(), enc_size, nullptr, 0, &raw_dec, &info, &err);
        const double td = seconds_since(t0);
        std::unique_ptr<void, QohiDeleter> dec(raw_dec);
        if (st != QOHI_OK) {
            r.error = std::string("qohi_decode: ") + qohi_status_string(st) + ": " + err.message;
            return r;
        }
        r.size = enc_size;
        r.enc_s = std::min(r.enc_s, te);
        r.dec_s = std::min(r.dec_s, td);
        std::string why;
        if (r.exact && !same_pixels(img, static_cast<const uint8_t*>(dec.get()), info.width,
                                    info.height, info.channels, why)) {
            r.exact = false;
            r.error = why;
        }
    }
    r.ok = true;
    return r;
}

CodecResult run_qoi(const Image& img, int runs) {
    CodecResult r;
    r.enc_s = r.dec_s = 1e300;
    r.exact = true;
    qoi_desc desc{};
    desc.width = img.width;
    desc.height = img.height;
    desc.channels = static_cast<unsigned char>(img.channels);
    desc.colorspace = QOI_SRGB;
    for (int i = 0; i < runs; ++i) {
        int enc_len = 0;
        Clock::time_point t0 = Clock::now();
        std::unique_ptr<void, FreeDeleter> enc(qoi_encode(img.pixels.data(), &desc, &enc_len));
        const double te = seconds_since(t0);
        if (!enc) {
            r.error = "qoi_encode failed";
            return r;
        }
        qoi_desc out{};
        t0 = Clock::now();
        std::unique_ptr<void, FreeDeleter> dec(
            qoi_decode(enc.get(), enc_len, &out, static_cast<int>(img.channels)));
        const double td = seconds_since(t0);
        if (!dec) {
            r.error = "qoi_decode failed";
            return r;
        }
        r.size = static_cast<uint64_t>(enc_len);
        r.enc_s = std::min(r.enc_s, te);
        r.dec_s = std::min(r.dec_s, td);
        std::string why;
        // qoi_decode returns the requested channel count, not the header's.
        if (r.exact && !same_pixels(img, static_cast<const uint8_t*>(dec.get()), out.width,
                                    out.height, img.channels, why)) {
            r.exact = false;
            r.error = why;
        }
    }
    r.ok = true;
    return r;
}

CodecResult run_png(const Image& img, int runs) {
    CodecResult r;
    r.enc_s = r.dec_s = 1e300;
    r.exact = true;
    for (int i = 0; i < runs; ++i) {
        std::vector<uint8_t> enc;
        std::string err;
        Clock::time_point t0 = Clock::now();
        bool good = qohi_tools::encode_png(img, -1, enc, err);
        const double te = seconds_since(t0);
        if (!good) {
            r.error = "encode_png: " + err;
            return r;
        }
        Image dec;
        t0 = Clock::now();
        good = qohi_tools::decode_png(enc.data(), enc.size(), dec, err);
        const double td = seconds_since(t0);
        if (!good) {
            r.error = "decode_png: " + err;
            return r;
        }
        r.size = enc.size();
        r.enc_s = std::min(r.enc_s, te);
        r.dec_s = std::min(r.dec_s, td);
        std::string why;
        if (r.exact && !same_pixels(img, dec.pixels.data(), dec.width, dec.height, dec.channels,
                                    why)) {
            r.exact = false;
            r.error = why;
        }
    }
    r.ok = true;
    return r;
}

void print_usage(FILE* f) {
    std::fprintf(f,
                 "usage: qohi_bench [options] DIR\n"
                 "\n"
                 "Benchmark QOHI against QOI (reference qoi.h) and libpng (default level) on\n"
                 "every *.png under DIR, recursively. Each image is decoded once; every codec\n"
                 "then encodes and decodes the same pixels in memory and must reproduce them\n"
                 "exactly. Times are the best of N runs, single-threaded. Results are grouped\n"
                 "by first-level folder under DIR (\".\" for files directly in DIR).\n"
                 "\n"
                 "options:\n"
                 "  --runs N         runs per codec and image, best time kept (default 3)\n"
                 "  --effort E       QOHI encoder effort, 0 (default) or 1 (as qohienc --effort)\n"
                 "  --csv FILE       also write one CSV line per image to FILE\n"
                 "  --filter SUBSTR  only images whose path under DIR contains SUBSTR\n"
                 "  -h, --help       show this help\n"
                 "\n"
                 "Exit status: 0 all exact, 1 mismatch or codec failure, 2 usage error.\n");
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

void print_rule() {
    std::printf("%s\n", std::string(164, '-').c_str());
}

void print_header() {
    std::printf("%-16s %6s %8s %9s | %9s %7s | %9s | %9s %7s | %8s %8s | %8s %8s | %8s %8s"
                " | %7s %7s\n",
                "", "", "", "", "QOHI", "", "QOI", "PNG", "", "QOHI", "", "QOI", "", "PNG", "",
                "QOHI/QOI", "");
    std::printf("%-16s %6s %8s %9s | %9s %7s | %9s | %9s %7s | %8s %8s | %8s %8s | %8s %8s"
                " | %7s %7s\n",
                "category", "images", "Mpixels", "raw MB", "MB", "/QOI", "MB", "MB", "/QOI",
                "enc Mp/s", "dec Mp/s", "enc Mp/s", "dec Mp/s", "enc Mp/s", "dec Mp/s", "enc",
                "dec");
    print_rule();
}

void print_row(const std::string& name, const Totals& t) {
    double enc[kCodecs], dec[kCodecs];
    for (int c = 0; c < kCodecs; ++c) {
        enc[c] = mpix_per_s(t.pixels, t.enc_s[c]);
        dec[c] = mpix_per_s(t.pixels, t.dec_s[c]);
    }
    std::string label = name.size() > 16 ? name.substr(0, 15) + "~" : name;
    std::printf(
        "%-16s %6llu %8.2f %9.2f | %9.3f %7s | %9.3f | %9.3f %7s | %8.1f %8.1f | %8.1f %8.1f"
        " | %8.1f %8.1f | %7s %7s\n",
        label.c_str(), static_cast<unsigned long long>(t.images),
        static_cast<double>(t.pixels) / 1e6, mb(t.raw_bytes), mb(t.size[kQohi]),
        ratio(static_cast<double>(t.size[kQohi]), static_cast<double>(t.size[kQoi])).c_str(),
        mb(t.size[kQoi]), mb(t.size[kPng]),
        ratio(static_cast<double>(t.size[kPng]), static_cast<double>(t.size[kQoi])).c_str(),
        enc[kQohi], dec[kQohi], enc[kQoi], dec[kQoi], enc[kPng], dec[kPng],
        ratio(enc[kQohi], enc[kQoi]).c_str(), ratio(dec[kQohi], dec[kQoi]).c_str());
}

int run(const Options& opt) {
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
        for (const char* n : {"qohi", "qoi", "png"})
            std::fprintf(csv, ",%s_size,%s_enc_s,%s_dec_s,%s_exact", n, n, n, n);
        std::fprintf(csv, "\n");
    }

    std::map<std::string, Totals> by_category;
    std::vector<std::string> category_order;
    Totals total;
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
        r[kQohi] = run_qohi(img, opt.runs, opt.effort);
        r[kQoi] = run_qoi(img, opt.runs);
        r[kPng] = run_png(img, opt.runs);

        bool all_ok = true;
        for (int c = 0; c < kCodecs; ++c) {
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
    }
    if (csv && std::fclose(csv) != 0) {
        std::fprintf(stderr, "qohi_bench: error writing '%s'\n", opt.csv_path.c_str());
        failures.push_back("CSV write failed");
    }

    std::printf("qohi_bench: %s, %d run%s per codec (best time), single thread, libqohi %s, QOHI effort %d\n",
                opt.dir.c_str(), opt.runs, opt.runs == 1 ? "" : "s", qohi_version_string(), opt.effort);
    std::printf("sizes in MB (1e6 bytes); /QOI = size relative to QOI; speeds in Mpixel/s\n\n");
    print_header();
    for (const std::string& c : category_order) print_row(c, by_category[c]);
    print_rule();
    print_row("TOTAL", total);
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
