// PNG reading and writing for the QOHI tools: libpng for the pixels, chunks
// parsed and written here.
//
// libpng reports errors with longjmp. To keep that well defined in C++, the
// functions that call setjmp hold no C++ objects with destructors of their
// own: everything they touch lives in a context struct owned by the caller,
// and the libpng callbacks never throw.
#include "png_io.h"

#include <png.h>
#include <zlib.h>

#include <algorithm>
#include <csetjmp>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <unordered_map>
#include <vector>


namespace qohi_tools {

namespace {

// Largest image decode_png accepts: 2^28 pixels (1 GiB as RGBA), the same as
// QOHI_DEFAULT_MAX_PIXELS.
constexpr uint64_t kMaxPixels = uint64_t{1} << 28;

// Memory libpng may hold at once while decoding, on top of its row buffers
// (allowed for separately once the width is known). libpng sees only the
// critical chunks, so it needs little.
constexpr size_t kLibpngBudget = size_t{64} << 20;

// Texts at least this long are compressed (zTXt, compressed iTXt) by
// encode_png without a layout.
constexpr size_t kCompressFrom = 1024;

const char kXmpKeyword[] = "XML:com.adobe.xmp";
const uint8_t kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

// ------------------------------------------------------------ chunks

constexpr uint32_t chunk_id(const char (&name)[5]) {
    return uint32_t{uint8_t(name[0])} << 24 | uint32_t{uint8_t(name[1])} << 16 |
           uint32_t{uint8_t(name[2])} << 8 | uint32_t{uint8_t(name[3])};
}
constexpr uint32_t kIHDR = chunk_id("IHDR");
constexpr uint32_t kPLTE = chunk_id("PLTE");
constexpr uint32_t kIDAT = chunk_id("IDAT");
constexpr uint32_t kIEND = chunk_id("IEND");
constexpr uint32_t ktRNS = chunk_id("tRNS");
constexpr uint32_t kiCCP = chunk_id("iCCP");
constexpr uint32_t keXIf = chunk_id("eXIf");
constexpr uint32_t ktEXt = chunk_id("tEXt");
constexpr uint32_t kzTXt = chunk_id("zTXt");
constexpr uint32_t kiTXt = chunk_id("iTXt");

uint32_t load_be32(const uint8_t* p) {
    return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | uint32_t{p[3]};
}

uint32_t type_id(const std::array<uint8_t, 4>& t) { return load_be32(t.data()); }

std::string type_text(uint32_t type) {
    std::string s;
    for (int shift = 24; shift >= 0; shift -= 8) {
        const char c = static_cast<char>((type >> shift) & 0xFF);
        s += (c >= 0x21 && c < 0x7F) ? c : '?';
    }
    return s;
}

bool is_letter(uint8_t c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

bool valid_type_name(uint32_t type) {
    for (int shift = 24; shift >= 0; shift -= 8) {
        if (!is_letter(uint8_t(type >> shift))) return false;
    }
    return true;
}

// Ancillary: the first letter is lowercase.
bool is_ancillary_type(uint32_t type) { return ((type >> 24) & 0x20) != 0; }

uint32_t chunk_crc(uint32_t type, const uint8_t* data, size_t size) {
    const uint8_t t[4] = {uint8_t(type >> 24), uint8_t(type >> 16), uint8_t(type >> 8), uint8_t(type)};
    uLong crc = crc32(0, t, 4);
    // zlib takes at most 4 GiB a call; chunks are below 2 GiB.
    if (size) crc = crc32(crc, data, static_cast<uInt>(size));
    return static_cast<uint32_t>(crc);
}

void append_be32(std::vector<uint8_t>& out, uint32_t v) {
    const uint8_t b[4] = {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)};
    out.insert(out.end(), b, b + 4);
}

// Appends a whole chunk: length, type, data, CRC.
void append_chunk(std::vector<uint8_t>& out, uint32_t type, const uint8_t* data, size_t size) {
    append_be32(out, static_cast<uint32_t>(size));
    append_be32(out, type);
    if (size) out.insert(out.end(), data, data + size);
    append_be32(out, chunk_crc(type, data, size));
}

// A complete chunk of the input.
struct RawChunk {
    uint32_t type;
    size_t offset;  // of its length field
    uint32_t length;
    bool crc_ok;
    const uint8_t* data(const uint8_t* file) const { return file + offset + 8; }
};

// The chunks of a PNG (after the signature) up to IEND, and where the bytes
// that do not form a complete chunk start.
struct ChunkScan {
    std::vector<RawChunk> chunks;
    bool has_iend = false;
    size_t rest = 0;  // first byte after IEND, or of an incomplete chunk
};

ChunkScan scan_chunks(const uint8_t* data, size_t size) {
    ChunkScan scan;
    size_t pos = 8;
    while (size - pos >= 12) {
        const uint32_t length = load_be32(data + pos);
        if (length > 0x7fffffffu || size - pos - 12 < length) break;
        const uint32_t type = load_be32(data + pos + 4);
        const bool crc_ok = chunk_crc(type, data + pos + 8, length) == load_be32(data + pos + 8 + length);
        scan.chunks.push_back({type, pos, length, crc_ok});
        pos += 12 + size_t{length};
        if (type == kIEND) {
            scan.has_iend = true;
            break;
        }
    }
    scan.rest = pos;
    return scan;
}

// ------------------------------------------------------------ zlib

enum class Inflate { kOk, kTrailing, kBad, kTooLarge };

// Inflates a zlib stream into `out`, at most `cap` bytes. kTrailing: the
// stream ended before the input did.
Inflate inflate_capped(const uint8_t* in, size_t size, size_t cap, std::vector<uint8_t>& out) {
    out.clear();
    z_stream z;
    std::memset(&z, 0, sizeof z);
    if (inflateInit(&z) != Z_OK) throw std::bad_alloc();
    z.next_in = const_cast<Bytef*>(in);
    z.avail_in = static_cast<uInt>(size);
    size_t produced = 0;
    int rc = Z_OK;
    try {
        while (rc == Z_OK) {
            if (produced == out.size()) {
                if (out.size() >= cap) {
                    rc = Z_MEM_ERROR;  // more than allowed
                    break;
                }
                const size_t grow = std::max<size_t>(out.size(), std::max<size_t>(size * 2, 4096));
                out.resize(std::min(cap, out.size() + std::min<size_t>(grow, size_t{1} << 30)));
            }
            const size_t room = std::min<size_t>(out.size() - produced, 0x40000000u);
            z.next_out = out.data() + produced;
            z.avail_out = static_cast<uInt>(room);
            rc = inflate(&z, Z_NO_FLUSH);
            produced += room - z.avail_out;
            if (rc == Z_BUF_ERROR && z.avail_out != 0) break;  // input ended mid-stream
            if (rc == Z_BUF_ERROR) rc = Z_OK;
        }
    } catch (...) {
        inflateEnd(&z);
        throw;
    }
    const bool trailing = z.avail_in != 0;
    inflateEnd(&z);
    if (rc == Z_MEM_ERROR) return Inflate::kTooLarge;
    if (rc != Z_STREAM_END) return Inflate::kBad;
    out.resize(produced);
    return trailing ? Inflate::kTrailing : Inflate::kOk;
}

// Appends the zlib stream of `data` to `out`.
bool deflate_append(const uint8_t* data, size_t size, int level, std::vector<uint8_t>& out) {
    z_stream z;
    std::memset(&z, 0, sizeof z);
    if (deflateInit(&z, level < 0 ? Z_DEFAULT_COMPRESSION : level) != Z_OK) return false;
    const size_t start = out.size();
    bool ok = true;
    try {
        out.resize(start + deflateBound(&z, static_cast<uLong>(size)));
        z.next_in = const_cast<Bytef*>(data);
        z.avail_in = static_cast<uInt>(size);
        z.next_out = out.data() + start;
        z.avail_out = static_cast<uInt>(out.size() - start);
        ok = deflate(&z, Z_FINISH) == Z_STREAM_END;
        out.resize(ok ? start + z.total_out : start);
    } catch (...) {
        deflateEnd(&z);
        throw;
    }
    deflateEnd(&z);
    return ok;
}

// ------------------------------------------------------------ text helpers

bool is_tiff_header(const uint8_t* data, size_t size) {
    return size >= 8 && ((data[0] == 'I' && data[1] == 'I' && data[2] == 42 && data[3] == 0) ||
                         (data[0] == 'M' && data[1] == 'M' && data[2] == 0 && data[3] == 42));
}

void latin1_to_utf8(const char* text, size_t size, std::vector<uint8_t>& out) {
    out.clear();
    out.reserve(size);
    for (size_t i = 0; i < size; ++i) {
        const auto c = static_cast<uint8_t>(text[i]);
        if (c < 0x80) {
            out.push_back(c);
        } else {
            out.push_back(static_cast<uint8_t>(0xC0 | (c >> 6)));
            out.push_back(static_cast<uint8_t>(0x80 | (c & 0x3F)));
        }
    }
}

// UTF-8 to the Latin-1 a tEXt or zTXt chunk holds: linefeed, 0x20-0x7E and
// 0xA0-0xFF. False for anything else, invalid UTF-8 included.
bool utf8_to_png_latin1(const std::vector<uint8_t>& text, std::string& out) {
    out.clear();
    out.reserve(text.size());
    for (size_t i = 0; i < text.size();) {
        const uint8_t b = text[i];
        uint32_t cp;
        if (b < 0x80) {
            cp = b;
            i += 1;
        } else if ((b & 0xE0) == 0xC0 && i + 1 < text.size() && (text[i + 1] & 0xC0) == 0x80) {
            cp = uint32_t{b & 0x1Fu} << 6 | (text[i + 1] & 0x3Fu);
            if (cp < 0x80) return false;  // overlong
            i += 2;
        } else {
            return false;  // longer sequences are above U+00FF, or invalid
        }
        if (!(cp == 0x0A || (cp >= 0x20 && cp <= 0x7E) || (cp >= 0xA0 && cp <= 0xFF))) {
            return false;
        }
        out.push_back(static_cast<char>(cp));
    }
    return true;
}

// Well-formed UTF-8: shortest forms, no surrogates, nothing above U+10FFFF.
bool is_utf8(const uint8_t* text, size_t size) {
    size_t i = 0;
    while (i < size) {
        const uint8_t b = text[i];
        if (b < 0x80) {
            ++i;
            continue;
        }
        size_t length;
        uint32_t cp;
        uint32_t min;
        if ((b & 0xE0) == 0xC0) {
            length = 2, cp = b & 0x1Fu, min = 0x80;
        } else if ((b & 0xF0) == 0xE0) {
            length = 3, cp = b & 0x0Fu, min = 0x800;
        } else if ((b & 0xF8) == 0xF0) {
            length = 4, cp = b & 0x07u, min = 0x10000;
        } else {
            return false;
        }
        if (size - i < length) return false;
        for (size_t k = 1; k < length; ++k) {
            if ((text[i + k] & 0xC0) != 0x80) return false;
            cp = cp << 6 | (text[i + k] & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += length;
    }
    return true;
}

bool contains_nul(const std::vector<uint8_t>& data) {
    return !data.empty() && std::memchr(data.data(), 0, data.size()) != nullptr;
}

// Metadata encode_png hands to libpng: everything already checked, text
// already converted; `text` points into `text_storage`.
struct EncodePlan {
    const Metadata* icc = nullptr;
    const Metadata* exif = nullptr;
    struct Text {
        int compression;
        std::string key;
        std::string text;
    };
    std::vector<Text> text_storage;
    std::vector<png_text> text;
};


// UTF-8 to Latin-1 for a text rebuilt into tEXt or zTXt: any code point up
// to U+00FF. False for anything else, invalid UTF-8 included.
bool utf8_to_latin1(const std::vector<uint8_t>& text, std::vector<uint8_t>& out) {
    out.clear();
    out.reserve(text.size());
    for (size_t i = 0; i < text.size();) {
        const uint8_t b = text[i];
        if (b < 0x80) {
            out.push_back(b);
            i += 1;
        } else if ((b == 0xC2 || b == 0xC3) && i + 1 < text.size() && (text[i + 1] & 0xC0) == 0x80) {
            out.push_back(static_cast<uint8_t>((b & 0x03) << 6 | (text[i + 1] & 0x3F)));
            i += 2;
        } else {
            return false;
        }
    }
    return true;
}

// ------------------------------------------------------------ libpng glue

// A piece of the input handed to libpng.
struct Span {
    const uint8_t* data;
    size_t size;
};

struct PngContext {
    // Input (decode): the pieces of the file libpng reads, in order.
    const std::vector<Span>* spans = nullptr;
    size_t span = 0;
    size_t span_offset = 0;
    // Output (encode).
    std::vector<uint8_t>* out = nullptr;
    // Error reporting from callbacks: fixed buffer, so no allocation there.
    char message[256] = {0};
    bool truncated = false;
    bool out_of_memory = false;
    // Decode: what libpng has allocated, and how much it may.
    size_t memory_used = 0;
    size_t memory_limit = kLibpngBudget;
    // Encode without a layout: the metadata to write, and whether libpng
    // refused the profile.
    EncodePlan* plan = nullptr;
    bool icc_rejected = false;
};

void set_message(PngContext* ctx, const char* text) {
    std::snprintf(ctx->message, sizeof ctx->message, "%s", text ? text : "unknown libpng error");
}

extern "C" void png_io_error(png_structp png, png_const_charp msg) {
    auto* ctx = static_cast<PngContext*>(png_get_error_ptr(png));
    if (ctx && ctx->message[0] == '\0') set_message(ctx, msg);
    png_longjmp(png, 1);
}

extern "C" void png_io_warning(png_structp, png_const_charp) {
    // Warnings do not affect the pixels; stay quiet like most image tools.
}

extern "C" void png_io_read(png_structp png, png_bytep dest, size_t length) {
    auto* ctx = static_cast<PngContext*>(png_get_io_ptr(png));
    const std::vector<Span>& spans = *ctx->spans;
    while (length > 0) {
        if (ctx->span == spans.size()) {
            ctx->truncated = true;
            png_error(png, "unexpected end of file");
        }
        const Span& s = spans[ctx->span];
        const size_t n = std::min(length, s.size - ctx->span_offset);
        std::memcpy(dest, s.data + ctx->span_offset, n);
        dest += n;
        length -= n;
        ctx->span_offset += n;
        if (ctx->span_offset == s.size) {
            ++ctx->span;
            ctx->span_offset = 0;
        }
    }
}
extern "C" void png_io_write(png_structp png, png_bytep src, size_t length) {
    auto* ctx = static_cast<PngContext*>(png_get_io_ptr(png));
    bool failed = false;
    try {
        ctx->out->insert(ctx->out->end(), src, src + length);
    } catch (...) {
        failed = true;
    }
    if (failed) {
        ctx->out_of_memory = true;
        png_error(png, "out of memory");
    }
}

extern "C" void png_io_flush(png_structp) {}

// libpng's allocator while decoding, with the budget in the context. Each
// block starts with its size, for png_io_free.
constexpr size_t kBlockHeader = alignof(std::max_align_t) > sizeof(size_t)
                                    ? alignof(std::max_align_t)
                                    : sizeof(size_t);

extern "C" png_voidp png_io_malloc(png_structp png, png_alloc_size_t size) {
    auto* ctx = static_cast<PngContext*>(png_get_mem_ptr(png));
    if (size > ctx->memory_limit - ctx->memory_used || size > SIZE_MAX - kBlockHeader) {
        return nullptr;
    }
    auto* block = static_cast<unsigned char*>(std::malloc(size + kBlockHeader));
    if (block == nullptr) return nullptr;
    const size_t n = size;
    std::memcpy(block, &n, sizeof n);
    ctx->memory_used += n;
    return block + kBlockHeader;
}

extern "C" void png_io_free(png_structp png, png_voidp ptr) {
    if (ptr == nullptr) return;
    auto* ctx = static_cast<PngContext*>(png_get_mem_ptr(png));
    unsigned char* block = static_cast<unsigned char*>(ptr) - kBlockHeader;
    size_t n;
    std::memcpy(&n, block, sizeof n);
    ctx->memory_used -= n;
    std::free(block);
}


// Both directions: a bad ancillary chunk (text, profile, EXIF) is dropped
// with a warning, never an error, and profiles are taken as given (no check
// against sRGB, which on writing would also add sRGB/gAMA/cHRM chunks).
void set_metadata_leniency(png_structp png) {
#ifdef PNG_BENIGN_ERRORS_SUPPORTED
    png_set_benign_errors(png, 1);
#endif
#if defined(PNG_SET_OPTION_SUPPORTED) && defined(PNG_SKIP_sRGB_CHECK_PROFILE)
    png_set_option(png, PNG_SKIP_sRGB_CHECK_PROFILE, PNG_OPTION_ON);
#endif
}

// ------------------------------------------------------------ decoding

// What libpng read: the header, and the samples (one byte each).
struct PngHeader {
    png_uint_32 width = 0;
    png_uint_32 height = 0;
    int bit_depth = 0;
    int color_type = 0;
    int interlace = 0;
    size_t rowbytes = 0;
    uint32_t samples = 0;  // per pixel: 1 grey or palette, 2, 3 or 4
};

// Stage of decode_png that failed, for the message.
enum class DecodeStage { kHeader, kTooDeep, kTooLarge, kNoMemory, kPixels, kDone };

// Reads the samples as stored (1, 2 and 4-bit ones unpacked to a byte each,
// not scaled; interlaced images de-interlaced) into `raw`. libpng sees only
// the chunks decode_png hands it. No C++ objects with destructors live in
// this frame.
DecodeStage decode_with_libpng(PngContext* ctx, PngHeader* hdr, std::vector<uint8_t>* raw,
                               std::vector<png_bytep>* rows) {
    png_structp png = png_create_read_struct_2(PNG_LIBPNG_VER_STRING, ctx, png_io_error,
                                               png_io_warning, ctx, png_io_malloc, png_io_free);
    if (!png) return DecodeStage::kNoMemory;
    png_infop info = png_create_info_struct(png);
    png_infop end_info = info ? png_create_info_struct(png) : nullptr;
    if (!info || !end_info) {
        png_destroy_read_struct(&png, info ? &info : nullptr, nullptr);
        return DecodeStage::kNoMemory;
    }
    volatile DecodeStage stage = DecodeStage::kHeader;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, &end_info);
        return stage;
    }
    png_set_read_fn(png, ctx, png_io_read);
    // Our own pixel limit (below) decides what is too large, not libpng's
    // default of 1,000,000 columns or rows.
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    // The ancillary chunks are parsed by decode_png: libpng skips any it is
    // handed (in an incomplete tail), whatever their size.
    png_set_chunk_malloc_max(png, 0);
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, nullptr, -1);
    png_read_info(png, info);

