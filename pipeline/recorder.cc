#include "pipeline/recorder.h"

#include <time.h>

#include <charconv>
#include <cstdint>
#include <cstdio>

#include "core/clock.h"
#include "core/exit_codes.h"
#include "core/signals.h"

namespace shadow {

Recorder::Recorder(BufferedFileWriter& capture, Replayer& replayer, Protocol protocol,
                   std::uint64_t max_errors)
    : capture_(capture), replayer_(replayer), protocol_(protocol), max_errors_(max_errors),
      realtime_offset_ns_(realtime_ns() - monotonic_ns()) {}

void Recorder::on_message(const WsClientMessage& m) noexcept {
  if (m.op != WsOpcode::kText) {  // venues send JSON text; a binary frame is not a capture line
    ++binary_skipped_;
    return;
  }
  ++messages_;
  bytes_ += m.len;
  const std::int64_t mono = m.recv_mono_ns != 0 ? m.recv_mono_ns : monotonic_ns();
  const std::int64_t local_ns = mono + realtime_offset_ns_;
  write_line(local_ns, m.view());

  CaptureLine line;
  line.data = m.data;
  line.len = m.len;
  line.capacity = m.capacity;  // >= len + kWsPadding (64), what the decoders need
  line.local_ns = local_ns;
  line.line_no = messages_;
  const DecodeStatus st = replayer_.on_message(protocol_, line);
  if (replayer_.gap_symbol() != SymbolTable::kInvalid && session_ != nullptr) {
    // A hole in the book's sequence: ask for a fresh snapshot (Bybit resubscribe).
    const std::string_view sym = replayer_.symbols().name(replayer_.gap_symbol());
    const bool asked = session_->resync(sym);
    std::fprintf(stderr, "shadow-record: gap in %.*s at message %llu: %s\n",
                 static_cast<int>(sym.size()), sym.data(),
                 static_cast<unsigned long long>(messages_),
                 asked ? "resubscribed for a fresh snapshot" : "waiting for a snapshot");
  }
  if (st != DecodeStatus::kOk && st != DecodeStatus::kSkipped) {
    ++decode_errors_;
    if (decode_errors_ <= max_errors_) {
      const std::string_view why = to_string(st);
      std::fprintf(stderr, "shadow-record: message %llu: %.*s\n",
                   static_cast<unsigned long long>(messages_), static_cast<int>(why.size()),
                   why.data());
    }
  }
}

void Recorder::on_session(const SessionEvent& e) noexcept {
  const std::string_view kind = to_string(e.kind);
  switch (e.kind) {
    case SessionEventKind::kConnected:
      if (e.connection > 1) {
        std::fprintf(stderr, "shadow-record: reconnected (connection %llu)\n",
                     static_cast<unsigned long long>(e.connection));
      }
      return;
    case SessionEventKind::kDisconnected:
      replayer_.invalidate_books();  // rebuilt from the next snapshot
      [[fallthrough]];
    case SessionEventKind::kConnectFailed: {
      const std::string_view why = to_string(e.reason);
      std::snprintf(close_reason_, sizeof close_reason_, "%.*s (%.*s): %.*s",
                    static_cast<int>(kind.size()), kind.data(), static_cast<int>(why.size()),
                    why.data(), static_cast<int>(e.detail.size()), e.detail.data());
      if (e.retry_in_ns > 0) {
        std::fprintf(stderr, "shadow-record: %s; retrying in %.3f s\n", close_reason_,
                     static_cast<double>(e.retry_in_ns) / 1e9);
      }
      return;
    }
    case SessionEventKind::kGaveUp:
      return;
  }
}

// `<ns> <message>\n`. A raw CR/LF inside a message would split the capture line; JSON allows
// them only as whitespace between tokens, so they become spaces (same JSON value) and are
// counted. Write errors surface at close (BufferedFileWriter keeps the first one).
void Recorder::write_line(std::int64_t local_ns, std::string_view msg) noexcept {
  char* p = capture_.reserve(24);
  if (p == nullptr) return;
  p = std::to_chars(p, p + 22, local_ns).ptr;
  *p++ = ' ';
  capture_.commit(p);
  if (msg.find_first_of("\r\n") == std::string_view::npos) {
    capture_.append(msg);
  } else {
    ++line_breaks_replaced_;
    while (!msg.empty()) {
      const std::size_t n = msg.find_first_of("\r\n");
      capture_.append(msg.substr(0, n));
      if (n == std::string_view::npos) break;
      capture_.append(" ");
      msg.remove_prefix(n + 1);
    }
  }
  capture_.append("\n");
}

namespace {

// The run's summary lines (the tests and operators read them).
void print_summary(FILE* out, const RecordOptions& opt, const Recorder& rec,
                   const Replayer& replayer, const FeedSession& session,
                   const char* stop_cause, std::uint64_t capture_bytes, std::uint64_t trace_lines,
                   double secs) {
  const ReplayCounters& c = replayer.counters();
  const SyncStats b = replayer.book_totals();
  std::fprintf(out, "shadow-record: %s: %llu messages, %llu bytes in %.3f s\n", opt.url.c_str(),
               static_cast<unsigned long long>(rec.messages()),
               static_cast<unsigned long long>(rec.bytes()), secs);
  std::fprintf(out,
               "  decode errors %llu, book messages %llu, trades %llu, bbo %llu, gaps %llu, "
               "resyncs %llu\n",
               static_cast<unsigned long long>(rec.decode_errors()),
               static_cast<unsigned long long>(c.book_messages),
               static_cast<unsigned long long>(c.trades), static_cast<unsigned long long>(c.bbo),
               static_cast<unsigned long long>(b.gaps), static_cast<unsigned long long>(b.resyncs));
  if (rec.line_breaks_replaced() > 0 || rec.binary_skipped() > 0) {
    std::fprintf(out, "  messages with line breaks made spaces %llu, binary messages skipped %llu\n",
                 static_cast<unsigned long long>(rec.line_breaks_replaced()),
                 static_cast<unsigned long long>(rec.binary_skipped()));
  }
  const FeedSessionStats& fs = session.stats();
  const ReconnectPolicy& rp = session.policy();
  std::fprintf(out, "  stopped: %s; last connection: %s; pings sent %llu\n", stop_cause,
               rec.close_reason(), static_cast<unsigned long long>(fs.pings_sent));
  std::fprintf(out,
               "  connects %llu, connect failures %llu, disconnects %llu (server close %llu, "
               "protocol error %llu, connection lost %llu, heartbeat timeout %llu), "
               "resubscribes %llu\n",
               static_cast<unsigned long long>(fs.connects),
               static_cast<unsigned long long>(fs.connect_failures),
               static_cast<unsigned long long>(fs.disconnects),
               static_cast<unsigned long long>(rp.count(DisconnectReason::kServerClose)),
               static_cast<unsigned long long>(rp.count(DisconnectReason::kProtocolError)),
               static_cast<unsigned long long>(rp.count(DisconnectReason::kConnectionLost)),
               static_cast<unsigned long long>(rp.count(DisconnectReason::kHeartbeatTimeout)),
               static_cast<unsigned long long>(fs.resubscribes));
  std::fprintf(out, "  capture: %llu bytes -> %s\n",
               static_cast<unsigned long long>(capture_bytes), opt.out_path.c_str());
  if (!opt.trace_path.empty() && opt.trace_path != "-") {
    std::fprintf(out, "  book trace: %llu lines -> %s\n",
                 static_cast<unsigned long long>(trace_lines), opt.trace_path.c_str());
  }
}

}  // namespace

int run_recorder(const RecordOptions& opt) {
  std::string error;
  BufferedFileWriter capture;
  if (!capture.open(opt.out_path, "capture", error)) {
    std::fprintf(stderr, "shadow-record: %s\n", error.c_str());
    return kExitBadInput;  // --out names a place we cannot write
  }
  BookTraceWriter trace;
  if (!opt.trace_path.empty() && !trace.open(opt.trace_path, error)) {
    std::fprintf(stderr, "shadow-record: %s\n", error.c_str());
    return kExitBadInput;
  }
  // The summary goes to stderr when a file takes standard output.
  FILE* out = opt.out_path == "-" || opt.trace_path == "-" ? stderr : stdout;

  Replayer replayer(opt.trace_path.empty() ? nullptr : &trace);
  Recorder rec(capture, replayer, opt.protocol, opt.max_errors);

  FeedSessionConfig fc;
  fc.url = opt.url;
  fc.venue = opt.protocol == Protocol::kBybit ? FeedVenue::kBybit : FeedVenue::kBinance;
  fc.topics = opt.topics;
  fc.ping_interval_ns = static_cast<std::int64_t>(opt.ping_interval_s * 1e9);
  fc.reconnect.heartbeat_timeout_ns = static_cast<std::int64_t>(opt.heartbeat_timeout_s * 1e9);
  fc.reconnect_enabled = opt.reconnect;
  fc.client.tls = opt.tls;
  FeedSession session(fc);
  rec.attach(&session);

  const std::int64_t start = monotonic_ns();
  const std::int64_t deadline =
      opt.duration_s > 0 ? start + static_cast<std::int64_t>(opt.duration_s * 1e9) : INT64_MAX;
  const char* stop_cause = "connection ended";

  // poll() waits at most UringReaderOptions::wait_timeout_us (1 ms) for data, and a pending
  // reconnect returns at once, so the flag and the clock are looked at every millisecond.
  while (!session.done()) {
    if (session.poll(rec) == 0 && !session.connected()) {
      timespec ts{0, 1'000'000};  // waiting to reconnect: no spinning on a dead venue
      nanosleep(&ts, nullptr);
    }
    if (session.done()) break;
    if (signals::stop_requested()) {
      stop_cause = "signal";
      break;
    }
    if (monotonic_ns() >= deadline) {
      stop_cause = "duration reached";
      break;
    }
  }
  if (!session.done()) {
    // Our close (§7.1.2); messages still arriving before the server's close are recorded too.
    session.stop(2'000'000'000);
    while (!session.done()) session.poll(rec);
  }
  if (session.stats().connects == 0) {
    std::fprintf(stderr, "shadow-record: cannot connect to %s: %s\n", opt.url.c_str(),
                 rec.close_reason());
    capture.close();
    trace.close();
    return kExitRuntimeFailure;  // the venue is unreachable (the give-up policy: --reconnect)
  }

  int rc = kExitOk;
  if (!capture.close()) {  // disk full, I/O error
    std::fprintf(stderr, "shadow-record: %s\n", capture.error().c_str());
    rc = kExitRuntimeFailure;
  }
  if (!trace.close()) {
    std::fprintf(stderr, "shadow-record: %s\n", trace.error().c_str());
    rc = kExitRuntimeFailure;
  }

  const double secs = static_cast<double>(monotonic_ns() - start) / 1e9;
  print_summary(out, opt, rec, replayer, session, stop_cause, capture.bytes(), trace.lines(), secs);
  return rc;
}

}  // namespace shadow
