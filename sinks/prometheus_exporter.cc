#include "sinks/prometheus_exporter.h"

#include <cmath>
#include <cstdio>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <utility>

// cpp-httplib 0.11 (Debian libcpp-httplib-dev, header-only); its header is not -Wextra clean.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include <httplib.h>
#pragma GCC diagnostic pop

#include "sinks/atomic_file.h"

namespace shadow {
namespace {

struct Family {
  const char* name;
  const char* type;
  const char* help;
};

// Every family, in exposition order (docs/METRICS.md has the same list).
constexpr Family kFamilies[] = {
    {"shadow_maker_taker_ratio", "gauge", "Maker filled notional / all filled notional in the last iteration (audit: >= 0.80)."},
    {"shadow_net_bps", "gauge", "Net PnL (gross - fees) per filled notional in bps, last iteration (audit: >= 0)."},
    {"shadow_gross_bps", "gauge", "Gross PnL marked to mid per filled notional in bps, last iteration."},
    {"shadow_fees_bps", "gauge", "Fees per filled notional in bps (negative: rebates), last iteration."},
    {"shadow_pnl_net", "gauge", "Net PnL of the last iteration in quote currency."},
    {"shadow_pnl_gross", "gauge", "Gross PnL of the last iteration in quote currency."},
    {"shadow_pnl_fees", "gauge", "Fees of the last iteration in quote currency (negative: rebates)."},
    {"shadow_notional", "gauge", "Filled notional of the last iteration in quote currency, by liquidity."},
    {"shadow_position", "gauge", "Signed position in base units at the end of the last iteration."},
    {"shadow_p95_latency_seconds", "gauge", "Wire-to-decision latency p95 in seconds, last iteration (audit: <= 0.350)."},
    {"shadow_wire_to_decision_latency_seconds", "gauge", "Wire-to-decision latency percentiles (p50 p95 p99 p999 max) in seconds, last iteration."},
    {"shadow_stage_latency_seconds", "gauge", "Per-stage time of the sampled messages (stage: wait deframe decode ring_hop book fill_sim quoter kpis own; percentile: p50 p99 p999 max) in seconds, last iteration."},
    {"shadow_chunk_decided_latency_seconds", "gauge", "Completion reaped to its last message decided (percentile: p50 p99 p999 max) in seconds, last iteration."},
    {"shadow_chunk_messages", "gauge", "Messages per io_uring completion (percentile: p50 p99 max), last iteration."},
    {"shadow_feed_latency_seconds", "gauge", "Feed latency (local receive - exchange time) percentiles in seconds, last iteration."},
    {"shadow_clock_drift_seconds", "gauge", "EWMA of the feed latency in seconds (audit: abs <= 0.5)."},
    {"shadow_risk_ratio", "gauge", "Max abs(position notional) / max position notional in the last iteration (audit: <= 0.40)."},
    {"shadow_iteration", "gauge", "Number of the last completed iteration."},
    {"shadow_last_iteration_timestamp_seconds", "gauge", "Unix time at which the last iteration ended."},
    {"shadow_run_info", "gauge", "The run: id, config hash and program version (value 1)."},
    {"shadow_dryrun_kpi", "gauge", "Dry-run KPI of the run, predicted by the shadow or measured on the real orders (side), in the unit of PREDICTION_VS_REALITY.json."},
    {"shadow_dryrun_delta", "gauge", "Dry-run relative delta |predicted - real| / max(|real|, floor) of a KPI over the run."},
    {"shadow_dryrun_delta_threshold", "gauge", "Dry-run gate: the largest relative delta a gated KPI may have."},
    {"shadow_dryrun_gate_pass", "gauge", "Dry-run verdict: 1 PASS, 0 HOLD."},
    {"shadow_dryrun_orders", "gauge", "Dry-run matched orders of the run by outcome (filled predicted and/or real)."},
    {"shadow_ticks_total", "counter", "Market messages processed."},
    {"shadow_book_updates_total", "counter", "Book messages applied."},
    {"shadow_trades_total", "counter", "Public trades processed."},
    {"shadow_fills_total", "counter", "Simulated fills, by liquidity."},
    {"shadow_orders_considered_total", "counter", "Order decisions of the strategy."},
    {"shadow_would_place_total", "counter", "Order decisions that passed every execution check."},
    {"shadow_rejected_total", "counter", "Order decisions rejected by the execution checks, by reason."},
    {"shadow_gaps_total", "counter", "Sequence gaps in the book streams."},
    {"shadow_resyncs_total", "counter", "Books rebuilt from a snapshot after a gap or a reconnect."},
    {"shadow_reconnects_total", "counter", "Feed reconnects."},
    {"shadow_decode_errors_total", "counter", "Market messages the decoders rejected."},
    {"shadow_sink_drops_total", "counter", "Records or exports the sinks could not deliver."},
    {"shadow_invalid_market_data_total", "counter", "Invalid market data, by kind: levels and trades dropped for a price <= 0 (price) or a bad quantity (qty); book messages that left the book crossed (crossed)."},
    {"shadow_messages_received_total", "counter", "Market messages received so far (live, between iterations too)."},
    {"shadow_fills_received_total", "counter", "Simulated fills so far (live)."},
};

std::string escape_label(std::string_view v) {
  std::string o;
  for (const char c : v) {
    if (c == '\\' || c == '"') {
      o += '\\';
      o += c;
    } else if (c == '\n') {
      o += "\\n";
    } else {
      o += c;
    }
  }
  return o;
}

std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

void MetricsRegistry::on_iteration(const IterationExport& it) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const KpiValue& k : it.kpis) {
    const std::string sym = "symbol=\"" + escape_label(k.symbol) + "\"";
    const std::string_view n = k.name;
    const auto gauge = [&](const char* family, const std::string& labels, double scale = 1.0) {
      if (k.present) gauges_[family][labels] = k.value * scale;
      else gauges_[family].erase(labels);  // null in the artifact: no sample
    };
    const auto counter = [&](const char* family, const std::string& labels) {
      counters_[family][labels] += k.value;
    };
    if (n == "maker_taker_ratio") gauge("shadow_maker_taker_ratio", sym);
    else if (n == "net_bps") gauge("shadow_net_bps", sym);
    else if (n == "gross_bps") gauge("shadow_gross_bps", sym);
    else if (n == "fees_bps") gauge("shadow_fees_bps", sym);
    else if (n == "pnl_net") gauge("shadow_pnl_net", sym);
    else if (n == "pnl_gross") gauge("shadow_pnl_gross", sym);
    else if (n == "pnl_fees") gauge("shadow_pnl_fees", sym);
    else if (n == "notional_maker") gauge("shadow_notional", sym + ",liquidity=\"maker\"");
    else if (n == "notional_taker") gauge("shadow_notional", sym + ",liquidity=\"taker\"");
    else if (n == "position") gauge("shadow_position", sym);
    else if (n == "p95_latency_ms") gauge("shadow_p95_latency_seconds", sym, 1e-3);
    else if (n.rfind("latency_us_", 0) == 0 && n != "latency_us_samples") {
      gauge("shadow_wire_to_decision_latency_seconds",
            sym + ",percentile=\"" + std::string(n.substr(11)) + "\"", 1e-6);
    } else if (n.rfind("stage_us_", 0) == 0) {
      const std::size_t cut = n.rfind('_');
      gauge("shadow_stage_latency_seconds",
            "stage=\"" + std::string(n.substr(9, cut - 9)) + "\",percentile=\"" + std::string(n.substr(cut + 1)) + "\"",
            1e-6);
    } else if (n.rfind("chunk_decided_us_", 0) == 0) {
      gauge("shadow_chunk_decided_latency_seconds", "percentile=\"" + std::string(n.substr(17)) + "\"", 1e-6);
    } else if (n.rfind("chunk_size_", 0) == 0) {
      gauge("shadow_chunk_messages", "percentile=\"" + std::string(n.substr(11)) + "\"");
    } else if (n.rfind("feed_latency_ms_", 0) == 0) {
      gauge("shadow_feed_latency_seconds", sym + ",percentile=\"" + std::string(n.substr(16)) + "\"", 1e-3);
    } else if (n == "clock_drift_ms") gauge("shadow_clock_drift_seconds", sym, 1e-3);
    else if (n == "risk_ratio") gauge("shadow_risk_ratio", sym);
    else if (n == "ticks") counter("shadow_ticks_total", sym);
    else if (n == "book_updates") counter("shadow_book_updates_total", sym);
    else if (n == "trades") counter("shadow_trades_total", sym);
    else if (n == "fills_maker") counter("shadow_fills_total", sym + ",liquidity=\"maker\"");
    else if (n == "fills_taker") counter("shadow_fills_total", sym + ",liquidity=\"taker\"");
    else if (n == "orders_considered") counter("shadow_orders_considered_total", sym);
    else if (n == "would_place") counter("shadow_would_place_total", sym);
    else if (n.rfind("rejected_", 0) == 0) {
      counter("shadow_rejected_total", sym + ",reason=\"" + escape_label(n.substr(9)) + "\"");
    } else if (n == "gaps") counter("shadow_gaps_total", sym);
    else if (n == "resyncs") counter("shadow_resyncs_total", sym);
    else if (n == "reconnects") counter("shadow_reconnects_total", sym);
    else if (n == "decode_errors") counter("shadow_decode_errors_total", sym);
    else if (n == "sink_drops") counter("shadow_sink_drops_total", sym);
    else if (n.rfind("invalid_market_data_", 0) == 0) {
      counter("shadow_invalid_market_data_total", sym + ",kind=\"" + escape_label(n.substr(20)) + "\"");
    }
  }
  iteration_ = it.iteration;
  last_iteration_ts_ = static_cast<double>(it.ended_realtime_ns / 1'000'000'000) +
                      static_cast<double>(it.ended_realtime_ns % 1'000'000'000) / 1e9;
  have_iteration_ = true;
}

void MetricsRegistry::set_live(std::uint64_t messages, std::uint64_t fills) {
  std::lock_guard<std::mutex> lock(mu_);
  live_messages_ = messages;
  live_fills_ = fills;
}

void MetricsRegistry::add_sink_drops(std::uint64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  counters_["shadow_sink_drops_total"]["symbol=\"_all\""] += static_cast<double>(n);
}

void MetricsRegistry::set_run(const std::string& run_id, const std::string& config_hash,
                              const std::string& version) {
  std::lock_guard<std::mutex> lock(mu_);
  run_labels_ = "run_id=\"" + escape_label(run_id) + "\",config_hash=\"" + escape_label(config_hash) +
                "\",version=\"" + escape_label(version) + "\"";
}

void MetricsRegistry::on_dryrun(const DryRunExport& d) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& kpi = gauges_["shadow_dryrun_kpi"];
  auto& delta = gauges_["shadow_dryrun_delta"];
  auto& threshold = gauges_["shadow_dryrun_delta_threshold"];
  auto& orders = gauges_["shadow_dryrun_orders"];
  kpi.clear();
  delta.clear();
  threshold.clear();
  orders.clear();
  for (const DryRunKpiExport& k : d.kpis) {
    const std::string labels = "symbol=\"" + escape_label(k.symbol) + "\",kpi=\"" + escape_label(k.kpi) + "\"";
    if (k.predicted) kpi[labels + ",side=\"predicted\""] = *k.predicted;
    if (k.real) kpi[labels + ",side=\"real\""] = *k.real;
    if (k.delta) delta[labels] = *k.delta;
  }
  // Gated KPIs only: the alert joins the deltas on these (ops/alerts/shadow_rules.yml).
  for (const DryRunThresholdExport& t : d.thresholds) {
    if (t.gated) threshold["kpi=\"" + escape_label(t.kpi) + "\""] = t.threshold;
  }
  for (const DryRunOrdersExport& o : d.orders) {
    const std::string sym = "symbol=\"" + escape_label(o.symbol) + "\",outcome=\"";
    orders[sym + "both_filled\""] = static_cast<double>(o.both_filled);
    orders[sym + "predicted_only\""] = static_cast<double>(o.predicted_only);
    orders[sym + "real_only\""] = static_cast<double>(o.real_only);
    orders[sym + "neither\""] = static_cast<double>(o.neither);
  }
  gauges_["shadow_dryrun_gate_pass"][""] = d.pass ? 1 : 0;
}

std::string MetricsRegistry::render() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string o;
  for (const Family& f : kFamilies) {
    const std::string_view name = f.name;
    std::map<std::string, double> samples;
    if (const auto it = gauges_.find(f.name); it != gauges_.end()) samples = it->second;
    if (const auto it = counters_.find(f.name); it != counters_.end()) samples = it->second;
    if (name == "shadow_iteration" && have_iteration_) samples[""] = iteration_;
    if (name == "shadow_last_iteration_timestamp_seconds" && have_iteration_) samples[""] = last_iteration_ts_;
    if (name == "shadow_run_info" && !run_labels_.empty()) samples[run_labels_] = 1;
    if (name == "shadow_messages_received_total") samples[""] = static_cast<double>(live_messages_);
    if (name == "shadow_fills_received_total") samples[""] = static_cast<double>(live_fills_);
    if (samples.empty()) continue;
    o += "# HELP ";
    o += f.name;
    o += ' ';
    o += f.help;
    o += "\n# TYPE ";
    o += f.name;
    o += ' ';
    o += f.type;
    o += '\n';
    for (const auto& [labels, v] : samples) {
      o += f.name;
      if (!labels.empty()) o += "{" + labels + "}";
      o += ' ';
      o += number(v);
      o += '\n';
    }
  }
  return o;
}

