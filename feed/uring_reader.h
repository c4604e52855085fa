// UringReader: a TCP client connection whose receive side runs on io_uring.
//
// DESIGN.md "Data flow": the feed thread gets its bytes from an io_uring multishot recv fed by
// a provided-buffer ring, so that in steady state no syscall is made per message (one
// io_uring_enter per wait at most, none at all when busy-polling the completion queue, and
// with SQPOLL not even to re-arm). Kernels without multishot recv or buffer rings (< 6.0 and
// < 5.19) get single-shot recv into the same buffers, one request in flight.
#pragma once

#include <liburing.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace shadow {

// Readable bytes after every chunk handed to on_data() (== kWsPadding, simdjson's padding).
inline constexpr std::size_t kUringPadding = 64;

struct UringReaderOptions {
  std::size_t buffer_size = 64 * 1024;  // usable bytes per recv buffer (kUringPadding more allocated)
  unsigned buffer_count = 64;           // provided buffers; rounded up to a power of two
  unsigned queue_depth = 64;            // SQ entries
  bool multishot = true;                // false forces the single-shot fallback (tests, old kernels)
  bool sqpoll = false;                  // IORING_SETUP_SQPOLL: a kernel thread submits for us
  unsigned sqpoll_idle_ms = 1000;       // SQPOLL thread idle time before it sleeps
  bool busy_poll_cq = false;            // true: poll() only peeks the CQ (no syscall when idle)
  int wait_timeout_us = 1000;           // false: poll() waits up to this long for a completion
  int so_busy_poll_us = 0;              // SO_BUSY_POLL on the socket when > 0 (may need CAP_NET_ADMIN)
  int connect_timeout_ms = 5000;
  std::size_t send_buffer_size = 256 * 1024;  // staging for io_uring sends, allocated once
  bool log_mode = true;                 // print the chosen recv mode once per process (stderr)
};

enum class UringRecvMode : std::uint8_t { kNone, kMultishot, kSingleShot };
std::string_view to_string(UringRecvMode m) noexcept;  // "none", "multishot+buf_ring", "single-shot"

// Counters for "syscalls per message" reports. enter_calls counts the io_uring_enter calls this
// class makes (through liburing: submits that must enter, waits that find no completion ready).
struct UringReaderStats {
  std::uint64_t enter_calls = 0;    // io_uring_enter syscalls
  std::uint64_t send_calls = 0;     // io_uring send requests (client frames; submitted with the
                                    // recv SQEs, so their syscalls are in enter_calls)
  std::uint64_t send_partial = 0;   // send completions that sent less than asked (re-queued)
  std::uint64_t send_refused = 0;   // send() calls refused: staging buffer full
  std::uint64_t completions = 0;    // CQEs reaped
  std::uint64_t chunks = 0;         // on_data() calls
  std::uint64_t bytes = 0;          // bytes received
  std::uint64_t rearms = 0;         // recv requests submitted after the first (multishot ended / single-shot)
  std::uint64_t no_buffers = 0;     // -ENOBUFS completions (buffer ring ran dry)
};

// UringReader: one connection at a time; connect() again after close() (restartable).
//
//   shadow::UringReader r(opts);                       // allocates all buffers, once
//   if (!r.connect("127.0.0.1", 9000, err)) die(err);
//   r.send(req.data(), req.size());                  // io_uring send, never blocks
//   while (r.is_open()) r.poll(handler);              // handler.on_data / on_closed
//
// Handler: `void on_data(const char* p, std::size_t n, std::int64_t recv_mono_ns)` — a received
// chunk, readable up to p + n + kUringPadding, valid only during the call (its buffer goes back
// to the ring when on_data returns); recv_mono_ns is CLOCK_MONOTONIC when the completion was
// reaped (the start of wire-to-decision latency). `void on_closed(std::string_view reason)` —
// EOF or an error; the reader is closed before it is called. The handler may call send() and
// close() from inside either callback.
//
// Threading: not thread-safe; one thread connects, polls and sends. poll() is noexcept and does
// not allocate.
class UringReader {
 public:
  explicit UringReader(const UringReaderOptions& opts = {});
  ~UringReader();
  UringReader(const UringReader&) = delete;
  UringReader& operator=(const UringReader&) = delete;

  // Resolves host (numeric IPv4/IPv6 or a name), connects (blocking, with the timeout), sets
  // TCP_NODELAY (and SO_BUSY_POLL), sets up the ring and arms the receive. False + error.
  bool connect(const std::string& host, std::uint16_t port, std::string& error);

