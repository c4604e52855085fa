#include "core/signals.h"

#include <signal.h>
#include <unistd.h>

namespace shadow::signals {
namespace {

std::atomic<int> g_count{0};
std::atomic<int> g_first{0};
std::atomic<bool> g_second_exits{false};
std::atomic<StopCallback> g_callback{nullptr};
std::atomic<void*> g_context{nullptr};
static_assert(std::atomic<int>::is_always_lock_free, "the handler's stores must be signal-safe");
static_assert(std::atomic<StopCallback>::is_always_lock_free);
static_assert(std::atomic<void*>::is_always_lock_free);

extern "C" void on_stop_signal(int signo) {
  if (g_count.fetch_add(1, std::memory_order_relaxed) >= 1) {
    if (g_second_exits.load(std::memory_order_relaxed)) _exit(128 + signo);
    return;
  }
  g_first.store(signo, std::memory_order_relaxed);
  const StopCallback cb = g_callback.load(std::memory_order_acquire);
  if (cb != nullptr) cb(g_context.load(std::memory_order_acquire));
}

}  // namespace

void install_stop_handlers(bool second_signal_exits) noexcept {
  g_second_exits.store(second_signal_exits, std::memory_order_relaxed);
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;  // no SA_RESTART: blocking waits return EINTR
  sigemptyset(&sa.sa_mask);
  for (const int s : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(s, &sa, nullptr);
  struct sigaction ign {};
  ign.sa_handler = SIG_IGN;
  sigemptyset(&ign.sa_mask);
  ::sigaction(SIGPIPE, &ign, nullptr);
}

bool stop_requested() noexcept { return g_count.load(std::memory_order_relaxed) > 0; }

int stop_signal() noexcept { return g_first.load(std::memory_order_relaxed); }

void set_stop_callback(StopCallback callback, void* context) noexcept {
  g_callback.store(nullptr, std::memory_order_release);
  g_context.store(context, std::memory_order_release);
  g_callback.store(callback, std::memory_order_release);
}

void reset_for_test() noexcept {
  g_count.store(0, std::memory_order_relaxed);
  g_first.store(0, std::memory_order_relaxed);
}

}  // namespace shadow::signals
