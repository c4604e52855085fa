// The RFC 6455 opening handshake (§4) for both ends, without sockets.
//   client (§4.1): ws:// URL parsing, the HTTP/1.1 upgrade request, and an incremental parser
//                  that validates the server's response and its Sec-WebSocket-Accept.
//   server (§4.2): parsing and validating a client's upgrade request, the 101 response and
//                  the HTTP error responses (§4.2.2, §4.4).
// Both sides share base64, the accept computation and the header-field parsing. Runs once per
// connection, off the hot path, so it uses std::string freely.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace shadow {

// base64 (RFC 4648 §4, with '=' padding). decode refuses anything that is not canonical
// padded base64 (wrong length, stray characters, non-zero unused bits) and returns false.
std::string base64_encode(const void* data, std::size_t len);
bool base64_decode(std::string_view in, std::string& out);

// Sec-WebSocket-Accept for a Sec-WebSocket-Key (§4.2.2 step 5.4, §1.3):
// base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")).
std::string ws_accept_for_key(std::string_view key);

// ws://host[:port][/path][?query] and wss://... (§3). host may be a name, IPv4, or [IPv6];
// the port defaults to 80 (ws) or 443 (wss); the resource name (path + query) to "/".
// Fragments ('#') are refused as §3 requires.
struct WsUrl {
  std::string host;      // without brackets for IPv6
  std::uint16_t port = 80;
  std::string resource;  // "/path?query", never empty
  bool secure = false;   // wss://: TLS (feed/tls_session.h) under the WebSocket
};
// Returns false and sets `error` to a message naming the problem.
bool parse_ws_url(std::string_view url, WsUrl& out, std::string& error);

enum class WsHandshakeStatus : std::uint8_t {
  kDone = 0,       // 101 response verified; `used` bytes were the response
  kNeedMore,       // all bytes taken, headers incomplete
  kBadStatusLine,  // not "HTTP/1.1 101 ..."
  kBadHeader,      // a header line without ':', obsolete line folding, or too long a response
  kMissingHeader,  // Upgrade, Connection or Sec-WebSocket-Accept absent
  kBadUpgrade,     // Upgrade lacks "websocket" or Connection lacks "Upgrade" (§4.1 items 2, 3)
  kBadAccept,      // Sec-WebSocket-Accept is not the expected value (§4.1 item 4)
  kUnrequested,    // an extension or subprotocol we did not ask for (§4.1 items 5, 6)
};

// WsHandshake: one client handshake.
//
//   shadow::WsHandshake hs(url);                 // 16 random bytes from getrandom() (§4.1)
//   send(hs.request());
//   std::size_t used;
//   while ((st = hs.parse(buf, n, used)) == WsHandshakeStatus::kNeedMore) n = recv(buf);
//   if (st != kDone) fail(hs.error());
//   // bytes buf[used, n) are already WebSocket frames: feed them to WsDeframer.
class WsHandshake {
 public:
  explicit WsHandshake(const WsUrl& url);
  WsHandshake(const WsUrl& url, const std::array<std::uint8_t, 16>& nonce);  // tests

  // The GET request to send (§4.1: Host, Upgrade, Connection, Sec-WebSocket-Key,
  // Sec-WebSocket-Version: 13), ending with the empty line.
  const std::string& request() const noexcept { return request_; }
  const std::string& key() const noexcept { return key_; }
  const std::string& expected_accept() const noexcept { return accept_; }

  // Feed response bytes as they arrive. `used` = bytes of this chunk that belonged to the
  // response (the rest are frames). Once kDone or an error is returned, later calls repeat it
  // with used = 0. The response head may be at most 16 KiB.
  WsHandshakeStatus parse(const char* data, std::size_t len, std::size_t& used);

  // What was wrong, e.g. "Sec-WebSocket-Accept is 'x', expected 's3pP...'".
  const std::string& error() const noexcept { return error_; }
  // The HTTP status code of the response (0 until the status line is parsed).
  int status_code() const noexcept { return status_code_; }

  static constexpr std::size_t kMaxResponse = 16 * 1024;

 private:
  void build(const WsUrl& url, const std::array<std::uint8_t, 16>& nonce);
  WsHandshakeStatus verify(std::string_view head);
  WsHandshakeStatus fail(WsHandshakeStatus s, std::string msg);

  std::string request_;
  std::string key_;
  std::string accept_;
  std::string head_;   // response bytes gathered so far
  std::string error_;
  int status_code_ = 0;
  bool finished_ = false;
  WsHandshakeStatus result_ = WsHandshakeStatus::kNeedMore;
};

std::string_view to_string(WsHandshakeStatus s) noexcept;

// --- server side (§4.2) ----------------------------------------------------------------------

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
// (ws_accept_for_key(key)), ending with the empty line (§4.2.2 step 5).
std::string ws_upgrade_response(std::string_view key);

// An error response with the reason as a text/plain body and "Connection: close"; a 400 for a
// wrong version also carries "Sec-WebSocket-Version: 13" (§4.4).
std::string ws_http_error(int status, std::string_view reason);

}  // namespace shadow
