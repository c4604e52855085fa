#include "sinks/dryrun_sink.h"

#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "core/clock.h"
#include "core/json_text.h"
#include "sinks/atomic_file.h"
#include "sinks/dryrun_export.h"
#include "sinks/prediction_report.h"
#include "sinks/prediction_tracker.h"
#include "sinks/prometheus_exporter.h"
#include "sinks/redis_exporter.h"

namespace shadow {
namespace {

std::string_view state_name(RealOrderState s) noexcept {
  switch (s) {
    case RealOrderState::kNotSent: return "not_sent";
    case RealOrderState::kRejected: return "rejected";
    case RealOrderState::kNew: return "new";
    case RealOrderState::kCancelled: return "cancelled";
    case RealOrderState::kFilled: return "filled";
  }
  return "?";
}

using json::integer;
using json::text;
void field_fixed(std::string& o, std::string_view k, Fixed v) {
  char buf[kFixedMaxChars];
  text(o, k, to_chars_fixed(v, buf));
}

}  // namespace

DryRunSink::DryRunSink(DryRunSinkConfig cfg, const RunInfo& info, const std::string& run_dir,
                       RedisExporter* redis, MetricsRegistry* metrics)
    : cfg_(std::move(cfg)), info_(info), redis_(redis), metrics_(metrics) {
  GateConfig gate;
  for (DeltaRule& r : gate.rules) r.threshold = cfg_.max_delta;
  tracker_ = std::make_unique<PredictionTracker>(info_.symbols.size(), gate);
  std::string err;
  if (!log_.open(run_dir + "/dryrun_real.jsonl", "the dry-run's reality log", err)) throw std::runtime_error(err);
  if (!decisions_.open(run_dir + "/dryrun_decisions.jsonl", "the dry-run's decision log", err)) {
    throw std::runtime_error(err);
  }
}

DryRunSink::~DryRunSink() = default;

void DryRunSink::predicted_order(std::uint32_t iteration, const OrderEvent& e) {
  tracker_->on_predicted_order(iteration, e.symbol, e);
  if (e.type == OrderType::kLimit &&
      (e.kind == OrderEventKind::kAccepted || e.kind == OrderEventKind::kCancelRequested)) {
    log_decision(iteration, e);
  }
}

void DryRunSink::log_decision(std::uint32_t iteration, const OrderEvent& e) {
  std::string& o = line_;
  o.clear();
  o += '{';
  text(o, "run_id", info_.run_id);
  integer(o, "iteration", iteration);
  text(o, "kind", e.kind == OrderEventKind::kAccepted ? "place" : "cancel");
  text(o, "symbol", e.symbol < info_.symbols.size() ? std::string_view(info_.symbols[e.symbol]) : "?");
  integer(o, "order_id", static_cast<long long>(e.order_id));
  text(o, "side", e.side == Side::kBuy ? "buy" : "sell");
  field_fixed(o, "price", e.px);
  field_fixed(o, "qty", e.qty);
  integer(o, "ts_ns", e.now_ns);
  integer(o, "effective_ns", e.effective_ns);
  text(o, "config_hash", info_.config_hash);
  o += "}\n";
  if (!decisions_.append(o)) throw std::runtime_error(decisions_.error());
}

void DryRunSink::predicted_fill(std::uint32_t iteration, const Fill& f) {
  tracker_->on_predicted_fill(iteration, f.symbol, f);
}

void DryRunSink::mark(const MarkRecord& m) { tracker_->on_mark(m); }

void DryRunSink::log(const DryRunRecord& r) {
  std::string& o = line_;
  o.clear();
  o += '{';
  text(o, "run_id", info_.run_id);
  if (r.kind == DryRunRecordKind::kOrder) {
    const RealOrderRecord& x = r.order;
    text(o, "kind", "order");
    text(o, "symbol", x.symbol < info_.symbols.size() ? std::string_view(info_.symbols[x.symbol]) : "?");
    text(o, "order_link_id", format_link_id(cfg_.link_tag, x.symbol, x.order_id));
    integer(o, "order_id", static_cast<long long>(x.order_id));
    text(o, "state", state_name(x.state));
    if (x.state == RealOrderState::kNotSent) text(o, "not_sent", not_sent_reason_name(x.not_sent));
    if (x.state == RealOrderState::kRejected) integer(o, "ret_code", x.ret_code);
    text(o, "side", x.side == Side::kBuy ? "buy" : "sell");
    field_fixed(o, "price", x.price);
    field_fixed(o, "qty", x.qty);
    field_fixed(o, "cum_qty", x.cum_qty);
    integer(o, "decision_ns", x.decision_ns);
    integer(o, "ts_ns", x.now_ns);
    integer(o, "venue_ms", x.venue_ms);
  } else {
    const RealFillRecord& x = r.fill;
    text(o, "kind", "fill");
    text(o, "symbol", x.symbol < info_.symbols.size() ? std::string_view(info_.symbols[x.symbol]) : "?");
    text(o, "order_link_id", format_link_id(cfg_.link_tag, x.symbol, x.order_id));
    integer(o, "order_id", static_cast<long long>(x.order_id));
    text(o, "exec_id", std::string_view(x.exec_id, strnlen(x.exec_id, sizeof x.exec_id)));
    text(o, "side", x.side == Side::kBuy ? "buy" : "sell");
    text(o, "liquidity", x.maker ? "maker" : "taker");
    field_fixed(o, "price", x.price);
    field_fixed(o, "qty", x.qty);
    field_fixed(o, "leaves", x.leaves);
    field_fixed(o, "fee", x.fee);
    integer(o, "exec_ms", x.exec_ms);
    integer(o, "ts_ns", x.now_ns);
  }
  text(o, "config_hash", info_.config_hash);
  o += "}\n";
  if (!log_.append(o)) throw std::runtime_error(log_.error());
}

int DryRunSink::drain() {
  int n = 0;
  DryRunRecord r;
  while (n < 256 && !gateway_ended_ && cfg_.records->try_pop(r)) {
    ++n;
    switch (r.kind) {
      case DryRunRecordKind::kOrder:
        log(r);
        tracker_->on_real_order(r.order);
        break;
      case DryRunRecordKind::kFill:
        log(r);
        tracker_->on_real_fill(r.fill);
        break;
      case DryRunRecordKind::kEnd:
        gateway_ended_ = true;
        if (!log_.sync()) throw std::runtime_error(log_.error());
        if (!decisions_.sync()) throw std::runtime_error(decisions_.error());
        break;
    }
  }
  return n;
}

std::string DryRunSink::write(const std::string& run_dir) {
  std::string err;
  if (!cfg_.ground_truth.empty() && !tracker_->load_ground_truth(cfg_.ground_truth, cfg_.link_tag, err)) {
    // The comparison stands without it: queue_ahead is then missing, and says so.
    std::fprintf(stderr, "shadow-run: dry-run: ground truth not used: %s\n", err.c_str());
  }
  const PredictionReport& report = tracker_->finish();
  const std::string json = render_prediction_vs_reality(info_, report);
  if (!write_file_atomically(run_dir + "/PREDICTION_VS_REALITY.json", json, err)) throw std::runtime_error(err);
  if (redis_ != nullptr || metrics_ != nullptr) {
    const DryRunExport ex = dryrun_export_of(info_, report);
    if (metrics_ != nullptr) metrics_->on_dryrun(ex);
    if (redis_ != nullptr && !redis_->export_dryrun(ex, monotonic_ns())) {
      std::fprintf(stderr, "shadow-run: dry-run: redis export failed: %s\n", redis_->stats().last_error.c_str());
      if (metrics_ != nullptr) metrics_->add_sink_drops(1);
    }
  }
  return report.gate.pass ? "PASS" : "HOLD";
}

}  // namespace shadow
