#include "exchange/ws_server.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>

#include "feed/websocket_handshake.h"

namespace shadow {

namespace {

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// True when the comma-separated header value lists `token` (case-insensitive, §4.2.1).
bool has_token(std::string_view value, std::string_view token) noexcept {
  while (!value.empty()) {
    const std::size_t comma = value.find(',');
    const std::string_view item = trim(value.substr(0, comma));
    if (iequals(item, token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

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

// §7.4.1 / §7.4.2: codes a peer may send in a close frame.
bool valid_close_code(std::uint16_t c) noexcept {
  if (c >= 3000 && c <= 4999) return true;
  return (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014);
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

  // Request line: GET <target> HTTP/1.1
  std::size_t eol = head.find("\r\n");
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
  while (!head.empty()) {
    eol = head.find("\r\n");
    const std::string_view h = head.substr(0, eol);
    head.remove_prefix(eol + 2);
    if (h.front() == ' ' || h.front() == '\t') return bad(400, "obsolete header line folding");
    const std::size_t colon = h.find(':');
    if (colon == std::string_view::npos || colon == 0)
      return bad(400, "header line without a name and ':'");
    const std::string_view name = h.substr(0, colon);
    const std::string_view value = trim(h.substr(colon + 1));
    if (iequals(name, "Host")) host = value, have_host = true;
    else if (iequals(name, "Upgrade")) upgrade = value, have_upgrade = true;
    else if (iequals(name, "Connection")) connection = value, have_connection = true;
    else if (iequals(name, "Sec-WebSocket-Key")) key = value, have_key = true;
    else if (iequals(name, "Sec-WebSocket-Version")) ws_version = value, have_version = true;
  }
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
    r += "Sec-WebSocket-Version: 13\r\n";
  r += "Content-Type: text/plain\r\nConnection: close\r\nContent-Length: ";
  r += std::to_string(body.size());
  r += "\r\n\r\n";
  r += body;
  return r;
}

std::size_t ws_server_frame_header(WsOpcode op, std::size_t len, char* out) noexcept {
  auto* p = reinterpret_cast<unsigned char*>(out);
  p[0] = static_cast<unsigned char>(0x80u | static_cast<unsigned>(op));
  if (len <= 125) {
    p[1] = static_cast<unsigned char>(len);
    return 2;
  }
  if (len <= 0xFFFF) {
    p[1] = 126;
    p[2] = static_cast<unsigned char>(len >> 8);
    p[3] = static_cast<unsigned char>(len);
    return 4;
  }
  p[1] = 127;
  const auto v = static_cast<std::uint64_t>(len);
  for (int i = 0; i < 8; ++i) p[2 + i] = static_cast<unsigned char>(v >> (56 - 8 * i));
  return 10;
}

void ws_append_server_frame(std::string& out, WsOpcode op, std::string_view payload) {
  const bool control = static_cast<unsigned>(op) >= 0x8;
  if (control && payload.size() > 125) payload = payload.substr(0, 125);
  char hdr[kWsServerMaxHeader];
  const std::size_t n = ws_server_frame_header(op, payload.size(), hdr);
  out.append(hdr, n);
  out.append(payload);
}

void ws_append_server_close(std::string& out, std::uint16_t code, std::string_view reason) {
  char body[125];
  body[0] = static_cast<char>(code >> 8);
  body[1] = static_cast<char>(code & 0xFF);
  const std::size_t n = std::min<std::size_t>(reason.size(), 123);
  std::memcpy(body + 2, reason.data(), n);
  ws_append_server_frame(out, WsOpcode::kClose, std::string_view(body, n + 2));
}

WsServerDeframer::Status WsServerDeframer::next(WsMessage& msg) {
  if (status_ != kMessage) return status_;
  auto deliver = [&]() {
    msg = WsMessage{};
    msg.op = msg_op_;
    msg.data = out_.data();
    msg.len = out_.size();
    msg.copied = true;
    return kMessage;
  };
  for (;;) {
    const std::size_t avail = in_.size() - pos_;
    if (avail < 2) break;
    const auto* h = reinterpret_cast<const unsigned char*>(in_.data() + pos_);
    const bool fin = (h[0] & 0x80u) != 0;
    if ((h[0] & 0x70u) != 0) return fail(1002, "reserved bits set (RFC 6455 5.2)");
    const auto op = static_cast<WsOpcode>(h[0] & 0x0Fu);
    const bool masked = (h[1] & 0x80u) != 0;
    if (!masked) return fail(1002, "unmasked client frame (RFC 6455 5.1)");
    std::uint64_t len = h[1] & 0x7Fu;
    std::size_t hdr = 2;
    if (len == 126) {
      if (avail < 4) break;
      len = (std::uint64_t{h[2]} << 8) | h[3];
      if (len <= 125) return fail(1002, "non-minimal payload length (RFC 6455 5.2)");
      hdr = 4;
    } else if (len == 127) {
      if (avail < 10) break;
      len = 0;
      for (int i = 0; i < 8; ++i) len = (len << 8) | h[2 + i];
      if (len >> 63) return fail(1002, "64-bit length with the high bit set (RFC 6455 5.2)");
      if (len <= 0xFFFF) return fail(1002, "non-minimal payload length (RFC 6455 5.2)");
      hdr = 10;
    }
    const bool control = static_cast<unsigned>(op) >= 0x8;
    switch (op) {
      case WsOpcode::kContinuation:
      case WsOpcode::kText:
      case WsOpcode::kBinary:
      case WsOpcode::kClose:
      case WsOpcode::kPing:
      case WsOpcode::kPong:
        break;
      default:
        return fail(1002, "unknown opcode (RFC 6455 5.2)");
    }
    if (control && len > 125) return fail(1002, "control frame over 125 bytes (RFC 6455 5.5)");
    if (control && !fin) return fail(1002, "fragmented control frame (RFC 6455 5.5)");
    if (len > max_message_ || (op == WsOpcode::kContinuation && msg_.size() + len > max_message_))
      return fail(1009, "message too big");
    if (avail < hdr + 4 + len) break;  // wait for the whole frame

    std::array<std::uint8_t, 4> key{};
    std::memcpy(key.data(), h + hdr, 4);
    const std::size_t n = static_cast<std::size_t>(len);
    const std::size_t start = pos_ + hdr + 4;
    pos_ = start + n;

    if (control) {
      out_.assign(in_, start, n);
      ws_mask(out_.data(), n, key);
      msg = WsMessage{};
      msg.op = op;
      msg.copied = true;
      if (op == WsOpcode::kClose) {
        if (n == 1) return fail(1002, "close frame with a 1-byte payload (RFC 6455 5.5.1)");
        if (n == 0) {
          msg.close_code = 1005;
        } else {
          msg.close_code = static_cast<std::uint16_t>(
              (static_cast<unsigned char>(out_[0]) << 8) | static_cast<unsigned char>(out_[1]));
          if (!valid_close_code(msg.close_code))
            return fail(1002, "close code not allowed on the wire (RFC 6455 7.4)");
        }
        msg.data = out_.data() + (n == 0 ? 0 : 2);
        msg.len = n == 0 ? 0 : n - 2;
        status_ = kClosed;
        in_.clear();
        pos_ = 0;
        return kMessage;
      }
      msg.data = out_.data();
      msg.len = n;
      return kMessage;
    }

    if (op == WsOpcode::kContinuation) {
      if (!fragmented_) return fail(1002, "continuation without a fragmented message (5.4)");
      const std::size_t at = msg_.size();
      msg_.append(in_, start, n);
      ws_mask(msg_.data() + at, n, key);
      if (!fin) continue;
      fragmented_ = false;
      out_.swap(msg_);
      msg_.clear();
      return deliver();
    }
    // text / binary
    if (fragmented_) return fail(1002, "new data frame inside a fragmented message (5.4)");
    msg_op_ = op;
    if (!fin) {
      fragmented_ = true;
      msg_.assign(in_, start, n);
      ws_mask(msg_.data(), n, key);
      continue;
    }
    out_.assign(in_, start, n);
    ws_mask(out_.data(), n, key);
    return deliver();
  }
  // Drop the parsed prefix so the buffer does not grow without bound.
  if (pos_ > 0) {
    in_.erase(0, pos_);
    pos_ = 0;
  }
  return kNeedMore;
}

}  // namespace shadow
