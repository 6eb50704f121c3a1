#include "huffman.h"

#include <algorithm>

namespace qohi {
namespace {

// Code-length code (spec: "Code tables"): symbols 0..12 are lengths, 13
// repeats the previous length 3-6 times, 14 and 15 are runs of zeros.
constexpr unsigned kLengthAlphabet = 16;
constexpr unsigned kLengthCodeMax = 7;
constexpr unsigned kRepeatPrevious = 13;  // 2 extra bits: 3..6
constexpr unsigned kZerosShort = 14;      // 3 extra bits: 3..10
constexpr unsigned kZerosLong = 15;       // 7 extra bits: 11..138

uint16_t reverse_bits(uint32_t code, unsigned length) {
    uint32_t r = 0;
    for (unsigned i = 0; i < length; ++i) r |= ((code >> i) & 1u) << (length - 1 - i);
    return static_cast<uint16_t>(r);
}

// Canonical code of every symbol (not reversed), as in RFC 1951 3.2.2.
std::vector<uint32_t> canonical_codes(const uint8_t* lengths, unsigned n) {
    uint32_t count[kMaxCodeLength + 2] = {};
    for (unsigned s = 0; s < n; ++s) count[lengths[s]]++;
    count[0] = 0;
    uint32_t next[kMaxCodeLength + 2] = {};
    uint32_t code = 0;
    for (unsigned len = 1; len <= kMaxCodeLength; ++len) {
        code = (code + count[len - 1]) << 1;
        next[len] = code;
    }
    std::vector<uint32_t> codes(n, 0);
    for (unsigned s = 0; s < n; ++s)
        if (lengths[s]) codes[s] = next[lengths[s]]++;
    return codes;
}

}  // namespace

std::vector<uint8_t> build_code_lengths(const uint32_t* counts, unsigned n, unsigned max_length) {
    std::vector<uint8_t> lengths(n, 0);
    std::vector<unsigned> used;
    for (unsigned s = 0; s < n; ++s)
        if (counts[s]) used.push_back(s);
    if (used.empty()) return lengths;
    if (used.size() == 1) {
        lengths[used[0]] = 1;
        return lengths;
    }

    // Huffman code depths by the two-queue method over the symbols sorted by
    // count (ties by symbol number, so the result is deterministic).
    std::sort(used.begin(), used.end(), [&](unsigned a, unsigned b) {
        return counts[a] != counts[b] ? counts[a] < counts[b] : a < b;
    });
    const unsigned leaves = static_cast<unsigned>(used.size());
    std::vector<uint64_t> weight(2 * leaves - 1);
    std::vector<unsigned> parent(2 * leaves - 1, 0);
    for (unsigned i = 0; i < leaves; ++i) weight[i] = counts[used[i]];
    unsigned next_leaf = 0, next_inner = leaves, inner_end = leaves;
    auto take_smallest = [&]() {
        if (next_leaf < leaves && (next_inner == inner_end || weight[next_leaf] <= weight[next_inner]))
            return next_leaf++;
        return next_inner++;
    };
    for (; inner_end < 2 * leaves - 1; ++inner_end) {
        const unsigned a = take_smallest();
        const unsigned b = take_smallest();
        weight[inner_end] = weight[a] + weight[b];
        parent[a] = parent[b] = inner_end;
    }
    const unsigned root = 2 * leaves - 2;
    std::vector<unsigned> depth(2 * leaves - 1, 0);
    for (unsigned id = root; id-- > 0;) depth[id] = depth[parent[id]] + 1;

    // How many codes of each length; lengths over the limit are clamped and
    // the Kraft sum repaired by splitting shorter codes (as in miniz).
    std::vector<uint32_t> per_length(std::max(max_length, 64u) + 1, 0);
    for (unsigned i = 0; i < leaves; ++i) per_length[std::min<unsigned>(depth[i], 64)]++;
    for (unsigned len = max_length + 1; len < per_length.size(); ++len) {
        per_length[max_length] += per_length[len];
        per_length[len] = 0;
    }
    uint64_t kraft = 0;
    for (unsigned len = 1; len <= max_length; ++len) kraft += uint64_t(per_length[len]) << (max_length - len);
    while (kraft > (uint64_t(1) << max_length)) {
        per_length[max_length]--;
        for (unsigned len = max_length - 1; len > 0; --len) {
            if (per_length[len]) {
                per_length[len]--;
                per_length[len + 1] += 2;
                break;
            }
        }
        kraft--;
    }

    // Shortest codes to the most frequent symbols (`used` is in ascending
    // count order).
    unsigned k = leaves;
    for (unsigned len = 1; len <= max_length; ++len)
        for (uint32_t c = 0; c < per_length[len]; ++c) lengths[used[--k]] = static_cast<uint8_t>(len);
    return lengths;
}

uint64_t EncodeTable::cost(const uint32_t* counts) const {
    uint64_t bits = 0;
    for (size_t s = 0; s < length.size(); ++s) bits += uint64_t(counts[s]) * length[s];
    return bits;
}

EncodeTable make_encode_table(const std::vector<uint8_t>& lengths) {
    const unsigned n = static_cast<unsigned>(lengths.size());
    EncodeTable t;
    t.code.assign(n, 0);
    t.length.assign(n, 0);
    unsigned used = 0;
    for (uint8_t l : lengths) used += l != 0;
    t.empty = used == 0;
    if (used <= 1) return t;  // a table's only symbol costs zero bits
    std::vector<uint32_t> codes = canonical_codes(lengths.data(), n);
    for (unsigned s = 0; s < n; ++s) {
        t.length[s] = lengths[s];
        t.code[s] = reverse_bits(codes[s], lengths[s]);
    }
    return t;
}

void write_code_table(BitWriter& out, const std::vector<uint8_t>& lengths) {
    const size_t n = lengths.size();
    bool any = false;
    for (uint8_t l : lengths) any |= l != 0;
    out.put(any ? 1 : 0, 1);
    if (!any) return;

    struct Item {
        uint8_t symbol;
        uint8_t extra_bits;
        uint8_t extra;
    };
    std::vector<Item> items;
    for (size_t i = 0; i < n;) {
        const uint8_t len = lengths[i];
        size_t run = 1;
        while (i + run < n && lengths[i + run] == len) ++run;
        if (len == 0) {
            if (run >= 11) {
                size_t r = std::min<size_t>(run, 138);
                items.push_back({kZerosLong, 7, uint8_t(r - 11)});
                i += r;
            } else if (run >= 3) {
                items.push_back({kZerosShort, 3, uint8_t(run - 3)});
                i += run;
            } else {
                items.push_back({0, 0, 0});
                i += 1;
            }
            continue;
        }
        items.push_back({len, 0, 0});
        i += 1;
        --run;
        while (run >= 3) {
            size_t r = std::min<size_t>(run, 6);
            items.push_back({kRepeatPrevious, 2, uint8_t(r - 3)});
            i += r;
            run -= r;
        }
    }

    uint32_t counts[kLengthAlphabet] = {};
    for (const Item& it : items) counts[it.symbol]++;
    std::vector<uint8_t> pre_lengths = build_code_lengths(counts, kLengthAlphabet, kLengthCodeMax);
    EncodeTable pre = make_encode_table(pre_lengths);
    for (unsigned s = 0; s < kLengthAlphabet; ++s) out.put(pre_lengths[s], 3);
    for (const Item& it : items) {
        out.put(pre.code[it.symbol], pre.length[it.symbol]);
        if (it.extra_bits) out.put(it.extra, it.extra_bits);
    }
}

Status DecodeTable::build(const uint8_t* lengths, unsigned n, unsigned max_length) {
    present_.assign(n, 0);
    unsigned used = 0, longest = 0, only = 0;
    uint64_t kraft = 0;
    for (unsigned s = 0; s < n; ++s) {
        const unsigned len = lengths[s];
        if (!len) continue;
        if (len > max_length) return corrupt("code length over the limit");
        present_[s] = 1;
        ++used;
        only = s;
        longest = std::max(longest, len);
        kraft += uint64_t(1) << (max_length - len);
    }
    empty_ = used == 0;
    if (used <= 1) {
        if (used == 1 && lengths[only] != 1) return corrupt("single-symbol code table with length other than 1");
        bits_ = 0;
        entries_.assign(1, static_cast<uint16_t>(only << 4));
        return ok_status();
    }
    if (kraft > (uint64_t(1) << max_length)) return corrupt("over-subscribed code table");
    if (kraft < (uint64_t(1) << max_length)) return corrupt("incomplete code table");

    bits_ = longest;
    entries_.assign(size_t(1) << bits_, 0);
    std::vector<uint32_t> codes = canonical_codes(lengths, n);
    for (unsigned s = 0; s < n; ++s) {
        const unsigned len = lengths[s];
        if (!len) continue;
        const uint16_t entry = static_cast<uint16_t>((s << 4) | len);
        for (size_t i = reverse_bits(codes[s], len); i < entries_.size(); i += size_t(1) << len) entries_[i] = entry;
    }
    return ok_status();
}

Status read_code_table(BitReader& in, unsigned n, DecodeTable& table) {
    std::vector<uint8_t> lengths(n, 0);
    if (in.read(1) == 0) return table.build(lengths.data(), n, kMaxCodeLength);

    uint8_t pre_lengths[kLengthAlphabet];
    for (unsigned s = 0; s < kLengthAlphabet; ++s) pre_lengths[s] = static_cast<uint8_t>(in.read(3));
    DecodeTable pre;
    Status st = pre.build(pre_lengths, kLengthAlphabet, kLengthCodeMax);
    if (!st.ok()) return corrupt("code-length code: " + st.message);
    if (pre.empty()) return corrupt("code-length code has no symbols");

    for (unsigned i = 0; i < n;) {
        in.refill();
        const unsigned sym = pre.decode(in);
        unsigned repeat = 1;
        uint8_t value = 0;
        if (sym <= kMaxCodeLength) {
            value = static_cast<uint8_t>(sym);
        } else if (sym == kRepeatPrevious) {
            if (i == 0) return corrupt("code table repeats a length before the first one");
            value = lengths[i - 1];
            repeat = 3 + in.take(2);
        } else if (sym == kZerosShort) {
            repeat = 3 + in.take(3);
        } else {
            repeat = 11 + in.take(7);
        }
        if (repeat > n - i) return corrupt("code table lengths run past the alphabet");
        for (unsigned k = 0; k < repeat; ++k) lengths[i++] = value;
    }
    if (in.overran()) return truncated("code table cut short");
    bool any = false;
    for (uint8_t l : lengths) any |= l != 0;
    if (!any) return corrupt("code table marked present but has no symbols");
    return table.build(lengths.data(), n, kMaxCodeLength);
}

}  // namespace qohi
