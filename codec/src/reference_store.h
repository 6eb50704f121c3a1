// Reference choice for a streaming writer (QOHI_REFERENCE_AUTO): earlier
// frames are kept, within a memory budget, together with their signatures;
// a new frame is compared with the most recent ones and with the ones whose
// signatures are closest, and the exact candidates are scored by the caller.
#ifndef QOHI_REFERENCE_STORE_H
#define QOHI_REFERENCE_STORE_H

#include <cstdint>
#include <deque>
#include <vector>

#include "signature.h"

namespace qohi {

class ReferenceStore {
public:
    explicit ReferenceStore(uint64_t budget_bytes) : budget_(budget_bytes) {}

    struct Stored {
        uint32_t frame;
        uint32_t width, height, channels;
        uint32_t depth;
        Signature signature;
        std::vector<uint8_t> pixels;  // packed
    };

    // Frames of the same size and channels with depth < max_depth: the
    // `recent` newest and the `similar` with the closest signatures.
    std::vector<const Stored*> candidates(uint32_t width, uint32_t height, uint32_t channels,
                                          const Signature& signature, uint32_t max_depth, size_t recent,
                                          size_t similar) const;

    // Keeps a copy of a frame; drops the oldest frames beyond the budget.
    void add(Stored frame);

private:
    uint64_t budget_;
    uint64_t bytes_ = 0;
    std::deque<Stored> frames_;  // oldest first
};

}  // namespace qohi

#endif
