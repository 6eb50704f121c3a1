// Hostile input: every truncation, random corruption (with and without a
// repaired CRC), and hand-made invalid streams must give an error, never a
// crash, hang or out-of-bounds access.
#include <gtest/gtest.h>

#include <random>

#include "bit_io.h"
#include "byte_io.h"
#include "container.h"
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

struct RecordSpan {
    size_t offset;  // of the record
    uint32_t type;
    uint32_t size;
};

std::vector<RecordSpan> records(const std::vector<uint8_t>& file) {
    std::vector<RecordSpan> v;
    for (size_t off = 8; off + 12 <= file.size();) {
        const uint32_t size = qohi::load_u32(&file[off + 4]);
        v.push_back({off, qohi::load_u32(&file[off]), size});
        off += 12 + size;
    }
    return v;
}

void fix_crc(std::vector<uint8_t>& file, const RecordSpan& r) {
    qohi::store_u32(&file[r.offset + 8 + r.size], qohi::record_crc(r.type, &file[r.offset + 8], r.size));
}

TEST(Robustness, SampleFileIsValid) { ASSERT_EQ(decode_all(sample_file()), QOHI_OK); }

TEST(Robustness, EveryTruncationFails) {
    const std::vector<uint8_t> file = sample_file();
    for (size_t n = 0; n < file.size(); ++n) {
        std::vector<uint8_t> cut(file.begin(), file.begin() + long(n));
        const qohi_status s = decode_all(cut);
        ASSERT_NE(s, QOHI_OK) << "prefix of " << n << " bytes";
        if (n >= 8) ASSERT_NE(s, QOHI_ERROR_NOT_QOHI) << n;
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
                                    const std::vector<uint8_t>& band) {
    std::vector<uint8_t> file(qohi::kSignature, qohi::kSignature + 8);
    std::vector<uint8_t> payload;
    qohi::encode_file_header(qohi::FileHeader(), payload);
    qohi::append_record(file, qohi::kTypeFileHeader, payload.data(), payload.size());
    qohi::FrameHeader h;
    h.width = width;
    h.height = height;
    h.channels = channels;
    h.method = 1;
    std::vector<uint8_t> fhdr;
    qohi::encode_frame_header(h, fhdr);
    const uint64_t frame_offset = file.size();
    qohi::append_record(file, qohi::kTypeFrameHeader, fhdr.data(), fhdr.size());
    std::vector<uint8_t> fdat;
    qohi::ByteWriter w(fdat);
    w.u32(height);
    w.u32(uint32_t(band.size()));
    w.bytes(band.data(), band.size());
    qohi::append_record(file, qohi::kTypeFrameData, fdat.data(), fdat.size());
    std::vector<uint8_t> index;
    qohi::ByteWriter iw(index);
    iw.u32(1);
    iw.u64(frame_offset);
    iw.bytes(fhdr.data(), fhdr.size());
    qohi::Trailer t{file.size(), 1};
    qohi::append_record(file, qohi::kTypeIndex, index.data(), index.size());
    payload.clear();
    qohi::encode_trailer(t, payload);
    qohi::append_record(file, qohi::kTypeTrailer, payload.data(), payload.size());
    return file;
}

// A band whose OP table holds the given symbols with a complete code
// (two symbols: one bit each), G/R/B single-symbol tables and no A table,
// followed by `ops` (bit values for the one-bit OP codes) and extra bits.
std::vector<uint8_t> band(unsigned op_a, unsigned op_b, const std::vector<std::pair<uint32_t, unsigned>>& bits) {
    std::vector<uint8_t> buf;
    qohi::BitWriter w(buf);
    auto table = [&](unsigned n, std::vector<unsigned> symbols) {
        // Code-length code: symbol 1 ("length 1") and 15 ("zeros 11..138")
        // and 14 ("zeros 3..10") and 0, all with 2-bit codes.
        w.put(1, 1);
        for (unsigned s = 0; s < 16; ++s) w.put((s == 0 || s == 1 || s == 14 || s == 15) ? 2 : 0, 3);
        // canonical 2-bit codes: 0 -> 00, 1 -> 01, 14 -> 10, 15 -> 11 (first bit first)
        auto put_sym = [&](unsigned s) { w.put(s == 0 ? 0 : s == 1 ? 2 : s == 14 ? 1 : 3, 2); };
        unsigned i = 0;
        for (unsigned s : symbols) {
            while (i < s) {
                const unsigned gap = s - i;
                if (gap >= 11) {
                    const unsigned r = std::min(gap, 138u);
                    put_sym(15), w.put(r - 11, 7), i += r;
                } else if (gap >= 3) {
                    put_sym(14), w.put(gap - 3, 3), i += gap;
                } else {
                    put_sym(0), ++i;
                }
            }
            put_sym(1), ++i;
        }
        while (i < n) {
            const unsigned gap = n - i;
            if (gap >= 11) {
                const unsigned r = std::min(gap, 138u);
                put_sym(15), w.put(r - 11, 7), i += r;
            } else if (gap >= 3) {
                put_sym(14), w.put(gap - 3, 3), i += gap;
            } else {
                put_sym(0), ++i;
            }
        }
    };
    table(299, {op_a, op_b});
    for (int t = 0; t < 3; ++t) table(256, {5});
    w.put(0, 1);  // no A table
    for (auto [v, n] : bits) w.put(v, n);
    w.finish();
    return buf;
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
    EXPECT_EQ(decode_all(file_with_band(40, 40, 3, band(0, 2, {{0, 3}}))), QOHI_ERROR_TRUNCATED);
    // A whole unused byte after the last pixel.
    EXPECT_EQ(decode_all(file_with_band(1, 1, 3, band(0, 2, {{0, 1}, {0, 8}}))), QOHI_ERROR_CORRUPT);
    // Non-zero padding bits.
    EXPECT_EQ(decode_all(file_with_band(1, 1, 3, band(0, 2, {{0, 1}, {1, 1}}))), QOHI_ERROR_CORRUPT);
    // Alpha difference op in an RGB frame.
    EXPECT_EQ(decode_all(file_with_band(1, 1, 3, band(1, 2, {{0, 1}}))), QOHI_ERROR_CORRUPT);
    // Alpha difference op without an A table in an RGBA frame.
    EXPECT_EQ(decode_all(file_with_band(1, 1, 4, band(1, 2, {{0, 1}}))), QOHI_ERROR_CORRUPT);
    // Index ops need no payload table: index 0 holds (0,0,0,0) at the start.
    EXPECT_EQ(decode_all(file_with_band(2, 1, 4, band(2, 43, {{1, 1}, {0, 1}}))), QOHI_OK);
}

TEST(Robustness, HeaderFieldsAreValidated) {
    const std::vector<uint8_t> good = file_with_band(1, 1, 3, band(0, 2, {{0, 1}}));
    ASSERT_EQ(decode_all(good), QOHI_OK);
    const std::vector<RecordSpan> recs = records(good);
    ASSERT_EQ(recs[1].type, qohi::kTypeFrameHeader);
    struct Case {
        size_t field;  // offset in the FHDR payload
        uint8_t value;
        qohi_status expected;
    };
    const Case cases[] = {
        {0, 0, QOHI_ERROR_CORRUPT},       // width 0
        {3, 0x40, QOHI_ERROR_CORRUPT},    // width 2^30 + 1
        {8, 2, QOHI_ERROR_UNSUPPORTED},   // grey+alpha channels
        {8, 9, QOHI_ERROR_CORRUPT},       // channels 9
        {9, 16, QOHI_ERROR_UNSUPPORTED},  // 16-bit
        {10, 2, QOHI_ERROR_UNSUPPORTED},  // method 2 (reserved for DICI)
        {11, 1, QOHI_ERROR_UNSUPPORTED},  // flags
        {12, 0, QOHI_ERROR_UNSUPPORTED},  // a reference frame
    };
    for (const Case& c : cases) {
        std::vector<uint8_t> bad = good;
        // Change the field in both copies (FHDR and index) so only the field is wrong.
        bad[recs[1].offset + 8 + c.field] = c.value;
        fix_crc(bad, recs[1]);
        const RecordSpan& idx = recs[3];
        bad[idx.offset + 8 + 4 + 8 + c.field] = c.value;
        fix_crc(bad, idx);
        EXPECT_EQ(decode_all(bad), c.expected) << "field " << c.field;
    }
    // Index copy differs from the frame header.
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
