// Regression driver: replays files through a fuzz target without libFuzzer.
//
//   fuzz_<target>_replay PATH...
//
// Every PATH is a file or a directory (its regular files, recursively, in
// name order); missing paths are skipped. Each file is passed once to
// LLVMFuzzerTestOneInput(). A target reports a failed check by aborting; the
// driver then names the file on stderr. Exit status 0 when every file
// passed, 2 on a usage error.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

namespace fs = std::filesystem;

char g_current[4096];  // the file being replayed, for the signal handler

void on_fatal_signal(int sig) {
    const char head[] = "\n*** fuzz replay: crashed on ";
    (void)!write(2, head, sizeof head - 1);
    (void)!write(2, g_current, std::strlen(g_current));
    (void)!write(2, "\n", 1);
    signal(sig, SIG_DFL);
    raise(sig);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s FILE-OR-DIR...\n", argv[0]);
        return 2;
    }
    for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) signal(sig, on_fatal_signal);

    std::vector<fs::path> files;
    for (int i = 1; i < argc; ++i) {
        const fs::path p(argv[i]);
        std::error_code ec;
        if (fs::is_directory(p, ec)) {
            std::vector<fs::path> found;
            for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::recursive_directory_iterator();
                 it.increment(ec))
                if (it->is_regular_file(ec) && it->path().filename().string()[0] != '.') found.push_back(it->path());
            std::sort(found.begin(), found.end());
            files.insert(files.end(), found.begin(), found.end());
        } else if (fs::is_regular_file(p, ec)) {
            files.push_back(p);
        } else {
            std::fprintf(stderr, "fuzz replay: skipping %s (not found)\n", argv[i]);
        }
    }

    for (const fs::path& f : files) {
        std::snprintf(g_current, sizeof g_current, "%s", f.c_str());
        std::ifstream in(f, std::ios::binary);
        if (!in) {
            std::fprintf(stderr, "fuzz replay: cannot read %s\n", f.c_str());
            return 1;
        }
        std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        // A private copy of exactly the file's size, as libFuzzer passes it,
        // so that reads past the end are caught by sanitizers.
        std::unique_ptr<uint8_t[]> copy(new uint8_t[data.size() ? data.size() : 1]);
        if (!data.empty()) std::memcpy(copy.get(), data.data(), data.size());
        LLVMFuzzerTestOneInput(copy.get(), data.size());
    }
    std::printf("fuzz replay: %zu files passed\n", files.size());
    return 0;
}
