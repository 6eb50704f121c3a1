// CRC-32 (ISO-HDLC, the PNG/zlib polynomial 0xEDB88320, reflected) over record
// type and payload (spec §3.3).
#ifndef QOHI_CRC32_H
#define QOHI_CRC32_H

#include <cstddef>
#include <cstdint>

namespace qohi {

// Continue a CRC: crc32_update(0, ...) starts a new one.
uint32_t crc32_update(uint32_t crc, const uint8_t* data, size_t size);

}  // namespace qohi

#endif
