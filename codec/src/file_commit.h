// Files that appear whole or not at all: the data goes to an unnamed file in
// the target's directory (O_TMPFILE), or where the file system has none to a
// named temporary file beside the target, and gets the target's name only
// when complete. Used by the library's file writer and by the tools.
#ifndef QOHI_FILE_COMMIT_H
#define QOHI_FILE_COMMIT_H

#include <sys/types.h>

#include <string>

namespace qohi {

class PendingFile {
public:
    PendingFile() = default;
    // Closes the file; a named temporary not committed is removed.
    ~PendingFile();
    PendingFile(const PendingFile&) = delete;
    PendingFile& operator=(const PendingFile&) = delete;

    // Creates the file for `path` with permissions `mode` (exactly: the
    // caller applies the umask). Returns 0 or an errno value.
    int open(const std::string& path, mode_t mode);
    int fd() const { return fd_; }
    // The named temporary file, "" when the file has no name.
    const std::string& temp_path() const { return temp_; }
    // Names the file `path` and closes it. Without `overwrite`, a `path`
    // that exists by then (of any kind) is left alone and EEXIST returned;
    // with it, an existing file is replaced by rename(). Returns 0 or an
    // errno value; on failure no temporary is left.
    int commit(bool overwrite);

private:
    std::string path_, temp_;
    int fd_ = -1;
    bool committed_ = false;
};

}  // namespace qohi

#endif