    hdr->width = png_get_image_width(png, info);
    hdr->height = png_get_image_height(png, info);
    hdr->bit_depth = png_get_bit_depth(png, info);
    hdr->color_type = png_get_color_type(png, info);
    hdr->interlace = png_get_interlace_type(png, info);

    if (hdr->bit_depth > 8) {
        png_destroy_read_struct(&png, &info, &end_info);
        return DecodeStage::kTooDeep;
    }
    if (uint64_t{hdr->width} * hdr->height > kMaxPixels) {
        png_destroy_read_struct(&png, &info, &end_info);
        return DecodeStage::kTooLarge;
    }
    // Room for libpng's row buffers (a few rows of at most 4 bytes a pixel).
    {
        const uint64_t rows_room = 4 * (uint64_t{hdr->width} * 4 + 1024);
        const uint64_t limit = uint64_t{kLibpngBudget} + rows_room;
        ctx->memory_limit = limit < SIZE_MAX ? static_cast<size_t>(limit) : SIZE_MAX;
    }
    if (hdr->bit_depth < 8) png_set_packing(png);
    (void)png_set_interlace_handling(png);
    png_read_update_info(png, info);

    hdr->samples = png_get_channels(png, info);
    hdr->rowbytes = png_get_rowbytes(png, info);
    if (png_get_bit_depth(png, info) != 8 || hdr->samples < 1 || hdr->samples > 4 ||
        hdr->rowbytes != size_t{hdr->width} * hdr->samples) {
        set_message(ctx, "unexpected sample layout (libpng)");
        png_destroy_read_struct(&png, &info, &end_info);
        return DecodeStage::kPixels;
    }

