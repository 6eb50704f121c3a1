// Tests of kimg_qohi in the style of KImageFormats' readtest and writetest:
// a Qt program loads the plugin through QT_PLUGIN_PATH and reads and writes
// through QImageReader / QImageWriter, on files (random access) and on
// sequential devices, comparing pixels with PNG templates read by Qt's own
// PNG support. Inputs are made at run time by qohienc (QOHIENC); written
// files are checked by decoding them with libqohi, not with the plugin.
//
// Every test function is one CTest test: qohi_qt_test FUNCTION.
#include <qohi/qohi.h>

#include <cstring>

#include <QBuffer>
#include <QColorSpace>
#include <QDir>
#include <QFile>
#include <QImage>
#include <QImageReader>
#include <QImageWriter>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>

namespace
{
// A sequential device over bytes in memory, as a pipe or a socket: no
// seek, no size, reads consume, and it hands out at most 1000 bytes a read.
// What is written to it is collected in written().
class SequentialBuffer : public QIODevice
{
public:
    void setData(const QByteArray &data)
    {
        m_data = data;
        m_offset = 0;
    }
    const QByteArray &written() const
    {
        return m_written;
    }
    bool isSequential() const override
    {
        return true;
    }
    qint64 bytesAvailable() const override
    {
        return qint64(m_data.size()) - m_offset + QIODevice::bytesAvailable();
    }

protected:
    qint64 readData(char *data, qint64 maxSize) override
    {
        const qint64 n = qMin(qMin(maxSize, qint64(1000)), qint64(m_data.size()) - m_offset);
        if (n <= 0) {
            return m_offset >= m_data.size() ? -1 : 0;
        }
        std::memcpy(data, m_data.constData() + m_offset, size_t(n));
        m_offset += n;
        return n;
    }
    qint64 writeData(const char *data, qint64 size) override
    {
        m_written.append(data, int(size));
        return size;
    }

private:
    QByteArray m_data;
    qint64 m_offset = 0;
    QByteArray m_written;
};

QImage rgba(const QImage &image)
{
    return image.convertToFormat(QImage::Format_RGBA8888);
}

// Same size and the same RGBA bytes, row by row (QImage pads rows).
bool sameRgba(const QImage &a, const QImage &b)
{
    const QImage x = rgba(a), y = rgba(b);
    if (x.isNull() || x.size() != y.size()) {
        return false;
    }
    for (int row = 0; row < x.height(); ++row) {
        if (std::memcmp(x.constScanLine(row), y.constScanLine(row), size_t(x.width()) * 4) != 0) {
            return false;
        }
    }
    return true;
}

QByteArray readBytes(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

// A .qohi file decoded by libqohi: every frame as RGBA, and its channels.
struct LibraryFrame {
    QImage image;
    uint32_t channels = 0;
    QString name;
};

QVector<LibraryFrame> libraryDecode(const QByteArray &file)
{
    QVector<LibraryFrame> frames;
    qohi_reader *reader = nullptr;
    if (qohi_reader_open_memory(file.constData(), size_t(file.size()), nullptr, &reader, nullptr) != QOHI_OK) {
        return frames;
    }
    for (uint32_t i = 0; i < qohi_reader_frame_count(reader); ++i) {
        qohi_frame_info info{};
        if (qohi_reader_frame_info(reader, i, &info) != QOHI_OK) {
            break;
        }
        LibraryFrame frame;
        frame.channels = info.channels;
        frame.name = QString::fromUtf8(info.name, int(info.name_size));
        frame.image = QImage(int(info.width), int(info.height), QImage::Format_RGBA8888);
        if (qohi_reader_decode_frame(reader, i, frame.image.bits(), size_t(frame.image.sizeInBytes()),
                                     size_t(frame.image.bytesPerLine()), 4)
            != QOHI_OK) {
            break;
        }
        frames.append(frame);
    }
    qohi_reader_close(reader);
    return frames;
}
} // namespace

class QohiQtTest : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_data; // tests/data

    QString dataFile(const QString &name) const
    {
        return m_data + QLatin1Char('/') + name;
    }
    QString workFile(const QString &name) const
    {
        return m_dir.filePath(name);
    }
    QImage png(const QString &name) const
    {
        QImageReader reader(dataFile(name), "png");
        return reader.read();
    }

