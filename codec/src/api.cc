// The C API: argument checks, and the wall that keeps C++ exceptions inside.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#include "planner.h"
#include "qohi/qohi.h"
#include "reader.h"
#include "writer.h"

struct qohi_reader {
    std::unique_ptr<qohi::Reader> impl;
};
struct qohi_writer {
    std::unique_ptr<qohi::Writer> impl;
};

namespace {

void set_error(qohi_error* error, const qohi::Status& st) {
    if (!error) return;
    error->status = st.code;
    std::snprintf(error->message, sizeof error->message, "%s",
                  st.message.empty() ? qohi_status_string(st.code) : st.message.c_str());
}

// Runs `body` (returning a Status), turning exceptions into status codes.
template <class F>
qohi::Status guarded(F&& body) {
    try {
        return body();
    } catch (const std::bad_alloc&) {
        return qohi::Status(QOHI_ERROR_OUT_OF_MEMORY, "out of memory");
    } catch (const std::exception& e) {
        return qohi::Status(QOHI_ERROR_INTERNAL, std::string("internal error: ") + e.what());
    } catch (...) {
        return qohi::Status(QOHI_ERROR_INTERNAL, "internal error");
    }
}

// Records the outcome on an object's message and returns the code.
template <class Obj>
qohi_status finish(Obj* obj, const qohi::Status& st) {
    if (obj && obj->impl) {
        try {
            obj->impl->last_message = st.message;
        } catch (...) {
        }
    }
    return st.code;
}

qohi_read_options read_options(const qohi_read_options* options) {
    qohi_read_options o;
    qohi_read_options_init(&o);
    if (options) o = *options;
    return o;
}

qohi_write_options write_options(const qohi_write_options* options) {
    qohi_write_options o;
    qohi_write_options_init(&o);
    if (options) o = *options;
    return o;
}


}  // namespace

