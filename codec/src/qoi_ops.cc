#include "qoi_ops.h"

#include <algorithm>
#include <cstring>

#include "bit_io.h"
#include "huffman.h"

namespace qohi {
namespace {

// Op alphabet (spec §5.4). Pixels are held as R | G<<8 | B<<16 | A<<24.
constexpr unsigned kOpDelta = 0;       // payload: dG, dR-dG, dB-dG (tables G, R, B)
constexpr unsigned kOpDeltaAlpha = 1;  // payload: dA (table A), then as kOpDelta
constexpr unsigned kOpRunBase = 2;     // run length classes, see run_class()
constexpr unsigned kRunDirectBits = 4;  // runs of 1..2^k pixels have their own symbol
constexpr unsigned kRunDirect = 1u << kRunDirectBits;
constexpr unsigned kRunClasses = kRunDirect + 29 - kRunDirectBits;
constexpr unsigned kOpIndexBase = kOpRunBase + kRunClasses;
constexpr unsigned kIndexSize = 256;
constexpr unsigned kOpAlphabet = kOpIndexBase + kIndexSize;  // intra bands
// Delta bands (a reference frame is given) add ops relative to the reference
// pixel at the same position (spec §5.11).
constexpr unsigned kOpRefRunBase = kOpAlphabet;  // copy a run of pixels from the reference
constexpr unsigned kOpRefDelta = kOpRefRunBase + kRunClasses;  // difference from the reference pixel
constexpr unsigned kOpRefDeltaAlpha = kOpRefDelta + 1;
constexpr unsigned kOpAlphabetDelta = kOpRefDeltaAlpha + 1;
constexpr unsigned kByteAlphabet = 256;
constexpr uint32_t kStartPixel = 0xFF000000u;  // opaque black, as in QOI

enum Table { kTableOp, kTableG, kTableR, kTableB, kTableA, kTableCount };
inline unsigned alphabet_size(unsigned table, bool delta) {
    return table != kTableOp ? kByteAlphabet : delta ? kOpAlphabetDelta : kOpAlphabet;
}

inline unsigned index_hash(uint32_t px) {
    const uint32_t r = px & 0xFF, g = (px >> 8) & 0xFF, b = (px >> 16) & 0xFF, a = px >> 24;
    return (r * 3 + g * 5 + b * 7 + a * 11) & (kIndexSize - 1);
}

// Run of L pixels, n = L - 1: classes 0..15 are n itself; for n >= 16 with e
// significant bits the class is 16 + (e - 5) and the low e - 1 bits of n
// follow as extra bits. Bands hold at most 2^29 pixels, so e <= 29.
struct RunCode {
    unsigned symbol;
    unsigned extra_bits;
    uint32_t extra;
};
inline RunCode run_code(uint64_t length, unsigned base = kOpRunBase) {
    const uint32_t n = static_cast<uint32_t>(length - 1);
    if (n < kRunDirect) return {base + n, 0, 0};
    const unsigned e = 32u - static_cast<unsigned>(__builtin_clz(n));
    return {base + kRunDirect + (e - kRunDirectBits - 1), e - 1, n - (uint32_t(1) << (e - 1))};
}

// Run length minus one for run class `cls` (0..kRunClasses-1), reading the
// class's extra bits.
inline uint64_t read_run(unsigned cls, BitReader& in) {
    if (cls < kRunDirect) return cls;
    const unsigned e = cls - kRunDirect + kRunDirectBits + 1;
    return (uint64_t(1) << (e - 1)) + in.take(e - 1);
}

// Per-component differences of two pixels, as coded: dG, dR - dG, dB - dG, dA.
struct Difference {
    uint8_t g, r, b, a;
};
inline Difference difference(uint32_t px, uint32_t from) {
    const uint8_t dg = uint8_t((px >> 8) - (from >> 8));
    return {dg, uint8_t(uint8_t(px - from) - dg), uint8_t(uint8_t((px >> 16) - (from >> 16)) - dg),
            uint8_t((px >> 24) - (from >> 24))};
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

template <unsigned C>
inline uint32_t load_pixel(const uint8_t* p) {
    if constexpr (C == 4) {
        return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
    } else {
        return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | kStartPixel;
    }
}

template <unsigned C>
inline void store_pixel(uint8_t* p, uint32_t px) {
    p[0] = uint8_t(px);
    p[1] = uint8_t(px >> 8);
    p[2] = uint8_t(px >> 16);
    if constexpr (C == 4) p[3] = uint8_t(px >> 24);
}

// The pixels of one band, and for a delta band the reference frame's pixels
// at the same positions.
struct BandInput {
    const uint8_t* pixels;
    size_t stride;
    const uint8_t* ref;  // nullptr for an intra band
    size_t ref_stride;
    uint32_t width, rows;
};

// Walks the pixels and reports QOI ops to a sink (a counter or a bit emitter),
// so planning and writing share one definition of the op choice. With
// `cost` (bits per symbol and table), a pixel that several ops could code
// takes the cheapest; without, a greedy rule.
template <unsigned C, bool Delta, class Sink>
void generate_ops(const BandInput& band, uint32_t row_step, const uint8_t* const* cost, Sink& sink) {
    uint32_t index[kIndexSize] = {};
    uint32_t prev = kStartPixel;
    uint64_t run = 0, ref_run = 0;
    for (uint32_t y = 0; y < band.rows; y += row_step) {
        const uint8_t* p = band.pixels + size_t(y) * band.stride;
        const uint8_t* r = Delta ? band.ref + size_t(y) * band.ref_stride : nullptr;
        for (uint32_t x = 0; x < band.width; ++x, p += C) {
            const uint32_t px = load_pixel<C>(p);
            uint32_t rp = 0;
            if constexpr (Delta) {
                rp = load_pixel<C>(r);
                r += C;
            }
            if (run) {
                if (px == prev) {
                    ++run;
                    continue;
                }
                sink.run(run_code(run));
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

            const unsigned h = index_hash(px);
            const Difference d = difference(px, prev);
            const bool same_alpha = d.a == 0;
            enum { kIndex, kDiff, kRefDiff } choice = index[h] == px ? kIndex : kDiff;
            Difference rd{};
            if constexpr (Delta) rd = difference(px, rp);
            if (cost) {
                auto diff_bits = [&](const Difference& v, unsigned op, unsigned op_alpha) -> unsigned {
                    return (v.a == 0 ? cost[kTableOp][op] : cost[kTableOp][op_alpha] + cost[kTableA][v.a]) +
                           cost[kTableG][v.g] + cost[kTableR][v.r] + cost[kTableB][v.b];
                };
                unsigned best = diff_bits(d, kOpDelta, kOpDeltaAlpha);
                if (choice == kIndex && cost[kTableOp][kOpIndexBase + h] <= best) {
                    best = cost[kTableOp][kOpIndexBase + h];
                } else {
                    choice = kDiff;
                }
                if (Delta && diff_bits(rd, kOpRefDelta, kOpRefDeltaAlpha) < best) choice = kRefDiff;
            } else if (Delta && choice == kDiff && magnitude(rd) < magnitude(d)) {
                choice = kRefDiff;
            }

            if (choice == kIndex) {
                sink.op(kOpIndexBase + h);
            } else {
                index[h] = px;
                const Difference& v = choice == kDiff ? d : rd;
                if (choice == kDiff) {
                    sink.op(same_alpha ? kOpDelta : kOpDeltaAlpha);
                } else {
                    sink.op(v.a == 0 ? kOpRefDelta : kOpRefDeltaAlpha);
                }
                if (v.a != 0) sink.value(kTableA, v.a);
                sink.value(kTableG, v.g);
                sink.value(kTableR, v.r);
                sink.value(kTableB, v.b);
            }
            prev = px;
        }
    }
    if (run) sink.run(run_code(run));
    if (Delta && ref_run) sink.run(run_code(ref_run, kOpRefRunBase));
}

struct CountSink {
    uint32_t op_counts[kOpAlphabetDelta] = {};
    uint32_t byte_counts[kTableCount - 1][kByteAlphabet] = {};
    uint32_t* counts[kTableCount] = {op_counts, byte_counts[0], byte_counts[1], byte_counts[2], byte_counts[3]};
    uint64_t extra_bits = 0;
    void op(unsigned s) { counts[kTableOp][s]++; }
    void value(unsigned table, uint8_t v) { counts[table][v]++; }
    void run(const RunCode& rc) {
        counts[kTableOp][rc.symbol]++;
        extra_bits += rc.extra_bits;
    }
};

struct EmitSink {
    BitWriter& out;
    const EncodeTable* tables;
    void op(unsigned s) { out.put(tables[kTableOp].code[s], tables[kTableOp].length[s]); }
    void value(unsigned table, uint8_t v) { out.put(tables[table].code[v], tables[table].length[v]); }
    void run(const RunCode& rc) {
        op(rc.symbol);
        if (rc.extra_bits) out.put(rc.extra, rc.extra_bits);
    }
};

template <unsigned C, bool Delta>
Status decode_band_bits(BitReader& in, uint64_t pixel_count, uint8_t* out, const uint8_t* ref) {
    DecodeTable tables[kTableCount];
    for (unsigned t = 0; t < kTableCount; ++t)
        QOHI_RETURN_IF_ERROR(read_code_table(in, alphabet_size(t, Delta), tables[t]));
    const DecodeTable& op = tables[kTableOp];
    if (op.empty()) return corrupt("op code table is empty");
    const bool alpha = op.has_symbol(kOpDeltaAlpha) || (Delta && op.has_symbol(kOpRefDeltaAlpha));
    const bool diff = alpha || op.has_symbol(kOpDelta) || (Delta && op.has_symbol(kOpRefDelta));
    if (diff && (tables[kTableG].empty() || tables[kTableR].empty() || tables[kTableB].empty()))
        return corrupt("difference ops without G/R/B code tables");
    if (alpha) {
        if (C != 4) return corrupt("alpha op in a frame without alpha");
        if (tables[kTableA].empty()) return corrupt("alpha op without an A code table");
    }

    uint32_t index[kIndexSize] = {};
    uint32_t prev = kStartPixel;
    uint8_t* o = out;
    uint8_t* const end = out + pixel_count * C;
    while (o < end) {
        in.refill();
        const unsigned s = op.decode(in);
        uint32_t px;
        if (s >= kOpIndexBase && (!Delta || s < kOpAlphabet)) {
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
            uint32_t a = prev >> 24;
            if (s == kOpDeltaAlpha) {
                a = (a + tables[kTableA].decode(in)) & 0xFF;
                in.refill();
            }
            const uint32_t dg = tables[kTableG].decode(in);
            const uint32_t dr = tables[kTableR].decode(in);
            px = apply_difference(prev, dg, dr, tables[kTableB].decode(in), a);
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
            uint32_t a = rp >> 24;
            if (s == kOpRefDeltaAlpha) {
                a = (a + tables[kTableA].decode(in)) & 0xFF;
                in.refill();
            }
            const uint32_t dg = tables[kTableG].decode(in);
            const uint32_t dr = tables[kTableR].decode(in);
            px = apply_difference(rp, dg, dr, tables[kTableB].decode(in), a);
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
Status decode_band(const uint8_t* data, size_t size, uint64_t pixel_count, uint8_t* out, const uint8_t* ref) {
    BitReader in(data, size);
    Status st = decode_band_bits<C, Delta>(in, pixel_count, out, ref);
    // The band's record is complete (its CRC matched), so running out of
    // bits is corruption; it is reported as such whatever check noticed it.
    if (!st.ok() && in.overran()) return corrupt("band data ends before its last pixel");
    return st;
}

}  // namespace

// generate_ops() for the band's channel count and kind.
template <class Sink>
void run_ops(const BandInput& band, unsigned channels, uint32_t row_step, const uint8_t* const* costs, Sink& sink) {
    const bool delta = band.ref != nullptr;
    if (channels == 4)
        delta ? generate_ops<4, true>(band, row_step, costs, sink) : generate_ops<4, false>(band, row_step, costs, sink);
    else
        delta ? generate_ops<3, true>(band, row_step, costs, sink) : generate_ops<3, false>(band, row_step, costs, sink);
}

struct QohiBandEncoder::Plan {
    BandInput band;
    unsigned channels;
    // Bit costs from a first, greedy pass; the op choice of the final pass
    // (an index hit or the difference, whichever is cheaper) is made with them.
    std::vector<uint8_t> cost[kTableCount];
    const uint8_t* cost_ptr[kTableCount];
    std::vector<uint8_t> lengths[kTableCount];
    EncodeTable tables[kTableCount];
    std::vector<uint8_t> table_bits;  // the serialised tables ...
    uint64_t table_bit_count = 0;     // ... and their length in bits
    uint64_t bits = 0;

    bool delta() const { return band.ref != nullptr; }
    template <class Sink>
    void run(uint32_t row_step, const uint8_t* const* costs, Sink& sink) const {
        run_ops(band, channels, row_step, costs, sink);
    }
};

QohiBandEncoder::QohiBandEncoder(const uint8_t* pixels, size_t stride, const uint8_t* ref, size_t ref_stride,
                                 uint32_t width, uint32_t rows, unsigned channels)
    : plan_(new Plan{{pixels, stride, ref, ref_stride, width, rows}, channels, {}, {}, {}, {}, {}, 0, 0}) {
    Plan& p = *plan_;
    {
        // Every fourth row is enough for the costs and keeps this pass cheap.
        CountSink greedy;
        p.run(rows >= 16 ? 4 : 1, nullptr, greedy);
        for (unsigned t = 0; t < kTableCount; ++t) {
            const unsigned n = alphabet_size(t, p.delta());
            const std::vector<uint8_t> len = build_code_lengths(greedy.counts[t], n, kMaxCodeLength);
            p.cost[t].resize(n);
            // A symbol the sample never saw is assumed expensive.
            for (unsigned s = 0; s < n; ++s) p.cost[t][s] = len[s] ? len[s] : kMaxCodeLength + 4;
            p.cost_ptr[t] = p.cost[t].data();
        }
    }
    CountSink counter;
    p.run(1, p.cost_ptr, counter);

    BitWriter header(p.table_bits);
    uint64_t bits = counter.extra_bits;
    for (unsigned t = 0; t < kTableCount; ++t) {
        p.lengths[t] = build_code_lengths(counter.counts[t], alphabet_size(t, p.delta()), kMaxCodeLength);
        p.tables[t] = make_encode_table(p.lengths[t]);
        write_code_table(header, p.lengths[t]);
        bits += p.tables[t].cost(counter.counts[t]);
    }
    p.table_bit_count = header.bits_written();
    header.finish();
    p.bits = bits + p.table_bit_count;
}

QohiBandEncoder::~QohiBandEncoder() = default;

uint64_t estimate_band_bits(const uint8_t* pixels, size_t stride, const uint8_t* ref, size_t ref_stride,
                            uint32_t width, uint32_t rows, unsigned channels) {
    const uint32_t step = rows >= 16 ? 4 : 1;
    CountSink counter;
    run_ops(BandInput{pixels, stride, ref, ref_stride, width, rows}, channels, step, nullptr, counter);
    uint64_t bits = counter.extra_bits;
    for (unsigned t = 0; t < kTableCount; ++t) {
        const unsigned n = alphabet_size(t, ref != nullptr);
        const std::vector<uint8_t> len = build_code_lengths(counter.counts[t], n, kMaxCodeLength);
        for (unsigned s = 0; s < n; ++s) bits += uint64_t(counter.counts[t][s]) * len[s];
    }
    return bits * step;
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
    EmitSink sink{writer, p.tables};
    p.run(1, p.cost_ptr, sink);
    writer.finish();
}

Status decode_qohi_band(const uint8_t* data, size_t size, uint64_t pixel_count, unsigned channels, uint8_t* out,
                        const uint8_t* ref) {
    if (channels == 4)
        return ref ? decode_band<4, true>(data, size, pixel_count, out, ref)
                   : decode_band<4, false>(data, size, pixel_count, out, nullptr);
    return ref ? decode_band<3, true>(data, size, pixel_count, out, ref)
               : decode_band<3, false>(data, size, pixel_count, out, nullptr);
}

}  // namespace qohi
