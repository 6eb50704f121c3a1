// End-to-end tests of how the tools treat their outputs and the machine:
// no output replaced without -f even if it appears while a tool runs, no
// temporary file left when a signal ends a tool, the output's folder
// checked before any input is read, unpacking stopped at the first write
// error, the exit status of an incomplete recovery, and memory bounded
// before it is allocated.
#include <gtest/gtest.h>
#include <qohi/qohi.h>

#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "cli_test_util.h"
#include "file_io.h"
#include "hostile_frames.h"
#include "png_io.h"

namespace fs = std::filesystem;

namespace {

using namespace qohi_cli_test;
using qohi_tools::Image;

// Noise: costly to code, so that packing takes a while.
Image noise(uint32_t width, uint32_t height, uint32_t seed) {
    Image img;
    img.width = width;
    img.height = height;
    img.channels = 3;
    img.pixels.resize(size_t{width} * height * 3);
    uint32_t x = 0x9e3779b9u * (seed + 1);
    for (auto& p : img.pixels) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p = static_cast<uint8_t>(x >> 24);
    }
    return img;
}

std::set<std::string> names_in(const std::string& dir) {
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
    return names;
}

size_t lines(const std::string& text) { return static_cast<size_t>(std::count(text.begin(), text.end(), '\n')); }

class SafetyTest : public ::testing::Test {
public:
    void SetUp() override {
        ASSERT_TRUE(make_temp_dir("qohi-safety-test", root_));
        dir_ = root_ + "/work";  // captured output goes to root_, beside it
        fs::create_directory(dir_);
    }
    void TearDown() override { remove_temp_dir(root_); }

    std::string path(const std::string& name) const { return dir_ + "/" + name; }

    // `count` PNGs of noise in the folder `name` (stored: quick to write).
    void make_folder(const std::string& name, int count, uint32_t width, uint32_t height) {
        for (int i = 0; i < count; ++i) {
            Bytes png;
            std::string error;
            ASSERT_TRUE(qohi_tools::encode_png(noise(width, height, static_cast<uint32_t>(i)), 0, png, error)) << error;
            write_bytes(path(name + "/img" + std::to_string(1000 + i) + ".png"), png);
        }
    }

    RunResult tool(const std::string& program, std::vector<std::string> args) {
        args.insert(args.begin(), program);
        return run(args, dir_, "/dev/null", "", -1, root_);
    }

    // Starts `args` (stdout, stderr to files beside dir_).
    pid_t start_here(const std::vector<std::string>& args, void (*in_child)() = nullptr) {
        return start(args, dir_, root_ + "/out.txt", root_ + "/err.txt", in_child);
    }

    // Waits until process `pid` holds a file open below the folder `dir`
    // (the output it is writing). False if it ended or 5 minutes passed.
    static bool wait_for_open_file(pid_t pid, const std::string& dir) {
        const std::string fds = "/proc/" + std::to_string(pid) + "/fd";
        for (int waited_ms = 0; waited_ms < 300000; waited_ms += 5) {
            int status = 0;
            if (waitpid(pid, &status, WNOHANG) == pid) return false;
            if (DIR* d = opendir(fds.c_str())) {
                bool found = false;
                while (dirent* e = readdir(d)) {
                    char target[4096];
                    const std::string link = fds + "/" + e->d_name;
                    const ssize_t n = readlink(link.c_str(), target, sizeof target - 1);
                    if (n <= 0) continue;
                    target[n] = '\0';
                    if (std::string(target).rfind(dir + "/", 0) == 0) found = true;
                }
                closedir(d);
                if (found) return true;
            }
            usleep(5000);
        }
        return false;
    }

    std::string root_;
    std::string dir_;
};

// --------------------------------------------------- outputs that appear

