// A fresh directory under /tmp for one test (mkdtemp), removed with everything in it when the
// object goes. path() is empty when it could not be made.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace shadow::test_support {

class TempDir {
 public:
  // `stem`: the name's start, e.g. "bounded_file_test" -> /tmp/bounded_file_test.AbC123.
  explicit TempDir(const std::string& stem) {
    std::string tmpl = std::string("/tmp/").append(stem).append(".XXXXXX");  // mkdtemp's pattern
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const noexcept { return path_; }
  // path()/name (append(): GCC 12 reports a false -Wrestrict on chained operator+).
  std::string file(const std::string& name) const { return std::string(path_).append("/").append(name); }
  // Writes `content` to path()/name and returns that path.
  std::string write(const std::string& name, const std::string& content) const {
    const std::string p = file(name);
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }

 private:
  std::string path_;
};

}  // namespace shadow::test_support