    // Allocate (no exception may escape into libpng: we are between calls).
    bool allocated = true;
    try {
        raw->assign(size_t{hdr->width} * hdr->height * hdr->samples, 0);
        rows->resize(hdr->height);
        for (png_uint_32 y = 0; y < hdr->height; ++y) {
            (*rows)[y] = raw->data() + size_t{y} * hdr->rowbytes;
        }
    } catch (...) {
        allocated = false;
    }
    if (!allocated) {
        png_destroy_read_struct(&png, &info, &end_info);
        return DecodeStage::kNoMemory;
    }

    stage = DecodeStage::kPixels;
    png_read_image(png, rows->data());
    png_read_end(png, end_info);
    png_destroy_read_struct(&png, &info, &end_info);
    return DecodeStage::kDone;
}

// ------------------------------------------------------------ samples and pixels

// The tRNS chunk that applies to the pixels (spec §3.9.1), or nullptr: the
// first one before IDAT (after PLTE for a palette image) with a valid size.
const std::vector<uint8_t>* applying_trns(const PngLayout& layout) {
    for (const PngChunk& c : layout.chunks) {
        if (type_id(c.type) != ktRNS || c.from_item) continue;
        if (c.placement == kAfterData) return nullptr;
        const size_t n = c.data.size();
        switch (layout.color_type) {
            case 0: return n == 2 ? &c.data : nullptr;
            case 2: return n == 6 ? &c.data : nullptr;
            case 3: {
                const size_t entries = layout.palette.size() / 3;
                const size_t max = std::min<size_t>(entries, size_t{1} << layout.bit_depth);
                return c.placement == kBeforeData && n >= 1 && n <= max ? &c.data : nullptr;
            }
            default: return nullptr;
        }
    }
    return nullptr;
}

// Channels of the frame for a layout: alpha from the colour type or tRNS.
uint32_t frame_channels(const PngLayout& layout) {
    if (layout.color_type == 4 || layout.color_type == 6) return 4;
    return applying_trns(layout) != nullptr ? 4 : 3;
}

uint8_t scale_up(uint32_t sample, int depth) {
    return static_cast<uint8_t>(sample * 255u / ((1u << depth) - 1u));
}

// Palette entry colours as RGBA (alpha 255 without tRNS), 256 of them
// (black, opaque, past the palette).
std::vector<uint32_t> palette_colours(const PngLayout& layout, const std::vector<uint8_t>* trns) {
    std::vector<uint32_t> colours(256, 0xFF000000u);
    const size_t entries = std::min<size_t>(layout.palette.size() / 3, 256);
    for (size_t i = 0; i < entries; ++i) {
        const uint32_t alpha = trns && i < trns->size() ? (*trns)[i] : 255;
        colours[i] = uint32_t{layout.palette[3 * i]} | uint32_t{layout.palette[3 * i + 1]} << 8 |
                     uint32_t{layout.palette[3 * i + 2]} << 16 | alpha << 24;
    }
    return colours;
}

// Expands the samples of `raw` to the frame's pixels (decode_png's rules).
// Returns "" or why encode_png could not give these samples back.
std::string expand_samples(const PngLayout& layout, const std::vector<uint8_t>& raw, size_t pixels,
                           Image& image) {
    const std::vector<uint8_t>* trns = applying_trns(layout);
    image.channels = frame_channels(layout);
    const int depth = layout.bit_depth;
    const uint32_t mask = (1u << depth) - 1u;
    const uint8_t* in = raw.data();
    if ((layout.color_type == 6 || (layout.color_type == 2 && trns == nullptr))) {
        image.pixels = raw;
        return std::string();
    }
    image.pixels.resize(pixels * image.channels);
    uint8_t* out = image.pixels.data();
    std::string problem;
    switch (layout.color_type) {
        case 0: {
            const uint32_t key = trns ? (uint32_t{(*trns)[0]} << 8 | (*trns)[1]) & mask : 0x100;
            for (size_t i = 0; i < pixels; ++i) {
                const uint8_t g = scale_up(in[i], depth);
                *out++ = g, *out++ = g, *out++ = g;
                if (trns) *out++ = in[i] == key ? 0 : 255;
            }
            break;
        }
        case 2: {  // with tRNS
            uint32_t key[3];
            for (int k = 0; k < 3; ++k) key[k] = (uint32_t{(*trns)[2 * k]} << 8 | (*trns)[2 * k + 1]) & mask;
            for (size_t i = 0; i < pixels; ++i, in += 3) {
                *out++ = in[0], *out++ = in[1], *out++ = in[2];
                *out++ = in[0] == key[0] && in[1] == key[1] && in[2] == key[2] ? 0 : 255;
            }
            break;
        }
        case 3: {
            const std::vector<uint32_t> colours = palette_colours(layout, trns);
            const size_t entries = layout.palette.size() / 3;
            // first[i]: the first entry with entry i's colour (what encode_png picks).
            uint8_t first[256];
            for (size_t i = 0; i < 256; ++i) {
                first[i] = static_cast<uint8_t>(i);
                for (size_t j = 0; j < i && j < entries; ++j) {
                    if (colours[j] == colours[i]) {
                        first[i] = static_cast<uint8_t>(j);
                        break;
                    }
                }
            }
            for (size_t i = 0; i < pixels; ++i) {
                const uint8_t index = in[i];
                if (problem.empty()) {
                    if (index >= entries) {
                        problem = "palette index " + std::to_string(index) + " is past the palette";
                    } else if (first[index] != index) {
                        problem = "palette entries " + std::to_string(first[index]) + " and " +
                                  std::to_string(index) + " have the same colour and entry " +
                                  std::to_string(index) + " is used";
                    }
                }
                const uint32_t c = colours[index];
                *out++ = uint8_t(c), *out++ = uint8_t(c >> 8), *out++ = uint8_t(c >> 16);
                if (trns) *out++ = uint8_t(c >> 24);
            }
            break;
        }
        case 4:
            for (size_t i = 0; i < pixels; ++i, in += 2) {
                *out++ = in[0], *out++ = in[0], *out++ = in[0], *out++ = in[1];
            }
            break;
        default:
            break;
    }
    return problem;
}

// The inverse of expand_samples for encode_png. Returns "" or the first
// pixel that does not convert.
std::string pack_samples(const PngLayout& layout, const ImageView& image, std::vector<uint8_t>& raw) {
    const std::vector<uint8_t>* trns = applying_trns(layout);
    const int depth = layout.bit_depth;
    const uint32_t mask = (1u << depth) - 1u;
    const size_t pixels = size_t{image.width} * image.height;
    const uint8_t* in = image.pixels;
    const uint32_t ch = image.channels;
    auto fail = [&](size_t i, const char* why) {
        return "pixel (" + std::to_string(i % image.width) + ", " + std::to_string(i / image.width) +
               ") " + why;
    };
    switch (layout.color_type) {
        case 0: {
            raw.resize(pixels);
            const uint32_t key = trns ? (uint32_t{(*trns)[0]} << 8 | (*trns)[1]) & mask : 0x100;
            for (size_t i = 0; i < pixels; ++i, in += ch) {
                if (in[0] != in[1] || in[0] != in[2]) return fail(i, "is not grey");
                const uint32_t s = in[0] >> (8 - depth);
                if (scale_up(s, depth) != in[0]) return fail(i, "is not a grey level of the bit depth");
                if (trns) {
                    if (in[3] == 0 && s == key) {
                        raw[i] = static_cast<uint8_t>(s);
                        continue;
                    }
                    if (in[3] != 255 || s == key) return fail(i, "has an alpha the tRNS key cannot give");
                }
                raw[i] = static_cast<uint8_t>(s);
            }
            return std::string();
        }
        case 2: {
            raw.resize(pixels * 3);
            uint32_t key[3] = {0x100, 0x100, 0x100};
            if (trns) {
                for (int k = 0; k < 3; ++k) key[k] = (uint32_t{(*trns)[2 * k]} << 8 | (*trns)[2 * k + 1]) & mask;
            }
            for (size_t i = 0; i < pixels; ++i, in += ch) {
                if (trns) {
                    const bool keyed = in[0] == key[0] && in[1] == key[1] && in[2] == key[2];
                    if (in[3] != (keyed ? 0 : 255)) return fail(i, "has an alpha the tRNS key cannot give");
                }
                raw[3 * i] = in[0], raw[3 * i + 1] = in[1], raw[3 * i + 2] = in[2];
            }
            return std::string();
        }
        case 3: {
            raw.resize(pixels);
            const std::vector<uint32_t> colours = palette_colours(layout, trns);
            const size_t usable = std::min<size_t>(layout.palette.size() / 3, size_t{1} << depth);
            std::unordered_map<uint32_t, uint8_t> index_of;
            for (size_t i = usable; i-- > 0;) index_of[colours[i]] = static_cast<uint8_t>(i);
            for (size_t i = 0; i < pixels; ++i, in += ch) {
                const uint32_t alpha = ch == 4 ? in[3] : 255;
                const uint32_t c = uint32_t{in[0]} | uint32_t{in[1]} << 8 | uint32_t{in[2]} << 16 | alpha << 24;
                const auto it = index_of.find(c);
                if (it == index_of.end()) return fail(i, "has a colour the palette lacks");
                raw[i] = it->second;
            }
            return std::string();
        }
        case 4:
            raw.resize(pixels * 2);
            for (size_t i = 0; i < pixels; ++i, in += 4) {
                if (in[0] != in[1] || in[0] != in[2]) return fail(i, "is not grey");
                raw[2 * i] = in[0], raw[2 * i + 1] = in[3];
            }
            return std::string();
        default:  // 6
            raw.assign(image.pixels, image.pixels + image.size);
            return std::string();
    }
}

// ------------------------------------------------------------ chunks to layout and items

// An ICC profile header libpng would accept for the colour type: the size
// field, "acsp", a tag table inside, RGB or grey data as the image is.
bool icc_header_ok(const std::vector<uint8_t>& p, int color_type) {
    if (p.size() < 132 || load_be32(p.data()) != p.size()) return false;
    if (std::memcmp(p.data() + 36, "acsp", 4) != 0) return false;
    const bool colour = (color_type & 2) != 0;
    if (std::memcmp(p.data() + 16, colour ? "RGB " : "GRAY", 4) != 0) return false;
    const uint64_t tags = load_be32(p.data() + 128);
    return 132 + 12 * tags <= p.size();
}

// Position of the NUL ending a keyword (1-79 bytes) in `data`, or 0.
size_t keyword_end(const uint8_t* data, size_t size) {
    const size_t limit = std::min<size_t>(size, 80);
    const void* nul = std::memchr(data, 0, limit);
    return nul ? static_cast<size_t>(static_cast<const uint8_t*>(nul) - data) : 0;
}

// Position of the next NUL at or after `from`, or `size`.
size_t next_nul(const uint8_t* data, size_t size, size_t from) {
    const void* nul = from < size ? std::memchr(data + from, 0, size - from) : nullptr;
    return nul ? static_cast<size_t>(static_cast<const uint8_t*>(nul) - data) : size;
}

// Builds layout and metadata items from the chunks of a file libpng read.
class LayoutBuilder {
public:
    LayoutBuilder(const uint8_t* file, int color_type, Image& image)
        : file_(file), color_type_(color_type), image_(image) {}

