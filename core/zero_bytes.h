// zero_bytes<N>(p): N bytes of zeros at p, copied from a zero constant. GCC compiles a memset
// (or a value-initialisation) of a struct of this size to `rep stos`, slow to start and counted
// once per 8 bytes, and the copy to 16/32-byte stores. For the per-message structs of the hot
// path (the decoders' event header and fields, the quoter's decision) whose all-zero bytes are
// their default value.
#pragma once

#include <cstddef>
#include <cstring>

namespace shadow {

template <std::size_t N>
[[gnu::always_inline]] inline void zero_bytes(void* p) noexcept {
  static constexpr unsigned char kZeros[N] = {};
  std::memcpy(p, kZeros, N);
}

}  // namespace shadow
