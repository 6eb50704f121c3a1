// Whole-file I/O for the QOHI tools. "-" names stdin / stdout.
#ifndef QOHI_TOOLS_FILE_IO_H
#define QOHI_TOOLS_FILE_IO_H

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace qohi_tools {

// Read a whole file ("-" = stdin). On failure returns false with `error` set
// to a one-line message that names the file and the reason.
bool read_file(const std::string& path, std::vector<uint8_t>& out, std::string& error);

// When written data reaches the disk: before write_file_atomic() returns,
// or (for files that did not exist before) at the caller's later
// sync_filesystem() call, one flush for many files instead of one each.
enum class Durability { kNow, kAtSync };

// Write `data` atomically: to an unnamed file in the target's directory
// (or a named temporary beside it, removed if a signal ends the tool),
// flushed, then given the name `path`. Without `overwrite`, a file that
// exists at `path` by then (one that appeared after the tool's checks) is
// left alone and the write fails. On failure `path` is left as it was.
// "-" writes to stdout, and an existing device or FIFO is written in place.
// A file replacing another is always flushed first, whatever `durability`
// says, so that a crash cannot leave an empty file in place of a good one.
// If `failure` is given, a failure sets it to its errno value (EEXIST for
// a file that appeared).
bool write_file_atomic(const std::string& path, const uint8_t* data, size_t size, bool overwrite,
                       std::string& error, Durability durability = Durability::kNow, int* failure = nullptr);

// The same for content that `write` produces a piece at a time into `fd`
// (a file of any size, with little memory): it returns false, with `err`
// set to an errno value, if it fails.
using ContentWriter = std::function<bool(int fd, int& err)>;
bool write_file_atomic_with(const std::string& path, const ContentWriter& write, bool overwrite,
                            std::string& error, Durability durability = Durability::kNow, int* failure = nullptr);

// Writes all `size` bytes of `data` to `fd`; false with `err` set on failure.
bool write_all(int fd, const uint8_t* data, size_t size, int& err);

// True if a write that failed with `err` failed for its name alone (the file
// exists by now, or the name is too long or invalid there); other failures
// (a full disk, a quota, a read-only or failing file system, a file size
// limit) would meet every later file too.
bool failure_is_the_names(int err);

// Flushes the file system holding `dir` to disk (after kAtSync writes).
bool sync_filesystem(const std::string& dir, std::string& error);

}  // namespace qohi_tools

#endif
