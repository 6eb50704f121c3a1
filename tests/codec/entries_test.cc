// Entries (spec §3.15): files stored as they are beside the frames. What a
// writer stores comes back byte for byte with its kind, name and
// attributes, however the frames and entries interleave and however large
// the content; frames keep their source file's attributes; a damaged or
// hostile entry is refused with the class the spec gives, alone where the
// spec says so; recovery keeps every entry written whole.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "byte_io.h"
#include "container.h"
#include "test_images.h"

namespace qohi_test {
namespace {

struct Item {
    bool frame = false;
    uint32_t kind = QOHI_ENTRY_FILE;  // entries
    std::string name;
    std::string content;  // entries: the bytes (the target of a link)
    qohi_file_attributes attributes{};
    TestImage image;  // frames
};

std::string random_bytes(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    return s;
}

qohi_file_attributes attributes(uint32_t mode, int64_t mtime, uint32_t nsec) {
    qohi_file_attributes a{};
    a.present = 1;
    a.mode = mode;
    a.mtime = mtime;
    a.mtime_nsec = nsec;
    return a;
}

struct Source {
    const std::string* data;
    size_t at = 0;
    size_t chunk;  // at most this many bytes per call, to exercise refilling
};

qohi_status supply(void* user, void* buffer, size_t size, size_t* got) {
    auto* s = static_cast<Source*>(user);
    const size_t n = std::min({size, s->chunk, s->data->size() - s->at});
    std::memcpy(buffer, s->data->data() + s->at, n);
    s->at += n;
    *got = n;
    return QOHI_OK;
}

// Writes `items` in order; entries alternate between `data` and a source.
std::vector<uint8_t> write_items(const std::vector<Item>& items) {
    qohi_writer* w = nullptr;
    EXPECT_EQ(qohi_writer_open_memory(nullptr, &w, nullptr), QOHI_OK);
    size_t k = 0;
    for (const Item& it : items) {
        if (it.frame) {
            qohi_frame_options fo;
            qohi_frame_options_init(&fo);
            fo.name = it.name.c_str();
            fo.attributes = &it.attributes;
            EXPECT_EQ(qohi_writer_add_frame_with(w, it.image.pixels.data(), it.image.width, it.image.height,
                                                 it.image.channels, 0, &fo),
                      QOHI_OK)
                << qohi_writer_message(w);
            continue;
        }
        qohi_entry_options eo;
        qohi_entry_options_init(&eo);
        eo.kind = it.kind;
        eo.name = it.name.c_str();
        eo.attributes = &it.attributes;
        eo.size = it.content.size();
        Source src{&it.content, 0, 1000 + 4093 * k};
        if (it.kind == QOHI_ENTRY_SYMLINK || k++ % 2 == 0) {
            eo.data = it.content.data();
        } else {
            eo.source = supply;
            eo.source_user = &src;
        }
        EXPECT_EQ(qohi_writer_add_entry(w, &eo), QOHI_OK) << qohi_writer_message(w);
    }
    void* data = nullptr;
    size_t size = 0;
    EXPECT_EQ(qohi_writer_finish(w, &data, &size), QOHI_OK) << qohi_writer_message(w);
    std::vector<uint8_t> file(static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
    qohi_free(data);
    qohi_writer_destroy(w);
    return file;
}

struct Collected {
    std::string bytes;
    size_t pieces = 0;
    size_t largest = 0;
};

qohi_status collect(void* user, const void* data, size_t size) {
    auto* c = static_cast<Collected*>(user);
    c->bytes.append(static_cast<const char*>(data), size);
    ++c->pieces;
    c->largest = std::max(c->largest, size);
    return QOHI_OK;
}

qohi_status read_entry(qohi_reader* r, uint32_t index, Collected& out) {
    out = Collected();
    return qohi_reader_read_entry(r, index, collect, &out);
}

void expect_same_attributes(const qohi_file_attributes& got, const qohi_file_attributes& want) {
    EXPECT_EQ(got.present != 0, want.present != 0);
    if (!want.present) return;
    EXPECT_EQ(got.mode, want.mode);
    EXPECT_EQ(got.mtime, want.mtime);
    EXPECT_EQ(got.mtime_nsec, want.mtime_nsec);
}

// Checks that `r` holds exactly `items`.
void expect_items(qohi_reader* r, const std::vector<Item>& items) {
    uint32_t frame = 0, entry = 0;
    for (const Item& it : items) {
        if (it.frame) {
            qohi_frame_info info;
            ASSERT_EQ(qohi_reader_frame_info(r, frame, &info), QOHI_OK);
            EXPECT_EQ(std::string(info.name, info.name_size), it.name);
            std::vector<uint8_t> px(it.image.pixels.size());
            ASSERT_EQ(qohi_reader_decode_frame(r, frame, px.data(), px.size(), 0, 0), QOHI_OK)
                << qohi_reader_message(r);
            EXPECT_EQ(px, it.image.pixels);
            qohi_file_attributes a;
            ASSERT_EQ(qohi_reader_frame_attributes(r, frame, &a), QOHI_OK) << qohi_reader_message(r);
            expect_same_attributes(a, it.attributes);
            ++frame;
            continue;
        }
        qohi_entry_info info;
        ASSERT_EQ(qohi_reader_entry_info(r, entry, &info), QOHI_OK);
        EXPECT_EQ(std::string(info.name, info.name_size), it.name);
        EXPECT_EQ(info.kind, it.kind);
        EXPECT_EQ(info.method, 0u);
        EXPECT_EQ(info.size, it.content.size());
        expect_same_attributes(info.attributes, it.attributes);
        uint32_t found = 99;
        EXPECT_EQ(qohi_reader_find_entry(r, it.name.c_str(), &found), QOHI_OK);
        EXPECT_EQ(found, entry);
        Collected c;
        ASSERT_EQ(read_entry(r, entry, c), QOHI_OK) << qohi_reader_message(r);
        EXPECT_TRUE(c.bytes == it.content) << it.name;
        ++entry;
    }
    EXPECT_EQ(qohi_reader_frame_count(r), frame);
    EXPECT_EQ(qohi_reader_entry_count(r), entry);
}

std::vector<Item> sample_items() {
    std::vector<Item> items;
    auto entry = [&](uint32_t kind, const std::string& name, const std::string& content, qohi_file_attributes a) {
        Item it;
        it.kind = kind;
        it.name = name;
        it.content = content;
        it.attributes = a;
        items.push_back(it);
    };
    auto frame = [&](const std::string& name, uint32_t seed, qohi_file_attributes a) {
        Item it;
        it.frame = true;
        it.name = name;
        it.attributes = a;
        it.image = make_image(name, 9 + seed, 7, 3 + seed % 2, [](uint32_t x, uint32_t y, uint32_t k, std::mt19937& rng) {
            return uint8_t(x * 7 + y * 3 + k + rng() % 3);
        });
        items.push_back(it);
    };
    entry(QOHI_ENTRY_FOLDER, "docs", "", attributes(0755, 1700000000, 5));
    entry(QOHI_ENTRY_FILE, "docs/readme.txt", "hello\n", attributes(0644, 1700000001, 999999999));
    frame("a.png", 1, attributes(0600, 1, 0));
    entry(QOHI_ENTRY_FILE, "empty", "", attributes(0444, -86400 * 365, 123));
    entry(QOHI_ENTRY_SYMLINK, "link", "docs/readme.txt", attributes(0777, 1600000000, 0));
    frame("b.png", 2, qohi_file_attributes{});
    // Larger than two pieces of the writer (4 MiB each).
    entry(QOHI_ENTRY_FILE, "photo.jpg", random_bytes((size_t(9) << 20) + 17, 3), attributes(07755, 0, 1));
    entry(QOHI_ENTRY_FILE, "no-attributes.bin", random_bytes(5000, 4), qohi_file_attributes{});
    entry(QOHI_ENTRY_FOLDER, "docs/empty folder", "", attributes(0700, INT64_MIN, 0));
    entry(QOHI_ENTRY_FILE, "d\xC3\xA9j\xC3\xA0/\xE2\x82\xAC.txt", "x", attributes(0, INT64_MAX, 0));
    frame("c.png", 3, attributes(0644, 1234567890, 42));
    return items;
}

TEST(Entries, RoundTripInterleavedWithFrames) {
    const std::vector<Item> items = sample_items();
    const std::vector<uint8_t> file = write_items(items);
    qohi_reader* r = nullptr;
    ASSERT_EQ(qohi_reader_open_memory(file.data(), file.size(), nullptr, &r, nullptr), QOHI_OK);
    expect_items(r, items);
    // The 9 MiB entry comes in pieces of at most 4 MiB.
    uint32_t big = 0;
    ASSERT_EQ(qohi_reader_find_entry(r, "photo.jpg", &big), QOHI_OK);
    Collected c;
    ASSERT_EQ(read_entry(r, big, c), QOHI_OK);
    EXPECT_EQ(c.pieces, 3u);
    EXPECT_LE(c.largest, size_t(4) << 20);
    // Frames and entries are numbered apart; names are looked up apart.
    uint32_t index = 0;
    EXPECT_EQ(qohi_reader_find_entry(r, "a.png", &index), QOHI_ERROR_NOT_FOUND);
    EXPECT_EQ(qohi_reader_find_frame(r, "docs/readme.txt", &index), QOHI_ERROR_NOT_FOUND);
    EXPECT_EQ(qohi_reader_entry_info(r, qohi_reader_entry_count(r), nullptr), QOHI_ERROR_INVALID_ARGUMENT);
    qohi_entry_info info;
    EXPECT_EQ(qohi_reader_entry_info(r, qohi_reader_entry_count(r), &info), QOHI_ERROR_NOT_FOUND);
    qohi_reader_close(r);
}

TEST(Entries, OnlyEntriesAndNoFrames) {
    std::vector<Item> items;
    Item a;
    a.name = "notes.txt";
    a.content = "notes";
    items.push_back(a);
    const std::vector<uint8_t> file = write_items(items);
    qohi_reader* r = nullptr;
    ASSERT_EQ(qohi_reader_open_memory(file.data(), file.size(), nullptr, &r, nullptr), QOHI_OK);
    expect_items(r, items);
    qohi_reader_close(r);
}

TEST(Entries, AFileWithoutEntriesHasNoEntrySection) {
    // The index of a file of frames only ends after its last frame entry.
    const TestImage im = make_image("x", 4, 4, 3, [](uint32_t x, uint32_t, uint32_t, std::mt19937&) { return uint8_t(x); });
    const std::vector<uint8_t> file = encode(im, nullptr);
    for (const RecordSpan& rec : records(file)) {
        if (rec.type != qohi::kTypeIndex) continue;
        qohi::ByteReader in(&file[rec.offset + 8], rec.size);
        EXPECT_EQ(in.u32(), 1u);
        in.varint(~uint64_t(0));  // offset
        in.varint(~uint64_t(0));  // shared
        std::vector<uint8_t> header;
        qohi::ByteWriter w(header);
        RawFrameHeader h = parse_raw_header(in.position(), in.remaining());
        write_raw_header(h, w);
        EXPECT_EQ(in.remaining(), header.size());
    }
}

TEST(Entries, WriterRefusesWhatCannotBeStored) {
    qohi_writer* w = nullptr;
    ASSERT_EQ(qohi_writer_open_memory(nullptr, &w, nullptr), QOHI_OK);
    const TestImage im = make_image("x", 4, 4, 3, [](uint32_t x, uint32_t, uint32_t, std::mt19937&) { return uint8_t(x); });
    ASSERT_EQ(qohi_writer_add_frame(w, im.pixels.data(), 4, 4, 3, 0, "same"), QOHI_OK);
    auto add = [&](uint32_t kind, const char* name, const std::string& data, const qohi_file_attributes* a = nullptr) {
        qohi_entry_options eo;
        qohi_entry_options_init(&eo);
        eo.kind = kind;
        eo.name = name;
        eo.size = data.size();
        eo.data = data.empty() ? nullptr : data.data();
        eo.attributes = a;
        return qohi_writer_add_entry(w, &eo);
    };
    EXPECT_EQ(add(QOHI_ENTRY_FILE, "same", "x"), QOHI_ERROR_INVALID_ARGUMENT);  // a frame's name
    EXPECT_EQ(add(QOHI_ENTRY_FILE, "", "x"), QOHI_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(add(QOHI_ENTRY_FILE, nullptr, "x"), QOHI_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(add(QOHI_ENTRY_FILE, "bad\xFF", "x"), QOHI_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(add(3, "kind", "x"), QOHI_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(add(QOHI_ENTRY_FOLDER, "folder", "x"), QOHI_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(add(QOHI_ENTRY_SYMLINK, "link", ""), QOHI_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(add(QOHI_ENTRY_SYMLINK, "link", std::string("a\0b", 3)), QOHI_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(add(QOHI_ENTRY_SYMLINK, "link", std::string(65536, 'a')), QOHI_ERROR_INVALID_ARGUMENT);
    const qohi_file_attributes bad_mode = attributes(010000, 0, 0), bad_nsec = attributes(0644, 0, 1000000000);
    EXPECT_EQ(add(QOHI_ENTRY_FILE, "mode", "x", &bad_mode), QOHI_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(add(QOHI_ENTRY_FILE, "nsec", "x", &bad_nsec), QOHI_ERROR_INVALID_ARGUMENT);
    qohi_entry_options no_content;
    qohi_entry_options_init(&no_content);
    no_content.name = "nothing";
    no_content.size = 3;
    EXPECT_EQ(qohi_writer_add_entry(w, &no_content), QOHI_ERROR_INVALID_ARGUMENT);
    // None of them left anything behind: the file holds the frame alone.
    ASSERT_EQ(add(QOHI_ENTRY_FILE, "fine", "x"), QOHI_OK);
    EXPECT_EQ(add(QOHI_ENTRY_FILE, "fine", "y"), QOHI_ERROR_INVALID_ARGUMENT);
    qohi_frame_options fo;
    qohi_frame_options_init(&fo);
    fo.name = "fine";
    EXPECT_EQ(qohi_writer_add_frame_with(w, im.pixels.data(), 4, 4, 3, 0, &fo), QOHI_ERROR_INVALID_ARGUMENT);
    void* data = nullptr;
    size_t size = 0;
    ASSERT_EQ(qohi_writer_finish(w, &data, &size), QOHI_OK);
    qohi_reader* r = nullptr;
    ASSERT_EQ(qohi_reader_open_memory(data, size, nullptr, &r, nullptr), QOHI_OK);
    EXPECT_EQ(qohi_reader_frame_count(r), 1u);
    EXPECT_EQ(qohi_reader_entry_count(r), 1u);
    qohi_reader_close(r);
    qohi_free(data);
    qohi_writer_destroy(w);
}

TEST(Entries, ASourceThatEndsEarlyFailsTheWriter) {
    qohi_writer* w = nullptr;
    ASSERT_EQ(qohi_writer_open_memory(nullptr, &w, nullptr), QOHI_OK);
    const std::string shrunk = "only ten b";
    Source src{&shrunk, 0, 4};
    qohi_entry_options eo;
    qohi_entry_options_init(&eo);
    eo.name = "shrank.txt";
    eo.size = 20;
    eo.source = supply;
    eo.source_user = &src;
    EXPECT_EQ(qohi_writer_add_entry(w, &eo), QOHI_ERROR_IO);
    EXPECT_NE(std::string(qohi_writer_message(w)).find("ended after 10 of 20 bytes"), std::string::npos)
        << qohi_writer_message(w);
    void* data = nullptr;
    size_t size = 0;
    EXPECT_NE(qohi_writer_finish(w, &data, &size), QOHI_OK);
    qohi_writer_destroy(w);
}

// The file with the payloads of one record changed (CRC fixed), the index kept.
std::vector<uint8_t> with_record(const std::vector<uint8_t>& file, uint32_t type, size_t nth,
                                 const std::function<void(std::vector<uint8_t>&, size_t)>& change) {
    std::vector<uint8_t> out = file;
    size_t seen = 0;
    for (const RecordSpan& rec : records(file)) {
        if (rec.type != type || seen++ != nth) continue;
        change(out, rec.offset + 8);
        fix_crc(out, rec);
        return out;
    }
    ADD_FAILURE() << "no such record";
    return out;
}

qohi_status open_status(const std::vector<uint8_t>& file) {
    qohi_reader* r = nullptr;
    const qohi_status st = qohi_reader_open_memory(file.data(), file.size(), nullptr, &r, nullptr);
    qohi_reader_close(r);
    return st;
}

TEST(Entries, DamagedContentFailsThatEntryAlone) {
    const std::vector<Item> items = sample_items();
    const std::vector<uint8_t> file = write_items(items);
    // A flipped content byte: the CRC catches it when the entry is read.
    std::vector<uint8_t> flipped = file;
    for (const RecordSpan& rec : records(file))
        if (rec.type == qohi::kTypeEntryData) {
            flipped[rec.offset + 8] ^= 1;
            break;
        }
    qohi_reader* r = nullptr;
    ASSERT_EQ(qohi_reader_open_memory(flipped.data(), flipped.size(), nullptr, &r, nullptr), QOHI_OK);
    Collected c;
    EXPECT_EQ(read_entry(r, 1, c), QOHI_ERROR_CORRUPT);  // docs/readme.txt, the first with content
    EXPECT_EQ(read_entry(r, 4, c), QOHI_OK);            // others still read
    std::vector<uint8_t> px(10 * 7 * 4);  // a.png
    EXPECT_EQ(qohi_reader_decode_frame(r, 0, px.data(), px.size(), 0, 0), QOHI_OK);
    qohi_reader_close(r);

    // An EHDR that disagrees with the index; reserved kind, method, flag.
    for (int field = 0; field < 4; ++field) {
        const std::vector<uint8_t> changed =
            with_record(file, qohi::kTypeEntryHeader, 1, [field](std::vector<uint8_t>& f, size_t p) {
                if (field == 3) f[p + 5] ^= 1;  // inside the mode varint: disagrees with the index
                else f[p + size_t(field)] = field == 2 ? 0x81 : 7;
            });
        ASSERT_EQ(qohi_reader_open_memory(changed.data(), changed.size(), nullptr, &r, nullptr), QOHI_OK);
        EXPECT_EQ(read_entry(r, 1, c), QOHI_ERROR_CORRUPT) << field;
        EXPECT_EQ(read_entry(r, 0, c), QOHI_OK);
        qohi_reader_close(r);
    }
}

// Writes a file whose index is made by hand: `index_tail` follows the
// frame entries (none here), after the records `body`.
std::vector<uint8_t> hand_made(const std::vector<std::pair<uint32_t, std::vector<uint8_t>>>& body,
                               const std::vector<uint8_t>& index_tail) {
    std::vector<uint8_t> out(qohi::kSignature, qohi::kSignature + 8);
    std::vector<uint8_t> header;
    qohi::FileHeader fh;
    qohi::encode_file_header(fh, header);
    qohi::append_record(out, qohi::kTypeFileHeader, header.data(), header.size());
    for (const auto& rec : body) qohi::append_record(out, rec.first, rec.second.data(), rec.second.size());
    std::vector<uint8_t> index;
    qohi::ByteWriter(index).u32(0);
    index.insert(index.end(), index_tail.begin(), index_tail.end());
    const qohi::Trailer t{out.size(), 0};
    qohi::append_record(out, qohi::kTypeIndex, index.data(), index.size());
    std::vector<uint8_t> trailer;
    qohi::encode_trailer(t, trailer);
    qohi::append_record(out, qohi::kTypeTrailer, trailer.data(), trailer.size());
    return out;
}

std::vector<uint8_t> ehdr(uint8_t kind, uint64_t size, const std::string& name) {
    qohi::EntryHeader h;
    h.kind = kind;
    h.size = size;
    h.name = name;
    std::vector<uint8_t> p;
    qohi::encode_entry_header(h, p);
    return p;
}

std::vector<uint8_t> item(uint64_t offset_delta, uint8_t kind, uint64_t size, const std::string& name) {
    qohi::EntryHeader h;
    h.kind = kind;
    h.size = size;
    h.name = name;
    std::vector<uint8_t> p;
    qohi::encode_entry_index_item(h, offset_delta, "", p);
    return p;
}

std::vector<uint8_t> section(uint64_t count, const std::vector<std::vector<uint8_t>>& items) {
    std::vector<uint8_t> s;
    qohi::ByteWriter(s).varint(count);
    for (const auto& i : items) s.insert(s.end(), i.begin(), i.end());
    return s;
}

TEST(Entries, HostileIndexSectionsAreCorrupt) {
    const std::vector<uint8_t> content = {'a', 'b', 'c'};
    const auto body = std::vector<std::pair<uint32_t, std::vector<uint8_t>>>{
        {qohi::kTypeEntryHeader, ehdr(0, 3, "f")}, {qohi::kTypeEntryData, content}};
    // The valid file first, so that each case below differs in one way.
    const std::vector<uint8_t> good = hand_made(body, section(1, {item(28, 0, 3, "f")}));
    ASSERT_EQ(open_status(good), QOHI_OK);
    qohi_reader* r = nullptr;
    ASSERT_EQ(qohi_reader_open_memory(good.data(), good.size(), nullptr, &r, nullptr), QOHI_OK);
    Collected c;
    EXPECT_EQ(read_entry(r, 0, c), QOHI_OK);
    EXPECT_EQ(c.bytes, "abc");
    qohi_reader_close(r);

    EXPECT_EQ(open_status(hand_made({}, {})), QOHI_OK);  // no items, no section
    EXPECT_EQ(open_status(hand_made({}, section(0, {}))), QOHI_ERROR_CORRUPT);  // a section of no entries
    EXPECT_EQ(open_status(hand_made(body, section(2, {item(28, 0, 3, "f")}))), QOHI_ERROR_CORRUPT);  // count x 7
    EXPECT_EQ(open_status(hand_made(body, section(1, {item(29, 0, 3, "f")}))), QOHI_ERROR_CORRUPT);  // not at 28
    EXPECT_EQ(open_status(hand_made(body, section(1, {item(28, 0, 4000, "f")}))), QOHI_ERROR_CORRUPT);  // > extent
    EXPECT_EQ(open_status(hand_made(body, section(1, {item(28, 2, 3, "f")}))), QOHI_ERROR_CORRUPT);  // folder, size 3
    EXPECT_EQ(open_status(hand_made(body, section(1, {item(28, 1, 0, "f")}))), QOHI_ERROR_CORRUPT);  // empty link
    EXPECT_EQ(open_status(hand_made(body, section(1, {item(28, 0, 3, "")}))), QOHI_ERROR_CORRUPT);  // no name
    EXPECT_EQ(open_status(hand_made(body, section(1, {item(28, 0, 3, "\xC0\x80")}))), QOHI_ERROR_CORRUPT);
    std::vector<uint8_t> trailing = section(1, {item(28, 0, 3, "f")});
    trailing.push_back(0);
    EXPECT_EQ(open_status(hand_made(body, trailing)), QOHI_ERROR_CORRUPT);
    // Two items at one offset.
    const auto two = std::vector<std::pair<uint32_t, std::vector<uint8_t>>>{
        {qohi::kTypeEntryHeader, ehdr(2, 0, "d")}, {qohi::kTypeEntryHeader, ehdr(2, 0, "e")}};
    EXPECT_EQ(open_status(hand_made(two, section(2, {item(28, 2, 0, "d"), item(0, 2, 0, "e")}))), QOHI_ERROR_CORRUPT);
    EXPECT_EQ(open_status(hand_made(two, section(2, {item(28, 2, 0, "d"), item(15, 2, 0, "e")}))), QOHI_OK);
    // An attribute field over its maximum, in the index and its EHDR alike.
    std::vector<uint8_t> bad_mode = item(28, 0, 3, "f");
    bad_mode[4] = 1;  // flags: attributes follow ...
    bad_mode.insert(bad_mode.begin() + 5, {0x80, 0x20, 0, 0});  // ... mode 4096, mtime 0, nsec 0
    EXPECT_EQ(open_status(hand_made(body, section(1, {bad_mode}))), QOHI_ERROR_CORRUPT);

    // Content that does not match its header is refused when read.
    auto read_class = [&](const std::vector<std::pair<uint32_t, std::vector<uint8_t>>>& b, uint64_t size) {
        const std::vector<uint8_t> f = hand_made(b, section(1, {item(28, 0, size, "f")}));
        qohi_reader* rr = nullptr;
        qohi_status st = qohi_reader_open_memory(f.data(), f.size(), nullptr, &rr, nullptr);
        if (st == QOHI_OK) {
            Collected cc;
            st = read_entry(rr, 0, cc);
        }
        qohi_reader_close(rr);
        return st;
    };
    using Body = std::vector<std::pair<uint32_t, std::vector<uint8_t>>>;
    EXPECT_EQ(read_class(Body{{qohi::kTypeEntryHeader, ehdr(0, 2, "f")}, {qohi::kTypeEntryData, content}}, 2),
              QOHI_ERROR_CORRUPT);  // content longer than size
    EXPECT_EQ(read_class(Body{{qohi::kTypeEntryHeader, ehdr(0, 4, "f")}, {qohi::kTypeEntryData, content}}, 4),
              QOHI_ERROR_CORRUPT);  // cut short by the extent
    EXPECT_EQ(read_class(Body{{qohi::kTypeEntryHeader, ehdr(0, 3, "f")}, {qohi::kTypeEntryData, {}},
                              {qohi::kTypeEntryData, content}},
                         3),
              QOHI_ERROR_CORRUPT);  // an empty EDAT
    EXPECT_EQ(read_class(Body{{qohi::kTypeEntryHeader, ehdr(0, 3, "f")}, {qohi::record_type("XDAT"), content},
                              {qohi::kTypeEntryData, content}},
                         3),
              QOHI_ERROR_UNSUPPORTED);  // an unknown critical record
    EXPECT_EQ(read_class(Body{{qohi::kTypeEntryHeader, ehdr(0, 3, "f")}, {qohi::record_type("xtra"), content},
                              {qohi::kTypeEntryData, content}},
                         3),
              QOHI_OK);  // an ancillary record is skipped
    EXPECT_EQ(read_class(Body{{qohi::kTypeEntryHeader, ehdr(0, 3, "f")}, {qohi::kTypeEntryData, content},
                              {qohi::record_type("xtra"), content}},
                         3),
              QOHI_ERROR_CORRUPT);  // data after the content
    std::vector<uint8_t> nul_target = {'a', 0, 'b'};
    const std::vector<uint8_t> link = hand_made(
        Body{{qohi::kTypeEntryHeader, ehdr(1, 3, "f")}, {qohi::kTypeEntryData, nul_target}},
        section(1, {item(28, 1, 3, "f")}));
    ASSERT_EQ(qohi_reader_open_memory(link.data(), link.size(), nullptr, &r, nullptr), QOHI_OK);
    EXPECT_EQ(read_entry(r, 0, c), QOHI_ERROR_CORRUPT);
    qohi_reader_close(r);
}

TEST(Entries, RecoveryKeepsEveryEntryWrittenWhole) {
    std::vector<Item> items = sample_items();
    items.erase(items.begin() + 6);  // the 9 MiB entry: cutting at every byte would take long
    const std::vector<uint8_t> file = write_items(items);
    // Where each item ends, in file order (the records' ends).
    std::vector<size_t> item_ends;
    const std::vector<RecordSpan> recs = records(file);
    for (size_t k = 0; k < recs.size(); ++k) {
        const uint32_t t = recs[k].type;
        const bool next_starts = k + 1 == recs.size() || recs[k + 1].type == qohi::kTypeFrameHeader ||
                                 recs[k + 1].type == qohi::kTypeEntryHeader || recs[k + 1].type == qohi::kTypeIndex;
        if (t != qohi::kTypeFileHeader && t != qohi::kTypeIndex && t != qohi::kTypeTrailer && next_starts)
            item_ends.push_back(recs[k].offset + 12 + recs[k].size);
    }
    ASSERT_EQ(item_ends.size(), items.size());
    qohi_read_options ro;
    qohi_read_options_init(&ro);
    ro.recover = 1;
    for (size_t cut = 28; cut < file.size() - 24; cut += 7) {
        const std::vector<uint8_t> part(file.begin(), file.begin() + long(cut));
        qohi_reader* r = nullptr;
        ASSERT_EQ(qohi_reader_open_memory(part.data(), part.size(), &ro, &r, nullptr), QOHI_OK) << cut;
        EXPECT_EQ(qohi_reader_file_status(r, nullptr), QOHI_ERROR_TRUNCATED);
        std::vector<Item> whole;
        for (size_t k = 0; k < items.size() && item_ends[k] <= cut; ++k) whole.push_back(items[k]);
        expect_items(r, whole);
        qohi_reader_close(r);
        if (HasFailure()) break;
    }
}

}  // namespace
}  // namespace qohi_test
