// QOHI coder module for ImageMagick 6: reads every frame of a .qohi file as
// an image list and writes an image list as a multi-frame .qohi file.
//
// ImageMagick loads this module (qohi.so) from its coder path when it meets
// the format name QOHI: a .qohi extension, a "qohi:" prefix, or the QOHI
// signature (through magic.xml). The module only uses libqohi's public C API.
//
// Reading:  frames image_info->scene .. scene + number_scenes - 1 (what
//           "file.qohi[2]" or "[1-3]" asks for), pixels skipped for ping.
//           Each image gets the property "qohi:name" (the frame's name, ""
//           for none) and the frame's ICC, EXIF and XMP as profiles.
// Writing:  every image of the list when adjoin is on (the default), each
//           frame against a reference the library picks among earlier
//           frames; options through -define qohi:KEY=VALUE (see kDefines).
//
// No C++ exception may reach ImageMagick: both entry points catch everything.
#include <magick/MagickCore.h>
#include <qohi/qohi.h>

#include <cstdint>
#include <cstring>
#include <new>
#include <string>
#include <vector>

// Blob I/O is exported by libMagickCore but declared only in the private
// header magick/blob-private.h, which distributions do not install. These
// declarations match ImageMagick 6's.
extern "C" {
enum QohiBlobMode { kReadBinaryBlobMode = 2, kWriteBinaryBlobMode = 4 };
MagickBooleanType OpenBlob(const ImageInfo*, Image*, const QohiBlobMode, ExceptionInfo*);
MagickBooleanType CloseBlob(Image*);
ssize_t ReadBlob(Image*, const size_t, unsigned char*);
ssize_t WriteBlob(Image*, const size_t, const unsigned char*);

ModuleExport size_t RegisterQOHIImage(void);
ModuleExport void UnregisterQOHIImage(void);
}