struct MetricsServer::Impl {
  httplib::Server http;
};

bool is_loopback_host(std::string_view host) noexcept {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host == "localhost" || host == "::1") return true;
  // 127.0.0.0/8: "127." followed by anything numeric.
  if (host.rfind("127.", 0) != 0) return false;
  for (const char c : host) {
    if ((c < '0' || c > '9') && c != '.') return false;
  }
  return true;
}

MetricsServer::MetricsServer(const MetricsRegistry& reg, std::string addr)
    : reg_(reg), addr_(std::move(addr)), impl_(std::make_unique<Impl>()) {}

MetricsServer::~MetricsServer() { stop(); }

bool MetricsServer::start(std::string& error) {
  const std::size_t colon = addr_.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    error = "'" + addr_ + "': expected HOST:PORT";
    return false;
  }
  const std::string host = addr_.substr(0, colon);
  const int port = std::atoi(addr_.c_str() + colon + 1);
  // httplib's default sets SO_REUSEPORT, which would let a second run silently share the port
  // (and half the scrapes): SO_REUSEADDR only, so a taken port is an error.
  impl_->http.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  // Slow and idle clients must not starve the scrapes (issue 11): httplib serves each accepted
  // connection on one worker of a fixed pool (FIFO), and a connection holds its worker while it
  // waits for a request (keep-alive timeout, also before the first one) or reads one (read
  // timeout per recv). httplib's defaults, 5 s each and max(8, CPUs - 1) workers, let 8-16 idle
  // connections delay a scrape past Prometheus' timeout. Here: kWorkers connections served at
  // once (the cap; more wait in the accept queue), an idle one is dropped after
  // kIdleTimeoutS, a request must arrive within kReadTimeoutS per read, and a keep-alive
  // connection serves at most kRequestsPerConnection requests.
  impl_->http.new_task_queue = [] { return new httplib::ThreadPool(kWorkers); };
  impl_->http.set_keep_alive_timeout(kIdleTimeoutS);
  impl_->http.set_keep_alive_max_count(kRequestsPerConnection);
  impl_->http.set_read_timeout(kReadTimeoutS, 0);
  impl_->http.set_write_timeout(kReadTimeoutS, 0);
  impl_->http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(reg_.render(), "text/plain; version=0.0.4; charset=utf-8");
  });
  impl_->http.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("shadow-run metrics: /metrics\n", "text/plain");
  });
  if (port == 0) {
    port_ = impl_->http.bind_to_any_port(host);
  } else {
    port_ = impl_->http.bind_to_port(host, port) ? port : -1;
  }
  if (port_ <= 0) {
    error = "cannot listen on " + addr_ + ": " + std::strerror(errno);
    return false;
  }
  thread_ = std::thread([this] { impl_->http.listen_after_bind(); });
  return true;
}

void MetricsServer::stop() {
  if (thread_.joinable()) {
    impl_->http.stop();
    thread_.join();
  }
}

bool write_textfile(const MetricsRegistry& reg, const std::string& path, std::string& error) {
  return write_file_atomically(path, reg.render(), error);
}

}  // namespace shadow
