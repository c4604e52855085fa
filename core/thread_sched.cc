#include "core/thread_sched.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>

namespace shadow {
namespace {

// Reads a small /proc file into buf (NUL-free view); false when it cannot be read.
bool read_small(const char* path, char* buf, std::size_t cap, std::string_view& out) noexcept {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  std::size_t n = 0;
  while (n < cap) {
    const ssize_t r = ::read(fd, buf + n, cap - n);
    if (r <= 0) break;
    n += static_cast<std::size_t>(r);
  }
  ::close(fd);
  out = std::string_view(buf, n);
  return n > 0;
}

bool number_after(std::string_view text, std::string_view key, std::uint64_t& v) noexcept {
  const std::size_t at = text.find(key);
  if (at == std::string_view::npos) return false;
  std::size_t i = at + key.size();
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
  const auto r = std::from_chars(text.data() + i, text.data() + text.size(), v);
  return r.ec == std::errc{};
}

}  // namespace

ThreadSched ThreadSched::since(const ThreadSched& b) const noexcept {
  const auto d = [](std::uint64_t now, std::uint64_t then) { return now >= then ? now - then : 0; };
  ThreadSched s;
  s.ok = ok && b.ok;
  s.voluntary = d(voluntary, b.voluntary);
  s.involuntary = d(involuntary, b.involuntary);
  s.on_cpu_ns = d(on_cpu_ns, b.on_cpu_ns);
  s.runqueue_ns = d(runqueue_ns, b.runqueue_ns);
  s.timeslices = d(timeslices, b.timeslices);
  s.minor_faults = d(minor_faults, b.minor_faults);
  return s;
}

int current_tid() noexcept { return static_cast<int>(::syscall(SYS_gettid)); }

bool parse_status_switches(std::string_view status, ThreadSched& out) noexcept {
  return number_after(status, "\nvoluntary_ctxt_switches:", out.voluntary) &&
         number_after(status, "\nnonvoluntary_ctxt_switches:", out.involuntary);
}

bool parse_schedstat(std::string_view line, ThreadSched& out) noexcept {
  std::uint64_t v[3];
  const char* p = line.data();
  const char* end = line.data() + line.size();
  for (std::uint64_t& x : v) {
    while (p < end && *p == ' ') ++p;
    const auto r = std::from_chars(p, end, x);
    if (r.ec != std::errc{}) return false;
    p = r.ptr;
  }
  out.on_cpu_ns = v[0];
  out.runqueue_ns = v[1];
  out.timeslices = v[2];
  return true;
}

bool parse_stat_faults(std::string_view line, ThreadSched& out) noexcept {
  const std::size_t close = line.rfind(')');
  if (close == std::string_view::npos) return false;
  const char* p = line.data() + close + 1;
  const char* const end = line.data() + line.size();
  // Fields 3 (state) to 9 (flags), then 10: minflt.
  for (int field = 3; field <= 10; ++field) {
    while (p < end && *p == ' ') ++p;
    if (p == end) return false;
    if (field == 10) {
      const auto r = std::from_chars(p, end, out.minor_faults);
      return r.ec == std::errc{};
    }
    while (p < end && *p != ' ') ++p;
  }
  return false;
}

ThreadSched read_thread_sched(int tid) noexcept {
  ThreadSched s;
  if (tid <= 0) return s;
  char path[64];
  char buf[4096];
  std::string_view text;
  std::snprintf(path, sizeof path, "/proc/self/task/%d/status", tid);
  if (!read_small(path, buf, sizeof buf, text) || !parse_status_switches(text, s)) return s;
  std::snprintf(path, sizeof path, "/proc/self/task/%d/schedstat", tid);
  if (!read_small(path, buf, sizeof buf, text) || !parse_schedstat(text, s)) return s;
  std::snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
  if (!read_small(path, buf, sizeof buf, text) || !parse_stat_faults(text, s)) return s;
  s.ok = true;
  return s;
}

}  // namespace shadow