    // One ancillary chunk at `placement` (no item if its CRC is wrong).
    void add(const RawChunk& raw, uint8_t placement) {
        PngChunk chunk;
        for (int k = 0; k < 4; ++k) chunk.type[size_t(k)] = uint8_t(raw.type >> (24 - 8 * k));
        chunk.placement = placement;
        const uint8_t* data = raw.data(file_);
        const size_t size = raw.length;
        bool rebuildable = false;
        const size_t items_before = image_.metadata.size();
        switch (raw.crc_ok ? raw.type : 0) {
            case kiCCP: rebuildable = add_icc(data, size, placement); break;
            case keXIf: rebuildable = add_exif(data, size); break;
            case ktEXt: rebuildable = add_text(data, size, false); break;
            case kzTXt: rebuildable = add_text(data, size, true); break;
            case kiTXt: rebuildable = add_itxt(data, size, chunk); break;
            default: break;
        }
        if (rebuildable && image_.metadata.size() > items_before) {
            chunk.from_item = true;
            chunk.item = items_before;
        } else {
            chunk.language.clear();
            chunk.translated.clear();
            chunk.itxt_compressed = 0;
            chunk.data.assign(data, data + size);
        }
        image_.layout.chunks.push_back(std::move(chunk));
    }

private:
    size_t item_cap() const { return std::min(budget_, kMaxInflatedItem); }

