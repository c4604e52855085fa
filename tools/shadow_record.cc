// shadow-record: records a venue's WebSocket stream into a capture file, optionally tracing
// the books on the way.
//
//   shadow-record --url ws://HOST:PORT/PATH --subscribe TOPIC[,TOPIC...] --out CAPTURE
//                 [--book-trace FILE] [--duration S] [--protocol auto|bybit|binance]
//                 [--ping-interval S] [--max-errors N]
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
// Stops after --duration seconds, on SIGINT/SIGTERM, or when the server closes; then closes
// the connection (close 1000), flushes and fsyncs the files, prints a summary and exits 0.
// Exit 1: the connection or handshake failed (the message names the URL), or a file could not
// be created/written. Exit 2: usage error. Malformed messages are recorded as received (the
// capture is the raw truth) and counted as decode errors.
#include <signal.h>

#include <atomic>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "feed/websocket_handshake.h"
#include "feed/ws_client.h"
#include "pipeline/replay.h"
#include "sim/clock.h"
#include "sinks/buffered_file_writer.h"
#include "tools/cli.h"

namespace {

using namespace shadow;

constexpr const char* kUsage =
    "usage: shadow-record --url ws://HOST:PORT/PATH --subscribe TOPIC[,TOPIC...] --out CAPTURE\n"
    "                     [--book-trace FILE] [--duration S] [--protocol auto|bybit|binance]\n"
    "                     [--ping-interval S] [--max-errors N]\n"
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
    "  --max-errors N        print at most N decode errors (default 20); all are counted\n";

struct Args {
  std::string url;
  std::vector<std::string> topics;
  std::string out_path;
  std::string trace_path;
  double duration_s = 0;  // 0: no limit
  Protocol protocol = Protocol::kAuto;
  double ping_interval_s = 20;  // Bybit v5 "How to Send the Heartbeat Packet": every 20 s
  std::uint64_t max_errors = 20;
};

// Bybit v5 public URLs are /v5/public/...; Binance's are /ws, /ws/<stream> and /stream?streams=.
Protocol protocol_from_url(const WsUrl& u) {
  const auto has = [](std::string_view s, std::string_view what) {
    return s.find(what) != std::string_view::npos;
  };
  if (has(u.host, "bybit") || u.resource.rfind("/v5/", 0) == 0) return Protocol::kBybit;
  if (has(u.host, "binance") || u.resource.rfind("/ws", 0) == 0 ||
      u.resource.rfind("/stream", 0) == 0) {
    return Protocol::kBinance;
  }
  return Protocol::kAuto;
}

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
    } else {
      cl.fail("unexpected argument " + std::string(cl.arg()));
    }
  }
  if (a.url.empty()) cl.fail("--url is required");
  if (a.out_path.empty()) cl.fail("--out is required");
  WsUrl u;
  std::string err;
  if (!parse_ws_url(a.url, u, err)) cl.fail("bad --url '" + a.url + "': " + err);
  if (a.protocol == Protocol::kAuto) a.protocol = protocol_from_url(u);
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

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

// The venue's subscribe request. Bybit v5 "Connect > How to Subscribe to Topics"; Binance
// "WebSocket Streams > Live Subscribing/Unsubscribing to streams".
std::string subscribe_message(Protocol p, const std::vector<std::string>& topics) {
  std::string m = p == Protocol::kBybit ? R"({"op":"subscribe","args":[)"
                                        : R"({"method":"SUBSCRIBE","params":[)";
  for (std::size_t i = 0; i < topics.size(); ++i) {
    if (i > 0) m += ',';
    append_json_string(m, topics[i]);
  }
  m += p == Protocol::kBybit ? "]}" : R"(],"id":1})";
  return m;
}

// Set by the signal handler; the loop polls it (Aeron's idiom: handlers only set a flag).
std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the handler's store must be signal-safe");

