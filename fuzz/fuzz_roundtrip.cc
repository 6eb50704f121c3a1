// fuzz_roundtrip: fuzzer-made pixels through the writer and back, bit-exact.
//
// Input layout (bytes past the end read as 0):
//   u16 width selector, u16 height selector (1..256 each, at most 8192 pixels)
//   u8  options: bit 0 RGBA; bit 1 effort 1; bits 2-3 method (auto, stored,
//       qohi, auto); bit 4 padded rows (stride); bit 5 encode twice and
//       compare the bytes; bit 6 names; bit 7 metadata
//   u8  band_rows (0: one band; raised to make at most 8 bands)
//   u8  frames (1..6, low 3 bits mod 6) and max_depth (bits 3-4: 1..4;
//       bits 5-7 = 7: the default)
//   u8  reference memory (bits 0-1: default, one frame, 1 byte, default)
//   then per frame: a control byte (bits 0-1 reference: none, auto,
//       explicit, auto; bit 2 baseline; bits 3-5 pixels: a variant of the
//       previous frame, of another earlier frame, an exact copy, or new;
//       bit 6 another size; bit 7 reuse frame 0's name or a name from the
//       input), the explicit reference's selector, then the pixel bytes
//       (a length byte and an op stream, or edits for a variant), then the
//       name and metadata bytes when enabled.
//
// Checks: the writer accepts exactly what the API allows (names and text
// are valid UTF-8, names unique, references earlier, of the same size and
// within max_depth); the reader gives back every accepted frame bit-exactly
// (pixels, name, baseline flag, metadata), in order with the cache and in
// reverse order in low-memory mode; references are the ones asked for (or
// none); automatic method choice never makes a frame much larger than its
// pixels; the same input encodes to the same bytes.
#include <algorithm>
#include <set>
#include <string>

#include "fuzz_common.h"

