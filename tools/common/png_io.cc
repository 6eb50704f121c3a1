// PNG reading and writing for the QOHI tools, through libpng's classic API.
//
// libpng reports errors with longjmp. To keep that well defined in C++, the
// functions that call setjmp hold no C++ objects with destructors of their
// own: everything they touch lives in a context struct owned by the caller,
// and the libpng callbacks never throw.
#include "png_io.h"

#include <png.h>

#include <csetjmp>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>


namespace qohi_tools {

namespace {

// Largest image decode_png accepts: 2^28 pixels (1 GiB as RGBA), the same as
// QOHI_DEFAULT_MAX_PIXELS.
constexpr uint64_t kMaxPixels = uint64_t{1} << 28;

// Largest ancillary chunk, and largest decompressed zTXt/iTXt/iCCP payload,
// libpng accepts while reading (its default is 8,000,000 bytes; a longer chunk
// is a fatal error, so this is generous). Above what encode_png writes.
constexpr size_t kMaxChunkRead = size_t{64} << 20;
static_assert(kMaxMetadataSize + (size_t{1} << 20) <= kMaxChunkRead,
              "room for keywords and deflate overhead");

// Memory libpng may hold at once while decoding, on top of its row buffers
// (allowed for separately once the width is known). Metadata is what fills
// it: beyond this, libpng drops metadata chunks ("out of memory" warnings)
// instead of growing without bound on a file full of compressed text.
constexpr size_t kLibpngBudget = size_t{512} << 20;

// Texts at least this long are compressed (zTXt, compressed iTXt).
constexpr size_t kCompressFrom = 1024;

const char kXmpKeyword[] = "XML:com.adobe.xmp";

// ------------------------------------------------------------ chunk order

constexpr uint32_t chunk_id(const char (&name)[5]) {
    return uint32_t{uint8_t(name[0])} << 24 | uint32_t{uint8_t(name[1])} << 16 |
           uint32_t{uint8_t(name[2])} << 8 | uint32_t{uint8_t(name[3])};
}
constexpr uint32_t kIDAT = chunk_id("IDAT");
constexpr uint32_t kIEND = chunk_id("IEND");
constexpr uint32_t kiCCP = chunk_id("iCCP");
constexpr uint32_t keXIf = chunk_id("eXIf");
constexpr uint32_t ktEXt = chunk_id("tEXt");
constexpr uint32_t kzTXt = chunk_id("zTXt");
constexpr uint32_t kiTXt = chunk_id("iTXt");

uint32_t load_be32(const uint8_t* p) {
    return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | uint32_t{p[3]};
}

// A metadata chunk as it appears in the file.
struct ChunkRef {
    uint32_t type;
    bool after_idat;
};

// The metadata chunks of a PNG, in file order: libpng keeps iCCP, eXIf and the
// text chunks apart, so their relative order comes from the bytes. Stops at
// IEND or at a damaged chunk header (libpng reports those).
std::vector<ChunkRef> scan_metadata_chunks(const uint8_t* data, size_t size) {
    std::vector<ChunkRef> chunks;
    bool after_idat = false;
    size_t pos = 8;
    while (pos <= size && size - pos >= 12) {
        const uint32_t length = load_be32(data + pos);
        const uint32_t type = load_be32(data + pos + 4);
        if (length > 0x7fffffffu || type == kIEND) break;
        if (type == kIDAT) {
            after_idat = true;
        } else if (type == kiCCP || type == keXIf || type == ktEXt || type == kzTXt ||
                   type == kiTXt) {
            chunks.push_back({type, after_idat});
        }
        if (size - pos - 12 < length) break;
        pos += 12 + size_t{length};
    }
    return chunks;
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

struct PngContext {
    // Input (decode) / output (encode).
    const uint8_t* data = nullptr;
    size_t size = 0;
    size_t offset = 0;
    std::vector<uint8_t>* out = nullptr;
    // Error reporting from callbacks: fixed buffer, so no allocation there.
    char message[256] = {0};
    bool truncated = false;
    bool out_of_memory = false;
    // Decode: what libpng has allocated, and how much it may.
    size_t memory_used = 0;
    size_t memory_limit = kLibpngBudget;
    // Decode: the metadata chunks in file order (scan_metadata_chunks).
    const std::vector<ChunkRef>* chunk_order = nullptr;
    // Encode: the metadata to write, and whether libpng refused the profile.
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
    // Warnings (ancillary chunk CRC errors, unknown sRGB profiles, ...) do not
    // affect the pixels; stay quiet like most image tools.
}

extern "C" void png_io_read(png_structp png, png_bytep dest, size_t length) {
    auto* ctx = static_cast<PngContext*>(png_get_io_ptr(png));
    if (length > ctx->size - ctx->offset) {
        ctx->truncated = true;
        png_error(png, "unexpected end of file");
    }
    std::memcpy(dest, ctx->data + ctx->offset, length);
    ctx->offset += length;
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

// ------------------------------------------------------------ metadata in

// Reads what libpng kept of one side of IDAT (`info`: before, `end_info`:
// after) and appends it to `out` in the order of the chunks in the file.
class MetadataCollector {
public:
    MetadataCollector(png_structp png, const std::vector<ChunkRef>& order, std::vector<Metadata>& out)
        : png_(png), order_(order), out_(out) {}

    void collect(png_infop info, bool after_idat) {
        png_textp texts = nullptr;
        int count = 0;
        if (png_get_text(png_, info, &texts, &count) == 0 || texts == nullptr) count = 0;
        int next = 0;
        bool icc_seen = false;
        bool exif_seen = false;
        for (const ChunkRef& chunk : order_) {
            if (chunk.after_idat != after_idat) continue;
            if (chunk.type == kiCCP) {
                if (!icc_seen) add_icc(info);
                icc_seen = true;
            } else if (chunk.type == keXIf) {
                if (!exif_seen) add_exif(info);
                exif_seen = true;
            } else if (next < count && chunk_type(texts[next]) == chunk.type) {
                // libpng keeps the text chunks in file order and drops the bad
                // ones, so its list is a subsequence of the text chunks.
                add_text(texts[next++]);
            }
        }
        // Anything the scan did not place (it stops at a damaged chunk header).
        if (!icc_seen) add_icc(info);
        if (!exif_seen) add_exif(info);
        while (next < count) add_text(texts[next++]);
    }

private:
    static uint32_t chunk_type(const png_text& text) {
        if (text.compression == PNG_TEXT_COMPRESSION_NONE) return ktEXt;
        if (text.compression == PNG_TEXT_COMPRESSION_zTXt) return kzTXt;
        return kiTXt;
    }

    void add_icc(png_infop info) {
        png_charp name = nullptr;
        int compression = 0;
        png_bytep profile = nullptr;
        png_uint_32 size = 0;
        if (have_icc_ || png_get_iCCP(png_, info, &name, &compression, &profile, &size) == 0 ||
            name == nullptr || profile == nullptr || size == 0 || !is_png_keyword(name)) {
            return;
        }
        out_.push_back({kMetadataIcc, name, std::vector<uint8_t>(profile, profile + size)});
        have_icc_ = true;
    }

    void add_exif(png_infop info) {
        png_uint_32 size = 0;
        png_bytep exif = nullptr;
        if (have_exif_ || png_get_eXIf_1(png_, info, &size, &exif) == 0 || exif == nullptr ||
            !is_tiff_header(exif, size)) {
            return;
        }
        out_.push_back({kMetadataExif, std::string(), std::vector<uint8_t>(exif, exif + size)});
        have_exif_ = true;
    }

    void add_text(const png_text& text) {
        if (text.key == nullptr || !is_png_keyword(text.key)) return;  // tEXt keys are not checked by libpng
        const char* body = text.text != nullptr ? text.text : "";
        Metadata item;
        if (text.compression == PNG_ITXT_COMPRESSION_NONE ||
            text.compression == PNG_ITXT_COMPRESSION_zTXt) {
            const size_t size = std::strlen(body);
            // iTXt is UTF-8 by definition; the text of one that is not is lost.
            if (!is_utf8(reinterpret_cast<const uint8_t*>(body), size)) return;
            item.data.assign(body, body + size);
            if (std::strcmp(text.key, kXmpKeyword) == 0) {
                item.kind = kMetadataXmp;
            } else {
                item.kind = kMetadataText;
                item.key = text.key;
            }
        } else {
            latin1_to_utf8(body, std::strlen(body), item.data);
            item.kind = kMetadataText;
            item.key = text.key;
        }
        out_.push_back(std::move(item));
    }

    png_structp png_;
    const std::vector<ChunkRef>& order_;
    std::vector<Metadata>& out_;
    bool have_icc_ = false;   // at most one of each per image, as in PNG
    bool have_exif_ = false;
};

// No exception leaves: false means out of memory.
bool collect_metadata(png_structp png, png_infop info, png_infop end_info,
                      const std::vector<ChunkRef>& order, std::vector<Metadata>* out) noexcept {
    try {
        MetadataCollector collector(png, order, *out);
        collector.collect(info, false);
        collector.collect(end_info, true);
        return true;
    } catch (...) {
        out->clear();
        return false;
    }
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

// Result of reading the header, before pixel memory is allocated.
struct PngHeader {
    png_uint_32 width = 0;
    png_uint_32 height = 0;
    int bit_depth = 0;
    int color_type = 0;
    int interlace = 0;
    bool has_trns = false;
    size_t rowbytes = 0;
    uint32_t channels = 0;
};

// Stage of decode_png that failed, for the message.
enum class DecodeStage { kHeader, kTooDeep, kTooLarge, kNoMemory, kPixels, kDone };

// Reads the header, sets up the expansion transforms, then (if the header is
// acceptable) calls `alloc` to get the pixel buffer and row pointers, and
// reads the image. No C++ objects with destructors live in this frame.
DecodeStage decode_with_libpng(PngContext* ctx, PngHeader* hdr, Image* image,
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
    // Metadata chunks up to kMaxChunkRead (libpng's default, 8 MB, makes a
    // PNG with a larger XMP packet or profile unreadable).
    png_set_chunk_malloc_max(png, kMaxChunkRead);
    set_metadata_leniency(png);
    png_read_info(png, info);

    hdr->width = png_get_image_width(png, info);
    hdr->height = png_get_image_height(png, info);
    hdr->bit_depth = png_get_bit_depth(png, info);
    hdr->color_type = png_get_color_type(png, info);
    hdr->interlace = png_get_interlace_type(png, info);
    hdr->has_trns = png_get_valid(png, info, PNG_INFO_tRNS) != 0;

    if (hdr->bit_depth > 8) {
        png_destroy_read_struct(&png, &info, &end_info);
        return DecodeStage::kTooDeep;
    }
    if (uint64_t{hdr->width} * hdr->height > kMaxPixels) {
        png_destroy_read_struct(&png, &info, &end_info);
        return DecodeStage::kTooLarge;
    }
    // Room for libpng's row buffers (a few rows of at most 8 bytes a pixel),
    // whatever the metadata before IDAT used.
    {
        const uint64_t rows_room = 4 * (uint64_t{hdr->width} * 8 + 1024);
        const uint64_t limit = uint64_t{kLibpngBudget} + rows_room;
        ctx->memory_limit = limit < SIZE_MAX ? static_cast<size_t>(limit) : SIZE_MAX;
    }

    // Expand everything to 8-bit RGB or RGBA, losslessly.
    if (hdr->color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (hdr->color_type == PNG_COLOR_TYPE_GRAY && hdr->bit_depth < 8) {
        png_set_expand_gray_1_2_4_to_8(png);
    }
    if (hdr->has_trns) png_set_tRNS_to_alpha(png);
    if (hdr->color_type == PNG_COLOR_TYPE_GRAY || hdr->color_type == PNG_COLOR_TYPE_GRAY_ALPHA) {
        png_set_gray_to_rgb(png);
    }
    int passes = png_set_interlace_handling(png);
    (void)passes;
    png_read_update_info(png, info);

    hdr->channels = png_get_channels(png, info);
    hdr->rowbytes = png_get_rowbytes(png, info);
    if (png_get_bit_depth(png, info) != 8 || (hdr->channels != 3 && hdr->channels != 4) ||
        hdr->rowbytes != size_t{hdr->width} * hdr->channels) {
        set_message(ctx, "unexpected pixel layout after expansion (libpng)");
        png_destroy_read_struct(&png, &info, &end_info);
        return DecodeStage::kPixels;
    }

    // Allocate (no exception may escape into libpng: we are between calls).
    bool allocated = true;
    try {
        image->width = hdr->width;
        image->height = hdr->height;
        image->channels = hdr->channels;
        image->pixels.assign(size_t{hdr->width} * hdr->height * hdr->channels, 0);
        rows->resize(hdr->height);
        for (png_uint_32 y = 0; y < hdr->height; ++y) {
            (*rows)[y] = image->pixels.data() + size_t{y} * hdr->rowbytes;
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
    const bool collected =
        collect_metadata(png, info, end_info, *ctx->chunk_order, &image->metadata);
    png_destroy_read_struct(&png, &info, &end_info);
    return collected ? DecodeStage::kDone : DecodeStage::kNoMemory;
}

bool encode_with_libpng(PngContext* ctx, const ImageView* image, int level,
                        std::vector<png_bytep>* rows) {
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, ctx, png_io_error,
                                              png_io_warning);
    if (!png) {
        set_message(ctx, "out of memory");
        return false;
    }
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, nullptr);
        set_message(ctx, "out of memory");
        return false;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return false;
    }
    png_set_write_fn(png, ctx, png_io_write, png_io_flush);
    // PNG allows 2^31 - 1 columns and rows; libpng refuses more than its
    // default limit of 1,000,000 on writing too (a 2^24 x 1 frame).
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    if (level >= 0) png_set_compression_level(png, level);
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
    std::vector<ChunkRef> chunk_order;
    try {
        chunk_order = scan_metadata_chunks(data, size);
    } catch (const std::bad_alloc&) {
        error = "out of memory decoding PNG";
        return false;
    }
    PngContext ctx;
    ctx.data = data;
    ctx.size = size;
    ctx.chunk_order = &chunk_order;
    PngHeader hdr;
    Image image;
    std::vector<png_bytep> rows;
    DecodeStage stage = decode_with_libpng(&ctx, &hdr, &image, &rows);
    switch (stage) {
        case DecodeStage::kDone:
            out = std::move(image);
            return true;
        case DecodeStage::kTooDeep:
            error = "16-bit PNG is not supported yet (QOHI stores 8-bit channels)";
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
