// Counting the bytes a test program allocates: a program linked with
// alloc_counter.cc has the global operator new and delete replaced by ones
// that count the bytes in use and the most in use at once.
#ifndef QOHI_TEST_ALLOC_COUNTER_H
#define QOHI_TEST_ALLOC_COUNTER_H

#include <cstddef>

namespace qohi_test {

size_t bytes_in_use();
// Starts a new peak at the bytes in use now.
void reset_peak();
size_t peak_bytes();

// Most bytes in use at once while `run` ran, beyond those in use before.
template <class F>
size_t peak_bytes_during(F&& run) {
    const size_t before = bytes_in_use();
    reset_peak();
    run();
    return peak_bytes() - before;
}

}  // namespace qohi_test

#endif
