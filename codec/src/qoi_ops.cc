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
constexpr unsigned kOpAlphabet = kOpIndexBase + kIndexSize;
constexpr unsigned kByteAlphabet = 256;
constexpr uint32_t kStartPixel = 0xFF000000u;  // opaque black, as in QOI

enum Table { kTableOp, kTableG, kTableR, kTableB, kTableA, kTableCount };
constexpr unsigned kAlphabetSize[kTableCount] = {kOpAlphabet, kByteAlphabet, kByteAlphabet, kByteAlphabet,
                                                 kByteAlphabet};

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
inline RunCode run_code(uint64_t length) {
    const uint32_t n = static_cast<uint32_t>(length - 1);
    if (n < kRunDirect) return {kOpRunBase + n, 0, 0};
    const unsigned e = 32u - static_cast<unsigned>(__builtin_clz(n));
    return {kOpRunBase + kRunDirect + (e - kRunDirectBits - 1), e - 1, n - (uint32_t(1) << (e - 1))};
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

// Walks the pixels and reports QOI ops to a sink (a counter or a bit emitter),
// so planning and writing share one definition of the op choice.
// `row_step` > 1 visits only every row_step-th row (for cost estimates).
template <unsigned C, class Sink>
void generate_ops(const uint8_t* pixels, size_t stride, uint32_t width, uint32_t rows, uint32_t row_step,
                  const uint8_t* const* cost, Sink& sink) {
    uint32_t index[kIndexSize] = {};
    uint32_t prev = kStartPixel;
    uint64_t run = 0;
    for (uint32_t y = 0; y < rows; y += row_step) {
        const uint8_t* p = pixels + size_t(y) * stride;
        for (uint32_t x = 0; x < width; ++x, p += C) {
            const uint32_t px = load_pixel<C>(p);
            if (px == prev) {
                ++run;
                continue;
            }
            if (run) {
                sink.run(run_code(run));
                run = 0;
            }
            const unsigned h = index_hash(px);
            const uint8_t dg = uint8_t((px >> 8) - (prev >> 8));
            const uint8_t dr = uint8_t(uint8_t(px - prev) - dg);
            const uint8_t db = uint8_t(uint8_t((px >> 16) - (prev >> 16)) - dg);
            bool use_index = index[h] == px;
            if (use_index && cost) {
                const unsigned delta_bits = (px >> 24) == (prev >> 24)
                    ? cost[kTableOp][kOpDelta]
                    : cost[kTableOp][kOpDeltaAlpha] + cost[kTableA][uint8_t((px >> 24) - (prev >> 24))];
                use_index = cost[kTableOp][kOpIndexBase + h] <=
                            delta_bits + cost[kTableG][dg] + cost[kTableR][dr] + cost[kTableB][db];
            }
            if (use_index) {
                sink.op(kOpIndexBase + h);
            } else {
                index[h] = px;
                if ((px >> 24) == (prev >> 24)) {
                    sink.op(kOpDelta);
                } else {
                    sink.op(kOpDeltaAlpha);
                    sink.value(kTableA, uint8_t((px >> 24) - (prev >> 24)));
                }
                sink.value(kTableG, dg);
                sink.value(kTableR, dr);
                sink.value(kTableB, db);
            }
            prev = px;
        }
    }
    if (run) sink.run(run_code(run));
}

struct CountSink {
    uint32_t op_counts[kOpAlphabet] = {};
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

template <unsigned C>
Status decode_band_bits(BitReader& in, uint64_t pixel_count, uint8_t* out) {
    DecodeTable tables[kTableCount];
    for (unsigned t = 0; t < kTableCount; ++t) QOHI_RETURN_IF_ERROR(read_code_table(in, kAlphabetSize[t], tables[t]));
    const DecodeTable& op = tables[kTableOp];
    if (op.empty()) return corrupt("op code table is empty");
    const bool delta = op.has_symbol(kOpDelta) || op.has_symbol(kOpDeltaAlpha);
    if (delta && (tables[kTableG].empty() || tables[kTableR].empty() || tables[kTableB].empty()))
        return corrupt("difference ops without G/R/B code tables");
    if (op.has_symbol(kOpDeltaAlpha)) {
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
        if (s >= kOpIndexBase) {
            px = index[s - kOpIndexBase];
            // RGB frames are opaque: an entry still holding its initial
            // (0,0,0,0) gives opaque black (never produced by an encoder).
            if constexpr (C == 3) px |= kStartPixel;
        } else if (s >= kOpRunBase) {
            const unsigned cls = s - kOpRunBase;
            uint64_t n = cls;
            if (cls >= kRunDirect) {
                const unsigned e = cls - kRunDirect + kRunDirectBits + 1;
                n = (uint64_t(1) << (e - 1)) + in.take(e - 1);
            }
            if (n >= uint64_t(end - o) / C) return corrupt("run goes past the end of the band");
            for (uint64_t k = 0; k <= n; ++k, o += C) store_pixel<C>(o, prev);
            continue;
        } else {
            uint32_t a = prev >> 24;
            if (s == kOpDeltaAlpha) {
                a = (a + tables[kTableA].decode(in)) & 0xFF;
                in.refill();
            }
            const uint32_t dg = tables[kTableG].decode(in);
            const uint32_t dr = tables[kTableR].decode(in) + dg;
            const uint32_t db = tables[kTableB].decode(in) + dg;
            px = ((prev + dr) & 0xFF) | ((prev + (dg << 8)) & 0xFF00) | ((prev + (db << 16)) & 0xFF0000) | a << 24;
        }
        index[index_hash(px)] = px;
        store_pixel<C>(o, px);
        o += C;
        prev = px;
    }
    if (!in.finish_ok()) return corrupt("unused data after the last pixel of a band");
    return ok_status();
}

template <unsigned C>
Status decode_band(const uint8_t* data, size_t size, uint64_t pixel_count, uint8_t* out) {
    BitReader in(data, size);
    Status st = decode_band_bits<C>(in, pixel_count, out);
    // The band's record is complete (its CRC matched), so running out of
    // bits is corruption; it is reported as such whatever check noticed it.
    if (!st.ok() && in.overran()) return corrupt("band data ends before its last pixel");
    return st;
}

}  // namespace

struct QohiBandEncoder::Plan {
    const uint8_t* pixels;
    size_t stride;
    uint32_t width, rows;
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

    template <class Sink>
    void run(uint32_t row_step, const uint8_t* const* costs, Sink& sink) const {
        if (channels == 4)
            generate_ops<4>(pixels, stride, width, rows, row_step, costs, sink);
        else
            generate_ops<3>(pixels, stride, width, rows, row_step, costs, sink);
    }
};

QohiBandEncoder::QohiBandEncoder(const uint8_t* pixels, size_t stride, uint32_t width, uint32_t rows,
                                 unsigned channels)
    : plan_(new Plan{pixels, stride, width, rows, channels, {}, {}, {}, {}, {}, 0, 0}) {
    Plan& p = *plan_;
    {
        // Every fourth row is enough for the costs and keeps this pass cheap.
        CountSink greedy;
        p.run(rows >= 16 ? 4 : 1, nullptr, greedy);
        for (unsigned t = 0; t < kTableCount; ++t) {
            const std::vector<uint8_t> len = build_code_lengths(greedy.counts[t], kAlphabetSize[t], kMaxCodeLength);
            p.cost[t].resize(kAlphabetSize[t]);
            // A symbol the sample never saw is assumed expensive.
            for (unsigned s = 0; s < kAlphabetSize[t]; ++s) p.cost[t][s] = len[s] ? len[s] : kMaxCodeLength + 4;
            p.cost_ptr[t] = p.cost[t].data();
        }
    }
    CountSink counter;
    p.run(1, p.cost_ptr, counter);

    BitWriter header(p.table_bits);
    uint64_t bits = counter.extra_bits;
    for (unsigned t = 0; t < kTableCount; ++t) {
        p.lengths[t] = build_code_lengths(counter.counts[t], kAlphabetSize[t], kMaxCodeLength);
        p.tables[t] = make_encode_table(p.lengths[t]);
        write_code_table(header, p.lengths[t]);
        bits += p.tables[t].cost(counter.counts[t]);
    }
    p.table_bit_count = header.bits_written();
    header.finish();
    p.bits = bits + p.table_bit_count;
}

QohiBandEncoder::~QohiBandEncoder() = default;

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

Status decode_qohi_band(const uint8_t* data, size_t size, uint64_t pixel_count, unsigned channels, uint8_t* out) {
    return channels == 4 ? decode_band<4>(data, size, pixel_count, out) : decode_band<3>(data, size, pixel_count, out);
}

}  // namespace qohi
