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

class DecodeTable {
public:
    // Decodes one symbol; the caller guarantees >= kMaxCodeLength buffered bits.
    unsigned decode(BitReader& in) const {
        const uint16_t e = entries_[in.peek(bits_)];
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
    // Fixed-size storage: tables are built per band, often for small images,
    // where allocation and canonical-code bookkeeping would dominate.
    uint16_t entries_[1u << kMaxCodeLength];  // (symbol << 4) | code length
    bool present_[kMaxAlphabet];
    unsigned bits_ = 0;
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
