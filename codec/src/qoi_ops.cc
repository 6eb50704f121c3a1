#include "qoi_ops.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <utility>

#include "bit_io.h"
#include "huffman.h"
#include "length_class.h"
#include "pixel.h"

namespace qohi {
namespace {

// Op alphabet (spec §5.4). Pixels are held as R | G<<8 | B<<16 | A<<24.
constexpr unsigned kOpDelta = 0;       // payload: dG, dR-dG, dB-dG (tables G, R, B)
constexpr unsigned kOpDeltaAlpha = 1;  // payload: dA (table A), then as kOpDelta
constexpr unsigned kOpRunBase = 2;     // run length classes (length_class.h)
constexpr unsigned kOpIndexBase = kOpRunBase + kRunClasses;
constexpr unsigned kIndexSize = 256;
constexpr unsigned kOpMatchBase = kOpIndexBase + kIndexSize;  // copy from earlier pixels: length classes
// Difference from the gradient prediction left + above - above-left (spec §5.13).
constexpr unsigned kOpGradDelta = kOpMatchBase + kRunClasses;
constexpr unsigned kOpGradDeltaAlpha = kOpGradDelta + 1;
constexpr unsigned kOpAlphabet = kOpGradDeltaAlpha + 1;  // intra bands
// Delta bands (a reference frame is given) add ops relative to the reference
// pixel at the same position (spec §5.11).
constexpr unsigned kOpRefRunBase = kOpAlphabet;  // copy a run of pixels from the reference
constexpr unsigned kOpRefDelta = kOpRefRunBase + kRunClasses;  // difference from the reference pixel
constexpr unsigned kOpRefDeltaAlpha = kOpRefDelta + 1;
constexpr unsigned kOpAlphabetDelta = kOpRefDeltaAlpha + 1;
constexpr unsigned kByteAlphabet = 256;
constexpr uint32_t kStartPixel = kOpaqueAlpha;  // opaque black, as in QOI

// Match distances (spec §5.12): symbol 0 is the pixel above (distance =
// width); symbols 1.. are classes of distance - 1, as run lengths.
constexpr unsigned kDistAbove = 0;
constexpr unsigned kDistClasses = 1 + kRunDirect + 30 - kRunDirectBits;
// The last symbol repeats the distance of the latest match that covered a
// pixel in the same column (spec §5.12): a glyph or sprite copied from
// elsewhere is copied row by row at one distance.
constexpr unsigned kDistColumn = kDistClasses;
constexpr unsigned kDistAlphabet = kDistColumn + 1;
constexpr unsigned kMinMatch = 4;

// Code tables are chosen by context (spec §5.14): the op table by the kind
// of the previous op, G by the local activity, R and B by the size of dG.
// Each of these families has kContexts tables; per band, contexts share
// tables in groups (see context_group()).
constexpr unsigned kContexts = 4;
enum Table : unsigned {
    kTableOp,
    kTableG = kTableOp + kContexts,
    kTableR = kTableG + kContexts,
    kTableB = kTableR + kContexts,
    kTableA = kTableB + kContexts,
    kTableDist,
    kTableCount
};
// Grouping modes 0, 1, 2: one table for all four contexts, one per pair
// {0,1},{2,3}, or one each.
inline unsigned context_group(unsigned mode, unsigned context) { return context >> (2 - mode); }
// Whether table `t` is written: the first context of its group (modes[f]
// for the families op, G, R+B).
inline bool is_written_table(unsigned t, const unsigned* modes) {
    if (t >= kTableA) return true;
    const unsigned family = t / kContexts;
    const unsigned mode = modes[family < 2 ? family : 2];
    return ((t % kContexts) & ((1u << (2 - mode)) - 1)) == 0;
}
// Context tables are looked up, not computed with comparisons: their
// branches mispredict on every other pixel.
struct ContextTables {
    uint8_t rb[256];       // R/B context from dG: |dG| 0, 1..2, 3..8, 9+
    uint8_t activity[64];  // G context from min(activity, 63): 0, 1..6, 7..30, 31+
    uint8_t op[kOpAlphabetDelta];  // op context after op s, see op_context()
    constexpr ContextTables() : rb(), activity(), op() {
        for (unsigned v = 0; v < 256; ++v) {
            const unsigned m = v < 128 ? v : 256 - v;
            rb[v] = uint8_t(m == 0 ? 0 : m <= 2 ? 1 : m <= 8 ? 2 : 3);
        }
        for (unsigned a = 0; a < 64; ++a) activity[a] = uint8_t(a == 0 ? 0 : a <= 6 ? 1 : a <= 30 ? 2 : 3);
        // 0 differences, 1 index, 2 runs of the previous pixel, 3 copies
        // (matches, reference runs).
        for (unsigned s = 0; s < kOpAlphabetDelta; ++s)
            op[s] = uint8_t(s < kOpRunBase       ? 0
                            : s < kOpIndexBase   ? 2
                            : s < kOpMatchBase   ? 1
                            : s < kOpGradDelta   ? 3
                            : s < kOpRefRunBase  ? 0
                            : s < kOpRefDelta    ? 3
                                                 : 0);
    }
};
constexpr ContextTables kContextTables;
inline unsigned rb_context(uint8_t dg) { return kContextTables.rb[dg]; }
inline unsigned op_context(unsigned s) { return kContextTables.op[s]; }
// Activity of the neighbourhood: how much the colour changes from above-left to left and above.
QOHI_ALWAYS_INLINE unsigned g_context(uint32_t left, uint32_t above, uint32_t above_left) {
    unsigned act = 0;
    for (unsigned sh = 0; sh < 24; sh += 8) {
        auto g = [sh](uint32_t px) { return int((px >> sh) & 0xFF); };
        act += unsigned(std::abs(g(left) - g(above_left)) + std::abs(g(above) - g(above_left)));
    }
    return kContextTables.activity[std::min(act, 63u)];
}
inline unsigned alphabet_size(unsigned table, bool delta) {
    return table < kTableG ? (delta ? kOpAlphabetDelta : kOpAlphabet) : table == kTableDist ? kDistAlphabet
                                                                                             : kByteAlphabet;
}

inline unsigned index_hash(uint32_t px) {
    const uint32_t r = px & 0xFF, g = (px >> 8) & 0xFF, b = (px >> 16) & 0xFF, a = px >> 24;
    return (r * 3 + g * 5 + b * 7 + a * 11) & (kIndexSize - 1);
}

inline RunCode dist_code(uint64_t distance, uint32_t width, uint64_t column_distance) {
    if (distance == width) return {kDistAbove, 0, 0};
    if (distance == column_distance) return {kDistColumn, 0, 0};
    const RunCode c = run_code(distance, 1);
    return c;
}

// Per-component differences of two pixels, as coded: dG, dR - dG, dB - dG, dA.
struct Difference {
    uint8_t g, r, b, a;
    uint8_t gctx = 0;  // context of the G table
};
inline Difference difference(uint32_t px, uint32_t from) {
    const uint8_t dg = uint8_t((px >> 8) - (from >> 8));
    return {dg, uint8_t(uint8_t(px - from) - dg), uint8_t(uint8_t((px >> 16) - (from >> 16)) - dg),
            uint8_t((px >> 24) - (from >> 24)), 0};
}
// The gradient prediction of a pixel from its left, above and above-left
// neighbours, per colour channel clamped to 0..255; alpha is the left one's.
struct ClampTable {
    uint8_t v[768];  // v[x + 256] = x clamped to 0..255, for x in -256..511
    constexpr ClampTable() : v() {
        for (int x = -256; x < 512; ++x) v[x + 256] = uint8_t(x < 0 ? 0 : x > 255 ? 255 : x);
    }
};
constexpr ClampTable kClamp;

inline uint32_t gradient(uint32_t left, uint32_t above, uint32_t above_left) {
    const auto channel = [&](unsigned shift) {
        return uint32_t(kClamp.v[((left >> shift) & 0xFF) + ((above >> shift) & 0xFF) + 256 -
                                 ((above_left >> shift) & 0xFF)])
               << shift;
    };
    return (left & 0xFF000000u) | channel(0) | channel(8) | channel(16);
}

inline uint32_t apply_difference(uint32_t from, uint32_t dg, uint32_t dr, uint32_t db, uint32_t a) {
    dr += dg;
    db += dg;
    return ((from + dr) & 0xFF) | ((from + (dg << 8)) & 0xFF00) | ((from + (db << 16)) & 0xFF0000) | a << 24;
}
// Rough size of a difference, for the first (greedy) pass.
inline unsigned magnitude(const Difference& d) {
    auto m = [](uint8_t v) { return unsigned(v < 128 ? v : 256 - v); };
    return m(d.g) + m(d.r) + m(d.b) + m(d.a);
}

// The pixels of one band, and for a delta band the reference frame's pixels
// at the same positions.
struct BandInput {
    const uint8_t* pixels;
    size_t stride;
    const uint8_t* ref;  // nullptr for an intra band
    size_t ref_stride;
    uint32_t width, rows;
    bool thorough;  // intra bands too search earlier pixels by hash; gradient ops are tried
    bool contexts;  // G tables chosen by the neighbourhood (thorough encoders, estimates)
};

// Walks the pixels and reports QOI ops to a sink (a counter or a bit emitter),
// so planning and writing share one definition of the op choice. With
// `cost` (bits per symbol and table), a pixel that several ops could code
// takes the cheapest; without, a greedy rule.
// Finds earlier copies of the pixels ahead (LZ77 over the band's pixels,
// preceded in a delta band by the reference's pixels of the same band).
// Intra bands only try the pixels above and the column's last match
// distance: most of the gain at a fraction of the time (spec §11). Delta
// bands, where moved content is the point, and intra bands of a thorough
// encoder also hash kMinMatch pixels into chains of earlier positions; the
// longest of the pixels above, the column distance and the first kProbes
// chain candidates wins.
template <unsigned C, bool Delta>
class MatchFinder {
public:
    static constexpr unsigned kProbes = Delta ? 32 : 4;

