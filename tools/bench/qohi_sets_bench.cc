// qohi_sets_bench: collection benchmark of QOHI's multi-image layer against
// per-image and whole-collection peers, on the same decoded pixels.
//
//   qohi_sets_bench [--filter SUBSTR] [--keep-temp] [--samples N] [--sets] DIR
//
// DIR holds one folder per collection ("set"); the *.png files directly in a
// set folder, sorted by name, are its frames. Each set is decoded once with
// libpng, then:
//
//  - QOHI pack: qohi_plan (QOHI_PLAN_AUTO, default options) with a loader
//    serving the decoded pixels, then a memory writer in plan order
//    (qohi_writer_add_frame_with, the reference frame's pixels passed along).
//    Timed: plan + write. Unpack: one reader opens the packed bytes and
//    decodes every frame in order. Extract: N random frames, each with a
//    fresh reader on the packed bytes (no cache warm from earlier frames).
//    Every decoded frame is checked bit for bit.
//  - QOHI per image: qohi_encode of every image on its own.
//  - WebP per image: `cwebp -lossless -exact -quiet` (default effort) on a PNG
//    of each image (written with zlib level 1; cwebp's PNG decode is timed).
//    -exact keeps the RGB of fully transparent pixels: without it cwebp is
//    not lossless on RGBA. Checked with dwebp.
//  - tar | xz: the raw RGB/RGBA bytes of every frame as files, solid
//    `tar -cf - | xz -9e -T1`.
//  - ffmpeg: the frames as a raw video sequence, libx264rgb -qp 0
//    -preset veryslow -threads 1 into .mkv. libx264rgb has no alpha: RGBA
//    sets get a second stream, the alpha plane as lossless 4:0:0 libx264
//    (same settings). Checked by decoding both streams back.
//
// Peers that are not installed are reported as n/a. All timings are wall
// clock, single thread (libqohi with threads = 1; xz -T1; cwebp without
// -mt; x264 -threads 1).
//
// Exit status: 0 if QOHI reproduced every frame exactly, 1 on any QOHI
// mismatch or failure, 2 on usage errors. A peer that fails or is not exact
// is reported (marked '!') but does not change the exit status.

#include <qohi/qohi.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench_util.h"
#include "file_io.h"
#include "png_io.h"

namespace fs = std::filesystem;
using qohi_tools::Image;
using namespace qohi_bench_util;

namespace {

struct ReaderDeleter {
    void operator()(qohi_reader* r) const { qohi_reader_close(r); }
};
struct WriterDeleter {
    void operator()(qohi_writer* w) const { qohi_writer_destroy(w); }
};
using ReaderPtr = std::unique_ptr<qohi_reader, ReaderDeleter>;
using WriterPtr = std::unique_ptr<qohi_writer, WriterDeleter>;

struct Options {
    std::string sets_dir;
    std::string filter;
    bool keep_temp = false;
    int samples = 20;
    uint32_t seed = 1;
};

// ------------------------------------------------------------------ helpers

std::string shell_quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) {
        if (c == '\'') q += "'\\''";
        else q += c;
    }
    return q + "'";
}

// Runs `command` with /bin/sh, stdin from /dev/null, stdout and stderr
// appended to `log_path`. Returns the exit status (-1 if it did not run
// or was killed); `seconds` gets the wall-clock time.
int run_shell(const std::string& command, const std::string& log_path, double& seconds) {
    const Clock::time_point t0 = Clock::now();
    const pid_t pid = ::fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        const int in = ::open("/dev/null", O_RDONLY);
        const int out = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (in >= 0) ::dup2(in, 0);
        if (out >= 0) {
            ::dup2(out, 1);
            ::dup2(out, 2);
        }
        ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return -1;
    }
    seconds = seconds_since(t0);
    if (!WIFEXITED(status)) return -1;
    return WEXITSTATUS(status);
}

// Last non-empty line of a log file, for error messages.
std::string last_log_line(const std::string& log_path) {
    std::vector<uint8_t> data;
    std::string err;
    if (!qohi_tools::read_file(log_path, data, err)) return "";
    std::string s(data.begin(), data.end());
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    const size_t nl = s.find_last_of('\n');
    return nl == std::string::npos ? s : s.substr(nl + 1);
}

bool in_path(const char* program) {
    const char* path = std::getenv("PATH");
    if (!path) return false;
    std::string p = path;
    size_t start = 0;
    while (start <= p.size()) {
        size_t end = p.find(':', start);
        if (end == std::string::npos) end = p.size();
        std::string dir = p.substr(start, end - start);
        if (dir.empty()) dir = ".";
        const std::string full = dir + "/" + program;
        if (::access(full.c_str(), X_OK) == 0) return true;
        start = end + 1;
    }
    return false;
}

// First line of `command`'s output, or "".
std::string first_line_of(const std::string& command) {
    std::string out;
    FILE* f = ::popen((command + " 2>&1").c_str(), "r");
    if (!f) return out;
    char buf[512];
    if (std::fgets(buf, sizeof buf, f)) out = buf;
    ::pclose(f);
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
}

uint64_t file_size(const std::string& path) {
    std::error_code ec;
    const auto n = fs::file_size(path, ec);
    return ec ? 0 : static_cast<uint64_t>(n);
}

bool write_bytes(const std::string& path, const uint8_t* data, size_t size, std::string& error) {
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) {
        error = "cannot write " + path + ": " + std::strerror(errno);
        return false;
    }
    const bool ok = std::fwrite(data, 1, size, f) == size;
    if (std::fclose(f) != 0 || !ok) {
        error = "error writing " + path;
        return false;
    }
    return true;
}

