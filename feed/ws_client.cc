#include "feed/ws_client.h"

#include <time.h>

#include <cstring>

namespace shadow {
namespace {

std::int64_t mono_ms() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

}  // namespace

std::string_view to_string(WsCloseKind k) noexcept {
  switch (k) {
    case WsCloseKind::kClean: return "clean close";
    case WsCloseKind::kProtocolError: return "protocol error";
    case WsCloseKind::kConnectionLost: return "connection lost";
    case WsCloseKind::kAborted: return "aborted";
  }
  return "unknown";
}

WsClient::WsClient(const WsClientOptions& opts)
    : opts_(opts),
      reader_(opts.reader),
      deframer_(opts.max_message),
      pending_(opts.reader.buffer_size + kWsPadding + 64) {}

void WsClient::HandshakeSink::on_data(const char* p, std::size_t n, std::int64_t ts) {
  WsClient& c = *this->c;
  if (!c.hs_error_.empty()) return;
  if (c.hs_done_) {  // more completions reaped in the same poll() as the 101: frames, keep them
    c.keep_pending(p, n, ts);
    return;
  }
  std::size_t used = 0;
  const WsHandshakeStatus st = c.hs_->parse(p, n, used);
  if (st == WsHandshakeStatus::kNeedMore) return;
  if (st != WsHandshakeStatus::kDone) {
    c.hs_error_ = "WebSocket handshake failed (" + std::string(to_string(st)) + "): " +
                  c.hs_->error();
    return;
  }
  c.hs_done_ = true;
  // Frames may follow the 101 in the same read (§4.1): keep them for the first poll().
  c.keep_pending(p + used, n - used, ts);
}

void WsClient::keep_pending(const char* p, std::size_t n, std::int64_t ts) {
  if (n == 0) return;
  if (pending_len_ + n + kWsPadding > pending_.size()) pending_.resize(pending_len_ + n + kWsPadding);
  std::memcpy(pending_.data() + pending_len_, p, n);
  pending_len_ += n;
  pending_ts_ = ts;
}

void WsClient::HandshakeSink::on_closed(std::string_view why) {
  WsClient& c = *this->c;
  if (c.hs_done_) {
    c.lost_after_handshake_ = true;
    return;
  }
  if (c.hs_error_.empty()) {
    c.hs_error_ = "WebSocket handshake failed: " + std::string(why) + " before the 101 response";
  }
}

namespace {

// Ciphertext of the TLS handshake, straight into the session's input BIO.
struct TlsHandshakeSink {
  TlsSession* tls;
  std::string* lost;
  void on_data(const char* p, std::size_t n, std::int64_t) {
    if (!tls->put_ciphertext(p, n)) *lost = tls->error();
  }
  void on_closed(std::string_view why) { lost->assign(why); }
};

}  // namespace

bool WsClient::start_tls(const std::string& host, std::int64_t deadline_ms, std::string& error) {
  if (!tls_ctx_) {
    tls_ctx_ = TlsContext::client(opts_.tls, error);
    if (!tls_ctx_) return false;
    plain_.assign(opts_.reader.buffer_size + kWsPadding, 0);
    cipher_out_.assign(16 * 1024 + 512, 0);  // one TLS record and its overhead
  }
  if (!tls_.start_client(*tls_ctx_, host, error)) return false;
  std::string lost;
  TlsHandshakeSink sink{&tls_, &lost};
  for (;;) {
    const TlsStatus st = tls_.handshake();
    if (!flush_tls()) {
      error = std::string("TLS handshake failed: sending: ") + std::strerror(errno);
      return false;
    }
    if (st == TlsStatus::kOk) return true;
    if (st != TlsStatus::kWantMore) {
      error = tls_.error();
      return false;
    }
    // Checked only now: an alert that came with the close explains more than the close does.
    if (!lost.empty() || !reader_.is_open()) {
      error = "TLS handshake failed: " + (lost.empty() ? std::string("connection closed") : lost) +
              " before the handshake completed";
      return false;
    }
    if (mono_ms() > deadline_ms) {
      error = "TLS handshake timed out after " + std::to_string(opts_.handshake_timeout_ms) + " ms";
      return false;
    }
    reader_.poll(sink);
  }
}

bool WsClient::flush_tls() noexcept {
  while (tls_.pending_ciphertext() > 0) {
    const std::size_t n = tls_.take_ciphertext(cipher_out_.data(), cipher_out_.size());
    if (n == 0 || !reader_.send(cipher_out_.data(), n)) return false;
  }
  return true;
}

bool WsClient::transmit(const char* p, std::size_t n) noexcept {
  if (!secure_) return reader_.send(p, n);
  return tls_.write(p, n) && flush_tls();
}

void WsClient::drop() noexcept {
  if (secure_ && reader_.is_open()) {
    tls_.shutdown();  // close_notify (RFC 8446 §6.1), sent with what is queued
    flush_tls();
  }
  reader_.close();
}

bool WsClient::connect(std::string_view url, std::string& error) {
  abort();
  WsUrl u;
  if (!parse_ws_url(url, u, error)) return false;
  state_ = State::kHandshaking;
  deframer_.reset();
  pending_len_ = 0;
  lost_after_handshake_ = false;
  hs_done_ = false;
  hs_error_.clear();
  last_rx_mono_ns_ = 0;
  stats_ = {};
  secure_ = u.secure;
  tls_.reset();
  if (!reader_.connect(u.host, u.port, error)) {
    state_ = State::kClosed;
    return false;
  }
  const std::int64_t deadline = mono_ms() + opts_.handshake_timeout_ms;
  if (secure_ && !start_tls(u.host, deadline, error)) {
    reader_.close();
    tls_.reset();
    state_ = State::kClosed;
    return false;
  }
  WsHandshake hs(u);
  hs_ = &hs;
  bool ok = transmit(hs.request().data(), hs.request().size());
  if (!ok) hs_error_ = std::string("sending the upgrade request: ") + std::strerror(errno);
  HandshakeSink sink{this};
  while (ok && !hs_done_ && hs_error_.empty()) {
    if (!reader_.is_open()) {
      if (hs_error_.empty()) hs_error_ = "WebSocket handshake failed: connection closed";
      break;
    }
    poll_reader(sink);
    if (!hs_done_ && hs_error_.empty() && mono_ms() > deadline) {
      hs_error_ = "WebSocket handshake timed out after " +
                  std::to_string(opts_.handshake_timeout_ms) + " ms";
    }
  }
  hs_ = nullptr;
  if (!hs_done_) {
    error = hs_error_;
    reader_.close();
    state_ = State::kClosed;
    return false;
  }
  state_ = State::kOpen;
  if (lost_after_handshake_ && pending_len_ == 0 && reader_.is_open()) lost_after_handshake_ = false;
  return true;
}

bool WsClient::send_frame(WsOpcode op, const char* p, std::size_t n) {
  if (state_ != State::kOpen) return false;
  const std::size_t need = WsFramer::frame_size(n);
  if (send_buf_.size() < need) send_buf_.resize(need);
  const std::size_t fn = framer_.encode(op, p, n, send_buf_.data(), send_buf_.size());
  return fn > 0 && transmit(send_buf_.data(), fn);
}

bool WsClient::send_text(std::string_view payload) {
  return send_frame(WsOpcode::kText, payload.data(), payload.size());
}
bool WsClient::send_binary(std::string_view payload) {
  return send_frame(WsOpcode::kBinary, payload.data(), payload.size());
}
bool WsClient::send_ping(std::string_view payload) {
  if (payload.size() > 125) return false;
  return send_frame(WsOpcode::kPing, payload.data(), payload.size());
}

void WsClient::send_control(WsOpcode op, const char* p, std::size_t n) noexcept {
  char buf[WsFramer::kMaxHeader + 125];
  const std::size_t fn = framer_.encode(op, p, n, buf, sizeof buf);
  if (fn > 0) transmit(buf, fn);
}

bool WsClient::close(std::uint16_t code, std::string_view reason) {
  if (state_ != State::kOpen) return false;
  char buf[WsFramer::kMaxHeader + 125];
  const std::size_t fn = framer_.encode_close(code, reason, buf, sizeof buf);
  if (fn == 0 || !transmit(buf, fn)) return false;
  state_ = State::kClosing;
  return true;
}

void WsClient::fail(WsStatus st) noexcept {
  // §7.1.7: send a close (1009 for too big, else 1002) and drop the connection.
  char buf[WsFramer::kMaxHeader + 2];
  const std::size_t fn = framer_.encode_close(ws_close_code_for(st), {}, buf, sizeof buf);
  if (fn > 0 && state_ == State::kOpen) transmit(buf, fn);
  const std::string_view s = to_string(st);
  std::snprintf(why_, sizeof why_, "WebSocket protocol error: %.*s", static_cast<int>(s.size()),
                s.data());
  state_ = State::kClosed;
  drop();
}

void WsClient::abort() noexcept {
  reader_.close();
  if (state_ != State::kIdle) state_ = State::kClosed;
  pending_len_ = 0;
}

}  // namespace shadow
