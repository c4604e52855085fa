#include "feed/uring_reader.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "core/enum_names.h"
#include "core/tsc.h"

namespace shadow {
namespace {

constexpr std::uint64_t kRecvTag = 1;
constexpr std::uint64_t kSendTag = 2;
constexpr unsigned short kBufGroup = 0;

std::int64_t mono_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);  // vDSO: no syscall
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

unsigned round_pow2(unsigned v) noexcept {
  unsigned p = 1;
  while (p < v && p < 32768) p <<= 1;  // buffer ids are 16 bits; ring entries <= 32768
  return p;
}

std::atomic<bool> g_mode_logged{false};

// A blocking connect() cut short by a signal goes on in the background (POSIX): wait for it to
// finish and take its result. True when connected; false with errno set.
bool finish_interrupted_connect(int fd, int timeout_ms) noexcept {
  pollfd p{fd, POLLOUT, 0};
  int rc;
  do {
    rc = ::poll(&p, 1, timeout_ms);
  } while (rc < 0 && errno == EINTR);
  if (rc == 0) {
    errno = EINPROGRESS;  // reported as "timed out"
    return false;
  }
  int err = 0;
  socklen_t len = sizeof err;
  if (rc < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return false;
  errno = err;
  return err == 0;
}

void log_mode_once(bool enabled, UringRecvMode m) noexcept {
  if (!enabled || g_mode_logged.exchange(true)) return;
  std::fprintf(stderr, "uring_reader: recv mode %.*s\n", static_cast<int>(to_string(m).size()),
               to_string(m).data());
}

}  // namespace

constexpr auto kUringRecvModeNames = make_enum_names<UringRecvMode>({{UringRecvMode::kNone, "none"},
                                                                    {UringRecvMode::kMultishot, "multishot+buf_ring"},
                                                                    {UringRecvMode::kSingleShot, "single-shot"}});

std::string_view to_string(UringRecvMode m) noexcept { return kUringRecvModeNames.name(m); }

UringReader::UringReader(const UringReaderOptions& opts) : opts_(opts) {
  if (opts_.buffer_size < 256) opts_.buffer_size = 256;
  if (opts_.queue_depth < 4) opts_.queue_depth = 4;
  nbuf_ = round_pow2(opts_.buffer_count < 2 ? 2 : opts_.buffer_count);
  // Each buffer keeps kUringPadding readable bytes after its usable size (simdjson, WsDeframer),
  // and starts on a cache line.
  stride_ = (opts_.buffer_size + kUringPadding + 63) & ~std::size_t{63};
  buffers_ = std::make_unique<char[]>(nbuf_ * stride_);
  // The buffer ring must be page-aligned (IORING_REGISTER_PBUF_RING); liburing 2.3 has no
  // io_uring_setup_buf_ring(), so map it ourselves.
  br_bytes_ = nbuf_ * sizeof(io_uring_buf);
  void* m = mmap(nullptr, br_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  br_ = m == MAP_FAILED ? nullptr : static_cast<io_uring_buf_ring*>(m);
  if (opts_.send_buffer_size < 4096) opts_.send_buffer_size = 4096;
  sbuf_ = std::make_unique<char[]>(opts_.send_buffer_size);
}

UringReader::~UringReader() {
  close();
  if (br_ != nullptr) munmap(br_, br_bytes_);
}

bool UringReader::connect(const std::string& host, std::uint16_t port, std::string& error) {
  shut();
  mode_ = UringRecvMode::kNone;
  recv_armed_ = false;
  multishot_confirmed_ = false;

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string port_s = std::to_string(port);
  if (int rc = getaddrinfo(host.c_str(), port_s.c_str(), &hints, &res); rc != 0) {
    error = "resolve " + host + ": " + gai_strerror(rc);
    return false;
  }
  std::string last = "no address";
  int fd = -1;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last = std::string("socket: ") + std::strerror(errno);
      continue;
    }
    // SO_SNDTIMEO bounds a blocking connect on Linux; cleared again below.
    timeval tv{opts_.connect_timeout_ms / 1000, (opts_.connect_timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
    if (errno == EINTR && finish_interrupted_connect(fd, opts_.connect_timeout_ms)) break;
    last = std::string("connect: ") + (errno == EINPROGRESS ? "timed out" : std::strerror(errno));
    ::close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) {
    error = "connect to " + host + ":" + port_s + " failed: " + last;
    return false;
  }
  timeval zero{0, 0};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &zero, sizeof zero);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // client frames go out at once
  if (opts_.so_busy_poll_us > 0 &&
      setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &opts_.so_busy_poll_us,
                 sizeof opts_.so_busy_poll_us) != 0) {
    std::fprintf(stderr, "uring_reader: SO_BUSY_POLL %d us refused (%s); continuing without\n",
                 opts_.so_busy_poll_us, std::strerror(errno));
  }

