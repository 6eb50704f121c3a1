#include "frame_metadata.h"

#include <zlib.h>

#include <cstring>

namespace qohi_tools {

namespace {

constexpr uint8_t kFormRaw = 0;
constexpr uint8_t kFormItem = 1;
constexpr uint8_t kFormDeflated = 2;
constexpr uint32_t kMaxChunkSize = 0x7fffffffu;
// Raw chunks from this size on are stored deflated when that saves at
// least an eighth (a text chunk that the PNG did not compress).
constexpr size_t kDeflateFrom = 1024;
// Deflate never expands more than 1032:1, so a size claimed beyond that for
// a stream is false: checked before allocating.
constexpr uint64_t kMaxInflateRatio = 1032;

// The zlib stream of `data`, or empty if it does not save an eighth.
std::vector<uint8_t> deflated(const std::vector<uint8_t>& data) {
    if (data.size() < kDeflateFrom) return {};
    uLongf size = compressBound(static_cast<uLong>(data.size()));
    std::vector<uint8_t> out(size);
    if (compress2(out.data(), &size, data.data(), static_cast<uLong>(data.size()), 6) != Z_OK ||
        size > data.size() - data.size() / 8)
        return {};
    out.resize(size);
    return out;
}

void put_varint(std::vector<uint8_t>& out, uint64_t v) {
    while (v >= 0x80) {
        out.push_back(static_cast<uint8_t>(v | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<uint8_t>(v));
}

void put_bytes(std::vector<uint8_t>& out, const void* data, size_t size) {
    const auto* p = static_cast<const uint8_t*>(data);
    out.insert(out.end(), p, p + size);
}

// Reads the payload front to back; the first failure sticks.
class PayloadReader {
public:
    PayloadReader(const uint8_t* data, size_t size) : p_(data), left_(size) {}

    bool ok() const { return ok_; }
    size_t left() const { return left_; }

    uint8_t u8() {
        if (!ok_ || left_ < 1) return fail();
        --left_;
        return *p_++;
    }

    // A varint as in spec §1.3: shortest form, at most `max`.
    uint64_t varint(uint64_t max) {
        uint64_t v = 0;
        for (int k = 0; k < 10; ++k) {
            if (!ok_ || left_ < 1) return fail();
            const uint8_t b = *p_++;
            --left_;
            if (k == 9 && b > 1) return fail();
            v |= uint64_t{b & 0x7Fu} << (7 * k);
            if (b < 0x80) {
                if ((b == 0 && k > 0) || v > max) return fail();
                return v;
            }
        }
        return fail();
    }

    const uint8_t* bytes(size_t n) {
        if (!ok_ || left_ < n) {
            fail();
            return nullptr;
        }
        const uint8_t* at = p_;
        p_ += n;
        left_ -= n;
        return at;
    }

private:
    uint8_t fail() {
        ok_ = false;
        return 0;
    }

    const uint8_t* p_;
    size_t left_;
    bool ok_ = true;
};

const std::array<uint8_t, 4> kiTXt = {'i', 'T', 'X', 't'};

}  // namespace

void encode_png_layout(const PngLayout& layout, std::vector<uint8_t>& payload) {
    payload.clear();
    payload.push_back(layout.color_type);
    payload.push_back(layout.bit_depth);
    payload.push_back(layout.interlace);
    put_varint(payload, layout.palette.size() / 3);
    put_bytes(payload, layout.palette.data(), layout.palette.size() / 3 * 3);
    put_varint(payload, layout.chunks.size());
    for (const PngChunk& c : layout.chunks) {
        put_bytes(payload, c.type.data(), 4);
        payload.push_back(c.placement);
        if (!c.from_item) {
            const std::vector<uint8_t> z = deflated(c.data);
            payload.push_back(z.empty() ? kFormRaw : kFormDeflated);
            put_varint(payload, c.data.size());
            if (!z.empty()) put_varint(payload, z.size());
            const std::vector<uint8_t>& stored = z.empty() ? c.data : z;
            put_bytes(payload, stored.data(), stored.size());
            continue;
        }
        payload.push_back(kFormItem);
        put_varint(payload, c.item);
        if (c.type == kiTXt) {
            payload.push_back(c.itxt_compressed);
            put_varint(payload, c.language.size());
            put_bytes(payload, c.language.data(), c.language.size());
            put_varint(payload, c.translated.size());
            put_bytes(payload, c.translated.data(), c.translated.size());
        }
    }
}

bool decode_png_layout(const uint8_t* payload, size_t size, const std::vector<Metadata>& items,
                       PngLayout& layout, std::string& error) {
    layout = PngLayout();
    PayloadReader in(payload, size);
    PngLayout got;
    got.color_type = in.u8();
    got.bit_depth = in.u8();
    got.interlace = in.u8();
    const size_t entries = static_cast<size_t>(in.varint(256));
    const uint8_t* palette = in.bytes(3 * entries);
    if (!in.ok()) {
        error = "PNG layout cut short in its header or palette";
        return false;
    }
    got.palette.assign(palette, palette + 3 * entries);
    // Every chunk takes at least 7 bytes: no count beyond that is allocated.
    const uint64_t count = in.varint(in.left() / 7);
    if (!in.ok()) {
        error = "PNG layout: invalid chunk count";
        return false;
    }
    got.chunks.reserve(static_cast<size_t>(count));
    for (uint64_t i = 0; i < count; ++i) {
        PngChunk c;
        const uint8_t* type = in.bytes(4);
        c.placement = in.u8();
        const uint8_t form = in.u8();
        if (!in.ok()) break;
        std::memcpy(c.type.data(), type, 4);
        if (form == kFormRaw) {
            const size_t n = static_cast<size_t>(in.varint(kMaxChunkSize));
            const uint8_t* data = in.bytes(n);
            if (!in.ok()) break;
            c.data.assign(data, data + n);
        } else if (form == kFormDeflated) {
            const uint64_t n = in.varint(kMaxChunkSize);
            const uint64_t z = in.varint(kMaxChunkSize);
            const uint8_t* data = in.bytes(static_cast<size_t>(z));
            if (!in.ok()) break;
            if (n > z * kMaxInflateRatio) {
                error = "PNG layout: chunk " + std::to_string(i + 1) + " claims more than its zlib stream can hold";
                return false;
            }
            c.data.resize(static_cast<size_t>(n));
            uLongf out_size = static_cast<uLongf>(n);
            uLong in_size = static_cast<uLong>(z);
            if (uncompress2(c.data.data(), &out_size, data, &in_size) != Z_OK || out_size != n || in_size != z) {
                error = "PNG layout: chunk " + std::to_string(i + 1) + " does not inflate to its size";
                return false;
            }
        } else if (form == kFormItem) {
            c.from_item = true;
            c.item = static_cast<size_t>(in.varint(UINT32_MAX));
            if (c.type == kiTXt) {
                c.itxt_compressed = in.u8();
                size_t n = static_cast<size_t>(in.varint(kMaxChunkSize));
                const uint8_t* language = in.bytes(n);
                if (!in.ok()) break;
                c.language.assign(reinterpret_cast<const char*>(language), n);
                n = static_cast<size_t>(in.varint(kMaxChunkSize));
                const uint8_t* translated = in.bytes(n);
                if (!in.ok()) break;
                c.translated.assign(reinterpret_cast<const char*>(translated), n);
            }
            if (!in.ok()) break;
        } else {
            error = "PNG layout: chunk " + std::to_string(i + 1) + " has unknown form " + std::to_string(form);
            return false;
        }
        got.chunks.push_back(std::move(c));
    }
    if (!in.ok()) {
        error = "PNG layout cut short, or a size out of range, in chunk " + std::to_string(got.chunks.size() + 1);
        return false;
    }
    if (in.left() != 0) {
        error = "PNG layout has " + std::to_string(in.left()) + " bytes after its last chunk";
        return false;
    }
    if (!check_png_layout(got, items, error)) {
        error = "PNG layout: " + error;
        return false;
    }
    got.present = true;
    layout = std::move(got);
    return true;
}

std::vector<qohi_metadata> to_library_metadata(const Image& image, std::vector<uint8_t>& pngc) {
    std::vector<qohi_metadata> items;
    items.reserve(image.metadata.size() + 1);
    for (const Metadata& m : image.metadata) {
        qohi_metadata item{};
        item.kind = m.kind;
        item.key = m.key.empty() ? nullptr : m.key.c_str();
        item.data = m.data.data();
        item.size = m.data.size();
        items.push_back(item);
    }
    pngc.clear();
    if (image.layout.present && !is_plain_layout(image.layout, image.channels)) {
        encode_png_layout(image.layout, pngc);
        items.push_back({QOHI_METADATA_PNG, nullptr, pngc.data(), pngc.size()});
    }
    return items;
}

bool from_library_metadata(const qohi_metadata* items, size_t count, Image& image, std::string& error) {
    image.metadata.clear();
    image.layout = PngLayout();
    const qohi_metadata* layout_item = nullptr;
    bool several = false;
    image.metadata.reserve(count);
    for (size_t i = 0; i < count; ++i) {
        if (items[i].kind == QOHI_METADATA_PNG) {
            several = layout_item != nullptr;
            if (!several) layout_item = &items[i];
            continue;
        }
        Metadata m;
        m.kind = items[i].kind;
        if (items[i].key) m.key = items[i].key;
        const auto* data = static_cast<const uint8_t*>(items[i].data);
        if (data && items[i].size) m.data.assign(data, data + items[i].size);
        image.metadata.push_back(std::move(m));
    }
    if (several) {
        error = "more than one PNG layout";
        return false;
    }
    if (layout_item == nullptr) return true;
    const auto* data = static_cast<const uint8_t*>(layout_item->data);
    if (data == nullptr && layout_item->size != 0) {
        error = "PNG layout without data";
        return false;
    }
    return decode_png_layout(data, layout_item->size, image.metadata, image.layout, error);
}

}  // namespace qohi_tools
