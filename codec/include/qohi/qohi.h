/*
 * qohi.h - public C API of libqohi, the reference QOHI codec.
 *
 * A .qohi file holds one or more frames of 8-bit RGB or RGBA pixels, coded
 * losslessly. The format is defined in spec/qohi.md; this header is the only
 * way hosts (CLIs, plugins, other programs) talk to the codec.
 *
 * Conventions
 *  - Every function that can fail returns a qohi_status. Functions that create
 *    an object take an optional qohi_error* that receives a readable message;
 *    objects keep the message of their last failure (qohi_reader_message,
 *    qohi_writer_message).
 *  - Pixels are interleaved 8-bit channels, R G B [A], rows top to bottom.
 *  - Memory handed to the caller is released with qohi_free().
 *  - No global state: separate objects may be used from separate threads.
 *    One object must not be used by two threads at once.
 *  - No C++ exception ever crosses this interface.
 */
#ifndef QOHI_QOHI_H
#define QOHI_QOHI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(QOHI_SHARED_BUILD)
#define QOHI_API __declspec(dllexport)
#elif defined(__GNUC__)
#define QOHI_API __attribute__((visibility("default")))
#else
#define QOHI_API
#endif

#define QOHI_VERSION_MAJOR 0
#define QOHI_VERSION_MINOR 1
#define QOHI_VERSION_PATCH 0
#define QOHI_VERSION_STRING "0.1.0"

/* Library version as "MAJOR.MINOR.PATCH" (may differ from the header's). */
QOHI_API const char *qohi_version_string(void);

typedef enum qohi_status {
    QOHI_OK = 0,
    QOHI_ERROR_INVALID_ARGUMENT = 1, /* caller passed something unusable */
    QOHI_ERROR_IO = 2,               /* a file could not be opened/read/written */
    QOHI_ERROR_NOT_QOHI = 3,         /* input does not start with the QOHI signature */
    QOHI_ERROR_TRUNCATED = 4,        /* the file ends early (no valid trailer, a record cut off) */
    QOHI_ERROR_CORRUPT = 5,          /* CRC mismatch or a field/bitstream violates the spec */
    QOHI_ERROR_UNSUPPORTED = 6,      /* valid but unknown version, method or critical record */
    QOHI_ERROR_LIMIT = 7,            /* a frame exceeds the caller's pixel limit */
    QOHI_ERROR_OUT_OF_MEMORY = 8,
    QOHI_ERROR_NOT_FOUND = 9,        /* no frame with that index or name */
    QOHI_ERROR_INTERNAL = 10         /* a bug in libqohi; please report it */
} qohi_status;

/* Short constant description of a status code ("corrupt data", ...). */
QOHI_API const char *qohi_status_string(qohi_status status);

/* Optional error report filled by functions that take one. */
typedef struct qohi_error {
    qohi_status status;
    char message[256]; /* NUL-terminated, one line, no trailing newline */
} qohi_error;

/* Release memory returned by libqohi (encoded files, decoded pixels). */
QOHI_API void qohi_free(void *ptr);

/* Coding method of a frame (spec §4). */
typedef enum qohi_method {
    QOHI_METHOD_STORED = 0, /* raw pixels */
    QOHI_METHOD_QOHI = 1,   /* QOI op stream with canonical Huffman codes */
    QOHI_METHOD_DICI = 2    /* colour table by frequency, pixels as ranks, runs and copies from above */
} qohi_method;

/* ------------------------------------------------------------------ reading */

/* Largest frame (width * height) the library decodes unless told otherwise:
 * 2^28 pixels, 1 GiB of RGBA. */
#define QOHI_DEFAULT_MAX_PIXELS ((uint64_t)1 << 28)

/* Bytes of decoded frames a reader keeps for reuse as references. */
#define QOHI_DEFAULT_CACHE_BYTES ((uint64_t)256 << 20)

