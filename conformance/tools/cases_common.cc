// Helpers shared by the case files.
#include <algorithm>

#include "vec_cases.h"

namespace vec {

Img noise(uint32_t w, uint32_t h, uint32_t c, uint64_t seed) {
    Rng rng(seed);
    return make_img(w, h, c, [&](uint32_t, uint32_t) { return rng.px(c == 4); });
}

Img gradient(uint32_t w, uint32_t h, uint32_t c) {
    return make_img(w, h, c, [&](uint32_t x, uint32_t y) {
        return Px{uint8_t(x * 255 / (w > 1 ? w - 1 : 1)), uint8_t(y * 255 / (h > 1 ? h - 1 : 1)), uint8_t((x + y) * 3),
                  uint8_t(255 - x)};
    });
}

std::vector<uint8_t> band(const Img& img, const std::function<void(BandWriter&)>& ops, uint32_t y0, uint32_t rows,
                          const Img* ref) {
    BandWriter b(img, y0, rows ? rows : img.h - y0, ref);
    ops(b);
    return b.finish();
}

Frame qohi_frame(const Img& img, const std::string& name, const Img* ref, uint64_t dist) {
    return coded_frame(img, img.h, nullptr, name, ref, dist);
}

Frame coded_frame(const Img& img, uint32_t band_rows, const std::function<void(BandWriter&)>& ops,
                  const std::string& name, const Img* ref, uint64_t dist) {
    Frame f;
    f.h = Header{img.w, img.h, uint8_t(img.c), 8, 1, 0, dist, name};
    std::vector<std::vector<uint8_t>> bands;
    for (uint32_t y0 = 0; y0 < img.h; y0 += band_rows) {
        const uint32_t rows = std::min(band_rows, img.h - y0);
        bands.push_back(band(
            img, ops ? ops : [](BandWriter& b) { b.greedy(); }, y0, rows, ref));
    }
    f.fdat = bands_fdat(band_rows, bands);
    return f;
}

File one_frame_file(const Header& h, std::vector<uint8_t> fdat) {
    File f;
    Frame fr;
    fr.h = h;
    fr.fdat = std::move(fdat);
    f.frames.push_back(std::move(fr));
    return f;
}

Record keyed_record(const std::string& type, const std::string& key, const std::string& data) {
    Record r{type, {}};
    r.payload.push_back(uint8_t(key.size()));
    r.payload.insert(r.payload.end(), key.begin(), key.end());
    r.payload.insert(r.payload.end(), data.begin(), data.end());
    return r;
}

Record plain_record(const std::string& type, const std::string& data) {
    return Record{type, std::vector<uint8_t>(data.begin(), data.end())};
}

Case valid_case(const std::string& name, const std::vector<uint8_t>& file, const std::vector<Img>& imgs,
                const About& about) {
    Case c;
    c.name = name;
    c.file = file;
    for (const Img& img : imgs) c.frames.push_back(ok(img));
    c.summary = about.summary;
    c.spec = about.spec;
    c.details = about.details;
    c.features = about.features;
    c.claims = about.claims;
    c.tags = about.tags;
    return c;
}

Case valid_case(const std::string& name, const File& f, const std::vector<Img>& imgs, const About& about) {
    return valid_case(name, build(f), imgs, about);
}

Frame stored_frame(const Img& img, const std::string& name, uint32_t band_rows) {
    Frame f;
    f.h = Header{img.w, img.h, uint8_t(img.c), 8, 0, 0, 0, name};
    f.fdat = stored_fdat(img, band_rows);
    return f;
}

// A case whose file must not open.
Case open_case(const std::string& name, const std::vector<uint8_t>& file, const std::string& cls,
               const std::vector<std::string>& rows, const std::string& message, const std::string& summary,
               const std::string& spec, const std::string& details) {
    Case c;
    c.name = name;
    c.file = file;
    c.open_error = cls;
    c.errors = rows;
    c.message = message;
    c.summary = summary;
    c.spec = spec;
    c.details = details.empty() ? summary + "." : details;
    return c;
}

// A case whose file opens and whose frames decode as `frames` says.
Case frame_case(const std::string& name, const std::vector<uint8_t>& file, const std::vector<FrameExpect>& frames,
                const std::vector<std::string>& rows, const std::string& message, const std::string& summary,
                const std::string& spec, const std::string& details) {
    Case c = open_case(name, file, "", rows, message, summary, spec, details);
    c.frames = frames;
    return c;
}

// A two-frame file: frame 0 holds `img`'s header (method `method`) with the
// FDAT payload `fdat`, frame 1 a valid frame.
const Img& good_img() {
    static const Img img = gradient(3, 2, 4);
    return img;
}
std::vector<uint8_t> with_fdat(const Img& img, const std::vector<uint8_t>& fdat, uint8_t method) {
    File f;
    Frame fr;
    fr.h = Header{img.w, img.h, uint8_t(img.c), 8, method, 0, 0, "bad"};
    fr.fdat = fdat;
    f.frames = {fr, qohi_frame(good_img(), "good")};
    return build(f);
}
// The same with a band (one band covering the frame).
std::vector<uint8_t> with_band(const Img& img, const std::vector<uint8_t>& band) {
    std::vector<uint8_t> fdat;
    put_varint(fdat, img.h);
    fdat.insert(fdat.end(), band.begin(), band.end());
    return with_fdat(img, fdat);
}
// A case on frame 0 of with_fdat()/with_band().
Case bad_frame0(const std::string& name, const std::vector<uint8_t>& file, const std::string& row,
                const std::string& message, const std::string& summary, const std::string& spec,
                const std::string& details) {
    return frame_case(name, file, {err("CORRUPT"), ok(good_img())}, {row}, message, summary, spec, details);
}

}  // namespace vec
