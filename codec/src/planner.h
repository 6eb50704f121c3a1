// Collection planning (qohi_plan): the order in which a collection of images
// is written and the reference of each, chosen before any frame is coded.
//
// QOHI_PLAN_AUTO scales to large collections: every image is loaded once for
// a 64-byte sketch of its similarity signature and its intra cost estimate,
// candidate references come from a few neighbourhoods (input order, and
// random-projection tree orders of the sketches) instead of an all-pairs
// pass, only candidate pairs are scored exactly, and a maximum spanning
// forest over the savings, bounded in depth, gives the references. Pixels
// are kept only in a bounded cache; loading and scoring run on several
// threads with the same result.
#ifndef QOHI_PLANNER_H
#define QOHI_PLANNER_H

#include <cstdint>

#include "qohi/qohi.h"
#include "status.h"

namespace qohi {

// Defaults of qohi_plan_options (0 in a field means its default).
constexpr uint32_t kPlanDefaultKeyframeInterval = 16;
constexpr uint32_t kPlanDefaultCandidates = 6;
constexpr uint64_t kPlanDefaultMemory = uint64_t(64) << 20;
// Candidates are kept for every image at once: a bound on that memory.
constexpr uint32_t kMaxCandidates = 64;

// Counters of one planning run, for tests and tools.
struct PlanStats {
    uint64_t loads = 0;         // loader calls
    uint64_t scored_pairs = 0;  // delta cost estimates (one direction each)
};

// Plans `count` images (see qohi_plan in qohi.h). `out` receives `count`
// entries only if planning succeeds.
Status plan_collection(const qohi_plan_image* images, uint32_t count, qohi_plan_loader load, void* user,
                       const qohi_plan_options& options, qohi_plan_entry* out, PlanStats* stats = nullptr);

}  // namespace qohi

#endif
