// wire-latency: the end-to-end latency harness of the live feed (docs/PERFORMANCE.md, "Live
// feed: wire-to-decoded latency and syscalls per message").
//
// One run measures, side by side:
//   1. the kernel floor: a loopback TCP ping-pong in this process (bench/tcp_pingpong.h),
//      one-way = RTT / 2, at 64 B and at the size of a Bybit delta, with blocking recv, with
//      busy-polled recv, and with our UringReader busy-polling its completion queue;
//   2. for each rate: shadow-exchange as a child process publishing orderbook.50 at a
//      constant rate (`--batch 1`: every order-flow event is its own message; `--busy-poll`;
//      `--send-log`: intended and actual send time per message), our WsClient -> BybitDecoder
//      -> SyncedBook<FlatBook> on this thread, and per message the time it was decoded and
//      applied. Joined by update id u with the exchange's send log, that gives
//        intended -> decoded   the headline: from the scheduled send time, so a stall anywhere
//                              (exchange, kernel, us) is counted, never hidden (coordinated
//                              omission, DESIGN.md "Latency")
//        sent -> decoded       wire-to-decoded: from the exchange's send(2) return
//        sent -> reaped        the kernel's part (compare with the ping-pong floor)
//        reaped -> decoded     in process: deframe + decode + book apply (DESIGN.md's
//                              wire-to-decision minus the quoting step)
//        intended -> sent      how late the exchange itself was
//      plus reader syscalls per message (UringReader's io_uring_enter and send counts over the
//      measured window) and the thread's context switches (getrusage(RUSAGE_THREAD), the same
//      counters as /proc/self/task/<tid>/status).
//
// The exchange runs pinned to the first allowed CPU, this thread to the second (the echo
// thread of the ping-pong to the first). Nothing on the measured path allocates: records go to
// an array sized and touched before the exchange starts.
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "bench/tcp_pingpong.h"
#include "core/cli.h"
#include "core/event_sink.h"
#include "core/market_event.h"
#include "core/symbol_table.h"
#include "core/thread_affinity.h"
#include "exchange/exchange_process.h"
#include "feed/bybit_decoder.h"
#include "feed/ws_client.h"
#include "sim/book_sync.h"
#include "sim/flat_book.h"

