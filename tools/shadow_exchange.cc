// shadow-exchange: the embedded exchange's WebSocket server (docs/EMBEDDED_EXCHANGE.md,
// "Server"). Per symbol an OrderFlowModel drives a MatchingEngine whose BybitPublisher turns
// every event into Bybit v5 orderbook.50 / publicTrade messages, served to subscribed clients
// at ws://127.0.0.1:PORT/v5/public/linear.
//
//   shadow-exchange --port P [--symbols BTCUSDT,ETHUSDT] [--rate EVENTS_PER_S] [--seed N]
//                   [--duration S] [--max-send-buffer BYTES]
//
// One thread: an epoll loop over non-blocking loopback sockets that also advances the models
// on a constant-rate schedule (event k is due at start + k / rate; a late loop catches up in
// bounded batches instead of drifting). Signal handlers only set a flag; the loop sends close
// frames to every client and exits 0.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <simdjson.h>

#include "feed/ws_server.h"
#include "sim/bybit_publisher.h"
#include "sim/matching_engine.h"
#include "sim/order_flow.h"
#include "tools/cli.h"

namespace {

using namespace shadow;
using Clock = std::chrono::steady_clock;

constexpr const char* kUsage =
    "usage: shadow-exchange --port P [--symbols BTCUSDT,ETHUSDT] [--rate EVENTS_PER_S]\n"
    "                       [--seed N] [--duration S] [--max-send-buffer BYTES]\n"
    "\n"
    "Serves the embedded exchange's simulated market as Bybit v5 public WebSocket streams\n"
    "(orderbook.50.<SYM>, publicTrade.<SYM>) at ws://127.0.0.1:P/v5/public/linear.\n"
    "  --port P               TCP port on 127.0.0.1; 0 picks a free one (printed)\n"
    "  --symbols LIST         comma-separated symbols (default BTCUSDT)\n"
    "  --rate N               order-flow events per second across all symbols (default 1000)\n"
    "  --seed N               order-flow seed; symbol i uses seed + i (default 1)\n"
    "  --duration S           stop after S seconds (default: run until SIGTERM/SIGINT)\n"
    "  --max-send-buffer N    bytes queued for one client before it is disconnected as too\n"
    "                         slow (default 8388608)\n";

constexpr std::string_view kResource = "/v5/public/linear";

struct Args {
  int port = -1;
  std::vector<std::string> symbols;
  double rate = 1000.0;
  std::uint64_t seed = 1;
  double duration = 0.0;  // 0 = unlimited
  std::size_t max_send_buffer = 8u << 20;
};

Args parse_args(int argc, char** argv) {
  Args a;
  std::string symbols = "BTCUSDT";
  cli::Args cl("shadow-exchange", kUsage, argc, argv);
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
    } else {
      cl.fail("unknown argument '" + std::string(cl.arg()) + "'");
    }
  }
  if (a.port < 0) cl.fail("--port is required");
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

std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) { g_stop.store(true, std::memory_order_relaxed); }

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Appends s as a JSON string literal (request ids, error texts).
void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
}

struct Client {
  int fd = -1;
  std::uint64_t id = 0;
  std::string conn_id;
  bool open = false;           // handshake done
  bool closing = false;        // close frame sent (or HTTP error): drop once `out` is written
  bool want_write = false;     // EPOLLOUT registered
  std::string in;              // handshake bytes
  WsServerDeframer deframer{64 * 1024};
  std::string out;             // bytes not yet written; [out_off, size)
  std::size_t out_off = 0;
  std::vector<std::uint8_t> subs;  // per symbol: bit 0 orderbook, bit 1 publicTrade

