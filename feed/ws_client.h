// WsClient: an RFC 6455 client connection over UringReader — opening handshake, deframing,
// automatic pongs, close handshake. Reconnect policy lives above it (FeedSession,
// ReconnectPolicy); the client is restartable: connect() again after it closed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/stage_timing.h"
#include "core/tsc.h"
#include "feed/tls_session.h"
#include "feed/uring_reader.h"
#include "feed/websocket_frame.h"
#include "feed/websocket_handshake.h"

namespace shadow {

// One complete text or binary message. Readable up to data + capacity (capacity >= len +
// kWsPadding, simdjson's padding). Valid only during the on_message() call.
struct WsClientMessage {
  WsOpcode op = WsOpcode::kText;
  const char* data = nullptr;
  std::size_t len = 0;
  std::size_t capacity = 0;
  std::int64_t recv_mono_ns = 0;  // when the completion carrying its last byte was reaped
  FeedStamps stamps;              // the per-stage breakdown's stamps (sampled messages only)
  std::string_view view() const noexcept { return {data, len}; }
};

enum class WsCloseKind : std::uint8_t {
  kClean,           // close frames exchanged (§7.1.1); code/reason are the server's
  kProtocolError,   // the deframer failed the connection (§7.1.7); we sent close 1002/1009
  kConnectionLost,  // EOF or a socket error without a close frame (§7.1.5: code 1006)
  kAborted,         // abort() by us
};
std::string_view to_string(WsCloseKind k) noexcept;

struct WsCloseInfo {
  WsCloseKind kind = WsCloseKind::kClean;
  std::uint16_t code = 1006;  // close code received (kClean), else 1006 / the code we sent
  std::string_view reason;    // server's reason (kClean) or our description of what happened
};

struct WsClientOptions {
  UringReaderOptions reader;
  std::size_t max_message = std::size_t{1} << 20;  // WsDeframer reassembly limit
  int handshake_timeout_ms = 5000;                 // TLS + WebSocket handshakes together
  TlsOptions tls;                                  // wss:// only: CA file, skip-verify
};

struct WsClientStats {
  std::uint64_t messages = 0;      // text + binary delivered
  std::uint64_t pings = 0;         // pings answered
  std::uint64_t pongs = 0;         // pongs received
  std::uint64_t bytes_copied = 0;  // deframer copies (split frames, fragments)
};

// WsClient.
//
//   shadow::WsClient c(opts);                        // allocates here (buffers, deframer)
//   if (!c.connect("wss://stream.bybit.com/v5/public/linear", err)) die(err);
//   c.send_text(R"({"op":"subscribe","args":["orderbook.50.BTCUSDT"]})");
//   while (c.is_open()) c.poll(handler);
//
// Handler: `void on_message(const shadow::WsClientMessage&)` for each text/binary message, in
// order; `void on_closed(const shadow::WsCloseInfo&)` once when the connection ends.
// Pings are answered inside poll() (§5.5.2); a server close is echoed and the socket closed
// (§5.5.1). connect() blocks until the handshake is done (or fails with an error naming the
// cause, e.g. the server's status line or the TLS verification result). Not thread-safe: one
// thread owns the client.
//
// wss://: TLS runs on the same io_uring path (feed/tls_session.h): the reader keeps receiving
// ciphertext into its buffer ring, poll() decrypts each chunk into one plaintext buffer and the
// deframer reads that exactly as it reads a ws:// chunk; frames we send are encrypted and leave
// through the reader's io_uring send. The SSL context is built at the first wss:// connect;
// after the handshake nothing allocates.
class WsClient {
 public:
  explicit WsClient(const WsClientOptions& opts = {});

  bool connect(std::string_view url, std::string& error);

  template <class Handler>
  int poll(Handler& h) noexcept;

  // Sends one text frame (masked, §5.3). False when not open or the send failed.
  bool send_text(std::string_view payload);
  bool send_binary(std::string_view payload);
  bool send_ping(std::string_view payload = {});

  // Starts the close handshake (§7.1.2): sends close(code, reason); keep polling until
  // on_closed() reports the server's close.
  bool close(std::uint16_t code = 1000, std::string_view reason = {});
  // Drops the connection without a close handshake; no callback.
  void abort() noexcept;

