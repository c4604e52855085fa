#include "pipeline/cpu_list.h"

#include <algorithm>
#include <cstdint>
#include <iterator>

#include "core/input_text.h"

namespace shadow {
namespace {

constexpr int kMaxCpu = 8191;  // NR_CPUS is at most 8192 on every architecture Linux builds for

// A CPU number or "N" (the last CPU); false when it is neither.
bool parse_cpu(std::string_view s, int last_cpu, int& cpu) {
  if (s == "N" && last_cpu >= 0) {
    cpu = last_cpu;
    return true;
  }
  if (s.empty() || s.size() > 5 || s.find_first_not_of("0123456789") != std::string_view::npos) return false;
  int v = 0;
  for (const char c : s) v = v * 10 + (c - '0');
  if (v > kMaxCpu) return false;
  cpu = v;
  return true;
}

bool parse_small(std::string_view s, int& v) { return parse_cpu(s, -1, v) && v > 0; }

}  // namespace

std::string parse_cpu_list(std::string_view text, std::vector<int>& out, int last_cpu) {
  out.clear();
  std::size_t b = 0;
  while (b < text.size()) {
    std::size_t e = text.find(',', b);
    if (e == std::string_view::npos) e = text.size();
    const std::string_view item = text.substr(b, e - b);
    b = e + 1;
    if (item.empty()) return "an empty item in the CPU list '" + printable(text) + "'";
    if (item == "all") {
      if (last_cpu < 0) return "'all' needs the number of CPUs";
      for (int c = 0; c <= last_cpu; ++c) out.push_back(c);
      continue;
    }
    // first[-last[:used/group]]
    std::string_view range = item;
    int used = 1, group = 1;
    if (const std::size_t colon = item.find(':'); colon != std::string_view::npos) {
      range = item.substr(0, colon);
      const std::string_view stride = item.substr(colon + 1);
      const std::size_t slash = stride.find('/');
      if (slash == std::string_view::npos || !parse_small(stride.substr(0, slash), used) ||
          !parse_small(stride.substr(slash + 1), group) || used > group) {
        return std::string("'").append(printable(item)) + "' is not a CPU range with a stride (like 0-7:2/4)";
      }
    }
    const std::size_t dash = range.find('-');
    int first = 0, last = 0;
    if (!parse_cpu(range.substr(0, dash), last_cpu, first) ||
        (dash != std::string_view::npos && !parse_cpu(range.substr(dash + 1), last_cpu, last))) {
      return std::string("'").append(printable(item)) + "' is not a CPU number or range (CPUs are 0.." +
             std::to_string(kMaxCpu) + ")";
    }
    if (dash == std::string_view::npos) last = first;
    if (last < first) return "range '" + printable(item) + "' runs backwards";
    for (int c = first; c <= last; c += group) {
      for (int k = 0; k < used && c + k <= last; ++k) out.push_back(c + k);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return "";
}

std::string format_cpu_list(const std::vector<int>& cpus) {
  std::string s;
  for (std::size_t i = 0; i < cpus.size();) {
    std::size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    if (!s.empty()) s += ',';
    s += std::to_string(cpus[i]);
    if (j > i) {
      s += '-';
      s += std::to_string(cpus[j]);
    }
    i = j + 1;
  }
  return s;
}

std::vector<int> cpu_intersection(const std::vector<int>& a, const std::vector<int>& b) {
  std::vector<int> out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

std::vector<int> cpu_difference(const std::vector<int>& a, const std::vector<int>& b) {
  std::vector<int> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

}  // namespace shadow
