#include "bit_io.h"

#include <gtest/gtest.h>

#include <random>

namespace qohi {
namespace {

TEST(BitIo, RoundTripsValuesOfEveryWidth) {
    std::mt19937 rng(7);
    std::vector<std::pair<uint32_t, unsigned>> values;
    std::vector<uint8_t> buf;
    BitWriter w(buf);
    for (int i = 0; i < 5000; ++i) {
        const unsigned n = rng() % 33;
        const uint32_t v = n == 32 ? uint32_t(rng()) : uint32_t(rng()) & ((uint32_t(1) << n) - 1);
        values.emplace_back(v, n);
        w.put(v, n);
    }
    const uint64_t bits = w.bits_written();
    w.finish();
    ASSERT_EQ(buf.size(), (bits + 7) / 8);
    BitReader r(buf.data(), buf.size());
    for (auto [v, n] : values) ASSERT_EQ(r.read(n), v) << "width " << n;
    EXPECT_FALSE(r.overran());
    EXPECT_TRUE(r.finish_ok());
}

TEST(BitIo, BitsAreLeastSignificantFirst) {
    std::vector<uint8_t> buf;
    BitWriter w(buf);
    w.put(1, 1);
    w.put(0, 1);
    w.put(5, 3);  // 101
    w.finish();
    ASSERT_EQ(buf.size(), 1u);
    EXPECT_EQ(buf[0], 0x01 | (5 << 2));
}

TEST(BitIo, DetectsReadingPastTheEnd) {
    const uint8_t data[3] = {0xFF, 0x00, 0x01};
    BitReader r(data, sizeof data);
    r.read(24);
    EXPECT_FALSE(r.overran());
    EXPECT_TRUE(r.finish_ok());
    r.read(1);
    EXPECT_TRUE(r.overran());
    EXPECT_FALSE(r.finish_ok());
}

TEST(BitIo, FinishRejectsLeftoverBytesAndNonZeroPadding) {
    const uint8_t data[2] = {0x03, 0x00};
    BitReader whole_byte_left(data, 2);
    whole_byte_left.read(2);
    EXPECT_FALSE(whole_byte_left.finish_ok());  // 14 bits left: a whole unused byte

    const uint8_t pad[1] = {0x0B};  // 1011: reading 2 bits leaves "10" set
    BitReader nonzero(pad, 1);
    nonzero.read(2);
    EXPECT_FALSE(nonzero.finish_ok());
    BitReader exact(pad, 1);
    exact.read(4);
    EXPECT_TRUE(exact.finish_ok());
}

TEST(BitIo, EmptyBufferReadsZerosAndReportsOverrun) {
    BitReader r(nullptr, 0);
    EXPECT_TRUE(r.finish_ok());
    EXPECT_EQ(r.read(8), 0u);
    EXPECT_TRUE(r.overran());
}

}  // namespace
}  // namespace qohi