// write_file_atomic never replaces a file without `overwrite`.
TEST_F(SafetyTest, WriteFileAtomicKeepsAnExistingFileWithoutOverwrite) {
    const std::string target = path("kept.png");
    write_bytes(target, Bytes{'o', 'l', 'd'});
    const Bytes data = {'n', 'e', 'w'};
    std::string error;
    int failure = 0;
    EXPECT_FALSE(qohi_tools::write_file_atomic(target, data.data(), data.size(), false, error,
                                               qohi_tools::Durability::kNow, &failure));
    EXPECT_EQ(failure, EEXIST);
    EXPECT_TRUE(contains(error, "kept.png")) << error;
    EXPECT_EQ(read_bytes(target), (Bytes{'o', 'l', 'd'}));
    EXPECT_EQ(names_in(dir_), std::set<std::string>{"kept.png"}) << "no temporary file is left";

    ASSERT_TRUE(qohi_tools::write_file_atomic(target, data.data(), data.size(), true, error)) << error;
    EXPECT_EQ(read_bytes(target), data);
    EXPECT_EQ(names_in(dir_), std::set<std::string>{"kept.png"});
}

// An output that appears while a folder is packed is kept without -f.
TEST_F(SafetyTest, PackKeepsAnOutputThatAppears) {
    make_folder("in", 300, 256, 256);
    fs::create_directory(path("out"));
    const pid_t pid = start_here({kEnc, "-q", "in", "-o", "out/all.qohi"});
    ASSERT_GT(pid, 0);
    const bool writing = wait_for_open_file(pid, path("out"));
    if (writing) write_bytes(path("out/all.qohi"), Bytes{'m', 'i', 'n', 'e'});
    const int code = wait_for(pid, 600);
    ASSERT_TRUE(writing) << "qohienc ended before its output was open; exit " << code;
    const std::string err = read_text(root_ + "/err.txt");
    EXPECT_EQ(code, 1) << err;
    EXPECT_TRUE(contains(err, "out/all.qohi")) << err;
    EXPECT_EQ(read_bytes(path("out/all.qohi")), (Bytes{'m', 'i', 'n', 'e'}));
    EXPECT_EQ(names_in(path("out")), std::set<std::string>{"all.qohi"}) << "no temporary file is left";
}

// ----------------------------------------------------------------- signals

// SIGINT, SIGTERM and SIGHUP during a pack leave nothing in the output's
// folder, and end qohienc by that signal.
TEST_F(SafetyTest, SignalDuringPackLeavesNoTemporaryFile) {
    make_folder("in", 300, 256, 256);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
        SCOPED_TRACE(sig);
        fs::remove_all(path("out"));
        fs::create_directory(path("out"));
        const pid_t pid = start_here({kEnc, "-q", "in", "-o", "out/all.qohi"});
        ASSERT_GT(pid, 0);
        const bool writing = wait_for_open_file(pid, path("out"));
        if (writing) ::kill(pid, sig);
        const int code = wait_for(pid, 600);
        ASSERT_TRUE(writing) << "qohienc ended before its output was open; exit " << code;
        EXPECT_EQ(code, 128 + sig) << read_text(root_ + "/err.txt");
        EXPECT_EQ(names_in(path("out")), std::set<std::string>{});
    }
}

// ------------------------------------------------ the output's folder first

// A missing or unusable output folder is reported before any input is read:
// the broken PNG in the folder is never reached.
TEST_F(SafetyTest, OutputFolderIsCheckedBeforeTheInputs) {
    make_folder("in", 2, 8, 8);
    write_bytes(path("in/broken.png"), Bytes{0x89, 'P', 'N', 'G', 0, 1, 2});
    write_bytes(path("file"), Bytes{'x'});
    for (const std::string out : {"missing/dir/out.qohi", "file/out.qohi"}) {
        SCOPED_TRACE(out);
        RunResult r = tool(kEnc, {"in", "-o", out});
        EXPECT_EQ(r.exit_code, 1) << describe(r);
        EXPECT_TRUE(contains(r.err, out)) << r.err;
        EXPECT_FALSE(contains(r.err, "broken.png")) << r.err;
        EXPECT_EQ(lines(r.err), 1u) << r.err;
    }
    // The same for one image and for qohidec's single frame.
    RunResult e = tool(kEnc, {"in/img1000.png", "-o", "missing/one.qohi"});
    EXPECT_EQ(e.exit_code, 1) << describe(e);
    EXPECT_TRUE(contains(e.err, "missing")) << e.err;
    ASSERT_EQ(tool(kEnc, {"in/img1000.png", "-o", "one.qohi"}).exit_code, 0);
    RunResult d = tool(kDec, {"one.qohi", "-o", "missing/one.png"});
    EXPECT_EQ(d.exit_code, 1) << describe(d);
    EXPECT_TRUE(contains(d.err, "missing")) << d.err;
}