bool read_bytes(const std::string& path, std::vector<uint8_t>& out, std::string& error) {
    return qohi_tools::read_file(path, out, error);
}

std::string status_text(qohi_status st, const char* message) {
    std::string s = qohi_status_string(st);
    if (message && *message) s += std::string(": ") + message;
    return s;
}

// ------------------------------------------------------------------ results

// One size/time measurement; n/a when the peer is missing or failed.
struct Measure {
    bool have = false;   // measured
    bool exact = true;   // round trip checked and equal (peers)
    uint64_t bytes = 0;
    double seconds = 0;
};

struct SetResult {
    std::string name;
    uint64_t frames = 0;
    uint64_t raw_bytes = 0;
    Measure pack;       // QOHI collection: plan + write
    Measure per_image;  // QOHI, one file per image
    Measure webp;
    Measure xz;
    Measure ffmpeg;
    double plan_s = 0;
    double unpack_s = 0;
    double extract_s_sum = 0;  // over `extract_count` random frames
    double extract_s_max = 0;
    uint64_t extract_count = 0;
    uint64_t extract_depth_sum = 0;  // chain depth of the sampled frames
    uint32_t max_depth = 0;          // over every frame of the file
    uint64_t delta_frames = 0;       // frames with a reference
    std::string notes;
};

struct Run {
    Options opt;
    bool have_cwebp = false, have_dwebp = false, have_tar_xz = false, have_ffmpeg = false;
    std::vector<std::string> failures;  // QOHI failures: exit status 1
    std::vector<std::string> warnings;  // peer failures
};

void fail(Run& run, const std::string& set, const std::string& what) {
    std::fprintf(stderr, "qohi_sets_bench: ERROR: %s: %s\n", set.c_str(), what.c_str());
    run.failures.push_back(set + ": " + what);
}

void warn(Run& run, const std::string& set, const std::string& what) {
    std::fprintf(stderr, "qohi_sets_bench: warning: %s: %s\n", set.c_str(), what.c_str());
    run.warnings.push_back(set + ": " + what);
}

struct Frame {
    std::string file;  // file name in the set folder
    Image img;
};

// ------------------------------------------------------------------ QOHI

struct LoaderState {
    const std::vector<Frame>* frames;
};

qohi_status serve_pixels(void* user, uint32_t image, void* pixels, size_t size) {
    const auto* st = static_cast<const LoaderState*>(user);
    if (image >= st->frames->size()) return QOHI_ERROR_INVALID_ARGUMENT;
    const std::vector<uint8_t>& px = (*st->frames)[image].img.pixels;
    if (size != px.size()) return QOHI_ERROR_INVALID_ARGUMENT;
    std::memcpy(pixels, px.data(), size);
    return QOHI_OK;
}

// A reader on the packed bytes of set `set`; null (and a failure recorded)
// if they do not open.
ReaderPtr open_packed(Run& run, const std::string& set, const void* data, size_t size) {
    qohi_reader* raw_reader = nullptr;
    qohi_error err{};
    qohi_read_options ropt;
    qohi_read_options_init(&ropt);
    ropt.threads = 1;
    const qohi_status st = qohi_reader_open_memory(data, size, &ropt, &raw_reader, &err);
    ReaderPtr reader(raw_reader);
    if (st != QOHI_OK) {
        fail(run, set, "qohi_reader_open_memory: " + status_text(st, err.message));
        reader.reset();
    }
    return reader;
}