    explicit MatchFinder(const BandInput& band)
        : count_(uint64_t(band.width) * band.rows),
          ref_count_(Delta ? count_ : 0),
          width_(band.width),
          hashing_(Delta || band.thorough) {
        // One contiguous view: reference pixels, then the band's pixels
        // (copied unless an intra band's rows are contiguous already).
        const size_t row = size_t(band.width) * C;
        if (!Delta && band.stride == row) {
            base_ = band.pixels;
        } else {
            pixels_.resize(size_t(ref_count_ + count_) * C);
            for (uint32_t y = 0; y < band.rows; ++y) {
                if (Delta) std::memcpy(&pixels_[y * row], band.ref + y * band.ref_stride, row);
                std::memcpy(&pixels_[(ref_count_ * C) + y * row], band.pixels + y * band.stride, row);
            }
            base_ = pixels_.data();
        }
        if (!hashing_) return;
        unsigned bits = 10;
        while (bits < 16 && (uint64_t(1) << bits) < ref_count_ + count_) ++bits;
        shift_ = 32 - bits;
        head_.assign(size_t(1) << bits, -1);
        chain_.reset(new int32_t[size_t(ref_count_ + count_)]);  // written before it is read
        for (uint64_t i = 0; i + kMinMatch <= ref_count_; ++i) insert(i);
    }

    // Longest earlier copy (at least kMinMatch pixels) of the pixels at band
    // position `pos`, as (length, distance); length 0 if none. Makes `pos`
    // findable for later searches.
    std::pair<uint64_t, uint64_t> find(uint64_t pos, uint64_t column_distance) {
        const uint64_t at = ref_count_ + pos, end = ref_count_ + count_;
        if (at + kMinMatch > end) return {0, 0};
        uint64_t best_len = 0, best_from = 0;
        int32_t cand = -1;
        if (hashing_) {
            int32_t& head = head_[hash(at)];
            cand = head;
            chain_[at] = head;
            head = int32_t(at);
        }
        // Probe 0 is the pixel above, 1 the column's last match distance,
        // then the hash chain.
        for (unsigned probe = 0; probe <= kProbes + 1; ++probe) {
            uint64_t from;
            if (probe == 0) {
                if (at < width_) continue;
                from = at - width_;
            } else if (probe == 1) {
                if (column_distance == 0 || column_distance > at || column_distance == width_) continue;
                from = at - column_distance;
            } else {
                if (!hashing_ || cand < 0) break;
                from = uint64_t(cand);
                cand = chain_[size_t(cand)];
            }
            // Cheap rejections first: a longer match must agree at best_len.
            if (at + best_len >= end || !same(from + best_len, at + best_len) || !same(from, at)) continue;
            uint64_t len = 1;
            while (at + len < end && same(from + len, at + len)) ++len;
            if (len > best_len) {
                best_len = len;
                best_from = from;
            }
        }
        if (best_len < kMinMatch) return {0, 0};
        return {best_len, at - best_from};
    }

