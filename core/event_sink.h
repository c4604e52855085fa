// EventSink: where a decoder writes the MarketEvents of one message.
//
// Decoders write each event in place into a slot the sink hands out (a ring slot on the hot
// path, so an event is never copied), then either publish every slot claimed for the message at
// once or abort them all. A message that turns out to be malformed half-way through therefore
// never reaches the book half-applied.
#pragma once

#include <concepts>
#include <cstddef>

#include "core/market_event.h"

namespace shadow {

// A decoded message never spans more events than this (13,312 levels: a Binance REST snapshot
// of 5000 levels per side needs 385). Decoders refuse bigger messages (kSinkFull) rather than
// grow a buffer on the hot path, so a sink that can hold this many claimed slots never fails.
inline constexpr std::size_t kMaxEventsPerMessage = 512;

// claim():   a writable slot for the next event of the current message, or nullptr when the
//            sink cannot take more (full ring under a drop policy); the decoder then aborts.
//            Every slot claimed stays valid, and in place, until the next publish or abort.
// publish(): makes every event claimed since the last publish/abort visible, in order.
// abort():   discards every event claimed since the last publish/abort.
template <class S>
concept EventSink = requires(S& s) {
  { s.claim() } -> std::same_as<MarketEvent*>;
  { s.publish() };
  { s.abort() };
};

}  // namespace shadow
