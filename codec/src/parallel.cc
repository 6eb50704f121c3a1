#include "parallel.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace qohi {

unsigned resolve_threads(uint32_t requested) {
    if (requested != 0) return requested;
    const unsigned cores = std::thread::hardware_concurrency();
    return cores == 0 ? 1 : cores;
}

void parallel_for(uint32_t count, unsigned threads, const std::function<void(uint32_t)>& task) {
    threads = unsigned(std::min<uint64_t>(threads, count));
    if (threads <= 1) {
        for (uint32_t i = 0; i < count; ++i) task(i);
        return;
    }
    std::atomic<uint32_t> next{0};
    std::atomic<bool> failed{false};
    std::exception_ptr error;
    std::mutex error_mutex;
    auto work = [&] {
        for (;;) {
            if (failed.load(std::memory_order_relaxed)) return;
            const uint32_t i = next.fetch_add(1, std::memory_order_relaxed);
            if (i >= count) return;
            try {
                task(i);
            } catch (...) {
                std::lock_guard<std::mutex> lock(error_mutex);
                if (!error) error = std::current_exception();
                failed = true;
            }
        }
    };
    std::vector<std::thread> helpers;
    try {
        helpers.reserve(threads - 1);
        for (unsigned t = 1; t < threads; ++t) helpers.emplace_back(work);
    } catch (const std::system_error&) {
        // Fewer threads than asked for; the ones running share the work.
    } catch (const std::bad_alloc&) {
    }
    work();
    for (std::thread& t : helpers) t.join();
    if (error) std::rethrow_exception(error);
}

}  // namespace qohi
