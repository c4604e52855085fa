#include "bench/send_log.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "core/market_event.h"

namespace shadow::bench {

bool read_send_log(const std::string& path, std::vector<SendRecord>& out, std::string& error) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    error = "cannot open the send log " + path + ": " + std::strerror(errno);
    return false;
  }
  // One fread for the whole file (a few big reads instead of one per 4 KiB: the strace count
  // of this thread stays about the hot path).
  struct stat sb{};
  const std::size_t n = fstat(fileno(f), &sb) == 0 ? static_cast<std::size_t>(sb.st_size) / sizeof(SendRecord) : 0;
  out.resize(n);
  std::setvbuf(f, nullptr, _IONBF, 0);
  const std::size_t got = n > 0 ? std::fread(out.data(), sizeof(SendRecord), n, f) : 0;
  out.resize(got);
  std::fclose(f);
  if (got != n) {
    error = "short read of the send log " + path;
    return false;
  }
  return true;
}

SendLogJoin join_send_log(const std::vector<SendRecord>& log, const DecodedRecord* records,
                          std::size_t n, std::int64_t window_start, std::int64_t window_end) {
  SendLogJoin j;
  std::vector<SendRecord> deltas;
  deltas.reserve(log.size());
  for (const SendRecord& r : log) {
    if (r.kind != 1 || r.market != 0) continue;
    deltas.push_back(r);
    if (r.sent_ns >= window_start && r.sent_ns < window_end) ++j.sent_in_window;
  }
  std::sort(deltas.begin(), deltas.end(),
            [](const SendRecord& a, const SendRecord& b) { return a.u < b.u; });
  std::vector<std::int64_t> a, b, c, e;
  a.reserve(n);
  b.reserve(n);
  c.reserve(n);
  e.reserve(n);
  std::uint64_t u_min = UINT64_MAX, u_max = 0, matched = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const DecodedRecord& r = records[i];
    if (r.kind != static_cast<std::uint32_t>(EventKind::kBookDelta)) continue;
    const auto it = std::lower_bound(deltas.begin(), deltas.end(), r.u,
                                     [](const SendRecord& s, std::uint64_t u) { return s.u < u; });
    if (it == deltas.end() || it->u != r.u) {
      ++j.unmatched;
      continue;
    }
    ++matched;
    u_min = std::min(u_min, r.u);
    u_max = std::max(u_max, r.u);
    a.push_back(r.decoded_ns - it->intended_ns);
    b.push_back(r.decoded_ns - it->sent_ns);
    c.push_back(r.reaped_ns - it->sent_ns);
    e.push_back(it->sent_ns - it->intended_ns);
  }
  if (matched > 0) {
    const auto lo = std::lower_bound(deltas.begin(), deltas.end(), u_min,
                                     [](const SendRecord& s, std::uint64_t u) { return s.u < u; });
    const auto hi = std::upper_bound(deltas.begin(), deltas.end(), u_max,
                                     [](std::uint64_t u, const SendRecord& s) { return u < s.u; });
    const auto logged = static_cast<std::uint64_t>(hi - lo);
    j.lost = logged > matched ? logged - matched : 0;
  }
  j.intended_to_decoded = summarize(a);
  j.sent_to_decoded = summarize(b);
  j.sent_to_reaped = summarize(c);
  j.intended_to_sent = summarize(e);
  return j;
}

}  // namespace shadow::bench
