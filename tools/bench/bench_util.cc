#include "bench_util.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>

namespace qohi_bench_util {

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

bool has_png_extension(const std::filesystem::path& p) {
    std::string ext = p.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return ext == ".png";
}

int match_option(const char* program, const char* name, int argc, char** argv, int& i,
                 std::string& value) {
    const std::string a = argv[i];
    const std::string n = name;
    if (a.compare(0, n.size() + 1, n + "=") == 0) {
        value = a.substr(n.size() + 1);
        return 1;
    }
    if (a != n) return 0;
    if (i + 1 >= argc) {
        std::fprintf(stderr, "%s: %s needs a value\n", program, name);
        return -1;
    }
    value = argv[++i];
    return 1;
}

bool parse_number(const std::string& s, long lo, long hi, long& out) {
    char* end = nullptr;
    errno = 0;
    const long n = std::strtol(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || errno != 0 || n < lo || n > hi) return false;
    out = n;
    return true;
}

std::string first_mismatch(const uint8_t* a, const uint8_t* b, size_t size, uint32_t width,
                           uint32_t channels) {
    if (size == 0 || std::memcmp(a, b, size) == 0) return "";
    size_t i = 0;
    while (i < size && a[i] == b[i]) ++i;
    const size_t px = i / channels;
    return "pixel mismatch at x=" + std::to_string(px % width) + " y=" +
           std::to_string(px / width) + " channel " + std::to_string(i % channels);
}

std::string fmt(const char* f, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}

int run_guarded(const char* program, const std::function<int()>& body) {
    try {
        return body();
    } catch (const std::exception& ex) {
        std::fprintf(stderr, "%s: fatal: %s\n", program, ex.what());
    } catch (...) {
        std::fprintf(stderr, "%s: fatal: unknown exception\n", program);
    }
    return 1;
}

}  // namespace qohi_bench_util
