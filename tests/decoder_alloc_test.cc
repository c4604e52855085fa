// The no-allocation contract of the decoders: after one warm-up pass over the real samples, a
// second pass performs zero heap allocations. Global operator new/delete are replaced in this
// binary by counting versions.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>

#include "feed/binance_decoder.h"
#include "feed/bybit_decoder.h"
#include "tests/fuzz/decoder_test_support.h"

// GCC pairs the inlined replacement new (malloc) with free() in delete and flags it; the pair
// is correct here, since both replacements are ours.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace {
std::atomic<std::uint64_t> g_allocations{0};
}  // namespace

void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n == 0 ? 1 : n);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n == 0 ? 1 : n);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace shadow {
namespace {

template <class Decoder>
void expect_no_allocation_after_warmup(const char* rel) {
  const std::string path = testing::data_path(rel);
  testing::LoadedFile f;
  if (!path.empty()) f = testing::load_lines(path);
  if (!f.ok) GTEST_SKIP() << "sample " << rel << " not found: set SHADOW_DATA_DIR";
  SymbolTable symbols;
  auto dec = std::make_unique<Decoder>(symbols);
  auto sink = std::make_unique<testing::CountingSink>();
  for (const auto& m : f.messages) {
    ASSERT_EQ(dec->decode(m.data, m.len, m.capacity, m.local_ns, 0, *sink), DecodeStatus::kOk);
  }
  const std::uint64_t before = g_allocations.load();
  for (const auto& m : f.messages) {
    (void)dec->decode(m.data, m.len, m.capacity, m.local_ns, 0, *sink);
  }
  const std::uint64_t after = g_allocations.load();
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
  const std::uint64_t before = g_allocations.load();
  auto* p = new std::string(100, 'x');
  delete p;
  EXPECT_GE(g_allocations.load() - before, 1u);
}

}  // namespace
}  // namespace shadow
