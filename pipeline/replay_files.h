// replay_files(): capture files through one Replayer (pipeline/replay.h) at full speed, with
// the summary shadow-replay prints: messages and throughput, counts per message type, decode
// errors by kind, book sync totals, and each book's final state. The library behind
// tools/shadow-replay.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "pipeline/replay.h"

namespace shadow {

// What one shadow-replay run reads, with the command line's defaults.
struct ReplayOptions {
  std::vector<std::string> files;  // read in order, one Replayer for all
  std::string trace_path;          // the book trace; empty = none, "-" standard output
  Protocol protocol = Protocol::kAuto;  // kAuto: each file's first message decides
  std::string binance_symbol;      // symbol of Binance REST snapshot lines (default: latest)
  bool preload = false;            // read each file into memory first: times decode + book only
  std::uint64_t max_errors = 20;   // decode errors printed (all are counted)
  std::size_t max_line_bytes = 0;  // longest capture line; 0 = CaptureReaderOptions' default
  bool json = false;               // the summary as one JSON line (messages, busy_ns, msgs_per_s,
                                   // each book's best bid and ask) instead of text
};

// Replays every file and prints the summary (stdout, or stderr when the trace takes standard
// output); decode errors go to stderr as "FILE:LINE: reason". Exit codes (core/exit_codes.h):
// 0 when every file was read and mostly decoded (a few decode errors in exchange data are
// counted, not fatal); 2 (bad input) when a file cannot be opened, is not a regular file, is in
// another compression format, is a truncated or corrupt gzip, or is mostly undecodable
// (CaptureTally, feed/capture_decoder.h); 3 when reading the disk or writing the trace failed.
// The other files are still replayed and the summary is printed in every case.
int replay_files(const ReplayOptions& opt);

}  // namespace shadow
