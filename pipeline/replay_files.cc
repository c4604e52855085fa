#include "pipeline/replay_files.h"

#include <sys/resource.h>

#include <cstdio>
#include <iterator>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/exit_codes.h"
#include "core/json_text.h"

namespace shadow {
namespace {

const char* venue_name(Venue v) {
  switch (v) {
    case Venue::kBybit: return "bybit";
    case Venue::kBinanceSpot: return "binance-spot";
    case Venue::kBinanceFutures: return "binance-futures";
    case Venue::kUnknown: break;
  }
  return "unknown";
}

void add(DecoderStats& t, const DecoderStats& s) {
  t.messages += s.messages;
  t.book_snapshots += s.book_snapshots;
  t.book_deltas += s.book_deltas;
  t.trades += s.trades;
  t.trade_messages += s.trade_messages;
  t.bbo += s.bbo;
  t.acks += s.acks;
  t.pongs += s.pongs;
  t.skipped_topics += s.skipped_topics;
  t.errors += s.errors;
  for (std::size_t i = 0; i < std::size(t.errors_by_status); ++i) {
    t.errors_by_status[i] += s.errors_by_status[i];
  }
  t.invalid_price += s.invalid_price;
  t.invalid_qty += s.invalid_qty;
}

std::string level_text(Level l) {
  if (l.qty == 0) return "-";
  char px[kFixedMaxChars], qty[kFixedMaxChars];
  return std::string(to_chars_fixed(l.px, px)) + " x " + std::string(to_chars_fixed(l.qty, qty));
}

// The run's summary lines (the tests and operators read them). `secs`: time spent replaying.
void print_summary(FILE* out, const ReplayOptions& opt, const Replayer& replayer,
                   std::uint64_t trace_lines, double secs) {
  const ReplayCounters& c = replayer.counters();
  DecoderStats d{};
  add(d, replayer.bybit_stats());
  add(d, replayer.binance_stats());
  const SyncStats b = replayer.book_totals();
  std::fprintf(out, "shadow-replay: %zu file(s), %llu messages, %.1f MB in %.3f s: %.2f M msg/s, %.0f MB/s%s\n",
               opt.files.size(), static_cast<unsigned long long>(c.messages),
               static_cast<double>(c.bytes) / 1e6, secs,
               secs > 0 ? static_cast<double>(c.messages) / secs / 1e6 : 0.0,
               secs > 0 ? static_cast<double>(c.bytes) / secs / 1e6 : 0.0,
               opt.preload ? " (preloaded: decode + book)" : " (read + decode + book)");
  std::fprintf(out,
               "  messages: book snapshots %llu, book deltas %llu, trade messages %llu (%llu trades), "
               "bbo %llu, acks %llu, pongs %llu, other topics %llu\n",
               static_cast<unsigned long long>(d.book_snapshots),
               static_cast<unsigned long long>(d.book_deltas),
               static_cast<unsigned long long>(d.trade_messages),
               static_cast<unsigned long long>(d.trades), static_cast<unsigned long long>(d.bbo),
               static_cast<unsigned long long>(d.acks), static_cast<unsigned long long>(d.pongs),
               static_cast<unsigned long long>(d.skipped_topics));
  std::fprintf(out, "  errors: %llu", static_cast<unsigned long long>(d.errors));
  for (std::size_t i = 0; i < std::size(d.errors_by_status); ++i) {
    if (d.errors_by_status[i] == 0) continue;
    const std::string_view name = to_string(static_cast<DecodeStatus>(i));
    std::fprintf(out, ", %.*s %llu", static_cast<int>(name.size()), name.data(),
                 static_cast<unsigned long long>(d.errors_by_status[i]));
  }
  std::fprintf(out, "\n");
  std::fprintf(out, "  invalid values dropped: price %llu, qty %llu\n",
               static_cast<unsigned long long>(d.invalid_price),
               static_cast<unsigned long long>(d.invalid_qty));
  std::fprintf(out,
               "  books: applied %llu, snapshots %llu, gaps %llu, resyncs %llu, stale dropped %llu, "
               "skipped unsynced %llu, buffer drops %llu, crossed %llu\n",
               static_cast<unsigned long long>(b.messages_applied),
               static_cast<unsigned long long>(b.snapshots), static_cast<unsigned long long>(b.gaps),
               static_cast<unsigned long long>(b.resyncs),
               static_cast<unsigned long long>(b.stale_dropped),
               static_cast<unsigned long long>(b.skipped_unsynced),
               static_cast<unsigned long long>(b.buffered_dropped),
               static_cast<unsigned long long>(b.crossed));
  for (std::uint16_t id = 0; id < replayer.book_slots(); ++id) {
    const Replayer::Book* book = replayer.book(id);
    if (book == nullptr) continue;
    std::fprintf(out, "  %s %s: %s, last update %llu, bid %s, ask %s\n",
                 std::string(replayer.symbols().name(id)).c_str(),
                 venue_name(replayer.symbols().venue(id)), book->synced() ? "synced" : "NOT synced",
                 static_cast<unsigned long long>(book->last_update_id()),
                 level_text(book->book().best_bid()).c_str(),
                 level_text(book->book().best_ask()).c_str());
  }
  if (!opt.trace_path.empty() && opt.trace_path != "-") {
    std::fprintf(out, "  book trace: %llu lines -> %s\n",
                 static_cast<unsigned long long>(trace_lines), opt.trace_path.c_str());
  }
}

// Minor page faults of the calling thread so far (getrusage(RUSAGE_THREAD)).
std::uint64_t thread_minor_faults() noexcept {
  rusage u{};
  return getrusage(RUSAGE_THREAD, &u) == 0 ? static_cast<std::uint64_t>(u.ru_minflt) : 0;
}

// --json: the same run as one JSON object on one line (bench/replay_peers.py reads it).
void print_json(FILE* out, const ReplayOptions& opt, const Replayer& replayer, std::int64_t busy_ns,
                std::uint64_t busy_faults) {
  const ReplayCounters& c = replayer.counters();
  const double secs = static_cast<double>(busy_ns) / 1e9;
  std::string o = "{";
  json::text(o, "program", "shadow-replay");
  json::key(o, "files");
  o += '[';
  for (const std::string& f : opt.files) {
    if (o.back() != '[') o += ',';
    append_json_string(o, f);
  }
  o += ']';
  json::boolean(o, "preload", opt.preload);
  json::whole(o, "messages", c.messages);
  json::whole(o, "bytes", c.bytes);
  json::whole(o, "busy_ns", static_cast<unsigned long long>(busy_ns));
  json::whole(o, "busy_minor_faults", busy_faults);
  json::num(o, "msgs_per_s", secs > 0 ? static_cast<double>(c.messages) / secs : 0.0);
  json::whole(o, "book_messages", c.book_messages);
  json::whole(o, "trades", c.trades);
  json::whole(o, "bbo", c.bbo);
  json::whole(o, "decode_errors", c.decode_errors);
  json::key(o, "books");
  o += '[';
  // A level's price and quantity as JSON numbers (canonical decimals), null on an empty side.
  const auto level = [&o](std::string_view side, Level l) {
    char buf[kFixedMaxChars];
    json::key(o, std::string(side) + "_px");
    o += l.qty == 0 ? std::string_view("null") : to_chars_fixed(l.px, buf);
    json::key(o, std::string(side) + "_qty");
    o += l.qty == 0 ? std::string_view("null") : to_chars_fixed(l.qty, buf);
  };
  for (std::uint16_t id = 0; id < replayer.book_slots(); ++id) {
    const Replayer::Book* book = replayer.book(id);
    if (book == nullptr) continue;
    if (o.back() != '[') o += ',';
    o += '{';
    json::text(o, "symbol", replayer.symbols().name(id));
    json::text(o, "venue", venue_name(replayer.symbols().venue(id)));
    json::boolean(o, "synced", book->synced());
    json::whole(o, "last_update_id", book->last_update_id());
    level("bid", book->book().best_bid());
    level("ask", book->book().best_ask());
    o += '}';
  }
  o += "]}\n";
  std::fputs(o.c_str(), out);
}

}  // namespace

int replay_files(const ReplayOptions& opt) {
  BookTraceWriter trace;
  std::string error;
  if (!opt.trace_path.empty() && !trace.open(opt.trace_path, error)) {
    std::fprintf(stderr, "shadow-replay: %s\n", error.c_str());
    return kExitRuntimeFailure;
  }
  // The summary goes to stderr when the trace takes standard output.
  FILE* out = opt.trace_path == "-" ? stderr : stdout;

  Replayer replayer(opt.trace_path.empty() ? nullptr : &trace);
  if (!opt.binance_symbol.empty()) replayer.set_binance_snapshot_symbol(opt.binance_symbol);

  int rc = kExitOk;
  const auto fail = [&rc](int code) { rc = code > rc ? code : rc; };  // the worst one wins
  std::uint64_t errors_printed = 0;
  std::int64_t busy_ns = 0;  // time spent replaying (excludes --preload reads)
  std::uint64_t busy_faults = 0;  // page faults taken meanwhile (first touch of new memory)
  for (const std::string& path : opt.files) {
    CaptureReaderOptions ro;
    if (opt.max_line_bytes != 0) ro.max_line_bytes = opt.max_line_bytes;
    CaptureReader reader(ro);
    if (!reader.open(path, error) || (opt.preload && !reader.preload(error))) {
      std::fprintf(stderr, "shadow-replay: %s\n", error.c_str());
      fail(reader.error_kind() == CaptureErrorKind::kIo ? kExitRuntimeFailure : kExitBadInput);
      continue;
    }
    Protocol protocol = opt.protocol;
    CaptureTally tally;
    CaptureLine line;
    const std::uint64_t faults0 = thread_minor_faults();
    const std::int64_t t0 = monotonic_ns();
    while (reader.next(line)) {
      if (protocol == Protocol::kAuto && !line.too_long) protocol = detect_protocol({line.data, line.len});
      const DecodeStatus st = replayer.on_message(protocol, line);
      tally.count(st);
      if (!is_error(st) || errors_printed++ >= opt.max_errors) continue;
      if (line.too_long) {
        std::fprintf(stderr, "%s\n", reader.too_long_message(line).c_str());
      } else {
        std::fprintf(stderr, "%s:%zu: %.*s\n", path.c_str(), line.line_no,
                     static_cast<int>(to_string(st).size()), to_string(st).data());
      }
    }
    busy_ns += monotonic_ns() - t0;
    busy_faults += thread_minor_faults() - faults0;
    if (!reader.error().empty()) {
      // Truncated or corrupt gzip, or an I/O error: the file was not replayed to its end.
      std::fprintf(stderr, "shadow-replay: %s\n", reader.error().c_str());
      fail(reader.error_kind() == CaptureErrorKind::kIo ? kExitRuntimeFailure : kExitBadInput);
    } else if (tally.mostly_undecodable()) {
      std::fprintf(stderr, "shadow-replay: %s\n", tally.message(path).c_str());
      fail(kExitBadInput);
    }
  }
  if (!trace.close()) {
    std::fprintf(stderr, "shadow-replay: %s\n", trace.error().c_str());
    fail(kExitRuntimeFailure);
  }

  if (opt.json) {
    print_json(out, opt, replayer, busy_ns, busy_faults);
  } else {
    print_summary(out, opt, replayer, trace.lines(), static_cast<double>(busy_ns) / 1e9);
  }
  return rc;
}

}  // namespace shadow
