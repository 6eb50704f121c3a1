// The conformance cases: what each vector holds and what a decoder must do
// with it. cases_valid.cc and cases_invalid.cc define them; make_vectors.cc
// checks every case (tracer and libqohi) and writes conformance/cases/.
#ifndef QOHI_CONFORMANCE_VEC_CASES_H
#define QOHI_CONFORMANCE_VEC_CASES_H

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "vec_band.h"
#include "vec_dici.h"
#include "vec_file.h"
#include "vec_model.h"

namespace vec {

// The expected outcome of one frame: its pixels, or an error class.
struct FrameExpect {
    bool ok = true;
    Img img;            // ok: the source pixels
    std::string error;  // otherwise: NOT_QOHI, TRUNCATED, CORRUPT, UNSUPPORTED, LIMIT
};

// The expected outcome of one entry (§3.15): its listing, and its content
// or the class of the failure to read it.
struct EntryExpect {
    std::string name;
    unsigned kind = 0, method = 0;
    uint64_t size = 0;
    std::optional<Attrs> attributes;
    bool ok = true;
    std::vector<uint8_t> content;  // ok
    std::string error;             // otherwise
};

// The expected attributes of one frame (its attr record, §3.9): none,
// these, or a failure (a malformed record).
struct AttrExpect {
    std::optional<Attrs> attributes;
    std::string error;
};

struct Case {
    std::string name;     // folder name
    std::string summary;  // one line
    std::string details;  // how the vector is made, what it exercises
    std::string spec;     // spec sections
    std::vector<uint8_t> file;
    std::string open_error;  // the class when the file must not open
    std::vector<FrameExpect> frames;
    // Entries and attributes are checked (expected.txt `entries M`,
    // entries.json) when `check_entries`; then frame_attributes has one item
    // per frame.
    bool check_entries = false;
    std::vector<EntryExpect> entries;
    std::vector<AttrExpect> frame_attributes;
    // Features the tracer must find (valid frames only; see kFeatures).
    std::vector<std::string> features;
    // Features stated by the case, not traced (how the file was made).
    std::vector<std::string> claims;
    // Rows of the table of invalid inputs (spec §9.3) the case covers (kErrors).
    std::vector<std::string> errors;
    // A part of libqohi's message for the first failure, which shows that
    // the intended check is the one that fails.
    std::string message;
    std::vector<std::string> tags;  // e.g. "large"
};

// Registers cases; `make` runs when the generator runs.
void add_case(std::function<Case()> make);

// Frame expectations.
inline FrameExpect ok(const Img& img) { return FrameExpect{true, img, ""}; }
inline FrameExpect err(const std::string& cls) { return FrameExpect{false, Img(), cls}; }

// Case sets.
void add_valid_cases();
void add_invalid_cases();
void add_dici_cases();
void add_entry_cases();

// Shared helpers for the case files.
struct Rng {
    uint64_t s;
    explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull) {}
    uint32_t next() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        return uint32_t(s >> 16);
    }
    uint8_t byte() { return uint8_t(next()); }
    Px px(bool alpha = false) { return Px{byte(), byte(), byte(), alpha ? byte() : uint8_t(255)}; }
};

// A band's pixels built as a decoder would produce them: new pixels, and
// copies of earlier ones (negative positions reach into `ref`, as matches
// do in delta bands, §5.12).
struct Seq {
    std::vector<Px> px;
    const std::vector<Px>* ref = nullptr;
    void add(const Px& p, uint64_t count = 1) { px.insert(px.end(), size_t(count), p); }
    void copy(uint64_t length, uint64_t distance) {
        for (uint64_t k = 0; k < length; ++k) {
            const int64_t q = int64_t(px.size()) - int64_t(distance);
            px.push_back(q < 0 ? (*ref)[size_t(q + int64_t(ref->size()))] : px[size_t(q)]);
        }
    }
    Img image(uint32_t w, uint32_t channels) const {
        check(px.size() % w == 0, "sequence does not fill whole rows");
        Img img(w, uint32_t(px.size() / w), channels);
        img.px = px;
        return img;
    }
};