void bench_qohi_pack(Run& run, const std::vector<Frame>& frames, SetResult& r, uint32_t seed) {
    const uint32_t n = static_cast<uint32_t>(frames.size());
    std::vector<qohi_plan_image> images(n);
    for (uint32_t i = 0; i < n; ++i) {
        images[i].width = frames[i].img.width;
        images[i].height = frames[i].img.height;
        images[i].channels = frames[i].img.channels;
        images[i].baseline = 0;
    }
    qohi_plan_options popt;
    qohi_plan_options_init(&popt);
    popt.mode = QOHI_PLAN_AUTO;
    LoaderState loader{&frames};
    std::vector<qohi_plan_entry> plan(n);

    // ---- pack: plan + write
    const Clock::time_point t0 = Clock::now();
    qohi_error err{};
    qohi_status st = qohi_plan(images.data(), n, serve_pixels, &loader, &popt, plan.data(), &err);
    r.plan_s = seconds_since(t0);
    if (st != QOHI_OK) return fail(run, r.name, "qohi_plan: " + status_text(st, err.message));

    qohi_write_options wopt;
    qohi_write_options_init(&wopt);
    wopt.effort = 1;  // as `qohienc FOLDER` packs
    wopt.threads = 1;
    qohi_writer* raw_writer = nullptr;
    err = qohi_error{};
    st = qohi_writer_open_memory(&wopt, &raw_writer, &err);
    WriterPtr writer(raw_writer);
    if (st != QOHI_OK) return fail(run, r.name, "qohi_writer_open_memory: " + status_text(st, err.message));
    for (uint32_t k = 0; k < n; ++k) {
        const Image& img = frames[plan[k].image].img;
        qohi_frame_options fo;
        qohi_frame_options_init(&fo);
        fo.name = frames[plan[k].image].file.c_str();
        fo.reference = plan[k].reference;
        if (plan[k].reference >= 0) {
            if (plan[k].reference >= static_cast<int64_t>(k))
                return fail(run, r.name, "plan entry " + std::to_string(k) + " refers forward");
            fo.reference_pixels = frames[plan[static_cast<size_t>(plan[k].reference)].image].img.pixels.data();
        }
        st = qohi_writer_add_frame_with(writer.get(), img.pixels.data(), img.width, img.height,
                                        img.channels, 0, &fo);
        if (st != QOHI_OK)
            return fail(run, r.name, "add frame " + frames[plan[k].image].file + ": " +
                                         status_text(st, qohi_writer_message(writer.get())));
    }
    void* raw_data = nullptr;
    size_t packed_size = 0;
    st = qohi_writer_finish(writer.get(), &raw_data, &packed_size);
    std::unique_ptr<void, QohiDeleter> packed(raw_data);
    r.pack.seconds = seconds_since(t0);
    if (st != QOHI_OK)
        return fail(run, r.name, "qohi_writer_finish: " + status_text(st, qohi_writer_message(writer.get())));
    writer.reset();
    r.pack.bytes = packed_size;

    // ---- frame infos (untimed)
    std::vector<uint32_t> depth(n, 0);
    {
        ReaderPtr reader = open_packed(run, r.name, packed.get(), packed_size);
        if (!reader) return;
        if (qohi_reader_frame_count(reader.get()) != n)
            return fail(run, r.name, "frame count " + std::to_string(qohi_reader_frame_count(reader.get())) +
                                         ", expected " + std::to_string(n));
        for (uint32_t k = 0; k < n; ++k) {
            qohi_frame_info info{};
            st = qohi_reader_frame_info(reader.get(), k, &info);
            if (st != QOHI_OK)
                return fail(run, r.name, "frame info " + std::to_string(k) + ": " +
                                             status_text(st, qohi_reader_message(reader.get())));
            const Image& img = frames[plan[k].image].img;
            if (info.width != img.width || info.height != img.height || info.channels != img.channels)
                return fail(run, r.name, "frame " + std::to_string(k) + ": wrong size or channels");
            if (std::string(info.name, info.name_size) != frames[plan[k].image].file)
                return fail(run, r.name, "frame " + std::to_string(k) + ": wrong name");
            if (info.reference >= static_cast<int64_t>(k))
                return fail(run, r.name, "frame " + std::to_string(k) + " refers forward");
            depth[k] = info.depth;
            r.max_depth = std::max(r.max_depth, info.depth);
            if (info.reference >= 0) ++r.delta_frames;
        }
        if (r.max_depth > QOHI_DEFAULT_MAX_DEPTH)
            fail(run, r.name, "chain depth " + std::to_string(r.max_depth) + " exceeds max_depth " +
                                  std::to_string(QOHI_DEFAULT_MAX_DEPTH));
    }

    // ---- unpack: one reader, every frame in order
    std::vector<std::vector<uint8_t>> out(n);
    for (uint32_t k = 0; k < n; ++k) out[k].assign(frames[plan[k].image].img.pixels.size(), 0);
    {
        const Clock::time_point t1 = Clock::now();
        ReaderPtr reader = open_packed(run, r.name, packed.get(), packed_size);
        if (!reader) return;
        for (uint32_t k = 0; k < n; ++k) {
            st = qohi_reader_decode_frame(reader.get(), k, out[k].data(), out[k].size(), 0, 0);
            if (st != QOHI_OK)
                return fail(run, r.name, "decode frame " + std::to_string(k) + ": " +
                                             status_text(st, qohi_reader_message(reader.get())));
        }
        reader.reset();
        r.unpack_s = seconds_since(t1);
    }
    bool all_exact = true;
    for (uint32_t k = 0; k < n; ++k) {
        const Image& img = frames[plan[k].image].img;
        const std::string why = first_mismatch(out[k].data(), img.pixels.data(), out[k].size(), img.width, img.channels);
        if (!why.empty()) {
            fail(run, r.name, "unpack: " + frames[plan[k].image].file + " NOT BIT-EXACT: " + why);
            all_exact = false;
        }
    }
    out.clear();

    // ---- extract: random frames, a fresh reader for each
    std::mt19937 rng(seed);
    const int samples = run.opt.samples;
    for (int s = 0; s < samples; ++s) {
        const uint32_t k = static_cast<uint32_t>(rng() % n);
        const Image& img = frames[plan[k].image].img;
        std::vector<uint8_t> buf(img.pixels.size());
        const Clock::time_point t1 = Clock::now();
        ReaderPtr reader = open_packed(run, r.name, packed.get(), packed_size);
        if (!reader) return;
        st = qohi_reader_decode_frame(reader.get(), k, buf.data(), buf.size(), 0, 0);
        reader.reset();
        const double t = seconds_since(t1);
        if (st != QOHI_OK)
            return fail(run, r.name, "extract frame " + std::to_string(k) + ": " + qohi_status_string(st));
        r.extract_s_sum += t;
        r.extract_s_max = std::max(r.extract_s_max, t);
        ++r.extract_count;
        r.extract_depth_sum += depth[k];
        const std::string why = first_mismatch(buf.data(), img.pixels.data(), buf.size(), img.width, img.channels);
        if (!why.empty()) {
            fail(run, r.name, "extract: " + frames[plan[k].image].file + " NOT BIT-EXACT: " + why);
            all_exact = false;
        }
    }
    r.pack.have = true;
    r.pack.exact = all_exact;
}