typedef struct qohi_read_options {
    /* Frames with more pixels than this are refused with QOHI_ERROR_LIMIT
     * before any pixel memory is allocated. 0 means QOHI_DEFAULT_MAX_PIXELS. */
    uint64_t max_pixels;
    /* Decoded frames that later frames refer to are kept, least recently
     * used dropped first, up to this many bytes. 0 means QOHI_DEFAULT_CACHE_BYTES. */
    uint64_t cache_bytes;
    /* Nonzero: keep no decoded frames. Memory stays at two frames, but a
     * delta frame then costs a decode of its whole reference chain. */
    int low_memory;
    /* Threads that decode a frame's row bands at once: 0 (default) one per
     * core, 1 none besides the caller's. */
    uint32_t threads;
    /* Nonzero: recovery (spec §3.14). A file whose trailer or index is not
     * valid, such as one whose writer stopped early, is still opened: its
     * records are read from the start, and the reader holds every frame
     * whose records were all read whole before the first record that is
     * cut off, fails its CRC or is out of place (or before the index).
     * Such frames keep their numbers and are decoded like any other. The
     * open then succeeds, and qohi_reader_file_status() reports what is
     * wrong with the file. A complete file opens as without this flag. */
    int recover;
    /* Bytes of pixel buffers the reader may hold besides the caller's:
     * decoded frames kept for reuse (at most cache_bytes), reference frames
     * decoded on the way, and the buffer for another channel layout (and,
     * for qohi_decode, the image it returns). A frame whose decoding needs
     * more is refused with QOHI_ERROR_LIMIT before any of them is
     * allocated. 0 (default): no limit besides max_pixels and cache_bytes. */
    uint64_t max_memory;
} qohi_read_options;

QOHI_API void qohi_read_options_init(qohi_read_options *options);

typedef struct qohi_frame_info {
    uint32_t width;
    uint32_t height;
    uint32_t channels;       /* 3 (RGB) or 4 (RGBA); 1 and 2 (grey) are listed, not decoded */
    uint32_t bit_depth;      /* 8; 16 is listed, not decoded */
    uint32_t method;         /* a qohi_method; other values are methods this library cannot decode */
    int64_t reference;       /* index of the reference frame, -1 for none */
    uint32_t depth;          /* reference chain length: 0 intra, 1 + the reference's depth */
    int baseline;            /* nonzero if the writer marked it as a baseline */
    /* UTF-8, NUL-terminated, "" if unnamed; valid until the reader closes.
     * The index stores names front-coded (spec §3.11): the reader builds a
     * name when it is first asked for and keeps it until it closes. */
    const char *name;
    size_t name_size;        /* bytes in name, without the NUL */
    uint64_t coded_size;     /* bytes the frame occupies in the file */
} qohi_frame_info;

/* Metadata that travels with a frame (spec §3.9): what PNG keeps in its
 * iCCP, eXIf, XMP (iTXt "XML:com.adobe.xmp") and text chunks, and the PNG
 * layout of the frame's source. */
typedef enum qohi_metadata_kind {
    QOHI_METADATA_ICC = 1,  /* key: profile name (1-79 bytes); data: the ICC profile, uncompressed */
    QOHI_METADATA_EXIF = 2, /* key: NULL; data: EXIF, starting with the TIFF header ("II*\0" or "MM\0*") */
    QOHI_METADATA_XMP = 3,  /* key: NULL; data: the XMP packet, UTF-8 */
    QOHI_METADATA_TEXT = 4, /* key: keyword (1-79 bytes, Latin-1 as in PNG); data: the text, UTF-8 */
    QOHI_METADATA_PNG = 5   /* key: NULL; data: the PNG layout of the frame's source (spec §3.9.1),
                               interpreted by tools that write PNG files */
} qohi_metadata_kind;

typedef struct qohi_metadata {
    uint32_t kind;    /* a qohi_metadata_kind */
    const char *key;  /* NUL-terminated, see the kinds; NULL where there is none */
    const void *data;
    size_t size;
} qohi_metadata;

/* What a tar archive keeps of a file besides its bytes (spec §3.15): the
 * permission bits and the modification time. */
typedef struct qohi_file_attributes {
    int present;         /* nonzero: the fields below were recorded */
    uint32_t mode;       /* permission bits, st_mode & 07777 */
    int64_t mtime;       /* modification time: seconds since 1970-01-01 UTC */
    uint32_t mtime_nsec; /* and nanoseconds, 0 ... 999999999 */
} qohi_file_attributes;

/* Entries (spec §3.15): files that travel in a .qohi file as they are, beside
 * the frames, so that a packed folder comes back whole. They are numbered
 * from 0 in file order, apart from frames. */
