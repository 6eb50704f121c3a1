// Qt 5 image I/O plugin for .qohi files (see qohi_p.h). Only libqohi's
// public C API is used; no C++ exception leaves the handler.
#include "qohi_p.h"

#include <qohi/qohi.h>

#include <QColorSpace>
#include <QIODevice>
#include <QImage>
#include <QSize>
#include <QVariant>
#include <QVector>

#include <climits>
#include <cstring>
#include <new>
#include <utility>

namespace
{
const char kSignature[8] = {'\x89', 'Q', 'O', 'H', 'I', '\x0D', '\x0A', '\x1A'};

// The image text key that carries a frame's name, on read and on write.
const QString kNameKey = QStringLiteral("Name");

// How long to wait for more bytes from a sequential device (a pipe, a
// socket) before taking what has arrived as the whole file.
const int kSequentialWaitMs = 30000;

// Frame metadata kept in QImage texts: only keys that are valid QOHI/PNG
// text keywords (1-79 printable characters, single inner spaces) are written.
bool isTextKeyword(const QString &key)
{
    if (key.isEmpty() || key.size() > 79 || key.startsWith(QLatin1Char(' ')) || key.endsWith(QLatin1Char(' ')) ||
        key.contains(QLatin1String("  "))) {
        return false;
    }
    for (const QChar c : key) {
        if (c.unicode() < 0x20 || c.unicode() > 0x7E) {
            return false;
        }
    }
    return true;
}

struct WriterDestroyer {
    qohi_writer *writer = nullptr;
    ~WriterDestroyer()
    {
        if (writer) {
            qohi_writer_destroy(writer);
        }
    }
};

struct LibraryBuffer {
    void *data = nullptr;
    ~LibraryBuffer()
    {
        qohi_free(data);
    }
};
} // namespace

QohiHandler::QohiHandler() = default;

QohiHandler::~QohiHandler()
{
    if (m_reader) {
        qohi_reader_close(m_reader);
    }
}

bool QohiHandler::canRead(QIODevice *device)
{
    if (!device) {
        return false;
    }
    const QByteArray head = device->peek(sizeof kSignature);
    return head.size() == int(sizeof kSignature) && std::memcmp(head.constData(), kSignature, sizeof kSignature) == 0;
}

bool QohiHandler::canRead() const
{
    if (m_state == State::Open) {
        // Qt asks before every frame: true while frames remain.
        return nextFrame() < m_frameCount;
    }
    if (m_state == State::Failed || !canRead(device())) {
        return false;
    }
    setFormat("qohi");
    return true;
}

bool QohiHandler::load() const
{
    if (m_state != State::Unread) {
        return m_state == State::Open;
    }
    m_state = State::Failed;
    QIODevice *dev = device();
    if (!dev || !dev->isReadable()) {
        qWarning("qohi: no readable device");
        return false;
    }
    try {
        QByteArray data = dev->readAll();
        while (dev->isSequential() && dev->waitForReadyRead(kSequentialWaitMs)) {
            data += dev->readAll();
        }
        data += dev->readAll();
        m_data = std::move(data);
    } catch (const std::bad_alloc &) {
        qWarning("qohi: the file does not fit in memory");
        return false;
    }
    qohi_error error{};
    // The reader keeps pointing into m_data, which is never changed again.
    if (qohi_reader_open_memory(m_data.constData(), size_t(m_data.size()), nullptr, &m_reader, &error) != QOHI_OK) {
        qWarning("qohi: %s", error.message);
        m_data.clear();
        return false;
    }
    const uint32_t count = qohi_reader_frame_count(m_reader);
    if (count == 0) {
        qWarning("qohi: the file holds no frames");
        return false;
    }
    m_frameCount = count > uint32_t(INT_MAX) ? INT_MAX : int(count);
    m_state = State::Open;
    return true;
}

int QohiHandler::nextFrame() const
{
    return m_currentRead ? m_current + 1 : m_current;
}

bool QohiHandler::frameInfo(int index, qohi_frame_info *info) const
{
    if (!load() || index < 0 || index >= m_frameCount) {
        return false;
    }
    if (qohi_reader_frame_info(m_reader, uint32_t(index), info) != QOHI_OK) {
        qWarning("qohi: frame %d: %s", index, qohi_reader_message(m_reader));
        return false;
    }
    return true;
}

