#include "name_set.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <new>

namespace qohi {

uint64_t NameSet::hash(std::string_view name) { return std::hash<std::string_view>()(name); }

std::string_view NameSet::name_at(uint64_t location) const {
    const Chunk& c = chunks_[size_t(location >> kChunkBits)];
    const uint8_t* p = c.bytes.get() + (location & ((uint64_t(1) << kChunkBits) - 1));
    const size_t n = size_t(p[0]) | size_t(p[1]) << 8;
    return std::string_view(reinterpret_cast<const char*>(p + 2), n);
}

size_t NameSet::find_slot(std::string_view name, uint64_t h) const {
    const size_t mask = slots_.size() - 1;
    const uint64_t tag = h >> kTagShift;
    for (size_t i = size_t(h) & mask;; i = (i + 1) & mask) {
        const uint64_t s = slots_[i];
        if (s == 0) return i;
        if (s >> kTagShift == tag && name_at((s & kLocationMask) - 1) == name) return i;
    }
}

bool NameSet::contains(std::string_view name) const {
    return size_ > 0 && slots_[find_slot(name, hash(name))] != 0;
}

void NameSet::grow_table() {
    std::vector<uint64_t> bigger(slots_.empty() ? 64 : slots_.size() * 2, 0);
    const size_t mask = bigger.size() - 1;
    for (const uint64_t s : slots_) {
        if (s == 0) continue;
        size_t i = size_t(hash(name_at((s & kLocationMask) - 1))) & mask;
        while (bigger[i] != 0) i = (i + 1) & mask;
        bigger[i] = s;
    }
    slots_.swap(bigger);
}

void NameSet::insert(std::string_view name) {
    if ((size_ + 1) * 4 > slots_.size() * 3) grow_table();
    // Chunks start small (a writer of one image needs little) and grow to
    // 1 MiB; a name never straddles two.
    const size_t need = 2 + name.size();
    if (chunks_.empty() || chunks_.back().capacity - chunks_.back().size < need) {
        const size_t max_chunk = size_t(1) << kChunkBits;
        const size_t want = chunks_.empty() ? 4096 : std::min(max_chunk, chunks_.back().capacity * 2);
        if ((uint64_t(chunks_.size()) + 1) << kChunkBits >= kLocationMask) throw std::bad_alloc();
        Chunk c;
        c.capacity = std::max(want, need);
        c.bytes.reset(new uint8_t[c.capacity]);
        chunks_.push_back(std::move(c));
    }
    Chunk& c = chunks_.back();
    const uint64_t location = uint64_t(chunks_.size() - 1) << kChunkBits | c.size;
    uint8_t* p = c.bytes.get() + c.size;
    p[0] = uint8_t(name.size());
    p[1] = uint8_t(name.size() >> 8);
    if (!name.empty()) std::memcpy(p + 2, name.data(), name.size());
    c.size += need;
    const uint64_t h = hash(name);
    slots_[find_slot(name, h)] = (h >> kTagShift) << kTagShift | (location + 1);
    ++size_;
}

}  // namespace qohi
