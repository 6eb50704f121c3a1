#include "name_set.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <new>

namespace qohi {
namespace {

constexpr uint64_t kTagMask = ~uint64_t(0) << 48;

size_t put_varint(uint8_t* p, size_t v) {
    size_t n = 0;
    for (; v >= 0x80; v >>= 7) p[n++] = uint8_t(v | 0x80);
    p[n++] = uint8_t(v);
    return n;
}

size_t get_varint(const uint8_t*& p) {
    size_t v = 0;
    for (int shift = 0;; shift += 7) {
        const uint8_t b = *p++;
        v |= size_t(b & 0x7f) << shift;
        if (!(b & 0x80)) return v;
    }
}

}  // namespace

uint64_t NameSet::hash(std::string_view name) { return std::hash<std::string_view>()(name); }

void NameSet::build(uint64_t location, uint32_t place, std::string& out) const {
    const Chunk& c = chunks_[size_t(location >> kChunkBits)];
    const uint8_t* p = c.bytes.get() + (location & ((uint64_t(1) << kChunkBits) - 1));
    out.clear();
    for (uint32_t i = 0; i <= place; ++i) {
        const size_t shared = get_varint(p) >> 1;
        const size_t suffix = get_varint(p);
        out.resize(shared);
        out.append(reinterpret_cast<const char*>(p), suffix);
        p += suffix;
    }
}

size_t NameSet::find_slot(std::string_view name, uint64_t h) const {
    const size_t mask = slots_.size() - 1;
    const uint64_t tag = h & kTagMask;
    std::string candidate;
    for (size_t i = size_t(h) & mask;; i = (i + 1) & mask) {
        const uint64_t s = slots_[i];
        if (s == 0) return i;
        if ((s & kTagMask) != tag) continue;
        const uint64_t rest = s & ~kTagMask;
        build((rest >> kPlaceBits) - 1, uint32_t(rest & ((1u << kPlaceBits) - 1)), candidate);
        if (candidate == name) return i;
    }
}

bool NameSet::contains(std::string_view name) const {
    return size_ > 0 && slots_[find_slot(name, hash(name))] != 0;
}

void NameSet::grow_table() {
    // Every name again, in the order inserted, into a table twice the size.
    std::vector<uint64_t> bigger(slots_.empty() ? 64 : slots_.size() * 2, 0);
    const size_t mask = bigger.size() - 1;
    std::string name;
    uint64_t block = 0;
    uint32_t place = 0;
    for (size_t k = 0; k < chunks_.size(); ++k) {
        const uint8_t* start = chunks_[k].bytes.get();
        for (const uint8_t* p = start; p < start + chunks_[k].size;) {
            const uint64_t location = uint64_t(k) << kChunkBits | uint64_t(p - start);
            const size_t head = get_varint(p);
            const size_t suffix = get_varint(p);
            if (head & 1) {
                block = location;
                place = 0;
            } else {
                ++place;
            }
            name.resize(head >> 1);
            name.append(reinterpret_cast<const char*>(p), suffix);
            p += suffix;
            const uint64_t h = hash(name);
            size_t i = size_t(h) & mask;
            while (bigger[i] != 0) i = (i + 1) & mask;
            bigger[i] = (h & kTagMask) | (block + 1) << kPlaceBits | place;
        }
    }
    slots_.swap(bigger);
}

void NameSet::insert(std::string_view name) {
    if ((size_ + 1) * 4 > slots_.size() * 3) grow_table();
    size_t shared = 0;
    if (block_names_ < kBlock) {
        const size_t most = std::min(name.size(), last_.size());
        while (shared < most && name[shared] == last_[shared]) ++shared;
    }
    // A record is at most 3 + 3 + 65,535 bytes. Chunks start small (a writer
    // of one image needs little) and grow to 1 MiB; a block never straddles two.
    size_t need = 6 + name.size() - shared;
    if (chunks_.empty() || chunks_.back().capacity - chunks_.back().size < need) {
        const size_t max_chunk = size_t(1) << kChunkBits;
        const size_t want = chunks_.empty() ? 4096 : std::min(max_chunk, chunks_.back().capacity * 2);
        if (uint64_t(chunks_.size() + 1) << kChunkBits >= uint64_t(1) << (kTagShift - kPlaceBits))
            throw std::bad_alloc();
        Chunk c;
        c.capacity = std::max(want, 6 + name.size());
        c.bytes.reset(new uint8_t[c.capacity]);
        chunks_.push_back(std::move(c));
        block_names_ = kBlock;  // the block goes on in no other chunk
        shared = 0;
    }
    // What may throw comes before the record is written.
    last_.reserve(name.size());
    const uint64_t h = hash(name);
    const size_t slot = find_slot(name, h);
    Chunk& c = chunks_.back();
    const uint64_t location = uint64_t(chunks_.size() - 1) << kChunkBits | c.size;
    const bool starts_block = block_names_ == kBlock;
    if (starts_block) {
        block_location_ = location;
        block_names_ = 0;
        shared = 0;
    }
    uint8_t* p = c.bytes.get() + c.size;
    p += put_varint(p, shared << 1 | (starts_block ? 1 : 0));
    p += put_varint(p, name.size() - shared);
    if (name.size() > shared) std::memcpy(p, name.data() + shared, name.size() - shared);
    p += name.size() - shared;
    c.size = size_t(p - c.bytes.get());
    slots_[slot] = (h & kTagMask) | (block_location_ + 1) << kPlaceBits | block_names_;
    ++block_names_;
    last_.assign(name.data(), name.size());
    ++size_;
}

}  // namespace qohi
