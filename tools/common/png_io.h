// PNG reading and writing for the QOHI tools, through libpng.
// Every 8-bit PNG colour type is accepted: grey, grey+alpha and palette images
// are expanded losslessly to RGB or RGBA; 16-bit images are refused.
//
// Metadata (ICC profile, EXIF, XMP, text) travels with the pixels; see
// Metadata below for what is kept and how it is written back.
#ifndef QOHI_TOOLS_PNG_IO_H
#define QOHI_TOOLS_PNG_IO_H

#include <qohi/qohi.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace qohi_tools {

// Metadata kinds: the library's qohi_metadata_kind.
constexpr uint32_t kMetadataIcc = QOHI_METADATA_ICC;    // key: profile name; data: the ICC profile, uncompressed
constexpr uint32_t kMetadataExif = QOHI_METADATA_EXIF;  // key: empty; data: EXIF, starting with the TIFF header
constexpr uint32_t kMetadataXmp = QOHI_METADATA_XMP;    // key: empty; data: the XMP packet, UTF-8
constexpr uint32_t kMetadataText = QOHI_METADATA_TEXT;  // key: PNG keyword (Latin-1 bytes); data: the text, UTF-8

// Largest metadata payload encode_png writes (the ICC profile, the EXIF, the
// XMP packet, a text as stored: Latin-1 for tEXt/zTXt). decode_png reads
// chunks up to 64 MiB, compressed or decompressed, so whatever encode_png
// writes reads back.
constexpr size_t kMaxMetadataSize = size_t{60} << 20;

// Most text and XMP items encode_png writes into one PNG: libpng's readers
// keep only the first 998 text chunks of a file.
constexpr size_t kMaxTextChunks = 998;

struct Metadata {
    uint32_t kind = 0;          // one of kMetadata*
    std::string key;            // see the kinds; empty for EXIF and XMP
    std::vector<uint8_t> data;  // see the kinds

    friend bool operator==(const Metadata& a, const Metadata& b) {
        return a.kind == b.kind && a.key == b.key && a.data == b.data;
    }
    friend bool operator!=(const Metadata& a, const Metadata& b) { return !(a == b); }
};

struct Image {
    uint32_t width = 0;
    uint32_t height = 0;
    uint32_t channels = 0;        // 3 (RGB) or 4 (RGBA)
    std::vector<uint8_t> pixels;  // width * height * channels, rows top to bottom
    // PNG metadata, in file order (decode_png) / in the order to write (encode_png).
    std::vector<Metadata> metadata;
};

// True if `key` is a valid PNG keyword, as written: 1-79 bytes of printable
// Latin-1 (0x21-0x7E, 0xA1-0xFF) and single spaces, no leading or trailing
// space. Text keywords and ICC profile names must be valid to be kept.
bool is_png_keyword(const std::string& key);

// Decode a PNG held in memory. On failure returns false and sets `error` to a
// one-line message (without the file name).
//
// Metadata collected into out.metadata, in file order (chunks after IDAT too):
//  - iCCP -> kMetadataIcc (profile decompressed, key = profile name);
//  - eXIf -> kMetadataExif (only if it starts with a TIFF header);
//  - tEXt, zTXt -> kMetadataText, the Latin-1 text converted to UTF-8;
//  - iTXt -> kMetadataText with the text as stored (UTF-8; language tag and
//    translated keyword are dropped), or kMetadataXmp for the keyword
//    "XML:com.adobe.xmp".
// At most one ICC and one EXIF item (the first). Malformed metadata chunks
// (bad CRC, invalid keyword or profile name, bad compressed stream, iTXt
// that is not UTF-8, profile libpng rejects, ...) are skipped silently: they
// never fail an otherwise readable image. (A chunk longer than 64 MiB still
// does: libpng refuses the file.) libpng's memory for one decode is bounded
// (512 MiB besides its row buffers): metadata beyond that is dropped too.
bool decode_png(const uint8_t* data, size_t size, Image& out, std::string& error);

// Encode `image` as PNG. `level` is the zlib level (-1 = libpng's default).
//
// Metadata is written before IDAT: ICC as iCCP, EXIF as eXIf, XMP as an
// uncompressed iTXt "XML:com.adobe.xmp"; text as tEXt when it converts to
// Latin-1 (code points 0x0A, 0x20-0x7E, 0xA0-0xFF) and is shorter than 1024
// bytes, as zTXt when Latin-1 and longer, otherwise as iTXt (compressed from
// 1024 bytes). libpng fixes the chunk order: iCCP, eXIf, then the text and
// XMP chunks in the order given.
// Items that cannot be written faithfully are skipped, never failing the
// image: a second ICC or EXIF, an invalid keyword or profile name, a profile
// libpng rejects (e.g. a grey profile on an RGB image), EXIF without a TIFF
// header, text or XMP that is not UTF-8 or contains a NUL byte, payloads over
// kMaxMetadataSize, text and XMP items beyond kMaxTextChunks, unknown kinds.
// If `skipped` is given, one line per skipped item is appended to it.
bool encode_png(const Image& image, int level, std::vector<uint8_t>& out, std::string& error,
                std::vector<std::string>* skipped = nullptr);

// An image whose pixels are held elsewhere (a buffer not zeroed first), for
// encode_png without a copy into an Image.
struct ImageView {
    uint32_t width = 0;
    uint32_t height = 0;
    uint32_t channels = 0;                          // 3 (RGB) or 4 (RGBA)
    const uint8_t* pixels = nullptr;                // width * height * channels bytes
    size_t size = 0;                                // bytes at `pixels`
    const std::vector<Metadata>* metadata = nullptr;  // nullptr: none
};
bool encode_png(const ImageView& image, int level, std::vector<uint8_t>& out, std::string& error,
                std::vector<std::string>* skipped = nullptr);

// The most bytes encode_png writes for a `width` x `height` image of
// `channels` with `metadata`: what it reserves for `out` up front.
uint64_t png_size_bound(uint32_t width, uint32_t height, uint32_t channels, const std::vector<Metadata>& metadata);

}  // namespace qohi_tools

#endif
