#include "sim/book_sync.h"

#include <cstring>

namespace shadow {

MessageBuffer::MessageBuffer(std::size_t capacity_events, bool prefault) : slots_(capacity_events) {
  if (prefault) std::memset(static_cast<void*>(slots_.data()), 0, slots_.size() * sizeof(MarketEvent));
}

std::size_t MessageBuffer::push(const MarketEvent& e, bool* self_dropped) noexcept {
  *self_dropped = false;
  if (e.first_in_message()) current_stored_ = false;
  std::size_t dropped = 0;
  const std::size_t cap = slots_.size();
  while (size_ == cap) {
    const std::size_t others = messages_ - (current_stored_ ? 1 : 0);
    if (others == 0) {
      // Only the message being pushed is stored (or nothing fits): it cannot be kept whole.
      clear();
      *self_dropped = true;
      return dropped;
    }
    pop_message();
    ++dropped;
  }
  std::size_t tail = head_ + size_;
  if (tail >= cap) tail -= cap;
  slots_[tail] = e;
  ++size_;
  if (e.first_in_message()) {
    ++messages_;
    current_stored_ = true;
  }
  return dropped;
}

void MessageBuffer::pop_front() noexcept {
  if (size_ == 0) return;
  if (slots_[head_].first_in_message()) --messages_;
  if (++head_ == slots_.size()) head_ = 0;
  --size_;
}

void MessageBuffer::pop_message() noexcept {
  // The head event starts the oldest message (or is an orphan tail): drop up to the next start.
  pop_front();
  while (size_ != 0 && !slots_[head_].first_in_message()) pop_front();
}

void MessageBuffer::clear() noexcept {
  head_ = 0;
  size_ = 0;
  messages_ = 0;
  current_stored_ = false;
}

template class SyncedBook<FlatBook>;

}  // namespace shadow
