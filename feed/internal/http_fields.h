// HTTP/1.1 header-field parsing shared by both sides of the RFC 6455 opening handshake (§4.1
// the client reading the server's response, §4.2.1 the server reading the client's request).
//
// Not part of the feed API: include only from feed/websocket_handshake*.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace shadow::feed_internal {

// ASCII case-insensitive equality: header names and the tokens compared here are ASCII
// (RFC 7230 §3.2: field names are case-insensitive).
inline char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

inline bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

inline std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// True when the comma-separated header value holds `token` (case-insensitive, RFC 7230 §7;
// RFC 6455 §4.1 items 2-3 and §4.2.1 items 3-4 compare Upgrade and Connection this way).
inline bool has_token(std::string_view value, std::string_view token) noexcept {
  while (!value.empty()) {
    const std::size_t comma = value.find(',');
    if (iequals(trim(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

// What is wrong with a header line (RFC 7230 §3.2), or kOk.
enum class FieldError : std::uint8_t { kOk, kFolded, kNoName };

// Calls on_field(name, value) for each header line of `head` (the lines after the start line,
// each ended by CRLF or the end of `head`), with the value's surrounding blanks trimmed;
// on_field returns false to stop. Stops at the first malformed line and returns why, with the
// line in `bad`: obsolete line folding (§3.2.4: a server must reject it, a client may) or a
// line without "name:".
template <class F>
FieldError for_each_field(std::string_view head, F&& on_field, std::string_view& bad) {
  while (!head.empty()) {
    const std::size_t e = head.find("\r\n");
    const std::string_view line = head.substr(0, e);
    head = e == std::string_view::npos ? std::string_view{} : head.substr(e + 2);
    if (line.empty()) continue;
    bad = line;
    if (line.front() == ' ' || line.front() == '\t') return FieldError::kFolded;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return FieldError::kNoName;
    if (!on_field(line.substr(0, colon), trim(line.substr(colon + 1)))) break;
  }
  return FieldError::kOk;
}

}  // namespace shadow::feed_internal
