// file-qohi: GIMP 2.10 file plug-in for .qohi files.
//
//   file-qohi-load  every frame becomes a layer named after the frame (or
//                   "frame_N" when it has no name), first frame at the bottom
//                   as GIMP does for animations; the canvas is as large as
//                   the largest frame. The first frame's ICC profile becomes
//                   the image's.
//   file-qohi-save  the given layer as one frame, or every layer as a frame
//                   (bottom layer first, named after the layers), frames
//                   coded against similar earlier ones.
//
// Registered by extension, MIME type (image/x-qohi) and signature. Only
// libqohi's public C API is used; no C++ exception leaves run().
#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>
#include <qohi/qohi.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <string>
#include <vector>

namespace {

const char kLoadProc[] = "file-qohi-load";
const char kSaveProc[] = "file-qohi-save";
const char kPlugInBinary[] = "file-qohi";
const char kMimeType[] = "image/x-qohi";
// "offset,type,value": the 8-byte signature 89 'QOHI' CR LF SUB.
const char kMagic[] = "0,string,\211QOHI\r\n\032";

// Settings of file-qohi-save kept between interactive runs.
struct SaveSettings {
    gint32 all_layers;  // nonzero: every layer a frame
    gint32 effort;      // 0 or 1, as qohienc --effort
};

// libgimp's parameter tables take non-const strings it never modifies.
GimpParamDef param(GimpPDBArgType type, const char* name, const char* description) {
    return GimpParamDef{type, const_cast<gchar*>(name), const_cast<gchar*>(description)};
}

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

void query() {
    const GimpParamDef load_args[] = {
        param(GIMP_PDB_INT32, "run-mode", "The run mode { RUN-INTERACTIVE (0), RUN-NONINTERACTIVE (1) }"),
        param(GIMP_PDB_STRING, "filename", "The name of the file to load"),
        param(GIMP_PDB_STRING, "raw-filename", "The name entered"),
    };
    const GimpParamDef load_returns[] = {
        param(GIMP_PDB_IMAGE, "image", "Output image"),
    };
    gimp_install_procedure(kLoadProc, "Loads QOHI images and collections",
                           "Every frame of the file becomes a layer named after the frame, the first frame at "
                           "the bottom.",
                           "QOHI project", "QOHI project", "2025", "QOHI image", nullptr, GIMP_PLUGIN,
                           G_N_ELEMENTS(load_args), G_N_ELEMENTS(load_returns), load_args, load_returns);
    gimp_register_file_handler_mime(kLoadProc, kMimeType);
    gimp_register_magic_load_handler(kLoadProc, "qohi", "", kMagic);

    const GimpParamDef save_args[] = {
        param(GIMP_PDB_INT32, "run-mode", "The run mode { RUN-INTERACTIVE (0), RUN-NONINTERACTIVE (1) }"),
        param(GIMP_PDB_IMAGE, "image", "Input image"),
        param(GIMP_PDB_DRAWABLE, "drawable", "Drawable to save (when not saving all layers)"),
        param(GIMP_PDB_STRING, "filename", "The name of the file to save the image in"),
        param(GIMP_PDB_STRING, "raw-filename", "The name entered"),
        param(GIMP_PDB_INT32, "all-layers",
              "0: save the drawable as one frame; 1: save every layer as a frame, bottom layer first"),
        param(GIMP_PDB_INT32, "effort", "0: fast; 1: smaller files, slower encoding"),
    };
    gimp_install_procedure(kSaveProc, "Saves QOHI images and collections",
                           "Saves one layer as a single-frame file, or every layer as a frame of one file "
                           "(frames are coded against similar earlier frames).",
                           "QOHI project", "QOHI project", "2025", "QOHI image", "RGB*, GRAY*, INDEXED*",
                           GIMP_PLUGIN, G_N_ELEMENTS(save_args), 0, save_args, nullptr);
    gimp_register_file_handler_mime(kSaveProc, kMimeType);
    gimp_register_save_handler(kSaveProc, "qohi", "");
}

// ------------------------------------------------------------------ loading

// Loads `filename` into a new image. Returns -1 with `error` set on failure.
gint32 load_image(const char* filename, std::string& error) {
    ReaderCloser rd;
    qohi_error err{};
    if (qohi_reader_open_file(filename, nullptr, &rd.reader, &err) != QOHI_OK) {
        error = err.message;
        return -1;
    }
    const uint32_t count = qohi_reader_frame_count(rd.reader);
    if (count == 0) {
        error = std::string(filename) + ": the file holds no frames";
        return -1;
    }
    std::vector<qohi_frame_info> infos(count);
    uint32_t canvas_width = 0, canvas_height = 0;
    for (uint32_t i = 0; i < count; ++i) {
        if (qohi_reader_frame_info(rd.reader, i, &infos[i]) != QOHI_OK) {
            error = std::string(filename) + ": frame " + std::to_string(i) + ": " + qohi_reader_message(rd.reader);
            return -1;
        }
        // Refused before GIMP allocates the image (libqohi would refuse it
        // only when asked to decode into it).
        if (uint64_t{infos[i].width} * infos[i].height > QOHI_DEFAULT_MAX_PIXELS) {
            error = std::string(filename) + ": frame " + std::to_string(i) + ": " + std::to_string(infos[i].width) +
                    "x" + std::to_string(infos[i].height) + " exceeds the pixel limit of " +
                    std::to_string(QOHI_DEFAULT_MAX_PIXELS);
            return -1;
        }
        canvas_width = std::max(canvas_width, infos[i].width);
        canvas_height = std::max(canvas_height, infos[i].height);
    }
    if (canvas_width > GIMP_MAX_IMAGE_SIZE || canvas_height > GIMP_MAX_IMAGE_SIZE) {
        error = std::string(filename) + ": frames larger than GIMP's largest image";
        return -1;
    }

    gimp_progress_init_printf("Opening '%s'", gimp_filename_to_utf8(filename));
    const gint32 image = gimp_image_new(static_cast<gint>(canvas_width), static_cast<gint>(canvas_height), GIMP_RGB);
    gimp_image_set_filename(image, filename);
    std::vector<uint8_t> pixels;
    for (uint32_t i = 0; i < count; ++i) {
        const qohi_frame_info& info = infos[i];
        const uint32_t channels = info.channels == 4 ? 4 : 3;
        pixels.resize(size_t{info.width} * info.height * channels);
        if (qohi_reader_decode_frame(rd.reader, i, pixels.data(), pixels.size(), 0, info.channels) != QOHI_OK) {
            error = std::string(filename) + ": frame " + std::to_string(i) + ": " + qohi_reader_message(rd.reader);
            gimp_image_delete(image);
            return -1;
        }
        // Layer names are UTF-8, as frame names are.
        std::string name(info.name, info.name_size);
        if (name.empty() || !g_utf8_validate(name.c_str(), static_cast<gssize>(name.size()), nullptr)) {
            name = "frame_" + std::to_string(i);
        }
        const gint32 layer =
            gimp_layer_new(image, name.c_str(), static_cast<gint>(info.width), static_cast<gint>(info.height),
                           channels == 4 ? GIMP_RGBA_IMAGE : GIMP_RGB_IMAGE, 100.0, GIMP_LAYER_MODE_NORMAL);
        // Position 0 is the top: each later frame goes above the earlier ones.
        gimp_image_insert_layer(image, layer, 0, 0);
        GeglBuffer* buffer = gimp_drawable_get_buffer(layer);
        gegl_buffer_set(buffer, GEGL_RECTANGLE(0, 0, static_cast<gint>(info.width), static_cast<gint>(info.height)),
                        0, babl_format(channels == 4 ? "R'G'B'A u8" : "R'G'B' u8"), pixels.data(),
                        GEGL_AUTO_ROWSTRIDE);
        g_object_unref(buffer);

        if (i == 0) {
            const qohi_metadata* items = nullptr;
            size_t n = 0;
            if (qohi_reader_frame_metadata(rd.reader, 0, &items, &n) == QOHI_OK) {
                for (size_t k = 0; k < n; ++k) {
                    if (items[k].kind != QOHI_METADATA_ICC) continue;
                    // A profile GIMP cannot use is left out; the pixels are fine.
                    GimpColorProfile* profile = gimp_color_profile_new_from_icc_profile(
                        static_cast<const guint8*>(items[k].data), items[k].size, nullptr);
                    if (profile) {
                        gimp_image_set_color_profile(image, profile);
                        g_object_unref(profile);
                    }
                }
            }
        }
        gimp_progress_update(static_cast<double>(i + 1) / count);
    }
    gimp_progress_update(1.0);
    return image;
}

// ------------------------------------------------------------------ saving

struct Frame {
    gint32 drawable;
    std::string name;
};

// Saves `frames` to `filename` (through a temporary file that replaces it
// only when complete). Returns false with `error` set on failure.
bool save_frames(const char* filename, gint32 image, const std::vector<Frame>& frames, const SaveSettings& settings,
                 std::string& error) {
    qohi_write_options options;
    qohi_write_options_init(&options);
    options.effort = settings.effort ? 1 : 0;
    options.overwrite = 1;  // GIMP asked before replacing a file
    WriterDestroyer wd;
    qohi_error err{};
    if (qohi_writer_open_file(filename, &options, &wd.writer, &err) != QOHI_OK) {
        error = err.message;
        return false;
    }

    // The image's own ICC profile (none if it uses GIMP's built-in sRGB)
    // travels with every frame: each frame is an image of its own.
    std::vector<qohi_metadata> metadata;
    GimpColorProfile* profile = gimp_image_get_color_profile(image);
    if (profile) {
        gsize size = 0;
        const guint8* icc = gimp_color_profile_get_icc_profile(profile, &size);
        if (icc && size) metadata.push_back({QOHI_METADATA_ICC, "ICC profile", icc, size});
    }

    gimp_progress_init_printf("Exporting '%s'", gimp_filename_to_utf8(filename));
    std::vector<uint8_t> pixels;
    bool ok = true;
    for (size_t i = 0; i < frames.size() && ok; ++i) {
        const gint32 drawable = frames[i].drawable;
        const gint width = gimp_drawable_width(drawable);
        const gint height = gimp_drawable_height(drawable);
        const uint32_t channels = gimp_drawable_has_alpha(drawable) ? 4 : 3;
        pixels.resize(size_t(width) * size_t(height) * channels);
        // babl converts grey, indexed and high-precision layers to 8-bit RGB.
        GeglBuffer* buffer = gimp_drawable_get_buffer(drawable);
        gegl_buffer_get(buffer, GEGL_RECTANGLE(0, 0, width, height), 1.0,
                        babl_format(channels == 4 ? "R'G'B'A u8" : "R'G'B' u8"), pixels.data(), GEGL_AUTO_ROWSTRIDE,
                        GEGL_ABYSS_NONE);
        g_object_unref(buffer);

        qohi_frame_options frame_options;
        qohi_frame_options_init(&frame_options);
        frame_options.name = frames[i].name.c_str();
        frame_options.reference = frames.size() > 1 ? QOHI_REFERENCE_AUTO : QOHI_REFERENCE_NONE;
        frame_options.metadata = metadata.data();
        frame_options.metadata_count = metadata.size();
        if (qohi_writer_add_frame_with(wd.writer, pixels.data(), static_cast<uint32_t>(width),
                                       static_cast<uint32_t>(height), channels, 0, &frame_options) != QOHI_OK) {
            error = "layer '" + frames[i].name + "': " + qohi_writer_message(wd.writer);
            ok = false;
        }
        gimp_progress_update(static_cast<double>(i + 1) / static_cast<double>(frames.size() + 1));
    }
    if (ok && qohi_writer_finish(wd.writer, nullptr, nullptr) != QOHI_OK) {
        error = qohi_writer_message(wd.writer);
        ok = false;
    }
    if (profile) g_object_unref(profile);
    gimp_progress_update(1.0);
    return ok;
}

// The layers to save: the drawable alone, or every top-level layer from the
// bottom up. Layer names become frame names (GIMP keeps them unique).
std::vector<Frame> frames_to_save(gint32 image, gint32 drawable, bool all_layers) {
    std::vector<Frame> frames;
    auto add = [&frames](gint32 id) {
        gchar* name = gimp_item_get_name(id);
        frames.push_back({id, name ? name : ""});
        g_free(name);
    };
    if (!all_layers) {
        add(drawable);
        return frames;
    }
    gint count = 0;
    gint* layers = gimp_image_get_layers(image, &count);
    for (gint i = count - 1; i >= 0; --i) add(layers[i]);  // top first in GIMP's list
    g_free(layers);
    return frames;
}

// ------------------------------------------------------------------ run

GimpPDBStatusType run_load(const GimpParam* params, gint nparams, GimpParam* values, gint* nreturn_vals,
                           std::string& error) {
    if (nparams < 3) return GIMP_PDB_CALLING_ERROR;
    const gint32 image = load_image(params[1].data.d_string, error);
    if (image == -1) return GIMP_PDB_EXECUTION_ERROR;
    *nreturn_vals = 2;
    values[1].type = GIMP_PDB_IMAGE;
    values[1].data.d_image = image;
    return GIMP_PDB_SUCCESS;
}

GimpPDBStatusType run_save(const GimpParam* params, gint nparams, std::string& error) {
    if (nparams < 5) return GIMP_PDB_CALLING_ERROR;
    const GimpRunMode run_mode = static_cast<GimpRunMode>(params[0].data.d_int32);
    gint32 image = params[1].data.d_image;
    gint32 drawable = params[2].data.d_drawable;
    const char* filename = params[3].data.d_string;
    SaveSettings settings{0, 0};

    GimpExportReturn exported = GIMP_EXPORT_IGNORE;
    if (run_mode == GIMP_RUN_INTERACTIVE || run_mode == GIMP_RUN_WITH_LAST_VALS) {
        gimp_get_data(kSaveProc, &settings);
        // GIMP's export dialog converts what QOHI cannot hold and asks
        // whether several layers are frames or should be merged.
        gimp_ui_init(kPlugInBinary, FALSE);
        exported = gimp_export_image(&image, &drawable, "QOHI",
                                     static_cast<GimpExportCapabilities>(GIMP_EXPORT_CAN_HANDLE_RGB |
                                                                         GIMP_EXPORT_CAN_HANDLE_ALPHA |
                                                                         GIMP_EXPORT_CAN_HANDLE_LAYERS_AS_ANIMATION));
        if (exported == GIMP_EXPORT_CANCEL) return GIMP_PDB_CANCEL;
        gint count = 0;
        g_free(gimp_image_get_layers(image, &count));
        settings.all_layers = count > 1;
    } else {
        if (nparams >= 6) settings.all_layers = params[5].data.d_int32;
        if (nparams >= 7) settings.effort = params[6].data.d_int32;
        if (settings.all_layers < 0 || settings.all_layers > 1 || settings.effort < 0 || settings.effort > 1) {
            error = "all-layers and effort must be 0 or 1";
            return GIMP_PDB_CALLING_ERROR;
        }
    }

    const std::vector<Frame> frames = frames_to_save(image, drawable, settings.all_layers != 0);
    const bool ok = !frames.empty() && save_frames(filename, image, frames, settings, error);
    if (frames.empty()) error = "the image has no layers";
    if (exported == GIMP_EXPORT_EXPORT) gimp_image_delete(image);  // the export's copy
    if (!ok) return GIMP_PDB_EXECUTION_ERROR;
    if (run_mode != GIMP_RUN_NONINTERACTIVE) gimp_set_data(kSaveProc, &settings, sizeof settings);
    return GIMP_PDB_SUCCESS;
}

void run(const gchar* name, gint nparams, const GimpParam* params, gint* nreturn_vals, GimpParam** return_vals) {
    static GimpParam values[2];
    static std::string message;  // must outlive run(): GIMP reads it afterwards
    *nreturn_vals = 1;
    *return_vals = values;
    values[0].type = GIMP_PDB_STATUS;

    gegl_init(nullptr, nullptr);
    GimpPDBStatusType status = GIMP_PDB_CALLING_ERROR;
    std::string error;
    try {
        if (std::strcmp(name, kLoadProc) == 0) {
            status = run_load(params, nparams, values, nreturn_vals, error);
        } else if (std::strcmp(name, kSaveProc) == 0) {
            status = run_save(params, nparams, error);
        }
    } catch (const std::bad_alloc&) {
        status = GIMP_PDB_EXECUTION_ERROR;
        error = "out of memory";
    } catch (...) {
        status = GIMP_PDB_EXECUTION_ERROR;
        error = "internal error";
    }
    values[0].data.d_status = status;
    if (status != GIMP_PDB_SUCCESS && !error.empty()) {
        // GIMP shows this string as the reason the command failed.
        message = error;
        *nreturn_vals = 2;
        values[1].type = GIMP_PDB_STRING;
        values[1].data.d_string = const_cast<gchar*>(message.c_str());
    }
}

}  // namespace

const GimpPlugInInfo PLUG_IN_INFO = {
    nullptr,  // init
    nullptr,  // quit
    query,
    run,
};

MAIN()