    // Makes band position `pos` findable without searching.
    void add(uint64_t pos) {
        if (hashing_ && ref_count_ + pos + kMinMatch <= ref_count_ + count_) insert(ref_count_ + pos);
    }

private:
    bool same(uint64_t a, uint64_t b) const { return load_pixel<C>(base_ + a * C) == load_pixel<C>(base_ + b * C); }
    uint32_t hash(uint64_t i) const {
        uint32_t h = 0;
        for (unsigned k = 0; k < kMinMatch; ++k) h = (h ^ load_pixel<C>(base_ + (i + k) * C)) * 0x9E3779B1u;
        return h >> shift_;
    }
    void insert(uint64_t i) {
        int32_t& head = head_[hash(i)];
        chain_[i] = head;
        head = int32_t(i);
    }
    uint64_t count_, ref_count_, width_;
    bool hashing_;
    unsigned shift_ = 0;
    std::vector<uint8_t> pixels_;  // the contiguous copy, when one is needed
    const uint8_t* base_ = nullptr;
    std::vector<int32_t> head_;
    std::unique_ptr<int32_t[]> chain_;
};

// Matches found by one pass over a band, replayed by a later pass that makes
// the same decisions (so the search runs once per band).
template <unsigned C, bool Delta, bool Thorough, class Sink>
void generate_ops(const BandInput& band, uint32_t row_step, const uint8_t* const* cost, bool find_matches,
                  Sink& sink) {
    uint32_t index[kIndexSize] = {};
    uint32_t prev = kStartPixel;
    uint64_t run = 0, ref_run = 0, skip = 0, pos = 0;
    // Where matches are rare (photos) the search thins out, as in LZ4: after
    // each miss the next search comes a little later; a hit resets it.
    uint64_t next_search = 0, misses = 0;
    std::unique_ptr<MatchFinder<C, Delta>> matches;
    if (find_matches) matches.reset(new MatchFinder<C, Delta>(band));
    // Per column, the distance of the latest match covering it (0: none).
    std::vector<uint32_t> column_distance(find_matches ? band.width : 0, 0);
    for (uint32_t y = 0; y < band.rows; y += row_step) {
        const uint8_t* p = band.pixels + size_t(y) * band.stride;
        const uint8_t* r = Delta ? band.ref + size_t(y) * band.ref_stride : nullptr;
        for (uint32_t x = 0; x < band.width; ++x, p += C, ++pos) {
            const uint32_t px = load_pixel<C>(p);
            uint32_t rp = 0;
            if constexpr (Delta) {
                rp = load_pixel<C>(r);
                r += C;
            }
            if (skip) {
                // Inside a match only its last pixels become findable (as in
                // LZ4): cheap, and enough to chain repeated patterns.
                if (matches && skip <= 2) matches->add(pos);
                --skip;
                prev = px;
                continue;
            }
            if (run) {
                if (px == prev) {
                    ++run;
                    continue;
                }
                sink.run(run_code(run, kOpRunBase));
                run = 0;
            } else if (Delta && ref_run) {
                if (px == rp) {
                    ++ref_run;
                    prev = px;
                    continue;
                }
                sink.run(run_code(ref_run, kOpRefRunBase));
                ref_run = 0;
            }
            if (Delta && px == rp) {
                ref_run = 1;
                prev = px;
                continue;
            }
            if (px == prev) {
                run = 1;
                continue;
            }
            if (matches && pos >= next_search) {
                const auto m = matches->find(pos, column_distance[x]);
                if (m.first) {
                    misses = 0;
                    sink.match(run_code(m.first, kOpMatchBase), dist_code(m.second, band.width, column_distance[x]));
                    for (uint64_t k = 0, c = x; k < m.first; ++k, c = c + 1 == band.width ? 0 : c + 1)
                        column_distance[c] = uint32_t(m.second);
                    skip = m.first - 1;
                    prev = px;
                    continue;
                }
                misses = std::min<uint64_t>(misses + 1, 256);
                next_search = pos + 1 + (misses >> 4);
            }

            const unsigned h = index_hash(px);
            Difference d = difference(px, prev);
            const bool same_alpha = d.a == 0;
            enum { kIndex, kDiff, kGradDiff, kRefDiff } choice = index[h] == px ? kIndex : kDiff;
            Difference rd{};
            if constexpr (Delta) rd = difference(px, rp);
            // The gradient needs the row above within the band; elsewhere
            // its prediction is the previous pixel (x = 0: the pixel above).
            // Only a thorough encoder tries it (spec §10, §11: effort 1
            // encodes about 30% slower in all).
            uint32_t predicted = prev;
            if (Thorough && y > 0) {
                const uint32_t above = load_pixel<C>(p - band.stride);
                predicted = x > 0 ? gradient(prev, above, load_pixel<C>(p - band.stride - C))
                                  : (above & 0xFFFFFFu) | (prev & 0xFF000000u);
            }
            Difference gd = difference(px, predicted);
            // G context (when coding with contexts): 1 on the band's first
            // row and column, where the neighbourhood is incomplete.
            unsigned gctx = band.contexts ? 1 : 0;
            if (band.contexts && y > 0 && x > 0) {
                const uint32_t above = load_pixel<C>(p - band.stride), above_left = load_pixel<C>(p - band.stride - C);
                gctx = g_context(prev, above, above_left);
            }
            d.gctx = rd.gctx = gd.gctx = uint8_t(gctx);
            if (cost) {
                auto diff_bits = [&](const Difference& v, unsigned op, unsigned op_alpha) -> unsigned {
                    const uint8_t* op_cost = cost[kTableOp + sink.op_ctx];
                    return (v.a == 0 ? op_cost[op] : op_cost[op_alpha] + cost[kTableA][v.a]) +
                           cost[kTableG + v.gctx][v.g] + cost[kTableR + sink.rb_context(v.g)][v.r] +
                           cost[kTableB + sink.rb_context(v.g)][v.b];
                };
                unsigned best = diff_bits(d, kOpDelta, kOpDeltaAlpha);
                if (choice == kIndex && cost[kTableOp + sink.op_ctx][kOpIndexBase + h] <= best) {
                    best = cost[kTableOp + sink.op_ctx][kOpIndexBase + h];
                } else {
                    choice = kDiff;
                }
                const unsigned grad_bits = Thorough ? diff_bits(gd, kOpGradDelta, kOpGradDeltaAlpha) : ~0u;
                if (grad_bits < best) {
                    best = grad_bits;
                    choice = kGradDiff;
                }
                if (Delta && diff_bits(rd, kOpRefDelta, kOpRefDeltaAlpha) < best) choice = kRefDiff;
            } else if (choice == kDiff) {
                unsigned best = magnitude(d);
                if (Thorough && magnitude(gd) < best) {
                    best = magnitude(gd);
                    choice = kGradDiff;
                }
                if (Delta && magnitude(rd) < best) choice = kRefDiff;
            }

            if (choice == kIndex) {
                sink.op(kOpIndexBase + h);
            } else {
                index[h] = px;
                const Difference& v = choice == kDiff ? d : choice == kGradDiff ? gd : rd;
                if (choice == kDiff) {
                    sink.difference(same_alpha ? kOpDelta : kOpDeltaAlpha, v);
                } else if (choice == kGradDiff) {
                    sink.difference(v.a == 0 ? kOpGradDelta : kOpGradDeltaAlpha, v);
                } else {
                    sink.difference(v.a == 0 ? kOpRefDelta : kOpRefDeltaAlpha, v);
                }
            }
            prev = px;
        }
    }
    if (run) sink.run(run_code(run, kOpRunBase));
    if (Delta && ref_run) sink.run(run_code(ref_run, kOpRefRunBase));
}

// One op as the counting pass chose it, replayed by the writing pass (which
// then need not choose again). A match is two records: its length, then its
// distance (symbol and extra bits of the DIST table).
struct OpRecord {
    uint16_t symbol;
    uint8_t gctx;        // difference ops: the G context
    uint8_t extra_bits;  // runs, matches, distances
    uint32_t value;      // difference ops: g | r << 8 | b << 16 | a << 24; else the extra bits' value
};

struct CountSink {
    // Ops count in the context of the op before them if `op_contexts`, R and
    // B values in the context of dG if `rb_contexts`, else all in context
    // 0; G contexts come with the ops (0 unless thorough).
    bool op_contexts, rb_contexts;
    CountSink(bool with_op_contexts, bool with_rb_contexts)
        : op_contexts(with_op_contexts), rb_contexts(with_rb_contexts) {
        for (unsigned c = 0; c < kContexts; ++c) counts[kTableOp + c] = op_counts[c];
        for (unsigned t = kTableG; t < kTableDist; ++t) counts[t] = byte_counts[t - kTableG];
        counts[kTableDist] = dist_counts;
    }
    unsigned rb_context(uint8_t dg) const { return rb_contexts ? qohi::rb_context(dg) : 0; }
    uint32_t op_counts[kContexts][kOpAlphabetDelta] = {};
    uint32_t byte_counts[kTableDist - kTableG][kByteAlphabet] = {};
    uint32_t dist_counts[kDistAlphabet] = {};
    uint32_t* counts[kTableCount];
    uint64_t extra_bits = 0;
    unsigned op_ctx = 0;
    OpRecord* record = nullptr;  // where the next op goes, if anywhere
    void count_op(unsigned s) {
        counts[kTableOp + op_ctx][s]++;
        if (op_contexts) op_ctx = op_context(s);
    }
    void op(unsigned s) {
        count_op(s);
        if (record) *record++ = {uint16_t(s), 0, 0, 0};
    }
    void difference(unsigned s, const Difference& v) {
        count_op(s);
        if (record) *record++ = {uint16_t(s), v.gctx, 0, uint32_t(v.g | v.r << 8 | v.b << 16 | uint32_t(v.a) << 24)};
        if (v.a != 0) counts[kTableA][v.a]++;
        counts[kTableG + v.gctx][v.g]++;
        counts[kTableR + rb_context(v.g)][v.r]++;
        counts[kTableB + rb_context(v.g)][v.b]++;
    }
    void run(const RunCode& rc) {
        count_op(rc.symbol);
        extra_bits += rc.extra_bits;
        if (record) *record++ = {uint16_t(rc.symbol), 0, uint8_t(rc.extra_bits), rc.extra};
    }
    void match(const RunCode& length, const RunCode& distance) {
        run(length);
        counts[kTableDist][distance.symbol]++;
        extra_bits += distance.extra_bits;
        if (record) *record++ = {uint16_t(distance.symbol), 0, uint8_t(distance.extra_bits), distance.extra};
    }
};

// Collects the codes of one op (at most 56 bits at a time) and writes them
// with as few BitWriter calls as possible.
struct EmitSink {
    BitWriter& out;
    const EncodeTable* const* tables;  // by context
    bool contexts;
    unsigned rb_context(uint8_t dg) const { return contexts ? qohi::rb_context(dg) : 0; }
    unsigned op_ctx = 0;
    // The op table for the next op; moves the context on to op `s`.
    const EncodeTable& op_table(unsigned s) {
        const EncodeTable& o = *tables[kTableOp + op_ctx];
        if (contexts) op_ctx = op_context(s);
        return o;
    }
    void op(unsigned s) {
        const EncodeTable& o = op_table(s);
        out.put(o.code[s], o.length[s]);
    }
    void difference(unsigned s, const Difference& v) {
        // op + G + R + B: at most 4 x 12 bits; alpha first, on its own.
        const EncodeTable& o = op_table(s);
        uint64_t bits = o.code[s];
        unsigned n = o.length[s];
        if (v.a != 0) {
            out.put(bits, n);
            bits = tables[kTableA]->code[v.a];
            n = tables[kTableA]->length[v.a];
        }
        const unsigned rb = rb_context(v.g);
        for (const auto& [t, x] : {std::pair<unsigned, uint8_t>{kTableG + v.gctx, v.g}, {kTableR + rb, v.r},
                                   {kTableB + rb, v.b}}) {
            bits |= uint64_t(tables[t]->code[x]) << n;
            n += tables[t]->length[x];
        }
        out.put(bits, n);
    }
    void run(const RunCode& rc) {
        const EncodeTable& o = op_table(rc.symbol);
        out.put(o.code[rc.symbol] | uint64_t(rc.extra) << o.length[rc.symbol], o.length[rc.symbol] + rc.extra_bits);
    }
    void match(const RunCode& length, const RunCode& distance) {
        run(length);
        const EncodeTable& d = *tables[kTableDist];
        out.put(d.code[distance.symbol] | uint64_t(distance.extra) << d.length[distance.symbol],
                d.length[distance.symbol] + distance.extra_bits);
    }
    void replay(const OpRecord* ops, size_t count) {
        for (size_t i = 0; i < count; ++i) {
            const OpRecord& r = ops[i];
            const unsigned s = r.symbol;
            const RunCode code{s, r.extra_bits, r.value};
            if (s < kOpRunBase || s == kOpGradDelta || s == kOpGradDeltaAlpha || s == kOpRefDelta ||
                s == kOpRefDeltaAlpha) {
                difference(s, Difference{uint8_t(r.value), uint8_t(r.value >> 8), uint8_t(r.value >> 16),
                                         uint8_t(r.value >> 24), r.gctx});
            } else if (s >= kOpMatchBase && s < kOpGradDelta) {
                const OpRecord& d = ops[++i];
                match(code, RunCode{d.symbol, d.extra_bits, d.value});
            } else if (s >= kOpIndexBase && s < kOpMatchBase) {
                op(s);
            } else {
                run(code);
            }
        }
    }
};

// How much context a band's tables need (spec §5.14): none (every mode 0),
// R/B only (the default effort's bands), the op and R/B contexts (G mode
// 0), or all of them.
enum ContextLevel : unsigned { kNoContexts, kRbContexts, kOpRbContexts, kAllContexts };

template <unsigned C, bool Delta, ContextLevel Contexts>
Status decode_pixels(BitReader& in, const DecodeTable* const* tables, bool match, uint32_t width,
                     uint64_t pixel_count, uint8_t* out, const uint8_t* ref);

template <unsigned C, bool Delta>
Status decode_band_bits(BitReader& in, uint32_t width, uint64_t pixel_count, uint8_t* out, const uint8_t* ref) {
    const uint32_t packed_modes = in.read(6);
    const unsigned modes[3] = {packed_modes & 3, (packed_modes >> 2) & 3, packed_modes >> 4};
    for (unsigned mode : modes)
        if (mode > 2) return corrupt("reserved context grouping");
    // On the heap, as many as are written (8 KiB each): 6 without contexts.
    unsigned written = 0;
    for (unsigned t = 0; t < kTableCount; ++t) written += is_written_table(t, modes);
    std::unique_ptr<DecodeTable[]> store(new DecodeTable[written]);
    const DecodeTable* tables[kTableCount];
    CodeTableReader table_reader;
    QOHI_RETURN_IF_ERROR(table_reader.start(in));
    for (unsigned t = 0, next = 0; t < kTableCount; ++t) {
        if (!is_written_table(t, modes)) {
            tables[t] = tables[t - 1];  // the group's first context, written just before
            continue;
        }
        DecodeTable& table = store[next++];
        QOHI_RETURN_IF_ERROR(table_reader.read(in, alphabet_size(t, Delta), table));
        if (t < kTableG && table.empty()) return corrupt("op code table is empty");
        tables[t] = &table;
    }
    // Which ops can occur: those with a code in any op table.
    const auto has_op = [&](unsigned s) {
        for (unsigned c = 0; c < kContexts; ++c)
            if (tables[kTableOp + c]->has_symbol(s)) return true;
        return false;
    };
    const bool alpha = has_op(kOpDeltaAlpha) || has_op(kOpGradDeltaAlpha) || (Delta && has_op(kOpRefDeltaAlpha));
    const bool diff = alpha || has_op(kOpDelta) || has_op(kOpGradDelta) || (Delta && has_op(kOpRefDelta));
    for (unsigned t = kTableG; t < kTableA && diff; ++t)
        if (tables[t]->empty()) return corrupt("difference ops without all G/R/B code tables");
    if (alpha) {
        if (C != 4) return corrupt("alpha op in a frame without alpha");
        if (tables[kTableA]->empty()) return corrupt("alpha op without an A code table");
    }
    bool match = false;
    for (unsigned k = 0; k < kRunClasses; ++k) match |= has_op(kOpMatchBase + k);
    if (match && tables[kTableDist]->empty()) return corrupt("match ops without a distance code table");
    // Bands with one table per family (all default-effort bands) take a
    // loop that computes no contexts: context selection halves decoding
    // speed (spec §11).
    if (modes[1] != 0) return decode_pixels<C, Delta, kAllContexts>(in, tables, match, width, pixel_count, out, ref);
    if (modes[0] != 0) return decode_pixels<C, Delta, kOpRbContexts>(in, tables, match, width, pixel_count, out, ref);
    if (modes[2] != 0) return decode_pixels<C, Delta, kRbContexts>(in, tables, match, width, pixel_count, out, ref);
    return decode_pixels<C, Delta, kNoContexts>(in, tables, match, width, pixel_count, out, ref);
}

template <unsigned C, bool Delta, ContextLevel Contexts>
Status decode_pixels(BitReader& in, const DecodeTable* const* tables, bool match, uint32_t width,
                     uint64_t pixel_count, uint8_t* out, const uint8_t* ref) {
    const int64_t ref_count = Delta ? int64_t(pixel_count) : 0;

    uint32_t index[kIndexSize] = {};
    uint32_t prev = kStartPixel;
    // With contexts, the table for the next op and the R and B tables for
    // each dG, looked up in one step: the lookups lie on the decoding
    // loop's critical path.
    const DecodeTable* op_table = tables[kTableOp];
    struct ContextTablesOf {
        const DecodeTable* next_op[kOpAlphabetDelta];
        const DecodeTable* r[kByteAlphabet];
        const DecodeTable* b[kByteAlphabet];
    };
    std::unique_ptr<ContextTablesOf> by_context;
    if constexpr (Contexts != kNoContexts) {
        by_context.reset(new ContextTablesOf);
        for (unsigned k = 0; k < kOpAlphabetDelta; ++k) by_context->next_op[k] = tables[kTableOp + op_context(k)];
        for (unsigned v = 0; v < kByteAlphabet; ++v) {
            by_context->r[v] = tables[kTableR + rb_context(uint8_t(v))];
            by_context->b[v] = tables[kTableB + rb_context(uint8_t(v))];
        }
    }
    // Per column, the distance of the latest match covering it (0: none);
    // distances stay below 2^30 (two bands of at most 2^29 pixels).
    std::vector<uint32_t> column_distance(match ? width : 0, 0);
    uint8_t* o = out;
    uint8_t* const end = out + pixel_count * C;
    const size_t row_bytes = size_t(width) * C;
    const uint8_t* row_end = out + row_bytes;  // end of the row holding `o` (kept up to date lazily)
    // Every difference op: the colour of `from` plus dG, dR - dG, dB - dG;
    // alpha that of `alpha_from`, plus dA (read first) for the alpha ops.
    const auto read_difference = [&](uint32_t from, uint32_t alpha_from, bool with_alpha) QOHI_LAMBDA_ALWAYS_INLINE {
        uint32_t a = alpha_from >> 24;
        if (with_alpha) {
            a = (a + tables[kTableA]->decode(in)) & 0xFF;
            in.refill();
        }
        unsigned gctx = 0;
        if constexpr (Contexts == kAllContexts) {
            gctx = 1;
            while (o >= row_end) row_end += row_bytes;  // catches up after runs and matches
            if (o - out >= ptrdiff_t(row_bytes) && o != row_end - row_bytes)
                gctx = g_context(prev, load_pixel<C>(o - row_bytes), load_pixel<C>(o - row_bytes - C));
        }
        const uint32_t dg = tables[kTableG + gctx]->decode(in);
        if constexpr (Contexts != kNoContexts) {
            const uint32_t dr = by_context->r[dg]->decode(in);
            return apply_difference(from, dg, dr, by_context->b[dg]->decode(in), a);
        } else {
            const uint32_t dr = tables[kTableR]->decode(in);
            return apply_difference(from, dg, dr, tables[kTableB]->decode(in), a);
        }
    };
    while (o < end) {
        in.refill();
        const unsigned s = op_table->decode(in);
        if constexpr (Contexts >= kOpRbContexts) op_table = by_context->next_op[s];
        uint32_t px;
        if (s >= kOpIndexBase && s < kOpMatchBase) {
            px = index[s - kOpIndexBase];
            // RGB frames are opaque: an entry still holding its initial
            // (0,0,0,0) gives opaque black (never produced by an encoder).
            if constexpr (C == 3) px |= kStartPixel;
        } else if (s >= kOpRunBase && s < kOpIndexBase) {
            const uint64_t n = read_run(s - kOpRunBase, in);
            if (n >= uint64_t(end - o) / C) return corrupt("run goes past the end of the band");
            for (uint64_t k = 0; k <= n; ++k, o += C) store_pixel<C>(o, prev);
            continue;
        } else if (s < kOpRunBase) {
            px = read_difference(prev, prev, s == kOpDeltaAlpha);
        } else if (s >= kOpGradDelta && s < kOpAlphabet) {
            uint32_t predicted = prev;
            while (o >= row_end) row_end += row_bytes;
            if (o - out >= ptrdiff_t(row_bytes)) {
                const uint32_t above = load_pixel<C>(o - row_bytes);
                predicted = o != row_end - row_bytes ? gradient(prev, above, load_pixel<C>(o - row_bytes - C))
                                                     : (above & 0xFFFFFFu) | (prev & 0xFF000000u);
            }
            px = read_difference(predicted, prev, s == kOpGradDeltaAlpha);
        } else if (s < kOpAlphabet) {
            const uint64_t n = read_run(s - kOpMatchBase, in);
            in.refill();
            const unsigned d = tables[kTableDist]->decode(in);
            const int64_t pos = (o - out) / C;
            const uint32_t x = uint32_t(uint64_t(pos) % width);
            const uint64_t distance = d == kDistAbove ? width : d == kDistColumn ? column_distance[x] : read_run(d - 1, in) + 1;
            if (distance == 0) return corrupt("column match distance before any match in the column");
            const int64_t from = pos - int64_t(distance);
            if (from < -ref_count) return corrupt("match reaches before the start of its data");
            if (n >= uint64_t(end - o) / C) return corrupt("match goes past the end of the band");
            for (uint64_t k = 0, c = x; k <= n; ++k, o += C, c = c + 1 == width ? 0 : c + 1) {
                const int64_t v = from + int64_t(k);
                px = load_pixel<C>(v < 0 ? ref + (v + ref_count) * C : out + v * C);
                store_pixel<C>(o, px);
                column_distance[c] = uint32_t(distance);
            }
            prev = px;
            continue;
        } else if (s < kOpRefDelta) {  // only in delta bands
            const uint64_t n = read_run(s - kOpRefRunBase, in);
            if (n >= uint64_t(end - o) / C) return corrupt("reference run goes past the end of the band");
            const size_t bytes = size_t(n + 1) * C;
            std::memcpy(o, ref + (o - out), bytes);
            o += bytes;
            prev = load_pixel<C>(o - C);
            continue;
        } else {  // kOpRefDelta, kOpRefDeltaAlpha
            const uint32_t rp = load_pixel<C>(ref + (o - out));
            px = read_difference(rp, rp, s == kOpRefDeltaAlpha);
        }
        index[index_hash(px)] = px;
        store_pixel<C>(o, px);
        o += C;
        prev = px;
    }
    if (!in.finish_ok()) return corrupt("unused data after the last pixel of a band");
    return ok_status();
}

template <unsigned C, bool Delta>
Status decode_band(const uint8_t* data, size_t size, uint32_t width, uint64_t pixel_count, uint8_t* out,
                   const uint8_t* ref) {
    BitReader in(data, size);
    Status st = decode_band_bits<C, Delta>(in, width, pixel_count, out, ref);
    // The band's record is complete (its CRC matched), so running out of
    // bits is corruption; it is reported as such whatever check noticed it.
    if (!st.ok() && in.overran()) return corrupt("band data ends before its last pixel");
    return st;
}

}  // namespace

// generate_ops() for the band's channel count and kind.
template <class Sink>
void run_ops(const BandInput& band, unsigned channels, uint32_t row_step, const uint8_t* const* costs,
             bool find_matches, Sink& sink) {
    const bool delta = band.ref != nullptr;
    // A thorough encoder is its own instantiation, so the default one pays
    // nothing for the gradient ops it does not try.
    if (channels == 4) {
        if (band.thorough)
            delta ? generate_ops<4, true, true>(band, row_step, costs, find_matches, sink)
                  : generate_ops<4, false, true>(band, row_step, costs, find_matches, sink);
        else
            delta ? generate_ops<4, true, false>(band, row_step, costs, find_matches, sink)
                  : generate_ops<4, false, false>(band, row_step, costs, find_matches, sink);
    } else {
        if (band.thorough)
            delta ? generate_ops<3, true, true>(band, row_step, costs, find_matches, sink)
                  : generate_ops<3, false, true>(band, row_step, costs, find_matches, sink);
        else
            delta ? generate_ops<3, true, false>(band, row_step, costs, find_matches, sink)
                  : generate_ops<3, false, false>(band, row_step, costs, find_matches, sink);
    }
}

struct QohiBandEncoder::Plan {
    Plan(const BandInput& input, unsigned channel_count) : band(input), channels(channel_count) {}
    BandInput band;
    unsigned channels;
    // Bit costs from a first, greedy pass; the op choice of the final pass
    // (an index hit or the difference, whichever is cheaper) is made with them.
    std::vector<uint8_t> cost[kTableCount];
    const uint8_t* cost_ptr[kTableCount] = {};
    // Code lengths and codes of the written tables (the first context of
    // each group), and the table each context codes with.
    std::vector<uint8_t> lengths[kTableCount];
    EncodeTable tables[kTableCount];
    const EncodeTable* table_for[kTableCount] = {};
    std::vector<uint8_t> table_bits;  // the serialised tables ...
    uint64_t table_bit_count = 0;     // ... and their length in bits
    unsigned modes[3] = {};  // context grouping of the op, G and R+B tables, see context_group()
    uint64_t bits = 0;

