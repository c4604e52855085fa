// OpenSSL's small allocations served from per-thread free lists, so that the feed thread's TLS
// steady state calls malloc() not at all.
//
// Why: OpenSSL 3.0 decrypts every TLS 1.3 record with one 40-byte malloc/free (the AAD's WPACKET,
// crypto/packet.c) and allocates a few such blocks per SSL_write. They are freed at once, so
// the working set is a handful of blocks: keeping freed small blocks on a thread-local list and
// handing them out again makes the hot path allocation-free after the first records, without
// touching OpenSSL's code. CRYPTO_set_mem_functions is OpenSSL's documented hook for this.
//
// Blocks of at most kSmallBlock bytes come from the calling thread's list (malloc'd on a miss,
// never returned to malloc while the thread lives; a freed block joins the freeing thread's
// list, so blocks may move between threads but are never shared); larger ones go straight to
// malloc/free. Each block carries a 16-byte header (its size), so alignment stays malloc's.
//
// install_openssl_block_cache() must run before OpenSSL allocates anything; OpenSSL refuses the
// hook afterwards and it returns false (nothing changes: OpenSSL keeps its own malloc). main()
// is too late in our programs: libcpp-httplib.so's own initializer calls OPENSSL_init_ssl(),
// which allocates, and shared libraries are initialized before the program's static objects.
// So each program installs it from the executable's .preinit_array, which the dynamic loader
// runs before any shared library's initializer: put SHADOW_OPENSSL_BLOCK_CACHE_PREINIT() in one
// .cc of the executable (its main's), and check openssl_block_cache_installed() if it matters.
#pragma once

#include <cstddef>
#include <cstdint>

namespace shadow {

inline constexpr std::size_t kSmallBlock = 64;

// True when OpenSSL now allocates through the cache; false when it had allocated already, or
// on any call after the first.
bool install_openssl_block_cache() noexcept;

// The cache is in use (the first install succeeded).
bool openssl_block_cache_installed() noexcept;

// Calls into malloc/realloc made by the cache (all threads): misses of the small lists and
// every large block. A steady state that allocates nothing leaves this unchanged.
std::uint64_t openssl_block_cache_mallocs() noexcept;

}  // namespace shadow

// Installs the cache before any shared library initializer runs (ELF DT_PREINIT_ARRAY; only an
// executable's own entries run, so this goes in a program's .cc, at namespace scope).
#define SHADOW_OPENSSL_BLOCK_CACHE_PREINIT()                                                     \
  namespace {                                                                                    \
  void shadow_openssl_block_cache_preinit(int, char**, char**) {                                 \
    ::shadow::install_openssl_block_cache();                                                     \
  }                                                                                              \
  [[gnu::section(".preinit_array"), gnu::used]] void (*const shadow_openssl_block_cache_entry)( \
      int, char**, char**) = &shadow_openssl_block_cache_preinit;                                \
  }
