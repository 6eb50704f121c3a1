// fuzz_decode: qohi_decode() of arbitrary bytes (the first frame of a file).
//
// Input: a .qohi file (record CRCs are repaired first, see fuzz_common.h).
// Checks: no crash, leak or undefined behaviour; only documented statuses;
// a decoded frame is within the pixel limit and has a sane header; decoding
// it again as RGBA (or RGB) gives the same pixels with alpha added (or
// dropped, or a refusal when the frame has transparent pixels).
#include "fuzz_common.h"

using qohi_fuzz::check_error;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::vector<uint8_t> buf(data, data + size);
    qohi_fuzz::repair_crcs(buf);
    qohi_fuzz::maybe_dump(buf);

    qohi_read_options options;
    qohi_read_options_init(&options);
    options.max_pixels = qohi_fuzz::kMaxPixels;
    options.cache_bytes = 1 << 20;

    qohi_error error;
    void* pixels = nullptr;
    qohi_frame_info info;
    const qohi_status s = qohi_decode(buf.data(), buf.size(), &options, 0, &pixels, &info, &error);
    check_error(s, error);
    if (s != QOHI_OK) {
        QOHI_FUZZ_CHECK(pixels == nullptr);
        return 0;
    }
    QOHI_FUZZ_CHECK(pixels != nullptr);
    QOHI_FUZZ_CHECK(info.width > 0 && info.height > 0);
    QOHI_FUZZ_CHECK(uint64_t(info.width) * info.height <= qohi_fuzz::kMaxPixels);
    QOHI_FUZZ_CHECK(info.channels == 3 || info.channels == 4);
    QOHI_FUZZ_CHECK(info.bit_depth == 8);
    QOHI_FUZZ_CHECK(info.method == QOHI_METHOD_STORED || info.method == QOHI_METHOD_QOHI ||
                    info.method == QOHI_METHOD_DICI);
    QOHI_FUZZ_CHECK(info.reference == -1 && info.depth == 0);  // the first frame has no reference
    QOHI_FUZZ_CHECK(info.name != nullptr && info.name_size == 0);
    const size_t count = size_t(info.width) * info.height;
    const uint8_t* native = static_cast<const uint8_t*>(pixels);

    // The other layout: RGB frames as RGBA, RGBA frames as RGB.
    const uint32_t other = info.channels == 3 ? 4 : 3;
    void* converted = nullptr;
    const qohi_status s2 = qohi_decode(buf.data(), buf.size(), &options, other, &converted, nullptr, &error);
    check_error(s2, error);
    bool opaque = true;
    for (size_t i = 0; info.channels == 4 && i < count; ++i) opaque &= native[4 * i + 3] == 0xFF;
    if (other == 3 && !opaque) {
        QOHI_FUZZ_CHECK(s2 == QOHI_ERROR_INVALID_ARGUMENT);
    } else {
        QOHI_FUZZ_CHECK(s2 == QOHI_OK);
        const uint8_t* c = static_cast<const uint8_t*>(converted);
        for (size_t i = 0; i < count; ++i) {
            const uint8_t* a = native + i * info.channels;
            const uint8_t* b = c + i * other;
            QOHI_FUZZ_CHECK(a[0] == b[0] && a[1] == b[1] && a[2] == b[2]);
            if (other == 4) QOHI_FUZZ_CHECK(b[3] == 0xFF);
        }
    }
    qohi_free(converted);
    qohi_free(pixels);
    return 0;
}
