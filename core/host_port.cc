#include "core/host_port.h"

#include "core/input_text.h"

namespace shadow {
namespace {

bool is_hex(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool is_alnum(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// RFC 3986 §2: unreserved / gen-delims / sub-delims (percent escapes are checked apart).
bool is_uri_char(char c) noexcept {
  if (is_alnum(c)) return true;
  switch (c) {
    case '-': case '.': case '_': case '~':                                        // unreserved
    case ':': case '/': case '?': case '#': case '[': case ']': case '@':          // gen-delims
    case '!': case '$': case '&': case '\'': case '(': case ')': case '*': case '+':
    case ',': case ';': case '=':                                                   // sub-delims
      return true;
    default:
      return false;
  }
}

// The host of an authority: a reg-name/IPv4 (§3.2.2, without sub-delims, which no DNS name
// has) or the inside of an IPv6 literal.
bool check_host(std::string_view host, bool ipv6, std::string& problem) {
  if (host.size() > 253) {
    problem = "a host longer than 253 bytes";
    return false;
  }
  for (std::size_t i = 0; i < host.size(); ++i) {
    const char c = host[i];
    const bool ok = ipv6 ? (is_hex(c) || c == ':' || c == '.')
                         : (is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
                            (c == '%' && i + 2 < host.size() && is_hex(host[i + 1]) && is_hex(host[i + 2])));
    if (!ok) {
      problem = byte_problem("host", static_cast<unsigned char>(c), i) + " of the host";
      return false;
    }
  }
  return true;
}

}  // namespace

bool check_url_text(std::string_view url, std::string& problem) {
  if (url.size() > kMaxUrlLength) {
    problem = std::to_string(url.size()) + " bytes (at most " + std::to_string(kMaxUrlLength) + ")";
    return false;
  }
  for (std::size_t i = 0; i < url.size(); ++i) {
    const char c = url[i];
    if (c == '%') {
      if (i + 2 >= url.size() || !is_hex(url[i + 1]) || !is_hex(url[i + 2])) {
        problem = "a bad percent escape at offset " + std::to_string(i) + " ('%' must be followed by two hex digits)";
        return false;
      }
      continue;
    }
    if (!is_uri_char(c)) {
      problem = byte_problem("URL", static_cast<unsigned char>(c), i) + " (only RFC 3986 URI characters are allowed)";
      return false;
    }
  }
  return true;
}

bool split_host_port(std::string_view authority, HostPort& out, std::string& problem) {
  std::string_view host = authority;
  std::string_view port;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      problem = "an unterminated IPv6 address";
      return false;
    }
    host = authority.substr(1, close - 1);
    const std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        problem = "junk after the IPv6 address";
        return false;
      }
      port = rest.substr(1);
      has_port = true;
    }
  } else if (const std::size_t colon = authority.find(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    has_port = true;
  }
  if (has_port && port.empty()) {
    problem = "an empty port";
    return false;
  }
  if (host.empty()) {
    problem = "no host";
    return false;
  }
  if (!check_host(host, !authority.empty() && authority.front() == '[', problem)) return false;
  out.host = host;
  out.port = 0;
  if (!has_port) return true;
  unsigned long p = 0;
  bool ok = port.size() <= 5;
  for (const char c : port) {
    if (c < '0' || c > '9') ok = false;
    p = p * 10 + static_cast<unsigned long>(c - '0');
  }
  if (!ok || p == 0 || p > 65535) {
    problem = "a bad port '" + std::string(port) + "' (allowed: 1..65535)";
    return false;
  }
  out.port = static_cast<std::uint16_t>(p);
  return true;
}

}  // namespace shadow
