#include "vec_band.h"

#include <algorithm>
#include <string>

#include "huffman.h"

namespace vec {

std::vector<uint8_t> lengths_for(const std::vector<uint32_t>& counts, unsigned max) {
    return qohi::build_code_lengths(counts.data(), unsigned(counts.size()), max);
}

std::array<uint8_t, 16> clen_for(const std::vector<TableSpec>& tables, bool deep) {
    std::vector<uint32_t> counts(16, 0);
    for (const TableSpec& t : tables)
        for (const LenItem& it : t.items) counts[it.sym]++;
    if (deep) {
        // Every used item symbol starts at 7 bits; then, most frequent first
        // and never the rarest, codes are shortened while the Kraft sum
        // (in 1/128) stays at most 1, until it is exactly 1.
        std::vector<unsigned> used;
        for (unsigned s = 0; s < 16; ++s)
            if (counts[s]) used.push_back(s);
        check(used.size() >= 8, "a 7-bit code-length code needs 8 item symbols");
        std::stable_sort(used.begin(), used.end(), [&](unsigned a, unsigned b) { return counts[a] > counts[b]; });
        std::array<uint8_t, 16> clen{};
        unsigned kraft = 0;
        for (unsigned s : used) clen[s] = 7, kraft += 1;
        for (size_t k = 0; k + 1 < used.size(); ++k)
            for (uint8_t& l = clen[used[k]]; l > 1 && kraft + (128u >> l) <= 128; --l) kraft += 128u >> l;
        check(kraft == 128, "no complete 7-bit code-length code");
        return clen;
    }
    const std::vector<uint8_t> len = lengths_for(counts, 7);
    std::array<uint8_t, 16> clen{};
    for (unsigned s = 0; s < 16; ++s) clen[s] = len[s];
    return clen;
}

BandWriter::BandWriter(const Img& img, uint32_t y0, uint32_t rows, const Img* ref, Modes modes)
    : w_(img.w), channels_(img.c), n_(uint64_t(img.w) * rows), modes_(modes), column_(img.w, 0) {
    check(y0 + rows <= img.h && rows > 0, "band outside the image");
    src_.assign(img.px.begin() + long(size_t(y0) * img.w), img.px.begin() + long(size_t(y0 + rows) * img.w));
    if (ref) {
        check(ref->w == img.w && ref->h == img.h && ref->c == img.c, "reference of another size");
        ref_.assign(ref->px.begin() + long(size_t(y0) * img.w), ref->px.begin() + long(size_t(y0 + rows) * img.w));
    }
    index_.fill(Px{0, 0, 0, 0});
    prev_ = Px{0, 0, 0, 255};
    out_.reserve(size_t(n_));
}

unsigned BandWriter::groups(Family f) const {
    switch (f) {
        case kOp:
            return 1u << modes_.op;
        case kG:
            return 1u << modes_.g;
        case kR:
        case kB:
            return 1u << modes_.rb;
        default:
            return 1;
    }
}

unsigned BandWriter::group_of(Family f, unsigned context) const {
    const unsigned m = f == kOp ? modes_.op : f == kG ? modes_.g : modes_.rb;
    return context >> (2 - m);
}

void BandWriter::symbol(Family f, unsigned group, unsigned s) { events_.push_back({f, group, s, 0}); }

void BandWriter::op_symbol(unsigned s) {
    symbol(kOp, group_of(kOp, opctx_), s);
    opctx_ = op_context(s);
}

void BandWriter::expect(const Px& got, const std::string& op) const {
    const Px& want = src_[out_.size()];
    if (got != want) {
        die(op + " at position " + std::to_string(out_.size()) + " gives (" + std::to_string(got.r) + "," +
            std::to_string(got.g) + "," + std::to_string(got.b) + "," + std::to_string(got.a) + "), the source has (" +
            std::to_string(want.r) + "," + std::to_string(want.g) + "," + std::to_string(want.b) + "," +
            std::to_string(want.a) + ")");
    }
}

void BandWriter::produce(const Px& p, bool enters_index) {
    if (enters_index) index_[hash(p)] = p;
    out_.push_back(p);
    prev_ = p;
}

void BandWriter::difference(unsigned s, const Px& base, bool alpha) {
    check(pos() < n_, "op past the end of the band");
    const Px& want = src_[pos()];
    check(alpha || want.a == base.a, "difference without alpha cannot change alpha");
    check(!alpha || channels_ == 4, "alpha op in an RGB band");
    const uint64_t p = pos();
    const unsigned gctx = g_context(out_, p, w_, prev_);
    const unsigned dg = uint8_t(want.g - base.g);
    const unsigned drg = uint8_t((want.r - base.r) - dg);
    const unsigned dbg = uint8_t((want.b - base.b) - dg);
    op_symbol(s);
    if (alpha) symbol(kA, 0, uint8_t(want.a - base.a));
    symbol(kG, group_of(kG, gctx), dg);
    const unsigned k = rb_context(dg);
    symbol(kR, group_of(kR, k), drg);
    symbol(kB, group_of(kB, k), dbg);
    const Px got{uint8_t(base.r + dg + drg), uint8_t(base.g + dg), uint8_t(base.b + dg + dbg), alpha ? want.a : base.a};
    expect(got, "difference op " + std::to_string(s));
    produce(got, true);
}

void BandWriter::diff(bool alpha) { difference(alpha ? 1 : 0, prev_, alpha); }

void BandWriter::grad(bool alpha) {
    const Px pr = predict(out_, pos(), w_, prev_);
    difference(alpha ? 341 : 340, pr, alpha);
}

void BandWriter::refdiff(bool alpha) {
    check(is_delta() && pos() < n_, "reference difference outside a delta band");
    difference(alpha ? 384 : 383, ref_[pos()], alpha);
}

void BandWriter::run(uint64_t length) {
    check(length >= 1 && pos() + length <= n_, "run past the end of the band");
    const LengthClass c = length_class(length);
    op_symbol(2 + c.cls);
    length_bits(c);
    for (uint64_t k = 0; k < length; ++k) {
        expect(prev_, "run");
        out_.push_back(prev_);
    }
}

void BandWriter::refrun(uint64_t length) {
    check(is_delta() && length >= 1 && pos() + length <= n_, "bad reference run");
    const LengthClass c = length_class(length);
    op_symbol(342 + c.cls);
    length_bits(c);
    for (uint64_t k = 0; k < length; ++k) {
        expect(ref_[pos()], "reference run");
        out_.push_back(ref_[pos()]);
    }
    prev_ = out_.back();
}

void BandWriter::index() { index_entry(hash(src_[pos()])); }

void BandWriter::index_entry(unsigned entry) {
    check(pos() < n_ && entry < 256, "bad index op");
    Px got = index_[entry];
    if (channels_ == 3) got.a = 255;
    op_symbol(43 + entry);
    expect(got, "index op " + std::to_string(entry));
    produce(got, true);
}

void BandWriter::match(uint64_t length, uint64_t distance, Dist form) {
    const uint64_t p = pos();
    const uint64_t x = p % w_;
    check(length >= 1 && p + length <= n_, "match past the end of the band");
    const int64_t first = int64_t(p) - int64_t(distance);
    check(distance >= 1 && first >= -int64_t(ref_.size()), "match before the start of its data");
    if (form == Dist::kAbove) check(distance == w_, "DIST symbol 0 needs the distance width");
    if (form == Dist::kColumn) check(column_[x] != 0 && column_[x] == distance, "no such column distance");
    const LengthClass lc = length_class(length);
    op_symbol(299 + lc.cls);
    length_bits(lc);
    if (form == Dist::kAbove) {
        symbol(kDist, 0, 0);
    } else if (form == Dist::kColumn) {
        symbol(kDist, 0, 43);
    } else {
        const LengthClass dc = length_class(distance);
        check(dc.cls <= 41, "distance class over 41");
        symbol(kDist, 0, 1 + dc.cls);
        length_bits(dc);
    }
    for (uint64_t k = 0; k < length; ++k) {
        const int64_t q = first + int64_t(k);
        const Px got = q < 0 ? ref_[size_t(q + int64_t(n_))] : out_[size_t(q)];
        expect(got, "match");
        out_.push_back(got);
        column_[(p + k) % w_] = distance;
    }
    prev_ = out_.back();
}

void BandWriter::greedy(uint64_t end, const Greedy& how) {
    if (end > n_) end = n_;
    while (pos() < end) {
        const uint64_t p = pos();
        const Px& want = src_[p];
        uint64_t len = 0;
        if (how.refruns && is_delta()) {
            while (p + len < end && src_[p + len] == ref_[p + len]) ++len;
            if (len) {
                refrun(len);
                continue;
            }
        }
        if (how.runs) {
            while (p + len < end && src_[p + len] == prev_) ++len;
            if (len) {
                run(len);
                continue;
            }
        }
        Px entry = index_[hash(want)];
        if (channels_ == 3) entry.a = 255;
        if (how.index && entry == want) {
            index();
            continue;
        }
        const bool alpha = want.a != prev_.a;
        if (how.gradient) {
            const Px pr = predict(out_, p, w_, prev_);
            auto size = [&](const Px& base) {
                auto m = [](int d) { return std::min(d & 255, 256 - (d & 255)); };
                return m(want.r - base.r) + m(want.g - base.g) + m(want.b - base.b);
            };
            if (size(pr) < size(prev_)) {
                grad(alpha);
                continue;
            }
        }
        diff(alpha);
    }
}

void BandWriter::raw(Family f, unsigned s, unsigned group) {
    if (f == kOp) {
        op_symbol(s);
    } else {
        symbol(f, group, s);
    }
}

void BandWriter::raw_bits(uint64_t value, unsigned nbits) { bits(value, nbits); }

void BandWriter::set_lengths(Family f, unsigned group, std::vector<uint8_t> lengths) {
    lengths_[{f, group}] = std::move(lengths);
}

void BandWriter::set_items(Family f, unsigned group, std::vector<LenItem> items) {
    items_[{f, group}] = std::move(items);
}

void BandWriter::set_absent(Family f, unsigned group) { items_[{f, group}] = {}; }

std::vector<uint8_t> BandWriter::finish(bool complete) {
    if (complete) check(pos() == n_, "band finished before its last pixel");
    const bool delta = is_delta();
    // Counts of every table's symbols.
    std::map<std::pair<int, unsigned>, std::vector<uint32_t>> counts;
    for (unsigned f = 0; f < kFamilies; ++f)
        for (unsigned g = 0; g < groups(Family(f)); ++g) counts[{int(f), g}].assign(alphabet(Family(f), delta), 0);
    for (const Event& e : events_) {
        if (e.family < 0) continue;
        std::vector<uint32_t>& c = counts.at({e.family, e.group});
        check(e.value < c.size(), "symbol outside its alphabet");
        c[size_t(e.value)]++;
    }
    // Lengths: set by the case, else fitted to the counts; then what a valid
    // band needs (§5.9): every OP table non-empty, G/R/B non-empty when an OP
    // table has a difference symbol.
    std::map<std::pair<int, unsigned>, std::vector<uint8_t>> len;
    bool has_difference = false;
    for (auto& [key, c] : counts) {
        auto set = lengths_.find(key);
        len[key] = set != lengths_.end() ? set->second : lengths_for(c, 12);
        std::vector<uint8_t>& l = len[key];
        check(l.size() == c.size(), "table lengths of the wrong alphabet size");
        if (key.first == kOp && set == lengths_.end() && items_.count(key) == 0) {
            bool any = false;
            for (uint8_t v : l) any = any || v;
            if (!any) l[2] = 1;  // a run of 1, which needs no other table
        }
        if (key.first == kOp)
            for (unsigned s : {0u, 1u, 340u, 341u, 383u, 384u})
                if (s < l.size() && l[s]) has_difference = true;
    }
    for (auto& [key, l] : len) {
        if (!has_difference || (key.first != kG && key.first != kR && key.first != kB)) continue;
        if (lengths_.count(key) || items_.count(key)) continue;
        bool any = false;
        for (uint8_t v : l) any = any || v;
        if (!any) l[0] = 1;
    }
    std::vector<TableSpec> tables;
    std::map<std::pair<int, unsigned>, Canonical> codes;
    for (unsigned f = 0; f < kFamilies; ++f) {
        for (unsigned g = 0; g < groups(Family(f)); ++g) {
            const std::pair<int, unsigned> key{int(f), g};
            TableSpec t;
            auto items = items_.find(key);
            if (items != items_.end()) {
                t.items = items->second;
            } else {
                t.items = length_items(len[key]);
                bool any = false;
                for (uint8_t v : len[key]) any = any || v;
                if (!any) t.items.clear();
            }
            t.present = !t.items.empty();
            tables.push_back(t);
            codes[key] = canonical(len[key]);
        }
    }
    BitSink out;
    write_table_section(out, field_ ? *field_ : modes_.field(), clen_ ? *clen_ : clen_for(tables, deep_clen_), tables);
    for (const Event& e : events_) {
        if (e.family < 0) {
            out.put(e.value, e.nbits);
        } else {
            const Canonical& code = codes.at({e.family, e.group});
            if (lenient_ && code.len[size_t(e.value)] == 0) continue;
            put_symbol(out, code, unsigned(e.value));
        }
    }
    bits_used_ = out.bits();
    return out.bytes();
}

}  // namespace vec
