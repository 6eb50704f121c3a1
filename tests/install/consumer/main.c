/* Encodes and decodes a 2x2 image through the installed C API (plain C). */
#include <qohi/qohi.h>
#include <stdio.h>
#include <string.h>

int main(void) {
    const unsigned char px[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    void *file = NULL, *back = NULL;
    size_t size = 0;
    qohi_error err;
    if (qohi_encode(px, 2, 2, 3, 0, NULL, &file, &size, &err) != QOHI_OK) {
        fprintf(stderr, "encode: %s\n", err.message);
        return 1;
    }
    if (qohi_decode(file, size, NULL, 0, &back, NULL, &err) != QOHI_OK) {
        fprintf(stderr, "decode: %s\n", err.message);
        return 1;
    }
    int same = memcmp(back, px, sizeof px) == 0;
    qohi_free(file);
    qohi_free(back);
    printf("libqohi %s round trip %s\n", qohi_version_string(), same ? "ok" : "MISMATCH");
    return same ? 0 : 1;
}
