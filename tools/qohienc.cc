// qohienc: encode a PNG image as a single-frame .qohi file.
#include <qohi/qohi.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "cli.h"
#include "file_io.h"
#include "png_io.h"

using namespace qohi_tools;

namespace {

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

std::string base_name(const std::string& path) {
    size_t slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

int main(int argc, char** argv) {
    const Program prog{"qohienc", kUsage, QOHI_VERSION_STRING, qohi_version_string()};
    Args args;
    qohi_method_choice method = QOHI_CHOOSE_AUTO;
    std::vector<Option> options = {
        {"--method", 0, "a value: auto, stored or qohi", nullptr, false, [&](const std::string& m) {
             if (m == "auto") method = QOHI_CHOOSE_AUTO;
             else if (m == "stored") method = QOHI_CHOOSE_STORED;
             else if (m == "qohi") method = QOHI_CHOOSE_QOHI;
             else return prog.usage_error("unknown method '" + m + "' (use auto, stored or qohi)");
             return kContinue;
         }},
    };
    int rc = parse_args(prog, argc, argv, ".qohi", options, args);
    if (rc == kContinue) rc = check_paths(prog, args, "image data");
    if (rc != kContinue) return rc;

    std::vector<uint8_t> input;
    std::string err;
    if (!read_file(args.input, input, err)) return prog.fail(err);
    Image image;
    if (!decode_png(input.data(), input.size(), image, err)) {
        return prog.fail(input_name(args.input) + ": " + err);
    }

    qohi_write_options wopt;
    qohi_write_options_init(&wopt);
    wopt.method = method;
    qohi_writer* writer = nullptr;
    qohi_error qerr{};
    qohi_status st = qohi_writer_open_memory(&wopt, &writer, &qerr);
    if (st != QOHI_OK) {
        return prog.fail("cannot create encoder: " +
                         library_message(qerr.message, qohi_status_string(st)));
    }
    std::string frame_name = args.input == "-" ? std::string() : base_name(args.input);
    st = qohi_writer_add_frame(writer, image.pixels.data(), image.width, image.height,
                               image.channels, 0, frame_name.empty() ? nullptr : frame_name.c_str());
    void* data = nullptr;
    size_t size = 0;
    if (st == QOHI_OK) st = qohi_writer_finish(writer, &data, &size);
    std::string message = library_message(qohi_writer_message(writer), qohi_status_string(st));
    qohi_writer_destroy(writer);
    if (st != QOHI_OK) return prog.fail(input_name(args.input) + ": encoding failed: " + message);

    bool ok = write_file_atomic(args.output, static_cast<const uint8_t*>(data), size, err);
    qohi_free(data);
    if (!ok) return prog.fail(err);
    if (args.verbose) {
        double ratio = input.empty() ? 0.0 : static_cast<double>(size) / static_cast<double>(input.size());
        std::fprintf(stderr, "%s: %s: %ux%u, %u channels, %zu -> %zu bytes, ratio %.3f\n", prog.name,
                     input_name(args.input).c_str(), image.width, image.height, image.channels,
                     input.size(), size, ratio);
    }
    return kExitOk;
}