namespace {

const unsigned char kSignature[8] = {0x89, 'Q', 'O', 'H', 'I', 0x0D, 0x0A, 0x1A};

// ImageMagick keeps EXIF profiles as in JPEG's APP1 segment, after this
// header; QOHI (like PNG's eXIf) stores them from the TIFF header on.
const char kExifHeader[6] = {'E', 'x', 'i', 'f', 0, 0};

// Progress tags ImageMagick's own coders use (defined in private headers).
const char kLoadImagesTag[] = "Load/Images";
const char kSaveImagesTag[] = "Save/Images";

// Name of the property that carries a frame's name, on read and on write.
const char kNameProperty[] = "qohi:name";

// Reports an error or warning in ImageMagick's format, "reason `file'",
// with the caller's source location.
#define QOHI_REPORT(exception, severity, reason, filename)                                               \
    (void)ThrowMagickException((exception), GetMagickModule(), (severity), std::string(reason).c_str(), "`%s'", \
                               (filename))

// Destroys an image list unless released: every early return cleans up.
class ImageListOwner {
public:
    explicit ImageListOwner(Image* image) : image_(image) {}
    ~ImageListOwner() {
        if (image_) (void)DestroyImageList(image_);
    }
    ImageListOwner(const ImageListOwner&) = delete;
    ImageListOwner& operator=(const ImageListOwner&) = delete;
    Image* release() {
        Image* image = image_;
        image_ = nullptr;
        return image;
    }

private:
    Image* image_;
};

struct ReaderCloser {
    qohi_reader* reader = nullptr;
    ~ReaderCloser() {
        if (reader) qohi_reader_close(reader);
    }
};

struct WriterDestroyer {
    qohi_writer* writer = nullptr;
    ~WriterDestroyer() {
        if (writer) qohi_writer_destroy(writer);
    }
};

struct LibraryBuffer {
    void* data = nullptr;
    ~LibraryBuffer() { qohi_free(data); }
};

std::string frame_label(uint32_t index) { return "qohi: frame " + std::to_string(index) + ": "; }

// ------------------------------------------------------------------ reading

// The whole blob: ImageMagick's own memory when it holds the file in memory
// (BlobToImage, or a file it mapped), otherwise a copy read to the end (a
// file, a pipe, standard input).
bool read_whole_blob(Image* image, std::vector<unsigned char>& copy, const unsigned char*& data, size_t& size) {
    const unsigned char* mapped = GetBlobStreamData(image);
    if (mapped) {
        data = mapped;
        size = static_cast<size_t>(GetBlobSize(image));
        return true;
    }
    size_t used = 0;
    copy.resize(64 * 1024);
    for (;;) {
        if (used == copy.size()) copy.resize(copy.size() * 2);
        const ssize_t got = ReadBlob(image, copy.size() - used, copy.data() + used);
        if (got < 0) return false;
        if (got == 0) break;
        used += static_cast<size_t>(got);
    }
    copy.resize(used);
    data = copy.data();
    size = used;
    return true;
}

// Attaches a frame's ICC, EXIF and XMP to `image` as profiles "icc", "exif",
// "xmp"; text items become properties named by their keywords.
void attach_metadata(qohi_reader* reader, uint32_t index, Image* image) {
    const qohi_metadata* items = nullptr;
    size_t count = 0;
    if (qohi_reader_frame_metadata(reader, index, &items, &count) != QOHI_OK) {
        // The pixels are still good: the metadata is dropped with a warning.
        QOHI_REPORT(&image->exception, CoderWarning, frame_label(index) + "metadata dropped: " +
                                                    qohi_reader_message(reader), image->filename);
        return;
    }
    for (size_t i = 0; i < count; ++i) {
        const qohi_metadata& item = items[i];
        const char* profile = item.kind == QOHI_METADATA_ICC    ? "icc"
                              : item.kind == QOHI_METADATA_EXIF ? "exif"
                              : item.kind == QOHI_METADATA_XMP  ? "xmp"
                                                                : nullptr;
        if (profile) {
            const size_t prefix = item.kind == QOHI_METADATA_EXIF ? sizeof kExifHeader : 0;
            StringInfo* info = AcquireStringInfo(prefix + item.size);
            unsigned char* datum = GetStringInfoDatum(info);
            if (prefix) std::memcpy(datum, kExifHeader, prefix);
            if (item.size) std::memcpy(datum + prefix, item.data, item.size);
            (void)SetImageProfile(image, profile, info);
            info = DestroyStringInfo(info);
        } else if (item.kind == QOHI_METADATA_TEXT && item.key && item.key[0]) {
            const std::string text(static_cast<const char*>(item.data), item.size);
            (void)SetImageProperty(image, item.key, text.c_str());
        }
    }
}

Image* read_qohi(const ImageInfo* image_info, ExceptionInfo* exception) {
    Image* image = AcquireImage(image_info);
    ImageListOwner owner(image);  // holds the head of the list
    if (OpenBlob(image_info, image, kReadBinaryBlobMode, exception) == MagickFalse) return nullptr;

    std::vector<unsigned char> copy;
    const unsigned char* data = nullptr;
    size_t size = 0;
    if (!read_whole_blob(image, copy, data, size)) {
        QOHI_REPORT(exception, CorruptImageError, "qohi: cannot read the file", image_info->filename);
        return nullptr;
    }
    static const unsigned char kEmpty[1] = {0};  // the library wants a valid pointer, even for 0 bytes
    ReaderCloser rd;
    qohi_error err{};
    const qohi_status opened = qohi_reader_open_memory(size ? data : kEmpty, size, nullptr, &rd.reader, &err);
    if (opened != QOHI_OK) {
        const ExceptionType severity = opened == QOHI_ERROR_OUT_OF_MEMORY ? ResourceLimitError : CorruptImageError;
        QOHI_REPORT(exception, severity, std::string("qohi: ") + err.message, image_info->filename);
        return nullptr;
    }

    const uint32_t count = qohi_reader_frame_count(rd.reader);
    if (count == 0) {
        QOHI_REPORT(exception, CorruptImageError, "qohi: the file holds no frames", image_info->filename);
        return nullptr;
    }
    const size_t first = image_info->scene;
    if (first >= count) {
        QOHI_REPORT(exception, OptionError,
               "qohi: no frame " + std::to_string(first) + " (the file has " + std::to_string(count) + ")",
               image_info->filename);
        return nullptr;
    }
    size_t end = count;
    if (image_info->number_scenes != 0 && image_info->number_scenes < count - first) {
        end = first + image_info->number_scenes;
    }

    // With a subimage specification ("file.qohi[1-3]"), ReadImage later
    // picks the images it names by their position in the returned list, so
    // the frames before the first one asked for are stood in for by empty
    // images (never decoded), as ImageMagick's TIFF coder does. Without one
    // (Magick++'s subImage), only the frames asked for are returned.
    const bool positions_picked = image_info->scenes != nullptr && *image_info->scenes != '\0';
    bool head_used = false;
    auto next_image = [&]() -> bool {
        if (!head_used) {
            head_used = true;
            return true;
        }
        AcquireNextImage(image_info, image);
        if (GetNextImageInList(image) == nullptr) {
            QOHI_REPORT(exception, ResourceLimitError, "qohi: out of memory", image_info->filename);
            return false;
        }
        image = SyncNextImageInList(image);
        return true;
    };
    for (size_t index = 0; positions_picked && index < first; ++index) {
        if (!next_image()) return nullptr;
        image->scene = index;
    }

    std::vector<unsigned char> pixels;
    for (size_t index = first; index < end; ++index) {
        const uint32_t frame = static_cast<uint32_t>(index);
        if (!next_image()) return nullptr;
        qohi_frame_info info{};
        if (qohi_reader_frame_info(rd.reader, frame, &info) != QOHI_OK) {
            QOHI_REPORT(exception, CorruptImageError, frame_label(frame) + qohi_reader_message(rd.reader),
                   image_info->filename);
            return nullptr;
        }
        image->columns = info.width;
        image->rows = info.height;
        image->depth = 8;
        image->matte = info.channels == 4 ? MagickTrue : MagickFalse;
        image->scene = index;
        (void)SetImageProperty(image, kNameProperty, std::string(info.name, info.name_size).c_str());
        attach_metadata(rd.reader, frame, image);
        if (image_info->ping != MagickFalse) continue;

        // libqohi's pixel limit, then ImageMagick's own width/height limits
        // (policy.xml, applied by SetImageExtent), before anything large is
        // allocated.
        if (uint64_t{info.width} * info.height > QOHI_DEFAULT_MAX_PIXELS) {
            QOHI_REPORT(exception, ResourceLimitError,
                        frame_label(frame) + "frame exceeds the pixel limit of " +
                            std::to_string(QOHI_DEFAULT_MAX_PIXELS),
                        image_info->filename);
            return nullptr;
        }
        if (SetImageExtent(image, info.width, info.height) == MagickFalse) {
            InheritException(exception, &image->exception);
            return nullptr;
        }
        // Always RGBA (alpha 255 for RGB frames): ImageMagick's pixel cache
        // is not cleared, and an RGB import would leave the opacity channel
        // of an opaque image holding whatever the memory held before.
        pixels.resize(size_t{info.width} * info.height * 4);
        const qohi_status decoded = qohi_reader_decode_frame(rd.reader, frame, pixels.data(), pixels.size(), 0, 4);
        if (decoded != QOHI_OK) {
            const ExceptionType severity = decoded == QOHI_ERROR_UNSUPPORTED ? CoderError
                                           : decoded == QOHI_ERROR_OUT_OF_MEMORY || decoded == QOHI_ERROR_LIMIT
                                               ? ResourceLimitError
                                               : CorruptImageError;
            QOHI_REPORT(exception, severity, frame_label(frame) + qohi_reader_message(rd.reader), image_info->filename);
            return nullptr;
        }
        if (ImportImagePixels(image, 0, 0, info.width, info.height, "RGBA", CharPixel, pixels.data()) ==
            MagickFalse) {
            InheritException(exception, &image->exception);
            return nullptr;
        }
        if (SetImageProgress(image, kLoadImagesTag, static_cast<MagickOffsetType>(index - first),
                             static_cast<MagickSizeType>(end - first)) == MagickFalse) {
            break;
        }
    }
    (void)CloseBlob(image);
    owner.release();
    return GetFirstImageInList(image);
}

Image* ReadQOHIImage(const ImageInfo* image_info, ExceptionInfo* exception) {
    try {
        return read_qohi(image_info, exception);
    } catch (const std::bad_alloc&) {
        QOHI_REPORT(exception, ResourceLimitError, "qohi: out of memory", image_info->filename);
    } catch (...) {
        QOHI_REPORT(exception, CoderError, "qohi: internal error", image_info->filename);
    }
    return nullptr;
}

// ------------------------------------------------------------------ writing

// The encoder options, from -define qohi:KEY=VALUE (parse_settings).
struct WriteSettings {
    qohi_write_options options;
    bool deltas = true;  // multi-frame files: frames refer to earlier ones
};

bool parse_count(const char* text, uint64_t max, uint64_t& out) {
    if (!text || !*text) return false;
    uint64_t value = 0;
    for (const char* p = text; *p; ++p) {
        if (*p < '0' || *p > '9') return false;
        value = value * 10 + static_cast<uint64_t>(*p - '0');
        if (value > max) return false;
    }
    out = value;
    return true;
}

// The defines the coder understands, for the error message.
const char kDefines[] =
    "qohi:effort=0|1, qohi:method=auto|stored|qohi|dici, qohi:reference=auto|none, "
    "qohi:max-depth=N, qohi:band-rows=N";

// Reads the defines into `settings`. Returns "" or what is wrong.
std::string parse_settings(const ImageInfo* image_info, WriteSettings& settings) {
    qohi_write_options_init(&settings.options);
    uint64_t number = 0;
    if (const char* v = GetImageOption(image_info, "qohi:effort")) {
        if (!parse_count(v, 1, number)) return std::string("qohi:effort must be 0 or 1, not '") + v + "'";
        settings.options.effort = static_cast<int>(number);
    }
    if (const char* v = GetImageOption(image_info, "qohi:method")) {
        if (LocaleCompare(v, "auto") == 0) {
            settings.options.method = QOHI_CHOOSE_AUTO;
        } else if (LocaleCompare(v, "stored") == 0) {
            settings.options.method = QOHI_CHOOSE_STORED;
        } else if (LocaleCompare(v, "qohi") == 0) {
            settings.options.method = QOHI_CHOOSE_QOHI;
        } else if (LocaleCompare(v, "dici") == 0) {
            settings.options.method = QOHI_CHOOSE_DICI;
        } else {
            return std::string("qohi:method must be auto, stored, qohi or dici, not '") + v + "'";
        }
    }
    if (const char* v = GetImageOption(image_info, "qohi:reference")) {
        if (LocaleCompare(v, "auto") == 0) {
            settings.deltas = true;
        } else if (LocaleCompare(v, "none") == 0) {
            settings.deltas = false;
        } else {
            return std::string("qohi:reference must be auto or none, not '") + v + "'";
        }
    }
    if (const char* v = GetImageOption(image_info, "qohi:max-depth")) {
        if (!parse_count(v, 65535, number) || number == 0) {
            return std::string("qohi:max-depth must be 1 to 65535, not '") + v + "'";
        }
        settings.options.max_depth = static_cast<uint32_t>(number);
    }
    if (const char* v = GetImageOption(image_info, "qohi:band-rows")) {
        if (!parse_count(v, UINT32_MAX, number)) {
            return std::string("qohi:band-rows must be a row count (0: one band), not '") + v + "'";
        }
        settings.options.band_rows = static_cast<uint32_t>(number);
    }
    return std::string();
}

// The frame's name: its "qohi:name" property when it has one (a frame read
// from a .qohi file, or -set qohi:name), else the base name of the file it
// was read from. A name already used in the file is dropped: names must be
// unique.
std::string frame_name(const Image* image, const std::vector<std::string>& used) {
    std::string name;
    if (const char* property = GetImageProperty(image, kNameProperty)) {
        name = property;
    } else {
        const std::string source = image->magick_filename;
        const size_t slash = source.find_last_of('/');
        name = slash == std::string::npos ? source : source.substr(slash + 1);
        // Standard input and generated images ("rose:", "xc:red") have no file name.
        if (name == "-" || name.find(':') != std::string::npos) name.clear();
    }
    for (const std::string& other : used) {
        if (!name.empty() && other == name) return std::string();
    }
    return name;
}

// Profiles that become frame metadata. Held here so that the pointers given
// to the library stay valid until the frame is added.
struct FrameMetadata {
    std::vector<qohi_metadata> items;
};

void collect_metadata(const Image* image, FrameMetadata& out) {
    if (const StringInfo* icc = GetImageProfile(image, "icc")) {
        if (GetStringInfoLength(icc) > 0) {
            out.items.push_back({QOHI_METADATA_ICC, "ICC profile", GetStringInfoDatum(icc), GetStringInfoLength(icc)});
        }
    }
    if (const StringInfo* exif = GetImageProfile(image, "exif")) {
        const unsigned char* data = GetStringInfoDatum(exif);
        size_t size = GetStringInfoLength(exif);
        if (size >= sizeof kExifHeader && std::memcmp(data, kExifHeader, sizeof kExifHeader) == 0) {
            data += sizeof kExifHeader;
            size -= sizeof kExifHeader;
        }
        // Only EXIF that starts with a TIFF header can be stored.
        if (size >= 4 && (std::memcmp(data, "II*\0", 4) == 0 || std::memcmp(data, "MM\0*", 4) == 0)) {
            out.items.push_back({QOHI_METADATA_EXIF, nullptr, data, size});
        }
    }
    if (const StringInfo* xmp = GetImageProfile(image, "xmp")) {
        if (GetStringInfoLength(xmp) > 0) {
            out.items.push_back({QOHI_METADATA_XMP, nullptr, GetStringInfoDatum(xmp), GetStringInfoLength(xmp)});
        }
    }
}

MagickBooleanType write_qohi(const ImageInfo* image_info, Image* image) {
    WriteSettings settings;
    const std::string bad_define = parse_settings(image_info, settings);
    if (!bad_define.empty()) {
        QOHI_REPORT(&image->exception, OptionError, bad_define + " (known: " + kDefines + ")", image->filename);
        return MagickFalse;
    }
    const bool adjoin = image_info->adjoin != MagickFalse;
    const size_t frames = adjoin ? GetImageListLength(image) : 1;

    WriterDestroyer wd;
    qohi_error err{};
    if (qohi_writer_open_memory(&settings.options, &wd.writer, &err) != QOHI_OK) {
        QOHI_REPORT(&image->exception, CoderError, std::string("qohi: ") + err.message, image->filename);
        return MagickFalse;
    }

    std::vector<std::string> names;
    std::vector<unsigned char> pixels;
    bool warned_depth = false;
    Image* frame = image;
    for (size_t index = 0; index < frames && frame; ++index, frame = GetNextImageInList(frame)) {
        if (frame->columns == 0 || frame->rows == 0 || frame->columns > UINT32_MAX || frame->rows > UINT32_MAX) {
            QOHI_REPORT(&image->exception, ImageError, frame_label(static_cast<uint32_t>(index)) + "unsupported size",
                   image->filename);
            return MagickFalse;
        }
        // QOHI stores 8-bit sRGB samples.
        if (TransformImageColorspace(frame, sRGBColorspace) == MagickFalse) {
            InheritException(&image->exception, &frame->exception);
            return MagickFalse;
        }
        if (frame->depth > 8 && !warned_depth) {
            QOHI_REPORT(&image->exception, CoderWarning, "qohi: samples reduced to 8 bits", image->filename);
            warned_depth = true;
        }
        const uint32_t width = static_cast<uint32_t>(frame->columns);
        const uint32_t height = static_cast<uint32_t>(frame->rows);
        const uint32_t channels = frame->matte != MagickFalse ? 4 : 3;
        pixels.resize(size_t{width} * height * channels);
        if (ExportImagePixels(frame, 0, 0, width, height, channels == 4 ? "RGBA" : "RGB", CharPixel, pixels.data(),
                              &image->exception) == MagickFalse) {
            return MagickFalse;
        }
        names.push_back(frame_name(frame, names));
        FrameMetadata metadata;
        collect_metadata(frame, metadata);

        qohi_frame_options fopt;
        qohi_frame_options_init(&fopt);
        fopt.name = names.back().c_str();
        fopt.reference = settings.deltas && frames > 1 ? QOHI_REFERENCE_AUTO : QOHI_REFERENCE_NONE;
        fopt.metadata = metadata.items.data();
        fopt.metadata_count = metadata.items.size();
        if (qohi_writer_add_frame_with(wd.writer, pixels.data(), width, height, channels, 0, &fopt) != QOHI_OK) {
            QOHI_REPORT(&image->exception, CoderError,
                   frame_label(static_cast<uint32_t>(index)) + qohi_writer_message(wd.writer), image->filename);
            return MagickFalse;
        }
        if (SetImageProgress(frame, kSaveImagesTag, static_cast<MagickOffsetType>(index),
                             static_cast<MagickSizeType>(frames)) == MagickFalse) {
            return MagickFalse;
        }
    }

    // The whole file is made in memory and only then written out, so a
    // failure while encoding never leaves a partial file behind.
    LibraryBuffer file;
    size_t file_size = 0;
    if (qohi_writer_finish(wd.writer, &file.data, &file_size) != QOHI_OK) {
        QOHI_REPORT(&image->exception, CoderError, std::string("qohi: ") + qohi_writer_message(wd.writer),
               image->filename);
        return MagickFalse;
    }
    if (OpenBlob(image_info, image, kWriteBinaryBlobMode, &image->exception) == MagickFalse) return MagickFalse;
    const unsigned char* bytes = static_cast<const unsigned char*>(file.data);
    size_t written = 0;
    while (written < file_size) {
        const size_t chunk = file_size - written < (size_t{1} << 30) ? file_size - written : (size_t{1} << 30);
        const ssize_t n = WriteBlob(image, chunk, bytes + written);
        if (n <= 0) break;
        written += static_cast<size_t>(n);
    }
    // CloseBlob's return value changed meaning between releases; the blob's
    // error flag (which closing also sets) is what tells a failed write.
    (void)CloseBlob(image);
    if (written != file_size || GetBlobError(image) != MagickFalse) {
        QOHI_REPORT(&image->exception, FileOpenError, "qohi: cannot write the file", image->filename);
        return MagickFalse;
    }
    return MagickTrue;
}

MagickBooleanType WriteQOHIImage(const ImageInfo* image_info, Image* image) {
    try {
        return write_qohi(image_info, image);
    } catch (const std::bad_alloc&) {
        QOHI_REPORT(&image->exception, ResourceLimitError, "qohi: out of memory", image->filename);
    } catch (...) {
        QOHI_REPORT(&image->exception, CoderError, "qohi: internal error", image->filename);
    }
    return MagickFalse;
}

MagickBooleanType IsQOHI(const unsigned char* magick, const size_t length) {
    return length >= sizeof kSignature && std::memcmp(magick, kSignature, sizeof kSignature) == 0 ? MagickTrue
                                                                                                  : MagickFalse;
}

}  // namespace

ModuleExport size_t RegisterQOHIImage(void) {
    MagickInfo* entry = SetMagickInfo("QOHI");
    entry->decoder = ReadQOHIImage;
    entry->encoder = WriteQOHIImage;
    entry->magick = IsQOHI;
    entry->adjoin = MagickTrue;
    entry->blob_support = MagickTrue;
    entry->description = ConstantString("QOHI lossless image collection");
    entry->version = ConstantString(qohi_version_string());
    entry->mime_type = ConstantString("image/x-qohi");
    entry->magick_module = ConstantString("QOHI");
    (void)RegisterMagickInfo(entry);
    return MagickImageCoderSignature;
}

ModuleExport void UnregisterQOHIImage(void) { (void)UnregisterMagickInfo("QOHI"); }
