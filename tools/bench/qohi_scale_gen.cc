// qohi_scale_gen: synthetic collections for the scale benchmark
// (scale_bench.sh), and a pixel compare of two folders of PNGs.
//
//   qohi_scale_gen N DIR [SEED]        write N images to DIR
//   qohi_scale_gen --real CORPUS N DIR [SEED]
//                                      write N images cut from real PNGs
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
// Real (--real): the same layout of N files, made of the real pixels of
// every *.png under CORPUS (the shared corpus: single/<category>/ and
// sets/<set>/), so that the scale benchmark also packs real images at a
// size this machine holds (~7500 pixels an image, ~0.4 GB of PNGs for
// 100000). The pool of bases, from the files sorted by path:
//  - an image with both sides <= 128 (icons, sprites, cursors): whole;
//  - a larger one: one crop per 64 Kpixels (2..16) with sides of 32..128,
//    each at the place with the most colours of 6 random ones (not a flat
//    sky or a transparent margin);
//  - the members of a set (sets/<set>/, real variant collections): each
//    as it is if small, else cut at the same 1..4 places (one per 128
//    Kpixels, chosen on the first member) so they stay variants.
// The shared corpus gives ~4300 bases. ceil(N/20) of them (in a shuffled
// order, so a small N still mixes every kind; at most the whole pool) get
// ~N/bases variants each: variant 0 is the base as cut; the others have
// one small edit, every fifth a second one: a few pixels painted, a patch
// of 3..16 pixels copied from elsewhere in the image, a rectangle
// recoloured (channels swapped, shifted, or filled with one of the image's
// colours), a line of text-like 3x5 glyphs, a region moved by 1 pixel,
// alpha faded in a region (RGB: a translucent highlight). Channels are
// kept (RGB stays RGB, RGBA stays RGBA; the PNG reader makes grey and
// palette images RGB(A)); files are written as plain 8-bit RGB/RGBA PNGs.
// Files the reader refuses (16-bit) are counted and skipped. Positions are
// shuffled as for the synthetic images. Deterministic for a given corpus,
// N and SEED.
//
// Compare: every *.png under DIR (recursive) must exist under DIR2 at the
// same relative path with the same pixels (an RGB file equals an RGBA file
// whose alpha is all 255). Files only in DIR2 are counted as extra.
//
// Exit status: 0 success / identical, 1 failure / differences, 2 usage.

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <string>
#include <thread>
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

// File positions 0..count-1 in a shuffled order: image i is written as
// number position[i], so that related images are scattered over folders.
std::vector<uint32_t> shuffled_positions(uint32_t count, uint64_t seed) {
    std::vector<uint32_t> position(count);
    for (uint32_t i = 0; i < count; ++i) position[i] = i;
    Rng shuffle(seed ^ 0x5EED5EEDull);
    for (uint32_t i = count; i > 1; --i) std::swap(position[i - 1], position[shuffle.below(i)]);
    return position;
}

bool make_dir(const std::string& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
        std::fprintf(stderr, "qohi_scale_gen: cannot create '%s': %s\n", dir.c_str(), ec.message().c_str());
        return false;
    }
    return true;
}

// Writes `img` as file number `pos`: DIR/dNNN/iNNNNNN.png, kFilesPerFolder a folder.
bool write_numbered(const std::string& dir, uint32_t pos, const Image& img, std::vector<uint8_t>& png) {
    char folder[32], file[64];
    std::snprintf(folder, sizeof folder, "d%03u", pos / kFilesPerFolder);
    std::snprintf(file, sizeof file, "i%06u.png", pos);
    const fs::path sub = fs::path(dir) / folder;
    std::error_code ec;
    if (pos % kFilesPerFolder == 0 || !fs::exists(sub)) fs::create_directories(sub, ec);
    std::string err;
    if (!qohi_tools::encode_png(img, -1, png, err) || !write_plain((sub / file).string(), png, err)) {
        std::fprintf(stderr, "qohi_scale_gen: %s\n", err.c_str());
        return false;
    }
    return true;
}

