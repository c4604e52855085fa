// PredictionTracker: the dry-run's prediction-vs-reality comparison (issue 14; DESIGN.md
// "Dry-run: prediction against reality"; docs/DRYRUN.md "Metrics").
//
//   PredictionTracker t(run.symbols.size(), GateConfig{});
//   engine records:  t.on_predicted_order(iteration, slot, event); t.on_predicted_fill(...);
//                    t.on_mark(mark);
//   gateway records: t.on_real_order(rec); t.on_real_fill(rec);
//   optional:        t.load_ground_truth("ground_truth.jsonl", link_tag, error);
//   at the end:      const PredictionReport& r = t.finish();
//                    write render_prediction_vs_reality(run, r) (sinks/prediction_report.h)
//
// Matching: a decision is one simulator order (its kAccepted OrderEvent) and one real order whose
// records name the same (symbol slot, order_id); records may arrive in any order, the join
// happens in finish(). An order belongs to the iteration of its kAccepted event; iteration 0
// (warm-up) is not counted. A real order the gateway did not send (kNotSent) takes its
// prediction out of the comparison (counted by reason). A repeated exec_key is counted once.
//
// Threading: none; the sink thread owns it. Allocates freely (off the hot path). finish() may be
// called once; the on_* calls after it are ignored.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "sim/fill_simulator.h"
#include "sinks/dryrun_record.h"
#include "sinks/prediction_metrics.h"

namespace shadow {

// Longest ground-truth line accepted (the sandbox writes ~400 bytes).
inline constexpr std::size_t kMaxGroundTruthLine = 8192;

class PredictionTracker {
 public:
  PredictionTracker(std::size_t symbols, GateConfig gate);

  // Predictions (the engine's ring). `iteration`: the iteration the record was produced in.
  void on_predicted_order(std::uint32_t iteration, std::uint16_t slot, const OrderEvent& e);
  void on_predicted_fill(std::uint32_t iteration, std::uint16_t slot, const Fill& f);
  // Reality (the gateway's ring) and the mids (the engine's ring).
  void on_real_order(const RealOrderRecord& r);
  void on_real_fill(const RealFillRecord& r);
  void on_mark(const MarkRecord& m);

  // Reads the sandbox's ground-truth JSONL (schemas/sandbox_ground_truth.schema.json): the true
  // queue ahead of each order of this run (orderLinkId "<link_tag>-<slot>-<order_id>") at its
  // "accepted" line. Other events and other tags are skipped. False with `error` =
  // "FILE:LINE: why" on an unreadable file, a line longer than kMaxGroundTruthLine, malformed
  // JSON or a field of the wrong type; nothing is kept from a file that fails.
  bool load_ground_truth(const std::string& path, std::string_view link_tag, std::string& error);

  // Joins everything and computes the report (once; later calls return the same report).
  const PredictionReport& finish();

 private:
  struct Exec {
    std::int64_t ns;  // fill time (real: exec_ms * 1e6)
    Fixed px, qty, fee;
    Side side;
    bool maker;
  };
  struct Order {
    std::uint16_t slot = 0;  // set by finish()
    // Prediction.
    bool accepted = false;
    std::uint32_t iteration = 0;
    std::int64_t decision_ns = 0;
    Fixed qty = 0;
    Side side = Side::kNone;
    bool has_queue = false;
    Fixed queue_ahead = 0;
    std::vector<Exec> pred;
    // Reality.
    bool real_seen = false;
    bool not_sent = false;
    bool rejected = false;
    NotSentReason reason = NotSentReason::kNone;
    std::int64_t real_decision_ns = 0;
    Fixed real_qty = 0;
    Side real_side = Side::kNone;
    std::vector<Exec> real;
    // Ground truth.
    bool has_true_queue = false;
    Fixed true_queue = 0;
  };
  using Key = std::pair<std::uint16_t, std::uint64_t>;  // (slot, order_id)

  Order& order(std::uint16_t slot, std::uint64_t id);
  void compute(ScopeMetrics& m, const std::vector<const Order*>& orders, bool one_symbol) const;
  void fill_scope_set(ScopeSet& s, const std::vector<const Order*>& orders) const;

  std::size_t symbols_;
  GateConfig gate_;
  std::map<Key, Order> orders_;
  std::unordered_set<std::uint64_t> exec_keys_;
  std::vector<std::vector<MarkRecord>> marks_;  // per slot, in arrival order
  PredictionReport report_;
  bool finished_ = false;
};

}  // namespace shadow
