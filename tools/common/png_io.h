// PNG reading and writing for the QOHI tools: libpng for the pixels, the
// chunks parsed here. A frame holds 8-bit RGB or RGBA: grey, grey+alpha,
// palette and low-depth images are expanded losslessly, and the PNG layout
// (colour type, bit depth, interlacing, palette, every ancillary chunk in
// order) is kept beside the pixels so that encode_png writes the same image
// file back (the compressed streams aside).
//
// Metadata hosts read (ICC profile, EXIF, XMP, text) is also kept as
// Metadata items; see decode_png and encode_png.
#ifndef QOHI_TOOLS_PNG_IO_H
#define QOHI_TOOLS_PNG_IO_H

#include <qohi/qohi.h>

#include <array>
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

// Largest metadata payload encode_png writes without a layout (the ICC
// profile, the EXIF, the XMP packet, a text as stored: Latin-1 for
// tEXt/zTXt), for readers with a limit on chunk sizes.
constexpr size_t kMaxMetadataSize = size_t{60} << 20;

// Most bytes of metadata items decode_png makes from one PNG (decompressed,
// text as UTF-8). Chunks beyond it stay in the layout without an item.
constexpr size_t kMaxInflatedMetadata = size_t{512} << 20;
// Largest item made from one chunk (the profile of an iCCP, a text as
// decompressed): a larger chunk stays in the layout as the PNG has it
// (compressed, or deflated by the layout, spec §3.9.1), so that a huge
// text is never stored inflated.
constexpr size_t kMaxInflatedItem = size_t{1} << 20;

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

// Where an ancillary chunk sits in the file.
enum PngPlacement : uint8_t {
    kBeforePalette = 0,  // after IHDR, before PLTE (before IDAT if there is no PLTE)
    kBeforeData = 1,     // after PLTE, before the first IDAT
    kAfterData = 2,      // after the last IDAT, before IEND
};

// One ancillary chunk of a PNG. Either its data as in the file (from_item
// false), or rebuilt from metadata item `item` of the same Image (spec
// §3.9.1, form 1): iCCP from an ICC item, eXIf from EXIF, tEXt and zTXt from
// text, iTXt from text or XMP with `itxt_compressed`, `language` and
// `translated` for the fields the item lacks.
struct PngChunk {
    std::array<uint8_t, 4> type{};
    uint8_t placement = kBeforePalette;
    bool from_item = false;
    std::vector<uint8_t> data;   // from_item false: the chunk data
    size_t item = 0;             // from_item true: index into Image::metadata
    uint8_t itxt_compressed = 0;  // iTXt from an item: the compression flag (0 or 1)
    std::string language;        // iTXt from an item: the language tag
    std::string translated;      // iTXt from an item: the translated keyword

    friend bool operator==(const PngChunk& a, const PngChunk& b) {
        return a.type == b.type && a.placement == b.placement && a.from_item == b.from_item &&
               a.data == b.data && a.item == b.item && a.itxt_compressed == b.itxt_compressed &&
               a.language == b.language && a.translated == b.translated;
    }
};

// What a PNG file is besides its pixels (spec §3.9.1). IHDR's other fields
// are the image's size and zeros; IDAT is the pixels, recompressed.
struct PngLayout {
    bool present = false;        // false: encode_png writes plain RGB/RGBA
    uint8_t color_type = 0;      // 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA
    uint8_t bit_depth = 8;       // 1, 2, 4 (grey, palette) or 8
    uint8_t interlace = 0;       // 0 none, 1 Adam7
    std::vector<uint8_t> palette;  // PLTE: 3 bytes an entry, at most 256 entries
    std::vector<PngChunk> chunks;  // in file order, placements non-decreasing

    friend bool operator==(const PngLayout& a, const PngLayout& b) {
        return a.present == b.present && a.color_type == b.color_type &&
               a.bit_depth == b.bit_depth && a.interlace == b.interlace &&
               a.palette == b.palette && a.chunks == b.chunks;
    }
    friend bool operator!=(const PngLayout& a, const PngLayout& b) { return !(a == b); }
};

struct Image {
    uint32_t width = 0;
    uint32_t height = 0;
    uint32_t channels = 0;        // 3 (RGB) or 4 (RGBA)
    std::vector<uint8_t> pixels;  // width * height * channels, rows top to bottom
    // PNG metadata, in file order (decode_png) / in the order to write (encode_png).
    std::vector<Metadata> metadata;
    // The source file's layout (decode_png), honoured by encode_png.
    PngLayout layout;
    // decode_png: empty if encode_png would write the file back the same
    // (the compressed streams aside); otherwise why not. Such a file should
    // be stored verbatim; pixels and metadata are still as decoded (no
    // layout).
    std::string not_exact;
};

