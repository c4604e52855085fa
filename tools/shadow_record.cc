// shadow-record: records a venue's WebSocket stream into a capture file, optionally tracing
// the books on the way.
//
//   shadow-record --url ws://HOST:PORT/PATH --subscribe TOPIC[,TOPIC...] --out CAPTURE
//                 [--book-trace FILE] [--duration S] [--protocol auto|bybit|binance]
//                 [--ping-interval S] [--max-errors N] [--reconnect] [--heartbeat-timeout S]
//
// Connects through WsClient (feed/ws_client.h), sends the venue's subscribe message and writes
// every text message received as one capture line `<local_receive_ns> <raw message>\n` — the
// format CaptureReader and shadow-replay read (DESIGN.md "Capture files"). Each message is also
// decoded and applied to the books by the same Replayer shadow-replay uses, so --book-trace
// here writes exactly the trace `shadow-replay --book-trace` writes for the recorded capture.
//
// local_receive_ns: CLOCK_REALTIME ns of the moment the completion carrying the message's last
// byte was reaped. WsClient stamps that moment on CLOCK_MONOTONIC (recv_mono_ns); we add the
// REALTIME - MONOTONIC offset sampled once at start, so every message of one reaped batch gets
// its true reap time (not the time our loop got round to it), and the timestamps of a capture
// never step backwards when NTP steps the wall clock mid-recording.
//
// The connection is a FeedSession (feed/feed_session.h): Bybit heartbeat, and with --reconnect
// every disconnect is logged with its reason and retried with jittered exponential backoff;
// the subscriptions are re-sent, the books invalidated until their next snapshot, and a book
// gap is repaired by resubscribing (a fresh snapshot). The capture holds the messages as
// received, so replaying it gives the same book trace.
//
// Stops after --duration seconds, on SIGINT/SIGTERM, or when the server closes (without
// --reconnect); then closes the connection (close 1000), flushes and fsyncs the files, prints a
// summary and exits 0.
// Exit 1: the connection or handshake failed (the message names the URL), or a file could not
// be created/written. Exit 2: usage error. Malformed messages are recorded as received (the
// capture is the raw truth) and counted as decode errors.
#include <time.h>

#include <atomic>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "core/cli.h"
#include "core/clock.h"
#include "core/signals.h"
#include "feed/feed_session.h"
#include "feed/websocket_handshake.h"
#include "feed/ws_client.h"
#include "pipeline/replay.h"
#include "sinks/buffered_file_writer.h"

