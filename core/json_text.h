// JSON text helpers shared by every writer of JSON (venue requests, the exchange's replies, the
// run config, the artifacts): one escaping rule, RFC 8259 §7 — quote and backslash escaped,
// control characters as \u00XX, everything else (UTF-8 included) copied as is.
#pragma once

#include <cmath>
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

// Members of a JSON object being written into one string, for writers that build a document by
// appending (the run artifacts, PREDICTION_VS_REALITY.json, the dry-run's JSONL logs). key()
// puts the comma itself: after anything but an opening brace or bracket.
namespace shadow::json {

inline void key(std::string& o, std::string_view k) {
  if (!o.empty() && o.back() != '{' && o.back() != '[') o += ',';
  append_json_string(o, k);
  o += ':';
}
// A number with 10 significant digits; null when not finite (JSON has no NaN or infinity).
inline void num(std::string& o, double v) {
  if (!std::isfinite(v)) {
    o += "null";
    return;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  o += buf;
}
inline void num(std::string& o, std::string_view k, double v) {
  key(o, k);
  num(o, v);
}
inline void whole(std::string& o, std::string_view k, unsigned long long v) {
  key(o, k);
  o += std::to_string(v);
}
inline void integer(std::string& o, std::string_view k, long long v) {
  key(o, k);
  o += std::to_string(v);
}
inline void text(std::string& o, std::string_view k, std::string_view v) {
  key(o, k);
  append_json_string(o, v);
}
inline void boolean(std::string& o, std::string_view k, bool v) {
  key(o, k);
  o += v ? "true" : "false";
}

}  // namespace shadow::json