  io_uring_params p{};
  if (opts_.sqpoll) {
    p.flags |= IORING_SETUP_SQPOLL;
    p.sq_thread_idle = opts_.sqpoll_idle_ms;
  }
  if (int rc = io_uring_queue_init_params(opts_.queue_depth, &ring_, &p); rc < 0) {
    ::close(fd);
    error = std::string("io_uring_queue_init") + (opts_.sqpoll ? " (SQPOLL)" : "") + ": " +
            std::strerror(-rc);
    return false;
  }
  ring_up_ = true;
  fd_ = fd;

  // Multishot needs a registered buffer ring (5.19) and IORING_RECV_MULTISHOT (6.0). A kernel
  // without the ring refuses the registration here; one without multishot recv answers the
  // first recv with -EINVAL, handled in next_event().
  mode_ = UringRecvMode::kSingleShot;
  if (opts_.multishot && br_ != nullptr) {
    io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<std::uint64_t>(br_);
    reg.ring_entries = nbuf_;
    reg.bgid = kBufGroup;
    if (io_uring_register_buf_ring(&ring_, &reg, 0) == 0) {
      io_uring_buf_ring_init(br_);
      const int mask = io_uring_buf_ring_mask(nbuf_);
      for (unsigned i = 0; i < nbuf_; ++i) {
        io_uring_buf_ring_add(br_, buffer(static_cast<int>(i)),
                              static_cast<unsigned>(opts_.buffer_size),
                              static_cast<unsigned short>(i), mask, static_cast<int>(i));
      }
      io_uring_buf_ring_advance(br_, static_cast<int>(nbuf_));
      mode_ = UringRecvMode::kMultishot;
    }
  }
  if (mode_ == UringRecvMode::kSingleShot) log_mode_once(opts_.log_mode, mode_);
  single_bid_ = 0;
  if (!arm_recv()) {
    shut();
    error = "io_uring: no SQE for the first recv";
    return false;
  }
  submit();
  return true;
}