// ------------------------------------------------------ write errors

void limit_file_size() {
    struct rlimit limit = {16384, 16384};
    setrlimit(RLIMIT_FSIZE, &limit);
    signal(SIGXFSZ, SIG_IGN);  // writes past the limit fail with EFBIG instead
}

// A write error that would meet every file (here EFBIG from a file size
// limit, as ENOSPC from a full disk) stops unpacking with one message.
TEST_F(SafetyTest, UnpackStopsAtTheFirstWriteError) {
    make_folder("in", 5, 128, 128);  // each PNG about 49 KB
    RunResult e = tool(kEnc, {"-q", "--mode", "none", "in", "-o", "all.qohi"});
    ASSERT_EQ(e.exit_code, 0) << describe(e);
    const pid_t pid = start_here({kDec, "all.qohi", "-o", "restored/"}, limit_file_size);
    ASSERT_GT(pid, 0);
    const int code = wait_for(pid, 300);
    const std::string err = read_text(root_ + "/err.txt");
    EXPECT_EQ(code, 1) << err;
    EXPECT_EQ(lines(err), 1u) << err;
    EXPECT_TRUE(contains(err, "File too large")) << err;
    EXPECT_TRUE(contains(err, "stopped")) << err;
    EXPECT_EQ(names_in(path("restored")), std::set<std::string>{}) << "no partial or temporary file";
}

// ------------------------------------------------------------ memory

// A 5 KB file whose frame claims 2^28 pixels but whose frame data is
// broken is refused before qohidec allocates (or touches) the frame's
// 768 MiB: its peak resident memory stays small.
TEST_F(SafetyTest, HostileFrameIsRefusedBeforeItsMemory) {
    using qohi_test::frame;
    const std::vector<std::pair<const char*, std::vector<qohi_test::HostileFrame>>> cases = {
        {"crc", {frame(qohi_test::one_band(), true)}},
        {"band-table", {frame(qohi_test::short_band_table(), false)}},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.first);
        write_bytes(path("hostile.qohi"), qohi_test::hostile_file(c.second));
        const pid_t pid = start_here({kDec, "-f", "hostile.qohi", "-o", "out.png"});
        ASSERT_GT(pid, 0);
        int status = 0;
        struct rusage usage {};
        ASSERT_EQ(wait4(pid, &status, 0, &usage), pid);
        const std::string err = read_text(root_ + "/err.txt");
        ASSERT_TRUE(WIFEXITED(status));
        EXPECT_EQ(WEXITSTATUS(status), 1) << err;
        EXPECT_TRUE(contains(err, "CORRUPT")) << err;
        EXPECT_LT(usage.ru_maxrss, 100 * 1024) << "peak resident memory in KiB";
        EXPECT_FALSE(exists(path("out.png")));
    }
}

// --max-memory counts the output image and its PNG too: a 256x256 RGB
// frame (192 KiB of pixels) does not fit in 192 KiB.
TEST_F(SafetyTest, MaxMemoryCountsTheOutput) {
    make_folder("in", 1, 256, 256);
    ASSERT_EQ(tool(kEnc, {"in/img1000.png", "-o", "one.qohi"}).exit_code, 0);
    RunResult d = tool(kDec, {"--max-memory", std::to_string(256 * 256 * 3), "one.qohi", "-o", "one.png"});
    EXPECT_EQ(d.exit_code, 1) << describe(d);
    EXPECT_TRUE(contains(d.err, "LIMIT")) << d.err;
    EXPECT_TRUE(contains(d.err, "memory limit")) << d.err;
    EXPECT_FALSE(exists(path("one.png")));
    d = tool(kDec, {"--max-memory", std::to_string(4 << 20), "one.qohi", "-o", "one.png"});
    EXPECT_EQ(d.exit_code, 0) << describe(d);
    EXPECT_TRUE(exists(path("one.png")));
}

// ------------------------------------------------------ exit status 3

TEST_F(SafetyTest, HelpDocumentsExitStatusThree) {
    RunResult h = tool(kDec, {"--help"});
    ASSERT_EQ(h.exit_code, 0);
    EXPECT_TRUE(contains(h.out, "3 finished but incomplete")) << h.out;
}

}  // namespace
