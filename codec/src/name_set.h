// The names a writer has given to frames and entries, so that it can refuse
// a second use of one (spec §3.8). A folder can hold hundreds of thousands
// of files, whose paths mostly repeat the one before, so names are kept as
// the index keeps them: each as the bytes it shares with the one before
// and the rest (front coding), every 16th in full. An open-addressing table
// of 8-byte slots finds them. A name costs the bytes it does not share with
// the one before plus about 14 to 24 (a hash-set node per name cost over 70
// plus the whole name).
#ifndef QOHI_NAME_SET_H
#define QOHI_NAME_SET_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
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
    // Names are stored in blocks of up to kBlock, each block within one
    // chunk, its first name in full. A name's record: varint (shared << 1 |
    // starts a block), varint suffix size, the suffix.
    static constexpr uint32_t kBlock = 16;
    static constexpr int kChunkBits = 20;
    // A slot: 0 if empty, else the top 16 bits of the name's hash, the
    // location of its block plus 1 (chunk number << kChunkBits | offset), and
    // its place in the block (4 bits).
    static constexpr int kTagShift = 48;
    static constexpr int kPlaceBits = 4;

    struct Chunk {
        std::unique_ptr<uint8_t[]> bytes;
        size_t size = 0, capacity = 0;
    };

    static uint64_t hash(std::string_view name);
    // Builds the name at `place` in the block at `location` into `out`.
    void build(uint64_t location, uint32_t place, std::string& out) const;
    // The slot holding `name`, or the empty slot where it would go.
    size_t find_slot(std::string_view name, uint64_t h) const;
    void grow_table();

    std::vector<Chunk> chunks_;
    std::vector<uint64_t> slots_;  // a power of two of them, at most 3/4 full
    size_t size_ = 0;
    std::string last_;            // the name inserted last
    uint64_t block_location_ = 0;  // of the block being filled
    uint32_t block_names_ = kBlock;  // names in it (kBlock: start another)
};

}  // namespace qohi

#endif
