// Text from outside (flags, config values, symbol lists) checked once and shown safely:
//   - printable(): a value as an error message may quote it, control and non-ASCII bytes
//     escaped as \xNN and the length capped, so no message can carry a terminal escape, a CR/LF
//     or a megabyte of argv back to the user's terminal or log;
//   - byte_problem(): the one phrase for a bad byte ("a control character (0x0d) at offset 3");
//   - check_symbol_list(): the symbols every program trades or serves, one rule for all of them
//     (shadow-run's venue.symbols, shadow-exchange's --symbols, shadow-replay's --binance-symbol).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace shadow {

// Longest piece of a value printable() shows.
inline constexpr std::size_t kMaxShownBytes = 64;

// `s` with every byte outside 0x20..0x7e written as \xNN and a backslash as "\\", cut to
// `max_bytes` of the input and then marked "... (N bytes)". Never contains a control byte.
std::string printable(std::string_view s, std::size_t max_bytes = kMaxShownBytes);

// "a control character (0x0d) at offset 3", "a space at offset 4", "a non-ASCII byte (0xc3) at
// offset 0", or for any other byte "a bad <what> character '$' at offset 2".
std::string byte_problem(std::string_view what, unsigned char c, std::size_t offset);

// Offset of the first control byte (0x00..0x1f, 0x7f) of `s`, or std::string_view::npos.
std::size_t find_control(std::string_view s) noexcept;

// DESIGN.md: symbols as the venues list them (BTCUSDT, BTC-26DEC25): upper-case letters,
// digits, '-' and '_', starting with a letter or digit, at most SymbolTable::kMaxNameLen (23)
// bytes.
// "" when `s` is one, else why not, naming it by `which` ("symbol 2 is empty", "'btcusdt':
// symbols are upper case, as the venues list them ('BTCUSDT')").
std::string check_symbol(std::string_view s, std::string_view which);
// Every symbol checked, each listed once, at most SymbolTable::kCapacity (256) of them, at least
// one: "" or why not ("257 symbols, at most 256", "'BTCUSDT' is listed twice").
std::string check_symbol_list(const std::vector<std::string>& symbols);

}  // namespace shadow
