// The whole content of a test artifact (JSON summary, JSONL log) as a string; empty when the
// file cannot be read, so the assertion that follows names what is missing.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace shadow::test_support {

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace shadow::test_support