bool UringReader::arm_recv() noexcept {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (sqe == nullptr) return false;
  if (mode_ == UringRecvMode::kMultishot) {
    io_uring_prep_recv_multishot(sqe, fd_, nullptr, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = kBufGroup;
  } else {
    io_uring_prep_recv(sqe, fd_, buffer(single_bid_), opts_.buffer_size, 0);
  }
  io_uring_sqe_set_data64(sqe, kRecvTag);
  recv_armed_ = true;
  return true;
}

void UringReader::submit() noexcept {
  if (!ring_up_ || io_uring_sq_ready(&ring_) == 0) return;
  // With SQPOLL, liburing enters the kernel only to wake a sleeping SQ thread.
  if (!opts_.sqpoll || (IO_URING_READ_ONCE(*ring_.sq.kflags) & IORING_SQ_NEED_WAKEUP)) {
    ++stats_.enter_calls;
  }
  io_uring_submit(&ring_);
}

bool UringReader::wait_for_completion() noexcept {
  submit();
  if (io_uring_cq_ready(&ring_) > 0) return true;
  if (opts_.busy_poll_cq) return false;
  __kernel_timespec ts{};
  ts.tv_sec = opts_.wait_timeout_us / 1'000'000;
  ts.tv_nsec = static_cast<long long>(opts_.wait_timeout_us % 1'000'000) * 1000;
  io_uring_cqe* cqe = nullptr;
  ++stats_.enter_calls;
  return io_uring_wait_cqe_timeout(&ring_, &cqe, &ts) == 0;
}

void UringReader::close_with(Event& ev, const char* reason) noexcept {
  std::snprintf(reason_, sizeof reason_, "%s", reason);
  ev.kind = Event::kClosed;
  ev.reason = reason_;
  shut();  // the connection failed: nothing queued can leave any more
}

bool UringReader::next_event(Event& ev) noexcept {
  if (!ring_up_ || io_uring_cq_ready(&ring_) == 0) return false;
  io_uring_cqe* cqe = nullptr;
  if (io_uring_peek_cqe(&ring_, &cqe) != 0 || cqe == nullptr) return false;
  const int res = cqe->res;
  const unsigned flags = cqe->flags;
  const std::uint64_t tag = io_uring_cqe_get_data64(cqe);
  io_uring_cqe_seen(&ring_, cqe);
  ++stats_.completions;
  ev = Event{};
  ev.recv_ns = mono_ns();
  reap_tsc_ = tsc_now();
  if (tag == kSendTag) {
    on_send_done(res, ev);
    return true;
  }
  if (tag != kRecvTag) return true;

  char why[128];
  if (mode_ == UringRecvMode::kMultishot) {
    if (!(flags & IORING_CQE_F_MORE)) recv_armed_ = false;  // multishot ended: re-arm below
    if (res > 0) {
      if (!(flags & IORING_CQE_F_BUFFER)) {
        close_with(ev, "io_uring: multishot recv completion without a buffer");
        return true;
      }
      if (!multishot_confirmed_) {
        multishot_confirmed_ = true;
        log_mode_once(opts_.log_mode, mode_);
      }
      ev.kind = Event::kData;
      ev.bid = static_cast<int>(flags >> IORING_CQE_BUFFER_SHIFT);
      ev.data = buffer(ev.bid);
      ev.len = static_cast<std::size_t>(res);
    } else if (res == -ENOBUFS) {
      ++stats_.no_buffers;  // the ring ran dry; the data waits in the socket
    } else if (res == -EINVAL && !multishot_confirmed_) {
      mode_ = UringRecvMode::kSingleShot;  // kernel without IORING_RECV_MULTISHOT
      log_mode_once(opts_.log_mode, mode_);
      recv_armed_ = false;
    } else if (res == 0) {
      close_with(ev, "connection closed by peer");
      return true;
    } else {
      std::snprintf(why, sizeof why, "recv: %s", std::strerror(-res));
      close_with(ev, why);
      return true;
    }
    if (!recv_armed_) {
      ++stats_.rearms;
      if (!arm_recv()) close_with(ev, "io_uring: no SQE to re-arm recv");
    }
    if (ev.kind == Event::kData) {
      ++stats_.chunks;
      stats_.bytes += ev.len;
    }
    return true;
  }

  // Single-shot: one recv in flight; the next one is armed when the consumer is done (release).
  recv_armed_ = false;
  if (res > 0) {
    ev.kind = Event::kData;
    ev.bid = single_bid_;
    ev.data = buffer(single_bid_);
    ev.len = static_cast<std::size_t>(res);
    ++stats_.chunks;
    stats_.bytes += ev.len;
  } else if (res == -EINTR || res == -EAGAIN) {
    ++stats_.rearms;
    if (!arm_recv()) close_with(ev, "io_uring: no SQE to re-arm recv");
  } else if (res == 0) {
    close_with(ev, "connection closed by peer");
  } else {
    std::snprintf(why, sizeof why, "recv: %s", std::strerror(-res));
    close_with(ev, why);
  }
  return true;
}

void UringReader::release(int bid) noexcept {
  if (!ring_up_) return;
  if (mode_ == UringRecvMode::kMultishot) {
    io_uring_buf_ring_add(br_, buffer(bid), static_cast<unsigned>(opts_.buffer_size),
                          static_cast<unsigned short>(bid), io_uring_buf_ring_mask(nbuf_), 0);
    io_uring_buf_ring_advance(br_, 1);
    return;
  }
  if (!recv_armed_) {
    single_bid_ = static_cast<int>((static_cast<unsigned>(bid) + 1) & (nbuf_ - 1));
    ++stats_.rearms;
    arm_recv();
  }
}

bool UringReader::send(const char* data, std::size_t len) noexcept {
  if (fd_ < 0) return false;
  if (len > opts_.send_buffer_size - s_used_) {
    ++stats_.send_refused;
    errno = ENOBUFS;
    return false;
  }
  std::memcpy(sbuf_.get() + s_used_, data, len);
  s_used_ += len;
  if (!send_inflight_ && !start_send()) return false;
  submit();  // out now, as a blocking send(2) would have done: one syscall, no wait
  return true;
}

bool UringReader::start_send() noexcept {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (sqe == nullptr) {
    submit();
    sqe = io_uring_get_sqe(&ring_);
    if (sqe == nullptr) return false;
  }
  // One send at a time: two in flight on a stream socket could complete out of order.
  io_uring_prep_send(sqe, fd_, sbuf_.get() + s_sent_, s_used_ - s_sent_, MSG_NOSIGNAL);
  io_uring_sqe_set_data64(sqe, kSendTag);
  s_inflight_end_ = s_used_;
  send_inflight_ = true;
  ++stats_.send_calls;
  return true;
}

void UringReader::on_send_done(int res, Event& ev) noexcept {
  send_inflight_ = false;
  if (res <= 0) {
    char why[128];
    std::snprintf(why, sizeof why, "send: %s", res == 0 ? "nothing sent" : std::strerror(-res));
    close_with(ev, why);
    return;
  }
  s_sent_ += static_cast<std::size_t>(res);
  if (s_sent_ < s_inflight_end_) ++stats_.send_partial;  // the rest goes in the next request
  if (s_sent_ == s_used_) {
    s_sent_ = s_used_ = s_inflight_end_ = 0;  // all out: the staging buffer starts over
    return;
  }
  if (s_sent_ == s_inflight_end_) {
    // Compact what was queued meanwhile to the front (no send in flight reads the buffer now).
    std::memmove(sbuf_.get(), sbuf_.get() + s_sent_, s_used_ - s_sent_);
    s_used_ -= s_sent_;
    s_sent_ = s_inflight_end_ = 0;
  }
  if (!start_send()) close_with(ev, "io_uring: no SQE for a send");
}

void UringReader::drain_sends() noexcept {
  if (!ring_up_ || fd_ < 0 || send_backlog() == 0) return;
  const std::int64_t deadline = mono_ns() + 100'000'000;
  submit();
  while (fd_ >= 0 && send_backlog() > 0 && mono_ns() < deadline) {
    __kernel_timespec ts{0, 10'000'000};
    io_uring_cqe* cqe = nullptr;
    if (io_uring_wait_cqe_timeout(&ring_, &cqe, &ts) != 0) continue;
    Event ev;
    next_event(ev);  // a send completion advances; data that arrives now is dropped
    if (ev.kind == Event::kData && ev.bid >= 0) release(ev.bid);
    if (fd_ >= 0) submit();
  }
}

void UringReader::close() noexcept {
  drain_sends();
  shut();
}

void UringReader::shut() noexcept {
  if (fd_ >= 0) {
    ::shutdown(fd_, SHUT_RDWR);  // completes an in-flight recv before the ring goes away
    ::close(fd_);
    fd_ = -1;
  }
  if (ring_up_) {
    io_uring_queue_exit(&ring_);
    ring_up_ = false;
  }
  recv_armed_ = false;
  send_inflight_ = false;
  s_used_ = s_sent_ = s_inflight_end_ = 0;
}

}  // namespace shadow
