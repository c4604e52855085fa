// The integration tests' handle on tools/shadow-exchange: pipeline's ExchangeProcess started at
// construction with `--port PORT` plus the given arguments, stderr kept for the exit summary
// (the `faults:` line). A failed start leaves url() empty and error() saying why.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/clock.h"
#include "exchange/exchange_process.h"

namespace shadow::test_support {

inline std::int64_t mono_ms() { return monotonic_ns() / 1'000'000; }

class ExchangeProcess : public shadow::ExchangeProcess {
 public:
  ExchangeProcess(const std::string& binary, const std::vector<std::string>& args,
                  const std::string& port = "0") {
    std::vector<std::string> argv = {binary, "--port", port};
    argv.insert(argv.end(), args.begin(), args.end());
    ExchangeProcessOptions opt;
    opt.capture_stderr = true;
    start(argv, opt, error_);
  }
  // The wait status once it exited, or -1 while it still runs after timeout_ms.
  int wait(std::int64_t timeout_ms) { return wait_ms(timeout_ms); }
  const std::string& error() const noexcept { return error_; }

 private:
  std::string error_;
};

}  // namespace shadow::test_support
