// Small files whose frames claim 2^28 pixels (16384 x 16384 RGB, QOHI
// method) but whose records or band layouts are broken, for the tests that
// check no pixel memory is allocated for them. Needs codec/src on the
// include path.
#ifndef QOHI_TEST_HOSTILE_FRAMES_H
#define QOHI_TEST_HOSTILE_FRAMES_H

#include <cstdint>
#include <vector>

#include "byte_io.h"
#include "container.h"

namespace qohi_test {

constexpr uint32_t kSide = 16384;  // 2^28 pixels, the default limit

struct HostileFrame {
    qohi::FrameHeader header;
    std::vector<uint8_t> fdat;
    bool bad_crc = false;
};

// A file of `frames` (2^28-pixel RGB QOHI frames unless changed), each FHDR
// then FDAT, with a valid index and trailer.
inline std::vector<uint8_t> hostile_file(const std::vector<HostileFrame>& frames) {
    std::vector<uint8_t> file(qohi::kSignature, qohi::kSignature + 8);
    std::vector<uint8_t> payload;
    qohi::FileHeader fh;
    fh.max_chain_depth = 16;
    qohi::encode_file_header(fh, payload);
    qohi::append_record(file, qohi::kTypeFileHeader, payload.data(), payload.size());
    std::vector<uint8_t> index;
    qohi::ByteWriter iw(index);
    iw.u32(static_cast<uint32_t>(frames.size()));
    uint64_t previous = 0;
    for (uint32_t i = 0; i < frames.size(); ++i) {
        const uint64_t offset = file.size();
        std::vector<uint8_t> fhdr;
        qohi::encode_frame_header(frames[i].header, i, fhdr);
        qohi::append_record(file, qohi::kTypeFrameHeader, fhdr.data(), fhdr.size());
        qohi::append_record(file, qohi::kTypeFrameData, frames[i].fdat.data(), frames[i].fdat.size());
        if (frames[i].bad_crc) file.back() ^= 1;
        qohi::encode_index_entry(frames[i].header, i, offset - previous, "", index);
        previous = offset;
    }
    qohi::Trailer t{file.size(), static_cast<uint32_t>(frames.size())};
    qohi::append_record(file, qohi::kTypeIndex, index.data(), index.size());
    payload.clear();
    qohi::encode_trailer(t, payload);
    qohi::append_record(file, qohi::kTypeTrailer, payload.data(), payload.size());
    return file;
}

inline HostileFrame frame(std::vector<uint8_t> fdat, bool bad_crc, uint32_t reference = qohi::kNoReference) {
    HostileFrame f;
    f.header.width = kSide;
    f.header.height = kSide;
    f.header.channels = 3;
    f.header.method = 1;
    f.header.reference = reference;
    f.fdat = std::move(fdat);
    f.bad_crc = bad_crc;
    return f;
}

// One band (band_rows = height, a 3-byte varint) and 4 KiB of garbage.
inline std::vector<uint8_t> one_band() {
    std::vector<uint8_t> fdat;
    qohi::ByteWriter w(fdat);
    w.varint(kSide);
    fdat.resize(fdat.size() + 4096, 0x5A);
    return fdat;
}

// band_rows = 1: 16383 band sizes, but only 4 KiB follow.
inline std::vector<uint8_t> short_band_table() {
    std::vector<uint8_t> fdat;
    qohi::ByteWriter w(fdat);
    w.varint(1);
    fdat.resize(fdat.size() + 4096, 1);
    return fdat;
}

}  // namespace qohi_test

#endif
