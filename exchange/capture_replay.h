// ReplaySource: the lines of shadow-exchange --replay captures, in file order, one file after
// another, each with what the server needs to pace and route it (docs/EMBEDDED_EXCHANGE.md,
// "Replay").
//
//   ReplaySource src;
//   if (!src.validate(paths, err)) fail(err);   // whole pass before listening: "FILE:LINE: ..."
//   ReplayLine l;
//   while (src.next(l)) serve(l);               // l valid until the next next()
//   if (!src.error().empty()) fail(src.error());
//
// Files are read with CaptureReader (`<local_receive_ns> <raw message>`, plain JSONL, .gz).
// Pacing: `offset_ns` is the recorded time since the first line — the sum of the differences
// between consecutive prefixed lines of a file (never negative); the first line of the next
// file follows the previous file's last line at once. A line without a prefix has no time of
// its own (`timed` false): the server sends it as fast as the client reads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "exchange/faults.h"
#include "feed/capture_reader.h"

namespace shadow {

struct ReplayLine {
  std::string_view text;    // the raw message, as recorded
  std::string_view topic;   // Bybit "topic"; empty when the line has none (Binance, REST)
  MarketMessage kind = MarketMessage::kOther;  // orderbook delta / snapshot / anything else
  bool timed = false;       // had a `<local_receive_ns>` prefix
  std::int64_t offset_ns = 0;  // recorded time since the replay's first line
};

class ReplaySource {
 public:
  // Reads every file once and checks every line is a JSON object whose "topic", if any, is a
  // string. False with "FILE: cannot open ..." / "FILE:LINE: ..." on the first problem.
  bool validate(const std::vector<std::string>& paths, std::string& error);

  // The next line; false at the end of the last file or on a read error (error() not empty).
  bool next(ReplayLine& out);

  const std::string& error() const noexcept { return error_; }
  std::uint64_t lines() const noexcept { return lines_; }

 private:
  // Classifies a parsed line. False when it is not acceptable (error set, without location).
  static bool classify(simdjson::dom::element doc, ReplayLine& out, std::string& error);

  std::vector<std::string> paths_;
  std::size_t file_ = 0;  // index of the file being read
  std::unique_ptr<CaptureReader> reader_;
  simdjson::dom::parser parser_;
  std::int64_t prev_ns_ = 0;  // last prefix seen in the current file; 0 = none yet
  std::int64_t offset_ns_ = 0;
  std::uint64_t lines_ = 0;
  std::string error_;
};

}  // namespace shadow
