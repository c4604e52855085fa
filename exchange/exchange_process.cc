#include "exchange/exchange_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/clock.h"
#include "core/thread_affinity.h"

namespace shadow {

ExchangeProcess::~ExchangeProcess() {
  kill_now();
  if (out_fd_ >= 0) ::close(out_fd_);
  if (err_fd_ >= 0) ::close(err_fd_);
  if (!err_path_.empty()) ::unlink(err_path_.c_str());
}

bool ExchangeProcess::start(const std::vector<std::string>& argv, const ExchangeProcessOptions& opt,
                            std::string& error) {
  if (argv.empty()) return error = "no program to start", false;
  if (opt.capture_stderr) {
    char tmpl[] = "/tmp/shadow-exchange-stderr-XXXXXX";
    err_fd_ = mkstemp(tmpl);
    if (err_fd_ < 0) return error = std::string("mkstemp: ") + std::strerror(errno), false;
    err_path_ = tmpl;
  }
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return error = std::string("pipe: ") + std::strerror(errno), false;
  const pid_t parent = getpid();
  pid_ = fork();
  if (pid_ < 0) {
    ::close(out[0]);
    ::close(out[1]);
    return error = std::string("fork: ") + std::strerror(errno), false;
  }
  if (pid_ == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the run that started it
    if (getppid() != parent) _exit(1);
    if (opt.cpu >= 0) pin_current_thread(opt.cpu);
    dup2(out[1], 1);
    if (err_fd_ >= 0) dup2(err_fd_, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    std::fprintf(stderr, "cannot start %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  ::close(out[1]);
  out_fd_ = out[0];
  std::string text;
  const std::int64_t deadline = monotonic_ns() + std::int64_t{opt.ready_timeout_ms} * 1'000'000;
  while (text.find('\n') == std::string::npos) {
    const std::int64_t left_ms = (deadline - monotonic_ns()) / 1'000'000;
    if (left_ms <= 0) {
      error = argv[0] + " printed no listening line within " + std::to_string(opt.ready_timeout_ms) + " ms";
      return false;
    }
    pollfd p{out_fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left_ms, 100))) <= 0) continue;
    char buf[512];
    const ssize_t n = ::read(out_fd_, buf, sizeof buf);
    if (n <= 0) {
      error = argv[0] + " exited before listening (" + describe(wait_ms(1000)) + ")";
      return false;
    }
    text.append(buf, static_cast<std::size_t>(n));
  }
  line_ = text.substr(0, text.find('\n'));
  std::size_t at = line_.find("wss://");  // shadow-exchange --tls-cert
  if (at == std::string::npos) at = line_.find("ws://");
  if (at == std::string::npos) {
    error = "unexpected first line from " + argv[0] + ": '" + line_ + "'";
    return false;
  }
  url_ = line_.substr(at, line_.find(' ', at) - at);
  // The sandbox's REST base URL, when the exchange serves it (--rest-port): " rest=http://...".
  if (const std::size_t r = line_.find(" rest="); r != std::string::npos) {
    rest_url_ = line_.substr(r + 6, line_.find(' ', r + 6) - (r + 6));
  }
  const std::size_t colon = url_.find(':', 5);
  if (colon != std::string::npos) port_ = std::atoi(url_.c_str() + colon + 1);
  return true;
}

bool ExchangeProcess::terminate() const noexcept { return pid_ > 0 && ::kill(pid_, SIGTERM) == 0; }

int ExchangeProcess::wait_ms(std::int64_t timeout_ms) noexcept {
  const std::int64_t deadline = monotonic_ns() + timeout_ms * 1'000'000;
  while (pid_ > 0) {
    int st = 0;
    const pid_t r = waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return st;
    }
    if (r < 0 || monotonic_ns() >= deadline) break;
    usleep(2000);
  }
  return -1;
}

int ExchangeProcess::stop(std::int64_t grace_ms) noexcept {
  if (pid_ <= 0) return -1;
  terminate();
  const int st = wait_ms(grace_ms);
  if (st != -1) return st;
  kill_now();
  return -1;
}

void ExchangeProcess::kill_now() noexcept {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int st = 0;
    waitpid(pid_, &st, 0);
    pid_ = -1;
  }
}

std::string ExchangeProcess::stderr_text() const {
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

std::string ExchangeProcess::describe(int st) {
  if (st == -1) return "still running";
  if (WIFEXITED(st)) return "exit status " + std::to_string(WEXITSTATUS(st));
  if (WIFSIGNALED(st)) return std::string("killed by signal ") + strsignal(WTERMSIG(st));
  return "status " + std::to_string(st);
}

}  // namespace shadow
