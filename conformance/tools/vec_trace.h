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

struct Trace {
    std::string error;        // "" if the file decoded
    std::vector<Img> frames;  // every frame, in order
    std::set<std::string> features;
};

Trace trace_file(const std::vector<uint8_t>& file);

}  // namespace vec

#endif
