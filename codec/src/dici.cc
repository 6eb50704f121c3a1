#include "dici.h"

#include <algorithm>
#include <cstring>

#include "bit_io.h"
#include "huffman.h"
#include "length_class.h"
#include "pixel.h"

namespace qohi {
namespace {

// Op alphabet (spec §4.4): a rank in the palette, a run of the previous
// pixel, or a copy of the pixels above; each a length class.
constexpr unsigned kOpRank = 0;
constexpr unsigned kOpRun = kRunClasses;
constexpr unsigned kOpAbove = 2 * kRunClasses;
constexpr unsigned kOpAlphabet = 3 * kRunClasses;
// The op table is chosen by the kind of the previous op (rank, run, above;
// rank at the band's start): the op's symbol divided by kRunClasses.
constexpr unsigned kContexts = 3;
constexpr unsigned kPaletteSizeBits = 5;
// A palette has at most a band's pixels, 2^29: N - 1 has at most 29 bits.
constexpr unsigned kMaxPaletteSizeClass = 29;

// The colours of a band and how often each occurs: open addressing, grown
// at half load; an empty slot has count 0.
class ColourCounts {
public:
    struct Slot {
        uint32_t colour = 0;
        uint32_t count = 0;
        uint32_t id = 0;  // order of first appearance
        uint32_t rank = 0;
    };
    static constexpr uint32_t kTooMany = ~uint32_t(0);

    explicit ColourCounts(uint32_t max_colours) : max_(max_colours) { resize(10); }
    uint32_t max() const { return max_; }

    // Adds `n` pixels of `colour`; returns its id, or kTooMany if it is one
    // colour too many.
    uint32_t add(uint32_t colour, uint32_t n) {
        Slot* s = &find(colour);
        if (s->count == 0) {
            if (size_ == max_) return kTooMany;
            s->colour = colour;
            s->id = uint32_t(size_++);
        }
        s->count += n;
        const uint32_t id = s->id;
        if (size_ * 2 > slots_.size()) resize(bits_ + 1);
        return id;
    }
    Slot& find(uint32_t colour) {
        size_t i = (colour * 0x9E3779B1u) >> (32 - bits_);
        while (slots_[i].count != 0 && slots_[i].colour != colour) i = (i + 1) & (slots_.size() - 1);
        return slots_[i];
    }
    // The colours by decreasing count, equal counts by increasing value;
    // each slot learns its rank, and rank_of_id() maps ids to ranks.
    std::vector<uint32_t> sorted_palette() {
        std::vector<Slot> used;
        used.reserve(size_);
        for (const Slot& s : slots_)
            if (s.count != 0) used.push_back(s);
        std::sort(used.begin(), used.end(), [](const Slot& a, const Slot& b) {
            return a.count != b.count ? a.count > b.count : a.colour < b.colour;
        });
        std::vector<uint32_t> palette(used.size());
        rank_of_id_.assign(used.size(), 0);
        for (size_t i = 0; i < used.size(); ++i) {
            palette[i] = used[i].colour;
            find(used[i].colour).rank = uint32_t(i);
            rank_of_id_[used[i].id] = uint32_t(i);
        }
        return palette;
    }
    const std::vector<uint32_t>& rank_of_id() const { return rank_of_id_; }

private:
    void resize(unsigned bits) {
        std::vector<Slot> old;
        old.swap(slots_);
        bits_ = bits;
        slots_.assign(size_t(1) << bits, Slot{});
        for (const Slot& s : old)
            if (s.count != 0) find(s.colour) = s;
    }

    std::vector<Slot> slots_;
    std::vector<uint32_t> rank_of_id_;
    unsigned bits_ = 0;
    size_t size_ = 0;
    uint32_t max_;
};

struct OpCounts {
    uint32_t counts[kContexts][kOpAlphabet] = {};
    uint64_t extra_bits = 0;
    RunCode* record = nullptr;  // where the next op goes, if anywhere
    void op(unsigned ctx, const RunCode& c) {
        ++counts[ctx][c.symbol];
        extra_bits += c.extra_bits;
        if (record) *record++ = c;
    }
};

}  // namespace

struct DiciBandEncoder::Plan {
    Plan(const uint8_t* px, size_t s, uint32_t w, uint32_t r, unsigned c, uint32_t max_colours)
        : pixels(px), stride(s), width(w), rows(r), channels(c), colours(max_colours) {}
    const uint8_t* pixels;
    size_t stride;
    uint32_t width, rows;
    unsigned channels;
    ColourCounts colours;
    std::vector<uint32_t> palette;
    // The band as colour ids: the op choice runs over these, not over the
    // pixels (twice as fast).
    std::unique_ptr<uint32_t[]> ids;
    std::unique_ptr<RunCode[]> ops_chosen;  // by plan(), for write()
    size_t op_count = 0;
    std::vector<uint8_t> lengths[kContexts];
    EncodeTable tables[kContexts];
    bool usable = false;
    uint64_t estimated_bits = 0;
    uint64_t bits = 0;  // exact, once planned

