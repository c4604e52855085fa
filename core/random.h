// Small random-number pieces shared by the simulator and the feed: the splitmix64 step
// (Steele, Lea and Flood 2014; Vigna's reference constants) and OS-seeded entropy.
//
// None of this is cryptographic. splitmix64 seeds xoshiro (exchange/order_flow.h), draws reconnect
// jitter and WebSocket masking keys; getrandom() supplies the seeds and the handshake nonce.
#pragma once

#include <sys/random.h>

#include <cstddef>
#include <cstdint>
#include <ctime>

namespace shadow {

// Advances `state` by the golden-ratio increment and returns its mixed 64-bit output.
constexpr std::uint64_t splitmix64(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Fills `out` with n bytes from getrandom(). getrandom() cannot fail for small requests on
// Linux >= 3.17 once the pool is initialised; should it anyway, the rest comes from splitmix64
// over the clock, so callers never get a fixed value.
inline void os_random_bytes(void* out, std::size_t n) noexcept {
  auto* p = static_cast<unsigned char*>(out);
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = getrandom(p + got, n - got, 0);
    if (r <= 0) break;
    got += static_cast<std::size_t>(r);
  }
  if (got == n) return;
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  std::uint64_t x = static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u +
                    static_cast<std::uint64_t>(ts.tv_nsec);
  for (std::size_t i = got; i < n; ++i) p[i] = static_cast<unsigned char>(splitmix64(x));
}

// A 64-bit seed from os_random_bytes().
inline std::uint64_t os_random_seed() noexcept {
  std::uint64_t seed = 0;
  os_random_bytes(&seed, sizeof seed);
  return seed;
}

}  // namespace shadow
