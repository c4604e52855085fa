// The server side of RFC 6455 without sockets: parsing and validating a client's HTTP/1.1
// upgrade request (§4.2.1), the 101 / error responses (§4.2.2, §4.4), unmasked server frames
// (§5.1: "a server MUST NOT mask any frames"), and WsServerDeframer, which parses the client's
// frames and unmasks them (§5.1: a client frame without the MASK bit fails the connection).
//
// Used by tools/shadow-exchange (the embedded exchange's WebSocket server). The client's side
// of the same protocol is in websocket_frame.h / websocket_handshake.h; the shared pieces
// (WsOpcode, WsMessage, ws_mask, ws_accept_for_key) are reused from there.
//
// Off the hot path of the trading pipeline: client requests are rare and small, so the
// deframer owns a std::string buffer and copies (unmasking needs a writable copy anyway).
// Server frames are built into the caller's buffer with no allocation beyond its growth.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "feed/websocket_frame.h"

namespace shadow {

// What an upgrade request asked for (only what the server needs).
struct WsUpgradeRequest {
  std::string resource;  // "/v5/public/linear" (the request target, query included)
  std::string key;       // Sec-WebSocket-Key, as sent (base64 of 16 bytes)
};

enum class WsUpgradeStatus : std::uint8_t {
  kDone = 0,   // a valid upgrade request; `used` bytes were the request head
  kNeedMore,   // no complete head yet (all bytes kept by the caller)
  kBad,        // answer with ws_http_error(status, error) and close
};

// Parses the request head in buf (the bytes received so far). On kDone: out is filled and
// `used` is the head's length (bytes after it are already frames). On kBad: `status` is the
// HTTP status to answer (400, 404 for another resource than `expected_resource` when that is
// not empty, 405 for a method other than GET, 431 for a head over kMaxUpgradeHead) and `error`
// the reason. Checks (§4.2.1): "GET <target> HTTP/1.1", Host present, Upgrade containing the
// token "websocket", Connection containing the token "Upgrade" (case-insensitive), a
// Sec-WebSocket-Key that is base64 of 16 bytes, Sec-WebSocket-Version: 13.
inline constexpr std::size_t kMaxUpgradeHead = 16 * 1024;
WsUpgradeStatus parse_ws_upgrade(std::string_view buf, std::string_view expected_resource,
                                 WsUpgradeRequest& out, std::size_t& used, int& status,
                                 std::string& error);

// "HTTP/1.1 101 Switching Protocols" with Upgrade, Connection and Sec-WebSocket-Accept
// (ws_accept_for_key(key)), ending with the empty line.
std::string ws_upgrade_response(std::string_view key);

// An error response with the reason as a text/plain body and "Connection: close"; a 400 for a
// wrong version also carries "Sec-WebSocket-Version: 13" (§4.4).
std::string ws_http_error(int status, std::string_view reason);

// Server frames (never masked). Header sizes: 2 bytes for payloads <= 125, 4 up to 65535,
// 10 above (§5.2, minimal length encoding).
inline constexpr std::size_t kWsServerMaxHeader = 10;
constexpr std::size_t ws_server_frame_size(std::size_t len) noexcept {
  return len + (len <= 125 ? 2 : len <= 0xFFFF ? 4 : 10);
}
// Writes a FIN frame header for a `len`-byte payload into out (kWsServerMaxHeader bytes);
// returns its size.
std::size_t ws_server_frame_header(WsOpcode op, std::size_t len, char* out) noexcept;
// Appends a whole FIN frame to out. Control frames (close/ping/pong) must be <= 125 bytes
// (§5.5); a longer control payload is truncated to 125 bytes.
void ws_append_server_frame(std::string& out, WsOpcode op, std::string_view payload);
// Appends a close frame: status code (big-endian) + reason (truncated to 123 bytes).
void ws_append_server_close(std::string& out, std::uint16_t code, std::string_view reason);

// WsServerDeframer: the receive side of a server connection. Client frames must be masked;
// payloads are unmasked in the deframer's buffer. Fragmented messages (§5.4) are reassembled;
// control frames may come between fragments.
//
//   shadow::WsServerDeframer d(64 * 1024);
//   d.feed(buf, n);
//   shadow::WsMessage m;
//   while ((st = d.next(m)) == shadow::WsServerDeframer::kMessage) handle(m);
//   if (st == shadow::WsServerDeframer::kError) fail(d.close_code(), d.error());
//
// A message is valid until the next feed()/next(). Errors are sticky. After a close frame has
// been delivered, next() returns kClosed and ignores later bytes.
class WsServerDeframer {
 public:
  enum Status : std::uint8_t { kMessage = 0, kNeedMore, kClosed, kError };

  explicit WsServerDeframer(std::size_t max_message = 64 * 1024) : max_message_(max_message) {}

  void feed(const char* data, std::size_t len) { in_.append(data, len); }
  Status next(WsMessage& msg);

  // After kError: what went wrong, and the close code to send (1002 protocol error, 1009
  // message too big).
  const std::string& error() const noexcept { return error_; }
  std::uint16_t close_code() const noexcept { return close_code_; }
  // Bytes received but not parsed yet.
  std::size_t buffered() const noexcept { return in_.size() - pos_; }

 private:
  Status fail(std::uint16_t code, std::string msg) {
    close_code_ = code;
    error_ = std::move(msg);
    return status_ = kError;
  }

  std::size_t max_message_;
  std::string in_;        // received bytes; [pos_, size) unparsed
  std::size_t pos_ = 0;
  std::string msg_;       // a fragmented message being reassembled
  WsOpcode msg_op_ = WsOpcode::kText;
  bool fragmented_ = false;
  std::string out_;       // the message handed out last (unmasked copy)
  std::string error_;
  std::uint16_t close_code_ = 0;
  Status status_ = kMessage;  // kMessage = no sticky state
};

}  // namespace shadow
