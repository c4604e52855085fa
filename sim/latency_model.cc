#include "sim/latency_model.h"

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "core/fixed_point.h"
#include "core/random.h"

namespace shadow {

LatencyModel LatencyModel::constant(std::int64_t ns) {
  if (ns < 0) throw std::invalid_argument("LatencyModel: constant latency must be >= 0 ns");
  LatencyModel m;
  m.constant_ns_ = ns;
  return m;
}

LatencyModel LatencyModel::sampled(std::vector<std::int64_t> samples_ns, std::uint64_t seed) {
  if (samples_ns.empty()) throw std::invalid_argument("LatencyModel: no latency samples");
  for (const std::int64_t s : samples_ns) {
    if (s < 0) throw std::invalid_argument("LatencyModel: latency samples must be >= 0 ns");
  }
  LatencyModel m;
  m.samples_ = std::move(samples_ns);
  m.state_ = seed;
  return m;
}

std::size_t LatencyModel::index(std::size_t n) noexcept {
  // Lemire's multiply-shift maps a 64-bit draw onto [0, n) without a division; the bias is
  // n / 2^64, far below anything a latency file could show.
  __extension__ using U128 = unsigned __int128;
  return static_cast<std::size_t>((static_cast<U128>(splitmix64(state_)) * n) >> 64);
}

namespace {

std::string_view trim(std::string_view s) {
  const auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && ws(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

std::vector<std::int64_t> LatencyModel::parse_latency_file(std::string_view text,
                                                           std::string_view name) {
  std::vector<std::int64_t> out;
  std::size_t line_no = 0;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    if (const std::size_t hash = line.find('#'); hash != std::string_view::npos) {
      line = line.substr(0, hash);
    }
    line = trim(line);
    if (line.empty()) continue;
    // Microseconds as an exact decimal (no double): 1 us = 1e8 Fixed units = 1000 ns, so
    // ns = round(v / 1e5). Sub-ns digits round half up.
    Fixed us = 0;
    if (!parse_fixed(line, us) || us < 0 || line.front() == '-' || line.front() == '+') {
      std::ostringstream msg;
      msg << name << ":" << line_no << ": not a non-negative number of microseconds: '" << line
          << "'";
      throw std::runtime_error(msg.str());
    }
    out.push_back(us / 100'000 + (us % 100'000 >= 50'000 ? 1 : 0));
  }
  if (out.empty()) {
    throw std::runtime_error(std::string(name) + ":" + std::to_string(line_no) +
                             ": no latency in the file");
  }
  return out;
}

LatencyModel LatencyModel::from_file(const std::string& path, std::uint64_t seed) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ":0: cannot open the latency file");
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) throw std::runtime_error(path + ":0: read error");
  return sampled(parse_latency_file(buf.str(), path), seed);
}

}  // namespace shadow
