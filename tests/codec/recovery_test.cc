// Recovery (spec §3.14, qohi_read_options.recover): a file whose writer
// stopped early gives back exactly the frames written whole, bit for bit,
// with their names, references and metadata, and says that the file is
// truncated; what ends the scan; a complete file is read as without it.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "byte_io.h"
#include "container.h"
#include "test_images.h"

namespace qohi_test {
namespace {

// What a frame of the sample file is, as a reader of the whole file sees it.
struct ExpectedFrame {
    qohi_frame_info info;
    std::string name;
    std::vector<uint8_t> pixels;
    std::vector<std::pair<uint32_t, std::string>> metadata;  // kind, key + data
    uint64_t offset = 0;  // of its FHDR
    uint64_t end = 0;     // just past its FDAT
};

struct Sample {
    std::vector<uint8_t> file;
    std::vector<ExpectedFrame> frames;
};

std::vector<std::pair<uint32_t, std::string>> metadata_of(qohi_reader* r, uint32_t index) {
    const qohi_metadata* items = nullptr;
    size_t count = 0;
    EXPECT_EQ(qohi_reader_frame_metadata(r, index, &items, &count), QOHI_OK) << qohi_reader_message(r);
    std::vector<std::pair<uint32_t, std::string>> v;
    for (size_t i = 0; i < count; ++i)
        v.emplace_back(items[i].kind, std::string(items[i].key ? items[i].key : "") + "=" +
                                          std::string(static_cast<const char*>(items[i].data), items[i].size));
    return v;
}

std::vector<uint8_t> pixels_of(qohi_reader* r, uint32_t index, const qohi_frame_info& info, qohi_status& status) {
    std::vector<uint8_t> px(size_t(info.width) * info.height * info.channels);
    status = qohi_reader_decode_frame(r, index, px.data(), px.size(), 0, 0);
    return px;
}

// Six frames: intra and delta frames (a chain of depth 2), two sizes, RGB
// and RGBA, names in sub-folders and non-ASCII, one unnamed, a baseline, and
// every kind of metadata.
Sample sample() {
    const TestImage base = make_image("base", 20, 12, 3, [](uint32_t x, uint32_t y, uint32_t k, std::mt19937& r) {
        return uint8_t(x * 9 + y * 17 + k * 50 + r() % 4);
    });
    auto variant = [](const TestImage& from, uint32_t k) {
        TestImage v = from;
        for (uint32_t i = 0; i < 6; ++i) v.pixels[(k * 37 + i * 11) % v.pixels.size()] ^= uint8_t(0x21 * (k + 1));
        return v;
    };
    const TestImage v1 = variant(base, 1), v2 = variant(v1, 2), v3 = variant(base, 3);
    const TestImage rgba = make_image("rgba", 7, 5, 4, [](uint32_t x, uint32_t y, uint32_t k, std::mt19937& r) {
        return uint8_t(k == 3 ? 128 + x : r());
    });
    const TestImage other = make_image("other", 20, 12, 3, [](uint32_t x, uint32_t, uint32_t k, std::mt19937&) {
        return uint8_t(x * 13 + k);
    });
    const uint8_t icc[] = {1, 2, 3, 4, 5};
    const uint8_t exif[] = {'M', 'M', 0, 42, 0, 0, 0, 8};
    const char xmp[] = "<x:xmpmeta xmlns:x='adobe:ns:meta/'/>";
    const qohi_metadata base_meta[] = {{QOHI_METADATA_ICC, "Test profile", icc, sizeof icc},
                                       {QOHI_METADATA_TEXT, "Comment", "h\xC3\xA9llo", 6}};
    const qohi_metadata v1_meta[] = {{QOHI_METADATA_EXIF, nullptr, exif, sizeof exif}};
    const qohi_metadata rgba_meta[] = {{QOHI_METADATA_XMP, nullptr, xmp, sizeof xmp - 1}};
    struct Add {
        const TestImage* image;
        const char* name;
        int64_t reference;
        const TestImage* reference_image;
        bool baseline;
        const qohi_metadata* metadata;
        size_t metadata_count;
    };
    const Add adds[] = {
        {&base, "set/base.png", -1, nullptr, true, base_meta, 2},
        {&v1, "set/variant 1.png", 0, &base, false, v1_meta, 1},
        {&rgba, "other/\xE6\x97\xA5\xE6\x9C\xAC.png", -1, nullptr, false, rgba_meta, 1},
        {&v2, "set/variant 2.png", 1, &v1, false, nullptr, 0},
        {&other, nullptr, -1, nullptr, false, nullptr, 0},
        {&v3, "set/variant 3.png", 0, &base, false, base_meta + 1, 1},
    };
    qohi_writer* w = nullptr;
    EXPECT_EQ(qohi_writer_open_memory(nullptr, &w, nullptr), QOHI_OK);
    for (const Add& a : adds) {
        qohi_frame_options fo;
        qohi_frame_options_init(&fo);
        fo.name = a.name;
        fo.baseline = a.baseline;
        fo.reference = a.reference;
        fo.reference_pixels = a.reference_image ? a.reference_image->pixels.data() : nullptr;
        fo.metadata = a.metadata;
        fo.metadata_count = a.metadata_count;
        const TestImage& im = *a.image;
        EXPECT_EQ(qohi_writer_add_frame_with(w, im.pixels.data(), im.width, im.height, im.channels, 0, &fo), QOHI_OK)
            << qohi_writer_message(w);
    }
    void* data = nullptr;
    size_t size = 0;
    EXPECT_EQ(qohi_writer_finish(w, &data, &size), QOHI_OK);
    qohi_writer_destroy(w);
    Sample s;
    s.file.assign(static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
    qohi_free(data);

    qohi_reader* r = nullptr;
    EXPECT_EQ(qohi_reader_open_memory(s.file.data(), s.file.size(), nullptr, &r, nullptr), QOHI_OK);
    for (uint32_t i = 0; i < qohi_reader_frame_count(r); ++i) {
        ExpectedFrame f;
        EXPECT_EQ(qohi_reader_frame_info(r, i, &f.info), QOHI_OK);
        f.name.assign(f.info.name, f.info.name_size);
        qohi_status st;
        f.pixels = pixels_of(r, i, f.info, st);
        EXPECT_EQ(st, QOHI_OK);
        f.metadata = metadata_of(r, i);
        s.frames.push_back(f);
    }
    qohi_reader_close(r);
    size_t frame = 0;
    for (const RecordSpan& rec : records(s.file)) {
        if (rec.type == qohi::kTypeFrameHeader) s.frames[frame].offset = rec.offset;
        if (rec.type == qohi::kTypeFrameData) s.frames[frame++].end = rec.offset + 12 + rec.size;
    }
    return s;
}

// A reader opened with recovery on bytes it keeps.
struct Recovered {
    std::vector<uint8_t> file;
    qohi_reader* reader = nullptr;
    qohi_status status = QOHI_OK;
    std::string message;
    qohi_status file_status = QOHI_OK;
    std::string file_message;
    ~Recovered() { qohi_reader_close(reader); }
};

void recover(std::vector<uint8_t> file, Recovered& out, bool recover = true) {
    out.file = std::move(file);
    qohi_read_options o;
    qohi_read_options_init(&o);
    o.recover = recover;
    qohi_error error{};
    out.status = qohi_reader_open_memory(out.file.data(), out.file.size(), &o, &out.reader, &error);
    out.message = error.message;
    if (out.status != QOHI_OK) return;
    const char* message = nullptr;
    out.file_status = qohi_reader_file_status(out.reader, &message);
    out.file_message = message;
}

// The reader holds exactly frames 0 ... count - 1 of `s`, each as in the
// whole file. Frames listed in `broken` must fail to decode with that status.
void expect_frames(qohi_reader* r, const Sample& s, size_t count, const std::string& where,
                   const std::vector<std::pair<uint32_t, qohi_status>>& broken = {}) {
    ASSERT_EQ(qohi_reader_frame_count(r), count) << where;
    for (uint32_t i = 0; i < count; ++i) {
        const ExpectedFrame& e = s.frames[i];
        qohi_frame_info info{};
        ASSERT_EQ(qohi_reader_frame_info(r, i, &info), QOHI_OK) << where;
        EXPECT_EQ(std::string(info.name, info.name_size), e.name) << where << ", frame " << i;
        EXPECT_EQ(info.width, e.info.width);
        EXPECT_EQ(info.height, e.info.height);
        EXPECT_EQ(info.channels, e.info.channels);
        EXPECT_EQ(info.method, e.info.method);
        EXPECT_EQ(info.reference, e.info.reference) << where << ", frame " << i;
        EXPECT_EQ(info.depth, e.info.depth);
        EXPECT_EQ(info.baseline, e.info.baseline);
        EXPECT_EQ(info.coded_size, e.info.coded_size);
        qohi_status st;
        const std::vector<uint8_t> px = pixels_of(r, i, info, st);
        qohi_status expected = QOHI_OK;
        for (const auto& b : broken)
            if (b.first == i) expected = b.second;
        ASSERT_EQ(st, expected) << where << ", frame " << i << ": " << qohi_reader_message(r);
        if (st != QOHI_OK) continue;
        EXPECT_EQ(px, e.pixels) << where << ", frame " << i;
        EXPECT_EQ(metadata_of(r, i), e.metadata) << where << ", frame " << i;
        if (!e.name.empty()) {
            uint32_t found = 0;
            EXPECT_EQ(qohi_reader_find_frame(r, e.name.c_str(), &found), QOHI_OK) << where;
            EXPECT_EQ(found, i);
        }
    }
}

TEST(Recovery, SampleHasDeltasNamesAndMetadata) {
    const Sample s = sample();
    ASSERT_EQ(s.frames.size(), 6u);
    EXPECT_EQ(s.frames[1].info.reference, 0);
    EXPECT_EQ(s.frames[3].info.reference, 1);
    EXPECT_EQ(s.frames[3].info.depth, 2u);
    EXPECT_EQ(s.frames[5].info.reference, 0);
    EXPECT_TRUE(s.frames[0].info.baseline);
    EXPECT_EQ(s.frames[0].metadata.size(), 2u);
    EXPECT_EQ(s.frames[4].name, "");
}

// Every prefix of the file: the frames whose FDAT ends inside it, no more,
// no fewer; the file reported TRUNCATED; the scan's end described.
TEST(Recovery, EveryCutGivesBackExactlyTheCompleteFrames) {
    const Sample s = sample();
    for (size_t n = 0; n <= s.file.size(); ++n) {
        const std::string where = "prefix of " + std::to_string(n) + " bytes";
        Recovered r;
        recover(std::vector<uint8_t>(s.file.begin(), s.file.begin() + long(n)), r);
        if (n < qohi::kFirstFrameOffset) {  // in the signature or QHDR: nothing to recover
            EXPECT_EQ(r.status, n == 0 ? QOHI_ERROR_NOT_QOHI : QOHI_ERROR_TRUNCATED) << where;
            EXPECT_EQ(r.reader, nullptr);
            continue;
        }
        ASSERT_EQ(r.status, QOHI_OK) << where << ": " << r.message;
        size_t complete = 0;
        while (complete < s.frames.size() && s.frames[complete].end <= n) ++complete;
        expect_frames(r.reader, s, complete, where);
        if (n == s.file.size()) {
            EXPECT_EQ(r.file_status, QOHI_OK);
            EXPECT_EQ(r.file_message, "");
            continue;
        }
        EXPECT_EQ(r.file_status, QOHI_ERROR_TRUNCATED) << where;
        const std::string recovered =
            "recovered " + std::to_string(complete) + (complete == 1 ? " frame " : " frames ");
        EXPECT_NE(r.file_message.find(recovered), std::string::npos)
            << where << ": " << r.file_message;
        // After the last complete frame: the index, whole, or the record
        // (or record header) the file ends in.
        const std::string& m = r.file_message;
        if (n >= s.file.size() - 24)
            EXPECT_NE(m.find("; the frames end at the index"), std::string::npos) << where << ": " << m;
        else
            EXPECT_TRUE(m.find("the scan ended: file ends inside a record header at offset ") != std::string::npos ||
                        m.find(" runs past the end of the file") != std::string::npos)
                << where << ": " << m;
    }
}

// The file cut at its index, and another cut in the middle of the last frame.
std::vector<uint8_t> without_index(const Sample& s) {
    return std::vector<uint8_t>(s.file.begin(), s.file.begin() + long(s.frames.back().end));
}

TEST(Recovery, CompleteFilesAreReadThroughTheirIndex) {
    const Sample s = sample();
    Recovered whole;
    recover(s.file, whole);
    ASSERT_EQ(whole.status, QOHI_OK);
    EXPECT_EQ(whole.file_status, QOHI_OK);
    expect_frames(whole.reader, s, s.frames.size(), "whole file");
    // Without recovery, the file status of a complete file is OK too, and
    // a NULL message is allowed.
    Recovered plain;
    recover(s.file, plain, false);
    ASSERT_EQ(plain.status, QOHI_OK);
    EXPECT_EQ(qohi_reader_file_status(plain.reader, nullptr), QOHI_OK);
    const char* message = "unchanged";
    EXPECT_EQ(qohi_reader_file_status(nullptr, &message), QOHI_ERROR_INVALID_ARGUMENT);
    EXPECT_STREQ(message, "");

    // Bytes appended after the trailer: no valid trailer at the end, so
    // TRUNCATED without recovery; with it, every frame, up to the index.
    std::vector<uint8_t> appended = s.file;
    appended.insert(appended.end(), {'j', 'u', 'n', 'k'});
    Recovered refused;
    recover(appended, refused, false);
    EXPECT_EQ(refused.status, QOHI_ERROR_TRUNCATED);
    Recovered r;
    recover(appended, r);
    ASSERT_EQ(r.status, QOHI_OK) << r.message;
    EXPECT_EQ(r.file_status, QOHI_ERROR_TRUNCATED);
    EXPECT_NE(r.file_message.find("the frames end at the index"), std::string::npos) << r.file_message;
    expect_frames(r.reader, s, s.frames.size(), "appended bytes");
    // A valid trailer pointing at a damaged index: the file is CORRUPT, and
    // its frames are recovered all the same.
    std::vector<uint8_t> bad_index = s.file;
    bad_index[s.frames.back().end + 12] ^= 1;  // the index's frame count: its CRC fails
    Recovered corrupt;
    recover(bad_index, corrupt);
    ASSERT_EQ(corrupt.status, QOHI_OK) << corrupt.message;
    EXPECT_EQ(corrupt.file_status, QOHI_ERROR_CORRUPT) << corrupt.file_message;
    expect_frames(corrupt.reader, s, s.frames.size(), "damaged index");
    // Damage in the signature or QHDR is not recovered from.
    std::vector<uint8_t> bad_header = without_index(s);
    bad_header[8 + 8] = 2;  // version 2
    Recovered unsupported;
    recover(bad_header, unsupported);
    EXPECT_EQ(unsupported.status, QOHI_ERROR_CORRUPT) << "QHDR's CRC fails first";
    EXPECT_EQ(unsupported.reader, nullptr);
}

// A record whose CRC fails ends the scan: its length may be what is damaged.
TEST(Recovery, DamagedMiddleFrameEndsTheScan) {
    const Sample s = sample();
    std::vector<uint8_t> cut = without_index(s);
    const size_t damaged = s.frames[3].end - 5;  // inside frame 3's FDAT payload
    cut[damaged] ^= 0x10;
    Recovered r;
    recover(cut, r);
    ASSERT_EQ(r.status, QOHI_OK) << r.message;
    EXPECT_EQ(r.file_status, QOHI_ERROR_TRUNCATED);
    expect_frames(r.reader, s, 3, "CRC failure in frame 3");
    EXPECT_NE(r.file_message.find("the scan ended: CRC mismatch in record FDAT at offset "), std::string::npos)
        << r.file_message;

    // In a complete file the index is read and recovery changes nothing:
    // frame 3 fails alone when decoded.
    std::vector<uint8_t> whole = s.file;
    whole[damaged] ^= 0x10;
    Recovered w;
    recover(whole, w);
    ASSERT_EQ(w.status, QOHI_OK);
    EXPECT_EQ(w.file_status, QOHI_OK);
    expect_frames(w.reader, s, s.frames.size(), "CRC failure in a complete file", {{3, QOHI_ERROR_CORRUPT}});
}

// A frame whose records are whole but whose data does not decode is kept
// and refused when decoded, with the frames that refer to it; the scan goes
// on past it.
TEST(Recovery, FrameThatDoesNotDecodeFailsAlone) {
    const Sample s = sample();
    std::vector<uint8_t> file = rebuild_file(s.file, [](size_t frame, uint32_t type, std::vector<uint8_t>& payload) {
        if (frame == 1 && type == qohi::kTypeFrameData) payload.assign(1, 0);  // band_rows 0
    });
    // Only frame 1's FDAT changed size: later frames moved, so cut where the
    // last one now ends.
    file.resize(records(file)[records(file).size() - 2].offset);
    Recovered r;
    recover(file, r);
    ASSERT_EQ(r.status, QOHI_OK) << r.message;
    ASSERT_EQ(qohi_reader_frame_count(r.reader), s.frames.size());
    qohi_status st;
    qohi_frame_info info{};
    for (uint32_t i = 0; i < s.frames.size(); ++i) {
        ASSERT_EQ(qohi_reader_frame_info(r.reader, i, &info), QOHI_OK);
        const std::vector<uint8_t> px = pixels_of(r.reader, i, info, st);
        const bool depends_on_1 = i == 1 || i == 3;  // frame 3 refers to frame 1
        EXPECT_EQ(st, depends_on_1 ? QOHI_ERROR_CORRUPT : QOHI_OK) << i;
        if (!depends_on_1) EXPECT_EQ(px, s.frames[i].pixels) << i;
    }
}

// Inserts a record (type, payload) into `file` at `at`.
void insert_record(std::vector<uint8_t>& file, size_t at, const char (&type)[5], const std::string& payload) {
    std::vector<uint8_t> rec;
    qohi::append_record(rec, qohi::record_type(type), reinterpret_cast<const uint8_t*>(payload.data()),
                        payload.size());
    file.insert(file.begin() + long(at), rec.begin(), rec.end());
}

// The records of frame `frame` in `file`: its FHDR first, its FDAT last.
std::vector<RecordSpan> frame_records(const std::vector<uint8_t>& file, size_t frame) {
    std::vector<RecordSpan> v;
    size_t seen = 0;
    for (const RecordSpan& rec : records(file)) {
        if (rec.type == qohi::kTypeFrameHeader) ++seen;
        if (seen == frame + 1) v.push_back(rec);
        if (seen == frame + 1 && rec.type == qohi::kTypeFrameData) break;
    }
    return v;
}

// Frame 3's FHDR payload changed by `change` (its record rewritten whole).
std::vector<uint8_t> with_frame3_header(const std::vector<uint8_t>& file,
                                        void (*change)(std::vector<uint8_t>& payload)) {
    const RecordSpan fhdr = frame_records(file, 3).front();
    const auto start = file.begin() + long(fhdr.offset + 8);
    std::vector<uint8_t> payload(start, start + long(fhdr.size));
    change(payload);
    std::vector<uint8_t> out(file.begin(), file.begin() + long(fhdr.offset));
    qohi::append_record(out, qohi::kTypeFrameHeader, payload.data(), payload.size());
    out.insert(out.end(), file.begin() + long(fhdr.offset + 12 + fhdr.size), file.end());
    return out;
}

// What breaks the order of records (spec §3.14 step 2) or a frame header's
// validity (§3.7) ends the scan there, as a cut does; the frames before are
// kept.
TEST(Recovery, InvalidRecordsEndTheScan) {
    const Sample s = sample();
    const std::vector<uint8_t> cut = without_index(s);
    const std::string frame3 = "frame 3 at offset " + std::to_string(s.frames[3].offset);
    struct Case {
        const char* what;
        std::vector<uint8_t> file;
        std::string reason;
    };
    std::vector<Case> cases;
    std::vector<uint8_t> f = cut;
    insert_record(f, s.frames[3].offset, "text", std::string("k\0v", 3));
    cases.push_back({"a record between frames", f,
                     "record text at offset " + std::to_string(s.frames[3].offset) +
                         ", where a frame, an entry or the index should start"});
    f = cut;
    const RecordSpan fdat3 = frame_records(cut, 3).back();
    f.erase(f.begin() + long(fdat3.offset), f.begin() + long(fdat3.offset + 12 + fdat3.size));
    cases.push_back({"a frame without FDAT", f, frame3 + " has no FDAT record"});
    // FHDR fields: width (1 byte), height (1 byte), channels, bit depth,
    // method, flags, ref_distance.
    cases.push_back({"an invalid channel count", with_frame3_header(cut, [](std::vector<uint8_t>& p) { p[2] = 9; }),
                     frame3 + ": invalid channel count 9"});
    cases.push_back({"a reference of another size",
                     with_frame3_header(cut, [](std::vector<uint8_t>& p) { p[6] = 1; }),  // frame 2, not 1
                     frame3 + ": frame 3 differs in size or channels from its reference frame"});
    cases.push_back({"a byte after the name",
                     with_frame3_header(cut, [](std::vector<uint8_t>& p) { p.push_back('x'); }),
                     frame3 + ": bytes after the name in the frame header"});
    for (const Case& c : cases) {
        Recovered r;
        recover(c.file, r);
        ASSERT_EQ(r.status, QOHI_OK) << c.what << ": " << r.message;
        EXPECT_EQ(r.file_status, QOHI_ERROR_TRUNCATED) << c.what;
        expect_frames(r.reader, s, 3, c.what);
        EXPECT_NE(r.file_message.find("the scan ended: " + c.reason), std::string::npos)
            << c.what << ": " << r.file_message;
    }

    // An unknown critical record inside frame 1 only makes that frame (and
    // frame 3, which refers to it) undecodable: the scan goes on.
    f = cut;
    insert_record(f, frame_records(cut, 1).back().offset, "ZZZZ", "?");
    Recovered r;
    recover(f, r);
    ASSERT_EQ(r.status, QOHI_OK) << r.message;
    ASSERT_EQ(qohi_reader_frame_count(r.reader), s.frames.size());
    qohi_status st;
    qohi_frame_info info{};
    for (uint32_t i = 0; i < s.frames.size(); ++i) {
        ASSERT_EQ(qohi_reader_frame_info(r.reader, i, &info), QOHI_OK);
        const std::vector<uint8_t> px = pixels_of(r.reader, i, info, st);
        EXPECT_EQ(st, i == 1 || i == 3 ? QOHI_ERROR_UNSUPPORTED : QOHI_OK) << i;
        if (st == QOHI_OK) EXPECT_EQ(px, s.frames[i].pixels) << i;
    }
    EXPECT_NE(r.file_message.find("the scan ended: file ends inside a record header at offset " +
                                  std::to_string(f.size())),
              std::string::npos)
        << r.file_message;
}

qohi_status collect_entry(void* user, const void* data, size_t size) {
    auto* out = static_cast<std::string*>(user);
    out->append(static_cast<const char*>(data), size);
    return QOHI_OK;
}

// An unknown critical record inside an entry refuses that entry alone
// (UNSUPPORTED when its content is read, spec §3.15), in a scan as through
// the index: the scan goes on to the frame after it. A known critical
// record there (FHDR) ends the scan (CORRUPT, §3.14).
TEST(Recovery, UnknownCriticalRecordInAnEntryFailsItAlone) {
    const TestImage im = synthetic_images()[3];
    qohi_writer* w = nullptr;
    ASSERT_EQ(qohi_writer_open_memory(nullptr, &w, nullptr), QOHI_OK);
    qohi_entry_options e;
    qohi_entry_options_init(&e);
    e.kind = QOHI_ENTRY_FILE;
    e.name = "notes.txt";
    const std::string content = "some text";
    e.size = content.size();
    e.data = content.data();
    ASSERT_EQ(qohi_writer_add_entry(w, &e), QOHI_OK) << qohi_writer_message(w);
    ASSERT_EQ(qohi_writer_add_frame(w, im.pixels.data(), im.width, im.height, im.channels, 0, "after.png"), QOHI_OK);
    void* data = nullptr;
    size_t size = 0;
    ASSERT_EQ(qohi_writer_finish(w, &data, &size), QOHI_OK);
    const std::vector<uint8_t> whole(static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
    qohi_free(data);
    qohi_writer_destroy(w);
    size_t edat = 0, index = 0;
    for (const RecordSpan& rec : records(whole)) {
        if (rec.type == qohi::kTypeEntryData) edat = rec.offset;
        if (rec.type == qohi::kTypeIndex) index = rec.offset;
    }
    ASSERT_NE(edat, 0u);
    ASSERT_NE(index, 0u);
    for (const bool known : {false, true}) {
        std::vector<uint8_t> f(whole.begin(), whole.begin() + long(index));  // no index: a scan
        insert_record(f, edat, known ? "FHDR" : "ZZZZ", "?");
        Recovered r;
        recover(f, r);
        ASSERT_EQ(r.status, QOHI_OK) << r.message;
        EXPECT_EQ(r.file_status, QOHI_ERROR_TRUNCATED);
        if (known) {
            EXPECT_EQ(qohi_reader_entry_count(r.reader), 0u);
            EXPECT_EQ(qohi_reader_frame_count(r.reader), 0u);
            EXPECT_NE(r.file_message.find("record FHDR inside an entry's content"), std::string::npos)
                << r.file_message;
            continue;
        }
        ASSERT_EQ(qohi_reader_entry_count(r.reader), 1u) << r.file_message;
        ASSERT_EQ(qohi_reader_frame_count(r.reader), 1u) << r.file_message;
        std::string got;
        EXPECT_EQ(qohi_reader_read_entry(r.reader, 0, collect_entry, &got), QOHI_ERROR_UNSUPPORTED);
        qohi_frame_info info{};
        ASSERT_EQ(qohi_reader_frame_info(r.reader, 0, &info), QOHI_OK);
        qohi_status st;
        EXPECT_EQ(pixels_of(r.reader, 0, info, st), im.pixels);
        EXPECT_EQ(st, QOHI_OK);
    }
}

// From a file on disk, with a frame whose data is larger than the pieces
// the scan reads a record's CRC in.
TEST(Recovery, FromAFileWithALargeFrame) {
    const TestImage big = make_image("big", 700, 600, 3, [](uint32_t, uint32_t, uint32_t, std::mt19937& r) {
        return uint8_t(r());
    });
    const TestImage small = synthetic_images()[3];
    qohi_write_options wo;
    qohi_write_options_init(&wo);
    wo.method = QOHI_CHOOSE_STORED;  // 1.26 MB of FDAT
    qohi_writer* w = nullptr;
    ASSERT_EQ(qohi_writer_open_memory(&wo, &w, nullptr), QOHI_OK);
    for (const TestImage* im : {&big, &small})
        ASSERT_EQ(qohi_writer_add_frame(w, im->pixels.data(), im->width, im->height, im->channels, 0,
                                        im->name.c_str()),
                  QOHI_OK);
    void* data = nullptr;
    size_t size = 0;
    ASSERT_EQ(qohi_writer_finish(w, &data, &size), QOHI_OK);
    qohi_writer_destroy(w);
    ASSERT_GT(size, size_t(1) << 20);  // more than one piece
    char path[] = "/tmp/qohi-recovery-XXXXXX";
    const int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    const size_t cut = size - 30;  // inside the index
    ASSERT_EQ(write(fd, data, cut), ssize_t(cut));
    close(fd);
    qohi_free(data);

    qohi_read_options o;
    qohi_read_options_init(&o);
    o.recover = 1;
    qohi_reader* r = nullptr;
    const qohi_status st = qohi_reader_open_file(path, &o, &r, nullptr);
    std::remove(path);
    ASSERT_EQ(st, QOHI_OK);
    EXPECT_EQ(qohi_reader_file_status(r, nullptr), QOHI_ERROR_TRUNCATED);
    ASSERT_EQ(qohi_reader_frame_count(r), 2u);
    for (uint32_t i = 0; i < 2; ++i) {
        const TestImage& im = i == 0 ? big : small;
        std::vector<uint8_t> px(im.pixels.size());
        ASSERT_EQ(qohi_reader_decode_frame(r, i, px.data(), px.size(), 0, 0), QOHI_OK);
        EXPECT_EQ(px, im.pixels) << i;
    }
    qohi_reader_close(r);
}

}  // namespace
}  // namespace qohi_test
