// PNG metadata (png_io.h) to and from the library's qohi_metadata records.
#ifndef QOHI_TOOLS_FRAME_METADATA_H
#define QOHI_TOOLS_FRAME_METADATA_H

#include <qohi/qohi.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "png_io.h"

namespace qohi_tools {

// Records pointing into `metadata`, which must outlive them. EXIF and XMP
// have no key (NULL), as the library expects.
inline std::vector<qohi_metadata> to_library_metadata(const std::vector<Metadata>& metadata) {
    std::vector<qohi_metadata> items;
    items.reserve(metadata.size());
    for (const Metadata& m : metadata) {
        qohi_metadata item{};
        item.kind = m.kind;
        item.key = m.key.empty() ? nullptr : m.key.c_str();
        item.data = m.data.data();
        item.size = m.data.size();
        items.push_back(item);
    }
    return items;
}

// Copies the library's records.
inline std::vector<Metadata> from_library_metadata(const qohi_metadata* items, size_t count) {
    std::vector<Metadata> metadata;
    metadata.reserve(count);
    for (size_t i = 0; i < count; ++i) {
        Metadata m;
        m.kind = items[i].kind;
        if (items[i].key) m.key = items[i].key;
        const auto* data = static_cast<const uint8_t*>(items[i].data);
        if (data && items[i].size) m.data.assign(data, data + items[i].size);
        metadata.push_back(std::move(m));
    }
    return metadata;
}

}  // namespace qohi_tools

#endif
