// Independent pieces of the tools' work (reading PNGs, mostly) done on
// several threads; the results are used in order, so output does not
// depend on the thread count.
#ifndef QOHI_TOOLS_WORK_THREADS_H
#define QOHI_TOOLS_WORK_THREADS_H

#include <cstddef>
#include <cstdint>
#include <functional>

namespace qohi_tools {

// A --threads value as a count: 0 means one per core.
unsigned thread_count(uint32_t requested);

// Calls work(i) for every i in [0, count) on up to `threads` threads, the
// caller's among them, and returns when every call has returned. `work`
// must not throw. Threads the system refuses are done without.
void for_each_index(size_t count, unsigned threads, const std::function<void(size_t)>& work);

}  // namespace qohi_tools

#endif