void bench_qohi_per_image(Run& run, const std::vector<Frame>& frames, SetResult& r) {
    uint64_t bytes = 0;
    double secs = 0;
    for (const Frame& f : frames) {
        const Image& img = f.img;
        void* raw_enc = nullptr;
        size_t size = 0;
        qohi_error err{};
        qohi_write_options one_thread;
        qohi_write_options_init(&one_thread);
        one_thread.threads = 1;
        const Clock::time_point t0 = Clock::now();
        qohi_status st = qohi_encode(img.pixels.data(), img.width, img.height, img.channels, 0,
                                     &one_thread, &raw_enc, &size, &err);
        secs += seconds_since(t0);
        std::unique_ptr<void, QohiDeleter> enc(raw_enc);
        if (st != QOHI_OK) return fail(run, r.name, "qohi_encode " + f.file + ": " + status_text(st, err.message));
        void* raw_dec = nullptr;
        qohi_frame_info info{};
        err = qohi_error{};
        qohi_read_options read_one_thread;
        qohi_read_options_init(&read_one_thread);
        read_one_thread.threads = 1;
        st = qohi_decode(enc.get(), size, &read_one_thread, 0, &raw_dec, &info, &err);
        std::unique_ptr<void, QohiDeleter> dec(raw_dec);
        if (st != QOHI_OK) return fail(run, r.name, "qohi_decode " + f.file + ": " + status_text(st, err.message));
        if (info.width != img.width || info.height != img.height || info.channels != img.channels)
            return fail(run, r.name, "qohi_decode " + f.file + ": wrong size or channels");
        const std::string why = first_mismatch(static_cast<const uint8_t*>(dec.get()), img.pixels.data(),
                                               img.pixels.size(), img.width, img.channels);
        if (!why.empty()) return fail(run, r.name, "per image " + f.file + " NOT BIT-EXACT: " + why);
        bytes += size;
    }
    r.per_image.have = true;
    r.per_image.bytes = bytes;
    r.per_image.seconds = secs;
}

// ------------------------------------------------------------------ peers

std::string stem_of(const std::string& file) {
    const size_t dot = file.find_last_of('.');
    return dot == std::string::npos ? file : file.substr(0, dot);
}

// Parses dwebp's PAM output (always RGBA) and compares with `img`.
bool pam_matches(const std::vector<uint8_t>& pam, const Image& img, std::string& why) {
    const std::string head(pam.begin(), pam.begin() + static_cast<std::ptrdiff_t>(std::min<size_t>(pam.size(), 256)));
    const size_t end = head.find("ENDHDR\n");
    if (head.compare(0, 3, "P7\n") != 0 || end == std::string::npos) {
        why = "dwebp output is not PAM";
        return false;
    }
    unsigned w = 0, h = 0, d = 0;
    const char* s = head.c_str();
    if (const char* p = std::strstr(s, "WIDTH ")) w = static_cast<unsigned>(std::strtoul(p + 6, nullptr, 10));
    if (const char* p = std::strstr(s, "HEIGHT ")) h = static_cast<unsigned>(std::strtoul(p + 7, nullptr, 10));
    if (const char* p = std::strstr(s, "DEPTH ")) d = static_cast<unsigned>(std::strtoul(p + 6, nullptr, 10));
    const size_t off = end + 7;
    if (w != img.width || h != img.height || d != 4 ||
        pam.size() - off != static_cast<size_t>(w) * h * 4) {
        why = "dwebp output has the wrong size";
        return false;
    }
    const uint8_t* q = pam.data() + off;
    const size_t px = static_cast<size_t>(w) * h;
    for (size_t i = 0; i < px; ++i) {
        for (uint32_t c = 0; c < 4; ++c) {
            const uint8_t want = c < img.channels ? img.pixels[i * img.channels + c] : 255;
            if (q[i * 4 + c] != want) {
                why = "pixel mismatch at x=" + std::to_string(i % w) + " y=" + std::to_string(i / w) +
                      " channel " + std::to_string(c);
                return false;
            }
        }
    }
    return true;
}

void bench_webp(Run& run, const std::vector<Frame>& frames, const std::string& dir, SetResult& r) {
    if (!run.have_cwebp) return;
    std::error_code ec;
    fs::create_directories(dir, ec);
    const std::string log = dir + "/log.txt";
    uint64_t bytes = 0;
    double secs = 0;
    bool exact = true;
    for (const Frame& f : frames) {
        const std::string base = dir + "/" + stem_of(f.file);
        std::vector<uint8_t> png;
        std::string err;
        Image plain = f.img;
        plain.metadata.clear();
        if (!qohi_tools::encode_png(plain, 1, png, err) || !write_bytes(base + ".png", png.data(), png.size(), err)) {
            warn(run, r.name, "webp: " + err);
            return;
        }
        double t = 0;
        const int rc = run_shell("cwebp -lossless -exact -quiet " + shell_quote(base + ".png") + " -o " +
                                     shell_quote(base + ".webp"),
                                 log, t);
        if (rc != 0) {
            warn(run, r.name, "cwebp failed on " + f.file + ": " + last_log_line(log));
            return;
        }
        secs += t;
        bytes += file_size(base + ".webp");
        if (exact && run.have_dwebp) {
            double td = 0;
            std::vector<uint8_t> pam;
            std::string why;
            if (run_shell("dwebp -quiet -pam " + shell_quote(base + ".webp") + " -o " + shell_quote(base + ".pam"),
                          log, td) != 0 ||
                !read_bytes(base + ".pam", pam, why)) {
                warn(run, r.name, "dwebp failed on " + f.file + ": " + last_log_line(log));
                exact = false;
            } else if (!pam_matches(pam, f.img, why)) {
                warn(run, r.name, "WebP NOT BIT-EXACT on " + f.file + ": " + why);
                exact = false;
            }
            fs::remove(base + ".pam", ec);
        }
        if (!run.opt.keep_temp) fs::remove(base + ".png", ec);
    }
    r.webp.have = true;
    r.webp.bytes = bytes;
    r.webp.seconds = secs;
    r.webp.exact = exact;
}

