// qohienc: encode a PNG image as a single-frame .qohi file, or pack a folder
// of PNGs into one multi-frame .qohi file.
#include <qohi/qohi.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "cli.h"
#include "collection.h"
#include "file_io.h"
#include "frame_metadata.h"
#include "png_io.h"
#include "temp_cleanup.h"
#include "work_threads.h"

using namespace qohi_tools;

namespace {

const char kUsage[] =
    "Usage: qohienc [OPTIONS] INPUT.png [-o OUTPUT.qohi]\n"
    "       qohienc [OPTIONS] FOLDER [-o OUTPUT.qohi]\n"
    "Encode a PNG image losslessly as a QOHI file, or pack a folder (its images\n"
    "and everything else in it) into one QOHI collection.\n"
    "\n"
    "  INPUT.png              PNG file to encode; \"-\" reads standard input\n"
    "  FOLDER                 folder to pack, recursively: every file, symbolic\n"
    "                         link and folder below it\n"
    "  -o, --output FILE      output file; \"-\" writes standard output\n"
    "                         (default: INPUT with its extension replaced by .qohi,\n"
    "                         FOLDER with .qohi added, or standard output when\n"
    "                         INPUT is \"-\")\n"
    "  -f, --force            overwrite an existing output file\n"
    "      --effort N         0: fast; 1: also search whole images for repeated\n"
    "                         pixels and try gradient prediction (smaller,\n"
    "                         slower); default 0 for one image, 1 for a folder\n"
    "      --method METHOD    coding method: auto (default, the smallest),\n"
    "                         stored (raw pixels), qohi (QOI-style ops) or dici\n"
    "                         (colour table; images that refer to another are\n"
    "                         still coded with qohi)\n"
    "      --threads N        threads that code an image's row bands, and that\n"
    "                         read and compare a folder's images while planning,\n"
    "                         at once (default 0: one per core); the file is the\n"
    "                         same for any N\n"
    "      --verify           decode the finished file and compare every image\n"
    "                         with its source; on a difference, remove the file\n"
    "                         and fail\n"
    "  -v, --verbose          print size and compression ratio to standard error\n"
    "  -q, --quiet            print nothing but errors\n"
    "  -h, --help             show this help and exit\n"
    "  -V, --version          show version information and exit\n"
    "\n"
    "Packing a folder:\n"
    "      --mode MODE        how images refer to each other (delta frames):\n"
    "                           auto      each image refers to the image it codes\n"
    "                                     best against (default)\n"
    "                           prior     each image refers to the one before it\n"
    "                           first     each image refers to the first image of\n"
    "                                     its size\n"
    "                           keyframe  like prior, with an image on its own\n"
    "                                     every N images (see --keyframe-every)\n"
    "                           none      every image on its own\n"
    "      --keyframe-every N an image on its own every N images (default 16);\n"
    "                         implies --mode keyframe\n"
    "      --max-depth N      longest chain of references (default 16; 0 is the\n"
    "                         same as --mode none): decoding any image costs at\n"
    "                         most N + 1 image decodes\n"
    "      --baseline FILE    a PNG to pin as a baseline: stored first, on its own,\n"
    "                         for other images to refer to; may be repeated. A\n"
    "                         baseline inside FOLDER keeps its name; one outside\n"
    "                         is named \"baseline/<its file name>\"\n"
    "      --images-only      pack only the PNG images that can be coded exactly,\n"
    "                         leaving out everything else; exit status 3 if\n"
    "                         anything was left out\n"
    "      --skip-bad         store broken PNGs as they are, reported, instead of\n"
    "                         failing the pack (exit status 3)\n"
    "      --progress         show a progress line on standard error (the default\n"
    "                         when standard error is a terminal, unless -q)\n"
    "\n"
    "Every 8-bit PNG is accepted: grey, grey+alpha and palette images are expanded\n"
    "to RGB or RGBA without loss. The PNG's ICC profile, EXIF, XMP and text chunks\n"
    "are kept with the image.\n"
    "A single image's frame is named after the input's file name (no name for\n"
    "standard input). Packing a folder keeps all of it, as tar does: each file\n"
    "is named by its path relative to the folder, with '/' separators; PNG images\n"
    "(found by their content, whatever their name) are coded as images, of any\n"
    "sizes; every other file (JPEG, text, a PNG that an image cannot give back\n"
    "exactly, such as a 16-bit one) is stored as it is; symbolic links are stored\n"
    "as links, never followed; every folder is kept, empty ones too; permission\n"
    "bits and modification times are kept for all of them. Every file is read\n"
    "before anything is written: broken PNGs, devices, FIFOs and sockets fail the\n"
    "whole pack, all of them listed.\n"
    "The output is written to a temporary file and renamed into place only when\n"
    "complete. Binary data is never written to a terminal. 'qohidec FILE -o DIR'\n"
    "unpacks a collection; 'qohidec FILE --list' lists it.\n"
    "\n"
    "Exit status: 0 success, 1 failure (bad input, I/O error), 2 usage error,\n"
    "3 packed, but files were left out (--images-only) or broken PNGs were stored\n"
    "as they are (--skip-bad).\n";

std::string base_name(const std::string& path) {
    size_t slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool is_directory(const std::string& path) {
    struct stat st;
    return path != "-" && ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string real_path(const std::string& path) {
    char* resolved = ::realpath(path.c_str(), nullptr);
    if (!resolved) return std::string();
    std::string out = resolved;
    std::free(resolved);
    return out;
}

// Default output for a folder: the folder's path with ".qohi" added, beside it.
// "" if there is none (the root folder).
std::string folder_default_output(const std::string& folder) {
    std::string s = folder;
    while (s.size() > 1 && s.back() == '/') s.pop_back();
    const std::string last = base_name(s);
    if (s == "/" || last == "." || last == ".." || last.empty()) {
        s = real_path(s);
        if (s.empty() || s == "/") return std::string();
    }
    return s + ".qohi";
}

struct WriterDestroyer {
    qohi_writer* writer = nullptr;
    ~WriterDestroyer() {
        if (writer) qohi_writer_destroy(writer);
    }
};

struct ReaderCloser {
    qohi_reader* reader = nullptr;
    ~ReaderCloser() {
        if (reader) qohi_reader_close(reader);
    }
};

// Options only a folder takes.
struct CollectionOptions {
    int mode = QOHI_PLAN_AUTO;
    uint32_t keyframe_every = 0;  // 0: the planner's default
    bool max_depth_given = false;
    uint32_t max_depth = 0;
    std::vector<std::string> baselines;
    bool images_only = false;  // leave out what is not an image (exit status 3 if anything was)
    bool skip_bad = false;     // store broken PNGs as they are instead of failing
    std::vector<std::string> given;  // names of the folder-only options used
};

// Settings common to both kinds of input.
struct Settings {
    qohi_method_choice method = QOHI_CHOOSE_AUTO;
    int effort = -1;  // -1: 0 for one image, 1 for a folder
    uint32_t threads = 0;  // 0: one per core
    bool verify = false;
    bool progress = false;
};

// Why a PNG file is not coded as an image.
struct PngVerdict {
    bool broken = false;     // damaged, or not a valid PNG
    bool not_exact = false;  // valid, but a frame cannot give it back exactly
    std::string why;         // for not_exact
};

// Reads and decodes one PNG file; `error` names the file. With `verdict`,
// a PNG that a frame cannot give back exactly (Image::not_exact) fails too,
// and `verdict` says why the file is not an image.
bool load_png(const std::string& path, Image& image, std::string& error, uint64_t* file_size = nullptr,
              PngVerdict* verdict = nullptr) {
    std::vector<uint8_t> data;
    if (!read_file(path, data, error)) return false;
    if (file_size) *file_size = data.size();
    const bool decoded = decode_png(data.data(), data.size(), image, error);
    if (decoded && (!verdict || image.not_exact.empty())) return true;
    if (verdict) {
        verdict->not_exact = !image.not_exact.empty();
        verdict->broken = !verdict->not_exact;
        verdict->why = image.not_exact;
    }
    error = input_name(path) + ": " + (decoded ? image.not_exact : error);
    return false;
}

// Compares a decoded frame with the image it came from. Returns "" if they
// agree, else what differs.
std::string compare_frame(qohi_reader* reader, uint32_t index, const Image& want,
                          const std::string& want_name, bool want_baseline) {
    qohi_frame_info info{};
    qohi_status st = qohi_reader_frame_info(reader, index, &info);
    if (st != QOHI_OK) {
        return library_message(qohi_reader_message(reader), qohi_status_string(st));
    }
    const std::string name(info.name ? info.name : "", info.name ? info.name_size : 0);
    if (name != want_name) return "its name is '" + printable(name) + "'";
    if (info.width != want.width || info.height != want.height || info.channels != want.channels) {
        return "it is " + std::to_string(info.width) + "x" + std::to_string(info.height) + " with " +
               std::to_string(info.channels) + " channels";
    }
    if ((info.baseline != 0) != want_baseline) return "its baseline mark differs";
    std::vector<uint8_t> pixels(want.pixels.size());
    st = qohi_reader_decode_frame(reader, index, pixels.data(), pixels.size(), 0, want.channels);
    if (st != QOHI_OK) {
        return "it does not decode: " +
               library_message(qohi_reader_message(reader), qohi_status_string(st));
    }
    if (pixels != want.pixels) return "its pixels differ";
    const qohi_metadata* items = nullptr;
    size_t count = 0;
    st = qohi_reader_frame_metadata(reader, index, &items, &count);
    if (st != QOHI_OK) {
        return "its metadata does not read: " +
               library_message(qohi_reader_message(reader), qohi_status_string(st));
    }
    Image got;
    std::string layout_error;
    if (!from_library_metadata(items, count, got, layout_error)) return "its PNG layout does not read: " + layout_error;
    const bool same_layout = got.layout == want.layout ||
                             (!got.layout.present && is_plain_layout(want.layout, want.channels));
    if (got.metadata != want.metadata || !same_layout) return "its metadata differs";
    return std::string();
}

// ------------------------------------------------------------- a folder

// An image of the folder (or a baseline), coded as a frame: 16 bytes, its
// name in Collection::image_names, its width and height in
// Collection::sizes. A folder can hold hundreds of thousands of images.
struct Source {
    // The file's attributes as PackedAttributes has them (none for a
    // baseline from elsewhere), with the channels and the baseline mark in
    // what would be its padding.
    int64_t mtime = 0;
    uint32_t mtime_nsec = 0;
    uint16_t mode = 0;
    uint8_t channels = 0;
    uint8_t baseline = 0;

    void set_attributes(const PackedAttributes& a) {
        mtime = a.mtime;
        mtime_nsec = a.mtime_nsec;
        mode = a.mode;
    }
    qohi_file_attributes attributes() const {
        PackedAttributes a;
        a.mtime = mtime;
        a.mtime_nsec = mtime_nsec;
        a.mode = mode;
        return a.unpacked();
    }
};

struct Size {
    uint32_t width = 0, height = 0;
};

// Anything else of the folder, stored as an entry (spec §3.15): a file as it
// is, a symbolic link, a folder.
struct StoredItem {
    static constexpr uint32_t kNoText = UINT32_MAX;
    uint64_t size = 0;
    PackedAttributes attributes;
    uint32_t kind = QOHI_ENTRY_FILE;
    // In Collection::texts: a link's target; for a file, why it is stored as
    // it is though it looks like an image.
    uint32_t text = kNoText;
};

// An entry as store_item() writes it and compare_entry() checks it.
struct EntrySpec {
    std::string path;  // the file to read, as messages name it; "" for `content`
    std::string name;
    uint32_t kind = QOHI_ENTRY_FILE;
    uint64_t size = 0;
    qohi_file_attributes attributes{};
    const std::string* content = nullptr;  // a link's target; a file's bytes when there is no path
};

// One frame of the plan while writing: 8 bytes rather than qohi_plan_entry's 16.
struct PlanStep {
    uint32_t image = 0;
    uint32_t reference = 0;  // the position of the frame it refers to plus 1; 0 for none
};

struct Collection {
    std::string root;  // the folder, as given
    std::vector<Source> images;
    std::vector<Size> sizes;  // of each image
    // Baselines from outside the folder are images 0, 1, ...: their paths and
    // names. Any other image is the file root/name.
    std::vector<std::string> outside, outside_names;
    NameList image_names;  // of the other images, from image outside.size() on
    std::vector<StoredItem> stored;
    NameList stored_names;
    std::vector<std::string> texts;    // see StoredItem::text
    std::vector<std::string> skipped;  // --images-only: what was left out, and why
    uint64_t input_bytes = 0;          // of every file read

    std::string image_name(size_t k) const {
        return k < outside.size() ? outside_names[k] : image_names[k - outside.size()];
    }
    qohi_plan_image shape(size_t k) const {
        qohi_plan_image s{};
        s.width = sizes[k].width;
        s.height = sizes[k].height;
        s.channels = images[k].channels;
        s.baseline = images[k].baseline;
        return s;
    }
    // The file image `k` is read from, as messages name it.
    std::string path(size_t k) const {
        return k < outside.size() ? outside[k] : join_path(root, image_name(k));
    }
    const std::string& why(const StoredItem& item) const {
        static const std::string none;
        return item.kind == QOHI_ENTRY_FILE && item.text != StoredItem::kNoText ? texts[item.text] : none;
    }
    EntrySpec entry(size_t k) const {
        const StoredItem& item = stored[k];
        EntrySpec e;
        e.name = stored_names[k];
        e.path = join_path(root, e.name);
        e.kind = item.kind;
        e.size = item.size;
        e.attributes = item.attributes.unpacked();
        if (item.kind == QOHI_ENTRY_SYMLINK) e.content = &texts[item.text];
        return e;
    }
};

// The planner's loader; it may be called from several threads at once.
struct LoadContext {
    const Collection* collection = nullptr;
    std::mutex mutex;   // guards `error`
    std::string error;  // the first failure, naming the file
    void report(const std::string& message) {
        std::lock_guard<std::mutex> lock(mutex);
        if (error.empty()) error = message;
    }
};

extern "C" qohi_status load_source(void* user, uint32_t index, void* pixels, size_t size) {
    auto* ctx = static_cast<LoadContext*>(user);
    try {
        const Collection& c = *ctx->collection;
        if (index >= c.images.size()) {
            ctx->report("the planner asked for image " + std::to_string(index));
            return QOHI_ERROR_INVALID_ARGUMENT;
        }
        const qohi_plan_image shape = c.shape(index);
        const std::string path = c.path(index);
        Image image;
        std::string err;
        if (!load_png(path, image, err)) {
            ctx->report(err);
            return QOHI_ERROR_IO;
        }
        if (image.width != shape.width || image.height != shape.height || image.channels != shape.channels ||
            image.pixels.size() != size) {
            ctx->report(path + ": the file changed while packing");
            return QOHI_ERROR_IO;
        }
        if (size) std::memcpy(pixels, image.pixels.data(), size);
        return QOHI_OK;
    } catch (const std::exception&) {
        try {
            ctx->report("out of memory");
        } catch (const std::exception&) {
        }
        return QOHI_ERROR_OUT_OF_MEMORY;
    }
}

struct PlanProgress {
    ProgressLine* line;
};

extern "C" void plan_progress(void* user, const char* stage, uint64_t done, uint64_t total) {
    auto* p = static_cast<PlanProgress*>(user);
    try {
        const std::string name = stage ? stage : "";
        p->line->update(name.empty() || name == "planning" ? std::string("planning") : "planning (" + name + ")",
                        done, total);
    } catch (const std::exception&) {
    }
}

// A file opened for reading, closed on every path out.
struct FileHandle {
    int fd = -1;
    ~FileHandle() {
        if (fd >= 0) ::close(fd);
    }
};

// Feeds a stored file to the writer from its descriptor.
struct FileFeed {
    int fd;
    int error = 0;  // errno of a failed read
};

extern "C" qohi_status feed_file(void* user, void* buffer, size_t size, size_t* got) {
    auto* feed = static_cast<FileFeed*>(user);
    for (;;) {
        const ssize_t n = ::read(feed->fd, buffer, size);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            feed->error = errno;
            *got = 0;
            return QOHI_ERROR_IO;
        }
        *got = static_cast<size_t>(n);
        return QOHI_OK;
    }
}

// True if the file at `fd` has no more bytes (it did not grow while read).
bool at_end(int fd) {
    char byte;
    ssize_t n;
    do n = ::read(fd, &byte, 1);
    while (n < 0 && errno == EINTR);
    return n == 0;
}

const uint8_t kPngSignature[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};

// Whether the file at `path` starts with the PNG signature.
// `claimed_pixels`, if given, gets the width x height its IHDR claims (0
// if the file is too short to say).
bool starts_like_png(const std::string& path, std::string& error, uint64_t* claimed_pixels = nullptr) {
    FileHandle f;
    f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (f.fd < 0) {
        error = "'" + path + "': " + std::strerror(errno);
        return false;
    }
    uint8_t head[24];  // signature, IHDR length and type, width, height
    size_t have = 0;
    while (have < sizeof head) {
        const ssize_t n = ::read(f.fd, head + have, sizeof head - have);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            error = "'" + path + "': " + std::strerror(errno);
            return false;
        }
        if (n == 0) break;
        have += static_cast<size_t>(n);
    }
    if (claimed_pixels) {
        const auto be32 = [&](size_t at) {
            return uint32_t(head[at]) << 24 | uint32_t(head[at + 1]) << 16 | uint32_t(head[at + 2]) << 8 | head[at + 3];
        };
        *claimed_pixels = have == sizeof head ? uint64_t(be32(16)) * be32(20) : 0;
    }
    return have >= sizeof kPngSignature && std::memcmp(head, kPngSignature, sizeof kPngSignature) == 0;
}

// Sorts the folder's contents into images, stored items and (with
// --images-only) skipped ones, reading every image to learn its size. Files
// that cannot be packed (broken PNGs without --skip-bad, devices, FIFOs,
// sockets) are all reported before failing. Returns kContinue or an exit code.
// What reading a file of the folder found, before it is sorted into images
// and stored files (done for many files at once, on several threads).
struct FileCheck {
    bool png = false;     // starts like a PNG
    bool loaded = false;  // decoded, and a frame can hold it exactly
    std::string error;    // starts_like_png's failure, or load_png's message
    PngVerdict verdict;
    uint32_t width = 0, height = 0, channels = 0;
    uint64_t file_size = 0;
};

// Files are checked on several threads; a PNG that claims more than
// kLargePixels is decoded only while no other large one is, so that a
// folder of hostile PNGs claiming huge sizes costs one decoder's limit of
// memory, not one per thread.
constexpr uint64_t kLargePixels = uint64_t(1) << 24;
std::mutex large_png_decode;

FileCheck check_file(const std::string& path) {
    FileCheck c;
    try {
        uint64_t claimed = 0;
        c.png = starts_like_png(path, c.error, &claimed);
        if (!c.png) return c;
        std::unique_lock<std::mutex> one_large(large_png_decode, std::defer_lock);
        if (claimed > kLargePixels) one_large.lock();
        Image image;
        c.loaded = load_png(path, image, c.error, &c.file_size, &c.verdict);
        c.width = image.width;
        c.height = image.height;
        c.channels = image.channels;
    } catch (const std::exception&) {
        c.loaded = false;
        c.error = path + ": out of memory";
    }
    return c;
}

int collect(const Program& prog, const Args& args, const CollectionOptions& copt, unsigned threads,
            ProgressLine& progress, Collection& out) {
    FolderListing listing;
    std::string err;
    if (!scan_folder(args.input, listing, err)) return prog.fail(printable(err));
    out.root = args.input;
    size_t files = 0;
    for (const FolderItem& item : listing.items) files += item.kind == FolderItem::kFile;
    out.images.reserve(files);  // no growing copies of what may be most of the memory
    out.sizes.reserve(files);
    std::vector<std::string> broken, unstorable;
    uint64_t done = 0;
    // Files are read a batch at a time on `threads` threads; then sorted in
    // listing order as if read one by one.
    constexpr size_t kBatch = 1024;
    std::vector<FileCheck> checks;
    size_t batch_start = 0;
    for (size_t at = 0; at < listing.items.size(); ++at) {
        const FolderItem& item = listing.items[at];
        if (at % kBatch == 0) {
            batch_start = at;
            const size_t n = std::min(kBatch, listing.items.size() - at);
            checks.assign(n, FileCheck());
            for_each_index(n, threads, [&](size_t i) {
                const FolderItem& f = listing.items[at + i];
                if (f.kind == FolderItem::kFile) checks[i] = check_file(join_path(args.input, listing.name(f)));
            });
        }
        FileCheck& check = checks[at - batch_start];
        progress.update("reading", ++done, listing.items.size(), "files");
        const std::string rel = listing.name(item);
        const std::string path = join_path(args.input, rel);
        const std::string reason = unsafe_name_reason(rel);
        if (!reason.empty()) {
            return prog.fail(printable(path) + ": the file name cannot be stored (" + reason + "); rename the file");
        }
        StoredItem stored;
        stored.attributes = item.attributes;
        auto skip = [&](const std::string& why) { out.skipped.push_back(printable(rel) + " (" + why + ")"); };
        auto add_text = [&](std::string text) {
            stored.text = static_cast<uint32_t>(out.texts.size());
            out.texts.push_back(std::move(text));
        };
        switch (item.kind) {
            case FolderItem::kFolder:
                if (copt.images_only) continue;
                stored.kind = QOHI_ENTRY_FOLDER;
                out.stored.push_back(stored);
                out.stored_names.push_back(rel);
                continue;
            case FolderItem::kSymlink: {
                if (copt.images_only) {
                    skip("a symbolic link");
                    continue;
                }
                std::vector<char> target(size_t(item.size) + 2);
                const ssize_t n = ::readlink(path.c_str(), target.data(), target.size());
                if (n <= 0 || size_t(n) >= target.size()) {
                    return prog.fail(printable(path) + ": cannot read the symbolic link" +
                                     (n < 0 ? std::string(": ") + std::strerror(errno) : std::string()));
                }
                stored.kind = QOHI_ENTRY_SYMLINK;
                stored.size = size_t(n);
                add_text(std::string(target.data(), size_t(n)));
                out.stored.push_back(stored);
                out.stored_names.push_back(rel);
                continue;
            }
            case FolderItem::kOther:
                if (copt.images_only) skip("not a regular file");
                else unstorable.push_back(printable(path) + ": a device, FIFO or socket cannot be stored");
                continue;
            case FolderItem::kFile:
                break;
        }
        stored.kind = QOHI_ENTRY_FILE;
        stored.size = item.size;
        err = check.error;
        if (!check.png) {
            if (!err.empty()) return prog.fail(printable(err));
            if (copt.images_only) {
                skip("not a PNG");
                continue;
            }
            out.input_bytes += item.size;
            out.stored.push_back(stored);
            out.stored_names.push_back(rel);
            continue;
        }
        const uint64_t file_size = check.file_size;
        const PngVerdict& verdict = check.verdict;
        if (!check.loaded) {
            if (verdict.broken && !copt.skip_bad) {
                broken.push_back(printable(err));
                continue;
            }
            if (!verdict.broken && !verdict.not_exact) return prog.fail(printable(err));  // could not be read at all
            const std::string why = verdict.broken ? "a broken PNG: " + printable(err) : printable(verdict.why);
            if (copt.images_only) {
                skip(why);
                continue;
            }
            add_text(why);
            out.input_bytes += item.size;
            out.stored.push_back(stored);
            out.stored_names.push_back(rel);
            continue;
        }
        Source s;
        s.set_attributes(item.attributes);
        s.channels = static_cast<uint8_t>(check.channels);
        out.input_bytes += file_size;
        out.images.push_back(s);
        out.sizes.push_back({check.width, check.height});
        out.image_names.push_back(rel);
    }
    // The listing goes now: the collection has its names.
    std::vector<FolderItem>().swap(listing.items);
    std::string().swap(listing.names);
    out.image_names.shrink_to_fit();
    out.stored_names.shrink_to_fit();
    out.images.shrink_to_fit();  // reserved for every file; some were not images
    out.sizes.shrink_to_fit();
    out.stored.shrink_to_fit();
    if (!broken.empty() || !unstorable.empty()) {
        progress.finish();
        for (const std::string& b : broken) prog.say(b);
        for (const std::string& u : unstorable) prog.say(u);
        std::string what;
        if (!broken.empty()) what = std::to_string(broken.size()) + (broken.size() == 1 ? " broken PNG" : " broken PNGs");
        if (!unstorable.empty()) {
            if (!what.empty()) what += " and ";
            what += std::to_string(unstorable.size()) + (unstorable.size() == 1 ? " file" : " files") +
                    " that cannot be stored";
        }
        return prog.fail(printable(args.input) + ": " + what + "; nothing written" +
                         (broken.empty() ? "" : " (--skip-bad stores broken PNGs as they are)"));
    }
    return kContinue;
}

// Adds the baselines to the images: inside the folder they mark an image;
// outside they are added first, named "baseline/<file name>". Returns
// kContinue or an exit code.
int add_baselines(const Program& prog, const Args& args, const CollectionOptions& copt, Collection& c) {
    // Images and stored items are both sorted by name (the folder's listing
    // order): a name is found by halving, without a set of them all.
    auto find = [](const NameList& names, const std::string& name) {
        size_t lo = 0, hi = names.size();
        while (lo < hi) {
            const size_t mid = lo + (hi - lo) / 2;
            if (names[mid] < name) lo = mid + 1;
            else hi = mid;
        }
        return lo < names.size() && names[lo] == name ? lo : SIZE_MAX;
    };
    std::vector<std::string> outside_paths, outside_names;  // baselines from outside: few
    auto taken = [&](const std::string& name) {
        return find(c.image_names, name) != SIZE_MAX || find(c.stored_names, name) != SIZE_MAX ||
               std::find(outside_names.begin(), outside_names.end(), name) != outside_names.end();
    };
    std::vector<Source> outside;
    std::vector<Size> outside_sizes;
    std::set<std::string> seen_real;
    std::string err;
    const std::string root_real = real_path(args.input);
    const std::string root_prefix = root_real == "/" ? "/" : root_real + "/";
    for (const std::string& file : copt.baselines) {
        const std::string real = real_path(file);
        Image image;
        if (real.empty()) {
            // Let the reading below report why.
            if (!load_png(file, image, err)) return prog.fail(printable(err));
            return prog.fail("'" + printable(file) + "': cannot resolve the path");
        }
        if (!seen_real.insert(real).second) continue;
        if (!root_real.empty() && real.compare(0, root_prefix.size(), root_prefix) == 0) {
            const std::string rel = real.substr(root_prefix.size());
            const size_t k = find(c.image_names, rel);
            if (k != SIZE_MAX) {
                c.images[k].baseline = 1;
                continue;
            }
            if (taken(rel)) {
                return prog.fail(printable(file) + ": a baseline must be an image that can be stored exactly");
            }
        }
        Source s;
        s.baseline = 1;
        uint64_t file_size = 0;
        if (!load_png(file, image, err, &file_size)) return prog.fail(printable(err));
        s.channels = static_cast<uint8_t>(image.channels);
        c.input_bytes += file_size;
        std::string base = base_name(real);
        std::string stem = base, ext;
        const size_t dot = base.find_last_of('.');
        if (dot != std::string::npos && dot > 0) {
            stem = base.substr(0, dot);
            ext = base.substr(dot);
        }
        std::string name = "baseline/" + base;
        for (int k = 2; taken(name); ++k) name = "baseline/" + stem + "-" + std::to_string(k) + ext;
        const std::string reason = unsafe_name_reason(name);
        if (!reason.empty()) {
            return prog.fail(printable(file) + ": the file name cannot be a frame name (" + reason +
                             "); rename the file");
        }
        outside_names.push_back(name);
        outside_paths.push_back(file);
        outside.push_back(s);
        outside_sizes.push_back({image.width, image.height});
    }
    // Outside baselines come first, in the order given.
    c.images.insert(c.images.begin(), outside.begin(), outside.end());
    c.sizes.insert(c.sizes.begin(), outside_sizes.begin(), outside_sizes.end());
    c.outside = std::move(outside_paths);
    c.outside_names = std::move(outside_names);
    return kContinue;
}

// Writes `item` as an entry, its content streamed from the file. Returns ""
// or what went wrong.
std::string store_item(qohi_writer* writer, const EntrySpec& item) {
    qohi_entry_options eo;
    qohi_entry_options_init(&eo);
    eo.kind = item.kind;
    eo.name = item.name.c_str();
    eo.attributes = &item.attributes;
    eo.size = item.size;
    FileHandle f;
    FileFeed feed{-1};
    if (item.kind == QOHI_ENTRY_SYMLINK) {
        eo.data = item.content->data();
    } else if (item.kind == QOHI_ENTRY_FILE) {
        f.fd = ::open(item.path.c_str(), O_RDONLY | O_CLOEXEC);
        if (f.fd < 0) return std::string("cannot open it: ") + std::strerror(errno);
        feed.fd = f.fd;
        eo.source = feed_file;
        eo.source_user = &feed;
    }
    const qohi_status st = qohi_writer_add_entry(writer, &eo);
    if (st != QOHI_OK) {
        if (feed.error) return std::string("cannot read it: ") + std::strerror(feed.error);
        const std::string message = library_message(qohi_writer_message(writer), qohi_status_string(st));
        if (message.find("content ended") != std::string::npos) return "the file changed while packing (it shrank)";
        return "storing failed: " + message;
    }
    if (item.kind == QOHI_ENTRY_FILE && !at_end(f.fd)) return "the file changed while packing (it grew)";
    return std::string();
}

// Compares entry `index` of `reader` with `item` on disk. "" if they agree.
std::string compare_entry(qohi_reader* reader, uint32_t index, const EntrySpec& item) {
    qohi_entry_info info{};
    qohi_status st = qohi_reader_entry_info(reader, index, &info);
    if (st != QOHI_OK) return library_message(qohi_reader_message(reader), qohi_status_string(st));
    if (std::string(info.name, info.name_size) != item.name) return "its name differs";
    if (info.kind != item.kind || info.size != item.size) return "its kind or size differs";
    const qohi_file_attributes& a = info.attributes;
    if ((a.present != 0) != (item.attributes.present != 0) ||
        (a.present && (a.mode != item.attributes.mode || a.mtime != item.attributes.mtime ||
                       a.mtime_nsec != item.attributes.mtime_nsec)))
        return "its attributes differ";
    struct Compare {
        int fd = -1;
        const std::string* target = nullptr;
        uint64_t at = 0;
        bool same = true;
    } cmp;
    FileHandle f;
    if (item.kind == QOHI_ENTRY_FILE && !item.path.empty()) {
        f.fd = ::open(item.path.c_str(), O_RDONLY | O_CLOEXEC);
        if (f.fd < 0) return std::string("cannot open the file again: ") + std::strerror(errno);
        cmp.fd = f.fd;
    }
    static const std::string no_content;
    cmp.target = item.content ? item.content : &no_content;
    st = qohi_reader_read_entry(
        reader, index,
        [](void* user, const void* data, size_t size) {
            auto* c = static_cast<Compare*>(user);
            if (c->fd < 0) {
                c->same = c->same && c->target->compare(size_t(c->at), size, static_cast<const char*>(data), size) == 0;
            } else {
                std::vector<char> disk(size);
                size_t have = 0;
                while (have < size) {
                    const ssize_t n = ::read(c->fd, disk.data() + have, size - have);
                    if (n < 0 && errno == EINTR) continue;
                    if (n <= 0) break;
                    have += size_t(n);
                }
                c->same = c->same && have == size && std::memcmp(disk.data(), data, size) == 0;
            }
            c->at += size;
            return QOHI_OK;
        },
        &cmp);
    if (st != QOHI_OK) {
        return "it does not read: " + library_message(qohi_reader_message(reader), qohi_status_string(st));
    }
    if (!cmp.same || cmp.at != item.size) return "its content differs";
    return std::string();
}

// -------------------------------------------------------------- one image

int encode_single(const Program& prog, const Args& args, const Settings& settings) {
    std::vector<uint8_t> input;
    std::string err;
    if (!read_file(args.input, input, err)) return prog.fail(err);
    Image image;
    if (!decode_png(input.data(), input.size(), image, err) && image.not_exact.empty()) {
        return prog.fail(input_name(args.input) + ": " + err);
    }
    // A PNG that a frame cannot give back exactly (16-bit, ...) is stored as
    // it is, an entry (spec §3.15) without attributes: one file, not a folder.
    const bool as_is = !image.not_exact.empty();

    qohi_write_options wopt;
    qohi_write_options_init(&wopt);
    wopt.method = settings.method;
    wopt.effort = settings.effort < 0 ? 0 : settings.effort;
    wopt.threads = settings.threads;
    WriterDestroyer wd;
    qohi_error qerr{};
    qohi_status st = qohi_writer_open_memory(&wopt, &wd.writer, &qerr);
    if (st != QOHI_OK) {
        return prog.fail("cannot create encoder: " +
                         library_message(qerr.message, qohi_status_string(st)));
    }
    const std::string frame_name = args.input == "-" ? std::string() : base_name(args.input);
    std::vector<uint8_t> pngc;
    const std::vector<qohi_metadata> metadata = to_library_metadata(image, pngc);
    qohi_frame_options fopt;
    qohi_frame_options_init(&fopt);
    fopt.name = frame_name.empty() ? nullptr : frame_name.c_str();
    fopt.reference = QOHI_REFERENCE_NONE;
    fopt.metadata = metadata.empty() ? nullptr : metadata.data();
    fopt.metadata_count = metadata.size();
    const std::string entry_name = frame_name.empty() ? std::string("stdin.png") : frame_name;
    if (as_is) {
        qohi_entry_options eo;
        qohi_entry_options_init(&eo);
        eo.kind = QOHI_ENTRY_FILE;
        eo.name = entry_name.c_str();
        eo.size = input.size();
        eo.data = input.data();
        st = qohi_writer_add_entry(wd.writer, &eo);
        if (!args.quiet) prog.say("note: " + input_name(args.input) + ": stored as it is: " + image.not_exact);
    } else {
        st = qohi_writer_add_frame_with(wd.writer, image.pixels.data(), image.width, image.height,
                                        image.channels, 0, &fopt);
    }
    void* data = nullptr;
    size_t size = 0;
    if (st == QOHI_OK) st = qohi_writer_finish(wd.writer, &data, &size);
    if (st != QOHI_OK) {
        return prog.fail(input_name(args.input) + ": encoding failed: " +
                         library_message(qohi_writer_message(wd.writer), qohi_status_string(st)));
    }
    struct Freer {
        void* p;
        ~Freer() { qohi_free(p); }
    } freer{data};

    if (settings.verify) {
        ReaderCloser rd;
        st = qohi_reader_open_memory(data, size, nullptr, &rd.reader, &qerr);
        std::string problem;
        if (st != QOHI_OK) {
            problem = library_message(qerr.message, qohi_status_string(st));
        } else if (as_is) {
            EntrySpec item;
            item.name = entry_name;
            item.size = input.size();
            const std::string content(input.begin(), input.end());
            item.content = &content;  // compared from memory
            problem = qohi_reader_frame_count(rd.reader) != 0 ? "it holds a frame" : compare_entry(rd.reader, 0, item);
        } else {
            problem = compare_frame(rd.reader, 0, image, frame_name, false);
        }
        if (!problem.empty()) {
            return prog.fail(input_name(args.input) + ": verification failed: " + problem +
                             "; nothing written");
        }
    }
    if (!write_file_atomic(args.output, static_cast<const uint8_t*>(data), size, args.force, err)) {
        return prog.fail(err);
    }
    if (args.verbose) {
        double ratio = input.empty() ? 0.0 : static_cast<double>(size) / static_cast<double>(input.size());
        std::fprintf(stderr, "%s: %s: %ux%u, %u channels, %zu -> %zu bytes, ratio %.3f%s\n", prog.name,
                     input_name(args.input).c_str(), image.width, image.height, image.channels,
                     input.size(), size, ratio, settings.verify ? ", verified" : "");
    }
    return kExitOk;
}

int pack_folder(const Program& prog, const Args& args, const Settings& settings,
                const CollectionOptions& copt) {
    ProgressLine progress(prog, settings.progress || (!args.quiet && isatty(STDERR_FILENO)));
    auto fail = [&](const std::string& message) {
        progress.finish();
        return prog.fail(message);
    };

    // Read every file of the folder before anything is written.
    Collection c;
    const unsigned threads = thread_count(settings.threads);
    int rc = collect(prog, args, copt, threads, progress, c);
    if (rc != kContinue) return rc;
    rc = add_baselines(prog, args, copt, c);
    if (rc != kContinue) return rc;
    const std::vector<Source>& sources = c.images;
    if (sources.empty() && c.stored.empty()) return fail(printable(args.input) + ": the folder is empty");
    if (sources.size() > UINT32_MAX - 1 || c.stored.size() > UINT32_MAX - 1)
        return fail(printable(args.input) + ": too many files");
    const uint32_t count = static_cast<uint32_t>(sources.size());

    // Plan the order and the references.
    qohi_plan_options popt;
    qohi_plan_options_init(&popt);
    popt.mode = copt.mode;
    popt.keyframe_interval = copt.keyframe_every;
    popt.threads = threads;
    if (copt.max_depth_given) {
        if (copt.max_depth == 0) popt.mode = QOHI_PLAN_NONE;
        else popt.max_depth = copt.max_depth;
    }
    PlanProgress plan_progress_state{&progress};
    if (progress.enabled()) {
        popt.progress = plan_progress;
        popt.progress_user = &plan_progress_state;
    }
    LoadContext load_ctx;
    load_ctx.collection = &c;
    qohi_error qerr{};
    std::string err;
    qohi_status st = QOHI_OK;
    std::vector<PlanStep> steps;  // the plan while writing
    {
        std::vector<qohi_plan_image> plan_images(count);
        for (uint32_t i = 0; i < count; ++i) plan_images[i] = c.shape(i);
        std::vector<qohi_plan_entry> plan(count);
        if (count > 0) st = qohi_plan(plan_images.data(), count, load_source, &load_ctx, &popt, plan.data(), &qerr);
        if (st != QOHI_OK) {
            if (!load_ctx.error.empty()) return fail(printable(load_ctx.error));
            return fail(printable(args.input) + ": planning failed: " +
                        library_message(qerr.message, qohi_status_string(st)));
        }
        std::vector<qohi_plan_image>().swap(plan_images);
        steps.resize(count);
        // The plan must be a permutation with backward references between
        // images of one size: check before relying on it.
        std::vector<bool> used(count);
        for (uint32_t k = 0; k < count; ++k) {
            const qohi_plan_entry& e = plan[k];
            bool ok = e.image < count && !used[e.image] && e.reference >= -1 && e.reference < int64_t{k};
            if (ok && e.reference >= 0) {
                const qohi_plan_image a = c.shape(e.image);
                const qohi_plan_image b = c.shape(plan[static_cast<size_t>(e.reference)].image);
                ok = a.width == b.width && a.height == b.height && a.channels == b.channels;
            }
            if (!ok) return fail(printable(args.input) + ": planning failed: invalid plan (a bug in libqohi)");
            used[e.image] = true;
            steps[k].image = e.image;
            steps[k].reference = static_cast<uint32_t>(e.reference + 1);
        }
    }
    // Where each frame is used as a reference for the last time (0: never,
    // as no frame refers to the first position); none without references.
    std::vector<uint32_t> last_use;
    for (uint32_t k = 0; k < count; ++k) {
        if (!steps[k].reference) continue;
        if (last_use.empty()) last_use.assign(count, 0);
        last_use[steps[k].reference - 1] = k;
    }

    // Write.
    qohi_write_options wopt;
    qohi_write_options_init(&wopt);
    wopt.method = settings.method;
    wopt.effort = settings.effort < 0 ? 1 : settings.effort;
    wopt.threads = settings.threads;
    if (copt.max_depth_given && copt.max_depth > 0) wopt.max_depth = copt.max_depth;
    // The library writes files through a temporary file named as the target
    // when complete. A symbolic link is followed (its target is replaced, as for a
    // single image); devices, FIFOs and dangling links get the file in one
    // write at the end, as standard output does.
    std::string file_target = args.output;
    bool in_memory = args.output == "-";
    struct stat st_out;
    if (!in_memory && ::lstat(args.output.c_str(), &st_out) == 0) {
        if (S_ISLNK(st_out.st_mode)) {
            file_target = real_path(args.output);
            if (file_target.empty() || ::stat(file_target.c_str(), &st_out) != 0 || !S_ISREG(st_out.st_mode)) {
                in_memory = true;
            }
        } else if (!S_ISREG(st_out.st_mode)) {
            in_memory = true;
        }
    }
    wopt.overwrite = args.force ? 1 : 0;
    std::unique_ptr<RemoveOnSignal> remove_on_signal;  // the library's named temporary, if any
    WriterDestroyer wd;
    {
        HoldSignals hold;
        st = in_memory ? qohi_writer_open_memory(&wopt, &wd.writer, &qerr)
                       : qohi_writer_open_file(file_target.c_str(), &wopt, &wd.writer, &qerr);
        if (st == QOHI_OK) remove_on_signal.reset(new RemoveOnSignal(qohi_writer_temporary_path(wd.writer)));
    }
    if (st != QOHI_OK) {
        std::string message = library_message(qerr.message, qohi_status_string(st));
        if (in_memory) message = "cannot create encoder: " + message;
        else if (message.find(file_target) == std::string::npos) message = "'" + args.output + "': " + message;
        return fail(message);
    }
    // Pixels of frames still to be referenced, by position: only those.
    std::unordered_map<uint32_t, std::vector<uint8_t>> kept;
    struct ReadImage {
        bool ok = false;
        Image image;
        std::string error;
    };
    std::vector<ReadImage> batch;  // images read ahead: frames batch_start .. batch_end - 1
    uint32_t batch_start = 0, batch_end = 0;
    for (uint32_t k = 0; k < count; ++k) {
        if (k == batch_end) {
            // The next images are read on `threads` threads while the
            // writer's workers code the ones before: up to 4 per thread and
            // kBatchBytes of pixels (at least one image).
            constexpr uint64_t kBatchBytes = uint64_t(64) << 20;
            batch_start = k;
            uint64_t bytes = 0;
            for (batch_end = k; batch_end < count && batch_end - k < 4 * threads; ++batch_end) {
                const qohi_plan_image next = c.shape(steps[batch_end].image);
                bytes += uint64_t(next.width) * next.height * next.channels;
                if (batch_end > k && bytes > kBatchBytes) break;
            }
            batch.assign(batch_end - k, ReadImage());
            for_each_index(batch.size(), threads, [&](size_t i) {
                ReadImage& r = batch[i];
                try {
                    r.ok = load_png(c.path(steps[batch_start + i].image), r.image, r.error);
                } catch (const std::exception&) {
                    r = ReadImage();
                    r.error = c.path(steps[batch_start + i].image) + ": out of memory";
                }
            });
        }
        progress.update("packing", k + 1, count, "images");
        const PlanStep& e = steps[k];
        const Source& src = sources[e.image];
        const qohi_plan_image shape = c.shape(e.image);
        const std::string path = c.path(e.image);
        ReadImage& read = batch[k - batch_start];
        if (!read.ok) return fail(printable(read.error));
        Image image = std::move(read.image);
        if (image.width != shape.width || image.height != shape.height || image.channels != shape.channels) {
            return fail(printable(path) + ": the file changed while packing");
        }
        std::vector<uint8_t> pngc;
        const std::vector<qohi_metadata> metadata = to_library_metadata(image, pngc);
        qohi_frame_options fopt;
        qohi_frame_options_init(&fopt);
        const qohi_file_attributes attributes = src.attributes();
        const std::string name = c.image_name(e.image);
        fopt.name = name.c_str();
        fopt.baseline = shape.baseline;
        fopt.reference = e.reference ? int64_t{e.reference} - 1 : QOHI_REFERENCE_NONE;
        if (e.reference) fopt.reference_pixels = kept.at(e.reference - 1).data();
        fopt.metadata = metadata.empty() ? nullptr : metadata.data();
        fopt.metadata_count = metadata.size();
        fopt.attributes = &attributes;
        st = qohi_writer_add_frame_with(wd.writer, image.pixels.data(), image.width, image.height,
                                        image.channels, 0, &fopt);
        if (st != QOHI_OK) {
            return fail(printable(path) + ": encoding failed: " +
                        library_message(qohi_writer_message(wd.writer), qohi_status_string(st)));
        }
        if (!last_use.empty() && last_use[k] > k) kept[k] = std::move(image.pixels);
        if (e.reference && last_use[e.reference - 1] == k) kept.erase(e.reference - 1);
    }
    for (size_t k = 0; k < c.stored.size(); ++k) {
        progress.update("storing", k + 1, c.stored.size(), "files");
        const EntrySpec item = c.entry(k);
        const std::string problem = store_item(wd.writer, item);
        if (!problem.empty()) return fail(printable(item.path) + ": " + problem);
    }
    void* data = nullptr;
    size_t size = 0;
    {
        HoldSignals hold;  // the file may be renamed
        st = qohi_writer_finish(wd.writer, in_memory ? &data : nullptr, in_memory ? &size : nullptr);
    }
    if (st != QOHI_OK) {
        std::string message = library_message(qohi_writer_message(wd.writer), qohi_status_string(st));
        if (message.find(file_target) == std::string::npos) message = "'" + args.output + "': " + message;
        return fail(message);
    }
    struct Freer {
        void* p;
        ~Freer() { qohi_free(p); }
    } freer{data};
    if (!in_memory && ::stat(file_target.c_str(), &st_out) == 0) size = static_cast<size_t>(st_out.st_size);

    if (settings.verify) {
        ReaderCloser rd;
        st = in_memory ? qohi_reader_open_memory(data, size, nullptr, &rd.reader, &qerr)
                       : qohi_reader_open_file(file_target.c_str(), nullptr, &rd.reader, &qerr);
        std::string problem;
        if (st != QOHI_OK) {
            problem = "the file does not open: " + library_message(qerr.message, qohi_status_string(st));
        } else if (qohi_reader_frame_count(rd.reader) != count ||
                   qohi_reader_entry_count(rd.reader) != c.stored.size()) {
            problem = "it holds " + std::to_string(qohi_reader_frame_count(rd.reader)) + " frames and " +
                      std::to_string(qohi_reader_entry_count(rd.reader)) + " entries, not " + std::to_string(count) +
                      " and " + std::to_string(c.stored.size());
        } else {
            for (uint32_t k = 0; k < count && problem.empty(); ++k) {
                progress.update("verifying", k + 1, count, "images");
                const uint32_t i = steps[k].image;
                const std::string path = c.path(i);
                const std::string name = c.image_name(i);
                const qohi_file_attributes want = sources[i].attributes();
                Image image;
                if (!load_png(path, image, err)) {
                    problem = err;
                    break;
                }
                std::string diff = compare_frame(rd.reader, k, image, name, sources[i].baseline != 0);
                if (diff.empty()) {
                    qohi_file_attributes a{};
                    if (qohi_reader_frame_attributes(rd.reader, k, &a) != QOHI_OK || a.present != want.present ||
                        (a.present && (a.mode != want.mode || a.mtime != want.mtime ||
                                       a.mtime_nsec != want.mtime_nsec)))
                        diff = "its attributes differ";
                }
                if (!diff.empty()) {
                    problem = "frame " + std::to_string(k) + " ('" + printable(name) + "') differs from " +
                              printable(path) + ": " + diff;
                }
            }
            for (uint32_t k = 0; k < c.stored.size() && problem.empty(); ++k) {
                progress.update("verifying", k + 1, c.stored.size(), "files");
                const EntrySpec item = c.entry(k);
                const std::string diff = compare_entry(rd.reader, k, item);
                if (!diff.empty()) {
                    problem = "entry " + std::to_string(k) + " ('" + printable(item.name) + "') differs from " +
                              printable(item.path) + ": " + diff;
                }
            }
        }
        if (!problem.empty()) {
            std::string removed = "nothing written";
            if (!in_memory) {
                removed = ::unlink(file_target.c_str()) == 0 ? "'" + args.output + "' removed"
                                                             : "'" + args.output + "' could not be removed";
            }
            return fail("verification failed: " + problem + "; " + removed);
        }
    }
    if (in_memory && !write_file_atomic(args.output, static_cast<const uint8_t*>(data), size, args.force, err)) {
        return fail(err);
    }
    progress.finish();
    size_t verbatim_images = 0;
    for (size_t k = 0; k < c.stored.size(); ++k) {
        const std::string& why = c.why(c.stored[k]);
        if (why.empty()) continue;
        ++verbatim_images;
        if (!args.quiet) {
            prog.say("note: " + printable(join_path(c.root, c.stored_names[k])) + ": stored as it is: " + why);
        }
    }
    if (args.verbose) {
        double ratio =
            c.input_bytes == 0 ? 0.0 : static_cast<double>(size) / static_cast<double>(c.input_bytes);
        std::fprintf(stderr, "%s: %s: %u images, %zu other items, %llu bytes of files -> %zu bytes, ratio %.3f%s\n",
                     prog.name, printable(args.input).c_str(), count, c.stored.size(),
                     static_cast<unsigned long long>(c.input_bytes), size, ratio,
                     settings.verify ? ", verified" : "");
    }
    if (!c.skipped.empty()) {
        // --images-only: the user asked for it, but must still hear it.
        if (!args.quiet) {
            for (const std::string& s : c.skipped) prog.say("skipped: " + s);
        }
        prog.say("warning: " + std::to_string(c.skipped.size()) + (c.skipped.size() == 1 ? " file" : " files") +
                 " not packed (--images-only)");
        return kExitIncomplete;
    }
    if (copt.skip_bad && verbatim_images > 0) {
        for (const StoredItem& s : c.stored) {
            if (c.why(s).compare(0, 12, "a broken PNG") == 0) return kExitIncomplete;
        }
    }
    return kExitOk;
}

bool parse_count(const std::string& text, uint64_t max, uint64_t& value) {
    return parse_decimal(text, value) && value <= max;
}

}  // namespace