    // Takes `bytes` more of the item budget, or false.
    bool take(size_t bytes) {
        if (bytes > budget_) return false;
        budget_ -= bytes;
        return true;
    }

    // The rest return true if the chunk is exactly what its item rebuilds.
    bool add_icc(const uint8_t* data, size_t size, uint8_t placement) {
        const size_t nul = keyword_end(data, size);
        if (have_icc_ || placement != kBeforePalette || nul == 0 || size < nul + 2 ||
            data[nul + 1] != 0) {
            return false;
        }
        const std::string name(reinterpret_cast<const char*>(data), nul);
        if (!is_png_keyword(name)) return false;
        std::vector<uint8_t> profile;
        const Inflate r = inflate_capped(data + nul + 2, size - nul - 2, item_cap(), profile);
        if ((r != Inflate::kOk && r != Inflate::kTrailing) || !icc_header_ok(profile, color_type_) ||
            !take(profile.size())) {
            return false;
        }
        image_.metadata.push_back({kMetadataIcc, name, std::move(profile)});
        have_icc_ = true;
        return r == Inflate::kOk;
    }

    bool add_exif(const uint8_t* data, size_t size) {
        if (have_exif_ || !is_tiff_header(data, size) || !take(size)) return false;
        image_.metadata.push_back({kMetadataExif, std::string(), std::vector<uint8_t>(data, data + size)});
        have_exif_ = true;
        return true;
    }

    // tEXt: keyword, NUL, Latin-1 text. zTXt: keyword, NUL, method 0, zlib.
    bool add_text(const uint8_t* data, size_t size, bool compressed) {
        const size_t nul = keyword_end(data, size);
        if (nul == 0) return false;
        const std::string key(reinterpret_cast<const char*>(data), nul);
        if (!is_png_keyword(key)) return false;
        Inflate r = Inflate::kOk;
        std::vector<uint8_t> inflated;
        const uint8_t* text = data + nul + 1;
        size_t text_size = size - nul - 1;
        if (compressed) {
            if (text_size < 1 || text[0] != 0) return false;
            r = inflate_capped(text + 1, text_size - 1, item_cap(), inflated);
            if (r != Inflate::kOk && r != Inflate::kTrailing) return false;
            text = inflated.data();
            text_size = inflated.size();
        }
        if (text_size > kMaxInflatedItem || (text_size && std::memchr(text, 0, text_size) != nullptr)) return false;
        Metadata item{kMetadataText, key, {}};
        latin1_to_utf8(reinterpret_cast<const char*>(text), text_size, item.data);
        if (!take(item.data.size())) return false;
        image_.metadata.push_back(std::move(item));
        // Latin-1 -> UTF-8 -> Latin-1 is the identity: the rebuilt text is
        // the original.
        return r == Inflate::kOk;
    }

    // iTXt: keyword, NUL, flag, method, language, NUL, translated keyword,
    // NUL, text (zlib if flag is 1).
    bool add_itxt(const uint8_t* data, size_t size, PngChunk& chunk) {
        const size_t nul = keyword_end(data, size);
        if (nul == 0 || size < nul + 3) return false;
        const std::string key(reinterpret_cast<const char*>(data), nul);
        const uint8_t flag = data[nul + 1];
        const uint8_t method = data[nul + 2];
        const size_t lang_end = next_nul(data, size, nul + 3);
        const size_t trans_end = next_nul(data, size, lang_end + 1);
        if (!is_png_keyword(key) || flag > 1 || (flag == 1 && method != 0) || trans_end >= size) {
            return false;
        }
        Inflate r = Inflate::kOk;
        std::vector<uint8_t> inflated;
        const uint8_t* text = data + trans_end + 1;
        size_t text_size = size - trans_end - 1;
        if (flag == 1) {
            r = inflate_capped(text, text_size, item_cap(), inflated);
            if (r != Inflate::kOk && r != Inflate::kTrailing) return false;
            text = inflated.data();
            text_size = inflated.size();
        }
        if (text_size > kMaxInflatedItem || (text_size && std::memchr(text, 0, text_size) != nullptr) ||
            !is_utf8(text, text_size) ||
            !take(text_size)) {
            return false;
        }
        Metadata item;
        if (key == kXmpKeyword) {
            item.kind = kMetadataXmp;
        } else {
            item.kind = kMetadataText;
            item.key = key;
        }
        if (flag == 1) {
            item.data = std::move(inflated);
        } else {
            item.data.assign(text, text + text_size);
        }
        image_.metadata.push_back(std::move(item));
        chunk.itxt_compressed = flag;
        chunk.language.assign(reinterpret_cast<const char*>(data) + nul + 3, lang_end - nul - 3);
        chunk.translated.assign(reinterpret_cast<const char*>(data) + lang_end + 1, trans_end - lang_end - 1);
        return r == Inflate::kOk && method == 0;
    }