  std::size_t pending() const noexcept { return out.size() - out_off; }
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
  explicit Exchange(const Args& args) : args_(args) {
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
  void send_frame(Client& c, WsOpcode op, std::string_view payload);
  void write_out(Client& c);
  void close_client(Client& c, std::uint16_t code, std::string_view reason);
  void drop(Client& c);
  void reap();
  void update_interest(Client& c);
  void advance_models(Clock::time_point now);
  void reply_op(Client& c, std::string_view op, bool success, std::string_view ret_msg,
                std::string_view req_id_json);
  std::string dump_l2(const Market& m) const;

  Args args_;
  std::vector<std::unique_ptr<Market>> markets_;
  std::unordered_map<int, std::unique_ptr<Client>> clients_;
  int listen_fd_ = -1;
  int ep_ = -1;
  std::uint64_t next_client_id_ = 1;
  Clock::time_point start_;
  std::uint64_t events_done_ = 0;
  std::size_t flush_every_ = 1;
  simdjson::dom::parser parser_;
  std::string scratch_;      // one encoded frame, shared by every subscriber
  // Counters for the exit summary.
  std::uint64_t accepted_ = 0, rejected_ = 0, slow_dropped_ = 0, protocol_errors_ = 0;
  std::uint64_t frames_out_ = 0;
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

void Exchange::fan_out(std::size_t market, BybitTopic topic, std::string_view text) {
  const std::uint8_t bit = topic == BybitTopic::kOrderbook ? 1 : 2;
  scratch_.clear();
  ws_append_server_frame(scratch_, WsOpcode::kText, text);
  for (auto& [fd, cp] : clients_) {
    Client& c = *cp;
    if (c.fd < 0 || !c.open || c.closing || (c.subs[market] & bit) == 0) continue;
    c.out += scratch_;
    ++frames_out_;
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
  if (c.fd < 0) return;
  while (c.pending() > 0) {
    const ssize_t n = ::send(c.fd, c.out.data() + c.out_off, c.pending(), MSG_NOSIGNAL);
    if (n > 0) {
      c.out_off += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    drop(c);  // peer gone
    return;
  }
  if (c.pending() == 0) {
    c.out.clear();
    c.out_off = 0;
    if (c.closing) {
      drop(c);
      return;
    }
  } else if (c.out_off > (1u << 20)) {
    c.out.erase(0, c.out_off);
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

void Exchange::reap() {
  for (auto it = clients_.begin(); it != clients_.end();) {
    if (it->second->fd < 0) it = clients_.erase(it);
    else ++it;
  }
}

void Exchange::send_frame(Client& c, WsOpcode op, std::string_view payload) {
  ws_append_server_frame(c.out, op, payload);
  ++frames_out_;
}

void Exchange::close_client(Client& c, std::uint16_t code, std::string_view reason) {
  if (c.closing) return;
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

void Exchange::on_text(Client& c, std::string_view text) {
  simdjson::dom::element doc;
  if (parser_.parse(text.data(), text.size()).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
    reply_op(c, "", false, "error:invalid JSON request", "");
    return;
  }
  std::string_view op;
  if (doc["op"].get(op) != simdjson::SUCCESS) {
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
      // A new book subscriber gets the published view; the next delta (u + 1) follows it.
      if (bit == 1) send_frame(c, WsOpcode::kText, markets_[mi]->publisher.snapshot(wall_ms()));
    }
    return;
  }
  if (op == "dump_l2") {
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
  const WsUpgradeStatus st = parse_ws_upgrade(c.in, kResource, req, used, status, error);
  if (st == WsUpgradeStatus::kNeedMore) return;
  if (st == WsUpgradeStatus::kBad) {
    c.out += ws_http_error(status, error);
    c.closing = true;
    ++rejected_;
    return;
  }
  c.out += ws_upgrade_response(req.key);
  c.open = true;
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
    if (c.closing) continue;  // nothing more is read from a closing connection
    if (!c.open) {
      c.in.append(buf, static_cast<std::size_t>(n));
      on_handshake(c);
      if (!c.open) continue;
    } else {
      c.deframer.feed(buf, static_cast<std::size_t>(n));
    }
    WsMessage m;
    WsServerDeframer::Status st = WsServerDeframer::kNeedMore;
    while (!c.closing && (st = c.deframer.next(m)) == WsServerDeframer::kMessage) {
      switch (m.op) {
        case WsOpcode::kText:
          on_text(c, m.view());
          break;
        case WsOpcode::kPing:
          send_frame(c, WsOpcode::kPong, m.view());
          break;
        case WsOpcode::kClose:
          // Echo the status code (§5.5.1); 1005 means none was given: answer 1000.
          close_client(c, m.close_code == 1005 ? 1000 : m.close_code, "");
          break;
        default:
          break;  // binary and pong: ignored
      }
    }
    if (!c.closing && st == WsServerDeframer::kError) {
      ++protocol_errors_;
      close_client(c, c.deframer.close_code(), c.deframer.error());
    }
  }
  write_out(c);
}

void Exchange::advance_models(Clock::time_point now) {
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const auto due = static_cast<std::uint64_t>(elapsed * args_.rate);
  // Bounded catch-up per loop turn so the sockets stay served; the schedule keeps its origin,
  // so a slow turn is made up by later ones instead of shifting every later event.
  const std::uint64_t max_batch = std::max<std::uint64_t>(64, static_cast<std::uint64_t>(args_.rate / 50));
  std::uint64_t backlog = due > events_done_ ? std::min(due - events_done_, max_batch) : 0;
  if (backlog == 0) return;
  const std::int64_t ms = wall_ms();
  std::size_t since_flush = 0;
  while (backlog-- > 0) {
    Market& m = *markets_[events_done_ % markets_.size()];
    m.publisher.set_time_ms(ms);
    m.model.step(m.engine);
    ++events_done_;
    if (++since_flush >= flush_every_) {
      for (auto& mk : markets_) mk->publisher.flush(ms);
      since_flush = 0;
    }
  }
  for (auto& mk : markets_) mk->publisher.flush(ms);
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
  // Every event is its own delta up to 5000 events/s per symbol; above that, small batches.
  flush_every_ = std::max<std::size_t>(
      1, static_cast<std::size_t>(args_.rate / (5000.0 * static_cast<double>(markets_.size()))));

  std::printf("shadow-exchange: listening on ws://127.0.0.1:%d%.*s\n", args_.port,
              static_cast<int>(kResource.size()), kResource.data());
  std::fflush(stdout);

  start_ = Clock::now();
  const auto deadline = args_.duration > 0
                            ? start_ + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(args_.duration))
                            : Clock::time_point::max();
  epoll_event events[64];
  while (!g_stop.load(std::memory_order_relaxed)) {
    const auto now = Clock::now();
    if (now >= deadline) break;
    advance_models(now);
    for (auto& [fd, c] : clients_) {
      if (c->fd >= 0 && c->pending() > args_.max_send_buffer) {
        ++slow_dropped_;  // too slow: never let one client hold the others up
        drop(*c);
      } else if (c->fd >= 0 && c->pending() > 0 && !c->want_write) {
        write_out(*c);
      }
    }
    reap();
    // Sleep until the next event is due (at least 1 ms: the kernel's granularity here).
    const double next_due = static_cast<double>(events_done_ + 1) / args_.rate;
    const double wait_s = next_due - std::chrono::duration<double>(Clock::now() - start_).count();
    const int timeout = wait_s <= 0 ? 0 : std::max(1, static_cast<int>(wait_s * 1000.0));
    const int n = ::epoll_wait(ep_, events, 64, timeout);
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

  // Clean stop: a close frame (1001 going away) to every client, then a short grace period
  // to write what is queued; clients still not drained are closed anyway.
  for (auto& [fd, c] : clients_) {
    if (c->fd < 0) continue;
    if (c->open) close_client(*c, 1001, "shutdown");
    else c->closing = true;
    write_out(*c);
  }
  reap();
  const auto grace = Clock::now() + std::chrono::milliseconds(500);
  while (!clients_.empty() && Clock::now() < grace) {
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
  ::close(listen_fd_);
  ::close(ep_);
  std::fprintf(stderr,
               "shadow-exchange: stopped: events=%llu clients=%llu rejected=%llu "
               "slow_disconnects=%llu protocol_errors=%llu frames_out=%llu\n",
               static_cast<unsigned long long>(events_done_),
               static_cast<unsigned long long>(accepted_),
               static_cast<unsigned long long>(rejected_),
               static_cast<unsigned long long>(slow_dropped_),
               static_cast<unsigned long long>(protocol_errors_),
               static_cast<unsigned long long>(frames_out_));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse_args(argc, argv);
  struct sigaction sa{};
  sa.sa_handler = on_signal;  // no SA_RESTART: epoll_wait returns EINTR and the loop sees it
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  try {
    Exchange ex(args);
    return ex.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "shadow-exchange: %s\n", e.what());
    return 1;
  }
}
