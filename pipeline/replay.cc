#include "pipeline/replay.h"

namespace shadow {

Replayer::Replayer(BookTraceWriter* trace) : trace_(trace) {}

DecodeStatus Replayer::on_message(Protocol protocol, const CaptureLine& line) noexcept {
  ++counters_.messages;
  counters_.bytes += line.len;
  gap_symbol_ = SymbolTable::kInvalid;
  const DecodeStatus st = decoder_.decode(protocol, line, dispatch_);
  if (st != DecodeStatus::kOk && st != DecodeStatus::kSkipped) ++counters_.decode_errors;
  return st;
}

void Replayer::Dispatch::publish() noexcept {
  for (std::size_t i = 0; i < n_; ++i) r_.apply(events_[i]);
  n_ = 0;
}

Replayer::Book& Replayer::book_for(const MarketEvent& e) {
  if (e.symbol >= books_.size()) books_.resize(e.symbol + 1u);
  auto& slot = books_[e.symbol];
  // Once per symbol, never per message. The pre-snapshot buffer's pages are left untouched: a
  // pass over a file only buffers Binance's first seconds (255 page faults fewer per book).
  if (!slot) slot = std::make_unique<Book>(SyncConfig{.prefault_buffer = false});
  return *slot;
}

void Replayer::apply(const MarketEvent& e) noexcept {
  switch (e.kind) {
    case EventKind::kBookSnapshot:
    case EventKind::kBookDelta: {
      Book& b = book_for(e);
      const std::uint64_t gaps = b.stats().gaps;
      b.on_event(e, [&](std::uint64_t update_id) {
        ++counters_.book_messages;
        if (trace_ != nullptr) {
          const FlatBook& fb = b.book();
          trace_->write(symbols_.name(e.symbol), update_id, fb.best_bid(), fb.best_ask());
        }
      });
      if (b.stats().gaps != gaps) gap_symbol_ = e.symbol;
      break;
    }
    case EventKind::kFeedReset:
      invalidate_books();
      break;
    case EventKind::kTrade:
      ++counters_.trades;
      break;
    case EventKind::kBbo:
      ++counters_.bbo;
      break;
    case EventKind::kNone:
      break;
  }
}

void Replayer::invalidate_books() noexcept {
  ++counters_.feed_resets;
  for (auto& b : books_) {
    if (b) b->invalidate();
  }
}

SyncStats Replayer::book_totals() const noexcept {
  SyncStats t{};
  for (const auto& b : books_) {
    if (b) t += b->stats();
  }
  return t;
}

}  // namespace shadow
