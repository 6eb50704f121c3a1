#include "huffman.h"

#include <gtest/gtest.h>

#include <random>

namespace qohi {
namespace {

uint64_t kraft_sum(const std::vector<uint8_t>& lengths, unsigned max_len) {
    uint64_t k = 0;
    for (uint8_t l : lengths)
        if (l) k += uint64_t(1) << (max_len - l);
    return k;
}

// Writes a table and `symbols` with it, reads both back.
void round_trip(const std::vector<uint32_t>& counts, const std::vector<unsigned>& symbols) {
    const unsigned n = static_cast<unsigned>(counts.size());
    std::vector<uint8_t> lengths = build_code_lengths(counts.data(), n, kMaxCodeLength);
    EncodeTable enc = make_encode_table(lengths);
    std::vector<uint8_t> buf;
    BitWriter w(buf);
    write_code_tables(w, {&lengths});
    for (unsigned s : symbols) w.put(enc.code[s], enc.length[s]);
    w.finish();

    BitReader r(buf.data(), buf.size());
    DecodeTable dec;
    CodeTableReader tables;
    ASSERT_TRUE(tables.start(r).ok());
    Status st = tables.read(r, n, dec);
    ASSERT_TRUE(st.ok()) << st.message;
    for (unsigned s : symbols) {
        r.refill();
        ASSERT_EQ(dec.decode(r), s);
    }
    EXPECT_TRUE(r.finish_ok());
}

TEST(Huffman, LengthsAreCompleteAndWithinTheLimit) {
    std::mt19937 rng(3);
    for (int trial = 0; trial < 200; ++trial) {
        const unsigned n = 2 + rng() % 300;
        std::vector<uint32_t> counts(n);
        for (auto& c : counts) c = rng() % 4 ? rng() % (1u << (rng() % 20)) : 0;
        counts[rng() % n] = 1;
        counts[rng() % n] += 5;
        std::vector<uint8_t> len = build_code_lengths(counts.data(), n, kMaxCodeLength);
        unsigned used = 0;
        for (unsigned s = 0; s < n; ++s) {
            EXPECT_LE(len[s], kMaxCodeLength);
            EXPECT_EQ(len[s] != 0, counts[s] != 0);
            used += counts[s] != 0;
        }
        if (used >= 2) EXPECT_EQ(kraft_sum(len, kMaxCodeLength), uint64_t(1) << kMaxCodeLength);
    }
}

TEST(Huffman, OptimalForAKnownDistribution) {
    const uint32_t counts[4] = {10, 5, 3, 2};  // Huffman: 1, 2, 3, 3
    std::vector<uint8_t> len = build_code_lengths(counts, 4, kMaxCodeLength);
    EXPECT_EQ(len, (std::vector<uint8_t>{1, 2, 3, 3}));
}

TEST(Huffman, FibonacciCountsAreLimitedToTheMaximumLength) {
    // Unlimited Huffman would give this a code 29 bits deep.
    std::vector<uint32_t> counts(30);
    counts[0] = counts[1] = 1;
    for (int i = 2; i < 30; ++i) counts[i] = counts[i - 1] + counts[i - 2];
    std::vector<uint8_t> len = build_code_lengths(counts.data(), 30, kMaxCodeLength);
    unsigned longest = 0;
    for (uint8_t l : len) longest = std::max<unsigned>(longest, l);
    EXPECT_EQ(longest, kMaxCodeLength);
    EXPECT_EQ(kraft_sum(len, kMaxCodeLength), uint64_t(1) << kMaxCodeLength);
    std::vector<unsigned> symbols;
    for (unsigned s = 0; s < 30; ++s) symbols.push_back(s);
    round_trip(counts, symbols);
}

TEST(Huffman, OneSymbolCostsZeroBits) {
    std::vector<uint32_t> counts(256, 0);
    counts[200] = 1000;
    std::vector<uint8_t> len = build_code_lengths(counts.data(), 256, kMaxCodeLength);
    EXPECT_EQ(len[200], 1);
    EncodeTable enc = make_encode_table(len);
    EXPECT_EQ(enc.length[200], 0);
    round_trip(counts, std::vector<unsigned>(50, 200));
}

TEST(Huffman, AllSymbolsOfTheLargestAlphabet) {
    std::mt19937 rng(5);
    std::vector<uint32_t> counts(kMaxAlphabet);
    for (auto& c : counts) c = 1 + rng() % 1000;
    std::vector<unsigned> symbols;
    for (unsigned s = 0; s < kMaxAlphabet; ++s) symbols.push_back(s);
    for (int i = 0; i < 2000; ++i) symbols.push_back(rng() % kMaxAlphabet);
    round_trip(counts, symbols);
}

TEST(Huffman, EmptyTableRoundTrips) {
    std::vector<uint8_t> buf;
    BitWriter w(buf);
    const std::vector<uint8_t> empty(256, 0);
    write_code_tables(w, {&empty});
    w.finish();
    BitReader r(buf.data(), buf.size());
    DecodeTable dec;
    CodeTableReader tables;
    ASSERT_TRUE(tables.start(r).ok());
    ASSERT_TRUE(tables.read(r, 256, dec).ok());
    EXPECT_TRUE(dec.empty());
    EXPECT_TRUE(r.finish_ok());
}

TEST(Huffman, RandomTablesRoundTrip) {
    std::mt19937 rng(11);
    for (int trial = 0; trial < 100; ++trial) {
        const unsigned n = 1 + rng() % 299;
        std::vector<uint32_t> counts(n, 0);
        const unsigned used = 1 + rng() % n;
        for (unsigned i = 0; i < used; ++i) counts[rng() % n] += 1 + rng() % 5000;
        std::vector<unsigned> symbols;
        for (unsigned s = 0; s < n; ++s)
            if (counts[s]) symbols.push_back(s);
        round_trip(counts, symbols);
    }
}

// Builds a one-table description by hand: code-length code, presence bit, items.
std::vector<uint8_t> raw_table(const uint8_t (&pre)[16], const std::vector<std::pair<unsigned, unsigned>>& bits) {
    std::vector<uint8_t> buf;
    BitWriter w(buf);
    for (uint8_t l : pre) w.put(l, 3);
    w.put(1, 1);
    for (auto [v, n] : bits) w.put(v, n);
    w.finish();
    return buf;
}

Status read_raw(const std::vector<uint8_t>& buf, unsigned n) {
    BitReader r(buf.data(), buf.size());
    DecodeTable dec;
    CodeTableReader tables;
    const Status st = tables.start(r);
    return st.ok() ? tables.read(r, n, dec) : st;
}

TEST(Huffman, RejectsInvalidLengthTables) {
    DecodeTable t;
    const uint8_t over[3] = {1, 1, 1};
    EXPECT_EQ(t.build(over, 3, kMaxCodeLength).code, QOHI_ERROR_CORRUPT);
    const uint8_t incomplete[3] = {1, 2, 0};
    EXPECT_EQ(t.build(incomplete, 3, kMaxCodeLength).code, QOHI_ERROR_CORRUPT);
    const uint8_t single_long[3] = {0, 3, 0};
    EXPECT_EQ(t.build(single_long, 3, kMaxCodeLength).code, QOHI_ERROR_CORRUPT);
    const uint8_t too_long[2] = {1, 13};
    EXPECT_EQ(t.build(too_long, 2, kMaxCodeLength).code, QOHI_ERROR_CORRUPT);
    const uint8_t ok[3] = {1, 2, 2};
    EXPECT_TRUE(t.build(ok, 3, kMaxCodeLength).ok());
}

TEST(Huffman, RejectsBadCodeLengthCodes) {
    // Code-length code where symbols 1, 13, 14, 15 have length 2: canonical
    // codes 00, 01, 10, 11, written first-bit-first, i.e. put(0|2|1|3, 2).
    uint8_t pre[16] = {};
    pre[1] = pre[13] = pre[14] = pre[15] = 2;
    // Repeat-previous as the very first item.
    EXPECT_EQ(read_raw(raw_table(pre, {{0x2, 2}, {0, 2}}), 8).code, QOHI_ERROR_CORRUPT);
    // Zero run of 11+ in an alphabet of 8.
    EXPECT_EQ(read_raw(raw_table(pre, {{0x3, 2}, {0, 7}}), 8).code, QOHI_ERROR_CORRUPT);
    // Over-subscribed code-length code: three codes of length 1.
    uint8_t over[16] = {};
    over[0] = over[1] = over[2] = 1;
    EXPECT_EQ(read_raw(raw_table(over, {}), 8).code, QOHI_ERROR_CORRUPT);
    // All lengths zero although the table is marked present.
    uint8_t zeros[16] = {};
    zeros[14] = 1;  // the only code-length symbol: zero bits each
    EXPECT_EQ(read_raw(raw_table(zeros, {{0, 3}, {0, 3}}), 6).code, QOHI_ERROR_CORRUPT);
    // Cut short: the lengths never reach the alphabet size.
    EXPECT_EQ(read_raw(raw_table(pre, {}), 200).code, QOHI_ERROR_CORRUPT);
}

}  // namespace
}  // namespace qohi
