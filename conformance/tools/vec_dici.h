// DiciWriter: writes one DICI band (spec §4.4) op by op, like BandWriter
// does for QOHI bands: every op is checked against the source pixels, the
// three OP tables are fitted to the symbols of their contexts or set by the
// case, and invalid bands get unchecked symbols and bits.
#ifndef QOHI_CONFORMANCE_VEC_DICI_H
#define QOHI_CONFORMANCE_VEC_DICI_H

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "vec_model.h"

namespace vec {

class DiciWriter {
public:
    // The band of `rows` rows from row `y0` of `img`, with this palette
    // (empty: the band's colours by decreasing count, as §10 suggests).
    DiciWriter(const Img& img, uint32_t y0, uint32_t rows, std::vector<Px> palette = {});

    uint64_t pos() const { return out_.size(); }
    uint64_t size() const { return n_; }
    const std::vector<Px>& palette() const { return palette_; }

    void rank(uint64_t index);   // symbols 0 ... 40: palette[index]
    void rank();                 // the source pixel's first rank
    void run(uint64_t length);   // 41 ... 81
    void copy(uint64_t length);  // 82 ... 122: from `width` positions back
    // The encoder guidance's ops (§10) up to position `end`.
    void greedy(uint64_t end = UINT64_MAX);

    // Unchecked content for invalid bands: a symbol (coded with the table of
    // the current context, which it then sets) and raw bits.
    void raw(unsigned symbol);
    void raw_bits(uint64_t value, unsigned nbits) { events_.push_back({-1, value, nbits}); }
    // The palette size field as these raw bits instead of N's encoding.
    void set_size_field(uint64_t value, unsigned nbits) { size_field_ = std::make_pair(value, nbits); }
    // Stop the palette after `count` colours (a band cut inside it).
    void cut_palette(size_t count) { palette_cut_ = count; }
    void set_lengths(unsigned table, std::vector<uint8_t> lengths) { lengths_[table] = std::move(lengths); }
    void set_absent(unsigned table) { absent_[table] = true; }

    std::vector<uint8_t> finish(bool complete = true);
    uint64_t bits_used() const { return bits_used_; }

private:
    struct Event {
        int table;  // 0 ... 2, or -1 for raw bits
        uint64_t value;
        unsigned nbits;
    };
    void op(unsigned symbol, const LengthClass& c);

    uint32_t w_, channels_;
    uint64_t n_;
    std::vector<Px> src_, out_, palette_;
    Px prev_;
    unsigned ctx_ = 0;
    std::vector<Event> events_;
    std::map<unsigned, std::vector<uint8_t>> lengths_;
    std::map<unsigned, bool> absent_;
    std::optional<std::pair<uint64_t, unsigned>> size_field_;
    std::optional<size_t> palette_cut_;
    uint64_t bits_used_ = 0;
};

}  // namespace vec

#endif
