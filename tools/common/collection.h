// Collections for the QOHI tools: walking a folder (qohienc), checking names
// before they become paths and creating the folders they need, restoring
// file attributes (qohidec). (Converting metadata to the library's records:
// frame_metadata.h.)
#ifndef QOHI_TOOLS_COLLECTION_H
#define QOHI_TOOLS_COLLECTION_H

#include <qohi/qohi.h>
#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace qohi_tools {

// One thing below a folder, as lstat() sees it: symbolic links are not
// followed, as tar keeps them.
struct FolderItem {
    enum Kind { kFile, kSymlink, kFolder, kOther } kind = kFile;  // kOther: a device, FIFO or socket
    std::string rel;  // path relative to the folder, '/' separators
    qohi_file_attributes attributes{};  // mode and modification time
    uint64_t size = 0;  // bytes of a file, of a link's target
};

// Walks `root` recursively and lists everything below it (not `root`
// itself), sorted by byte order of the paths. On failure (a folder that
// cannot be read) returns false with `error` naming it.
bool scan_folder(const std::string& root, std::vector<FolderItem>& items, std::string& error);

// The attributes of what `path` names, as lstat() gives them.
qohi_file_attributes attributes_of(const struct stat& st);

// Sets the permission bits (not for symbolic links) and the modification
// time (of the link itself for a link) of `path` to `a`. Returns false with
// `error` set if the system refuses.
bool restore_attributes(const std::string& path, const qohi_file_attributes& a, bool symlink, std::string& error);

// `root` joined with the relative path `rel` ("a" + "b/c.png" -> "a/b/c.png").
std::string join_path(const std::string& root, const std::string& rel);

// True if the name ends in ".png", in any case.
bool has_png_extension(const std::string& name);

// True if `text` is valid UTF-8 (shortest forms, no surrogates, at most U+10FFFF).
bool is_valid_utf8(const std::string& text);

// A comma-separated list of `items` for a one-line message: at most
// `max_items` of them, then "and N more".
std::string list_for_message(const std::vector<std::string>& items, size_t max_items);

// Checks that a frame name can be used as a path below a folder: relative,
// '/' separators, no empty, "." or ".." components, no backslash, no NUL,
// valid UTF-8. Returns "" if safe, else the reason ("an absolute path", ...).
std::string unsafe_name_reason(const std::string& name);

// Creates `root` and its missing parents (following symbolic links, as
// `mkdir -p` does). Returns false with `error` set on failure.
bool make_folder(const std::string& root, std::string& error);

// Creates the folders that the safe relative name `rel` needs below `root`
// ("a/b/c.png" -> root/a, root/a/b). An existing component that is not a
// folder, or is a symbolic link, is refused: writing through it could leave
// `root`. Returns false with `error` set (without the name of the frame).
bool make_parent_folders(const std::string& root, const std::string& rel, std::string& error);

}  // namespace qohi_tools

#endif
