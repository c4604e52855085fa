// shadow-exchange: the embedded exchange's WebSocket server (docs/EMBEDDED_EXCHANGE.md,
// "Server"). Per symbol an OrderFlowModel drives a MatchingEngine whose BybitPublisher turns
// every event into Bybit v5 orderbook.50 / publicTrade messages, served to subscribed clients
// at ws://127.0.0.1:PORT/v5/public/linear. With --replay it serves capture files instead
// (exchange_replay.h); fault injection (exchange_faults.h) and the latency harness's send log
// (exchange_send_log.h) work on either.
//
//   shadow-exchange --port P [--symbols BTCUSDT,ETHUSDT] [--rate EVENTS_PER_S] [--seed N]
//                   [--duration S] [--max-send-buffer BYTES] [--batch N] [--busy-poll]
//                   [--send-log FILE] [--replay CAPTURE[,CAPTURE...] [--speed X|max]]
//                   [fault flags, see kUsage]
//
// One thread: an epoll loop over non-blocking loopback sockets that also advances the models
// on a constant-rate schedule (event k is due at start + k / rate; a late loop catches up in
// bounded batches instead of drifting), or the replay on the capture's recorded schedule.
// Signal handlers only set a flag; the loop sends close frames to every client and exits 0.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <simdjson.h>

#include "core/cli.h"
#include "core/json_text.h"
#include "core/signals.h"
#include "exchange/bybit_publisher.h"
#include "exchange/capture_replay.h"
#include "exchange/faults.h"
#include "exchange/matching_engine.h"
#include "exchange/order_flow.h"
#include "exchange/send_log.h"
#include "exchange/ws_server.h"

namespace {

using namespace shadow;

constexpr const char* kUsage =
    "usage: shadow-exchange --port P [--symbols BTCUSDT,ETHUSDT] [--rate EVENTS_PER_S]\n"
    "                       [--seed N] [--duration S] [--max-send-buffer BYTES]\n"
    "                       [--batch N] [--busy-poll] [--send-log FILE]\n"
    "                       [--replay CAPTURE[,CAPTURE...]] [--speed X|max] [FAULTS]\n"
    "\n"
    "Serves the embedded exchange's simulated market as Bybit v5 public WebSocket streams\n"
    "(orderbook.50.<SYM>, publicTrade.<SYM>) at ws://127.0.0.1:P/v5/public/linear.\n"
    "  --port P               TCP port on 127.0.0.1; 0 picks a free one (printed)\n"
    "  --symbols LIST         comma-separated symbols (default BTCUSDT)\n"
    "  --rate N               order-flow events per second across all symbols (default 1000)\n"
    "  --seed N               order-flow seed; symbol i uses seed + i (default 1)\n"
    "  --duration S           stop after S seconds (default: run until SIGTERM/SIGINT)\n"
    "  --max-send-buffer N    bytes queued for one client before it is disconnected as too\n"
    "                         slow (default 8388608)\n"
    "Latency harness (model mode):\n"
    "  --batch N              flush the publisher every N order-flow events (default: each\n"
    "                         event up to 5000 events/s per symbol, small batches above)\n"
    "  --busy-poll            never sleep in epoll_wait: messages leave at their scheduled time\n"
    "                         (burns a core)\n"
    "  --send-log FILE        one 32-byte record per orderbook message sent: int64 intended_ns,\n"
    "                         int64 sent_ns (CLOCK_MONOTONIC), uint64 u, uint32 market,\n"
    "                         uint32 kind (1 delta, 2 snapshot), little-endian\n"
    "Replay (instead of the order-flow model):\n"
    "  --replay LIST          capture files (<local_ns> <message> lines, JSONL, .gz), served\n"
    "                         in order; repeatable. Any request path is accepted: /v5/...\n"
    "                         clients subscribe to the capture's topics, others get every line\n"
    "  --speed X|max          1 = recorded pace (default), X times faster, max = as fast as the\n"
    "                         client reads. At the end: close 1000 \"end of replay\", exit 0\n"
    "Faults (per connection unless said; N >= 1):\n"
    "  --drop-delta-every N   do not send every N-th orderbook delta (a hole in u)\n"
    "  --disconnect-every N   cut the TCP connection (no close frame) after the N-th message\n"
    "  --disconnect-after S   cut each connection S seconds after its handshake\n"
    "  --stall-every N        after every N-th message (all connections) stop sending for\n"
    "  --stall-ms T           T ms (both needed); nothing is lost, the schedule catches up\n"
    "  --malformed-frame-every N  replace every N-th message by a frame with RSV1 set\n"
    "  --malformed-json-every N   replace every N-th message by its first half (bad JSON)\n"
    "  --oversized-frame-every N  replace every N-th message by a 64 MiB frame header\n"
    "  --bad-handshake N      answer the first N upgrades with a wrong Sec-WebSocket-Accept\n"
    "  --faults-max K         inject each kind at most K times in the whole run\n";

constexpr std::string_view kResource = "/v5/public/linear";

struct Args {
  int port = -1;
  std::vector<std::string> symbols;
  double rate = 1000.0;
  std::uint64_t seed = 1;
  double duration = 0.0;  // 0 = unlimited
  std::size_t max_send_buffer = 8u << 20;
  std::size_t batch = 0;  // 0 = the automatic rule
  bool busy_poll = false;
  std::string send_log;
  std::vector<std::string> replay;
  double speed = 1.0;
  bool speed_max = false;
  FaultConfig faults;
};

Args parse_args(int argc, char** argv) {
  Args a;
  std::string symbols = "BTCUSDT";
  bool speed_given = false;
  cli::Args cl("shadow-exchange", kUsage, argc, argv);
  // A whole number >= 1 (the fault periods: 0 would mean "every 0th message").
  const auto every = [&cl] {
    const std::string flag(cl.arg());
    const std::uint64_t n = cl.whole();
    if (n == 0) cl.fail(flag + " needs a whole number >= 1, not '0'");
    return n;
  };
  while (cl.next()) {
    if (cl.is("--port")) {
      a.port = static_cast<int>(cl.number(0, 65535));
    } else if (cl.is("--symbols")) {
      symbols = cl.value();
    } else if (cl.is("--rate")) {
      a.rate = cl.number(1, 1e7);
    } else if (cl.is("--seed")) {
      a.seed = cl.whole();
    } else if (cl.is("--duration")) {
      a.duration = cl.number(0, 1e9);
    } else if (cl.is("--max-send-buffer")) {
      a.max_send_buffer = static_cast<std::size_t>(cl.number(1024, 1e12));
    } else if (cl.is("--batch")) {
      const std::uint64_t n = every();
      if (n > 1'000'000) cl.fail("--batch needs a whole number in [1, 1000000], not '" + std::to_string(n) + "'");
      a.batch = static_cast<std::size_t>(n);
    } else if (cl.is("--busy-poll")) {
      a.busy_poll = true;
    } else if (cl.is("--send-log")) {
      a.send_log = cl.value();
      if (a.send_log.empty()) cl.fail("--send-log needs a file name");
    } else if (cl.is("--replay")) {
      const std::vector<std::string> files = cl.list();
      if (files.empty()) cl.fail("--replay needs at least one capture file");
      a.replay.insert(a.replay.end(), files.begin(), files.end());
    } else if (cl.is("--speed")) {
      const std::string v = cl.value();
      char* end = nullptr;
      const double x = std::strtod(v.c_str(), &end);
      if (v == "max") {
        a.speed_max = true;
      } else if (v.empty() || *end != '\0' || !(x > 0 && x <= 1e9)) {
        cl.fail("--speed needs a number > 0 or 'max', not '" + v + "'");
      } else {
        a.speed = x;
      }
      speed_given = true;
    } else if (cl.is("--drop-delta-every")) {
      a.faults.drop_delta_every = every();
    } else if (cl.is("--disconnect-every")) {
      a.faults.disconnect_every = every();
    } else if (cl.is("--disconnect-after")) {
      a.faults.disconnect_after_s = cl.number(0.001, 1e9);
    } else if (cl.is("--stall-every")) {
      a.faults.stall_every = every();
    } else if (cl.is("--stall-ms")) {
      a.faults.stall_ms = every();
      if (a.faults.stall_ms > 3'600'000) cl.fail("--stall-ms needs at most 3600000 ms");
    } else if (cl.is("--malformed-frame-every")) {
      a.faults.malformed_frame_every = every();
    } else if (cl.is("--malformed-json-every")) {
      a.faults.malformed_json_every = every();
    } else if (cl.is("--oversized-frame-every")) {
      a.faults.oversized_frame_every = every();
    } else if (cl.is("--bad-handshake")) {
      a.faults.bad_handshakes = cl.whole();
    } else if (cl.is("--faults-max")) {
      a.faults.max = cl.whole();
    } else {
      cl.fail("unknown argument '" + std::string(cl.arg()) + "'");
    }
  }
  if (a.port < 0) cl.fail("--port is required");
  if ((a.faults.stall_every == 0) != (a.faults.stall_ms == 0))
    cl.fail("--stall-every and --stall-ms go together");
  if (speed_given && a.replay.empty()) cl.fail("--speed needs --replay");
  if (!a.replay.empty() && a.batch != 0) cl.fail("--batch applies to the order-flow model, not --replay");
  if (!a.replay.empty() && !a.send_log.empty())
    cl.fail("--send-log applies to the order-flow model, not --replay");
  std::size_t start = 0;
  while (start <= symbols.size()) {
    const std::size_t comma = std::min(symbols.find(',', start), symbols.size());
    std::string s = symbols.substr(start, comma - start);
    if (s.empty() || s.size() > 23 ||
        !std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }))
      cl.fail("--symbols needs comma-separated alphanumeric symbols, not '" + symbols + "'");
    if (std::find(a.symbols.begin(), a.symbols.end(), s) != a.symbols.end())
      cl.fail("symbol " + s + " given twice");
    a.symbols.push_back(std::move(s));
    start = comma + 1;
  }
  return a;
}


