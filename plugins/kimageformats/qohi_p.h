// Qt 5 image I/O plugin for .qohi files, in the style of KImageFormats
// (kimg_qohi, key "qohi", MIME type image/x-qohi).
#ifndef QOHI_KIMG_QOHI_P_H
#define QOHI_KIMG_QOHI_P_H

#include <QByteArray>
#include <QImageIOHandler>
#include <QImageIOPlugin>
#include <QString>

struct qohi_reader;
struct qohi_frame_info;

// Reads every frame of a .qohi file (imageCount, jumpToImage, ...) and
// writes one image as a single-frame file.
//
// The whole file is read from the device the first time a frame, its size
// or the frame count is asked for: random-access and sequential devices
// (pipes, sockets) are handled alike, and frames are then decoded from
// memory in any order.
//
// Frame order: read() returns the current frame; the next read() (or
// canRead()) moves on to the following one, as Qt's animated formats do,
// while jumpToNextImage() / jumpToImage() choose the frame the next read()
// returns, as Qt's multi-image formats do. Both styles of loop work.
class QohiHandler : public QImageIOHandler
{
public:
    QohiHandler();
    ~QohiHandler() override;
    QohiHandler(const QohiHandler &) = delete;
    QohiHandler &operator=(const QohiHandler &) = delete;

    bool canRead() const override;
    bool read(QImage *image) override;
    bool write(const QImage &image) override;

    bool supportsOption(ImageOption option) const override;
    QVariant option(ImageOption option) const override;
    void setOption(ImageOption option, const QVariant &value) override;

    int imageCount() const override;
    bool jumpToImage(int imageNumber) override;
    bool jumpToNextImage() override;
    int currentImageNumber() const override;

    // True if the device's next bytes are the QOHI signature (peeked, not read).
    static bool canRead(QIODevice *device);

private:
    // Reads and opens the file once; false (with a warning) if it cannot.
    bool load() const;
    // The frame the next read() returns.
    int nextFrame() const;
    bool frameInfo(int index, qohi_frame_info *info) const;

    mutable enum class State { Unread, Open, Failed } m_state = State::Unread;
    mutable QByteArray m_data;  // the whole file; the reader points into it
    mutable qohi_reader *m_reader = nullptr;
    mutable int m_frameCount = 0;
    int m_current = 0;          // the frame last read or jumped to
    bool m_currentRead = false; // read() has returned m_current
    // Writing: frame name (Name option or the image's "Name" text) and
    // effort (CompressionRatio option: 0 fast, 1 smaller).
    QString m_writeName;
    int m_writeEffort = 0;
};

class QohiPlugin : public QImageIOPlugin
{
    Q_OBJECT
    Q_PLUGIN_METADATA(IID "org.qt-project.Qt.QImageIOHandlerFactoryInterface" FILE "qohi.json")

public:
    Capabilities capabilities(QIODevice *device, const QByteArray &format) const override;
    QImageIOHandler *create(QIODevice *device, const QByteArray &format = QByteArray()) const override;
};

#endif
