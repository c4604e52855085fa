// JSON text helpers shared by every writer of JSON (venue requests, the exchange's replies, the
// run config, the artifacts): one escaping rule, RFC 8259 §7 — quote and backslash escaped,
// control characters as \u00XX, everything else (UTF-8 included) copied as is.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace shadow {

// Appends `s` as a JSON string literal, quotes included.
inline void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
}

}  // namespace shadow
