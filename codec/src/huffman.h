// Canonical, length-limited Huffman codes (spec §6).
//
// Encoder side: code lengths from symbol counts (at most kMaxCodeLength bits),
// canonical codes, and the table serialisation. Decoder side: the table
// reader, which validates the lengths, and a single-level lookup table indexed
// by the next kMaxCodeLength (or fewer) stream bits.
#ifndef QOHI_HUFFMAN_H
#define QOHI_HUFFMAN_H

#include <cstdint>
#include <vector>

#include "bit_io.h"
#include "status.h"

namespace qohi {

constexpr unsigned kMaxCodeLength = 12;   // longest code in a symbol table
constexpr unsigned kMaxAlphabet = 512;    // largest alphabet a table may have

// Code lengths for `n` symbols with the given counts. Unused symbols get 0.
// One used symbol gets length 1 (it is then coded with zero bits).
std::vector<uint8_t> build_code_lengths(const uint32_t* counts, unsigned n, unsigned max_length);

// Codes ready for the bit writer: `code[s]` is already bit-reversed and
// `length[s]` is the number of bits to write (0 for a table's only symbol).
struct EncodeTable {
    std::vector<uint16_t> code;
    std::vector<uint8_t> length;
    bool empty = true;

    // Total bits to code the given counts with this table.
    uint64_t cost(const uint32_t* counts) const;
};

EncodeTable make_encode_table(const std::vector<uint8_t>& lengths);

// Writes the descriptions of a band's tables (spec §6.3): one code-length
// code for them all, then each table's lengths coded with it.
void write_code_tables(BitWriter& out, const std::vector<const std::vector<uint8_t>*>& tables);
// About the bits one table of write_code_tables() takes (exact but for the
// shared code-length code, which it assumes fitted to this table alone).
uint64_t code_table_bits(const std::vector<uint8_t>& lengths);

// Two-level lookup (as libwebp and zlib do): the next kRootBits stream bits
// index the root; codes longer than that continue in a small second-level
// table. Most symbols take one lookup, and a band's tables stay small
// enough for the first-level cache even with context-selected tables
// (measured: decoding with 15 single-level 4096-entry tables was a third
// slower than with 6).
class DecodeTable {
public:
    static constexpr unsigned kRootBits = 9;

    // Decodes one symbol; the caller guarantees >= kMaxCodeLength buffered bits.
    QOHI_ALWAYS_INLINE unsigned decode(BitReader& in) const {
        uint32_t e = entries_[in.peek(root_bits_)];
        if (e & kSubtable) {
            in.consume(root_bits_);
            e = entries_[((e >> 4) & 0xFFFFu) + in.peek(e & 15u)];
        }
        in.consume(e & 15u);
        return e >> 4;
    }
    bool empty() const { return empty_; }
    // Whether `symbol` has a code (can occur in the stream).
    bool has_symbol(unsigned symbol) const { return symbol < kMaxAlphabet && present_[symbol]; }

    // Builds from code lengths; fails unless the lengths form a complete
    // prefix code (or exactly one symbol of length 1, or none at all).
    Status build(const uint8_t* lengths, unsigned n, unsigned max_length);

private:
    // Entries: a symbol, (symbol << 4) | bits it takes at its level; or a
    // link, kSubtable | (offset << 4) | the second level's index bits.
    static constexpr uint32_t kSubtable = 1u << 31;
    // Root, then the second-level tables. Fixed-size storage: tables are
    // built per band, often for small images, where allocation would show.
    uint32_t entries_[(1u << kRootBits) + (1u << kMaxCodeLength)];
    bool present_[kMaxAlphabet];
    unsigned root_bits_ = 0;
    bool empty_ = true;
};

// Reads what write_code_tables() wrote: start() reads the shared
// code-length code, then read() each table in turn (alphabet of `n`).
class CodeTableReader {
public:
    Status start(BitReader& in);
    Status read(BitReader& in, unsigned n, DecodeTable& table);

private:
    DecodeTable length_code_;
};

}  // namespace qohi

#endif
