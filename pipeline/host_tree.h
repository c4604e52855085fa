// HostTree: the files of /proc and /sys that describe a host's tuning, read under a root
// directory: "" (or "/") reads the live host, a test's directory reads a fake host it wrote.
// Every read is bounded and a missing or unreadable file is an answer (std::nullopt), never an
// exception: a VM without cpufreq or a kernel without THP is a fact to report.
//
// Cold path: allocates and makes syscalls. Not thread-safe (no state, but no promise either).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace shadow {

class HostTree {
 public:
  // `root` prefixes every path ("/tmp/fake" + "/proc/cmdline"); "" and "/" are the live host.
  explicit HostTree(std::string root = "");

  // `path` ("/proc/cmdline") under the root.
  std::string path(std::string_view path) const;
  const std::string& root() const noexcept { return root_; }

  // The whole file (a regular file of at most `max_bytes`), or nullopt when it is missing,
  // unreadable or too large.
  std::optional<std::string> read(std::string_view path, std::size_t max_bytes = 64 * 1024) const;
  // The file's first line without surrounding blanks (the one-value files of /sys and /proc).
  std::optional<std::string> read_value(std::string_view path) const;
  bool exists(std::string_view path) const;
  // Names in a directory, sorted; empty when it is missing.
  std::vector<std::string> list(std::string_view dir) const;

  // /sys/devices/system/cpu/online as CPU numbers; nullopt when missing or malformed.
  std::optional<std::vector<int>> online_cpus() const;
  // The highest CPU number of /sys/devices/system/cpu/possible (else of online); -1 if neither.
  int last_possible_cpu() const;
  // The interface of the default route (destination 0.0.0.0/0 with the lowest metric) in
  // /proc/net/route; "" when there is none.
  std::string default_route_interface() const;

 private:
  std::string root_;
};

}  // namespace shadow
