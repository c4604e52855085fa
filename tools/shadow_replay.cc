// shadow-replay: replays capture files through the feed decoders and the books at full speed.
//
//   shadow-replay [--book-trace FILE] [--protocol auto|bybit|binance] [--binance-symbol SYM]
//                 [--preload] [--max-errors N] CAPTURE...
//
// Reads the flags into ReplayOptions and replays with replay_files() (pipeline/replay_files.h),
// which prints a summary (messages, counts per type, errors, gaps, resyncs, throughput). With
// --book-trace it writes the book trace (sinks/book_trace_writer.h) for every book message
// applied to a synced book. Exit status: 0 when every file was read (decode errors in exchange
// data are counted and reported, not fatal), 1 when a file could not be read or the trace could
// not be written, 2 on a usage error.
#include <string>

#include "core/cli.h"
#include "pipeline/replay_files.h"

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

ReplayOptions parse_args(int argc, char** argv) {
  ReplayOptions a;
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

}  // namespace

int main(int argc, char** argv) { return replay_files(parse_args(argc, argv)); }