extern "C" void on_signal(int) { g_stop.store(true, std::memory_order_relaxed); }

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

// Receives messages: writes the capture line, then feeds the Replayer.
class Recorder {
 public:
  Recorder(BufferedFileWriter& capture, Replayer& replayer, Protocol protocol,
           std::uint64_t max_errors)
      : capture_(capture), replayer_(replayer), protocol_(protocol), max_errors_(max_errors),
        realtime_offset_ns_(realtime_ns() - monotonic_ns()) {}

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

  void on_closed(const WsCloseInfo& c) noexcept {
    closed_ = true;
    std::snprintf(close_reason_, sizeof close_reason_, "%.*s, code %u%s%.*s",
                  static_cast<int>(to_string(c.kind).size()), to_string(c.kind).data(),
                  static_cast<unsigned>(c.code), c.reason.empty() ? "" : ": ",
                  static_cast<int>(c.reason.size()), c.reason.data());
  }

  bool closed() const noexcept { return closed_; }
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
  bool closed_ = false;
  char close_reason_[256] = "still open";
};

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse_args(argc, argv);
  install_signal_handlers();

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

  WsClient client;
  if (!client.connect(args.url, error)) {
    std::fprintf(stderr, "shadow-record: cannot connect to %s: %s\n", args.url.c_str(),
                 error.c_str());
    return 1;
  }
  if (!args.topics.empty() && !client.send_text(subscribe_message(args.protocol, args.topics))) {
    std::fprintf(stderr, "shadow-record: %s: sending the subscribe request failed\n",
                 args.url.c_str());
    return 1;
  }

  const std::int64_t start = monotonic_ns();
  const std::int64_t deadline =
      args.duration_s > 0 ? start + static_cast<std::int64_t>(args.duration_s * 1e9) : INT64_MAX;
  const bool heartbeat = args.protocol == Protocol::kBybit && args.ping_interval_s > 0;
  const std::int64_t ping_every = static_cast<std::int64_t>(args.ping_interval_s * 1e9);
  std::int64_t next_ping = heartbeat ? start + ping_every : INT64_MAX;
  std::uint64_t pings_sent = 0;
  const char* stop_cause = "server closed";

  // poll() waits at most UringReaderOptions::wait_timeout_us (1 ms) for data, so the flag and
  // the clocks are looked at every millisecond even when the stream is quiet.
  while (client.is_open() && !rec.closed()) {
    client.poll(rec);
    if (rec.closed()) break;
    const std::int64_t now = monotonic_ns();
    if (g_stop.load(std::memory_order_relaxed)) {
      stop_cause = "signal";
      break;
    }
    if (now >= deadline) {
      stop_cause = "duration reached";
      break;
    }
    if (now >= next_ping) {
      if (client.send_text(R"({"op":"ping"})")) ++pings_sent;
      next_ping = now + ping_every;
    }
  }
  if (!rec.closed() && client.is_open()) {
    // Our close (§7.1.2); messages still arriving before the server's close are recorded too.
    client.close(1000, "recording done");
    const std::int64_t give_up = monotonic_ns() + 2'000'000'000;
    while (client.is_open() && !rec.closed() && monotonic_ns() < give_up) client.poll(rec);
    if (!rec.closed()) client.abort();  // no close from the server within 2 s
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
  std::fprintf(out, "  stopped: %s; connection: %s; pings sent %llu\n", stop_cause,
               rec.closed() ? rec.close_reason() : "no close from the server, dropped",
               static_cast<unsigned long long>(pings_sent));
  std::fprintf(out, "  capture: %llu bytes -> %s\n",
               static_cast<unsigned long long>(capture.bytes()), args.out_path.c_str());
  if (!args.trace_path.empty() && args.trace_path != "-") {
    std::fprintf(out, "  book trace: %llu lines -> %s\n",
                 static_cast<unsigned long long>(trace.lines()), args.trace_path.c_str());
  }
  return rc;
}
