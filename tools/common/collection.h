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

// qohi_file_attributes in 16 bytes rather than 24, for lists of many files.
struct PackedAttributes {
    static constexpr uint16_t kPresent = 0x8000;  // in `mode`: the fields were recorded
    int64_t mtime = 0;
    uint32_t mtime_nsec = 0;
    uint16_t mode = 0;  // permission bits (07777), and kPresent

    PackedAttributes() = default;
    explicit PackedAttributes(const qohi_file_attributes& a);
    qohi_file_attributes unpacked() const;
};

// One thing below a folder, as lstat() sees it: symbolic links are not
// followed, as tar keeps them. 32 bytes, its path in FolderListing::names:
// a folder can hold hundreds of thousands of files.
struct FolderItem {
    enum Kind : uint8_t { kFile, kSymlink, kFolder, kOther };  // kOther: a device, FIFO or socket
    uint64_t name = 0;  // where its path relative to the folder ('/' separators) starts in the names
    uint64_t size = 0;  // bytes of a file, of a link's target
    PackedAttributes attributes;  // mode and modification time
    Kind kind = kFile;
};

struct FolderListing {
    std::string names;  // every item's relative path, each followed by a NUL
    std::vector<FolderItem> items;  // sorted by byte order of the paths
    const char* name(const FolderItem& item) const { return names.c_str() + item.name; }
};

// A list of names kept as the index of a .qohi file keeps them: each as the
// bytes it shares with the name before plus the rest (front coding), every
// 16th in full. The sorted paths of a large folder then cost little more
// than the bytes in which they differ, and any name is built back from at
// most 16 records.
class NameList {
public:
    void push_back(const std::string& name);
    std::string operator[](size_t k) const;
    size_t size() const { return size_; }
    // Gives back what growing left unused; call when the list is complete.
    void shrink_to_fit();

private:
    static constexpr size_t kBlock = 16;
    std::string records_;  // per name: varint shared, varint suffix size, the suffix
    std::vector<uint64_t> blocks_;  // where every kBlock-th name's record starts
    std::string last_;
    size_t size_ = 0;
};

// Walks `root` recursively and lists everything below it (not `root`
// itself). On failure (a folder that cannot be read) returns false with
// `error` naming it.
bool scan_folder(const std::string& root, FolderListing& listing, std::string& error);

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