typedef enum qohi_entry_kind {
    QOHI_ENTRY_FILE = 0,    /* a regular file: its bytes */
    QOHI_ENTRY_SYMLINK = 1, /* a symbolic link: its target (1-65535 bytes, no NUL) */
    QOHI_ENTRY_FOLDER = 2   /* a folder: no content */
} qohi_entry_kind;

typedef struct qohi_entry_info {
    uint32_t kind;       /* a qohi_entry_kind; other values are kinds this library cannot read */
    uint32_t method;     /* 0: stored as it is; others cannot be read by this library */
    /* UTF-8, NUL-terminated, never empty; valid until the reader closes. */
    const char *name;
    size_t name_size;
    uint64_t size;       /* content bytes (the link target's for a symbolic link) */
    qohi_file_attributes attributes;
    uint64_t coded_size; /* bytes the entry occupies in the file */
} qohi_entry_info;

/* Receives an entry's content a piece at a time, in order; a status other
 * than QOHI_OK stops the reading and is returned by qohi_reader_read_entry. */
typedef qohi_status (*qohi_entry_sink)(void *user, const void *data, size_t size);

typedef struct qohi_reader qohi_reader;

/* Open a file. Reads the trailer and the index; frames are read on demand. */
QOHI_API qohi_status qohi_reader_open_file(const char *path, const qohi_read_options *options,
                                           qohi_reader **out_reader, qohi_error *error);

/* Open an in-memory file. The buffer is not copied: it must stay valid and
 * unchanged until qohi_reader_close(). */
QOHI_API qohi_status qohi_reader_open_memory(const void *data, size_t size,
                                             const qohi_read_options *options,
                                             qohi_reader **out_reader, qohi_error *error);

QOHI_API void qohi_reader_close(qohi_reader *reader);

QOHI_API uint32_t qohi_reader_frame_count(const qohi_reader *reader);

QOHI_API qohi_status qohi_reader_frame_info(qohi_reader *reader, uint32_t index,
                                            qohi_frame_info *out_info);

/* Index of the first frame named exactly `name` (UTF-8). Unnamed frames are
 * never found: "" gives QOHI_ERROR_NOT_FOUND. */
QOHI_API qohi_status qohi_reader_find_frame(qohi_reader *reader, const char *name,
                                            uint32_t *out_index);

/* Decode frame `index` into `pixels`, `stride` bytes per row (0 means
 * width * channels). `channels` selects the output layout: 0 for the frame's
 * own, 3 for RGB (alpha dropped; refused if the frame has alpha other than
 * 255), or 4 for RGBA (alpha 255 added to RGB frames). `buffer_size` is the
 * size of `pixels` in bytes and must hold the whole image.
 * With `pixels` NULL and `buffer_size` 0 the call is a probe: it makes every
 * check that needs no pixel memory (the frame and its reference chain can be
 * decoded, the limits, the records and their CRCs, the frame data's band
 * layout) and answers QOHI_ERROR_INVALID_ARGUMENT if they all pass, so that a
 * caller can refuse a hostile frame before allocating its buffer. */
QOHI_API qohi_status qohi_reader_decode_frame(qohi_reader *reader, uint32_t index,
                                              void *pixels, size_t buffer_size, size_t stride,
                                              uint32_t channels);

/* The metadata of frame `index` (ICC profile, EXIF, XMP, text), in file
 * order. `*items` stays valid until the next call on this reader. */
QOHI_API qohi_status qohi_reader_frame_metadata(qohi_reader *reader, uint32_t index,
                                                const qohi_metadata **items, size_t *count);

/* The permission bits and modification time stored with frame `index`
 * (an attr record, spec §3.9); attributes->present is 0 if there are none. */
QOHI_API qohi_status qohi_reader_frame_attributes(qohi_reader *reader, uint32_t index,
                                                  qohi_file_attributes *out_attributes);

QOHI_API uint32_t qohi_reader_entry_count(const qohi_reader *reader);

QOHI_API qohi_status qohi_reader_entry_info(qohi_reader *reader, uint32_t index, qohi_entry_info *out_info);

/* Index of the first entry named exactly `name`; QOHI_ERROR_NOT_FOUND if none. */
QOHI_API qohi_status qohi_reader_find_entry(qohi_reader *reader, const char *name, uint32_t *out_index);

