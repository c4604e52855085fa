#include "bench/rate_run.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/send_log.h"
#include "core/clock.h"
#include "core/event_sink.h"
#include "core/market_event.h"
#include "core/symbol_table.h"
#include "exchange/exchange_process.h"
#include "feed/bybit_decoder.h"
#include "feed/ws_client.h"
#include "sim/book_sync.h"
#include "sim/flat_book.h"

namespace shadow::bench {
namespace {

// --- the exchange as a child process -----------------------------------------------------------

// Runs `argv` and returns what it wrote to stdout and stderr within 5 s (feature detection;
// a program that hangs is killed).
std::string capture_output(const std::vector<std::string>& args) {
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return {};
  const pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(out[1], 1);
    dup2(out[1], 2);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  ::close(out[1]);
  std::string text;
  const std::int64_t deadline = monotonic_ns() + 5'000'000'000;
  while (pid > 0) {
    const std::int64_t left_ms = (deadline - monotonic_ns()) / 1'000'000;
    if (left_ms <= 0) break;
    pollfd p{out[0], POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left_ms)) <= 0) continue;
    char buf[4096];
    const ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(out[0]);
  if (pid > 0) {
    ::kill(pid, SIGKILL);  // no-op when it already exited (it stays a zombie until waited)
    int st = 0;
    waitpid(pid, &st, 0);
  }
  return text;
}

// --- the client's hot path ---------------------------------------------------------------------

// EventSink holding one message's events (sized for the largest message a decoder may emit, so
// claimed slots never move); publish() applies them to the synced book.
class BookSink {
 public:
  explicit BookSink(SyncedBook<FlatBook>& book) : book_(book), events_(kMaxEventsPerMessage) {}
  MarketEvent* claim() noexcept { return n_ < events_.size() ? &events_[n_++] : nullptr; }
  void abort() noexcept { n_ = 0; }
  void publish() noexcept {
    if (n_ > 0 && events_[0].is_book()) {
      u = events_[0].update_id;
      kind = static_cast<std::uint32_t>(events_[0].kind);
    }
    for (std::size_t i = 0; i < n_; ++i) book_.on_event(events_[i], [](std::uint64_t) {});
    n_ = 0;
  }
  void reset() noexcept {
    n_ = 0;
    kind = 0;
  }

  std::uint64_t u = 0;
  std::uint32_t kind = 0;  // EventKind of the last published book message, 0 none

 private:
  SyncedBook<FlatBook>& book_;
  std::vector<MarketEvent> events_;
  std::size_t n_ = 0;
};
static_assert(EventSink<BookSink>);

struct FeedHandler {
  BybitDecoder* decoder;
  BookSink* sink;
  DecodedRecord* records;
  std::size_t capacity = 0;
  std::size_t n = 0;
  std::uint64_t overflow = 0;
  std::int64_t window_start = 0, window_end = 0;
  std::uint64_t messages = 0, book_messages = 0, decode_errors = 0;
  bool closed = false;
  char close_reason[256] = {};

  void on_message(const WsClientMessage& m) noexcept {
    ++messages;
    sink->reset();
    const DecodeStatus st =
        decoder->decode(m.data, m.len, m.capacity, m.recv_mono_ns, m.recv_mono_ns, *sink);
    const std::int64_t done = monotonic_ns();
    if (st != DecodeStatus::kOk) {
      if (st != DecodeStatus::kSkipped) ++decode_errors;
      return;
    }
    if (sink->kind == 0) return;
    ++book_messages;
    if (m.recv_mono_ns < window_start || m.recv_mono_ns >= window_end) return;
    if (n == capacity) {
      ++overflow;
      return;
    }
    records[n++] = DecodedRecord{sink->u, m.recv_mono_ns, done, sink->kind, 0};
  }
  void on_closed(const WsCloseInfo& c) noexcept {
    closed = true;
    std::snprintf(close_reason, sizeof close_reason, "%.*s (%.*s, code %u)",
                  static_cast<int>(to_string(c.kind).size()), to_string(c.kind).data(),
                  static_cast<int>(c.reason.size()), c.reason.data(), c.code);
  }
};

struct ThreadCounters {
  UringReaderStats reader;
  long vcsw = 0, ivcsw = 0;
};

ThreadCounters snapshot(const WsClient& c) {
  ThreadCounters t;
  t.reader = c.reader().stats();
  rusage ru{};
  if (getrusage(RUSAGE_THREAD, &ru) == 0) {
    t.vcsw = ru.ru_nvcsw;
    t.ivcsw = ru.ru_nivcsw;
  }
  return t;
}

}  // namespace

