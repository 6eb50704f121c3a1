// The QOHI coder module through Magick++, ImageMagick's C++ API, as an
// application would use it: from a file name and from a Blob in memory.
//   qohi_magickpp_test CASE SINGLE.qohi MULTI.qohi
// SINGLE.qohi has one frame, MULTI.qohi several; both were made by qohienc.
// Pixels are checked against libqohi's own decode of the same bytes.
// MAGICK_CODER_MODULE_PATH / MAGICK_CONFIGURE_PATH must point at the module.
#include <Magick++.h>
#include <qohi/qohi.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <list>
#include <string>
#include <utility>
#include <vector>

namespace {

int failures = 0;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            ++failures;                                                              \
        }                                                                            \
    } while (0)

std::string read_bytes(const char* path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Frame `index` of an in-memory .qohi file as RGBA, decoded by libqohi.
struct Rgba {
    uint32_t width = 0, height = 0;
    std::vector<uint8_t> pixels;
};

Rgba library_frame(const std::string& file, uint32_t index) {
    Rgba out;
    qohi_reader* reader = nullptr;
    if (qohi_reader_open_memory(file.data(), file.size(), nullptr, &reader, nullptr) != QOHI_OK) return out;
    qohi_frame_info info{};
    if (qohi_reader_frame_info(reader, index, &info) == QOHI_OK) {
        out.width = info.width;
        out.height = info.height;
        out.pixels.resize(size_t{info.width} * info.height * 4);
        if (qohi_reader_decode_frame(reader, index, out.pixels.data(), out.pixels.size(), 0, 4) != QOHI_OK) {
            out.pixels.clear();
        }
    }
    qohi_reader_close(reader);
    return out;
}

uint32_t library_frame_count(const std::string& file) {
    qohi_reader* reader = nullptr;
    if (qohi_reader_open_memory(file.data(), file.size(), nullptr, &reader, nullptr) != QOHI_OK) return 0;
    const uint32_t count = qohi_reader_frame_count(reader);
    qohi_reader_close(reader);
    return count;
}

Rgba magick_pixels(Magick::Image image) {  // write() is not const
    Rgba out;
    out.width = static_cast<uint32_t>(image.columns());
    out.height = static_cast<uint32_t>(image.rows());
    out.pixels.resize(size_t{out.width} * out.height * 4);
    image.write(0, 0, out.width, out.height, "RGBA", Magick::CharPixel, out.pixels.data());
    return out;
}

bool same(const Rgba& a, const Rgba& b) {
    if (a.width != b.width || a.height != b.height || a.pixels.empty() || a.pixels.size() != b.pixels.size()) {
        std::fprintf(stderr, "size %ux%u (%zu bytes) vs %ux%u (%zu bytes)\n", a.width, a.height, a.pixels.size(),
                     b.width, b.height, b.pixels.size());
        return false;
    }
    for (size_t i = 0; i < a.pixels.size(); ++i) {
        if (a.pixels[i] != b.pixels[i]) {
            std::fprintf(stderr, "first difference at byte %zu (pixel %zu): %u vs %u\n", i, i / 4, a.pixels[i],
                         b.pixels[i]);
            return false;
        }
    }
    return true;
}

// Reading a single frame by file name and from a Blob, with and without
// naming the format (the Blob case then relies on the signature).
void case_read(const char* single_path) {
    const std::string file = read_bytes(single_path);
    const Rgba expected = library_frame(file, 0);
    CHECK(!expected.pixels.empty());

    Magick::Image from_file;
    from_file.read(single_path);
    CHECK(from_file.magick() == "QOHI");
    CHECK(same(magick_pixels(from_file), expected));

    Magick::Blob blob(file.data(), file.size());
    Magick::Image from_blob;
    from_blob.magick("QOHI");
    from_blob.read(blob);
    CHECK(same(magick_pixels(from_blob), expected));

    Magick::Image detected;
    detected.read(blob);  // no format given
    CHECK(detected.magick() == "QOHI");
    CHECK(same(magick_pixels(detected), expected));

    Magick::Image pinged;
    pinged.ping(blob);
    CHECK(pinged.columns() == expected.width && pinged.rows() == expected.height);
}

// Every frame of a multi-frame file, as a list, from a file and a Blob; and
// one frame selected by subImage.
void case_read_multi(const char* multi_path) {
    const std::string file = read_bytes(multi_path);
    const uint32_t count = library_frame_count(file);
    CHECK(count > 1);

    std::list<Magick::Image> from_file;
    Magick::readImages(&from_file, multi_path);
    CHECK(from_file.size() == count);
    std::list<Magick::Image> from_blob;
    Magick::readImages(&from_blob, Magick::Blob(file.data(), file.size()));
    CHECK(from_blob.size() == count);
    uint32_t index = 0;
    for (auto a = from_file.begin(), b = from_blob.begin(); a != from_file.end() && b != from_blob.end();
         ++a, ++b, ++index) {
        const Rgba expected = library_frame(file, index);
        CHECK(same(magick_pixels(*a), expected));
        CHECK(same(magick_pixels(*b), expected));
    }

    Magick::Image second;
    second.subImage(1);
    second.subRange(1);
    second.read(Magick::Blob(file.data(), file.size()));
    CHECK(same(magick_pixels(second), library_frame(file, 1)));
}

// Writing to a Blob: one image, then a list, read back by libqohi.
void case_write(const char* single_path, const char* multi_path) {
    Magick::Image image;
    image.read(single_path);
    Magick::Blob out;
    image.magick("QOHI");
    image.write(&out);
    const std::string written(static_cast<const char*>(out.data()), out.length());
    CHECK(library_frame_count(written) == 1);
    CHECK(same(library_frame(written, 0), magick_pixels(image)));

    std::list<Magick::Image> frames;
    Magick::readImages(&frames, multi_path);
    Magick::Blob list_out;
    for (auto& frame : frames) frame.magick("QOHI");
    Magick::writeImages(frames.begin(), frames.end(), &list_out, true);
    const std::string list_written(static_cast<const char*>(list_out.data()), list_out.length());
    CHECK(library_frame_count(list_written) == frames.size());
    uint32_t index = 0;
    for (const auto& frame : frames) CHECK(same(library_frame(list_written, index++), magick_pixels(frame)));
}

// Damaged Blobs raise a Magick++ error with the library's reason.
void case_errors(const char* single_path) {
    const std::string file = read_bytes(single_path);
    std::string corrupt = file;
    corrupt[corrupt.size() / 2] = static_cast<char>(~corrupt[corrupt.size() / 2]);
    const std::string truncated = file.substr(0, file.size() * 2 / 3);
    for (const std::string* bad : std::vector<const std::string*>{&corrupt, &truncated}) {
        bool threw = false;
        try {
            Magick::Image image;
            image.magick("QOHI");
            image.read(Magick::Blob(bad->data(), bad->size()));
        } catch (const Magick::Error& e) {
            threw = std::strstr(e.what(), "qohi: ") != nullptr;
            if (!threw) std::fprintf(stderr, "unexpected message: %s\n", e.what());
        }
        CHECK(threw);
    }
}

// ICC, EXIF and XMP profiles become frame metadata and come back as the
// same profiles (EXIF without ImageMagick's "Exif\0\0" prefix in the file).
void case_metadata(const char* single_path) {
    // A minimal ICC header: size, 'acsp' signature; ImageMagick only stores it.
    std::string icc(128, '\0');
    icc[3] = static_cast<char>(128);
    icc.replace(12, 4, "mntr");
    icc.replace(16, 4, "RGB ");
    icc.replace(36, 4, "acsp");
    const std::string tiff("MM\0*\0\0\0\x08\0\0", 10);
    const std::string exif = std::string("Exif\0\0", 6) + tiff;
    const std::string xmp =
        "<?xpacket begin='' id='W5M0MpCehiHzreSzNTczkc9d'?><x:xmpmeta xmlns:x='adobe:ns:meta/'>"
        "<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'/></x:xmpmeta><?xpacket end='w'?>";

    Magick::Image image;
    image.read(single_path);
    // Magick++'s profile() would colour-convert the pixels with the ICC
    // profile: attach the bytes as they are, as a coder does.
    image.modifyImage();
    const std::vector<std::pair<const char*, const std::string*>> profiles = {{"icc", &icc}, {"exif", &exif}, {"xmp", &xmp}};
    for (const auto& named : profiles) {
        MagickCore::StringInfo* info = MagickCore::BlobToStringInfo(named.second->data(), named.second->size());
        CHECK(MagickCore::SetImageProfile(image.image(), named.first, info) == MagickCore::MagickTrue);
        MagickCore::DestroyStringInfo(info);
    }
    image.magick("QOHI");
    Magick::Blob out;
    image.write(&out);

    qohi_reader* reader = nullptr;
    CHECK(qohi_reader_open_memory(out.data(), out.length(), nullptr, &reader, nullptr) == QOHI_OK);
    if (!reader) return;
    const qohi_metadata* items = nullptr;
    size_t count = 0;
    CHECK(qohi_reader_frame_metadata(reader, 0, &items, &count) == QOHI_OK);
    std::string got_icc, got_exif, got_xmp;
    for (size_t i = 0; i < count; ++i) {
        const std::string data(static_cast<const char*>(items[i].data), items[i].size);
        if (items[i].kind == QOHI_METADATA_ICC) got_icc = data;
        if (items[i].kind == QOHI_METADATA_EXIF) got_exif = data;
        if (items[i].kind == QOHI_METADATA_XMP) got_xmp = data;
    }
    qohi_reader_close(reader);
    CHECK(got_icc == icc);
    CHECK(got_exif == tiff);
    CHECK(got_xmp == xmp);

    Magick::Image back;
    back.read(out);
    auto profile = [&back](const char* name) {
        const Magick::Blob blob = back.profile(name);
        return std::string(static_cast<const char*>(blob.data()), blob.length());
    };
    CHECK(profile("icc") == icc);
    CHECK(profile("exif") == exif);
    CHECK(profile("xmp") == xmp);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: qohi_magickpp_test read|read_multi|write|metadata|errors SINGLE.qohi MULTI.qohi\n");
        return 2;
    }
    Magick::InitializeMagick(argv[0]);
    const std::string which = argv[1];
    try {
        if (which == "read") {
            case_read(argv[2]);
        } else if (which == "read_multi") {
            case_read_multi(argv[3]);
        } else if (which == "write") {
            case_write(argv[2], argv[3]);
        } else if (which == "metadata") {
            case_metadata(argv[2]);
        } else if (which == "errors") {
            case_errors(argv[2]);
        } else {
            std::fprintf(stderr, "unknown case %s\n", argv[1]);
            return 2;
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "unexpected exception: %s\n", e.what());
        return 1;
    }
    if (failures) std::fprintf(stderr, "%d check(s) failed\n", failures);
    return failures ? 1 : 0;
}