extern "C" {

const char* qohi_version_string(void) { return QOHI_VERSION_STRING; }

const char* qohi_status_string(qohi_status status) {
    switch (status) {
        case QOHI_OK: return "ok";
        case QOHI_ERROR_INVALID_ARGUMENT: return "invalid argument";
        case QOHI_ERROR_IO: return "input/output error";
        case QOHI_ERROR_NOT_QOHI: return "not a QOHI file";
        case QOHI_ERROR_TRUNCATED: return "truncated data";
        case QOHI_ERROR_CORRUPT: return "corrupt data";
        case QOHI_ERROR_UNSUPPORTED: return "unsupported feature";
        case QOHI_ERROR_LIMIT: return "limit exceeded";
        case QOHI_ERROR_OUT_OF_MEMORY: return "out of memory";
        case QOHI_ERROR_NOT_FOUND: return "not found";
        case QOHI_ERROR_INTERNAL: return "internal error";
    }
    return "unknown status";
}

void qohi_free(void* ptr) { std::free(ptr); }

void qohi_read_options_init(qohi_read_options* options) {
    if (!options) return;
    options->max_pixels = QOHI_DEFAULT_MAX_PIXELS;
    options->cache_bytes = QOHI_DEFAULT_CACHE_BYTES;
    options->low_memory = 0;
    options->threads = 0;
    options->recover = 0;
    options->max_memory = 0;
}

void qohi_write_options_init(qohi_write_options* options) {
    if (!options) return;
    options->method = QOHI_CHOOSE_AUTO;
    options->max_pixels = QOHI_DEFAULT_MAX_PIXELS;
    options->band_rows = 0;
    options->max_depth = QOHI_DEFAULT_MAX_DEPTH;
    options->reference_memory = QOHI_DEFAULT_REFERENCE_MEMORY;
    options->effort = 0;
    options->threads = 0;
    options->overwrite = 0;
}

void qohi_frame_options_init(qohi_frame_options* options) {
    if (!options) return;
    *options = qohi_frame_options{};
    options->reference = QOHI_REFERENCE_NONE;
}

static qohi_status open_reader_from(const char* path, const void* data,
                                    size_t size, const qohi_read_options* options, qohi_reader** out_reader,
                                    qohi_error* error) {
    if (!out_reader) {
        set_error(error, qohi::invalid_argument("out_reader is NULL"));
        return QOHI_ERROR_INVALID_ARGUMENT;
    }
    *out_reader = nullptr;
    std::unique_ptr<qohi::Reader> reader;
    qohi::Status st = guarded([&]() -> qohi::Status {
        std::unique_ptr<qohi::Source> src;
        if (path) {
            QOHI_RETURN_IF_ERROR(qohi::file_source(path, src));
        } else {
            if (!data && size) return qohi::invalid_argument("data is NULL");
            src = qohi::memory_source(data, size);
        }
        return qohi::Reader::open(std::move(src), read_options(options), reader);
    });
    if (st.ok()) {
        qohi_reader* r = new (std::nothrow) qohi_reader;
        if (!r) st = qohi::Status(QOHI_ERROR_OUT_OF_MEMORY, "out of memory");
        else {
            r->impl = std::move(reader);
            *out_reader = r;
        }
    }
    if (path && !st.ok() && st.code != QOHI_ERROR_IO) st.message = std::string(path) + ": " + st.message;
    set_error(error, st);
    return st.code;
}

qohi_status qohi_reader_open_file(const char* path, const qohi_read_options* options, qohi_reader** out_reader,
                                  qohi_error* error) {
    if (!path) {
        set_error(error, qohi::invalid_argument("path is NULL"));
        if (out_reader) *out_reader = nullptr;
        return QOHI_ERROR_INVALID_ARGUMENT;
    }
    return open_reader_from(path, nullptr, 0, options, out_reader, error);
}

qohi_status qohi_reader_open_memory(const void* data, size_t size, const qohi_read_options* options,
                                    qohi_reader** out_reader, qohi_error* error) {
    return open_reader_from(nullptr, data, size, options, out_reader, error);
}

void qohi_reader_close(qohi_reader* reader) { delete reader; }

uint32_t qohi_reader_frame_count(const qohi_reader* reader) {
    return reader && reader->impl ? reader->impl->frame_count() : 0;
}

qohi_status qohi_reader_frame_info(qohi_reader* reader, uint32_t index, qohi_frame_info* out_info) {
    if (!reader || !out_info) return QOHI_ERROR_INVALID_ARGUMENT;
    return finish(reader, guarded([&] { return reader->impl->frame_info(index, *out_info); }));
}

qohi_status qohi_reader_find_frame(qohi_reader* reader, const char* name, uint32_t* out_index) {
    if (!reader || !name || !out_index) return QOHI_ERROR_INVALID_ARGUMENT;
    return finish(reader, guarded([&] { return reader->impl->find_frame(name, *out_index); }));
}

qohi_status qohi_reader_decode_frame(qohi_reader* reader, uint32_t index, void* pixels, size_t buffer_size,
                                     size_t stride, uint32_t channels) {
    if (!reader) return QOHI_ERROR_INVALID_ARGUMENT;
    return finish(reader, guarded([&] {
                      return reader->impl->decode_frame(index, static_cast<uint8_t*>(pixels), buffer_size, stride,
                                                        channels);
                  }));
}

qohi_status qohi_reader_frame_metadata(qohi_reader* reader, uint32_t index, const qohi_metadata** items,
                                       size_t* count) {
    if (!reader || !items || !count) return QOHI_ERROR_INVALID_ARGUMENT;
    *items = nullptr;
    *count = 0;
    return finish(reader, guarded([&] { return reader->impl->frame_metadata(index, items, count); }));
}

qohi_status qohi_reader_frame_attributes(qohi_reader* reader, uint32_t index, qohi_file_attributes* out_attributes) {
    if (!reader || !out_attributes) return QOHI_ERROR_INVALID_ARGUMENT;
    *out_attributes = qohi_file_attributes{};
    return finish(reader, guarded([&] { return reader->impl->frame_attributes(index, *out_attributes); }));
}

uint32_t qohi_reader_entry_count(const qohi_reader* reader) {
    return reader && reader->impl ? reader->impl->entry_count() : 0;
}

qohi_status qohi_reader_entry_info(qohi_reader* reader, uint32_t index, qohi_entry_info* out_info) {
    if (!reader || !out_info) return QOHI_ERROR_INVALID_ARGUMENT;
    *out_info = qohi_entry_info{};
    return finish(reader, guarded([&] { return reader->impl->entry_info(index, *out_info); }));
}

qohi_status qohi_reader_find_entry(qohi_reader* reader, const char* name, uint32_t* out_index) {
    if (!reader || !name || !out_index) return QOHI_ERROR_INVALID_ARGUMENT;
    return finish(reader, guarded([&] { return reader->impl->find_entry(name, *out_index); }));
}

qohi_status qohi_reader_read_entry(qohi_reader* reader, uint32_t index, qohi_entry_sink sink, void* user) {
    if (!reader || !sink) return QOHI_ERROR_INVALID_ARGUMENT;
    return finish(reader, guarded([&] { return reader->impl->read_entry(index, sink, user); }));
}

const char* qohi_reader_message(const qohi_reader* reader) {
    return reader && reader->impl ? reader->impl->last_message.c_str() : "";
}

qohi_status qohi_reader_file_status(const qohi_reader* reader, const char** message) {
    if (!reader || !reader->impl) {
        if (message) *message = "";
        return QOHI_ERROR_INVALID_ARGUMENT;
    }
    const qohi::Status& status = reader->impl->file_status();
    if (message) *message = status.message.c_str();
    return status.code;
}

static qohi_status open_writer(const char* path, const qohi_write_options* options, qohi_writer** out_writer,
                               qohi_error* error) {
    if (!out_writer) {
        set_error(error, qohi::invalid_argument("out_writer is NULL"));
        return QOHI_ERROR_INVALID_ARGUMENT;
    }
    *out_writer = nullptr;
    std::unique_ptr<qohi::Writer> writer;
    qohi::Status st = guarded([&] {
        const qohi_write_options o = write_options(options);
        return path ? qohi::Writer::open_file(path, o, writer) : qohi::Writer::open_memory(o, writer);
    });
    if (st.ok()) {
        qohi_writer* w = new (std::nothrow) qohi_writer;
        if (!w) st = qohi::Status(QOHI_ERROR_OUT_OF_MEMORY, "out of memory");
        else {
            w->impl = std::move(writer);
            *out_writer = w;
        }
    }
    set_error(error, st);
    return st.code;
}

qohi_status qohi_writer_open_file(const char* path, const qohi_write_options* options, qohi_writer** out_writer,
                                  qohi_error* error) {
    if (!path) {
        set_error(error, qohi::invalid_argument("path is NULL"));
        if (out_writer) *out_writer = nullptr;
        return QOHI_ERROR_INVALID_ARGUMENT;
    }
    return open_writer(path, options, out_writer, error);
}

qohi_status qohi_writer_open_memory(const qohi_write_options* options, qohi_writer** out_writer, qohi_error* error) {
    return open_writer(nullptr, options, out_writer, error);
}

qohi_status qohi_writer_add_frame(qohi_writer* writer, const void* pixels, uint32_t width, uint32_t height,
                                  uint32_t channels, size_t stride, const char* name) {
    qohi_frame_options options;
    qohi_frame_options_init(&options);
    options.name = name;
    return qohi_writer_add_frame_with(writer, pixels, width, height, channels, stride, &options);
}

qohi_status qohi_writer_add_frame_with(qohi_writer* writer, const void* pixels, uint32_t width, uint32_t height,
                                       uint32_t channels, size_t stride, const qohi_frame_options* options) {
    if (!writer) return QOHI_ERROR_INVALID_ARGUMENT;
    qohi_frame_options defaults;
    qohi_frame_options_init(&defaults);
    const qohi_frame_options& o = options ? *options : defaults;
    return finish(writer, guarded([&] {
                      return writer->impl->add_frame(static_cast<const uint8_t*>(pixels), width, height, channels,
                                                     stride, o);
                  }));
}

void qohi_entry_options_init(qohi_entry_options* options) {
    if (options) *options = qohi_entry_options{};
}

qohi_status qohi_writer_add_entry(qohi_writer* writer, const qohi_entry_options* options) {
    if (!writer) return QOHI_ERROR_INVALID_ARGUMENT;
    if (!options) return finish(writer, qohi::invalid_argument("options is NULL"));
    return finish(writer, guarded([&] { return writer->impl->add_entry(*options); }));
}

qohi_status qohi_writer_finish(qohi_writer* writer, void** out_data, size_t* out_size) {
    if (!writer) return QOHI_ERROR_INVALID_ARGUMENT;
    return finish(writer, guarded([&] { return writer->impl->finish(out_data, out_size); }));
}

void qohi_writer_destroy(qohi_writer* writer) { delete writer; }

const char* qohi_writer_message(const qohi_writer* writer) {
    return writer && writer->impl ? writer->impl->last_message.c_str() : "";
}

const char* qohi_writer_temporary_path(const qohi_writer* writer) {
    return writer && writer->impl ? writer->impl->temp_path().c_str() : "";
}

qohi_status qohi_encode(const void* pixels, uint32_t width, uint32_t height, uint32_t channels, size_t stride,
                        const qohi_write_options* options, void** out_data, size_t* out_size, qohi_error* error) {
    if (!out_data || !out_size) {
        set_error(error, qohi::invalid_argument("out_data and out_size are required"));
        return QOHI_ERROR_INVALID_ARGUMENT;
    }
    *out_data = nullptr;
    *out_size = 0;
    qohi_writer* w = nullptr;
    qohi_status s = qohi_writer_open_memory(options, &w, error);
    if (s != QOHI_OK) return s;
    s = qohi_writer_add_frame(w, pixels, width, height, channels, stride, nullptr);
    if (s == QOHI_OK) s = qohi_writer_finish(w, out_data, out_size);
    if (s != QOHI_OK) set_error(error, qohi::Status(s, qohi_writer_message(w)));
    qohi_writer_destroy(w);
    return s;
}

qohi_status qohi_decode(const void* data, size_t size, const qohi_read_options* options, uint32_t channels,
                        void** out_pixels, qohi_frame_info* out_info, qohi_error* error) {
    if (!out_pixels) {
        set_error(error, qohi::invalid_argument("out_pixels is NULL"));
        return QOHI_ERROR_INVALID_ARGUMENT;
    }
    *out_pixels = nullptr;
    if (channels != 0 && channels != 3 && channels != 4) {
        set_error(error, qohi::invalid_argument("channels must be 0, 3 or 4"));
        return QOHI_ERROR_INVALID_ARGUMENT;
    }
    qohi_reader* r = nullptr;
    qohi_status s = qohi_reader_open_memory(data, size, options, &r, error);
    if (s != QOHI_OK) return s;
    qohi_frame_info info;
    s = qohi_reader_frame_count(r) == 0 ? QOHI_ERROR_NOT_FOUND : qohi_reader_frame_info(r, 0, &info);
    void* pixels = nullptr;
    if (s == QOHI_OK) {
        const uint64_t n = uint64_t(info.width) * info.height * (channels ? channels : info.channels);
        const qohi_read_options o = read_options(options);
        if (uint64_t(info.width) * info.height > (o.max_pixels ? o.max_pixels : QOHI_DEFAULT_MAX_PIXELS)) {
            s = qohi_reader_decode_frame(r, 0, nullptr, 0, 0, channels);  // reports the limit
        } else if (o.max_memory && n > o.max_memory) {
            set_error(error, qohi::Status(QOHI_ERROR_LIMIT, "the image's " + std::to_string(n) +
                                                                " bytes exceed the memory limit of " +
                                                                std::to_string(o.max_memory)));
            qohi_reader_close(r);
            return QOHI_ERROR_LIMIT;
        } else {
            // The checks that need no pixel memory first: a probe answers
            // INVALID_ARGUMENT (no buffer) when they pass.
            s = qohi_reader_decode_frame(r, 0, nullptr, 0, 0, channels);
            if (s != QOHI_ERROR_INVALID_ARGUMENT) {
            } else if (n > SIZE_MAX || !(pixels = std::malloc(size_t(n)))) {
                s = QOHI_ERROR_OUT_OF_MEMORY;
            } else {
                s = qohi_reader_decode_frame(r, 0, pixels, size_t(n), 0, channels);
            }
        }
    }
    if (s == QOHI_OK) {
        *out_pixels = pixels;
        if (out_info) {
            *out_info = info;
            out_info->name = "";  // the reader that owned the name is gone
            out_info->name_size = 0;
        }
    } else {
        std::free(pixels);
        const char* m = qohi_reader_message(r);
        set_error(error, qohi::Status(s, s == QOHI_ERROR_NOT_FOUND ? "file has no frames" : m));
    }
    qohi_reader_close(r);
    return s;
}

void qohi_plan_options_init(qohi_plan_options* options) {
    if (!options) return;
    *options = qohi_plan_options{};
    options->mode = QOHI_PLAN_AUTO;
    options->keyframe_interval = qohi::kPlanDefaultKeyframeInterval;
    options->max_depth = QOHI_DEFAULT_MAX_DEPTH;
    options->candidates = qohi::kPlanDefaultCandidates;
    options->memory = qohi::kPlanDefaultMemory;
}

qohi_status qohi_plan(const qohi_plan_image* images, uint32_t count, qohi_plan_loader load, void* user,
                      const qohi_plan_options* options, qohi_plan_entry* out, qohi_error* error) {
    qohi_plan_options o;
    qohi_plan_options_init(&o);
    if (options) o = *options;
    const qohi::Status st = guarded([&] { return qohi::plan_collection(images, count, load, user, o, out); });
    set_error(error, st);
    return st.code;
}

}  // extern "C"