int generate(uint64_t n, const std::string& dir, uint64_t seed) {
    const uint32_t count = static_cast<uint32_t>(n);
    const uint32_t bases = std::max<uint32_t>(1, (count + kVariantsPerBase - 1) / kVariantsPerBase);
    // Image i is variant i / bases of base i % bases; file positions shuffled.
    const std::vector<uint32_t> position = shuffled_positions(count, seed);
    if (!make_dir(dir)) return 1;
    std::vector<Base> base_cache(bases);
    for (uint32_t b = 0; b < bases; ++b) base_cache[b] = make_base(seed, b);
    Image img;
    img.width = img.height = kSize;
    img.channels = 4;
    std::vector<uint8_t> png;
    for (uint32_t i = 0; i < count; ++i) {
        const uint32_t b = i % bases, v = i / bases;
        img.pixels = make_variant(base_cache[b], seed, b, v);
        if (!write_numbered(dir, position[i], img, png)) return 1;
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

// ------------------------------------------------------------------ real images

// The pool: pictures cut from the corpus, each a base of variants.
constexpr uint32_t kRealMaxSide = 128;          // larger images give crops
constexpr uint32_t kRealMinCrop = 32;           // crop sides: 32..128
constexpr uint32_t kRealVariantsPerBase = 20;   // target; more when the pool is too small for N
constexpr uint32_t kRealCropTries = 6;          // places tried for a crop, the busiest kept

struct RealBase {
    uint32_t width = 0, height = 0, channels = 0;
    std::vector<uint8_t> pixels;
};

struct Rect {
    uint32_t x = 0, y = 0, w = 0, h = 0;
};

struct PoolStats {
    uint32_t files = 0, unreadable = 0, whole = 0, crops = 0, set_members = 0;
};

// FNV-1a: a file's random stream depends on its name only, not on which
// other files the corpus has.
uint64_t name_hash(const std::string& s) {
    uint64_t h = 0xCBF29CE484222325ull;
    for (unsigned char c : s) h = (h ^ c) * 0x100000001B3ull;
    return h;
}

// A rectangle of lo..hi pixels a side (at most the image's), anywhere inside.
Rect random_rect(Rng& rng, uint32_t width, uint32_t height, int lo, int hi) {
    Rect r;
    r.w = std::min(width, static_cast<uint32_t>(rng.range(lo, hi)));
    r.h = std::min(height, static_cast<uint32_t>(rng.range(lo, hi)));
    r.x = rng.below(width - r.w + 1);
    r.y = rng.below(height - r.h + 1);
    return r;
}

// `r` moved (and cut) to fit a width x height image: set members may differ in size.
Rect fit(Rect r, uint32_t width, uint32_t height) {
    r.w = std::min(r.w, width);
    r.h = std::min(r.h, height);
    r.x = std::min(r.x, width - r.w);
    r.y = std::min(r.y, height - r.h);
    return r;
}

RealBase cut(const Image& img, const Rect& r) {
    RealBase b;
    b.width = r.w;
    b.height = r.h;
    b.channels = img.channels;
    const size_t row = static_cast<size_t>(r.w) * img.channels;
    b.pixels.resize(row * r.h);
    for (uint32_t y = 0; y < r.h; ++y)
        std::memcpy(&b.pixels[y * row], &img.pixels[((static_cast<size_t>(r.y) + y) * img.width + r.x) * img.channels], row);
    return b;
}

// Distinct colours of a rectangle (fully transparent pixels count as one):
// a flat crop (sky, a transparent margin) says little about real images.
size_t busyness(const Image& img, const Rect& r) {
    std::vector<uint32_t> seen;
    seen.reserve(static_cast<size_t>(r.w) * r.h);
    for (uint32_t y = r.y; y < r.y + r.h; ++y) {
        for (uint32_t x = r.x; x < r.x + r.w; ++x) {
            const uint8_t* p = &img.pixels[(static_cast<size_t>(y) * img.width + x) * img.channels];
            const uint32_t a = img.channels == 4 ? p[3] : 255;
            seen.push_back(a == 0 ? 0 : (uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16) ^ (a << 24));
        }
    }
    std::sort(seen.begin(), seen.end());
    return static_cast<size_t>(std::unique(seen.begin(), seen.end()) - seen.begin());
}

// `count` crop windows of 32..128 pixels a side, each the busiest of a few places.
std::vector<Rect> pick_windows(const Image& img, uint32_t count, Rng& rng) {
    std::vector<Rect> out;
    for (uint32_t i = 0; i < count; ++i) {
        Rect best;
        size_t best_colours = 0;
        for (uint32_t t = 0; t < kRealCropTries; ++t) {
            const Rect r = random_rect(rng, img.width, img.height, kRealMinCrop, kRealMaxSide);
            const size_t c = busyness(img, r);
            if (t == 0 || c > best_colours) {
                best = r;
                best_colours = c;
            }
        }
        out.push_back(best);
    }
    return out;
}

bool is_large(const Image& img) { return img.width > kRealMaxSide || img.height > kRealMaxSide; }

// Windows for an image of `pixels` pixels: one per `per` pixels, within lo..hi.
uint32_t window_count(uint64_t pixels, uint64_t per, uint32_t lo, uint32_t hi) {
    return static_cast<uint32_t>(std::clamp<uint64_t>((pixels + per - 1) / per, lo, hi));
}

bool load_quiet(const fs::path& path, Image& img, PoolStats& stats) {
    std::string err;
    img = Image();
    if (load(path, img, err) && (img.channels == 3 || img.channels == 4) && img.width && img.height) return true;
    ++stats.unreadable;  // 16-bit PNGs, broken files: no 8-bit pixels
    return false;
}

// Every PNG under CORPUS (sorted by path) gives bases. Images under
// sets/<set>/ are a set: each member gives its whole picture if small, or
// the same 1..4 windows (one per 128 Kpixels) if large, so that the set's
// members stay variants of each other. Other images give their whole
// picture if small, or 2..16 crops (one per 64 Kpixels) if large.
bool build_pool(const std::string& corpus, uint64_t seed, std::vector<RealBase>& pool, PoolStats& stats) {
    std::vector<std::string> files;
    if (!list_pngs(corpus, files)) return false;
    Image img;
    std::string set_key;
    std::vector<Rect> set_windows;
    bool set_large = false;
    for (const std::string& rel : files) {
        ++stats.files;
        const fs::path relp(rel);
        const bool in_set = rel.rfind("sets/", 0) == 0 && std::distance(relp.begin(), relp.end()) >= 3;
        if (!load_quiet(fs::path(corpus) / rel, img, stats)) continue;
        if (in_set) {
            const std::string key = relp.parent_path().generic_string();
            if (key != set_key) {  // first member: the set's windows
                set_key = key;
                set_large = is_large(img);
                Rng rng(seed * 0x9E3779B97F4A7C15ull ^ name_hash(key));
                set_windows = set_large ? pick_windows(img, window_count(uint64_t{img.width} * img.height, 131072, 1, 4), rng)
                                        : std::vector<Rect>();
            }
            if (!set_large || !is_large(img)) {
                pool.push_back(cut(img, Rect{0, 0, img.width, img.height}));
                ++stats.set_members;
                continue;
            }
            for (const Rect& r : set_windows) {
                pool.push_back(cut(img, fit(r, img.width, img.height)));
                ++stats.set_members;
            }
            continue;
        }
        if (!is_large(img)) {
            pool.push_back(cut(img, Rect{0, 0, img.width, img.height}));
            ++stats.whole;
            continue;
        }
        Rng rng(seed * 0x9E3779B97F4A7C15ull ^ name_hash(rel));
        for (const Rect& r : pick_windows(img, window_count(uint64_t{img.width} * img.height, 65536, 2, 16), rng)) {
            pool.push_back(cut(img, r));
            ++stats.crops;
        }
    }
    return true;
}

uint8_t* at(RealBase& b, uint32_t x, uint32_t y) {
    return &b.pixels[(static_cast<size_t>(y) * b.width + x) * b.channels];
}

// Copies rectangle `src` to (dx, dy), clipped to the image (source read first).
void copy_rect(RealBase& b, const Rect& src, int64_t dx, int64_t dy) {
    const RealBase tmp = b;
    for (uint32_t y = 0; y < src.h; ++y) {
        const int64_t ty = dy + y;
        if (ty < 0 || ty >= b.height) continue;
        for (uint32_t x = 0; x < src.w; ++x) {
            const int64_t tx = dx + x;
            if (tx < 0 || tx >= b.width) continue;
            std::memcpy(at(b, static_cast<uint32_t>(tx), static_cast<uint32_t>(ty)),
                        &tmp.pixels[((static_cast<size_t>(src.y) + y) * b.width + src.x + x) * b.channels], b.channels);
        }
    }
}

void set_colour(RealBase& b, uint8_t* p, const uint8_t* col) {
    std::memcpy(p, col, 3);
    if (b.channels == 4) p[3] = 255;
}

// One small edit of kind 1..6, as people make to copies of an image.
void real_edit(RealBase& b, Rng& rng, uint32_t kind) {
    const uint32_t w = b.width, h = b.height, ch = b.channels;
    switch (kind) {
    case 1: {  // a few pixels changed
        const int n = rng.range(1, 8);
        for (int i = 0; i < n; ++i) {
            const uint8_t col[3] = {rng.byte(), rng.byte(), rng.byte()};
            set_colour(b, at(b, rng.below(w), rng.below(h)), col);
        }
        break;
    }
    case 2: {  // a small patch copied from elsewhere in the image
        const Rect src = random_rect(rng, w, h, 3, 16);
        copy_rect(b, src, rng.below(w - src.w + 1), rng.below(h - src.h + 1));
        break;
    }
    case 3: {  // a small rectangle recoloured: channels swapped, shifted, or filled with one of its colours
        const Rect r = random_rect(rng, w, h, 4, 24);
        const uint32_t how = rng.below(3);
        const int offset = rng.range(-40, 40);
        uint8_t fill[3];
        std::memcpy(fill, at(b, rng.below(w), rng.below(h)), 3);
        for (uint32_t y = r.y; y < r.y + r.h; ++y) {
            for (uint32_t x = r.x; x < r.x + r.w; ++x) {
                uint8_t* p = at(b, x, y);
                if (ch == 4 && p[3] == 0) continue;
                if (how == 0) std::swap(p[0], p[2]);
                else if (how == 1)
                    for (int c = 0; c < 3; ++c) p[c] = static_cast<uint8_t>(std::clamp(p[c] + offset, 0, 255));
                else std::memcpy(p, fill, 3);
            }
        }
        break;
    }
    case 4: {  // a line of text-like 3x5 glyphs, dark or light
        const int glyphs = rng.range(2, 8);
        const int x0 = static_cast<int>(rng.below(w)), y0 = static_cast<int>(rng.below(h));
        const uint8_t tone = rng.below(2) ? 255 : static_cast<uint8_t>(rng.range(0, 40));
        const uint8_t col[3] = {tone, tone, tone};
        for (int g = 0; g < glyphs; ++g) {
            const uint64_t bits = rng.next();
            for (int i = 0; i < 15; ++i) {
                if (!((bits >> i) & 1)) continue;
                const int x = x0 + g * 4 + i % 3, y = y0 + i / 3;
                if (x < static_cast<int>(w) && y < static_cast<int>(h))
                    set_colour(b, at(b, static_cast<uint32_t>(x), static_cast<uint32_t>(y)), col);
            }
        }
        break;
    }
    case 5: {  // a region moved by one pixel
        const Rect r = random_rect(rng, w, h, 8, 48);
        const uint32_t dir = rng.below(4);
        copy_rect(b, r, int64_t{r.x} + (dir == 0) - (dir == 1), int64_t{r.y} + (dir == 2) - (dir == 3));
        break;
    }
    default: {  // alpha faded in a region; without alpha, a translucent highlight
        const Rect r = random_rect(rng, w, h, 8, 48);
        const uint32_t f = static_cast<uint32_t>(rng.range(64, 230));
        const uint8_t col[3] = {rng.byte(), rng.byte(), rng.byte()};
        for (uint32_t y = r.y; y < r.y + r.h; ++y) {
            for (uint32_t x = r.x; x < r.x + r.w; ++x) {
                uint8_t* p = at(b, x, y);
                if (ch == 4) p[3] = static_cast<uint8_t>(p[3] * f / 255);
                else
                    for (int c = 0; c < 3; ++c) p[c] = static_cast<uint8_t>((p[c] * f + col[c] * (255 - f)) / 255);
            }
        }
        break;
    }
    }
}

// Variant `v` of pool entry `index`; variant 0 is the picture as cut.
RealBase real_variant(const RealBase& base, uint64_t seed, uint32_t index, uint32_t v) {
    RealBase b = base;
    if (v == 0) return b;
    Rng rng((seed ^ 0x3C3C3C3Cull) * 0x9E3779B97F4A7C15ull + index * 1000003ull + v);
    real_edit(b, rng, 1 + (v - 1) % 6);
    if (v % 5 == 0) real_edit(b, rng, 1 + rng.below(6));  // some copies are edited twice
    return b;
}

int generate_real(const std::string& corpus, uint64_t n, const std::string& dir, uint64_t seed) {
    std::vector<RealBase> pool;
    PoolStats stats;
    if (!build_pool(corpus, seed, pool, stats)) return 1;
    if (pool.empty()) {
        std::fprintf(stderr, "qohi_scale_gen: no readable PNG under '%s'\n", corpus.c_str());
        return 1;
    }
    const uint32_t count = static_cast<uint32_t>(n);
    const uint32_t pool_size = static_cast<uint32_t>(pool.size());
    const uint32_t bases = std::min(pool_size, std::max<uint32_t>(1, (count + kRealVariantsPerBase - 1) / kRealVariantsPerBase));
    // Bases: the first `bases` of the pool in a shuffled order, so that a
    // small N still draws from every kind of image.
    std::vector<uint32_t> pick(pool_size);
    for (uint32_t i = 0; i < pool_size; ++i) pick[i] = i;
    Rng choose(seed ^ 0xBA5EBA5Eull);
    for (uint32_t i = pool_size; i > 1; --i) std::swap(pick[i - 1], pick[choose.below(i)]);
    std::vector<RealBase> chosen(bases);
    for (uint32_t b = 0; b < bases; ++b) chosen[b] = std::move(pool[pick[b]]);
    pool.clear();
    pool.shrink_to_fit();

    const std::vector<uint32_t> position = shuffled_positions(count, seed);
    for (uint32_t f = 0; f <= (count - 1) / kFilesPerFolder; ++f) {
        char folder[32];
        std::snprintf(folder, sizeof folder, "d%03u", f);
        if (!make_dir((fs::path(dir) / folder).string())) return 1;
    }
    // Encoding the PNGs takes most of the time (~100 s of CPU for 100000):
    // two threads share the images. Image i is the same whichever thread
    // makes it.
    std::atomic<bool> failed{false};
    std::atomic<uint64_t> pixels{0}, rgba{0};
    const auto work = [&](uint32_t first, uint32_t step) {
        Image img;
        std::vector<uint8_t> png;
        uint64_t px = 0, alpha = 0;
        for (uint32_t i = first; i < count && !failed; i += step) {
            const uint32_t b = i % bases, v = i / bases;
            RealBase out = real_variant(chosen[b], seed, pick[b], v);
            img.width = out.width;
            img.height = out.height;
            img.channels = out.channels;
            img.pixels = std::move(out.pixels);
            px += uint64_t{img.width} * img.height;
            alpha += img.channels == 4;
            if (!write_numbered(dir, position[i], img, png)) failed = true;
        }
        pixels += px;
        rgba += alpha;
    };
    const uint32_t threads = std::clamp(std::thread::hardware_concurrency(), 1u, 2u);
    std::vector<std::thread> workers;
    for (uint32_t t = 1; t < threads; ++t) workers.emplace_back(work, t, threads);
    work(0, threads);
    for (std::thread& t : workers) t.join();
    if (failed) return 1;
    std::printf("qohi_scale_gen: %u real images in %s: %u bases (of a pool of %u from %u corpus files: %u whole, "
                "%u crops, %u set members; %u unreadable), ~%u variants each, %llu RGBA, %llu RGB, %.0f pixels "
                "an image on average\n",
                count, dir.c_str(), bases, pool_size, stats.files, stats.whole, stats.crops, stats.set_members,
                stats.unreadable, (count + bases - 1) / bases, static_cast<unsigned long long>(rgba.load()),
                static_cast<unsigned long long>(count - rgba.load()), static_cast<double>(pixels.load()) / count);
    return 0;
}

void usage(FILE* f) {
    std::fprintf(f,
                 "usage: qohi_scale_gen N DIR [SEED]       write N synthetic 48x48 RGBA PNGs to DIR\n"
                 "       qohi_scale_gen --real CORPUS N DIR [SEED]\n"
                 "                                          write N PNGs cut from the PNGs of CORPUS\n"
                 "       qohi_scale_gen --compare DIR DIR2  compare the pixels of every *.png of DIR\n"
                 "                                          with the same path under DIR2\n"
                 "\n"
                 "N images: ~N/50 base pictures with ~50 variants each (changed pixels, a patch,\n"
                 "recoloured shapes, shifted colours), shuffled over sub-folders of 1000 files.\n"
                 "--real: the bases are the corpus's small images whole and crops of 32..128\n"
                 "pixels a side of its large ones (sets/<set>/ members as they are, cropped alike),\n"
                 "~20 variants each with small edits (pixels, a copied patch, a recoloured\n"
                 "rectangle, text-like glyphs, a region moved by 1 pixel, alpha faded).\n"
                 "Deterministic for N and SEED (default 1) (and the corpus).\n");
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
        if (argc >= 2 && std::strcmp(argv[1], "--real") == 0) {
            uint64_t n = 0, seed = 1;
            if (argc != 5 && argc != 6) {
                usage(stderr);
                return 2;
            }
            if (!parse_u64(argv[3], 1, 10000000, n)) {
                std::fprintf(stderr, "qohi_scale_gen: N must be a number from 1 to 10000000\n");
                return 2;
            }
            if (argc == 6 && !parse_u64(argv[5], 0, UINT64_MAX, seed)) {
                std::fprintf(stderr, "qohi_scale_gen: SEED must be a non-negative number\n");
                return 2;
            }
            return generate_real(argv[2], n, argv[4], seed);
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
