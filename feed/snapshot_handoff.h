// SnapshotHandoff: the buffer pool between DepthSnapshotFetcher's worker thread, which fills
// buffers with REST answers, and the feed thread, which decodes them.
//
// A fixed set of buffers circulates through two SPSC rings (ringbuf/spsc_ring.h): the worker
// publish()es a filled buffer into `ready`, the feed thread take()s it, decodes in place and
// release()s it into `returned`, from which the worker acquire()s it again. A buffer is owned by
// exactly one side at a time, so its bytes need no lock; the rings' release/acquire ordering
// makes the worker's writes visible to the feed thread and the feed thread's reads finished
// before the worker writes again. The feed side (take, release) is wait-free and never
// allocates; buffers grow only on the worker (SnapshotBuffer::append), up to the fetcher's cap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "ringbuf/spsc_ring.h"

namespace shadow {

// Bytes kept readable after every body: simdjson's SIMDJSON_PADDING (checked by a static_assert
// in depth_snapshot_fetcher.cc, which includes simdjson), the decoders' padded-input contract.
inline constexpr std::size_t kSnapshotPadding = 64;

// One completed depth snapshot as the feed thread sees it.
struct DepthSnapshot {
  const char* data = nullptr;   // the answer's JSON text, data[0, size), as the venue sent it
  std::size_t size = 0;
  std::size_t capacity = 0;     // data[size, capacity) is readable: capacity - size >= 64
  std::uint32_t symbol_index = 0;   // index into DepthSnapshotConfig::symbols
  std::uint64_t last_update_id = 0; // the answer's lastUpdateId (also decoded by BinanceDecoder)
  std::int64_t request_mono_ns = 0; // CLOCK_MONOTONIC when the request was sent
  std::int64_t recv_mono_ns = 0;    // CLOCK_MONOTONIC when the whole answer was in
  std::int64_t recv_realtime_ns = 0;

  std::string_view json() const noexcept { return {data, size}; }
};

// A DepthSnapshot with its storage. Only the worker thread writes one, and only while it owns it.
class SnapshotBuffer : public DepthSnapshot {
 public:
  explicit SnapshotBuffer(std::size_t initial_bytes);
  // Empties the text (keeps the storage).
  void clear() noexcept;
  // Appends n bytes, growing the storage (worker thread) as needed. False, nothing appended,
  // when the text would pass `max_size`.
  bool append(const char* p, std::size_t n, std::size_t max_size);
  // Zeroes the padding after the text and points data/capacity at the storage.
  void seal() noexcept;

 private:
  void reserve(std::size_t bytes);
  std::unique_ptr<char[]> bytes_;
  std::size_t cap_ = 0;  // storage size, padding included
};

class SnapshotHandoff {
 public:
  // `buffers` >= 1 buffers of `initial_bytes` each (they grow on the worker when needed).
  SnapshotHandoff(std::size_t buffers, std::size_t initial_bytes);
  SnapshotHandoff(const SnapshotHandoff&) = delete;
  SnapshotHandoff& operator=(const SnapshotHandoff&) = delete;

  // Worker thread. A buffer the worker may fill, or nullptr while the feed thread holds every
  // buffer (taken and not released, or published and not taken).
  SnapshotBuffer* acquire() noexcept;
  // Worker thread: hands a filled buffer to the feed thread. Never fails (the ring holds every
  // buffer there is).
  void publish(SnapshotBuffer* b) noexcept;
  // Worker thread: gives back a buffer acquire()d but not published (the fetch failed).
  void recycle(SnapshotBuffer* b) noexcept;

  // Feed thread: the oldest published snapshot not taken yet, or nullptr. It stays valid, and
  // its bytes unchanged, until release(). Wait-free, no allocation.
  const DepthSnapshot* take() noexcept;
  // Feed thread: the snapshot is decoded; its buffer goes back to the worker. Wait-free.
  void release(const DepthSnapshot* s) noexcept;

  std::size_t buffers() const noexcept { return all_.size(); }

 private:
  std::vector<std::unique_ptr<SnapshotBuffer>> all_;
  std::vector<SnapshotBuffer*> spare_;  // worker-only: buffers it holds and may fill
  SpscRing<SnapshotBuffer*> ready_;     // worker -> feed
  SpscRing<SnapshotBuffer*> returned_;  // feed -> worker
};

}  // namespace shadow