    const uint8_t* file_;
    int color_type_;
    Image& image_;
    size_t budget_ = kMaxInflatedMetadata;
    bool have_icc_ = false;  // at most one of each per image, as in PNG
    bool have_exif_ = false;
};

// Fills image.layout and image.metadata from the chunks; sets
// image.not_exact if the layout cannot reproduce the file.
void build_layout(const uint8_t* file, size_t size, const ChunkScan& scan, const PngHeader& hdr,
                  Image& image) {
    PngLayout& layout = image.layout;
    layout.color_type = static_cast<uint8_t>(hdr.color_type);
    layout.bit_depth = static_cast<uint8_t>(hdr.bit_depth);
    layout.interlace = static_cast<uint8_t>(hdr.interlace);
    LayoutBuilder builder(file, hdr.color_type, image);
    std::string& why = image.not_exact;
    bool seen_ihdr = false, seen_plte = false, seen_idat = false, after_idat = false;
    for (const RawChunk& c : scan.chunks) {
        if (c.type == kIHDR) {
            seen_ihdr = true;
            continue;
        }
        if (c.type == kIEND) break;
        if (!seen_ihdr && why.empty()) why = "a chunk before IHDR";
        if (c.type == kPLTE) {
            if ((seen_plte || seen_idat) && why.empty()) why = "a second PLTE, or PLTE after IDAT";
            seen_plte = true;
            const bool colour = (hdr.color_type & 2) != 0;
            if (!colour) {
                if (why.empty()) why = "PLTE in a grey image";
            } else if (c.length == 0 || c.length % 3 != 0 || c.length > 768) {
                if (why.empty()) why = "invalid PLTE";
            } else {
                layout.palette.assign(c.data(file), c.data(file) + c.length);
            }
            continue;
        }
        if (c.type == kIDAT) {
            if (after_idat && why.empty()) why = "a chunk between IDAT chunks";
            seen_idat = true;
            continue;
        }
        if (!c.crc_ok && why.empty()) why = "chunk " + type_text(c.type) + " has a bad CRC";
        if (seen_idat) after_idat = true;
        builder.add(c, seen_idat ? kAfterData : seen_plte ? kBeforeData : kBeforePalette);
    }
    if (scan.rest < size && why.empty()) {
        why = std::to_string(size - scan.rest) + " bytes after IEND";
    }
}

// ------------------------------------------------------------ encoding

// libpng's write structures for `ctx`; false (with the message set) when out
// of memory. The caller sets its own setjmp, then set_up_png_writer().
bool create_png_writer(PngContext* ctx, png_structp& png, png_infop& info) {
    png = png_create_write_struct(PNG_LIBPNG_VER_STRING, ctx, png_io_error, png_io_warning);
    if (png) info = png_create_info_struct(png);
    if (png && info) return true;
    if (png) png_destroy_write_struct(&png, nullptr);
    set_message(ctx, "out of memory");
    return false;
}

void set_up_png_writer(png_structp png, PngContext* ctx, int level) {
    png_set_write_fn(png, ctx, png_io_write, png_io_flush);
    // PNG allows 2^31 - 1 columns and rows; libpng refuses more than its
    // default limit of 1,000,000 on writing too (a 2^24 x 1 frame).
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    if (level >= 0) png_set_compression_level(png, level);
}

// Writes IHDR, PLTE (palette images), IDAT and IEND with libpng: the samples
// of `rows`, one byte each. No C++ objects with destructors live in this frame.
bool encode_samples_with_libpng(PngContext* ctx, const PngLayout* layout, uint32_t width, uint32_t height,
                                const std::vector<png_color>* palette, int level,
                                std::vector<png_bytep>* rows) {
    png_structp png = nullptr;
    png_infop info = nullptr;
    if (!create_png_writer(ctx, png, info)) return false;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return false;
    }
    set_up_png_writer(png, ctx, level);
    png_set_IHDR(png, info, width, height, layout->bit_depth, layout->color_type,
                 layout->interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (!palette->empty()) {
        png_set_PLTE(png, info, palette->data(), static_cast<int>(palette->size()));
    }
    png_write_info(png, info);
    if (layout->bit_depth < 8) png_set_packing(png);
    png_write_image(png, rows->data());
    png_write_end(png, nullptr);
    png_destroy_write_struct(&png, &info);
    return true;
}

// The data of a chunk rebuilt from its item (spec §3.9.1, form 1).
bool rebuild_chunk(const PngChunk& c, const std::vector<Metadata>& items, int level,
                   std::vector<uint8_t>& data, std::string& error) {
    const Metadata& item = items[c.item];
    const uint32_t type = type_id(c.type);
    data.clear();
    auto put = [&](const std::string& s) { data.insert(data.end(), s.begin(), s.end()); };
    bool ok = true;
    switch (type) {
        case kiCCP:
            put(item.key);
            data.push_back(0);
            data.push_back(0);
            ok = deflate_append(item.data.data(), item.data.size(), level, data);
            break;
        case keXIf:
            data = item.data;
            break;
        case ktEXt:
        case kzTXt: {
            std::vector<uint8_t> latin1;
            if (!utf8_to_latin1(item.data, latin1)) {
                error = "the text of metadata item " + std::to_string(c.item + 1) + " is not Latin-1";
                return false;
            }
            put(item.key);
            data.push_back(0);
            if (type == ktEXt) {
                data.insert(data.end(), latin1.begin(), latin1.end());
            } else {
                data.push_back(0);
                ok = deflate_append(latin1.data(), latin1.size(), level, data);
            }
            break;
        }
        default:  // iTXt
            put(item.kind == kMetadataXmp ? std::string(kXmpKeyword) : item.key);
            data.push_back(0);
            data.push_back(c.itxt_compressed);
            data.push_back(0);
            put(c.language);
            data.push_back(0);
            put(c.translated);
            data.push_back(0);
            if (c.itxt_compressed) {
                ok = deflate_append(item.data.data(), item.data.size(), level, data);
            } else {
                data.insert(data.end(), item.data.begin(), item.data.end());
            }
            break;
    }
    if (!ok) {
        error = "zlib failed";
        return false;
    }
    if (data.size() > 0x7fffffffu) {
        error = "chunk " + type_text(type) + " would be larger than PNG allows";
        return false;
    }
    return true;
}

// encode_png with a layout; `image` is checked as far as encode_png does
// before. Returns "" or the error.
std::string encode_with_layout(const ImageView& image, int level, std::vector<uint8_t>& out) {
    const PngLayout& layout = *image.layout;
    static const std::vector<Metadata> kNone;
    const std::vector<Metadata>& metadata = image.metadata ? *image.metadata : kNone;
    std::string error;
    if (!check_png_layout(layout, metadata, error)) return "invalid PNG layout: " + error;
    if (image.channels != frame_channels(layout)) {
        return "the PNG layout needs " + std::to_string(frame_channels(layout)) + " channels, the image has " +
               std::to_string(image.channels);
    }
    std::vector<uint8_t> raw;
    error = pack_samples(layout, image, raw);
    if (!error.empty()) return "the pixels do not fit the PNG layout: " + error;

    const uint32_t samples = layout.color_type == 0 || layout.color_type == 3 ? 1
                             : layout.color_type == 4                         ? 2
                             : layout.color_type == 2                         ? 3
                                                                              : 4;
    std::vector<png_bytep> rows(image.height);
    for (uint32_t y = 0; y < image.height; ++y) rows[y] = raw.data() + size_t{y} * image.width * samples;
    std::vector<png_color> palette;
    if (layout.color_type == 3) {
        // libpng writes at most 2^depth entries; the PLTE written is the layout's.
        const size_t n = std::min<size_t>(layout.palette.size() / 3, size_t{1} << layout.bit_depth);
        for (size_t i = 0; i < n; ++i) {
            palette.push_back({layout.palette[3 * i], layout.palette[3 * i + 1], layout.palette[3 * i + 2]});
        }
    }
    std::vector<uint8_t> coded;
    PngContext ctx;
    ctx.out = &coded;
    if (!encode_samples_with_libpng(&ctx, &layout, image.width, image.height, &palette, level, &rows)) {
        if (ctx.out_of_memory) throw std::bad_alloc();
        return ctx.message[0] ? ctx.message : "unknown libpng error";
    }
    std::vector<uint8_t>().swap(raw);

    // libpng's IHDR and IDAT; the layout's chunks around them.
    const ChunkScan scan = scan_chunks(coded.data(), coded.size());
    out.assign(kPngSignature, kPngSignature + 8);
    auto copy_chunks = [&](uint32_t type) {
        for (const RawChunk& c : scan.chunks) {
            if (c.type == type) out.insert(out.end(), coded.begin() + long(c.offset), coded.begin() + long(c.offset + 12 + c.length));
        }
    };
    auto write_layout_chunks = [&](uint8_t placement) -> bool {
        std::vector<uint8_t> rebuilt;
        for (const PngChunk& c : layout.chunks) {
            if (c.placement != placement) continue;
            const std::vector<uint8_t>* data = &c.data;
            if (c.from_item) {
                if (!rebuild_chunk(c, metadata, level, rebuilt, error)) return false;
                data = &rebuilt;
            }
            append_chunk(out, type_id(c.type), data->data(), data->size());
        }
        return true;
    };
    copy_chunks(kIHDR);
    if (!write_layout_chunks(kBeforePalette)) return error;
    if (!layout.palette.empty()) append_chunk(out, kPLTE, layout.palette.data(), layout.palette.size());
    if (!write_layout_chunks(kBeforeData)) return error;
    copy_chunks(kIDAT);
    if (!write_layout_chunks(kAfterData)) return error;
    copy_chunks(kIEND);
    return std::string();
}

bool encode_with_libpng(PngContext* ctx, const ImageView* image, int level,
                        std::vector<png_bytep>* rows) {
    png_structp png = nullptr;
    png_infop info = nullptr;
    if (!create_png_writer(ctx, png, info)) return false;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return false;
    }
    set_up_png_writer(png, ctx, level);
    png_set_IHDR(png, info, image->width, image->height, 8,
                 image->channels == 4 ? PNG_COLOR_TYPE_RGB_ALPHA : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);

