// sandbox-latency: what order entry through the sandbox trading API costs (issue 13,
// docs/PERFORMANCE.md "Sandbox order entry"). Two runs of shadow-exchange, side by side in one
// program run, identical except for the API load:
//   1. no orders: the public stream only;
//   2. --orders-per-s N order requests per second over loopback REST (signed like any Bybit
//      client; creates and cancels alternating, each create a GTC limit order a few ticks under
//      the best bid, so it shows in the public book and its cancel takes it out again).
// Each run reports the publisher's intended-to-send delay per book message (from
// shadow-exchange's --send-log: the time the order-flow schedule meant the message to leave,
// to the time its send(2) returned) at p50/p99/p99.9/max, and run 2 the create -> ack and
// cancel -> ack round trips measured from each request's *intended* send time on a constant
// schedule (a slow answer delays nothing behind it unseen: no coordinated omission).
//
//   sandbox-latency [--exchange PATH] [--rate EVENTS_PER_S] [--orders-per-s N] [--seconds S]
//                   [--clients K]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <functional>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

#include "bench/latency_summary.h"
#include "bench/send_log.h"
#include "core/cli.h"
#include "core/clock.h"
#include "core/version.h"
#include "exchange/exchange_process.h"
#include "feed/bybit_auth.h"
#include "feed/websocket_frame.h"
#include "tests/support/temp_dir.h"

namespace {

using namespace shadow;
using namespace shadow::bench;

constexpr const char* kUsage =
    "usage: sandbox-latency [--exchange PATH] [--rate EVENTS_PER_S] [--orders-per-s N]\n"
    "                       [--seconds S] [--clients K]\n"
    "Runs shadow-exchange twice (no order load, then N order requests/s over its sandbox REST\n"
    "API) and prints the publisher's intended-to-send delay and the order round trips.\n"
    "  --exchange PATH     shadow-exchange (default: next to this program, ../tools/)\n"
    "  --rate N            order-flow events per second of the public market (default 5000)\n"
    "  --orders-per-s N    order requests per second in run 2 (default 1000)\n"
    "  --seconds S         measured seconds per run (default 10)\n"
    "  --clients K         HTTP keep-alive connections sending the load (default 4)\n";

constexpr const char* kKey = "benchkey";
constexpr const char* kSecret = "benchsecret";

struct Options {
  std::string exchange;
  double rate = 5000;
  double orders_per_s = 1000;
  double seconds = 10;
  int clients = 4;
};

// A WebSocket subscriber that reads and discards: the publisher sends (and logs) only what some
// session subscribed to.
class Subscriber {
 public:
  bool start(int port, std::string& error) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      error = std::string("connect: ") + std::strerror(errno);
      return false;
    }
    const std::string req =
        "GET /v5/public/linear HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    const std::string sub = R"({"op":"subscribe","args":["orderbook.50.BTCUSDT","publicTrade.BTCUSDT"]})";
    char frame[256];
    const std::array<std::uint8_t, 4> mask{1, 2, 3, 4};
    std::size_t n = ws_write_header(WsOpcode::kText, sub.size(), true, &mask, frame);
    std::memcpy(frame + n, sub.data(), sub.size());
    ws_mask(frame + n, sub.size(), mask);
    n += sub.size();
    if (::send(fd_, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size()) ||
        ::send(fd_, frame, n, MSG_NOSIGNAL) != static_cast<ssize_t>(n)) {
      error = "cannot send the upgrade request";
      return false;
    }
    reader_ = std::thread([this] {
      char buf[65536];
      while (::recv(fd_, buf, sizeof buf, 0) > 0) bytes_ += sizeof buf;
    });
    return true;
  }
  ~Subscriber() {
    if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
    if (reader_.joinable()) reader_.join();
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  int fd_ = -1;
  std::thread reader_;
  std::atomic<std::uint64_t> bytes_{0};
};

struct RunResult {
  Summary publish_delay;  // intended -> sent, book messages
  Summary create_rtt, cancel_rtt;
  std::uint64_t requests = 0, errors = 0;
  std::string error;
};

