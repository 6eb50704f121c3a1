#include "cli_test_util.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace fs = std::filesystem;

namespace qohi_cli_test {

// ------------------------------------------------------------------ files

Bytes read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return {};
    return Bytes(std::istreambuf_iterator<char>(in), {});
}

std::string read_text(const std::string& path) {
    Bytes b = read_bytes(path);
    return std::string(b.begin(), b.end());
}

void write_bytes(const std::string& path, const Bytes& data) {
    const fs::path parent = fs::path(path).parent_path();
    if (!parent.empty()) fs::create_directories(parent);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
    ASSERT_TRUE(out.good()) << "cannot write " << path;
}

bool exists(const std::string& path) {
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0;
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

::testing::AssertionResult make_temp_dir(const std::string& name, std::string& dir) {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/" + name + "-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (mkdtemp(buf.data()) == nullptr) {
        return ::testing::AssertionFailure() << tmpl << ": " << std::strerror(errno);
    }
    dir = buf.data();
    return ::testing::AssertionSuccess();
}

void remove_temp_dir(const std::string& dir) {
    if (dir.empty()) return;
    std::error_code ec;
    fs::remove_all(dir, ec);
}

// ---------------------------------------------------------------- processes

RunResult run(const std::vector<std::string>& args, const std::string& work_dir,
              const std::string& stdin_path, const std::string& stdout_path, int stdout_fd,
              const std::string& capture_dir) {
    RunResult result;
    const std::string captures = capture_dir.empty() ? work_dir : capture_dir;
    const std::string out_capture = captures + "/.captured-stdout";
    const std::string err_capture = captures + "/.captured-stderr";
    const std::string out_file = stdout_path.empty() ? out_capture : stdout_path;
    std::fflush(nullptr);
    pid_t pid = fork();
    if (pid < 0) {
        ADD_FAILURE() << "fork failed: " << std::strerror(errno);
        return result;
    }
    if (pid == 0) {
        if (chdir(work_dir.c_str()) != 0) _exit(120);
        int in = open(stdin_path.c_str(), O_RDONLY);
        int out = stdout_fd >= 0 ? stdout_fd : open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int err = open(err_capture.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || out < 0 || err < 0) _exit(121);
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        std::vector<char*> argv;
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status)) result.exit_code = 128 + WTERMSIG(status);
    if (stdout_path.empty() && stdout_fd < 0) result.out = read_text(out_capture);
    result.err = read_text(err_capture);
    ::unlink(out_capture.c_str());
    ::unlink(err_capture.c_str());
    return result;
}

pid_t start(const std::vector<std::string>& args, const std::string& work_dir, const std::string& stdout_path,
            const std::string& stderr_path, void (*in_child)()) {
    std::fflush(nullptr);
    const pid_t pid = fork();
    if (pid < 0) {
        ADD_FAILURE() << "fork failed: " << std::strerror(errno);
        return -1;
    }
    if (pid == 0) {
        if (chdir(work_dir.c_str()) != 0) _exit(120);
        int in = open("/dev/null", O_RDONLY);
        int out = open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int err = open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || out < 0 || err < 0) _exit(121);
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        if (in_child) in_child();
        std::vector<char*> argv;
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        _exit(127);
    }
    return pid;
}

int wait_for(pid_t pid, int timeout_seconds) {
    int status = 0;
    for (int waited_ms = 0;; waited_ms += 20) {
        const pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid) break;
        if (done < 0 && errno != EINTR) return -1;
        if (waited_ms >= timeout_seconds * 1000) {
            ::kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            }
            ADD_FAILURE() << "process " << pid << " still running after " << timeout_seconds << " s; killed";
            return -1;
        }
        usleep(20000);
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

std::string describe(const RunResult& r) {
    return "exit " + std::to_string(r.exit_code) + ", stderr: [" + r.err + "]";
}

std::string join_args(const std::vector<std::string>& args) {
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    return joined;
}

