// The OpenSSL block cache (feed/openssl_block_cache.h) in its own process, installed before
// OpenSSL allocates: small blocks are reused instead of malloc'd again, realloc keeps contents
// across the small/large boundary, large blocks pass through, and a block freed on another
// thread is reused there.
#include "feed/openssl_block_cache.h"

#include <gtest/gtest.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstring>
#include <thread>
#include <vector>

namespace {

using shadow::openssl_block_cache_mallocs;

TEST(OpenSslBlockCache, InstalledBeforeOpenSslAllocates) {
  // At preinit (below): this binary loads libcpp-httplib in some builds, whose initializer
  // starts OpenSSL before any static object of ours could.
  ASSERT_TRUE(shadow::openssl_block_cache_installed());
  EXPECT_FALSE(shadow::install_openssl_block_cache()) << "a second install must not swap the functions";
}

TEST(OpenSslBlockCache, SmallBlocksAreReusedNotMallocedAgain) {
  std::vector<void*> blocks;
  for (int i = 0; i < 8; ++i) blocks.push_back(OPENSSL_malloc(40));
  for (void* p : blocks) OPENSSL_free(p);
  const std::uint64_t before = openssl_block_cache_mallocs();
  for (int round = 0; round < 1000; ++round) {
    void* a = OPENSSL_malloc(40);
    void* b = OPENSSL_zalloc(1);
    void* c = OPENSSL_malloc(64);
    ASSERT_NE(a, nullptr);
    ASSERT_EQ(static_cast<unsigned char*>(b)[0], 0);
    std::memset(c, 0xab, 64);
    OPENSSL_free(a);
    OPENSSL_free(b);
    OPENSSL_free(c);
  }
  EXPECT_EQ(openssl_block_cache_mallocs(), before);
  void* big = OPENSSL_malloc(65);  // past the small size: malloc'd each time
  OPENSSL_free(big);
  EXPECT_EQ(openssl_block_cache_mallocs(), before + 1);
}

TEST(OpenSslBlockCache, ReallocKeepsTheContentAcrossSizes) {
  auto* p = static_cast<char*>(OPENSSL_malloc(10));
  std::memcpy(p, "0123456789", 10);
  p = static_cast<char*>(OPENSSL_realloc(p, 50));   // stays in its small block
  EXPECT_EQ(std::memcmp(p, "0123456789", 10), 0);
  p = static_cast<char*>(OPENSSL_realloc(p, 5000)); // moves to a large one
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(std::memcmp(p, "0123456789", 10), 0);
  std::memset(p + 10, '-', 4990);
  p = static_cast<char*>(OPENSSL_realloc(p, 20));   // back to a small one
  EXPECT_EQ(std::memcmp(p, "0123456789----------", 20), 0);
  OPENSSL_free(p);
}

TEST(OpenSslBlockCache, BlocksFreedOnAnotherThreadAreReusedThere) {
  std::vector<void*> made;
  for (int i = 0; i < 16; ++i) made.push_back(OPENSSL_malloc(32));
  std::uint64_t before = 0, after = 0;
  std::thread t([&] {
    for (void* p : made) OPENSSL_free(p);  // join this thread's list
    before = openssl_block_cache_mallocs();
    for (int i = 0; i < 16; ++i) OPENSSL_free(OPENSSL_malloc(32));
    after = openssl_block_cache_mallocs();
  });
  t.join();
  EXPECT_EQ(after, before);
}

TEST(OpenSslBlockCache, OpenSslWorksThroughIt) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  ASSERT_EQ(EVP_Digest("abc", 3, md, &n, EVP_sha256(), nullptr), 1);
  EXPECT_EQ(n, 32u);
  EXPECT_EQ(md[0], 0xba);  // SHA-256("abc") = ba7816bf...
  EXPECT_EQ(md[1], 0x78);
}

}  // namespace

SHADOW_OPENSSL_BLOCK_CACHE_PREINIT()