bool QohiHandler::read(QImage *image)
{
    try {
        const int index = nextFrame();
        qohi_frame_info info{};
        if (!frameInfo(index, &info)) {
            return false;
        }
        if (uint64_t(info.width) * info.height > QOHI_DEFAULT_MAX_PIXELS) {
            qWarning("qohi: frame %d: %ux%u pixels exceed libqohi's pixel limit", index, info.width, info.height);
            return false;
        }
        if (info.width > uint32_t(INT_MAX) || info.height > uint32_t(INT_MAX)) {
            qWarning("qohi: frame %d: %ux%u pixels is too large for QImage", index, info.width, info.height);
            return false;
        }
        const uint32_t channels = info.channels == 3 ? 3 : 4;
        QImage frame(int(info.width), int(info.height), channels == 4 ? QImage::Format_RGBA8888 : QImage::Format_RGB888);
        if (frame.isNull()) {
            qWarning("qohi: frame %d: %ux%u pixels do not fit in memory", index, info.width, info.height);
            return false;
        }
        // QImage rows are padded to 4 bytes: decode with its stride.
        if (qohi_reader_decode_frame(m_reader, uint32_t(index), frame.bits(), size_t(frame.sizeInBytes()),
                                     size_t(frame.bytesPerLine()), info.channels)
            != QOHI_OK) {
            qWarning("qohi: frame %d: %s", index, qohi_reader_message(m_reader));
            return false;
        }
        if (info.name_size) {
            frame.setText(kNameKey, QString::fromUtf8(info.name, int(info.name_size)));
        }
        const qohi_metadata *items = nullptr;
        size_t count = 0;
        if (qohi_reader_frame_metadata(m_reader, uint32_t(index), &items, &count) == QOHI_OK) {
            for (size_t i = 0; i < count; ++i) {
                const QByteArray data(static_cast<const char *>(items[i].data), int(items[i].size));
                if (items[i].kind == QOHI_METADATA_ICC) {
                    const QColorSpace space = QColorSpace::fromIccProfile(data);
                    if (space.isValid()) {
                        frame.setColorSpace(space);
                    }
                } else if (items[i].kind == QOHI_METADATA_TEXT && items[i].key) {
                    frame.setText(QString::fromLatin1(items[i].key), QString::fromUtf8(data));
                }
            }
        }
        m_current = index;
        m_currentRead = true;
        *image = frame;
        return true;
    } catch (const std::bad_alloc &) {
        qWarning("qohi: out of memory");
    } catch (...) {
        qWarning("qohi: internal error");
    }
    return false;
}

bool QohiHandler::write(const QImage &image)
{
    try {
        QIODevice *dev = device();
        if (image.isNull() || !dev || !dev->isWritable()) {
            return false;
        }
        const bool alpha = image.hasAlphaChannel();
        const QImage pixels = image.convertToFormat(alpha ? QImage::Format_RGBA8888 : QImage::Format_RGB888);
        if (pixels.isNull()) {
            qWarning("qohi: cannot convert the image to 8-bit RGB");
            return false;
        }

        const QByteArray name = (m_writeName.isEmpty() ? image.text(kNameKey) : m_writeName).toUtf8();
        // Texts and the ICC profile travel as frame metadata; the byte arrays
        // stay alive until the frame is added.
        QVector<QByteArray> keep;
        QVector<qohi_metadata> metadata;
        const QStringList keys = image.textKeys();
        keep.reserve(2 * keys.size() + 1);
        for (const QString &key : keys) {
            if (key == kNameKey || !isTextKeyword(key)) {
                continue;
            }
            keep.append(key.toLatin1());
            keep.append(image.text(key).toUtf8());
            metadata.append({QOHI_METADATA_TEXT, keep[keep.size() - 2].constData(), keep.last().constData(), size_t(keep.last().size())});
        }
        // Qt treats untagged images as sRGB and would generate a profile for
        // them: only other colour spaces are stored.
        const QColorSpace space = image.colorSpace();
        if (space.isValid() && space != QColorSpace(QColorSpace::SRgb)) {
            keep.append(space.iccProfile());
            if (!keep.last().isEmpty()) {
                metadata.append({QOHI_METADATA_ICC, "ICC profile", keep.last().constData(), size_t(keep.last().size())});
            }
        }

        qohi_write_options options;
        qohi_write_options_init(&options);
        options.effort = m_writeEffort;
        WriterDestroyer writer;
        qohi_error error{};
        if (qohi_writer_open_memory(&options, &writer.writer, &error) != QOHI_OK) {
            qWarning("qohi: %s", error.message);
            return false;
        }
        qohi_frame_options frame;
        qohi_frame_options_init(&frame);
        frame.name = name.constData();
        frame.metadata = metadata.constData();
        frame.metadata_count = size_t(metadata.size());
        if (qohi_writer_add_frame_with(writer.writer, pixels.constBits(), uint32_t(pixels.width()), uint32_t(pixels.height()),
                                       alpha ? 4 : 3, size_t(pixels.bytesPerLine()), &frame)
            != QOHI_OK) {
            qWarning("qohi: %s", qohi_writer_message(writer.writer));
            return false;
        }
        // The file is complete in memory before the first byte goes out.
        LibraryBuffer file;
        size_t size = 0;
        if (qohi_writer_finish(writer.writer, &file.data, &size) != QOHI_OK) {
            qWarning("qohi: %s", qohi_writer_message(writer.writer));
            return false;
        }
        const char *bytes = static_cast<const char *>(file.data);
        size_t written = 0;
        while (written < size) {
            const qint64 n = dev->write(bytes + written, qint64(size - written));
            if (n <= 0) {
                qWarning("qohi: cannot write: %s", qPrintable(dev->errorString()));
                return false;
            }
            written += size_t(n);
        }
        return true;
    } catch (const std::bad_alloc &) {
        qWarning("qohi: out of memory");
    } catch (...) {
        qWarning("qohi: internal error");
    }
    return false;
}