  bool is_open() const noexcept { return state_ == State::kOpen || state_ == State::kClosing; }
  const UringReader& reader() const noexcept { return reader_; }
  // The connection runs TLS (wss://); its protocol version and cipher.
  bool secure() const noexcept { return secure_; }
  const TlsSession& tls() const noexcept { return tls_; }
  // CLOCK_MONOTONIC of the last completion that brought bytes on this connection (frames of any
  // kind, pings included): what a heartbeat timeout watches. 0 before the first byte.
  std::int64_t last_rx_mono_ns() const noexcept { return last_rx_mono_ns_; }
  const WsClientStats& stats() const noexcept { return stats_; }

 private:
  enum class State : std::uint8_t { kIdle, kHandshaking, kOpen, kClosing, kClosed };

  template <class Handler>
  struct Adapter {
    WsClient* c;
    Handler* h;
    void on_data(const char* p, std::size_t n, std::int64_t ts) noexcept { c->on_bytes(p, n, ts, *h); }
    void on_closed(std::string_view why) noexcept { c->on_lost(why, *h); }
  };
  struct HandshakeSink {
    WsClient* c;
    void on_data(const char* p, std::size_t n, std::int64_t ts);
    void on_closed(std::string_view why);
  };
  // wss://: between the reader and any sink above (Adapter, HandshakeSink): ciphertext in,
  // plaintext out.
  template <class Sink>
  struct TlsFilter {
    WsClient* c;
    Sink* s;
    void on_data(const char* p, std::size_t n, std::int64_t ts) { c->decrypt(p, n, ts, *s); }
    void on_closed(std::string_view why) { s->on_closed(why); }
  };
  template <class Sink>
  int poll_reader(Sink& s) {
    if (!secure_) return reader_.poll(s);
    TlsFilter<Sink> f{this, &s};
    return reader_.poll(f);
  }
  template <class Sink>
  void decrypt(const char* p, std::size_t n, std::int64_t ts, Sink& s);
  bool start_tls(const std::string& host, std::int64_t deadline_ms, std::string& error);
  bool flush_tls() noexcept;                               // pending ciphertext -> reader send
  bool transmit(const char* p, std::size_t n) noexcept;    // plaintext or through TLS
  void drop() noexcept;                                    // close_notify (TLS) + close socket

  template <class Handler>
  void on_bytes(const char* p, std::size_t n, std::int64_t ts, Handler& h) noexcept;
  template <class Handler>
  void on_lost(std::string_view why, Handler& h) noexcept;

  void keep_pending(const char* p, std::size_t n, std::int64_t ts);  // connect() only: allocates
  bool send_frame(WsOpcode op, const char* p, std::size_t n);
  void send_control(WsOpcode op, const char* p, std::size_t n) noexcept;
  void fail(WsStatus st) noexcept;  // close 1002/1009 and drop the socket

