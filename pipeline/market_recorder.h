// MarketRecorder: the dry-run's own recording of the public market it traded in (issue 14,
// shadow-calibrate's input): a second connection to the same venue URL whose every message goes
// into a capture file in the run directory (the format of shadow-record and shadow-replay,
// DESIGN.md "Capture files"), through the same Recorder shadow-record uses. Off the hot path: its
// own thread (an Agent: on_start / do_work / on_close), its own socket; the engine never sees it.
//
// The capture's receive times are this connection's, microseconds from the engine's on one host.
//
// Threading: one thread (its AgentRunner) after construction.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "feed/feed_session.h"
#include "pipeline/recorder.h"
#include "pipeline/replay.h"
#include "sinks/buffered_file_writer.h"

namespace shadow {

class MarketRecorder {
 public:
  // Opens `path` (throws std::runtime_error when it cannot be created).
  MarketRecorder(const std::string& url, std::vector<std::string> topics, const std::string& path, TlsOptions tls);
  ~MarketRecorder();

  std::string_view name() const noexcept { return "shadow-capture"; }
  void on_start() {}
  int do_work();
  // Closes the connection and flushes and syncs the capture; throws when it cannot be written.
  void on_close();

  std::uint64_t messages() const noexcept { return recorder_.messages(); }

 private:
  BufferedFileWriter capture_;
  Replayer replayer_;
  Recorder recorder_;
  std::unique_ptr<FeedSession> session_;
};

// The Bybit v5 public topics of `symbols` (orderbook.50.SYM and publicTrade.SYM).
std::vector<std::string> bybit_market_topics(const std::vector<std::string>& symbols);

}  // namespace shadow