::testing::AssertionResult is_usage_error(const RunResult& r, const std::string& tool) {
    if (r.exit_code != 2) return ::testing::AssertionFailure() << "expected exit 2, got " << describe(r);
    if (r.err.rfind(tool + ": ", 0) != 0) {
        return ::testing::AssertionFailure() << "stderr does not start with '" << tool << ": ': " << r.err;
    }
    return ::testing::AssertionSuccess();
}

// ------------------------------------------------------------ PNG (libpng)

namespace {

struct PngIoCtx {
    const uint8_t* data = nullptr;
    size_t size = 0, offset = 0;
    Bytes* out = nullptr;
    char message[200] = {0};
};

extern "C" void test_png_error(png_structp png, png_const_charp msg) {
    auto* ctx = static_cast<PngIoCtx*>(png_get_error_ptr(png));
    std::snprintf(ctx->message, sizeof ctx->message, "%s", msg);
    png_longjmp(png, 1);
}
extern "C" void test_png_warning(png_structp, png_const_charp) {}
extern "C" void test_png_read(png_structp png, png_bytep dst, size_t n) {
    auto* ctx = static_cast<PngIoCtx*>(png_get_io_ptr(png));
    if (n > ctx->size - ctx->offset) png_error(png, "truncated");
    std::memcpy(dst, ctx->data + ctx->offset, n);
    ctx->offset += n;
}
extern "C" void test_png_write(png_structp png, png_bytep src, size_t n) {
    auto* ctx = static_cast<PngIoCtx*>(png_get_io_ptr(png));
    ctx->out->insert(ctx->out->end(), src, src + n);
}
extern "C" void test_png_flush(png_structp) {}

// Reads a PNG with no transforms but de-interlacing. The frame holds no C++
// objects of its own (setjmp).
bool read_raw_png_impl(PngIoCtx* ctx, RawPng* raw) {
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, ctx, test_png_error,
                                             test_png_warning);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, nullptr);
        return false;
    }
    png_set_read_fn(png, ctx, test_png_read);
    png_read_info(png, info);
    raw->width = png_get_image_width(png, info);
    raw->height = png_get_image_height(png, info);
    raw->bit_depth = png_get_bit_depth(png, info);
    raw->color_type = png_get_color_type(png, info);
    raw->interlace = png_get_interlace_type(png, info);
    png_colorp plte = nullptr;
    int num_plte = 0;
    if (png_get_PLTE(png, info, &plte, &num_plte)) raw->palette.assign(plte, plte + num_plte);
    png_bytep trans_alpha = nullptr;
    int num_trans = 0;
    png_color_16p trans_color = nullptr;
    if (png_get_tRNS(png, info, &trans_alpha, &num_trans, &trans_color)) {
        if (raw->color_type == PNG_COLOR_TYPE_PALETTE) {
            raw->trns_alpha.assign(trans_alpha, trans_alpha + num_trans);
        } else if (trans_color) {
            raw->has_trns_key = true;
            raw->trns_key = *trans_color;
        }
    }
    png_charp icc_name = nullptr;
    int icc_compression = 0;
    png_bytep profile = nullptr;
    png_uint_32 profile_size = 0;
    if (png_get_iCCP(png, info, &icc_name, &icc_compression, &profile, &profile_size)) {
        raw->icc_name = icc_name;
        raw->icc.assign(profile, profile + profile_size);
    }
    png_textp texts = nullptr;
    int num_text = 0;
    png_get_text(png, info, &texts, &num_text);
    for (int i = 0; i < num_text; ++i) {
        raw->text[texts[i].key] = std::string(texts[i].text, texts[i].text_length);
    }
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    raw->rows.assign(raw->height, std::vector<uint8_t>(rowbytes));
    std::vector<png_bytep> ptrs;
    for (auto& r : raw->rows) ptrs.push_back(r.data());
    png_read_image(png, ptrs.data());
    png_read_end(png, nullptr);
    png_destroy_read_struct(&png, &info, nullptr);
    return true;
}

