// RFC 6455 §4.2 opening handshake, the server side: reading a client's upgrade request and
// the responses to it. See websocket_handshake.h.
#include "feed/websocket_handshake.h"

#include <string>
#include <string_view>
#include <utility>

#include "feed/internal/http_fields.h"

namespace shadow {

using namespace feed_internal;  // http_fields.h: iequals, has_token, for_each_field

namespace {

const char* reason_phrase(int status) noexcept {
  switch (status) {
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 426: return "Upgrade Required";
    case 431: return "Request Header Fields Too Large";
    default: return "Error";
  }
}

}  // namespace

WsUpgradeStatus parse_ws_upgrade(std::string_view buf, std::string_view expected_resource,
                                 WsUpgradeRequest& out, std::size_t& used, int& status,
                                 std::string& error) {
  used = 0;
  auto bad = [&](int code, std::string msg) {
    status = code;
    error = std::move(msg);
    return WsUpgradeStatus::kBad;
  };
  const std::size_t end = buf.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (buf.size() > kMaxUpgradeHead) return bad(431, "request head over 16 KiB");
    return WsUpgradeStatus::kNeedMore;
  }
  if (end + 4 > kMaxUpgradeHead) return bad(431, "request head over 16 KiB");
  std::string_view head = buf.substr(0, end + 2);  // every line ends with CRLF

  // Request line (§4.2.1 item 1; RFC 7230 §3.1.1): GET <target> HTTP/1.1
  const std::size_t eol = head.find("\r\n");
  const std::string_view line = head.substr(0, eol);
  head.remove_prefix(eol + 2);
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    return bad(400, "malformed request line");
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (method != "GET") return bad(405, "method must be GET, not '" + std::string(method) + "'");
  if (version != "HTTP/1.1")
    return bad(400, "HTTP version must be HTTP/1.1, not '" + std::string(version) + "'");
  if (target.empty() || target.front() != '/') return bad(400, "request target must be a path");

  std::string_view host, upgrade, connection, key, ws_version;
  bool have_host = false, have_upgrade = false, have_connection = false, have_key = false,
       have_version = false;
  std::string_view bad_line;
  const FieldError fe = for_each_field(head, [&](std::string_view name, std::string_view value) {
    if (iequals(name, "Host")) host = value, have_host = true;
    else if (iequals(name, "Upgrade")) upgrade = value, have_upgrade = true;
    else if (iequals(name, "Connection")) connection = value, have_connection = true;
    else if (iequals(name, "Sec-WebSocket-Key")) key = value, have_key = true;
    else if (iequals(name, "Sec-WebSocket-Version")) ws_version = value, have_version = true;
    return true;
  }, bad_line);
  if (fe == FieldError::kFolded) return bad(400, "obsolete header line folding");
  if (fe == FieldError::kNoName) return bad(400, "header line without a name and ':'");
  // §4.2.1 items 2-6.
  if (!have_host || host.empty()) return bad(400, "missing Host header");
  if (!have_upgrade || !has_token(upgrade, "websocket"))
    return bad(400, "Upgrade header must contain 'websocket'");
  if (!have_connection || !has_token(connection, "Upgrade"))
    return bad(400, "Connection header must contain 'Upgrade'");
  if (!have_version || ws_version != "13")
    return bad(400, "Sec-WebSocket-Version must be 13");
  std::string nonce;
  if (!have_key || !base64_decode(key, nonce) || nonce.size() != 16)
    return bad(400, "Sec-WebSocket-Key must be base64 of 16 bytes");
  if (!expected_resource.empty() && target != expected_resource)
    return bad(404, "no WebSocket endpoint at '" + std::string(target) + "'; use " +
                        std::string(expected_resource));
  out.resource.assign(target);
  out.key.assign(key);
  used = end + 4;
  return WsUpgradeStatus::kDone;
}

std::string ws_upgrade_response(std::string_view key) {
  std::string r =
      "HTTP/1.1 101 Switching Protocols\r\n"
      "Upgrade: websocket\r\n"
      "Connection: Upgrade\r\n"
      "Sec-WebSocket-Accept: ";
  r += ws_accept_for_key(key);
  r += "\r\n\r\n";
  return r;
}

std::string ws_http_error(int status, std::string_view reason) {
  std::string body(reason);
  body += '\n';
  std::string r = "HTTP/1.1 " + std::to_string(status) + ' ' + reason_phrase(status) + "\r\n";
  if (status == 400 && reason.find("Sec-WebSocket-Version") != std::string_view::npos)
    r += "Sec-WebSocket-Version: 13\r\n";  // §4.4: name the version the server speaks
  r += "Content-Type: text/plain\r\nConnection: close\r\nContent-Length: ";
  r += std::to_string(body.size());
  r += "\r\n\r\n";
  r += body;
  return r;
}

}  // namespace shadow