// An image whose pixel (x, y) is f(x, y).
template <class F>
Img make_img(uint32_t w, uint32_t h, uint32_t c, F&& f) {
    Img img(w, h, c);
    for (uint32_t y = 0; y < h; ++y)
        for (uint32_t x = 0; x < w; ++x) {
            Px p = f(x, y);
            if (c == 3) p.a = 255;
            img.at(x, y) = p;
        }
    return img;
}
Img noise(uint32_t w, uint32_t h, uint32_t c, uint64_t seed);
Img gradient(uint32_t w, uint32_t h, uint32_t c);

// One band of `img` coded by `ops` (a BandWriter for rows y0 .. y0 + rows - 1).
std::vector<uint8_t> band(const Img& img, const std::function<void(BandWriter&)>& ops, uint32_t y0 = 0,
                          uint32_t rows = 0, const Img* ref = nullptr);
// A frame coded with the QOHI method, one band of greedy ops (against `ref`
// when given, with `dist` as the header's ref_distance).
Frame qohi_frame(const Img& img, const std::string& name = "", const Img* ref = nullptr, uint64_t dist = 0);
Frame stored_frame(const Img& img, const std::string& name = "", uint32_t band_rows = 0);
// A QOHI frame of bands of `band_rows` rows, each coded by `ops` (greedy ops
// by default), against `ref` when given.
Frame coded_frame(const Img& img, uint32_t band_rows, const std::function<void(BandWriter&)>& ops = nullptr,
                  const std::string& name = "", const Img* ref = nullptr, uint64_t dist = 0);

// A file of one frame with this header and FDAT payload.
File one_frame_file(const Header& h, std::vector<uint8_t> fdat);

// Metadata record payloads (§3.9).
Record keyed_record(const std::string& type, const std::string& key, const std::string& data);
Record plain_record(const std::string& type, const std::string& data);

// What a case says about itself (case.txt).
struct About {
    std::string summary, spec, details;
    std::vector<std::string> features, claims, tags;
    About(std::string s, std::string sp, std::string d, std::vector<std::string> f, std::vector<std::string> c = {},
          std::vector<std::string> t = {})
        : summary(std::move(s)),
          spec(std::move(sp)),
          details(std::move(d)),
          features(std::move(f)),
          claims(std::move(c)),
          tags(std::move(t)) {}
};

// A file (built from `f`, or its bytes) whose frames all decode, to the
// source pixels `imgs`.
Case valid_case(const std::string& name, const std::vector<uint8_t>& file, const std::vector<Img>& imgs,
                const About& about);
Case valid_case(const std::string& name, const File& f, const std::vector<Img>& imgs, const About& about);

// A row of a table of invalid cases made by one kind of writer (BandWriter,
// DiciWriter): the case's name, what it does to the writer, the row of §9.3
// it covers, a part of libqohi's message, a summary.
template <class Writer>
struct WriterCase {
    const char* name;
    std::function<void(Writer&)> ops;
    const char* row;
    const char* message;
    const char* summary;
};

// A case whose file must not open, with the rows of §9.3 it covers and a
// part of libqohi's message for it.
Case open_case(const std::string& name, const std::vector<uint8_t>& file, const std::string& cls,
               const std::vector<std::string>& rows, const std::string& message, const std::string& summary,
               const std::string& spec, const std::string& details = "");
// A case whose file opens and whose frames decode as `frames` says.
Case frame_case(const std::string& name, const std::vector<uint8_t>& file, const std::vector<FrameExpect>& frames,
                const std::vector<std::string>& rows, const std::string& message, const std::string& summary,
                const std::string& spec, const std::string& details = "");
// A two-frame file: frame 0 holds `img`'s header (method `method`) with the
// FDAT payload `fdat`, frame 1 (good_img()) a valid frame; with_band() gives
// frame 0 one band. bad_frame0() is a case whose frame 0 is CORRUPT.
const Img& good_img();
std::vector<uint8_t> with_fdat(const Img& img, const std::vector<uint8_t>& fdat, uint8_t method = 1);
std::vector<uint8_t> with_band(const Img& img, const std::vector<uint8_t>& band);
Case bad_frame0(const std::string& name, const std::vector<uint8_t>& file, const std::string& row,
                const std::string& message, const std::string& summary, const std::string& spec,
                const std::string& details = "");

}  // namespace vec

#endif
