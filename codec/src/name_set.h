// The names a writer has given to frames and entries, so that it can refuse
// a second use of one (spec §3.8). A folder can hold hundreds of thousands
// of files, so each name costs its bytes plus about 12 to 24: the names lie
// back to back in chunks, and an open-addressing table of 8-byte slots finds
// them (a hash-set node per name would cost over 70 bytes).
#ifndef QOHI_NAME_SET_H
#define QOHI_NAME_SET_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace qohi {

class NameSet {
public:
    // Names are at most 65,535 bytes (kMaxNameBytes).
    bool contains(std::string_view name) const;
    // Adds a name not yet contained. May throw std::bad_alloc.
    void insert(std::string_view name);
    size_t size() const { return size_; }

private:
    // A slot: 0 if empty, else the top 16 bits of the name's hash, then the
    // name's location plus 1 (chunk number << kChunkBits | offset).
    static constexpr int kChunkBits = 20;
    static constexpr int kTagShift = 48;
    static constexpr uint64_t kLocationMask = (uint64_t(1) << kTagShift) - 1;

    struct Chunk {
        std::unique_ptr<uint8_t[]> bytes;  // each name: its size (2 bytes), then its bytes
        size_t size = 0, capacity = 0;
    };

    static uint64_t hash(std::string_view name);
    std::string_view name_at(uint64_t location) const;
    // The slot holding `name`, or the empty slot where it would go.
    size_t find_slot(std::string_view name, uint64_t h) const;
    void grow_table();

    std::vector<Chunk> chunks_;
    std::vector<uint64_t> slots_;  // a power of two of them, at most 3/4 full
    size_t size_ = 0;
};

}  // namespace qohi

#endif
