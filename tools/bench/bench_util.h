// Helpers shared by the benchmarks qohi_bench and qohi_sets_bench: timing,
// command-line parsing, finding PNGs, comparing pixels and the guarded main.
#ifndef QOHI_BENCH_UTIL_H
#define QOHI_BENCH_UTIL_H

#include <qohi/qohi.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

namespace qohi_bench_util {

using Clock = std::chrono::steady_clock;

// Wall-clock seconds since `t0`.
double seconds_since(Clock::time_point t0);

// Frees memory returned by libqohi (for std::unique_ptr).
struct QohiDeleter {
    void operator()(void* p) const { qohi_free(p); }
};

// True for a ".png" extension, in any case.
bool has_png_extension(const std::filesystem::path& p);

// Matches `--name VALUE` or `--name=VALUE` at argv[i]. Returns 1 and sets
// `value` (advancing i) on a match, 0 if argv[i] is another argument, -1 if
// the value is missing (reported on stderr as "PROGRAM: --name needs a value").
int match_option(const char* program, const char* name, int argc, char** argv, int& i,
                 std::string& value);

// Parses a decimal number in [lo, hi] that fills all of `s`.
bool parse_number(const std::string& s, long lo, long hi, long& out);

// "" if the `size` bytes at `a` and `b` are equal, otherwise where they first
// differ ("pixel mismatch at x=.. y=.. channel .."), for an image `width`
// pixels wide with `channels` bytes a pixel.
std::string first_mismatch(const uint8_t* a, const uint8_t* b, size_t size, uint32_t width,
                           uint32_t channels);

// printf-style formatting of one number.
std::string fmt(const char* f, double v);

// Runs `body` and returns its exit status; an exception escaping it is
// reported as "PROGRAM: fatal: ..." on stderr and gives exit status 1.
int run_guarded(const char* program, const std::function<int()>& body);

}  // namespace qohi_bench_util

#endif