    // qohienc INPUT -o OUTPUT (a PNG or a folder); the output's path.
    QString qohienc(const QString &input, const QString &output) const
    {
        QProcess process;
        process.start(QString::fromLocal8Bit(qgetenv("QOHIENC")), {QStringLiteral("-q"), QStringLiteral("-f"), input, QStringLiteral("-o"), output});
        if (!process.waitForFinished(60000) || process.exitStatus() != QProcess::NormalExit || process.exitCode() != 0) {
            qWarning("qohienc failed: %s", process.readAllStandardError().constData());
            return QString();
        }
        return output;
    }

    QString encodePng(const QString &name) const
    {
        return qohienc(dataFile(name), workFile(QFileInfo(name).completeBaseName() + QStringLiteral(".qohi")));
    }

    // A collection of same-size and different-size frames, named after the
    // PNGs it was packed from.
    QString packSet() const
    {
        const QString folder = workFile(QStringLiteral("set"));
        QDir().mkpath(folder);
        for (const char *name : {"icon-rgba.png", "interlaced-rgba.png", "grey.png", "trash-rgb.png", "palette-trns.png"}) {
            QFile::copy(dataFile(QLatin1String(name)), folder + QLatin1Char('/') + QLatin1String(name));
        }
        return qohienc(folder, workFile(QStringLiteral("set.qohi")));
    }

    // Checks that `image`, frame `name` of the set, has the pixels of that PNG.
    void checkSetFrame(const QImage &image)
    {
        const QString name = image.text(QStringLiteral("Name"));
        QVERIFY2(!name.isEmpty(), "a frame of the set has no name");
        QVERIFY2(sameRgba(image, png(name)), qPrintable(QStringLiteral("frame %1 differs from its PNG").arg(name)));
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_data = QString::fromLocal8Bit(qgetenv("TEST_DATA"));
        QVERIFY2(QFileInfo(dataFile(QStringLiteral("icon-rgba.png"))).exists(), "TEST_DATA must name tests/data");
        QVERIFY2(!qgetenv("QOHIENC").isEmpty(), "QOHIENC must name qohienc");
        // The plugin is found through QT_PLUGIN_PATH and registers its key and MIME type.
        QVERIFY(QImageReader::supportedImageFormats().contains("qohi"));
        QVERIFY(QImageWriter::supportedImageFormats().contains("qohi"));
        QVERIFY(QImageReader::supportedMimeTypes().contains("image/x-qohi"));
    }

    // readtest: PNG templates -> qohienc -> QImageReader on a file, format
    // detected from the content, pixels bit-exact; RGB stays RGB.
    void readFile_data()
    {
        QTest::addColumn<QString>("png");
        QTest::addColumn<int>("format");
        QTest::newRow("rgba") << "trash-rgba.png" << int(QImage::Format_RGBA8888);
        QTest::newRow("rgb") << "trash-rgb.png" << int(QImage::Format_RGB888);
        QTest::newRow("grey") << "grey.png" << int(QImage::Format_RGB888);
        QTest::newRow("palette-trns") << "palette-trns.png" << int(QImage::Format_RGBA8888);
        QTest::newRow("interlaced") << "interlaced-rgba.png" << int(QImage::Format_RGBA8888);
    }
    void readFile()
    {
        QFETCH(QString, png);
        QFETCH(int, format);
        const QString file = encodePng(png);
        QVERIFY(!file.isEmpty());
        QImageReader reader(file);
        QVERIFY(reader.canRead());
        QCOMPARE(reader.format(), QByteArray("qohi"));
        QCOMPARE(int(reader.imageFormat()), format);
        QCOMPARE(reader.imageCount(), 1);
        QImage image;
        QVERIFY2(reader.read(&image), qPrintable(reader.errorString()));
        QCOMPARE(int(image.format()), format);
        QVERIFY(sameRgba(image, this->png(png)));
        QCOMPARE(image.text(QStringLiteral("Name")), png); // qohienc names a frame after its file
    }