// True if `key` is a valid PNG keyword, as written: 1-79 bytes of printable
// Latin-1 (0x21-0x7E, 0xA1-0xFF) and single spaces, no leading or trailing
// space. Text keywords and ICC profile names must be valid to be kept.
bool is_png_keyword(const std::string& key);

// Checks what encode_png and the pngc payload (spec §3.9.1) require of a
// layout, whatever its origin: colour type and bit depth PNG allows for 8-bit
// frames, interlace 0 or 1, a palette of whole entries (at most 256; at least
// one for palette images, none for grey ones), ancillary chunk types with
// placements in order, chunks from items that point at an item of a kind
// the chunk can be rebuilt from. False with `error` if not.
bool check_png_layout(const PngLayout& layout, const std::vector<Metadata>& items, std::string& error);

// True if `layout` is what encode_png writes without one for an image of
// `channels`: 8-bit RGB (3) or RGBA (4), not interlaced, no palette, no
// ancillary chunks. Such a layout is not stored (spec §3.9.1).
bool is_plain_layout(const PngLayout& layout, uint32_t channels);

// Decode a PNG held in memory. On failure returns false and sets `error` to a
// one-line message (without the file name). Broken files (bad signature,
// truncated, a critical chunk with a bad CRC, what libpng refuses) fail.
//
// A file the layout cannot reproduce sets `out.not_exact` (and no layout).
// With 16-bit samples decode_png fails (there are no 8-bit pixels) with
// out.not_exact set to the error. Otherwise it succeeds for: bytes after
// IEND, an ancillary chunk with a bad CRC or before IHDR, a chunk between
// two IDAT chunks, PLTE in a grey image, an invalid or second one, a palette
// index past the palette, a palette entry used by the image whose colour
// (with its tRNS alpha) an earlier entry has too. Otherwise out.layout holds
// the colour type, bit depth, interlacing, PLTE and every ancillary chunk
// (tRNS included).
//
// Pixels: grey samples are scaled to 8 bits (v * 255 / (2^depth - 1)) and
// copied to R, G and B; palette indices take their PLTE colour. A valid tRNS
// before IDAT (grey or RGB key of the right size; palette: 1 to
// min(entries, 2^depth) alphas after PLTE) gives RGBA, as do the alpha
// colour types.
//
// Metadata collected into out.metadata, in file order (chunks after IDAT too):
//  - iCCP -> kMetadataIcc (profile decompressed, key = profile name), the
//    first before PLTE and IDAT whose profile has a valid ICC header for the
//    colour type;
//  - eXIf -> kMetadataExif (the first, if it starts with a TIFF header);
//  - tEXt, zTXt -> kMetadataText, the Latin-1 text converted to UTF-8;
//  - iTXt -> kMetadataText with the text as stored (UTF-8; language tag and
//    translated keyword are in the layout), or kMetadataXmp for the keyword
//    "XML:com.adobe.xmp".
// Chunks that are malformed as metadata (invalid keyword, bad compressed
// stream, NUL in a text, iTXt that is not UTF-8, ...) give no item but stay
// in the layout as they are. Decompressed items total at most
// kMaxInflatedMetadata: chunks beyond that give no item either.
bool decode_png(const uint8_t* data, size_t size, Image& out, std::string& error);

// Encode `image` as PNG. `level` is the zlib level (-1 = libpng's default).
//
// With a layout (image.layout.present): IHDR with the layout's colour type,
// bit depth and interlacing, the chunks before PLTE, PLTE, the chunks before
// IDAT, IDAT, the chunks after it, IEND. The pixels are converted back to
// the layout's samples (grey: R = G = B; palette: the first entry of that
// colour; alpha only where the layout has it, a tRNS key for alpha 0); a
// pixel that does not convert exactly, a chunk that cannot be rebuilt from
// its item (wrong kind, text that is not Latin-1 for tEXt/zTXt) or channels
// that do not fit the layout fail the encode. `skipped` stays empty.
//
// Without a layout: 8-bit RGB or RGBA with the metadata items written before
// IDAT: ICC as iCCP, EXIF as eXIf, XMP as an
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
    const PngLayout* layout = nullptr;                // nullptr (or not present): plain RGB/RGBA
};
bool encode_png(const ImageView& image, int level, std::vector<uint8_t>& out, std::string& error,
                std::vector<std::string>* skipped = nullptr);

// The most bytes encode_png writes for a `width` x `height` image of
// `channels` with `metadata`: what it reserves for `out` up front.
uint64_t png_size_bound(uint32_t width, uint32_t height, uint32_t channels, const std::vector<Metadata>& metadata);

}  // namespace qohi_tools

#endif
