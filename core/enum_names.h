// EnumNames: one constexpr table of {value, name} pairs per enum, read by both to_string and
// the parser of the same names, so a name is spelled once and the two cannot disagree.
//
//   inline constexpr auto kIdleKindNames = make_enum_names<IdleKind>({
//       {IdleKind::kBusySpin, "busy-spin"}, {IdleKind::kSpinThenYield, "spin-then-yield"}});
//   to_string:  kIdleKindNames.name(k)
//   parse:      kIdleKindNames.parse("busy-spin") -> std::optional<IdleKind>
//   messages:   "must be " + kIdleKindNames.choices() -> "must be busy-spin or spin-then-yield"
//
// Lookups are linear: the tables hold a handful of names and are read on cold paths (config,
// logs, reports); a linear scan over a few pairs beats a hash and keeps the table constexpr.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace shadow {

template <class E>
struct EnumName {
  E value{};
  std::string_view name;
};

template <class E, std::size_t N>
class EnumNames {
 public:
  // A value or a name given twice is an error: at compile time for a constexpr table (the
  // throw cannot be evaluated), std::logic_error otherwise.
  constexpr explicit EnumNames(const EnumName<E> (&pairs)[N]) {
    for (std::size_t i = 0; i < N; ++i) pairs_[i] = pairs[i];
    if (!distinct()) throw std::logic_error("EnumNames: a value or a name appears twice");
  }

  // The name of v; `otherwise` for a value the table does not hold (a corrupt value, or one
  // deliberately left out, e.g. an internal mode that has no config spelling).
  constexpr std::string_view name(E v, std::string_view otherwise = "unknown") const noexcept {
    for (const EnumName<E>& p : pairs_) {
      if (p.value == v) return p.name;
    }
    return otherwise;
  }

  // The value named s (exact, case-sensitive: config files and logs spell names one way).
  constexpr std::optional<E> parse(std::string_view s) const noexcept {
    for (const EnumName<E>& p : pairs_) {
      if (p.name == s) return p.value;
    }
    return std::nullopt;
  }

  // The allowed names for a message: "a, b or c" (defaults), or with other separators.
  std::string choices(std::string_view sep = ", ", std::string_view last = " or ") const {
    std::string out;
    for (std::size_t i = 0; i < N; ++i) {
      if (i > 0) out += i + 1 == N ? last : sep;
      out += pairs_[i].name;
    }
    return out;
  }

  static constexpr std::size_t size() noexcept { return N; }
  constexpr const EnumName<E>* begin() const noexcept { return pairs_.data(); }
  constexpr const EnumName<E>* end() const noexcept { return pairs_.data() + N; }

 private:
  // No value and no name appears twice.
  constexpr bool distinct() const noexcept {
    for (std::size_t i = 0; i < N; ++i) {
      for (std::size_t j = i + 1; j < N; ++j) {
        if (pairs_[i].value == pairs_[j].value || pairs_[i].name == pairs_[j].name) return false;
      }
    }
    return true;
  }

  std::array<EnumName<E>, N> pairs_{};
};

// make_enum_names<E>({{E::kA, "a"}, ...}): E named once, N counted from the list.
template <class E, std::size_t N>
constexpr EnumNames<E, N> make_enum_names(const EnumName<E> (&pairs)[N]) {
  return EnumNames<E, N>(pairs);
}

}  // namespace shadow
