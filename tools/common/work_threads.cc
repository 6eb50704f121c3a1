#include "work_threads.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <thread>
#include <vector>

namespace qohi_tools {

unsigned thread_count(uint32_t requested) {
    if (requested != 0) return requested;
    return std::max(1u, std::thread::hardware_concurrency());
}

void for_each_index(size_t count, unsigned threads, const std::function<void(size_t)>& work) {
    std::atomic<size_t> next{0};
    auto run = [&] {
        for (size_t i = next++; i < count; i = next++) work(i);
    };
    std::vector<std::thread> helpers;
    const size_t wanted = std::min<size_t>(threads, count);
    for (size_t t = 1; t < wanted; ++t) {
        try {
            helpers.emplace_back(run);
        } catch (const std::exception&) {  // no thread, or no memory for one
            break;
        }
    }
    run();
    for (std::thread& t : helpers) t.join();
}

}  // namespace qohi_tools
