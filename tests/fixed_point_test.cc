#include "sim/fixed_point.h"

#include <gtest/gtest.h>

#include <string>

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

TEST(FixedPoint, ParsesAtCompileTime) {
  constexpr Fixed v = [] {
    Fixed out = 0;
    return parse_fixed("1.25", out) ? out : -1;
  }();
  static_assert(v == 125000000);
}

}  // namespace
}  // namespace shadow
