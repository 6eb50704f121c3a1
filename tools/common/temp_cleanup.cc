// Temporary files removed on a fatal signal (see temp_cleanup.h).
#include "temp_cleanup.h"

#include <unistd.h>

#include <cstring>

namespace qohi_tools {

namespace {

constexpr int kSlots = 8;
constexpr size_t kMaxPath = 4096;
char g_paths[kSlots][kMaxPath];
volatile sig_atomic_t g_used[kSlots];
const int kSignals[] = {SIGINT, SIGTERM, SIGHUP};

extern "C" void remove_and_die(int sig) {
    for (int i = 0; i < kSlots; ++i) {
        if (g_used[i]) ::unlink(g_paths[i]);
    }
    // SA_RESETHAND restored the default action; SA_NODEFER lets it act now.
    ::raise(sig);
}

void install_handlers() {
    static bool installed = false;
    if (installed) return;
    installed = true;
    for (int sig : kSignals) {
        struct sigaction old;
        if (::sigaction(sig, nullptr, &old) != 0 || old.sa_handler == SIG_IGN) continue;
        struct sigaction sa;
        std::memset(&sa, 0, sizeof sa);
        sa.sa_handler = remove_and_die;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESETHAND | SA_NODEFER;
        ::sigaction(sig, &sa, nullptr);
    }
}

sigset_t the_signals() {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : kSignals) sigaddset(&set, sig);
    return set;
}

}  // namespace

RemoveOnSignal::RemoveOnSignal(const std::string& path) {
    if (path.empty() || path.size() >= kMaxPath) return;
    HoldSignals hold;
    install_handlers();
    for (int i = 0; i < kSlots; ++i) {
        if (g_used[i]) continue;
        std::memcpy(g_paths[i], path.c_str(), path.size() + 1);
        g_used[i] = 1;
        slot_ = i;
        return;
    }
}

RemoveOnSignal::~RemoveOnSignal() {
    if (slot_ >= 0) g_used[slot_] = 0;
}

HoldSignals::HoldSignals() {
    const sigset_t set = the_signals();
    ::sigprocmask(SIG_BLOCK, &set, &old_);
}

HoldSignals::~HoldSignals() { ::sigprocmask(SIG_SETMASK, &old_, nullptr); }

}  // namespace qohi_tools
