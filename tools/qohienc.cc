// qohienc: encode a PNG image as a single-frame .qohi file.
#include <qohi/qohi.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "file_io.h"
#include "png_io.h"

namespace {

const char kProgram[] = "qohienc";

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

const char kUsage[] =
    "Usage: qohienc [OPTIONS] INPUT.png [-o OUTPUT.qohi]\n"
    "Encode a PNG image losslessly as a QOHI file.\n"
    "\n"
    "  INPUT.png              PNG file to encode; \"-\" reads standard input\n"
    "  -o, --output FILE      output file; \"-\" writes standard output\n"
    "                         (default: INPUT with its extension replaced by .qohi,\n"
    "                         or standard output when INPUT is \"-\")\n"
    "  -f, --force            overwrite an existing output file\n"
    "      --method METHOD    coding method: auto (default, the smallest),\n"
    "                         stored (raw pixels) or qohi\n"
    "  -v, --verbose          print size and compression ratio to standard error\n"
    "  -q, --quiet            print nothing but errors\n"
    "  -h, --help             show this help and exit\n"
    "  -V, --version          show version information and exit\n"
    "\n"
    "Every 8-bit PNG is accepted: grey, grey+alpha and palette images are expanded\n"
    "to RGB or RGBA without loss. 16-bit PNGs are not supported yet.\n"
    "The frame is named after the input's file name (no name for standard input).\n"
    "The output is written to a temporary file and renamed into place only when\n"
    "complete. Binary data is never written to a terminal.\n"
    "\n"
    "Exit status: 0 success, 1 failure (bad input, I/O error), 2 usage error.\n";

void error_line(const std::string& message) {
    std::fprintf(stderr, "%s: %s\n", kProgram, message.c_str());
}

int usage_error(const std::string& message) {
    std::fprintf(stderr, "%s: %s (try '%s --help')\n", kProgram, message.c_str(), kProgram);
    return kExitUsage;
}

std::string display(const std::string& path, bool output) {
    if (path == "-") return output ? "<stdout>" : "<stdin>";
    return path;
}

std::string base_name(const std::string& path) {
    size_t slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// `path` with the extension of its last component replaced by `ext`.
std::string replace_extension(const std::string& path, const std::string& ext) {
    size_t slash = path.find_last_of('/');
    size_t start = slash == std::string::npos ? 0 : slash + 1;
    size_t dot = path.find_last_of('.');
    if (dot != std::string::npos && dot > start) return path.substr(0, dot) + ext;
    return path + ext;
}

struct Options {
    std::string input;
    std::string output;
    bool have_output = false;
    bool force = false;
    bool verbose = false;
    bool quiet = false;
    qohi_method_choice method = QOHI_CHOOSE_AUTO;
};

// Returns -1 to continue, or an exit code.
int parse_args(int argc, char** argv, Options& opt) {
    std::vector<std::string> positional;
    bool options_done = false;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (options_done || arg == "-" || arg.size() < 2 || arg[0] != '-') {
            positional.push_back(arg);
            continue;
        }
        if (arg == "--") {
            options_done = true;
            continue;
        }
        // Split "--name=value"; "-oVALUE" is handled below.
        std::string name = arg;
        std::string value;
        bool has_value = false;
        if (arg.compare(0, 2, "--") == 0) {
            size_t eq = arg.find('=');
            if (eq != std::string::npos) {
                name = arg.substr(0, eq);
                value = arg.substr(eq + 1);
                has_value = true;
            }
        } else if (arg.size() > 2) {
            // Short option cluster: flags ("-fv"), optionally ending in -o with
            // its value attached or following ("-fo FILE", "-oFILE").
            size_t k = 1;
            for (; k < arg.size() && arg[k] != 'o'; ++k) {
                char c = arg[k];
                if (c == 'f') {
                    opt.force = true;
                } else if (c == 'v') {
                    opt.verbose = true;
                    opt.quiet = false;
                } else if (c == 'q') {
                    opt.quiet = true;
                    opt.verbose = false;
                } else if (c == 'h' || c == 'V') {
                    return usage_error("option '-" + std::string(1, c) + "' cannot be combined with others in '" + arg + "'");
                } else {
                    return usage_error("unknown option '-" + std::string(1, c) + "'" +
                                       (arg.size() > 2 ? " in '" + arg + "'" : std::string()));
                }
            }
            if (k == arg.size()) continue;
            name = "-o";
            if (k + 1 < arg.size()) {
                value = arg.substr(k + 1);
                has_value = true;
            }
        }
        auto take_value = [&](std::string& dest) -> bool {
            if (has_value) {
                dest = value;
                return true;
            }
            if (i + 1 >= argc) return false;
            dest = argv[++i];
            return true;
        };
        auto no_value = [&]() -> bool { return !has_value; };

        if (name == "-h" || name == "--help") {
            if (!no_value()) return usage_error("option '" + name + "' takes no value");
            std::fputs(kUsage, stdout);
            return kExitOk;
        } else if (name == "-V" || name == "--version") {
            if (!no_value()) return usage_error("option '" + name + "' takes no value");
            std::printf("%s %s (libqohi %s)\n", kProgram, QOHI_VERSION_STRING,
                        qohi_version_string());
            return kExitOk;
        } else if (name == "-o" || name == "--output") {
            if (opt.have_output) return usage_error("output given more than once");
            if (!take_value(opt.output)) return usage_error("option '" + name + "' needs a file name");
            if (opt.output.empty()) return usage_error("empty output file name");
            opt.have_output = true;
        } else if (name == "-f" || name == "--force") {
            if (!no_value()) return usage_error("option '" + name + "' takes no value");
            opt.force = true;
        } else if (name == "-v" || name == "--verbose") {
            if (!no_value()) return usage_error("option '" + name + "' takes no value");
            opt.verbose = true;
            opt.quiet = false;
        } else if (name == "-q" || name == "--quiet") {
            if (!no_value()) return usage_error("option '" + name + "' takes no value");
            opt.quiet = true;
            opt.verbose = false;
        } else if (name == "--method") {
            std::string m;
            if (!take_value(m)) return usage_error("option '--method' needs a value: auto, stored or qohi");
            if (m == "auto") opt.method = QOHI_CHOOSE_AUTO;
            else if (m == "stored") opt.method = QOHI_CHOOSE_STORED;
            else if (m == "qohi") opt.method = QOHI_CHOOSE_QOHI;
            else return usage_error("unknown method '" + m + "' (use auto, stored or qohi)");
        } else {
            return usage_error("unknown option '" + name + "'");
        }
    }
    if (positional.empty()) return usage_error("no input file");
    if (positional.size() > 1) {
        return usage_error("too many arguments ('" + positional[1] +
                           "'); give one input file, and the output with -o");
    }
    opt.input = positional[0];
    if (opt.input.empty()) return usage_error("empty input file name");
    if (!opt.have_output) {
        opt.output = opt.input == "-" ? "-" : replace_extension(opt.input, ".qohi");
    }
    return -1;
}

std::string library_message(qohi_status status, const char* message) {
    if (message && *message) return message;
    return qohi_status_string(status);
}

}  // namespace

