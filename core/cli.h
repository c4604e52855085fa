// Command-line reading shared by the tools: `--flag value` arguments, whole and real numbers,
// comma lists, and usage errors that name the flag and exit 2 (the tools' contract).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/exit_codes.h"
#include "core/version.h"

namespace shadow::cli {

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

  // A whole number (decimal digits only).
  std::uint64_t whole() {
    const std::string flag(arg_);
    const std::string v = value();
    char* end = nullptr;
    const std::uint64_t n = std::strtoull(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || v[0] == '-') fail(flag + " needs a whole number, not '" + v + "'");
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
      fail(flag + " needs a number in " + range + ", not '" + v + "'");
    }
    return d;
  }

  // The comma-separated items of the value, empty items dropped.
  std::vector<std::string> list() {
    const std::string v = value();
    std::vector<std::string> out;
    std::size_t b = 0;
    while (b <= v.size()) {
      std::size_t e = v.find(',', b);
      if (e == std::string::npos) e = v.size();
      if (e > b) out.push_back(v.substr(b, e - b));
      b = e + 1;
    }
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
