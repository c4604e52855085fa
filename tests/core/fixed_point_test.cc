#include "core/fixed_point.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace shadow {
namespace {

Fixed parse(std::string_view s) {
  Fixed v = 0;
  EXPECT_TRUE(parse_fixed(s, v)) << s;
  return v;
}

std::string fmt(Fixed v) {
  char buf[kFixedMaxChars];
  return std::string(to_chars_fixed(v, buf));
}

TEST(FixedPoint, SpotAndLinearSpellingsAreTheSameValue) {
  // Bybit spot drops trailing zeros, Bybit linear keeps them, Binance pads to 8 decimals.
  EXPECT_EQ(parse("65140"), parse("65140.00"));
  EXPECT_EQ(parse("65140"), parse("65140.00000000"));
  EXPECT_EQ(parse("65114.2"), parse("65114.20"));
  EXPECT_EQ(parse("61837.63000000"), 6183763000000);
  EXPECT_EQ(parse("0.00000001"), 1);
  EXPECT_EQ(parse("0"), 0);
  EXPECT_EQ(parse("-1.5"), -150000000);
}

TEST(FixedPoint, CanonicalOutputHasNoTrailingZeros) {
  EXPECT_EQ(fmt(parse("65140.00")), "65140");
  EXPECT_EQ(fmt(parse("65239.10")), "65239.1");
  EXPECT_EQ(fmt(parse("0.50000000")), "0.5");
  EXPECT_EQ(fmt(parse("3.78826000")), "3.78826");
  EXPECT_EQ(fmt(parse("0.00000001")), "0.00000001");
  EXPECT_EQ(fmt(0), "0");
  EXPECT_EQ(fmt(parse("-0.25")), "-0.25");
  EXPECT_EQ(fmt(INT64_MIN), "-92233720368.54775808");
  EXPECT_EQ(fmt(INT64_MAX), "92233720368.54775807");
}

TEST(FixedPoint, RoundTripsEveryFormattedValue) {
  for (Fixed v : {Fixed{1}, Fixed{10}, Fixed{123456789}, Fixed{6183763000000}, kFixedMax}) {
    EXPECT_EQ(parse(fmt(v)), v);
    EXPECT_EQ(parse(fmt(-v)), -v);
  }
}

TEST(FixedPoint, RejectsWhatNoVenueSends) {
  Fixed v = 0;
  for (std::string_view bad : {"", "-", "+", ".5", "1.", "1..2", "1.2.3", "abc", "1e-5", " 1",
                               "1 ", "0x10", "1,5", "0.000000001", "92233720369",
                               "92233720368.54775808"}) {
    EXPECT_FALSE(parse_fixed(bad, v)) << "accepted '" << bad << "'";
  }
  // More digits than 1e-8 are fine when they are zeros.
  EXPECT_TRUE(parse_fixed("1.0000000000", v));
  EXPECT_EQ(v, kFixedScale);
}


// parse_fixed_padded() must agree with parse_fixed() on every input: same verdict, same value.
// Each input is placed in a buffer followed by `tail` (8+ bytes), so the fast path's loads past
// the end see digits, dots and quotes as well as padding.
void expect_same(std::string_view s, std::string_view tail = std::string_view("\"\0\0\0\0\0\0\0", 8)) {
  std::vector<char> buf(s.begin(), s.end());
  buf.insert(buf.end(), tail.begin(), tail.end());
  buf.resize(buf.size() + 8, '\0');
  Fixed want = 0, got = 0;
  const bool ok_want = parse_fixed(s, want);
  const bool ok_got = parse_fixed_padded(buf.data(), s.size(), got);
  ASSERT_EQ(ok_got, ok_want) << "'" << s << "' followed by '" << tail << "'";
  if (ok_want) {
    ASSERT_EQ(got, want) << "'" << s << "'";
  }
}

TEST(FixedPointPadded, AgreesOnVenueSpellingsAndEdgeCases) {
  for (std::string_view s :
       {"0", "1", "6203", "1.9531", "65114.20", "65140", "61837.63000000", "0.00000000",
        "0.00000001", "1.54698000", "3.78826000", "12345678", "123456789", "99999999.99999999",
        "100000000", "92233720368.54775807", "92233720368.54775808", "92233720369", "-0",
        "-1.5", "+1.5", "-", "+", "", ".", ".5", "1.", "1..2", "1.2.3", "abc", "1e-5", " 1", "1 ",
        "0x10", "1,5", "0.000000001", "0.000000010", "1.0000000000", "1.00000000000000000000",
        "00000001.5", "-00000000.00000001", "1\"", "1\\", "\"1\"", "1.5\"", "9:", "/9", "1.:",
        "12345678.", "1234567.12345678", "12345678.12345678", "123456789.1", "1.123456789",
        "1.123456780", "-99999999.99999999", "--1", "+-1", "1-", "1.-5", "1.+5"}) {
    expect_same(s);
    expect_same(s, "12345678.12345678");  // digits after the string must not be taken
    expect_same(s, std::string_view(".5\"\0\0\0\0\0\0\0", 10));
  }
  // Bytes that carry in the SWAR digit test (>= 0xFA) and bytes just outside '0'-'9', in
  // every position of short inputs.
  for (int c = 0; c < 256; ++c) {
    const char ch = static_cast<char>(c);
    for (std::string_view shape : {"X", "1X", "X1", "1.X", "1.5X5", "12X45678.1", "1234567X.5"}) {
      std::string s(shape);
      s[s.find('X')] = ch;
      expect_same(s);
    }
  }
}

TEST(FixedPointPadded, AgreesOnRandomStrings) {
  std::mt19937_64 rng(20240808);
  auto pick = [&rng](std::string_view from) { return from[rng() % from.size()]; };
  std::string s, tail;
  for (int i = 0; i < 200000; ++i) {
    s.clear();
    if (i % 2 == 0) {
      // Free-form: any mix of the characters that matter, 0-24 long.
      const std::size_t n = rng() % 25;
      for (std::size_t k = 0; k < n; ++k) s += pick("0123456789012345678901234.-+e\"\\ x");
    } else {
      // Well-formed decimals with 0-13 integer and 0-13 fraction digits, some signed, many
      // with trailing zeros (the spellings venues use).
      if (rng() % 8 == 0) s += pick("-+");
      const std::size_t int_len = rng() % 14, frac_len = rng() % 14;
      for (std::size_t k = 0; k < int_len; ++k) s += pick("0123456789");
      if (rng() % 4 != 0) {
        s += '.';
        for (std::size_t k = 0; k < frac_len; ++k) s += rng() % 3 == 0 ? '0' : pick("0123456789");
      }
    }
    tail.clear();
    for (int k = 0; k < 8; ++k) tail += pick("0123456789.\"\0");
    expect_same(s, tail);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

TEST(FixedPoint, ParsesAtCompileTime) {
  constexpr Fixed v = [] {
    Fixed out = 0;
    return parse_fixed("1.25", out) ? out : -1;
  }();
  static_assert(v == 125000000);
}

}  // namespace
}  // namespace shadow