    // Row k of a sample of one row in `step`: k * step + k % step, so that
    // patterns repeating every few rows (cells two rows tall, one row a copy
    // of the other) are not always sampled in the same phase. With step 1,
    // every row.
    static uint32_t sampled_row(uint32_t k, uint32_t step) { return k * step + k % step; }

    // Counts the colours of the sampled rows (sampled_row) into `counts`,
    // storing their ids in `out` (if not null) in raster order; false if
    // too many.
    template <unsigned C>
    bool count_colours(ColourCounts& counts, uint32_t step, uint32_t* out) const {
        uint32_t run_colour = load_pixel<C>(pixels);
        uint32_t run = 0, run_start = 0, written = 0;
        const auto flush = [&] {
            const uint32_t id = counts.add(run_colour, run);
            if (id == ColourCounts::kTooMany) return false;
            if (out)
                for (; written < run_start + run; ++written) out[written] = id;
            return true;
        };
        for (uint32_t k = 0, y = 0; y < rows; y = sampled_row(++k, step)) {
            const uint8_t* row = pixels + size_t(y) * stride;
            for (uint32_t x = 0; x < width; ++x) {
                const uint32_t c = load_pixel<C>(row + size_t(x) * C);
                if (c == run_colour) {
                    ++run;
                    continue;
                }
                if (!flush()) return false;
                run_start += run;
                run_colour = c;
                run = 1;
            }
        }
        return flush();
    }

    // Colours to ranks, in place. A colour the counts do not know (in the
    // row above a sampled row) becomes kUnknownRank, equal to no rank.
    static constexpr uint32_t kUnknownRank = ~uint32_t(0);
    static void to_ranks(ColourCounts& counts, const std::vector<uint32_t>& sorted, uint32_t* v, size_t n) {
        uint32_t last_colour = sorted[0], last_rank = 0;
        for (uint32_t* end = v + n; v != end; ++v) {
            if (*v != last_colour) {
                last_colour = *v;
                const ColourCounts::Slot& slot = counts.find(*v);
                last_rank = slot.count != 0 ? slot.rank : kUnknownRank;
            }
            *v = last_rank;
        }
    }

    // The op choice (spec §10) over `keys` of rows [y_begin, y_end) of a
    // band `width` wide, where equal keys are equal colours, `rank(key)` is
    // the colour's rank and `first` is palette[0]'s key: at each position
    // the longer of the run of the previous pixel and the copy from above
    // (the run on a tie), else the pixel's rank. Nothing reaches past y_end.
    template <class Sink, class Rank>
    void ops(const uint32_t* keys, uint32_t first, Rank rank, uint32_t y_begin, uint32_t y_end, Sink& sink) const {
        const uint32_t* r = keys;
        const uint64_t end = uint64_t(width) * y_end;
        uint64_t pos = uint64_t(width) * y_begin;
        uint32_t prev = pos == 0 ? first : r[pos - 1];  // the band starts after palette[0]
        unsigned ctx = 0;
        while (pos < end) {
            // Both lengths in one scan: in flat areas they are long together.
            uint64_t run = 0, above = 0;
            if (pos >= width) {
                const uint32_t* up = r - width;
                while (pos + above < end && r[pos + above] == up[pos + above]) {
                    run += run == above && r[pos + above] == prev;
                    ++above;
                }
            }
            if (run == above)
                while (pos + run < end && r[pos + run] == prev) ++run;
            RunCode code;
            uint64_t length = 1;
            if (run > 0 && run >= above) {
                code = run_code(length = run, kOpRun);
            } else if (above > 0) {
                code = run_code(length = above, kOpAbove);
            } else {
                code = run_code(uint64_t(rank(r[pos])) + 1, kOpRank);
            }
            sink.op(ctx, code);
            ctx = code.symbol / kRunClasses;
            pos += length;
            prev = r[pos - 1];
        }
    }

