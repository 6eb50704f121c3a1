// Whole-file I/O for the QOHI tools. "-" names stdin / stdout.
#ifndef QOHI_TOOLS_FILE_IO_H
#define QOHI_TOOLS_FILE_IO_H

#include <cstddef>
#include <cstdint>
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

// Write `data` atomically: to a temporary file in the target's directory,
// flushed, then renamed over `path`. On failure the temporary file is removed
// and `path` is left as it was. "-" writes to stdout. A file replacing
// another is always flushed before the rename, whatever `durability` says,
// so that a crash cannot leave an empty file in place of a good one.
bool write_file_atomic(const std::string& path, const uint8_t* data, size_t size, std::string& error,
                       Durability durability = Durability::kNow);

// Flushes the file system holding `dir` to disk (after kAtSync writes).
bool sync_filesystem(const std::string& dir, std::string& error);

}  // namespace qohi_tools

#endif
