// libFuzzer target: arbitrary bytes into both roles' deframers (WsDeframer, the client's, and
// BasicWsDeframer<WsRole::kServer>) and the handshake response parser. Built
// with -fsanitize=fuzzer when SHADOW_BUILD_FUZZERS=ON, else linked with replay_main.cc as
// websocket_fuzz_replay over tests/fuzz/corpus/websocket/.
//
// Input: byte 0 seeds the chunk sizes, the rest is the byte stream. Differential check: the
// stream fed whole and fed in chunks (each in its own padded buffer, like recv buffers) must
// give the same messages and the same final status; every message must respect the limits.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "feed/websocket_frame.h"
#include "feed/websocket_handshake.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

constexpr std::size_t kMax = 4096;

struct Summary {
  std::uint64_t hash = 1469598103934665603ull;  // FNV-1a over every message
  std::size_t messages = 0;
  shadow::WsStatus status = shadow::WsStatus::kNeedMore;

  void add(const shadow::WsMessage& m) {
    SHADOW_FUZZ_CHECK(m.op == shadow::WsOpcode::kText || m.op == shadow::WsOpcode::kBinary ||
                  m.op == shadow::WsOpcode::kClose || m.op == shadow::WsOpcode::kPing ||
                  m.op == shadow::WsOpcode::kPong);
    SHADOW_FUZZ_CHECK(m.len <= kMax);
    if (m.op != shadow::WsOpcode::kText && m.op != shadow::WsOpcode::kBinary) SHADOW_FUZZ_CHECK(m.len <= 125);
    if (m.op == shadow::WsOpcode::kClose) SHADOW_FUZZ_CHECK(m.close_code >= 1000);
    mix(static_cast<unsigned char>(m.op));
    mix(m.close_code & 0xFF);
    mix(m.close_code >> 8);
    for (std::size_t i = 0; i < m.len; ++i) mix(static_cast<unsigned char>(m.data[i]));
    // The padding after the message must be readable (ASan checks the read).
    volatile char pad = m.data[m.len + shadow::kWsPadding - 1];
    (void)pad;
    mix(0x100);
    ++messages;
  }
  void mix(unsigned v) { hash = (hash ^ v) * 1099511628211ull; }
};

template <shadow::WsRole Role>
Summary deframe(shadow::BasicWsDeframer<Role>& d, const std::uint8_t* data, std::size_t size,
                std::uint8_t seed) {
  Summary s;
  d.reset();
  std::vector<char> chunk;
  std::size_t off = 0;
  std::uint32_t x = seed * 2654435761u + 1;
  do {
    std::size_t n = size - off;
    if (seed != 0) {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      n = std::min<std::size_t>(n, 1 + x % (seed % 2 ? 7 : 300));
    }
    chunk.assign(n + shadow::kWsPadding, '\0');
    if (n != 0) std::memcpy(chunk.data(), data + off, n);
    off += n;
    d.feed(chunk.data(), n);
    shadow::WsMessage m;
    shadow::WsStatus st;
    while ((st = d.next(m)) == shadow::WsStatus::kMessage) s.add(m);
    s.status = st;
    if (st != shadow::WsStatus::kNeedMore) break;
    SHADOW_FUZZ_CHECK(d.unparsed() == 0);
  } while (off < size);
  SHADOW_FUZZ_CHECK(static_cast<std::size_t>(s.status) < shadow::kWsStatusCount);
  return s;
}

// The stream whole and in seeded chunks must give the same messages and status.
template <shadow::WsRole Role>
void compare_splits(shadow::BasicWsDeframer<Role>& d, const std::uint8_t* data, std::size_t size,
                    std::uint8_t seed) {
  const Summary whole = deframe(d, data, size, 0);
  const Summary split = deframe(d, data, size, seed == 0 ? 1 : seed);
  SHADOW_FUZZ_CHECK(whole.status == split.status);
  SHADOW_FUZZ_CHECK(whole.messages == split.messages);
  SHADOW_FUZZ_CHECK(whole.hash == split.hash);
}

void handshake(const std::uint8_t* data, std::size_t size, std::uint8_t seed) {
  shadow::WsUrl url;
  std::string err;
  SHADOW_FUZZ_CHECK(shadow::parse_ws_url("ws://server.example.com/chat", url, err));
  static const std::array<std::uint8_t, 16> nonce = {'t', 'h', 'e', ' ', 's', 'a', 'm', 'p',
                                                     'l', 'e', ' ', 'n', 'o', 'n', 'c', 'e'};
  shadow::WsHandshake hs(url, nonce);
  const char* p = reinterpret_cast<const char*>(data);
  std::size_t off = 0;
  shadow::WsHandshakeStatus st = shadow::WsHandshakeStatus::kNeedMore;
  const std::size_t step = 1 + seed % 64;
  while (off < size && st == shadow::WsHandshakeStatus::kNeedMore) {
    const std::size_t n = std::min(step, size - off);
    std::size_t used = 0;
    st = hs.parse(p + off, n, used);
    SHADOW_FUZZ_CHECK(used <= n);
    if (st == shadow::WsHandshakeStatus::kNeedMore) SHADOW_FUZZ_CHECK(used == n);
    off += n;
  }
  if (st != shadow::WsHandshakeStatus::kDone && st != shadow::WsHandshakeStatus::kNeedMore) {
    SHADOW_FUZZ_CHECK(!hs.error().empty());
  }
  // The URL parser on the raw bytes: must not crash, and succeeds only with a host.
  shadow::WsUrl u;
  if (shadow::parse_ws_url(std::string_view(p, std::min<std::size_t>(size, 200)), u, err)) {
    SHADOW_FUZZ_CHECK(!u.host.empty() && !u.resource.empty() && u.resource[0] == '/');
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static shadow::WsDeframer client(kMax);
  static shadow::BasicWsDeframer<shadow::WsRole::kServer> server(kMax);
  const std::uint8_t seed = data[0];
  compare_splits(client, data + 1, size - 1, seed);
  compare_splits(server, data + 1, size - 1, seed);
  handshake(data + 1, size - 1, seed);
  return 0;
}
