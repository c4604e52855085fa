#include "feed/snapshot_handoff.h"

#include <algorithm>
#include <cstring>

namespace shadow {

SnapshotBuffer::SnapshotBuffer(std::size_t initial_bytes) {
  reserve(initial_bytes + kSnapshotPadding);
  seal();
}

void SnapshotBuffer::reserve(std::size_t bytes) {
  if (bytes <= cap_) return;
  auto grown = std::make_unique<char[]>(bytes);
  if (size != 0) std::memcpy(grown.get(), bytes_.get(), size);
  bytes_ = std::move(grown);
  cap_ = bytes;
  data = bytes_.get();
  capacity = cap_;
}

void SnapshotBuffer::clear() noexcept {
  size = 0;
  last_update_id = 0;
}

bool SnapshotBuffer::append(const char* p, std::size_t n, std::size_t max_size) {
  if (n > max_size || size > max_size - n) return false;
  const std::size_t need = size + n + kSnapshotPadding;
  if (need > cap_) reserve(std::max(need, cap_ * 2));
  std::memcpy(bytes_.get() + size, p, n);
  size += n;
  return true;
}

void SnapshotBuffer::seal() noexcept {
  std::memset(bytes_.get() + size, 0, kSnapshotPadding);  // append() kept this much room
  data = bytes_.get();
  capacity = cap_;
}

SnapshotHandoff::SnapshotHandoff(std::size_t buffers, std::size_t initial_bytes)
    : ready_(buffers == 0 ? 1 : buffers), returned_(buffers == 0 ? 1 : buffers) {
  if (buffers == 0) buffers = 1;
  all_.reserve(buffers);
  spare_.reserve(buffers);
  for (std::size_t i = 0; i < buffers; ++i) {
    all_.push_back(std::make_unique<SnapshotBuffer>(initial_bytes));
    spare_.push_back(all_.back().get());
  }
}

SnapshotBuffer* SnapshotHandoff::acquire() noexcept {
  SnapshotBuffer* b = nullptr;
  while (returned_.try_pop(b)) spare_.push_back(b);  // capacity reserved: never allocates
  if (spare_.empty()) return nullptr;
  b = spare_.back();
  spare_.pop_back();
  b->clear();
  return b;
}

void SnapshotHandoff::publish(SnapshotBuffer* b) noexcept {
  b->seal();
  // Cannot fail: the ring's capacity is at least the number of buffers.
  [[maybe_unused]] const bool ok = ready_.try_push(b);
}

void SnapshotHandoff::recycle(SnapshotBuffer* b) noexcept {
  b->clear();
  spare_.push_back(b);
}

const DepthSnapshot* SnapshotHandoff::take() noexcept {
  SnapshotBuffer* b = nullptr;
  return ready_.try_pop(b) ? b : nullptr;
}

void SnapshotHandoff::release(const DepthSnapshot* s) noexcept {
  if (s == nullptr) return;
  // Every DepthSnapshot handed out is the base of a SnapshotBuffer of this pool.
  auto* b = static_cast<SnapshotBuffer*>(const_cast<DepthSnapshot*>(s));
  [[maybe_unused]] const bool ok = returned_.try_push(b);
}

}  // namespace shadow
