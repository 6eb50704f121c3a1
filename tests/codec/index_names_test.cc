// Front-coded frame names (spec §3.11, §13): an index whose names add up to
// thousands of times the file opens in memory bounded by the file, names
// still come back whole (by index, by name, and as the frame headers check
// them), and every invalid name is still reported when the file is opened.
//
// This program counts the bytes in use (alloc_counter.h), so it is built on
// its own, not into codec_tests.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "alloc_counter.h"
#include "byte_io.h"
#include "container.h"
#include "qohi/qohi.h"

namespace qohi_test {
namespace {

// An index entry's name as the index codes it.
struct FrontCoded {
    size_t shared;
    std::string suffix;
};

// The full names the entries describe.
std::vector<std::string> full_names(const std::vector<FrontCoded>& entries) {
    std::vector<std::string> names;
    for (const FrontCoded& e : entries)
        names.push_back((names.empty() ? std::string() : names.back().substr(0, e.shared)) + e.suffix);
    return names;
}

// A file whose index front-codes the names as given (whatever `shared` a
// writer would choose). With `real_frames`, every frame is a 1x1 stored RGB
// frame of colour (i, 2i, 3i) whose FHDR carries its full name; without,
// every frame is an empty 12-byte record, which opening does not read, so
// that a small file can describe huge names.
std::vector<uint8_t> file_with_names(const std::vector<FrontCoded>& entries, bool real_frames,
                                     uint32_t first_width = 1) {
    const std::vector<std::string> names = full_names(entries);
    std::vector<uint8_t> file(qohi::kSignature, qohi::kSignature + 8);
    std::vector<uint8_t> payload;
    qohi::encode_file_header(qohi::FileHeader(), payload);
    qohi::append_record(file, qohi::kTypeFileHeader, payload.data(), payload.size());
    std::vector<uint64_t> offsets;
    for (size_t i = 0; i < entries.size(); ++i) {
        offsets.push_back(file.size());
        if (!real_frames) {
            qohi::append_record(file, qohi::kTypeFrameHeader, nullptr, 0);
            continue;
        }
        qohi::FrameHeader h;
        h.width = h.height = 1;
        h.channels = 3;
        h.method = 0;
        h.name = names[i];
        payload.clear();
        qohi::encode_frame_header(h, uint32_t(i), payload);
        qohi::append_record(file, qohi::kTypeFrameHeader, payload.data(), payload.size());
        const uint8_t fdat[4] = {1, uint8_t(i), uint8_t(2 * i), uint8_t(3 * i)};  // one band of one row
        qohi::append_record(file, qohi::kTypeFrameData, fdat, sizeof fdat);
    }
    std::vector<uint8_t> index;
    qohi::ByteWriter w(index);
    w.u32(uint32_t(entries.size()));
    for (size_t i = 0; i < entries.size(); ++i) {
        w.varint(offsets[i] - (i ? offsets[i - 1] : 0));
        w.varint(entries[i].shared);
        w.varint(i == 0 ? first_width : 1);  // width
        w.varint(1);                          // height
        w.u8(3);                              // channels
        w.u8(8);                              // bit depth
        w.u8(0);                              // method: stored
        w.u8(0);                              // flags
        w.varint(0);                          // no reference
        w.varint(entries[i].suffix.size());
        w.bytes(entries[i].suffix.data(), entries[i].suffix.size());
    }
    const qohi::Trailer trailer{file.size(), uint32_t(entries.size())};
    qohi::append_record(file, qohi::kTypeIndex, index.data(), index.size());
    payload.clear();
    qohi::encode_trailer(trailer, payload);
    qohi::append_record(file, qohi::kTypeTrailer, payload.data(), payload.size());
    return file;
}

// A reader on a file in memory, which it keeps (the reader does not copy it).
struct Opened {
    std::vector<uint8_t> file;
    qohi_reader* reader = nullptr;
    qohi_status status = QOHI_OK;
    std::string message;
    ~Opened() { qohi_reader_close(reader); }
};

void open(std::vector<uint8_t> file, Opened& out) {
    out.file = std::move(file);
    qohi_error error{};
    out.status = qohi_reader_open_memory(out.file.data(), out.file.size(), nullptr, &out.reader, &error);
    out.message = out.status == QOHI_OK ? "" : error.message;
}

std::string name_of(qohi_reader* reader, uint32_t index) {
    qohi_frame_info info{};
    EXPECT_EQ(qohi_reader_frame_info(reader, index, &info), QOHI_OK);
    EXPECT_EQ(std::strlen(info.name), info.name_size);
    return std::string(info.name, info.name_size);
}

// The hostile case of spec §13: every name 65,535 bytes, all but the first
// taken almost wholly from the name before (3 new bytes, so that no two
// are alike), in a file of about 200 KB.
std::vector<FrontCoded> hostile_entries(size_t count) {
    std::vector<FrontCoded> entries{{0, std::string(65535, 'a')}};
    for (size_t i = 1; i < count; ++i) {
        const char tail[3] = {char('a' + i % 26), char('a' + i / 26 % 26), char('a' + i / 676 % 26)};
        entries.push_back({65532, std::string(tail, 3)});
    }
    return entries;
}

TEST(IndexNames, HostileNamesOpenInMemoryBoundedByTheFile) {
    const size_t count = 8000;
    const std::vector<FrontCoded> entries = hostile_entries(count);
    std::vector<uint8_t> file = file_with_names(entries, false);
    // Their full names would take 8000 x 64 KiB = 500 MiB; the reader may
    // use a small multiple of the file's size (its index and frame table).
    const size_t bound = 16 * file.size();
    ASSERT_LT(file.size(), 300000u);

    Opened r;
    EXPECT_LT(peak_bytes_during([&] { open(std::move(file), r); }), bound);  // moved: no copy counted
    ASSERT_EQ(r.status, QOHI_OK) << r.message;
    ASSERT_EQ(qohi_reader_frame_count(r.reader), count);

    // Finding a name, or none, stays within the bound too.
    const std::string wanted = std::string(65532, 'a') + "fgh";  // entry 5 + 6 x 26 + 7 x 676
    uint32_t found = 0;
    qohi_status st = QOHI_OK;
    EXPECT_LT(peak_bytes_during([&] { st = qohi_reader_find_frame(r.reader, wanted.c_str(), &found); }), bound);
    ASSERT_EQ(st, QOHI_OK);
    EXPECT_EQ(found, 5u + 6 * 26 + 7 * 676);
    EXPECT_LT(peak_bytes_during([&] {
                  st = qohi_reader_find_frame(r.reader, (std::string(65532, 'a') + "zzz").c_str(), &found);
              }),
              bound);
    EXPECT_EQ(st, QOHI_ERROR_NOT_FOUND);

    // One name asked for costs that name, whole.
    std::string last;
    EXPECT_LT(peak_bytes_during([&] { last = name_of(r.reader, count - 1); }), bound);
    EXPECT_EQ(last, full_names(entries).back());
    // So does comparing a frame header with its index entry (these frames
    // have empty headers, which disagree).
    uint8_t px[3];
    EXPECT_LT(peak_bytes_during([&] { st = qohi_reader_decode_frame(r.reader, 3, px, sizeof px, 0, 3); }), bound);
    EXPECT_EQ(st, QOHI_ERROR_CORRUPT);
}

// Names a writer front-codes: sub-folders, non-ASCII names whose shared
// prefix ends inside a character, a 4-byte character, unnamed frames, the
// longest name and its neighbours, and a long run of names with a long
// common prefix (so names are built by walking back over many entries).
std::vector<std::string> varied_names() {
    std::vector<std::string> names = {
        "hero/smile.png", "hero/smirk.png", "",  "hero/sub/deep/a.png", "caf\xC3\xA9.png", "caf\xC3\xA8.png",
        "caf\xC3\xA8s/\xE2\x82\xAC.png", "\xF0\x9F\x98\x80.png", "\xF0\x9F\x98\x81.png", "",
        "\xE6\x97\xA5\xE6\x9C\xAC/\xE7\x94\xBB\xE5\x83\x8F.png",
    };
    names.push_back(std::string(65535, 'x'));
    names.push_back(std::string(65534, 'x') + "y");
    names.push_back(std::string(60000, 'x') + "/short.png");
    const std::string dir = "collection/" + std::string(300, 'd') + "/\xC3\xA9t\xC3\xA9/";
    for (int i = 0; i < 3000; ++i) names.push_back(dir + "img_" + std::to_string(i) + ".png");
    names.push_back("z.png");
    return names;
}

TEST(IndexNames, WrittenNamesComeBackByIndexAndByName) {
    const std::vector<std::string> names = varied_names();
    qohi_writer* w = nullptr;
    ASSERT_EQ(qohi_writer_open_memory(nullptr, &w, nullptr), QOHI_OK);
    for (size_t i = 0; i < names.size(); ++i) {
        const uint8_t px[3] = {uint8_t(i), uint8_t(i >> 8), 7};
        ASSERT_EQ(qohi_writer_add_frame(w, px, 1, 1, 3, 0, names[i].c_str()), QOHI_OK) << i;
    }
    void* data = nullptr;
    size_t size = 0;
    ASSERT_EQ(qohi_writer_finish(w, &data, &size), QOHI_OK);
    qohi_writer_destroy(w);
    std::vector<uint8_t> file(static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
    qohi_free(data);

    Opened r;
    open(std::move(file), r);
    ASSERT_EQ(r.status, QOHI_OK) << r.message;
    ASSERT_EQ(qohi_reader_frame_count(r.reader), names.size());
    // In a scrambled order, keeping every pointer: each must still hold its
    // name at the end (valid until the reader closes).
    std::vector<uint32_t> order(names.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), std::mt19937(5));
    std::vector<const char*> pointers(names.size());
    for (uint32_t i : order) {
        qohi_frame_info info{};
        ASSERT_EQ(qohi_reader_frame_info(r.reader, i, &info), QOHI_OK);
        ASSERT_EQ(std::string(info.name, info.name_size), names[i]) << i;
        pointers[i] = info.name;
    }
    for (uint32_t i : order) {
        uint32_t found = 0;
        if (names[i].empty()) continue;
        ASSERT_EQ(qohi_reader_find_frame(r.reader, names[i].c_str(), &found), QOHI_OK) << i;
        EXPECT_EQ(found, i);
        uint8_t px[3];
        ASSERT_EQ(qohi_reader_decode_frame(r.reader, i, px, sizeof px, 0, 3), QOHI_OK) << i;
        EXPECT_EQ(px[0], uint8_t(i));
        EXPECT_EQ(px[1], uint8_t(i >> 8));
    }
    for (uint32_t i = 0; i < names.size(); ++i) {
        ASSERT_EQ(std::string(pointers[i]), names[i]) << i;
        qohi_frame_info info{};
        ASSERT_EQ(qohi_reader_frame_info(r.reader, i, &info), QOHI_OK);
        EXPECT_EQ(info.name, pointers[i]) << "the same name, not a new copy";
    }
    // Near misses are not found: a prefix, a longer name, the empty name.
    uint32_t found = 0;
    for (const std::string& miss : {std::string("hero/smile"), std::string("hero/smile.pngx"), std::string("caf\xC3"),
                                    std::string(65534, 'x'), std::string()})
        EXPECT_EQ(qohi_reader_find_frame(r.reader, miss.c_str(), &found), QOHI_ERROR_NOT_FOUND) << miss.size();
}

// Tokens for random names: whole characters of 1 to 4 bytes, and now and
// then a lone byte that may break UTF-8 (a lead or continuation byte out of
// place, NUL, a byte never valid).
std::string random_suffix(std::mt19937& rng) {
    static const char* const whole[] = {"a", "b", "/", "\xC3\xA9", "\xC3\xA8", "\xE2\x82\xAC", "\xED\x9F\xBF",
                                        "\xF0\x9F\x98\x80", "\xF4\x8F\xBF\xBF"};
    static const char lone[] = {'\xC3', '\xA9', '\x80', '\xED', '\xA0', '\xF0', '\x9F', '\0', '\xFF', '\xC0'};
    std::string s;
    const int tokens = int(rng() % 4);
    for (int t = 0; t < tokens; ++t) {
        if (rng() % 40 == 0) s += lone[rng() % sizeof lone];
        else s += whole[rng() % (sizeof whole / sizeof *whole)];
    }
    return s;
}

// Front-coded names with `shared` anywhere in the previous name (inside a
// character too), checked against the plain rule: every full name, built,
// must be valid (spec §3.8), and the first invalid one fails the file.
TEST(IndexNames, IncrementalCheckAgreesWithCheckingEveryFullName) {
    std::mt19937 rng(2024);
    int valid_files = 0, invalid_files = 0;
    for (int trial = 0; trial < 1500; ++trial) {
        std::vector<FrontCoded> entries;
        size_t previous_size = 0;
        const size_t count = 1 + rng() % 12;
        for (size_t i = 0; i < count; ++i) {
            entries.push_back({previous_size ? rng() % (previous_size + 1) : 0, random_suffix(rng)});
            previous_size = entries.back().shared + entries.back().suffix.size();
        }
        const std::vector<std::string> names = full_names(entries);
        size_t first_invalid = names.size();
        for (size_t i = 0; i < names.size() && first_invalid == names.size(); ++i)
            if (!qohi::is_valid_name(names[i])) first_invalid = i;

        Opened r;
        open(file_with_names(entries, true), r);
        if (first_invalid < names.size()) {
            ++invalid_files;
            ASSERT_EQ(r.status, QOHI_ERROR_CORRUPT) << "trial " << trial;
            ASSERT_EQ(r.message, "index entry " + std::to_string(first_invalid) + ": frame name is not valid UTF-8");
            continue;
        }
        ++valid_files;
        ASSERT_EQ(r.status, QOHI_OK) << "trial " << trial << ": " << r.message;
        for (uint32_t i = 0; i < names.size(); ++i) {
            ASSERT_EQ(name_of(r.reader, i), names[i]) << "trial " << trial << ", entry " << i;
            uint8_t px[3];
            ASSERT_EQ(qohi_reader_decode_frame(r.reader, i, px, sizeof px, 0, 3), QOHI_OK) << trial << ", " << i;
            ASSERT_EQ(px[2], uint8_t(3 * i));
            if (names[i].empty()) continue;
            uint32_t found = 0;
            ASSERT_EQ(qohi_reader_find_frame(r.reader, names[i].c_str(), &found), QOHI_OK);
            ASSERT_EQ(found, uint32_t(std::find(names.begin(), names.end(), names[i]) - names.begin()))
                << "the lowest frame of that name";
        }
    }
    // Both outcomes are exercised, many times.
    EXPECT_GT(valid_files, 300);
    EXPECT_GT(invalid_files, 300);
}

TEST(IndexNames, EveryNameErrorIsFoundAtOpenWithItsClass) {
    const std::string e_acute = "\xC3\xA9", last_before_surrogates = "\xED\x9F\xBF", grin = "\xF0\x9F\x98\x80";
    struct Case {
        const char* what;
        std::vector<FrontCoded> entries;
        qohi_status expected;
        std::string message;  // for errors
    };
    const std::string bad_name = "index entry 1: frame name is not valid UTF-8";
    const std::string unreadable = "index entry 1: frame header cut short, or a field out of range";
    const Case cases[] = {
        {"suffix completes the shared lead byte", {{0, e_acute}, {1, "\xA8"}}, QOHI_OK, ""},
        {"suffix completes 3 shared bytes of 4", {{0, grin}, {3, "\x81"}}, QOHI_OK, ""},
        {"shared ends inside a character, suffix ASCII", {{0, e_acute}, {1, "x"}}, QOHI_ERROR_CORRUPT, bad_name},
        {"shared ends inside a character, no suffix", {{0, e_acute}, {1, ""}}, QOHI_ERROR_CORRUPT, bad_name},
        {"shared ends inside a 4-byte character", {{0, "ab" + grin}, {4, "A"}}, QOHI_ERROR_CORRUPT, bad_name},
        {"suffix starts with a continuation byte", {{0, e_acute}, {2, "\xA9"}}, QOHI_ERROR_CORRUPT, bad_name},
        {"a surrogate across the junction", {{0, last_before_surrogates}, {1, "\xA0\x80"}}, QOHI_ERROR_CORRUPT,
         bad_name},
        {"an overlong form across the junction", {{0, "\xE0\xA0\x80"}, {1, "\x80\x80"}}, QOHI_ERROR_CORRUPT,
         bad_name},
        {"NUL in the suffix", {{0, "a"}, {1, std::string("b\0c", 3)}}, QOHI_ERROR_CORRUPT, bad_name},
        {"an invalid byte far from the junction", {{0, "abc"}, {2, "xyz\xFF"}}, QOHI_ERROR_CORRUPT, bad_name},
        {"shared larger than the previous name", {{0, "abc"}, {4, ""}}, QOHI_ERROR_CORRUPT, unreadable},
        {"shared + suffix longer than 65,535 bytes", {{0, std::string(65535, 'a')}, {65535, "b"}},
         QOHI_ERROR_CORRUPT, unreadable},
        {"the longest name, all shared", {{0, std::string(65535, 'a')}, {65535, ""}}, QOHI_OK, ""},
    };
    for (const Case& c : cases) {
        Opened r;
        open(file_with_names(c.entries, true), r);
        EXPECT_EQ(r.status, c.expected) << c.what;
        EXPECT_EQ(r.message, c.message) << c.what;
        if (r.status == QOHI_OK) EXPECT_EQ(name_of(r.reader, 1), full_names(c.entries)[1]) << c.what;
    }
    // The name is check 7 of spec §3.7: after the other fields' checks, and
    // before the entry's offset is checked.
    Opened zero_width;
    open(file_with_names({{0, "\xFF"}}, true, 0), zero_width);
    EXPECT_EQ(zero_width.status, QOHI_ERROR_CORRUPT);
    EXPECT_EQ(zero_width.message, "index entry 0: frame has zero width or height");
    std::vector<uint8_t> bad_offset = file_with_names({{0, "a"}, {1, "\xFF"}}, true);
    // Entry 1 starts after the frame count and entry 0's 11 bytes (7 one-byte
    // varints, 4 fixed bytes, the name "a"). Its offset_delta becomes 1:
    // frame 1 would start inside frame 0.
    const size_t index_offset = size_t(qohi::load_u64(&bad_offset[bad_offset.size() - 24 + 8]));
    const size_t entry1 = index_offset + 8 + 4 + 11;
    bad_offset[entry1] = 1;
    const size_t index_size = qohi::load_u32(&bad_offset[index_offset + 4]);
    qohi::store_u32(&bad_offset[index_offset + 8 + index_size],
                    qohi::record_crc(qohi::kTypeIndex, &bad_offset[index_offset + 8], index_size));
    Opened name_first;
    open(bad_offset, name_first);
    EXPECT_EQ(name_first.status, QOHI_ERROR_CORRUPT);
    EXPECT_EQ(name_first.message, bad_name);
    bad_offset[entry1 + 10] = 'b';  // its suffix, now valid: the offset fails instead
    qohi::store_u32(&bad_offset[index_offset + 8 + index_size],
                    qohi::record_crc(qohi::kTypeIndex, &bad_offset[index_offset + 8], index_size));
    Opened offset_next;
    open(bad_offset, offset_next);
    EXPECT_EQ(offset_next.status, QOHI_ERROR_CORRUPT);
    EXPECT_EQ(offset_next.message, "index entry 1 has an invalid frame offset");
}

}  // namespace
}  // namespace qohi_test
