// PNG metadata and layout (png_io.h) to and from the library's qohi_metadata
// records, and the payload of the pngc record (spec §3.9.1).
#ifndef QOHI_TOOLS_FRAME_METADATA_H
#define QOHI_TOOLS_FRAME_METADATA_H

#include <qohi/qohi.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "png_io.h"

namespace qohi_tools {

// The records for a frame of `image`: its metadata items in order (EXIF and
// XMP without a key, as the library expects), then, if it has a layout, one
// QOHI_METADATA_PNG record whose payload is written to `pngc`. The records
// point into `image` and `pngc`, which must outlive them and not change.
std::vector<qohi_metadata> to_library_metadata(const Image& image, std::vector<uint8_t>& pngc);

// The inverse: image.metadata gets a copy of every record but the
// QOHI_METADATA_PNG one, in order, and image.layout is read from that one
// (empty without). A malformed payload, or a second one, returns false with
// `error`; image.metadata is set all the same and image.layout is empty.
bool from_library_metadata(const qohi_metadata* items, size_t count, Image& image, std::string& error);

// The pngc payload of a layout, and back. decode_png_layout checks the
// payload's structure and then check_png_layout() against `items`.
void encode_png_layout(const PngLayout& layout, std::vector<uint8_t>& payload);
bool decode_png_layout(const uint8_t* payload, size_t size, const std::vector<Metadata>& items,
                       PngLayout& layout, std::string& error);

}  // namespace qohi_tools

#endif
