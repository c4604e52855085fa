// core/input_text.h: values quoted back in messages carry no control byte and stay short; the
// one symbol rule every program applies (shadow-run, shadow-exchange, shadow-replay).
#include "core/input_text.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace shadow {
namespace {

TEST(Printable, EscapesControlAndNonAsciiBytes) {
  EXPECT_EQ(printable("BTCUSDT"), "BTCUSDT");
  EXPECT_EQ(printable(std::string("a\r\nb\0c", 6)), "a\\x0d\\x0ab\\x00c");
  EXPECT_EQ(printable("\x1b]0;title\x07"), "\\x1b]0;title\\x07");
  EXPECT_EQ(printable("caf\xc3\xa9"), "caf\\xc3\\xa9");
  EXPECT_EQ(printable("a\\b"), "a\\\\b");  // a backslash cannot fake an escape
  EXPECT_EQ(printable("\x7f"), "\\x7f");
}

TEST(Printable, CutsLongValues) {
  const std::string shown = printable(std::string(1 << 20, 'x'));
  EXPECT_EQ(shown, std::string(kMaxShownBytes, 'x') + "... (1048576 bytes)");
  EXPECT_EQ(printable(std::string(kMaxShownBytes, 'y')), std::string(kMaxShownBytes, 'y'));  // no mark at the limit
  EXPECT_EQ(printable("abcdef", 3), "abc... (6 bytes)");
}

TEST(BytePhrase, NamesTheByteByCodeAndOffset) {
  EXPECT_EQ(byte_problem("host", '\r', 3), "a control character (0x0d) at offset 3");
  EXPECT_EQ(byte_problem("host", ' ', 0), "a space at offset 0");
  EXPECT_EQ(byte_problem("host", 0xc3, 9), "a non-ASCII byte (0xc3) at offset 9");
  EXPECT_EQ(byte_problem("host", '$', 2), "a bad host character '$' at offset 2");
  EXPECT_EQ(find_control("abc"), std::string_view::npos);
  EXPECT_EQ(find_control(std::string_view("ab\0", 3)), 2u);
  EXPECT_EQ(find_control("a\x7f"), 1u);
}

TEST(Symbols, VenueSpellingsPass) {
  EXPECT_EQ(check_symbol_list({"BTCUSDT", "ETHUSDT", "BTC-26DEC25", "1000PEPEUSDT", "A_B"}), "");
  EXPECT_EQ(check_symbol(std::string(23, 'A'), "s"), "");
}

TEST(Symbols, ProblemsAreNamed) {
  EXPECT_EQ(check_symbol_list({}), "no symbols");
  EXPECT_EQ(check_symbol_list({"BTCUSDT", ""}), "symbol 2 is empty");
  EXPECT_EQ(check_symbol_list({std::string(24, 'A')}), "symbol 1 is 24 bytes long, at most 23");
  EXPECT_EQ(check_symbol_list({"btcusdt"}), "'btcusdt': symbols are upper case, as the venues list them ('BTCUSDT')");
  EXPECT_EQ(check_symbol_list({"BTC/USDT"}),
            "symbol 1 has a bad symbol character '/' at offset 3 (allowed: A-Z, 0-9, '-' and '_')");
  EXPECT_EQ(check_symbol_list({"BTC\r\nX"}),
            "symbol 1 has a control character (0x0d) at offset 3 (allowed: A-Z, 0-9, '-' and '_')");
  EXPECT_EQ(check_symbol_list({"BTCUSDT", "ETHUSDT", "BTCUSDT"}), "'BTCUSDT' is listed twice");
  EXPECT_EQ(check_symbol_list({"-1"}), "symbol 1 starts with '-' (a symbol starts with a letter or a digit)");
  std::vector<std::string> many;
  for (int i = 0; i < 257; ++i) many.push_back(std::string(1, 'S').append(std::to_string(i)));  // GCC 12 bug 105329
  EXPECT_EQ(check_symbol_list(many), "257 symbols, at most 256");
  many.pop_back();
  EXPECT_EQ(check_symbol_list(many), "");  // the engine's SymbolTable holds 256
}

}  // namespace
}  // namespace shadow
