// qohidec: decode one frame of a .qohi file to PNG.
#include <qohi/qohi.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "file_io.h"
#include "png_io.h"

namespace {

const char kProgram[] = "qohidec";

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

const char kUsage[] =
    "Usage: qohidec [OPTIONS] INPUT.qohi [-o OUTPUT.png]\n"
    "Decode a frame of a QOHI file to PNG.\n"
    "\n"
    "  INPUT.qohi             QOHI file to decode; \"-\" reads standard input\n"
    "  -o, --output FILE      output file; \"-\" writes standard output\n"
    "                         (default: INPUT with its extension replaced by .png,\n"
    "                         or standard output when INPUT is \"-\")\n"
    "  -f, --force            overwrite an existing output file\n"
    "      --frame FRAME      frame to decode: a decimal index (0 is the first)\n"
    "                         or else a frame name; required when the file holds\n"
    "                         more than one frame\n"
    "      --max-pixels N     refuse frames with more than N pixels\n"
    "                         (default: 268435456 = 2^28)\n"
    "  -v, --verbose          print frame and sizes to standard error\n"
    "  -q, --quiet            print nothing but errors\n"
    "  -h, --help             show this help and exit\n"
    "  -V, --version          show version information and exit\n"
    "\n"
    "The PNG is 8-bit RGB or RGBA, as the frame was stored. The output is written\n"
    "to a temporary file and renamed into place only when complete. Binary data\n"
    "is never written to a terminal.\n"
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

// `path` with the extension of its last component replaced by `ext`.
std::string replace_extension(const std::string& path, const std::string& ext) {
    size_t slash = path.find_last_of('/');
    size_t start = slash == std::string::npos ? 0 : slash + 1;
    size_t dot = path.find_last_of('.');
    if (dot != std::string::npos && dot > start) return path.substr(0, dot) + ext;
    return path + ext;
}

// Parses a plain decimal number (digits only, no sign or spaces).
bool parse_decimal(const std::string& text, uint64_t& value) {
    if (text.empty() || text.size() > 19) return false;
    value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
        value = value * 10 + static_cast<uint64_t>(c - '0');
    }
    return true;
}

struct Options {
    std::string input;
    std::string output;
    bool have_output = false;
    bool force = false;
    bool verbose = false;
    bool quiet = false;
    bool have_frame = false;
    std::string frame;
    uint64_t max_pixels = 0;  // 0: library default
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
                    return usage_error("option '-" + std::string(1, c) +
                                       "' cannot be combined with others in '" + arg + "'");
                } else {
                    return usage_error("unknown option '-" + std::string(1, c) + "' in '" + arg +
                                       "'");
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

        if (name == "-h" || name == "--help") {
            if (has_value) return usage_error("option '" + name + "' takes no value");
            std::fputs(kUsage, stdout);
            return kExitOk;
        } else if (name == "-V" || name == "--version") {
            if (has_value) return usage_error("option '" + name + "' takes no value");
            std::printf("%s %s (libqohi %s)\n", kProgram, QOHI_VERSION_STRING,
                        qohi_version_string());
            return kExitOk;
        } else if (name == "-o" || name == "--output") {
            if (opt.have_output) return usage_error("output given more than once");
            if (!take_value(opt.output)) {
                return usage_error("option '" + name + "' needs a file name");
            }
            if (opt.output.empty()) return usage_error("empty output file name");
            opt.have_output = true;
        } else if (name == "-f" || name == "--force") {
            if (has_value) return usage_error("option '" + name + "' takes no value");
            opt.force = true;
        } else if (name == "-v" || name == "--verbose") {
            if (has_value) return usage_error("option '" + name + "' takes no value");
            opt.verbose = true;
            opt.quiet = false;
        } else if (name == "-q" || name == "--quiet") {
            if (has_value) return usage_error("option '" + name + "' takes no value");
            opt.quiet = true;
            opt.verbose = false;
        } else if (name == "--frame") {
            if (opt.have_frame) return usage_error("--frame given more than once");
            if (!take_value(opt.frame)) {
                return usage_error("option '--frame' needs a frame index or name");
            }
            opt.have_frame = true;
        } else if (name == "--max-pixels") {
            std::string text;
            if (!take_value(text)) return usage_error("option '--max-pixels' needs a number");
            uint64_t n = 0;
            if (!parse_decimal(text, n) || n == 0) {
                return usage_error("invalid --max-pixels '" + text +
                                   "' (expected a positive decimal number)");
            }
            opt.max_pixels = n;
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
        opt.output = opt.input == "-" ? "-" : replace_extension(opt.input, ".png");
    }
    return -1;
}

std::string library_message(qohi_status status, const char* message) {
    if (message && *message) return message;
    return qohi_status_string(status);
}

struct ReaderCloser {
    qohi_reader* reader = nullptr;
    ~ReaderCloser() {
        if (reader) qohi_reader_close(reader);
    }
};

}  // namespace

