// URLs from outside (flags, config files) checked once, for every URL the programs take (ws://
// venues, redis://): the whole text against RFC 3986's character set, so no control character,
// space or CR/LF can ever reach a request line or a header; and the authority part (§3.2.2–3.2.3)
// split into "host", "host:port", "[v6]" or "[v6]:port" with the host's characters checked.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace shadow {

struct HostPort {
  std::string_view host;  // without the brackets of an IPv6 literal
  std::uint16_t port = 0; // 0: the URL gave none (the scheme's default applies)
};

// Longest URL accepted (RFC 9110 §4.1 recommends senders and recipients support at least 8000
// octets of request line; venue and Redis URLs are far shorter: the cap is for hostile input).
inline constexpr std::size_t kMaxUrlLength = 2048;

// Checks that `url` is at most kMaxUrlLength bytes of RFC 3986 URI characters (unreserved,
// reserved, '%' followed by two hex digits). On a problem returns false and sets `problem` to a
// phrase that reads after "has", naming the offending byte by its code and offset and never
// echoing it: "a control character (0x0d) at offset 23 (only RFC 3986 URI characters are
// allowed)", "a space at offset 4 ...", "a bad percent escape at offset 9", "2049 bytes (at most
// 2048)".
bool check_url_text(std::string_view url, std::string& problem);

// Splits `authority` into `out`. On a problem returns false and sets `problem` to a phrase that
// reads after "has": "no host", "an empty port", "a bad port 'x' (allowed: 1..65535)", "an
// unterminated IPv6 address", "junk after the IPv6 address", "a bad host character ..." (a host
// is a DNS name or IPv4 address: letters, digits, '-', '.', '_', '~', percent escapes; an IPv6
// literal: hex digits, ':' and '.'), "a host longer than 253 bytes".
bool split_host_port(std::string_view authority, HostPort& out, std::string& problem);

}  // namespace shadow
