// Hostile input: every truncation, random corruption (with and without a
// repaired CRC), and hand-made invalid streams must give an error, never a
// crash, hang or out-of-bounds access.
#include <gtest/gtest.h>

#include <random>

#include "bit_io.h"
#include "byte_io.h"
#include "container.h"
#include "huffman.h"
#include "test_images.h"

namespace qohi_test {
namespace {

// Decodes every frame of `file`; returns the first failure or QOHI_OK.
qohi_status decode_all(const std::vector<uint8_t>& file) {
    qohi_reader* r = nullptr;
    qohi_status s = qohi_reader_open_memory(file.data(), file.size(), nullptr, &r, nullptr);
    if (s != QOHI_OK) return s;
    for (uint32_t i = 0; i < qohi_reader_frame_count(r) && s == QOHI_OK; ++i) {
        qohi_frame_info info;
        s = qohi_reader_frame_info(r, i, &info);
        if (s != QOHI_OK) break;
        std::vector<uint8_t> px(size_t(info.width) * info.height * 4);
        s = qohi_reader_decode_frame(r, i, px.data(), px.size(), 0, 4);
    }
    qohi_reader_close(r);
    return s;
}

std::vector<uint8_t> sample_file() {
    qohi_writer* w = nullptr;
    qohi_write_options o;
    qohi_write_options_init(&o);
    o.band_rows = 9;
    EXPECT_EQ(qohi_writer_open_memory(&o, &w, nullptr), QOHI_OK);
    for (const TestImage& im : synthetic_images()) {
        if (im.pixels.size() > 20000) continue;
        EXPECT_EQ(qohi_writer_add_frame(w, im.pixels.data(), im.width, im.height, im.channels, 0, im.name.c_str()),
                  QOHI_OK);
    }
    void* data;
    size_t size;
    EXPECT_EQ(qohi_writer_finish(w, &data, &size), QOHI_OK);
    qohi_writer_destroy(w);
    std::vector<uint8_t> v(static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
    qohi_free(data);
    return v;
}

TEST(Robustness, SampleFileIsValid) { ASSERT_EQ(decode_all(sample_file()), QOHI_OK); }

TEST(Robustness, EveryTruncationFails) {
    const std::vector<uint8_t> file = sample_file();
    for (size_t n = 0; n < file.size(); ++n) {
        std::vector<uint8_t> cut(file.begin(), file.begin() + long(n));
        const qohi_status s = decode_all(cut);
        ASSERT_NE(s, QOHI_OK) << "prefix of " << n << " bytes";
        // A cut file is reported as cut, never as a foreign or damaged one.
        if (n > 0) ASSERT_EQ(s, QOHI_ERROR_TRUNCATED) << "prefix of " << n << " bytes";
    }
}

TEST(Robustness, RandomByteCorruptionIsCaughtByCrc) {
    const std::vector<uint8_t> file = sample_file();
    std::mt19937 rng(1234);
    for (int trial = 0; trial < 3000; ++trial) {
        std::vector<uint8_t> bad = file;
        const size_t pos = 8 + rng() % (file.size() - 8);
        bad[pos] ^= uint8_t(1 + rng() % 255);
        ASSERT_NE(decode_all(bad), QOHI_OK) << "flip at " << pos;
    }
}

// Corrupts frame data and repairs the CRC, so the band decoder itself must
// cope. Success is allowed (the damage may be harmless); crashing is not.
TEST(Robustness, CorruptFrameDataWithValidCrcNeverCrashes) {
    const std::vector<uint8_t> file = sample_file();
    std::vector<RecordSpan> fdat;
    for (const RecordSpan& r : records(file))
        if (r.type == qohi::kTypeFrameData) fdat.push_back(r);
    ASSERT_FALSE(fdat.empty());
    std::mt19937 rng(99);
    int failures = 0;
    for (int trial = 0; trial < 4000; ++trial) {
        std::vector<uint8_t> bad = file;
        const RecordSpan& r = fdat[rng() % fdat.size()];
        const int flips = 1 + int(rng() % 4);
        for (int k = 0; k < flips; ++k) bad[r.offset + 8 + rng() % r.size] ^= uint8_t(1u << (rng() % 8));
        fix_crc(bad, r);
        failures += decode_all(bad) != QOHI_OK;
    }
    EXPECT_GT(failures, 2000) << "most random damage must be detected";
}

// Builds a one-frame file around a hand-made band.
std::vector<uint8_t> file_with_band(uint32_t width, uint32_t height, uint8_t channels,
                                    const std::vector<uint8_t>& band, uint8_t method = 1) {
    std::vector<uint8_t> file(qohi::kSignature, qohi::kSignature + 8);
    std::vector<uint8_t> payload;
    qohi::encode_file_header(qohi::FileHeader(), payload);
    qohi::append_record(file, qohi::kTypeFileHeader, payload.data(), payload.size());
    qohi::FrameHeader h;
    h.width = width;
    h.height = height;
    h.channels = channels;
    h.method = method;
    std::vector<uint8_t> fhdr;
    qohi::encode_frame_header(h, 0, fhdr);
    const uint64_t frame_offset = file.size();
    qohi::append_record(file, qohi::kTypeFrameHeader, fhdr.data(), fhdr.size());
    std::vector<uint8_t> fdat;
    qohi::ByteWriter w(fdat);
    w.varint(height);  // one band: no band sizes
    w.bytes(band.data(), band.size());
    qohi::append_record(file, qohi::kTypeFrameData, fdat.data(), fdat.size());
    std::vector<uint8_t> index;
    qohi::ByteWriter iw(index);
    iw.u32(1);
    qohi::encode_index_entry(h, 0, frame_offset, "", index);
    qohi::Trailer t{file.size(), 1};
    qohi::append_record(file, qohi::kTypeIndex, index.data(), index.size());
    payload.clear();
    qohi::encode_trailer(t, payload);
    qohi::append_record(file, qohi::kTypeTrailer, payload.data(), payload.size());
    return file;
}

// A band whose OP table gives the listed op symbols the listed code lengths
// (canonical codes: with lengths {1, 2, 2} the symbols read as bits "0",
// "10", "11", i.e. put(0, 1), put(1, 2), put(3, 2)), G/R/B tables with the
// single value 5 (zero-bit codes), no A or distance table, then `bits`.
// With `above`, the distance table has the single symbol 0 (the pixel above).
std::vector<uint8_t> band(const std::vector<std::pair<unsigned, uint8_t>>& op_lengths,
                          const std::vector<std::pair<uint32_t, unsigned>>& bits, bool above = false) {
    std::vector<uint8_t> buf;
    qohi::BitWriter w(buf);
    std::vector<uint8_t> op(342, 0), value(256, 0), dist(44, 0);  // 342: the intra op alphabet
    for (auto [symbol, length] : op_lengths) op[symbol] = length;
    value[5] = 1;
    dist[0] = above ? 1 : 0;
    w.put(0, 6);  // one table per family: no contexts
    const std::vector<uint8_t> no_alpha(256, 0);
    qohi::write_code_tables(w, {&op, &value, &value, &value, &no_alpha, &dist});
    for (auto [v, n] : bits) w.put(v, n);
    w.finish();
    return buf;
}

// Two op symbols with one-bit codes: bit 0 is `op_a`, bit 1 is `op_b` (op_a < op_b).
std::vector<uint8_t> band(unsigned op_a, unsigned op_b, const std::vector<std::pair<uint32_t, unsigned>>& bits) {
    return band({{op_a, 1}, {op_b, 1}}, bits);
}

// A band with the given context groupings (op, G, R+B) and the written
// tables in stream order, then `bits`.
std::vector<uint8_t> band_with_tables(unsigned op_mode, unsigned g_mode, unsigned rb_mode,
                                      const std::vector<std::vector<uint8_t>>& tables,
                                      const std::vector<std::pair<uint32_t, unsigned>>& bits) {
    std::vector<uint8_t> buf;
    qohi::BitWriter w(buf);
    w.put(op_mode | g_mode << 2 | rb_mode << 4, 6);
    std::vector<const std::vector<uint8_t>*> all;
    for (const auto& t : tables) all.push_back(&t);
    qohi::write_code_tables(w, all);
    for (auto [v, n] : bits) w.put(v, n);
    w.finish();
    return buf;
}

// Code lengths for an alphabet of `n` with the listed (symbol, length) pairs.
std::vector<uint8_t> lengths(unsigned n, const std::vector<std::pair<unsigned, uint8_t>>& used) {
    std::vector<uint8_t> l(n, 0);
    for (auto [s, len] : used) l[s] = len;
    return l;
}

TEST(Robustness, ContextTablesAreChosenAsSpecified) {
    const auto op = [](const std::vector<std::pair<unsigned, uint8_t>>& u) { return lengths(342, u); };
    const auto value = [](const std::vector<std::pair<unsigned, uint8_t>>& u) { return lengths(256, u); };
    const std::vector<uint8_t> none(256, 0), no_dist(44, 0);
    std::vector<uint8_t> px;
    // R/B by |dG| (mode 1: contexts {0,1} and {2,3} share): dG = 1 takes the
    // first R/B tables (7, 11), dG = 5 the second (9, 13).
    ASSERT_EQ(decode(file_with_band(2, 1, 3,
                                    band_with_tables(0, 0, 1,
                                                     {op({{0, 1}}), value({{1, 1}, {5, 1}}), value({{7, 1}}),
                                                      value({{9, 1}}), value({{11, 1}}), value({{13, 1}}), none,
                                                      no_dist},
                                                     {{0, 1}, {1, 1}})),
                     px),
              QOHI_OK);
    EXPECT_EQ(px, (std::vector<uint8_t>{8, 1, 12, 22, 6, 30}));
    // G by activity (mode 1): 50 on the first row and column; at (1,1) the
    // neighbours (150, 100, 50 in every channel) give activity 450, context
    // 3, the second table: 100.
    ASSERT_EQ(decode(file_with_band(2, 2, 3,
                                    band_with_tables(0, 1, 0,
                                                     {op({{0, 1}}), value({{50, 1}}), value({{100, 1}}),
                                                      value({{0, 1}}), value({{0, 1}}), none, no_dist},
                                                     {})),
                     px),
              QOHI_OK);
    EXPECT_EQ(px, (std::vector<uint8_t>{50, 50, 50, 100, 100, 100, 150, 150, 150, 250, 250, 250}));
    // Ops by the previous op (mode 1): after a run (context 2) the second
    // op table, whose only op is a difference, needs no bits.
    ASSERT_EQ(decode(file_with_band(3, 1, 3,
                                    band_with_tables(1, 0, 0,
                                                     {op({{0, 1}, {2, 1}}), op({{0, 1}}), value({{5, 1}}),
                                                      value({{0, 1}}), value({{0, 1}}), none, no_dist},
                                                     {{1, 1}, {0, 1}})),
                     px),
              QOHI_OK);
    EXPECT_EQ(px, (std::vector<uint8_t>{0, 0, 0, 5, 5, 5, 10, 10, 10}));
    // Grouping 3 is reserved.
    EXPECT_EQ(decode_all(file_with_band(1, 1, 3,
                                        band_with_tables(3, 0, 0,
                                                         {op({{0, 1}}), value({{0, 1}}), value({{0, 1}}),
                                                          value({{0, 1}}), none, no_dist},
                                                         {}))),
              QOHI_ERROR_CORRUPT);
    // An empty op table, and an empty R table while difference ops exist.
    EXPECT_EQ(decode_all(file_with_band(1, 1, 3,
                                        band_with_tables(1, 0, 0,
                                                         {op({{0, 1}}), op({}), value({{0, 1}}), value({{0, 1}}),
                                                          value({{0, 1}}), none, no_dist},
                                                         {}))),
              QOHI_ERROR_CORRUPT);
    EXPECT_EQ(decode_all(file_with_band(1, 1, 3,
                                        band_with_tables(0, 0, 1,
                                                         {op({{0, 1}}), value({{0, 1}}), value({{0, 1}}), none,
                                                          value({{0, 1}}), value({{0, 1}}), none, no_dist},
                                                         {}))),
              QOHI_ERROR_CORRUPT);
}

TEST(Robustness, ColumnDistanceRepeatsTheLastMatchInTheColumn) {
    // 4x3 RGB. Row 0: four differences of +5. Row 1: a match of 4 at the
    // distance of the pixel above (DIST 0). Row 2: a match of 4 whose
    // distance is the column's last match distance (DIST 43): 4 again.
    // OP: difference "0", match of length 4 (symbol 302) "1"; DIST: 0 "0", 43 "1".
    const std::vector<uint8_t> op = lengths(342, {{0, 1}, {302, 1}});
    const std::vector<uint8_t> five = lengths(256, {{5, 1}}), zero = lengths(256, {{0, 1}});
    const std::vector<uint8_t> none(256, 0), dist = lengths(44, {{0, 1}, {43, 1}});
    const std::vector<std::pair<uint32_t, unsigned>> diffs = {{0, 1}, {0, 1}, {0, 1}, {0, 1}};
    auto bits = diffs;
    bits.insert(bits.end(), {{1, 1}, {0, 1}, {1, 1}, {1, 1}});
    std::vector<uint8_t> px;
    ASSERT_EQ(decode(file_with_band(4, 3, 3, band_with_tables(0, 0, 0, {op, five, zero, zero, none, dist}, bits)), px),
              QOHI_OK);
    const std::vector<uint8_t> row = {5, 5, 5, 10, 10, 10, 15, 15, 15, 20, 20, 20};
    std::vector<uint8_t> expected;
    for (int y = 0; y < 3; ++y) expected.insert(expected.end(), row.begin(), row.end());
    EXPECT_EQ(px, expected);
    // DIST 43 before any match covered the column.
    bits = diffs;
    bits.insert(bits.end(), {{1, 1}, {1, 1}, {1, 1}, {1, 1}});
    EXPECT_EQ(decode_all(file_with_band(4, 3, 3, band_with_tables(0, 0, 0, {op, five, zero, zero, none, dist}, bits))),
              QOHI_ERROR_CORRUPT);
}

TEST(Robustness, HandMadeBandsAreChecked) {
    // Symbols: 0 = difference, 2 = run of 1, 17 = run class 15 (run of 16),
    // 18 = run class 16 (runs of 17..32, 4 extra bits). Code bit 0 -> the
    // smaller symbol.
    // Valid: 4 pixels as difference, run 1, difference, run 1.
    EXPECT_EQ(decode_all(file_with_band(2, 2, 3, band(0, 2, {{0, 1}, {1, 1}, {0, 1}, {1, 1}}))), QOHI_OK);
    // Run past the end: a run of 16 in a 2x2 frame.
    EXPECT_EQ(decode_all(file_with_band(2, 2, 3, band(0, 17, {{1, 1}}))), QOHI_ERROR_CORRUPT);
    // Long run class with extra bits, exact fit: 17 + 3 = 20 pixels.
    EXPECT_EQ(decode_all(file_with_band(5, 4, 3, band(0, 18, {{1, 1}, {3, 4}}))), QOHI_OK);
    // Same run one pixel too long.
    EXPECT_EQ(decode_all(file_with_band(5, 4, 3, band(0, 18, {{1, 1}, {4, 4}}))), QOHI_ERROR_CORRUPT);
    // Stream ends before the last pixel.
    EXPECT_EQ(decode_all(file_with_band(40, 40, 3, band(0, 2, {{0, 3}}))), QOHI_ERROR_CORRUPT);
    // A whole unused byte after the last pixel.
    EXPECT_EQ(decode_all(file_with_band(1, 1, 3, band(0, 2, {{0, 1}, {0, 8}}))), QOHI_ERROR_CORRUPT);
    // Non-zero padding bits.
    EXPECT_EQ(decode_all(file_with_band(1, 1, 3, band(0, 2, {{0, 1}, {1, 1}}))), QOHI_ERROR_CORRUPT);
    // Alpha difference op in an RGB frame.
    EXPECT_EQ(decode_all(file_with_band(1, 1, 3, band(1, 2, {{0, 1}}))), QOHI_ERROR_CORRUPT);
    // Alpha difference op without an A table in an RGBA frame.
    EXPECT_EQ(decode_all(file_with_band(1, 1, 4, band(1, 2, {{0, 1}}))), QOHI_ERROR_CORRUPT);
    // Matches (op 299 + length - 1) copying from the row above. OP codes:
    // 300 "0" = put(0, 1); difference "10" = put(1, 2); run of 1 "11" = put(3, 2).
    const std::vector<std::pair<unsigned, uint8_t>> ops = {{0, 2}, {2, 2}, {300, 1}};
    EXPECT_EQ(decode_all(file_with_band(2, 2, 3, band(ops, {{1, 2}, {3, 2}, {0, 1}}, true))), QOHI_OK);
    // The same match in a 3x1 frame would start before the first pixel.
    EXPECT_EQ(decode_all(file_with_band(3, 1, 3, band(ops, {{1, 2}, {0, 1}}, true))), QOHI_ERROR_CORRUPT);
    // Length 3 (op 301) at the third of four pixels runs past the end.
    const std::vector<std::pair<unsigned, uint8_t>> ops3 = {{0, 2}, {2, 2}, {301, 1}};
    EXPECT_EQ(decode_all(file_with_band(2, 2, 3, band(ops3, {{1, 2}, {3, 2}, {0, 1}}, true))), QOHI_ERROR_CORRUPT);
    // Match ops without a distance table.
    EXPECT_EQ(decode_all(file_with_band(2, 2, 3, band(ops, {{1, 2}, {3, 2}, {0, 1}}, false))), QOHI_ERROR_CORRUPT);
    // Gradient ops (340): the pixel above at x = 0, else left + above -
    // above-left, each plus the difference (5, 10, 10) in (G, R, B).
    {
        std::vector<uint8_t> px;
        ASSERT_EQ(decode(file_with_band(2, 2, 3, band({{0, 1}, {340, 1}}, {{0, 1}, {0, 1}, {1, 1}, {1, 1}})), px),
                  QOHI_OK);
        EXPECT_EQ(px, (std::vector<uint8_t>{10, 5, 10, 20, 10, 20, 20, 10, 20, 40, 20, 40}));
    }
    // Index ops need no payload table: index 0 holds (0,0,0,0) at the start.
    EXPECT_EQ(decode_all(file_with_band(2, 1, 4, band(2, 43, {{1, 1}, {0, 1}}))), QOHI_OK);
}

// A DICI band (spec §4.4): the palette size field (or `size_class` as the
// 5-bit field, nothing after it), the palette, the three OP tables, `bits`.
std::vector<uint8_t> dici_band(const std::vector<uint32_t>& palette, unsigned channels,
                               const std::vector<std::vector<uint8_t>>& tables,
                               const std::vector<std::pair<uint32_t, unsigned>>& bits, int size_class = -1) {
    std::vector<uint8_t> buf;
    qohi::BitWriter w(buf);
    const uint32_t n = uint32_t(palette.size()) - 1;
    const unsigned e = n == 0 ? 0 : 32u - unsigned(__builtin_clz(n));
    if (size_class >= 0) {
        w.put(uint32_t(size_class), 5);
    } else {
        w.put(e, 5);
        if (e >= 2) w.put(n - (1u << (e - 1)), e - 1);
    }
    for (uint32_t colour : palette) w.put(channels == 4 ? colour : colour & 0xFFFFFFu, 8 * channels);
    std::vector<const std::vector<uint8_t>*> all;
    for (const auto& t : tables) all.push_back(&t);
    qohi::write_code_tables(w, all);
    for (auto [v, n2] : bits) w.put(v, n2);
    w.finish();
    return buf;
}

TEST(Robustness, DiciBandsDecodeAsSpecified) {
    // Symbols: 0 .. 40 rank classes, 41 .. 81 runs, 82 .. 122 copies from
    // above; the table is chosen by the previous op's kind.
    const uint32_t a = 0x1E140A, b = 0x326496;  // (10,20,30), (150,100,50)
    const auto t = [](const std::vector<std::pair<unsigned, uint8_t>>& used) { return lengths(123, used); };
    // 3x2: run of 1 (prev starts as palette[0]), rank 1, run of 1, copy of 3
    // from above (which reads pixels it produced: none here) -> A B B / A B B.
    // Table 0 (start, after a rank): symbol 41 only, zero bits. Table 1
    // (after a run): 1 = rank class 1 -> bit 0, 84 = copy class 2 -> bit 1.
    const std::vector<uint8_t> valid = dici_band({a, b}, 3, {t({{41, 1}}), t({{1, 1}, {84, 1}}), t({})},
                                                 {{0, 1}, {1, 1}});
    std::vector<uint8_t> px;
    ASSERT_EQ(decode(file_with_band(3, 2, 3, valid, 2), px), QOHI_OK);
    EXPECT_EQ(px, (std::vector<uint8_t>{10, 20, 30, 150, 100, 50, 150, 100, 50, 10, 20, 30, 150, 100, 50, 150, 100, 50}));
    // A copy longer than a row repeats what it produces. 2x3 RGBA: rank 1
    // twice, then a copy of 4 (class 3, symbol 85), all read with table 0
    // (a rank leaves the context at 0): rank "0", copy "1" -> B everywhere.
    {
        const std::vector<uint8_t> band2 = dici_band({a, b}, 4, {t({{1, 1}, {85, 1}}), t({}), t({})},
                                                     {{0, 1}, {0, 1}, {1, 1}});
        ASSERT_EQ(decode(file_with_band(2, 3, 4, band2, 2), px), QOHI_OK);
        std::vector<uint8_t> want;
        for (int i = 0; i < 6; ++i) want.insert(want.end(), {150, 100, 50, 0});
        EXPECT_EQ(px, want);
    }
    // The errors of §4.4, each CORRUPT.
    const auto status = [](uint32_t w, uint32_t h, const std::vector<uint8_t>& band) {
        return decode_all(file_with_band(w, h, 3, band, 2));
    };
    EXPECT_EQ(status(3, 2, dici_band({a}, 3, {t({{41, 1}}), t({}), t({})}, {}, 30)), QOHI_ERROR_CORRUPT)
        << "palette size class 30";
    EXPECT_EQ(status(2, 1, dici_band({a, b, a}, 3, {t({{41, 1}}), t({}), t({})}, {})), QOHI_ERROR_CORRUPT)
        << "more colours than pixels";
    {
        std::vector<uint8_t> cut = dici_band({a, b}, 3, {t({{41, 1}}), t({}), t({})}, {});
        cut.resize(3);  // the size field and part of the palette
        EXPECT_EQ(status(2, 1, cut), QOHI_ERROR_CORRUPT) << "palette past the band";
    }
    EXPECT_EQ(status(3, 1, dici_band({a}, 3, {t({{41, 1}}), t({}), t({})}, {})), QOHI_ERROR_CORRUPT)
        << "an op after a run, with table 1 empty";
    EXPECT_EQ(status(2, 1, dici_band({a}, 3, {t({{1, 1}}), t({}), t({})}, {})), QOHI_ERROR_CORRUPT)
        << "rank 1 of a one-colour palette";
    EXPECT_EQ(status(2, 1, dici_band({a}, 3, {t({{43, 1}}), t({}), t({})}, {})), QOHI_ERROR_CORRUPT)
        << "run of 3 in 2 pixels";
    EXPECT_EQ(status(2, 1, dici_band({a}, 3, {t({{82, 1}}), t({}), t({})}, {})), QOHI_ERROR_CORRUPT)
        << "copy from above in the first row";
    {
        std::vector<uint8_t> longer = valid;
        longer.push_back(0);
        EXPECT_EQ(status(3, 2, longer), QOHI_ERROR_CORRUPT) << "a whole unused byte";
        std::vector<uint8_t> cut = valid;
        cut.pop_back();
        EXPECT_EQ(status(3, 2, cut), QOHI_ERROR_CORRUPT) << "bits end before the last pixel";
    }
}

TEST(Robustness, DiciFramesHaveNoReference) {
    // A delta frame relabelled as DICI: CORRUPT when the file is opened
    // (§3.7 check 9).
    const TestImage base = make_image("base", 16, 16, 3, [](uint32_t x, uint32_t y, uint32_t k, std::mt19937&) {
        return uint8_t((x * 7 + y * 3) * (k + 1));
    });
    TestImage next = base;
    next.pixels[40] ^= 0xFF;
    const std::vector<uint8_t> file = encode_pair(base, next);
    ASSERT_EQ(decode_all(file), QOHI_OK);
    EXPECT_EQ(decode_all(with_frame_header(file, 1, [](RawFrameHeader& h) {
                  ASSERT_NE(h.reference_distance, 0u);
                  h.method = 2;
              })),
              QOHI_ERROR_CORRUPT);
}

TEST(Robustness, BandTableIsChecked) {
    // A 9x5 RGB image in bands of one row: FDAT = varint 1, the sizes of
    // bands 0 … 3 (each one byte here), then the five bands.
    const TestImage im = synthetic_images()[2];
    ASSERT_EQ(im.width, 9u);
    ASSERT_EQ(im.height, 5u);
    qohi_write_options o;
    qohi_write_options_init(&o);
    o.band_rows = 1;
    o.method = QOHI_CHOOSE_QOHI;
    std::vector<uint8_t> file;
    {
        qohi_writer* w = nullptr;
        ASSERT_EQ(qohi_writer_open_memory(&o, &w, nullptr), QOHI_OK);
        ASSERT_EQ(qohi_writer_add_frame(w, im.pixels.data(), im.width, im.height, im.channels, 0, "x"), QOHI_OK);
        void* data;
        size_t size;
        ASSERT_EQ(qohi_writer_finish(w, &data, &size), QOHI_OK);
        qohi_writer_destroy(w);
        file.assign(static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
        qohi_free(data);
    }
    const auto with_fdat = [&](void (*change)(std::vector<uint8_t>&)) {
        return rebuild_file(file, [&](size_t, uint32_t type, std::vector<uint8_t>& payload) {
            if (type == qohi::kTypeFrameData) change(payload);
        });
    };
    ASSERT_EQ(decode_all(with_fdat([](std::vector<uint8_t>&) {})), QOHI_OK) << "the rewrite itself";
    // Band height 0, and taller than the frame.
    EXPECT_EQ(decode_all(with_fdat([](std::vector<uint8_t>& p) { p[0] = 0; })), QOHI_ERROR_CORRUPT);
    EXPECT_EQ(decode_all(with_fdat([](std::vector<uint8_t>& p) { p[0] = 6; })), QOHI_ERROR_CORRUPT);
    // Bands 0 … 3 take all the data: nothing is left for the last band.
    EXPECT_EQ(decode_all(with_fdat([](std::vector<uint8_t>& p) {
                  p[1] = uint8_t(p.size() - 5 - p[2] - p[3] - p[4]);
              })),
              QOHI_ERROR_CORRUPT);
    // Band 0 one byte shorter: band 1 then starts inside it.
    EXPECT_EQ(decode_all(with_fdat([](std::vector<uint8_t>& p) { p[1] = uint8_t(p[1] - 1); })), QOHI_ERROR_CORRUPT);
    // The band table cut short.
    EXPECT_EQ(decode_all(with_fdat([](std::vector<uint8_t>& p) { p.resize(3); })), QOHI_ERROR_CORRUPT);
}

TEST(Robustness, HeaderFieldsAreValidated) {
    const std::vector<uint8_t> good = file_with_band(1, 1, 3, band(0, 2, {{0, 1}}));
    ASSERT_EQ(decode_all(good), QOHI_OK);
    const std::vector<RecordSpan> recs = records(good);
    ASSERT_EQ(recs[1].type, qohi::kTypeFrameHeader);
    struct Case {
        const char* what;
        void (*change)(RawFrameHeader&);
        qohi_status expected;
    };
    const Case cases[] = {
        {"width 0", [](RawFrameHeader& h) { h.width = 0; }, QOHI_ERROR_CORRUPT},
        {"width 2^24 + 1", [](RawFrameHeader& h) { h.width = (1u << 24) + 1; }, QOHI_ERROR_CORRUPT},
        {"2^15 x 2^15 pixels", [](RawFrameHeader& h) { h.width = h.height = 1u << 15; }, QOHI_ERROR_CORRUPT},
        {"grey+alpha", [](RawFrameHeader& h) { h.channels = 2; }, QOHI_ERROR_UNSUPPORTED},
        {"channels 9", [](RawFrameHeader& h) { h.channels = 9; }, QOHI_ERROR_CORRUPT},
        {"16-bit", [](RawFrameHeader& h) { h.bit_depth = 16; }, QOHI_ERROR_UNSUPPORTED},
        {"bit depth 7", [](RawFrameHeader& h) { h.bit_depth = 7; }, QOHI_ERROR_CORRUPT},
        {"method 3 (reserved)", [](RawFrameHeader& h) { h.method = 3; }, QOHI_ERROR_UNSUPPORTED},
        {"an unknown flag", [](RawFrameHeader& h) { h.flags = 2; }, QOHI_ERROR_UNSUPPORTED},
        {"frame 0 refers to a frame before it", [](RawFrameHeader& h) { h.reference_distance = 1; },
         QOHI_ERROR_CORRUPT},
        {"name not UTF-8", [](RawFrameHeader& h) { h.name = "\xC3("; }, QOHI_ERROR_CORRUPT},
        {"name with NUL", [](RawFrameHeader& h) { h.name = std::string("a\0b", 3); }, QOHI_ERROR_CORRUPT},
    };
    ASSERT_EQ(decode_all(with_frame_header(good, 0, [](RawFrameHeader&) {})), QOHI_OK) << "the rewrite itself";
    for (const Case& c : cases) EXPECT_EQ(decode_all(with_frame_header(good, 0, c.change)), c.expected) << c.what;
    // A field not in its shortest form: width 1 as the two bytes 81 00.
    {
        std::vector<uint8_t> bad = good;
        bad.insert(bad.begin() + long(recs[1].offset + 8), 0x81);
        bad[recs[1].offset + 8 + 1] = 0x00;
        qohi::store_u32(&bad[recs[1].offset + 4], recs[1].size + 1);
        RecordSpan longer = recs[1];
        longer.size += 1;
        fix_crc(bad, longer);
        EXPECT_EQ(decode_all(bad), QOHI_ERROR_CORRUPT);
    }
    // The index entry differs from the frame header.
    std::vector<uint8_t> bad = good;
    bad[recs[1].offset + 8 + 0] = 2;
    fix_crc(bad, recs[1]);
    EXPECT_EQ(decode_all(bad), QOHI_ERROR_CORRUPT);
    // Wrong signature; wrong version.
    bad = good;
    bad[1] = 'X';
    EXPECT_EQ(decode_all(bad), QOHI_ERROR_NOT_QOHI);
    bad = good;
    bad[recs[0].offset + 8] = 2;
    fix_crc(bad, recs[0]);
    EXPECT_EQ(decode_all(bad), QOHI_ERROR_UNSUPPORTED);
}

// Frames this library cannot decode (a reserved method, unknown flags) are
// refused one by one; the file and its other frames stay readable.
TEST(Robustness, UndecodableFramesDoNotBlockTheFile) {
    qohi_writer* w = nullptr;
    ASSERT_EQ(qohi_writer_open_memory(nullptr, &w, nullptr), QOHI_OK);
    const TestImage im = synthetic_images()[3];
    for (const char* name : {"a", "b", "c"})
        ASSERT_EQ(qohi_writer_add_frame(w, im.pixels.data(), im.width, im.height, im.channels, 0, name), QOHI_OK);
    void* data;
    size_t size;
    ASSERT_EQ(qohi_writer_finish(w, &data, &size), QOHI_OK);
    qohi_writer_destroy(w);
    std::vector<uint8_t> file(static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
    qohi_free(data);

    std::vector<RecordSpan> recs = records(file);
    std::vector<RecordSpan> fhdr;
    for (const RecordSpan& r : recs)
        if (r.type == qohi::kTypeFrameHeader) fhdr.push_back(r);
    ASSERT_EQ(fhdr.size(), 3u);
    const RecordSpan& idx = recs[recs.size() - 2];
    ASSERT_EQ(idx.type, qohi::kTypeIndex);
    // Frame 1 gets method 3 (reserved), frame 2 an unknown flag; both in
    // the frame header and in its index entry.
    file = with_frame_header(file, 1, [](RawFrameHeader& h) { h.method = 3; });
    file = with_frame_header(file, 2, [](RawFrameHeader& h) { h.flags = 0x80; });

    qohi_reader* r = nullptr;
    ASSERT_EQ(qohi_reader_open_memory(file.data(), file.size(), nullptr, &r, nullptr), QOHI_OK);
    std::vector<uint8_t> out(im.pixels.size());
    EXPECT_EQ(qohi_reader_decode_frame(r, 0, out.data(), out.size(), 0, 0), QOHI_OK);
    EXPECT_EQ(out, im.pixels);
    qohi_frame_info info;
    ASSERT_EQ(qohi_reader_frame_info(r, 1, &info), QOHI_OK);
    EXPECT_EQ(info.method, 3u);
    EXPECT_EQ(qohi_reader_decode_frame(r, 1, out.data(), out.size(), 0, 0), QOHI_ERROR_UNSUPPORTED);
    EXPECT_EQ(qohi_reader_decode_frame(r, 2, out.data(), out.size(), 0, 0), QOHI_ERROR_UNSUPPORTED);
    uint32_t found = 0;
    EXPECT_EQ(qohi_reader_find_frame(r, "c", &found), QOHI_OK);
    EXPECT_EQ(found, 2u);
    qohi_reader_close(r);
}

TEST(Robustness, IndexOpOnAnUnwrittenEntryInAnRgbFrameIsOpaqueBlack) {
    // Index entry 5 still holds (0,0,0,0). In an RGB frame it reads as opaque
    // black, so the difference op after it makes (10,5,10,255), which lands in
    // index entry (10*3 + 5*5 + 10*7 + 255*11) mod 256 = 114; the index op on
    // entry 114 must then give that colour back (with alpha 0 it would not).
    const unsigned kDiff = 0, kIndex5 = 43 + 5, kIndex114 = 43 + 114;
    std::vector<uint8_t> px;
    ASSERT_EQ(decode(file_with_band(3, 1, 3, band({{kDiff, 1}, {kIndex5, 2}, {kIndex114, 2}}, {{1, 2}, {0, 1}, {3, 2}})),
                     px),
              QOHI_OK);
    EXPECT_EQ(px, (std::vector<uint8_t>{0, 0, 0, 10, 5, 10, 10, 5, 10}));
}

TEST(Robustness, PixelLimitIsHonouredBeforeDecoding) {
    const TestImage im = synthetic_images()[3];
    const std::vector<uint8_t> file = encode(im, nullptr);
    qohi_read_options o;
    qohi_read_options_init(&o);
    o.max_pixels = uint64_t(im.width) * im.height - 1;
    void* px = nullptr;
    qohi_error err;
    EXPECT_EQ(qohi_decode(file.data(), file.size(), &o, 0, &px, nullptr, &err), QOHI_ERROR_LIMIT);
    EXPECT_EQ(px, nullptr);
    EXPECT_NE(std::string(err.message).find("limit"), std::string::npos) << err.message;
    o.max_pixels += 1;
    ASSERT_EQ(qohi_decode(file.data(), file.size(), &o, 0, &px, nullptr, nullptr), QOHI_OK);
    qohi_free(px);
}

}  // namespace
}  // namespace qohi_test
