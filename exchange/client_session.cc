#include "exchange/client_session.h"

#include <algorithm>
#include <cstdio>

#include "core/clock.h"

namespace shadow {

bool ClientSession::has_topic(std::string_view t) const noexcept {
  return std::find(topics.begin(), topics.end(), t) != topics.end();
}

bool ClientSession::queue_frame(WsOpcode op, std::string_view payload) {
  if (aborting) return false;
  ws_append_server_frame(out, op, payload);
  return true;
}

void ClientSession::queue_close(std::uint16_t code, std::string_view reason) {
  if (closing || aborting) return;
  ws_append_server_close(out, code, reason);
  closing = true;
}

void ClientSession::written(std::size_t n, SendLog* log) {
  out_off += n;
  if (log_marks.empty() || log == nullptr) return;
  const std::uint64_t done = out_base + out_off;
  std::int64_t now = -1;
  while (log_head < log_marks.size() && log_marks[log_head].first <= done) {
    if (now < 0) now = monotonic_ns();
    log->stamp(log_marks[log_head].second, now);
    ++log_head;
  }
  if (log_head == log_marks.size()) {
    log_marks.clear();
    log_head = 0;
  }
}

void ClientSession::clear_written() noexcept {
  out_base += out.size();
  out.clear();
  out_off = 0;
}

void ClientSession::compact() noexcept {
  if (out_off <= (1u << 20)) return;
  out.erase(0, out_off);
  out_base += out_off;
  out_off = 0;
}

std::string connection_id(std::uint64_t client, std::uint64_t seed) {
  std::uint64_t x = client * 0x9E3779B97F4A7C15ull ^ seed;
  x ^= x >> 31;
  x *= 0xBF58476D1CE4E5B9ull;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-a%03x-%012llx",
                static_cast<unsigned>(x >> 32), static_cast<unsigned>((x >> 16) & 0xFFFF),
                static_cast<unsigned>(x & 0xFFF), static_cast<unsigned>(client & 0xFFF),
                static_cast<unsigned long long>(client));
  return buf;
}

}  // namespace shadow