bool QohiHandler::supportsOption(ImageOption option) const
{
    return option == Size || option == ImageFormat || option == Name || option == Description || option == CompressionRatio;
}

QVariant QohiHandler::option(ImageOption option) const
{
    if (option != Size && option != ImageFormat && option != Name && option != Description) {
        return option == CompressionRatio ? QVariant(m_writeEffort) : QVariant();
    }
    // The frame the next read() returns (the last one once all are read).
    // Only its header is read: no pixels are decoded.
    const int index = (load() && nextFrame() >= m_frameCount) ? m_current : nextFrame();
    qohi_frame_info info{};
    if (!frameInfo(index, &info)) {
        return QVariant();
    }
    switch (option) {
    case Size:
        if (uint64_t(info.width) * info.height > QOHI_DEFAULT_MAX_PIXELS) {
            qWarning("qohi: frame %d: %ux%u pixels exceed libqohi's pixel limit", index, info.width, info.height);
            return false;
        }
        if (info.width > uint32_t(INT_MAX) || info.height > uint32_t(INT_MAX)) {
            return QVariant();
        }
        return QSize(int(info.width), int(info.height));
    case ImageFormat:
        return info.channels == 3 ? QImage::Format_RGB888 : QImage::Format_RGBA8888;
    case Name:
        return QString::fromUtf8(info.name, int(info.name_size));
    default: {
        // Description: "key: value" pairs separated by blank lines, which
        // QImageReader::textKeys() and text() parse.
        QStringList pairs;
        if (info.name_size) {
            pairs << kNameKey + QStringLiteral(": ") + QString::fromUtf8(info.name, int(info.name_size));
        }
        const qohi_metadata *items = nullptr;
        size_t count = 0;
        if (qohi_reader_frame_metadata(m_reader, uint32_t(index), &items, &count) == QOHI_OK) {
            for (size_t i = 0; i < count; ++i) {
                if (items[i].kind == QOHI_METADATA_TEXT && items[i].key) {
                    pairs << QString::fromLatin1(items[i].key) + QStringLiteral(": ")
                            + QString::fromUtf8(static_cast<const char *>(items[i].data), int(items[i].size));
                }
            }
        }
        return pairs.join(QStringLiteral("\n\n"));
    }
    }
}

void QohiHandler::setOption(ImageOption option, const QVariant &value)
{
    if (option == Name) {
        m_writeName = value.toString();
    } else if (option == CompressionRatio) {
        m_writeEffort = value.toInt() > 0 ? 1 : 0;
    }
}

int QohiHandler::imageCount() const
{
    return load() ? m_frameCount : 0;
}

bool QohiHandler::jumpToImage(int imageNumber)
{
    if (!load() || imageNumber < 0 || imageNumber >= m_frameCount) {
        return false;
    }
    m_current = imageNumber;
    m_currentRead = false;
    return true;
}

bool QohiHandler::jumpToNextImage()
{
    return jumpToImage(m_current + 1);
}

int QohiHandler::currentImageNumber() const
{
    return m_current;
}

QImageIOPlugin::Capabilities QohiPlugin::capabilities(QIODevice *device, const QByteArray &format) const
{
    if (format == "qohi") {
        return Capabilities(CanRead | CanWrite);
    }
    if (!format.isEmpty() || !device || !device->isOpen()) {
        return {};
    }
    Capabilities capabilities;
    if (device->isReadable() && QohiHandler::canRead(device)) {
        capabilities |= CanRead;
    }
    if (device->isWritable()) {
        capabilities |= CanWrite;
    }
    return capabilities;
}

QImageIOHandler *QohiPlugin::create(QIODevice *device, const QByteArray &format) const
{
    QImageIOHandler *handler = new QohiHandler;
    handler->setDevice(device);
    // Also when Qt found the plugin by content (an empty `format`): the
    // handler only ever reads and writes QOHI.
    Q_UNUSED(format);
    handler->setFormat("qohi");
    return handler;
}
