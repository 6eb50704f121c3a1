// qohi_test_pixels: the plugin tests' independent oracle. It decodes PNG
// files with the tools' libpng reader and .qohi files with libqohi, so a
// host's output can be checked without trusting the host or the plugin.
//
//   qohi_test_pixels compare [--channels N] LEFT... -- RIGHT...
//       Every file stands for its frames (a PNG for one, a .qohi file for all
//       of its frames, in order). The two lists of frames must have the same
//       length, and frame k on the left the same size and the same RGBA
//       pixels as frame k on the right (RGB is compared as RGBA with alpha
//       255). --channels N also requires every .qohi frame on the left to be
//       stored with N channels (3 or 4). Exit 0 if equal, 1 if not.
//   qohi_test_pixels names FILE.qohi
//       Prints the name of every frame, one a line ("" for unnamed frames).
//   qohi_test_pixels info FILE.qohi
//       Prints "WIDTHxHEIGHT CHANNELS REFERENCE" for every frame (REFERENCE
//       is -1 for a frame coded on its own).
//
// Files are recognised by their first bytes, not their names. Exit status 2
// on a usage error or an unreadable file.
#include <qohi/qohi.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "file_io.h"
#include "png_io.h"

namespace {

constexpr int kSame = 0;
constexpr int kDifferent = 1;
constexpr int kError = 2;

const uint8_t kQohiSignature[8] = {0x89, 'Q', 'O', 'H', 'I', 0x0D, 0x0A, 0x1A};

struct Frame {
    std::string origin;  // "file.png" or "file.qohi frame 2"
    uint32_t width = 0;
    uint32_t height = 0;
    uint32_t stored_channels = 0;  // as stored: 3 or 4
    bool from_qohi = false;
    std::vector<uint8_t> rgba;
};

bool is_qohi(const std::vector<uint8_t>& data) {
    return data.size() >= sizeof kQohiSignature &&
           std::memcmp(data.data(), kQohiSignature, sizeof kQohiSignature) == 0;
}

std::vector<uint8_t> expand_to_rgba(const std::vector<uint8_t>& pixels, uint32_t channels) {
    if (channels == 4) return pixels;
    std::vector<uint8_t> out(pixels.size() / 3 * 4);
    for (size_t i = 0, o = 0; i + 2 < pixels.size(); i += 3, o += 4) {
        out[o] = pixels[i];
        out[o + 1] = pixels[i + 1];
        out[o + 2] = pixels[i + 2];
        out[o + 3] = 255;
    }
    return out;
}

struct ReaderCloser {
    qohi_reader* reader = nullptr;
    ~ReaderCloser() {
        if (reader) qohi_reader_close(reader);
    }
};

// Opens `data` (which must outlive the reader) as a .qohi file.
bool open_qohi(const std::string& path, const std::vector<uint8_t>& data, ReaderCloser& rd) {
    qohi_error err{};
    if (qohi_reader_open_memory(data.data(), data.size(), nullptr, &rd.reader, &err) != QOHI_OK) {
        std::fprintf(stderr, "qohi_test_pixels: %s: %s\n", path.c_str(), err.message);
        return false;
    }
    return true;
}

bool load_frames(const std::string& path, std::vector<Frame>& frames) {
    std::vector<uint8_t> data;
    std::string error;
    if (!qohi_tools::read_file(path, data, error)) {
        std::fprintf(stderr, "qohi_test_pixels: %s\n", error.c_str());
        return false;
    }
    if (!is_qohi(data)) {
        qohi_tools::Image image;
        if (!qohi_tools::decode_png(data.data(), data.size(), image, error)) {
            std::fprintf(stderr, "qohi_test_pixels: %s: not QOHI, and not a readable PNG: %s\n", path.c_str(),
                         error.c_str());
            return false;
        }
        Frame f;
        f.origin = path;
        f.width = image.width;
        f.height = image.height;
        f.stored_channels = image.channels;
        f.rgba = expand_to_rgba(image.pixels, image.channels);
        frames.push_back(std::move(f));
        return true;
    }
    ReaderCloser rd;
    if (!open_qohi(path, data, rd)) return false;
    const uint32_t count = qohi_reader_frame_count(rd.reader);
    for (uint32_t i = 0; i < count; ++i) {
        qohi_frame_info info{};
        qohi_status st = qohi_reader_frame_info(rd.reader, i, &info);
        Frame f;
        f.origin = path + " frame " + std::to_string(i);
        if (st == QOHI_OK) {
            f.width = info.width;
            f.height = info.height;
            f.stored_channels = info.channels;
            f.from_qohi = true;
            f.rgba.resize(size_t{info.width} * info.height * 4);
            st = qohi_reader_decode_frame(rd.reader, i, f.rgba.data(), f.rgba.size(), 0, 4);
        }
        if (st != QOHI_OK) {
            std::fprintf(stderr, "qohi_test_pixels: %s: %s\n", f.origin.c_str(), qohi_reader_message(rd.reader));
            return false;
        }
        frames.push_back(std::move(f));
    }
    return true;
}

int compare(int argc, char** argv) {
    uint32_t required_channels = 0;
    int i = 0;
    if (i + 1 < argc && std::strcmp(argv[i], "--channels") == 0) {
        required_channels = static_cast<uint32_t>(std::atoi(argv[i + 1]));
        i += 2;
    }
    std::vector<Frame> left, right;
    bool after_separator = false;
    for (; i < argc; ++i) {
        if (std::strcmp(argv[i], "--") == 0 && !after_separator) {
            after_separator = true;
            continue;
        }
        if (!load_frames(argv[i], after_separator ? right : left)) return kError;
    }
    if (!after_separator) {
        std::fprintf(stderr, "qohi_test_pixels compare: missing '--' between the two lists\n");
        return kError;
    }
    if (left.size() != right.size()) {
        std::fprintf(stderr, "different frame counts: %zu on the left, %zu on the right\n", left.size(),
                     right.size());
        return kDifferent;
    }
    int result = kSame;
    for (size_t k = 0; k < left.size(); ++k) {
        const Frame& a = left[k];
        const Frame& b = right[k];
        if (required_channels && a.from_qohi && a.stored_channels != required_channels) {
            std::fprintf(stderr, "%s: stored with %u channels, expected %u\n", a.origin.c_str(),
                         a.stored_channels, required_channels);
            result = kDifferent;
        }
        if (a.width != b.width || a.height != b.height) {
            std::fprintf(stderr, "%s is %ux%u but %s is %ux%u\n", a.origin.c_str(), a.width, a.height,
                         b.origin.c_str(), b.width, b.height);
            result = kDifferent;
            continue;
        }
        for (size_t p = 0; p < a.rgba.size(); p += 4) {
            if (std::memcmp(&a.rgba[p], &b.rgba[p], 4) != 0) {
                const size_t pixel = p / 4;
                std::fprintf(stderr,
                             "%s and %s differ first at x=%zu y=%zu: RGBA %u,%u,%u,%u vs %u,%u,%u,%u\n",
                             a.origin.c_str(), b.origin.c_str(), pixel % a.width, pixel / a.width, a.rgba[p],
                             a.rgba[p + 1], a.rgba[p + 2], a.rgba[p + 3], b.rgba[p], b.rgba[p + 1],
                             b.rgba[p + 2], b.rgba[p + 3]);
                result = kDifferent;
                break;
            }
        }
    }
    return result;
}

// `names` and `info`: one line per frame of a .qohi file.
int list(const std::string& path, bool names_only) {
    std::vector<uint8_t> data;
    std::string error;
    if (!qohi_tools::read_file(path, data, error)) {
        std::fprintf(stderr, "qohi_test_pixels: %s\n", error.c_str());
        return kError;
    }
    ReaderCloser rd;
    if (!open_qohi(path, data, rd)) return kError;
    const uint32_t count = qohi_reader_frame_count(rd.reader);
    for (uint32_t i = 0; i < count; ++i) {
        qohi_frame_info info{};
        if (qohi_reader_frame_info(rd.reader, i, &info) != QOHI_OK) {
            std::fprintf(stderr, "qohi_test_pixels: %s frame %u: %s\n", path.c_str(), i,
                         qohi_reader_message(rd.reader));
            return kError;
        }
        if (names_only) {
            std::printf("%.*s\n", static_cast<int>(info.name_size), info.name);
        } else {
            std::printf("%ux%u %u %lld\n", info.width, info.height, info.channels,
                        static_cast<long long>(info.reference));
        }
    }
    return kSame;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc >= 2 && std::strcmp(argv[1], "compare") == 0) return compare(argc - 2, argv + 2);
    if (argc == 3 && std::strcmp(argv[1], "names") == 0) return list(argv[2], true);
    if (argc == 3 && std::strcmp(argv[1], "info") == 0) return list(argv[2], false);
    std::fprintf(stderr,
                 "usage: qohi_test_pixels compare [--channels N] LEFT... -- RIGHT...\n"
                 "       qohi_test_pixels names FILE.qohi\n"
                 "       qohi_test_pixels info FILE.qohi\n");
    return kError;
}
