// Runs the independent row bands of a frame (spec §4.1) on several threads.
#ifndef QOHI_PARALLEL_H
#define QOHI_PARALLEL_H

#include <cstdint>
#include <functional>

namespace qohi {

// The caller's thread count: 0 means one per core.
unsigned resolve_threads(uint32_t requested);

// Calls task(i) for every i in [0, count) on up to `threads` threads, the
// calling thread being one of them. Tasks are started in index order. If a
// task throws, no further tasks start and the exception is rethrown here
// once every thread has stopped. Threads the system refuses to create are
// done without: the work still completes on the threads that exist.
void parallel_for(uint32_t count, unsigned threads, const std::function<void(uint32_t)>& task);

}  // namespace qohi

#endif
