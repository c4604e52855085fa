#include "feed/openssl_block_cache.h"

#include <openssl/crypto.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace shadow {
namespace {

// In front of every block: its usable size. 16 bytes keep the block 16-byte aligned.
struct alignas(16) Header {
  std::size_t size;
  std::size_t pad;
};
static_assert(sizeof(Header) == 16);

constinit std::atomic<std::uint64_t> g_mallocs{0};

// Set once the thread's list is destroyed: OpenSSL's own thread-exit cleanup may still free
// blocks after that, and they then go straight back to malloc. Trivial, so it outlives t_free.
thread_local bool t_gone = false;

// The calling thread's free small blocks (a singly linked list through the blocks themselves).
// At most kMaxFree are kept; the rest go back to malloc. Freed at thread exit.
struct FreeList {
  static constexpr std::size_t kMaxFree = 4096;
  Header* head = nullptr;
  std::size_t count = 0;
  ~FreeList() {
    t_gone = true;
    while (head != nullptr) {
      Header* next = *reinterpret_cast<Header**>(head + 1);
      std::free(head);
      head = next;
    }
    count = 0;
  }
};
thread_local FreeList t_free;

Header* raw_alloc(std::size_t size) noexcept {
  g_mallocs.fetch_add(1, std::memory_order_relaxed);
  auto* h = static_cast<Header*>(std::malloc(sizeof(Header) + size));
  if (h != nullptr) h->size = size;
  return h;
}

void* cache_malloc(std::size_t n, const char*, int) {
  Header* h = nullptr;
  if (n <= kSmallBlock) {
    if (!t_gone && t_free.head != nullptr) {
      h = t_free.head;
      t_free.head = *reinterpret_cast<Header**>(h + 1);
      --t_free.count;
    } else {
      h = raw_alloc(kSmallBlock);
    }
  } else {
    h = raw_alloc(n);
  }
  return h == nullptr ? nullptr : h + 1;
}

void cache_free(void* p, const char*, int) {
  if (p == nullptr) return;
  Header* h = static_cast<Header*>(p) - 1;
  if (h->size == kSmallBlock && !t_gone && t_free.count < FreeList::kMaxFree) {
    *reinterpret_cast<Header**>(h + 1) = t_free.head;
    t_free.head = h;
    ++t_free.count;
    return;
  }
  std::free(h);
}

void* cache_realloc(void* p, std::size_t n, const char* file, int line) {
  if (p == nullptr) return cache_malloc(n, file, line);
  Header* h = static_cast<Header*>(p) - 1;
  if (n <= h->size && (h->size == kSmallBlock || n > kSmallBlock)) return p;  // fits where it is
  void* q = cache_malloc(n, file, line);
  if (q == nullptr) return nullptr;  // realloc's contract: the old block stays valid
  std::memcpy(q, p, h->size < n ? h->size : n);
  cache_free(p, file, line);
  return q;
}

}  // namespace

namespace {
constinit std::atomic<bool> g_tried{false};      // constant-initialized: usable at preinit time
constinit std::atomic<bool> g_installed{false};
}  // namespace

bool install_openssl_block_cache() noexcept {
  // Once only: OpenSSL would accept other functions later, and blocks made here would then be
  // freed by them.
  if (g_tried.exchange(true)) return false;
  const bool ok = CRYPTO_set_mem_functions(cache_malloc, cache_realloc, cache_free) == 1;
  g_installed.store(ok);
  return ok;
}

bool openssl_block_cache_installed() noexcept { return g_installed.load(); }

std::uint64_t openssl_block_cache_mallocs() noexcept { return g_mallocs.load(std::memory_order_relaxed); }

}  // namespace shadow
