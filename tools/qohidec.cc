// qohidec: decode one frame of a .qohi file to PNG, unpack a collection into
// a folder, or list the frames.
#include <qohi/qohi.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <cstdio>
#include <exception>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cli.h"
#include "collection.h"
#include "file_io.h"
#include "frame_metadata.h"
#include "png_io.h"

using namespace qohi_tools;

namespace {

const char kUsage[] =
    "Usage: qohidec [OPTIONS] INPUT.qohi [-o OUTPUT.png]\n"
    "       qohidec [OPTIONS] INPUT.qohi -o FOLDER\n"
    "       qohidec --list INPUT.qohi\n"
    "       qohidec --recover [--list | --frame FRAME] INPUT.qohi [-o OUTPUT]\n"
    "Decode a frame of a QOHI file to PNG, unpack a collection into a folder, or\n"
    "list its frames and stored files.\n"
    "\n"
    "  INPUT.qohi             QOHI file to decode; \"-\" reads standard input\n"
    "  -o, --output FILE      output file or folder; \"-\" writes standard output\n"
    "                         (default: INPUT with its extension replaced by .png,\n"
    "                         or standard output when INPUT is \"-\"; for a file of\n"
    "                         several frames and no --frame, the folder INPUT\n"
    "                         without its .qohi extension)\n"
    "  -f, --force            overwrite existing output files\n"
    "      --frame FRAME      frame to decode: a decimal index (0 is the first)\n"
    "                         or else a frame name\n"
    "  -l, --list             print the frames (index, size, channels, method,\n"
    "                         reference, chain depth, coded bytes, type, name) and\n"
    "                         a summary to standard output; write nothing\n"
    "      --recover          read a file whose writer stopped early (it has no\n"
    "                         valid index): its frames are read from the start,\n"
    "                         and every frame written whole is listed, decoded or\n"
    "                         unpacked as usual; a warning says what was wrong\n"
    "                         with the file. A complete file is read as without\n"
    "                         --recover\n"
    "      --max-pixels N     refuse frames with more than N pixels\n"
    "                         (default: 268435456 = 2^28)\n"
    "      --max-memory N     refuse frames whose decoding needs more than N bytes\n"
    "                         in all (the image, its PNG, the frames a delta frame\n"
    "                         is decoded from, the frame data read), before any\n"
    "                         of it is allocated; decoded frames are then not\n"
    "                         kept for reuse (default: no limit)\n"
    "      --threads N        threads that decode a frame's row bands at once\n"
    "                         (default 0: one per core)\n"
    "  -v, --verbose          print frame and sizes to standard error\n"
    "  -q, --quiet            print nothing but errors\n"
    "  -h, --help             show this help and exit\n"
    "  -V, --version          show version information and exit\n"
    "\n"
    "Without --frame, a file of one image is decoded to OUTPUT, unless OUTPUT is\n"
    "an existing folder or ends in '/'. A packed folder (several frames, files\n"
    "stored as they are, or one image with its file's attributes) is unpacked\n"
    "into a folder: each frame is written as FOLDER/NAME (its name, a relative\n"
    "path; unnamed frames as frame_INDEX.png), each stored file, symbolic link\n"
    "and folder as it was, with permission bits and modification times. A name\n"
    "that is absolute or has '..', '.' or empty components or a backslash is\n"
    "refused, and nothing is written through a symbolic link inside FOLDER\n"
    "(links are made last). Existing files are kept unless -f is given; the\n"
    "other items are still restored, and the exit status is 1. A write error\n"
    "that fails every later file (a full disk) stops the unpacking.\n"
    "--frame NAME also takes a stored file by its name.\n"
    "\n"
    "Each PNG comes back as the PNG the frame was made from, as far as a PNG can\n"
    "be: colour type, bit depth, palette, interlacing and every ancillary chunk\n"
    "in order (frames without that record: 8-bit RGB or RGBA with the ICC\n"
    "profile, EXIF, XMP and text chunks). Each file is written to a temporary\n"
    "file and named only when complete. Binary data is never written to a\n"
    "terminal.\n"
    "\n"
    "Exit status: 0 success, 1 failure (bad input, I/O error), 2 usage error,\n"
    "3 finished but incomplete: --recover read a damaged file, whose frames\n"
    "after the damage are lost.\n"
    "\n"
    "Errors from the library name their class, for scripts:\n"
    "  qohidec: INPUT: CLASS: MESSAGE            the file cannot be opened\n"
    "  qohidec: INPUT: frame N: CLASS: MESSAGE   frame N cannot be decoded\n"
    "                                            (frame N ('NAME') when unpacking)\n"
    "CLASS is NOT_QOHI, TRUNCATED, CORRUPT, UNSUPPORTED or LIMIT (the file's\n"
    "fault, spec section 9.2), or IO, OUT_OF_MEMORY, INVALID_ARGUMENT, NOT_FOUND,\n"
    "INTERNAL. Metadata that cannot be read is a warning (the pixels are still\n"
    "written): warning: ...: metadata not restored: CLASS: MESSAGE.\n";

struct ReaderCloser {
    qohi_reader* reader = nullptr;
    ~ReaderCloser() {
        if (reader) qohi_reader_close(reader);
    }
};

bool is_directory(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool ends_with_ci(const std::string& text, const std::string& suffix) {
    if (text.size() < suffix.size()) return false;
    for (size_t i = 0; i < suffix.size(); ++i) {
        char a = text[text.size() - suffix.size() + i];
        if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
        if (a != suffix[i]) return false;
    }
    return true;
}

std::string frame_name(const qohi_frame_info& info) {
    return std::string(info.name ? info.name : "", info.name ? info.name_size : 0);
}

// "frame 3" or "frame 3 ('a/b.png')".
std::string frame_label(uint32_t index, const std::string& name) {
    std::string label = "frame " + std::to_string(index);
    if (!name.empty()) label += " ('" + printable(name) + "')";
    return label;
}

// The class of a failure, as printed before its message (see kUsage): the
// qohi_status name without its QOHI_ERROR_ prefix.
const char* status_class(qohi_status status) {
    switch (status) {
        case QOHI_OK: return "OK";
        case QOHI_ERROR_INVALID_ARGUMENT: return "INVALID_ARGUMENT";
        case QOHI_ERROR_IO: return "IO";
        case QOHI_ERROR_NOT_QOHI: return "NOT_QOHI";
        case QOHI_ERROR_TRUNCATED: return "TRUNCATED";
        case QOHI_ERROR_CORRUPT: return "CORRUPT";
        case QOHI_ERROR_UNSUPPORTED: return "UNSUPPORTED";
        case QOHI_ERROR_LIMIT: return "LIMIT";
        case QOHI_ERROR_OUT_OF_MEMORY: return "OUT_OF_MEMORY";
        case QOHI_ERROR_NOT_FOUND: return "NOT_FOUND";
        case QOHI_ERROR_INTERNAL: return "INTERNAL";
    }
    return "INTERNAL";
}

// "CLASS: message" for a failure of `reader` (or `message`) with `status`.
std::string classified(qohi_status status, const std::string& message) {
    return std::string(status_class(status)) + ": " + message;
}
std::string reader_error(qohi_reader* reader, qohi_status status) {
    return classified(status, library_message(qohi_reader_message(reader), qohi_status_string(status)));
}

std::string method_name(uint32_t method) {
    if (method == QOHI_METHOD_STORED) return "stored";
    if (method == QOHI_METHOD_QOHI) return "qohi";
    if (method == QOHI_METHOD_DICI) return "dici";
    return "method-" + std::to_string(method);
}

// The input, opened. Regular files are read on demand; standard input and
// other kinds of file are read into memory first.
struct Input {
    std::vector<uint8_t> data;
    uint64_t size = 0;
    ReaderCloser rd;
};

// Opens the input with `ropt`. Returns kContinue or an exit code.
// A file opened by recovery is reported on standard error unless `quiet`.
int open_input(const Program& prog, const std::string& path, const qohi_read_options& ropt, bool quiet, Input& in) {
    const std::string name = input_name(path);
    std::string err;
    qohi_error qerr{};
    qohi_status st;
    struct stat sb;
    if (path != "-" && ::stat(path.c_str(), &sb) == 0 && S_ISREG(sb.st_mode)) {
        in.size = static_cast<uint64_t>(sb.st_size);
        st = qohi_reader_open_file(path.c_str(), &ropt, &in.rd.reader, &qerr);
    } else {
        if (!read_file(path, in.data, err)) return prog.fail(err);
        in.size = in.data.size();
        // A zero-length buffer may have data() == nullptr; give the library a
        // valid pointer anyway.
        static const uint8_t kEmpty[1] = {0};
        st = qohi_reader_open_memory(in.data.empty() ? kEmpty : in.data.data(), in.data.size(), &ropt,
                                     &in.rd.reader, &qerr);
    }
    if (st != QOHI_OK) {
        std::string message = library_message(qerr.message, qohi_status_string(st));
        // The library names the file itself when it opens it: say it once.
        if (message.compare(0, path.size() + 2, path + ": ") == 0) message.erase(0, path.size() + 2);
        return prog.fail(name + ": " + classified(st, message));
    }
    // Opened by recovery: the file itself is still broken, and the user must
    // hear it (spec §3.14), even though its frames can be read.
    const char* damage = nullptr;
    const qohi_status file_status = qohi_reader_file_status(in.rd.reader, &damage);
    if (file_status != QOHI_OK && !quiet) {
        prog.say("warning: " + name + ": " + qohi_status_string(file_status) + ": " +
                 library_message(damage, qohi_status_string(file_status)));
    }
    return kContinue;
}

// ------------------------------------------------------------------ entries

std::string entry_name(const qohi_entry_info& info) {
    return std::string(info.name ? info.name : "", info.name ? info.name_size : 0);
}

const char* entry_kind_name(uint32_t kind) {
    switch (kind) {
        case QOHI_ENTRY_FILE: return "file";
        case QOHI_ENTRY_SYMLINK: return "link";
        case QOHI_ENTRY_FOLDER: return "folder";
    }
    return "unknown";
}

// Reads entry `index`'s content into `out`. Returns "" or "CLASS: message".
std::string read_entry(qohi_reader* reader, uint32_t index, std::vector<uint8_t>& out) {
    out.clear();
    const qohi_status st = qohi_reader_read_entry(
        reader, index,
        [](void* user, const void* data, size_t size) {
            auto* v = static_cast<std::vector<uint8_t>*>(user);
            const auto* p = static_cast<const uint8_t*>(data);
            v->insert(v->end(), p, p + size);
            return QOHI_OK;
        },
        &out);
    return st == QOHI_OK ? std::string() : reader_error(reader, st);
}

// Writes entry `index`'s content to `fd` as it is read. False with `err`
// (an errno value) when writing fails, or with `read_error` ("CLASS:
// message") when the archive does.
bool copy_entry(qohi_reader* reader, uint32_t index, int fd, int& err, std::string& read_error) {
    struct Copy {
        int fd;
        int err = 0;
    } copy{fd};
    const qohi_status st = qohi_reader_read_entry(
        reader, index,
        [](void* user, const void* data, size_t size) {
            auto* c = static_cast<Copy*>(user);
            return write_all(c->fd, static_cast<const uint8_t*>(data), size, c->err) ? QOHI_OK : QOHI_ERROR_IO;
        },
        &copy);
    if (st == QOHI_OK) return true;
    if (copy.err != 0) {
        err = copy.err;
    } else {
        read_error = reader_error(reader, st);
        err = EIO;
    }
    return false;
}

// Whether `target` may be written: nothing there, or (with -f) a regular
// file. "" if so, else why not.
std::string check_target(const Args& args, const std::string& target, bool may_replace_link) {
    struct stat sb;
    if (::lstat(target.c_str(), &sb) != 0) return std::string();
    if (S_ISLNK(sb.st_mode) && !may_replace_link)
        return "'" + printable(target) + "' is a symbolic link; refusing to write through it";
    if (S_ISDIR(sb.st_mode)) return "'" + printable(target) + "' is a directory";
    if (!S_ISREG(sb.st_mode) && !S_ISLNK(sb.st_mode))
        return "'" + printable(target) + "' exists and is not a regular file";
    if (!args.force) return "'" + printable(target) + "' already exists; use -f/--force to overwrite it";
    return std::string();
}

struct EntryTally {
    uint32_t restored = 0, failed = 0;
    std::string stopped;  // a write error that fails every later file too (a full disk)
};

// Restores the entries (spec §3.15) below `dir`: folders and files first,
// symbolic links after them (so that nothing is written through a link the
// file itself made), folder times last (writing into a folder changes its
// time). `written` holds the paths of the frames already written.
EntryTally unpack_entries(const Program& prog, const Args& args, const std::string& in_name, qohi_reader* reader,
                          const std::string& dir, std::set<std::string>& written) {
    EntryTally tally;
    const uint32_t count = qohi_reader_entry_count(reader);
    std::vector<uint32_t> links;
    std::vector<std::pair<std::string, qohi_file_attributes>> folders;
    std::vector<uint8_t> content;
    std::string err;
    for (int pass = 0; pass < 2; ++pass) {
        const uint32_t n = pass == 0 ? count : static_cast<uint32_t>(links.size());
        for (uint32_t k = 0; k < n; ++k) {
            const uint32_t i = pass == 0 ? k : links[k];
            qohi_entry_info info{};
            qohi_status st = qohi_reader_entry_info(reader, i, &info);
            const std::string name = st == QOHI_OK ? entry_name(info) : std::string();
            auto refuse = [&](const std::string& why) {
                prog.say(in_name + ": entry " + std::to_string(i) + " ('" + printable(name) + "'): " + why +
                         "; not restored");
                ++tally.failed;
            };
            if (st != QOHI_OK) {
                refuse(reader_error(reader, st));
                continue;
            }
            if (pass == 0 && info.kind == QOHI_ENTRY_SYMLINK) {
                links.push_back(i);
                continue;
            }
            const std::string reason = unsafe_name_reason(name);
            if (!reason.empty()) {
                refuse("unsafe name (" + reason + ")");
                continue;
            }
            if (info.kind != QOHI_ENTRY_FOLDER && !written.insert(name).second) {
                refuse("'" + printable(name) + "' was written for an earlier item");
                continue;
            }
            const std::string target = join_path(dir, name);
            if (info.kind == QOHI_ENTRY_FOLDER) {
                if (!make_parent_folders(dir, name + "/-", err)) {
                    refuse(printable(err));
                    continue;
                }
                folders.emplace_back(target, info.attributes);
                ++tally.restored;
                continue;
            }
            std::string why;
            if (info.kind == QOHI_ENTRY_SYMLINK) why = read_entry(reader, i, content);
            if (why.empty() && !make_parent_folders(dir, name, err)) why = printable(err);
            if (why.empty()) why = check_target(args, target, info.kind == QOHI_ENTRY_SYMLINK);
            if (!why.empty()) {
                refuse(why);
                continue;
            }
            if (info.kind == QOHI_ENTRY_SYMLINK) {
                const std::string link_target(content.begin(), content.end());
                if (::unlink(target.c_str()) != 0 && errno != ENOENT) {
                    refuse("cannot replace '" + printable(target) + "': " + std::strerror(errno));
                    continue;
                }
                if (::symlink(link_target.c_str(), target.c_str()) != 0) {
                    refuse("cannot make the symbolic link '" + printable(target) + "': " + std::strerror(errno));
                    continue;
                }
            } else {
                // Streamed from the archive to the file, a piece at a time.
                std::string read_error;
                const ContentWriter copy = [&](int fd, int& e) { return copy_entry(reader, i, fd, e, read_error); };
                int write_errno = 0;
                if (!write_file_atomic_with(target, copy, args.force, err, Durability::kAtSync, &write_errno)) {
                    if (!read_error.empty()) {
                        refuse(read_error);
                        continue;
                    }
                    if (!failure_is_the_names(write_errno)) {
                        tally.stopped = printable(err) + "; unpacking stopped at entry " + std::to_string(i);
                        return tally;
                    }
                    refuse(printable(err));
                    continue;
                }
            }
            if (!restore_attributes(target, info.attributes, info.kind == QOHI_ENTRY_SYMLINK, err)) {
                refuse(printable(err));
                continue;
            }
            ++tally.restored;
        }
    }
    // Deepest folders first: setting a folder's time must come after
    // everything inside it, sub-folders' times included.
    std::sort(folders.begin(), folders.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    for (const auto& f : folders) {
        if (!restore_attributes(f.first, f.second, false, err)) {
            prog.say(in_name + ": " + printable(err));
            ++tally.failed;
        }
    }
    return tally;
}

// Writes entry `index` (a file, by name with --frame) to the output.
int extract_entry(const Program& prog, const Args& args, const std::string& in_name, qohi_reader* reader,
                  uint32_t index) {
    qohi_entry_info info{};
    qohi_status st = qohi_reader_entry_info(reader, index, &info);
    if (st != QOHI_OK) return prog.fail(in_name + ": entry " + std::to_string(index) + ": " + reader_error(reader, st));
    if (info.kind != QOHI_ENTRY_FILE) {
        return prog.fail(in_name + ": '" + printable(entry_name(info)) + "' is a " + entry_kind_name(info.kind) +
                         ", not a file; unpack the whole file to restore it");
    }
    std::string err, read_error;
    const ContentWriter copy = [&](int fd, int& e) { return copy_entry(reader, index, fd, e, read_error); };
    if (!write_file_atomic_with(args.output, copy, args.force, err)) {
        if (!read_error.empty()) return prog.fail(in_name + ": entry " + std::to_string(index) + ": " + read_error);
        return prog.fail(printable(err));
    }
    return kExitOk;
}

// ------------------------------------------------------------------ --list

int list_frames(const Program& prog, const std::string& in_name, qohi_reader* reader, uint64_t file_size) {
    const uint32_t count = qohi_reader_frame_count(reader);
    std::vector<std::vector<std::string>> rows;
    rows.push_back({"index", "size", "ch", "method", "ref", "depth", "bytes", "type", "name"});
    uint64_t coded = 0, baselines = 0, deltas = 0, longest = 0;
    for (uint32_t i = 0; i < count; ++i) {
        qohi_frame_info info{};
        qohi_status st = qohi_reader_frame_info(reader, i, &info);
        if (st != QOHI_OK) {
            return prog.fail(in_name + ": frame " + std::to_string(i) + ": " + reader_error(reader, st));
        }
        std::string ch = std::to_string(info.channels);
        if (info.bit_depth != 8) ch += "/" + std::to_string(info.bit_depth);
        rows.push_back({std::to_string(i), std::to_string(info.width) + "x" + std::to_string(info.height), ch,
                        method_name(info.method), info.reference >= 0 ? std::to_string(info.reference) : "-",
                        std::to_string(info.depth), std::to_string(info.coded_size),
                        info.baseline ? "baseline" : info.reference >= 0 ? "delta" : "intra", ""});
        coded += info.coded_size;
        if (info.baseline) ++baselines;
        if (info.reference >= 0) ++deltas;
        longest = std::max<uint64_t>(longest, info.depth);
    }
    // Columns: numbers right-aligned, words left-aligned, the name last.
    const bool right[] = {true, true, true, false, true, true, true, false, false};
    std::vector<size_t> width(rows[0].size(), 0);
    for (const auto& row : rows) {
        for (size_t c = 0; c + 1 < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
    }
    // Names are not kept in `rows`: a hostile index can give every frame a
    // 64 KiB name. They are asked for again here, one at a time.
    std::string out;
    for (size_t r = 0; r < rows.size(); ++r) {
        const auto& row = rows[r];
        for (size_t c = 0; c < row.size(); ++c) {
            if (c) out += "  ";
            const size_t pad = c + 1 < row.size() ? width[c] - row[c].size() : 0;
            if (right[c]) out.append(pad, ' ');
            out += row[c];
            if (!right[c]) out.append(pad, ' ');
        }
        if (r > 0) {
            qohi_frame_info info{};
            const qohi_status st = qohi_reader_frame_info(reader, static_cast<uint32_t>(r - 1), &info);
            if (st != QOHI_OK) {
                return prog.fail(in_name + ": frame " + std::to_string(r - 1) + ": " +
                                 library_message(qohi_reader_message(reader), qohi_status_string(st)));
            }
            const std::string name = frame_name(info);
            out += name.empty() ? "-" : printable(name);
        }
        out += '\n';
        std::fputs(out.c_str(), stdout);
        out.clear();
    }
    std::printf("%u frame%s (%llu baseline%s, %llu with a reference, longest chain %llu), "
                "%llu bytes of frames, file %llu bytes\n",
                count, count == 1 ? "" : "s", static_cast<unsigned long long>(baselines),
                baselines == 1 ? "" : "s", static_cast<unsigned long long>(deltas),
                static_cast<unsigned long long>(longest), static_cast<unsigned long long>(coded),
                static_cast<unsigned long long>(file_size));
    const uint32_t entries = qohi_reader_entry_count(reader);
    uint64_t entry_bytes = 0;
    for (uint32_t i = 0; i < entries; ++i) {
        qohi_entry_info info{};
        const qohi_status st = qohi_reader_entry_info(reader, i, &info);
        if (st != QOHI_OK) return prog.fail(in_name + ": entry " + std::to_string(i) + ": " + reader_error(reader, st));
        char mode[8] = "-";
        if (info.attributes.present) std::snprintf(mode, sizeof mode, "%04o", info.attributes.mode);
        std::printf("entry %u  %s  %llu bytes  mode %s  %s\n", i, entry_kind_name(info.kind),
                    static_cast<unsigned long long>(info.size), mode, printable(entry_name(info)).c_str());
        entry_bytes += info.coded_size;
    }
    if (entries) {
        std::printf("%u entr%s stored as they are, %llu bytes\n", entries, entries == 1 ? "y" : "ies",
                    static_cast<unsigned long long>(entry_bytes));
    }
    if (std::fflush(stdout) != 0 || std::ferror(stdout)) return prog.fail("cannot write <stdout>");
    return kExitOk;
}

// ------------------------------------------------------------------ decode

// Limits on decoding one frame (0: the library's default / none).
struct Limits {
    uint64_t max_pixels = 0;
    uint64_t max_memory = 0;
};

// A decoded frame. Its pixels are not zeroed before the decoder writes them.
struct Decoded {
    uint32_t width = 0, height = 0, channels = 0;
    std::unique_ptr<uint8_t[]> pixels;
    size_t size = 0;
    std::vector<Metadata> metadata;
    PngLayout layout;

    ImageView view() const {
        ImageView v;
        v.width = width;
        v.height = height;
        v.channels = channels;
        v.pixels = pixels.get();
        v.size = size;
        v.metadata = &metadata;
        v.layout = &layout;
        return v;
    }
};

// Bytes that decoding the frame `info` describes holds at once: the image,
// its PNG, for a delta frame the library's two frames of its chain (the reader keeps no
// others under --max-memory), the largest frame data it reads, and the
// metadata (as read and as copied).
uint64_t memory_needed(qohi_reader* reader, const qohi_frame_info& info, const std::vector<Metadata>& metadata,
                       const PngLayout& layout) {
    const uint64_t frame_bytes = uint64_t{info.width} * info.height * info.channels;
    uint64_t coded = info.coded_size;
    for (int64_t r = info.reference; r >= 0;) {
        qohi_frame_info ref{};
        if (qohi_reader_frame_info(reader, static_cast<uint32_t>(r), &ref) != QOHI_OK) break;
        coded = std::max(coded, ref.coded_size);
        r = ref.reference;
    }
    uint64_t metadata_bytes = 0;
    for (const Metadata& m : metadata) metadata_bytes += m.key.size() + m.data.size();
    // The layout's chunks are copied into the PNG as they are.
    for (const PngChunk& c : layout.chunks) metadata_bytes += c.data.size() + 12;
    return frame_bytes + png_size_bound(info.width, info.height, info.channels, metadata) +
           (info.reference >= 0 ? 2 * frame_bytes : 0) + coded + 2 * metadata_bytes;
}

// Decodes frame `index` with its metadata into `image`. Returns "" or the
// reason it failed ("CLASS: message"); metadata that cannot be read leaves
// the pixels decoded and sets `warning`.
std::string decode_frame(qohi_reader* reader, uint32_t index, const qohi_frame_info& info, const Limits& limits,
                         Decoded& image, std::string& warning) {
    warning.clear();
    // The library's checks of the frame that need no pixel memory, in the
    // order of spec section 7.3 (decodability, the pixel limit, the records
    // and their CRCs, the band layout), before any memory is allocated:
    // without a buffer the call stops at them, or answers INVALID_ARGUMENT
    // (the missing buffer) when they pass.
    qohi_status st = qohi_reader_decode_frame(reader, index, nullptr, 0, 0, 0);
    if (st != QOHI_ERROR_INVALID_ARGUMENT) return reader_error(reader, st == QOHI_OK ? QOHI_ERROR_INTERNAL : st);
    if (info.channels != 3 && info.channels != 4) {
        return classified(QOHI_ERROR_UNSUPPORTED, "has " + std::to_string(info.channels) +
                                                      " channels; only RGB and RGBA can be written");
    }
    if (info.bit_depth != 8) {
        return classified(QOHI_ERROR_UNSUPPORTED, "has " + std::to_string(info.bit_depth) +
                                                      "-bit channels; only 8-bit can be written");
    }
    const uint64_t limit = limits.max_pixels != 0 ? limits.max_pixels : QOHI_DEFAULT_MAX_PIXELS;
    const uint64_t pixels = uint64_t{info.width} * info.height;
    if (pixels > limit) {
        return classified(QOHI_ERROR_LIMIT, "is " + std::to_string(info.width) + "x" + std::to_string(info.height) +
                                                ", more than the limit of " + std::to_string(limit) +
                                                " pixels (see --max-pixels)");
    }
    // The metadata first: the memory the PNG needs depends on it. A
    // malformed metadata record is refused (CORRUPT) without taking the
    // frame's pixels with it (spec section 3.9).
    const qohi_metadata* items = nullptr;
    size_t count = 0;
    st = qohi_reader_frame_metadata(reader, index, &items, &count);
image.metadata.clear();
    image.layout = PngLayout();
    if (st == QOHI_OK) {
        Image read;
        std::string layout_error;
        if (!from_library_metadata(items, count, read, layout_error)) warning = "PNG layout not restored: " + layout_error;
        image.metadata = std::move(read.metadata);
        image.layout = std::move(read.layout);
    } else {
        warning = "metadata not restored: " + reader_error(reader, st);
    }
    if (limits.max_memory != 0) {
        const uint64_t needed = memory_needed(reader, info, image.metadata, image.layout);
        if (needed > limits.max_memory) {
            return classified(QOHI_ERROR_LIMIT, "needs " + std::to_string(needed) +
                                                    " bytes to decode and write, above the memory limit of " +
                                                    std::to_string(limits.max_memory) + " (see --max-memory)");
        }
    }
    image.width = info.width;
    image.height = info.height;
    image.channels = info.channels;
    image.size = static_cast<size_t>(pixels * info.channels);
    try {
        image.pixels.reset(new uint8_t[image.size]);
    } catch (const std::exception&) {
        return classified(QOHI_ERROR_OUT_OF_MEMORY, "out of memory for a " + std::to_string(info.width) + "x" +
                                                        std::to_string(info.height) + " frame");
    }
    st = qohi_reader_decode_frame(reader, index, image.pixels.get(), image.size, 0, info.channels);
    if (st != QOHI_OK) return reader_error(reader, st);
    return std::string();
}

// Encodes `image` as PNG; warns about metadata that PNG cannot hold.
bool to_png(const Program& prog, const Args& args, const std::string& label, const Decoded& image,
            std::vector<uint8_t>& png, std::string& err) {
    std::vector<std::string> skipped;
    if (!encode_png(image.view(), -1, png, err, &skipped)) return false;
    if (!args.quiet) {
        for (const std::string& s : skipped) prog.say("warning: " + label + ": metadata not written: " + s);
    }
    return true;
}

// ------------------------------------------------------------------ unpack

int unpack(const Program& prog, const Args& args, const std::string& in_name, qohi_reader* reader,
           const Limits& limits) {
    std::string dir = args.output;
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    std::string err;
    if (!make_folder(dir, err)) return prog.fail(err);

    const uint32_t count = qohi_reader_frame_count(reader);
    uint32_t failed = 0, restored = 0;
    std::set<std::string> written;
    for (uint32_t i = 0; i < count; ++i) {
        Decoded image;  // per frame: --max-memory counts one frame's buffers
        std::vector<uint8_t> png;
        qohi_frame_info info{};
        qohi_status st = qohi_reader_frame_info(reader, i, &info);
        const std::string name = st == QOHI_OK ? frame_name(info) : std::string();
        const std::string label = frame_label(i, name);
        auto refuse = [&](const std::string& why) {
            prog.say(in_name + ": " + label + ": " + why + "; not restored");
            ++failed;
        };
        if (st != QOHI_OK) {
            refuse(reader_error(reader, st));
            continue;
        }
        const std::string rel = name.empty() ? "frame_" + std::to_string(i) + ".png" : name;
        const std::string reason = unsafe_name_reason(rel);
        if (!reason.empty()) {
            refuse("unsafe name (" + reason + ")");
            continue;
        }
        if (!written.insert(rel).second) {
            refuse("'" + printable(rel) + "' was written for an earlier frame");
            continue;
        }
        std::string warning;
        std::string why = decode_frame(reader, i, info, limits, image, warning);
        if (!why.empty()) {
            refuse(why);
            continue;
        }
        if (!warning.empty() && !args.quiet) prog.say("warning: " + in_name + ": " + label + ": " + warning);
        if (!make_parent_folders(dir, rel, err)) {
            refuse(printable(err));
            continue;
        }
        const std::string target = join_path(dir, rel);
        struct stat sb;
        if (::lstat(target.c_str(), &sb) == 0) {
            if (S_ISLNK(sb.st_mode)) {
                refuse("'" + printable(target) + "' is a symbolic link; refusing to write through it");
                continue;
            }
            if (S_ISDIR(sb.st_mode)) {
                refuse("'" + printable(target) + "' is a directory");
                continue;
            }
            if (!S_ISREG(sb.st_mode)) {
                refuse("'" + printable(target) + "' exists and is not a regular file");
                continue;
            }
            if (!args.force) {
                refuse("'" + printable(target) + "' already exists; use -f/--force to overwrite it");
                continue;
            }
        }
        if (!to_png(prog, args, label, image, png, err)) {
            refuse(err);
            continue;
        }
        // New files are flushed once, together, at the end: on a disk one
        // flush per file makes unpacking 100,000s of images take hours.
        int write_errno = 0;
        if (!write_file_atomic(target, png.data(), png.size(), args.force, err, Durability::kAtSync, &write_errno)) {
            if (failure_is_the_names(write_errno)) {
                refuse(printable(err));
                continue;
            }
            // A full disk or a failing file system fails every later frame too.
            std::string ignored;
            if (restored > 0) (void)sync_filesystem(dir, ignored);  // what was restored stays
            return prog.fail(printable(err) + "; unpacking stopped at " + label + ", " + std::to_string(restored) +
                             " of " + std::to_string(count) + " frames restored");
        }
        qohi_file_attributes attributes{};
        st = qohi_reader_frame_attributes(reader, i, &attributes);
        if (st != QOHI_OK) {
            refuse("its attributes cannot be read: " + reader_error(reader, st));
            continue;
        }
        if (!restore_attributes(target, attributes, false, err)) {
            refuse(printable(err));
            continue;
        }
        ++restored;
    }
    const EntryTally entries = unpack_entries(prog, args, in_name, reader, dir, written);
    failed += entries.failed;
    restored += entries.restored;
    if (!entries.stopped.empty()) {
        std::string ignored;
        if (restored > 0) (void)sync_filesystem(dir, ignored);  // what was restored stays
        return prog.fail(entries.stopped);
    }
    if (restored > 0 && !sync_filesystem(dir, err)) return prog.fail(printable(err));
    const uint64_t total = uint64_t{count} + qohi_reader_entry_count(reader);
    if (failed) {
        return prog.fail(in_name + ": " + std::to_string(failed) + " of " + std::to_string(total) +
                         (total == 1 ? " item" : " items") + " not restored");
    }
    if (args.verbose) {
        prog.say(in_name + ": restored " + std::to_string(count) + (count == 1 ? " image" : " images") + " and " +
                 std::to_string(entries.restored) + (entries.restored == 1 ? " other item" : " other items") +
                 " into '" + printable(dir) + "'");
    }
    return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
    const Program prog{"qohidec", kUsage, QOHI_VERSION_STRING, qohi_version_string()};
    Args args;
    bool have_frame = false;
    bool list = false;
    bool recover = false;
    std::string frame;
    uint64_t max_pixels = 0;  // 0: library default
    uint64_t max_memory = 0;  // 0: no limit
    uint32_t threads = 0;     // 0: one per core
    std::vector<Option> options = {
        {"--frame", 0, "a frame index or name", "--frame given more than once", false,
         [&](const std::string& value) {
             frame = value;
             have_frame = true;
             return kContinue;
         }},
        {"--list", 'l', nullptr, nullptr, false, [&](const std::string&) {
             list = true;
             return kContinue;
         }},
        {"--recover", 0, nullptr, nullptr, false, [&](const std::string&) {
             recover = true;
             return kContinue;
         }},
        threads_option(prog, threads),
        {"--max-pixels", 0, "a number", nullptr, false, [&](const std::string& text) {
             if (!parse_decimal(text, max_pixels) || max_pixels == 0) {
                 return prog.usage_error("invalid --max-pixels '" + text +
                                         "' (expected a positive decimal number)");
             }
             return kContinue;
         }},
        {"--max-memory", 0, "a number", nullptr, false, [&](const std::string& text) {
             if (!parse_decimal(text, max_memory) || max_memory == 0) {
                 return prog.usage_error("invalid --max-memory '" + text +
                                         "' (expected a positive decimal number of bytes)");
             }
             return kContinue;
         }},
    };
    int rc = parse_args(prog, argc, argv, ".png", options, args);
    if (rc != kContinue) return rc;
    if (list && have_frame) return prog.usage_error("--list and --frame cannot be combined");
    if (list && args.output_given) return prog.usage_error("--list writes no file; drop -o");
    rc = check_terminals(prog, args, "a QOHI file", !list);
    if (rc != kContinue) return rc;

    const std::string in_name = input_name(args.input);
    qohi_read_options ropt;
    qohi_read_options_init(&ropt);
    if (max_pixels != 0) ropt.max_pixels = max_pixels;
    ropt.max_memory = max_memory;
    // Under --max-memory, decoded frames are not kept for reuse: the limit
    // bounds the memory of each frame's decoding (see memory_needed).
    ropt.low_memory = max_memory != 0 ? 1 : 0;
    const Limits limits{max_pixels, max_memory};
    ropt.threads = threads;
    ropt.recover = recover ? 1 : 0;
    Input in;
    rc = open_input(prog, args.input, ropt, args.quiet, in);
    if (rc != kContinue) return rc;
    qohi_reader* reader = in.rd.reader;
    auto reader_failure = [&](const std::string& what, qohi_status status) {
        return prog.fail(in_name + ": " + what + reader_error(reader, status));
    };

    // A file opened by recovery lost what follows its damage: success is incomplete.
    const int exit_ok = qohi_reader_file_status(reader, nullptr) == QOHI_OK ? kExitOk : kExitIncomplete;
    auto finished = [exit_ok](int code) { return code == kExitOk ? exit_ok : code; };

    const uint32_t count = qohi_reader_frame_count(reader);
    const uint32_t entry_count = qohi_reader_entry_count(reader);
    if (list) return finished(list_frames(prog, in_name, reader, in.size));
    if (count == 0 && entry_count == 0) return prog.fail(in_name + ": the file contains no frames");

    // One frame, or everything into a folder? A packed folder (other items
    // than its frame, or a frame with its file's attributes, which only
    // packing stores) comes back as a folder, even with one image in it.
    qohi_file_attributes first_attributes{};
    if (count == 1 && qohi_reader_frame_attributes(reader, 0, &first_attributes) != QOHI_OK)
        first_attributes.present = 0;
    // A file of one stored file, without attributes, is what qohienc makes of
    // a single PNG that a frame cannot hold: it decodes to OUTPUT like an image.
    qohi_entry_info only{};
    const bool one_stored_file = count == 0 && entry_count == 1 &&
                                 qohi_reader_entry_info(reader, 0, &only) == QOHI_OK &&
                                 only.kind == QOHI_ENTRY_FILE && !only.attributes.present;
    const bool packed_folder = (entry_count > 0 && !one_stored_file) || first_attributes.present;
    const bool output_is_folder =
        args.output != "-" && (args.output.back() == '/' || is_directory(args.output));
    if (one_stored_file && !have_frame && !output_is_folder) {
        rc = check_output(prog, args);
        if (rc != kContinue) return rc;
        return extract_entry(prog, args, in_name, reader, 0);
    }
    // An -o naming a PNG takes the image of a packed folder of one image.
    const bool one_image_to_png = count == 1 && entry_count == 0 && args.output_given && !output_is_folder &&
                                  has_png_extension(args.output);
    if (!have_frame && !one_image_to_png && (count != 1 || packed_folder || output_is_folder)) {
        const std::string choose = in_name + ": the file has " + std::to_string(count) +
                                   (count == 1 ? " frame" : " frames") +
                                   (entry_count ? " and " + std::to_string(entry_count) + " other items" : "") +
                                   "; choose one with --frame INDEX|NAME, or unpack them with -o FOLDER";
        if (args.output == "-") return prog.fail(choose);
        if (!args.output_given) {
            if (!ends_with_ci(args.input, ".qohi") || args.input.size() == 5 ||
                args.input[args.input.size() - 6] == '/') {
                return prog.fail(choose);
            }
            args.output = args.input.substr(0, args.input.size() - 5);
        } else if (!output_is_folder && has_png_extension(args.output)) {
            return prog.fail(choose);
        }
        try {
            return finished(unpack(prog, args, in_name, reader, limits));
        } catch (const std::exception& e) {
            return prog.fail(in_name + ": out of memory (" + e.what() + ")");
        }
    }

    rc = check_output(prog, args);
    if (rc != kContinue) return rc;
    uint32_t index = 0;
    if (have_frame) {
        uint64_t n = 0;
        bool numeric = parse_decimal(frame, n);
        uint32_t named = 0;
        qohi_status found = qohi_reader_find_frame(reader, frame.c_str(), &named);
        if (numeric && n < count) {
            index = static_cast<uint32_t>(n);
            if (found == QOHI_OK && named != index && !args.quiet) {
                prog.say("warning: '" + printable(frame) + "' is taken as frame index " +
                         std::to_string(index) + "; frame " + std::to_string(named) + " has that name");
            }
        } else if (found == QOHI_OK) {
            index = named;
        } else if (found == QOHI_ERROR_NOT_FOUND &&
                   qohi_reader_find_entry(reader, frame.c_str(), &named) == QOHI_OK) {
            return extract_entry(prog, args, in_name, reader, named);
        } else if (found == QOHI_ERROR_NOT_FOUND && numeric) {
            return prog.fail(in_name + ": no frame " + frame + " (the file has " + std::to_string(count) +
                             (count == 1 ? " frame" : " frames") + ", index 0 to " +
                             std::to_string(count - 1) + ")");
        } else if (found == QOHI_ERROR_NOT_FOUND) {
            return prog.fail(in_name + ": no frame named '" + printable(frame) + "'");
        } else {
            return reader_failure("", found);
        }
    }

    qohi_frame_info info{};
    qohi_status st = qohi_reader_frame_info(reader, index, &info);
    if (st != QOHI_OK) return reader_failure("frame " + std::to_string(index) + ": ", st);
    const std::string name = frame_name(info);
    const std::string label = "frame " + std::to_string(index);
    Decoded image;
    std::string warning;
    std::string why = decode_frame(reader, index, info, limits, image, warning);
    if (!why.empty()) return prog.fail(in_name + ": " + label + ": " + why);
    if (!warning.empty() && !args.quiet) prog.say("warning: " + in_name + ": " + label + ": " + warning);

    std::vector<uint8_t> png;
    std::string err;
    if (!to_png(prog, args, label, image, png, err)) return prog.fail(in_name + ": " + err);
    if (!write_file_atomic(args.output, png.data(), png.size(), args.force, err)) return prog.fail(err);
    if (args.verbose) {
        std::fprintf(stderr, "%s: %s: frame %u%s%s%s of %u, %ux%u, %u channels, %llu -> %zu bytes\n",
                     prog.name, in_name.c_str(), index, name.empty() ? "" : " ('", printable(name).c_str(),
                     name.empty() ? "" : "')", count, info.width, info.height, info.channels,
                     static_cast<unsigned long long>(in.size), png.size());
    }
    return exit_ok;
}
