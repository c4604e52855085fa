// ExchangeProcess: tools/shadow-exchange (or anything that prints `... ws://HOST:PORT/PATH`, or
// wss://, on its first stdout line once it listens) as a child process. shadow-run's embedded venue, the
// latency harness and the integration tests all start the exchange through this one class.
//
//   shadow::ExchangeProcess ex;
//   if (!ex.start({bin, "--port", "0", "--rate", "5000"}, {}, err)) die(err);
//   connect(ex.url()); ...; ex.stop(3000);        // SIGTERM, then SIGKILL after the grace
//
// The child dies with its parent (PR_SET_PDEATHSIG), may be pinned to a CPU, and can have its
// stderr kept in a temporary file (stderr_text()) for tests that read its exit summary.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace shadow {

struct ExchangeProcessOptions {
  int cpu = -1;                 // pin the child to this CPU (-1: inherit)
  bool capture_stderr = false;  // stderr to a temporary file instead of ours
  int ready_timeout_ms = 5000;  // the listening line must come within this
};

class ExchangeProcess {
 public:
  ExchangeProcess() = default;
  ExchangeProcess(const ExchangeProcess&) = delete;
  ExchangeProcess& operator=(const ExchangeProcess&) = delete;
  ~ExchangeProcess();

  // argv[0] is the binary. False with `error` naming what went wrong (exec failed, exited
  // before listening with its status, no listening line in time, unexpected first line).
  bool start(const std::vector<std::string>& argv, const ExchangeProcessOptions& opt,
             std::string& error);

  const std::string& url() const noexcept { return url_; }    // ws[s]://HOST:PORT/PATH
  const std::string& line() const noexcept { return line_; }  // the first stdout line
  // http://127.0.0.1:PORT of the sandbox trading API (shadow-exchange --rest-port), or "".
  const std::string& rest_url() const noexcept { return rest_url_; }
  int port() const noexcept { return port_; }
  pid_t pid() const noexcept { return pid_; }

  bool terminate() const noexcept;  // SIGTERM
  // Wait status once the child exited, or -1 when it still runs after `timeout_ms`.
  int wait_ms(std::int64_t timeout_ms) noexcept;
  // SIGTERM, wait up to `grace_ms`, then SIGKILL. Returns the wait status.
  int stop(std::int64_t grace_ms) noexcept;
  void kill_now() noexcept;
  // What the child wrote on stderr so far (capture_stderr only).
  std::string stderr_text() const;

  static std::string describe(int wait_status);  // "exit status 0", "killed by signal ..."

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  int port_ = 0;
  std::string err_path_;
  std::string line_, url_, rest_url_;
};

}  // namespace shadow
