// What a writer keeps per frame and entry: a folder of hundreds of thousands
// of images must not cost a hash-set node per name. Names are still refused
// when used twice, exactly (NameSet).
//
// This program counts the bytes in use (alloc_counter.h), so it is built on
// its own, not into codec_tests.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "alloc_counter.h"
#include "name_set.h"
#include "qohi/qohi.h"

namespace qohi_test {
namespace {

std::string numbered(const char* pattern, uint32_t k) {
    char buf[64];
    std::snprintf(buf, sizeof buf, pattern, k);
    return buf;
}

TEST(WriterMemory, NameSetFindsExactlyWhatWasInserted) {
    qohi::NameSet set;
    std::vector<std::string> names;
    std::mt19937 rng(7);
    for (uint32_t k = 0; k < 20000; ++k) names.push_back(numbered("d%03u/i%06u.png", k % 97) + std::to_string(k));
    names.push_back(std::string(65535, 'x'));  // the longest name, on a chunk of its own
    names.push_back(std::string(65534, 'x'));
    names.push_back("\xc3\xa9t\xc3\xa9");
    // Names that are prefixes of the one before, and the other way round.
    for (const char* n : {"a", "ab", "abc", "ab/", "a/", "b", "abcd", "abc/d", "abc/", "ab/c"}) names.push_back(n);
    for (size_t i = 0; i < names.size(); ++i) {
        ASSERT_FALSE(set.contains(names[i])) << i;
        set.insert(names[i]);
        ASSERT_TRUE(set.contains(names[i])) << i;
    }
    EXPECT_EQ(set.size(), names.size());
    for (const std::string& n : names) EXPECT_TRUE(set.contains(n));
    // Prefixes, extensions and near misses are not found.
    for (size_t i = 0; i < 2000; ++i) {
        const std::string& n = names[rng() % 20000];
        EXPECT_FALSE(set.contains(n.substr(0, n.size() - 1)));
        EXPECT_FALSE(set.contains(n + "x"));
        std::string changed = n;
        changed[rng() % changed.size()] ^= 1;
        EXPECT_FALSE(set.contains(changed));
    }
    EXPECT_FALSE(set.contains(std::string(65533, 'x')));
    EXPECT_FALSE(set.contains(""));
    EXPECT_FALSE(set.contains("abc/d/"));
    EXPECT_FALSE(set.contains("ab/c/"));
}

// Bytes in use at the end and at the peak, per frame, for `count` 1x1 frames
// named "d%03u/i%06u.png" (16 bytes), each with attributes, written to memory
// (the output itself is not counted: the memory sink uses malloc).
void frames_cost(uint32_t count, double& kept, double& peak) {
    qohi_writer* w = nullptr;
    size_t at_end = 0;
    const size_t before = bytes_in_use();
    peak = double(peak_bytes_during([&] {
               ASSERT_EQ(qohi_writer_open_memory(nullptr, &w, nullptr), QOHI_OK);
               const uint8_t pixel[3] = {1, 2, 3};
               qohi_file_attributes a{};
               a.present = 1;
               a.mode = 0644;
               a.mtime = 1700000000;
               for (uint32_t k = 0; k < count; ++k) {
                   const std::string name = numbered("d%03u/", k / 1000) + numbered("i%06u.png", k);
                   qohi_frame_options fo;
                   qohi_frame_options_init(&fo);
                   fo.name = name.c_str();
                   fo.attributes = &a;
                   ASSERT_EQ(qohi_writer_add_frame_with(w, pixel, 1, 1, 3, 0, &fo), QOHI_OK);
               }
               at_end = bytes_in_use() - before;
           })) /
           count;
    kept = double(at_end) / count;
    qohi_writer_destroy(w);
}

TEST(WriterMemory, AFewBytesAFrameBesideItsName) {
    double kept = 0, peak = 0;
    frames_cost(100000, kept, peak);
    // Name ~8 (front-coded, as in the index), its slot 11 to 21, shape 12.5,
    // index entry ~16; chunks of names allocated ahead (untouched memory).
    // A hash-set node per name made it 118.
    EXPECT_LT(kept, 70.0);
    EXPECT_LT(peak, 80.0);
    std::printf("writer: %.1f bytes kept a frame, %.1f at the peak\n", kept, peak);
}

TEST(WriterMemory, DuplicateNamesStillRefused) {
    qohi_writer* w = nullptr;
    ASSERT_EQ(qohi_writer_open_memory(nullptr, &w, nullptr), QOHI_OK);
    const uint8_t pixel[3] = {1, 2, 3};
    for (uint32_t k = 0; k < 3000; ++k) {
        const std::string name = numbered("f%u.png", k);
        qohi_frame_options fo;
        qohi_frame_options_init(&fo);
        fo.name = name.c_str();
        ASSERT_EQ(qohi_writer_add_frame_with(w, pixel, 1, 1, 3, 0, &fo), QOHI_OK);
    }
    qohi_frame_options fo;
    qohi_frame_options_init(&fo);
    fo.name = "f1234.png";
    EXPECT_EQ(qohi_writer_add_frame_with(w, pixel, 1, 1, 3, 0, &fo), QOHI_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(std::string(qohi_writer_message(w)), "duplicate name \"f1234.png\"");
    qohi_entry_options eo;
    qohi_entry_options_init(&eo);
    eo.kind = QOHI_ENTRY_FOLDER;
    eo.name = "f2999.png";
    EXPECT_EQ(qohi_writer_add_entry(w, &eo), QOHI_ERROR_INVALID_ARGUMENT);
    eo.name = "f3000.png";
    EXPECT_EQ(qohi_writer_add_entry(w, &eo), QOHI_OK);
    EXPECT_EQ(qohi_writer_add_frame_with(w, pixel, 1, 1, 3, 0, &fo), QOHI_ERROR_INVALID_ARGUMENT);
    fo.name = "f3000.png";
    EXPECT_EQ(qohi_writer_add_frame_with(w, pixel, 1, 1, 3, 0, &fo), QOHI_ERROR_INVALID_ARGUMENT);
    fo.name = nullptr;  // unnamed frames never clash
    EXPECT_EQ(qohi_writer_add_frame_with(w, pixel, 1, 1, 3, 0, &fo), QOHI_OK);
    EXPECT_EQ(qohi_writer_add_frame_with(w, pixel, 1, 1, 3, 0, &fo), QOHI_OK);
    qohi_writer_destroy(w);
}

}  // namespace
}  // namespace qohi_test
