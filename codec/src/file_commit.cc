#include "file_commit.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace qohi {
namespace {

std::string dir_of(const std::string& path) {
    const size_t slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

// A fresh name beside `path`: "DIR/.BASE.tmp-XXXXXX" as mkstemp makes it,
// created (fd >= 0) or, with `keep` false, removed again so that it can be
// linked to. Returns the fd (or 0 when removed), -1 with errno on failure.
int make_temp_name(const std::string& path, bool keep, std::string& name) {
    const size_t slash = path.find_last_of('/');
    const std::string dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
    const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
    const std::string tmpl = dir + "." + base + ".tmp-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    const int fd = ::mkostemp(buf.data(), O_CLOEXEC);
    if (fd < 0) return -1;
    name = buf.data();
    if (keep) return fd;
    ::close(fd);
    ::unlink(name.c_str());
    return 0;
}

// Gives the unnamed file `fd` the name `to`; EEXIST if it exists.
int link_unnamed(int fd, const std::string& to) {
    if (::linkat(fd, "", AT_FDCWD, to.c_str(), AT_EMPTY_PATH) == 0) return 0;
    if (errno != EPERM && errno != ENOENT) return errno;  // AT_EMPTY_PATH needs a capability
    const std::string self = "/proc/self/fd/" + std::to_string(fd);
    return ::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, to.c_str(), AT_SYMLINK_FOLLOW) == 0 ? 0 : errno;
}

// Renames `from` to `to` unless `to` exists (EEXIST).
int rename_noreplace(const std::string& from, const std::string& to) {
#ifdef RENAME_NOREPLACE
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return 0;
    if (errno != EINVAL && errno != ENOSYS) return errno;
#endif
    // File systems without it: a hard link fails on an existing name too.
    if (::link(from.c_str(), to.c_str()) != 0) return errno;
    ::unlink(from.c_str());
    return 0;
}

}  // namespace

PendingFile::~PendingFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_ && !temp_.empty()) ::unlink(temp_.c_str());
}

int PendingFile::open(const std::string& path, mode_t mode) {
    path_ = path;
#ifdef O_TMPFILE
    // The link by /proc/self/fd needs /proc; without it, a named temporary.
    fd_ = ::open(dir_of(path).c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
    if (fd_ >= 0 && ::access("/proc/self/fd", F_OK) != 0) {
        ::close(fd_);
        fd_ = -1;
    }
    if (fd_ >= 0) {
        (void)::fchmod(fd_, mode);
        return 0;
    }
    if (errno == ENOENT || errno == ENOTDIR || errno == EACCES || errno == EROFS || errno == ENOSPC ||
        errno == EDQUOT)
        return errno;  // the directory itself is the problem
#endif
    fd_ = make_temp_name(path, true, temp_);
    if (fd_ < 0) return errno;
    (void)::fchmod(fd_, mode);
    return 0;
}

int PendingFile::commit(bool overwrite) {
    int err = 0;
    if (temp_.empty()) {
        err = link_unnamed(fd_, path_);
        if (err == EEXIST && overwrite) {
            // Linked under a fresh name, then renamed over the target.
            std::string name;
            for (int attempt = 0; attempt < 100; ++attempt) {
                if (make_temp_name(path_, false, name) < 0) {
                    err = errno;
                    break;
                }
                err = link_unnamed(fd_, name);
                if (err != EEXIST) break;
            }
            if (err == 0 && ::rename(name.c_str(), path_.c_str()) != 0) {
                err = errno;
                ::unlink(name.c_str());
            }
        }
    } else {
        err = overwrite ? (::rename(temp_.c_str(), path_.c_str()) == 0 ? 0 : errno)
                        : rename_noreplace(temp_, path_);
    }
    if (err != 0) return err;
    committed_ = true;
    temp_.clear();
    const int fd = fd_;
    fd_ = -1;
    return ::close(fd) == 0 ? 0 : errno;
}

}  // namespace qohi
