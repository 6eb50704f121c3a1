// PNG reading and writing for the QOHI tools, through libpng.
// Every 8-bit PNG colour type is accepted: grey, grey+alpha and palette images
// are expanded losslessly to RGB or RGBA; 16-bit images are refused.
#ifndef QOHI_TOOLS_PNG_IO_H
#define QOHI_TOOLS_PNG_IO_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace qohi_tools {

struct Image {
    uint32_t width = 0;
    uint32_t height = 0;
    uint32_t channels = 0;        // 3 (RGB) or 4 (RGBA)
    std::vector<uint8_t> pixels;  // width * height * channels, rows top to bottom
};

// Decode a PNG held in memory. On failure returns false and sets `error` to a
// one-line message (without the file name).
bool decode_png(const uint8_t* data, size_t size, Image& out, std::string& error);

// Encode `image` as PNG. `level` is the zlib level (-1 = libpng's default).
bool encode_png(const Image& image, int level, std::vector<uint8_t>& out, std::string& error);

}  // namespace qohi_tools

#endif
