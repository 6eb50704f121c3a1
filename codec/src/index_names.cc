#include "index_names.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <random>

#include "container.h"

namespace qohi {
namespace {

// find() hashes names with two polynomial hashes modulo these primes (below
// 2^31, so that every product fits in 64 bits), with bases drawn at random
// per object: names crafted to collide for one object do not for another.
constexpr uint64_t kHashPrimes[2] = {2147483647u, 2147483629u};

bool is_continuation(uint8_t byte) { return (byte & 0xC0) == 0x80; }

}  // namespace

bool IndexNames::append(size_t shared, const uint8_t* suffix, size_t suffix_size) {
    // The previous name is valid UTF-8 (it passed this check), so its bytes
    // before the sequence that holds its last shared byte are whole
    // sequences, and the §3.8 procedure on the new name goes through them
    // exactly as it did before. Only the rest needs checking: that
    // sequence's shared bytes (at most 4: a lead byte and continuation bytes)
    // followed by the suffix.
    size_t check_from = shared;
    if (shared > 0) {
        check_from = shared - 1;
        while (check_from > 0 && shared - check_from < 4 &&
               is_continuation(static_cast<uint8_t>(current_[check_from])))
            --check_from;
    }
    current_.resize(shared);
    current_.append(reinterpret_cast<const char*>(suffix), suffix_size);
    if (!is_valid_name(reinterpret_cast<const uint8_t*>(current_.data()) + check_from, current_.size() - check_from))
        return false;

    entries_.push_back({static_cast<uint32_t>(suffixes_.size()), static_cast<uint16_t>(shared),
                        static_cast<uint16_t>(suffix_size)});
    suffixes_.insert(suffixes_.end(), suffix, suffix + suffix_size);

    // A checkpoint keeps the full name so that building a later name can
    // stop there instead of walking back to the first entry. One is placed
    // once the entries since the last have cost (1 + suffix bytes each) at
    // least as much as the name to keep: the kept names then add up to at
    // most n + S bytes (plus a NUL each), and a name is built by walking
    // back fewer entries than that cost, which is less than the size of the
    // name before it. An empty name needs none: the next name shares
    // nothing with it, so no walk goes past it.
    work_since_checkpoint_ += 1 + suffix_size;
    if (!current_.empty() && work_since_checkpoint_ >= current_.size()) {
        checkpoints_.push_back({count() - 1, static_cast<uint32_t>(checkpoint_names_.size())});
        checkpoint_names_.append(current_);
        checkpoint_names_.push_back('\0');
        work_since_checkpoint_ = 0;
    }
    return true;
}

void IndexNames::finish_loading() {
    current_.clear();
    current_.shrink_to_fit();
    entries_.shrink_to_fit();
    suffixes_.shrink_to_fit();
    checkpoints_.shrink_to_fit();
    checkpoint_names_.shrink_to_fit();  // stable_name() hands out pointers into it from now on
}

void IndexNames::build(uint32_t entry, std::string& out) const {
    size_t need = name_size(entry);  // bytes [0, need) of the name are still to be filled
    out.resize(need);
    if (need == 0) return;
    // The last checkpoint at or before `entry`. There is one: the first
    // non-empty name shares nothing, so its entry became a checkpoint.
    auto cp = std::upper_bound(checkpoints_.begin(), checkpoints_.end(), entry,
                               [](uint32_t e, const Checkpoint& c) { return e < c.entry; });
    --cp;
    // Entry j's name is the first `shared` bytes of entry j - 1's, then its
    // suffix: going back, each entry supplies the bytes from its `shared`
    // on, and the earlier names the bytes before.
    for (uint32_t j = entry; j > cp->entry && need > 0; --j) {
        const Entry& e = entries_[j];
        if (e.shared < need) {
            std::memcpy(&out[e.shared], &suffixes_[e.suffix_offset], need - e.shared);
            need = e.shared;
        }
    }
    if (need > 0) std::memcpy(&out[0], &checkpoint_names_[cp->offset], need);
}

const char* IndexNames::stable_name(uint32_t entry) {
    if (name_size(entry) == 0) return "";
    auto cp = std::lower_bound(checkpoints_.begin(), checkpoints_.end(), entry,
                               [](const Checkpoint& c, uint32_t e) { return c.entry < e; });
    if (cp != checkpoints_.end() && cp->entry == entry) return &checkpoint_names_[cp->offset];
    auto it = handed_out_.find(entry);
    if (it == handed_out_.end()) {
        std::string name;
        build(entry, name);
        it = handed_out_.emplace(entry, std::move(name)).first;  // map nodes never move
    }
    return it->second.c_str();
}

uint64_t IndexNames::hash_of(const uint8_t* bytes, size_t size) const {
    uint64_t h[2] = {0, 0};
    for (size_t i = 0; i < size; ++i)
        for (int k = 0; k < 2; ++k) h[k] = (h[k] * hash_base_[k] + bytes[i] + 1) % kHashPrimes[k];
    return h[0] << 32 | h[1];
}

void IndexNames::hash_all_names() {
    uint64_t seed;
    try {
        std::random_device device;
        seed = uint64_t(device()) << 32 ^ device();
    } catch (...) {  // no entropy source: the clock still differs from run to run
        seed = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    }
    hash_base_[0] = static_cast<uint32_t>(256 + seed % (kHashPrimes[0] - 512));
    hash_base_[1] = static_cast<uint32_t>(256 + (seed >> 32) % (kHashPrimes[1] - 512));

    // The names in entry order, each from the one before (cut to `shared`,
    // append the suffix), with the hash of every prefix of the current name
    // kept, so that a name's hash costs its suffix only: O(index) in all.
    std::vector<uint32_t> prefix_hash[2];
    for (auto& p : prefix_hash) p.assign(1, 0);
    by_hash_.reserve(entries_.size());
    for (uint32_t i = 0; i < count(); ++i) {
        const Entry& e = entries_[i];
        for (int k = 0; k < 2; ++k) {
            std::vector<uint32_t>& p = prefix_hash[k];
            p.resize(size_t(e.shared) + 1);
            for (size_t b = 0; b < e.suffix_size; ++b) {
                const uint64_t next = p.back() * uint64_t(hash_base_[k]) + suffixes_[e.suffix_offset + b] + 1;
                p.push_back(static_cast<uint32_t>(next % kHashPrimes[k]));
            }
        }
        if (name_size(i) > 0) by_hash_.push_back({uint64_t(prefix_hash[0].back()) << 32 | prefix_hash[1].back(), i});
    }
    std::sort(by_hash_.begin(), by_hash_.end());
    hashed_ = true;
}

bool IndexNames::find(const std::string& name, uint32_t& entry) {
    if (name.empty() || name.size() > kMaxNameBytes) return false;
    if (!hashed_) hash_all_names();
    const uint64_t h = hash_of(reinterpret_cast<const uint8_t*>(name.data()), name.size());
    std::string candidate;
    for (auto it = std::lower_bound(by_hash_.begin(), by_hash_.end(), Hashed{h, 0});
         it != by_hash_.end() && it->hash == h; ++it) {
        if (name_size(it->entry) != name.size()) continue;
        build(it->entry, candidate);
        if (candidate == name) {
            entry = it->entry;  // equal hashes are in entry order: the first match is the lowest
            return true;
        }
    }
    return false;
}

}  // namespace qohi
