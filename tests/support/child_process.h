// A child process for the tests (a peer script that prints its port, then serves): spawned with
// its stdout on a pipe, the first line it prints read with a deadline, SIGTERM and waitpid at
// the end. C++ twin of tests/support/peer_process.py.
#pragma once

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

extern char** environ;

namespace shadow::test_support {

class ChildProcess {
 public:
  // argv[0] is the program's path. first_line() stays empty when it does not start or prints
  // nothing within `timeout_ms`.
  explicit ChildProcess(std::vector<std::string> argv, int timeout_ms = 20000) {
    int out[2];
    if (argv.empty() || pipe(out) != 0) return;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    std::vector<char*> cargv;
    for (std::string& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0].c_str(), &fa, nullptr, cargv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    ::close(out[1]);
    std::string got;
    const std::int64_t deadline = now_ms() + timeout_ms;
    while (pid_ > 0 && got.find('\n') == std::string::npos && now_ms() < deadline) {
      pollfd p{out[0], POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) continue;
      char buf[128];
      const ssize_t n = ::read(out[0], buf, sizeof buf);
      if (n <= 0) break;
      got.append(buf, static_cast<std::size_t>(n));
    }
    ::close(out[0]);
    first_line_ = got.substr(0, got.find('\n'));
  }
  ~ChildProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int st = 0;
      waitpid(pid_, &st, 0);
    }
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  const std::string& first_line() const { return first_line_; }

 private:
  static std::int64_t now_ms() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
  }
  pid_t pid_ = -1;
  std::string first_line_;
};

}  // namespace shadow::test_support
