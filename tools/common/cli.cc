// Command-line handling shared by qohienc and qohidec (see cli.h).
#include "cli.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

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
    if (args.output == "-" && isatty(STDOUT_FILENO)) {
        return program.usage_error("refusing to write binary data to a terminal; redirect "
                                   "standard output or use -o FILE");
    }
    if (args.input == "-" && isatty(STDIN_FILENO)) {
        return program.usage_error(std::string("refusing to read ") + input_kind +
                                   " from a terminal; redirect standard input or name an "
                                   "input file");
    }
    struct stat out_st;
    if (args.output == "-" || stat(args.output.c_str(), &out_st) != 0) return kContinue;
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

std::string input_name(const std::string& path) {
    return path == "-" ? "<stdin>" : path;
}

std::string library_message(const char* message, const char* status_text) {
    return message && *message ? message : status_text;
}

}  // namespace qohi_tools
