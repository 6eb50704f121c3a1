// PNG reading and writing for the QOHI tools, through libpng's classic API.
//
// libpng reports errors with longjmp. To keep that well defined in C++, the
// functions that call setjmp hold no C++ objects with destructors of their
// own: everything they touch lives in a context struct owned by the caller,
// and the libpng callbacks never throw.
#include "png_io.h"

#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>
#include <vector>

namespace qohi_tools {

namespace {

// Largest image decode_png accepts: 2^28 pixels (1 GiB as RGBA), the same as
// QOHI_DEFAULT_MAX_PIXELS.
constexpr uint64_t kMaxPixels = uint64_t{1} << 28;

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
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, ctx, png_io_error,
                                             png_io_warning);
    if (!png) return DecodeStage::kNoMemory;
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, nullptr, nullptr);
        return DecodeStage::kNoMemory;
    }
    volatile DecodeStage stage = DecodeStage::kHeader;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, nullptr);
        return stage;
    }
    png_set_read_fn(png, ctx, png_io_read);
    // Our own pixel limit (below) decides what is too large, not libpng's
    // default of 1,000,000 columns or rows.
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    png_read_info(png, info);

    hdr->width = png_get_image_width(png, info);
    hdr->height = png_get_image_height(png, info);
    hdr->bit_depth = png_get_bit_depth(png, info);
    hdr->color_type = png_get_color_type(png, info);
    hdr->interlace = png_get_interlace_type(png, info);
    hdr->has_trns = png_get_valid(png, info, PNG_INFO_tRNS) != 0;

    if (hdr->bit_depth > 8) {
        png_destroy_read_struct(&png, &info, nullptr);
        return DecodeStage::kTooDeep;
    }
    if (uint64_t{hdr->width} * hdr->height > kMaxPixels) {
        png_destroy_read_struct(&png, &info, nullptr);
        return DecodeStage::kTooLarge;
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
        png_destroy_read_struct(&png, &info, nullptr);
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
        png_destroy_read_struct(&png, &info, nullptr);
        return DecodeStage::kNoMemory;
    }

    stage = DecodeStage::kPixels;
    png_read_image(png, rows->data());
    png_read_end(png, nullptr);
    png_destroy_read_struct(&png, &info, nullptr);
    return DecodeStage::kDone;
}

bool encode_with_libpng(PngContext* ctx, const Image* image, int level,
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
    if (level >= 0) png_set_compression_level(png, level);
    png_set_IHDR(png, info, image->width, image->height, 8,
                 image->channels == 4 ? PNG_COLOR_TYPE_RGB_ALPHA : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
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
    PngContext ctx;
    ctx.data = data;
    ctx.size = size;
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

bool encode_png(const Image& image, int level, std::vector<uint8_t>& out, std::string& error) {
    out.clear();
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
    if (row_bytes * image.height != image.pixels.size()) {
        error = "cannot write PNG: pixel buffer has " + std::to_string(image.pixels.size()) +
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
    auto* base = const_cast<uint8_t*>(image.pixels.data());
    for (uint32_t y = 0; y < image.height; ++y) rows[y] = base + size_t{y} * row_bytes;

    PngContext ctx;
    ctx.out = &out;
    if (!encode_with_libpng(&ctx, &image, level, &rows)) {
        out.clear();
        error = ctx.out_of_memory ? "out of memory encoding PNG"
                                  : std::string("cannot write PNG: ") +
                                        (ctx.message[0] ? ctx.message : "unknown error");
        return false;
    }
    return true;
}

}  // namespace qohi_tools