    // Chosen by the counting pass, replayed when writing. Every op codes at
    // least one pixel and a match (two records) at least kMinMatch: a band
    // never has more records than pixels.
    std::unique_ptr<OpRecord[]> ops;
    size_t op_count = 0;

    bool delta() const { return band.ref != nullptr; }
    template <class Sink>
    void run(uint32_t row_step, const uint8_t* const* costs, bool find_matches, Sink& sink) const {
        run_ops(band, channels, row_step, costs, find_matches, sink);
    }
};

QohiBandEncoder::QohiBandEncoder(const uint8_t* pixels, size_t stride, const uint8_t* ref, size_t ref_stride,
                                 uint32_t width, uint32_t rows, unsigned channels, bool thorough)
    : plan_(new Plan(BandInput{pixels, stride, ref, ref_stride, width, rows, thorough, thorough}, channels)) {
    Plan& p = *plan_;
    {
        // Every fourth (in tall bands eighth) row is enough for the costs and
        // keeps this pass cheap (against every fourth row: the benchmark
        // corpus's total size is the same to 0.01%, encoding 2% faster).
        // (Matches need every row; this pass does without them.)
        CountSink greedy(p.band.thorough, true);
        p.run(rows >= 64 ? 8 : rows >= 16 ? 4 : 1, nullptr, false, greedy);
        for (unsigned t = 0; t < kTableCount; ++t) {
            const bool merged = t < kTableG ? !p.band.thorough : t < kTableR && !p.band.contexts;
            if (merged && t % kContexts != 0) {
                p.cost_ptr[t] = p.cost_ptr[t - t % kContexts];  // context 0 holds all the counts
                continue;
            }
            const unsigned n = alphabet_size(t, p.delta());
            const std::vector<uint8_t> len = build_code_lengths(greedy.counts[t], n, kMaxCodeLength);
            p.cost[t].resize(n);
            // A symbol the sample never saw is assumed expensive.
            for (unsigned s = 0; s < n; ++s) p.cost[t][s] = len[s] ? len[s] : kMaxCodeLength + 4;
            p.cost_ptr[t] = p.cost[t].data();
        }
    }
    CountSink counter(p.band.thorough, true);
    p.ops.reset(new OpRecord[size_t(width) * rows]);
    counter.record = p.ops.get();
    p.run(1, p.cost_ptr, true, counter);
    p.op_count = size_t(counter.record - p.ops.get());

    // Per family, contexts share tables in groups of 4, 2 or 1
    // (context_group()), whichever codes the band in the fewest bits with
    // the tables included: small bands cannot pay for many tables. A
    // grouping with an unused group is not an option (one table for all
    // always is): stricter than the decoder, which refuses empty OP tables,
    // and empty G/R/B tables only when difference ops exist (spec §5.9).
    // `commit` keeps the tables: each group's in its first context's slot.
    // Lengths built while trying a grouping, kept for when it is chosen:
    // [first table of the group][mode].
    std::vector<uint8_t> tried[kTableCount][3];
    const auto code_groups = [&](std::initializer_list<unsigned> families, unsigned mode, bool commit) {
        uint64_t total = 0;
        for (unsigned family : families) {
            const unsigned n = alphabet_size(family, p.delta());
            for (unsigned group = 0; group < (1u << mode); ++group) {
                const unsigned first = family + (group << (2 - mode));
                uint32_t merged[kMaxAlphabet] = {};
                for (unsigned c = 0; c < kContexts; ++c) {
                    if (context_group(mode, c) != group) continue;
                    for (unsigned v = 0; v < n; ++v) merged[v] += counter.counts[family + c][v];
                    p.table_for[family + c] = &p.tables[first];
                }
                if (mode != 0 && std::all_of(merged, merged + n, [](uint32_t k) { return k == 0; }))
                    return ~uint64_t(0);
                std::vector<uint8_t>& lengths = tried[first][mode];
                if (lengths.empty()) lengths = build_code_lengths(merged, n, kMaxCodeLength);
                // As EncodeTable::cost(): a table's only symbol takes no bits.
                uint64_t cost = 0;
                unsigned used = 0;
                for (unsigned v = 0; v < n; ++v) {
                    cost += uint64_t(merged[v]) * lengths[v];
                    used += lengths[v] != 0;
                }
                total += used > 1 ? cost : 0;
                if (commit) {
                    p.tables[first] = make_encode_table(lengths);
                    p.lengths[first] = std::move(lengths);
                } else {
                    total += code_table_bits(lengths);
                }
            }
        }
        return total;
    };
    uint64_t bits = counter.extra_bits;
    // Finer groupings are tried only while they pay (each costs a Huffman
    // build per table); at the default effort they must save at least 4%
    // of the family's bits, since contexts cost decoding time (spec §11).
    const uint64_t min_saving = p.band.thorough ? 0 : 25;  // 1 / min_saving of the bits
    const auto choose = [&](std::initializer_list<unsigned> families, unsigned finest) {
        unsigned best = 0;
        uint64_t best_cost = code_groups(families, 0, false);
        for (unsigned mode = 1; mode <= finest; ++mode) {
            const uint64_t c = code_groups(families, mode, false);
            if (c >= best_cost || (min_saving && (best_cost - c) * min_saving < best_cost)) break;
            best_cost = c;
            best = mode;
        }
        bits += code_groups(families, best, true);
        return best;
    };
    // The default effort uses the R/B contexts only: they give most of what
    // contexts give (spec §11) at the least cost in decoding speed.
    p.modes[0] = choose({kTableOp}, p.band.thorough ? 2 : 0);
    p.modes[1] = choose({kTableG}, 2);  // the G contexts are all 0 unless thorough
    p.modes[2] = choose({kTableR, kTableB}, 2);
    for (unsigned t : {unsigned(kTableA), unsigned(kTableDist)}) {
        p.lengths[t] = build_code_lengths(counter.counts[t], alphabet_size(t, p.delta()), kMaxCodeLength);
        p.tables[t] = make_encode_table(p.lengths[t]);
        p.table_for[t] = &p.tables[t];
        bits += p.tables[t].cost(counter.counts[t]);
    }
    BitWriter header(p.table_bits);
    header.put(p.modes[0] | p.modes[1] << 2 | p.modes[2] << 4, 6);
    std::vector<const std::vector<uint8_t>*> written;
    for (unsigned t = 0; t < kTableCount; ++t)
        if (is_written_table(t, p.modes)) written.push_back(&p.lengths[t]);
    write_code_tables(header, written);
    p.table_bit_count = header.bits_written();
    header.finish();
    p.bits = bits + p.table_bit_count;
}

QohiBandEncoder::~QohiBandEncoder() = default;

uint64_t estimate_band_bits(const uint8_t* pixels, size_t stride, const uint8_t* ref, size_t ref_stride,
                            uint32_t width, uint32_t rows, unsigned channels) {
    const uint32_t step = rows >= 16 ? 4 : 1;
    CountSink counter(false, false);
    // Without matches: cheap, and ranks references well enough.
    // G tables by context, the others single (spec §11: on the sets, 0.1%
    // smaller than no contexts; all contexts rank noise images as deltas).
    run_ops(BandInput{pixels, stride, ref, ref_stride, width, rows, false, true}, channels, step, nullptr, false,
            counter);
    uint64_t bits = counter.extra_bits, table_bits = 0;
    for (unsigned t = 0; t < kTableCount; ++t) {
        const unsigned n = alphabet_size(t, ref != nullptr);
        const std::vector<uint8_t> len = build_code_lengths(counter.counts[t], n, kMaxCodeLength);
        for (unsigned s = 0; s < n; ++s) {
            bits += uint64_t(counter.counts[t][s]) * len[s];
            // A rough price for the table: without it, many small context
            // tables fitted to few pixels make small bands look cheap.
            if (len[s]) table_bits += 4;
        }
    }
    return bits * step + table_bits;
}

uint64_t QohiBandEncoder::coded_size() const { return (plan_->bits + 7) / 8; }

void QohiBandEncoder::write(std::vector<uint8_t>& out) const {
    const Plan& p = *plan_;
    BitWriter writer(out);
    writer.reserve(coded_size());
    for (uint64_t bit = 0; bit < p.table_bit_count; bit += 8) {
        const unsigned n = static_cast<unsigned>(std::min<uint64_t>(8, p.table_bit_count - bit));
        writer.put(p.table_bits[bit / 8] & ((1u << n) - 1), n);
    }
    EmitSink sink{writer, p.table_for, true};
    sink.replay(p.ops.get(), p.op_count);
    writer.finish();
}

Status decode_qohi_band(const uint8_t* data, size_t size, uint32_t width, uint64_t pixel_count, unsigned channels,
                        uint8_t* out, const uint8_t* ref) {
    if (channels == 4)
        return ref ? decode_band<4, true>(data, size, width, pixel_count, out, ref)
                   : decode_band<4, false>(data, size, width, pixel_count, out, nullptr);
    return ref ? decode_band<3, true>(data, size, width, pixel_count, out, ref)
               : decode_band<3, false>(data, size, width, pixel_count, out, nullptr);
}

}  // namespace qohi