std::string signed_post(httplib::Client& c, const std::string& path, const std::string& body, int& ret_code) {
  const std::int64_t ts = realtime_ns() / 1'000'000;
  const std::string sign = bybit_rest_signature(kSecret, ts, kKey, 5000, body);
  const httplib::Headers h = {{"X-BAPI-API-KEY", kKey},
                              {"X-BAPI-TIMESTAMP", std::to_string(ts)},
                              {"X-BAPI-RECV-WINDOW", "5000"},
                              {"X-BAPI-SIGN", sign}};
  const auto res = c.Post(path, h, body, "application/json");
  ret_code = -1;
  if (!res || res->status != 200) return {};
  const std::size_t at = res->body.find("\"retCode\":");
  if (at != std::string::npos) ret_code = std::atoi(res->body.c_str() + at + 10);
  return res->body;
}

// One sender: requests k, k + clients, ... of the constant-rate schedule, create/cancel pairs.
void send_load(const std::string& host, int port, const Options& o, int client, std::int64_t start_ns,
               std::int64_t end_ns, std::vector<std::int64_t>& create_rtt, std::vector<std::int64_t>& cancel_rtt,
               std::atomic<std::uint64_t>& errors) {
  httplib::Client c(host, port);
  c.set_keep_alive(true);
  c.set_tcp_nodelay(true);  // a request's headers and body leave without waiting for an ACK
  const double ns_per_request = 1e9 / o.orders_per_s;
  std::string last_order;
  for (std::uint64_t k = static_cast<std::uint64_t>(client);; k += static_cast<std::uint64_t>(o.clients)) {
    const std::int64_t intended = start_ns + static_cast<std::int64_t>(static_cast<double>(k) * ns_per_request);
    if (intended >= end_ns) break;
    while (monotonic_ns() < intended) std::this_thread::sleep_for(std::chrono::microseconds(50));
    int code = -1;
    const bool create = last_order.empty();
    if (create) {
      std::string link = "c";
      link.append(std::to_string(client)).append("-").append(std::to_string(k));
      std::string body =
          R"({"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.001","price":"64990.0","orderLinkId":")";
      body.append(link).append("\"}");
      const std::string r = signed_post(c, "/v5/order/create", body, code);
      if (code == 0) last_order = link;
    } else {
      std::string body = R"({"category":"linear","symbol":"BTCUSDT","orderLinkId":")";
      body.append(last_order).append("\"}");
      signed_post(c, "/v5/order/cancel", body, code);
      last_order.clear();
    }
    const std::int64_t rtt = monotonic_ns() - intended;
    if (code != 0) ++errors;
    (create ? create_rtt : cancel_rtt).push_back(rtt);
  }
}

RunResult run_once(const Options& o, double orders_per_s, const std::string& accounts, const std::string& log_path) {
  RunResult res;
  ::unlink(log_path.c_str());
  const double total = o.seconds + 3;
  std::vector<std::string> args = {o.exchange, "--port", "0", "--rate", std::to_string(static_cast<long>(o.rate)),
                                   "--duration", std::to_string(static_cast<long>(total + 5)), "--send-log", log_path,
                                   "--rest-port", "0", "--accounts", accounts,
                                   // as wire-latency: each event its own message, sent at its time
                                   "--batch", "1", "--busy-poll"};
  ExchangeProcess ex;
  ExchangeProcessOptions po;
  po.capture_stderr = true;
  if (!ex.start(args, po, res.error)) return res;
  Subscriber sub;
  if (!sub.start(ex.port(), res.error)) return res;
  const std::int64_t t0 = monotonic_ns() + 2'000'000'000;  // 2 s warm-up
  const std::int64_t t1 = t0 + static_cast<std::int64_t>(o.seconds * 1e9);
  std::vector<std::vector<std::int64_t>> creates(static_cast<std::size_t>(o.clients));
  std::vector<std::vector<std::int64_t>> cancels(static_cast<std::size_t>(o.clients));
  std::atomic<std::uint64_t> errors{0};
  std::vector<std::thread> senders;
  if (orders_per_s > 0) {
    const std::string url = ex.rest_url();  // http://127.0.0.1:PORT
    const int port = std::atoi(url.c_str() + url.rfind(':') + 1);
    Options lo = o;
    lo.orders_per_s = orders_per_s;
    for (int i = 0; i < o.clients; ++i) {
      senders.emplace_back(send_load, "127.0.0.1", port, std::cref(lo), i, t0, t1, std::ref(creates[static_cast<std::size_t>(i)]),
                           std::ref(cancels[static_cast<std::size_t>(i)]), std::ref(errors));
    }
  }
  while (monotonic_ns() < t1 + 500'000'000) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  for (std::thread& t : senders) t.join();
  ex.stop(5000);
  std::vector<SendRecord> log;
  if (!read_send_log(log_path, log, res.error)) return res;
  ::unlink(log_path.c_str());
  std::vector<std::int64_t> delay;
  for (const SendRecord& r : log) {
    if (r.kind == 1 && r.intended_ns >= t0 && r.intended_ns < t1 && r.sent_ns != 0) delay.push_back(r.sent_ns - r.intended_ns);
  }
  res.publish_delay = summarize(delay);
  std::vector<std::int64_t> all_creates, all_cancels;
  for (auto& v : creates) all_creates.insert(all_creates.end(), v.begin(), v.end());
  for (auto& v : cancels) all_cancels.insert(all_cancels.end(), v.begin(), v.end());
  res.requests = all_creates.size() + all_cancels.size();
  res.errors = errors.load();
  res.create_rtt = summarize(all_creates);
  res.cancel_rtt = summarize(all_cancels);
  return res;
}