namespace {

using namespace shadow;

constexpr const char* kUsage =
    "usage: wire-latency --exchange PATH [--rates 10000,100000,1000000] [--seconds S]\n"
    "                    [--warmup S] [--symbol BTCUSDT] [--sqpoll] [--busy-poll|--blocking]\n"
    "                    [--pingpong-rounds N] [--no-pingpong] [--json FILE]\n"
    "\n"
    "End-to-end latency of the live feed against shadow-exchange, with a loopback TCP\n"
    "ping-pong measured in the same run as the kernel floor (docs/PERFORMANCE.md).\n"
    "\n"
    "  --exchange PATH        the shadow-exchange binary (required)\n"
    "  --rates LIST           order-flow events per second, one run each (default\n"
    "                         10000,100000,1000000)\n"
    "  --seconds S            measured seconds per rate (default 5)\n"
    "  --warmup S             seconds discarded after subscribing (default 1)\n"
    "  --symbol SYM           the one symbol published and subscribed (default BTCUSDT)\n"
    "  --sqpoll               UringReader with IORING_SETUP_SQPOLL\n"
    "  --busy-poll            the reader spins on its completion queue (default)\n"
    "  --blocking             the reader waits in io_uring_enter (1 ms timeout) when idle\n"
    "  --pingpong-rounds N    timed round trips per ping-pong case (default 20000)\n"
    "  --no-pingpong          skip the kernel floor\n"
    "  --json FILE            also write every number to FILE\n"
    "\n"
    "Exit status: 0 ok; 1 the run failed (exchange missing or silent, connection refused,\n"
    "connection lost, gaps or decode errors); 2 bad arguments.\n";

struct Options {
  std::string exchange;
  std::vector<double> rates{10000, 100000, 1000000};
  double seconds = 5;
  double warmup = 1;
  std::string symbol = "BTCUSDT";
  bool sqpoll = false;
  bool busy_poll = true;
  std::size_t pingpong_rounds = 20000;
  bool pingpong = true;
  std::string json;
};

Options parse_options(int argc, char** argv) {
  Options o;
  cli::Args cl("wire-latency", kUsage, argc, argv);
  while (cl.next()) {
    if (cl.is("--exchange")) {
      o.exchange = cl.value();
    } else if (cl.is("--rates")) {
      const std::string flag(cl.arg());
      o.rates.clear();
      for (const std::string& s : cl.list()) {
        char* end = nullptr;
        const double r = std::strtod(s.c_str(), &end);
        if (*end != '\0' || !(r >= 1 && r <= 1e8)) {
          cl.fail(flag + " needs rates in [1, 1e8] events/s, not '" + s + "'");
        }
        o.rates.push_back(r);
      }
      if (o.rates.empty()) cl.fail(flag + " needs at least one rate");
    } else if (cl.is("--seconds")) {
      o.seconds = cl.number(0.1, 3600);
    } else if (cl.is("--warmup")) {
      o.warmup = cl.number(0, 3600);
    } else if (cl.is("--symbol")) {
      o.symbol = cl.value();
      if (o.symbol.empty() || o.symbol.size() > SymbolTable::kMaxNameLen ||
          !std::all_of(o.symbol.begin(), o.symbol.end(), [](char c) {
            return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
          })) {
        cl.fail("--symbol needs an upper-case alphanumeric symbol, not '" + o.symbol + "'");
      }
    } else if (cl.is("--sqpoll")) {
      o.sqpoll = true;
    } else if (cl.is("--busy-poll")) {
      o.busy_poll = true;
    } else if (cl.is("--blocking")) {
      o.busy_poll = false;
    } else if (cl.is("--pingpong-rounds")) {
      o.pingpong_rounds = cl.whole();
      if (o.pingpong_rounds == 0) cl.fail("--pingpong-rounds must be at least 1");
    } else if (cl.is("--no-pingpong")) {
      o.pingpong = false;
    } else if (cl.is("--json")) {
      o.json = cl.value();
    } else {
      cl.fail("unknown argument '" + std::string(cl.arg()) + "'");
    }
  }
  if (o.exchange.empty()) cl.fail("--exchange PATH is required");
  return o;
}

std::int64_t now_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// --- statistics --------------------------------------------------------------------------------

struct Summary {
  std::size_t n = 0;
  std::int64_t p50 = 0, p99 = 0, p999 = 0, max = 0;
};

// Exact nearest-rank percentiles of the samples (sorted in place).
Summary summarize(std::vector<std::int64_t>& v) {
  Summary s;
  s.n = v.size();
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {
    const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
    return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
  };
  s.p50 = at(0.50);
  s.p99 = at(0.99);
  s.p999 = at(0.999);
  s.max = v.back();
  return s;
}

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
  const std::int64_t deadline = now_ns() + 5'000'000'000;
  while (pid > 0) {
    const std::int64_t left_ms = (deadline - now_ns()) / 1'000'000;
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

struct ExchangeFeatures {
  bool batch = false, busy_poll = false, send_log = false;
};


// One record of the exchange's --send-log (little-endian, 32 bytes).
struct SendRecord {
  std::int64_t intended_ns;
  std::int64_t sent_ns;
  std::uint64_t u;
  std::uint32_t market;
  std::uint32_t kind;  // 1 delta, 2 snapshot
};
static_assert(sizeof(SendRecord) == 32, "the send log's record layout");

bool read_send_log(const std::string& path, std::vector<SendRecord>& out, std::string& error) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    error = "cannot open the send log " + path + ": " + std::strerror(errno);
    return false;
  }
  // One fread for the whole file (a few big reads instead of one per 4 KiB: the strace count
  // of this thread stays about the hot path).
  struct stat sb{};
  const std::size_t n = fstat(fileno(f), &sb) == 0 ? static_cast<std::size_t>(sb.st_size) / sizeof(SendRecord) : 0;
  out.resize(n);
  std::setvbuf(f, nullptr, _IONBF, 0);
  const std::size_t got = n > 0 ? std::fread(out.data(), sizeof(SendRecord), n, f) : 0;
  out.resize(got);
  std::fclose(f);
  if (got != n) {
    error = "short read of the send log " + path;
    return false;
  }
  return true;
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

struct Record {
  std::uint64_t u;
  std::int64_t reaped_ns;   // WsClientMessage::recv_mono_ns
  std::int64_t decoded_ns;  // after decode + book apply
  std::uint32_t kind;
  std::uint32_t pad;
};

struct FeedHandler {
  BybitDecoder* decoder;
  BookSink* sink;
  Record* records;
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
    const std::int64_t done = now_ns();
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
    records[n++] = Record{sink->u, m.recv_mono_ns, done, sink->kind, 0};
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

// --- one rate ------------------------------------------------------------------------------------

struct RateResult {
  double offered = 0;
  bool ok = false;
  std::string error;
  std::string exchange_exit;
  std::size_t messages = 0;          // book messages received in the window
  std::uint64_t total_messages = 0;  // every message of the connection (warm-up, drain, acks)
  double achieved_msgs_per_s = 0;    // of those, per second of the window
  double exchange_msgs_per_s = 0;    // deltas the exchange sent in the window, per second
  std::uint64_t unmatched = 0;       // received, not in the send log
  std::uint64_t lost = 0;            // in the send log between the first and last u received, not received
  std::uint64_t gaps = 0, decode_errors = 0, overflow = 0, snapshots = 0;
  std::uint64_t enter_calls = 0, send_calls = 0, completions = 0, no_buffers = 0, rearms = 0;
  long vcsw = 0, ivcsw = 0;
  bool have_send_log = false;
  Summary intended_to_decoded, sent_to_decoded, sent_to_reaped, reaped_to_decoded, intended_to_sent;
};

RateResult run_rate(const Options& o, double rate, const ExchangeFeatures& feat, int exchange_cpu,
                    const std::string& send_log) {
  RateResult res;
  res.offered = rate;
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

  // Everything the hot path touches is allocated (and its pages touched) before we connect.
  const auto capacity = static_cast<std::size_t>(rate * o.seconds * 1.25) + 65536;
  std::vector<Record> records(capacity);
  SymbolTable symbols;
  BybitDecoder decoder(symbols);
  SyncedBook<FlatBook> book;
  BookSink sink(book);
  WsClientOptions wo;
  wo.reader.busy_poll_cq = o.busy_poll;
  wo.reader.sqpoll = o.sqpoll;
  wo.reader.log_mode = false;
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
  const std::int64_t t0 = now_ns();
  h.window_start = t0 + static_cast<std::int64_t>(o.warmup * 1e9);
  h.window_end = h.window_start + static_cast<std::int64_t>(o.seconds * 1e9);

  ThreadCounters c0{}, c1{};
  bool in_window = false;
  while (client.is_open()) {
    client.poll(h);
    const std::int64_t now = now_ns();
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
  const std::int64_t drain_end = now_ns() + 3'000'000'000;
  while (client.is_open() && now_ns() < drain_end) client.poll(h);
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
    std::vector<SendRecord> deltas;
    deltas.reserve(log.size());
    std::uint64_t sent_in_window = 0;
    for (const SendRecord& r : log) {
      if (r.kind != 1 || r.market != 0) continue;
      deltas.push_back(r);
      if (r.sent_ns >= h.window_start && r.sent_ns < h.window_end) ++sent_in_window;
    }
    res.exchange_msgs_per_s = static_cast<double>(sent_in_window) / o.seconds;
    std::sort(deltas.begin(), deltas.end(),
              [](const SendRecord& a, const SendRecord& b) { return a.u < b.u; });
    std::vector<std::int64_t> a, b, c, e;
    a.reserve(h.n);
    b.reserve(h.n);
    c.reserve(h.n);
    e.reserve(h.n);
    std::uint64_t u_min = UINT64_MAX, u_max = 0, matched = 0;
    for (std::size_t i = 0; i < h.n; ++i) {
      const Record& r = records[i];
      if (r.kind != static_cast<std::uint32_t>(EventKind::kBookDelta)) continue;
      const auto it = std::lower_bound(deltas.begin(), deltas.end(), r.u,
                                       [](const SendRecord& s, std::uint64_t u) { return s.u < u; });
      if (it == deltas.end() || it->u != r.u) {
        ++res.unmatched;
        continue;
      }
      ++matched;
      u_min = std::min(u_min, r.u);
      u_max = std::max(u_max, r.u);
      a.push_back(r.decoded_ns - it->intended_ns);
      b.push_back(r.decoded_ns - it->sent_ns);
      c.push_back(r.reaped_ns - it->sent_ns);
      e.push_back(it->sent_ns - it->intended_ns);
    }
    if (matched > 0) {
      const auto lo = std::lower_bound(deltas.begin(), deltas.end(), u_min,
                                       [](const SendRecord& s, std::uint64_t u) { return s.u < u; });
      const auto hi = std::upper_bound(deltas.begin(), deltas.end(), u_max,
                                       [](std::uint64_t u, const SendRecord& s) { return u < s.u; });
      const auto logged = static_cast<std::uint64_t>(hi - lo);
      res.lost = logged > matched ? logged - matched : 0;
    }
    res.intended_to_decoded = summarize(a);
    res.sent_to_decoded = summarize(b);
    res.sent_to_reaped = summarize(c);
    res.intended_to_sent = summarize(e);
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

// --- output --------------------------------------------------------------------------------------

std::string us(std::int64_t ns) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f", static_cast<double>(ns) / 1000.0);
  return b;
}

void print_summary_row(const char* name, const Summary& s, bool have, std::size_t rounds = 0) {
  if (!have || s.n == 0) {
    std::printf("  %-34s %10s %10s %10s %10s\n", name, "n/a", "n/a", "n/a", "n/a");
    return;
  }
  std::printf("  %-34s %10s %10s %10s %10s", name, us(s.p50).c_str(), us(s.p99).c_str(),
              us(s.p999).c_str(), us(s.max).c_str());
  if (rounds > 0) std::printf(" %8zu", rounds);
  std::printf("\n");
}

void json_summary(FILE* f, const char* name, const Summary& s, bool have, bool last) {
  if (!have || s.n == 0) {
    std::fprintf(f, "      \"%s\": null%s\n", name, last ? "" : ",");
    return;
  }
  std::fprintf(f,
               "      \"%s\": {\"n\": %zu, \"p50_ns\": %" PRId64 ", \"p99_ns\": %" PRId64
               ", \"p999_ns\": %" PRId64 ", \"max_ns\": %" PRId64 "}%s\n",
               name, s.n, s.p50, s.p99, s.p999, s.max, last ? "" : ",");
}

std::string json_escape(std::string_view s) {
  std::string out;
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    if (static_cast<unsigned char>(ch) < 0x20) continue;
    out += ch;
  }
  return out;
}

struct PingPongRow {
  bench::PingPongKind kind;
  std::size_t size;
  Summary s;
  std::string error;
};

std::vector<int> allowed_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int i = 0; i < CPU_SETSIZE; ++i) {
      if (CPU_ISSET(i, &set)) cpus.push_back(i);
    }
  }
  return cpus;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse_options(argc, argv);
  ::signal(SIGPIPE, SIG_IGN);

  if (::access(o.exchange.c_str(), X_OK) != 0) {
    std::fprintf(stderr, "wire-latency: the exchange binary %s is not executable: %s\n",
                 o.exchange.c_str(), std::strerror(errno));
    return 1;
  }
  const std::string help = capture_output({o.exchange, "--help"});
  ExchangeFeatures feat;
  feat.batch = help.find("--batch") != std::string::npos;
  feat.busy_poll = help.find("--busy-poll") != std::string::npos;
  feat.send_log = help.find("--send-log") != std::string::npos;
  if (!feat.batch || !feat.busy_poll || !feat.send_log) {
    std::fprintf(stderr,
                 "wire-latency: warning: %s lacks%s%s%s; those figures are n/a or differ "
                 "(see its --help)\n",
                 o.exchange.c_str(), feat.batch ? "" : " --batch", feat.busy_poll ? "" : " --busy-poll",
                 feat.send_log ? "" : " --send-log");
  }

  // Exchange and ping-pong echo on the first allowed CPU, this (reader) thread on the second.
  const std::vector<int> cpus = allowed_cpus();
  const int other_cpu = cpus.size() >= 2 ? cpus[0] : -1;
  const int reader_cpu = cpus.size() >= 2 ? cpus[1] : -1;
  if (reader_cpu >= 0) {
    pin_current_thread(reader_cpu);
  } else {
    std::fprintf(stderr,
                 "wire-latency: warning: only one CPU allowed: exchange and reader share it, "
                 "busy-polling figures are meaningless\n");
  }
  name_current_thread("wire-reader");

  std::printf("wire-latency: exchange %s (--batch %s, --busy-poll %s, --send-log %s)\n",
              o.exchange.c_str(), feat.batch ? "1" : "n/a", feat.busy_poll ? "on" : "n/a",
              feat.send_log ? "on" : "n/a");
  std::printf("wire-latency: reader %s%s; exchange/echo pinned to CPU %d, reader to CPU %d\n",
              o.busy_poll ? "busy-polls the CQ" : "blocks in io_uring_enter (1 ms)",
              o.sqpoll ? " + SQPOLL" : "", other_cpu, reader_cpu);

  // 1. The kernel floor.
  std::vector<PingPongRow> pp;
  if (o.pingpong) {
    const std::size_t warm = std::max<std::size_t>(1000, o.pingpong_rounds / 10);
    for (const std::size_t size : {std::size_t{64}, std::size_t{400}}) {
      for (const auto kind : {bench::PingPongKind::kBlocking, bench::PingPongKind::kBusy,
                              bench::PingPongKind::kUring}) {
        bench::PingPongResult r = bench::run_tcp_pingpong(kind, size, o.pingpong_rounds, warm, other_cpu, o.sqpoll);
        PingPongRow row{kind, size, summarize(r.one_way_ns), r.error};
        pp.push_back(row);
      }
    }
    std::printf("\nkernel floor: loopback TCP ping-pong, TCP_NODELAY, one-way = RTT/2, up to %zu "
                "round trips or 10 s per case (us)\n",
                o.pingpong_rounds);
    std::printf("  %-34s %10s %10s %10s %10s %8s\n", "receive side, message size", "p50", "p99", "p99.9",
                "max", "rounds");
    for (const PingPongRow& r : pp) {
      char name[96];
      std::snprintf(name, sizeof name, "%s%s, %zu B", std::string(to_string(r.kind)).c_str(),
                    r.kind == bench::PingPongKind::kUring && o.sqpoll ? "+SQPOLL" : "", r.size);
      if (!r.error.empty()) {
        std::printf("  %-34s error: %s\n", name, r.error.c_str());
      } else {
        print_summary_row(name, r.s, true, r.s.n);
      }
    }
  }

  // 2. The live feed, one exchange per rate.
  char tmpl[] = "/tmp/wire-latency-sendlog-XXXXXX";
  const int tfd = mkstemp(tmpl);
  if (tfd >= 0) ::close(tfd);
  const std::string send_log = tmpl;
  std::vector<RateResult> results;
  bool all_ok = true;
  for (const double rate : o.rates) {
    RateResult r = run_rate(o, rate, feat, other_cpu, send_log);
    all_ok = all_ok && r.ok;
    std::printf("\nrate %.0f events/s offered: %.0f msgs/s received, exchange sent %s msgs/s; "
                "%zu messages measured over %.1f s after %.1f s warm-up (%" PRIu64
                " on the connection)\n",
                r.offered, r.achieved_msgs_per_s,
                r.have_send_log ? std::to_string(static_cast<long long>(r.exchange_msgs_per_s)).c_str() : "n/a",
                r.messages, o.seconds, o.warmup, r.total_messages);
    std::printf("  %-34s %10s %10s %10s %10s\n", "latency (us)", "p50", "p99", "p99.9", "max");
    print_summary_row("intended send -> decoded", r.intended_to_decoded, r.have_send_log);
    print_summary_row("sent -> decoded (wire-to-decoded)", r.sent_to_decoded, r.have_send_log);
    print_summary_row("  sent -> reaped (kernel)", r.sent_to_reaped, r.have_send_log);
    print_summary_row("  reaped -> decoded (in process)", r.reaped_to_decoded, true);
    print_summary_row("intended -> sent (exchange lag)", r.intended_to_sent, r.have_send_log);
    const double m = r.messages > 0 ? static_cast<double>(r.messages) : 1.0;
    std::printf("  reader syscalls: io_uring_enter %" PRIu64 " + send %" PRIu64 " = %.5f per message; "
                "CQEs %" PRIu64 " (%.3f per message), re-arms %" PRIu64 ", ENOBUFS %" PRIu64 "\n",
                r.enter_calls, r.send_calls,
                static_cast<double>(r.enter_calls + r.send_calls) / m, r.completions,
                static_cast<double>(r.completions) / m, r.rearms, r.no_buffers);
    std::printf("  reader context switches: %ld voluntary, %ld involuntary; gaps %" PRIu64
                ", decode errors %" PRIu64 ", unmatched %" PRIu64 ", lost %" PRIu64
                ", record overflow %" PRIu64 "; exchange: %s\n",
                r.vcsw, r.ivcsw, r.gaps, r.decode_errors, r.unmatched, r.lost, r.overflow,
                r.exchange_exit.empty() ? "n/a" : r.exchange_exit.c_str());
    if (!r.ok) std::printf("  FAILED: %s\n", r.error.c_str());
    std::fflush(stdout);
    results.push_back(std::move(r));
  }
  ::unlink(send_log.c_str());

  if (!o.json.empty()) {
    FILE* f = std::fopen(o.json.c_str(), "w");
    if (f == nullptr) {
      std::fprintf(stderr, "wire-latency: cannot write %s: %s\n", o.json.c_str(), std::strerror(errno));
      return 1;
    }
    std::fprintf(f, "{\n  \"options\": {\"seconds\": %g, \"warmup\": %g, \"symbol\": \"%s\", "
                 "\"sqpoll\": %s, \"busy_poll\": %s, \"exchange_cpu\": %d, \"reader_cpu\": %d, "
                 "\"exchange_batch\": %s, \"exchange_busy_poll\": %s, \"send_log\": %s},\n",
                 o.seconds, o.warmup, o.symbol.c_str(), o.sqpoll ? "true" : "false",
                 o.busy_poll ? "true" : "false", other_cpu, reader_cpu, feat.batch ? "true" : "false",
                 feat.busy_poll ? "true" : "false", feat.send_log ? "true" : "false");
    std::fprintf(f, "  \"pingpong\": [\n");
    for (std::size_t i = 0; i < pp.size(); ++i) {
      const PingPongRow& r = pp[i];
      std::fprintf(f, "    {\"receive\": \"%s\", \"size\": %zu, ", std::string(to_string(r.kind)).c_str(), r.size);
      if (!r.error.empty()) {
        std::fprintf(f, "\"error\": \"%s\"}", json_escape(r.error).c_str());
      } else {
        std::fprintf(f, "\"one_way\": {\"n\": %zu, \"p50_ns\": %" PRId64 ", \"p99_ns\": %" PRId64
                     ", \"p999_ns\": %" PRId64 ", \"max_ns\": %" PRId64 "}}", r.s.n, r.s.p50, r.s.p99, r.s.p999, r.s.max);
      }
      std::fprintf(f, "%s\n", i + 1 < pp.size() ? "," : "");
    }
    std::fprintf(f, "  ],\n  \"rates\": [\n");
    for (std::size_t i = 0; i < results.size(); ++i) {
      const RateResult& r = results[i];
      const double m = r.messages > 0 ? static_cast<double>(r.messages) : 1.0;
      std::fprintf(f, "    {\n      \"offered_events_per_s\": %.0f, \"ok\": %s, \"error\": \"%s\",\n",
                   r.offered, r.ok ? "true" : "false", json_escape(r.error).c_str());
      std::fprintf(f, "      \"messages\": %zu, \"connection_messages\": %" PRIu64
                   ", \"received_msgs_per_s\": %.1f, \"exchange_sent_msgs_per_s\": %.1f,\n",
                   r.messages, r.total_messages, r.achieved_msgs_per_s, r.exchange_msgs_per_s);
      std::fprintf(f, "      \"gaps\": %" PRIu64 ", \"decode_errors\": %" PRIu64 ", \"unmatched\": %" PRIu64
                   ", \"lost\": %" PRIu64 ", \"record_overflow\": %" PRIu64 ", \"exchange_exit\": \"%s\",\n",
                   r.gaps, r.decode_errors, r.unmatched, r.lost, r.overflow, json_escape(r.exchange_exit).c_str());
      std::fprintf(f, "      \"syscalls\": {\"io_uring_enter\": %" PRIu64 ", \"send\": %" PRIu64
                   ", \"per_message\": %.6f, \"cqes\": %" PRIu64 ", \"rearms\": %" PRIu64
                   ", \"enobufs\": %" PRIu64 ", \"voluntary_ctx_switches\": %ld, \"involuntary_ctx_switches\": %ld},\n",
                   r.enter_calls, r.send_calls, static_cast<double>(r.enter_calls + r.send_calls) / m,
                   r.completions, r.rearms, r.no_buffers, r.vcsw, r.ivcsw);
      json_summary(f, "intended_to_decoded", r.intended_to_decoded, r.have_send_log, false);
      json_summary(f, "sent_to_decoded", r.sent_to_decoded, r.have_send_log, false);
      json_summary(f, "sent_to_reaped", r.sent_to_reaped, r.have_send_log, false);
      json_summary(f, "reaped_to_decoded", r.reaped_to_decoded, true, false);
      json_summary(f, "intended_to_sent", r.intended_to_sent, r.have_send_log, true);
      std::fprintf(f, "    }%s\n", i + 1 < results.size() ? "," : "");
    }
    std::fprintf(f, "  ]\n}\n");
    std::fclose(f);
  }
  for (const RateResult& r : results) {
    if (!r.ok) std::fprintf(stderr, "wire-latency: rate %.0f failed: %s\n", r.offered, r.error.c_str());
  }
  return all_ok ? 0 : 1;
}