std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// CLOCK_MONOTONIC in ns: the schedule, the send log and every timeout (DESIGN.md "Latency":
// one monotonic clock on the host). Called explicitly rather than through steady_clock so the
// send log's clock is the one the harness reads, whatever the standard library maps.
std::int64_t mono_ns() noexcept {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

constexpr std::int64_t kMs = 1'000'000;

// Replay at max speed (and lines without a time) queue more for a client only while less than
// this is pending for it: the client's reading speed paces the replay (backpressure) instead
// of the --max-send-buffer limit dropping it.
constexpr std::size_t kReplayLowWater = 256 * 1024;


struct Client {
  int fd = -1;
  std::uint64_t id = 0;
  std::string conn_id;
  bool open = false;           // handshake done
  bool closing = false;        // close frame sent (or HTTP error): drop once `out` is written
  bool aborting = false;       // fault: cut the TCP connection (no close frame) once written
  bool want_write = false;     // EPOLLOUT registered
  bool bybit = true;           // a /v5/... path: market data only after subscribing
  bool market = false;         // receives market data (has subscribed, or a replay client on
                               // another path); a connection that never does is control only
  bool after_checked = false;  // --disconnect-after handled
  bool close_received = false; // the client's close frame was read
  bool awaiting_close = false; // our close frame is written: waiting for the client's
  std::int64_t open_ns = 0;    // handshake time (CLOCK_MONOTONIC)
  std::string in;              // handshake bytes
  WsServerDeframer deframer{64 * 1024};
  std::string out;             // bytes not yet written; [out_off, size)
  std::size_t out_off = 0;
  std::uint64_t out_base = 0;  // stream offset of out[0] (bytes erased before it)
  std::vector<std::uint8_t> subs;   // model mode, per symbol: bit 0 orderbook, bit 1 publicTrade
  std::vector<std::string> topics;  // replay mode: subscribed topics, any string
  ConnFaultState faults;
  // --send-log: (stream offset of a logged message's end, record index), in stream order.
  std::vector<std::pair<std::uint64_t, std::size_t>> log_marks;
  std::size_t log_head = 0;

  std::size_t pending() const noexcept { return out.size() - out_off; }
  bool has_topic(std::string_view t) const noexcept {
    return std::find(topics.begin(), topics.end(), t) != topics.end();
  }
};

class Exchange;

// One symbol: engine, model, publisher; the sink fans each message out to subscribers.
struct Market : BybitMessageSink {
  Market(Exchange* ex, std::size_t index, const std::string& symbol, std::uint64_t seed);
  void on_message(BybitTopic topic, std::string_view text) override;

  Exchange* ex;
  std::size_t index;
  std::string symbol;
  MatchingEngine engine;
  OrderFlowModel model;
  BybitPublisher publisher;
};

OrderFlowConfig flow_config(std::size_t index, std::uint64_t seed) {
  OrderFlowConfig c;
  c.seed = seed + index;
  // Distinct, plausible price levels per symbol (the market shape is the model's default).
  static constexpr std::int64_t kStart[] = {65'000, 3'000, 150, 600, 25};
  c.start_price = kStart[index % 5] * kFixedScale;
  return c;
}

BybitPublisherConfig publisher_config(const std::string& symbol) {
  BybitPublisherConfig c;
  c.symbol = symbol;
  c.price_decimals = 2;  // Bybit linear: "65114.20", qty "0.010"
  c.qty_decimals = 3;
  c.depth = 50;
  return c;
}

class Exchange {
 public:
  // `replay` (replay mode) and `send_log` may be null; both outlive the exchange.
  Exchange(const Args& args, ReplaySource* replay, SendLog* send_log)
      : args_(args), replay_(replay), send_log_(send_log), faults_(args.faults),
        per_message_faults_(args.faults.per_message()) {
    if (replay_ != nullptr) return;  // no order-flow model in replay mode
    for (std::size_t i = 0; i < args.symbols.size(); ++i) {
      markets_.push_back(std::make_unique<Market>(this, i, args.symbols[i], args.seed));
      Market& m = *markets_.back();
      m.publisher.set_time_ms(wall_ms());
      m.model.seed_book(m.engine);
      m.publisher.flush(wall_ms());  // nobody subscribed yet: establishes the published view
    }
  }

  int run();
  void fan_out(std::size_t market, BybitTopic topic, std::string_view text);

 private:
  bool listen_on(int port);
  void accept_clients();
  void on_readable(Client& c);
  void on_handshake(Client& c);
  void on_text(Client& c, std::string_view text);
  void on_subscribe_replay(Client& c, bool sub, const std::vector<std::string_view>& args,
                           const std::string& op, const std::string& req_id);
  void send_frame(Client& c, WsOpcode op, std::string_view payload);
  bool send_market(Client& c, std::string_view frame, std::string_view text, MarketMessage kind);
  void log_mark(Client& c, std::size_t record);
  void stamp_sent(Client& c);
  void write_out(Client& c);
  void close_client(Client& c, std::uint16_t code, std::string_view reason);
  void drop(Client& c);
  void abort_client(Client& c);
  void reap();
  void update_interest(Client& c);
  void advance_models(std::int64_t now);
  void flush_markets(std::int64_t ms);
  std::int64_t intended_ns(std::uint64_t events) const noexcept {
    return start_ns_ + static_cast<std::int64_t>(static_cast<double>(events) * ns_per_event_);
  }
  void advance_replay(std::int64_t now);
  bool replay_wants(const Client& c) const noexcept;
  void start_replay_clock();
  void start_stall();
  int poll_timeout_ms(std::int64_t now, std::int64_t deadline) const;
  void shut_down(std::uint16_t code, std::string_view reason, std::int64_t grace_ns);
  void reply_op(Client& c, std::string_view op, bool success, std::string_view ret_msg,
                std::string_view req_id_json);
  std::string dump_l2(const Market& m) const;
  std::string stats() const;

  Args args_;
  ReplaySource* replay_;
  SendLog* send_log_;
  FaultInjector faults_;
  bool per_message_faults_;
  std::vector<std::unique_ptr<Market>> markets_;
  std::unordered_map<int, std::unique_ptr<Client>> clients_;
  int listen_fd_ = -1;
  int ep_ = -1;
  std::uint64_t next_client_id_ = 1;
  // Model schedule: event k (1-based) is due at start_ns_ + k * ns_per_event_.
  std::int64_t start_ns_ = 0;
  double ns_per_event_ = 1e6;
  std::uint64_t events_done_ = 0;
  std::size_t flush_every_ = 1;
  std::size_t since_flush_ = 0;         // events not flushed yet (--batch carries it over turns)
  std::int64_t current_intended_ns_ = 0;  // schedule time of the event being flushed
  // Replay state.
  ReplayLine line_;
  bool have_line_ = false;              // line_ read but not served yet
  bool replay_started_ = false;
  bool replay_blocked_ = false;         // waiting for a client to read (backpressure)
  bool replay_done_ = false;
  std::int64_t replay_start_ns_ = 0;
  // Stalls: requested by the injector, then from stall_until_ns_ nothing is written.
  bool stall_pending_ = false;
  bool shutting_down_ = false;          // shut_down(): our close frames are out or queued
  std::int64_t stall_until_ns_ = 0;
  simdjson::dom::parser parser_;
  std::string scratch_;      // one encoded frame, shared by every subscriber
  // Counters for the exit summary and the stats op.
  std::uint64_t accepted_ = 0, rejected_ = 0, slow_dropped_ = 0, protocol_errors_ = 0;
  std::uint64_t frames_out_ = 0, handshaken_ = 0, market_msgs_ = 0;
};

Market::Market(Exchange* e, std::size_t i, const std::string& sym, std::uint64_t seed)
    : ex(e),
      index(i),
      symbol(sym),
      engine(MatchingEngine::Config{}),
      model(flow_config(i, seed)),
      publisher(publisher_config(sym), this) {
  engine.set_listener(&publisher);
}

void Market::on_message(BybitTopic topic, std::string_view text) { ex->fan_out(index, topic, text); }

// Queues one market-data message for c: `frame` is `text` already framed. Without per-message
// faults this is the plain append; with them, the injector may drop or replace it, mark the
// connection to be cut after it, or ask for a stall. True when something was queued.
bool Exchange::send_market(Client& c, std::string_view frame, std::string_view text,
                           MarketMessage kind) {
  if (!per_message_faults_) {
    c.out += frame;
  } else {
    const FaultInjector::Decision d = faults_.on_message(c.faults, kind);
    switch (d.action) {
      case FaultInjector::Action::kDrop:
        return false;
      case FaultInjector::Action::kSend:
        c.out += frame;
        break;
      case FaultInjector::Action::kMalformedFrame:
        FaultInjector::append_rsv1_frame(c.out, text);
        break;
      case FaultInjector::Action::kMalformedJson:
        FaultInjector::append_truncated_json(c.out, text);
        break;
      case FaultInjector::Action::kOversized:
        FaultInjector::append_oversized_header(c.out, text);
        break;
    }
    if (d.disconnect) c.aborting = true;  // nothing more is queued for it
    if (d.stall) stall_pending_ = true;
  }
  ++frames_out_;
  ++market_msgs_;
  return true;
}

void Exchange::log_mark(Client& c, std::size_t record) {
  c.log_marks.emplace_back(c.out_base + c.out.size(), record);
}

// Stamps the send-log records whose messages are now wholly handed to the kernel.
void Exchange::stamp_sent(Client& c) {
  const std::uint64_t written = c.out_base + c.out_off;
  std::int64_t now = -1;
  while (c.log_head < c.log_marks.size() && c.log_marks[c.log_head].first <= written) {
    if (now < 0) now = mono_ns();
    send_log_->stamp(c.log_marks[c.log_head].second, now);
    ++c.log_head;
  }
  if (c.log_head == c.log_marks.size()) {
    c.log_marks.clear();
    c.log_head = 0;
  }
}

void Exchange::fan_out(std::size_t market, BybitTopic topic, std::string_view text) {
  const std::uint8_t bit = topic == BybitTopic::kOrderbook ? 1 : 2;
  const MarketMessage kind = bit == 1 ? MarketMessage::kDelta : MarketMessage::kOther;
  scratch_.clear();
  ws_append_server_frame(scratch_, WsOpcode::kText, text);
  bool logged = send_log_ == nullptr || bit != 1;
  for (auto& [fd, cp] : clients_) {
    Client& c = *cp;
    if (c.fd < 0 || !c.open || c.closing || c.aborting || (c.subs[market] & bit) == 0) continue;
    if (!send_market(c, scratch_, text, kind) || logged) continue;
    // Logged once, against the first subscriber it was queued for.
    log_mark(c, send_log_->add(current_intended_ns_, markets_[market]->publisher.update_id(),
                               static_cast<std::uint32_t>(market), SendLogRecord::kDelta));
    logged = true;
  }
}

bool Exchange::listen_on(int port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return false;
  const int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // loopback only
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return false;
  if (::listen(listen_fd_, 64) != 0) return false;
  socklen_t len = sizeof addr;
  if (::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return false;
  args_.port = ntohs(addr.sin_port);
  return true;
}

void Exchange::accept_clients() {
  for (;;) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or a transient error: try again on the next event
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto c = std::make_unique<Client>();
    c->fd = fd;
    c->id = next_client_id_++;
    // A UUID-shaped connection id like Bybit's, derived from the client number.
    std::uint64_t x = c->id * 0x9E3779B97F4A7C15ull ^ args_.seed;
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ull;
    char buf[48];
    std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-a%03x-%012llx",
                  static_cast<unsigned>(x >> 32), static_cast<unsigned>((x >> 16) & 0xFFFF),
                  static_cast<unsigned>(x & 0xFFF), static_cast<unsigned>(c->id & 0xFFF),
                  static_cast<unsigned long long>(c->id));
    c->conn_id = buf;
    c->subs.assign(markets_.size(), 0);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    ::epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
    clients_.emplace(fd, std::move(c));
    ++accepted_;
  }
}

