// Writes the seed corpora of the fuzz targets (fuzz/corpus/<target>/),
// made with libqohi itself: synthetic images of every kind the codec codes
// differently, with every writer option, single and multi-frame, and code
// tables with symbol streams. Deterministic: the same library writes the
// same files. Run through fuzz/make_seeds.sh, which adds files made by
// qohienc from tests/data.
//
//   qohi_fuzz_seeds OUTDIR      (writes OUTDIR/{decode,reader,roundtrip,huffman}/)
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "bit_io.h"
#include "huffman.h"
#include "qohi/qohi.h"

namespace {

namespace fs = std::filesystem;

fs::path g_out;
int g_written = 0;

void save(const std::string& target, const std::string& name, const std::vector<uint8_t>& bytes) {
    const fs::path dir = g_out / target;
    fs::create_directories(dir);
    const fs::path p = dir / name;
    FILE* f = std::fopen(p.c_str(), "wb");
    if (!f) {
        std::perror(p.c_str());
        std::exit(1);
    }
    if (!bytes.empty()) std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
    ++g_written;
}

struct Rng {
    uint64_t s;
    uint32_t next() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        return uint32_t(s >> 11);
    }
};

struct Image {
    uint32_t w, h, c;
    std::vector<uint8_t> px;
};

enum Kind { kGradient, kNoise, kFewColours, kSprite, kStripes, kFlat };

Image make_image(uint32_t w, uint32_t h, uint32_t c, Kind kind, uint64_t seed) {
    Image img{w, h, c, std::vector<uint8_t>(size_t(w) * h * c)};
    Rng rng{seed * 0x9E3779B97F4A7C15ull + 1};
    const uint8_t palette[6][4] = {{0, 0, 0, 255},     {255, 255, 255, 255}, {200, 30, 40, 255},
                                   {20, 120, 220, 128}, {250, 200, 0, 0},     {30, 160, 60, 255}};
    for (uint32_t y = 0; y < h; ++y)
        for (uint32_t x = 0; x < w; ++x) {
            uint8_t* p = &img.px[(size_t(y) * w + x) * c];
            uint8_t v[4] = {0, 0, 0, 255};
            switch (kind) {
                case kGradient:
                    v[0] = uint8_t(x * 255 / (w > 1 ? w - 1 : 1));
                    v[1] = uint8_t(y * 255 / (h > 1 ? h - 1 : 1));
                    v[2] = uint8_t((x + y) * 2);
                    v[3] = uint8_t(255 - x);
                    break;
                case kNoise:
                    for (auto& b : v) b = uint8_t(rng.next());
                    break;
                case kFewColours:
                    std::memcpy(v, palette[((x / 5) + (y / 3) * 7 + (rng.next() % 17 == 0)) % 6], 4);
                    break;
                case kSprite: {
                    const int dx = int(x) - int(w / 2), dy = int(y) - int(h / 2);
                    const bool inside = dx * dx + dy * dy < int(w * h / 5);
                    v[0] = inside ? uint8_t(180 + (x & 7)) : 0;
                    v[1] = inside ? uint8_t(90 + (y & 15)) : 0;
                    v[2] = inside ? 60 : 0;
                    v[3] = inside ? 255 : 0;
                    break;
                }
                case kStripes:
                    v[0] = v[1] = v[2] = ((x + 2 * y) / 4) % 2 ? 240 : 16;
                    v[1] = uint8_t(v[1] + (y % 3));
                    break;
                case kFlat:
                    v[0] = 12;
                    v[1] = 34;
                    v[2] = 56;
                    break;
            }
            std::memcpy(p, v, c);
        }
    return img;
}

// A variant: a rectangle recoloured, a block moved, a few pixels changed.
Image variant(const Image& base, uint64_t seed) {
    Image img = base;
    Rng rng{seed + 77};
    const uint32_t x0 = rng.next() % img.w, y0 = rng.next() % img.h;
    const uint32_t rw = 1 + rng.next() % (img.w - x0), rh = 1 + rng.next() % (img.h - y0);
    for (uint32_t y = y0; y < y0 + rh; ++y)
        for (uint32_t x = x0; x < x0 + rw; ++x) img.px[(size_t(y) * img.w + x) * img.c] ^= 0x40;
    for (int k = 0; k < 5; ++k) img.px[rng.next() % img.px.size()] = uint8_t(rng.next());
    return img;
}

qohi_write_options options(int effort = 0, int method = QOHI_CHOOSE_AUTO, uint32_t band_rows = 0,
                           uint32_t max_depth = 0) {
    qohi_write_options o;
    qohi_write_options_init(&o);
    o.effort = effort;
    o.method = method;
    o.band_rows = band_rows;
    if (max_depth) o.max_depth = max_depth;
    return o;
}

