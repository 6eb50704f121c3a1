// Whole-file I/O for the QOHI tools (see file_io.h).
#include "file_io.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "file_commit.h"
#include "temp_cleanup.h"

namespace qohi_tools {

namespace {

std::string display_name(const std::string& path, bool for_output) {
    if (path == "-") return for_output ? "<stdout>" : "<stdin>";
    return path;
}

std::string errno_message(const std::string& what, int err) {
    return what + ": " + std::strerror(err);
}

// Read everything from `fd` into `out`.
bool read_all(int fd, std::vector<uint8_t>& out, int& err) {
    out.clear();
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        out.reserve(static_cast<size_t>(st.st_size));
    }
    uint8_t buffer[1 << 16];
    for (;;) {
        ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0) {
            if (errno == EINTR) continue;
            err = errno;
            return false;
        }
        if (n == 0) return true;
        out.insert(out.end(), buffer, buffer + n);
    }
}


}  // namespace

bool write_all(int fd, const uint8_t* data, size_t size, int& err) {
    while (size > 0) {
        ssize_t n = ::write(fd, data, size);
        if (n < 0) {
            if (errno == EINTR) continue;
            err = errno;
            return false;
        }
        data += n;
        size -= static_cast<size_t>(n);
    }
    return true;
}

bool read_file(const std::string& path, std::vector<uint8_t>& out, std::string& error) {
    int err = 0;
    if (path == "-") {
        if (!read_all(STDIN_FILENO, out, err)) {
            error = errno_message("cannot read <stdin>", err);
            return false;
        }
        return true;
    }
    int fd;
    do {
        fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        error = errno_message("cannot open '" + path + "'", errno);
        return false;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        ::close(fd);
        error = errno_message("cannot read '" + path + "'", EISDIR);
        return false;
    }
    bool ok = read_all(fd, out, err);
    ::close(fd);
    if (!ok) {
        error = errno_message("cannot read '" + path + "'", err);
        return false;
    }
    return true;
}

bool write_file_atomic(const std::string& path, const uint8_t* data, size_t size, bool overwrite,
                       std::string& error, Durability durability, int* failure) {
    return write_file_atomic_with(
        path, [&](int fd, int& err) { return write_all(fd, data, size, err); }, overwrite, error, durability,
        failure);
}

bool write_file_atomic_with(const std::string& path, const ContentWriter& write, bool overwrite,
                            std::string& error, Durability durability, int* failure) {
    int err = 0;
    // Sets `error` (and `failure`) for a failure with errno value `e`.
    auto failed = [&](const std::string& what, int e) {
        error = errno_message(what, e);
        if (failure) *failure = e;
        return false;
    };
    if (path == "-") {
        std::fflush(stdout);
        if (!write(STDOUT_FILENO, err)) {
            return failed("cannot write " + display_name(path, true), err);
        }
        return true;
    }
    if (path.empty()) {
        failed("cannot write ''", ENOENT);
        error = "cannot write '': empty file name";
        return false;
    }

    // An existing non-regular target (a device such as /dev/null, a FIFO) is
    // written in place: renaming over it would replace the device node.
    struct stat st;
    if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
        if (S_ISDIR(st.st_mode)) return failed("cannot write '" + path + "'", EISDIR);
        int fd;
        do {
            fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
        } while (fd < 0 && errno == EINTR);
        if (fd < 0) return failed("cannot open '" + path + "'", errno);
        bool ok = write(fd, err);
        if (::close(fd) != 0 && ok) {
            ok = false;
            err = errno;
        }
        return ok || failed("cannot write '" + path + "'", err);
    }

    // A symbolic link is followed, so that the file it points to is replaced
    // rather than the link.
    std::string target = path;
    struct stat lst;
    if (::lstat(path.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode)) {
        char* resolved = ::realpath(path.c_str(), nullptr);
        if (resolved) {
            target = resolved;
            std::free(resolved);
        } else {
            // A dangling link: create the file it names.
            std::vector<char> link(static_cast<size_t>(lst.st_size > 0 ? lst.st_size : 255) + 1);
            ssize_t n = ::readlink(path.c_str(), link.data(), link.size());
            if (n > 0 && static_cast<size_t>(n) < link.size()) {
                std::string dest(link.data(), static_cast<size_t>(n));
                size_t link_slash = path.find_last_of('/');
                if (dest[0] != '/' && link_slash != std::string::npos) {
                    dest = path.substr(0, link_slash + 1) + dest;
                }
                target = dest;
            }
        }
    }

    const size_t slash = target.find_last_of('/');
    if (target.size() == (slash == std::string::npos ? 0 : slash + 1)) {
        return failed("cannot write '" + path + "'", EISDIR);
    }

    // The file's permissions: the usual ones (0666 & ~umask), or those of
    // the file being replaced. (Reading the umask briefly changes it; the
    // tools write files from one thread.)
    mode_t mode;
    const bool replacing = ::stat(target.c_str(), &st) == 0;
    if (replacing && S_ISREG(st.st_mode)) {
        mode = st.st_mode & 07777;
    } else {
        mode_t mask = ::umask(0);
        ::umask(mask);
        mode = static_cast<mode_t>(0666 & ~mask);
    }
    std::unique_ptr<RemoveOnSignal> remove_on_signal;  // declared first: outlives `file`
    qohi::PendingFile file;
    {
        HoldSignals hold;  // until a named temporary is registered
        err = file.open(target, mode);
        if (err == 0) remove_on_signal.reset(new RemoveOnSignal(file.temp_path()));
    }
    if (err != 0) return failed("cannot create a temporary file for '" + path + "'", err);
    const bool flush_now = durability == Durability::kNow || replacing;
    bool written = write(file.fd(), err);
    if (written && flush_now && ::fsync(file.fd()) != 0) {
        written = false;
        err = errno;
    }
    if (!written) return failed("cannot write '" + path + "'", err);
    {
        HoldSignals hold;  // a temporary name may exist while it is renamed
        err = file.commit(overwrite);
    }
    if (err == EEXIST && !overwrite) {
        failed("", err);
        error = "'" + path + "' appeared while it was written; not replaced (use -f/--force to overwrite it)";
        return false;
    }
    if (err != 0) return failed("cannot write '" + path + "'", err);
    // Make the new name itself durable (best effort).
    if (!flush_now) return true;
    const std::string dir = slash == std::string::npos ? "." : target.substr(0, slash + 1);
    int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
        (void)::fsync(dir_fd);
        ::close(dir_fd);
    }
    return true;
}

bool failure_is_the_names(int err) {
    return err == EEXIST || err == ENAMETOOLONG || err == EISDIR || err == ENOTDIR || err == EINVAL ||
           err == EILSEQ || err == ELOOP;
}

bool sync_filesystem(const std::string& dir, std::string& error) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        error = errno_message("cannot open '" + dir + "' to flush it", errno);
        return false;
    }
#ifdef __linux__
    const int rc = ::syncfs(fd);
#else
    ::sync();
    const int rc = 0;
#endif
    const int e = errno;
    ::close(fd);
    if (rc != 0) {
        error = errno_message("cannot flush the files written under '" + dir + "'", e);
        return false;
    }
    return true;
}

}  // namespace qohi_tools
