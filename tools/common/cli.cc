// Command-line handling shared by qohienc and qohidec (see cli.h).
#include "cli.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace qohi_tools {

namespace {

// `path` with the extension of its last component replaced by `ext`.
std::string replace_extension(const std::string& path, const std::string& ext) {
    size_t slash = path.find_last_of('/');
    size_t start = slash == std::string::npos ? 0 : slash + 1;
    size_t dot = path.find_last_of('.');
    if (dot != std::string::npos && dot > start) return path.substr(0, dot) + ext;
    return path + ext;
}

}  // namespace

void Program::say(const std::string& message) const {
    std::fprintf(stderr, "%s: %s\n", name, message.c_str());
}

int Program::fail(const std::string& message) const {
    say(message);
    return kExitFailure;
}

int Program::usage_error(const std::string& message) const {
    std::fprintf(stderr, "%s: %s (try '%s --help')\n", name, message.c_str(), name);
    return kExitUsage;
}

int parse_args(const Program& program, int argc, char** argv, const char* output_extension,
               std::vector<Option> options, Args& args) {
    options.insert(options.end(), {
        {"--help", 'h', nullptr, nullptr, true, [&](const std::string&) {
             std::fputs(program.usage, stdout);
             return kExitOk;
         }},
        {"--version", 'V', nullptr, nullptr, true, [&](const std::string&) {
             std::printf("%s %s (libqohi %s)\n", program.name, program.version,
                         program.library_version);
             return kExitOk;
         }},
        {"--output", 'o', "a file name", "output given more than once", false,
         [&](const std::string& value) {
             if (value.empty()) return program.usage_error("empty output file name");
             args.output = value;
             args.output_given = true;
             return kContinue;
         }},
        {"--force", 'f', nullptr, nullptr, false, [&](const std::string&) {
             args.force = true;
             return kContinue;
         }},
        {"--verbose", 'v', nullptr, nullptr, false, [&](const std::string&) {
             args.verbose = true;
             args.quiet = false;
             return kContinue;
         }},
        {"--quiet", 'q', nullptr, nullptr, false, [&](const std::string&) {
             args.quiet = true;
             args.verbose = false;
             return kContinue;
         }},
    });
    auto find = [&](const std::string& name) -> const Option* {
        for (const Option& o : options) {
            if (name == o.name || (o.short_name && name == std::string{'-', o.short_name})) return &o;
        }
        return nullptr;
    };
    std::vector<bool> seen(options.size());
    std::vector<std::string> positional;
    bool options_done = false;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (options_done || arg == "-" || arg.size() < 2 || arg[0] != '-') {
            positional.push_back(arg);
            continue;
        }
        if (arg == "--") {
            options_done = true;
            continue;
        }
        std::string name = arg;
        std::string value;
        bool has_value = false;
        const Option* option = nullptr;
        // Uses `option` as `name`, with `value` if `has_value`, else taking the next argument.
        auto use = [&]() -> int {
            if (!option) return program.usage_error("unknown option '" + name + "'");
            if (option->repeated && seen[option - options.data()]) {
                return program.usage_error(option->repeated);
            }
            seen[option - options.data()] = true;
            if (!option->value && has_value) {
                return program.usage_error("option '" + name + "' takes no value");
            }
            if (option->value && !has_value) {
                if (i + 1 >= argc) {
                    return program.usage_error("option '" + name + "' needs " + option->value);
                }
                value = argv[++i];
            }
            return option->set(value);
        };
        if (arg.compare(0, 2, "--") == 0) {
            size_t eq = arg.find('=');
            if (eq != std::string::npos) {
                name = arg.substr(0, eq);
                value = arg.substr(eq + 1);
                has_value = true;
            }
            option = find(name);
        } else {
            // "-x", or a cluster of flags that may end in an option taking a
            // value, attached or following: "-fv", "-fo FILE", "-oFILE".
            for (size_t k = 1;; ++k) {
                name = std::string{'-', arg[k]};
                option = find(name);
                if (!option) {
                    return program.usage_error("unknown option '" + name + "'" +
                                               (arg.size() > 2 ? " in '" + arg + "'" : ""));
                }
                if (option->alone && arg.size() > 2) {
                    return program.usage_error("option '" + name +
                                               "' cannot be combined with others in '" + arg + "'");
                }
                if (k + 1 == arg.size()) break;
                if (option->value) {
                    value = arg.substr(k + 1);
                    has_value = true;
                    break;
                }
                int rc = use();
                if (rc != kContinue) return rc;
            }
        }
        int rc = use();
        if (rc != kContinue) return rc;
    }
    if (positional.empty()) return program.usage_error("no input file");
    if (positional.size() > 1) {
        return program.usage_error("too many arguments ('" + positional[1] +
                                   "'); give one input file, and the output with -o");
    }
    args.input = positional[0];
    if (args.input.empty()) return program.usage_error("empty input file name");
    if (args.output.empty()) {
        args.output = args.input == "-" ? "-" : replace_extension(args.input, output_extension);
    }
    return kContinue;
}

int check_paths(const Program& program, const Args& args, const char* input_kind) {
    int rc = check_terminals(program, args, input_kind, true);
    if (rc != kContinue) return rc;
    return check_output(program, args);
}