    // Metadata. Everything libpng could refuse with a hard error (keywords,
    // sizes) was checked by encode_png; what is left (a profile libpng finds
    // invalid or unsuited to RGB) it refuses with a warning and drops.
    set_metadata_leniency(png);
    EncodePlan* plan = ctx->plan;
    if (plan->icc != nullptr) {
        png_set_iCCP(png, info, plan->icc->key.c_str(), PNG_COMPRESSION_TYPE_BASE,
                     plan->icc->data.data(), static_cast<png_uint_32>(plan->icc->data.size()));
        if (png_get_valid(png, info, PNG_INFO_iCCP) == 0) ctx->icc_rejected = true;
    }
    if (plan->exif != nullptr) {
        // libpng copies the data; it does not write through the pointer.
        png_set_eXIf_1(png, info, static_cast<png_uint_32>(plan->exif->data.size()),
                       const_cast<png_bytep>(plan->exif->data.data()));
    }
    if (!plan->text.empty()) {
        png_set_text(png, info, plan->text.data(), static_cast<int>(plan->text.size()));
    }

    png_write_info(png, info);
    png_write_image(png, rows->data());
    png_write_end(png, nullptr);
    png_destroy_write_struct(&png, &info);
    return true;
}

}  // namespace

bool decode_png(const uint8_t* data, size_t size, Image& out, std::string& error) {
    out = Image();
    if (data == nullptr || size < 8 || png_sig_cmp(data, 0, 8) != 0) {
        error = size == 0 ? "empty file, not a PNG" : "not a PNG file (bad signature)";
        return false;
    }
    ChunkScan scan;
    std::vector<Span> spans;
    try {
        scan = scan_chunks(data, size);
        // libpng gets the critical chunks, anything it should refuse and an
        // incomplete end; the ancillary chunks are parsed here.
        spans.push_back({data, 8});
        bool seen_ihdr = false;
        for (const RawChunk& c : scan.chunks) {
            if (!seen_ihdr || !is_ancillary_type(c.type) || !valid_type_name(c.type)) {
                spans.push_back({data + c.offset, 12 + size_t{c.length}});
            }
            if (c.type == kIHDR) seen_ihdr = true;
        }
        if (!scan.has_iend && scan.rest < size) spans.push_back({data + scan.rest, size - scan.rest});
    } catch (const std::bad_alloc&) {
        error = "out of memory decoding PNG";
        return false;
    }
    PngContext ctx;
    ctx.spans = &spans;
    PngHeader hdr;
    std::vector<uint8_t> raw;
    std::vector<png_bytep> rows;
    DecodeStage stage = decode_with_libpng(&ctx, &hdr, &raw, &rows);
    switch (stage) {
        case DecodeStage::kDone: {
            try {
                Image image;
                image.width = hdr.width;
                image.height = hdr.height;
                build_layout(data, size, scan, hdr, image);
                const std::string problem =
                    expand_samples(image.layout, raw, size_t{hdr.width} * hdr.height, image);
                if (image.not_exact.empty()) image.not_exact = problem;
                if (image.not_exact.empty()) {
                    image.layout.present = true;
                } else {
                    image.layout = PngLayout();
                }
                out = std::move(image);
            } catch (const std::bad_alloc&) {
                error = "out of memory decoding PNG (" + std::to_string(hdr.width) + "x" +
                        std::to_string(hdr.height) + ")";
                return false;
            }
            return true;
        }
        case DecodeStage::kTooDeep:
            error = "16-bit PNG is not supported yet (QOHI stores 8-bit channels)";
            out.not_exact = error;
            return false;
        case DecodeStage::kTooLarge:
            error = "PNG is too large: " + std::to_string(hdr.width) + "x" +
                    std::to_string(hdr.height) + " is more than " +
                    std::to_string(kMaxPixels) + " pixels";
            return false;
        case DecodeStage::kNoMemory:
            error = "out of memory decoding PNG";
            if (hdr.width != 0) {
                error += " (" + std::to_string(hdr.width) + "x" + std::to_string(hdr.height) + ")";
            }
            return false;
        case DecodeStage::kHeader:
        case DecodeStage::kPixels:
            break;
    }
    if (ctx.truncated) {
        error = stage == DecodeStage::kHeader ? "truncated PNG (file ends before the image data)"
                                              : "truncated PNG (file ends before the image is complete)";
    } else {
        error = std::string("invalid PNG: ") + (ctx.message[0] ? ctx.message : "unknown error");
    }
    return false;
}

bool is_plain_layout(const PngLayout& layout, uint32_t channels) {
    return layout.present && layout.color_type == (channels == 4 ? 6 : 2) && layout.bit_depth == 8 &&
           layout.interlace == 0 && layout.palette.empty() && layout.chunks.empty();
}

bool check_png_layout(const PngLayout& layout, const std::vector<Metadata>& items, std::string& error) {
    const int ct = layout.color_type, depth = layout.bit_depth;
    const bool low_depth_ok = ct == 0 || ct == 3;
    if (ct != 0 && ct != 2 && ct != 3 && ct != 4 && ct != 6) {
        error = "colour type " + std::to_string(ct);
        return false;
    }
    if (!(depth == 8 || (low_depth_ok && (depth == 1 || depth == 2 || depth == 4)))) {
        error = "bit depth " + std::to_string(depth) + " for colour type " + std::to_string(ct);
        return false;
    }
    if (layout.interlace > 1) {
        error = "interlace method " + std::to_string(layout.interlace);
        return false;
    }
    const size_t p = layout.palette.size();
    if (p % 3 != 0 || p > 768 || (ct == 3 && p == 0) || ((ct == 0 || ct == 4) && p != 0)) {
        error = "a palette of " + std::to_string(p) + " bytes for colour type " + std::to_string(ct);
        return false;
    }
    uint8_t placement = kBeforePalette;
    for (size_t i = 0; i < layout.chunks.size(); ++i) {
        const PngChunk& c = layout.chunks[i];
        const uint32_t type = type_id(c.type);
        const std::string which = "chunk " + std::to_string(i + 1) + " (" + type_text(type) + ")";
        if (!valid_type_name(type) || !is_ancillary_type(type)) {
            error = which + ": not an ancillary chunk type";
            return false;
        }
        if (c.placement > kAfterData || c.placement < placement) {
            error = which + ": placement " + std::to_string(c.placement) + " out of order";
            return false;
        }
        placement = c.placement;
        if (!c.from_item) {
            if (c.data.size() > 0x7fffffffu) {
                error = which + ": larger than PNG allows";
                return false;
            }
            continue;
        }
        if (c.item >= items.size()) {
            error = which + ": metadata item " + std::to_string(c.item + 1) + " does not exist";
            return false;
        }
        const uint32_t kind = items[c.item].kind;
        const bool fits = (type == kiCCP && kind == kMetadataIcc) || (type == keXIf && kind == kMetadataExif) ||
                          ((type == ktEXt || type == kzTXt) && kind == kMetadataText) ||
                          (type == kiTXt && (kind == kMetadataText || kind == kMetadataXmp));
        if (!fits) {
            error = which + ": cannot be rebuilt from metadata item " + std::to_string(c.item + 1) +
                    " (kind " + std::to_string(kind) + ")";
            return false;
        }
        if (type == kiTXt && (c.itxt_compressed > 1 || c.language.find('\0') != std::string::npos ||
                              c.translated.find('\0') != std::string::npos)) {
            error = which + ": invalid iTXt fields";
            return false;
        }
    }
    return true;
}

bool is_png_keyword(const std::string& key) {
    if (key.empty() || key.size() > 79 || key.front() == ' ' || key.back() == ' ') return false;
    for (size_t i = 0; i < key.size(); ++i) {
        const auto c = static_cast<uint8_t>(key[i]);
        if (c == ' ') {
            if (key[i - 1] == ' ') return false;  // i > 0: no leading space
        } else if (!((c >= 0x21 && c <= 0x7E) || c >= 0xA1)) {
            return false;
        }
    }
    return true;
}

namespace {

std::string describe_item(size_t index, const Metadata& item) {
    std::string what = "metadata item " + std::to_string(index + 1);
    switch (item.kind) {
        case kMetadataIcc: what += " (ICC profile"; break;
        case kMetadataExif: what += " (EXIF"; break;
        case kMetadataXmp: what += " (XMP"; break;
        case kMetadataText: what += " (text"; break;
        default: return what + " (kind " + std::to_string(item.kind) + ")";
    }
    if (item.kind == kMetadataIcc || item.kind == kMetadataText) {
        what += " \"";
        for (size_t i = 0; i < item.key.size() && i < 100; ++i) {
            const auto c = static_cast<uint8_t>(item.key[i]);
            if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
                what += static_cast<char>(c);
            } else {
                char hex[8];
                std::snprintf(hex, sizeof hex, "\\x%02X", c);
                what += hex;
            }
        }
        if (item.key.size() > 100) what += "...";
        what += "\"";
    }
    return what + ")";
}

