// Capture lines to MarketEvents: the one driver between capture files (capture_reader.h) and
// the venue decoders, used by the replayer (pipeline/replay.h), the recorder, tests and
// benchmarks, so that a capture is decoded the same way wherever it is read.
//
//   shadow::CaptureDecoder dec(symbols);
//   std::string err;
//   bool ok = shadow::decode_capture(path, shadow::Protocol::kAuto, dec, sink, err,
//                                    [](const CaptureLine& l, DecodeStatus st) { ... });
//
// A capture line carries one receive time, the `<local_receive_ns>` prefix (DESIGN.md "Capture
// files"); it is used as both the wall-clock and the monotonic receive time of its events.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/event_sink.h"
#include "core/symbol_table.h"
#include "feed/binance_decoder.h"
#include "feed/bybit_decoder.h"
#include "feed/capture_reader.h"
#include "feed/decode_status.h"

namespace shadow {

// Which decoder a capture needs. Files are single-protocol; kAuto looks at the first message.
enum class Protocol : std::uint8_t { kAuto, kBybit, kBinance };

// Guesses the protocol of one raw message: Bybit v5 messages carry "topic" or "op"; anything
// else JSON-shaped is taken as Binance (combined stream, bare payload or REST snapshot).
Protocol detect_protocol(std::string_view message) noexcept;

// Parses "auto", "bybit" or "binance" (the tools' --protocol values). False for anything else.
bool parse_protocol(std::string_view name, Protocol& out) noexcept;

// Decodes one capture line with a venue decoder.
template <class Decoder, EventSink S>
DecodeStatus decode_line(Decoder& dec, const CaptureLine& line, S& sink) noexcept {
  return dec.decode(line.data, line.len, line.capacity, line.local_ns, line.local_ns, sink);
}

// CaptureDecoder: both venue decoders over one symbol table, each line going to the decoder of
// its protocol. Same contract as the venue decoders (noexcept, no allocation after warm-up, all
// events of a line or none); not thread-safe.
class CaptureDecoder {
 public:
  explicit CaptureDecoder(SymbolTable& symbols) noexcept : bybit_(symbols), binance_(symbols) {}

  // `protocol` kAuto is taken as Binance, as detect_protocol() would for a line without "topic"
  // or "op": callers resolve kAuto once per file, never per line.
  template <EventSink S>
  DecodeStatus decode(Protocol protocol, const CaptureLine& line, S& sink) noexcept {
    return decode(protocol, line.data, line.len, line.capacity, line.local_ns, line.local_ns, sink);
  }

  // One message with its own receive times (a live feed: wall clock and monotonic apart).
  template <EventSink S>
  DecodeStatus decode(Protocol protocol, const char* data, std::size_t len, std::size_t capacity,
                      std::int64_t local_ns, std::int64_t mono_ns, S& sink) noexcept {
    return protocol == Protocol::kBybit
               ? bybit_.decode(data, len, capacity, local_ns, mono_ns, sink)
               : binance_.decode(data, len, capacity, local_ns, mono_ns, sink);
  }

  // The Binance REST depth snapshot names no symbol: see BinanceDecoder::set_snapshot_symbol.
  void set_binance_snapshot_symbol(std::string_view symbol) noexcept {
    binance_.set_snapshot_symbol(symbol);
  }

  const DecoderStats& bybit_stats() const noexcept { return bybit_.stats(); }
  const DecoderStats& binance_stats() const noexcept { return binance_.stats(); }

 private:
  BybitDecoder bybit_;
  BinanceDecoder binance_;
};

// The verdict on one capture file's lines (feed/README.md "Capture files"): a file whose
// lines mostly did not decode is bad input, not a replay that "completed". It failed when no
// line decoded or when more lines failed (decoder errors, too-long lines) than decoded;
// recognised lines that publish nothing (acks, pongs, other topics) count as decoded.
struct CaptureTally {
  std::uint64_t decoded = 0;
  std::uint64_t undecodable = 0;

  void count(DecodeStatus st) noexcept {
    if (is_error(st)) ++undecodable;
    else ++decoded;
  }
  std::uint64_t lines() const noexcept { return decoded + undecodable; }
  bool mostly_undecodable() const noexcept { return decoded == 0 || undecodable > decoded; }
  // "PATH: input mostly undecodable: X of Y lines decoded" (another text for an empty file).
  std::string message(const std::string& path) const {
    if (lines() == 0) return path + ": input mostly undecodable: the file has no non-blank lines";
    return path + ": input mostly undecodable: " + std::to_string(decoded) + " of " +
           std::to_string(lines()) + " lines decoded";
  }
};

// Decodes every line of the capture file at `path` into `sink`, with `protocol` or, for kAuto,
// the protocol of the file's first line; on_line(line, status) sees each line's result. The
// file is preloaded first, so only decoding runs between lines; a too-long line reaches the
// decoder as an empty message (an error). False with `error` when the file cannot be opened or
// read.
template <EventSink S, class OnLine>
bool decode_capture(const std::string& path, Protocol protocol, CaptureDecoder& dec, S& sink,
                    std::string& error, OnLine&& on_line) {
  CaptureReader reader;
  if (!reader.open(path, error) || !reader.preload(error)) return false;
  CaptureLine line;
  while (reader.next(line)) {
    if (protocol == Protocol::kAuto && !line.too_long) protocol = detect_protocol({line.data, line.len});
    on_line(static_cast<const CaptureLine&>(line), dec.decode(protocol, line, sink));
  }
  error = reader.error();
  return error.empty();
}

}  // namespace shadow
