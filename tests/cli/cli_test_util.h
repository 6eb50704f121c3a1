// Helpers shared by the end-to-end tests of the command-line tools
// (cli_test.cc, collection_test.cc): files, temporary folders, running a
// program as a process with its output captured, and reading and writing
// PNGs with libpng directly (independently of the tools' PNG code).
// tests/cli/CMakeLists.txt defines the paths of the tools under test.
#ifndef QOHI_CLI_TEST_UTIL_H
#define QOHI_CLI_TEST_UTIL_H

#include <gtest/gtest.h>
#include <png.h>

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#ifndef QOHIENC_PATH
#error "QOHIENC_PATH must be defined"
#endif
#ifndef QOHIDEC_PATH
#error "QOHIDEC_PATH must be defined"
#endif

namespace qohi_cli_test {

using Bytes = std::vector<uint8_t>;

// The tools under test.
inline const std::string kEnc = QOHIENC_PATH;
inline const std::string kDec = QOHIDEC_PATH;

// ------------------------------------------------------------------ files

// The contents of a file; empty if it cannot be read.
Bytes read_bytes(const std::string& path);
std::string read_text(const std::string& path);

// Writes (replaces) a file, creating its parent folders; a failure fails the
// current test.
void write_bytes(const std::string& path, const Bytes& data);

// True if `path` exists (a dangling symbolic link counts).
bool exists(const std::string& path);

bool contains(const std::string& haystack, const std::string& needle);

// Creates a fresh folder ${TMPDIR:-/tmp}/NAME-XXXXXX and sets `dir` to it.
::testing::AssertionResult make_temp_dir(const std::string& name, std::string& dir);

// Removes `dir` and everything below it (nothing if `dir` is empty); errors
// are ignored.
void remove_temp_dir(const std::string& dir);

// ---------------------------------------------------------------- processes

struct RunResult {
    int exit_code = -1;  // 128 + signal if killed by a signal
    std::string out;     // captured stdout (unless redirected)
    std::string err;     // captured stderr
};

// Runs args[0] with the given arguments in `work_dir`. stdin comes from
// `stdin_path`; stdout goes to `stdout_path` (default: captured);
// `stdout_fd` >= 0 overrides stdout with an open descriptor. The captured
// output is kept in files in `capture_dir` (default: `work_dir`) while the
// program runs.
RunResult run(const std::vector<std::string>& args, const std::string& work_dir,
              const std::string& stdin_path = "/dev/null", const std::string& stdout_path = "",
              int stdout_fd = -1, const std::string& capture_dir = "");

// Starts args[0] in `work_dir` without waiting: stdin from /dev/null,
// stdout and stderr to the files named. `in_child`, if given, runs in the
// child just before exec (to set limits, signal dispositions). Returns the
// pid, or -1 after failing the current test.
pid_t start(const std::vector<std::string>& args, const std::string& work_dir, const std::string& stdout_path,
            const std::string& stderr_path, void (*in_child)() = nullptr);

// Waits up to `timeout_seconds` for `pid` to end; its status as in
// RunResult::exit_code, or -1 after killing it (SIGKILL) on a timeout.
int wait_for(pid_t pid, int timeout_seconds);

// "exit N, stderr: [...]", for failure messages.
std::string describe(const RunResult& r);

// The arguments, each followed by a space (for SCOPED_TRACE).
std::string join_args(const std::vector<std::string>& args);

// `r` is a usage error of `tool`: exit status 2 and stderr starting with
// "TOOL: ".
::testing::AssertionResult is_usage_error(const RunResult& r, const std::string& tool);

// ------------------------------------------------------------ PNG (libpng)

// A PNG as stored: header, palette, transparency, ICC profile and text
// chunks (those before the image data), and the rows of packed samples,
// de-interlaced. No expansion transform is applied.
struct RawPng {
    uint32_t width = 0, height = 0;
    int bit_depth = 0, color_type = 0, interlace = 0;
    std::vector<std::vector<uint8_t>> rows;  // packed samples, de-interlaced
    std::vector<png_color> palette;
    std::vector<uint8_t> trns_alpha;          // palette tRNS
    bool has_trns_key = false;
    png_color_16 trns_key{};
    std::string icc_name;                      // iCCP
    Bytes icc;
    std::map<std::string, std::string> text;  // tEXt / zTXt / iTXt: key -> text
};

// Reads a PNG with libpng; false with `error` set if it is not a valid PNG.
bool read_raw_png(const Bytes& data, RawPng& raw, std::string& error);

// A PNG to write: the header, optional chunks, and the samples.
struct PngSpec {
    uint32_t width = 0, height = 0;
    int bit_depth = 8;
    int color_type = PNG_COLOR_TYPE_GRAY;
    bool interlace = false;
    std::vector<png_color> palette;
    std::vector<uint8_t> trns_alpha;
    bool trns_key = false;
    png_color_16 key{};
    std::string icc_name;                                   // iCCP if `icc` is not empty
    Bytes icc;
    std::vector<std::pair<std::string, std::string>> text;  // uncompressed tEXt chunks
    std::vector<std::vector<unsigned>> samples;             // per row: channel samples
};

// Writes `spec` as a PNG with libpng; a failure fails the current test and
// returns an empty buffer.
Bytes make_png(const PngSpec& spec);

}  // namespace qohi_cli_test

#endif
