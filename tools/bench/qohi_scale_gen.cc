// qohi_scale_gen: synthetic collections for the scale benchmark
// (scale_bench.sh), and a pixel compare of two folders of PNGs.
//
//   qohi_scale_gen N DIR [SEED]        write N images to DIR
//   qohi_scale_gen --compare DIR DIR2  compare every *.png of DIR with DIR2
//
// Generation: N small RGBA images (48x48) in sub-folders of 1000 files
// (DIR/d000/i000000.png, ...). About N/50 base pictures (a gradient
// background, a few opaque and translucent shapes, a transparent margin),
// each with ~50 variants: a few changed pixels, a changed patch, a recoloured
// shape, a channel-shifted copy, or a patch plus pixels. The images of all
// bases are shuffled over the files, so a base's variants are scattered
// across folders as in a real archive. Deterministic for a given N and SEED
// (default 1).
//
// Compare: every *.png under DIR (recursive) must exist under DIR2 at the
// same relative path with the same pixels (an RGB file equals an RGBA file
// whose alpha is all 255). Files only in DIR2 are counted as extra.
//
// Exit status: 0 success / identical, 1 failure / differences, 2 usage.

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

#include "file_io.h"
#include "png_io.h"

namespace fs = std::filesystem;
using qohi_tools::Image;

