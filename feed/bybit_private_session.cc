#include "feed/bybit_private_session.h"

#include <chrono>
#include <thread>

#include "core/clock.h"

namespace shadow {
namespace {

// Handler for the auth exchange: no topic is subscribed yet, so only op answers can come.
struct IgnoreItems {
  void on_order(const BybitOrderUpdate&) {}
  void on_execution(const BybitExecution&) {}
};

}  // namespace

BybitPrivateSession::BybitPrivateSession(BybitPrivateSessionOptions opts) : opts_(std::move(opts)), ws_(opts_.ws) {}

BybitPrivateSession::~BybitPrivateSession() { close(); }

void BybitPrivateSession::close() noexcept {
  if (ws_.is_open()) ws_.abort();
}

void BybitPrivateSession::on_op(const BybitOpAnswer& a) {
  if (a.op == "auth") {
    authed_ = a.success;
    if (!a.success) {
      auth_failed_ = true;
      op_error_.assign("auth refused: ").append(a.ret_msg.substr(0, 200));
    }
  } else if (a.op == "subscribe") {
    subscribed_ = a.success;
    if (!a.success) {
      op_error_.assign("subscribe refused: ").append(a.ret_msg.substr(0, 200));
      lost_ = op_error_;
      ws_.abort();
    }
  }
}

bool BybitPrivateSession::open(std::string_view url, std::string_view api_key, std::string_view api_secret,
                               std::string& error) {
  close();
  authed_ = subscribed_ = auth_failed_ = false;
  op_error_.clear();
  lost_.clear();
  if (!ws_.connect(url, error)) return false;
  const std::int64_t deadline = monotonic_ns() + std::int64_t{opts_.timeout_ms} * 1'000'000;
  // Bybit: expires in ms, a little in the future (the venue refuses an expired request).
  const std::int64_t expires = realtime_ns() / 1'000'000 + 10'000;
  if (!ws_.send_text(bybit_private_auth_request(api_key, api_secret, expires))) {
    error = "private stream: cannot send the auth request";
    close();
    return false;
  }
  IgnoreItems ignore;
  while (!authed_ && op_error_.empty() && ws_.is_open() && monotonic_ns() < deadline) {
    if (poll(ignore, monotonic_ns()) == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  if (!authed_) {
    error = !op_error_.empty() ? "private stream: " + op_error_
            : !ws_.is_open()   ? "private stream: connection lost during auth (" + lost_ + ")"
                               : "private stream: no auth answer within " + std::to_string(opts_.timeout_ms) + " ms";
    close();
    return false;
  }
  // The subscribe answer is read by poll(): whatever follows it reaches the owner's handler.
  if (!ws_.send_text(bybit_private_subscribe_request())) {
    error = "private stream: cannot send the subscribe request";
    close();
    return false;
  }
  last_ping_ns_ = monotonic_ns();
  ++stats_.opens;
  return true;
}

void BybitPrivateSession::heartbeat(std::int64_t now_mono_ns) {
  if (!ws_.is_open()) return;
  if (now_mono_ns - last_ping_ns_ >= opts_.ping_interval_ns) {
    last_ping_ns_ = now_mono_ns;
    (void)ws_.send_text(bybit_ping_request());
  }
  const std::int64_t rx = ws_.last_rx_mono_ns();
  if (rx != 0 && now_mono_ns - rx > opts_.silence_timeout_ns) {
    lost_ = "nothing received for " + std::to_string(opts_.silence_timeout_ns / 1'000'000'000) + " s";
    ws_.abort();
  }
}

}  // namespace shadow