  // Reaps the available completions (waiting up to wait_timeout_us when not busy-polling and
  // none is ready) and calls the handler. Returns the number of callbacks made.
  template <class Handler>
  int poll(Handler& h) noexcept;

  // Queues all bytes for an io_uring send (copied into the staging buffer, submitted at once;
  // one send request in flight at a time, so bytes leave in order). Never blocks. False when
  // not connected or the staging buffer (send_buffer_size) cannot take them; a failed send
  // completion closes the connection (on_closed names the error).
  bool send(const char* data, std::size_t len) noexcept;
  // Bytes queued or in flight, not yet confirmed sent.
  std::size_t send_backlog() const noexcept { return s_used_ - s_sent_; }
  // Closes socket and ring; no callback. What is still queued gets up to 100 ms to leave (a
  // close frame must reach the peer). Safe to call twice and from inside a callback.
  void close() noexcept;
  bool is_open() const noexcept { return fd_ >= 0; }
  int fd() const noexcept { return fd_; }
  UringRecvMode mode() const noexcept { return mode_; }
  const UringReaderStats& stats() const noexcept { return stats_; }
  // The time-stamp counter (core/tsc.h) when the completion being handled was reaped: the
  // per-stage breakdown's start, read from inside on_data.
  std::uint64_t reap_tsc() const noexcept { return reap_tsc_; }
  const UringReaderOptions& options() const noexcept { return opts_; }

 private:
  // One reaped completion, decoded (non-template part of poll()).
  struct Event {
    enum Kind : std::uint8_t { kNothing, kData, kClosed } kind = kNothing;
    const char* data = nullptr;
    std::size_t len = 0;
    int bid = -1;             // buffer to give back after the handler, -1 none
    std::int64_t recv_ns = 0; // CLOCK_MONOTONIC when reaped
    const char* reason = "";  // kClosed
  };

  bool wait_for_completion() noexcept;           // submit pending SQEs; wait if configured
  bool next_event(Event& ev) noexcept;           // false: CQ empty
  void release(int bid) noexcept;                // buffer back to the ring / re-arm single-shot
  bool arm_recv() noexcept;                      // queue the (multishot or single) recv SQE
  void submit() noexcept;
  char* buffer(int bid) const noexcept { return buffers_.get() + static_cast<std::size_t>(bid) * stride_; }
  void close_with(Event& ev, const char* reason) noexcept;
  bool start_send() noexcept;                    // one send SQE for sbuf_[s_sent_, s_used_)
  void on_send_done(int res, Event& ev) noexcept;
  void drain_sends() noexcept;                   // close(): let queued bytes leave (bounded)
  void shut() noexcept;                          // closes socket and ring at once

  UringReaderOptions opts_;
  unsigned nbuf_ = 0;
  std::size_t stride_ = 0;
  std::unique_ptr<char[]> buffers_;              // nbuf_ * stride_ bytes, allocated once
  io_uring_buf_ring* br_ = nullptr;              // page-aligned, allocated once
  std::size_t br_bytes_ = 0;

  io_uring ring_{};
  bool ring_up_ = false;
  int fd_ = -1;
  UringRecvMode mode_ = UringRecvMode::kNone;
  bool recv_armed_ = false;                      // a recv request is in flight
  bool multishot_confirmed_ = false;             // a multishot CQE with data has been seen
  int single_bid_ = 0;                           // buffer of the in-flight single-shot recv
  char reason_[160] = {};
  std::unique_ptr<char[]> sbuf_;                 // send staging, allocated once
  std::size_t s_used_ = 0;                       // bytes queued in sbuf_
  std::size_t s_sent_ = 0;                       // bytes confirmed sent (from the start)
  std::size_t s_inflight_end_ = 0;               // end of the in-flight send's range
  bool send_inflight_ = false;
  UringReaderStats stats_;
  std::uint64_t reap_tsc_ = 0;
};

template <class Handler>
int UringReader::poll(Handler& h) noexcept {
  if (fd_ < 0) return 0;
  if (!wait_for_completion()) return 0;
  int calls = 0;
  Event ev;
  while (fd_ >= 0 && next_event(ev)) {
    if (ev.kind == Event::kData) {
      h.on_data(ev.data, ev.len, ev.recv_ns);
      ++calls;
      if (ev.bid >= 0) release(ev.bid);
    } else if (ev.kind == Event::kClosed) {
      h.on_closed(std::string_view(ev.reason));
      ++calls;
      break;
    }
  }
  if (fd_ >= 0) submit();
  return calls;
}

}  // namespace shadow