// Writes `spec` with the packed rows `rows` and the text chunks `texts`. No
// C++ objects in this frame (setjmp).
bool write_png_impl(PngIoCtx* ctx, const PngSpec* spec, std::vector<png_bytep>* rows,
                    std::vector<png_text>* texts) {
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, ctx, test_png_error,
                                              test_png_warning);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return false;
    }
    png_set_write_fn(png, ctx, test_png_write, test_png_flush);
    png_set_IHDR(png, info, spec->width, spec->height, spec->bit_depth, spec->color_type,
                 spec->interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (!spec->palette.empty()) {
        png_set_PLTE(png, info, spec->palette.data(), static_cast<int>(spec->palette.size()));
    }
    if (!spec->trns_alpha.empty()) {
        png_set_tRNS(png, info, spec->trns_alpha.data(), static_cast<int>(spec->trns_alpha.size()),
                     nullptr);
    } else if (spec->trns_key) {
        png_color_16 key = spec->key;
        png_set_tRNS(png, info, nullptr, 0, &key);
    }
    if (!spec->icc.empty()) {
        png_set_iCCP(png, info, spec->icc_name.c_str(), 0, spec->icc.data(),
                     static_cast<png_uint_32>(spec->icc.size()));
    }
    if (!texts->empty()) png_set_text(png, info, texts->data(), static_cast<int>(texts->size()));
    png_write_info(png, info);
    if (spec->interlace) png_set_interlace_handling(png);
    png_write_image(png, rows->data());
    png_write_end(png, nullptr);
    png_destroy_write_struct(&png, &info);
    return true;
}

}  // namespace

bool read_raw_png(const Bytes& data, RawPng& raw, std::string& error) {
    PngIoCtx ctx;
    ctx.data = data.data();
    ctx.size = data.size();
    if (data.size() < 8 || png_sig_cmp(data.data(), 0, 8) != 0) {
        error = "not a PNG";
        return false;
    }
    if (!read_raw_png_impl(&ctx, &raw)) {
        error = ctx.message;
        return false;
    }
    return true;
}

Bytes make_png(const PngSpec& spec) {
    std::vector<std::vector<uint8_t>> packed;
    for (const auto& row : spec.samples) {
        std::vector<uint8_t> bytes;
        if (spec.bit_depth == 8) {
            for (unsigned s : row) bytes.push_back(static_cast<uint8_t>(s));
        } else if (spec.bit_depth == 16) {
            for (unsigned s : row) {
                bytes.push_back(static_cast<uint8_t>(s >> 8));
                bytes.push_back(static_cast<uint8_t>(s));
            }
        } else {
            const int per = 8 / spec.bit_depth;
            bytes.assign((row.size() + per - 1) / per, 0);
            for (size_t i = 0; i < row.size(); ++i) {
                int shift = 8 - spec.bit_depth * (static_cast<int>(i % per) + 1);
                bytes[i / per] = static_cast<uint8_t>(bytes[i / per] | (row[i] << shift));
            }
        }
        packed.push_back(bytes);
    }
    std::vector<png_bytep> rows;
    for (auto& row : packed) rows.push_back(row.data());
    std::vector<png_text> texts;
    for (const auto& kv : spec.text) {
        png_text t{};
        t.compression = PNG_TEXT_COMPRESSION_NONE;
        t.key = const_cast<char*>(kv.first.c_str());
        t.text = const_cast<char*>(kv.second.c_str());
        texts.push_back(t);
    }
    Bytes out;
    PngIoCtx ctx;
    ctx.out = &out;
    if (!write_png_impl(&ctx, &spec, &rows, &texts)) {
        ADD_FAILURE() << "writing test PNG failed: " << ctx.message;
        return {};
    }
    return out;
}

}  // namespace qohi_cli_test
