// qohidec: decode one frame of a .qohi file to PNG.
#include <qohi/qohi.h>

#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "cli.h"
#include "file_io.h"
#include "png_io.h"

using namespace qohi_tools;

namespace {

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

struct ReaderCloser {
    qohi_reader* reader = nullptr;
    ~ReaderCloser() {
        if (reader) qohi_reader_close(reader);
    }
};

}  // namespace

int main(int argc, char** argv) {
    const Program prog{"qohidec", kUsage, QOHI_VERSION_STRING, qohi_version_string()};
    Args args;
    bool have_frame = false;
    std::string frame;
    uint64_t max_pixels = 0;  // 0: library default
    std::vector<Option> options = {
        {"--frame", 0, "a frame index or name", "--frame given more than once", false,
         [&](const std::string& value) {
             frame = value;
             have_frame = true;
             return kContinue;
         }},
        {"--max-pixels", 0, "a number", nullptr, false, [&](const std::string& text) {
             if (!parse_decimal(text, max_pixels) || max_pixels == 0) {
                 return prog.usage_error("invalid --max-pixels '" + text +
                                         "' (expected a positive decimal number)");
             }
             return kContinue;
         }},
    };
    int rc = parse_args(prog, argc, argv, ".png", options, args);
    if (rc == kContinue) rc = check_paths(prog, args, "a QOHI file");
    if (rc != kContinue) return rc;

    const std::string in_name = input_name(args.input);
    std::vector<uint8_t> input;
    std::string err;
    if (!read_file(args.input, input, err)) return prog.fail(err);

    qohi_read_options ropt;
    qohi_read_options_init(&ropt);
    if (max_pixels != 0) ropt.max_pixels = max_pixels;
    qohi_error qerr{};
    ReaderCloser rd;
    // A zero-length buffer may have data() == nullptr; give the library a
    // valid pointer anyway.
    static const uint8_t kEmpty[1] = {0};
    qohi_status st = qohi_reader_open_memory(input.empty() ? kEmpty : input.data(), input.size(),
                                             &ropt, &rd.reader, &qerr);
    if (st != QOHI_OK) {
        return prog.fail(in_name + ": " + library_message(qerr.message, qohi_status_string(st)));
    }
    auto reader_failure = [&](const std::string& what, qohi_status status) {
        return prog.fail(in_name + ": " + what +
                         library_message(qohi_reader_message(rd.reader), qohi_status_string(status)));
    };

    const uint32_t count = qohi_reader_frame_count(rd.reader);
    if (count == 0) return prog.fail(in_name + ": the file contains no frames");
    uint32_t index = 0;
    if (have_frame) {
        uint64_t n = 0;
        bool numeric = parse_decimal(frame, n);
        uint32_t named = 0;
        qohi_status found = qohi_reader_find_frame(rd.reader, frame.c_str(), &named);
        if (numeric && n < count) {
            index = static_cast<uint32_t>(n);
            if (found == QOHI_OK && named != index && !args.quiet) {
                prog.say("warning: '" + frame + "' is taken as frame index " +
                         std::to_string(index) + "; frame " + std::to_string(named) +
                         " has that name");
            }
        } else if (found == QOHI_OK) {
            index = named;
        } else if (found == QOHI_ERROR_NOT_FOUND && numeric) {
            return prog.fail(in_name + ": no frame " + frame + " (the file has " +
                             std::to_string(count) + (count == 1 ? " frame" : " frames") +
                             ", index 0 to " + std::to_string(count - 1) + ")");
        } else if (found == QOHI_ERROR_NOT_FOUND) {
            return prog.fail(in_name + ": no frame named '" + frame + "'");
        } else {
            return reader_failure("", found);
        }
    } else if (count > 1) {
        return prog.fail(in_name + ": the file has " + std::to_string(count) +
                         " frames; choose one with --frame INDEX|NAME");
    }
    const std::string frame_label = "frame " + std::to_string(index);

    qohi_frame_info info{};
    st = qohi_reader_frame_info(rd.reader, index, &info);
    if (st != QOHI_OK) return reader_failure(frame_label + ": ", st);
    if (info.channels != 3 && info.channels != 4) {
        return prog.fail(in_name + ": " + frame_label + " has " + std::to_string(info.channels) +
                         " channels; only RGB and RGBA can be written");
    }
    const uint64_t limit = max_pixels != 0 ? max_pixels : QOHI_DEFAULT_MAX_PIXELS;
    const uint64_t pixels = uint64_t{info.width} * info.height;
    if (pixels > limit) {
        return prog.fail(in_name + ": " + frame_label + " is " + std::to_string(info.width) + "x" +
                         std::to_string(info.height) + ", more than the limit of " +
                         std::to_string(limit) + " pixels (see --max-pixels)");
    }

    Image image;
    image.width = info.width;
    image.height = info.height;
    image.channels = info.channels;
    try {
        image.pixels.resize(static_cast<size_t>(pixels * info.channels));
    } catch (const std::exception&) {
        return prog.fail(in_name + ": out of memory for a " + std::to_string(info.width) + "x" +
                         std::to_string(info.height) + " frame");
    }
    st = qohi_reader_decode_frame(rd.reader, index, image.pixels.data(), image.pixels.size(), 0,
                                  info.channels);
    if (st != QOHI_OK) return reader_failure(frame_label + ": ", st);
    std::string frame_name(info.name ? info.name : "", info.name ? info.name_size : 0);

    std::vector<uint8_t> png;
    if (!encode_png(image, -1, png, err)) return prog.fail(in_name + ": " + err);
    if (!write_file_atomic(args.output, png.data(), png.size(), err)) return prog.fail(err);
    if (args.verbose) {
        std::fprintf(stderr, "%s: %s: frame %u%s%s%s of %u, %ux%u, %u channels, %zu -> %zu bytes\n",
                     prog.name, in_name.c_str(), index, frame_name.empty() ? "" : " ('",
                     frame_name.c_str(), frame_name.empty() ? "" : "')", count, info.width,
                     info.height, info.channels, input.size(), png.size());
    }
    return kExitOk;
}
