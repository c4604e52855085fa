#include "bench/tcp_pingpong.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

#include "core/clock.h"
#include "core/enum_names.h"
#include "core/thread_affinity.h"
#include "feed/uring_reader.h"

namespace shadow::bench {
namespace {

void set_nodelay(int fd) noexcept {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// Receives exactly n bytes: blocking, or spinning on MSG_DONTWAIT. False on EOF or error.
bool recv_exact(int fd, char* p, std::size_t n, bool spin) noexcept {
  while (n > 0) {
    const ssize_t r = ::recv(fd, p, n, spin ? MSG_DONTWAIT : 0);
    if (r > 0) {
      p += r;
      n -= static_cast<std::size_t>(r);
    } else if (r == 0) {
      return false;
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      return false;
    }
  }
  return true;
}

bool send_all(int fd, const char* p, std::size_t n) noexcept {
  while (n > 0) {
    const ssize_t r = ::send(fd, p, n, MSG_NOSIGNAL);
    if (r < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

// The timing side's receive through UringReader: counts bytes until a whole message is in.
struct UringSink {
  std::size_t got = 0;
  bool closed = false;
  void on_data(const char*, std::size_t n, std::int64_t) noexcept { got += n; }
  void on_closed(std::string_view) noexcept { closed = true; }
};

}  // namespace

constexpr auto kPingPongKindNames = make_enum_names<PingPongKind>({
    {PingPongKind::kBlocking, "blocking recv"},
    {PingPongKind::kBusy, "busy-poll recv"},
    {PingPongKind::kUring, "UringReader busy-poll"},
});

std::string_view to_string(PingPongKind k) noexcept { return kPingPongKindNames.name(k, "?"); }

PingPongResult run_tcp_pingpong(PingPongKind kind, std::size_t size, std::size_t rounds,
                                std::size_t warmup, int echo_cpu, bool sqpoll,
                                double max_seconds) {
  PingPongResult res;
  if (size == 0 || size > 65536) {
    res.error = "ping-pong size must be 1..65536";
    return res;
  }
  const int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t alen = sizeof addr;
  if (lfd < 0 || ::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(lfd, 1) != 0 ||
      ::getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &alen) != 0) {
    res.error = std::string("ping-pong listener: ") + std::strerror(errno);
    if (lfd >= 0) ::close(lfd);
    return res;
  }
  const std::uint16_t port = ntohs(addr.sin_port);
  const bool echo_spins = kind != PingPongKind::kBlocking;

  // Echo side: accept one connection, then read a whole message and write it back until EOF.
  std::thread echo([lfd, size, echo_spins, echo_cpu] {
    if (echo_cpu >= 0) pin_current_thread(echo_cpu);
    name_current_thread("pingpong-echo");
    const int fd = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    set_nodelay(fd);
    std::vector<char> buf(size);
    while (recv_exact(fd, buf.data(), size, echo_spins) && send_all(fd, buf.data(), size)) {
    }
    ::close(fd);
  });

  std::vector<char> msg(size, 'x');
  std::vector<char> back(size);
  res.one_way_ns.reserve(rounds);
  const std::size_t total = warmup + rounds;
  const std::int64_t start = monotonic_ns();
  const std::int64_t deadline = start + static_cast<std::int64_t>(max_seconds * 1e9);
  // Warm-up ends after `warmup` rounds or a fifth of the time budget, whichever comes first.
  const std::int64_t warm_end = start + static_cast<std::int64_t>(max_seconds * 0.2e9);

  if (kind == PingPongKind::kUring) {
    UringReaderOptions o;
    o.busy_poll_cq = true;
    o.sqpoll = sqpoll;
    o.buffer_count = 8;
    o.log_mode = false;
    UringReader r(o);
    std::string err;
    if (!r.connect("127.0.0.1", port, err)) {
      res.error = "ping-pong UringReader connect: " + err;
    } else {
      UringSink sink;
      for (std::size_t i = 0; i < total && res.error.empty(); ++i) {
        const std::int64_t t0 = monotonic_ns();
        if (!r.send(msg.data(), size)) {
          res.error = std::string("ping-pong send: ") + std::strerror(errno);
          break;
        }
        sink.got = 0;
        while (sink.got < size && !sink.closed) r.poll(sink);
        if (sink.closed) {
          res.error = "ping-pong: echo side closed the connection";
          break;
        }
        const std::int64_t t1 = monotonic_ns();
        if (i >= warmup || t0 > warm_end) res.one_way_ns.push_back((t1 - t0) / 2);
        if (t1 > deadline) break;
      }
      r.close();
    }
  } else {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      res.error = std::string("ping-pong connect: ") + std::strerror(errno);
    } else {
      set_nodelay(fd);
      const bool spin = kind == PingPongKind::kBusy;
      for (std::size_t i = 0; i < total; ++i) {
        const std::int64_t t0 = monotonic_ns();
        if (!send_all(fd, msg.data(), size) || !recv_exact(fd, back.data(), size, spin)) {
          res.error = std::string("ping-pong round trip failed: ") + std::strerror(errno);
          break;
        }
        const std::int64_t t1 = monotonic_ns();
        if (i >= warmup || t0 > warm_end) res.one_way_ns.push_back((t1 - t0) / 2);
        if (t1 > deadline) break;
      }
    }
    if (fd >= 0) ::close(fd);
  }
  // If the client never connected, the echo thread is still in accept(): wake it.
  ::shutdown(lfd, SHUT_RDWR);
  echo.join();
  ::close(lfd);
  std::sort(res.one_way_ns.begin(), res.one_way_ns.end());
  return res;
}

}  // namespace shadow::bench
