// Frame names of the index (spec §3.11, §13), kept as the index front-codes
// them rather than as full names.
//
// An index entry gives its name as `shared` bytes of the previous entry's
// name plus a suffix, so a 10-byte entry can describe a 65,535-byte name
// and the full names of a small hostile file can add up to thousands of
// times its size. This class keeps each entry's `shared` and suffix, checks
// every full name when the index is loaded without keeping it, and builds a
// name only when one is asked for.
//
// Bounds (n entries, S suffix bytes; an index entry takes at least 10 bytes,
// so 10n + S is at most the QIDX payload):
//  - Memory kept: 8 bytes per entry, the S suffix bytes, and the full names
//    of some entries ("checkpoints": at most 2n + S bytes with their NULs,
//    and 8 bytes each; see append()). Loading the index also uses one name
//    buffer (64 KiB at most).
//  - Loading: time proportional to the index, whatever the names.
//  - Building any name: fewer than 3 x 65,536 entry steps and bytes copied
//    (walking back to the nearest checkpoint, less than the sizes of the
//    name and the one before it); in an ordinary file, a few entries.
//  - find(): the first call hashes every name in O(index) time and keeps
//    16 bytes per named entry; each call then builds only the names whose
//    hash and size match.
//  - stable_name(): a checkpoint's name is returned in place; any other name
//    is built once and kept until the object is destroyed, as the C API
//    promises for qohi_frame_info.name. Only those names, asked for by the
//    caller, grow with the names' length.
#ifndef QOHI_INDEX_NAMES_H
#define QOHI_INDEX_NAMES_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace qohi {

class IndexNames {
public:
    void reserve(uint32_t entries) { entries_.reserve(entries); }
    uint32_t count() const { return static_cast<uint32_t>(entries_.size()); }
    // Size of the most recently appended name (0 before the first): the
    // largest `shared` the next entry may have.
    size_t last_size() const { return current_.size(); }

    // Appends the next entry's name: the first `shared` bytes (at most
    // last_size()) of the previous entry's name, then `suffix`; the full name
    // must not exceed 65,535 bytes. Returns false if the full name is not
    // UTF-8 without NUL (spec §3.8); the index is then rejected and this
    // object must not be used further. Every name appended before has passed
    // this check, which is what lets it look only at the junction (see the
    // .cc).
    bool append(size_t shared, const uint8_t* suffix, size_t suffix_size);
    // Releases what only loading needs; call once every entry is appended.
    void finish_loading();

    size_t name_size(uint32_t entry) const { return entries_[entry].shared + size_t(entries_[entry].suffix_size); }
    // Writes entry `entry`'s full name to `out`.
    void build(uint32_t entry, std::string& out) const;
    // The full name as a NUL-terminated string that stays valid as long as
    // this object.
    const char* stable_name(uint32_t entry);
    // The first entry whose name is `name` (spec §3.8: the lowest frame
    // number); the empty name is never found.
    bool find(const std::string& name, uint32_t& entry);

private:
    struct Entry {
        uint32_t suffix_offset;  // into suffixes_
        uint16_t shared;
        uint16_t suffix_size;
    };
    struct Checkpoint {
        uint32_t entry;
        uint32_t offset;  // into checkpoint_names_, where its name and a NUL are
    };
    struct Hashed {
        uint64_t hash;
        uint32_t entry;
        bool operator<(const Hashed& o) const { return hash != o.hash ? hash < o.hash : entry < o.entry; }
    };

    void hash_all_names();
    uint64_t hash_of(const uint8_t* bytes, size_t size) const;

    std::vector<Entry> entries_;
    std::vector<uint8_t> suffixes_;  // every entry's suffix, back to back
    std::vector<Checkpoint> checkpoints_;  // in entry order
    std::string checkpoint_names_;   // their full names, each followed by a NUL
    std::string current_;            // while loading: the last appended name
    uint64_t work_since_checkpoint_ = 0;
    std::vector<Hashed> by_hash_;  // find()'s table, built by its first call
    bool hashed_ = false;
    uint32_t hash_base_[2] = {0, 0};  // random, so that a file cannot be made of colliding names
    std::unordered_map<uint32_t, std::string> handed_out_;  // stable_name()s built on demand
};

}  // namespace qohi

#endif
