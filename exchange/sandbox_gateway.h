// SandboxGateway: the sandbox trading API's HTTP server (docs/SANDBOX.md, "REST"). cpp-httplib
// serves http://127.0.0.1:PORT on a fixed pool of worker threads; each worker parses and
// authenticates its request (exchange/sandbox_request.h) and hands the typed command to the
// exchange thread through a lock-free MPSC queue (ringbuf/mpsc_queue.h) and an eventfd
// the exchange's epoll loop watches. The exchange thread runs drain() when the eventfd fires:
// it executes each command (SandboxService) and wakes the waiting worker (a C++20
// atomic wait, a futex). So the thread that publishes the public stream never parses HTTP or
// JSON, never computes an HMAC and never blocks on a client; it only matches orders.
//
// Bad clients: bodies over 64 KiB get HTTP 413; a request must arrive within 5 s of the
// connection (or of the previous one on keep-alive) or the worker drops it, so slow clients hold
// a worker for at most that long; kWorkers connections are served at once, more wait in the
// kernel's accept queue. Floods meet the per-account rate limits (SandboxRateLimiter).
//
// Threading: start()/stop()/drain() on the exchange thread; the workers are the gateway's own.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "exchange/sandbox_accounts.h"
#include "exchange/sandbox_request.h"

namespace shadow {

class SandboxService;

class SandboxGateway {
 public:
  static constexpr int kWorkers = 8;

  // `accounts` and `service` outlive the gateway.
  SandboxGateway(const SandboxAccounts& accounts, SandboxService& service);
  SandboxGateway(const SandboxGateway&) = delete;
  SandboxGateway& operator=(const SandboxGateway&) = delete;
  ~SandboxGateway();

  // Listens on 127.0.0.1:port (0: any free port) and starts the workers. False with `error`.
  bool start(int port, std::string& error);
  int port() const noexcept { return port_; }
  // The descriptor the exchange loop polls for readability: commands are waiting.
  int event_fd() const noexcept { return event_fd_; }
  // Executes every waiting command (exchange thread). Returns how many.
  std::size_t drain();
  // Stops accepting, finishes the requests in flight (draining meanwhile), joins the workers.
  void stop();

 private:
  struct Job;
  struct Impl;
  void handle(const RestRequest& req, RestReply& reply);

  const SandboxAccounts& accounts_;
  SandboxService& service_;
  std::unique_ptr<Impl> impl_;
  std::thread listener_;
  int event_fd_ = -1;
  int port_ = -1;
  std::atomic<bool> closing_{false};
};

}  // namespace shadow
