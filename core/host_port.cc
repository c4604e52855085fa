#include "core/host_port.h"

namespace shadow {

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