    // The same on a sequential device (no seek, no size).
    void readSequential_data()
    {
        readFile_data();
    }
    void readSequential()
    {
        QFETCH(QString, png);
        const QString file = encodePng(png);
        QVERIFY(!file.isEmpty());
        SequentialBuffer device;
        device.setData(readBytes(file));
        QVERIFY(device.open(QIODevice::ReadOnly));
        QImageReader reader(&device);
        QVERIFY(reader.canRead());
        QCOMPARE(reader.format(), QByteArray("qohi"));
        QImage image;
        QVERIFY2(reader.read(&image), qPrintable(reader.errorString()));
        QVERIFY(sameRgba(image, this->png(png)));
    }

    // A real pipe: the bytes come from another process, in pieces.
    void readPipe()
    {
        const QString file = packSet();
        QVERIFY(!file.isEmpty());
        QProcess cat;
        cat.start(QStringLiteral("cat"), {file}, QIODevice::ReadOnly);
        QVERIFY(cat.waitForStarted());
        QVERIFY(cat.waitForReadyRead());
        QImageReader reader(&cat, "qohi");
        QCOMPARE(reader.imageCount(), 5);
        int frames = 0;
        while (reader.canRead()) {
            const QImage image = reader.read();
            QVERIFY2(!image.isNull(), qPrintable(reader.errorString()));
            checkSetFrame(image);
            ++frames;
        }
        QCOMPARE(frames, 5);
        cat.waitForFinished();
    }