/* Reads entry `index`'s content and hands it to `sink` in pieces (of at
 * most a few MiB; none for an empty entry), each checked (CRC) before it is
 * handed over. The reader holds one piece at a time, whatever the entry's
 * size. On a failure after some pieces were handed over (the entry is
 * damaged further on), the caller must discard what it received. */
QOHI_API qohi_status qohi_reader_read_entry(qohi_reader *reader, uint32_t index, qohi_entry_sink sink,
                                            void *user);

/* Message of the last failure on this reader ("" if none). */
QOHI_API const char *qohi_reader_message(const qohi_reader *reader);

/* Whether the file itself is whole: QOHI_OK for a file opened through its
 * trailer and index (always, without qohi_read_options.recover). For a file
 * opened by recovery, the error opening it otherwise gives
 * (QOHI_ERROR_TRUNCATED for a file whose writer stopped early), and
 * `*message`, if `message` is not NULL, says what was wrong and where the
 * recovery stopped; it stays valid until the reader closes. */
QOHI_API qohi_status qohi_reader_file_status(const qohi_reader *reader, const char **message);

/* ------------------------------------------------------------------ writing */

typedef enum qohi_method_choice {
    QOHI_CHOOSE_AUTO = 0,   /* the smallest of the methods below */
    QOHI_CHOOSE_STORED = 1,
    QOHI_CHOOSE_QOHI = 2,
    QOHI_CHOOSE_DICI = 3    /* frames with a reference are still coded with QOHI */
} qohi_method_choice;

typedef struct qohi_write_options {
    int method; /* a qohi_method_choice; default QOHI_CHOOSE_AUTO */
    /* Frames with more pixels than this are refused. 0 means QOHI_DEFAULT_MAX_PIXELS. */
    uint64_t max_pixels;
    /* Rows per independently coded band (spec §4.1); bands are what several
     * threads code at once. 0 (default): about 131072 pixels per band, which
     * also makes files smaller than one band would. A value of at least the
     * frame's height codes it as one band. */
    uint32_t band_rows;
    /* Longest reference chain allowed in the file (written to its header):
     * decoding any frame costs at most max_depth + 1 frame decodes.
     * 0 means QOHI_DEFAULT_MAX_DEPTH; at most 65535. */
    uint32_t max_depth;
    /* For QOHI_REFERENCE_AUTO: bytes of earlier frames the writer keeps as
     * reference candidates. 0 means QOHI_DEFAULT_REFERENCE_MEMORY. */
    uint64_t reference_memory;
    /* 0 (default): fast; frames coded on their own look for repeated pixels
     * only in the row above, and only the R and B code tables are chosen by
     * context. 1: they search all earlier pixels too, as delta frames always
     * do, every frame tries gradient prediction, and all code tables are
     * chosen by context where that pays: smaller files (about 12% on single
     * images), encoding about 70% and decoding about 80% as fast. */
    int effort;
    /* Threads that code at once: 0 (default) one per core, 1 none besides
     * the caller's. The file is the same for any count. A large frame's row
     * bands are coded together; frames of one band after the first (not
     * QOHI_REFERENCE_AUTO ones) are coded by workers from copies of their
     * pixels and reference while the caller goes on, and written in order;
     * an error found while coding one (out of memory) is returned by a
     * later call, with the frame's number. */
    uint32_t threads;
    /* File writers: nonzero: qohi_writer_finish() may replace a file that
     * exists at the path; 0 (default): it fails with QOHI_ERROR_IO if the
     * path exists by then, and leaves what is there alone. */
    int overwrite;
} qohi_write_options;

#define QOHI_DEFAULT_MAX_DEPTH 16
#define QOHI_DEFAULT_REFERENCE_MEMORY ((uint64_t)64 << 20)

/* Reference choices for qohi_frame_options.reference. */
#define QOHI_REFERENCE_NONE (-1) /* an intra frame */
#define QOHI_REFERENCE_AUTO (-2) /* the writer picks among earlier frames it kept */