namespace {

using qohi_fuzz::Bytes;
using qohi_fuzz::check_status;

constexpr uint32_t kMaxSide = 256;
constexpr uint32_t kMaxPixels = 8192;

struct Image {
    uint32_t w = 0, h = 0, c = 3;
    std::vector<uint8_t> px;  // packed rows
    uint8_t* at(uint32_t x, uint32_t y) { return &px[(size_t(y) * w + x) * c]; }
};

// New pixels from an op stream of `budget` bytes: runs, small differences,
// literals and copies of the row above, QOI-like, so that the codec's ops
// all occur; the rest of the image repeats what the stream made.
void generate(Image& img, Bytes& in) {
    size_t budget = size_t(in.u8()) * 8;
    const size_t n = size_t(img.w) * img.h;
    const unsigned c = img.c;
    uint8_t cur[4] = {0, 0, 0, 255};
    size_t i = 0;
    while (i < n && budget > 0 && in.remaining() > 0) {
        const uint8_t b = in.u8();
        --budget;
        switch (b >> 6) {
            case 0:  // run
                for (unsigned k = 0; k <= (b & 63u) && i < n; ++k, ++i) std::memcpy(&img.px[i * c], cur, c);
                break;
            case 1: {  // small difference
                const int dg = int(b & 7) - 4, drb = int((b >> 3) & 7) - 4;
                cur[0] = uint8_t(cur[0] + dg + drb);
                cur[1] = uint8_t(cur[1] + dg);
                cur[2] = uint8_t(cur[2] + dg - drb);
                std::memcpy(&img.px[i++ * c], cur, c);
                break;
            }
            case 2:  // literal
                for (unsigned k = 0; k < c && k < 4; ++k) cur[k] = in.u8();
                if (c == 4 && (b & 1)) cur[3] = 255;
                budget = budget > c ? budget - c : 0;
                std::memcpy(&img.px[i++ * c], cur, c);
                break;
            default:  // copy from above
                for (unsigned k = 0; k <= (b & 63u) && i < n; ++k, ++i) {
                    if (i >= img.w) std::memcpy(&img.px[i * c], &img.px[(i - img.w) * c], c);
                    else std::memcpy(&img.px[i * c], cur, c);
                }
                break;
        }
    }
    const size_t made = i;
    for (; i < n; ++i) {
        if (made) {
            std::memcpy(&img.px[i * c], &img.px[(i % made) * c], c);
        } else {
            const uint32_t x = uint32_t(i % img.w), y = uint32_t(i / img.w);
            const uint8_t v[4] = {uint8_t(x * 3), uint8_t(y * 5), uint8_t(x + y), 255};
            std::memcpy(&img.px[i * c], v, c);
        }
    }
}

// Edits a copy of an earlier frame: fills, channel offsets, moved blocks, noise.
void vary(Image& img, Bytes& in) {
    const unsigned edits = in.u8() % 8;
    const unsigned c = img.c;
    for (unsigned e = 0; e < edits; ++e) {
        const uint32_t x0 = in.u8() % img.w, y0 = in.u8() % img.h;
        const uint32_t ew = 1 + in.u8() % (img.w - x0), eh = 1 + in.u8() % (img.h - y0);
        const uint8_t kind = in.u8();
        switch (kind & 3) {
            case 0: {
                uint8_t v[4];
                for (unsigned k = 0; k < c && k < 4; ++k) v[k] = in.u8();
                for (uint32_t y = y0; y < y0 + eh; ++y)
                    for (uint32_t x = x0; x < x0 + ew; ++x) std::memcpy(img.at(x, y), v, c);
                break;
            }
            case 1: {
                const unsigned ch = (kind >> 2) % c;
                const uint8_t d = in.u8();
                for (uint32_t y = y0; y < y0 + eh; ++y)
                    for (uint32_t x = x0; x < x0 + ew; ++x) img.at(x, y)[ch] = uint8_t(img.at(x, y)[ch] + d);
                break;
            }
            case 2: {
                const uint32_t sx = in.u8() % img.w, sy = in.u8() % img.h;
                const Image src = img;
                for (uint32_t y = y0; y < y0 + eh; ++y)
                    for (uint32_t x = x0; x < x0 + ew; ++x)
                        std::memcpy(img.at(x, y), &src.px[(size_t((y - y0 + sy) % img.h) * img.w +
                                                           (x - x0 + sx) % img.w) * c], c);
                break;
            }
            default:
                for (uint32_t y = y0; y < y0 + eh; ++y)
                    for (uint32_t x = x0; x < x0 + ew; ++x)
                        for (unsigned k = 0; k < c; ++k) img.at(x, y)[k] = in.u8();
                break;
        }
    }
}

struct Meta {
    uint32_t kind;
    std::string key;
    std::vector<uint8_t> data;
};

struct Frame {  // a frame the writer accepted
    Image img;
    std::string name;
    bool baseline = false;
    int64_t reference = QOHI_REFERENCE_NONE;  // as asked
    std::vector<Meta> meta;
};

struct DepthQuestion {  // an explicit reference refused or accepted near max_depth
    uint32_t reference;
    bool refused;
};

bool valid_meta(const Meta& m) {
    const bool key_ok = !m.key.empty() && m.key.size() <= 79 && m.key.find('\0') == std::string::npos;
    switch (m.kind) {
        case QOHI_METADATA_ICC:
            return key_ok && !m.data.empty();
        case QOHI_METADATA_TEXT:
            return key_ok && qohi_fuzz::valid_utf8_no_nul(m.data.data(), m.data.size());
        case QOHI_METADATA_EXIF:
            return !m.data.empty();
        case QOHI_METADATA_XMP:
            return !m.data.empty() && qohi_fuzz::valid_utf8_no_nul(m.data.data(), m.data.size());
        case QOHI_METADATA_PNG:
            return !m.data.empty();
        default:
            return false;
    }
}

struct Encoded {
    std::vector<uint8_t> file;
    std::vector<Frame> frames;
    std::vector<DepthQuestion> depth_questions;
    qohi_write_options options;
    bool ok = false;
};

void encode(const uint8_t* data, size_t size, Encoded& out) {
    Bytes in(data, size);
    const uint32_t w = 1 + in.u16() % kMaxSide;
    uint32_t h = 1 + in.u16() % kMaxSide;
    if (uint64_t(w) * h > kMaxPixels) h = std::max<uint32_t>(1, kMaxPixels / w);
    const uint8_t flags = in.u8();
    const uint32_t channels = (flags & 1) ? 4 : 3;
    const uint8_t band_rows = in.u8();
    const uint8_t fb = in.u8();
    const unsigned frame_count = 1 + (fb & 7) % 6;
    const uint32_t max_depth = (fb >> 5) == 7 ? 0 : 1 + ((fb >> 3) & 3);
    const uint8_t memory = in.u8() & 3;

    qohi_write_options& o = out.options;
    qohi_write_options_init(&o);
    o.effort = (flags >> 1) & 1;
    const int methods[4] = {QOHI_CHOOSE_AUTO, QOHI_CHOOSE_STORED, QOHI_CHOOSE_QOHI, QOHI_CHOOSE_DICI};
    o.method = methods[(flags >> 2) & 3];
    // At most 8 bands: each costs a fixed amount of table building, and
    // hundreds of one-row bands would make the target slow, not better.
    o.band_rows = band_rows ? std::max<uint32_t>(band_rows, (h + 7) / 8) : 0;
    o.max_depth = max_depth;
    o.reference_memory = memory == 1 ? uint64_t(w) * h * channels : memory == 2 ? 1 : 0;
    const uint32_t depth_limit = max_depth ? max_depth : QOHI_DEFAULT_MAX_DEPTH;
    const size_t pad = (flags & 16) ? 3 : 0;

    qohi_writer* writer = nullptr;
    qohi_error error;
    qohi_status s = qohi_writer_open_memory(&o, &writer, &error);
    qohi_fuzz::check_error(s, error);
    QOHI_FUZZ_CHECK(s == QOHI_OK && writer);

    std::set<std::string> names;
    std::vector<uint32_t> depth_bound;  // per accepted frame: an upper bound of its chain depth
    for (unsigned f = 0; f < frame_count; ++f) {
        const uint8_t ctl = in.u8();
        const uint8_t ref_sel = in.u8();
        const size_t accepted = out.frames.size();
        Frame fr;
        fr.baseline = (ctl >> 2) & 1;
        const bool other_size = (ctl >> 6) & 1;
        fr.img.w = other_size ? std::max<uint32_t>(1, w / 2) : w;
        fr.img.h = h;
        fr.img.c = channels;
        fr.img.px.assign(size_t(fr.img.w) * fr.img.h * channels, 0);
        const unsigned pix = (ctl >> 3) & 7;
        const Frame* base = nullptr;
        if (accepted > 0) {
            const Frame& cand = pix < 4 ? out.frames.back() : out.frames[ref_sel % accepted];
            if (cand.img.w == fr.img.w) base = &cand;
        }
        if (base && pix < 6) {
            fr.img.px = base->img.px;
            vary(fr.img, in);
        } else if (base && pix == 6) {
            fr.img.px = base->img.px;
        } else {
            generate(fr.img, in);
        }

        switch (ctl & 3) {
            case 0: fr.reference = QOHI_REFERENCE_NONE; break;
            case 2: fr.reference = accepted ? int64_t(ref_sel % accepted) : QOHI_REFERENCE_NONE; break;
            default: fr.reference = QOHI_REFERENCE_AUTO; break;
        }
        if (flags & 64) {
            if ((ctl & 128) && !out.frames.empty()) {
                fr.name = out.frames[0].name;
            } else if (ctl & 128) {
                const unsigned len = in.u8() % 12;
                for (unsigned k = 0; k < len; ++k) {
                    const char ch = char(in.u8());
                    if (ch == 0) break;  // the API takes a C string
                    fr.name.push_back(ch);
                }
            } else {
                fr.name = "dir/frame " + std::to_string(f) + (f % 2 ? "\xC3\xA9" : "");  // an e-acute
            }
        }
        if (flags & 128) {
            const unsigned items = in.u8() % 3;
            for (unsigned k = 0; k < items; ++k) {
                Meta m;
                m.kind = 1 + in.u8() % 5;
                if (m.kind == QOHI_METADATA_ICC || m.kind == QOHI_METADATA_TEXT) m.key = "Key" + std::to_string(k);
                const unsigned len = in.u8() % 24;
                for (unsigned b = 0; b < len; ++b) m.data.push_back(in.u8());
                fr.meta.push_back(std::move(m));
            }
        }

        // What the API says about this frame.
        bool valid = qohi_fuzz::valid_utf8_no_nul(reinterpret_cast<const uint8_t*>(fr.name.data()), fr.name.size());
        if (!fr.name.empty() && names.count(fr.name)) valid = false;
        for (const Meta& m : fr.meta) valid &= valid_meta(m);
        const bool intra_only = o.method == QOHI_CHOOSE_STORED || fr.baseline;
        bool depth_unsure = false;
        if (fr.reference >= 0 && !intra_only) {
            const Frame& r = out.frames[size_t(fr.reference)];
            if (r.img.w != fr.img.w || r.img.h != fr.img.h) valid = false;
            else if (depth_bound[size_t(fr.reference)] + 1 > depth_limit) depth_unsure = true;
        }

        std::vector<uint8_t> pixels(size_t(fr.img.w * channels + pad) * fr.img.h, 0xA5);
        for (uint32_t y = 0; y < fr.img.h; ++y)
            std::memcpy(&pixels[y * (fr.img.w * channels + pad)], &fr.img.px[size_t(y) * fr.img.w * channels],
                        size_t(fr.img.w) * channels);
        std::vector<uint8_t> ref_pixels;
        qohi_frame_options fo;
        qohi_frame_options_init(&fo);
        fo.name = fr.name.c_str();
        fo.baseline = fr.baseline;
        fo.reference = fr.reference;
        if (fr.reference >= 0) {
            const Image& r = out.frames[size_t(fr.reference)].img;
            const size_t rs = size_t(r.w) * channels + pad + 1;
            ref_pixels.assign(rs * r.h, 0x5A);
            for (uint32_t y = 0; y < r.h; ++y)
                std::memcpy(&ref_pixels[y * rs], &r.px[size_t(y) * r.w * channels], size_t(r.w) * channels);
            fo.reference_pixels = ref_pixels.data();
            fo.reference_stride = rs;
        }
        std::vector<qohi_metadata> meta;
        for (const Meta& m : fr.meta)
            meta.push_back({m.kind, m.key.empty() ? nullptr : m.key.c_str(), m.data.data(), m.data.size()});
        fo.metadata = meta.data();
        fo.metadata_count = meta.size();

        s = qohi_writer_add_frame_with(writer, pixels.data(), fr.img.w, fr.img.h, channels,
                                       pad ? size_t(fr.img.w) * channels + pad : 0, &fo);
        check_status(s, qohi_writer_message(writer));
        if (!valid) {
            if (s != QOHI_ERROR_INVALID_ARGUMENT)
                std::fprintf(stderr, "frame %u: expected a refusal, got %d\n", f, int(s));
            QOHI_FUZZ_CHECK(s == QOHI_ERROR_INVALID_ARGUMENT);
            continue;
        }
        if (depth_unsure) {
            QOHI_FUZZ_CHECK(s == QOHI_OK || s == QOHI_ERROR_INVALID_ARGUMENT);
            out.depth_questions.push_back({uint32_t(fr.reference), s != QOHI_OK});
            if (s != QOHI_OK) continue;
        }
        if (s != QOHI_OK) std::fprintf(stderr, "frame %u: %s\n", f, qohi_writer_message(writer));
        QOHI_FUZZ_CHECK(s == QOHI_OK);
        uint32_t bound = 0;
        if (!intra_only && fr.reference >= 0) bound = depth_bound[size_t(fr.reference)] + 1;
        if (!intra_only && fr.reference == QOHI_REFERENCE_AUTO) bound = depth_limit;
        depth_bound.push_back(std::min(bound, depth_limit));
        if (!fr.name.empty()) names.insert(fr.name);
        out.frames.push_back(std::move(fr));
    }
    void* file = nullptr;
    size_t file_size = 0;
    s = qohi_writer_finish(writer, &file, &file_size);
    check_status(s, qohi_writer_message(writer));
    QOHI_FUZZ_CHECK(s == QOHI_OK && file != nullptr);
    out.file.assign(static_cast<uint8_t*>(file), static_cast<uint8_t*>(file) + file_size);
    qohi_free(file);
    // Nothing may be added after finish().
    uint8_t px[4] = {0, 0, 0, 0};
    QOHI_FUZZ_CHECK(qohi_writer_add_frame(writer, px, 1, 1, 3, 0, nullptr) == QOHI_ERROR_INVALID_ARGUMENT);
    qohi_writer_destroy(writer);
    out.ok = true;
}

void check_frame(qohi_reader* reader, uint32_t i, const Encoded& e) {
    const Frame& fr = e.frames[i];
    const Image& img = fr.img;
    qohi_frame_info info;
    QOHI_FUZZ_CHECK(qohi_reader_frame_info(reader, i, &info) == QOHI_OK);
    QOHI_FUZZ_CHECK(info.width == img.w && info.height == img.h && info.channels == img.c);
    QOHI_FUZZ_CHECK(info.bit_depth == 8);
    QOHI_FUZZ_CHECK(info.name_size == fr.name.size() && std::memcmp(info.name, fr.name.data(), fr.name.size()) == 0);
    QOHI_FUZZ_CHECK(!info.baseline == !fr.baseline);
    const bool intra_only = e.options.method == QOHI_CHOOSE_STORED || fr.baseline;
    if (intra_only || fr.reference == QOHI_REFERENCE_NONE) QOHI_FUZZ_CHECK(info.reference == -1);
    if (fr.reference >= 0) QOHI_FUZZ_CHECK(info.reference == -1 || info.reference == fr.reference);
    QOHI_FUZZ_CHECK(info.reference < int64_t(i));
    const uint32_t limit = e.options.max_depth ? e.options.max_depth : QOHI_DEFAULT_MAX_DEPTH;
    QOHI_FUZZ_CHECK(info.depth <= limit);
    if (e.options.method == QOHI_CHOOSE_STORED) QOHI_FUZZ_CHECK(info.method == QOHI_METHOD_STORED);
    if (e.options.method == QOHI_CHOOSE_QOHI) QOHI_FUZZ_CHECK(info.method == QOHI_METHOD_QOHI);
    // Forced DICI: every intra frame (delta frames are QOHI frames).
    if (e.options.method == QOHI_CHOOSE_DICI)
        QOHI_FUZZ_CHECK(info.method == (info.reference >= 0 ? QOHI_METHOD_QOHI : QOHI_METHOD_DICI));
    if (info.reference >= 0) QOHI_FUZZ_CHECK(info.method == QOHI_METHOD_QOHI);

    const size_t raw = img.px.size();
    if (e.options.method == QOHI_CHOOSE_AUTO || e.options.method == QOHI_CHOOSE_STORED) {
        // Never much larger than the pixels (stored fallback): records,
        // header, name, band sizes and metadata on top.
        const uint32_t rows = e.options.band_rows && e.options.band_rows < img.h ? e.options.band_rows : img.h;
        uint64_t slack = 64 + fr.name.size() + 10 * (uint64_t(img.h + rows - 1) / rows + 1);
        for (const Meta& m : fr.meta) slack += 16 + m.key.size() + m.data.size();
        if (info.coded_size > raw + slack)
            std::fprintf(stderr, "frame %u: %llu coded bytes for %zu bytes of pixels\n", i,
                         (unsigned long long)info.coded_size, raw);
        QOHI_FUZZ_CHECK(info.coded_size <= raw + slack);
    }

    std::vector<uint8_t> px(raw);
    const qohi_status s = qohi_reader_decode_frame(reader, i, px.data(), px.size(), 0, 0);
    if (s != QOHI_OK) std::fprintf(stderr, "frame %u: %s\n", i, qohi_reader_message(reader));
    QOHI_FUZZ_CHECK(s == QOHI_OK);
    if (px != img.px) {
        size_t k = 0;
        while (px[k] == img.px[k]) ++k;
        std::fprintf(stderr, "frame %u (%ux%u, %u channels): first difference at byte %zu (pixel %zu)\n", i, img.w,
                     img.h, img.c, k, k / img.c);
        qohi_fuzz::fail("decoded pixels differ from the encoded ones", __FILE__, __LINE__);
    }

    const qohi_metadata* items = nullptr;
    size_t n = 0;
    QOHI_FUZZ_CHECK(qohi_reader_frame_metadata(reader, i, &items, &n) == QOHI_OK);
    QOHI_FUZZ_CHECK(n == fr.meta.size());
    for (size_t k = 0; k < n; ++k) {
        const Meta& m = fr.meta[k];
        QOHI_FUZZ_CHECK(items[k].kind == m.kind);
        QOHI_FUZZ_CHECK(items[k].size == m.data.size());
        QOHI_FUZZ_CHECK(m.data.empty() || std::memcmp(items[k].data, m.data.data(), m.data.size()) == 0);
        if (m.key.empty()) QOHI_FUZZ_CHECK(items[k].key == nullptr);
        else QOHI_FUZZ_CHECK(items[k].key && m.key == items[k].key);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    Encoded e;
    encode(data, size, e);
    if (!e.ok) return 0;

    for (int low_memory = 0; low_memory <= 1; ++low_memory) {
        qohi_read_options ro;
        qohi_read_options_init(&ro);
        ro.low_memory = low_memory;
        qohi_reader* reader = nullptr;
        qohi_error error;
        const qohi_status s = qohi_reader_open_memory(e.file.data(), e.file.size(), &ro, &reader, &error);
        if (s != QOHI_OK) std::fprintf(stderr, "open: %s\n", error.message);
        QOHI_FUZZ_CHECK(s == QOHI_OK);
        const uint32_t count = qohi_reader_frame_count(reader);
        QOHI_FUZZ_CHECK(count == e.frames.size());
        // In order with the cache; backwards without it.
        for (uint32_t k = 0; k < count; ++k) check_frame(reader, low_memory ? count - 1 - k : k, e);
        for (uint32_t k = 0; k < count; ++k) {
            if (e.frames[k].name.empty()) continue;
            uint32_t found = UINT32_MAX;
            QOHI_FUZZ_CHECK(qohi_reader_find_frame(reader, e.frames[k].name.c_str(), &found) == QOHI_OK);
            QOHI_FUZZ_CHECK(found == k);  // names are unique
        }
        if (!low_memory) {
            for (const DepthQuestion& q : e.depth_questions) {
                // A reference refused for depth had a chain at the limit.
                qohi_frame_info r;
                if (q.reference >= count) continue;  // numbering of a frame refused later
                QOHI_FUZZ_CHECK(qohi_reader_frame_info(reader, q.reference, &r) == QOHI_OK);
                const uint32_t limit = e.options.max_depth ? e.options.max_depth : QOHI_DEFAULT_MAX_DEPTH;
                if (q.refused) QOHI_FUZZ_CHECK(r.depth + 1 > limit);
                else QOHI_FUZZ_CHECK(r.depth + 1 <= limit);
            }
        }
        qohi_reader_close(reader);
    }

    if (e.frames.size() == 1) {
        void* px = nullptr;
        qohi_frame_info info;
        qohi_error error;
        QOHI_FUZZ_CHECK(qohi_decode(e.file.data(), e.file.size(), nullptr, 0, &px, &info, &error) == QOHI_OK);
        QOHI_FUZZ_CHECK(std::memcmp(px, e.frames[0].img.px.data(), e.frames[0].img.px.size()) == 0);
        qohi_free(px);
    }

    if (e.options.effort == 1 || (size >= 5 && (data[4] & 32))) {
        // Deterministic: the same input gives the same file.
        Encoded again;
        encode(data, size, again);
        QOHI_FUZZ_CHECK(again.ok && again.file == e.file);
    }
    return 0;
}
