#include "core/input_text.h"

#include <cstdio>

#include "core/symbol_table.h"

namespace shadow {

std::string printable(std::string_view s, std::size_t max_bytes) {
  std::string out;
  const std::size_t n = s.size() < max_bytes ? s.size() : max_bytes;
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '\\') {
      out += "\\\\";
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (n < s.size()) out.append("... (").append(std::to_string(s.size())).append(" bytes)");
  return out;
}

std::string byte_problem(std::string_view what, unsigned char c, std::size_t offset) {
  char buf[96];
  if (c == ' ') {
    std::snprintf(buf, sizeof buf, "a space at offset %zu", offset);
  } else if (c < 0x20 || c == 0x7f) {
    std::snprintf(buf, sizeof buf, "a control character (0x%02x) at offset %zu", c, offset);
  } else if (c >= 0x80) {
    std::snprintf(buf, sizeof buf, "a non-ASCII byte (0x%02x) at offset %zu", c, offset);
  } else {
    std::snprintf(buf, sizeof buf, "a bad %.*s character '%c' at offset %zu", static_cast<int>(what.size()),
                  what.data(), c, offset);
  }
  return buf;
}

std::size_t find_control(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) return i;
  }
  return std::string_view::npos;
}

std::string check_symbol(std::string_view s, std::string_view which) {
  const std::string name(which);
  if (s.empty()) return name + " is empty";
  if (s.size() > SymbolTable::kMaxNameLen) {
    return name + " is " + std::to_string(s.size()) + " bytes long, at most " + std::to_string(SymbolTable::kMaxNameLen);
  }
  if (s.front() == '-' || s.front() == '_') {
    return name + " starts with '" + std::string(1, s.front()) + "' (a symbol starts with a letter or a digit)";
  }
  bool lower = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_') continue;
    if (c >= 'a' && c <= 'z') {
      lower = true;
      continue;
    }
    return name + " has " + byte_problem("symbol", static_cast<unsigned char>(c), i) +
           " (allowed: A-Z, 0-9, '-' and '_')";
  }
  if (lower) {
    // Binance spells its streams in lower case (btcusdt@depth) but its symbols, like Bybit's,
    // in upper case: refused rather than folded, so a config says what the venue lists.
    std::string upper(s);
    for (char& u : upper) u = (u >= 'a' && u <= 'z') ? static_cast<char>(u - 'a' + 'A') : u;
    // Built by appending: GCC 12 reports a false -Wrestrict on "literal" + std::string (bug 105329).
    std::string out(1, '\'');
    return out.append(s).append("': symbols are upper case, as the venues list them ('").append(upper).append("')");
  }
  return {};
}

std::string check_symbol_list(const std::vector<std::string>& symbols) {
  if (symbols.empty()) return "no symbols";
  if (symbols.size() > SymbolTable::kCapacity) {
    return std::to_string(symbols.size()).append(" symbols, at most ").append(std::to_string(SymbolTable::kCapacity));
  }
  for (std::size_t i = 0; i < symbols.size(); ++i) {
    if (std::string why = check_symbol(symbols[i], "symbol " + std::to_string(i + 1)); !why.empty()) return why;
    for (std::size_t j = 0; j < i; ++j) {
      if (symbols[j] == symbols[i]) return std::string(1, '\'').append(symbols[i]).append("' is listed twice");
    }
  }
  return {};
}

}  // namespace shadow
