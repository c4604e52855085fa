// shadow-replay: replays capture files through the feed decoders and the books at full speed.
//
//   shadow-replay [--book-trace FILE] [--protocol auto|bybit|binance] [--binance-symbol SYM]
//                 [--preload] [--json] [--max-errors N] [--max-line-bytes N] CAPTURE...
//
// Reads the flags into ReplayOptions and replays with replay_files() (pipeline/replay_files.h),
// which prints a summary (messages, counts per type, errors, gaps, resyncs, throughput). With
// --book-trace it writes the book trace (sinks/book_trace_writer.h) for every book message
// applied to a synced book. Exit status (core/exit_codes.h; replay_files() has the details):
// 0 when every file was read and mostly decoded (a few decode errors in exchange data are
// counted and reported, not fatal), 2 on a usage error or bad input (a file that cannot be
// opened, is not a regular file, is zstd/xz/bzip2/zip, is a truncated or corrupt gzip, or is
// mostly undecodable), 3 when the disk could not be read or the trace could not be written.
#include <cstdint>
#include <string>

#include "core/cli.h"
#include "core/input_text.h"
#include "pipeline/replay_files.h"

namespace {

using namespace shadow;

constexpr const char* kUsage =
    "usage: shadow-replay [--book-trace FILE] [--protocol auto|bybit|binance]\n"
    "                     [--binance-symbol SYM] [--preload] [--json] [--max-errors N]\n"
    "                     [--max-line-bytes N] CAPTURE...\n"
    "\n"
    "Replays capture files (`<local_ns> <json>` lines, plain JSONL, optionally .gz) through the\n"
    "decoders and order books at full speed and prints a summary.\n"
    "  --book-trace FILE     write symbol, update_id, best bid px/qty, best ask px/qty per\n"
    "                        applied book message (tab-separated; '-' is standard output)\n"
    "  --protocol P          decoder to use; auto (default) looks at each file's first message\n"
    "  --binance-symbol SYM  symbol of Binance REST snapshot lines (default: the symbol of the\n"
    "                        latest depthUpdate)\n"
    "  --preload             read each file into memory first, so the timing is decode + book\n"
    "  --json                print the summary as one JSON line instead: files, preload,\n"
    "                        messages, bytes, busy_ns, busy_minor_faults, msgs_per_s,\n"
    "                        book_messages, trades, bbo, decode_errors, books (symbol,\n"
    "                        venue, synced, last_update_id,\n"
    "                        bid_px, bid_qty, ask_px, ask_qty; null on an empty side)\n"
    "  --max-errors N        print at most N decode errors (default 20); all are counted\n"
    "  --max-line-bytes N    longest capture line kept, 1024..1073741824 (default 4194304);\n"
    "                        a longer line is skipped and counted as a decode error\n"
    "\n"
    "Exit status: 0 replayed; 2 usage error or bad input (unreadable, not a regular file,\n"
    "zstd/xz/bzip2/zip, truncated or corrupt gzip, or fewer lines decoded than not, or none);\n"
    "3 the disk could not be read or the trace could not be written.\n";

ReplayOptions parse_args(int argc, char** argv) {
  ReplayOptions a;
  cli::Args cl("shadow-replay", kUsage, argc, argv);
  while (cl.next()) {
    if (cl.is("--book-trace")) {
      a.trace_path = cl.value();
    } else if (cl.is("--protocol")) {
      const std::string p = cl.value();
      if (!parse_protocol(p, a.protocol)) cl.fail("--protocol must be auto, bybit or binance, not '" + printable(p) + "'");
    } else if (cl.is("--binance-symbol")) {
      a.binance_symbol = cl.value();
      if (std::string why = check_symbol(a.binance_symbol, "--binance-symbol"); !why.empty()) cl.fail(why);
    } else if (cl.is("--preload")) {
      a.preload = true;
    } else if (cl.is("--json")) {
      a.json = true;
    } else if (cl.is("--max-errors")) {
      a.max_errors = cl.whole();
    } else if (cl.is("--max-line-bytes")) {
      const std::uint64_t n = cl.whole();
      if (n < 1024 || n > (std::uint64_t{1} << 30)) {
        cl.fail("--max-line-bytes must be in [1024, 1073741824], not " + std::to_string(n));
      }
      a.max_line_bytes = static_cast<std::size_t>(n);
    } else if (cl.is_option()) {
      cl.fail("unknown option " + printable(cl.arg()));
    } else {
      a.files.emplace_back(cl.arg());
    }
  }
  if (a.files.empty()) cl.fail("no capture file given");
  return a;
}

}  // namespace

int main(int argc, char** argv) { return replay_files(parse_args(argc, argv)); }
