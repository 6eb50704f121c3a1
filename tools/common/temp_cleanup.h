// Temporary files removed when SIGINT, SIGTERM or SIGHUP ends a tool: the
// handler unlinks the registered paths, then lets the signal end the
// program as it would have (async-signal-safe; one thread registers).
#ifndef QOHI_TOOLS_TEMP_CLEANUP_H
#define QOHI_TOOLS_TEMP_CLEANUP_H

#include <signal.h>

#include <string>

namespace qohi_tools {

// While it lives, `path` (nothing if empty) is removed if one of the
// signals ends the program. The first one installs the handlers (a signal
// that was ignored stays ignored).
class RemoveOnSignal {
public:
    explicit RemoveOnSignal(const std::string& path);
    ~RemoveOnSignal();
    RemoveOnSignal(const RemoveOnSignal&) = delete;
    RemoveOnSignal& operator=(const RemoveOnSignal&) = delete;

private:
    int slot_ = -1;
};

// Holds the three signals back while it lives (they arrive at its end):
// for the moments a temporary file exists but is not registered yet, or
// is being renamed.
class HoldSignals {
public:
    HoldSignals();
    ~HoldSignals();
    HoldSignals(const HoldSignals&) = delete;
    HoldSignals& operator=(const HoldSignals&) = delete;

private:
    sigset_t old_;
};

}  // namespace qohi_tools

#endif
