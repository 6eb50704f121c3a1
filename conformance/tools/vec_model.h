// Building blocks of the conformance vector generator, written from the
// spec (spec/qohi.md) rather than taken from libqohi's encoder, so that the
// vectors do not merely echo the library: pixels, LSB-first bit packing
// (§1.4), canonical codes (§6.1), length classes (§5.6), the serialisation
// of code tables (§6.3) and the hash and contexts of the QOHI method (§5.3,
// §5.14).
#ifndef QOHI_CONFORMANCE_VEC_MODEL_H
#define QOHI_CONFORMANCE_VEC_MODEL_H

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace vec {

// The case being made, for messages.
inline std::string& current_case() {
    static std::string name;
    return name;
}

// Stops the generator: a case that does not do what it claims must never be
// written.
[[noreturn]] inline void die(const std::string& what) {
    std::fprintf(stderr, "qohi_conformance_vectors: %s%s\n",
                 current_case().empty() ? "" : ("while making case #" + current_case() + ": ").c_str(), what.c_str());
    std::exit(1);
}
inline void check(bool ok, const std::string& what) {
    if (!ok) die(what);
}

struct Px {
    uint8_t r = 0, g = 0, b = 0, a = 255;
    bool operator==(const Px& o) const { return r == o.r && g == o.g && b == o.b && a == o.a; }
    bool operator!=(const Px& o) const { return !(*this == o); }
};

inline unsigned hash(const Px& p) { return (p.r * 3u + p.g * 5u + p.b * 7u + p.a * 11u) % 256u; }

// A frame's pixels, RGBA in memory; `c` says whether it is stored as RGB
// (every alpha 255) or RGBA.
struct Img {
    uint32_t w = 0, h = 0, c = 3;
    std::vector<Px> px;
    Img() = default;
    Img(uint32_t width, uint32_t height, uint32_t channels, Px fill = Px{})
        : w(width), h(height), c(channels), px(size_t(width) * height, fill) {}
    Px& at(uint32_t x, uint32_t y) { return px[size_t(y) * w + x]; }
    const Px& at(uint32_t x, uint32_t y) const { return px[size_t(y) * w + x]; }
    // Packed bytes, `c` per pixel (the layout of a stored band, §2).
    std::vector<uint8_t> bytes() const {
        std::vector<uint8_t> out;
        out.reserve(px.size() * c);
        for (const Px& p : px) {
            out.push_back(p.r);
            out.push_back(p.g);
            out.push_back(p.b);
            if (c == 4) out.push_back(p.a);
        }
        return out;
    }
    bool operator==(const Img& o) const { return w == o.w && h == o.h && c == o.c && px == o.px; }
};

// Bits packed least-significant first (§1.4).
class BitSink {
public:
    void put(uint64_t value, unsigned nbits) {
        for (unsigned i = 0; i < nbits; ++i) bit(unsigned(value >> i) & 1u);
    }
    // A Huffman code: its most significant bit is the first in the stream.
    void put_code(uint32_t code, unsigned length) {
        for (unsigned i = length; i-- > 0;) bit(unsigned(code >> i) & 1u);
    }
    void bit(unsigned b) {
        if (n_ % 8 == 0) bytes_.push_back(0);
        if (b) bytes_.back() = uint8_t(bytes_.back() | (1u << (n_ % 8)));
        ++n_;
    }
    uint64_t bits() const { return n_; }
    const std::vector<uint8_t>& bytes() const { return bytes_; }  // padded with zero bits

private:
    std::vector<uint8_t> bytes_;
    uint64_t n_ = 0;
};

// A canonical code (§6.1) for the lengths `len`; `code[s]` is meaningful
// where len[s] > 0.
struct Canonical {
    std::vector<uint8_t> len;
    std::vector<uint32_t> code;
    unsigned used = 0;
};
inline Canonical canonical(const std::vector<uint8_t>& len) {
    Canonical c{len, std::vector<uint32_t>(len.size(), 0), 0};
    unsigned count[16] = {}, first[16] = {};
    for (uint8_t l : len) {
        check(l < 16, "code length out of range");
        if (l) count[l]++, c.used++;
    }
    uint32_t code = 0;
    for (unsigned l = 1; l < 16; ++l) {
        code = (code + count[l - 1]) << 1;
        first[l] = code;
    }
    for (size_t s = 0; s < len.size(); ++s)
        if (len[s]) c.code[s] = first[len[s]]++;
    return c;
}

// Writes symbol `s` of a table: nothing for a single-symbol table (§6.2).
inline void put_symbol(BitSink& out, const Canonical& c, unsigned s) {
    check(s < c.len.size() && c.len[s] > 0, "symbol " + std::to_string(s) + " has no code");
    if (c.used > 1) out.put_code(c.code[s], c.len[s]);
}

// Length classes (§5.6): the class of a value L >= 1 and its extra bits.
struct LengthClass {
    unsigned cls = 0;
    uint64_t extra = 0;
    unsigned nbits = 0;
};
inline LengthClass length_class(uint64_t value) {
    check(value >= 1, "length class of 0");
    const uint64_t n = value - 1;
    if (n < 16) return {unsigned(n), 0, 0};
    unsigned e = 0;
    while ((n >> e) > 1) ++e;
    ++e;  // significant bits of n
    return {e + 11, n - (uint64_t(1) << (e - 1)), e - 1};
}

// One item of a table's serialisation (§6.3): a code-length-code symbol and
// its extra bits.
struct LenItem {
    unsigned sym = 0;
    unsigned extra = 0;
    unsigned nbits = 0;
};
inline LenItem lit(unsigned length) { return {length, 0, 0}; }
inline LenItem repeat_prev(unsigned count) { return {13, count - 3, 2}; }  // 3..6
inline LenItem zeros(unsigned count) {                                     // 3..138
    return count <= 10 ? LenItem{14, count - 3, 3} : LenItem{15, count - 11, 7};
}

// The serialisation the spec's encoder guidance describes (§10, "Table
// serialisation"): zero runs of 11+ with symbol 15, 3-10 with 14; a non-zero
// length once, then symbol 13 while at least 3 repetitions remain.
inline std::vector<LenItem> length_items(const std::vector<uint8_t>& len) {
    std::vector<LenItem> items;
    for (size_t i = 0; i < len.size();) {
        size_t run = 1;
        while (i + run < len.size() && len[i + run] == len[i]) ++run;
        if (len[i] == 0) {
            size_t left = run;
            while (left >= 11) {
                const size_t n = left > 138 ? 138 : left;
                items.push_back(zeros(unsigned(n)));
                left -= n;
            }
            if (left >= 3) {
                items.push_back(zeros(unsigned(left)));
                left = 0;
            }
            for (; left > 0; --left) items.push_back(lit(0));
        } else {
            items.push_back(lit(len[i]));
            size_t left = run - 1;
            while (left >= 3) {
                const size_t n = left > 6 ? 6 : left;
                items.push_back(repeat_prev(unsigned(n)));
                left -= n;
            }
            for (; left > 0; --left) items.push_back(lit(len[i]));
        }
        i += run;
    }
    return items;
}

// One table of a band as written: absent, or present with its items.
struct TableSpec {
    bool present = false;
    std::vector<LenItem> items;
};

// Code lengths, limit `max`, for `counts` (the reference library's
// length-limited Huffman construction, as an encoder would use any).
std::vector<uint8_t> lengths_for(const std::vector<uint32_t>& counts, unsigned max);

// The code-length code fitted to the items of `tables` (limit 7); `deep`
// skews it so that the rarest item symbols get 7-bit codes.
std::array<uint8_t, 16> clen_for(const std::vector<TableSpec>& tables, bool deep = false);

// The code tables of a band (§6.3): the code-length code `clen`, then
// `tables` in stream order.
inline void write_tables(BitSink& out, const std::array<uint8_t, 16>& clen, const std::vector<TableSpec>& tables) {
    for (uint8_t l : clen) out.put(l, 3);
    const Canonical pre = canonical(std::vector<uint8_t>(clen.begin(), clen.end()));
    for (const TableSpec& t : tables) {
        out.put(t.present ? 1 : 0, 1);
        if (!t.present) continue;
        for (const LenItem& it : t.items) {
            put_symbol(out, pre, it.sym);
            out.put(it.extra, it.nbits);
        }
    }
}

// The start of a QOHI band (§5.1, §6.3): the grouping field, then the tables.
inline void write_table_section(BitSink& out, unsigned field, const std::array<uint8_t, 16>& clen,
                                const std::vector<TableSpec>& tables) {
    out.put(field, 6);
    write_tables(out, clen, tables);
}

// Families of code tables (§5.1) in stream order, and their alphabets.
enum Family { kOp = 0, kG, kR, kB, kA, kDist, kFamilies };
inline unsigned alphabet(Family f, bool delta) {
    switch (f) {
        case kOp:
            return delta ? 385 : 342;
        case kDist:
            return 44;
        default:
            return 256;
    }
}

// Contexts (§5.14).
inline unsigned op_context(unsigned s) {
    if (s <= 1 || s == 340 || s == 341 || s >= 383) return 0;
    if (s <= 42) return 2;
    if (s <= 298) return 1;
    return 3;
}
inline unsigned rb_context(unsigned dg) {
    const unsigned m = dg < 128 ? dg : 256 - dg;
    return m == 0 ? 0 : m <= 2 ? 1 : m <= 8 ? 2 : 3;
}
inline int absdiff(int a, int b) { return a > b ? a - b : b - a; }
// `out` holds the band's pixels before position p; `left` is out[p - 1].
inline unsigned g_context(const std::vector<Px>& out, uint64_t p, uint32_t w, const Px& left) {
    if (p < w || p % w == 0) return 1;
    const Px& up = out[p - w];
    const Px& ul = out[p - w - 1];
    const int act = absdiff(left.r, ul.r) + absdiff(left.g, ul.g) + absdiff(left.b, ul.b) + absdiff(up.r, ul.r) +
                    absdiff(up.g, ul.g) + absdiff(up.b, ul.b);
    return act == 0 ? 0 : act <= 6 ? 1 : act <= 30 ? 2 : 3;
}
inline uint8_t clamp255(int v) { return uint8_t(v < 0 ? 0 : v > 255 ? 255 : v); }
// Gradient prediction (§5.13); `prev` is out[p - 1] outside the first row.
inline Px predict(const std::vector<Px>& out, uint64_t p, uint32_t w, const Px& prev) {
    if (p < w) return prev;
    const Px& up = out[p - w];
    if (p % w == 0) return Px{up.r, up.g, up.b, prev.a};
    const Px& ul = out[p - w - 1];
    return Px{clamp255(prev.r + up.r - ul.r), clamp255(prev.g + up.g - ul.g), clamp255(prev.b + up.b - ul.b), prev.a};
}

}  // namespace vec

#endif
