// EnumNames: to_string and parse read one table, so every name parses back to its value, an
// unknown name parses to nothing and the allowed names read well in a message.
#include "core/enum_names.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <stdexcept>
#include <string_view>

namespace shadow {
namespace {

enum class Colour : std::uint8_t { kRed, kGreen, kBlue, kUnnamed };

constexpr auto kColourNames = make_enum_names<Colour>({
    {Colour::kRed, "red"},
    {Colour::kGreen, "green"},
    {Colour::kBlue, "blue"},
});

// Usable at compile time: the tables can sit in headers and be checked by static_assert.
static_assert(kColourNames.size() == 3);
static_assert(kColourNames.name(Colour::kGreen) == "green");
static_assert(kColourNames.parse("blue") == Colour::kBlue);
static_assert(!kColourNames.parse("purple").has_value());

TEST(EnumNames, EveryNameParsesBackToItsValue) {
  for (const EnumName<Colour>& e : kColourNames) {
    const auto v = kColourNames.parse(e.name);
    ASSERT_TRUE(v.has_value()) << e.name;
    EXPECT_EQ(*v, e.value);
    EXPECT_EQ(kColourNames.name(*v), e.name);
  }
}

TEST(EnumNames, UnknownNamesAndValues) {
  EXPECT_FALSE(kColourNames.parse("Red").has_value());  // exact spelling only
  EXPECT_FALSE(kColourNames.parse("").has_value());
  EXPECT_EQ(kColourNames.name(Colour::kUnnamed), "unknown");
  EXPECT_EQ(kColourNames.name(Colour::kUnnamed, "?"), "?");
  EXPECT_EQ(kColourNames.name(static_cast<Colour>(200)), "unknown");
}

TEST(EnumNames, ChoicesListTheNamesInTableOrder) {
  EXPECT_EQ(kColourNames.choices(), "red, green or blue");
  EXPECT_EQ(kColourNames.choices(" | ", " | "), "red | green | blue");
  constexpr auto one = make_enum_names<Colour>({{Colour::kRed, "red"}});
  EXPECT_EQ(one.choices(), "red");
}

// A constexpr table with a repeat does not compile; built at run time it throws.
TEST(EnumNames, ARepeatedValueOrNameIsRefused) {
  EXPECT_THROW((void)make_enum_names<Colour>({{Colour::kRed, "red"}, {Colour::kRed, "crimson"}}), std::logic_error);
  EXPECT_THROW((void)make_enum_names<Colour>({{Colour::kRed, "red"}, {Colour::kGreen, "red"}}), std::logic_error);
  EXPECT_NO_THROW((void)make_enum_names<Colour>({{Colour::kRed, "red"}, {Colour::kGreen, "green"}}));
}

}  // namespace
}  // namespace shadow
