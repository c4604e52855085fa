// OrderGateway (pipeline/order_gateway.h), continued: what keeps the gateway's view equal to the
// venue's — cancel-all, REST reconciliation, the private stream's reconnect, pruning, the end.
#include "pipeline/order_gateway.h"

#include <cstdio>
#include <stdexcept>

#include "core/clock.h"

namespace shadow {

void OrderGateway::cancel_all_symbols() {
  for (const std::string& sym : cfg_.symbols) {
    for (int attempt = 0; attempt < 5; ++attempt) {
      const BybitReply rep = rest_->cancel_all(sym);
      if (rep.outcome == BybitOutcome::kOk || rep.outcome == BybitOutcome::kRejected) break;
      if (rep.outcome == BybitOutcome::kAuthFailed) {
        throw std::runtime_error("dry-run: the venue refused the API key: " + rep.ret_msg);
      }
      ++stats_.retries;
      pause_ms(rep.outcome == BybitOutcome::kRateLimited ? 200 : 50);
    }
  }
}

void OrderGateway::prune(std::int64_t now_ns) {
  if (now_ns < next_prune_ns_) return;
  next_prune_ns_ = now_ns + 1'000'000'000;
  for (auto it = orders_.begin(); it != orders_.end();) {
    const bool working = working_[it->second.slot][side_index(it->second.side)] == it->first;
    if (it->second.final && !working && it->second.final_ms < start_ms_) {
      it = orders_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = amended_.begin(); it != amended_.end();) {
    it = orders_.count(it->second) == 0 ? amended_.erase(it) : std::next(it);
  }
  for (auto it = exec_ids_.begin(); it != exec_ids_.end();) {
    it = it->second < start_ms_ ? exec_ids_.erase(it) : std::next(it);
  }
}

void OrderGateway::reconcile() {
  ++stats_.reconciliations;
  need_reconcile_ = false;
  const std::int64_t began_ms = realtime_ns() / 1'000'000;
  for (std::size_t s = 0; s < cfg_.symbols.size(); ++s) {
    const std::string& sym = cfg_.symbols[s];
    std::vector<BybitExecution> execs;
    if (rest_->executions(sym, start_ms_, execs).outcome == BybitOutcome::kOk) {
      for (const BybitExecution& e : execs) {
        const std::uint64_t before = stats_.fills;
        on_execution(e);
        stats_.reconciled_fills += stats_.fills - before;
      }
    } else {
      need_reconcile_ = true;
    }
    std::vector<BybitOrderUpdate> open, history;
    const bool open_ok = rest_->open_orders(sym, open).outcome == BybitOutcome::kOk;
    const bool hist_ok = rest_->order_history(sym, start_ms_, history).outcome == BybitOutcome::kOk;
    if (!open_ok || !hist_ok) {
      need_reconcile_ = true;
      continue;
    }
    for (const BybitOrderUpdate& u : open) on_order(u);
    std::unordered_set<std::string> seen;
    for (const BybitOrderUpdate& u : open) seen.emplace(u.order_link_id.view());
    for (const BybitOrderUpdate& u : history) {
      seen.emplace(u.order_link_id.view());
      Order* o = find(u.order_link_id.view());
      if (o != nullptr && !o->final && is_final(u.status)) {
        ++stats_.reconciled_orders;
        on_order(u);
      }
    }
    // A create whose every answer was lost and that the venue does not know: it never landed.
    for (auto& [link, o] : orders_) {
      if (o.final || o.slot != s || !o.unknown || seen.count(link) != 0) continue;
      ++stats_.reconciled_orders;
      finalize(o, false, 0, 0, RealOrderState::kRejected);
    }
  }
  // Complete: the next one needs to look back only a little before this one began.
  if (!need_reconcile_) start_ms_ = std::max(start_ms_, began_ms - 30'000);
}

void OrderGateway::reconnect(std::int64_t now) {
  if (now < next_reconnect_ns_) return;
  next_reconnect_ns_ = now + cfg_.reconnect_interval_ns;
  std::string err;
  if (!stream_.open(cfg_.private_url, cfg_.rest.api_key, cfg_.rest.api_secret, err)) {
    if (stream_.auth_failed()) throw std::runtime_error("dry-run: " + err);
    std::fprintf(stderr, "shadow-run: dry-run: private stream: %s (retrying)\n", err.c_str());
    return;
  }
  ++stats_.stream_reconnects;
  std::fprintf(stderr, "shadow-run: dry-run: private stream back; reconciling with the venue\n");
  // What happened while we were away: REST says it, the stream says what comes next.
  reconcile();
}

void OrderGateway::begin_end() {
  ending_ = true;
  end_deadline_ns_ = monotonic_ns() + cfg_.settle_ns;
  cancel_all_symbols();
}

void OrderGateway::finish_end() {
  // The venue's own lists are the last word: every fill and final state we did not hear of.
  reconcile();
  for (const std::string& sym : cfg_.symbols) {
    std::vector<BybitOrderUpdate> open;
    rest_->open_orders(sym, open);
    for (const BybitOrderUpdate& u : open) {
      if (find(u.order_link_id.view()) != nullptr) ++stats_.left_open;
    }
  }
  if (stats_.left_open > 0) {
    std::fprintf(stderr, "shadow-run: dry-run: %llu order(s) still open at the venue after cancel-all; cancelling again\n",
                 static_cast<unsigned long long>(stats_.left_open));
    cancel_all_symbols();
  }
  // Orders whose final state never came (the venue unreachable to the end) are reported cancelled.
  for (auto& [link, o] : orders_) {
    if (!o.final) finalize(o, false, 0, 0, RealOrderState::kCancelled);
  }
  stream_.close();
  DryRunRecord r{};
  r.kind = DryRunRecordKind::kEnd;
  push(r);
  done_.store(true, std::memory_order_release);
}

}  // namespace shadow