namespace {

using namespace shadow;

constexpr const char* kUsage =
    "usage: shadow-record --url ws://HOST:PORT/PATH --subscribe TOPIC[,TOPIC...] --out CAPTURE\n"
    "                     [--book-trace FILE] [--duration S] [--protocol auto|bybit|binance]\n"
    "                     [--ping-interval S] [--max-errors N] [--reconnect]\n"
    "                     [--heartbeat-timeout S]\n"
    "\n"
    "Records a WebSocket market-data stream as a capture (`<local_receive_ns> <raw json>` per\n"
    "line, readable by shadow-replay) and optionally writes the book trace on the way.\n"
    "  --url URL             ws:// endpoint (Bybit v5 public, Binance /ws or /stream?streams=)\n"
    "  --subscribe TOPICS    comma-separated topics/streams to subscribe to; Bybit sends\n"
    "                        {\"op\":\"subscribe\",\"args\":[...]}, Binance\n"
    "                        {\"method\":\"SUBSCRIBE\",\"params\":[...],\"id\":1}. May be omitted for\n"
    "                        Binance when the URL names the streams (/ws/S or ?streams=a/b)\n"
    "  --out CAPTURE         capture file to create ('-' is standard output)\n"
    "  --book-trace FILE     also write the book trace shadow-replay --book-trace would\n"
    "  --duration S          stop after S seconds (default: until the server closes or a signal)\n"
    "  --protocol P          venue; auto (default) tells it from the URL (host or path)\n"
    "  --ping-interval S     Bybit application heartbeat {\"op\":\"ping\"} period (default 20;\n"
    "                        0 = never). Binance needs none: it pings, WsClient answers\n"
    "  --max-errors N        print at most N decode errors (default 20); all are counted\n"
    "  --reconnect           on a disconnect or failed connect, retry with backoff (100 ms\n"
    "                        doubling to 30 s, jittered), resubscribe and go on recording;\n"
    "                        a book gap is repaired by resubscribing (Bybit). Without it the\n"
    "                        recording ends when the connection does\n"
    "  --heartbeat-timeout S no byte for S seconds ends the connection (default 30; 0 = off)\n";

struct Args {
  std::string url;
  std::vector<std::string> topics;
  std::string out_path;
  std::string trace_path;
  double duration_s = 0;  // 0: no limit
  Protocol protocol = Protocol::kAuto;
  double ping_interval_s = 20;  // Bybit v5 "How to Send the Heartbeat Packet": every 20 s
  std::uint64_t max_errors = 20;
  bool reconnect = false;
  double heartbeat_timeout_s = 30;  // no byte for this long: the connection is dead
};

Args parse_args(int argc, char** argv) {
  Args a;
  cli::Args cl("shadow-record", kUsage, argc, argv);
  while (cl.next()) {
    if (cl.is("--url")) {
      a.url = cl.value();
    } else if (cl.is("--subscribe")) {
      a.topics = cl.list();
      if (a.topics.empty()) cl.fail("--subscribe needs at least one topic");
    } else if (cl.is("--out")) {
      a.out_path = cl.value();
    } else if (cl.is("--book-trace")) {
      a.trace_path = cl.value();
    } else if (cl.is("--duration")) {
      a.duration_s = cl.number(0, 1e9);
      if (a.duration_s == 0) cl.fail("--duration must be > 0");
    } else if (cl.is("--ping-interval")) {
      a.ping_interval_s = cl.number(0, 1e9);
    } else if (cl.is("--protocol")) {
      const std::string p = cl.value();
      if (!parse_protocol(p, a.protocol)) cl.fail("--protocol must be auto, bybit or binance, not '" + p + "'");
    } else if (cl.is("--max-errors")) {
      a.max_errors = cl.whole();
    } else if (cl.is("--reconnect")) {
      a.reconnect = true;
    } else if (cl.is("--heartbeat-timeout")) {
      a.heartbeat_timeout_s = cl.number(0, 1e9);
    } else {
      cl.fail("unexpected argument " + std::string(cl.arg()));
    }
  }
  if (a.url.empty()) cl.fail("--url is required");
  if (a.out_path.empty()) cl.fail("--out is required");
  WsUrl u;
  std::string err;
  if (!parse_ws_url(a.url, u, err)) cl.fail("bad --url '" + a.url + "': " + err);
  FeedVenue v;
  if (a.protocol == Protocol::kAuto && venue_from_url(u.host, u.resource, v)) {
    a.protocol = v == FeedVenue::kBybit ? Protocol::kBybit : Protocol::kBinance;
  }
  if (a.protocol == Protocol::kAuto) {
    cl.fail("cannot tell the venue from '" + a.url + "'; pass --protocol bybit|binance");
  }
  const bool streams_in_url = u.resource.find("streams=") != std::string::npos ||
                              u.resource.rfind("/ws/", 0) == 0;
  if (a.topics.empty() && !(a.protocol == Protocol::kBinance && streams_in_url)) {
    cl.fail("--subscribe is required (only Binance URLs naming their streams may omit it)");
  }
  if (a.trace_path == "-" && a.out_path == "-") cl.fail("--out and --book-trace both '-'");
  return a;
}


// Receives messages: writes the capture line, then feeds the Replayer.
class Recorder {
 public:
  Recorder(BufferedFileWriter& capture, Replayer& replayer, Protocol protocol,
           std::uint64_t max_errors)
      : capture_(capture), replayer_(replayer), protocol_(protocol), max_errors_(max_errors),
        realtime_offset_ns_(realtime_ns() - monotonic_ns()) {}