namespace {

constexpr uint32_t kSize = 48;
constexpr uint32_t kVariantsPerBase = 50;
constexpr uint32_t kFilesPerFolder = 1000;

// splitmix64: small, portable, deterministic.
struct Rng {
    uint64_t s;
    explicit Rng(uint64_t seed) : s(seed) {}
    uint64_t next() {
        uint64_t z = (s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    uint32_t below(uint32_t n) { return static_cast<uint32_t>(next() % n); }
    int range(int lo, int hi) { return lo + static_cast<int>(below(static_cast<uint32_t>(hi - lo + 1))); }
    uint8_t byte() { return static_cast<uint8_t>(next() & 0xFF); }
};

struct Rgba {
    uint8_t c[4];
};

Rgba random_colour(Rng& rng, uint8_t alpha) {
    return Rgba{{rng.byte(), rng.byte(), rng.byte(), alpha}};
}

void blend(uint8_t* p, const Rgba& col) {
    const uint32_t a = col.c[3];
    if (a == 255 || p[3] == 0) {
        std::memcpy(p, col.c, 4);
        return;
    }
    for (int c = 0; c < 3; ++c)
        p[c] = static_cast<uint8_t>((col.c[c] * a + p[c] * (255 - a) + 127) / 255);
    p[3] = static_cast<uint8_t>(std::min<uint32_t>(255, p[3] + a * (255 - p[3]) / 255));
}

// Shape kinds: 0 rectangle, 1 disc, 2 ring.
struct Shape {
    int kind, x0, y0, x1, y1;  // bounding box, inclusive
    Rgba colour;
};

bool inside(const Shape& s, int x, int y) {
    if (x < s.x0 || x > s.x1 || y < s.y0 || y > s.y1) return false;
    if (s.kind == 0) return true;
    const int cx2 = s.x0 + s.x1, cy2 = s.y0 + s.y1;
    const int rx = s.x1 - s.x0 + 1, ry = s.y1 - s.y0 + 1;
    const int dx = 2 * x - cx2, dy = 2 * y - cy2;
    // (dx/rx)^2 + (dy/ry)^2 <= 1, in integers
    const int64_t lhs = int64_t{dx} * dx * ry * ry + int64_t{dy} * dy * rx * rx;
    const int64_t r2 = int64_t{rx} * rx * ry * ry;
    if (lhs > r2) return false;
    if (s.kind == 2) return lhs * 100 > r2 * 36;  // ring: outside 0.6 of the radius
    return true;
}

Shape random_shape(Rng& rng, int lo, int hi) {
    Shape s{};
    s.kind = rng.range(0, 2);
    const int w = rng.range(lo, hi), h = rng.range(lo, hi);
    s.x0 = rng.range(0, static_cast<int>(kSize) - w);
    s.y0 = rng.range(0, static_cast<int>(kSize) - h);
    s.x1 = s.x0 + w - 1;
    s.y1 = s.y0 + h - 1;
    s.colour = random_colour(rng, rng.below(3) == 0 ? static_cast<uint8_t>(rng.range(96, 224)) : 255);
    return s;
}

void draw(std::vector<uint8_t>& px, const Shape& s) {
    for (int y = s.y0; y <= s.y1; ++y)
        for (int x = s.x0; x <= s.x1; ++x)
            if (inside(s, x, y)) blend(&px[(static_cast<size_t>(y) * kSize + static_cast<size_t>(x)) * 4], s.colour);
}

struct Base {
    std::vector<uint8_t> pixels;
    std::vector<Shape> shapes;
};

Base make_base(uint64_t seed, uint32_t index) {
    Rng rng(seed * 0x100000001B3ull + index);
    Base b;
    b.pixels.assign(static_cast<size_t>(kSize) * kSize * 4, 0);
    const Rgba c0 = random_colour(rng, 255), c1 = random_colour(rng, 255);
    const int margin = rng.range(0, 6);  // transparent border, as in icons
    const bool vertical = rng.below(2) == 0;
    const bool dither = rng.below(4) == 0;
    for (uint32_t y = 0; y < kSize; ++y) {
        for (uint32_t x = 0; x < kSize; ++x) {
            uint8_t* p = &b.pixels[(static_cast<size_t>(y) * kSize + x) * 4];
            if (static_cast<int>(x) < margin || static_cast<int>(y) < margin ||
                static_cast<int>(x) >= static_cast<int>(kSize) - margin ||
                static_cast<int>(y) >= static_cast<int>(kSize) - margin)
                continue;  // transparent black
            const uint32_t t = vertical ? y : x;
            for (int c = 0; c < 3; ++c) {
                int v = (c0.c[c] * static_cast<int>(kSize - 1 - t) + c1.c[c] * static_cast<int>(t)) /
                        static_cast<int>(kSize - 1);
                if (dither) v += rng.range(-3, 3);
                p[c] = static_cast<uint8_t>(std::clamp(v, 0, 255));
            }
            p[3] = 255;
        }
    }
    const int shapes = rng.range(2, 6);
    for (int i = 0; i < shapes; ++i) {
        b.shapes.push_back(random_shape(rng, 6, 30));
        draw(b.pixels, b.shapes.back());
    }
    return b;
}

// Variant `v` of base `b`; variant 0 is the base itself.
std::vector<uint8_t> make_variant(const Base& b, uint64_t seed, uint32_t base_index, uint32_t v) {
    std::vector<uint8_t> px = b.pixels;
    if (v == 0) return px;
    Rng rng((seed ^ 0xA5A5A5A5ull) * 0x9E3779B97F4A7C15ull + base_index * 1000003ull + v);
    const uint32_t kind = v % 5;
    if (kind == 0 || kind == 4) {  // a few changed pixels
        const int n = rng.range(1, 8);
        for (int i = 0; i < n; ++i) {
            uint8_t* p = &px[(static_cast<size_t>(rng.below(kSize)) * kSize + rng.below(kSize)) * 4];
            p[0] = rng.byte();
            p[1] = rng.byte();
            p[2] = rng.byte();
            p[3] = 255;
        }
    }
    if (kind == 1 || kind == 4) {  // a small patch: a new shape
        draw(px, random_shape(rng, 4, 12));
    }
    if (kind == 2) {  // one shape recoloured (drawn again in a new colour)
        Shape s = b.shapes[rng.below(static_cast<uint32_t>(b.shapes.size()))];
        s.colour = random_colour(rng, s.colour.c[3]);
        draw(px, s);
    }
    if (kind == 3) {  // colours shifted: a channel permutation or an offset on opaque pixels
        const uint32_t how = rng.below(3);
        const int offset = rng.range(-40, 40);
        for (size_t i = 0; i < px.size(); i += 4) {
            if (px[i + 3] == 0) continue;
            if (how == 0) std::swap(px[i], px[i + 2]);
            else if (how == 1) std::swap(px[i + 1], px[i + 2]);
            else
                for (int c = 0; c < 3; ++c) px[i + c] = static_cast<uint8_t>(std::clamp(px[i + c] + offset, 0, 255));
        }
    }
    return px;
}

// Plain write: no fsync (write_file_atomic syncs every file, slow for 20000).
bool write_plain(const std::string& path, const std::vector<uint8_t>& data, std::string& err) {
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) {
        err = "cannot write '" + path + "': " + std::strerror(errno);
        return false;
    }
    const bool ok = std::fwrite(data.data(), 1, data.size(), f) == data.size();
    if (std::fclose(f) != 0 || !ok) {
        err = "error writing '" + path + "'";
        return false;
    }
    return true;
}

int generate(uint64_t n, const std::string& dir, uint64_t seed) {
    const uint32_t count = static_cast<uint32_t>(n);
    const uint32_t bases = std::max<uint32_t>(1, (count + kVariantsPerBase - 1) / kVariantsPerBase);
    // Image i is variant i / bases of base i % bases; file positions shuffled.
    std::vector<uint32_t> position(count);
    for (uint32_t i = 0; i < count; ++i) position[i] = i;
    Rng shuffle(seed ^ 0x5EED5EEDull);
    for (uint32_t i = count; i > 1; --i) std::swap(position[i - 1], position[shuffle.below(i)]);

    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
        std::fprintf(stderr, "qohi_scale_gen: cannot create '%s': %s\n", dir.c_str(), ec.message().c_str());
        return 1;
    }
    std::vector<Base> base_cache(bases);
    for (uint32_t b = 0; b < bases; ++b) base_cache[b] = make_base(seed, b);
    Image img;
    img.width = img.height = kSize;
    img.channels = 4;
    std::vector<uint8_t> png;
    char folder[32], file[64];
    for (uint32_t i = 0; i < count; ++i) {
        const uint32_t b = i % bases, v = i / bases;
        img.pixels = make_variant(base_cache[b], seed, b, v);
        const uint32_t pos = position[i];
        std::snprintf(folder, sizeof folder, "d%03u", pos / kFilesPerFolder);
        std::snprintf(file, sizeof file, "i%06u.png", pos);
        const fs::path sub = fs::path(dir) / folder;
        if (pos % kFilesPerFolder == 0 || !fs::exists(sub)) fs::create_directories(sub, ec);
        std::string err;
        if (!qohi_tools::encode_png(img, -1, png, err) || !write_plain((sub / file).string(), png, err)) {
            std::fprintf(stderr, "qohi_scale_gen: %s\n", err.c_str());
            return 1;
        }
    }
    std::printf("qohi_scale_gen: %u images (%u bases, %ux%u RGBA) in %s\n", count, bases, kSize, kSize, dir.c_str());
    return 0;
}

// ------------------------------------------------------------------ compare

bool is_png(const fs::path& p) {
    std::string ext = p.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return ext == ".png";
}

bool list_pngs(const fs::path& root, std::vector<std::string>& out) {
    std::error_code ec;
    fs::recursive_directory_iterator it(root, ec), end;
    if (ec) {
        std::fprintf(stderr, "qohi_scale_gen: cannot list '%s': %s\n", root.string().c_str(), ec.message().c_str());
        return false;
    }
    for (; it != end; it.increment(ec)) {
        if (ec) return false;
        std::error_code ec2;
        if (it->is_regular_file(ec2) && is_png(it->path()))
            out.push_back(it->path().lexically_relative(root).generic_string());
    }
    std::sort(out.begin(), out.end());
    return true;
}

bool load(const fs::path& path, Image& img, std::string& err) {
    std::vector<uint8_t> data;
    return qohi_tools::read_file(path.string(), data, err) && qohi_tools::decode_png(data.data(), data.size(), img, err);
}

// Equal pixels; RGB equals RGBA with alpha 255.
bool same(const Image& a, const Image& b) {
    if (a.width != b.width || a.height != b.height) return false;
    if (a.channels == b.channels) return a.pixels == b.pixels;
    const Image& rgb = a.channels == 3 ? a : b;
    const Image& rgba = a.channels == 3 ? b : a;
    const size_t n = static_cast<size_t>(a.width) * a.height;
    for (size_t i = 0; i < n; ++i) {
        if (std::memcmp(&rgb.pixels[i * 3], &rgba.pixels[i * 4], 3) != 0 || rgba.pixels[i * 4 + 3] != 255)
            return false;
    }
    return true;
}

int compare(const std::string& dir1, const std::string& dir2) {
    std::vector<std::string> a, b;
    if (!list_pngs(dir1, a) || !list_pngs(dir2, b)) return 1;
    uint64_t missing = 0, differ = 0, unreadable = 0, equal = 0;
    for (const std::string& rel : a) {
        Image x, y;
        std::string err;
        if (!load(fs::path(dir1) / rel, x, err)) {
            std::fprintf(stderr, "qohi_scale_gen: %s/%s: %s\n", dir1.c_str(), rel.c_str(), err.c_str());
            ++unreadable;
            continue;
        }
        if (!std::binary_search(b.begin(), b.end(), rel)) {
            if (missing++ < 10) std::fprintf(stderr, "qohi_scale_gen: missing in %s: %s\n", dir2.c_str(), rel.c_str());
            continue;
        }
        if (!load(fs::path(dir2) / rel, y, err)) {
            std::fprintf(stderr, "qohi_scale_gen: %s/%s: %s\n", dir2.c_str(), rel.c_str(), err.c_str());
            ++unreadable;
            continue;
        }
        if (!same(x, y)) {
            if (differ++ < 10) std::fprintf(stderr, "qohi_scale_gen: pixels differ: %s\n", rel.c_str());
            continue;
        }
        ++equal;
    }
    uint64_t extra = 0;
    for (const std::string& rel : b)
        if (!std::binary_search(a.begin(), a.end(), rel)) ++extra;
    std::printf("compare: %llu equal, %llu differ, %llu missing, %llu unreadable, %llu extra\n",
                static_cast<unsigned long long>(equal), static_cast<unsigned long long>(differ),
                static_cast<unsigned long long>(missing), static_cast<unsigned long long>(unreadable),
                static_cast<unsigned long long>(extra));
    return (differ || missing || unreadable || extra || a.empty()) ? 1 : 0;
}

void usage(FILE* f) {
    std::fprintf(f,
                 "usage: qohi_scale_gen N DIR [SEED]       write N synthetic 48x48 RGBA PNGs to DIR\n"
                 "       qohi_scale_gen --compare DIR DIR2  compare the pixels of every *.png of DIR\n"
                 "                                          with the same path under DIR2\n"
                 "\n"
                 "N images: ~N/50 base pictures with ~50 variants each (changed pixels, a patch,\n"
                 "recoloured shapes, shifted colours), shuffled over sub-folders of 1000 files.\n"
                 "Deterministic for N and SEED (default 1).\n");
}

bool parse_u64(const char* s, uint64_t lo, uint64_t hi, uint64_t& out) {
    if (!s || !*s || *s == '-') return false;
    char* end = nullptr;
    errno = 0;
    const unsigned long long v = std::strtoull(s, &end, 10);
    if (*end != '\0' || errno != 0 || v < lo || v > hi) return false;
    out = v;
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        if (argc >= 2 && (std::strcmp(argv[1], "-h") == 0 || std::strcmp(argv[1], "--help") == 0)) {
            usage(stdout);
            return 0;
        }
        if (argc >= 2 && std::strcmp(argv[1], "--compare") == 0) {
            if (argc != 4) {
                usage(stderr);
                return 2;
            }
            return compare(argv[2], argv[3]);
        }
        if (argc != 3 && argc != 4) {
            usage(stderr);
            return 2;
        }
        uint64_t n = 0, seed = 1;
        if (!parse_u64(argv[1], 1, 10000000, n)) {
            std::fprintf(stderr, "qohi_scale_gen: N must be a number from 1 to 10000000\n");
            return 2;
        }
        if (argc == 4 && !parse_u64(argv[3], 0, UINT64_MAX, seed)) {
            std::fprintf(stderr, "qohi_scale_gen: SEED must be a non-negative number\n");
            return 2;
        }
        return generate(n, argv[2], seed);
    } catch (const std::exception& ex) {
        std::fprintf(stderr, "qohi_scale_gen: fatal: %s\n", ex.what());
    }
    return 1;
}
