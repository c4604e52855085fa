// Command-line reading shared by the tools: `--flag value` arguments, whole and real numbers,
// comma lists, and usage errors that name the flag and exit 2 (the tools' contract). A value
// quoted back in a message goes through printable() (no control bytes reach the terminal).
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/exit_codes.h"
#include "core/input_text.h"
#include "core/version.h"

namespace shadow::cli {

// Splits a comma-separated list ("BTCUSDT,ETHUSDT") into `out`. "" on success, else why not:
// "item 2 of the comma-separated list is empty" (an empty item is a typo, never dropped).
inline std::string split_list(std::string_view text, std::vector<std::string>& out) {
  out.clear();
  for (std::size_t b = 0; b <= text.size();) {
    std::size_t e = text.find(',', b);
    if (e == std::string_view::npos) e = text.size();
    if (e == b) return "item " + std::to_string(out.size() + 1) + " of the comma-separated list is empty";
    out.emplace_back(text.substr(b, e - b));
    b = e + 1;
  }
  return "";
}

class Args {
 public:
  // `program` prefixes every error; `usage` is printed after errors and for --help/-h.
  Args(const char* program, const char* usage, int argc, char** argv)
      : program_(program), usage_(usage), argc_(argc), argv_(argv) {}

  // Moves to the next argument; false at the end. --help/-h print the usage, --version
  // "<program> <version> (git <hash>, <build type>)"; both exit 0.
  bool next() {
    if (++i_ >= argc_) return false;
    arg_ = argv_[i_];
    if (arg_ == "--help" || arg_ == "-h") {
      std::fputs(usage_, stdout);
      std::exit(kExitOk);
    }
    if (arg_ == "--version") {
      std::printf("%s %s\n", program_, program_version().c_str());
      std::exit(kExitOk);
    }
    return true;
  }

  // The current argument.
  std::string_view arg() const noexcept { return arg_; }
  bool is(std::string_view flag) const noexcept { return arg_ == flag; }
  // True for something that looks like an option (and is not "-", standard input/output).
  bool is_option() const noexcept { return arg_.size() > 1 && arg_[0] == '-'; }

  // The value after the current flag; a usage error when there is none.
  std::string value() {
    if (i_ + 1 >= argc_) fail(std::string(arg_) + " needs a value");
    return argv_[++i_];
  }

  // A whole number (decimal digits only, at most 2^64 - 1).
  std::uint64_t whole() {
    const std::string flag(arg_);
    const std::string v = value();
    const bool digits = !v.empty() && v.find_first_not_of("0123456789") == std::string::npos;
    errno = 0;
    const std::uint64_t n = digits ? std::strtoull(v.c_str(), nullptr, 10) : 0;
    if (!digits || errno == ERANGE) {
      fail(flag + " needs a whole number in [0, 18446744073709551615], not '" + printable(v) + "'");
    }
    return n;
  }

  // A real number in [lo, hi].
  double number(double lo, double hi) {
    const std::string flag(arg_);
    const std::string v = value();
    char* end = nullptr;
    const double d = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0' || !(d >= lo && d <= hi)) {
      char range[64];
      std::snprintf(range, sizeof range, "[%g, %g]", lo, hi);
      fail(flag + " needs a number in " + range + ", not '" + printable(v) + "'");
    }
    return d;
  }

  // The comma-separated items of the value; an empty item ("a,,b", "a,") is a usage error.
  std::vector<std::string> list() {
    const std::string flag(arg_);
    std::vector<std::string> out;
    if (std::string why = split_list(value(), out); !why.empty()) fail(flag + ": " + why);
    return out;
  }

  // Prints "<program>: <msg>", a blank line and the usage to stderr, and exits 2.
  [[noreturn]] void fail(const std::string& msg) const {
    std::fprintf(stderr, "%s: %s\n\n%s", program_, msg.c_str(), usage_);
    std::exit(kExitBadInput);
  }

 private:
  const char* program_;
  const char* usage_;
  int argc_;
  char** argv_;
  int i_ = 0;
  std::string_view arg_;
};

}  // namespace shadow::cli
