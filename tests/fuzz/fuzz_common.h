// Shared by the decoder fuzz targets: copies the input into a padded buffer (the decoders'
// contract), decodes it, and checks the invariants every decode must keep, aborting on a
// violation so libFuzzer (or the replayer) reports it.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/event_sink.h"
#include "core/market_event.h"
#include "feed/decode_status.h"
#include "tests/fuzz/decoder_test_support.h"
#include "tests/fuzz/fuzz_check.h"

namespace shadow::fuzz {

// Checks each message's events as they are published; claim() past the pending area fails
// like a full ring.
class CheckingSink {
 public:
  MarketEvent* claim() noexcept {
    if (n_ == kSlots) return nullptr;
    return &slots_[n_++];
  }
  void publish() noexcept {
    SHADOW_FUZZ_CHECK(n_ > 0);
    last_count = n_;
    last_invalid = slots_[0].invalid_price + slots_[0].invalid_qty;
    for (std::size_t i = 0; i < n_; ++i) {
      const MarketEvent& e = slots_[i];
      SHADOW_FUZZ_CHECK(e.n_bids + e.n_asks <= kMaxLevelsPerEvent);
      SHADOW_FUZZ_CHECK(e.first_in_message() == (i == 0));
      SHADOW_FUZZ_CHECK(e.last_in_message() == (i + 1 == n_));
      // kNone only as the one event that carries a message's invalid-value counts.
      if (e.kind == EventKind::kNone) {
        SHADOW_FUZZ_CHECK(n_ == 1 && e.invalid_price + e.invalid_qty > 0);
      }
      if (i != 0) SHADOW_FUZZ_CHECK(e.invalid_price == 0 && e.invalid_qty == 0);
      // Nothing impossible reaches the consumer: levels px > 0, qty >= 0; trades px, qty > 0.
      if (e.is_book()) {
        for (std::size_t j = 0; j < std::size_t{e.n_bids} + e.n_asks; ++j) {
          SHADOW_FUZZ_CHECK(e.levels[j].px > 0 && e.levels[j].qty >= 0);
        }
      }
      if (e.kind == EventKind::kTrade) SHADOW_FUZZ_CHECK(e.trade.px > 0 && e.trade.qty > 0);
      SHADOW_FUZZ_CHECK(e.kind == slots_[0].kind && e.msg_seq == slots_[0].msg_seq);
      SHADOW_FUZZ_CHECK(e.venue != Venue::kUnknown);
      if (!e.is_book()) SHADOW_FUZZ_CHECK(e.n_bids == 0 && e.n_asks == 0);
      if (e.kind == EventKind::kBbo) SHADOW_FUZZ_CHECK(n_ == 1);
      if (e.kind == EventKind::kTrade) SHADOW_FUZZ_CHECK(e.trade.aggressor != Side::kNone);
    }
    ++publishes;
    n_ = 0;
  }
  void abort() noexcept { n_ = 0; }
  std::size_t pending() const noexcept { return n_; }
  const MarketEvent& slot(std::size_t i) const noexcept { return slots_[i]; }
  std::size_t publishes = 0;
  std::size_t last_count = 0;      // events of the last published message (in slot(0..))
  std::uint64_t last_invalid = 0;  // invalid values the last published message carried

 private:
  static constexpr std::size_t kSlots = 600;
  MarketEvent slots_[kSlots];
  std::size_t n_ = 0;
};

// Decodes one input into `sink` and checks the invariants; returns the status.
template <class Decoder>
DecodeStatus check_one(Decoder& dec, const std::uint8_t* data, std::size_t size,
                       CheckingSink& sink) {
  static std::vector<char> buf;
  buf.assign(size + simdjson::SIMDJSON_PADDING, '\0');
  if (size != 0) std::memcpy(buf.data(), data, size);
  const auto before = dec.stats();
  const std::size_t publishes = sink.publishes;
  const DecodeStatus st = dec.decode(buf.data(), size, buf.size(), 1, 2, sink);
  const auto& after = dec.stats();
  SHADOW_FUZZ_CHECK(sink.pending() == 0);  // published or aborted, never left half-claimed
  SHADOW_FUZZ_CHECK(after.messages == before.messages + 1);
  SHADOW_FUZZ_CHECK(static_cast<std::uint8_t>(st) < kDecodeStatusCount);
  SHADOW_FUZZ_CHECK((sink.publishes == publishes + 1) == (st == DecodeStatus::kOk));
  SHADOW_FUZZ_CHECK((after.errors == before.errors + 1) == is_error(st));
  // Invalid values are counted in the stats exactly when their message is published.
  const std::uint64_t invalid = after.invalid_price + after.invalid_qty -
                                before.invalid_price - before.invalid_qty;
  SHADOW_FUZZ_CHECK(invalid == (st == DecodeStatus::kOk ? sink.last_invalid : 0));
  return st;
}

template <class Decoder>
int run_one(Decoder& dec, const std::uint8_t* data, std::size_t size) {
  static CheckingSink sink;
  check_one(dec, data, size, sink);
  return 0;
}

// The one-pass path against simdjson's (feed/internal/json_one_pass.h): `one_pass` decodes as
// it always does, `reference` (set_one_pass(false), its own symbol table) through simdjson
// only. Same status, same events, same stats, whichever path `one_pass` took.
template <class Decoder>
int run_both_paths(Decoder& one_pass, Decoder& reference, const std::uint8_t* data,
                   std::size_t size) {
  static CheckingSink a, b;
  const std::size_t publishes = a.publishes;
  const DecodeStatus sa = check_one(one_pass, data, size, a);
  const DecodeStatus sb = check_one(reference, data, size, b);
  SHADOW_FUZZ_CHECK(sa == sb);
  if (a.publishes != publishes) {
    SHADOW_FUZZ_CHECK(a.last_count == b.last_count);
    for (std::size_t i = 0; i < a.last_count; ++i) {
      SHADOW_FUZZ_CHECK(testing::same_event(a.slot(i), b.slot(i)));
    }
  }
  SHADOW_FUZZ_CHECK(std::memcmp(&one_pass.stats(), &reference.stats(), sizeof(DecoderStats)) == 0);
  return 0;
}

}  // namespace shadow::fuzz
