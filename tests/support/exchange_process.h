// ExchangeProcess: tools/shadow-exchange as a child process for integration tests. Starts it
// with `--port 0` plus the given arguments, reads the URL from the one line it prints on stdout
// once it listens, and keeps its stderr in a temporary file so a test can read the exit
// summary (the `faults:` line). The destructor kills what is still running.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

extern char** environ;

namespace shadow::test_support {

inline std::int64_t mono_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

class ExchangeProcess {
 public:
  // `binary`: path of shadow-exchange; `args`: everything after `--port 0`.
  ExchangeProcess(const std::string& binary, const std::vector<std::string>& args,
                  std::string port = "0") {
    char tmpl[] = "/tmp/shadow-exchange-stderr-XXXXXX";
    err_fd_ = mkstemp(tmpl);
    if (err_fd_ >= 0) err_path_ = tmpl;
    int out[2];
    if (pipe(out) != 0) return;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    if (err_fd_ >= 0) posix_spawn_file_actions_adddup2(&fa, err_fd_, 2);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    std::vector<std::string> all = {binary, "--port", port};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, binary.c_str(), &fa, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    ::close(out[1]);
    out_fd_ = out[0];
    std::string line;
    const std::int64_t deadline = mono_ms() + 5000;
    while (pid_ > 0 && line.find('\n') == std::string::npos && mono_ms() < deadline) {
      pollfd p{out_fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buf[256];
      const ssize_t n = ::read(out_fd_, buf, sizeof buf);
      if (n <= 0) break;
      line.append(buf, static_cast<std::size_t>(n));
    }
    line_ = line.substr(0, line.find('\n'));
    const std::size_t at = line_.find("ws://");
    if (at != std::string::npos) url_ = line_.substr(at);
    const std::size_t colon = url_.rfind(':');
    if (colon != std::string::npos) port_ = std::atoi(url_.c_str() + colon + 1);
  }
  ~ExchangeProcess() {
    kill_now();
    if (out_fd_ >= 0) ::close(out_fd_);
    if (err_fd_ >= 0) ::close(err_fd_);
    if (!err_path_.empty()) ::unlink(err_path_.c_str());
  }
  ExchangeProcess(const ExchangeProcess&) = delete;
  ExchangeProcess& operator=(const ExchangeProcess&) = delete;

  const std::string& url() const { return url_; }
  const std::string& line() const { return line_; }
  int port() const { return port_; }
  bool terminate() const { return pid_ > 0 && kill(pid_, SIGTERM) == 0; }
  void kill_now() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      int st = 0;
      waitpid(pid_, &st, 0);
      pid_ = -1;
    }
  }
  // Waits up to `timeout_ms` for the child; returns its wait status, or -1 when it did not exit.
  int wait(std::int64_t timeout_ms) {
    const std::int64_t deadline = mono_ms() + timeout_ms;
    while (pid_ > 0) {
      int st = 0;
      const pid_t r = waitpid(pid_, &st, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        return st;
      }
      if (r < 0 || mono_ms() >= deadline) break;
      usleep(5000);
    }
    return -1;
  }
  // What the child wrote on stderr so far.
  std::string stderr_text() const {
    std::string s;
    if (err_path_.empty()) return s;
    FILE* f = std::fopen(err_path_.c_str(), "r");
    if (f == nullptr) return s;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
    std::fclose(f);
    return s;
  }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  int port_ = 0;
  std::string err_path_;
  std::string line_, url_;
};

}  // namespace shadow::test_support
