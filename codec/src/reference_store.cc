#include "reference_store.h"

#include <algorithm>

namespace qohi {

std::vector<const ReferenceStore::Stored*> ReferenceStore::candidates(uint32_t width, uint32_t height,
                                                                      uint32_t channels, const Signature& signature,
                                                                      uint32_t max_depth, size_t recent,
                                                                      size_t similar) const {
    std::vector<const Stored*> usable;
    for (const Stored& s : frames_)
        if (s.width == width && s.height == height && s.channels == channels && s.depth < max_depth)
            usable.push_back(&s);
    std::vector<const Stored*> out;
    // Newest first.
    for (size_t k = 0; k < recent && k < usable.size(); ++k) out.push_back(usable[usable.size() - 1 - k]);
    const size_t older = usable.size() - out.size();
    std::vector<std::pair<uint32_t, const Stored*>> by_distance;
    for (size_t k = 0; k < older; ++k)
        by_distance.emplace_back(signature_distance(signature, usable[k]->signature), usable[k]);
    const size_t take = std::min(similar, by_distance.size());
    std::partial_sort(by_distance.begin(), by_distance.begin() + long(take), by_distance.end(),
                      [](const auto& a, const auto& b) { return a.first < b.first; });
    for (size_t k = 0; k < take; ++k) out.push_back(by_distance[k].second);
    return out;
}

void ReferenceStore::add(Stored frame) {
    if (frame.pixels.size() > budget_) return;
    bytes_ += frame.pixels.size();
    frames_.push_back(std::move(frame));
    while (bytes_ > budget_) {
        bytes_ -= frames_.front().pixels.size();
        frames_.pop_front();
    }
}

}  // namespace qohi
