// RFC 6455 §4 opening handshake: base64, the accept value, ws:// URLs and the client side
// (§4.1); the server side (§4.2) is in websocket_handshake_server.cc. See websocket_handshake.h.
#include "feed/websocket_handshake.h"

#include <openssl/evp.h>

#include <cstring>

#include "core/host_port.h"
#include "core/random.h"
#include "feed/internal/http_fields.h"

namespace shadow {

using namespace feed_internal;  // http_fields.h: iequals, has_token, for_each_field

namespace {

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int b64_value(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}
}  // namespace

std::string base64_encode(const void* data, std::size_t len) {
  const auto* p = static_cast<const unsigned char*>(data);
  std::string out;
  out.reserve((len + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= len; i += 3) {
    const std::uint32_t v = (std::uint32_t{p[i]} << 16) | (std::uint32_t{p[i + 1]} << 8) | p[i + 2];
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  if (len - i == 1) {
    const std::uint32_t v = std::uint32_t{p[i]} << 16;
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += "==";
  } else if (len - i == 2) {
    const std::uint32_t v = (std::uint32_t{p[i]} << 16) | (std::uint32_t{p[i + 1]} << 8);
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

bool base64_decode(std::string_view in, std::string& out) {
  out.clear();
  if (in.size() % 4 != 0) return false;
  out.reserve(in.size() / 4 * 3);
  for (std::size_t i = 0; i < in.size(); i += 4) {
    const bool last = i + 4 == in.size();
    int v[4];
    int pad = 0;
    for (int j = 0; j < 4; ++j) {
      const char c = in[i + j];
      if (c == '=' && last && j >= 2) {
        v[j] = 0;
        ++pad;
        continue;
      }
      if (pad != 0) return false;  // data after '='
      v[j] = b64_value(c);
      if (v[j] < 0) return false;
    }
    const std::uint32_t w = (std::uint32_t(v[0]) << 18) | (std::uint32_t(v[1]) << 12) |
                            (std::uint32_t(v[2]) << 6) | std::uint32_t(v[3]);
    out += static_cast<char>(w >> 16);
    if (pad == 2) {
      if (w & 0xFFFF) return false;  // non-canonical: unused bits set
      break;
    }
    out += static_cast<char>((w >> 8) & 0xFF);
    if (pad == 1) {
      if (w & 0xFF) return false;
      break;
    }
    out += static_cast<char>(w & 0xFF);
  }
  return true;
}

std::string ws_accept_for_key(std::string_view key) {
  static constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";  // §1.3
  std::string in;
  in.reserve(key.size() + kGuid.size());
  in.append(key).append(kGuid);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (EVP_Digest(in.data(), in.size(), md, &md_len, EVP_sha1(), nullptr) != 1) return {};
  return base64_encode(md, md_len);
}

bool parse_ws_url(std::string_view url, WsUrl& out, std::string& error) {
  out = WsUrl{};
  const std::string_view original = url;
  if (std::string problem; !check_url_text(url, problem)) {
    error = "URL has " + problem;  // not echoed: it may hold CR/LF or other control bytes
    return false;
  }
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    error = "URL '" + std::string(original) + "' has no scheme (expected ws://host[:port]/path)";
    return false;
  }
  const std::string_view scheme = url.substr(0, scheme_end);
  if (iequals(scheme, "wss")) {
    out.secure = true;
    out.port = 443;
  } else if (!iequals(scheme, "ws")) {
    error.assign("URL scheme '").append(scheme).append("' is not ws:// or wss:// (RFC 6455 3)");
    return false;
  }
  url.remove_prefix(scheme_end + 3);
  if (url.find('#') != std::string_view::npos) {
    error = "URL '" + std::string(original) + "' has a fragment, not allowed (RFC 6455 3)";
    return false;
  }
  const std::size_t auth_end = url.find_first_of("/?");
  std::string_view authority = url.substr(0, auth_end);
  std::string_view resource = auth_end == std::string_view::npos ? std::string_view{} : url.substr(auth_end);
  if (authority.find('@') != std::string_view::npos) {
    error = "URL has user info (user:password@), not supported";  // not echoed: it may hold a password
    return false;
  }
  HostPort hp;
  std::string problem;
  if (!split_host_port(authority, hp, problem)) {
    error = "URL '" + std::string(original) + "' has " + problem;
    return false;
  }
  if (hp.port != 0) out.port = hp.port;
  out.host = std::string(hp.host);
  if (resource.empty()) {
    out.resource = "/";
  } else if (resource.front() == '?') {
    out.resource.assign("/").append(resource);  // append(): GCC 12 false -Wrestrict on operator+
  } else {
    out.resource = std::string(resource);
  }
  return true;
}

std::string_view to_string(WsHandshakeStatus s) noexcept {
  switch (s) {
    case WsHandshakeStatus::kDone: return "done";
    case WsHandshakeStatus::kNeedMore: return "need more bytes";
    case WsHandshakeStatus::kBadStatusLine: return "bad status line";
    case WsHandshakeStatus::kBadHeader: return "bad header";
    case WsHandshakeStatus::kMissingHeader: return "missing header";
    case WsHandshakeStatus::kBadUpgrade: return "bad Upgrade/Connection header";
    case WsHandshakeStatus::kBadAccept: return "wrong Sec-WebSocket-Accept";
    case WsHandshakeStatus::kUnrequested: return "unrequested extension or subprotocol";
  }
  return "unknown status";
}

WsHandshake::WsHandshake(const WsUrl& url) {
  std::array<std::uint8_t, 16> nonce;
  os_random_bytes(nonce.data(), nonce.size());  // §4.1: randomly selected 16-byte nonce
  build(url, nonce);
}

WsHandshake::WsHandshake(const WsUrl& url, const std::array<std::uint8_t, 16>& nonce) {
  build(url, nonce);
}

void WsHandshake::build(const WsUrl& url, const std::array<std::uint8_t, 16>& nonce) {
  key_ = base64_encode(nonce.data(), nonce.size());
  accept_ = ws_accept_for_key(key_);
  // §4.1 item 4: Host is host, plus ":port" when not the scheme's default port.
  // Built with append(): GCC 12 reports a false -Wrestrict on chained operator+ here.
  const bool ipv6 = url.host.find(':') != std::string::npos;
  request_.clear();
  request_.append("GET ").append(url.resource).append(" HTTP/1.1\r\nHost: ");
  if (ipv6) request_.append("[");
  request_.append(url.host);
  if (ipv6) request_.append("]");
  if (url.port != (url.secure ? 443 : 80)) request_.append(":").append(std::to_string(url.port));
  request_.append("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ");
  request_.append(key_).append("\r\nSec-WebSocket-Version: 13\r\n");
  request_ += "\r\n";
}

WsHandshakeStatus WsHandshake::fail(WsHandshakeStatus s, std::string msg) {
  error_ = std::move(msg);
  finished_ = true;
  result_ = s;
  return s;
}

WsHandshakeStatus WsHandshake::parse(const char* data, std::size_t len, std::size_t& used) {
  used = 0;
  if (finished_) return result_;
  const std::size_t before = head_.size();
  // Look for the blank line that ends the head (CRLF CRLF), including across chunks.
  const std::size_t search_from = before >= 3 ? before - 3 : 0;
  const std::size_t room = kMaxResponse - before;
  head_.append(data, len < room + 4 ? len : room + 4);
  const std::size_t end = head_.find("\r\n\r\n", search_from);
  if (end == std::string::npos) {
    if (head_.size() > kMaxResponse) {
      return fail(WsHandshakeStatus::kBadHeader, "handshake response head longer than 16 KiB");
    }
    used = len;
    return WsHandshakeStatus::kNeedMore;
  }
  const std::size_t head_len = end + 4;
  used = head_len - before;
  head_.resize(head_len);
  finished_ = true;
  result_ = verify(std::string_view(head_).substr(0, end));
  return result_;
}

WsHandshakeStatus WsHandshake::verify(std::string_view head) {
  // Status line (§4.1 item 1; RFC 7230 §3.1.2): "HTTP/1.1 101 Switching Protocols".
  const std::size_t eol = head.find("\r\n");
  const std::string_view status_line = head.substr(0, eol);
  head = eol == std::string_view::npos ? std::string_view{} : head.substr(eol + 2);
  if (status_line.size() < 12 || status_line.substr(0, 5) != "HTTP/" ||
      status_line.substr(8, 1) != " ") {
    return fail(WsHandshakeStatus::kBadStatusLine,
                "handshake status line '" + std::string(status_line) + "' is not HTTP");
  }
  const std::string_view code = status_line.substr(9, 3);
  for (const char c : code) {
    if (c < '0' || c > '9') {
      return fail(WsHandshakeStatus::kBadStatusLine,
                  "handshake status line '" + std::string(status_line) + "' has no status code");
    }
  }
  status_code_ = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
  if (status_line.substr(0, 8) != "HTTP/1.1" || status_code_ != 101) {
    return fail(WsHandshakeStatus::kBadStatusLine,
                "handshake status line '" + std::string(status_line) +
                    "', expected 'HTTP/1.1 101' (RFC 6455 4.1)");
  }

  std::string_view upgrade, connection, accept, unrequested_name, unrequested;
  bool have_upgrade = false, have_connection = false, have_accept = false;
  std::string_view bad;
  const FieldError fe = for_each_field(head, [&](std::string_view name, std::string_view value) {
    if (iequals(name, "Upgrade")) {
      upgrade = value;
      have_upgrade = true;
    } else if (iequals(name, "Connection")) {
      connection = value;
      have_connection = true;
    } else if (iequals(name, "Sec-WebSocket-Accept")) {
      accept = value;
      have_accept = true;
    } else if ((iequals(name, "Sec-WebSocket-Extensions") || iequals(name, "Sec-WebSocket-Protocol")) &&
               !value.empty()) {
      unrequested_name = name;
      unrequested = value;
      return false;
    }
    return true;
  }, bad);
  if (fe == FieldError::kFolded) {
    return fail(WsHandshakeStatus::kBadHeader, "obsolete header line folding in handshake response");
  }
  if (fe == FieldError::kNoName) {
    return fail(WsHandshakeStatus::kBadHeader,
                "handshake response header line '" + std::string(bad) + "' has no name");
  }
  if (!unrequested_name.empty()) {
    return fail(WsHandshakeStatus::kUnrequested,
                std::string(unrequested_name) + ": '" + std::string(unrequested) +
                    "' was not requested (RFC 6455 4.1 items 5, 6)");
  }
  if (!have_upgrade) return fail(WsHandshakeStatus::kMissingHeader, "handshake response has no Upgrade header");
  if (!have_connection) return fail(WsHandshakeStatus::kMissingHeader, "handshake response has no Connection header");
  if (!have_accept) return fail(WsHandshakeStatus::kMissingHeader, "handshake response has no Sec-WebSocket-Accept header");
  if (!has_token(upgrade, "websocket")) {
    return fail(WsHandshakeStatus::kBadUpgrade,
                "Upgrade is '" + std::string(upgrade) + "', expected 'websocket' (RFC 6455 4.1)");
  }
  if (!has_token(connection, "upgrade")) {
    return fail(WsHandshakeStatus::kBadUpgrade,
                "Connection is '" + std::string(connection) + "', expected 'Upgrade' (RFC 6455 4.1)");
  }
  if (accept != accept_) {
    return fail(WsHandshakeStatus::kBadAccept,
                "Sec-WebSocket-Accept is '" + std::string(accept) + "', expected '" + accept_ +
                    "' (RFC 6455 4.2.2)");
  }
  return WsHandshakeStatus::kDone;
}

}  // namespace shadow