int main(int argc, char** argv) {
    const Program prog{"qohienc", kUsage, QOHI_VERSION_STRING, qohi_version_string()};
    Args args;
    Settings settings;
    CollectionOptions copt;
    bool mode_given = false;
    std::vector<Option> options = {
        {"--effort", 0, "a value: 0 or 1", nullptr, false, [&](const std::string& e) {
             if (e == "0" || e == "1") settings.effort = e[0] - '0';
             else return prog.usage_error("unknown effort '" + e + "' (use 0 or 1)");
             return kContinue;
         }},
        {"--method", 0, "a value: auto, stored, qohi or dici", nullptr, false, [&](const std::string& m) {
             if (m == "auto") settings.method = QOHI_CHOOSE_AUTO;
             else if (m == "stored") settings.method = QOHI_CHOOSE_STORED;
             else if (m == "qohi") settings.method = QOHI_CHOOSE_QOHI;
             else if (m == "dici") settings.method = QOHI_CHOOSE_DICI;
             else return prog.usage_error("unknown method '" + m + "' (use auto, stored, qohi or dici)");
             return kContinue;
         }},
        threads_option(prog, settings.threads),
        {"--verify", 0, nullptr, nullptr, false, [&](const std::string&) {
             settings.verify = true;
             return kContinue;
         }},
        {"--progress", 0, nullptr, nullptr, false, [&](const std::string&) {
             settings.progress = true;
             return kContinue;
         }},
        {"--mode", 0, "a value: auto, prior, first, keyframe or none", "--mode given more than once", false,
         [&](const std::string& m) {
             if (m == "auto") copt.mode = QOHI_PLAN_AUTO;
             else if (m == "prior") copt.mode = QOHI_PLAN_PRIOR;
             else if (m == "first") copt.mode = QOHI_PLAN_FIRST;
             else if (m == "keyframe") copt.mode = QOHI_PLAN_KEYFRAME;
             else if (m == "none") copt.mode = QOHI_PLAN_NONE;
             else {
                 return prog.usage_error("unknown mode '" + m + "' (use auto, prior, first, keyframe or none)");
             }
             mode_given = true;
             copt.given.push_back("--mode");
             return kContinue;
         }},
        {"--keyframe-every", 0, "a number", "--keyframe-every given more than once", false,
         [&](const std::string& text) {
             uint64_t n = 0;
             if (!parse_count(text, UINT32_MAX, n) || n == 0) {
                 return prog.usage_error("invalid --keyframe-every '" + text +
                                         "' (expected a positive decimal number)");
             }
             copt.keyframe_every = static_cast<uint32_t>(n);
             copt.given.push_back("--keyframe-every");
             return kContinue;
         }},
        {"--max-depth", 0, "a number", "--max-depth given more than once", false, [&](const std::string& text) {
             uint64_t n = 0;
             if (!parse_count(text, 65535, n)) {
                 return prog.usage_error("invalid --max-depth '" + text +
                                         "' (expected a decimal number from 0 to 65535)");
             }
             copt.max_depth = static_cast<uint32_t>(n);
             copt.max_depth_given = true;
             copt.given.push_back("--max-depth");
             return kContinue;
         }},
        {"--images-only", 0, nullptr, nullptr, false, [&](const std::string&) {
             copt.images_only = true;
             copt.given.push_back("--images-only");
             return kContinue;
         }},
        {"--skip-bad", 0, nullptr, nullptr, false, [&](const std::string&) {
             copt.skip_bad = true;
             copt.given.push_back("--skip-bad");
             return kContinue;
         }},
        {"--baseline", 0, "a file name", nullptr, false, [&](const std::string& file) {
             if (file.empty()) return prog.usage_error("empty --baseline file name");
             copt.baselines.push_back(file);
             copt.given.push_back("--baseline");
             return kContinue;
         }},
    };
    int rc = parse_args(prog, argc, argv, ".qohi", options, args);
    if (rc != kContinue) return rc;
    if (copt.keyframe_every != 0) {
        if (mode_given && copt.mode != QOHI_PLAN_KEYFRAME) {
            return prog.usage_error("--keyframe-every needs --mode keyframe (or no --mode)");
        }
        copt.mode = QOHI_PLAN_KEYFRAME;
    }

    const bool folder = is_directory(args.input);
    if (!folder && !copt.given.empty()) {
        return prog.usage_error("option '" + copt.given.front() + "' applies only when packing a folder");
    }
    if (folder && !args.output_given) {
        args.output = folder_default_output(args.input);
        if (args.output.empty()) {
            return prog.usage_error("cannot name the output for the folder '" + args.input + "'; use -o FILE");
        }
    }
    rc = check_paths(prog, args, "image data");
    if (rc != kContinue) return rc;
    try {
        return folder ? pack_folder(prog, args, settings, copt) : encode_single(prog, args, settings);
    } catch (const std::exception& e) {
        return prog.fail(std::string("out of memory (") + e.what() + ")");
    }
}