int check_terminals(const Program& program, const Args& args, const char* input_kind,
                    bool binary_stdout) {
    if (binary_stdout && args.output == "-" && isatty(STDOUT_FILENO)) {
        return program.usage_error("refusing to write binary data to a terminal; redirect "
                                   "standard output or use -o FILE");
    }
    if (args.input == "-" && isatty(STDIN_FILENO)) {
        return program.usage_error(std::string("refusing to read ") + input_kind +
                                   " from a terminal; redirect standard input or name an "
                                   "input file");
    }
    return kContinue;
}

int check_output(const Program& program, const Args& args) {
    struct stat out_st;
    if (args.output == "-") return kContinue;
    if (lstat(args.output.c_str(), &out_st) != 0) {
        // A new file: its folder must exist and take files.
        const size_t slash = args.output.find_last_of('/');
        const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : args.output.substr(0, slash);
        struct stat dir_st;
        int err = 0;
        if (stat(dir.c_str(), &dir_st) != 0) err = errno;
        else if (!S_ISDIR(dir_st.st_mode)) err = ENOTDIR;
        else if (access(dir.c_str(), W_OK | X_OK) != 0) err = errno;
        if (err != 0) {
            return program.fail("cannot write '" + printable(args.output) + "': '" + printable(dir) +
                                "': " + std::strerror(err));
        }
        return kContinue;
    }
    if (stat(args.output.c_str(), &out_st) != 0) return kContinue;  // a dangling link: its file is created
    struct stat in_st;
    if (args.input != "-" && stat(args.input.c_str(), &in_st) == 0 &&
        in_st.st_dev == out_st.st_dev && in_st.st_ino == out_st.st_ino) {
        return program.fail("'" + args.output + "': output would overwrite the input; use -o");
    }
    if (S_ISDIR(out_st.st_mode)) return program.fail("'" + args.output + "' is a directory");
    if (S_ISREG(out_st.st_mode) && !args.force) {
        return program.fail("'" + args.output + "' already exists; use -f/--force to overwrite it");
    }
    return kContinue;
}

bool parse_decimal(const std::string& text, uint64_t& value) {
    if (text.empty() || text.size() > 19) return false;
    value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
        value = value * 10 + static_cast<uint64_t>(c - '0');
    }
    return true;
}

Option threads_option(const Program& program, uint32_t& threads) {
    constexpr uint64_t kMaxThreads = 1024;
    auto set = [&program, &threads](const std::string& text) {
        uint64_t n = 0;
        if (!parse_decimal(text, n) || n > kMaxThreads) {
            return program.usage_error("invalid --threads '" + text + "' (expected a decimal number from 0 to " +
                                       std::to_string(kMaxThreads) + ")");
        }
        threads = static_cast<uint32_t>(n);
        return kContinue;
    };
    return {"--threads", 0, "a number", "--threads given more than once", false, set};
}

std::string printable(const std::string& text) {
    static const char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(text.size());
    const auto* s = reinterpret_cast<const unsigned char*>(text.data());
    const size_t n = text.size();
    auto escape = [&](unsigned char c) {
        out += "\\x";
        out += kHex[c >> 4];
        out += kHex[c & 15];
    };
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f) escape(c);
            else if (c == '\\') out += "\\\\";
            else out += static_cast<char>(c);
            ++i;
            continue;
        }
        // A complete, shortest-form UTF-8 sequence of a scalar value is kept.
        size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
        bool ok = len != 0 && c <= 0xf4 && i + len <= n;
        uint32_t cp = ok ? (c & (0x7fu >> len)) : 0;
        for (size_t k = 1; ok && k < len; ++k) {
            if ((s[i + k] & 0xc0) != 0x80) ok = false;
            else cp = (cp << 6) | (s[i + k] & 0x3fu);
        }
        if (ok) {
            static const uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
            ok = cp >= kMin[len] && cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff) &&
                 !(cp >= 0x80 && cp < 0xa0);  // C1 controls
        }
        if (!ok) {
            escape(c);
            ++i;
            continue;
        }
        out.append(text, i, len);
        i += len;
    }
    return out;
}

ProgressLine::ProgressLine(const Program& program, bool enabled)
    : program_(program), enabled_(enabled) {}

ProgressLine::~ProgressLine() { finish(); }

void ProgressLine::update(const std::string& what, uint64_t done, uint64_t total, const char* unit) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (active_ && done != total && what == last_what_ &&
        now - last_ < std::chrono::milliseconds(100)) {
        return;
    }
    last_ = now;
    last_what_ = what;
    std::string text = std::string(program_.name) + ": " + what + " " + std::to_string(done) + "/" +
                       std::to_string(total);
    if (unit) text += std::string(" ") + unit;
    const size_t length = text.size();
    if (length < shown_) text.append(shown_ - length, ' ');
    std::fprintf(stderr, "\r%s", text.c_str());
    std::fflush(stderr);
    shown_ = length;
    active_ = true;
}

void ProgressLine::finish() {
    if (!active_) return;
    std::fputc('\n', stderr);
    std::fflush(stderr);
    active_ = false;
    shown_ = 0;
}

std::string input_name(const std::string& path) {
    return path == "-" ? "<stdin>" : path;
}

std::string library_message(const char* message, const char* status_text) {
    return message && *message ? message : status_text;
}

}  // namespace qohi_tools
