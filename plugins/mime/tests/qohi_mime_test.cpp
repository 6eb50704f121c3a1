// The shared-mime-info definition seen by a real consumer, Qt's
// QMimeDatabase (what KDE programs use): by name, by content, and by
// content when the name says otherwise. Run with XDG_DATA_DIRS naming a
// folder whose mime/ database was built from qohi.xml (see CMakeLists.txt).
//   qohi_mime_test SAMPLE.qohi
#include <QCoreApplication>
#include <QFile>
#include <QMimeDatabase>
#include <QTemporaryDir>

#include <cstdio>

namespace
{
int failures = 0;

void expect(const QString &what, const QMimeType &type, const char *expected)
{
    if (type.name() != QLatin1String(expected)) {
        std::fprintf(stderr, "FAIL: %s: %s, expected %s\n", qPrintable(what), qPrintable(type.name()), expected);
        ++failures;
    }
}
} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    if (argc != 2) {
        std::fprintf(stderr, "usage: qohi_mime_test SAMPLE.qohi\n");
        return 2;
    }
    QFile sample(QString::fromLocal8Bit(argv[1]));
    if (!sample.open(QIODevice::ReadOnly)) {
        std::fprintf(stderr, "cannot read %s\n", argv[1]);
        return 2;
    }
    const QByteArray bytes = sample.readAll();
    QTemporaryDir dir;
    auto copy = [&](const QString &name) {
        const QString path = dir.filePath(name);
        QFile out(path);
        out.open(QIODevice::WriteOnly);
        out.write(bytes);
        return path;
    };

    QMimeDatabase db;
    const QMimeType type = db.mimeTypeForName(QStringLiteral("image/x-qohi"));
    if (!type.isValid() || !type.globPatterns().contains(QStringLiteral("*.qohi"))) {
        std::fprintf(stderr, "FAIL: image/x-qohi is not defined (or has no *.qohi glob)\n");
        return 1;
    }
    expect(QStringLiteral("name only"), db.mimeTypeForFile(QStringLiteral("collection.qohi"), QMimeDatabase::MatchExtension),
           "image/x-qohi");
    expect(QStringLiteral("content only"), db.mimeTypeForData(bytes), "image/x-qohi");
    expect(QStringLiteral("file with a .qohi name"), db.mimeTypeForFile(copy(QStringLiteral("a.qohi"))), "image/x-qohi");
    expect(QStringLiteral("file without extension"), db.mimeTypeForFile(copy(QStringLiteral("no_extension"))), "image/x-qohi");
    expect(QStringLiteral("file named .png, by content"),
           db.mimeTypeForFile(copy(QStringLiteral("looks-like.png")), QMimeDatabase::MatchContent), "image/x-qohi");
    // The magic is the whole signature: a prefix of it is something else.
    if (db.mimeTypeForData(bytes.left(5)).name() == QLatin1String("image/x-qohi")) {
        std::fprintf(stderr, "FAIL: the first 5 bytes of the signature are taken for image/x-qohi\n");
        ++failures;
    }
    return failures ? 1 : 0;
}
