// Recorder: records a venue's WebSocket stream into a capture file, optionally tracing the
// books on the way (the library behind tools/shadow-record).
//
// Every text message received becomes one capture line `<local_receive_ns> <raw message>\n`,
// the format CaptureReader and shadow-replay read (DESIGN.md "Capture files"). Each message is
// also decoded and applied to the books by the same Replayer shadow-replay uses, so the book
// trace written here is exactly the one `shadow-replay --book-trace` writes for the capture.
//
// local_receive_ns: CLOCK_REALTIME ns of the moment the completion carrying the message's last
// byte was reaped. WsClient stamps that moment on CLOCK_MONOTONIC (recv_mono_ns); the
// REALTIME - MONOTONIC offset sampled once at construction is added, so every message of one
// reaped batch gets its true reap time (not the time the loop got round to it), and the
// timestamps of a capture never step backwards when NTP steps the wall clock mid-recording.
//
// A book gap asks the FeedSession for a fresh snapshot (Bybit resubscribe); a disconnect
// invalidates the books until their next snapshot. Malformed messages are recorded as
// received (the capture is the raw truth) and counted as decode errors.
//
// Single-threaded: the FeedSession's poll() calls on_message()/on_session() on the caller's
// thread. Write errors of the capture surface when the writer is closed (it keeps the first).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "feed/feed_session.h"
#include "feed/ws_client.h"
#include "pipeline/replay.h"
#include "sinks/buffered_file_writer.h"

namespace shadow {

// What one shadow-record run records, with the command line's defaults.
struct RecordOptions {
  std::string url;                   // ws://HOST:PORT/PATH
  std::vector<std::string> topics;   // subscribed on every connection
  std::string out_path;              // the capture; "-" is standard output
  std::string trace_path;            // the book trace; empty = none, "-" standard output
  double duration_s = 0;             // 0: no limit
  Protocol protocol = Protocol::kAuto;  // run_recorder() needs kBybit or kBinance
  double ping_interval_s = 20;       // Bybit v5 "How to Send the Heartbeat Packet": every 20 s
  std::uint64_t max_errors = 20;     // decode errors printed (all are counted)
  bool reconnect = false;            // retry with backoff instead of ending with the connection
  double heartbeat_timeout_s = 30;   // no byte for this long: the connection is dead
  TlsOptions tls;                    // wss://: CA file, skip-verify, highest version
};

class Recorder {
 public:
  // `capture` and `replayer` outlive the recorder; `protocol` is kBybit or kBinance.
  Recorder(BufferedFileWriter& capture, Replayer& replayer, Protocol protocol,
           std::uint64_t max_errors);

  // The session a book gap resyncs through (may stay unset: gaps then wait for a snapshot).
  void attach(FeedSession* session) noexcept { session_ = session; }

  // FeedSession's handler interface.
  void on_message(const WsClientMessage& m) noexcept;
  void on_session(const SessionEvent& e) noexcept;

  // Why the last connection ended (or failed), for the summary.
  const char* close_reason() const noexcept { return close_reason_; }
  std::uint64_t messages() const noexcept { return messages_; }
  std::uint64_t bytes() const noexcept { return bytes_; }
  std::uint64_t decode_errors() const noexcept { return decode_errors_; }
  std::uint64_t line_breaks_replaced() const noexcept { return line_breaks_replaced_; }
  std::uint64_t binary_skipped() const noexcept { return binary_skipped_; }

 private:
  void write_line(std::int64_t local_ns, std::string_view msg) noexcept;

  BufferedFileWriter& capture_;
  Replayer& replayer_;
  Protocol protocol_;
  std::uint64_t max_errors_;
  std::int64_t realtime_offset_ns_;
  std::uint64_t messages_ = 0;
  std::uint64_t bytes_ = 0;
  std::uint64_t decode_errors_ = 0;
  std::uint64_t line_breaks_replaced_ = 0;
  std::uint64_t binary_skipped_ = 0;
  FeedSession* session_ = nullptr;
  char close_reason_[320] = "closed by us";
};

// The whole shadow-record run: opens the files, records through a FeedSession until
// --duration, a stop signal (signals::stop_requested()) or the end of the connection (without
// reconnect), closes with 1000, flushes and fsyncs the files and prints the summary (stdout, or
// stderr when a file takes standard output). 0 on success; 1 when nothing could connect (the
// message names the URL) or a file could not be created or written.
int run_recorder(const RecordOptions& opt);

}  // namespace shadow