void bench_xz(Run& run, const std::vector<Frame>& frames, const std::string& dir, SetResult& r) {
    if (!run.have_tar_xz) return;
    const std::string raw_dir = dir + "/raw";
    std::error_code ec;
    fs::create_directories(raw_dir, ec);
    for (const Frame& f : frames) {
        std::string err;
        const std::string path = raw_dir + "/" + stem_of(f.file) + (f.img.channels == 4 ? ".rgba" : ".rgb");
        if (!write_bytes(path, f.img.pixels.data(), f.img.pixels.size(), err)) {
            warn(run, r.name, "xz: " + err);
            return;
        }
    }
    const std::string out = dir + "/frames.tar.xz";
    const std::string log = dir + "/log.txt";
    double t = 0;
    // pipefail is not POSIX sh: check tar's status through a marker file.
    const std::string cmd = "{ tar -C " + shell_quote(raw_dir) +
                            " --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf - . || echo tar >> " +
                            shell_quote(dir + "/pipe_failed") + "; } | xz -9e -T1 -c > " + shell_quote(out);
    const int rc = run_shell(cmd, log, t);
    if (rc != 0 || fs::exists(dir + "/pipe_failed")) {
        warn(run, r.name, "tar | xz failed: " + last_log_line(log));
        return;
    }
    r.xz.have = true;
    r.xz.bytes = file_size(out);
    r.xz.seconds = t;
    if (!run.opt.keep_temp) fs::remove_all(raw_dir, ec);
}

void bench_ffmpeg(Run& run, const std::vector<Frame>& frames, const std::string& dir, SetResult& r) {
    if (!run.have_ffmpeg) return;
    const Image& first = frames[0].img;
    for (const Frame& f : frames) {
        if (f.img.width != first.width || f.img.height != first.height || f.img.channels != first.channels) {
            warn(run, r.name, "ffmpeg: frames differ in size or channels; skipped");
            return;
        }
    }
    std::error_code ec;
    fs::create_directories(dir, ec);
    const std::string seq = dir + "/frames.raw";
    {
        FILE* f = std::fopen(seq.c_str(), "wb");
        bool ok = f != nullptr;
        for (const Frame& fr : frames)
            if (ok) ok = std::fwrite(fr.img.pixels.data(), 1, fr.img.pixels.size(), f) == fr.img.pixels.size();
        if (f && std::fclose(f) != 0) ok = false;
        if (!ok) {
            warn(run, r.name, "ffmpeg: cannot write " + seq);
            return;
        }
    }
    const bool alpha = first.channels == 4;
    const std::string size = std::to_string(first.width) + "x" + std::to_string(first.height);
    const std::string out = dir + "/frames.mkv";
    const std::string log = dir + "/log.txt";
    const std::string x264 = " -qp 0 -preset veryslow -threads 1 ";
    std::string cmd = "ffmpeg -nostdin -hide_banner -v error -y -f rawvideo -pix_fmt " +
                      std::string(alpha ? "rgba" : "rgb24") + " -s " + size + " -r 25 -i " + shell_quote(seq);
    if (alpha)
        cmd += " -filter_complex '[0:v]split[a][b];[a]format=rgb24[rgb];[b]alphaextract,format=gray[al]'"
               " -map '[rgb]' -map '[al]' -c:v:0 libx264rgb -c:v:1 libx264" + x264;
    else
        cmd += " -c:v libx264rgb" + x264;
    cmd += shell_quote(out);
    double t = 0;
    if (run_shell(cmd, log, t) != 0) {
        warn(run, r.name, "ffmpeg failed: " + last_log_line(log));
        return;
    }
    r.ffmpeg.have = true;
    r.ffmpeg.bytes = file_size(out);
    r.ffmpeg.seconds = t;

    // Check: decode the RGB stream (and the alpha plane) back.
    double td = 0;
    const std::string rgb_out = dir + "/decoded.rgb", a_out = dir + "/decoded.a";
    std::string dcmd = "ffmpeg -nostdin -hide_banner -v error -y -i " + shell_quote(out) +
                       " -map 0:v:0 -f rawvideo -pix_fmt rgb24 " + shell_quote(rgb_out);
    if (alpha)
        dcmd += " -map 0:v:1 -vf extractplanes=y -f rawvideo -pix_fmt gray " + shell_quote(a_out);
    std::vector<uint8_t> rgb, a;
    std::string err;
    if (run_shell(dcmd, log, td) != 0 || !read_bytes(rgb_out, rgb, err) || (alpha && !read_bytes(a_out, a, err))) {
        warn(run, r.name, "ffmpeg decode failed: " + last_log_line(log));
        r.ffmpeg.exact = false;
    } else {
        const size_t px = static_cast<size_t>(first.width) * first.height;
        bool ok = rgb.size() == px * 3 * frames.size() && (!alpha || a.size() == px * frames.size());
        std::string why = ok ? "" : "decoded size differs";
        for (size_t k = 0; ok && k < frames.size(); ++k) {
            const uint8_t* src = frames[k].img.pixels.data();
            for (size_t i = 0; ok && i < px; ++i) {
                for (uint32_t c = 0; c < 3; ++c)
                    if (rgb[(k * px + i) * 3 + c] != src[i * first.channels + c]) ok = false;
                if (alpha && a[k * px + i] != src[i * 4 + 3]) ok = false;
                if (!ok) why = "frame " + std::to_string(k) + " pixel " + std::to_string(i) + " differs";
            }
        }
        if (!ok) {
            warn(run, r.name, "ffmpeg NOT BIT-EXACT: " + why);
            r.ffmpeg.exact = false;
        }
    }
    if (!run.opt.keep_temp) {
        fs::remove(seq, ec);
        fs::remove(rgb_out, ec);
        fs::remove(a_out, ec);
    }
}

