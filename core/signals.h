// One stop-signal mechanism for every program (Aeron's idiom: a handler only sets a flag; the
// main loop sees it, drains and closes everything).
//
// install_stop_handlers() makes SIGINT, SIGTERM and SIGHUP request a stop and ignores SIGPIPE (a
// peer that goes away is an error on the write, not a killed process). The handlers are
// installed without SA_RESTART, so a blocking epoll_wait/poll/read returns EINTR and its loop
// sees the flag at once. With `second_signal_exits`, a second signal while the first stop is
// still running ends the process at once with 128 + that signal (an operator's "really stop").
#pragma once

#include <atomic>

namespace shadow::signals {

void install_stop_handlers(bool second_signal_exits = false) noexcept;

// True once a stop signal has arrived.
bool stop_requested() noexcept;
// The first stop signal's number, 0 before one arrived.
int stop_signal() noexcept;

// Called from the handler on the first stop signal (after the flag is set); must be
// async-signal-safe (an atomic store, as ShadowRun::request_stop does). nullptr clears it.
using StopCallback = void (*)(void* context) noexcept;
void set_stop_callback(StopCallback callback, void* context) noexcept;

// For tests: forget an earlier signal.
void reset_for_test() noexcept;

}  // namespace shadow::signals
