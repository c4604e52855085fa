// The embedded exchange's side of RFC 6455: the server pieces of feed/'s one WebSocket
// implementation, in the shape the exchange's event loop uses them.
//
//   handshake (§4.2): parse_ws_upgrade, ws_upgrade_response, ws_http_error, WsUpgradeRequest,
//                     WsUpgradeStatus: declared in feed/websocket_handshake.h (included here).
//   frames out (§5.1: "a server MUST NOT mask any frames"): ws_append_server_frame and friends,
//                     over WsServerFramer (feed/websocket_frame.h).
//   frames in:        WsServerDeframer, over BasicWsDeframer<WsRole::kServer>, which requires
//                     masked client frames and unmasks them.
//
// Used by shadow-exchange. Off the hot path of the trading pipeline: client requests are rare
// and small, so the deframer keeps the bytes fed to it in a std::string until it has parsed
// them, and server frames are appended to a std::string.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "feed/websocket_frame.h"
#include "feed/websocket_handshake.h"

namespace shadow {

// Server frames (never masked). Header sizes: 2 bytes for payloads <= 125, 4 up to 65535,
// 10 above (§5.2, minimal length encoding).
inline constexpr std::size_t kWsServerMaxHeader = WsServerFramer::kMaxHeader;
constexpr std::size_t ws_server_frame_size(std::size_t len) noexcept {
  return WsServerFramer::frame_size(len);
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
//   d.feed(buf, n);                            // copied: buf may be reused right away
//   shadow::WsMessage m;
//   while ((st = d.next(m)) == shadow::WsServerDeframer::kMessage) handle(m);
//   if (st == shadow::WsServerDeframer::kError) fail(d.close_code(), d.error());
//
// A message is valid until the next feed()/next(). Errors are sticky. After a close frame has
// been delivered, next() returns kClosed and ignores later bytes.
class WsServerDeframer {
 public:
  enum Status : std::uint8_t { kMessage = 0, kNeedMore, kClosed, kError };

  explicit WsServerDeframer(std::size_t max_message = 64 * 1024) : frames_(max_message) {}

  void feed(const char* data, std::size_t len) { pending_.append(data, len); }
  Status next(WsMessage& msg);

  // After kError: what went wrong, and the close code to send (1002 protocol error, 1009
  // message too big; §7.4.1).
  const std::string& error() const noexcept { return error_; }
  std::uint16_t close_code() const noexcept { return close_code_; }
  // Bytes received but not parsed yet.
  std::size_t buffered() const noexcept { return pending_.size() + frames_.unparsed(); }

 private:
  BasicWsDeframer<WsRole::kServer> frames_;
  std::string chunk_;    // the bytes frames_ is parsing (it keeps a view of them)
  std::string pending_;  // bytes fed since
  std::string error_;
  std::uint16_t close_code_ = 0;
};

}  // namespace shadow