// ------------------------------------------------------------------ table

// `m` relative to `base`: "n/a" if either is missing; '!' if not exact.
std::string ratio_cell(const Measure& m, const Measure& base) {
    if (!m.have || !base.have || base.bytes == 0) return "n/a";
    return fmt("%.3f", static_cast<double>(m.bytes) / static_cast<double>(base.bytes)) + (m.exact ? "" : "!");
}

std::string secs_cell(const Measure& m, const char* f = "%.2f") {
    return m.have ? fmt(f, m.seconds) : "n/a";
}

std::string bytes_cell(const Measure& m) {
    return m.have ? std::to_string(m.bytes) : "n/a";
}

const char* const kRowFormat =
    "%-22s %6s %7s | %6s %6s %6s %6s | %10s %10s | %7s %6s %6s %6s %6s | %8s %8s %8s %7s\n";
const int kRuleWidth = 173;

void print_header() {
    std::printf("%-37s | %-27s | %-21s | %-34s | %-34s\n", "", "size / tar|xz", "bytes", "seconds",
                "QOHI unpack, extract one frame");
    std::printf(kRowFormat, "set", "frames", "raw MB", "pack", "1each", "WebP", "ffmpeg", "QOHI pack",
                "tar|xz", "pack", "plan", "xz", "WebP", "ffmpeg", "unpack s", "avg ms", "max ms", "depth");
    std::printf("%s\n", std::string(kRuleWidth, '-').c_str());
}

void print_row(const SetResult& r) {
    const std::string label = r.name.size() > 22 ? r.name.substr(0, 21) + "~" : r.name;
    const double avg_ms = r.extract_count ? r.extract_s_sum / static_cast<double>(r.extract_count) * 1e3 : 0;
    const double avg_depth =
        r.extract_count ? static_cast<double>(r.extract_depth_sum) / static_cast<double>(r.extract_count) : 0;
    std::printf(kRowFormat, label.c_str(), std::to_string(r.frames).c_str(),
                fmt("%.2f", static_cast<double>(r.raw_bytes) / 1e6).c_str(), ratio_cell(r.pack, r.xz).c_str(),
                ratio_cell(r.per_image, r.xz).c_str(), ratio_cell(r.webp, r.xz).c_str(),
                ratio_cell(r.ffmpeg, r.xz).c_str(), bytes_cell(r.pack).c_str(), bytes_cell(r.xz).c_str(),
                secs_cell(r.pack, "%.3f").c_str(), r.pack.have ? fmt("%.3f", r.plan_s).c_str() : "n/a",
                secs_cell(r.xz).c_str(), secs_cell(r.webp).c_str(), secs_cell(r.ffmpeg).c_str(),
                r.pack.have ? fmt("%.4f", r.unpack_s).c_str() : "n/a",
                r.extract_count ? fmt("%.3f", avg_ms).c_str() : "n/a",
                r.extract_count ? fmt("%.3f", r.extract_s_max * 1e3).c_str() : "n/a",
                r.pack.have ? (fmt("%.1f", avg_depth) + "/" + std::to_string(r.max_depth)).c_str() : "n/a");
}

// Sums `m` of every set into `total`; a peer missing in any set is n/a in
// the total (ratios then cover different pixels).
void add_measure(Measure& total, const Measure& m, bool first) {
    if (first) total.have = m.have;
    else total.have = total.have && m.have;
    total.exact = total.exact && m.exact;
    total.bytes += m.bytes;
    total.seconds += m.seconds;
}

// ------------------------------------------------------------------ driver

void print_usage(FILE* f) {
    std::fprintf(f,
                 "usage: qohi_sets_bench [options] [--sets] DIR\n"
                 "\n"
                 "Collection benchmark: every folder of DIR is a set whose *.png files (sorted by\n"
                 "name) are its frames. On the same decoded pixels it measures QOHI packing\n"
                 "(qohi_plan auto + a writer in plan order), unpacking, random single-frame\n"
                 "extraction with a fresh reader, QOHI per image, and the peers (when installed):\n"
                 "cwebp -lossless -exact per image, solid tar | xz -9e -T1 of the raw frames, and\n"
                 "ffmpeg libx264rgb -qp 0 -preset veryslow (.mkv; alpha as a second, lossless\n"
                 "4:0:0 libx264 stream). Sizes are printed relative to tar|xz.\n"
                 "\n"
                 "options:\n"
                 "  --sets DIR       the folder of sets (or give DIR as the argument)\n"
                 "  --filter SUBSTR  only sets whose name contains SUBSTR\n"
                 "  --samples N      random frames extracted per set (default 20)\n"
                 "  --seed N         seed of the random frame choice (default 1)\n"
                 "  --keep-temp      keep the temporary folder (peer inputs and outputs)\n"
                 "  -h, --help       show this help\n"
                 "\n"
                 "Exit status: 0 QOHI exact everywhere, 1 a QOHI mismatch or failure, 2 usage\n"
                 "error. Peer failures are reported, marked '!', and do not change it.\n");
}

