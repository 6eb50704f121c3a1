// fuzz_huffman: the code-table reader and the table-driven symbol decoder
// (codec/src/huffman.h, internal), against a bit-by-bit reference written
// from the spec (§6: canonical codes, valid tables, serialisation; one
// code-length code shared by a band's tables, read by CodeTableReader).
//
// Input layout:
//   byte 0      bits 0-2: tables T - 1 (1..8); bit 3: encoder round trip
//   T x u16     alphabet sizes, 1 + value % 512
//   rest        decode mode: the bit stream (code-length code, T tables,
//               then symbols, taken from the non-empty tables in turn,
//               until the bits run out)
//               round-trip mode: per table a max code length, symbol counts
//               and a symbol sequence, coded with build_code_lengths /
//               write_code_tables / make_encode_table, then read back
//
// Checks: the library accepts exactly the tables the reference accepts;
// both decode the same symbols and run out of bits at the same symbol;
// every decoded symbol is below the alphabet size and has a code.
// Round trip: the code lengths are a valid, length-limited code for exactly
// the used symbols; what is written reads back to the same symbols and ends
// on its padding.
#include <algorithm>
#include <memory>
#include <vector>

#include "fuzz_common.h"
#include "huffman.h"

namespace {

using qohi_fuzz::Bytes;

constexpr unsigned kMaxTables = 8;
constexpr unsigned kSymbolLimit = 20000;  // symbols decoded per input (zero-bit codes never run out)

// ------------------------------------------------------------ reference

// LSB-first bits (spec §1.4); past the end: zero bits, remembered.
struct RefBits {
    const uint8_t* data;
    size_t size;
    uint64_t pos = 0;
    unsigned bit() {
        const uint64_t byte = pos >> 3;
        const unsigned b = byte < size ? (data[byte] >> (pos & 7)) & 1 : 0;
        ++pos;
        return b;
    }
    uint32_t read(unsigned n) {  // an n-bit value, least significant bit first
        uint32_t v = 0;
        for (unsigned k = 0; k < n; ++k) v |= uint32_t(bit()) << k;
        return v;
    }
    bool overran() const { return pos > uint64_t(size) * 8; }
};

// A code built as §6.1 describes, decoded bit by bit as §6.4 does.
struct RefTable {
    std::vector<uint8_t> len;
    unsigned used = 0;
    unsigned only = 0;
    unsigned max = 0;
    // Canonical decoding: the codes of length l are first[l], first[l] + 1,
    // ... for the symbols by_length[offset[l]], ... (in symbol order).
    std::vector<uint32_t> first, count, offset;
    std::vector<unsigned> by_length;