void Exchange::update_interest(Client& c) {
  const bool want = c.pending() > 0;
  if (want == c.want_write) return;
  epoll_event ev{};
  ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
  ev.data.fd = c.fd;
  ::epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
  c.want_write = want;
}

void Exchange::write_out(Client& c) {
  if (c.fd < 0 || stall_until_ns_ != 0) return;  // a stall holds every byte back
  while (c.pending() > 0) {
    const ssize_t n = ::send(c.fd, c.out.data() + c.out_off, c.pending(), MSG_NOSIGNAL);
    if (n > 0) {
      c.out_off += static_cast<std::size_t>(n);
      if (!c.log_marks.empty()) stamp_sent(c);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    drop(c);  // peer gone
    return;
  }
  if (c.pending() == 0) {
    c.out_base += c.out.size();
    c.out.clear();
    c.out_off = 0;
    if (c.aborting) {
      abort_client(c);
      return;
    }
    if (c.closing && shutting_down_ && c.open && !c.close_received) {
      // We started the closing handshake: keep the socket until the client's close frame
      // arrives, then close TCP first (RFC 6455 §7.1.1), so the client sees a clean close even
      // when it reads slowly (an early FIN or reset would cut it off before it answers).
      c.awaiting_close = true;
    } else if (c.closing) {
      drop(c);
      return;
    }
  } else if (c.out_off > (1u << 20)) {
    c.out.erase(0, c.out_off);
    c.out_base += c.out_off;
    c.out_off = 0;
  }
  update_interest(c);
}

void Exchange::drop(Client& c) {
  if (c.fd < 0) return;
  ::epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
  ::close(c.fd);
  c.fd = -1;  // erased from clients_ by reap()
}

// A lost network, not a WebSocket close: no close frame, FIN both ways, socket gone.
void Exchange::abort_client(Client& c) {
  if (c.fd < 0) return;
  ::shutdown(c.fd, SHUT_RDWR);
  drop(c);
}

void Exchange::reap() {
  for (auto it = clients_.begin(); it != clients_.end();) {
    if (it->second->fd < 0) it = clients_.erase(it);
    else ++it;
  }
}

void Exchange::send_frame(Client& c, WsOpcode op, std::string_view payload) {
  if (c.aborting) return;  // the connection is about to vanish; nothing follows the cut
  ws_append_server_frame(c.out, op, payload);
  ++frames_out_;
}

void Exchange::close_client(Client& c, std::uint16_t code, std::string_view reason) {
  if (c.closing || c.aborting) return;
  ws_append_server_close(c.out, code, reason);
  c.closing = true;
}

void Exchange::reply_op(Client& c, std::string_view op, bool success, std::string_view ret_msg,
                        std::string_view req_id_json) {
  std::string r = success ? "{\"success\":true,\"ret_msg\":" : "{\"success\":false,\"ret_msg\":";
  append_json_string(r, ret_msg);
  r += ",\"conn_id\":";
  append_json_string(r, c.conn_id);
  if (!req_id_json.empty()) {
    r += ",\"req_id\":";
    r += req_id_json;
  }
  r += ",\"op\":";
  append_json_string(r, op);
  r += '}';
  send_frame(c, WsOpcode::kText, r);
}

std::string Exchange::dump_l2(const Market& m) const {
  // Shadow extension (not Bybit): the engine's own top 50 per side, numbers formatted like the
  // publisher's, with the update id of the last published delta. Deltas are flushed before
  // requests are read, so the engine's book equals the published view here.
  std::string r = "{\"op\":\"dump_l2\",\"success\":true,\"symbol\":\"" + m.symbol +
                  "\",\"u\":" + std::to_string(m.publisher.update_id()) +
                  ",\"seq\":" + std::to_string(m.publisher.seq()) + ",\"data\":{";
  Level levels[50];
  char buf[kFixedMaxChars];
  for (int s = 0; s < 2; ++s) {
    const Side side = s == 0 ? Side::kBuy : Side::kSell;
    r += s == 0 ? "\"b\":[" : ",\"a\":[";
    const std::size_t n = m.engine.top(side, 50, levels);
    for (std::size_t i = 0; i < n; ++i) {
      if (i) r += ',';
      r += "[\"";
      r.append(buf, BybitPublisher::format_decimal(levels[i].px, 2, buf));
      r += "\",\"";
      r.append(buf, BybitPublisher::format_decimal(levels[i].qty, 3, buf));
      r += "\"]";
    }
    r += ']';
  }
  r += "}}";
  return r;
}

// Shadow extension (not Bybit): what the fault injector did so far.
std::string Exchange::stats() const {
  return "{\"op\":\"stats\",\"faults\":" + faults_.json() +
         ",\"connections\":" + std::to_string(handshaken_) +
         ",\"messages\":" + std::to_string(market_msgs_) + "}";
}

void Exchange::start_replay_clock() {
  if (replay_ == nullptr || replay_started_) return;
  replay_started_ = true;
  replay_start_ns_ = mono_ns();
}

// Replay mode: any topic string is accepted (the capture decides what exists); no snapshot is
// made up, the capture's own snapshot lines are the snapshots.
void Exchange::on_subscribe_replay(Client& c, bool sub, const std::vector<std::string_view>& args,
                                   const std::string& op, const std::string& req_id) {
  if (args.empty()) {
    reply_op(c, op, false, "error:args is empty", req_id);
    return;
  }
  for (const std::string_view t : args) {
    if (sub && c.has_topic(t)) {
      reply_op(c, op, false, "error:already subscribed,topic:" + std::string(t), req_id);
      return;
    }
  }
  reply_op(c, op, true, sub ? "subscribe" : "", req_id);
  for (const std::string_view t : args) {
    if (sub) {
      if (!c.has_topic(t)) c.topics.emplace_back(t);
    } else {
      c.topics.erase(std::remove(c.topics.begin(), c.topics.end(), t), c.topics.end());
    }
  }
  if (sub) {
    c.market = true;
    start_replay_clock();
  }
}

void Exchange::on_text(Client& c, std::string_view text) {
  simdjson::dom::element doc;
  if (parser_.parse(text.data(), text.size()).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
    reply_op(c, "", false, "error:invalid JSON request", "");
    return;
  }
  std::string_view op;
  if (doc["op"].get(op) != simdjson::SUCCESS) {
    simdjson::dom::element id;
    if (replay_ != nullptr && doc["method"].error() == simdjson::SUCCESS &&
        doc["id"].get(id) == simdjson::SUCCESS) {
      // A Binance request ({"method":"SUBSCRIBE","params":[…],"id":1}) on a replay: every line
      // is served anyway; answer the way Binance does.
      send_frame(c, WsOpcode::kText, "{\"result\":null,\"id\":" + simdjson::minify(id) + "}");
      return;
    }
    reply_op(c, "", false, "error:request without op", "");
    return;
  }
  std::string req_id;
  simdjson::dom::element rid;
  if (doc["req_id"].get(rid) == simdjson::SUCCESS) req_id = simdjson::minify(rid);
  std::vector<std::string_view> args;
  simdjson::dom::array arr;
  if (doc["args"].get(arr) == simdjson::SUCCESS) {
    for (simdjson::dom::element e : arr) {
      std::string_view s;
      if (e.get(s) == simdjson::SUCCESS) args.push_back(s);
    }
  }
  const std::string op_s(op);

  if (op == "ping") {
    reply_op(c, "ping", true, "pong", req_id);
    return;
  }
  if (op == "stats") {
    send_frame(c, WsOpcode::kText, stats());
    return;
  }
  if ((op == "subscribe" || op == "unsubscribe") && replay_ != nullptr) {
    on_subscribe_replay(c, op == "subscribe", args, op_s, req_id);
    return;
  }
  if (op == "subscribe" || op == "unsubscribe") {
    const bool sub = op == "subscribe";
    // Validate every topic first: a request with a bad topic changes nothing (Bybit answers
    // the whole request with success false).
    std::vector<std::pair<std::size_t, std::uint8_t>> topics;
    for (const std::string_view t : args) {
      std::uint8_t bit = 0;
      std::string_view sym;
      if (t.substr(0, 13) == "orderbook.50.") bit = 1, sym = t.substr(13);
      else if (t.substr(0, 12) == "publicTrade.") bit = 2, sym = t.substr(12);
      std::size_t mi = markets_.size();
      for (std::size_t i = 0; i < markets_.size() && bit; ++i)
        if (markets_[i]->symbol == sym) mi = i;
      if (mi == markets_.size()) {
        reply_op(c, op_s, false, "error:handler not found,topic:" + std::string(t), req_id);
        return;
      }
      const bool have = (c.subs[mi] & bit) != 0;
      if (sub && have) {
        reply_op(c, op_s, false, "error:already subscribed,topic:" + std::string(t), req_id);
        return;
      }
      topics.emplace_back(mi, bit);
    }
    if (topics.empty()) {
      reply_op(c, op_s, false, "error:args is empty", req_id);
      return;
    }
    reply_op(c, op_s, true, sub ? "subscribe" : "", req_id);
    for (const auto& [mi, bit] : topics) {
      if (!sub) {
        c.subs[mi] = static_cast<std::uint8_t>(c.subs[mi] & ~bit);
        continue;
      }
      c.subs[mi] = static_cast<std::uint8_t>(c.subs[mi] | bit);
      if (!c.market && send_log_ != nullptr) c.log_marks.reserve(4096);
      c.market = true;
      // A new book subscriber gets the published view; the next delta (u + 1) follows it. It
      // is market data like the deltas (faults apply; logged with the request's time).
      if (bit == 1 && !c.aborting) {
        Market& m = *markets_[mi];
        const std::int64_t requested = send_log_ != nullptr ? mono_ns() : 0;
        const std::string_view snap = m.publisher.snapshot(wall_ms());
        scratch_.clear();
        ws_append_server_frame(scratch_, WsOpcode::kText, snap);
        if (send_market(c, scratch_, snap, MarketMessage::kSnapshot) && send_log_ != nullptr)
          log_mark(c, send_log_->add(requested, m.publisher.update_id(),
                                     static_cast<std::uint32_t>(mi), SendLogRecord::kSnapshot));
      }
    }
    return;
  }
  if (op == "dump_l2") {
    // With --batch, events may be waiting for their flush: publish them first so the reply
    // still equals the view the client has after everything queued before it.
    if (args_.batch != 0 && since_flush_ != 0) {
      current_intended_ns_ = intended_ns(events_done_);
      flush_markets(wall_ms());
    }
    for (const auto& m : markets_) {
      if (!args.empty() && m->symbol == args[0]) {
        send_frame(c, WsOpcode::kText, dump_l2(*m));
        return;
      }
    }
    reply_op(c, "dump_l2", false, "error:unknown symbol", req_id);
    return;
  }
  reply_op(c, op_s, false, "error:unsupported op", req_id);
}

void Exchange::on_handshake(Client& c) {
  WsUpgradeRequest req;
  std::size_t used = 0;
  int status = 0;
  std::string error;
  // A replay serves whatever path the client's venue uses (Bybit /v5/..., Binance /ws/...,
  // /stream?streams=...); the model only the Bybit one.
  const std::string_view expected = replay_ != nullptr ? std::string_view() : kResource;
  const WsUpgradeStatus st = parse_ws_upgrade(c.in, expected, req, used, status, error);
  if (st == WsUpgradeStatus::kNeedMore) return;
  if (st == WsUpgradeStatus::kBad) {
    c.out += ws_http_error(status, error);
    c.closing = true;
    ++rejected_;
    return;
  }
  if (faults_.bad_handshake()) {
    // Fault: a 101 whose Sec-WebSocket-Accept answers another key; the client must refuse it
    // (RFC 6455 §4.1, "the client MUST _Fail the WebSocket Connection_"). Closed once written.
    c.out += ws_upgrade_response(req.key + "-shadow-bad-handshake");
    c.closing = true;
    return;
  }
  c.out += ws_upgrade_response(req.key);
  c.open = true;
  c.open_ns = mono_ns();
  ++handshaken_;
  if (replay_ != nullptr && req.resource.rfind("/v5/", 0) != 0) {
    c.bybit = false;  // a Binance-style client: every line, without subscribing
    c.market = true;
    start_replay_clock();
  }
  if (used < c.in.size()) c.deframer.feed(c.in.data() + used, c.in.size() - used);
  c.in.clear();
  c.in.shrink_to_fit();
}

void Exchange::on_readable(Client& c) {
  char buf[16384];
  for (;;) {
    const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
    if (n == 0) {
      drop(c);  // peer closed the TCP connection
      return;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      drop(c);
      return;
    }
    if (c.awaiting_close) {
      c.deframer.feed(buf, static_cast<std::size_t>(n));
      WsMessage m;
      WsServerDeframer::Status st;
      while ((st = c.deframer.next(m)) == WsServerDeframer::kMessage && m.op != WsOpcode::kClose) {
      }
      if (st != WsServerDeframer::kNeedMore) {  // the close frame (or garbage): done
        drop(c);
        return;
      }
      continue;
    }
    if (c.closing || c.aborting) continue;  // nothing more is read from a closing connection
    if (!c.open) {
      c.in.append(buf, static_cast<std::size_t>(n));
      on_handshake(c);
      if (!c.open) continue;
    } else {
      c.deframer.feed(buf, static_cast<std::size_t>(n));
    }
    WsMessage m;
    WsServerDeframer::Status st = WsServerDeframer::kNeedMore;
    while (!c.closing && !c.aborting && (st = c.deframer.next(m)) == WsServerDeframer::kMessage) {
      switch (m.op) {
        case WsOpcode::kText:
          on_text(c, m.view());
          break;
        case WsOpcode::kPing:
          send_frame(c, WsOpcode::kPong, m.view());
          break;
        case WsOpcode::kClose:
          c.close_received = true;
          // Echo the status code (§5.5.1); 1005 means none was given: answer 1000.
          close_client(c, m.close_code == 1005 ? 1000 : m.close_code, "");
          break;
        default:
          break;  // binary and pong: ignored
      }
    }
    if (!c.closing && !c.aborting && st == WsServerDeframer::kError) {
      ++protocol_errors_;
      close_client(c, c.deframer.close_code(), c.deframer.error());
    }
  }
  write_out(c);
}

void Exchange::flush_markets(std::int64_t ms) {
  for (auto& mk : markets_) mk->publisher.flush(ms);
  since_flush_ = 0;
}

void Exchange::advance_models(std::int64_t now) {
  const auto due = static_cast<std::uint64_t>(static_cast<double>(now - start_ns_) / ns_per_event_);
  // Bounded catch-up per loop turn so the sockets stay served; the schedule keeps its origin,
  // so a slow turn (or a stall) is made up by later ones instead of shifting every later event.
  const std::uint64_t max_batch = std::max<std::uint64_t>(64, static_cast<std::uint64_t>(args_.rate / 50));
  std::uint64_t backlog = due > events_done_ ? std::min(due - events_done_, max_batch) : 0;
  if (backlog == 0) return;
  const std::int64_t ms = wall_ms();
  while (backlog-- > 0) {
    Market& m = *markets_[events_done_ % markets_.size()];
    m.publisher.set_time_ms(ms);
    m.model.step(m.engine);
    ++events_done_;
    if (++since_flush_ >= flush_every_) {
      current_intended_ns_ = intended_ns(events_done_);
      flush_markets(ms);
      if (stall_pending_) break;  // the N-th message is out: nothing more until the stall ends
    }
  }
  // The automatic rule also publishes the turn's remainder; --batch N waits for N events.
  if (args_.batch == 0 && since_flush_ != 0) {
    current_intended_ns_ = intended_ns(events_done_);
    flush_markets(ms);
  }
}

// Which clients a replayed line goes to: Bybit-style clients get the topics they subscribed
// to and every line without a topic; other paths get every line.
bool Exchange::replay_wants(const Client& c) const noexcept {
  if (c.fd < 0 || !c.open || c.closing || c.aborting || !c.market) return false;
  return !c.bybit || line_.topic.empty() || c.has_topic(line_.topic);
}

void Exchange::advance_replay(std::int64_t now) {
  replay_blocked_ = false;
  if (!replay_started_ || replay_done_) return;
  // Bounded per turn so requests are still read while a max-speed replay runs.
  for (int budget = 4096; budget > 0 && !stall_pending_; --budget) {
    if (!have_line_) {
      if (!replay_->next(line_)) {
        replay_done_ = true;
        return;
      }
      have_line_ = true;
    }
    const bool paced = line_.timed && !args_.speed_max;
    if (paced) {
      const auto due = replay_start_ns_ +
                       static_cast<std::int64_t>(static_cast<double>(line_.offset_ns) / args_.speed);
      if (now < due) return;
    } else {
      for (const auto& [fd, cp] : clients_) {
        if (replay_wants(*cp) && cp->pending() >= kReplayLowWater) {
          replay_blocked_ = true;  // resumes when that client has read (EPOLLOUT)
          return;
        }
      }
    }
    scratch_.clear();
    ws_append_server_frame(scratch_, WsOpcode::kText, line_.text);
    for (auto& [fd, cp] : clients_) {
      if (replay_wants(*cp)) send_market(*cp, scratch_, line_.text, line_.kind);
    }
    have_line_ = false;
  }
}

// The N-th message is written (as far as the socket takes it); now nothing is for stall_ms.
// EPOLLOUT interest is dropped meanwhile, or the level-triggered loop would spin on it.
void Exchange::start_stall() {
  stall_pending_ = false;
  stall_until_ns_ = mono_ns() + static_cast<std::int64_t>(args_.faults.stall_ms) * kMs;
  for (auto& [fd, cp] : clients_) {
    Client& c = *cp;
    if (c.fd < 0 || !c.want_write) continue;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = c.fd;
    ::epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
    c.want_write = false;
  }
}

int Exchange::poll_timeout_ms(std::int64_t now, std::int64_t deadline) const {
  if (args_.busy_poll) return 0;
  std::int64_t wait;
  if (stall_until_ns_ != 0) {
    wait = stall_until_ns_ - now;
  } else if (replay_ != nullptr) {
    if (!replay_started_ || replay_blocked_) {
      wait = 50 * kMs;  // a client's handshake/subscribe or EPOLLOUT wakes the loop earlier
    } else if (have_line_ && line_.timed && !args_.speed_max) {
      wait = replay_start_ns_ +
             static_cast<std::int64_t>(static_cast<double>(line_.offset_ns) / args_.speed) - now;
    } else {
      wait = 0;  // more lines ready (the turn's budget ran out)
    }
  } else {
    wait = intended_ns(events_done_ + 1) - now;  // the next event
  }
  if (args_.faults.disconnect_after_s > 0) wait = std::min<std::int64_t>(wait, 10 * kMs);
  if (deadline != 0) wait = std::min(wait, deadline - now);
  // At least 1 ms when waiting at all: the kernel's granularity here.
  return wait <= 0 ? 0 : static_cast<int>(std::max<std::int64_t>(1, wait / kMs));
}

// Clean stop: a close frame to every client, then up to `grace_ns` to write what is queued and
// see each client's close and EOF; connections still open after that are closed anyway.
void Exchange::shut_down(std::uint16_t code, std::string_view reason, std::int64_t grace_ns) {
  stall_until_ns_ = 0;
  shutting_down_ = true;
  for (auto& [fd, c] : clients_) {
    if (c->fd < 0) continue;
    if (c->open) close_client(*c, code, reason);
    else c->closing = true;
    write_out(*c);
  }
  reap();
  epoll_event events[64];
  const std::int64_t grace = mono_ns() + grace_ns;
  while (!clients_.empty() && mono_ns() < grace) {
    const int n = ::epoll_wait(ep_, events, 64, 20);
    for (int i = 0; i < n; ++i) {
      const auto it = clients_.find(events[i].data.fd);
      if (it == clients_.end() || it->second->fd < 0) continue;
      if (events[i].events & EPOLLOUT) write_out(*it->second);
      else if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable(*it->second);
    }
    reap();
  }
  for (auto& [fd, c] : clients_) drop(*c);
  reap();
}

int Exchange::run() {
  ep_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (ep_ < 0 || !listen_on(args_.port)) {
    std::fprintf(stderr, "shadow-exchange: cannot listen on 127.0.0.1:%d: %s\n", args_.port,
                 std::strerror(errno));
    return 1;
  }
  epoll_event lev{};
  lev.events = EPOLLIN;
  lev.data.fd = listen_fd_;
  ::epoll_ctl(ep_, EPOLL_CTL_ADD, listen_fd_, &lev);
  // Every event is its own delta up to 5000 events/s per symbol; above that, small batches
  // (unless --batch says otherwise).
  flush_every_ = args_.batch != 0
                     ? args_.batch
                     : std::max<std::size_t>(1, static_cast<std::size_t>(
                                                    args_.rate / (5000.0 * static_cast<double>(
                                                                              std::max<std::size_t>(1, markets_.size())))));
  ns_per_event_ = 1e9 / args_.rate;

  std::printf("shadow-exchange: listening on ws://127.0.0.1:%d%.*s\n", args_.port,
              static_cast<int>(kResource.size()), kResource.data());
  std::fflush(stdout);

  start_ns_ = mono_ns();
  const std::int64_t deadline =
      args_.duration > 0 ? start_ns_ + static_cast<std::int64_t>(args_.duration * 1e9) : 0;
  const std::int64_t after_ns = static_cast<std::int64_t>(args_.faults.disconnect_after_s * 1e9);
  // Replay at max speed never drops a slow client: backpressure paces it instead.
  const bool drop_slow = replay_ == nullptr || !args_.speed_max;
  epoll_event events[64];
  while (!signals::stop_requested()) {
    const std::int64_t now = mono_ns();
    if (deadline != 0 && now >= deadline) break;
    if (stall_until_ns_ != 0 && now >= stall_until_ns_) stall_until_ns_ = 0;
    if (stall_until_ns_ == 0) {
      if (replay_ != nullptr) advance_replay(now);
      else advance_models(now);
    }
    if (replay_done_) break;
    for (auto& [fd, cp] : clients_) {
      Client& c = *cp;
      if (c.fd < 0) continue;
      if (after_ns > 0 && c.market && !c.after_checked && now - c.open_ns >= after_ns) {
        c.after_checked = true;
        if (faults_.disconnect_after()) {
          abort_client(c);
          continue;
        }
      }
      if (drop_slow && c.pending() > args_.max_send_buffer) {
        ++slow_dropped_;  // too slow: never let one client hold the others up
        drop(c);
      } else if (c.pending() > 0 && !c.want_write) {
        write_out(c);
      }
    }
    if (stall_pending_ && stall_until_ns_ == 0) start_stall();
    reap();
    const int n = ::epoll_wait(ep_, events, 64, poll_timeout_ms(mono_ns(), deadline));
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == listen_fd_) {
        accept_clients();
        continue;
      }
      const auto it = clients_.find(fd);
      if (it == clients_.end() || it->second->fd < 0) continue;
      Client& c = *it->second;
      if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable(c);
      if (c.fd >= 0 && (events[i].events & EPOLLOUT)) write_out(c);
    }
    reap();
  }

  const bool replay_ended = replay_done_;
  if (replay_ended) shut_down(1000, "end of replay", 2000 * kMs);
  else shut_down(1001, "shutdown", 500 * kMs);
  ::close(listen_fd_);
  ::close(ep_);
  std::fprintf(stderr,
               "shadow-exchange: stopped: events=%llu clients=%llu rejected=%llu "
               "slow_disconnects=%llu protocol_errors=%llu frames_out=%llu\n",
               static_cast<unsigned long long>(replay_ != nullptr ? replay_->lines() : events_done_),
               static_cast<unsigned long long>(accepted_),
               static_cast<unsigned long long>(rejected_),
               static_cast<unsigned long long>(slow_dropped_),
               static_cast<unsigned long long>(protocol_errors_),
               static_cast<unsigned long long>(frames_out_));
  std::fprintf(stderr, "shadow-exchange: faults: %s\n", faults_.summary().c_str());
  if (replay_ != nullptr && !replay_->error().empty()) {
    std::fprintf(stderr, "shadow-exchange: replay stopped: %s\n", replay_->error().c_str());
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse_args(argc, argv);
  signals::install_stop_handlers();  // no SA_RESTART: epoll_wait returns EINTR, the loop sees it
  try {
    // Problems with the inputs and outputs show before the server listens (exit 1).
    std::unique_ptr<ReplaySource> replay;
    std::string err;
    if (!args.replay.empty()) {
      replay = std::make_unique<ReplaySource>();
      if (!replay->validate(args.replay, err)) {
        std::fprintf(stderr, "shadow-exchange: bad --replay capture: %s\n", err.c_str());
        return 1;
      }
    }
    std::unique_ptr<SendLog> send_log;
    if (!args.send_log.empty()) {
      send_log = std::make_unique<SendLog>();
      if (!send_log->open(args.send_log, err)) {
        std::fprintf(stderr, "shadow-exchange: --send-log: %s\n", err.c_str());
        return 1;
      }
      // Room for every message of a --duration run (at most one delta per event), capped at
      // 8M records (256 MiB); beyond that chunks of 64Ki records are added as needed.
      const double expected = args.duration > 0 ? args.rate * args.duration * 1.05 + 1024 : 1 << 20;
      send_log->reserve(static_cast<std::size_t>(std::min(expected, 8.0 * (1 << 20))));
    }
    int rc;
    {
      Exchange ex(args, replay.get(), send_log.get());
      rc = ex.run();
    }
    if (send_log) {
      std::size_t n = 0;
      if (!send_log->finish(err, &n)) {
        std::fprintf(stderr, "shadow-exchange: --send-log: %s\n", err.c_str());
        return 1;
      }
      std::fprintf(stderr, "shadow-exchange: send-log: %zu records to %s\n", n, args.send_log.c_str());
    }
    return rc;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "shadow-exchange: %s\n", e.what());
    return 1;
  }
}
