// DICI vectors (spec §4.4): valid bands of every op, palette size form and
// table shape, libqohi's own DICI frames, and every DICI row of the table of
// invalid inputs.
#include "qohi/qohi.h"
#include "vec_cases.h"

namespace vec {
namespace {

Px colour(unsigned k) { return Px{uint8_t(k * 73 + 9), uint8_t(k * 29 + 140), uint8_t(k * 151 + 3), 255}; }

// One DICI op of a case's program: rank k, run L or copy L.
struct Op {
    char kind;  // 'k' rank, 'r' run, 'c' copy
    uint64_t n;
};

// The pixels a DICI decoder makes from `ops` (§4.4, decoding).
std::vector<Px> apply(const std::vector<Op>& ops, const std::vector<Px>& palette, uint32_t w) {
    std::vector<Px> out;
    Px prev = palette[0];
    for (const Op& op : ops) {
        if (op.kind == 'k') {
            prev = palette[size_t(op.n)];
            out.push_back(prev);
        } else if (op.kind == 'r') {
            out.insert(out.end(), size_t(op.n), prev);
        } else {
            for (uint64_t k = 0; k < op.n; ++k) out.push_back(out[out.size() - w]);
            prev = out.back();
        }
    }
    return out;
}

void replay(DiciWriter& w, const std::vector<Op>& ops) {
    for (const Op& op : ops) {
        if (op.kind == 'k')
            w.rank(op.n);
        else if (op.kind == 'r')
            w.run(op.n);
        else
            w.copy(op.n);
    }
}

File dici_file(const Img& img, uint32_t band_rows, const std::function<void(DiciWriter&)>& code,
               const std::string& name = "") {
    std::vector<std::vector<uint8_t>> bands;
    for (uint32_t y0 = 0; y0 < img.h; y0 += band_rows) {
        DiciWriter w(img, y0, std::min(band_rows, img.h - y0));
        code(w);
        bands.push_back(w.finish());
    }
    return one_frame_file(Header{img.w, img.h, uint8_t(img.c), 8, 2, 0, 0, name}, bands_fdat(band_rows, bands));
}

std::vector<uint8_t> library_dici(const Img& img, int method) {
    qohi_write_options o;
    qohi_write_options_init(&o);
    o.method = method;
    void* data = nullptr;
    size_t size = 0;
    const std::vector<uint8_t> px = img.bytes();
    check(qohi_encode(px.data(), img.w, img.h, img.c, 0, &o, &data, &size, nullptr) == QOHI_OK, "qohi_encode");
    std::vector<uint8_t> file(static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
    qohi_free(data);
    return file;
}

// The method of the first frame of a built file.
int first_method(const std::vector<uint8_t>& file) {
    const Span f = find(file, "FHDR");
    size_t p = f.payload();
    for (int k = 0; k < 2; ++k)
        while (file[p++] & 0x80) {
        }
    return file[p + 2];
}

void valid_dici() {
    add_case([] {
        std::vector<Px> palette;
        for (unsigned k = 0; k < 20; ++k) palette.push_back(colour(k));
        const uint32_t w = 16;
        std::vector<Op> ops = {{'r', 5}, {'k', 3},  {'k', 17}, {'k', 19}, {'k', 0},  {'k', 2}, {'r', 4}, {'k', 5},
                               {'k', 6}, {'c', 16}, {'c', 40}, {'k', 7},  {'r', 30}, {'k', 8}, {'c', 3}, {'k', 18}};
        Rng rng(5);
        uint64_t total = 0;
        for (const Op& op : ops) total += op.kind == 'k' ? 1 : op.n;
        while (total < 12 * w) {
            const unsigned pick = rng.next() % 6;
            const uint64_t left = 12 * w - total;
            Op op = pick < 3    ? Op{'k', rng.next() % 20}
                    : pick == 3 ? Op{'r', 1 + rng.next() % 3}
                                : Op{'c', 1 + rng.next() % 5};
            if (op.kind != 'k' && op.n > left) op.n = left;
            ops.push_back(op);
            total += op.kind == 'k' ? 1 : op.n;
        }
        Img img(w, 12, 3);
        img.px = apply(ops, palette, w);
        DiciWriter dw(img, 0, 12, palette);
        replay(dw, ops);
        const File f = one_frame_file(Header{w, 12, 3, 8, 2, 0, 0, ""}, bands_fdat(12, {dw.finish()}));
        return valid_case("valid-dici-ops", f, {img},
                          {"DICI: ranks (direct and long classes), runs and copies from above of every kind",
                           "§4.4",
                           "RGB 16 x 12, one band, a palette of 20 colours: a run of palette[0] at the band's "
                           "start, ranks 0 ... 19 (ranks 16 and up are long classes), runs of 4 and 30, a copy of "
                           "a whole row, a copy of 40 pixels (longer than a row: it repeats pixels it produced), "
                           "then ranks, runs and copies at random. Every op context uses its own table.",
                           {"method:dici", "dici:palette-large", "dici:rank-direct", "dici:rank-long",
                            "dici:run-direct", "dici:run-long", "dici:run-from-start", "dici:copy-direct",
                            "dici:copy-long", "dici:copy-overlap", "dici:ctx-all"}});
    });
    add_case([] {
        Rng rng(8);
        const Px cols[5] = {Px{10, 20, 30, 0}, Px{10, 20, 30, 255}, Px{200, 0, 0, 128}, Px{0, 0, 0, 0},
                            Px{255, 255, 255, 255}};
        const Img img = make_img(10, 7, 4, [&](uint32_t x, uint32_t) { return cols[(x / 3 + rng.next() % 2) % 5]; });
        const File f = dici_file(
            img, 3, [](DiciWriter& w) { w.greedy(); }, "rgba");
        return valid_case("valid-dici-rgba-bands", f, {img},
                          {"DICI: an RGBA frame in three bands (3, 3 and 1 rows)",
                           "§4.1, §4.4",
                           "RGBA colours (alpha 0, 128, 255; one colour twice with different alpha) in bands of 3 "
                           "rows, each with its own palette sorted by decreasing count and the encoder guidance's "
                           "greedy ops.",
                           {"method:dici", "rgba", "bands:several", "bands:partial-last"}});
    });
    add_case([] {
        // Band 0: one colour (N = 1), a single run from the band's start; band
        // 1: two colours (N = 2); band 2: a palette with a colour twice.
        const Px a{9, 8, 7, 255}, b{100, 110, 120, 255}, c{1, 250, 3, 255};
        Img img(8, 3, 3);
        for (uint32_t x = 0; x < 8; ++x) {
            img.at(x, 0) = a;
            img.at(x, 1) = x % 3 ? a : b;
            img.at(x, 2) = x % 2 ? c : b;
        }
        std::vector<std::vector<uint8_t>> bands;
        DiciWriter b0(img, 0, 1, {a});
        b0.run(8);
        bands.push_back(b0.finish());
        DiciWriter b1(img, 1, 1, {a, b});
        b1.greedy();
        bands.push_back(b1.finish());
        DiciWriter b2(img, 2, 1, {b, a, b, c});  // N = 4: e = 2, one extra bit
        b2.rank(2);
        for (int k = 0; k < 7; ++k) b2.rank(k % 2 ? 0 : 3);
        bands.push_back(b2.finish());
        const File f = one_frame_file(Header{8, 3, 3, 8, 2, 0, 0, "palettes"}, bands_fdat(1, bands));
        return valid_case("valid-dici-palettes", f, {img},
                          {"DICI palette sizes 1, 2 and 4 (with a colour twice), unused tables",
                           "§4.4",
                           "Three bands of one row. Band 0 has a palette of 1 colour (size field e = 0) and a "
                           "single run of 8 from the band's start: its tables 1 and 2 are empty. Band 1 has 2 "
                           "colours (e = 1, no extra bits). Band 2 has 4 (e = 2, one extra bit), one of them "
                           "twice, which decoders accept.",
                           {"method:dici", "dici:palette-1", "dici:palette-2", "dici:palette-large",
                            "dici:palette-duplicates", "dici:table-empty", "dici:run-from-start", "bands:one-row"}});
    });
    add_case([] {
        Rng rng(12);
        const Img img =
            make_img(40, 30, 3, [&](uint32_t x, uint32_t y) { return colour((x / 5 + y / 3 + rng.next() % 2) % 9); });
        const std::vector<uint8_t> file = library_dici(img, QOHI_CHOOSE_DICI);
        check(first_method(file) == 2, "QOHI_CHOOSE_DICI did not write a DICI frame");
        return valid_case("valid-encoder-dici", file, {img},
                          {"libqohi's DICI frame (method forced to DICI)",
                           "§4.4, §10",
                           "A 40 x 30 picture of 9 colours with noisy edges, written by qohi_encode with "
                           "QOHI_CHOOSE_DICI.",
                           {"method:dici", "dici:ctx-all"},
                           {"encoder:dici"}});
    });
    add_case([] {
        // An image for which libqohi's automatic choice is DICI: the first
        // of a few candidates that it codes so (§10: DICI is tried when QOHI
        // needs at least half a bit per pixel).
        for (uint64_t seed = 1; seed < 40; ++seed) {
            // Hundreds of colours in random order: QOHI's index keeps few of
            // them, DICI ranks them all.
            Rng rng(seed);
            const unsigned colours = 200 + unsigned(seed) * 50;
            std::vector<Px> palette;
            for (unsigned k = 0; k < colours; ++k) palette.push_back(rng.px());
            const Img img = make_img(64, 48, 3, [&](uint32_t, uint32_t) { return palette[rng.next() % colours]; });
            const std::vector<uint8_t> file = library_dici(img, QOHI_CHOOSE_AUTO);
            if (first_method(file) != 2) continue;
            return valid_case("valid-encoder-dici-auto", file, {img},
                              {"libqohi's automatic method choice picking DICI",
                               "§4.4, §10",
                               "A 64 x 48 picture of " + std::to_string(colours) +
                                   " colours in random order, written by qohi_encode with the default options: "
                                   "DICI beats QOHI and stored.",
                               {"method:dici"},
                               {"encoder:dici"}});
        }
        die("no candidate image made libqohi choose DICI");
    });
}

void invalid_dici() {
    const Img img = make_img(4, 2, 3, [](uint32_t x, uint32_t y) { return colour(x + 4 * y); });
    auto dici_band = [img](const std::function<void(DiciWriter&)>& ops, bool complete = false) {
        DiciWriter w(img, 0, 2);
        ops(w);
        w.raw_bits(0, 16);
        std::vector<uint8_t> fdat{2};
        const std::vector<uint8_t> b = w.finish(complete);
        fdat.insert(fdat.end(), b.begin(), b.end());
        return with_fdat(img, fdat, 2);
    };
    const std::vector<WriterCase<DiciWriter>> ds = {
        {"invalid-dici-palette-class-30", [](DiciWriter& w) { w.set_size_field(30, 5); }, "R69", "palette size class",
         "A palette size field e = 30 (more than 2^29 colours)"},
        {"invalid-dici-palette-over-pixels", [](DiciWriter& w) { w.set_size_field(4, 5 + 3); }, "R69",
         "more colours than its band has pixels", "A palette of 9 colours (e = 4, x = 0) in a band of 8 pixels"},
        {"invalid-dici-palette-past-band", [](DiciWriter& w) { w.cut_palette(2); }, "R69", "palette runs past the end",
         "A palette of 8 colours in a band that ends after 2 of them"},
        {"invalid-dici-table-0-empty",
         [](DiciWriter& w) {
             w.rank();
             w.set_absent(0);
         },
         "R70", "code table is empty", "DICI table 0 absent: the first op has no table"},
        {"invalid-dici-table-1-empty",
         [](DiciWriter& w) {
             w.rank();
             w.rank();
             w.raw(41);  // a run of 1: the next op is read with table 1
             w.raw(1);
             w.set_absent(1);
         },
         "R70", "code table is empty", "After a run the next op is read with table 1, which is absent"},
        {"invalid-dici-rank-beyond-palette", [](DiciWriter& w) { w.raw(8); }, "R71", "rank beyond the palette",
         "Rank class 8 (L = 9) with a palette of 8 colours"},
        {"invalid-dici-run-past-end",
         [](DiciWriter& w) {
             w.rank();
             w.raw(41 + 7);  // a run of 8 at position 1
         },
         "R72", "past the end of the band", "A run of 8 at position 1 of 8"},
        {"invalid-dici-copy-past-end",
         [](DiciWriter& w) {
             for (int k = 0; k < 5; ++k) w.rank();
             w.raw(82 + 3);  // a copy of 4 at position 5
         },
         "R72", "past the end of the band", "A copy of 4 at position 5 of 8"},
        {"invalid-dici-copy-in-first-row",
         [](DiciWriter& w) {
             w.rank();
             w.raw(82);  // a copy of 1 at position 1, in the first row
         },
         "R73", "first row", "A copy from above at position 1, in the band's first row"},
    };
    for (const WriterCase<DiciWriter>& x : ds) {
        add_case([x, dici_band] {
            return bad_frame0(x.name, dici_band(x.ops), x.row, x.message, x.summary, "§4.4",
                              std::string(x.summary) +
                                  " (frame 0, DICI, 4 x 2 RGB of 8 colours); frame 1 "
                                  "decodes.");
        });
    }
    // The end of a DICI band (§4.4, §5.10).
    DiciWriter w(img, 0, 2);
    w.greedy();
    const std::vector<uint8_t> whole = w.finish();
    auto frame = [img](std::vector<uint8_t> b) {
        b.insert(b.begin(), 2);
        return with_fdat(img, b, 2);
    };
    add_case([whole, frame] {
        std::vector<uint8_t> b = whole;
        b.pop_back();
        return bad_frame0("invalid-dici-band-ends-early", frame(b), "R74", "ends before its last pixel",
                          "A DICI band without its last byte", "§4.4, §5.10");
    });
    add_case([whole, frame] {
        std::vector<uint8_t> b = whole;
        b.push_back(0);
        return bad_frame0("invalid-dici-unused-byte", frame(b), "R74", "unused data",
                          "A DICI band followed by a zero byte", "§4.4, §5.10");
    });
    add_case([] {
        // A band whose last byte has padding bits: set the highest one.
        for (uint64_t seed = 1;; ++seed) {
            Rng rng(seed);
            const Img im = make_img(4, 2, 3, [&](uint32_t, uint32_t) { return colour(rng.next() % 5); });
            DiciWriter dw(im, 0, 2);
            dw.greedy();
            std::vector<uint8_t> b = dw.finish();
            if (dw.bits_used() % 8 == 0) continue;
            b.back() = uint8_t(b.back() | 0x80);
            b.insert(b.begin(), 2);
            return bad_frame0("invalid-dici-padding", with_fdat(im, b, 2), "R74", "unused data",
                              "A DICI band whose last padding bit is 1", "§4.4, §5.10");
        }
    });
    add_case([img] {
        const Img ref = img;
        DiciWriter d(img, 0, 2);
        d.greedy();
        File f = one_frame_file(Header{4, 2, 3, 8, 1, 0, 0, "ref"},
                                bands_fdat(2, {band(ref, [](BandWriter& b) { b.greedy(); })}));
        Frame dici;
        dici.h = Header{4, 2, 3, 8, 2, 0, 1, "dici-with-reference"};
        dici.fdat = bands_fdat(2, {d.finish()});
        f.frames.push_back(dici);
        return open_case("invalid-dici-with-reference", build(f), "CORRUPT", {"R30"}, "not a QOHI frame",
                         "A DICI frame (method 2) with a reference", "§3.7, §4.4");
    });
}

}  // namespace

void add_dici_cases() {
    valid_dici();
    invalid_dici();
}

}  // namespace vec
