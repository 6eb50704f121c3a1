// Internal result type: a public status code plus a readable message.
#ifndef QOHI_STATUS_H
#define QOHI_STATUS_H

#include <string>
#include <utility>

#include "qohi/qohi.h"

namespace qohi {

struct Status {
    qohi_status code = QOHI_OK;
    std::string message;

    Status() = default;
    Status(qohi_status c, std::string m) : code(c), message(std::move(m)) {}

    bool ok() const { return code == QOHI_OK; }
};

inline Status ok_status() { return Status(); }
inline Status corrupt(std::string m) { return Status(QOHI_ERROR_CORRUPT, std::move(m)); }
inline Status truncated(std::string m) { return Status(QOHI_ERROR_TRUNCATED, std::move(m)); }
inline Status invalid_argument(std::string m) { return Status(QOHI_ERROR_INVALID_ARGUMENT, std::move(m)); }
inline Status unsupported(std::string m) { return Status(QOHI_ERROR_UNSUPPORTED, std::move(m)); }

#define QOHI_RETURN_IF_ERROR(expr)            \
    do {                                      \
        ::qohi::Status qohi_status_ = (expr); \
        if (!qohi_status_.ok()) return qohi_status_; \
    } while (0)

}  // namespace qohi

#endif
