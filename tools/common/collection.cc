// Collections for the QOHI tools (see collection.h).
#include "collection.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

namespace qohi_tools {

namespace {

std::string errno_text(int err) { return std::strerror(err); }

// Closes a DIR* on every path out.
struct DirCloser {
    DIR* dir = nullptr;
    ~DirCloser() {
        if (dir) ::closedir(dir);
    }
};

}  // namespace

std::string join_path(const std::string& root, const std::string& rel) {
    if (root.empty()) return rel;
    if (rel.empty()) return root;
    if (root.back() == '/') return root + rel;
    return root + "/" + rel;
}

bool has_png_extension(const std::string& name) {
    if (name.size() < 4) return false;
    const char* ext = name.c_str() + name.size() - 4;
    return ext[0] == '.' && (ext[1] | 0x20) == 'p' && (ext[2] | 0x20) == 'n' && (ext[3] | 0x20) == 'g';
}

qohi_file_attributes attributes_of(const struct stat& st) {
    qohi_file_attributes a{};
    a.present = 1;
    a.mode = static_cast<uint32_t>(st.st_mode & 07777);
    a.mtime = static_cast<int64_t>(st.st_mtim.tv_sec);
    a.mtime_nsec = static_cast<uint32_t>(st.st_mtim.tv_nsec);
    return a;
}

bool restore_attributes(const std::string& path, const qohi_file_attributes& a, bool symlink, std::string& error) {
    if (!a.present) return true;
    if (!symlink && ::chmod(path.c_str(), static_cast<mode_t>(a.mode)) != 0) {
        error = "cannot set the permissions of '" + path + "': " + errno_text(errno);
        return false;
    }
    struct timespec times[2];
    times[0].tv_sec = 0;
    times[0].tv_nsec = UTIME_OMIT;  // access time: left as it is
    times[1].tv_sec = static_cast<time_t>(a.mtime);
    times[1].tv_nsec = static_cast<long>(a.mtime_nsec);
    if (::utimensat(AT_FDCWD, path.c_str(), times, symlink ? AT_SYMLINK_NOFOLLOW : 0) != 0) {
        error = "cannot set the modification time of '" + path + "': " + errno_text(errno);
        return false;
    }
    return true;
}

PackedAttributes::PackedAttributes(const qohi_file_attributes& a)
    : mtime(a.mtime), mtime_nsec(a.mtime_nsec), mode(static_cast<uint16_t>(a.mode & 07777)) {
    if (a.present) mode |= kPresent;
}

qohi_file_attributes PackedAttributes::unpacked() const {
    qohi_file_attributes a{};
    a.present = (mode & kPresent) ? 1 : 0;
    a.mode = mode & 07777u;
    a.mtime = mtime;
    a.mtime_nsec = mtime_nsec;
    return a;
}

namespace {

void put_varint(std::string& out, size_t v) {
    for (; v >= 0x80; v >>= 7) out.push_back(static_cast<char>(v | 0x80));
    out.push_back(static_cast<char>(v));
}

size_t get_varint(const char*& p) {
    size_t v = 0;
    for (int shift = 0;; shift += 7) {
        const auto b = static_cast<unsigned char>(*p++);
        v |= size_t(b & 0x7f) << shift;
        if (!(b & 0x80)) return v;
    }
}

}  // namespace

void NameList::push_back(const std::string& name) {
    size_t shared = 0;
    if (size_ % kBlock == 0) {
        blocks_.push_back(records_.size());
    } else {
        const size_t most = std::min(name.size(), last_.size());
        while (shared < most && name[shared] == last_[shared]) ++shared;
    }
    put_varint(records_, shared);
    put_varint(records_, name.size() - shared);
    records_.append(name, shared, std::string::npos);
    last_ = name;
    ++size_;
}

std::string NameList::operator[](size_t k) const {
    std::string name;
    const char* p = records_.data() + blocks_[k / kBlock];
    for (size_t i = 0; i <= k % kBlock; ++i) {
        const size_t shared = get_varint(p);
        const size_t suffix = get_varint(p);
        name.resize(shared);
        name.append(p, suffix);
        p += suffix;
    }
    return name;
}

void NameList::shrink_to_fit() {
    records_.shrink_to_fit();
    blocks_.shrink_to_fit();
    std::string().swap(last_);
}

bool scan_folder(const std::string& root, FolderListing& listing, std::string& error) {
    listing.names.clear();
    listing.items.clear();
    std::vector<uint64_t> pending{0};  // relative folders still to read, as their names' offsets
    listing.names.push_back('\0');     // at 0: "", the root itself
    while (!pending.empty()) {
        const std::string rel_dir = listing.names.c_str() + pending.back();
        pending.pop_back();
        const std::string dir_path = rel_dir.empty() ? root : join_path(root, rel_dir);
        DirCloser dc;
        dc.dir = ::opendir(dir_path.c_str());
        if (!dc.dir) {
            error = "cannot open folder '" + dir_path + "': " + errno_text(errno);
            return false;
        }
        for (;;) {
            errno = 0;
            const struct dirent* entry = ::readdir(dc.dir);
            if (!entry) {
                if (errno != 0) {
                    error = "cannot read folder '" + dir_path + "': " + errno_text(errno);
                    return false;
                }
                break;
            }
            const std::string name = entry->d_name;
            if (name == "." || name == "..") continue;
            const std::string rel = rel_dir.empty() ? name : rel_dir + "/" + name;
            const std::string full = join_path(root, rel);
            struct stat st;
            if (::lstat(full.c_str(), &st) != 0) {
                error = "cannot read '" + full + "': " + errno_text(errno);
                return false;
            }
            FolderItem item;
            item.name = listing.names.size();
            listing.names.append(rel.c_str(), rel.size() + 1);
            item.attributes = PackedAttributes(attributes_of(st));
            item.size = static_cast<uint64_t>(st.st_size);
            if (S_ISDIR(st.st_mode)) {
                item.kind = FolderItem::kFolder;
                item.size = 0;
                pending.push_back(item.name);
            } else if (S_ISLNK(st.st_mode)) {
                item.kind = FolderItem::kSymlink;
            } else if (S_ISREG(st.st_mode)) {
                item.kind = FolderItem::kFile;
            } else {
                item.kind = FolderItem::kOther;
            }
            listing.items.push_back(item);
        }
    }
    // Byte order: strcmp compares as unsigned char, as std::string does.
    const char* names = listing.names.c_str();
    std::sort(listing.items.begin(), listing.items.end(), [names](const FolderItem& a, const FolderItem& b) {
        return std::strcmp(names + a.name, names + b.name) < 0;
    });
    return true;
}

bool is_valid_utf8(const std::string& text) {
    const auto* s = reinterpret_cast<const unsigned char*>(text.data());
    const size_t n = text.size();
    for (size_t i = 0; i < n;) {
        const unsigned char c = s[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        const size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
        if (len == 0 || c > 0xf4 || i + len > n) return false;
        uint32_t cp = c & (0x7fu >> len);
        for (size_t k = 1; k < len; ++k) {
            if ((s[i + k] & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (s[i + k] & 0x3fu);
        }
        static const uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < kMin[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        i += len;
    }
    return true;
}

std::string list_for_message(const std::vector<std::string>& items, size_t max_items) {
    std::string out;
    const size_t shown = std::min(items.size(), max_items);
    for (size_t i = 0; i < shown; ++i) {
        if (i) out += ", ";
        out += items[i];
    }
    if (items.size() > shown) out += ", and " + std::to_string(items.size() - shown) + " more";
    return out;
}

std::string unsafe_name_reason(const std::string& name) {
    if (name.empty()) return "an empty name";
    if (name.find('\0') != std::string::npos) return "contains a NUL byte";
    if (!is_valid_utf8(name)) return "not valid UTF-8";
    if (name.find('\\') != std::string::npos) return "contains a backslash";
    if (name[0] == '/') return "an absolute path";
    size_t start = 0;
    for (;;) {
        const size_t slash = name.find('/', start);
        const std::string part =
            name.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
        if (part.empty()) return "has an empty path component";
        if (part == ".") return "has a '.' path component";
        if (part == "..") return "has a '..' path component";
        if (slash == std::string::npos) break;
        start = slash + 1;
    }
    return std::string();
}

bool make_folder(const std::string& root, std::string& error) {
    if (root.empty()) {
        error = "empty folder name";
        return false;
    }
    // Each prefix ending before a '/', then the whole path.
    for (size_t pos = 0;;) {
        const size_t slash = root.find('/', pos);
        const std::string prefix = slash == std::string::npos ? root : root.substr(0, slash);
        const bool last = slash == std::string::npos;
        if (!prefix.empty() && prefix != "." && prefix != "..") {
            struct stat st;
            if (::stat(prefix.c_str(), &st) == 0) {
                if (!S_ISDIR(st.st_mode)) {
                    error = "cannot create folder '" + root + "': '" + prefix + "' is not a folder";
                    return false;
                }
            } else if (::mkdir(prefix.c_str(), 0777) != 0 && errno != EEXIST) {
                error = "cannot create folder '" + prefix + "': " + errno_text(errno);
                return false;
            }
        }
        if (last) break;
        pos = slash + 1;
    }
    struct stat st;
    if (::stat(root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        error = "cannot create folder '" + root + "'";
        return false;
    }
    return true;
}

bool make_parent_folders(const std::string& root, const std::string& rel, std::string& error) {
    size_t pos = 0;
    for (;;) {
        const size_t slash = rel.find('/', pos);
        if (slash == std::string::npos) return true;
        const std::string path = join_path(root, rel.substr(0, slash));
        struct stat st;
        if (::lstat(path.c_str(), &st) != 0) {
            if (errno != ENOENT) {
                error = "cannot create folder '" + path + "': " + errno_text(errno);
                return false;
            }
            if (::mkdir(path.c_str(), 0777) != 0 && errno != EEXIST) {
                error = "cannot create folder '" + path + "': " + errno_text(errno);
                return false;
            }
            if (::lstat(path.c_str(), &st) != 0) {
                error = "cannot create folder '" + path + "': " + errno_text(errno);
                return false;
            }
        }
        if (S_ISLNK(st.st_mode)) {
            error = "'" + path + "' is a symbolic link; refusing to write through it";
            return false;
        }
        if (!S_ISDIR(st.st_mode)) {
            error = "'" + path + "' exists and is not a folder";
            return false;
        }
        pos = slash + 1;
    }
}

}  // namespace qohi_tools
