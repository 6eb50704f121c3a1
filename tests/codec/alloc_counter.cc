// The counting operator new and delete of alloc_counter.h.
#include "alloc_counter.h"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {

std::atomic<size_t> g_bytes_in_use{0};
std::atomic<size_t> g_peak_bytes{0};
constexpr size_t kBlockHeader = alignof(std::max_align_t);  // keeps the caller's block aligned

}  // namespace

void* operator new(std::size_t size) {
    void* block = std::malloc(size + kBlockHeader);
    if (!block) throw std::bad_alloc();
    *static_cast<size_t*>(block) = size;
    const size_t now = g_bytes_in_use += size;
    size_t peak = g_peak_bytes.load();
    while (now > peak && !g_peak_bytes.compare_exchange_weak(peak, now)) {
    }
    return static_cast<char*>(block) + kBlockHeader;
}
void operator delete(void* p) noexcept {
    if (!p) return;
    char* block = static_cast<char*>(p) - kBlockHeader;
    g_bytes_in_use -= *reinterpret_cast<size_t*>(block);
    std::free(block);
}
void operator delete(void* p, std::size_t) noexcept { operator delete(p); }
void* operator new[](std::size_t size) { return operator new(size); }
void operator delete[](void* p) noexcept { operator delete(p); }
void operator delete[](void* p, std::size_t) noexcept { operator delete(p); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
    try {
        return operator new(size);
    } catch (...) {
        return nullptr;
    }
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept { return operator new(size, tag); }
void operator delete(void* p, const std::nothrow_t&) noexcept { operator delete(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { operator delete(p); }

namespace qohi_test {

size_t bytes_in_use() { return g_bytes_in_use.load(); }
void reset_peak() { g_peak_bytes = g_bytes_in_use.load(); }
size_t peak_bytes() { return g_peak_bytes.load(); }

}  // namespace qohi_test
