// Collections for the QOHI tools: walking a folder of PNGs (qohienc), checking
// frame names before they become paths and creating the folders they need
// (qohidec). (Converting metadata to the library's records: frame_metadata.h.)
#ifndef QOHI_TOOLS_COLLECTION_H
#define QOHI_TOOLS_COLLECTION_H

#include <cstddef>
#include <string>
#include <vector>

namespace qohi_tools {

// What a folder holds, as paths relative to it with '/' separators, each list
// sorted by byte order.
struct FolderScan {
    std::vector<std::string> pngs;            // regular files (or links to them) named *.png, any case
    std::vector<std::string> others;          // other files: not PNG by name, devices, FIFOs, ...
    std::vector<std::string> linked_folders;  // symbolic links to folders, never followed
    std::vector<std::string> broken_links;    // symbolic links to nothing
};

// Walks `root` recursively. Symbolic links to files are taken like files;
// symbolic links to folders are listed but not followed. On failure (a folder
// that cannot be read) returns false with `error` naming it.
bool scan_folder(const std::string& root, FolderScan& scan, std::string& error);

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