    // The Size option comes from the frame header: it is right for a file
    // whose pixel data is damaged, which then fails to read.
    void sizeWithoutDecoding()
    {
        const QString file = encodePng(QStringLiteral("trash-rgba.png"));
        QByteArray bytes = readBytes(file);
        bytes[bytes.size() / 2] = char(~bytes[bytes.size() / 2]);
        QBuffer device(&bytes);
        QVERIFY(device.open(QIODevice::ReadOnly));
        QImageReader reader(&device, "qohi");
        QCOMPARE(reader.size(), QSize(256, 256));
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("qohi: frame 0: .*CRC")));
        QVERIFY(reader.read().isNull());
    }

    // A collection read in the three usual loops, on a file and on a
    // sequential device; every frame against its PNG.
    void multiFrame_data()
    {
        QTest::addColumn<bool>("sequential");
        QTest::newRow("file") << false;
        QTest::newRow("sequential") << true;
    }
    void multiFrame()
    {
        QFETCH(bool, sequential);
        const QString file = packSet();
        QVERIFY(!file.isEmpty());
        const QByteArray bytes = readBytes(file);
        auto open = [&](QIODevice *&device) {
            if (sequential) {
                auto *buffer = new SequentialBuffer;
                buffer->setData(bytes);
                buffer->open(QIODevice::ReadOnly);
                device = buffer;
            } else {
                auto *f = new QFile(file);
                f->open(QIODevice::ReadOnly);
                device = f;
            }
        };
        // 1: while (canRead()) read(), as QMovie does.
        {
            QIODevice *device = nullptr;
            open(device);
            QImageReader reader(device);
            QCOMPARE(reader.imageCount(), 5);
            int frames = 0;
            while (reader.canRead()) {
                const QImage image = reader.read();
                QVERIFY2(!image.isNull(), qPrintable(reader.errorString()));
                QCOMPARE(reader.currentImageNumber(), frames);
                checkSetFrame(image);
                ++frames;
            }
            QCOMPARE(frames, 5);
            delete device;
        }
        // 2: do { read() } while (jumpToNextImage()), as QIcon does.
        {
            QIODevice *device = nullptr;
            open(device);
            QImageReader reader(device);
            int frames = 0;
            do {
                const QImage image = reader.read();
                QVERIFY2(!image.isNull(), qPrintable(reader.errorString()));
                checkSetFrame(image);
                ++frames;
            } while (reader.jumpToNextImage());
            QCOMPARE(frames, 5);
            delete device;
        }
        // 3: jumpToImage in any order; Size follows the jump.
        {
            QIODevice *device = nullptr;
            open(device);
            QImageReader reader(device);
            QVector<QImage> byIndex(5);
            for (int index : {3, 0, 4, 1, 2}) {
                QVERIFY(reader.jumpToImage(index));
                QCOMPARE(reader.currentImageNumber(), index);
                const QSize size = reader.size();
                byIndex[index] = reader.read();
                QVERIFY(!byIndex[index].isNull());
                QCOMPARE(byIndex[index].size(), size);
                checkSetFrame(byIndex[index]);
            }
            QVERIFY(!reader.jumpToImage(5));
            QVERIFY(!reader.jumpToImage(-1));
            // Frame order is the file's: compare with libqohi's names.
            const QVector<LibraryFrame> frames = libraryDecode(bytes);
            QCOMPARE(frames.size(), 5);
            for (int i = 0; i < 5; ++i) {
                QCOMPARE(byIndex[i].text(QStringLiteral("Name")), frames[i].name);
                QVERIFY(sameRgba(byIndex[i], frames[i].image));
            }
            delete device;
        }
    }

    // writetest: QImageWriter to a file and to a sequential device; the
    // file decoded by libqohi has the image's pixels and channels.
    void write_data()
    {
        QTest::addColumn<QString>("png");
        QTest::addColumn<uint>("channels");
        QTest::addColumn<bool>("sequential");
        for (bool sequential : {false, true}) {
            const char *where = sequential ? "sequential" : "file";
            QTest::addRow("rgba-%s", where) << "trash-rgba.png" << 4u << sequential;
            QTest::addRow("rgb-%s", where) << "trash-rgb.png" << 3u << sequential;
            QTest::addRow("grey-%s", where) << "grey.png" << 3u << sequential;
            QTest::addRow("palette-trns-%s", where) << "palette-trns.png" << 4u << sequential;
        }
    }
    void write()
    {
        QFETCH(QString, png);
        QFETCH(uint, channels);
        QFETCH(bool, sequential);
        const QImage source = this->png(png);
        QVERIFY(!source.isNull());
        QByteArray written;
        if (sequential) {
            SequentialBuffer device;
            QVERIFY(device.open(QIODevice::WriteOnly));
            QImageWriter writer(&device, "qohi");
            QVERIFY2(writer.write(source), qPrintable(writer.errorString()));
            written = device.written();
        } else {
            const QString out = workFile(png + QStringLiteral(".qohi"));
            QImageWriter writer(out, "qohi");
            QVERIFY2(writer.write(source), qPrintable(writer.errorString()));
            written = readBytes(out);
        }
        const QVector<LibraryFrame> frames = libraryDecode(written);
        QCOMPARE(frames.size(), 1);
        QCOMPARE(frames[0].channels, channels);
        QVERIFY(sameRgba(frames[0].image, source));
        // And back through the plugin.
        QBuffer back(&written);
        QVERIFY(back.open(QIODevice::ReadOnly));
        QVERIFY(sameRgba(QImageReader(&back, "qohi").read(), source));
    }

    // Names, texts and the colour space travel with the frame;
    // CompressionRatio 1 is effort 1.
    void writeMetadata()
    {
        QImage image = png(QStringLiteral("icon-rgba.png"));
        image.setText(QStringLiteral("Name"), QStringLiteral("hero/smile.png"));
        image.setText(QStringLiteral("Comment"), QStringLiteral("caf\u00e9"));
        image.setColorSpace(QColorSpace(QColorSpace::AdobeRgb));
        QByteArray written;
        QBuffer device(&written);
        QVERIFY(device.open(QIODevice::WriteOnly));
        QImageWriter writer(&device, "qohi");
        writer.setCompression(1);
        QVERIFY(writer.write(image));
        QCOMPARE(libraryDecode(written).value(0).name, QStringLiteral("hero/smile.png"));
        QBuffer back(&written);
        QVERIFY(back.open(QIODevice::ReadOnly));
        QImageReader reader(&back);
        QCOMPARE(reader.text(QStringLiteral("Comment")), QStringLiteral("caf\u00e9"));
        const QImage read = reader.read();
        QCOMPARE(read.text(QStringLiteral("Name")), QStringLiteral("hero/smile.png"));
        QCOMPARE(read.colorSpace(), QColorSpace(QColorSpace::AdobeRgb));
        QVERIFY(sameRgba(read, image));
    }

    // The content, not the name, tells the format.
    void wrongExtension()
    {
        const QString file = encodePng(QStringLiteral("icon-rgba.png"));
        const QString disguised = workFile(QStringLiteral("looks-like.png"));
        const QString bare = workFile(QStringLiteral("no_extension"));
        QVERIFY(QFile::copy(file, disguised));
        QVERIFY(QFile::copy(file, bare));
        for (const QString &path : {disguised, bare}) {
            QImageReader reader(path);
            // (Before read(): afterwards no frame is left to read.)
            QCOMPARE(reader.format(), QByteArray("qohi"));
            QImage image;
            QVERIFY2(reader.read(&image), qPrintable(path + QStringLiteral(": ") + reader.errorString()));
            QVERIFY(sameRgba(image, png(QStringLiteral("icon-rgba.png"))));
        }
    }

    // Broken files: read() fails with the library's reason as a warning,
    // on a file and on a sequential device.
    void corrupt()
    {
        QByteArray bytes = readBytes(encodePng(QStringLiteral("trash-rgba.png")));
        bytes[bytes.size() / 2] = char(~bytes[bytes.size() / 2]);
        expectReadError(bytes, QStringLiteral("qohi: .*CRC"));
    }
    void truncated()
    {
        const QByteArray bytes = readBytes(encodePng(QStringLiteral("trash-rgba.png")));
        expectReadError(bytes.left(bytes.size() * 2 / 3), QStringLiteral("qohi: .*(truncat|ends early|cut off|incomplete|no complete|no frames)"));
        expectReadError(bytes.left(5), QStringLiteral("qohi: "));
    }
    void notQohi()
    {
        // Forced to the format, other bytes are refused, not misread.
        expectReadError(readBytes(dataFile(QStringLiteral("icon-rgba.png"))), QStringLiteral("qohi: .*not a QOHI"));
        expectReadError(QByteArray(), QStringLiteral("qohi: "));
    }

    // Damage anywhere (every byte inverted in turn, every length cut):
    // every frame either reads or fails cleanly, never a crash.
    void damagedNoCrash()
    {
        const QByteArray good = readBytes(packSet());
        QVERIFY(good.size() > 100);
        QtMessageHandler previous = qInstallMessageHandler([](QtMsgType, const QMessageLogContext &, const QString &) {});
        const int step = qMax(1, good.size() / 1500);
        for (int offset = 0; offset < good.size(); offset += step) {
            QByteArray bad = good;
            bad[offset] = char(~bad[offset]);
            QBuffer device(&bad);
            device.open(QIODevice::ReadOnly);
            QImageReader reader(&device, "qohi");
            for (int frame = 0; frame < reader.imageCount(); ++frame) {
                reader.jumpToImage(frame);
                reader.read();
            }
        }
        // A cut file fails, or gives back exactly the frames that are
        // complete (a reader may recover them by a scan).
        const QVector<LibraryFrame> frames = libraryDecode(good);
        QVERIFY(!frames.isEmpty());
        bool wrongPixels = false;
        for (int length = 0; length < good.size(); length += step) {
            QByteArray cut = good.left(length);
            QBuffer device(&cut);
            device.open(QIODevice::ReadOnly);
            const QImage first = QImageReader(&device, "qohi").read();
            wrongPixels = wrongPixels || (!first.isNull() && !sameRgba(first, frames[0].image));
        }
        qInstallMessageHandler(previous);
        QVERIFY2(!wrongPixels, "a truncated file read with wrong pixels");
    }

private:
    void expectReadError(const QByteArray &bytes, const QString &pattern)
    {
        const QString path = workFile(QStringLiteral("broken.qohi"));
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
        file.write(bytes);
        file.close();
        for (bool sequential : {false, true}) {
            SequentialBuffer buffer;
            buffer.setData(bytes);
            QFile input(path);
            QIODevice *device = sequential ? static_cast<QIODevice *>(&buffer) : &input;
            QVERIFY(device->open(QIODevice::ReadOnly));
            QImageReader reader(device, "qohi");
            QTest::ignoreMessage(QtWarningMsg, QRegularExpression(pattern));
            QImage image;
            QVERIFY(!reader.read(&image));
            QVERIFY(image.isNull());
            QCOMPARE(reader.error(), QImageReader::InvalidDataError);
        }
    }
};

QTEST_GUILESS_MAIN(QohiQtTest)
#include "qohi_qt_test.moc"