  WsClientOptions opts_;
  UringReader reader_;
  WsDeframer deframer_;
  WsFramer framer_;
  State state_ = State::kIdle;
  WsHandshake* hs_ = nullptr;           // during connect() only
  std::string hs_error_;
  bool hs_done_ = false;
  std::vector<char> pending_;           // frames that arrived with the 101 response (+ padding)
  std::size_t pending_len_ = 0;
  std::int64_t pending_ts_ = 0;
  bool lost_after_handshake_ = false;   // EOF arrived in the same poll as the 101
  std::vector<char> send_buf_;
  char why_[320] = {};      // our description of an end
  char tls_why_[256] = {};  // a TLS error() that ended the connection (quoted into why_)
  bool secure_ = false;                 // this connection is wss://
  std::unique_ptr<TlsContext> tls_ctx_; // built at the first wss:// connect
  TlsSession tls_;
  std::vector<char> plain_;             // decrypted bytes of one chunk (+ kWsPadding)
  std::vector<char> cipher_out_;        // ciphertext on its way to the reader's send
  std::int64_t last_rx_mono_ns_ = 0;
  WsClientStats stats_;
};

template <class Handler>
int WsClient::poll(Handler& h) noexcept {
  if (!is_open()) return 0;
  int calls = 0;
  if (pending_len_ > 0) {
    const std::size_t n = pending_len_;
    pending_len_ = 0;
    on_bytes(pending_.data(), n, pending_ts_, h);
    ++calls;
  }
  if (!is_open()) return calls;
  if (lost_after_handshake_) {
    lost_after_handshake_ = false;
    on_lost("connection closed by peer", h);
    return calls + 1;
  }
  Adapter<Handler> a{this, &h};
  return calls + poll_reader(a);
}

template <class Sink>
void WsClient::decrypt(const char* p, std::size_t n, std::int64_t ts, Sink& s) {
  if (tls_.put_ciphertext(p, n)) {
    for (;;) {
      std::size_t got = 0;
      const TlsStatus st = tls_.read(plain_.data(), plain_.size() - kWsPadding, got);
      if (got > 0) {
        s.on_data(plain_.data(), got, ts);
        if (!reader_.is_open()) return;  // the sink closed or failed the connection
      }
      if (st == TlsStatus::kOk) continue;
      if (st == TlsStatus::kWantMore) {
        flush_tls();  // post-handshake messages (e.g. a KeyUpdate answer)
        return;
      }
      break;  // close_notify or a TLS error: the connection is over
    }
  }
  // Its own buffer: the sink's on_closed formats its message into why_ from this text.
  std::snprintf(tls_why_, sizeof tls_why_, "%s", tls_.error());
  reader_.close();
  s.on_closed(std::string_view(tls_why_));
}

template <class Handler>
void WsClient::on_bytes(const char* p, std::size_t n, std::int64_t ts, Handler& h) noexcept {
  if (state_ != State::kOpen && state_ != State::kClosing) return;
  last_rx_mono_ns_ = ts;
  deframer_.feed(p, n);
  // Stage stamps (core/stage_timing.h): a sampled message's start is the reap for the first
  // message of these bytes, else the end of the message before it (only read when sampled).
  const std::uint64_t reaped = reader_.reap_tsc();
  std::uint64_t start = reaped;
  WsMessage m;
  WsStatus st;
  while ((st = deframer_.next(m)) == WsStatus::kMessage) {
    switch (m.op) {
      case WsOpcode::kText:
      case WsOpcode::kBinary: {
        WsClientMessage out;
        out.op = m.op;
        out.data = m.data;
        out.len = m.len;
        // A view has the rest of the recv buffer plus its padding after it.
        out.capacity = m.copied ? m.len + kWsPadding
                                : static_cast<std::size_t>(p + n - m.data) + kWsPadding;
        out.recv_mono_ns = ts;
        const bool sampled = reaped != 0 && stage_sampled(stats_.messages);
        ++stats_.messages;
        if (sampled) out.stamps = FeedStamps{reaped, start, tsc_now()};
        h.on_message(out);
        if (!is_open()) return;  // the handler aborted
        if (stage_sampled(stats_.messages)) start = tsc_now();
        break;
      }
      case WsOpcode::kPing:
        ++stats_.pings;
        send_control(WsOpcode::kPong, m.data, m.len);  // same payload (§5.5.3)
        break;
      case WsOpcode::kPong:
        ++stats_.pongs;
        break;
      case WsOpcode::kClose: {
        // §5.5.1: echo the close (unless we started it), then close the TCP connection.
        if (state_ == State::kOpen) {
          char buf[WsFramer::kMaxHeader + 2];
          const std::size_t fn = framer_.encode_close(m.close_code == 1005 ? 1000 : m.close_code,
                                                      {}, buf, sizeof buf);
          if (fn > 0) transmit(buf, fn);
        }
        std::snprintf(why_, sizeof why_, "%.*s", static_cast<int>(m.len < 123 ? m.len : 123),
                      m.data);
        const std::uint16_t code = m.close_code;
        state_ = State::kClosed;
        drop();
        stats_.bytes_copied = deframer_.bytes_copied();
        h.on_closed(WsCloseInfo{WsCloseKind::kClean, code, std::string_view(why_)});
        return;
      }
      default:
        break;
    }
  }
  stats_.bytes_copied = deframer_.bytes_copied();
  if (is_error(st)) {
    fail(st);
    h.on_closed(WsCloseInfo{WsCloseKind::kProtocolError, ws_close_code_for(st),
                            std::string_view(why_)});
  }
}

template <class Handler>
void WsClient::on_lost(std::string_view why, Handler& h) noexcept {
  if (state_ != State::kOpen && state_ != State::kClosing) return;
  state_ = State::kClosed;
  std::snprintf(why_, sizeof why_, "connection lost without a close frame: %.*s",
                static_cast<int>(why.size()), why.data());
  h.on_closed(WsCloseInfo{WsCloseKind::kConnectionLost, 1006, std::string_view(why_)});
}

}  // namespace shadow
