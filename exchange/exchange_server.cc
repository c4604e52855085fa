#include "exchange/exchange_server.h"

#include "core/exit_codes.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <exception>
#include <string>

#include "core/clock.h"
#include "core/signals.h"

namespace shadow {
namespace {

constexpr std::int64_t kMs = 1'000'000;

}  // namespace

ExchangeServer::ExchangeServer(const ExchangeOptions& opt, ReplaySource* replay, SendLog* send_log,
                               const TlsContext* tls)
    : opt_(opt),
      send_log_(send_log),
      tls_(tls),
      faults_(opt.faults),
      fanout_(clients_, faults_, send_log, counters_),
      market_(replay == nullptr ? std::make_unique<MarketDriver>(opt_, fanout_) : nullptr),
      replay_(replay != nullptr ? std::make_unique<ReplayDriver>(*replay, opt_, fanout_) : nullptr),
      requests_(fanout_, market_.get(), replay_.get(), faults_, counters_) {}

void ExchangeServer::enable_sandbox(const SandboxAccounts& accounts, SandboxGroundTruth* truth) {
  accounts_ = &accounts;
  truth_ = truth;
  venue_ = std::make_unique<SandboxVenue>(accounts, market_->sandbox_markets(), opt_.seed);
  venue_->set_ground_truth(truth);
  market_->attach(*venue_);
  service_ = std::make_unique<SandboxService>(*venue_, accounts);
  gateway_ = std::make_unique<SandboxGateway>(accounts, *service_);
  private_ = std::make_unique<SandboxPrivateStream>(accounts, *venue_, *service_, fanout_);
  venue_->set_listener(private_.get());
  requests_.set_private_stream(private_.get());
}

ExchangeServer::~ExchangeServer() {
  if (gateway_) gateway_->stop();
  for (auto& [fd, c] : clients_) drop(*c);
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (ep_ >= 0) ::close(ep_);
}

bool ExchangeServer::listen_on(int port) {
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
  opt_.port = ntohs(addr.sin_port);
  return true;
}

void ExchangeServer::accept_clients() {
  for (;;) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or a transient error: try again on the next event
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto c = std::make_unique<ClientSession>();
    c->fd = fd;
    c->id = next_client_id_++;
    c->conn_id = connection_id(c->id, opt_.seed);
    c->subs.assign(market_ != nullptr ? market_->size() : 0, 0);
    if (tls_ != nullptr) {
      c->tls = std::make_unique<TlsTransport>();
      std::string err;
      if (!c->tls->start(*tls_, err)) {
        std::fprintf(stderr, "shadow-exchange: %s\n", err.c_str());
        ::close(fd);
        ++counters_.rejected;
        continue;
      }
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    ::epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
    clients_.emplace(fd, std::move(c));
    ++counters_.accepted;
  }
}

void ExchangeServer::on_handshake(ClientSession& c) {
  WsUpgradeRequest req;
  std::size_t used = 0;
  int status = 0;
  std::string error;
  // A replay serves whatever path the client's venue uses (Bybit /v5/..., Binance /ws/...,
  // /stream?streams=...); the model only the Bybit one.
  // The model serves /v5/public/linear, /v5/public/spot with --spot-symbols and /v5/private
  // with the sandbox (any query, e.g. Bybit's ?max_active_time=).
  WsUpgradeStatus st = parse_ws_upgrade(c.in, std::string_view(), req, used, status, error);
  if (st == WsUpgradeStatus::kNeedMore) return;
  if (st == WsUpgradeStatus::kDone && replay_ == nullptr) {
    const std::string_view path = std::string_view(req.resource).substr(0, req.resource.find('?'));
    if (req.resource == kExchangeResource) {
      c.category = Category::kLinear;
    } else if (req.resource == "/v5/public/spot" && !opt_.spot_symbols.empty()) {
      c.category = Category::kSpot;
    } else if (path == "/v5/private" && private_ != nullptr) {
      c.private_stream = true;
    } else {
      st = WsUpgradeStatus::kBad;
      status = 404;
      error = "no such resource '" + std::string(req.resource) + "'; served: " + std::string(kExchangeResource) +
              (opt_.spot_symbols.empty() ? "" : ", /v5/public/spot") + (private_ != nullptr ? ", /v5/private" : "");
    }
  }
  if (st == WsUpgradeStatus::kBad) {
    c.out += ws_http_error(status, error);
    c.closing = true;
    ++counters_.rejected;
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
  c.open_ns = monotonic_ns();
  ++counters_.handshaken;
  if (replay_ != nullptr && req.resource.rfind("/v5/", 0) != 0) {
    c.bybit = false;  // a Binance-style client: every line, without subscribing
    c.market = true;
    replay_->start_clock();
  }
  if (used < c.in.size()) c.deframer.feed(c.in.data() + used, c.in.size() - used);
  c.in.clear();
  c.in.shrink_to_fit();
}

void ExchangeServer::on_frames(ClientSession& c) {
  WsMessage m;
  WsServerDeframer::Status st = WsServerDeframer::kNeedMore;
  while (!c.closing && !c.aborting && (st = c.deframer.next(m)) == WsServerDeframer::kMessage) {
    c.last_in_ns = monotonic_ns();
    switch (m.op) {
      case WsOpcode::kText:
        requests_.on_text(c, m.view());
        break;
      case WsOpcode::kPing:
        fanout_.send_frame(c, WsOpcode::kPong, m.view());
        break;
      case WsOpcode::kClose:
        c.close_received = true;
        // Echo the status code (§5.5.1); 1005 means none was given: answer 1000.
        c.queue_close(m.close_code == 1005 ? 1000 : m.close_code, "");
        break;
      default:
        break;  // binary and pong: ignored
    }
  }
  if (!c.closing && !c.aborting && st == WsServerDeframer::kError) {
    ++counters_.protocol_errors;
    c.queue_close(c.deframer.close_code(), c.deframer.error());
  }
}

void ExchangeServer::on_readable(ClientSession& c) {
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
    const auto got = static_cast<std::size_t>(n);
    if (!(c.tls ? on_ciphertext(c, buf, got) : on_bytes(c, buf, got))) return;
  }
  write_out(c);
}

// Plaintext from the client (over TLS: decrypted by on_ciphertext).
bool ExchangeServer::on_bytes(ClientSession& c, const char* p, std::size_t n) {
  if (c.awaiting_close) {
    c.deframer.feed(p, n);
    WsMessage m;
    WsServerDeframer::Status st;
    while ((st = c.deframer.next(m)) == WsServerDeframer::kMessage && m.op != WsOpcode::kClose) {
    }
    if (st != WsServerDeframer::kNeedMore) {  // the close frame (or garbage): done
      drop(c);
      return false;
    }
    return true;
  }
  if (c.closing || c.aborting) return true;  // nothing more is read from a closing connection
  if (!c.open) {
    c.in.append(p, n);
    on_handshake(c);
    if (!c.open) return true;
  } else {
    c.deframer.feed(p, n);
  }
  on_frames(c);
  return true;
}

void ExchangeServer::update_interest(ClientSession& c) {
  const bool want = c.unsent() > 0;
  if (want == c.want_write) return;
  epoll_event ev{};
  ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
  ev.data.fd = c.fd;
  ::epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
  c.want_write = want;
}

bool ExchangeServer::send_plain(ClientSession& c) {
  while (c.pending() > 0) {
    const ssize_t n = ::send(c.fd, c.out.data() + c.out_off, c.pending(), MSG_NOSIGNAL);
    if (n > 0) {
      c.written(static_cast<std::size_t>(n), send_log_);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    drop(c);  // peer gone
    return false;
  }
  return true;
}

void ExchangeServer::write_out(ClientSession& c) {
  if (c.fd < 0 || stall_until_ns_ != 0) return;  // a stall holds every byte back
  if (!(c.tls ? send_tls(c) : send_plain(c))) return;
  if (c.unsent() == 0) {
    c.clear_written();
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
      if (c.tls) end_tls(c);
      drop(c);
      return;
    }
  } else {
    c.compact();
  }
  update_interest(c);
}

void ExchangeServer::drop(ClientSession& c) {
  if (c.fd < 0) return;
  ::epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
  ::close(c.fd);
  c.fd = -1;  // erased from clients_ by reap()
}

// A lost network, not a WebSocket close: no close frame, FIN both ways, socket gone.
void ExchangeServer::abort_client(ClientSession& c) {
  if (c.fd < 0) return;
  ::shutdown(c.fd, SHUT_RDWR);
  drop(c);
}

void ExchangeServer::reap() {
  for (auto it = clients_.begin(); it != clients_.end();) {
    if (it->second->fd < 0) it = clients_.erase(it);
    else ++it;
  }
}

// Per loop turn: --disconnect-after, the slow-client limit, and writing what the driver queued.
void ExchangeServer::serve_clients(std::int64_t now, std::int64_t after_ns, bool drop_slow) {
  for (auto& [fd, cp] : clients_) {
    ClientSession& c = *cp;
    if (c.fd < 0) continue;
    if (after_ns > 0 && c.market && !c.after_checked && now - c.open_ns >= after_ns) {
      c.after_checked = true;
      if (faults_.disconnect_after()) {
        abort_client(c);
        continue;
      }
    }
    if (drop_slow && c.pending() > opt_.max_send_buffer) {
      ++counters_.slow_dropped;  // too slow: never let one client hold the others up
      drop(c);
    } else if (c.unsent() > 0 && !c.want_write) {
      write_out(c);
    }
  }
}

// The N-th message is written (as far as the socket takes it); now nothing is for stall_ms.
// EPOLLOUT interest is dropped meanwhile, or the level-triggered loop would spin on it.
void ExchangeServer::start_stall() {
  fanout_.clear_stall_request();
  stall_until_ns_ = monotonic_ns() + static_cast<std::int64_t>(opt_.faults.stall_ms) * kMs;
  for (auto& [fd, cp] : clients_) {
    ClientSession& c = *cp;
    if (c.fd < 0 || !c.want_write) continue;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = c.fd;
    ::epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
    c.want_write = false;
  }
}

std::int64_t ExchangeServer::wait_ns(std::int64_t now, std::int64_t deadline) const {
  if (opt_.pacing == Pacing::kBusy) return 0;
  std::int64_t wait;
  if (stall_until_ns_ != 0) wait = stall_until_ns_ - now;
  else if (replay_ != nullptr) wait = replay_->wait_ns(now);
  else wait = market_->next_due_ns() - now;
  if (opt_.faults.disconnect_after_s > 0) wait = std::min<std::int64_t>(wait, 10 * kMs);
  if (deadline != 0) wait = std::min(wait, deadline - now);
  return std::max<std::int64_t>(0, wait);
}

// Timer pacing: epoll_pwait2's nanosecond timeout, with the thread's timer slack at 1 ns (set
// in run()), wakes the loop when the next message is due, not at the next millisecond. A
// kernel without epoll_pwait2 (before 5.11) gets millisecond waits, rounded up, and a warning.
int ExchangeServer::wait_events(epoll_event* events, int max, std::int64_t wait) {
  if (wait <= 0) return ::epoll_wait(ep_, events, max, 0);
  if (!coarse_timer_) {
    const timespec ts{static_cast<time_t>(wait / 1'000'000'000), static_cast<long>(wait % 1'000'000'000)};
    const int n = ::epoll_pwait2(ep_, events, max, &ts, nullptr);
    if (n >= 0 || errno != ENOSYS) return n;
    coarse_timer_ = true;
    std::fprintf(stderr, "shadow-exchange: warning: no epoll_pwait2 (Linux < 5.11): timer pacing waits whole "
                         "milliseconds; use --pacing busy for messages on time\n");
  }
  return ::epoll_wait(ep_, events, max, static_cast<int>(std::min<std::int64_t>((wait + kMs - 1) / kMs, 1'000'000)));
}

// Clean stop: a close frame to every client, then up to `grace_ns` to write what is queued and
// see each client's close and EOF; connections still open after that are closed anyway.
void ExchangeServer::shut_down(std::uint16_t code, std::string_view reason, std::int64_t grace_ns) {
  stall_until_ns_ = 0;
  shutting_down_ = true;
  for (auto& [fd, c] : clients_) {
    if (c->fd < 0) continue;
    if (c->open) c->queue_close(code, reason);
    else c->closing = true;
    write_out(*c);
  }
  reap();
  epoll_event events[64];
  const std::int64_t grace = monotonic_ns() + grace_ns;
  while (!clients_.empty() && monotonic_ns() < grace) {
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

int ExchangeServer::run() {
  ep_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (ep_ < 0 || !listen_on(opt_.port)) {
    std::fprintf(stderr, "shadow-exchange: cannot listen on 127.0.0.1:%d: %s\n", opt_.port,
                 std::strerror(errno));
    return kExitRuntimeFailure;
  }
  epoll_event lev{};
  lev.events = EPOLLIN;
  lev.data.fd = listen_fd_;
  ::epoll_ctl(ep_, EPOLL_CTL_ADD, listen_fd_, &lev);

  std::string rest;
  if (gateway_ != nullptr) {
    std::string err;
    if (!gateway_->start(opt_.rest_port, err)) {
      std::fprintf(stderr, "shadow-exchange: --rest-port: %s\n", err.c_str());
      return kExitRuntimeFailure;
    }
    epoll_event gev{};
    gev.events = EPOLLIN;
    gev.data.fd = gateway_->event_fd();
    ::epoll_ctl(ep_, EPOLL_CTL_ADD, gateway_->event_fd(), &gev);
    rest = " rest=http://127.0.0.1:" + std::to_string(gateway_->port());
  }
  // Over TLS the host is the name the certificate is issued to, so clients verify it as is.
  std::printf("shadow-exchange: listening on %s:%d%.*s%s\n",
              tls_ != nullptr ? "wss://localhost" : "ws://127.0.0.1", opt_.port,
              static_cast<int>(kExchangeResource.size()), kExchangeResource.data(), rest.c_str());
  std::fflush(stdout);

  // Timer pacing: timed waits of this thread expire within ~1 ns of their time, not the
  // default 50 us later (prctl(2) PR_SET_TIMERSLACK; per thread).
  if (opt_.pacing == Pacing::kTimer) ::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  const std::int64_t start_ns = monotonic_ns();
  if (market_ != nullptr) market_->start(start_ns);
  const std::int64_t deadline =
      opt_.duration > 0 ? start_ns + static_cast<std::int64_t>(opt_.duration * 1e9) : 0;
  const std::int64_t after_ns = static_cast<std::int64_t>(opt_.faults.disconnect_after_s * 1e9);
  // Replay at max speed never drops a slow client: backpressure paces it instead.
  const bool drop_slow = replay_ == nullptr || !opt_.speed_max;
  epoll_event events[64];
  while (!signals::stop_requested()) {
    const std::int64_t now = monotonic_ns();
    if (deadline != 0 && now >= deadline) break;
    if (stall_until_ns_ != 0 && now >= stall_until_ns_) stall_until_ns_ = 0;
    if (stall_until_ns_ == 0) {
      if (replay_ != nullptr) replay_->advance(now);
      else market_->advance(now);
    }
    if (private_ != nullptr) {
      private_->check_dcp(now);
      private_->flush();  // what fills by the model's flow (or the DCP) did to the accounts
    }
    if (replay_ != nullptr && replay_->done()) break;
    serve_clients(now, after_ns, drop_slow);
    if (fanout_.stall_requested() && stall_until_ns_ == 0) start_stall();
    reap();
    const int n = wait_events(events, 64, wait_ns(monotonic_ns(), deadline));
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == listen_fd_) {
        accept_clients();
        continue;
      }
      if (gateway_ != nullptr && fd == gateway_->event_fd()) {
        // Orders change the books: publish at once, as a venue shows an order when it rests.
        if (gateway_->drain() != 0) market_->flush_now();
        private_->flush();
        if (truth_ != nullptr) truth_->flush();
        continue;
      }
      const auto it = clients_.find(fd);
      if (it == clients_.end() || it->second->fd < 0) continue;
      ClientSession& c = *it->second;
      if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable(c);
      if (c.fd >= 0 && (events[i].events & EPOLLOUT)) write_out(c);
    }
    reap();
  }

  if (gateway_ != nullptr) {
    gateway_->stop();
    if (truth_ != nullptr) truth_->flush();
  }
  const bool replay_ended = replay_ != nullptr && replay_->done();
  if (replay_ended) shut_down(1000, "end of replay", 2000 * kMs);
  else shut_down(1001, "shutdown", 500 * kMs);
  ::close(listen_fd_);
  ::close(ep_);
  listen_fd_ = ep_ = -1;
  std::fprintf(stderr,
               "shadow-exchange: stopped: events=%llu clients=%llu rejected=%llu "
               "slow_disconnects=%llu protocol_errors=%llu frames_out=%llu\n",
               static_cast<unsigned long long>(replay_ != nullptr ? replay_->source().lines()
                                                                  : market_->events()),
               static_cast<unsigned long long>(counters_.accepted),
               static_cast<unsigned long long>(counters_.rejected),
               static_cast<unsigned long long>(counters_.slow_dropped),
               static_cast<unsigned long long>(counters_.protocol_errors),
               static_cast<unsigned long long>(counters_.frames_out));
  std::fprintf(stderr, "shadow-exchange: faults: %s\n", faults_.summary().c_str());
  if (service_ != nullptr) {
    std::fprintf(stderr,
                 "shadow-exchange: sandbox: requests=%llu rate_limited=%llu executions=%llu pushes=%llu "
                 "dcp_cancels=%llu ground_truth_lines=%llu\n",
                 static_cast<unsigned long long>(service_->requests()),
                 static_cast<unsigned long long>(service_->rate_limited()),
                 static_cast<unsigned long long>(venue_->executions_total()),
                 static_cast<unsigned long long>(private_->pushes()),
                 static_cast<unsigned long long>(private_->dcp_cancels()),
                 static_cast<unsigned long long>(truth_ != nullptr ? truth_->lines() : 0));
  }
  if (replay_ != nullptr && !replay_->source().error().empty()) {
    std::fprintf(stderr, "shadow-exchange: replay stopped: %s\n", replay_->source().error().c_str());
    return kExitRuntimeFailure;
  }
  return kExitOk;
}

int run_exchange(const ExchangeOptions& opt) {
  try {
    // Problems with the inputs and outputs show before the server listens (exit 2, bad input).
    std::unique_ptr<ReplaySource> replay;
    std::string err;
    if (!opt.replay.empty()) {
      replay = std::make_unique<ReplaySource>();
      if (!replay->validate(opt.replay, err)) {
        std::fprintf(stderr, "shadow-exchange: bad --replay capture: %s\n", err.c_str());
        return kExitBadInput;
      }
    }
    std::unique_ptr<SendLog> send_log;
    if (!opt.send_log.empty()) {
      send_log = std::make_unique<SendLog>();
      if (!send_log->open(opt.send_log, err)) {
        std::fprintf(stderr, "shadow-exchange: --send-log: %s\n", err.c_str());
        return kExitBadInput;
      }
      // Room for every message of a --duration run (at most one delta per event), capped at
      // 8M records (256 MiB); beyond that chunks of 64Ki records are added as needed.
      const double expected = opt.duration > 0 ? opt.rate * opt.duration * 1.05 + 1024 : 1 << 20;
      send_log->reserve(static_cast<std::size_t>(std::min(expected, 8.0 * (1 << 20))));
    }
    std::unique_ptr<TlsContext> tls;
    if (!opt.tls_cert.empty() && (tls = make_server_tls(opt, err)) == nullptr) {
      std::fprintf(stderr, "shadow-exchange: %s\n", err.c_str());
      return kExitBadInput;
    }
    SandboxAccounts accounts;
    SandboxGroundTruth truth;
    if (opt.rest_port >= 0) {
      if (replay) {
        std::fprintf(stderr, "shadow-exchange: --rest-port: the sandbox trades on the order-flow model, not on a --replay\n");
        return kExitBadInput;
      }
      const bool loaded = opt.accounts_file.empty() ? sandbox_accounts_from_env(accounts, err)
                                                    : load_sandbox_accounts(opt.accounts_file, accounts, err);
      if (!loaded) {
        std::fprintf(stderr, "shadow-exchange: %s%s\n", opt.accounts_file.empty() ? "" : "--accounts: ", err.c_str());
        return kExitBadInput;
      }
      if (!opt.ground_truth.empty() && !truth.open(opt.ground_truth, err)) {
        std::fprintf(stderr, "shadow-exchange: --ground-truth %s: %s\n", opt.ground_truth.c_str(), err.c_str());
        return kExitBadInput;
      }
    }
    int rc;
    {
      ExchangeServer server(opt, replay.get(), send_log.get(), tls.get());
      if (opt.rest_port >= 0) server.enable_sandbox(accounts, truth.is_open() ? &truth : nullptr);
      rc = server.run();
    }
    if (send_log) {
      std::size_t n = 0;
      if (!send_log->finish(err, &n)) {
        std::fprintf(stderr, "shadow-exchange: --send-log: %s\n", err.c_str());
        return kExitRuntimeFailure;  // disk full, I/O error
      }
      std::fprintf(stderr, "shadow-exchange: send-log: %zu records to %s\n", n, opt.send_log.c_str());
    }
    return rc;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "shadow-exchange: %s\n", e.what());
    return kExitRuntimeFailure;
  }
}

}  // namespace shadow