    // An estimate from one row in eight (in short bands four, or every
    // row), each coded as if on its own, with the colours of those rows
    // alone.
    template <unsigned C>
    void estimate() {
        const uint32_t step = rows >= 64 ? 8 : rows >= 16 ? 4 : 1;
        ColourCounts sample(colours.max());
        if (!count_colours<C>(sample, step, nullptr)) return;
        const std::vector<uint32_t> sorted = sample.sorted_palette();
        // Each sampled row with the row above it, as ranks.
        std::vector<uint32_t> window(size_t(width) * 2);
        OpCounts counts;
        uint32_t sampled = 0;
        for (uint32_t y = 0; y < rows; y = sampled_row(++sampled, step)) {
            const uint32_t first = y == 0 ? 0 : 1;  // window row of row y
            for (uint32_t w = 0; w <= first; ++w) {
                const uint8_t* row = pixels + size_t(y - first + w) * stride;
                for (uint32_t x = 0; x < width; ++x) window[size_t(w) * width + x] = load_pixel<C>(row + size_t(x) * C);
            }
            to_ranks(sample, sorted, window.data(), size_t(width) * (first + 1));
            ops(window.data(), 0, [](uint32_t rank) { return rank; }, first, first + 1, counts);
        }
        uint64_t sample_bits = counts.extra_bits;
        for (unsigned t = 0; t < kContexts; ++t) {
            const std::vector<uint8_t> len = build_code_lengths(counts.counts[t], kOpAlphabet, kMaxCodeLength);
            for (unsigned s = 0; s < kOpAlphabet; ++s) {
                sample_bits += uint64_t(counts.counts[t][s]) * len[s];
                estimated_bits += len[s] ? 4 : 0;  // a rough price for the table
            }
        }
        estimated_bits += sample_bits * rows / sampled + kPaletteSizeBits + uint64_t(sorted.size()) * C * 8;
        usable = true;
    }

    // The exact plan: all colours, ranks, the ops and code tables.
    template <unsigned C>
    void plan() {
        const size_t n = size_t(width) * rows;
        ids.reset(new uint32_t[n]);
        if (!count_colours<C>(colours, 1, ids.get())) {
            usable = false;
            return;
        }
        palette = colours.sorted_palette();
        // The op choice runs on the ids; only ranks written need the map.
        const uint32_t* rank_of_id = colours.rank_of_id().data();
        const uint32_t first_id = colours.find(palette[0]).id;
        // At most one op per pixel.
        ops_chosen.reset(new RunCode[n]);
        OpCounts counter;
        counter.record = ops_chosen.get();
        ops(ids.get(), first_id, [rank_of_id](uint32_t id) { return rank_of_id[id]; }, 0, rows, counter);
        op_count = size_t(counter.record - ops_chosen.get());
        ids.reset();
        bits = kPaletteSizeBits + palette_size_extra_bits() + uint64_t(palette.size()) * C * 8 + counter.extra_bits;
        std::vector<const std::vector<uint8_t>*> written;
        for (unsigned t = 0; t < kContexts; ++t) {
            lengths[t] = build_code_lengths(counter.counts[t], kOpAlphabet, kMaxCodeLength);
            tables[t] = make_encode_table(lengths[t]);
            bits += tables[t].cost(counter.counts[t]);
            written.push_back(&lengths[t]);
        }
        std::vector<uint8_t> scratch;
        BitWriter table_bits(scratch);
        write_code_tables(table_bits, written);
        bits += table_bits.bits_written();
    }

    unsigned palette_size_class() const {
        const uint64_t n = palette.size() - 1;
        return n == 0 ? 0 : 64u - unsigned(__builtin_clzll(n));
    }
    unsigned palette_size_extra_bits() const {
        const unsigned e = palette_size_class();
        return e > 1 ? e - 1 : 0;
    }

