// BandWriter: writes one QOHI band (spec §5) op by op, the ops chosen by the
// case that calls it. Every op is checked against the source pixels it must
// reproduce, so a band that BandWriter finishes decodes to exactly those
// pixels (the tracer and the reference decoder confirm it). Tables are fitted
// to the symbols used, or set by the case to exercise a table shape.
#ifndef QOHI_CONFORMANCE_VEC_BAND_H
#define QOHI_CONFORMANCE_VEC_BAND_H

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "vec_model.h"

namespace vec {

// How a match op codes its distance (§5.12).
enum class Dist { kAbove, kClass, kColumn };

// Context grouping modes (§5.1, §5.14).
struct Modes {
    unsigned op = 0, g = 0, rb = 0;
    unsigned field() const { return op + 4 * g + 16 * rb; }
};

// Which ops BandWriter::greedy() may use.
struct Greedy {
    bool runs = true;
    bool refruns = true;
    bool index = true;
    bool gradient = false;  // gradient differences where their values are smaller
};

class BandWriter {
public:
    // The band of `rows` rows from row `y0` of `img`; with `ref` (a frame
    // of the same size) a delta band.
    BandWriter(const Img& img, uint32_t y0, uint32_t rows, const Img* ref = nullptr, Modes modes = {});

    uint64_t pos() const { return out_.size(); }
    uint64_t size() const { return n_; }
    const Px& prev() const { return prev_; }
    const Px& source(uint64_t p) const { return src_[p]; }
    bool is_delta() const { return !ref_.empty(); }

    // Ops (§5.4). Each one produces the next source pixels or stops the
    // generator with a message.
    void diff(bool alpha = false);     // symbols 0, 1
    void grad(bool alpha = false);     // 340, 341
    void refdiff(bool alpha = false);  // 383, 384
    void run(uint64_t length);         // 2 ... 42
    void refrun(uint64_t length);      // 342 ... 382
    void index();                      // 43 ... 298, the entry of the pixel's hash
    void index_entry(unsigned entry);  // an index op on a given entry (it may be unwritten)
    void match(uint64_t length, uint64_t distance, Dist form = Dist::kClass);  // 299 ... 339
    // Simple ops up to position `end` (default: the end of the band).
    void greedy(uint64_t end = UINT64_MAX, const Greedy& how = Greedy());

    // Unchecked stream content, for invalid bands: a symbol of family `f`
    // (an op symbol is coded in the current op context) and raw bits.
    void raw(Family f, unsigned symbol, unsigned group = 0);
    void raw_bits(uint64_t value, unsigned nbits);

    // Table overrides (§6): lengths (the stream is coded with them), the
    // items written for a table, an absent table, the code-length code, the
    // grouping field.
    void set_lengths(Family f, unsigned group, std::vector<uint8_t> lengths);
    void set_items(Family f, unsigned group, std::vector<LenItem> items);
    void set_absent(Family f, unsigned group);
    void set_clen(const std::array<uint8_t, 16>& clen) { clen_ = clen; }
    void set_field(unsigned field) { field_ = field; }
    // A code-length code as deep as allowed: every used item symbol keeps a
    // code, the rarest get 7 bits (§6.3).
    void set_deep_clen() { deep_clen_ = true; }
    // For invalid bands: symbols that the (overridden) tables give no code
    // are left out of the stream instead of stopping the generator.
    void set_lenient() { lenient_ = true; }

    // The band's bytes. With `complete` the band must hold all its pixels.
    std::vector<uint8_t> finish(bool complete = true);
    uint64_t bits_used() const { return bits_used_; }
    const std::vector<Px>& pixels() const { return out_; }

private:
    struct Event {
        int family;  // a Family, or -1 for raw bits
        unsigned group;
        uint64_t value;
        unsigned nbits;
    };
    unsigned groups(Family f) const;
    unsigned group_of(Family f, unsigned context) const;
    void symbol(Family f, unsigned group, unsigned s);
    void bits(uint64_t value, unsigned nbits) { events_.push_back({-1, 0, value, nbits}); }
    void op_symbol(unsigned s);
    void length_bits(const LengthClass& c) { bits(c.extra, c.nbits); }
    // Codes the colour (and with `alpha` the alpha) of `want` against `base`.
    void difference(unsigned s, const Px& base, bool alpha);
    void produce(const Px& p, bool enters_index);
    void expect(const Px& got, const std::string& op) const;

    uint32_t w_;
    uint32_t channels_;
    uint64_t n_;
    std::vector<Px> src_, ref_, out_;
    Modes modes_;
    Px prev_;
    std::array<Px, 256> index_;
    std::vector<uint64_t> column_;
    unsigned opctx_ = 0;
    std::vector<Event> events_;
    std::map<std::pair<int, unsigned>, std::vector<uint8_t>> lengths_;
    std::map<std::pair<int, unsigned>, std::vector<LenItem>> items_;
    std::optional<std::array<uint8_t, 16>> clen_;
    std::optional<unsigned> field_;
    bool deep_clen_ = false, lenient_ = false;
    uint64_t bits_used_ = 0;
};

}  // namespace vec

#endif
