// The no-allocation contract of the decoders: after one warm-up pass over the real samples, a
// second pass performs zero heap allocations. Global operator new/delete are replaced in this
// binary by counting versions.
#include <gtest/gtest.h>

#include "tests/support/require.h"

#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>

#include "feed/binance_decoder.h"
#include "feed/bybit_decoder.h"
#include "tests/fuzz/decoder_test_support.h"
#include "tests/support/counting_new.h"


namespace shadow {
namespace {

template <class Decoder>
void expect_no_allocation_after_warmup(const char* rel) {
  const std::string path = testing::data_path(rel);
  testing::LoadedFile f;
  if (!path.empty()) f = testing::load_lines(path);
  if (!f.ok) SHADOW_MISSING("sample " << rel << " not found: set SHADOW_DATA_DIR");
  SymbolTable symbols;
  auto dec = std::make_unique<Decoder>(symbols);
  auto sink = std::make_unique<testing::CountingSink>();
  for (const auto& m : f.messages) {
    ASSERT_EQ(dec->decode(m.data, m.len, m.capacity, m.local_ns, 0, *sink), DecodeStatus::kOk);
  }
  const std::uint64_t before = shadow::testing::heap_allocations();
  for (const auto& m : f.messages) {
    (void)dec->decode(m.data, m.len, m.capacity, m.local_ns, 0, *sink);
  }
  const std::uint64_t after = shadow::testing::heap_allocations();
  EXPECT_EQ(after - before, 0u) << "allocations in the second pass over " << rel;
  EXPECT_EQ(dec->stats().errors, 0u);
  EXPECT_EQ(dec->stats().messages, 2 * f.messages.size());
}

TEST(DecoderAllocTest, BybitDecodesWithoutAllocating) {
  expect_no_allocation_after_warmup<BybitDecoder>(testing::kBybitSample);
}

TEST(DecoderAllocTest, BinanceDecodesWithoutAllocating) {
  expect_no_allocation_after_warmup<BinanceDecoder>(testing::kBinanceSample);
}

TEST(DecoderAllocTest, CounterSeesAllocations) {
  const std::uint64_t before = shadow::testing::heap_allocations();
  auto* p = new std::string(100, 'x');
  delete p;
  EXPECT_GE(shadow::testing::heap_allocations() - before, 1u);
}

}  // namespace
}  // namespace shadow