  void attach(FeedSession* session) noexcept { session_ = session; }

  void on_message(const WsClientMessage& m) noexcept {
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

  void on_session(const SessionEvent& e) noexcept {
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

  const char* close_reason() const noexcept { return close_reason_; }
  std::uint64_t messages() const noexcept { return messages_; }
  std::uint64_t bytes() const noexcept { return bytes_; }
  std::uint64_t decode_errors() const noexcept { return decode_errors_; }
  std::uint64_t line_breaks_replaced() const noexcept { return line_breaks_replaced_; }
  std::uint64_t binary_skipped() const noexcept { return binary_skipped_; }

 private:
  // `<ns> <message>\n`. A raw CR/LF inside a message would split the capture line; JSON allows
  // them only as whitespace between tokens, so they become spaces (same JSON value) and are
  // counted. Write errors surface at close (BufferedFileWriter keeps the first one).
  void write_line(std::int64_t local_ns, std::string_view msg) noexcept {
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

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse_args(argc, argv);
  signals::install_stop_handlers();

  std::string error;
  BufferedFileWriter capture;
  if (!capture.open(args.out_path, "capture", error)) {
    std::fprintf(stderr, "shadow-record: %s\n", error.c_str());
    return 1;
  }
  BookTraceWriter trace;
  if (!args.trace_path.empty() && !trace.open(args.trace_path, error)) {
    std::fprintf(stderr, "shadow-record: %s\n", error.c_str());
    return 1;
  }
  // The summary goes to stderr when a file takes standard output.
  FILE* out = args.out_path == "-" || args.trace_path == "-" ? stderr : stdout;

  Replayer replayer(args.trace_path.empty() ? nullptr : &trace);
  Recorder rec(capture, replayer, args.protocol, args.max_errors);

  FeedSessionConfig fc;
  fc.url = args.url;
  fc.venue = args.protocol == Protocol::kBybit ? FeedVenue::kBybit : FeedVenue::kBinance;
  fc.topics = args.topics;
  fc.ping_interval_ns = static_cast<std::int64_t>(args.ping_interval_s * 1e9);
  fc.reconnect.heartbeat_timeout_ns = static_cast<std::int64_t>(args.heartbeat_timeout_s * 1e9);
  fc.reconnect_enabled = args.reconnect;
  FeedSession session(fc);
  rec.attach(&session);

  const std::int64_t start = monotonic_ns();
  const std::int64_t deadline =
      args.duration_s > 0 ? start + static_cast<std::int64_t>(args.duration_s * 1e9) : INT64_MAX;
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
    std::fprintf(stderr, "shadow-record: cannot connect to %s: %s\n", args.url.c_str(),
                 rec.close_reason());
    capture.close();
    trace.close();
    return 1;
  }

  int rc = 0;
  if (!capture.close()) {
    std::fprintf(stderr, "shadow-record: %s\n", capture.error().c_str());
    rc = 1;
  }
  if (!trace.close()) {
    std::fprintf(stderr, "shadow-record: %s\n", trace.error().c_str());
    rc = 1;
  }

  const double secs = static_cast<double>(monotonic_ns() - start) / 1e9;
  const ReplayCounters& c = replayer.counters();
  const SyncStats b = replayer.book_totals();
  std::fprintf(out, "shadow-record: %s: %llu messages, %llu bytes in %.3f s\n", args.url.c_str(),
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
               static_cast<unsigned long long>(capture.bytes()), args.out_path.c_str());
  if (!args.trace_path.empty() && args.trace_path != "-") {
    std::fprintf(out, "  book trace: %llu lines -> %s\n",
                 static_cast<unsigned long long>(trace.lines()), args.trace_path.c_str());
  }
  return rc;
}
