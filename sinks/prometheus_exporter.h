// Prometheus exposition of the shadow run (docs/METRICS.md): a registry the sink thread updates
// at every iteration end, rendered in the text format 0.0.4 by an HTTP endpoint (cpp-httplib, on
// its own thread, 127.0.0.1 by default) and optionally written as a node_exporter textfile.
// Off the hot path: a mutex guards the registry; the engine never touches it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "sinks/dryrun_export.h"
#include "sinks/run_artifacts.h"

namespace shadow {

class MetricsRegistry {
 public:
  // Gauges := the iteration's KPIs (present ones) per symbol ("_all" = totals); counters +=
  // its counts; the last iteration's number and end time.
  void on_iteration(const IterationExport& it);
  // Live counters between iterations (progress of the run so far).
  void set_live(std::uint64_t messages, std::uint64_t fills);
  // Drops counted outside iterations (failed exports): shadow_sink_drops_total{symbol="_all"}.
  void add_sink_drops(std::uint64_t n);
  void set_run(const std::string& run_id, const std::string& config_hash, const std::string& version);
  // End of a dry-run: replaces the shadow_dryrun_* gauges (docs/METRICS.md "Dry-run metrics")
  // with `d`: the KPIs per symbol and side, the relative deltas, the gated KPIs' thresholds, the
  // verdict (shadow_dryrun_gate_pass) and the confusion counts. Null values have no sample.
  void on_dryrun(const DryRunExport& d);
  std::string render() const;  // text exposition format 0.0.4

 private:
  mutable std::mutex mu_;
  // (family, label set text) → value, in a stable order.
  std::map<std::string, std::map<std::string, double>> gauges_;
  std::map<std::string, std::map<std::string, double>> counters_;
  std::uint64_t live_messages_ = 0, live_fills_ = 0;
  std::uint32_t iteration_ = 0;
  double last_iteration_ts_ = 0;
  bool have_iteration_ = false;
  std::string run_labels_;
};

// GET /metrics → render() (text/plain; version=0.0.4); GET / → a short index; else 404.
// Limits (so idle or slow clients cannot starve the scrapes): kWorkers connections served at
// once, the rest wait to be accepted; a connection that sends no request for kIdleTimeoutS, or
// stalls longer than kReadTimeoutS inside one, is closed; at most kRequestsPerConnection requests
// per keep-alive connection. Not a defence against a flood: bind loopback (the default) or
// firewall the port.
class MetricsServer {
 public:
  static constexpr std::size_t kWorkers = 16;
  static constexpr long kIdleTimeoutS = 1;
  static constexpr long kReadTimeoutS = 2;
  static constexpr std::size_t kRequestsPerConnection = 16;

  // addr: "HOST:PORT"; port 0 picks a free one (port() says which).
  MetricsServer(const MetricsRegistry& reg, std::string addr);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  bool start(std::string& error);  // returns once listening; error names the address
  int port() const noexcept { return port_; }
  void stop();

 private:
  struct Impl;
  const MetricsRegistry& reg_;
  std::string addr_;
  int port_ = 0;
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
};

// True for a host that is only reachable from this machine: localhost, 127.0.0.0/8, ::1 (with or
// without brackets). 0.0.0.0, ::, names and other addresses are not (the caller warns).
bool is_loopback_host(std::string_view host) noexcept;

// node_exporter's textfile collector: the same text, written atomically.
bool write_textfile(const MetricsRegistry& reg, const std::string& path, std::string& error);

}  // namespace shadow