typedef struct qohi_frame_options {
    const char *name; /* UTF-8; NULL or "" for none; unique within the file */
    int baseline;     /* nonzero: mark the frame as a baseline (a pinned reference image) */
    /* QOHI_REFERENCE_NONE, QOHI_REFERENCE_AUTO, or the index of an earlier
     * frame of the same size and channels. With an index, reference_pixels
     * must hold that frame's pixels (same layout as `pixels`); the frame is
     * still coded on its own if the delta is not smaller than its raw pixels.
     * AUTO compares estimated sizes against the frames kept from earlier AUTO
     * frames. Baselines, and all frames of a writer forced to
     * QOHI_CHOOSE_STORED, are coded on their own. */
    int64_t reference;
    const void *reference_pixels;
    size_t reference_stride; /* 0 means width * channels */
    const qohi_metadata *metadata;
    size_t metadata_count;
    /* The source file's permission bits and modification time, stored in
     * an attr record; NULL (or present = 0) for none. */
    const qohi_file_attributes *attributes;
} qohi_frame_options;

/* Supplies an entry's content for qohi_writer_add_entry: fills `buffer`
 * with up to `size` bytes and sets `*got` (0 only at the end of the data). */
typedef qohi_status (*qohi_entry_source)(void *user, void *buffer, size_t size, size_t *got);

typedef struct qohi_entry_options {
    uint32_t kind;        /* a qohi_entry_kind */
    const char *name;     /* UTF-8, not empty, unique among the file's frames and entries */
    const qohi_file_attributes *attributes; /* NULL (or present = 0) for none */
    uint64_t size;        /* content bytes: 0 for a folder, the target's for a link */
    /* The content: `data` (size bytes), or, if data is NULL, `source`, which
     * the writer calls until it has `size` bytes. */
    const void *data;
    qohi_entry_source source;
    void *source_user;
} qohi_entry_options;

QOHI_API void qohi_write_options_init(qohi_write_options *options);

typedef struct qohi_writer qohi_writer;

/* Write to `path`. Data goes to a temporary file in its directory, which
 * gets the name `path` only when qohi_writer_finish() succeeds (replacing a
 * file there only with options->overwrite); a writer destroyed before that
 * leaves `path` untouched and removes the temporary file. */
QOHI_API qohi_status qohi_writer_open_file(const char *path, const qohi_write_options *options,
                                           qohi_writer **out_writer, qohi_error *error);

/* Write to memory; qohi_writer_finish() hands the file over. */
QOHI_API qohi_status qohi_writer_open_memory(const qohi_write_options *options,
                                             qohi_writer **out_writer, qohi_error *error);

/* Append one frame. `stride` is bytes per row (0 means width * channels);
 * `name` is UTF-8 (NULL or "" for none) and must not repeat a name already
 * in the file. */
QOHI_API qohi_status qohi_writer_add_frame(qohi_writer *writer, const void *pixels,
                                           uint32_t width, uint32_t height, uint32_t channels,
                                           size_t stride, const char *name);

QOHI_API void qohi_frame_options_init(qohi_frame_options *options);

/* Append one frame with a name, a reference choice and metadata. The
 * reference actually used is reported by the reader's frame info. */
QOHI_API qohi_status qohi_writer_add_frame_with(qohi_writer *writer, const void *pixels, uint32_t width,
                                                uint32_t height, uint32_t channels, size_t stride,
                                                const qohi_frame_options *options);

QOHI_API void qohi_entry_options_init(qohi_entry_options *options);

/* Append an entry: a file stored as it is, a symbolic link or a folder
 * (spec §3.15). Its content is written in pieces as it is supplied, so a
 * file of any size takes little memory. A source that supplies fewer bytes
 * than `size` fails the writer (QOHI_ERROR_IO): the file cannot then be
 * finished. */
QOHI_API qohi_status qohi_writer_add_entry(qohi_writer *writer, const qohi_entry_options *options);

/* Write the index and trailer and commit the file. For memory writers,
 * `*out_data` / `*out_size` receive the file (release with qohi_free); file
 * writers accept NULL for both. After this, only qohi_writer_destroy() may
 * be called. */
QOHI_API qohi_status qohi_writer_finish(qohi_writer *writer, void **out_data, size_t *out_size);

/* Free the writer. If qohi_writer_finish() did not succeed, nothing is
 * committed: a file writer removes its temporary file. */
QOHI_API void qohi_writer_destroy(qohi_writer *writer);

QOHI_API const char *qohi_writer_message(const qohi_writer *writer);

