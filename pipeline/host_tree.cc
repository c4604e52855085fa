#include "pipeline/host_tree.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <sstream>
#include <system_error>

#include "core/bounded_file.h"
#include "pipeline/cpu_list.h"

namespace shadow {

HostTree::HostTree(std::string root) : root_(std::move(root)) {
  while (!root_.empty() && root_.back() == '/') root_.pop_back();  // "/" is the live host
}

std::string HostTree::path(std::string_view p) const { return root_ + std::string(p); }

std::optional<std::string> HostTree::read(std::string_view p, std::size_t max_bytes) const {
  std::string out, error;
  if (!read_regular_file(path(p), max_bytes, out, error)) return std::nullopt;
  return out;
}

std::optional<std::string> HostTree::read_value(std::string_view p) const {
  std::optional<std::string> s = read(p);
  if (!s) return std::nullopt;
  std::string v = s->substr(0, s->find('\n'));
  const std::size_t b = v.find_first_not_of(" \t");
  if (b == std::string::npos) return std::string();
  v.erase(0, b);
  v.erase(v.find_last_not_of(" \t\r") + 1);
  return v;
}

bool HostTree::exists(std::string_view p) const {
  std::error_code ec;
  return std::filesystem::exists(path(p), ec);
}

std::vector<std::string> HostTree::list(std::string_view dir) const {
  std::vector<std::string> names;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(path(dir), ec), end; !ec && it != end; it.increment(ec)) {
    names.push_back(it->path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::optional<std::vector<int>> HostTree::online_cpus() const {
  const std::optional<std::string> v = read_value("/sys/devices/system/cpu/online");
  std::vector<int> cpus;
  if (!v || !parse_cpu_list(*v, cpus).empty() || cpus.empty()) return std::nullopt;
  return cpus;
}

int HostTree::last_possible_cpu() const {
  for (const char* f : {"/sys/devices/system/cpu/possible", "/sys/devices/system/cpu/online"}) {
    std::vector<int> cpus;
    if (const auto v = read_value(f); v && parse_cpu_list(*v, cpus).empty() && !cpus.empty()) {
      return cpus.back();
    }
  }
  return -1;
}

std::string HostTree::default_route_interface() const {
  // Columns: Iface Destination Gateway Flags RefCnt Use Metric Mask ... (hex, host byte order);
  // the default route has Destination and Mask 00000000 and the RTF_UP flag (0x1).
  const std::optional<std::string> text = read("/proc/net/route", 1 << 20);
  if (!text) return "";
  std::istringstream in(*text);
  std::string line, best;
  long best_metric = std::numeric_limits<long>::max();
  std::getline(in, line);  // the header
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string iface, dest, gw, flags, refcnt, use, metric, mask;
    if (!(f >> iface >> dest >> gw >> flags >> refcnt >> use >> metric >> mask)) continue;
    const bool up = (std::strtoul(flags.c_str(), nullptr, 16) & 0x1) != 0;
    const long m = std::strtol(metric.c_str(), nullptr, 10);
    if (dest == "00000000" && mask == "00000000" && up && m < best_metric) {
      best = iface;
      best_metric = m;
    }
  }
  return best;
}

}  // namespace shadow
