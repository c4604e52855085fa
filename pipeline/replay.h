// Replayer: capture lines → decoder → per-symbol synced books, at full speed on one thread.
//
// This is the offline (backtest) path of DESIGN.md: the very same decoders and books the live
// feed uses, driven from capture files instead of a socket. shadow-replay is a thin CLI over it;
// the replay benchmark and the book-trace tests use it directly.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/default_init.h"
#include "core/event_sink.h"
#include "core/symbol_table.h"
#include "feed/capture_decoder.h"
#include "feed/capture_reader.h"
#include "sim/book_sync.h"
#include "sim/flat_book.h"
#include "sinks/book_trace_writer.h"

namespace shadow {

// Protocol, detect_protocol() and parse_protocol() come with feed/capture_decoder.h, the
// capture → decoder driver this replayer decodes through.

struct ReplayCounters {
  std::uint64_t messages = 0;       // lines handed to a decoder
  std::uint64_t bytes = 0;          // their JSON bytes
  std::uint64_t book_messages = 0;  // book messages applied to a synced book (= trace lines)
  std::uint64_t trades = 0;         // trade events
  std::uint64_t bbo = 0;            // best bid/offer events
  std::uint64_t decode_errors = 0;  // messages a decoder rejected (also in the decoder stats)
  std::uint64_t feed_resets = 0;    // invalidate_books() calls (live feed reconnects)
};

class Replayer {
 public:
  using Book = SyncedBook<FlatBook>;

  // `trace` may be null; when set, every applied book message appends a line to it.
  explicit Replayer(BookTraceWriter* trace = nullptr);

  // The REST depth snapshot of Binance carries no symbol; see BinanceDecoder.
  void set_binance_snapshot_symbol(std::string_view symbol) {
    decoder_.set_binance_snapshot_symbol(symbol);
  }

  // Decodes one message and applies its events. Returns the decoder's status.
  DecodeStatus on_message(Protocol protocol, const CaptureLine& line) noexcept;

  // The live feed lost its connection (a kFeedReset event does the same): every book is
  // forgotten and its next snapshot counts as a resync.
  void invalidate_books() noexcept;

  // Symbol id whose book found a sequence gap in the last on_message(), else
  // SymbolTable::kInvalid. The live feed asks the venue for a fresh snapshot then.
  std::uint16_t gap_symbol() const noexcept { return gap_symbol_; }

  const ReplayCounters& counters() const noexcept { return counters_; }
  const DecoderStats& bybit_stats() const noexcept { return decoder_.bybit_stats(); }
  const DecoderStats& binance_stats() const noexcept { return decoder_.binance_stats(); }
  const SymbolTable& symbols() const noexcept { return symbols_; }
  // Book of a symbol id, or nullptr if no book event was seen for it.
  const Book* book(std::uint16_t symbol) const noexcept {
    return symbol < books_.size() ? books_[symbol].get() : nullptr;
  }
  std::size_t book_slots() const noexcept { return books_.size(); }
  // Sum of every book's sync stats.
  SyncStats book_totals() const noexcept;

 private:
  // EventSink that collects one message's events, then dispatches them on publish. Sized for
  // the largest message a decoder may produce, so claimed slots never move.
  class Dispatch {
   public:
    explicit Dispatch(Replayer& r) : r_(r), events_(kMaxEventsPerMessage) {}
    MarketEvent* claim() noexcept { return n_ < events_.size() ? &events_[n_++] : nullptr; }
    void publish() noexcept;
    void abort() noexcept { n_ = 0; }

   private:
    Replayer& r_;
    std::vector<MarketEvent, DefaultInitAllocator<MarketEvent>> events_;  // 256 KiB, not zeroed
    std::size_t n_ = 0;
  };

  void apply(const MarketEvent& e) noexcept;
  Book& book_for(const MarketEvent& e);

  SymbolTable symbols_;
  CaptureDecoder decoder_{symbols_};
  Dispatch dispatch_{*this};
  std::vector<std::unique_ptr<Book>> books_;
  BookTraceWriter* trace_;
  ReplayCounters counters_;
  std::uint16_t gap_symbol_ = SymbolTable::kInvalid;
};

}  // namespace shadow
