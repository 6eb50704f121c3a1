// Entries (spec §3.15): files stored as they are, their section of the
// index (§3.11), and the attr record of frames (§3.9). Valid files with
// every kind of entry, alone or among frames; one invalid file per row of
// §9.3 about entries (E01 - E25) and about attr records (A01). Invalid
// files change one thing and keep the rest consistent (CRCs, the index
// item and the EHDR agreeing, offsets).
#include "qohi/qohi.h"
#include "vec_cases.h"

namespace vec {
namespace {

// The expectations of a file whose entries and attributes all read: from
// the entries' headers and EDAT records, and the frames' attr records.
void expect_all(Case& c, const File& f) {
    c.check_entries = true;
    c.entries.clear();
    for (const Entry& e : f.entries) {
        EntryExpect x;
        x.name = e.h.name;
        x.kind = e.h.kind;
        x.method = e.h.method;
        x.size = e.h.size;
        if (e.h.flags & 1) x.attributes = Attrs{e.h.mode, unzigzag(e.h.mtime_zz), e.h.nsec};
        for (const Record& r : e.records)
            if (r.type == "EDAT") x.content.insert(x.content.end(), r.payload.begin(), r.payload.end());
        c.entries.push_back(x);
    }
    c.frame_attributes.clear();
    for (const Frame& fr : f.frames) {
        AttrExpect a;
        for (const Record& r : fr.before)
            if (r.type == "attr") {
                // attr_payload() wrote it: mode, zig-zag mtime, nsec.
                size_t pos = 0;
                auto varint = [&] {
                    uint64_t v = 0;
                    for (unsigned k = 0;; ++k) {
                        const uint8_t b = r.payload[pos++];
                        v |= uint64_t(b & 0x7F) << (7 * k);
                        if (b < 0x80) return v;
                    }
                };
                const uint64_t mode = varint();
                const int64_t mtime = unzigzag(varint());
                a.attributes = Attrs{mode, mtime, varint()};
            }
        c.frame_attributes.push_back(a);
    }
}

Case entries_valid(const std::string& name, const File& f, const std::vector<Img>& imgs, const About& about) {
    Case c = valid_case(name, f, imgs, about);
    expect_all(c, f);
    return c;
}

const Img& img_a() {
    static const Img img = gradient(5, 3, 3);
    return img;
}
const Img& img_b() {
    static const Img img = noise(4, 4, 4, 7);
    return img;
}

const Attrs kAttrs{0644, 1700000000, 123456789};

// The base of the invalid cases: entry 0 (a file), frame 0, entry 1 (a
// symbolic link), entry 2 (a folder), frame 1.
File base_file() {
    File f;
    f.frames = {qohi_frame(img_a(), "pictures/a.png"), stored_frame(img_b(), "pictures/b.png")};
    f.entries = {make_entry(0, "docs/readme.txt", "Hello, entries.\n", kAttrs, {}, 0),
                 make_entry(1, "docs/link", "readme.txt", Attrs{0777, 1700000001, 0}, {}, 1),
                 make_entry(2, "empty", "", Attrs{0755, -1, 999999999}, {}, 1)};
    return f;
}

// A case on base_file() changed by `change`, whose file must not open.
Case open_entry_case(const std::string& name, const std::function<void(File&)>& change, const std::string& row,
                     const std::string& message, const std::string& summary) {
    File f = base_file();
    change(f);
    return open_case(name, build(f), "CORRUPT", {row}, message, summary, "§3.11, §3.15, §7.2");
}

// A case on base_file() changed by `change` (or its bytes by `edit`) whose
// entry `j` must fail to read with `cls`; everything else reads.
Case entry_read_case(const std::string& name, const std::function<void(File&)>& change, size_t j,
                     const std::string& cls, const std::string& row, const std::string& message,
                     const std::string& summary, const std::function<void(std::vector<uint8_t>&)>& edit = nullptr) {
    File f = base_file();
    change(f);
    Case c = frame_case(name, build(f), {ok(img_a()), ok(img_b())}, {row}, message, summary, "§3.15, §7.3a");
    if (edit) edit(c.file);
    expect_all(c, f);
    c.entries[j].ok = false;
    c.entries[j].content.clear();
    c.entries[j].error = cls;
    return c;
}

void add_valid() {
    add_case([] {
        File f;
        std::string name_long(200, 'n');
        f.entries = {make_entry(2, "docs", "", kAttrs),
                     make_entry(0, "docs/a.txt", "first file\n", Attrs{0600, -86400 * 365, 5}),
                     make_entry(0, "docs/b.txt", "", std::nullopt),
                     make_entry(1, "docs/latest", "a.txt", Attrs{0777, 0, 0}),
                     make_entry(0, "docs/bin", std::string("\0\1\2\xFF\xFE", 5), Attrs{04755, INT64_MIN, 999999999}),
                     make_entry(2, "empty folder", "", std::nullopt)};
        return entries_valid(
            "valid-entries-only", f, {},
            About("A file of entries only: folders, regular files (one empty), a symbolic link; with and without "
                  "attributes",
                  "§3.11, §3.15",
                  "No frames: the index has frame count 0 and an entry section of six items, whose names are "
                  "front-coded against each other. Attributes: mode 0644, 0600, 0777, 04755 (set-user-ID); "
                  "times from INT64_MIN (the largest zig-zag value) to 1.7e9, one before 1970, nanoseconds up to "
                  "999,999,999. An empty regular file and the folders have no EDAT record.",
                  {"entry:file", "entry:symlink", "entry:folder", "entry:empty-file", "entry:attributes",
                   "entry:no-attributes", "entry:negative-mtime", "entry:no-frames", "index:entry-shared"}));
    });
    add_case([] {
        File f;
        Frame a = qohi_frame(img_a(), "photos/a.png");
        a.before = {Record{"attr", attr_payload(0644, 1600000000, 42)}, plain_record("exif", "II*\0")};
        Frame b = stored_frame(img_b(), "photos/b.png");
        f.frames = {a, b};
        f.entries = {make_entry(0, "photos/notes.txt", "notes\n", kAttrs, {}, 0),
                     make_entry(2, "photos/raw", "", kAttrs, {}, 1),
                     make_entry(0, "photos/raw/c.dng", std::string(300, 'x'), std::nullopt, {}, 1),
                     make_entry(1, "photos/current", "a.png", std::nullopt, {}, 2)};
        return entries_valid(
            "valid-entries-with-frames", f, {img_a(), img_b()},
            About("Entries interleaved with frames; a frame with an attr record, one without",
                  "§3.5, §3.9, §3.11, §3.15",
                  "Entry 0, frame 0 (with attr and exif records), entries 1 and 2, frame 1, entry 3: frame 0 "
                  "starts after an entry, not at offset 28, and the items tile the file in file order. Frame "
                  "numbers count frames only.",
                  {"entry:before-frame", "entry:after-frame", "record:attr", "entry:file", "entry:folder",
                   "entry:symlink"}));
    });
    add_case([] {
        File f;
        std::string content;
        for (int k = 0; k < 1000; ++k) content += char(k * 7 + (k >> 8));
        Entry e = make_entry(0, "data/pieces.bin", content, kAttrs, {1, 499, 300, 200});
        // Ancillary records among the EDAT records, skipped by readers.
        e.records.insert(e.records.begin() + 1, keyed_record("text", "Comment", "inside an entry"));
        e.records.insert(e.records.begin() + 3, plain_record("zzzz", "unknown ancillary"));
        Entry link = make_entry(1, "data/long-link", std::string(65535, 'l'), std::nullopt, {30000, 35535});
        f.frames = {qohi_frame(img_a(), "data/a.png")};
        f.entries = {e, link};
        return entries_valid(
            "valid-entries-several-edat", f, {img_a()},
            About("Content in several EDAT records with ancillary records among them; a symbolic link target of "
                  "65,535 bytes",
                  "§3.15",
                  "Entry 0's 1,000 bytes come in EDAT records of 1, 499, 300 and 200 bytes, with a text record "
                  "after the first and an unknown ancillary record after the second. Entry 1 is a link with the "
                  "longest target, in two EDAT records.",
                  {"entry:several-edat", "entry:ancillary", "entry:symlink"}));
    });
    add_case([] {
        File f;
        f.entries = {make_entry(0, "caf\xC3\xA9/\xE2\x82\xAC/\xF0\x9F\x98\x80.txt", "utf-8 names\n", kAttrs),
                     make_entry(0, "caf\xC3\xA9/\xE2\x82\xAC/\xF0\x9F\x98\x81.txt", "", kAttrs),
                     make_entry(0, std::string("quote \" backslash \\ tab \t bell \x07", 32), "odd", kAttrs),
                     make_entry(0, std::string(300, 'd') + "/file", "long name", std::nullopt)};
        return entries_valid(
            "valid-entries-names", f, {},
            About("Entry names with 2-, 3- and 4-byte UTF-8 sequences, shared prefixes ending inside one, "
                  "control characters and quotes, 306 bytes",
                  "§3.8, §3.11, §3.15",
                  "Names are UTF-8 without NUL (§3.8), any other character included; entries.json escapes them "
                  "as JSON does.",
                  {"name:utf8-2", "name:utf8-3", "name:utf8-4", "name:long", "index:entry-shared"}));
    });
    add_case([] {
        qohi_writer* w = nullptr;
        check(qohi_writer_open_memory(nullptr, &w, nullptr) == QOHI_OK, "writer");
        auto entry = [&](uint32_t kind, const char* name, const std::string& content, const qohi_file_attributes* a) {
            qohi_entry_options o;
            qohi_entry_options_init(&o);
            o.kind = kind;
            o.name = name;
            o.attributes = a;
            o.size = content.size();
            o.data = content.data();
            check(qohi_writer_add_entry(w, &o) == QOHI_OK, std::string("writer: ") + qohi_writer_message(w));
        };
        const qohi_file_attributes fa{1, 0640, 1234567890, 987654321};
        const qohi_file_attributes old{1, 0444, -1000000000, 0};
        std::string big;
        for (int k = 0; k < 20000; ++k) big += char((k * 131) >> 3);
        entry(QOHI_ENTRY_FOLDER, "set", "", &fa);
        entry(QOHI_ENTRY_FILE, "set/big.bin", big, &fa);
        const std::vector<uint8_t> px = img_a().bytes();
        qohi_frame_options fo;
        qohi_frame_options_init(&fo);
        fo.name = "set/a.png";
        fo.attributes = &old;
        check(qohi_writer_add_frame_with(w, px.data(), img_a().w, img_a().h, img_a().c, 0, &fo) == QOHI_OK,
              "writer frame");
        entry(QOHI_ENTRY_SYMLINK, "set/latest.png", "a.png", nullptr);
        void* data = nullptr;
        size_t size = 0;
        check(qohi_writer_finish(w, &data, &size) == QOHI_OK, "writer finish");
        qohi_writer_destroy(w);
        const std::vector<uint8_t> file(static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
        qohi_free(data);
        Case c = valid_case("valid-encoder-entries", file, {img_a()},
                            About("Entries and a frame with attributes, written by libqohi's writer", "§3.15, §10",
                                  "qohi_writer_add_entry: a folder, a file of 20,000 bytes and a symbolic link, "
                                  "around a frame written with qohi_frame_options.attributes (an attr record).",
                                  {"entry:folder", "entry:file", "entry:symlink", "record:attr"},
                                  {"encoder:entries"}));
        c.check_entries = true;
        auto x = [](const char* name, unsigned kind, const std::string& content, const qohi_file_attributes* a) {
            EntryExpect e;
            e.name = name;
            e.kind = kind;
            e.size = content.size();
            e.content.assign(content.begin(), content.end());
            if (a) e.attributes = Attrs{a->mode, a->mtime, a->mtime_nsec};
            return e;
        };
        c.entries = {x("set", 2, "", &fa), x("set/big.bin", 0, big, &fa), x("set/latest.png", 1, "a.png", nullptr)};
        c.frame_attributes = {AttrExpect{Attrs{old.mode, old.mtime, old.mtime_nsec}, ""}};
        return c;
    });
}

void add_index_section() {
    // Entry section checks (§3.11 check 4 - 7): the file does not open.
    add_case([] {
        return open_entry_case("invalid-entries-count-0", [](File& f) { f.entry_section = std::vector<uint8_t>{0}; },
                               "E01", "an entry section with no entries", "An entry section of entry_count 0");
    });
    add_case([] {
        return open_entry_case(
            "invalid-entries-count-not-shortest", [](File& f) {
                std::vector<uint8_t> s;
                put_varint(s, 3, 2);
                f.entry_section = s;
            },
            "E02", "entry count cut short or out of range", "entry_count as a 2-byte varint (not shortest)");
    });
    add_case([] {
        return open_entry_case(
            "invalid-entries-count-over-max", [](File& f) {
                std::vector<uint8_t> s;
                put_varint(s, uint64_t(1) << 32);
                s.resize(s.size() + 40, 0);
                f.entry_section = s;
            },
            "E02", "entry count cut short or out of range", "entry_count 2^32, above its maximum");
    });
    add_case([] {
        return open_entry_case(
            "invalid-entries-count-too-large", [](File& f) {
                f.frames.clear();  // the index: frame count (4 bytes), then entry_count
                f.edit_index = [](std::vector<uint8_t>& x) { x[4] = 127; };
            },
            "E03", "index too short for its entry count", "entry_count 127 for 3 items (a file of entries only)");
    });
    add_case([] {
        return open_entry_case(
            "invalid-entries-item-cut", [](File& f) { f.edit_index = [](std::vector<uint8_t>& x) { x.pop_back(); }; },
            "E04", "entry header cut short", "The last item's name cut short by the end of the index");
    });
    add_case([] {
        return open_entry_case(
            "invalid-entries-item-varint-not-shortest", [](File& f) {
                f.raw_item = [](const ItemContext& x) -> std::optional<std::vector<uint8_t>> {
                    const size_t j = x.j;
                    const uint64_t delta = x.delta;
                    const std::string& prev = x.previous;
                    (void)delta;
                    (void)prev;
                    if (j != 1) return std::nullopt;
                    std::vector<uint8_t> out;
                    put_varint(out, delta, 3);  // offset_delta in 3 bytes
                    const std::vector<uint8_t> rest = index_item(base_file().entries[1].h, delta, prev);
                    std::vector<uint8_t> tmp;
                    put_varint(tmp, delta);
                    out.insert(out.end(), rest.begin() + long(tmp.size()), rest.end());
                    return out;
                };
            },
            "E05", "offset cut short or out of range", "Item 1's offset_delta not in its shortest form");
    });
    add_case([] {
        return open_entry_case(
            "invalid-entries-offset-delta-huge", [](File& f) {
                f.raw_item = [](const ItemContext& x) -> std::optional<std::vector<uint8_t>> {
                    const size_t j = x.j;
                    const uint64_t delta = x.delta;
                    const std::string& prev = x.previous;
                    (void)delta;
                    (void)prev;
                    if (j != 0) return std::nullopt;
                    return index_item(base_file().entries[0].h, 1000000, prev);
                };
            },
            "E05", "offset cut short or out of range", "Item 0's offset_delta larger than the file");
    });
    add_case([] {
        return open_entry_case(
            "invalid-entries-shared-too-long", [](File& f) {
                f.raw_item = [](const ItemContext& x) -> std::optional<std::vector<uint8_t>> {
                    const size_t j = x.j;
                    const uint64_t delta = x.delta;
                    const std::string& prev = x.previous;
                    (void)delta;
                    (void)prev;
                    if (j != 1) return std::nullopt;
                    std::vector<uint8_t> out;
                    put_varint(out, delta);
                    put_varint(out, 16);  // the previous name has 15 bytes
                    EHeader h = base_file().entries[1].h;
                    put_entry_fields(out, h, "");
                    return out;
                };
            },
            "E05", "entry header cut short, or a field out of range",
            "Item 1's shared 16, longer than item 0's name");
    });
    add_case([] {
        return open_entry_case(
            "invalid-entries-suffix-size-over-max", [](File& f) {
                f.raw_item = [](const ItemContext& x) -> std::optional<std::vector<uint8_t>> {
                    const size_t j = x.j;
                    const uint64_t delta = x.delta;
                    const std::string& prev = x.previous;
                    (void)delta;
                    (void)prev;
                    if (j != 1) return std::nullopt;
                    std::vector<uint8_t> out;
                    put_varint(out, delta);
                    put_varint(out, 5);  // "docs/"
                    EHeader h = base_file().entries[1].h;
                    std::vector<uint8_t> fields;
                    put_entry_fields(fields, h, "link");
                    // Replace the suffix size 4 (one byte before the suffix) by 65,531.
                    fields.resize(fields.size() - 5);
                    out.insert(out.end(), fields.begin(), fields.end());
                    put_varint(out, 65531);
                    out.insert(out.end(), {'l', 'i', 'n', 'k'});
                    return out;
                };
            },
            "E05", "entry header cut short, or a field out of range", "Item 1's suffix_size above 65,535 - shared");
    });
    add_case([] {
        return open_entry_case(
            "invalid-entries-trailing-byte", [](File& f) { f.edit_index = [](std::vector<uint8_t>& x) { x.push_back(0); }; },
            "R32", "unused bytes at the end of the index", "One byte after the last item of the entry section");
    });
    add_case([] {
        return open_entry_case("invalid-entries-empty-name", [](File& f) { f.entries[2].h.name = ""; }, "E06",
                               "entry has no name", "An entry with an empty name (in its EHDR and its item)");
    });
    add_case([] {
        return open_entry_case("invalid-entries-name-nul", [](File& f) { f.entries[2].h.name = std::string("a\0b", 3); },
                               "E07", "entry name is not valid UTF-8", "An entry name with a NUL byte");
    });
    add_case([] {
        return open_entry_case("invalid-entries-name-overlong",
                               [](File& f) { f.entries[1].h.name = "docs/\xC0\xAF"; }, "E07",
                               "entry name is not valid UTF-8",
                               "An entry name with an overlong UTF-8 sequence (front-coded after docs/)");
    });
    add_case([] {
        return open_entry_case("invalid-entries-mode-over-max", [](File& f) { f.entries[0].h.mode = 4096; }, "E08",
                               "entry header cut short, or a field out of range", "An entry with mode 4096");
    });
    add_case([] {
        return open_entry_case("invalid-entries-nsec-over-max", [](File& f) { f.entries[0].h.nsec = 1000000000; },
                               "E09", "entry header cut short, or a field out of range",
                               "An entry with mtime_nsec 1,000,000,000");
    });
    add_case([] {
        return open_entry_case(
            "invalid-entries-link-size-0", [](File& f) {
                f.entries[1].h.size = 0;
                f.entries[1].records.clear();
            },
            "E10", "symbolic link target of 0 bytes", "A symbolic link with an empty target");
    });
    add_case([] {
        return open_entry_case("invalid-entries-link-size-65536", [](File& f) { f.entries[1].h.size = 65536; }, "E10",
                               "symbolic link target of 65536 bytes", "A symbolic link whose size is 65,536");
    });
    add_case([] {
        return open_entry_case(
            "invalid-entries-folder-with-size", [](File& f) { f.entries[2] = make_entry(2, "empty", "abc", kAttrs, {}, 1); },
            "E11", "folder entry with content", "A folder entry of size 3 (with an EDAT of 3 bytes)");
    });
    add_case([] {
        return open_entry_case(
            "invalid-entries-offset-too-close", [](File& f) {
                f.raw_item = [](const ItemContext& x) -> std::optional<std::vector<uint8_t>> {
                    const size_t j = x.j;
                    const uint64_t delta = x.delta;
                    const std::string& prev = x.previous;
                    (void)delta;
                    (void)prev;
                    if (j != 2) return std::nullopt;
                    (void)delta;
                    return index_item(base_file().entries[2].h, 11, prev);
                };
            },
            "E12", "has an invalid offset", "Entry 2's offset 11 bytes after entry 1's");
    });
    add_case([] {
        return open_entry_case(
            "invalid-entries-offset-at-index", [](File& f) {
                f.frames.pop_back();
                f.entries.pop_back();
                f.raw_item = [](const ItemContext& x) -> std::optional<std::vector<uint8_t>> {
                    const size_t j = x.j;
                    const uint64_t delta = x.delta;
                    const std::string& prev = x.previous;
                    (void)delta;
                    (void)prev;
                    if (j != 1) return std::nullopt;
                    // Entry 1 is the last item: its extent ends at the index.
                    return index_item(base_file().entries[1].h, delta + (x.index_offset - x.offset), prev);
                };
            },
            "E12", "has an invalid offset", "The last entry's offset at or past the index");
    });
    add_case([] {
        return open_entry_case(
            "invalid-entries-first-not-at-28", [](File& f) {
                f.raw_item = [](const ItemContext& x) -> std::optional<std::vector<uint8_t>> {
                    const size_t j = x.j;
                    const uint64_t delta = x.delta;
                    const std::string& prev = x.previous;
                    (void)delta;
                    (void)prev;
                    if (j == 0) return index_item(base_file().entries[0].h, delta + 1, prev);
                    if (j == 1) return index_item(base_file().entries[1].h, delta - 1, prev);
                    return std::nullopt;
                };
            },
            "E13", "does not start right after the file header", "Entry 0 (the first item) listed at offset 29");
    });
    add_case([] {
        return open_entry_case(
            "invalid-entries-same-offset-as-frame", [](File& f) {
                f.raw_item = [](const ItemContext& x) -> std::optional<std::vector<uint8_t>> {
                    const size_t j = x.j;
                    const uint64_t delta = x.delta;
                    const std::string& prev = x.previous;
                    (void)delta;
                    (void)prev;
                    // Entry 1 listed at frame 0's offset (entry 0's extent
                    // is where frame 0 starts), entry 2 where it is.
                    (void)delta;
                    const File b = base_file();
                    const std::vector<uint8_t> bytes = build(b);
                    const uint64_t e0 = 28, f0 = find(bytes, "FHDR", 0).offset, e2 = find(bytes, "EHDR", 2).offset;
                    if (j == 1) return index_item(b.entries[1].h, f0 - e0, prev);
                    if (j == 2) return index_item(b.entries[2].h, e2 - f0, prev);
                    return std::nullopt;
                };
            },
            "E13", "two items start at offsets", "Entry 1 listed at the offset of frame 0");
    });
    add_case([] {
        return open_entry_case(
            "invalid-entries-size-over-extent", [](File& f) { f.entries[0].h.size = 200; }, "E14",
            "is larger than the space it occupies", "Entry 0's size 200, in an extent of 59 bytes");
    });
}

void add_entry_read() {
    add_case([] {
        return entry_read_case(
            "invalid-entry-kind-3", [](File& f) { f.entries[0].h.kind = 3; }, 0, "UNSUPPORTED", "E15",
            "entry kind 3 is not supported", "Entry 0 of the reserved kind 3; the other entries and frames read");
    });
    add_case([] {
        return entry_read_case("invalid-entry-method-1", [](File& f) { f.entries[0].h.method = 1; }, 0, "UNSUPPORTED",
                               "E15", "entry method 1 is not supported", "Entry 0 with the reserved method 1");
    });
    add_case([] {
        return entry_read_case("invalid-entry-flags-2", [](File& f) { f.entries[1].h.flags |= 2; }, 1, "UNSUPPORTED",
                               "E15", "entry flags not understood", "Entry 1 with the reserved flag bit 1");
    });
    add_case([] {
        return entry_read_case(
            "invalid-entry-cut-by-next-item", [](File& f) {
                f.entries[0].h.size = 20;  // 16 bytes of content follow
            },
            0, "CORRUPT", "E16", "ends inside a record header",
            "Entry 0's size 20 with 16 bytes of EDAT: its next record would start where frame 0 does");
    });
    add_case([] {
        return entry_read_case(
            "invalid-entry-edat-past-extent", [](File& f) {
                // An EDAT record whose length runs past the entry's extent
                // (into frame 0), the bytes of the extent otherwise whole.
                f.entries[0].records.clear();
                std::vector<uint8_t> raw = {'E', 'D', 'A', 'T', 100, 0, 0, 0};
                const std::string text = "Hello, entries.\n";
                raw.insert(raw.end(), text.begin(), text.end());
                raw.insert(raw.end(), 4, 0);
                f.entries[0].tail = raw;
            },
            0, "CORRUPT", "E16", "runs past its frame", "Entry 0's EDAT record length runs past its extent");
    });
    add_case([] {
        return entry_read_case(
            "invalid-entry-crc-ehdr", [](File&) {}, 0, "CORRUPT", "E17", "CRC mismatch in record EHDR",
            "A byte of entry 0's EHDR name changed, its CRC not", [](std::vector<uint8_t>& d) {
                const Span s = find(d, "EHDR", 0);
                d[s.end() - 5] ^= 0x01;
            });
    });
    add_case([] {
        return entry_read_case(
            "invalid-entry-crc-edat", [](File&) {}, 1, "CORRUPT", "E17", "CRC mismatch in record EDAT",
            "A byte of entry 1's EDAT changed, its CRC not", [](std::vector<uint8_t>& d) {
                const Span s = find(d, "EDAT", 1);
                d[s.payload()] ^= 0x20;
            });
    });
    add_case([] {
        return entry_read_case(
            "invalid-entry-crc-ancillary",
            [](File& f) { f.entries[0].records.insert(f.entries[0].records.begin(), plain_record("zzzz", "note")); }, 0,
            "CORRUPT", "E17", "CRC mismatch in record zzzz", "An ancillary record of entry 0 with a bad CRC",
            [](std::vector<uint8_t>& d) {
                const Span s = find(d, "zzzz", 0);
                d[s.payload()] ^= 0x01;
            });
    });
    add_case([] {
        return entry_read_case("invalid-entry-not-ehdr", [](File& f) { f.entries[1].head_type = "XHDR"; }, 1, "CORRUPT",
                               "E18", "not EHDR", "Entry 1's first record is XHDR, not EHDR");
    });
    add_case([] {
        return entry_read_case(
            "invalid-entry-ehdr-differs", [](File& f) {
                EHeader h = f.entries[0].h;
                h.mode = 0600;
                f.entries[0].ehdr = entry_payload(h);
            },
            0, "CORRUPT", "E19", "entry header disagrees with the index",
            "Entry 0's EHDR says mode 0600, its index item 0644");
    });
    add_case([] {
        return entry_read_case(
            "invalid-entry-ehdr-name-differs", [](File& f) {
                EHeader h = f.entries[1].h;
                h.name = "docs/lenk";
                f.entries[1].ehdr = entry_payload(h);
            },
            1, "CORRUPT", "E19", "entry header disagrees with the index", "Entry 1's EHDR has another name");
    });
    add_case([] {
        return entry_read_case(
            "invalid-entry-ehdr-byte-after-name", [](File& f) {
                std::vector<uint8_t> p = entry_payload(f.entries[2].h);
                p.push_back('x');
                f.entries[2].ehdr = p;
            },
            2, "CORRUPT", "E19", "entry header disagrees with the index", "Entry 2's EHDR with a byte after the name");
    });
    add_case([] {
        return entry_read_case(
            "invalid-entry-fhdr-inside", [](File& f) {
                f.entries[0] = make_entry(0, "docs/readme.txt", "Hello, entries.\n", kAttrs, {6, 10}, 0);
                f.entries[0].records.insert(f.entries[0].records.begin() + 1,
                                            Record{"FHDR", header_payload(Header{1, 1, 3, 8, 0, 0, 0, "x"})});
            },
            0, "CORRUPT", "E20", "content cut short by record FHDR", "An FHDR record between entry 0's EDAT records");
    });
    add_case([] {
        return entry_read_case(
            "invalid-entry-ehdr-inside", [](File& f) {
                f.entries[0] = make_entry(0, "docs/readme.txt", "Hello, entries.\n", kAttrs, {6, 10}, 0);
                f.entries[0].records.insert(f.entries[0].records.begin() + 1,
                                            Record{"EHDR", entry_payload(make_entry(2, "x", "").h)});
            },
            0, "CORRUPT", "E20", "content cut short by record EHDR", "An EHDR record between entry 0's EDAT records");
    });
    add_case([] {
        return entry_read_case(
            "invalid-entry-critical-record", [](File& f) {
                f.entries[0].records.insert(f.entries[0].records.begin(), Record{"ZZZZ", {1, 2, 3}});
            },
            0, "UNSUPPORTED", "E21", "unknown critical record ZZZZ",
            "An unknown critical record before entry 0's EDAT");
    });
    add_case([] {
        return entry_read_case(
            "invalid-entry-edat-empty", [](File& f) {
                f.entries[0].records.insert(f.entries[0].records.begin(), Record{"EDAT", {}});
            },
            0, "CORRUPT", "E22", "empty EDAT record", "An empty EDAT record before entry 0's content");
    });
    add_case([] {
        return entry_read_case(
            "invalid-entry-edat-too-long", [](File& f) { f.entries[0].h.size = 10; }, 0, "CORRUPT", "E23",
            "content longer than its header says", "Entry 0's size 10, its one EDAT 16 bytes");
    });
    add_case([] {
        return entry_read_case(
            "invalid-entry-record-after-content",
            [](File& f) { f.entries[0].records.push_back(plain_record("zzzz", "after")); }, 0, "CORRUPT", "E24",
            "unexpected data after the entry's content", "An ancillary record after the EDAT that completes entry 0");
    });
    add_case([] {
        return entry_read_case(
            "invalid-entry-empty-with-record",
            [](File& f) { f.entries[2].records.push_back(plain_record("zzzz", "after")); }, 2, "CORRUPT", "E24",
            "unexpected data after the entry's content", "An ancillary record after the EHDR of an empty folder");
    });
    add_case([] {
        return entry_read_case(
            "invalid-entry-bytes-after-content", [](File& f) { f.entries[1].tail = {0, 0, 0}; }, 1, "CORRUPT", "E24",
            "unexpected data after the entry's content", "Three bytes after entry 1's last EDAT");
    });
    add_case([] {
        return entry_read_case(
            "invalid-entry-link-nul",
            [](File& f) {
                f.entries[1] = make_entry(1, "docs/link", std::string("read\0me", 7), Attrs{0777, 1700000001, 0}, {}, 1);
            },
            1, "CORRUPT", "E25", "symbolic link target contains NUL", "A symbolic link target with a NUL byte");
    });
    // A frame with EHDR inside (§3.13 step 2): the frame fails.
    add_case([] {
        File f = base_file();
        f.frames[0].before.push_back(Record{"EHDR", entry_payload(make_entry(2, "x", "").h)});
        Case c = frame_case("invalid-frame-ehdr-inside", build(f), {err("CORRUPT"), ok(img_b())}, {"R42"},
                            "frame has no FDAT record", "An EHDR record between frame 0's FHDR and FDAT",
                            "§3.13, §3.15");
        expect_all(c, f);
        return c;
    });
}

void add_attr() {
    struct Bad {
        const char* name;
        std::vector<Record> records;
        const char* message;
        const char* summary;
    };
    std::vector<uint8_t> trailing = attr_payload(0644, 5, 6);
    trailing.push_back(0);
    std::vector<uint8_t> mode;
    put_varint(mode, 4096);
    put_varint(mode, 0);
    put_varint(mode, 0);
    std::vector<uint8_t> cut = {0x81};
    const std::vector<Bad> bad = {
        {"invalid-attr-byte-after", {Record{"attr", trailing}}, "malformed attr record",
         "Frame 0's attr record with a byte after mtime_nsec"},
        {"invalid-attr-mode-over-max", {Record{"attr", mode}}, "malformed attr record",
         "Frame 0's attr record with mode 4096"},
        {"invalid-attr-cut", {Record{"attr", cut}}, "malformed attr record",
         "Frame 0's attr record cut inside its first varint"},
        {"invalid-attr-twice",
         {Record{"attr", attr_payload(0644, 5, 6)}, Record{"attr", attr_payload(0644, 5, 6)}},
         "has two attr records", "Frame 0 with two attr records"},
    };
    for (const Bad& b : bad) {
        add_case([b] {
            File f = base_file();
            f.frames[0].before = b.records;
            Case c = frame_case(b.name, build(f), {ok(img_a()), ok(img_b())}, {"A01"}, b.message, b.summary,
                                "§3.9, §7.3a",
                                std::string(b.summary) + ": the frame's attributes fail (CORRUPT); its pixels "
                                                         "decode, and its other metadata would read.");
            File g = f;
            g.frames[0].before.clear();
            expect_all(c, g);
            c.frame_attributes[0].error = "CORRUPT";
            return c;
        });
    }
}

}  // namespace

void add_entry_cases() {
    add_valid();
    add_index_section();
    add_entry_read();
    add_attr();
}

}  // namespace vec