int match_option(const char* name, int argc, char** argv, int& i, std::string& value) {
    return qohi_bench_util::match_option("qohi_sets_bench", name, argc, argv, i, value);
}

int parse_args(int argc, char** argv, Options& opt) {
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        std::string value;
        int m = 0;
        long n = 0;
        if (a == "-h" || a == "--help") {
            print_usage(stdout);
            return 0;
        }
        if ((m = match_option("--sets", argc, argv, i, value)) != 0) {
            if (m < 0) return 2;
            if (!opt.sets_dir.empty()) {
                std::fprintf(stderr, "qohi_sets_bench: only one DIR\n");
                return 2;
            }
            opt.sets_dir = value;
        } else if ((m = match_option("--filter", argc, argv, i, value)) != 0) {
            if (m < 0) return 2;
            opt.filter = value;
        } else if ((m = match_option("--samples", argc, argv, i, value)) != 0) {
            if (m < 0) return 2;
            if (!parse_number(value, 1, 100000, n)) {
                std::fprintf(stderr, "qohi_sets_bench: --samples wants a number from 1 to 100000\n");
                return 2;
            }
            opt.samples = static_cast<int>(n);
        } else if ((m = match_option("--seed", argc, argv, i, value)) != 0) {
            if (m < 0) return 2;
            if (!parse_number(value, 0, 2147483647L, n)) {
                std::fprintf(stderr, "qohi_sets_bench: --seed wants a non-negative number\n");
                return 2;
            }
            opt.seed = static_cast<uint32_t>(n);
        } else if (a == "--keep-temp") {
            opt.keep_temp = true;
        } else if (a.size() > 1 && a[0] == '-') {
            std::fprintf(stderr, "qohi_sets_bench: unknown option '%s' (try --help)\n", a.c_str());
            return 2;
        } else if (!opt.sets_dir.empty()) {
            std::fprintf(stderr, "qohi_sets_bench: only one DIR, got '%s' and '%s'\n", opt.sets_dir.c_str(),
                         a.c_str());
            return 2;
        } else {
            opt.sets_dir = a;
        }
    }
    if (opt.sets_dir.empty()) {
        print_usage(stderr);
        return 2;
    }
    return -1;
}

bool load_set(Run& run, const fs::path& dir, const std::string& name, std::vector<Frame>& frames) {
    std::vector<std::string> files;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code ec2;
        if (it->is_regular_file(ec2) && has_png_extension(it->path())) files.push_back(it->path().filename().string());
    }
    if (ec) {
        warn(run, name, "cannot list: " + ec.message());
        return false;
    }
    std::sort(files.begin(), files.end());
    for (const std::string& file : files) {
        std::vector<uint8_t> data;
        std::string err;
        Frame fr;
        fr.file = file;
        if (!qohi_tools::read_file((dir / file).string(), data, err) ||
            !qohi_tools::decode_png(data.data(), data.size(), fr.img, err)) {
            warn(run, name, "skipped " + file + ": " + err);
            continue;
        }
        if ((fr.img.channels != 3 && fr.img.channels != 4) || fr.img.width == 0 || fr.img.height == 0) {
            warn(run, name, "skipped " + file + ": unexpected decoded layout");
            continue;
        }
        fr.img.metadata.clear();
        frames.push_back(std::move(fr));
    }
    return !frames.empty();
}

