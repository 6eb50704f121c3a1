// Whole-file I/O for the QOHI tools (see file_io.h).
#include "file_io.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

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

}  // namespace

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

bool write_file_atomic(const std::string& path, const uint8_t* data, size_t size, std::string& error,
                       Durability durability) {
    int err = 0;
    if (path == "-") {
        std::fflush(stdout);
        if (!write_all(STDOUT_FILENO, data, size, err)) {
            error = errno_message("cannot write " + display_name(path, true), err);
            return false;
        }
        return true;
    }
    if (path.empty()) {
        error = "cannot write '': empty file name";
        return false;
    }

    // An existing non-regular target (a device such as /dev/null, a FIFO) is
    // written in place: renaming over it would replace the device node.
    struct stat st;
    if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
        if (S_ISDIR(st.st_mode)) {
            error = errno_message("cannot write '" + path + "'", EISDIR);
            return false;
        }
        int fd;
        do {
            fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
        } while (fd < 0 && errno == EINTR);
        if (fd < 0) {
            error = errno_message("cannot open '" + path + "'", errno);
            return false;
        }
        bool ok = write_all(fd, data, size, err);
        if (::close(fd) != 0 && ok) {
            ok = false;
            err = errno;
        }
        if (!ok) error = errno_message("cannot write '" + path + "'", err);
        return ok;
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

    // Temporary file in the target's directory, so that rename() is atomic.
    std::string dir;
    std::string base = target;
    size_t slash = target.find_last_of('/');
    if (slash != std::string::npos) {
        dir = target.substr(0, slash + 1);
        base = target.substr(slash + 1);
    }
    if (base.empty()) {
        error = errno_message("cannot write '" + path + "'", EISDIR);
        return false;
    }
    std::string tmpl = dir + "." + base + ".tmp-XXXXXX";
    std::vector<char> name(tmpl.begin(), tmpl.end());
    name.push_back('\0');
    int fd = ::mkstemp(name.data());
    if (fd < 0) {
        error = errno_message("cannot create a temporary file for '" + path + "'", errno);
        return false;
    }
    const std::string tmp_path(name.data());

    // mkstemp creates the file 0600; give it the usual permissions (0666 & ~umask),
    // or keep those of the file being replaced. (Reading the umask briefly
    // changes it; the tools write files from one thread.)
    mode_t mode;
    const bool replacing = ::stat(target.c_str(), &st) == 0;
    if (replacing && S_ISREG(st.st_mode)) {
        mode = st.st_mode & 07777;
    } else {
        mode_t mask = ::umask(0);
        ::umask(mask);
        mode = static_cast<mode_t>(0666 & ~mask);
    }
    (void)::fchmod(fd, mode);

    auto fail = [&](const std::string& what, int e) {
        if (fd >= 0) ::close(fd);
        ::unlink(tmp_path.c_str());
        error = errno_message(what, e);
        return false;
    };

    const bool flush_now = durability == Durability::kNow || replacing;
    if (!write_all(fd, data, size, err)) return fail("cannot write '" + path + "'", err);
    if (flush_now && ::fsync(fd) != 0) return fail("cannot write '" + path + "'", errno);
    int closed = ::close(fd);
    fd = -1;
    if (closed != 0) return fail("cannot write '" + path + "'", errno);
    if (::rename(tmp_path.c_str(), target.c_str()) != 0) {
        return fail("cannot write '" + path + "'", errno);
    }
    // Make the rename itself durable (best effort).
    if (!flush_now) return true;
    int dir_fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
        (void)::fsync(dir_fd);
        ::close(dir_fd);
    }
    return true;
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
