// shadow-replay: replays capture files through the feed decoders and the books at full speed.
//
//   shadow-replay [--book-trace FILE] [--protocol auto|bybit|binance] [--binance-symbol SYM]
//                 [--preload] [--max-errors N] CAPTURE...
//
// Prints a summary (messages, counts per type, errors, gaps, resyncs, throughput). With
// --book-trace it writes the book trace (sinks/book_trace_writer.h) for every book message
// applied to a synced book. Exit status: 0 when every file was read (decode errors in exchange
// data are counted and reported, not fatal), 1 when a file could not be read or the trace could
// not be written, 2 on a usage error.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "core/cli.h"
#include "core/clock.h"
#include "pipeline/replay.h"

namespace {

using namespace shadow;

constexpr const char* kUsage =
    "usage: shadow-replay [--book-trace FILE] [--protocol auto|bybit|binance]\n"
    "                     [--binance-symbol SYM] [--preload] [--max-errors N] CAPTURE...\n"
    "\n"
    "Replays capture files (`<local_ns> <json>` lines, plain JSONL, optionally .gz) through the\n"
    "decoders and order books at full speed and prints a summary.\n"
    "  --book-trace FILE     write symbol, update_id, best bid px/qty, best ask px/qty per\n"
    "                        applied book message (tab-separated; '-' is standard output)\n"
    "  --protocol P          decoder to use; auto (default) looks at each file's first message\n"
    "  --binance-symbol SYM  symbol of Binance REST snapshot lines (default: the symbol of the\n"
    "                        latest depthUpdate)\n"
    "  --preload             read each file into memory first, so the timing is decode + book\n"
    "  --max-errors N        print at most N decode errors (default 20); all are counted\n";

struct Args {
  std::string trace_path;
  Protocol protocol = Protocol::kAuto;
  std::string binance_symbol;
  bool preload = false;
  std::uint64_t max_errors = 20;
  std::vector<std::string> files;
};

Args parse_args(int argc, char** argv) {
  Args a;
  cli::Args cl("shadow-replay", kUsage, argc, argv);
  while (cl.next()) {
    if (cl.is("--book-trace")) {
      a.trace_path = cl.value();
    } else if (cl.is("--protocol")) {
      const std::string p = cl.value();
      if (!parse_protocol(p, a.protocol)) cl.fail("--protocol must be auto, bybit or binance, not '" + p + "'");
    } else if (cl.is("--binance-symbol")) {
      a.binance_symbol = cl.value();
    } else if (cl.is("--preload")) {
      a.preload = true;
    } else if (cl.is("--max-errors")) {
      a.max_errors = cl.whole();
    } else if (cl.is_option()) {
      cl.fail("unknown option " + std::string(cl.arg()));
    } else {
      a.files.emplace_back(cl.arg());
    }
  }
  if (a.files.empty()) cl.fail("no capture file given");
  return a;
}

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
}

std::string level_text(Level l) {
  if (l.qty == 0) return "-";
  char px[kFixedMaxChars], qty[kFixedMaxChars];
  return std::string(to_chars_fixed(l.px, px)) + " x " + std::string(to_chars_fixed(l.qty, qty));
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse_args(argc, argv);

  BookTraceWriter trace;
  std::string error;
  if (!args.trace_path.empty() && !trace.open(args.trace_path, error)) {
    std::fprintf(stderr, "shadow-replay: %s\n", error.c_str());
    return 1;
  }
  // The summary goes to stderr when the trace takes standard output.
  FILE* out = args.trace_path == "-" ? stderr : stdout;

  Replayer replayer(args.trace_path.empty() ? nullptr : &trace);
  if (!args.binance_symbol.empty()) replayer.set_binance_snapshot_symbol(args.binance_symbol);

  int rc = 0;
  std::uint64_t errors_printed = 0;
  std::int64_t busy_ns = 0;  // time spent replaying (excludes --preload reads)
  for (const std::string& path : args.files) {
    CaptureReader reader;
    if (!reader.open(path, error) || (args.preload && !reader.preload(error))) {
      std::fprintf(stderr, "shadow-replay: %s\n", error.c_str());
      rc = 1;
      continue;
    }
    Protocol protocol = args.protocol;
    CaptureLine line;
    const std::int64_t t0 = monotonic_ns();
    while (reader.next(line)) {
      if (protocol == Protocol::kAuto) protocol = detect_protocol({line.data, line.len});
      const DecodeStatus st = replayer.on_message(protocol, line);
      if (st != DecodeStatus::kOk && st != DecodeStatus::kSkipped &&
          errors_printed++ < args.max_errors) {
        std::fprintf(stderr, "%s:%zu: %.*s\n", path.c_str(), line.line_no,
                     static_cast<int>(to_string(st).size()), to_string(st).data());
      }
    }
    busy_ns += monotonic_ns() - t0;
    if (!reader.error().empty()) {
      std::fprintf(stderr, "shadow-replay: %s\n", reader.error().c_str());
      rc = 1;
    }
  }
  if (!trace.close()) {
    std::fprintf(stderr, "shadow-replay: %s\n", trace.error().c_str());
    rc = 1;
  }

  const ReplayCounters& c = replayer.counters();
  DecoderStats d{};
  add(d, replayer.bybit_stats());
  add(d, replayer.binance_stats());
  const SyncStats b = replayer.book_totals();
  const double secs = static_cast<double>(busy_ns) / 1e9;
  std::fprintf(out, "shadow-replay: %zu file(s), %llu messages, %.1f MB in %.3f s: %.2f M msg/s, %.0f MB/s%s\n",
               args.files.size(), static_cast<unsigned long long>(c.messages),
               static_cast<double>(c.bytes) / 1e6, secs,
               secs > 0 ? static_cast<double>(c.messages) / secs / 1e6 : 0.0,
               secs > 0 ? static_cast<double>(c.bytes) / secs / 1e6 : 0.0,
               args.preload ? " (preloaded: decode + book)" : " (read + decode + book)");
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
  if (!args.trace_path.empty() && args.trace_path != "-") {
    std::fprintf(out, "  book trace: %llu lines -> %s\n",
                 static_cast<unsigned long long>(trace.lines()), args.trace_path.c_str());
  }
  return rc;
}