    // §6.2: empty, single symbol of length 1, or complete. False if invalid.
    bool build(const std::vector<uint8_t>& lengths, unsigned max_len) {
        len = lengths;
        max = max_len;
        used = 0;
        uint64_t kraft = 0;
        for (unsigned s = 0; s < len.size(); ++s) {
            if (!len[s]) continue;
            if (len[s] > max_len) return false;
            ++used;
            only = s;
            kraft += uint64_t(1) << (max_len - len[s]);
        }
        if (used == 0) return true;
        if (used == 1) return len[only] == 1;
        if (kraft != (uint64_t(1) << max_len)) return false;
        count.assign(max_len + 1, 0);
        first.assign(max_len + 1, 0);
        offset.assign(max_len + 2, 0);
        for (uint8_t l : len)
            if (l) count[l]++;
        uint32_t code = 0;
        for (unsigned l = 1; l <= max_len; ++l) {
            code = (code + count[l - 1]) << 1;  // count[0] = 0
            first[l] = code;
            offset[l + 1] = offset[l] + count[l];
        }
        by_length.clear();
        for (unsigned l = 1; l <= max_len; ++l)
            for (unsigned s = 0; s < len.size(); ++s)
                if (len[s] == l) by_length.push_back(s);
        return true;
    }
    bool empty() const { return used == 0; }
    unsigned decode(RefBits& in) const {
        if (used == 1) return only;
        uint32_t c = 0;
        for (unsigned l = 1; l <= max; ++l) {
            c = (c << 1) | in.bit();  // the first bit of a code is its most significant
            if (c - first[l] < count[l]) return by_length[offset[l] + (c - first[l])];
        }
        qohi_fuzz::fail("reference: complete code without a match", __FILE__, __LINE__);
    }
};

// §6.3 with the code-length code read once per band (start), then tables.
struct RefTableReader {
    RefTable pre;
    bool start(RefBits& in) {
        std::vector<uint8_t> clen(16);
        for (auto& l : clen) l = uint8_t(in.read(3));
        return pre.build(clen, 7);
    }
    bool read(RefBits& in, unsigned n, RefTable& table) {
        std::vector<uint8_t> len(n, 0);
        if (in.bit() == 0) return table.build(len, 12);
        if (pre.empty()) return false;
        for (unsigned i = 0; i < n;) {
            const unsigned sym = pre.decode(in);
            unsigned count = 1;
            uint8_t value = 0;
            if (sym <= 12) {
                value = uint8_t(sym);
            } else if (sym == 13) {
                if (i == 0) return false;
                value = len[i - 1];
                count = 3 + in.read(2);
            } else if (sym == 14) {
                count = 3 + in.read(3);
            } else {
                count = 11 + in.read(7);
            }
            if (count > n - i) return false;
            for (unsigned k = 0; k < count; ++k) len[i++] = value;
        }
        if (in.overran()) return false;
        if (std::all_of(len.begin(), len.end(), [](uint8_t l) { return l == 0; })) return false;
        return table.build(len, 12);
    }
};

// ------------------------------------------------------------ both

struct Tables {
    unsigned count = 0;
    unsigned n[kMaxTables];
    qohi::DecodeTable lib[kMaxTables];
    RefTable ref[kMaxTables];
};

// Reads the code-length code and the tables with both readers; false if
// they (agree to) refuse the stream.
bool read_tables(qohi::BitReader& lib_in, RefBits& ref_in, Tables& t) {
    qohi::CodeTableReader lib_reader;
    RefTableReader ref_reader;
    bool lib_ok = lib_reader.start(lib_in).ok();
    bool ref_ok = ref_reader.start(ref_in);
    if (lib_ok != ref_ok) std::fprintf(stderr, "code-length code: library %d, reference %d\n", lib_ok, ref_ok);
    QOHI_FUZZ_CHECK(lib_ok == ref_ok);
    if (!lib_ok) return false;
    for (unsigned k = 0; k < t.count; ++k) {
        const qohi::Status st = lib_reader.read(lib_in, t.n[k], t.lib[k]);
        ref_ok = ref_reader.read(ref_in, t.n[k], t.ref[k]);
        if (st.ok() != ref_ok)
            std::fprintf(stderr, "table %u (alphabet %u): library \"%s\", reference %s\n", k, t.n[k],
                         st.ok() ? "ok" : st.message.c_str(), ref_ok ? "ok" : "refuses");
        QOHI_FUZZ_CHECK(st.ok() == ref_ok);
        if (!ref_ok) {
            QOHI_FUZZ_CHECK(st.code == QOHI_ERROR_CORRUPT);
            return false;
        }
        QOHI_FUZZ_CHECK(t.lib[k].empty() == t.ref[k].empty());
        for (unsigned s = 0; s < t.n[k]; ++s) QOHI_FUZZ_CHECK(t.lib[k].has_symbol(s) == (t.ref[k].len[s] != 0));
        for (unsigned s = t.n[k]; s < qohi::kMaxAlphabet; ++s) QOHI_FUZZ_CHECK(!t.lib[k].has_symbol(s));
    }
    QOHI_FUZZ_CHECK(lib_in.overran() == ref_in.overran());
    return true;
}

// Decodes symbols with both from the non-empty tables in turn; returns how
// many were decoded before the bits ran out (or `limit`), and the symbols.
size_t decode_symbols(qohi::BitReader& lib_in, RefBits& ref_in, Tables& t, size_t limit,
                      std::vector<unsigned>* symbols = nullptr) {
    unsigned order[kMaxTables], usable = 0;
    for (unsigned k = 0; k < t.count; ++k)
        if (!t.ref[k].empty()) order[usable++] = k;
    if (usable == 0) return 0;
    size_t done = 0;
    while (done < limit && !ref_in.overran()) {
        const unsigned k = order[done % usable];
        lib_in.refill();
        const unsigned a = t.lib[k].decode(lib_in);
        const unsigned b = t.ref[k].decode(ref_in);
        if (a != b) std::fprintf(stderr, "symbol %zu (table %u): library %u, reference %u\n", done, k, a, b);
        QOHI_FUZZ_CHECK(a == b);
        QOHI_FUZZ_CHECK(a < t.n[k] && t.lib[k].has_symbol(a));
        QOHI_FUZZ_CHECK(lib_in.overran() == ref_in.overran());
        if (symbols) symbols->push_back(a);
        ++done;
    }
    return done;
}

void decode_mode(Bytes& in, Tables& t) {
    const uint8_t* bits = in.position();
    const size_t size = in.remaining();
    qohi::BitReader lib_in(bits, size);
    RefBits ref_in{bits, size};
    if (!read_tables(lib_in, ref_in, t)) return;
    decode_symbols(lib_in, ref_in, t, kSymbolLimit);
}

// ------------------------------------------------------------ round trip

void roundtrip_mode(Bytes& in, Tables& t) {
    std::vector<std::vector<uint8_t>> lengths(t.count);
    std::vector<std::vector<unsigned>> present(t.count);
    for (unsigned k = 0; k < t.count; ++k) {
        const unsigned n = t.n[k];
        std::vector<uint32_t> counts(n, 0);
        const unsigned pairs = in.u8() % 64;
        for (unsigned p = 0; p < pairs; ++p) {
            const unsigned s = in.u16() % n;
            const uint32_t lo = in.u8();
            counts[s] += 1 + lo * (in.u8() & 0x7Fu);  // counts up to about 32,000
        }
        unsigned used = 0;
        for (uint32_t c : counts) used += c != 0;
        unsigned max_len = 1 + in.u8() % qohi::kMaxCodeLength;
        while ((1u << max_len) < used) ++max_len;  // the limit must leave room for every symbol
        lengths[k] = qohi::build_code_lengths(counts.data(), n, max_len);
        QOHI_FUZZ_CHECK(lengths[k].size() == n);
        uint64_t kraft = 0;
        for (unsigned s = 0; s < n; ++s) {
            QOHI_FUZZ_CHECK((lengths[k][s] != 0) == (counts[s] != 0));
            QOHI_FUZZ_CHECK(lengths[k][s] <= max_len);
            if (lengths[k][s]) {
                kraft += uint64_t(1) << (qohi::kMaxCodeLength - lengths[k][s]);
                present[k].push_back(s);
            }
        }
        if (used == 1) QOHI_FUZZ_CHECK(lengths[k][present[k][0]] == 1);
        if (used >= 2) QOHI_FUZZ_CHECK(kraft == (uint64_t(1) << qohi::kMaxCodeLength));
    }

    // Tables, then symbols from the non-empty tables in turn.
    std::vector<uint8_t> out;
    qohi::BitWriter w(out);
    std::vector<const std::vector<uint8_t>*> ptrs;
    for (const auto& l : lengths) ptrs.push_back(&l);
    qohi::write_code_tables(w, ptrs);
    const uint64_t table_bits = w.bits_written();
    const uint64_t estimate = 48 + qohi::code_table_bits(lengths[0]);  // checked below for T = 1
    std::vector<qohi::EncodeTable> enc;
    unsigned order[kMaxTables], usable = 0;
    for (unsigned k = 0; k < t.count; ++k) {
        enc.push_back(qohi::make_encode_table(lengths[k]));
        if (!present[k].empty()) order[usable++] = k;
    }
    std::vector<unsigned> sent;
    const size_t n_symbols = usable ? in.remaining() / 2 : 0;
    for (size_t i = 0; i < n_symbols; ++i) {
        const unsigned k = order[i % usable];
        const unsigned s = present[k][in.u16() % present[k].size()];
        w.put(enc[k].code[s], enc[k].length[s]);
        sent.push_back(s);
    }
    w.finish();

    if (t.count == 1) {
        // code_table_bits() is exact for a lone table, except that it counts
        // a bit per item when the code-length code has a single symbol
        // (which costs zero bits).
        RefBits clen{out.data(), out.size()};
        unsigned length_symbols = 0;
        for (int k = 0; k < 16; ++k) length_symbols += clen.read(3) != 0;
        QOHI_FUZZ_CHECK(table_bits <= estimate);
        if (length_symbols != 1) QOHI_FUZZ_CHECK(table_bits == estimate);
    }

    qohi::BitReader lib_in(out.data(), out.size());
    RefBits ref_in{out.data(), out.size()};
    QOHI_FUZZ_CHECK(read_tables(lib_in, ref_in, t));
    QOHI_FUZZ_CHECK(ref_in.pos == table_bits);
    for (unsigned k = 0; k < t.count; ++k) QOHI_FUZZ_CHECK(t.ref[k].len == lengths[k]);
    std::vector<unsigned> got;
    decode_symbols(lib_in, ref_in, t, sent.size(), &got);
    QOHI_FUZZ_CHECK(got == sent);
    QOHI_FUZZ_CHECK(lib_in.finish_ok());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    Bytes in(data, size);
    const uint8_t mode = in.u8();
    // Fresh tables per input: DecodeTable is large (8 KiB) and not cleared.
    std::unique_ptr<Tables> t(new Tables);
    t->count = 1 + (mode & 7);
    for (unsigned k = 0; k < t->count; ++k) t->n[k] = 1 + in.u16() % qohi::kMaxAlphabet;
    if (mode & 8) roundtrip_mode(in, *t);
    else decode_mode(in, *t);
    return 0;
}