struct FrameSpec {
    const Image* img;
    const char* name;
    int64_t reference;  // NONE, AUTO or an index (its pixels: `ref`)
    const Image* ref;
    bool metadata;
    bool baseline;
};

std::vector<uint8_t> write_file(const qohi_write_options& o, const std::vector<FrameSpec>& frames) {
    qohi_writer* w = nullptr;
    qohi_error e;
    if (qohi_writer_open_memory(&o, &w, &e) != QOHI_OK) {
        std::fprintf(stderr, "writer: %s\n", e.message);
        std::exit(1);
    }
    static const char icc[] = "not really an ICC profile";
    static const char text[] = "Written by qohi_fuzz_seeds \xE2\x9C\x93";
    static const uint8_t exif[] = {'I', 'I', 42, 0, 8, 0, 0, 0, 0, 0};
    static const char xmp[] = "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"/>";
    const qohi_metadata meta[4] = {{QOHI_METADATA_ICC, "sRGB-ish", icc, sizeof icc - 1},
                                   {QOHI_METADATA_TEXT, "Comment", text, sizeof text - 1},
                                   {QOHI_METADATA_EXIF, nullptr, exif, sizeof exif},
                                   {QOHI_METADATA_XMP, nullptr, xmp, sizeof xmp - 1}};
    for (const FrameSpec& f : frames) {
        qohi_frame_options fo;
        qohi_frame_options_init(&fo);
        fo.name = f.name;
        fo.reference = f.reference;
        fo.baseline = f.baseline;
        if (f.ref) fo.reference_pixels = f.ref->px.data();
        if (f.metadata) {
            fo.metadata = meta;
            fo.metadata_count = 4;
        }
        if (qohi_writer_add_frame_with(w, f.img->px.data(), f.img->w, f.img->h, f.img->c, 0, &fo) != QOHI_OK) {
            std::fprintf(stderr, "add_frame: %s\n", qohi_writer_message(w));
            std::exit(1);
        }
    }
    void* data = nullptr;
    size_t size = 0;
    if (qohi_writer_finish(w, &data, &size) != QOHI_OK) {
        std::fprintf(stderr, "finish: %s\n", qohi_writer_message(w));
        std::exit(1);
    }
    std::vector<uint8_t> bytes(static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
    qohi_free(data);
    qohi_writer_destroy(w);
    return bytes;
}

std::vector<uint8_t> single(const Image& img, const qohi_write_options& o, bool metadata = false) {
    return write_file(o, {{&img, metadata ? "image.png" : nullptr, QOHI_REFERENCE_NONE, nullptr, metadata, false}});
}

// ------------------------------------------------------------------ decode

void decode_seeds() {
    struct Case {
        const char* name;
        uint32_t w, h, c;
        Kind kind;
        int effort, method;
        uint32_t band_rows;
        bool metadata;
    };
    const Case cases[] = {
        {"1x1-rgb", 1, 1, 3, kFlat, 0, QOHI_CHOOSE_AUTO, 0, false},
        {"1x1-rgba-stored", 1, 1, 4, kNoise, 0, QOHI_CHOOSE_STORED, 0, false},
        {"row-37x1", 37, 1, 3, kGradient, 0, QOHI_CHOOSE_QOHI, 0, false},
        {"column-1x29", 1, 29, 4, kGradient, 1, QOHI_CHOOSE_QOHI, 0, false},
        {"gradient-rgb", 32, 24, 3, kGradient, 0, QOHI_CHOOSE_AUTO, 0, false},
        {"gradient-rgba-e1", 32, 24, 4, kGradient, 1, QOHI_CHOOSE_AUTO, 0, false},
        {"noise-rgb", 16, 16, 3, kNoise, 0, QOHI_CHOOSE_AUTO, 0, false},
        {"noise-rgba-qohi", 16, 16, 4, kNoise, 0, QOHI_CHOOSE_QOHI, 0, false},
        {"few-colours", 40, 30, 4, kFewColours, 0, QOHI_CHOOSE_AUTO, 0, false},
        {"few-colours-e1", 40, 30, 4, kFewColours, 1, QOHI_CHOOSE_AUTO, 0, false},
        {"sprite", 32, 32, 4, kSprite, 0, QOHI_CHOOSE_AUTO, 0, true},
        {"sprite-e1-bands", 32, 32, 4, kSprite, 1, QOHI_CHOOSE_AUTO, 5, false},
        {"stripes-bands", 48, 20, 3, kStripes, 0, QOHI_CHOOSE_AUTO, 3, false},
        {"stripes-e1", 48, 20, 3, kStripes, 1, QOHI_CHOOSE_QOHI, 0, false},
        {"stored-bands", 9, 7, 3, kGradient, 0, QOHI_CHOOSE_STORED, 2, false},
        {"flat-bands1", 20, 6, 3, kFlat, 0, QOHI_CHOOSE_QOHI, 1, false},
        {"gradient-large-e1", 96, 64, 3, kGradient, 1, QOHI_CHOOSE_AUTO, 16, false},
        {"few-colours-large", 128, 96, 3, kFewColours, 0, QOHI_CHOOSE_AUTO, 0, false},
        // DICI (method 2): palette, ranks, runs and copies from above.
        {"dici-few-colours", 40, 30, 4, kFewColours, 0, QOHI_CHOOSE_DICI, 0, false},
        {"dici-sprite-bands", 32, 32, 4, kSprite, 0, QOHI_CHOOSE_DICI, 7, false},
        {"dici-stripes-rgb", 48, 20, 3, kStripes, 0, QOHI_CHOOSE_DICI, 0, false},
        {"dici-gradient-rgb", 32, 24, 3, kGradient, 0, QOHI_CHOOSE_DICI, 0, false},
    };
    for (const Case& c : cases) {
        const Image img = make_image(c.w, c.h, c.c, c.kind, c.w * 31 + c.h);
        save("decode", std::string(c.name) + ".qohi", single(img, options(c.effort, c.method, c.band_rows), c.metadata));
    }
}

// ------------------------------------------------------------------ reader

std::vector<uint8_t> with_ops(uint8_t flags, const std::vector<uint8_t>& ops, const std::vector<uint8_t>& file) {
    std::vector<uint8_t> out(2 + ops.size() + file.size());
    out[0] = flags;
    out[1] = uint8_t(ops.size() / 2);
    std::copy(ops.begin(), ops.end(), out.begin() + 2);
    std::copy(file.begin(), file.end(), out.begin() + 2 + long(ops.size()));
    return out;
}

void reader_seeds(std::vector<std::vector<uint8_t>>& multi) {
    const Image a = make_image(24, 16, 4, kSprite, 1);
    const Image b = variant(a, 2), c = variant(b, 3), d = variant(a, 4), e = variant(c, 5);
    const Image g = make_image(24, 16, 4, kGradient, 6);
    const Image small = make_image(8, 8, 3, kFewColours, 7);
    const Image rgb = make_image(20, 12, 3, kStripes, 8);
    const Image rgb2 = variant(rgb, 9);

    // A chain, explicit references.
    multi.push_back(write_file(options(0), {{&a, "a", QOHI_REFERENCE_NONE, nullptr, true, false},
                                            {&b, "b", 0, &a, false, false},
                                            {&c, "c", 1, &b, false, false},
                                            {&e, "sub/e", 2, &c, true, false},
                                            {&d, "d", 0, &a, false, false}}));
    // Automatic references, mixed sizes, effort 1, bands.
    multi.push_back(write_file(options(1, QOHI_CHOOSE_AUTO, 4), {{&a, "x/a.png", QOHI_REFERENCE_AUTO, nullptr, false, false},
                                                                 {&small, "small", QOHI_REFERENCE_AUTO, nullptr, false, false},
                                                                 {&b, "x/b.png", QOHI_REFERENCE_AUTO, nullptr, false, false},
                                                                 {&g, "g", QOHI_REFERENCE_AUTO, nullptr, false, false},
                                                                 {&rgb, "rgb", QOHI_REFERENCE_AUTO, nullptr, false, false},
                                                                 {&c, "x/c.png", QOHI_REFERENCE_AUTO, nullptr, false, false},
                                                                 {&rgb2, "rgb2", QOHI_REFERENCE_AUTO, nullptr, true, false}}));
    // A baseline, unnamed frames, max depth 2.
    multi.push_back(write_file(options(0, QOHI_CHOOSE_AUTO, 0, 2), {{&a, "base", QOHI_REFERENCE_NONE, nullptr, false, true},
                                                                     {&b, nullptr, 0, &a, false, false},
                                                                     {&c, nullptr, 1, &b, false, false},
                                                                     {&d, nullptr, 0, &a, false, false},
                                                                     {&e, "e", 3, &d, false, false}}));
    // Stored frames only; an empty file.
    multi.push_back(write_file(options(0, QOHI_CHOOSE_STORED), {{&rgb, "one", QOHI_REFERENCE_NONE, nullptr, false, false},
                                                                {&rgb2, "two", QOHI_REFERENCE_AUTO, nullptr, false, false}}));
    multi.push_back(write_file(options(0), {}));

    // Access patterns: kind byte (low 3 bits), frame byte.
    const std::vector<uint8_t> walk = {0, 4, 0, 3, 0, 0, 5, 1, 1, 2, 2, 2, 3, 3, 4, 4, 6, 1, 7, 0};
    const std::vector<uint8_t> backwards = {0, 4, 0, 3, 0, 2, 0, 1, 0, 0, 0x41, 4, 0x82, 3, 3, 4};
    const std::vector<uint8_t> by_name = {3, 0, 3, 1, 3, 2, 3, 3, 3, 4, 3, 5, 3, 6, 4, 6, 7, 5};
    const uint8_t flags[] = {0, 1, 2 | 8 | 32, 1 | 4 | 8, 6, 1 | 6 | 8 | 32};  // see fuzz_reader.cc
    int n = 0;
    for (size_t f = 0; f < multi.size(); ++f) {
        const std::vector<uint8_t>* patterns[] = {&walk, &backwards, &by_name};
        for (int p = 0; p < 3; ++p) {
            char name[64];
            std::snprintf(name, sizeof name, "file%zu-pattern%d.bin", f, p);
            save("reader", name, with_ops(flags[n++ % 6], *patterns[p], multi[f]));
        }
    }
    save("reader", "default-walk.bin", with_ops(8, {}, multi[0]));
    // Files whose writer stopped inside a frame, read by recovery (bit 6).
    for (size_t f = 0; f < 2; ++f) {
        const std::vector<uint8_t> cut(multi[f].begin(), multi[f].end() - long(multi[f].size() / 4));
        char name[64];
        std::snprintf(name, sizeof name, "file%zu-cut-recover.bin", f);
        save("reader", name, with_ops(uint8_t(64 | 8 | (f ? 32 : 0)), walk, cut));
    }
}

// --------------------------------------------------------------- roundtrip

void roundtrip_seeds() {
    // Header: w16 h16 flags band_rows frames/depth memory, then per frame
    // ctl, ref selector, pixel bytes (see fuzz_roundtrip.cc).
    Rng rng{42};
    auto ops = [&](std::vector<uint8_t>& v, size_t n) {
        v.push_back(uint8_t(n / 8));
        for (size_t i = 0; i < n; ++i) v.push_back(uint8_t(rng.next()));
    };
    auto edits = [&](std::vector<uint8_t>& v, unsigned n) {
        v.push_back(uint8_t(n));
        for (unsigned i = 0; i < n * 8; ++i) v.push_back(uint8_t(rng.next()));
    };
    struct Case {
        const char* name;
        uint16_t w, h;
        uint8_t flags, band_rows, frames;
    };
    const Case cases[] = {
        {"single-rgb", 15, 11, 0x00, 0, 0x00},
        {"single-rgba-e1", 31, 9, 0x03, 0, 0x00},
        {"single-stored-bands", 7, 13, 0x04, 3, 0x00},
        {"single-qohi-padded", 40, 40, 0x18, 0, 0x00},
        {"three-auto", 16, 16, 0x01, 0, 0x02 | (1 << 3)},
        {"four-explicit-e1", 20, 10, 0x03 | 0x40, 4, 0x03 | (3 << 3)},
        {"six-mixed-meta", 24, 12, 0x01 | 0x40 | 0x80 | 0x20, 2, 0x05 | (0 << 3)},
        {"deep-default", 12, 12, 0x00, 0, 0x05 | 0xE0},
    };
    for (const Case& c : cases) {
        std::vector<uint8_t> v = {uint8_t(c.w - 1), uint8_t((c.w - 1) >> 8), uint8_t(c.h - 1), uint8_t((c.h - 1) >> 8),
                                  c.flags, c.band_rows, c.frames, 0};
        const unsigned frames = 1 + (c.frames & 7) % 6;
        for (unsigned f = 0; f < frames; ++f) {
            // ctl: reference kind cycles none/auto/explicit; pixels: new for the
            // first, then variants; a copy and another size now and then.
            uint8_t ctl = uint8_t(f % 4);
            ctl |= uint8_t((f == 0 ? 7 : f == 3 ? 6 : f % 2 ? 0 : 4) << 3);
            if (f == 4) ctl |= 64;
            if (f == 5) ctl |= 4;
            v.push_back(ctl);
            v.push_back(uint8_t(f ? f - 1 : 0));
            if (f == 0 || f == 4) ops(v, 64 + 8 * f);
            else if (f != 3) edits(v, 1 + f % 4);
            if (c.flags & 0x40) {
                if (ctl & 128) v.push_back(3);
            }
            if (c.flags & 0x80) {
                v.push_back(2);  // two metadata items
                for (int k = 0; k < 2; ++k) {
                    v.push_back(uint8_t(f + k));
                    v.push_back(5);
                    for (int b = 0; b < 5; ++b) v.push_back(uint8_t('a' + b));
                }
            }
        }
        save("roundtrip", std::string(c.name) + ".bin", v);
    }
}

// ----------------------------------------------------------------- huffman

void huffman_seeds() {
    // Decode mode: real tables and symbols from the encoder; round-trip mode:
    // counts and symbols.
    Rng rng{7};
    const unsigned alphabets[] = {342, 385, 256, 43, 16, 2, 1, 512};
    for (int k = 0; k < 12; ++k) {
        const unsigned tables = 1 + k % 6;
        std::vector<uint8_t> head{uint8_t(tables - 1)};
        std::vector<unsigned> n;
        for (unsigned t = 0; t < tables; ++t) {
            n.push_back(alphabets[(k + t) % 8]);
            head.push_back(uint8_t((n.back() - 1) & 0xFF));
            head.push_back(uint8_t((n.back() - 1) >> 8));
        }
        // Lengths from skewed counts; some tables empty or single-symbol.
        std::vector<std::vector<uint8_t>> lengths;
        std::vector<std::vector<unsigned>> used(tables);
        for (unsigned t = 0; t < tables; ++t) {
            std::vector<uint32_t> counts(n[t], 0);
            const unsigned kind = (k + t) % 5;
            const unsigned symbols = kind == 0 ? 0 : kind == 1 ? 1 : 2 + rng.next() % std::min(60u, n[t]);
            for (unsigned s = 0; s < symbols; ++s) counts[rng.next() % n[t]] += 1 + (rng.next() % 1000) / (s + 1);
            if (kind == 4) counts[n[t] - 1] += 5000;  // one long, many short codes
            lengths.push_back(qohi::build_code_lengths(counts.data(), n[t], qohi::kMaxCodeLength));
            for (unsigned s = 0; s < n[t]; ++s)
                if (lengths[t][s]) used[t].push_back(s);
        }
        std::vector<uint8_t> bits;
        qohi::BitWriter w(bits);
        std::vector<const std::vector<uint8_t>*> ptrs;
        for (const auto& l : lengths) ptrs.push_back(&l);
        qohi::write_code_tables(w, ptrs);
        std::vector<qohi::EncodeTable> enc;
        for (const auto& l : lengths) enc.push_back(qohi::make_encode_table(l));
        for (int i = 0; i < 200; ++i) {
            const unsigned t = i % tables;
            if (used[t].empty()) continue;
            const unsigned s = used[t][rng.next() % used[t].size()];
            w.put(enc[t].code[s], enc[t].length[s]);
        }
        w.finish();
        std::vector<uint8_t> v = head;
        v.insert(v.end(), bits.begin(), bits.end());
        char name[64];
        std::snprintf(name, sizeof name, "decode-%02d.bin", k);
        save("huffman", name, v);

        // The same alphabets in round-trip mode: counts, max length, symbols.
        std::vector<uint8_t> r = head;
        r[0] |= 8;
        for (unsigned t = 0; t < tables; ++t) {
            const unsigned pairs = (k + t) % 5 == 0 ? 0 : 1 + rng.next() % 40;
            r.push_back(uint8_t(pairs));
            for (unsigned p = 0; p < pairs; ++p) {
                const unsigned s = rng.next() % n[t];
                r.push_back(uint8_t(s));
                r.push_back(uint8_t(s >> 8));
                r.push_back(uint8_t(rng.next()));
                r.push_back(uint8_t(rng.next()));
            }
            r.push_back(uint8_t(k % 12));  // max length 1 + k % 12 (raised as needed)
        }
        for (int i = 0; i < 64; ++i) r.push_back(uint8_t(rng.next()));
        std::snprintf(name, sizeof name, "roundtrip-%02d.bin", k);
        save("huffman", name, r);
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
        return 2;
    }
    g_out = argv[1];
    decode_seeds();
    std::vector<std::vector<uint8_t>> multi;
    reader_seeds(multi);
    // Multi-frame files are valid decode inputs too (the first frame).
    for (size_t i = 0; i + 1 < multi.size(); ++i) save("decode", "multi" + std::to_string(i) + ".qohi", multi[i]);
    roundtrip_seeds();
    huffman_seeds();
    std::printf("qohi_fuzz_seeds: %d files in %s\n", g_written, argv[1]);
    return 0;
}