// Decides what encode_png writes. Returns the reason an item is skipped, or
// nullptr if it is written (then it is in `plan`).
const char* plan_item(const Metadata& item, EncodePlan& plan) {
    switch (item.kind) {
        case kMetadataIcc:
            if (plan.icc != nullptr) return "a PNG holds one ICC profile";
            if (!is_png_keyword(item.key)) return "the profile name is not a valid PNG keyword";
            if (item.data.size() > kMaxMetadataSize) return "too large";
            if (item.data.size() < 132) return "not an ICC profile (too short)";
            plan.icc = &item;
            return nullptr;
        case kMetadataExif:
            if (plan.exif != nullptr) return "a PNG holds one EXIF block";
            if (!is_tiff_header(item.data.data(), item.data.size())) {
                return "does not start with a TIFF header";
            }
            if (item.data.size() > kMaxMetadataSize) return "too large";
            plan.exif = &item;
            return nullptr;
        case kMetadataXmp:
        case kMetadataText: {
            if (plan.text_storage.size() >= kMaxTextChunks) return "too many text chunks";
            if (contains_nul(item.data)) return "contains a NUL byte";
            if (!is_utf8(item.data.data(), item.data.size())) return "not valid UTF-8";
            if (item.kind == kMetadataText && !is_png_keyword(item.key)) {
                return "the keyword is not a valid PNG keyword";
            }
            EncodePlan::Text text;
            if (item.kind == kMetadataXmp) {
                // Uncompressed, so that tools scanning for the packet find it.
                text.compression = PNG_ITXT_COMPRESSION_NONE;
                text.key = kXmpKeyword;
                text.text.assign(item.data.begin(), item.data.end());
            } else {
                text.key = item.key;
                if (utf8_to_png_latin1(item.data, text.text)) {
                    text.compression = text.text.size() < kCompressFrom ? PNG_TEXT_COMPRESSION_NONE
                                                                        : PNG_TEXT_COMPRESSION_zTXt;
                } else {
                    text.text.assign(item.data.begin(), item.data.end());
                    text.compression = text.text.size() < kCompressFrom ? PNG_ITXT_COMPRESSION_NONE
                                                                        : PNG_ITXT_COMPRESSION_zTXt;
                }
            }
            if (text.text.size() > kMaxMetadataSize) return "too large";
            plan.text_storage.push_back(std::move(text));
            return nullptr;
        }
        default:
            return "unknown kind";
    }
}

}  // namespace

bool encode_png(const Image& image, int level, std::vector<uint8_t>& out, std::string& error,
                std::vector<std::string>* skipped) {
    ImageView view;
    view.width = image.width;
    view.height = image.height;
    view.channels = image.channels;
    view.pixels = image.pixels.data();
    view.size = image.pixels.size();
    view.metadata = &image.metadata;
    view.layout = &image.layout;
    return encode_png(view, level, out, error, skipped);
}

uint64_t png_size_bound(uint32_t width, uint32_t height, uint32_t channels, const std::vector<Metadata>& metadata) {
    // Rows with their filter bytes, deflated at worst a little larger (zlib's
    // deflateBound is about n + n/4096 + 13), in IDAT chunks of 8192 bytes.
    const uint64_t raw = (uint64_t{width} * channels + 1) * height;
    const uint64_t deflated = raw + raw / 1024 + 64;
    uint64_t bound = 8 + 25 + deflated + 12 * (deflated / 8192 + 1) + 12;  // signature, IHDR, IDATs, IEND
    for (const Metadata& m : metadata) bound += m.key.size() + m.data.size() + m.data.size() / 1024 + 128;
    return bound;
}

bool encode_png(const ImageView& image, int level, std::vector<uint8_t>& out, std::string& error,
                std::vector<std::string>* skipped) {
    out.clear();
    static const std::vector<Metadata> kNone;
    const std::vector<Metadata>& metadata = image.metadata ? *image.metadata : kNone;
    if (image.channels != 3 && image.channels != 4) {
        error = "cannot write PNG: " + std::to_string(image.channels) +
                " channels (only RGB and RGBA are supported)";
        return false;
    }
    if (image.width == 0 || image.height == 0 || image.width > 0x7fffffffu ||
        image.height > 0x7fffffffu) {
        error = "cannot write PNG: invalid size " + std::to_string(image.width) + "x" +
                std::to_string(image.height);
        return false;
    }
    const uint64_t row_bytes = uint64_t{image.width} * image.channels;
    if (row_bytes * image.height != image.size) {
        error = "cannot write PNG: pixel buffer has " + std::to_string(image.size) +
                " bytes, expected " + std::to_string(row_bytes * image.height);
        return false;
    }
    if (level < -1 || level > 9) {
        error = "cannot write PNG: compression level " + std::to_string(level) +
                " is outside -1..9";
        return false;
    }
    if (image.layout && image.layout->present) {
        try {
            error = encode_with_layout(image, level, out);
        } catch (const std::bad_alloc&) {
            error = "out of memory";
        }
        if (error.empty()) return true;
        out.clear();
        error = "cannot write PNG: " + error;
        return false;
    }
    std::vector<png_bytep> rows;
    try {
        rows.resize(image.height);
    } catch (const std::bad_alloc&) {
        error = "out of memory encoding PNG";
        return false;
    }
    // libpng only reads through these pointers.
    auto* base = const_cast<uint8_t*>(image.pixels);
    for (uint32_t y = 0; y < image.height; ++y) rows[y] = base + size_t{y} * row_bytes;

    EncodePlan plan;
    std::vector<size_t> skipped_items;  // indexes into metadata
    std::vector<const char*> reasons;
    try {
        for (size_t i = 0; i < metadata.size(); ++i) {
            const char* reason = plan_item(metadata[i], plan);
            if (reason != nullptr) {
                skipped_items.push_back(i);
                reasons.push_back(reason);
            }
        }
        // The strings no longer move: point libpng at them.
        plan.text.resize(plan.text_storage.size());
        for (size_t i = 0; i < plan.text_storage.size(); ++i) {
            EncodePlan::Text& from = plan.text_storage[i];
            png_text& to = plan.text[i];
            std::memset(&to, 0, sizeof to);
            to.compression = from.compression;
            to.key = &from.key[0];
            to.text = &from.text[0];
            to.text_length = from.text.size();
        }
    } catch (const std::bad_alloc&) {
        error = "out of memory encoding PNG";
        return false;
    }

    // Reserved whole: growing by doubling could take twice the bytes.
    try {
        out.reserve(static_cast<size_t>(png_size_bound(image.width, image.height, image.channels, metadata)));
    } catch (const std::bad_alloc&) {
        error = "out of memory encoding PNG";
        return false;
    }
    PngContext ctx;
    ctx.out = &out;
    ctx.plan = &plan;
    if (!encode_with_libpng(&ctx, &image, level, &rows)) {
        out.clear();
        error = ctx.out_of_memory ? "out of memory encoding PNG"
                                  : std::string("cannot write PNG: ") +
                                        (ctx.message[0] ? ctx.message : "unknown error");
        return false;
    }
    if (skipped != nullptr) {
        try {
            const size_t icc_index = ctx.icc_rejected
                                         ? static_cast<size_t>(plan.icc - metadata.data())
                                         : metadata.size();
            for (size_t i = 0, k = 0; i < metadata.size(); ++i) {
                if (k < skipped_items.size() && skipped_items[k] == i) {
                    skipped->push_back(describe_item(i, metadata[i]) + ": " + reasons[k++]);
                } else if (ctx.icc_rejected && i == icc_index) {
                    skipped->push_back(describe_item(i, metadata[i]) +
                                       ": libpng refused the profile");
                }
            }
        } catch (const std::bad_alloc&) {
            // The PNG is written; only the report is lost.
        }
    }
    return true;
}

}  // namespace qohi_tools