ExchangeFeatures detect_exchange_features(const std::string& exchange) {
  const std::string help = capture_output({exchange, "--help"});
  ExchangeFeatures feat;
  feat.batch = help.find("--batch") != std::string::npos;
  feat.busy_poll = help.find("--busy-poll") != std::string::npos;
  feat.send_log = help.find("--send-log") != std::string::npos;
  feat.tls = help.find("--tls-cert") != std::string::npos;
  return feat;
}

RateResult run_rate(const Options& o, double rate, const Transport& t, const ExchangeFeatures& feat,
                    int exchange_cpu, const std::string& send_log) {
  RateResult res;
  res.offered = rate;
  res.scheme = t.scheme;
  std::vector<std::string> args = {o.exchange,      "--port", "0",           "--symbols", o.symbol,
                                   "--rate",        "",       "--seed",      "1",         "--duration",
                                   ""};
  char num[64];
  std::snprintf(num, sizeof num, "%.0f", rate);
  args[6] = num;
  std::snprintf(num, sizeof num, "%.0f", o.warmup + o.seconds + 30);  // a safety net only
  args[10] = num;
  if (feat.batch) args.insert(args.end(), {"--batch", "1"});
  if (feat.busy_poll) args.push_back("--busy-poll");
  if (feat.send_log) {
    ::unlink(send_log.c_str());
    args.insert(args.end(), {"--send-log", send_log});
  }
  if (t.tls) {
    args.insert(args.end(), {"--tls-cert", t.tls_dir + "/localhost.pem", "--tls-key",
                             t.tls_dir + "/localhost.key"});
  }

  // Everything the hot path touches is allocated (and its pages touched) before we connect.
  const auto capacity = static_cast<std::size_t>(rate * o.seconds * 1.25) + 65536;
  std::vector<DecodedRecord> records(capacity);
  SymbolTable symbols;
  BybitDecoder decoder(symbols);
  SyncedBook<FlatBook> book;
  BookSink sink(book);
  WsClientOptions wo;
  wo.reader.busy_poll_cq = o.busy_poll;
  wo.reader.sqpoll = o.sqpoll;
  wo.reader.log_mode = false;
  wo.tls.ca_file = t.tls_dir + "/ca.pem";  // used for wss:// only
  wo.tls.max_version = t.max_version;
  WsClient client(wo);

  ExchangeProcess ex;
  ExchangeProcessOptions xo;
  xo.cpu = exchange_cpu;
  if (!ex.start(args, xo, res.error)) return res;
  std::string err;
  if (!client.connect(ex.url(), err)) {
    res.error = "connect to " + ex.url() + ": " + err;
    return res;
  }
  if (t.tls != client.secure()) {
    res.error = "the exchange's URL " + ex.url() + " is not " + (t.tls ? "wss://" : "ws://");
    return res;
  }
  if (t.tls) {
    res.tls_version = client.tls().version();
    res.tls_cipher = client.tls().cipher();
  }
  const std::string sub = R"({"op":"subscribe","args":["orderbook.50.)" + o.symbol + R"("]})";
  if (!client.send_text(sub)) {
    res.error = "sending the subscription failed";
    return res;
  }

  FeedHandler h;
  h.decoder = &decoder;
  h.sink = &sink;
  h.records = records.data();
  h.capacity = capacity;
  const std::int64_t t0 = monotonic_ns();
  h.window_start = t0 + static_cast<std::int64_t>(o.warmup * 1e9);
  h.window_end = h.window_start + static_cast<std::int64_t>(o.seconds * 1e9);

  ThreadCounters c0{}, c1{};
  bool in_window = false;
  while (client.is_open()) {
    client.poll(h);
    const std::int64_t now = monotonic_ns();
    if (!in_window && now >= h.window_start) {
      c0 = snapshot(client);
      in_window = true;
    }
    if (now >= h.window_end) break;
  }
  c1 = snapshot(client);
  if (!in_window) c0 = c1;  // the connection ended before the window: no window counts
  const bool lost_connection = h.closed;

  // Stop the exchange: it sends close 1001; drain until the close arrives (or 3 s).
  ex.terminate();
  const std::int64_t drain_end = monotonic_ns() + 3'000'000'000;
  while (client.is_open() && monotonic_ns() < drain_end) client.poll(h);
  if (client.is_open()) client.abort();
  int st = ex.wait_ms(5000);
  if (st == -1) {
    ex.kill_now();
    res.exchange_exit = "did not exit within 5 s of SIGTERM (killed)";
  } else {
    res.exchange_exit = ExchangeProcess::describe(st);
  }

  res.messages = h.n;
  res.total_messages = h.messages;
  res.overflow = h.overflow;
  res.decode_errors = h.decode_errors;
  res.gaps = book.stats().gaps;
  res.snapshots = book.stats().snapshots;
  res.enter_calls = c1.reader.enter_calls - c0.reader.enter_calls;
  res.send_calls = c1.reader.send_calls - c0.reader.send_calls;
  res.completions = c1.reader.completions - c0.reader.completions;
  res.no_buffers = c1.reader.no_buffers - c0.reader.no_buffers;
  res.rearms = c1.reader.rearms - c0.reader.rearms;
  res.vcsw = c1.vcsw - c0.vcsw;
  res.ivcsw = c1.ivcsw - c0.ivcsw;
  res.achieved_msgs_per_s = static_cast<double>(h.n + h.overflow) / o.seconds;

  std::vector<std::int64_t> reaped_to_decoded;
  reaped_to_decoded.reserve(h.n);
  for (std::size_t i = 0; i < h.n; ++i) {
    if (records[i].kind == static_cast<std::uint32_t>(EventKind::kBookDelta)) {
      reaped_to_decoded.push_back(records[i].decoded_ns - records[i].reaped_ns);
    }
  }
  res.reaped_to_decoded = summarize(reaped_to_decoded);

  if (feat.send_log) {
    std::vector<SendRecord> log;
    if (!read_send_log(send_log, log, err)) {
      res.error = err;
      return res;
    }
    ::unlink(send_log.c_str());
    res.have_send_log = true;
    const SendLogJoin j = join_send_log(log, records.data(), h.n, h.window_start, h.window_end);
    res.exchange_msgs_per_s = static_cast<double>(j.sent_in_window) / o.seconds;
    res.unmatched = j.unmatched;
    res.lost = j.lost;
    res.intended_to_decoded = j.intended_to_decoded;
    res.sent_to_decoded = j.sent_to_decoded;
    res.sent_to_reaped = j.sent_to_reaped;
    res.intended_to_sent = j.intended_to_sent;
  }

  if (lost_connection) {
    res.error = std::string("the connection ended during the measurement: ") + h.close_reason;
  } else if (res.messages == 0) {
    res.error = "no orderbook message received in the measured window";
  } else if (res.gaps != 0 || res.decode_errors != 0 || res.unmatched != 0 || res.lost != 0) {
    res.error = "sequence check failed (gaps, decode errors, unmatched or lost messages)";
  } else {
    res.ok = true;
  }
  return res;
}

}  // namespace shadow::bench
