// Percent-decoding (RFC 3986 section 2.1): the one implementation for URL userinfo (the Redis
// URL's password) and query strings (the sandbox API's GET parameters, where '+' is a space as
// in application/x-www-form-urlencoded).
#pragma once

#include <string>
#include <string_view>

namespace shadow {

// The value of a hex digit, or -1.
constexpr int hex_digit_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes `s` into `out` (replacing it): %XX becomes the byte XX, and '+' a space when
// `plus_is_space`. False on a broken escape ('%' not followed by two hex digits).
inline bool percent_decode(std::string_view s, std::string& out, bool plus_is_space = false) {
  out.clear();
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+' && plus_is_space) {
      out.push_back(' ');
    } else if (s[i] != '%') {
      out.push_back(s[i]);
    } else {
      if (i + 2 >= s.size()) return false;
      const int hi = hex_digit_value(s[i + 1]);
      const int lo = hex_digit_value(s[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    }
  }
  return true;
}

}  // namespace shadow
