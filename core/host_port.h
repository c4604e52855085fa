// The authority part of a URL (RFC 3986 §3.2.2–3.2.3): "host", "host:port", "[v6]" or
// "[v6]:port", split once for every URL the programs take (ws:// venues, redis://).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace shadow {

struct HostPort {
  std::string_view host;  // without the brackets of an IPv6 literal
  std::uint16_t port = 0; // 0: the URL gave none (the scheme's default applies)
};

// Splits `authority` into `out`. On a problem returns false and sets `problem` to a phrase that
// reads after "has": "no host", "an empty port", "a bad port 'x' (allowed: 1..65535)", "an
// unterminated IPv6 address", "junk after the IPv6 address".
bool split_host_port(std::string_view authority, HostPort& out, std::string& problem);

}  // namespace shadow