    void write(std::vector<uint8_t>& out) const {
        BitWriter w(out);
        w.reserve(size_t((bits + 7) / 8));
        const unsigned e = palette_size_class();
        w.put(e, kPaletteSizeBits);
        if (e > 1) w.put((palette.size() - 1) - (uint64_t(1) << (e - 1)), e - 1);
        const uint32_t mask = channels == 4 ? 0xFFFFFFFFu : 0xFFFFFFu;
        for (uint32_t colour : palette) w.put(colour & mask, 8 * channels);
        std::vector<const std::vector<uint8_t>*> written;
        for (const auto& l : lengths) written.push_back(&l);
        write_code_tables(w, written);
        unsigned ctx = 0;
        for (size_t i = 0; i < op_count; ++i) {
            const RunCode& c = ops_chosen[i];
            const EncodeTable& t = tables[ctx];
            w.put(t.code[c.symbol] | uint64_t(c.extra) << t.length[c.symbol], t.length[c.symbol] + c.extra_bits);
            ctx = c.symbol / kRunClasses;
        }
        w.finish();
    }
};

DiciBandEncoder::DiciBandEncoder(const uint8_t* pixels, size_t stride, uint32_t width, uint32_t rows,
                                 unsigned channels, uint32_t max_colours)
    : plan_(new Plan(pixels, stride, width, rows, channels, max_colours)) {
    if (channels == 4)
        plan_->estimate<4>();
    else
        plan_->estimate<3>();
}

DiciBandEncoder::~DiciBandEncoder() = default;

bool DiciBandEncoder::usable() const { return plan_->usable; }

uint64_t DiciBandEncoder::estimated_size() const { return (plan_->estimated_bits + 7) / 8; }

void DiciBandEncoder::plan() {
    if (plan_->channels == 4)
        plan_->plan<4>();
    else
        plan_->plan<3>();
}

uint64_t DiciBandEncoder::coded_size() const { return (plan_->bits + 7) / 8; }

void DiciBandEncoder::write(std::vector<uint8_t>& out) const { plan_->write(out); }

namespace {

template <unsigned C>
Status decode_dici_bits(BitReader& in, uint32_t width, uint64_t pixel_count, uint8_t* out) {
    const unsigned e = in.read(kPaletteSizeBits);
    if (e > kMaxPaletteSizeClass) return corrupt("DICI palette size class " + std::to_string(e) + " out of range");
    uint64_t colours = 1;
    if (e > 0) colours += (uint64_t(1) << (e - 1)) + (e > 1 ? in.read(e - 1) : 0);
    if (colours > pixel_count) return corrupt("DICI palette has more colours than its band has pixels");
    // Checked before the palette is allocated: a few hostile bytes cannot
    // ask for a large one.
    if (colours * C * 8 > in.bits_left()) return corrupt("DICI palette runs past the end of its band");
    std::vector<uint32_t> palette(colours);
    for (uint32_t& colour : palette) {
        in.refill();
        colour = in.take(8 * C);
    }
    std::unique_ptr<DecodeTable[]> tables(new DecodeTable[kContexts]);
    CodeTableReader reader;
    QOHI_RETURN_IF_ERROR(reader.start(in));
    for (unsigned t = 0; t < kContexts; ++t) QOHI_RETURN_IF_ERROR(reader.read(in, kOpAlphabet, tables[t]));

    uint32_t prev = palette[0];
    unsigned ctx = 0;
    uint8_t* o = out;
    uint8_t* const end = out + pixel_count * C;
    const size_t row_bytes = size_t(width) * C;
    while (o < end) {
        in.refill();
        const DecodeTable& table = tables[ctx];
        if (table.empty()) return corrupt("DICI op where its context's code table is empty");
        const unsigned s = table.decode(in);
        ctx = s / kRunClasses;
        const uint64_t n = read_run(s % kRunClasses, in);  // the value minus one
        if (ctx == 0) {
            if (n >= colours) return corrupt("DICI rank beyond the palette");
            prev = palette[n];
            store_pixel<C>(o, prev);
            o += C;
            continue;
        }
        if (n >= uint64_t(end - o) / C) return corrupt("DICI run or copy goes past the end of the band");
        size_t bytes = size_t(n + 1) * C;
        if (ctx == 1) {
            for (uint8_t* stop = o + bytes; o < stop; o += C) store_pixel<C>(o, prev);
            continue;
        }
        if (o - out < ptrdiff_t(row_bytes)) return corrupt("DICI copy from above in the band's first row");
        // Source and destination overlap when the copy is longer than a
        // row: copy at most a row at a time.
        while (bytes > 0) {
            const size_t chunk = std::min(bytes, row_bytes);
            std::memcpy(o, o - row_bytes, chunk);
            o += chunk;
            bytes -= chunk;
        }
        prev = load_pixel<C>(o - C);
    }
    if (!in.finish_ok()) return corrupt("unused data after the last pixel of a band");
    return ok_status();
}

}  // namespace

Status decode_dici_band(const uint8_t* data, size_t size, uint32_t width, uint64_t pixel_count, unsigned channels,
                        uint8_t* out) {
    BitReader in(data, size);
    Status st = channels == 4 ? decode_dici_bits<4>(in, width, pixel_count, out)
                              : decode_dici_bits<3>(in, width, pixel_count, out);
    // The band's record is complete (its CRC matched): running out of bits
    // is corruption, whichever check noticed it.
    if (!st.ok() && in.overran()) return corrupt("band data ends before its last pixel");
    return st;
}

}  // namespace qohi
