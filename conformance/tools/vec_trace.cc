#include "vec_trace.h"

#include <map>
#include <set>

namespace vec {
namespace {

struct Failure {
    std::string what;
};
[[noreturn]] void fail(const std::string& what) { throw Failure{what}; }

uint32_t u32_at(const uint8_t* p) {
    return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
uint64_t u64_at(const uint8_t* p) { return uint64_t(u32_at(p)) | uint64_t(u32_at(p + 4)) << 32; }

// A record payload read field by field (§1.3).
struct Fields {
    const uint8_t* p;
    size_t n;
    size_t pos = 0;
    unsigned last_varint_bytes = 0;

    uint8_t u8() {
        if (pos >= n) fail("field cut short");
        return p[pos++];
    }
    uint64_t varint(uint64_t max) {
        uint64_t v = 0;
        for (unsigned k = 0; k < 10; ++k) {
            const uint8_t b = u8();
            if (k == 9 && b > 1) fail("varint of more than 64 bits");
            v |= uint64_t(b & 0x7F) << (7 * k);
            if (b < 0x80) {
                if (b == 0 && k > 0) fail("varint not in its shortest form");
                if (v > max) fail("varint above its maximum");
                last_varint_bytes = k + 1;
                return v;
            }
        }
        fail("unreachable");
    }
    std::string bytes(size_t count) {
        if (n - pos < count) fail("field cut short");
        std::string s(reinterpret_cast<const char*>(p + pos), count);
        pos += count;
        return s;
    }
};

struct Header {
    uint64_t w = 0, h = 0;
    unsigned c = 0, depth = 0, method = 0, flags = 0;
    uint64_t dist = 0;
    std::string name;
};

// The bytes of a UTF-8 sequence starting with lead byte `c` (§3.8), 0 if
// `c` cannot start one.
unsigned utf8_length(uint8_t c) {
    if (c >= 1 && c <= 0x7F) return 1;
    if (c >= 0xC2 && c <= 0xDF) return 2;
    if (c >= 0xE0 && c <= 0xEF) return 3;
    if (c >= 0xF0 && c <= 0xF4) return 4;
    return 0;
}

class Tracer {
public:
    explicit Tracer(const std::vector<uint8_t>& file) : f_(file) {}

    Trace run() {
        Trace t;
        try {
            decode_file();
            t.frames = frames_;
            t.entries = entries_;
            t.attrs = attrs_;
        } catch (const Failure& e) {
            t.error = e.what;
        }
        t.features = features_;
        return t;
    }

private:
    void note(const std::string& feature) { features_.insert(feature); }

    // A record at `off`: its type, payload position and size; the CRC is
    // checked (§3.3).
    struct Rec {
        std::string type;
        size_t payload, size, end;
    };
    Rec record(size_t off) const {
        if (off > f_.size() || f_.size() - off < 12) fail("record cut off");
        const uint32_t size = u32_at(&f_[off + 4]);
        if (size > f_.size() - off - 12) fail("record runs past the end");
        uint32_t c = 0xFFFFFFFFu;
        for (size_t i = off; i < off + 8 + size; ++i) {
            if (i >= off + 4 && i < off + 8) continue;  // the length is not covered
            c ^= f_[i];
            for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
        }
        if ((c ^ 0xFFFFFFFFu) != u32_at(&f_[off + 8 + size])) fail("CRC mismatch");
        return Rec{std::string(reinterpret_cast<const char*>(&f_[off]), 4), off + 8, size, off + 12 + size};
    }

    Header parse_header(Fields& in, const std::string& prefix, uint64_t max_name) {
        Header h;
        h.w = in.varint(1u << 24);
        const unsigned wbytes = in.last_varint_bytes;
        h.h = in.varint(1u << 24);
        if (wbytes > 1 || in.last_varint_bytes > 1) note("varint:multibyte-dims");
        h.c = in.u8();
        h.depth = in.u8();
        h.method = in.u8();
        h.flags = in.u8();
        h.dist = in.varint(0xFFFFFFFFu);
        if (in.last_varint_bytes > 1) note("delta:ref-distance-multibyte");
        const uint64_t n = in.varint(max_name);
        h.name = prefix + in.bytes(size_t(n));
        return h;
    }

    void name_features(const std::string& name) {
        if (name.empty()) {
            note("name:none");
            return;
        }
        if (name.find('/') != std::string::npos) note("name:subfolder");
        if (name.size() >= 128) note("name:long");
        for (size_t i = 0; i < name.size();) {
            const unsigned k = utf8_length(uint8_t(name[i]));
            if (k == 0 || i + k > name.size()) fail("name is not UTF-8");
            note("name:utf8-" + std::to_string(k));
            i += k;
        }
    }

    void decode_file() {
        static const uint8_t kSig[8] = {0x89, 'Q', 'O', 'H', 'I', 0x0D, 0x0A, 0x1A};
        if (f_.size() < 8 || !std::equal(kSig, kSig + 8, f_.begin())) fail("no signature");
        const Rec q = record(8);
        if (q.type != "QHDR" || q.size != 8) fail("bad QHDR");
        const uint16_t version = uint16_t(f_[q.payload] | f_[q.payload + 1] << 8);
        const uint16_t flags = uint16_t(f_[q.payload + 2] | f_[q.payload + 3] << 8);
        max_depth_ = unsigned(f_[q.payload + 4] | f_[q.payload + 5] << 8);
        if (version != 1 || flags != 0 || f_[q.payload + 6] || f_[q.payload + 7]) fail("QHDR values");
        if (max_depth_ == 0) note("qhdr:max-depth-0");
        size_t off = q.end;
        std::vector<size_t> offsets;
        char previous = 0;  // the last item: 'f' a frame, 'e' an entry
        for (;;) {
            const Rec r = record(off);
            if (r.type == "QIDX") {
                check_index(r, offsets);
                break;
            }
            if (r.type == "EHDR") {
                if (previous == 'f') note("entry:after-frame");
                eoffsets_.push_back(off);
                off = read_entry(r);
                previous = 'e';
                continue;
            }
            if (r.type != "FHDR") fail("expected FHDR, found " + r.type);
            if (previous == 'e') note("entry:before-frame");
            offsets.push_back(off);
            off = decode_frame(r);
            previous = 'f';
        }
    }

    // The fields of an EHDR payload from `kind` (§3.15), the name being
    // `prefix` and what follows.
    TracedEntry parse_entry(Fields& in, const std::string& prefix, uint64_t max_name) {
        TracedEntry e;
        e.kind = in.u8();
        e.method = in.u8();
        e.flags = in.u8();
        if (e.flags & 1) {
            e.mode = in.varint(4095);
            e.mtime = unzigzag(in.varint(~uint64_t(0)));
            e.nsec = in.varint(999999999);
        }
        e.size = in.varint(~uint64_t(0));
        const uint64_t n = in.varint(max_name);
        e.name = prefix + in.bytes(size_t(n));
        if (e.name.empty()) fail("entry without a name");
        if (e.kind == 1 && (e.size == 0 || e.size > 65535)) fail("link target size");
        if (e.kind == 2 && e.size != 0) fail("folder with content");
        return e;
    }

    static int64_t unzigzag(uint64_t z) { return (z & 1) ? int64_t(~(z >> 1)) : int64_t(z >> 1); }

    // Reads one entry starting with its EHDR record; returns where the next
    // record starts.
    size_t read_entry(const Rec& ehdr) {
        Fields in{&f_[ehdr.payload], ehdr.size};
        TracedEntry e = parse_entry(in, "", 65535);
        if (in.pos != in.n) fail("bytes after the entry's name");
        name_features(e.name);
        if (e.kind > 2 || e.method != 0 || (e.flags & 0xFE)) fail("reserved entry header values");
        note(e.kind == 0 ? "entry:file" : e.kind == 1 ? "entry:symlink" : "entry:folder");
        note(e.flags & 1 ? "entry:attributes" : "entry:no-attributes");
        if ((e.flags & 1) && e.mtime < 0) note("entry:negative-mtime");
        if (e.kind == 0 && e.size == 0) note("entry:empty-file");
        size_t off = ehdr.end;
        unsigned pieces = 0;
        while (e.content.size() < e.size) {
            const Rec r = record(off);
            off = r.end;
            if (r.type[0] >= 'a' && r.type[0] <= 'z') {
                note("entry:ancillary");
                continue;
            }
            if (r.type != "EDAT") fail("record " + r.type + " in an entry");
            if (r.size == 0 || r.size > e.size - e.content.size()) fail("EDAT size");
            e.content.insert(e.content.end(), f_.begin() + long(r.payload), f_.begin() + long(r.payload + r.size));
            ++pieces;
        }
        if (pieces > 1) note("entry:several-edat");
        if (e.kind == 1)
            for (uint8_t b : e.content)
                if (b == 0) fail("NUL in a link target");
        entries_.push_back(std::move(e));
        return off;
    }

    // Reads one frame starting with its FHDR record; returns where the next
    // record starts.
    size_t decode_frame(const Rec& fhdr) {
        const uint32_t i = uint32_t(headers_.size());
        Fields in{&f_[fhdr.payload], fhdr.size};
        Header h = parse_header(in, "", 65535);
        if (in.pos != in.n) fail("bytes after the name");
        name_features(h.name);
        if (h.w == 0 || h.h == 0 || h.w * h.h > (uint64_t(1) << 29)) fail("frame size");
        if (h.c != 3 && h.c != 4) fail("channels this tracer cannot decode");
        if (h.depth != 8 || h.method > 2 || (h.flags & 0xFE)) fail("reserved header values");
        if (h.flags & 1) note("flag:baseline");
        note(h.c == 3 ? "rgb" : "rgba");
        note(h.method == 0 ? "method:stored" : h.method == 1 ? "method:qohi" : "method:dici");
        if (h.w == 1 && h.h == 1) note("size:1x1");
        if (h.w == 1 && h.h > 1) note("size:1xN");
        if (h.h == 1 && h.w > 1) note("size:Nx1");
        if (h.w == (1u << 24)) note("size:max-width");
        if (h.h == (1u << 24)) note("size:max-height");
        unsigned depth = 0;
        const Img* ref = nullptr;
        if (h.dist) {
            if (h.dist > i) fail("reference before the first frame");
            const uint32_t r = uint32_t(i - h.dist);
            const Header& g = headers_[r];
            if (g.w != h.w || g.h != h.h || g.c != h.c || h.method != 1) fail("bad reference");
            depth = depths_[r] + 1;
            if (depth > max_depth_) fail("chain too deep");
            ref = &frames_[r];
            note("delta");
            if (depth >= 2) note("delta:chain-2+");
            if (depth == max_depth_) note("delta:depth-at-max");
            if (h.dist > 1) note("delta:ref-distance-gt1");
            if (headers_[r].method == 0) note("delta:ref-stored");
            if (++referenced_[r] == 2) note("delta:shared-ref");
        }
        size_t off = fhdr.end;
        TracedAttrs attrs;
        for (;;) {
            const Rec r = record(off);
            off = r.end;
            if (r.type == "FDAT") {
                Img img(uint32_t(h.w), uint32_t(h.h), h.c);
                const unsigned rows = decode_fdat(r, h, ref, img);
                if (ref && band_rows_[i - h.dist] != rows) note("delta:band-layout-differs");
                band_rows_.push_back(rows);
                frames_.push_back(std::move(img));
                break;
            }
            static const std::map<std::string, std::string> kKnown = {
                {"iccp", "record:iccp"}, {"exif", "record:exif"}, {"xmpd", "record:xmpd"}, {"text", "record:text"},
                {"attr", "record:attr"}};
            if (r.type[0] < 'a' || r.type[0] > 'z') fail("critical record " + r.type + " in a frame");
            if (r.type == "attr") {
                if (attrs.present) fail("two attr records");
                Fields a{&f_[r.payload], r.size};
                attrs.present = true;
                attrs.mode = a.varint(4095);
                attrs.mtime = unzigzag(a.varint(~uint64_t(0)));
                attrs.nsec = a.varint(999999999);
                if (a.pos != a.n) fail("bytes after the attr fields");
            }
            auto known = kKnown.find(r.type);
            note(known != kKnown.end() ? known->second : "record:unknown-ancillary");
        }
        headers_.push_back(h);
        depths_.push_back(depth);
        attrs_.push_back(attrs);
        return off;
    }

    // §4.1 - §4.3; returns band_rows.
    unsigned decode_fdat(const Rec& r, const Header& h, const Img* ref, Img& img) {
        Fields in{&f_[r.payload], r.size};
        const uint64_t band_rows = in.varint(h.h);
        if (in.last_varint_bytes > 1) note("varint:multibyte-band-rows");
        if (band_rows == 0) fail("band_rows 0");
        const uint64_t bands = (h.h + band_rows - 1) / band_rows;
        std::vector<uint64_t> sizes;
        uint64_t sum = 0;
        for (uint64_t b = 0; b + 1 < bands; ++b) {
            sizes.push_back(in.varint(r.size));
            if (in.last_varint_bytes > 1) note("varint:multibyte-band-size");
            sum += sizes.back();
        }
        if (sum >= in.n - in.pos) fail("last band empty");
        sizes.push_back(in.n - in.pos - sum);
        if (bands > 1) note("bands:several");
        if (h.h % band_rows) note("bands:partial-last");
        if (bands > 1 && band_rows == 1) note("bands:one-row");
        size_t pos = in.pos;
        for (uint64_t b = 0; b < bands; ++b) {
            const uint32_t y0 = uint32_t(b * band_rows);
            const uint32_t rows = uint32_t(std::min<uint64_t>(band_rows, h.h - y0));
            const uint8_t* data = &f_[r.payload + pos];
            const uint64_t n = sizes[b];
            pos += size_t(n);
            const size_t first = size_t(y0) * img.w, count = size_t(rows) * img.w;
            if (h.method == 0) {
                if (n != uint64_t(count) * h.c) fail("stored band size");
                for (size_t k = 0; k < count; ++k) {
                    Px& p = img.px[first + k];
                    const uint8_t* s = data + k * h.c;
                    p = Px{s[0], s[1], s[2], h.c == 4 ? s[3] : uint8_t(255)};
                }
                continue;
            }
            if (h.method == 2) {
                const std::vector<Px> out = decode_dici_band(data, size_t(n), img.w, count, h.c);
                std::copy(out.begin(), out.end(), img.px.begin() + long(first));
                continue;
            }
            std::vector<Px> refband;
            if (ref) refband.assign(ref->px.begin() + long(first), ref->px.begin() + long(first + count));
            const std::vector<Px> out = decode_band(data, size_t(n), img.w, count, h.c, refband);
            std::copy(out.begin(), out.end(), img.px.begin() + long(first));
        }
        return unsigned(band_rows);
    }

    // ------------------------------------------------------------ bands

    struct Bits {
        const uint8_t* d;
        size_t n;
        uint64_t pos = 0;
        bool overran = false;
        unsigned bit() {
            const uint64_t p = pos++;
            if (p >= uint64_t(n) * 8) {
                overran = true;
                return 0;
            }
            return (d[p / 8] >> (p % 8)) & 1u;
        }
        uint64_t read(unsigned count) {
            uint64_t v = 0;
            for (unsigned i = 0; i < count; ++i) v |= uint64_t(bit()) << i;
            return v;
        }
    };

    // A code table for decoding bit by bit (§6.4).
    struct Table {
        std::vector<uint8_t> len;
        bool empty = true;
        unsigned used = 0, only = 0;
        unsigned count[16] = {}, first[16] = {}, start[16] = {};
        std::vector<unsigned> sorted;  // symbols by (length, symbol)
        bool decoded = false;          // some symbol was decoded with it

        void build(std::vector<uint8_t> lengths, unsigned max) {
            len = std::move(lengths);
            uint64_t kraft = 0;
            for (unsigned s = 0; s < len.size(); ++s) {
                if (!len[s]) continue;
                if (len[s] > max) fail("code length over the limit");
                count[len[s]]++, used++, only = s;
                kraft += uint64_t(1) << (max - len[s]);
            }
            empty = used == 0;
            if (used == 1 && len[only] != 1) fail("single symbol of length other than 1");
            if (used > 1 && kraft != (uint64_t(1) << max)) fail("code table not complete");
            uint32_t code = 0;
            unsigned k = 0;
            for (unsigned l = 1; l < 16; ++l) {
                code = (code + count[l - 1]) << 1;
                first[l] = code;
                start[l] = k;
                k += count[l];
            }
            for (unsigned l = 1; l < 16; ++l)
                for (unsigned s = 0; s < len.size(); ++s)
                    if (len[s] == l) sorted.push_back(s);
        }
        // The symbol, and in `bits_read` the length of its code.
        unsigned decode(Bits& in, unsigned& bits_read) {
            if (empty) fail("decoding with an empty table");
            decoded = true;
            bits_read = 0;
            if (used == 1) return only;
            uint32_t code = 0;
            for (unsigned l = 1; l < 16; ++l) {
                code = code << 1 | in.bit();
                if (code - first[l] < count[l]) {
                    bits_read = l;
                    return sorted[start[l] + code - first[l]];
                }
            }
            fail("no code matched");
        }
    };

    unsigned decode_symbol(Bits& in, Table& t) {
        unsigned bits = 0;
        const unsigned s = t.decode(in, bits);
        if (bits == 12) note("table:len-12");
        return s;
    }

    Table read_table(Bits& in, Table& pre, unsigned n) {
        Table t;
        std::vector<uint8_t> len(n, 0);
        if (in.read(1) == 0) {
            note("table:absent");
            t.build(len, 12);
            return t;
        }
        for (unsigned i = 0; i < n;) {
            unsigned bits = 0;
            const unsigned sym = pre.decode(in, bits);
            if (bits == 7) note("clen:len-7");
            unsigned value = sym, count = 1;
            if (sym == 13) {
                if (i == 0) fail("repeat at the first length");
                value = len[i - 1];
                count = 3 + unsigned(in.read(2));
                note(value ? "items:13-nonzero" : "items:13-zero");
            } else if (sym == 14) {
                value = 0;
                count = 3 + unsigned(in.read(3));
                note(count == 10 ? "items:14-max" : "items:14");
            } else if (sym == 15) {
                value = 0;
                count = 11 + unsigned(in.read(7));
                note(count == 138 ? "items:15-max" : "items:15");
            } else if (sym == 0) {
                note("items:literal-zero");
            }
            if (count > n - i) fail("lengths past the alphabet");
            for (unsigned k = 0; k < count; ++k) len[i + k] = uint8_t(value);
            i += count;
        }
        t.build(len, 12);
        if (t.empty) fail("present table without symbols");
        if (t.used == 1) note("table:single-symbol");
        return t;
    }

    uint64_t length(unsigned cls, Bits& in) {
        if (cls < 16) return cls + 1;
        const unsigned e = cls - 11;
        return (uint64_t(1) << (e - 1)) + in.read(e - 1) + 1;
    }

    std::vector<Px> decode_band(const uint8_t* data, size_t size, uint32_t w, size_t n, unsigned channels,
                                const std::vector<Px>& ref) {
        Bits in{data, size};
        const bool delta = !ref.empty();
        const unsigned field = unsigned(in.read(6));
        const unsigned mode[3] = {field & 3, (field >> 2) & 3, field >> 4};
        static const char* kFamily[3] = {"op", "g", "rb"};
        for (unsigned k = 0; k < 3; ++k) {
            if (mode[k] == 3) fail("reserved grouping");
            if (mode[k]) note("grouping:" + std::string(kFamily[k]) + "-" + std::to_string(mode[k]));
        }
        std::vector<uint8_t> clen(16);
        for (auto& l : clen) l = uint8_t(in.read(3));
        Table pre;
        pre.build(clen, 7);
        auto family = [&](unsigned n_symbols, unsigned m) {
            std::vector<Table> t;
            for (unsigned g = 0; g < (1u << m); ++g) t.push_back(read_table(in, pre, n_symbols));
            return t;
        };
        std::vector<Table> op = family(delta ? 385 : 342, mode[0]);
        std::vector<Table> gt = family(256, mode[1]);
        std::vector<Table> rt = family(256, mode[2]);
        std::vector<Table> bt = family(256, mode[2]);
        Table at = read_table(in, pre, 256);
        Table dt = read_table(in, pre, 44);
        for (const Table& t : op)
            if (t.empty) fail("empty OP table");
        auto op_has = [&](std::initializer_list<unsigned> symbols, unsigned lo = 1, unsigned hi = 0) {
            for (const Table& t : op) {
                for (unsigned s : symbols)
                    if (s < t.len.size() && t.len[s]) return true;
                for (unsigned s = lo; s <= hi; ++s)
                    if (t.len[s]) return true;
            }
            return false;
        };
        const bool diffs = op_has({0, 1, 340, 341, 383, 384});
        const bool alphas = op_has({1, 341, 384});
        const bool matches = op_has({}, 299, 339);
        if (diffs)
            for (auto* fam : {&gt, &rt, &bt})
                for (const Table& t : *fam)
                    if (t.empty) fail("difference ops without G/R/B tables");
        if (alphas && (channels != 4 || at.empty)) fail("alpha ops without alpha");
        if (matches && dt.empty) fail("match ops without DIST");

        const Px start{0, 0, 0, 255};
        Px prev = start;
        std::vector<Px> index(256, Px{0, 0, 0, 0});
        std::vector<bool> written(256, false);
        std::vector<uint64_t> column(w, 0);
        unsigned opctx = 0;
        std::vector<Px> out;
        out.reserve(n);
        const int64_t m = delta ? int64_t(n) : 0;
        auto ctx_note = [&](unsigned k, unsigned c) {
            if (mode[k]) note("ctx:" + std::string(kFamily[k]) + "-" + std::to_string(c));
        };
        auto colour = [&](const Px& base, unsigned a, const std::string& op_name) {
            const uint64_t p = out.size();
            const unsigned gc = g_context(out, p, w, prev);
            ctx_note(1, gc);
            const unsigned dg = decode_symbol(in, gt[gc >> (2 - mode[1])]);
            const unsigned k = rb_context(dg);
            ctx_note(2, k);
            const unsigned drg = decode_symbol(in, rt[k >> (2 - mode[2])]);
            const unsigned dbg = decode_symbol(in, bt[k >> (2 - mode[2])]);
            note(op_name);
            return Px{uint8_t(base.r + dg + drg), uint8_t(base.g + dg), uint8_t(base.b + dg + dbg), uint8_t(a)};
        };
        auto enter = [&](const Px& px) {
            const unsigned hsh = hash(px);
            if (written[hsh] && index[hsh] != px) note("index:collision");
            index[hsh] = px;
            written[hsh] = true;
            out.push_back(px);
            prev = px;
        };
        while (out.size() < n) {
            const uint64_t p = out.size();
            const uint64_t x = p % w;
            ctx_note(0, opctx);
            const unsigned s = decode_symbol(in, op[opctx >> (2 - mode[0])]);
            opctx = op_context(s);
            if (s <= 1) {
                unsigned a = prev.a;
                if (s == 1) {
                    const unsigned da = decode_symbol(in, at);
                    if (da == 0) note("op:diff-alpha-zero");
                    a = (a + da) & 255;
                }
                enter(colour(prev, a, s ? "op:diff-alpha" : "op:diff"));
            } else if (s <= 42) {
                const uint64_t len = length(s - 2, in);
                if (len > n - p) fail("run past the end");
                note("op:run");
                note("run:class-" + std::to_string(s - 2));
                if (p == 0) note("run:from-start-pixel");
                if (x + len > w) note("run:wraps-rows");
                out.insert(out.end(), size_t(len), prev);
            } else if (s <= 298) {
                Px px = index[s - 43];
                note("op:index");
                if (!written[s - 43]) note(channels == 3 ? "index:unwritten-rgb" : "index:unwritten-rgba");
                if (channels == 3) px.a = 255;
                enter(px);
            } else if (s <= 339) {
                const uint64_t len = length(s - 299, in);
                const unsigned d = decode_symbol(in, dt);
                uint64_t dist;
                if (d == 43) {
                    dist = column[x];
                    if (dist == 0) fail("column distance unset");
                    note("dist:column");
                } else if (d == 0) {
                    dist = w;
                    note("dist:above");
                } else {
                    dist = length(d - 1, in);
                    note(d - 1 < 16 ? "dist:direct-class" : "dist:long-class");
                }
                const int64_t first = int64_t(p) - int64_t(dist);
                if (first < -m) fail("match before the start");
                if (len > n - p) fail("match past the end");
                note("op:match");
                note(s - 299 < 16 ? "match:direct-class" : "match:long-class");
                if (len == 1) note("match:len-1");
                if (dist < len) note("match:overlap");
                if (x + len > w) note("match:wraps-rows");
                if (first < 0) note(first + int64_t(len) <= 0 ? "match:from-ref" : "match:across-ref-boundary");
                if (d == 0 && delta && p < w) note("match:above-from-ref");
                for (uint64_t k = 0; k < len; ++k) {
                    const int64_t q = first + int64_t(k);
                    out.push_back(q < 0 ? ref[size_t(q + int64_t(n))] : out[size_t(q)]);
                    column[(p + k) % w] = dist;
                }
                prev = out.back();
            } else if (s <= 341) {
                const Px pr = predict(out, p, w, prev);
                if (p < w)
                    note("grad:first-row");
                else if (x == 0)
                    note("grad:first-column");
                else {
                    const Px& up = out[p - w];
                    const Px& ul = out[p - w - 1];
                    const int sums[3] = {prev.r + up.r - ul.r, prev.g + up.g - ul.g, prev.b + up.b - ul.b};
                    for (int v : sums) {
                        if (v < 0) note("grad:clamp-low");
                        if (v > 255) note("grad:clamp-high");
                    }
                }
                unsigned a = prev.a;
                if (s == 341) a = (a + decode_symbol(in, at)) & 255;
                enter(colour(pr, a, s == 341 ? "op:grad-alpha" : "op:grad"));
            } else if (s <= 382) {
                const uint64_t len = length(s - 342, in);
                if (len > n - p) fail("reference run past the end");
                note("op:refrun");
                note(s - 342 < 16 ? "refrun:direct-class" : "refrun:long-class");
                out.insert(out.end(), ref.begin() + long(p), ref.begin() + long(p + len));
                prev = out.back();
            } else {
                const Px& rp = ref[p];
                unsigned a = rp.a;
                if (s == 384) a = (a + decode_symbol(in, at)) & 255;
                enter(colour(rp, a, s == 384 ? "op:refdiff-alpha" : "op:refdiff"));
            }
        }
        if (in.overran) fail("band data ends before its last pixel");
        const uint64_t left = uint64_t(size) * 8 - in.pos;
        if (left >= 8 || in.read(unsigned(left)) != 0) fail("unused bits or padding");
        // Tables read and validated but never used by the op stream.
        for (const auto* fam : {&op, &gt, &rt, &bt})
            for (const Table& t : *fam)
                if (!t.empty && !t.decoded) note("table:unused-present");
        if ((!at.empty && !at.decoded) || (!dt.empty && !dt.decoded)) note("table:unused-present");
        return out;
    }

    // §4.4, §7.5a.
    std::vector<Px> decode_dici_band(const uint8_t* data, size_t size, uint32_t w, size_t n, unsigned channels) {
        Bits in{data, size};
        const unsigned e = unsigned(in.read(5));
        if (e > 29) fail("palette size class");
        const uint64_t colours = e == 0 ? 1 : 1 + (uint64_t(1) << (e - 1)) + (e >= 2 ? in.read(e - 1) : 0);
        if (colours > n) fail("palette larger than the band");
        if (colours * channels * 8 + in.pos > uint64_t(size) * 8) fail("palette runs past the band");
        note(e == 0 ? "dici:palette-1" : e == 1 ? "dici:palette-2" : "dici:palette-large");
        std::vector<Px> palette;
        std::set<uint64_t> seen;
        for (uint64_t k = 0; k < colours; ++k) {
            Px p;
            p.r = uint8_t(in.read(8)), p.g = uint8_t(in.read(8)), p.b = uint8_t(in.read(8));
            p.a = channels == 4 ? uint8_t(in.read(8)) : 255;
            if (!seen.insert(uint64_t(p.r) | uint64_t(p.g) << 8 | uint64_t(p.b) << 16 | uint64_t(p.a) << 24).second)
                note("dici:palette-duplicates");
            palette.push_back(p);
        }
        std::vector<uint8_t> clen(16);
        for (auto& l : clen) l = uint8_t(in.read(3));
        Table pre;
        pre.build(clen, 7);
        std::vector<Table> tables;
        for (int t = 0; t < 3; ++t) tables.push_back(read_table(in, pre, 123));
        std::vector<Px> out;
        out.reserve(n);
        Px prev = palette[0];
        unsigned ctx = 0;
        while (out.size() < n) {
            const uint64_t p = out.size();
            if (tables[ctx].empty) fail("op with an empty table");
            note("dici:ctx-" + std::to_string(ctx));
            const unsigned s = decode_symbol(in, tables[ctx]);
            ctx = s / 41;
            const uint64_t len = length(s % 41, in);
            const char* cls = s % 41 < 16 ? "direct" : "long";
            if (ctx == 0) {
                if (len - 1 >= colours) fail("rank beyond the palette");
                note(std::string("dici:rank-") + cls);
                prev = palette[size_t(len - 1)];
                out.push_back(prev);
                continue;
            }
            if (len > n - p) fail("run or copy past the band");
            if (ctx == 1) {
                note(std::string("dici:run-") + cls);
                if (p == 0) note("dici:run-from-start");
                out.insert(out.end(), size_t(len), prev);
            } else {
                if (p < w) fail("copy from above in the first row");
                note(std::string("dici:copy-") + cls);
                if (len > w) note("dici:copy-overlap");
                for (uint64_t k = 0; k < len; ++k) out.push_back(out[size_t(out.size() - w)]);
                prev = out.back();
            }
        }
        if (in.overran) fail("band data ends before its last pixel");
        const uint64_t left = uint64_t(size) * 8 - in.pos;
        if (left >= 8 || in.read(unsigned(left)) != 0) fail("unused bits or padding");
        for (const Table& t : tables)
            if (t.empty) note("dici:table-empty");
        return out;
    }

    // ------------------------------------------------------------ index

    void check_index(const Rec& r, const std::vector<size_t>& offsets) {
        Fields in{&f_[r.payload], r.size};
        if (r.size < 4) fail("index too short");
        in.pos = 4;
        const uint32_t count = u32_at(&f_[r.payload]);
        if (count != headers_.size()) fail("index count");
        if (count == 0) note("file:no-frames");
        if (count > 1) note("file:multi-frame");
        std::string previous;
        uint64_t offset = 0;
        for (uint32_t i = 0; i < count; ++i) {
            offset += in.varint(f_.size());
            if (in.last_varint_bytes > 1) note("varint:multibyte-offset");
            const uint64_t shared = in.varint(previous.size());
            if (shared > 0) note("index:shared");
            if (in.last_varint_bytes > 1) note("index:shared-multibyte");
            if (shared > 0 && shared < previous.size() && (uint8_t(previous[size_t(shared)]) & 0xC0) == 0x80)
                note("index:shared-mid-utf8");
            const Header h = parse_header(in, previous.substr(0, size_t(shared)), 65535 - shared);
            const Header& g = headers_[i];
            if (offset != offsets[i] || h.w != g.w || h.h != g.h || h.c != g.c || h.depth != g.depth ||
                h.method != g.method || h.flags != g.flags || h.dist != g.dist || h.name != g.name)
                fail("index entry " + std::to_string(i) + " disagrees with the frame");
            previous = h.name;
        }
        if (in.pos != in.n) {
            // The entry section (§3.11): it lists the entries read, in order.
            const uint64_t m = in.varint(0xFFFFFFFFu);
            if (m != entries_.size()) fail("index entry count");
            std::string prev;
            uint64_t eoffset = 0;
            for (size_t j = 0; j < m; ++j) {
                eoffset += in.varint(f_.size());
                const uint64_t shared = in.varint(prev.size());
                if (shared > 0) note("index:entry-shared");
                const TracedEntry e = parse_entry(in, prev.substr(0, size_t(shared)), 65535 - shared);
                const TracedEntry& g = entries_[j];
                if (eoffset != eoffsets_[j] || e.kind != g.kind || e.method != g.method || e.flags != g.flags ||
                    e.mode != g.mode || e.mtime != g.mtime || e.nsec != g.nsec || e.size != g.size || e.name != g.name)
                    fail("index item " + std::to_string(j) + " disagrees with the entry");
                prev = e.name;
            }
            if (m > 0 && count == 0) note("entry:no-frames");
        } else if (!entries_.empty()) {
            fail("entries not in the index");
        }
        if (in.pos != in.n) fail("bytes after the index");
        const Rec e = record(r.end);
        if (e.type != "QEND" || e.size != 12 || e.end != f_.size()) fail("bad trailer");
        if (u64_at(&f_[e.payload]) != r.payload - 8 || u32_at(&f_[e.payload + 8]) != count) fail("trailer values");
    }

    const std::vector<uint8_t>& f_;
    unsigned max_depth_ = 0;
    std::vector<Header> headers_;
    std::vector<unsigned> depths_, band_rows_;
    std::map<uint32_t, unsigned> referenced_;
    std::vector<Img> frames_;
    std::vector<TracedEntry> entries_;
    std::vector<size_t> eoffsets_;
    std::vector<TracedAttrs> attrs_;
    std::set<std::string> features_;
};

}  // namespace

Trace trace_file(const std::vector<uint8_t>& file) { return Tracer(file).run(); }

}  // namespace vec