/* The path of the named temporary file a file writer writes to until
 * qohi_writer_finish() names it, for a program that removes it when a
 * signal ends it; "" when there is none (a memory writer, a finished one,
 * or an unnamed file, which is what file systems with O_TMPFILE give). */
QOHI_API const char *qohi_writer_temporary_path(const qohi_writer *writer);

/* ------------------------------------------------------------ collection planning */

/* How qohi_plan chooses references for a collection of images. */
typedef enum qohi_plan_mode {
    QOHI_PLAN_AUTO = 0,     /* similarity graph: each image refers to the image it codes best against */
    QOHI_PLAN_PRIOR = 1,    /* each image refers to the one before it (in input order) */
    QOHI_PLAN_FIRST = 2,    /* each image refers to the first image of its size */
    QOHI_PLAN_KEYFRAME = 3, /* like PRIOR, with an intra frame every keyframe_interval images */
    QOHI_PLAN_NONE = 4      /* no references */
} qohi_plan_mode;

typedef struct qohi_plan_options {
    int mode;                   /* a qohi_plan_mode; default QOHI_PLAN_AUTO */
    uint32_t keyframe_interval; /* QOHI_PLAN_KEYFRAME; 0 means 16 */
    uint32_t max_depth;         /* longest reference chain; 0 means QOHI_DEFAULT_MAX_DEPTH */
    uint32_t candidates;        /* AUTO: references scored exactly per image, at most 64; 0 means 6 */
    uint64_t memory;            /* AUTO: bytes the planner may keep: its state (about 150 bytes
                                 * an image) and, in what is left (at least an eighth), pixels of
                                 * recently loaded images; 0 means 64 MiB */
    /* Called now and then with a stage name and progress; may be NULL. */
    void (*progress)(void *user, const char *stage, uint64_t done, uint64_t total);
    void *progress_user;
    /* AUTO: threads that load and compare images; 0 or 1 means the calling
     * thread only. With more, `load` is called from several threads at once
     * (it must be thread-safe); the plan is the same for any count.
     * `progress` is called on the calling thread only. */
    uint32_t threads;
} qohi_plan_options;

QOHI_API void qohi_plan_options_init(qohi_plan_options *options);

typedef struct qohi_plan_image {
    uint32_t width, height, channels;
    int baseline; /* pinned: written first, always intra, never dropped */
} qohi_plan_image;

/* Supplies image `image`'s pixels, packed (width * channels bytes a row),
 * into `pixels` of `size` bytes. Called several times per image (from several
 * threads at once if qohi_plan_options.threads > 1). */
typedef qohi_status (*qohi_plan_loader)(void *user, uint32_t image, void *pixels, size_t size);

typedef struct qohi_plan_entry {
    uint32_t image;    /* the input image written at this position */
    int64_t reference; /* the output position of its reference, or -1 (intra) */
} qohi_plan_entry;

/* Plans how to write `count` images: the order (references always point
 * backwards, baselines first) and each image's reference. Writes `count`
 * entries to `out`; write frame k as out[k].image with reference
 * out[k].reference (qohi_writer_add_frame_with). */
QOHI_API qohi_status qohi_plan(const qohi_plan_image *images, uint32_t count, qohi_plan_loader load, void *user,
                               const qohi_plan_options *options, qohi_plan_entry *out, qohi_error *error);

/* ------------------------------------------------------------ one-shot helpers */

/* Encode one image as a complete single-frame .qohi file in memory.
 * `options` may be NULL. Release `*out_data` with qohi_free. */
QOHI_API qohi_status qohi_encode(const void *pixels, uint32_t width, uint32_t height,
                                 uint32_t channels, size_t stride,
                                 const qohi_write_options *options, void **out_data,
                                 size_t *out_size, qohi_error *error);

/* Decode the first frame of an in-memory .qohi file into a new buffer of
 * width * height * channels bytes (`channels` as in qohi_reader_decode_frame).
 * `options` and `out_info` may be NULL; out_info->name is set to "". */
QOHI_API qohi_status qohi_decode(const void *data, size_t size, const qohi_read_options *options,
                                 uint32_t channels, void **out_pixels, qohi_frame_info *out_info,
                                 qohi_error *error);

#ifdef __cplusplus
}
#endif

#endif /* QOHI_QOHI_H */