int run_all(Run& run) {
    const Options& opt = run.opt;
    std::error_code ec;
    const fs::path root(opt.sets_dir);
    if (!fs::is_directory(root, ec)) {
        std::fprintf(stderr, "qohi_sets_bench: '%s' is not a directory\n", opt.sets_dir.c_str());
        return 2;
    }
    std::vector<std::string> set_names;
    for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code ec2;
        const std::string name = it->path().filename().string();
        if (it->is_directory(ec2) && (opt.filter.empty() || name.find(opt.filter) != std::string::npos))
            set_names.push_back(name);
    }
    std::sort(set_names.begin(), set_names.end());
    if (set_names.empty()) {
        std::fprintf(stderr, "qohi_sets_bench: no set folders under '%s'%s\n", opt.sets_dir.c_str(),
                     opt.filter.empty() ? "" : " matching the filter");
        return 1;
    }

    run.have_cwebp = in_path("cwebp");
    run.have_dwebp = in_path("dwebp");
    run.have_tar_xz = in_path("tar") && in_path("xz");
    run.have_ffmpeg = in_path("ffmpeg");

    const char* tmp_env = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp_env && *tmp_env ? tmp_env : "/tmp") + "/qohi_sets_bench.XXXXXX";
    std::vector<char> tmpl_buf(tmpl.begin(), tmpl.end());
    tmpl_buf.push_back('\0');
    if (!::mkdtemp(tmpl_buf.data())) {
        std::fprintf(stderr, "qohi_sets_bench: cannot create a temporary folder from '%s': %s\n", tmpl.c_str(),
                     std::strerror(errno));
        return 1;
    }
    const std::string tmp = tmpl_buf.data();

    const Clock::time_point start = Clock::now();
    std::vector<SetResult> results;
    for (size_t si = 0; si < set_names.size(); ++si) {
        const std::string& name = set_names[si];
        std::vector<Frame> frames;
        if (!load_set(run, root / name, name, frames)) {
            warn(run, name, "no readable *.png; skipped");
            continue;
        }
        std::fprintf(stderr, "qohi_sets_bench: %s: %zu frames (%.0f s)\n", name.c_str(), frames.size(),
                     seconds_since(start));
        SetResult r;
        r.name = name;
        r.frames = frames.size();
        for (const Frame& f : frames) r.raw_bytes += f.img.pixels.size();
        const std::string dir = tmp + "/" + name;
        fs::create_directories(dir, ec);

        bench_qohi_pack(run, frames, r, opt.seed + static_cast<uint32_t>(si));
        bench_qohi_per_image(run, frames, r);
        bench_xz(run, frames, dir, r);
        bench_webp(run, frames, dir + "/webp", r);
        bench_ffmpeg(run, frames, dir, r);
        for (const Frame& f : frames) {
            if (f.img.channels == 4 && r.notes.find("RGBA") == std::string::npos) r.notes = "RGBA";
        }
        if (r.notes.empty()) r.notes = "RGB";
        results.push_back(r);
        if (!opt.keep_temp) fs::remove_all(dir, ec);
    }

    SetResult total;
    total.name = "TOTAL";
    for (size_t i = 0; i < results.size(); ++i) {
        const SetResult& r = results[i];
        const bool first = i == 0;
        total.frames += r.frames;
        total.raw_bytes += r.raw_bytes;
        add_measure(total.pack, r.pack, first);
        add_measure(total.per_image, r.per_image, first);
        add_measure(total.webp, r.webp, first);
        add_measure(total.xz, r.xz, first);
        add_measure(total.ffmpeg, r.ffmpeg, first);
        total.plan_s += r.plan_s;
        total.unpack_s += r.unpack_s;
        total.extract_s_sum += r.extract_s_sum;
        total.extract_s_max = std::max(total.extract_s_max, r.extract_s_max);
        total.extract_count += r.extract_count;
        total.extract_depth_sum += r.extract_depth_sum;
        total.max_depth = std::max(total.max_depth, r.max_depth);
        total.delta_frames += r.delta_frames;
    }

    std::printf("qohi_sets_bench: %s, libqohi %s, single thread, wall-clock times\n", opt.sets_dir.c_str(),
                qohi_version_string());
    std::printf("  QOHI pack: qohi_plan auto (default options) + memory writer in plan order; max_depth %d\n",
                QOHI_DEFAULT_MAX_DEPTH);
    std::printf("  1each: qohi_encode of every image on its own\n");
    std::printf("  WebP:  %s, cwebp -lossless -exact -quiet per image (PNG input, decode timed)\n",
                run.have_cwebp ? first_line_of("cwebp -version").c_str() : "n/a (cwebp not found)");
    std::printf("  tar|xz: solid tar of the raw RGB/RGBA frames | %s\n",
                run.have_tar_xz ? (first_line_of("xz --version") + ", -9e -T1").c_str() : "n/a (tar or xz not found)");
    std::printf("  ffmpeg: %s; raw frame sequence, libx264rgb -qp 0 -preset veryslow -threads 1, .mkv;\n"
                "          RGBA sets: alpha as a second stream, libx264 4:0:0 with the same settings\n",
                run.have_ffmpeg ? first_line_of("ffmpeg -version | cut -d' ' -f1-3").c_str() : "n/a (ffmpeg not found)");
    std::printf("  sizes relative to tar|xz (lower is better; '!' = peer not bit-exact); extract = one\n"
                "  random frame, fresh reader, %d samples per set; depth = mean chain depth of the sampled\n"
                "  frames / max chain depth in the file (a frame costs depth+1 frame decodes)\n\n",
                opt.samples);
    print_header();
    for (const SetResult& r : results) print_row(r);
    std::printf("%s\n", std::string(kRuleWidth, '-').c_str());
    print_row(total);
    std::printf("\n");
    for (const SetResult& r : results)
        std::printf("  %-22s %s, %llu of %llu frames are deltas\n", r.name.c_str(), r.notes.c_str(),
                    static_cast<unsigned long long>(r.delta_frames), static_cast<unsigned long long>(r.frames));
    std::printf("\n%zu set%s, %llu frames, %zu QOHI failure%s, %zu peer warning%s, %.0f s\n", results.size(),
                results.size() == 1 ? "" : "s", static_cast<unsigned long long>(total.frames), run.failures.size(),
                run.failures.size() == 1 ? "" : "s", run.warnings.size(), run.warnings.size() == 1 ? "" : "s",
                seconds_since(start));
    if (opt.keep_temp) std::printf("temporary files kept in %s\n", tmp.c_str());
    else fs::remove_all(tmp, ec);
    for (const std::string& w : run.warnings) std::printf("  warning: %s\n", w.c_str());
    if (!run.failures.empty()) {
        std::printf("\n*** %zu FAILURE%s ***\n", run.failures.size(), run.failures.size() == 1 ? "" : "S");
        for (const std::string& f : run.failures) std::printf("  %s\n", f.c_str());
        return 1;
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    Run run;
    const int rc = parse_args(argc, argv, run.opt);
    if (rc >= 0) return rc;
    return run_guarded("qohi_sets_bench", [&run] { return run_all(run); });
}
