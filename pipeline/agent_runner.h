// AgentRunner: runs one Agent on its own named, pinned thread (Aeron's agent idiom, STYLE.md):
//
//   on_start();  while (running) idle.idle(do_work());  on_close();
//
// An Agent is any type with `void on_start()`, `int do_work()` (how much it did; 0 = idle) and
// `void on_close()`; `std::string_view name()` names the thread (15 characters kept). An
// exception thrown by the agent is caught, stored (error()), and stops that agent — the loop
// never dies silently; the run notices through failed() and shuts down.
//
// stop() asks the loop to end after the current do_work(); join() waits for on_close().
#pragma once

#include <atomic>
#include <cstdio>
#include <exception>
#include <string>
#include <thread>

#include "core/thread_affinity.h"
#include "core/thread_sched.h"
#include "pipeline/idle_strategy.h"

namespace shadow {

template <class Agent>
class AgentRunner {
 public:
  // cpu < 0: not pinned.
  AgentRunner(Agent& agent, IdleStrategy idle, int cpu) : agent_(agent), idle_(idle), cpu_(cpu) {}
  AgentRunner(const AgentRunner&) = delete;
  AgentRunner& operator=(const AgentRunner&) = delete;
  ~AgentRunner() {
    stop();
    join();
  }

  void start() {
    thread_ = std::thread([this] { run(); });
  }
  void stop() noexcept { running_.store(false, std::memory_order_release); }
  void join() {
    if (thread_.joinable()) thread_.join();
  }
  bool failed() const noexcept { return failed_.load(std::memory_order_acquire); }
  bool finished() const noexcept { return finished_.load(std::memory_order_acquire); }
  // The exception text; read after failed() returned true.
  const std::string& error() const noexcept { return error_; }
  bool pinned() const noexcept { return pinned_; }
  // The thread's kernel id once it runs (0 before): for its scheduler counters.
  const std::atomic<int>& tid() const noexcept { return tid_; }

 private:
  void run() noexcept {
    tid_.store(current_tid(), std::memory_order_release);
    name_current_thread(agent_.name());
    if (cpu_ >= 0) {
      pinned_ = pin_current_thread(cpu_);
      if (!pinned_) {
        std::fprintf(stderr, "shadow: thread %.*s could not be pinned to CPU %d; running unpinned\n",
                     static_cast<int>(agent_.name().size()), agent_.name().data(), cpu_);
      }
    }
    try {
      agent_.on_start();
      while (running_.load(std::memory_order_acquire)) idle_.idle(agent_.do_work());
      agent_.on_close();
    } catch (const std::exception& e) {
      error_ = std::string(agent_.name()) + ": " + e.what();
      failed_.store(true, std::memory_order_release);
    } catch (...) {
      error_ = std::string(agent_.name()) + ": unknown exception";
      failed_.store(true, std::memory_order_release);
    }
    finished_.store(true, std::memory_order_release);
  }

  Agent& agent_;
  IdleStrategy idle_;
  int cpu_;
  bool pinned_ = false;
  std::thread thread_;
  std::atomic<bool> running_{true};
  std::atomic<bool> failed_{false};
  std::atomic<bool> finished_{false};
  std::atomic<int> tid_{0};
  std::string error_;
};

}  // namespace shadow