int main(int argc, char** argv) {
    Options opt;
    int rc = parse_args(argc, argv, opt);
    if (rc >= 0) return rc;

    if (opt.output == "-" && isatty(STDOUT_FILENO)) {
        return usage_error("refusing to write binary data to a terminal; redirect standard "
                           "output or use -o FILE");
    }
    if (opt.input == "-" && isatty(STDIN_FILENO)) {
        return usage_error("refusing to read a QOHI file from a terminal; redirect standard "
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

    const std::string in_name = display(opt.input, false);
    std::vector<uint8_t> input;
    std::string err;
    if (!qohi_tools::read_file(opt.input, input, err)) {
        error_line(err);
        return kExitFailure;
    }

    qohi_read_options ropt;
    qohi_read_options_init(&ropt);
    if (opt.max_pixels != 0) ropt.max_pixels = opt.max_pixels;
    qohi_error qerr;
    std::memset(&qerr, 0, sizeof qerr);
    ReaderCloser rd;
    // A zero-length buffer may have data() == nullptr; give the library a
    // valid pointer anyway.
    static const uint8_t kEmpty[1] = {0};
    qohi_status st = qohi_reader_open_memory(input.empty() ? kEmpty : input.data(), input.size(),
                                             &ropt, &rd.reader, &qerr);
    if (st != QOHI_OK) {
        error_line(in_name + ": " + library_message(st, qerr.message));
        return kExitFailure;
    }

    const uint32_t count = qohi_reader_frame_count(rd.reader);
    if (count == 0) {
        error_line(in_name + ": the file contains no frames");
        return kExitFailure;
    }
    uint32_t index = 0;
    if (opt.have_frame) {
        uint64_t n = 0;
        bool numeric = parse_decimal(opt.frame, n);
        uint32_t named = 0;
        qohi_status found = qohi_reader_find_frame(rd.reader, opt.frame.c_str(), &named);
        if (numeric && n < count) {
            index = static_cast<uint32_t>(n);
            if (found == QOHI_OK && named != index && !opt.quiet) {
                std::fprintf(stderr,
                             "%s: warning: '%s' is taken as frame index %u; frame %u has that "
                             "name\n",
                             kProgram, opt.frame.c_str(), index, named);
            }
        } else if (found == QOHI_OK) {
            index = named;
        } else if (found == QOHI_ERROR_NOT_FOUND) {
            if (numeric) {
                error_line(in_name + ": no frame " + opt.frame + " (the file has " +
                           std::to_string(count) + (count == 1 ? " frame" : " frames") +
                           ", index 0 to " + std::to_string(count - 1) + ")");
            } else {
                error_line(in_name + ": no frame named '" + opt.frame + "'");
            }
            return kExitFailure;
        } else {
            error_line(in_name + ": " + library_message(found, qohi_reader_message(rd.reader)));
            return kExitFailure;
        }
    } else if (count > 1) {
        error_line(in_name + ": the file has " + std::to_string(count) +
                   " frames; choose one with --frame INDEX|NAME");
        return kExitFailure;
    }

    qohi_frame_info info;
    std::memset(&info, 0, sizeof info);
    st = qohi_reader_frame_info(rd.reader, index, &info);
    if (st != QOHI_OK) {
        error_line(in_name + ": frame " + std::to_string(index) + ": " +
                   library_message(st, qohi_reader_message(rd.reader)));
        return kExitFailure;
    }
    if (info.channels != 3 && info.channels != 4) {
        error_line(in_name + ": frame " + std::to_string(index) + " has " +
                   std::to_string(info.channels) + " channels; only RGB and RGBA can be written");
        return kExitFailure;
    }
    const uint64_t max_pixels = opt.max_pixels != 0 ? opt.max_pixels : QOHI_DEFAULT_MAX_PIXELS;
    const uint64_t pixels = uint64_t{info.width} * info.height;
    if (pixels > max_pixels) {
        error_line(in_name + ": frame " + std::to_string(index) + " is " +
                   std::to_string(info.width) + "x" + std::to_string(info.height) +
                   ", more than the limit of " + std::to_string(max_pixels) +
                   " pixels (see --max-pixels)");
        return kExitFailure;
    }

    qohi_tools::Image image;
    image.width = info.width;
    image.height = info.height;
    image.channels = info.channels;
    try {
        image.pixels.resize(static_cast<size_t>(pixels * info.channels));
    } catch (const std::exception&) {
        error_line(in_name + ": out of memory for a " + std::to_string(info.width) + "x" +
                   std::to_string(info.height) + " frame");
        return kExitFailure;
    }
    st = qohi_reader_decode_frame(rd.reader, index, image.pixels.data(), image.pixels.size(), 0,
                                  info.channels);
    if (st != QOHI_OK) {
        error_line(in_name + ": frame " + std::to_string(index) + ": " +
                   library_message(st, qohi_reader_message(rd.reader)));
        return kExitFailure;
    }
    std::string frame_name(info.name ? info.name : "", info.name ? info.name_size : 0);

    std::vector<uint8_t> png;
    if (!qohi_tools::encode_png(image, -1, png, err)) {
        error_line(in_name + ": " + err);
        return kExitFailure;
    }
    if (!qohi_tools::write_file_atomic(opt.output, png.data(), png.size(), err)) {
        error_line(err);
        return kExitFailure;
    }
    if (opt.verbose) {
        std::fprintf(stderr, "%s: %s: frame %u%s%s%s of %u, %ux%u, %u channels, %zu -> %zu bytes\n",
                     kProgram, in_name.c_str(), index, frame_name.empty() ? "" : " ('",
                     frame_name.c_str(), frame_name.empty() ? "" : "')", count, info.width,
                     info.height, info.channels, input.size(), png.size());
    }
    return kExitOk;
}
