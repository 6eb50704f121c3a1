// Command-line handling shared by qohienc and qohidec: error output, option
// parsing, and the checks on the input and output paths made before any work.
#ifndef QOHI_TOOLS_CLI_H
#define QOHI_TOOLS_CLI_H

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace qohi_tools {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
// Finished, but not everything came through as asked: files left out
// (qohienc --images-only), broken images stored as they are (--skip-bad),
// frames lost in a damaged file (qohidec --recover).
constexpr int kExitIncomplete = 3;
constexpr int kContinue = -1;  // from the parsing steps: go on

struct Program {
    const char* name;
    const char* usage;            // printed by --help
    const char* version;          // QOHI_VERSION_STRING
    const char* library_version;  // qohi_version_string()

    // Prints "NAME: MESSAGE" to standard error.
    void say(const std::string& message) const;
    // say(message), then returns kExitFailure.
    int fail(const std::string& message) const;
    // Prints "NAME: MESSAGE (try 'NAME --help')" and returns kExitUsage.
    int usage_error(const std::string& message) const;
};

// One option of a tool. An option that takes a value is given as "--name=V" or
// "--name V", or with its short name as "-xV" or "-x V", also at the end of a
// cluster of flags ("-fxV").
struct Option {
    const char* name;      // long name, with its "--"
    char short_name;       // 0 if none
    const char* value;     // for "option '-x' needs ..." ("a file name"); nullptr: a flag
    const char* repeated;  // usage error when given twice; nullptr: allowed
    bool alone;            // may not be part of a cluster of short options
    // Called with the value ("" for a flag). Returns kContinue or an exit code.
    std::function<int(const std::string& value)> set;
};

// What every tool takes: one input, -o/--output, -f/--force, -v/--verbose,
// -q/--quiet (and -h/--help, -V/--version, which exit at once).
struct Args {
    std::string input;
    std::string output;  // defaults to the input with `output_extension`, or "-"
    bool output_given = false;  // -o/--output was on the command line
    bool force = false;
    bool verbose = false;
    bool quiet = false;
};

// Parses the command line with the common options and `options`. Returns
// kContinue, or an exit code after printing help, the version or an error.
int parse_args(const Program& program, int argc, char** argv, const char* output_extension,
               std::vector<Option> options, Args& args);

// Refuses a terminal as standard output or (naming `input_kind`) as standard
// input, and an output that check_output refuses. Returns kContinue or an
// exit code.
// (check_terminals followed by check_output.)
int check_paths(const Program& program, const Args& args, const char* input_kind);

// The terminal half of check_paths: standard input (when the input is "-")
// and, if `binary_stdout`, standard output (when the output is "-").
int check_terminals(const Program& program, const Args& args, const char* input_kind,
                    bool binary_stdout);

// The file half of check_paths: an existing output that is the input, a
// directory, or a regular file without --force; a new output whose folder
// is missing or not writable.
int check_output(const Program& program, const Args& args);

// Parses a plain decimal number (digits only, no sign or spaces, < 10^19).
bool parse_decimal(const std::string& text, uint64_t& value);

// The --threads N option of both tools: sets `threads` (0: one per core).
Option threads_option(const Program& program, uint32_t& threads);

// `text` with control characters and invalid UTF-8 bytes shown as \xNN and
// backslashes as \\, so that a name never breaks a message line.
std::string printable(const std::string& text);

// A single updating status line on standard error ("NAME: packing 12/345
// images"), rewritten in place with '\r' at most a few times a second. It
// prints nothing unless enabled. finish() ends the line (call it before any
// other message); the destructor calls it too.
class ProgressLine {
public:
    ProgressLine(const Program& program, bool enabled);
    ~ProgressLine();
    ProgressLine(const ProgressLine&) = delete;
    ProgressLine& operator=(const ProgressLine&) = delete;

    bool enabled() const { return enabled_; }
    // Shows "NAME: WHAT DONE/TOTAL[ UNIT]" (throttled; always shown when done == total).
    void update(const std::string& what, uint64_t done, uint64_t total, const char* unit = nullptr);
    void finish();

private:
    const Program& program_;
    bool enabled_;
    bool active_ = false;  // a line is on the screen, not yet ended
    size_t shown_ = 0;     // length of the text on the screen
    std::string last_what_;
    std::chrono::steady_clock::time_point last_;
};

// How messages name an input: "<stdin>" for "-".
std::string input_name(const std::string& path);

// The library's `message` when there is one, else `status_text`.
std::string library_message(const char* message, const char* status_text);

}  // namespace qohi_tools

#endif
