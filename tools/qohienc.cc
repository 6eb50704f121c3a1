// qohienc: encode a PNG image as a single-frame .qohi file, or pack a folder
// of PNGs into one multi-frame .qohi file.
#include <qohi/qohi.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cli.h"
#include "collection.h"
#include "file_io.h"
#include "frame_metadata.h"
#include "png_io.h"
#include "temp_cleanup.h"

using namespace qohi_tools;

namespace {

const char kUsage[] =
    "Usage: qohienc [OPTIONS] INPUT.png [-o OUTPUT.qohi]\n"
    "       qohienc [OPTIONS] FOLDER [-o OUTPUT.qohi]\n"
    "Encode a PNG image losslessly as a QOHI file, or pack a folder of PNG images\n"
    "into one QOHI collection.\n"
    "\n"
    "  INPUT.png              PNG file to encode; \"-\" reads standard input\n"
    "  FOLDER                 folder to pack: every *.png below it, recursively\n"
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
    "      --threads N        threads that code an image's row bands at once\n"
    "                         (default 0: one per core); the file is the same\n"
    "                         for any N\n"
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
    "      --progress         show a progress line on standard error (the default\n"
    "                         when standard error is a terminal, unless -q)\n"
    "\n"
    "Every 8-bit PNG is accepted: grey, grey+alpha and palette images are expanded\n"
    "to RGB or RGBA without loss. 16-bit PNGs are not supported yet. The PNG's ICC\n"
    "profile, EXIF, XMP and text chunks are kept with the image.\n"
    "A single image's frame is named after the input's file name (no name for\n"
    "standard input). In a folder, each image is named by its path relative to\n"
    "the folder, with '/' separators; images of any sizes may be mixed. Files\n"
    "that are not *.png are skipped with a warning; symbolic links to folders are\n"
    "not followed. Every PNG is read before anything is written: a broken one\n"
    "fails the whole pack, naming the file.\n"
    "The output is written to a temporary file and renamed into place only when\n"
    "complete. Binary data is never written to a terminal. 'qohidec FILE -o DIR'\n"
    "unpacks a collection; 'qohidec FILE --list' lists it.\n"
    "\n"
    "Exit status: 0 success, 1 failure (bad input, I/O error), 2 usage error.\n";

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

// Reads and decodes one PNG file; `error` names the file.
bool load_png(const std::string& path, Image& image, std::string& error, uint64_t* file_size = nullptr) {
    std::vector<uint8_t> data;
    if (!read_file(path, data, error)) return false;
    if (file_size) *file_size = data.size();
    if (!decode_png(data.data(), data.size(), image, error)) {
        error = input_name(path) + ": " + error;
        return false;
    }
    return true;
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
    if (from_library_metadata(items, count) != want.metadata) return "its metadata differs";
    return std::string();
}

// -------------------------------------------------------------- one image

int encode_single(const Program& prog, const Args& args, const Settings& settings) {
    std::vector<uint8_t> input;
    std::string err;
    if (!read_file(args.input, input, err)) return prog.fail(err);
    Image image;
    if (!decode_png(input.data(), input.size(), image, err)) {
        return prog.fail(input_name(args.input) + ": " + err);
    }

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
    const std::vector<qohi_metadata> metadata = to_library_metadata(image.metadata);
    qohi_frame_options fopt;
    qohi_frame_options_init(&fopt);
    fopt.name = frame_name.empty() ? nullptr : frame_name.c_str();
    fopt.reference = QOHI_REFERENCE_NONE;
    fopt.metadata = metadata.empty() ? nullptr : metadata.data();
    fopt.metadata_count = metadata.size();
    st = qohi_writer_add_frame_with(wd.writer, image.pixels.data(), image.width, image.height,
                                    image.channels, 0, &fopt);
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
        std::string problem =
            st != QOHI_OK ? library_message(qerr.message, qohi_status_string(st))
                          : compare_frame(rd.reader, 0, image, frame_name, false);
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

// ------------------------------------------------------------- a folder

struct Source {
    std::string path;  // the file as opened, and as messages name it
    std::string name;  // the frame name
    bool baseline = false;
    uint32_t width = 0, height = 0, channels = 0;
};

struct LoadContext {
    const std::vector<Source>* sources = nullptr;
    std::string error;  // the first failure, naming the file
};

extern "C" qohi_status load_source(void* user, uint32_t index, void* pixels, size_t size) {
    auto* ctx = static_cast<LoadContext*>(user);
    try {
        if (index >= ctx->sources->size()) {
            if (ctx->error.empty()) ctx->error = "the planner asked for image " + std::to_string(index);
            return QOHI_ERROR_INVALID_ARGUMENT;
        }
        const Source& src = (*ctx->sources)[index];
        Image image;
        std::string err;
        if (!load_png(src.path, image, err)) {
            if (ctx->error.empty()) ctx->error = err;
            return QOHI_ERROR_IO;
        }
        if (image.width != src.width || image.height != src.height || image.channels != src.channels ||
            image.pixels.size() != size) {
            if (ctx->error.empty()) ctx->error = src.path + ": the file changed while packing";
            return QOHI_ERROR_IO;
        }
        if (size) std::memcpy(pixels, image.pixels.data(), size);
        return QOHI_OK;
    } catch (const std::exception&) {
        if (ctx->error.empty()) ctx->error = "out of memory";
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

// Gathers the images to pack: the folder's PNGs and the baselines. Returns
// kContinue or an exit code.
int collect_sources(const Program& prog, const Args& args, const CollectionOptions& copt,
                    std::vector<Source>& sources) {
    FolderScan scan;
    std::string err;
    if (!scan_folder(args.input, scan, err)) return prog.fail(err);
    if (!args.quiet) {
        auto shown = [](const std::vector<std::string>& items) {
            std::vector<std::string> first;
            for (size_t i = 0; i < items.size() && i < 5; ++i) first.push_back(printable(items[i]));
            std::string text = list_for_message(first, 5);
            if (items.size() > first.size()) {
                text += ", and " + std::to_string(items.size() - first.size()) + " more";
            }
            return text;
        };
        const size_t n = scan.others.size();
        if (n) {
            prog.say("warning: skipped " + std::to_string(n) + (n == 1 ? " file that is" : " files that are") +
                     " not PNG: " + shown(scan.others));
        }
        const size_t l = scan.linked_folders.size();
        if (l) {
            prog.say("warning: did not follow " + std::to_string(l) + " symbolic link" +
                     (l == 1 ? "" : "s") + " to folders: " + shown(scan.linked_folders));
        }
        const size_t b = scan.broken_links.size();
        if (b) {
            prog.say("warning: skipped " + std::to_string(b) + " broken symbolic link" + (b == 1 ? "" : "s") +
                     ": " + shown(scan.broken_links));
        }
    }

    std::set<std::string> names;
    for (const std::string& rel : scan.pngs) {
        const std::string path = join_path(args.input, rel);
        const std::string reason = unsafe_name_reason(rel);
        if (!reason.empty()) {
            return prog.fail(printable(path) + ": the file name cannot be a frame name (" + reason +
                             "); rename the file");
        }
        Source s;
        s.path = path;
        s.name = rel;
        sources.push_back(s);
        names.insert(rel);
    }

    // Baselines: inside the folder they mark an image; outside they are added
    // first, named "baseline/<file name>".
    std::vector<Source> outside;
    std::set<std::string> seen_real;
    const std::string root_real = real_path(args.input);
    const std::string root_prefix = root_real == "/" ? "/" : root_real + "/";
    for (const std::string& file : copt.baselines) {
        const std::string real = real_path(file);
        if (real.empty()) {
            // Let the reading below report why.
            Image image;
            if (!load_png(file, image, err)) return prog.fail(err);
            return prog.fail("'" + file + "': cannot resolve the path");
        }
        if (!seen_real.insert(real).second) continue;
        if (!root_real.empty() && real.compare(0, root_prefix.size(), root_prefix) == 0) {
            const std::string rel = real.substr(root_prefix.size());
            auto it = std::lower_bound(scan.pngs.begin(), scan.pngs.end(), rel);
            if (it != scan.pngs.end() && *it == rel) {
                sources[static_cast<size_t>(it - scan.pngs.begin())].baseline = true;
                continue;
            }
        }
        Source s;
        s.path = file;
        s.baseline = true;
        std::string base = base_name(real);
        std::string stem = base, ext;
        const size_t dot = base.find_last_of('.');
        if (dot != std::string::npos && dot > 0) {
            stem = base.substr(0, dot);
            ext = base.substr(dot);
        }
        s.name = "baseline/" + base;
        for (int k = 2; names.count(s.name); ++k) s.name = "baseline/" + stem + "-" + std::to_string(k) + ext;
        const std::string reason = unsafe_name_reason(s.name);
        if (!reason.empty()) {
            return prog.fail(printable(file) + ": the file name cannot be a frame name (" + reason +
                             "); rename the file");
        }
        names.insert(s.name);
        outside.push_back(s);
    }
    sources.insert(sources.begin(), outside.begin(), outside.end());
    if (sources.empty()) {
        return prog.fail(printable(args.input) + ": no PNG files in the folder");
    }
    if (sources.size() > UINT32_MAX - 1) return prog.fail(printable(args.input) + ": too many images");
    return kContinue;
}

int pack_folder(const Program& prog, const Args& args, const Settings& settings,
                const CollectionOptions& copt) {
    ProgressLine progress(prog, settings.progress || (!args.quiet && isatty(STDERR_FILENO)));
    auto fail = [&](const std::string& message) {
        progress.finish();
        return prog.fail(message);
    };

    std::vector<Source> sources;
    int rc = collect_sources(prog, args, copt, sources);
    if (rc != kContinue) return rc;
    const uint32_t count = static_cast<uint32_t>(sources.size());

    // Read every image before anything is written.
    uint64_t png_bytes = 0;
    std::string err;
    for (uint32_t i = 0; i < count; ++i) {
        progress.update("reading", i + 1, count, "images");
        Image image;
        uint64_t file_size = 0;
        if (!load_png(sources[i].path, image, err, &file_size)) return fail(printable(err));
        sources[i].width = image.width;
        sources[i].height = image.height;
        sources[i].channels = image.channels;
        png_bytes += file_size;
    }

    // Plan the order and the references.
    std::vector<qohi_plan_image> plan_images(count);
    for (uint32_t i = 0; i < count; ++i) {
        plan_images[i].width = sources[i].width;
        plan_images[i].height = sources[i].height;
        plan_images[i].channels = sources[i].channels;
        plan_images[i].baseline = sources[i].baseline ? 1 : 0;
    }
    qohi_plan_options popt;
    qohi_plan_options_init(&popt);
    popt.mode = copt.mode;
    popt.keyframe_interval = copt.keyframe_every;
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
    load_ctx.sources = &sources;
    std::vector<qohi_plan_entry> plan(count);
    qohi_error qerr{};
    qohi_status st = qohi_plan(plan_images.data(), count, load_source, &load_ctx, &popt, plan.data(), &qerr);
    if (st != QOHI_OK) {
        if (!load_ctx.error.empty()) return fail(printable(load_ctx.error));
        return fail(printable(args.input) + ": planning failed: " +
                    library_message(qerr.message, qohi_status_string(st)));
    }
    // The plan must be a permutation with backward references between images
    // of one size: check before relying on it.
    {
        std::vector<bool> used(count);
        for (uint32_t k = 0; k < count; ++k) {
            const qohi_plan_entry& e = plan[k];
            bool ok = e.image < count && !used[e.image] && e.reference >= -1 && e.reference < int64_t{k};
            if (ok && e.reference >= 0) {
                const Source& a = sources[e.image];
                const Source& b = sources[plan[static_cast<size_t>(e.reference)].image];
                ok = a.width == b.width && a.height == b.height && a.channels == b.channels;
            }
            if (!ok) return fail(printable(args.input) + ": planning failed: invalid plan (a bug in libqohi)");
            used[e.image] = true;
        }
    }
    // Where each frame is used as a reference for the last time.
    std::vector<int64_t> last_use(count, -1);
    for (uint32_t k = 0; k < count; ++k) {
        if (plan[k].reference >= 0) last_use[static_cast<size_t>(plan[k].reference)] = k;
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
    std::vector<std::vector<uint8_t>> kept(count);  // pixels of frames still to be referenced
    for (uint32_t k = 0; k < count; ++k) {
        progress.update("packing", k + 1, count, "images");
        const qohi_plan_entry& e = plan[k];
        const Source& src = sources[e.image];
        Image image;
        if (!load_png(src.path, image, err)) return fail(printable(err));
        if (image.width != src.width || image.height != src.height || image.channels != src.channels) {
            return fail(printable(src.path) + ": the file changed while packing");
        }
        const std::vector<qohi_metadata> metadata = to_library_metadata(image.metadata);
        qohi_frame_options fopt;
        qohi_frame_options_init(&fopt);
        fopt.name = src.name.c_str();
        fopt.baseline = src.baseline ? 1 : 0;
        fopt.reference = e.reference >= 0 ? e.reference : QOHI_REFERENCE_NONE;
        if (e.reference >= 0) fopt.reference_pixels = kept[static_cast<size_t>(e.reference)].data();
        fopt.metadata = metadata.empty() ? nullptr : metadata.data();
        fopt.metadata_count = metadata.size();
        st = qohi_writer_add_frame_with(wd.writer, image.pixels.data(), image.width, image.height,
                                        image.channels, 0, &fopt);
        if (st != QOHI_OK) {
            return fail(printable(src.path) + ": encoding failed: " +
                        library_message(qohi_writer_message(wd.writer), qohi_status_string(st)));
        }
        if (last_use[k] > int64_t{k}) kept[k] = std::move(image.pixels);
        if (e.reference >= 0 && last_use[static_cast<size_t>(e.reference)] == int64_t{k}) {
            std::vector<uint8_t>().swap(kept[static_cast<size_t>(e.reference)]);
        }
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
        } else if (qohi_reader_frame_count(rd.reader) != count) {
            problem = "it holds " + std::to_string(qohi_reader_frame_count(rd.reader)) + " frames, not " +
                      std::to_string(count);
        } else {
            for (uint32_t k = 0; k < count && problem.empty(); ++k) {
                progress.update("verifying", k + 1, count, "images");
                const Source& src = sources[plan[k].image];
                Image image;
                if (!load_png(src.path, image, err)) {
                    problem = err;
                    break;
                }
                std::string diff = compare_frame(rd.reader, k, image, src.name, src.baseline);
                if (!diff.empty()) {
                    problem = "frame " + std::to_string(k) + " ('" + printable(src.name) + "') differs from " +
                              printable(src.path) + ": " + diff;
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
    if (args.verbose) {
        double ratio = png_bytes == 0 ? 0.0 : static_cast<double>(size) / static_cast<double>(png_bytes);
        std::fprintf(stderr, "%s: %s: %u images, %llu bytes of PNG -> %zu bytes, ratio %.3f%s\n", prog.name,
                     printable(args.input).c_str(), count, static_cast<unsigned long long>(png_bytes), size,
                     ratio, settings.verify ? ", verified" : "");
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