void print_row(const char* what, const Summary& s) {
  std::printf("  %-34s n=%-8zu p50=%8.1f  p99=%8.1f  p99.9=%8.1f  max=%9.1f us\n", what, s.n, s.p50 / 1e3, s.p99 / 1e3,
              s.p999 / 1e3, s.max / 1e3);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  cli::Args cl("sandbox-latency", kUsage, argc, argv);
  while (cl.next()) {
    if (cl.is("--exchange")) {
      o.exchange = cl.value();
    } else if (cl.is("--rate")) {
      o.rate = cl.number(1, 1e6);
    } else if (cl.is("--orders-per-s")) {
      o.orders_per_s = cl.number(1, 1e5);
    } else if (cl.is("--seconds")) {
      o.seconds = cl.number(1, 3600);
    } else if (cl.is("--clients")) {
      o.clients = static_cast<int>(cl.number(1, 64));
    } else {
      cl.fail("unknown argument '" + std::string(cl.arg()) + "'");
    }
  }
  if (o.exchange.empty()) {
    std::string self(argv[0]);
    const std::size_t slash = self.rfind('/');
    o.exchange = (slash == std::string::npos ? std::string(".") : self.substr(0, slash)) + "/../tools/shadow-exchange";
  }
  // The accounts file holds a secret: it is written inside a fresh 0700 directory, then made 0600.
  const test_support::TempDir dir("sandbox-latency");
  if (dir.path().empty()) {
    std::fprintf(stderr, "sandbox-latency: cannot make a temporary directory: %s\n", std::strerror(errno));
    return 3;
  }
  // Limits far above the load: the run measures latency, not the rate limiter.
  const std::string accounts =
      dir.write("accounts.toml", std::string("[[account]]\nuid = 1\napi_key = \"") + kKey + "\"\napi_secret = \"" +
                                     kSecret +
                                     "\"\n[account.wallet]\nUSDT = \"100000000\"\n[rate_limits]\n\"order/create\" = 10000\n"
                                     "\"order/cancel\" = 10000\n");
  ::chmod(accounts.c_str(), 0600);
  const std::string log_path = dir.file("send.log");
  std::printf("sandbox-latency: %s, exchange %s, public flow %.0f events/s, %.0f s per run, %d clients\n",
              program_version().c_str(), o.exchange.c_str(), o.rate, o.seconds, o.clients);
  int rc = 0;
  for (const double load : {0.0, o.orders_per_s}) {
    const RunResult r = run_once(o, load, accounts, log_path);
    if (!r.error.empty()) {
      std::fprintf(stderr, "sandbox-latency: %s\n", r.error.c_str());
      rc = 3;
      break;
    }
    std::printf("run: %.0f order requests/s (%llu sent, %llu not answered retCode 0)\n", load,
                static_cast<unsigned long long>(r.requests), static_cast<unsigned long long>(r.errors));
    print_row("publisher intended -> send(2)", r.publish_delay);
    if (load > 0) {
      print_row("create -> ack (from intended send)", r.create_rtt);
      print_row("cancel -> ack (from intended send)", r.cancel_rtt);
    }
  }
  return rc;  // the directory goes with `dir`
}
