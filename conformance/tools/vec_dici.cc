#include "vec_dici.h"

#include <algorithm>
#include <string>

namespace vec {

namespace {
uint64_t colour_key(const Px& p) {
    return uint64_t(p.r) | uint64_t(p.g) << 8 | uint64_t(p.b) << 16 | uint64_t(p.a) << 24;
}
}  // namespace

DiciWriter::DiciWriter(const Img& img, uint32_t y0, uint32_t rows, std::vector<Px> palette)
    : w_(img.w), channels_(img.c), n_(uint64_t(img.w) * rows), palette_(std::move(palette)) {
    check(y0 + rows <= img.h && rows > 0, "band outside the image");
    src_.assign(img.px.begin() + long(size_t(y0) * img.w), img.px.begin() + long(size_t(y0 + rows) * img.w));
    if (palette_.empty()) {
        std::map<uint64_t, uint64_t> counts;
        for (const Px& p : src_) counts[colour_key(p)]++;
        std::vector<std::pair<uint64_t, uint64_t>> order(counts.begin(), counts.end());
        std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
        for (const auto& [key, count] : order)
            palette_.push_back(Px{uint8_t(key), uint8_t(key >> 8), uint8_t(key >> 16), uint8_t(key >> 24)});
    }
    check(!palette_.empty(), "empty palette");
    prev_ = palette_[0];
}

void DiciWriter::op(unsigned symbol, const LengthClass& c) {
    events_.push_back({int(ctx_), symbol, 0});
    if (c.nbits) raw_bits(c.extra, c.nbits);
    ctx_ = symbol / 41;
}

void DiciWriter::rank(uint64_t index) {
    check(index < palette_.size() && pos() < n_, "bad rank");
    const LengthClass c = length_class(index + 1);
    op(c.cls, c);
    check(palette_[index] == src_[pos()], "rank " + std::to_string(index) + " is not the source pixel");
    prev_ = palette_[index];
    out_.push_back(prev_);
}

void DiciWriter::rank() {
    const auto at = std::find(palette_.begin(), palette_.end(), src_[pos()]);
    check(at != palette_.end(), "the pixel is not in the palette");
    rank(uint64_t(at - palette_.begin()));
}

void DiciWriter::run(uint64_t length) {
    check(length >= 1 && pos() + length <= n_, "run past the end of the band");
    const LengthClass c = length_class(length);
    op(41 + c.cls, c);
    for (uint64_t k = 0; k < length; ++k) {
        check(src_[pos()] == prev_, "run: the source pixel differs");
        out_.push_back(prev_);
    }
}

void DiciWriter::copy(uint64_t length) {
    check(length >= 1 && pos() >= w_ && pos() + length <= n_, "bad copy from above");
    const LengthClass c = length_class(length);
    op(82 + c.cls, c);
    for (uint64_t k = 0; k < length; ++k) {
        const Px p = out_[size_t(pos() - w_)];
        check(src_[pos()] == p, "copy: the source pixel differs");
        out_.push_back(p);
    }
    prev_ = out_.back();
}

void DiciWriter::greedy(uint64_t end) {
    if (end > n_) end = n_;
    while (pos() < end) {
        const uint64_t p = pos();
        uint64_t run = 0, up = 0;
        while (p + run < end && src_[p + run] == prev_) ++run;
        while (p >= w_ && p + up < end &&
               src_[p + up] == (p + up - w_ < p ? out_[size_t(p + up - w_)] : src_[p + up - w_]))
            ++up;
        if (run == 0 && up == 0) {
            rank();
        } else if (run >= up) {
            this->run(run);
        } else {
            copy(up);
        }
    }
}

void DiciWriter::raw(unsigned symbol) { op(symbol, LengthClass{}); }

std::vector<uint8_t> DiciWriter::finish(bool complete) {
    if (complete) check(pos() == n_, "band finished before its last pixel");
    std::vector<TableSpec> tables(3);
    std::vector<Canonical> codes;
    for (unsigned t = 0; t < 3; ++t) {
        std::vector<uint32_t> counts(123, 0);
        for (const Event& e : events_)
            if (e.table == int(t)) counts[size_t(e.value)]++;
        const auto set = lengths_.find(t);
        const std::vector<uint8_t> len = set != lengths_.end() ? set->second : lengths_for(counts, 12);
        check(len.size() == 123, "DICI table of the wrong size");
        bool any = false;
        for (uint8_t l : len) any = any || l;
        tables[t].present = any && !absent_[t];
        if (tables[t].present) tables[t].items = length_items(len);
        codes.push_back(canonical(len));
    }
    BitSink out;
    const uint64_t n1 = palette_.size() - 1;
    unsigned e = 0;
    while ((n1 >> e) != 0) ++e;
    if (size_field_) {
        out.put(size_field_->first, size_field_->second);
    } else {
        out.put(e, 5);
        if (e >= 2) out.put(n1 - (uint64_t(1) << (e - 1)), e - 1);
    }
    const size_t colours = palette_cut_ ? *palette_cut_ : palette_.size();
    for (size_t k = 0; k < colours; ++k) {
        const Px& p = palette_[k];
        out.put(p.r, 8);
        out.put(p.g, 8);
        out.put(p.b, 8);
        if (channels_ == 4) out.put(p.a, 8);
    }
    if (palette_cut_) {
        bits_used_ = out.bits();
        return out.bytes();
    }
    write_tables(out, clen_for(tables), tables);
    for (const Event& ev : events_) {
        if (ev.table < 0) {
            out.put(ev.value, ev.nbits);
        } else if (codes[size_t(ev.table)].len[size_t(ev.value)]) {
            put_symbol(out, codes[size_t(ev.table)], unsigned(ev.value));
        }
    }
    bits_used_ = out.bits();
    return out.bytes();
}

}  // namespace vec
