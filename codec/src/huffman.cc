#include "huffman.h"

#include <algorithm>

namespace qohi {
namespace {

// Code-length code (spec §6.3): symbols 0..12 are lengths, 13
// repeats the previous length 3-6 times, 14 and 15 are runs of zeros.
constexpr unsigned kLengthAlphabet = 16;
constexpr unsigned kLengthCodeMax = 7;
constexpr unsigned kRepeatPrevious = 13;  // 2 extra bits: 3..6
constexpr unsigned kZerosShort = 14;      // 3 extra bits: 3..10
constexpr unsigned kZerosLong = 15;       // 7 extra bits: 11..138

// Calls visit(symbol, length, code) for every coded symbol in canonical order
// (by length, then symbol number), with `code` already bit-reversed: the
// order in which its bits appear in the stream. The reversed code is stepped
// as zlib's inflate does: add one at the code's top bit and carry downwards.
template <class Visit>
void for_each_canonical_code(const uint8_t* lengths, unsigned n, Visit&& visit) {
    unsigned offset[kMaxCodeLength + 2] = {};
    for (unsigned s = 0; s < n; ++s)
        if (lengths[s]) offset[lengths[s] + 1]++;
    for (unsigned len = 1; len <= kMaxCodeLength; ++len) offset[len + 1] += offset[len];
    uint16_t sorted[kMaxAlphabet];
    for (unsigned s = 0; s < n; ++s)
        if (lengths[s]) sorted[offset[lengths[s]]++] = static_cast<uint16_t>(s);
    const unsigned used = offset[kMaxCodeLength];
    uint32_t code = 0;
    for (unsigned k = 0; k < used; ++k) {
        const unsigned s = sorted[k];
        const unsigned len = lengths[s];
        visit(s, len, code);
        uint32_t step = uint32_t(1) << (len - 1);
        while (code & step) step >>= 1;
        code = step ? (code & (step - 1)) + step : 0;
    }
}

}  // namespace

std::vector<uint8_t> build_code_lengths(const uint32_t* counts, unsigned n, unsigned max_length) {
    std::vector<uint8_t> lengths(n, 0);
    // Used symbols sorted by count, ties by symbol number (deterministic):
    // sort keys are count << 16 | symbol.
    uint64_t keys[kMaxAlphabet];
    unsigned leaves = 0;
    if (n > kMaxAlphabet) n = kMaxAlphabet;
    for (unsigned s = 0; s < n; ++s) {  // branch-free: which symbols occur is unpredictable
        keys[leaves] = uint64_t(counts[s]) << 16 | s;
        leaves += counts[s] != 0;
    }
    if (leaves == 0) return lengths;
    if (leaves == 1) {
        lengths[keys[0] & 0xFFFF] = 1;
        return lengths;
    }
    std::sort(keys, keys + leaves);

    // Huffman code depths by the two-queue method: leaves in count order,
    // inner nodes are created in non-decreasing weight order.
    uint64_t weight[2 * kMaxAlphabet];
    unsigned parent[2 * kMaxAlphabet];
    for (unsigned i = 0; i < leaves; ++i) weight[i] = keys[i] >> 16;
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
    unsigned depth[2 * kMaxAlphabet];
    depth[root] = 0;
    for (unsigned id = root; id-- > 0;) depth[id] = depth[parent[id]] + 1;

    // How many codes of each length; lengths over the limit are clamped and
    // the Kraft sum repaired by splitting shorter codes (as in miniz).
    uint32_t per_length[kMaxCodeLength + 1] = {};
    if (max_length > kMaxCodeLength) max_length = kMaxCodeLength;
    for (unsigned i = 0; i < leaves; ++i) per_length[std::min(depth[i], max_length)]++;
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

    // Shortest codes to the most frequent symbols (keys are in ascending
    // count order).
    unsigned k = leaves;
    for (unsigned len = 1; len <= max_length; ++len)
        for (uint32_t c = 0; c < per_length[len]; ++c) lengths[keys[--k] & 0xFFFF] = static_cast<uint8_t>(len);
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
    for_each_canonical_code(lengths.data(), n, [&](unsigned s, unsigned len, uint32_t code) {
        t.length[s] = static_cast<uint8_t>(len);
        t.code[s] = static_cast<uint16_t>(code);
    });
    return t;
}

namespace {

// One code-length code item: a symbol of the length alphabet and its extra bits.
struct LengthItem {
    uint8_t symbol;
    uint8_t extra_bits;
    uint8_t extra;
};

// The items describing `lengths` (empty for an empty table).
std::vector<LengthItem> length_items(const std::vector<uint8_t>& lengths) {
    const size_t n = lengths.size();
    std::vector<LengthItem> items;
    if (std::all_of(lengths.begin(), lengths.end(), [](uint8_t l) { return l == 0; })) return items;
    for (size_t i = 0; i < n;) {
        const uint8_t len = lengths[i];
        size_t run = 1;
        while (i + run < n && lengths[i + run] == len) ++run;
        if (len == 0) {
            if (run >= 11) {
                const size_t r = std::min<size_t>(run, 138);
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
            const size_t r = std::min<size_t>(run, 6);
            items.push_back({kRepeatPrevious, 2, uint8_t(r - 3)});
            i += r;
            run -= r;
        }
    }
    return items;
}

}  // namespace

void write_code_tables(BitWriter& out, const std::vector<const std::vector<uint8_t>*>& tables) {
    std::vector<std::vector<LengthItem>> items;
    uint32_t counts[kLengthAlphabet] = {};
    for (const std::vector<uint8_t>* t : tables) {
        items.push_back(length_items(*t));
        for (const LengthItem& it : items.back()) counts[it.symbol]++;
    }
    const std::vector<uint8_t> pre_lengths = build_code_lengths(counts, kLengthAlphabet, kLengthCodeMax);
    const EncodeTable pre = make_encode_table(pre_lengths);
    for (unsigned s = 0; s < kLengthAlphabet; ++s) out.put(pre_lengths[s], 3);
    for (const std::vector<LengthItem>& table : items) {
        out.put(table.empty() ? 0 : 1, 1);
        for (const LengthItem& it : table) {
            out.put(pre.code[it.symbol], pre.length[it.symbol]);
            if (it.extra_bits) out.put(it.extra, it.extra_bits);
        }
    }
}

uint64_t code_table_bits(const std::vector<uint8_t>& lengths) {
    const std::vector<LengthItem> items = length_items(lengths);
    uint32_t counts[kLengthAlphabet] = {};
    uint64_t bits = 1;
    for (const LengthItem& it : items) {
        counts[it.symbol]++;
        bits += it.extra_bits;
    }
    const std::vector<uint8_t> pre = build_code_lengths(counts, kLengthAlphabet, kLengthCodeMax);
    for (unsigned s = 0; s < kLengthAlphabet; ++s) bits += uint64_t(counts[s]) * pre[s];
    return bits;
}

Status DecodeTable::build(const uint8_t* lengths, unsigned n, unsigned max_length) {
    std::fill(present_, present_ + kMaxAlphabet, false);
    unsigned used = 0, longest = 0, only = 0;
    uint64_t kraft = 0;
    for (unsigned s = 0; s < n; ++s) {
        const unsigned len = lengths[s];
        if (!len) continue;
        if (len > max_length) return corrupt("code length over the limit");
        present_[s] = true;
        ++used;
        only = s;
        longest = std::max(longest, len);
        kraft += uint64_t(1) << (max_length - len);
    }
    empty_ = used == 0;
    if (used <= 1) {
        if (used == 1 && lengths[only] != 1) return corrupt("single-symbol code table with length other than 1");
        root_bits_ = 0;
        entries_[0] = static_cast<uint32_t>(only << 4);
        return ok_status();
    }
    if (kraft > (uint64_t(1) << max_length)) return corrupt("over-subscribed code table");
    if (kraft < (uint64_t(1) << max_length)) return corrupt("incomplete code table");

    // Codes are stored first bit lowest (bit-reversed), so a code's first
    // root_bits_ bits are its low bits: its root entry.
    root_bits_ = std::min(longest, kRootBits);
    const uint32_t root_size = uint32_t(1) << root_bits_;
    uint8_t sub_bits[1u << kRootBits] = {};  // per root entry: longest code through it, less the root bits
    for_each_canonical_code(lengths, n, [&](unsigned, unsigned len, uint32_t code) {
        if (len > root_bits_) {
            uint8_t& b = sub_bits[code & (root_size - 1)];
            b = static_cast<uint8_t>(std::max<unsigned>(b, len - root_bits_));
        }
    });
    uint32_t next = root_size;
    for (uint32_t r = 0; r < root_size; ++r) {
        if (!sub_bits[r]) continue;
        entries_[r] = kSubtable | next << 4 | sub_bits[r];
        next += uint32_t(1) << sub_bits[r];
    }
    for_each_canonical_code(lengths, n, [&](unsigned s, unsigned len, uint32_t code) {
        if (len <= root_bits_) {
            const uint32_t entry = static_cast<uint32_t>(s << 4 | len);
            for (uint32_t i = code; i < root_size; i += uint32_t(1) << len) entries_[i] = entry;
            return;
        }
        const uint32_t link = entries_[code & (root_size - 1)];
        const uint32_t base = (link >> 4) & 0xFFFFu, size = uint32_t(1) << (link & 15u);
        const unsigned rest = len - root_bits_;
        const uint32_t entry = static_cast<uint32_t>(s << 4 | rest);
        for (uint32_t i = code >> root_bits_; i < size; i += uint32_t(1) << rest) entries_[base + i] = entry;
    });
    return ok_status();
}

Status CodeTableReader::start(BitReader& in) {
    uint8_t pre_lengths[kLengthAlphabet];
    for (unsigned s = 0; s < kLengthAlphabet; ++s) pre_lengths[s] = static_cast<uint8_t>(in.read(3));
    Status st = length_code_.build(pre_lengths, kLengthAlphabet, kLengthCodeMax);
    if (!st.ok()) return corrupt("code-length code: " + st.message);
    return ok_status();
}

Status CodeTableReader::read(BitReader& in, unsigned n, DecodeTable& table) {
    if (n > kMaxAlphabet) return invalid_argument("alphabet too large");
    uint8_t lengths[kMaxAlphabet] = {};
    if (in.read(1) == 0) return table.build(lengths, n, kMaxCodeLength);
    const DecodeTable& pre = length_code_;
    if (pre.empty()) return corrupt("code table present but the code-length code has no symbols");

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
    if (in.overran()) return corrupt("code table runs past the end of its band");
    bool any = false;
    for (unsigned s = 0; s < n; ++s) any |= lengths[s] != 0;
    if (!any) return corrupt("code table marked present but has no symbols");
    return table.build(lengths, n, kMaxCodeLength);
}

}  // namespace qohi