int main(int argc, char** argv) {
    Options opt;
    int rc = parse_args(argc, argv, opt);
    if (rc >= 0) return rc;

    // Checks that need no work done first.
    if (opt.output == "-" && isatty(STDOUT_FILENO)) {
        return usage_error("refusing to write binary data to a terminal; redirect standard "
                           "output or use -o FILE");
    }
    if (opt.input == "-" && isatty(STDIN_FILENO)) {
        return usage_error("refusing to read image data from a terminal; redirect standard "
                           "input or name an input file");
    }
    if (opt.output != "-") {
        struct stat out_st;
        if (stat(opt.output.c_str(), &out_st) == 0) {
            struct stat in_st;
            if (opt.input != "-" && stat(opt.input.c_str(), &in_st) == 0 &&
                in_st.st_dev == out_st.st_dev && in_st.st_ino == out_st.st_ino) {
                error_line("'" + opt.output + "': output would overwrite the input; use -o");
                return kExitFailure;
            }
            if (S_ISDIR(out_st.st_mode)) {
                error_line("'" + opt.output + "' is a directory");
                return kExitFailure;
            }
            if (S_ISREG(out_st.st_mode) && !opt.force) {
                error_line("'" + opt.output + "' already exists; use -f/--force to overwrite it");
                return kExitFailure;
            }
        }
    }

    std::vector<uint8_t> input;
    std::string err;
    if (!qohi_tools::read_file(opt.input, input, err)) {
        error_line(err);
        return kExitFailure;
    }
    qohi_tools::Image image;
    if (!qohi_tools::decode_png(input.data(), input.size(), image, err)) {
        error_line(display(opt.input, false) + ": " + err);
        return kExitFailure;
    }

    qohi_write_options wopt;
    qohi_write_options_init(&wopt);
    wopt.method = opt.method;
    qohi_writer* writer = nullptr;
    qohi_error qerr;
    std::memset(&qerr, 0, sizeof qerr);
    qohi_status st = qohi_writer_open_memory(&wopt, &writer, &qerr);
    if (st != QOHI_OK) {
        error_line("cannot create encoder: " + library_message(st, qerr.message));
        return kExitFailure;
    }
    std::string frame_name = opt.input == "-" ? std::string() : base_name(opt.input);
    st = qohi_writer_add_frame(writer, image.pixels.data(), image.width, image.height,
                               image.channels, 0, frame_name.empty() ? nullptr : frame_name.c_str());
    void* data = nullptr;
    size_t size = 0;
    if (st == QOHI_OK) st = qohi_writer_finish(writer, &data, &size);
    if (st != QOHI_OK) {
        error_line(display(opt.input, false) + ": encoding failed: " +
                   library_message(st, qohi_writer_message(writer)));
        qohi_writer_destroy(writer);
        return kExitFailure;
    }
    qohi_writer_destroy(writer);

    bool ok = qohi_tools::write_file_atomic(opt.output, static_cast<const uint8_t*>(data), size, err);
    qohi_free(data);
    if (!ok) {
        error_line(err);
        return kExitFailure;
    }
    if (opt.verbose) {
        double ratio = input.empty() ? 0.0 : static_cast<double>(size) / static_cast<double>(input.size());
        std::fprintf(stderr, "%s: %s: %ux%u, %u channels, %zu -> %zu bytes, ratio %.3f\n", kProgram,
                     display(opt.input, false).c_str(), image.width, image.height, image.channels,
                     input.size(), size, ratio);
    }
    return kExitOk;
}
