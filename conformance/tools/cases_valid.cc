// Valid vectors: every frame decodes. Each case builds its pixels, codes
// them op by op with BandWriter (or lets libqohi's writer code them), and
// names the features the tracer must find.
#include <cstring>

#include "qohi/qohi.h"
#include "vec_cases.h"

namespace vec {
namespace {

// A colour that differs from its neighbours in the list.
Px colour(unsigned k) { return Px{uint8_t(k * 37 + 11), uint8_t(k * 91 + 5), uint8_t(k * 53 + 200), 255}; }

// An ICC profile header with no tags: enough for hosts that read it, and
// kept as opaque bytes by QOHI (§3.9).
std::string icc_profile() {
    std::string p(132, '\0');
    auto be32 = [&](size_t at, uint32_t v) {
        for (int i = 0; i < 4; ++i) p[at + size_t(i)] = char(v >> (24 - 8 * i));
    };
    be32(0, 132);
    std::memcpy(&p[8], "\x04\x30\x00\x00", 4);  // version 4.3
    std::memcpy(&p[12], "mntrRGB XYZ ", 12);
    std::memcpy(&p[36], "acsp", 4);
    be32(68, 0x0000F6D6);  // D50 illuminant
    be32(72, 0x00010000);
    be32(76, 0x0000D32D);
    return p;
}

// Pixels of libqohi's writer, for the encoder cases.
std::vector<uint8_t> library_file(const std::vector<Img>& imgs, int effort, bool auto_reference,
                                  const std::vector<std::string>& names, bool with_text = false) {
    qohi_write_options o;
    qohi_write_options_init(&o);
    o.effort = effort;
    qohi_writer* w = nullptr;
    check(qohi_writer_open_memory(&o, &w, nullptr) == QOHI_OK, "writer");
    for (size_t i = 0; i < imgs.size(); ++i) {
        const std::vector<uint8_t> px = imgs[i].bytes();
        qohi_frame_options fo;
        qohi_frame_options_init(&fo);
        fo.name = names[i].c_str();
        fo.reference = auto_reference ? QOHI_REFERENCE_AUTO : QOHI_REFERENCE_NONE;
        const std::string text = "variant " + std::to_string(i);
        qohi_metadata m{QOHI_METADATA_TEXT, "Comment", text.data(), text.size()};
        if (with_text) {
            fo.metadata = &m;
            fo.metadata_count = 1;
        }
        check(qohi_writer_add_frame_with(w, px.data(), imgs[i].w, imgs[i].h, imgs[i].c, 0, &fo) == QOHI_OK,
              std::string("writer: ") + qohi_writer_message(w));
    }
    void* data = nullptr;
    size_t size = 0;
    check(qohi_writer_finish(w, &data, &size) == QOHI_OK, "writer finish");
    qohi_writer_destroy(w);
    std::vector<uint8_t> file(static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
    qohi_free(data);
    return file;
}

// A picture with features every encoder path likes: flat areas (runs), a few
// colours (index hits), glyph-like blocks repeated along rows and columns
// (matches), gradients and a little noise.
Img synthetic(uint32_t w, uint32_t h, uint32_t c, uint64_t seed) {
    Rng rng(seed);
    std::vector<Px> glyph(64);
    for (Px& p : glyph) p = (rng.next() % 3) ? Px{240, 240, 235, 255} : Px{20, 30, 90, 255};
    return make_img(w, h, c, [&](uint32_t x, uint32_t y) {
        if (y < h / 3) return Px{uint8_t(x * 2 + y), uint8_t(100 + y * 3), uint8_t(200 - x), uint8_t(255 - y)};
        if (y < 2 * h / 3) return glyph[(y % 8) * 8 + x % 8];
        if (x < w / 2) return Px{50, 60, 70, uint8_t(x < w / 4 ? 255 : 128)};
        return Px{uint8_t(rng.next() % 4 + 120), uint8_t(rng.next() % 4 + 80), 30, 255};
    });
}

void small_cases() {
    add_case([] {
        const Img img(1, 1, 3, Px{200, 100, 50, 255});
        File f;
        f.frames.push_back(coded_frame(img, 1, [](BandWriter& b) { b.diff(); }));
        return valid_case("valid-1x1-rgb", f, {img},
                          {"The smallest frame: 1 x 1 RGB, one difference op",
                           "§3.7, §5.5",
                           "One QOHI band holding a single difference op from the start pixel (0, 0, 0, 255).",
                           {"size:1x1", "rgb", "method:qohi", "op:diff"}});
    });
    add_case([] {
        const Img img(1, 1, 4, Px{10, 20, 30, 40});
        File f;
        f.frames.push_back(stored_frame(img));
        return valid_case("valid-1x1-rgba-stored", f, {img},
                          {"1 x 1 RGBA, stored (method 0)",
                           "§4.2",
                           "A stored band of 4 bytes.",
                           {"size:1x1", "rgba", "method:stored"}});
    });
    add_case([] {
        // Width 1: every pixel is in the first column, the row above is the
        // previous pixel, and every run and match crosses row ends.
        const Px p0{10, 20, 30, 255}, p1{12, 22, 31, 255}, p6{50, 60, 70, 255}, p7{52, 61, 75, 255};
        Seq s;
        s.add(p0);
        s.add(p1, 5);
        s.add(p6);
        s.add(p7);
        s.copy(3, 2);
        s.copy(4, 2);
        s.copy(1, 1);
        s.add(p1);
        for (unsigned k = 0; s.px.size() < 40; ++k)
            s.add(Px{uint8_t(100 + 3 * k), uint8_t(50 + k), uint8_t(20 + 2 * k)});
        const Img img = s.image(1, 3);
        File f;
        f.frames.push_back(coded_frame(img, img.h, [](BandWriter& b) {
            b.diff();
            b.diff();
            b.run(4);
            b.diff();
            b.grad();  // first column: predicted by the pixel above
            b.match(3, 2, Dist::kClass);
            b.match(4, 2, Dist::kColumn);
            b.match(1, 1, Dist::kAbove);
            b.index();
            while (b.pos() < b.size()) b.grad();
        }));
        return valid_case(
            "valid-column-1xN", f, {img},
            {"A 1 x 40 RGB frame: runs, matches of every distance form and gradients in one column",
             "§5.6, §5.12, §5.13",
             "Width 1: the pixel above is the previous pixel. Ops: differences, a run of 4 (across 4 row ends), "
             "a gradient op predicted from the pixel above, a match of distance 2 (DIST symbol 2), a match "
             "repeating it with DIST symbol 43 (column distance), a match of length 1 with DIST symbol 0 "
             "(distance = width = 1), an index op, then gradient ops.",
             {"size:1xN", "run:wraps-rows", "grad:first-column", "dist:direct-class", "dist:column", "dist:above",
              "match:overlap", "match:len-1", "op:index"}});
    });
    add_case([] {
        Rng rng(4);
        Img img(60, 1, 4);
        for (uint32_t x = 0; x < 60; ++x) {
            img.px[x] = x % 7 == 3 && x ? img.px[x - 1] : rng.px(true);
            if (x % 5 == 1) img.px[x].a = 255;
        }
        File f;
        f.frames.push_back(coded_frame(img, 1, [](BandWriter& b) {
            b.grad(true);  // first row: predicted by the previous pixel
            b.greedy();
        }));
        return valid_case("valid-row-Nx1", f, {img},
                          {"A 60 x 1 RGBA frame: alpha changes, gradient op in the first row",
                           "§5.5, §5.13",
                           "One row: the band's first row, where gradient ops predict from the previous pixel.",
                           {"size:Nx1", "rgba", "grad:first-row", "op:grad-alpha", "op:diff-alpha"}});
    });
    add_case([] {
        return valid_case(
            "valid-no-frames", File{}, {},
            {"A file with no frames",
             "§3.1, §3.11",
             "Signature, QHDR, an index of 0 entries at offset 28, the trailer. It opens and has 0 frames.",
             {"file:no-frames"}});
    });
}

void op_cases() {
    add_case([] {
        const Img img = noise(16, 8, 3, 1);
        File f;
        f.frames.push_back(coded_frame(img, img.h, [](BandWriter& b) {
            Greedy g;
            g.runs = g.index = false;
            b.greedy(UINT64_MAX, g);
        }));
        return valid_case("valid-op-diff", f, {img},
                          {"Difference ops only, over noise (every value wraps modulo 256)",
                           "§5.5",
                           "Every pixel of a 16 x 8 RGB noise image is a difference op (symbol 0).",
                           {"op:diff", "rgb"}});
    });
    add_case([] {
        Img img = noise(16, 8, 4, 2);
        img.px[5].a = img.px[4].a;
        File f;
        f.frames.push_back(coded_frame(img, img.h, [](BandWriter& b) {
            Greedy g;
            g.runs = g.index = false;
            b.greedy(5, g);
            b.diff(true);  // alpha unchanged, still symbol 1
            b.greedy(UINT64_MAX, g);
        }));
        return valid_case("valid-op-diff-alpha", f, {img},
                          {"Difference ops with alpha (symbol 1), one with dA = 0",
                           "§5.5",
                           "RGBA noise, every pixel a difference op; pixel 5 keeps the alpha of pixel 4 and is still "
                           "coded with symbol 1 (dA = 0, valid but wasteful).",
                           {"op:diff-alpha", "op:diff-alpha-zero", "rgba"}});
    });
    add_case([] {
        std::vector<uint64_t> runs;
        for (uint64_t l = 1; l <= 16; ++l) runs.push_back(l);
        for (uint64_t l = 16; l <= 8192; l *= 2) {
            runs.push_back(l + 1);
            if (l * 2 <= 8192) runs.push_back(l * 2);
        }
        Seq s;
        s.add(Px{0, 0, 0, 255}, runs[0]);  // the start pixel: a run from position 0
        for (size_t k = 1; k < runs.size(); ++k) s.add(colour(unsigned(k)), 1 + runs[k]);
        const uint32_t w = 61;
        const uint64_t rest = (w - s.px.size() % w) % w;
        s.add(colour(99), rest);
        const Img img = s.image(w, 3);
        File f;
        f.frames.push_back(coded_frame(img, img.h, [&](BandWriter& b) {
            b.run(runs[0]);
            for (size_t k = 1; k < runs.size(); ++k) {
                b.diff();
                b.run(runs[k]);
            }
            if (rest) b.diff();
            if (rest > 1) b.run(rest - 1);
        }));
        return valid_case("valid-op-run-classes", f, {img},
                          {"Runs of every direct length class and of the long classes 16-25",
                           "§5.2, §5.6",
                           "A 61-pixel-wide RGB frame: a run of the start pixel at position 0, then for each length "
                           "1-16, 17, 32, 33, 64, ... 8192, 8193 a difference op and a run of that length (crossing "
                           "row ends), then a last run filling the frame.",
                           {"op:run", "run:direct-all", "run:long-16-25", "run:from-start-pixel", "run:wraps-rows"}});
    });
    add_case([] {
        // Two colours with the same hash: the second replaces the first.
        const Px a{1, 2, 3, 255};
        Px b2{0, 0, 0, 255};
        for (unsigned r = 0; r < 256 && (b2 == Px{0, 0, 0, 255} || hash(b2) != hash(a)); ++r)
            for (unsigned g = 0; g < 256; ++g)
                if (hash(Px{uint8_t(r), uint8_t(g), 9, 255}) == hash(a)) {
                    b2 = Px{uint8_t(r), uint8_t(g), 9, 255};
                    break;
                }
        const Px c3{90, 40, 200, 255};
        Seq s;
        s.add(Px{0, 0, 0, 255});  // from the unwritten entry 7: opaque black in an RGB frame
        for (const Px& p : {a, c3, a, b2, b2, c3, a, b2}) s.add(p);
        Rng rng(3);
        const Px palette[4] = {a, b2, c3, Px{0, 0, 0, 255}};
        while (s.px.size() < 64) s.add(palette[rng.next() % 4]);
        const Img img = s.image(8, 3);
        File f;
        f.frames.push_back(coded_frame(img, img.h, [](BandWriter& b) {
            b.index_entry(7);
            b.diff();
            b.diff();
            b.index();  // a
            b.diff();   // b2 replaces a in the entry they share
            b.index();  // b2
            b.index();  // c3
            b.diff();   // a again
            b.diff();   // b2 again
            Greedy g;
            g.runs = false;
            b.greedy(UINT64_MAX, g);
        }));
        return valid_case("valid-op-index", f, {img},
                          {"Index ops: hits, a hash collision, an unwritten entry in an RGB frame",
                           "§5.3, §5.7",
                           "RGB 8 x 8. The first pixel is an index op on entry 7, never written in the band: in an RGB "
                           "frame it gives opaque black (0, 0, 0, 255) and writes entry 245. Two colours with the same "
                           "hash replace each other in their entry; the rest are index hits and differences.",
                           {"op:index", "index:collision", "index:unwritten-rgb"}});
    });
    add_case([] {
        Seq s;
        s.add(Px{0, 0, 0, 0});  // from the unwritten entry 9: transparent black in an RGBA frame
        Rng rng(5);
        const Px palette[3] = {Px{200, 10, 10, 128}, Px{10, 200, 10, 0}, Px{0, 0, 0, 0}};
        while (s.px.size() < 32) s.add(palette[rng.next() % 3]);
        const Img img = s.image(8, 4);
        File f;
        f.frames.push_back(coded_frame(img, img.h, [](BandWriter& b) {
            b.index_entry(9);
            b.greedy();
        }));
        return valid_case("valid-op-index-rgba", f, {img},
                          {"Index op on an unwritten entry in an RGBA frame (transparent black)",
                           "§5.7",
                           "RGBA 8 x 4: the first pixel is an index op on entry 9, never written: (0, 0, 0, 0), which "
                           "then enters entry 0. The rest uses a palette of three colours with alpha.",
                           {"op:index", "index:unwritten-rgba", "rgba"}});
    });
    add_case([] {
        Rng rng(11);
        Seq s;
        auto randoms = [&](size_t until) {
            while (s.px.size() < until) s.add(rng.px());
        };
        randoms(40);
        s.copy(20, 20);
        s.copy(1, 7);
        s.copy(30, 45);
        s.copy(25, 45);
        randoms(120);
        s.copy(12, 3);
        s.copy(8, 1);
        randoms(310);
        s.copy(10, 300);
        randoms(400);
        const Img img = s.image(20, 3);
        File f;
        f.frames.push_back(coded_frame(img, img.h, [](BandWriter& b) {
            b.greedy(40);
            b.match(20, 20, Dist::kAbove);
            b.match(1, 7);
            b.match(30, 45);                 // long length class, long distance class, across rows
            b.match(25, 45, Dist::kColumn);  // the column distance, wrapping to the next row
            b.greedy(120);
            b.match(12, 3);  // overlaps itself: repeats the last 3 pixels
            b.match(8, 1);
            b.greedy(310);
            b.match(10, 300);
            b.greedy();
        }));
        return valid_case(
            "valid-op-match", f, {img},
            {"Match ops: every distance form, long and short lengths and distances, overlap, row wrap",
             "§5.6, §5.12",
             "RGB 20 x 20, noise with copies: a row copied from above (DIST 0), a match of length 1, "
             "a match of length 30 at distance 45 (long classes for both, across rows), the next 25 "
             "pixels at the same distance with DIST symbol 43 (column distance, the match wrapping to "
             "the next row), overlapping matches of distance 3 and 1, and a distance of 300 "
             "(class 20, 8 extra bits).",
             {"op:match", "dist:above", "dist:direct-class", "dist:long-class", "dist:column", "match:overlap",
              "match:len-1", "match:direct-class", "match:long-class", "match:wraps-rows"}});
    });
    add_case([] {
        Rng rng(12);
        const uint8_t levels[4] = {0, 40, 215, 255};
        const Img img = make_img(24, 10, 3, [&](uint32_t, uint32_t) {
            return Px{levels[rng.next() % 4], levels[rng.next() % 4], levels[rng.next() % 4], 255};
        });
        File f;
        f.frames.push_back(coded_frame(img, img.h, [](BandWriter& b) {
            while (b.pos() < b.size()) b.grad();
        }));
        return valid_case("valid-op-gradient", f, {img},
                          {"Gradient difference ops for every pixel, with clamped predictions",
                           "§5.13",
                           "RGB 24 x 10 of the levels 0, 40, 215, 255, every pixel a gradient op (symbol 340): in the "
                           "first row predicted by the previous pixel, in the first column by the pixel above, "
                           "elsewhere by left + above - above-left clamped to 0 ... 255 (both ends occur).",
                           {"op:grad", "grad:first-row", "grad:first-column", "grad:clamp-low", "grad:clamp-high"}});
    });
    add_case([] {
        const Img img = noise(12, 6, 4, 13);
        File f;
        f.frames.push_back(coded_frame(img, img.h, [](BandWriter& b) {
            while (b.pos() < b.size()) b.grad(true);
        }));
        return valid_case("valid-op-gradient-alpha", f, {img},
                          {"Gradient difference ops with alpha (symbol 341)",
                           "§5.13",
                           "RGBA noise, every pixel a gradient op with alpha; alpha is coded against the previous "
                           "pixel's, never predicted.",
                           {"op:grad-alpha", "rgba"}});
    });
}

void delta_cases() {
    for (const uint32_t channels : {3u, 4u}) {
        add_case([channels] {
            const bool rgba = channels == 4;
            Img f0 = make_img(16, 8, channels, [](uint32_t x, uint32_t y) {
                return Px{uint8_t(x * 16), uint8_t(y * 30), uint8_t((x * y) % 256), uint8_t(255 - x * 8)};
            });
            Rng rng(21);
            for (size_t k = 0; k < f0.px.size(); k += 3) f0.px[k] = rng.px(rgba);
            Seq s;
            s.ref = &f0.px;
            auto refs = [&](size_t until) {
                while (s.px.size() < until) s.add(f0.px[s.px.size()]);
            };
            s.copy(16, 16);  // first row, DIST 0: the reference band's last row
            refs(36);
            for (int k = 0; k < 3; ++k) {
                Px p = f0.px[s.px.size()];
                p.r = uint8_t(p.r + 3), p.g = uint8_t(p.g - 2), p.b = uint8_t(p.b + 1);
                if (rgba) p.a = uint8_t(p.a + 7);
                s.add(p);
            }
            s.copy(10, 130);
            s.copy(20, 60);
            refs(74);
            while (s.px.size() < 128) s.add(rng.next() % 2 ? f0.px[s.px.size()] : rng.px(rgba));
            const Img f1 = s.image(16, channels);
            File f;
            f.frames.push_back(qohi_frame(f0, "f0"));
            f.frames.push_back(coded_frame(
                f1, f1.h,
                [rgba](BandWriter& b) {
                    b.match(16, 16, Dist::kAbove);
                    b.refrun(20);
                    for (int k = 0; k < 3; ++k) b.refdiff(rgba);
                    b.match(10, 130);
                    b.match(20, 60);
                    b.refrun(5);
                    b.greedy();
                },
                "f1", &f0, 1));
            return valid_case(rgba ? "valid-delta-ops-rgba" : "valid-delta-ops", f, {f0, f1},
                              {std::string("Delta frame") + (rgba ? " (RGBA)" : "") +
                                   ": reference runs and differences, matches into the reference band",
                               "§4.5, §5.11, §5.12",
                               "Frame 1 refers to frame 0. Its band starts with a match of distance 16 (DIST 0) in "
                               "its first row, which copies the reference band's last row; then a reference run of "
                               "20 (long class) and one of 5, three reference differences" +
                                   std::string(rgba ? " with alpha (symbol 384)" : " (symbol 383)") +
                                   ", a match wholly inside the reference band (distance 130) and one across its end "
                                   "(distance 60), and a mix of reference runs and differences.",
                               {"delta", "op:refrun", "refrun:direct-class", "refrun:long-class",
                                rgba ? "op:refdiff-alpha" : "op:refdiff", "match:from-ref", "match:across-ref-boundary",
                                "match:above-from-ref"}});
        });
    }
    add_case([] {
        // A chain 0 <- 1 <- 2 <- 3 (depth 3, the file's maximum), an intra
        // frame 4, frame 5 on frame 1 (distance 4), frame 6 on the stored
        // frame 0 with other bands.
        const Img base = gradient(8, 6, 3);
        std::vector<Img> imgs{base};
        auto variant = [](const Img& from, uint64_t seed) {
            Img v = from;
            Rng rng(seed);
            for (int k = 0; k < 5; ++k) v.px[rng.next() % v.px.size()] = rng.px();
            return v;
        };
        File f;
        f.max_depth = 3;
        f.frames.push_back(stored_frame(base, "chain/0"));
        for (int k = 1; k <= 3; ++k) {
            imgs.push_back(variant(imgs.back(), uint64_t(k)));
            f.frames.push_back(qohi_frame(imgs[size_t(k)], "chain/" + std::to_string(k), &imgs[size_t(k) - 1], 1));
        }
        imgs.push_back(noise(8, 6, 3, 40));
        f.frames.push_back(qohi_frame(imgs.back(), "intra"));
        imgs.push_back(variant(imgs[1], 50));
        f.frames.push_back(qohi_frame(imgs.back(), "on-1", &imgs[1], 4));
        imgs.push_back(variant(imgs[0], 60));
        f.frames.push_back(coded_frame(imgs.back(), 2, nullptr, "on-0", &imgs[0], 6));
        return valid_case("valid-delta-chain", f, imgs,
                          {"Reference chains: depth up to max_chain_depth 3, a stored reference, shared references",
                           "§3.6, §3.7, §4.5",
                           "max_chain_depth 3. Frame 0 is stored; frames 1, 2, 3 form a chain on it (frame 3 has depth "
                           "3); frame 4 is intra; frame 5 refers to frame 1 (ref_distance 4), so frame 1 has two "
                           "dependants; frame 6 refers to frame 0 (ref_distance 6) with 3 bands of 2 rows where "
                           "frame 0 has one band.",
                           {"delta", "delta:chain-2+", "delta:depth-at-max", "delta:ref-distance-gt1",
                            "delta:ref-stored", "delta:shared-ref", "delta:band-layout-differs", "file:multi-frame"}});
    });
    add_case([] {
        File f;
        f.max_depth = 1;
        std::vector<Img> imgs;
        for (unsigned k = 0; k < 129; ++k) {
            imgs.push_back(Img(1, 1, 3, colour(k)));
            f.frames.push_back(stored_frame(imgs.back()));
        }
        Img last = imgs[0];
        last.px[0].g = uint8_t(last.px[0].g + 1);
        imgs.push_back(last);
        f.frames.push_back(coded_frame(
            last, 1, [](BandWriter& b) { b.refdiff(); }, "", &imgs[0], 129));
        return valid_case("valid-delta-distance-129", f, imgs,
                          {"A reference 129 frames back (2-byte ref_distance)",
                           "§1.3, §3.7",
                           "130 frames of 1 x 1 pixel; the last is a delta frame on frame 0, ref_distance 129 "
                           "(varint 81 01), one reference difference op.",
                           {"delta:ref-distance-multibyte", "delta:ref-distance-gt1"}});
    });
}

void table_cases() {
    add_case([] {
        // 32 x 24 RGB in 3 bands of 8 rows with different context groupings.
        // Each row: a flat strip (with a dot: G context 0), a gentle gradient,
        // moderate and strong noise; row 4 of each band copies row 3 (a match:
        // op context 3); strips repeat colours (index ops) and flat runs.
        Rng rng(31);
        Img img(32, 24, 3);
        for (uint32_t y = 0; y < 24; ++y) {
            for (uint32_t x = 0; x < 32; ++x) {
                Px p;
                if (x < 8)
                    p = Px{60, 70, 80, 255};
                else if (x < 16)
                    p = Px{uint8_t(100 + x + y), uint8_t(90 + x), uint8_t(80 + y), 255};
                else if (x < 24)
                    p = Px{uint8_t(128 + rng.next() % 9), uint8_t(128 + rng.next() % 9), uint8_t(128 + rng.next() % 9)};
                else
                    p = rng.px();
                img.at(x, y) = p;
            }
            if (y % 8 == 2) img.at(4, y) = Px{61, 70, 80, 255};  // a dot in a flat area: dG = 0, activity 0
            if (y % 8 == 4)
                for (uint32_t x = 0; x < 32; ++x) img.at(x, y) = img.at(x, y - 1);
        }
        const Modes modes[3] = {{1, 1, 1}, {2, 2, 2}, {2, 1, 0}};
        std::vector<std::vector<uint8_t>> bands;
        for (uint32_t b = 0; b < 3; ++b) {
            BandWriter w(img, b * 8, 8, nullptr, modes[b]);
            for (uint32_t r = 0; r < 8; ++r) {
                if (r == 4)
                    w.match(32, 32, Dist::kAbove);
                else
                    w.greedy(uint64_t(r + 1) * 32);
            }
            bands.push_back(w.finish());
        }
        const File f = one_frame_file(Header{32, 24, 3, 8, 1, 0, 0, "contexts"}, bands_fdat(8, bands));
        return valid_case("valid-context-groupings", f, {img},
                          {"Context-selected tables: grouping modes 1 and 2 for OP, G and R/B, every context used",
                           "§5.1, §5.14",
                           "Three bands with grouping fields (m_OP, m_G, m_RB) = (1, 1, 1), (2, 2, 2) and (2, 1, 0). "
                           "Each band has runs, index ops, differences and a match, so every op context occurs; flat "
                           "areas with a dot, gentle gradients, moderate and strong noise give every G context and "
                           "every R/B context.",
                           {"grouping:op-1", "grouping:op-2", "grouping:g-1", "grouping:g-2", "grouping:rb-1",
                            "grouping:rb-2", "ctx:op-all", "ctx:g-all", "ctx:rb-all", "bands:several"}});
    });
    add_case([] {
        Img img(8, 4, 3, Px{0, 0, 0, 255});
        Rng rng(33);
        for (uint32_t k = 16; k < 32; ++k) img.px[k] = rng.px();
        BandWriter b0(img, 0, 2);
        b0.run(16);  // only a run: G, R, B, A and DIST are written anyway
        b0.set_lengths(kG, 0, std::vector<uint8_t>(256, 0));
        for (Family fam : {kG, kR, kB, kA}) {
            std::vector<uint8_t> l(256, 0);
            l[5] = 1;
            b0.set_lengths(fam, 0, l);
        }
        std::vector<uint8_t> d(44, 0);
        d[0] = 1;
        b0.set_lengths(kDist, 0, d);
        BandWriter b1(img, 2, 2);
        b1.greedy();
        std::vector<uint8_t> a(256, 0);
        a[3] = 1;
        b1.set_lengths(kA, 0, a);  // table A in an RGB frame: read, never used
        const File f = one_frame_file(Header{8, 4, 3, 8, 1, 0, 0, ""}, bands_fdat(2, {b0.finish(), b1.finish()}));
        return valid_case("valid-tables-unused", f, {img},
                          {"Tables present that the op stream never uses; absent and single-symbol tables",
                           "§5.9, §6.2",
                           "RGB, 2 bands. Band 0 is a single run, yet its G, R, B, A and DIST tables are present "
                           "(single symbols). Band 1 has an A table in an RGB frame and no DIST table. Decoders read "
                           "and validate such tables and ignore them.",
                           {"table:unused-present", "table:single-symbol", "table:absent"}});
    });
    add_case([] {
        // Runs of 1 ... 12 after a difference each: op symbols 0 and 2 ... 13,
        // coded with lengths 1, 2, ... 12, 12 (a complete code).
        Seq s;
        for (unsigned k = 1; k <= 12; ++k) s.add(colour(k), 1 + k);
        const Img img = s.image(30, 3);
        BandWriter b(img, 0, img.h);
        for (unsigned k = 1; k <= 12; ++k) {
            b.diff();
            b.run(k);
        }
        std::vector<uint8_t> op(342, 0);
        op[0] = 1;
        for (unsigned k = 0; k <= 10; ++k) op[2 + k] = uint8_t(2 + k);
        op[13] = 12;
        b.set_lengths(kOp, 0, op);
        b.set_deep_clen();
        const File f = one_frame_file(Header{30, 3, 3, 8, 1, 0, 0, ""}, bands_fdat(3, {b.finish()}));
        return valid_case("valid-tables-longest-codes", f, {img},
                          {"Codes of the longest lengths: 12-bit op codes, 7-bit code-length codes",
                           "§6.1 - §6.3",
                           "The OP table gives symbol 0 length 1 and the run symbols 2 ... 13 lengths 2 ... 12, 12; "
                           "runs of 11 and 12 pixels use the two 12-bit codes. The band's code-length code is skewed "
                           "so that its rarest item symbols have 7-bit codes.",
                           {"table:len-12", "clen:len-7"}});
    });
    add_case([] {
        Rng rng(35);
        Img img(8, 2, 3);
        Px p{0, 0, 0, 255};
        for (uint32_t k = 0; k < 16; ++k) {
            p = Px{rng.byte(), uint8_t(p.g + k % 4), rng.byte(), 255};
            img.px[k] = p;
        }
        BandWriter b(img, 0, 2);
        Greedy g;
        g.runs = g.index = false;
        b.greedy(UINT64_MAX, g);
        std::vector<uint8_t> gl(256, 0);
        for (int s = 0; s < 4; ++s) gl[size_t(s)] = 2;
        b.set_lengths(kG, 0, gl);
        b.set_items(kG, 0,
                    {lit(2), repeat_prev(3), lit(0), lit(0), repeat_prev(3), zeros(3), zeros(10), zeros(11), zeros(138),
                     zeros(85)});
        const File f = one_frame_file(Header{8, 2, 3, 8, 1, 0, 0, ""}, bands_fdat(2, {b.finish()}));
        return valid_case("valid-tables-length-items", f, {img},
                          {"Every kind of code-length item, including symbol 13 repeating zeros",
                           "§6.3",
                           "The G table (dG values 0 ... 3, length 2 each) is written as: 2, repeat x3, 0, 0, repeat "
                           "x3 (of zeros), zeros x3 (symbol 14, shortest), zeros x10 (14, longest), zeros x11 (15, "
                           "shortest), zeros x138 (15, longest), zeros x85.",
                           {"items:literal-zero", "items:13-nonzero", "items:13-zero", "items:14", "items:14-max",
                            "items:15", "items:15-max"}});
    });
}

void layout_cases() {
    add_case([] {
        const Img a = gradient(7, 10, 3), b = noise(5, 4, 4, 41);
        File f;
        f.frames.push_back(stored_frame(a, "a", 3));
        f.frames.push_back(stored_frame(b, "b", 1));
        return valid_case("valid-stored-bands", f, {a, b},
                          {"Stored frames in several bands (RGB in bands of 3 rows, RGBA in bands of 1 row)",
                           "§4.1, §4.2",
                           "A 7 x 10 RGB frame stored in bands of 3 rows (the last band has 1 row), and a 5 x 4 RGBA "
                           "frame in bands of 1 row.",
                           {"method:stored", "bands:several", "bands:partial-last", "bands:one-row", "rgb", "rgba"}});
    });
    add_case([] {
        const Img a = synthetic(12, 10, 4, 42), b = gradient(2, 300, 3), c3 = noise(16, 16, 3, 43);
        const Img d = synthetic(200, 1, 3, 44);
        File f;
        f.frames.push_back(coded_frame(a, 4, nullptr, "a"));
        f.frames.push_back(coded_frame(b, 200, nullptr, "b"));
        f.frames.push_back(coded_frame(c3, 8, nullptr, "c"));
        f.frames.push_back(qohi_frame(d, "d"));
        return valid_case("valid-qohi-bands", f, {a, b, c3, d},
                          {"QOHI frames in several bands; multi-byte band heights, band sizes, offsets and widths",
                           "§1.3, §4.1, §4.3",
                           "A 12 x 10 RGBA frame in bands of 4 rows (4, 4, 2), each band decoded with a fresh state; a "
                           "2 x 300 frame with band_rows 200 (varint c8 01); a 16 x 16 noise frame in 2 bands of more "
                           "than 127 bytes (2-byte band size), whose extent makes the next index offset difference 2 "
                           "bytes long; a 200 x 1 frame (2-byte width).",
                           {"method:qohi", "bands:several", "bands:partial-last", "varint:multibyte-band-rows",
                            "varint:multibyte-band-size", "varint:multibyte-offset", "varint:multibyte-dims"}});
    });
    for (const bool tall : {false, true}) {
        add_case([tall] {
            const uint32_t n = 1u << 24;
            Img img(tall ? 1 : n, tall ? n : 1, tall ? 4 : 3, Px{1, 2, 3, tall ? uint8_t(40) : uint8_t(255)});
            img.px.back() = Px{9, 8, 7, 255};
            File f;
            f.frames.push_back(coded_frame(img, img.h, [tall, n](BandWriter& b) {
                b.diff(tall);
                b.run(n - 2);
                b.diff(tall);
            }));
            return valid_case(
                tall ? "valid-large-tall" : "valid-large-wide", f, {img},
                {tall ? "1 x 2^24 RGBA, the tallest frame, in 3 ops" : "2^24 x 1 RGB, the widest frame, in 3 ops",
                 "§3.7, §5.6, §8",
                 std::string("The largest dimension the format allows (") + (tall ? "height" : "width") +
                     " 16,777,216, varint 80 80 80 08): a difference op, a run of 16,777,214 pixels "
                     "(length class 35, 23 extra bits) and a last difference op. The input is tiny; the "
                     "decoded frame is " +
                     (tall ? "64" : "48") + " MiB.",
                 {tall ? "size:max-height" : "size:max-width", "run:class-35", "varint:multibyte-dims"},
                 {},
                 {"large"}});
        });
    }
}

void record_cases() {
    add_case([] {
        const Img a = synthetic(4, 4, 3, 51), b = noise(3, 3, 4, 52);
        File f;
        Frame fa = qohi_frame(a, "with-metadata");
        fa.before = {keyed_record("iccp", "test profile", icc_profile()),
                     plain_record("exif", std::string("II*\0\x08\0\0\0\0\0", 10)),
                     plain_record("xmpd", "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">caf\xc3\xa9</x:xmpmeta>"),
                     keyed_record("text", "Comment", "h\xc3\xa9llo, \xe4\xb8\x96\xe7\x95\x8c"),
                     keyed_record("text", "Empty", "")};
        Frame fb = qohi_frame(b, "text-only");
        fb.before = {keyed_record("text", "Title", "second frame")};
        f.frames = {fa, fb};
        return valid_case("valid-metadata", f, {a, b},
                          {"Metadata records: iccp, exif, xmpd, text (UTF-8, empty text)",
                           "§3.9",
                           "Frame 0 carries an ICC profile (a 132-byte header without tags), EXIF with a TIFF header, "
                           "an XMP packet and two text records (one non-ASCII, one empty); frame 1 a text record. "
                           "Metadata never changes the pixels.",
                           {"record:iccp", "record:exif", "record:xmpd", "record:text"}});
    });
    add_case([] {
        const Img a = gradient(5, 3, 3), b = gradient(5, 3, 4);
        File f;
        Frame fa = qohi_frame(a, "a");
        fa.before = {plain_record("zzZZ", "skip me"), Record{"abcd", {}}, keyed_record("text", "Comment", "x"),
                     Record{"qUa\x7f", std::vector<uint8_t>(300, 0xAB)}};
        Frame fb = stored_frame(b, "b");
        fb.before = {plain_record("vpAg", std::string("\0\0\0\x05", 4))};
        f.frames = {fa, fb};
        return valid_case("valid-unknown-ancillary", f, {a, b},
                          {"Unknown ancillary records in frames: skipped after their CRC check",
                           "§3.4",
                           "Records whose type starts with a lowercase letter and that no version defines (zzZZ, "
                           "abcd with an empty payload, a 300-byte one, vpAg), between FHDR and FDAT, among metadata.",
                           {"record:unknown-ancillary"}});
    });
    add_case([] {
        const std::string long_name = "long/" + std::string(295, 'a') + ".png";
        const std::vector<std::string> names = {"",
                                                "a/b/c.png",
                                                "a/b/d.png",
                                                "x/\xc3\xa9.png",
                                                "x/\xc3\xaa.png",
                                                "\xe6\x97\xa5\xe6\x9c\xac/\xe7\x94\xbb\xe5\x83\x8f.png",
                                                "emoji/\xf0\x9f\x98\x80.png",
                                                long_name,
                                                long_name.substr(0, 300) + "-2.png",
                                                ""};
        File f;
        std::vector<Img> imgs;
        for (size_t k = 0; k < names.size(); ++k) {
            imgs.push_back(Img(4, 2, 3, colour(unsigned(k))));
            f.frames.push_back(qohi_frame(imgs.back(), names[k]));
        }
        return valid_case(
            "valid-names", f, imgs,
            {"Frame names: none, sub-folders, 2/3/4-byte UTF-8, long names, front-coded in the index",
             "§3.8, §3.11",
             "Ten frames named \"\", a/b/c.png, a/b/d.png, x/é.png, x/ê.png (sharing 3 bytes: the prefix "
             "ends inside the UTF-8 sequence), 日本/画像.png, emoji/😀.png, a 304-byte name and one sharing "
             "300 bytes with it (2-byte name_size and shared), and \"\" again.",
             {"name:none", "name:subfolder", "name:utf8-2", "name:utf8-3", "name:utf8-4", "name:long", "index:shared",
              "index:shared-mid-utf8", "index:shared-multibyte", "file:multi-frame"}});
    });
    add_case([] {
        const Img a = synthetic(6, 4, 3, 53);
        Img b = a;
        b.px[3] = Px{1, 2, 3, 255};
        File f;
        f.max_depth = 65535;
        Frame fa = qohi_frame(a, "baseline");
        fa.h.flags = 1;
        f.frames = {fa, qohi_frame(b, "variant", &a, 1)};
        return valid_case("valid-baseline-flag", f, {a, b},
                          {"A baseline frame (flag bit 0) used as a reference; max_chain_depth 65535",
                           "§3.6, §3.7",
                           "Flag bit 0 is informative: the frame decodes as any other. The file declares the largest "
                           "max_chain_depth.",
                           {"flag:baseline", "delta"}});
    });
    add_case([] {
        const Img a = gradient(3, 3, 3), b = noise(3, 3, 3, 54);
        File f;
        f.max_depth = 0;
        f.frames = {qohi_frame(a), stored_frame(b)};
        return valid_case("valid-max-depth-0", f, {a, b},
                          {"max_chain_depth 0: a file of intra frames only",
                           "§3.6",
                           "Two intra frames in a file whose header allows no references.",
                           {"qhdr:max-depth-0"}});
    });
    add_case([] {
        const Img a = gradient(4, 3, 3);
        File f;
        Frame fa = qohi_frame(a, "a");
        fa.before = {keyed_record("iccp", "", icc_profile()), keyed_record("text", "Comment", "bad \xff utf-8"),
                     Record{"xmpd", {}}, keyed_record("text", std::string(80, 'k'), "key too long")};
        f.frames = {fa};
        return valid_case("valid-metadata-malformed", f, {a},
                          {"Malformed metadata records: the frame's pixels still decode",
                           "§3.9",
                           "An iccp record with an empty key, a text that is not UTF-8, an empty xmpd record and a "
                           "text with an 80-byte key. A reader that reports metadata rejects them (CORRUPT, for the "
                           "metadata only); the pixels must decode either way, which is what this case checks.",
                           {"record:iccp", "record:text", "record:xmpd"},
                           {"metadata:malformed"}});
    });
}

void encoder_cases() {
    add_case([] {
        const Img img = synthetic(64, 48, 3, 61);
        return valid_case("valid-encoder-effort0", library_file({img}, 0, false, {"effort0"}), {img},
                          {"libqohi's output at effort 0 (the default)",
                           "§10",
                           "A synthetic 64 x 48 picture (gradient, repeated glyph rows, flat areas, light noise) "
                           "encoded by qohi_writer at effort 0: runs, index ops, differences and matches from the "
                           "row above, one table per family.",
                           {"op:run", "op:index", "op:diff", "dist:above"},
                           {"encoder:effort-0"}});
    });
    add_case([] {
        const Img img = synthetic(96, 96, 3, 62);
        return valid_case("valid-encoder-effort1", library_file({img}, 1, false, {"effort1"}), {img},
                          {"libqohi's output at effort 1",
                           "§10",
                           "The synthetic picture at 96 x 96 encoded at effort 1: hash-chain matches with column "
                           "distances, gradient ops and context groupings chosen per band.",
                           {"op:grad", "dist:column", "op:match"},
                           {"encoder:effort-1"}});
    });
    add_case([] {
        std::vector<Img> imgs;
        const Img base = synthetic(32, 24, 4, 63);
        for (uint64_t k = 0; k < 4; ++k) {
            Img v = base;
            Rng rng(70 + k);
            for (int j = 0; j < 12; ++j) v.px[rng.next() % v.px.size()] = rng.px(true);
            imgs.push_back(v);
        }
        const std::vector<uint8_t> file =
            library_file(imgs, 1, true, {"set/v0.png", "set/v1.png", "set/v2.png", "set/v3.png"}, true);
        return valid_case("valid-encoder-collection", file, imgs,
                          {"A collection written by libqohi with automatic references",
                           "§4.5, §10",
                           "Four RGBA variants of one picture with names and a text record each, written with "
                           "QOHI_REFERENCE_AUTO at effort 1: the writer codes later frames against earlier ones.",
                           {"delta", "op:refrun", "record:text", "index:shared"},
                           {"encoder:effort-1", "encoder:auto-reference"}});
    });
    add_case([] {
        const Img img = noise(20, 20, 3, 64);
        return valid_case("valid-encoder-stored", library_file({img}, 0, false, {"noise"}), {img},
                          {"libqohi stores a noise image (method 0) rather than code it larger",
                           "§10",
                           "20 x 20 RGB noise: the QOHI method would not be smaller than the raw pixels.",
                           {"method:stored"},
                           {"encoder:stored-fallback"}});
    });
}

}  // namespace

void add_valid_cases() {
    small_cases();
    op_cases();
    delta_cases();
    table_cases();
    layout_cases();
    record_cases();
    encoder_cases();
}

}  // namespace vec
