// Delta frames: reference ops, explicit and automatic references, chain
// depth, the reader's cache, invalid references, and metadata.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "byte_io.h"
#include "container.h"
#include "test_images.h"

namespace qohi_test {
namespace {

// A base picture and variants of it: a moved square, recoloured pixels,
// changed alpha. Together they exercise reference runs and differences.
std::vector<TestImage> variant_set(uint32_t channels, int count) {
    std::vector<TestImage> v;
    std::mt19937 rng(42);
    TestImage base = make_image("base", 120, 90, channels, [](uint32_t x, uint32_t y, uint32_t k, std::mt19937& r) {
        if (k == 3) return uint8_t(x < 10 ? 0 : 255);
        return uint8_t((x * 3 + y * 5 + k * 40) % 251 + (r() % 3));
    });
    for (int i = 0; i < count; ++i) {
        TestImage im = base;
        im.name = "variant_" + std::to_string(i);
        const uint32_t x0 = uint32_t(10 + i * 7) % 100, y0 = uint32_t(5 + i * 3) % 70;
        for (uint32_t y = y0; y < y0 + 15; ++y)
            for (uint32_t x = x0; x < x0 + 15; ++x) {
                uint8_t* p = &im.pixels[(size_t(y) * im.width + x) * channels];
                p[0] = uint8_t(p[0] + 1 + i);  // close to the reference: reference differences
                p[1] = uint8_t(200 - i);
                if (channels == 4) p[3] = uint8_t(128 + i);
            }
        for (int k = 0; k < 20; ++k) im.pixels[rng() % im.pixels.size()] ^= 0x55;
        v.push_back(std::move(im));
    }
    return v;
}

struct Packed {
    std::vector<uint8_t> file;
};

Packed pack(const std::vector<TestImage>& images, const std::vector<int64_t>& refs, uint32_t max_depth = 0) {
    qohi_write_options wo;
    qohi_write_options_init(&wo);
    if (max_depth) wo.max_depth = max_depth;
    qohi_writer* w = nullptr;
    EXPECT_EQ(qohi_writer_open_memory(&wo, &w, nullptr), QOHI_OK);
    for (size_t i = 0; i < images.size(); ++i) {
        qohi_frame_options fo;
        qohi_frame_options_init(&fo);
        fo.name = images[i].name.c_str();
        fo.reference = refs[i];
        if (refs[i] >= 0) fo.reference_pixels = images[size_t(refs[i])].pixels.data();
        const TestImage& im = images[i];
        EXPECT_EQ(qohi_writer_add_frame_with(w, im.pixels.data(), im.width, im.height, im.channels, 0, &fo), QOHI_OK)
            << qohi_writer_message(w);
    }
    void* data;
    size_t size;
    EXPECT_EQ(qohi_writer_finish(w, &data, &size), QOHI_OK);
    qohi_writer_destroy(w);
    Packed p{std::vector<uint8_t>(static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size)};
    qohi_free(data);
    return p;
}

// Decodes every frame in `order` and compares; returns the frame infos.
std::vector<qohi_frame_info> check_all(const std::vector<uint8_t>& file, const std::vector<TestImage>& images,
                                       const std::vector<uint32_t>& order, int low_memory = 0) {
    qohi_read_options ro;
    qohi_read_options_init(&ro);
    ro.low_memory = low_memory;
    qohi_reader* r = nullptr;
    EXPECT_EQ(qohi_reader_open_memory(file.data(), file.size(), &ro, &r, nullptr), QOHI_OK);
    std::vector<qohi_frame_info> infos(images.size());
    if (!r) return infos;
    EXPECT_EQ(qohi_reader_frame_count(r), images.size());
    for (uint32_t i : order) {
        const TestImage& im = images[i];
        std::vector<uint8_t> out(im.pixels.size());
        EXPECT_EQ(qohi_reader_decode_frame(r, i, out.data(), out.size(), 0, 0), QOHI_OK) << qohi_reader_message(r);
        EXPECT_EQ(out, im.pixels) << "frame " << i;
        EXPECT_EQ(qohi_reader_frame_info(r, i, &infos[i]), QOHI_OK);
    }
    qohi_reader_close(r);
    return infos;
}

TEST(Delta, ExplicitReferencesRoundTripAndShrink) {
    for (uint32_t channels : {3u, 4u}) {
        const std::vector<TestImage> images = variant_set(channels, 6);
        const Packed intra = pack(images, std::vector<int64_t>(6, QOHI_REFERENCE_NONE));
        const Packed delta = pack(images, {-1, 0, 0, 2, 3, 1});
        const auto infos = check_all(delta.file, images, {5, 0, 3, 4, 1, 2});
        EXPECT_EQ(infos[0].reference, -1);
        EXPECT_EQ(infos[1].reference, 0);
        EXPECT_EQ(infos[4].reference, 3);
        EXPECT_EQ(infos[4].depth, 3u);
        EXPECT_EQ(infos[5].depth, 2u);
        EXPECT_LT(delta.file.size() * 3, intra.file.size()) << "deltas of near-identical frames must be small";
        check_all(delta.file, images, {4, 5, 3, 2, 1, 0}, /*low_memory=*/1);
    }
}

TEST(Delta, AutomaticReferencesRoundTrip) {
    std::vector<TestImage> images = variant_set(4, 8);
    // An unrelated frame in the middle and another size: must stay intra.
    images.insert(images.begin() + 4, synthetic_images()[13]);  // noise_rgba
    images.push_back(make_image("small", 10, 10, 4, [](uint32_t x, uint32_t, uint32_t, std::mt19937&) {
        return uint8_t(x);
    }));
    const Packed p = pack(images, std::vector<int64_t>(images.size(), QOHI_REFERENCE_AUTO), 3);
    std::vector<uint32_t> order(images.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    const auto infos = check_all(p.file, images, order);
    int deltas = 0;
    for (size_t i = 0; i < infos.size(); ++i) {
        if (infos[i].reference >= 0) {
            ++deltas;
            EXPECT_LT(infos[i].reference, int64_t(i));
            EXPECT_LE(infos[i].depth, 3u);
        }
    }
    EXPECT_EQ(infos[4].reference, -1) << "noise has no good reference";
    EXPECT_EQ(infos.back().reference, -1) << "no frame of the same size";
    EXPECT_GE(deltas, 6);
}

TEST(Delta, ChainsStopAtTheDepthLimit) {
    const std::vector<TestImage> images = variant_set(3, 5);
    // Depth 3 allowed: 0 <- 1 <- 2 <- 3 is fine, 4 -> 3 would be depth 4.
    const Packed p = pack(images, {-1, 0, 1, 2, 1}, 3);
    const auto infos = check_all(p.file, images, {3, 4, 0, 1, 2}, 1);
    EXPECT_EQ(infos[3].depth, 3u);

    qohi_write_options wo;
    qohi_write_options_init(&wo);
    wo.max_depth = 3;
    qohi_writer* w = nullptr;
    ASSERT_EQ(qohi_writer_open_memory(&wo, &w, nullptr), QOHI_OK);
    for (int i = 0; i < 5; ++i) {
        qohi_frame_options fo;
        qohi_frame_options_init(&fo);
        fo.reference = i - 1;
        if (i > 0) fo.reference_pixels = images[size_t(i - 1)].pixels.data();
        const qohi_status s = qohi_writer_add_frame_with(w, images[size_t(i)].pixels.data(), 120, 90, 3, 0, &fo);
        EXPECT_EQ(s, i < 4 ? QOHI_OK : QOHI_ERROR_INVALID_ARGUMENT) << i;
    }
    // Mismatched sizes and later frames are refused as references.
    qohi_frame_options fo;
    qohi_frame_options_init(&fo);
    fo.reference = 0;
    fo.reference_pixels = images[0].pixels.data();
    std::vector<uint8_t> small(30 * 3);
    EXPECT_EQ(qohi_writer_add_frame_with(w, small.data(), 10, 3, 3, 0, &fo), QOHI_ERROR_INVALID_ARGUMENT);
    fo.reference = 99;
    EXPECT_EQ(qohi_writer_add_frame_with(w, images[0].pixels.data(), 120, 90, 3, 0, &fo),
              QOHI_ERROR_INVALID_ARGUMENT);
    qohi_writer_destroy(w);
}

// Sets a field of frame `frame`'s header in both copies (FHDR and index).
qohi_status open_status(const std::vector<uint8_t>& f) {
    qohi_reader* r = nullptr;
    const qohi_status s = qohi_reader_open_memory(f.data(), f.size(), nullptr, &r, nullptr);
    qohi_reader_close(r);
    return s;
}

TEST(Delta, InvalidReferencesAreRejected) {
    const std::vector<TestImage> images = variant_set(3, 3);
    const Packed p = pack(images, {-1, 0, 1});
    ASSERT_EQ(open_status(p.file), QOHI_OK);

    // References are distances back, so a later frame or the frame itself
    // cannot be named; a distance past the first frame can.
    EXPECT_EQ(open_status(with_frame_header(p.file, 1, [](RawFrameHeader&) {})), QOHI_OK) << "the rewrite itself";
    EXPECT_EQ(open_status(with_frame_header(p.file, 1, [](RawFrameHeader& h) { h.reference_distance = 2; })),
              QOHI_ERROR_CORRUPT);
    // Frame 0 wider than the frames referring to it.
    EXPECT_EQ(open_status(with_frame_header(p.file, 0, [](RawFrameHeader& h) { h.width = 121; })),
              QOHI_ERROR_CORRUPT);
    // Stored method with a reference.
    EXPECT_EQ(open_status(with_frame_header(p.file, 1, [](RawFrameHeader& h) { h.method = 0; })), QOHI_ERROR_CORRUPT);
    std::vector<uint8_t> f = p.file;
    // Chain depth over the file's limit: declare max depth 1 in QHDR.
    const RecordSpan qhdr = records(f)[0];
    qohi::store_u32(&f[qhdr.offset + 8 + 4], 1);
    fix_crc(f, qhdr);
    EXPECT_EQ(open_status(f), QOHI_ERROR_CORRUPT);
}

// Damaged delta frames (CRC repaired so the band decoder sees the damage)
// must fail cleanly: reference runs, matches into the reference and
// reference differences all index memory.
TEST(Delta, CorruptDeltaDataNeverCrashes) {
    const std::vector<TestImage> images = variant_set(4, 4);
    const Packed p = pack(images, {-1, 0, 1, 0});
    std::vector<RecordSpan> fdat;
    for (const RecordSpan& s : records(p.file))
        if (s.type == qohi::kTypeFrameData) fdat.push_back(s);
    ASSERT_EQ(fdat.size(), 4u);
    std::mt19937 rng(7);
    int failures = 0;
    for (int trial = 0; trial < 1500; ++trial) {
        std::vector<uint8_t> f = p.file;
        const RecordSpan& s = fdat[1 + rng() % 3];  // a delta frame
        for (int k = 0; k < 1 + int(rng() % 3); ++k) f[s.offset + 8 + rng() % s.size] ^= uint8_t(1u << (rng() % 8));
        fix_crc(f, s);
        qohi_reader* r = nullptr;
        ASSERT_EQ(qohi_reader_open_memory(f.data(), f.size(), nullptr, &r, nullptr), QOHI_OK);
        for (uint32_t i = 0; i < 4; ++i) {
            std::vector<uint8_t> out(images[i].pixels.size());
            failures += qohi_reader_decode_frame(r, i, out.data(), out.size(), 0, 0) != QOHI_OK;
        }
        qohi_reader_close(r);
    }
    EXPECT_GT(failures, 1000);
}

TEST(Delta, MetadataTravelsWithItsFrame) {
    const std::vector<TestImage> images = variant_set(4, 2);
    const uint8_t icc[] = {0, 0, 2, 0x30, 'a', 'p', 'p', 'l'};
    const char exif[] = "MM\0*\0\0\0\x08";
    const char xmp[] = "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"/>";
    const char text[] = "caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC";
    const qohi_metadata meta[] = {
        {QOHI_METADATA_ICC, "sRGB built-in", icc, sizeof icc},
        {QOHI_METADATA_EXIF, nullptr, exif, 8},
        {QOHI_METADATA_XMP, nullptr, xmp, sizeof xmp - 1},
        {QOHI_METADATA_TEXT, "Comment", text, sizeof text - 1},
        {QOHI_METADATA_TEXT, "Empty", "", 0},
    };
    qohi_writer* w = nullptr;
    ASSERT_EQ(qohi_writer_open_memory(nullptr, &w, nullptr), QOHI_OK);
    qohi_frame_options fo;
    qohi_frame_options_init(&fo);
    fo.metadata = meta;
    fo.metadata_count = 5;
    ASSERT_EQ(qohi_writer_add_frame_with(w, images[0].pixels.data(), 120, 90, 4, 0, &fo), QOHI_OK)
        << qohi_writer_message(w);
    fo.metadata_count = 0;
    fo.baseline = 1;  // shown by the reader; a baseline is always coded on its own
    fo.reference = 0;
    fo.reference_pixels = images[0].pixels.data();
    ASSERT_EQ(qohi_writer_add_frame_with(w, images[1].pixels.data(), 120, 90, 4, 0, &fo), QOHI_OK);
    // Invalid metadata is refused before anything is written.
    const qohi_metadata bad_key = {QOHI_METADATA_TEXT, "", "x", 1};
    const qohi_metadata bad_text = {QOHI_METADATA_TEXT, "k", "\xFF", 1};
    const qohi_metadata bad_kind = {99, nullptr, "x", 1};
    for (const qohi_metadata* m : {&bad_key, &bad_text, &bad_kind}) {
        fo.metadata = m;
        fo.metadata_count = 1;
        fo.reference = QOHI_REFERENCE_NONE;
        EXPECT_EQ(qohi_writer_add_frame_with(w, images[1].pixels.data(), 120, 90, 4, 0, &fo),
                  QOHI_ERROR_INVALID_ARGUMENT);
    }
    void* data;
    size_t size;
    ASSERT_EQ(qohi_writer_finish(w, &data, &size), QOHI_OK);
    qohi_writer_destroy(w);

    qohi_reader* r = nullptr;
    ASSERT_EQ(qohi_reader_open_memory(data, size, nullptr, &r, nullptr), QOHI_OK);
    ASSERT_EQ(qohi_reader_frame_count(r), 2u);
    const qohi_metadata* items = nullptr;
    size_t count = 0;
    ASSERT_EQ(qohi_reader_frame_metadata(r, 0, &items, &count), QOHI_OK);
    ASSERT_EQ(count, 5u);
    for (size_t i = 0; i < count; ++i) {
        EXPECT_EQ(items[i].kind, meta[i].kind);
        EXPECT_STREQ(items[i].key ? items[i].key : "", meta[i].key ? meta[i].key : "");
        ASSERT_EQ(items[i].size, meta[i].size);
        EXPECT_EQ(std::memcmp(items[i].data, meta[i].data, meta[i].size), 0) << i;
    }
    ASSERT_EQ(qohi_reader_frame_metadata(r, 1, &items, &count), QOHI_OK);
    EXPECT_EQ(count, 0u);
    qohi_frame_info info;
    ASSERT_EQ(qohi_reader_frame_info(r, 0, &info), QOHI_OK);
    EXPECT_EQ(info.baseline, 0);
    ASSERT_EQ(qohi_reader_frame_info(r, 1, &info), QOHI_OK);
    EXPECT_EQ(info.baseline, 1);
    EXPECT_EQ(info.reference, -1);
    std::vector<uint8_t> out(images[1].pixels.size());
    ASSERT_EQ(qohi_reader_decode_frame(r, 1, out.data(), out.size(), 0, 0), QOHI_OK);
    EXPECT_EQ(out, images[1].pixels);
    qohi_reader_close(r);
    qohi_free(data);
}

}  // namespace
}  // namespace qohi_test
