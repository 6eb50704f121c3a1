// The generator's tracer: a second, deliberately simple decoder written from
// spec §3 - §7 (records read in order, codes decoded bit by bit), which
// decodes a valid vector and reports what it met: the records and header
// values, every op, length class, distance form, context, table shape and
// serialisation item. The generator uses it to prove that a case exercises
// what it claims, and that its pixels are right independently of libqohi.
#ifndef QOHI_CONFORMANCE_VEC_TRACE_H
#define QOHI_CONFORMANCE_VEC_TRACE_H

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "vec_model.h"

namespace vec {

// An entry (§3.15) as the tracer read it, its content whole.
struct TracedEntry {
    unsigned kind = 0, method = 0, flags = 0;
    uint64_t mode = 0, nsec = 0, size = 0;
    int64_t mtime = 0;
    std::string name;
    std::vector<uint8_t> content;
};

// A frame's attr record (§3.9).
struct TracedAttrs {
    bool present = false;
    uint64_t mode = 0, nsec = 0;
    int64_t mtime = 0;
};

struct Trace {
    std::string error;        // "" if the file decoded
    std::vector<Img> frames;  // every frame, in order
    std::vector<TracedEntry> entries;
    std::vector<TracedAttrs> attrs;  // per frame
    std::set<std::string> features;
};

Trace trace_file(const std::vector<uint8_t>& file);

}  // namespace vec

#endif
