// RFC 6455 framing, both roles: the client's WsDeframer / WsFramer (the feed's hot path) and
// the server's BasicWsDeframer<WsRole::kServer> / WsServerFramer. Uses the RFC's own examples
// (§5.7), splits every stream at every byte, round-trips random frames in random chunk sizes,
// covers every error class, and counts heap allocations to prove the client deframer's steady
// state allocates nothing. The handshake is in websocket_handshake_test.cc.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "feed/websocket_frame.h"
#include "tests/support/counting_new.h"


namespace shadow {

// Readable statuses in failure messages.
void PrintTo(WsStatus s, std::ostream* os) { *os << to_string(s); }
void PrintTo(WsOpcode op, std::ostream* os) { *os << to_string(op); }

namespace {

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (const int c : b) s += static_cast<char>(c);
  return s;
}

// A server frame (unmasked), minimal length encoding.
std::string server_frame(int b0, std::string_view payload) {
  std::string f;
  f += static_cast<char>(b0);
  const std::size_t n = payload.size();
  if (n <= 125) {
    f += static_cast<char>(n);
  } else if (n <= 0xFFFF) {
    f += static_cast<char>(126);
    f += static_cast<char>(n >> 8);
    f += static_cast<char>(n & 0xFF);
  } else {
    f += static_cast<char>(127);
    for (int i = 7; i >= 0; --i) f += static_cast<char>((static_cast<std::uint64_t>(n) >> (8 * i)) & 0xFF);
  }
  f.append(payload);
  return f;
}

// Turns a client frame from WsFramer into the equivalent server frame: clear MASK, drop the
// key, unmask the payload.
std::string unmask_client_frame(std::string_view f) {
  const auto b1 = static_cast<unsigned char>(f[1]);
  EXPECT_TRUE(b1 & 0x80) << "client frames must be masked";
  const std::size_t len7 = b1 & 0x7F;
  const std::size_t h = len7 < 126 ? 2 : len7 == 126 ? 4 : 10;
  std::array<std::uint8_t, 4> key;
  std::memcpy(key.data(), f.data() + h, 4);
  std::string out(f.substr(0, h));
  out[1] = static_cast<char>(b1 & 0x7F);
  std::string payload(f.substr(h + 4));
  ws_mask(payload.data(), payload.size(), key);
  return out + payload;
}

struct Got {
  WsOpcode op;
  std::string data;
  std::uint16_t code;
  bool operator==(const Got&) const = default;
};

struct Result {
  std::vector<Got> messages;
  WsStatus status = WsStatus::kNeedMore;  // the last non-message status
  std::size_t views = 0;                  // messages returned without a copy
};

// Feeds `stream` in chunks of the given sizes (cycled; each chunk in its own padded buffer,
// as the reader's recv buffers are) and collects every message.
template <WsRole Role>
Result run(BasicWsDeframer<Role>& d, std::string_view stream, const std::vector<std::size_t>& sizes) {
  Result r;
  std::size_t off = 0;
  std::size_t k = 0;
  std::vector<char> chunk;
  do {
    const std::size_t n = std::min(sizes[k++ % sizes.size()], stream.size() - off);
    chunk.assign(n + kWsPadding, '\xEE');
    std::memcpy(chunk.data(), stream.data() + off, n);
    off += n;
    d.feed(chunk.data(), n);
    WsMessage m;
    WsStatus st;
    while ((st = d.next(m)) == WsStatus::kMessage) {
      r.messages.push_back({m.op, std::string(m.data, m.len), m.close_code});
      if (!m.copied) ++r.views;
    }
    r.status = st;
    if (st != WsStatus::kNeedMore) break;
    EXPECT_EQ(d.unparsed(), 0u);
  } while (off < stream.size());
  return r;
}

template <WsRole Role>
Result run_whole(BasicWsDeframer<Role>& d, std::string_view stream) {
  return run(d, stream, {stream.size() + 1});
}

// The hot path's contract, in the types.
static_assert(noexcept(std::declval<WsDeframer&>().next(std::declval<WsMessage&>())));
static_assert(noexcept(std::declval<WsDeframer&>().feed(nullptr, 0)));
static_assert(noexcept(std::declval<WsFramer&>().encode(WsOpcode::kPong, nullptr, 0, nullptr, 0)));
static_assert(WsFramer::frame_size(125) == 125 + 6 && WsFramer::frame_size(126) == 126 + 8 &&
              WsFramer::frame_size(65535) == 65535 + 8 && WsFramer::frame_size(65536) == 65536 + 14);

// --- RFC 6455 §5.7 examples --------------------------------------------------------------------

TEST(WsDeframerTest, Rfc5_7SingleFrameUnmaskedText) {
  WsDeframer d(1024);
  const Result r = run_whole(d, bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0], (Got{WsOpcode::kText, "Hello", 0}));
  EXPECT_EQ(r.views, 1u);  // zero copy
  EXPECT_EQ(d.bytes_copied(), 0u);
  EXPECT_EQ(r.status, WsStatus::kNeedMore);
}

TEST(WsFramerTest, Rfc5_7MaskedHelloIsWhatTheFramerProducesAndTheClientRejects) {
  const std::string rfc = bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
  char out[64];
  const std::size_t n =
      WsFramer::encode_with_key(WsOpcode::kText, "Hello", 5, {0x37, 0xfa, 0x21, 0x3d}, out, sizeof out);
  ASSERT_EQ(n, rfc.size());
  EXPECT_EQ(std::string(out, n), rfc);
  WsDeframer d(1024);
  EXPECT_EQ(run_whole(d, rfc).status, WsStatus::kMaskedFrame);  // §5.1: servers never mask
  WsMessage m;
  EXPECT_EQ(d.next(m), WsStatus::kMaskedFrame);  // sticky
  d.reset();
  EXPECT_EQ(run_whole(d, unmask_client_frame(rfc)).messages[0].data, "Hello");
}

TEST(WsDeframerTest, Rfc5_7FragmentedTextWithInterleavedPing) {
  const std::string hel = bytes({0x01, 0x03, 0x48, 0x65, 0x6c});
  const std::string lo = bytes({0x80, 0x02, 0x6c, 0x6f});
  const std::string ping = bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f});
  WsDeframer d(1024);
  Result r = run_whole(d, hel + lo);
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0], (Got{WsOpcode::kText, "Hello", 0}));
  EXPECT_EQ(r.views, 0u);  // reassembled: copied
  // §5.4: control frames may be injected in the middle of a fragmented message.
  r = run_whole(d, hel + ping + lo);
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[0], (Got{WsOpcode::kPing, "Hello", 0}));
  EXPECT_EQ(r.messages[1], (Got{WsOpcode::kText, "Hello", 0}));
}

TEST(WsDeframerTest, Rfc5_7PingAndPong) {
  WsDeframer d(1024);
  const Result r = run_whole(d, bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x8a, 0x05, 0x48,
                                       0x65, 0x6c, 0x6c, 0x6f}));
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[0], (Got{WsOpcode::kPing, "Hello", 0}));
  EXPECT_EQ(r.messages[1], (Got{WsOpcode::kPong, "Hello", 0}));
  // The pong a client answers with: same payload, masked (§5.5.3).
  WsFramer f(42);
  char out[32];
  const std::size_t n = f.encode(WsOpcode::kPong, "Hello", 5, out, sizeof out);
  EXPECT_EQ(unmask_client_frame({out, n}), bytes({0x8a, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
}

TEST(WsDeframerTest, Rfc5_7ExtendedLengths) {
  const std::string p256(256, 'x');
  const std::string f256 = bytes({0x82, 0x7E, 0x01, 0x00}) + p256;
  std::string p64k(65536, '\0');
  for (std::size_t i = 0; i < p64k.size(); ++i) p64k[i] = static_cast<char>(i * 7);
  const std::string f64k = bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00}) + p64k;
  EXPECT_EQ(server_frame(0x82, p256), f256);
  EXPECT_EQ(server_frame(0x82, p64k), f64k);
  WsDeframer d(1 << 17);
  const Result r = run_whole(d, f256 + f64k);
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[0], (Got{WsOpcode::kBinary, p256, 0}));
  EXPECT_EQ(r.messages[1], (Got{WsOpcode::kBinary, p64k, 0}));
  EXPECT_EQ(r.views, 2u);
  // The framer picks the same 2- and 8-byte extended lengths.
  WsFramer f(1);
  std::vector<char> out(WsFramer::frame_size(p64k.size()));
  EXPECT_EQ(WsFramer::frame_size(256), 256u + 8);
  EXPECT_EQ(WsFramer::frame_size(65536), 65536u + 14);
  std::size_t n = f.encode(WsOpcode::kBinary, p256.data(), p256.size(), out.data(), out.size());
  EXPECT_EQ(unmask_client_frame({out.data(), n}), f256);
  n = f.encode(WsOpcode::kBinary, p64k.data(), p64k.size(), out.data(), out.size());
  EXPECT_EQ(unmask_client_frame({out.data(), n}), f64k);
  EXPECT_EQ(f.encode(WsOpcode::kBinary, p64k.data(), p64k.size(), out.data(), out.size() - 1), 0u);
}

// --- splits ------------------------------------------------------------------------------------

std::string mixed_stream() {
  return server_frame(0x81, "{\"topic\":\"a\"}") + server_frame(0x89, "p1") +
         server_frame(0x02, "frag") + server_frame(0x8A, "") + server_frame(0x00, std::string(300, 'm')) +
         server_frame(0x80, "end") + server_frame(0x82, std::string(70000, 'b')) +
         server_frame(0x81, "") + server_frame(0x88, bytes({0x03, 0xE8}) + "bye");
}

std::vector<Got> mixed_expected() {
  return {{WsOpcode::kText, "{\"topic\":\"a\"}", 0},
          {WsOpcode::kPing, "p1", 0},
          {WsOpcode::kPong, "", 0},
          {WsOpcode::kBinary, "frag" + std::string(300, 'm') + "end", 0},
          {WsOpcode::kBinary, std::string(70000, 'b'), 0},
          {WsOpcode::kText, "", 0},
          {WsOpcode::kClose, "bye", 1000}};
}

TEST(WsDeframerTest, EverySplitPointGivesTheSameMessages) {
  // Small frames only at every split (the 70000-byte one is covered by the chunked tests).
  const std::string s = server_frame(0x81, "Hello") + server_frame(0x01, "Hel") +
                        server_frame(0x89, "ping!") + server_frame(0x80, "lo") +
                        server_frame(0x82, std::string(200, 'z')) + server_frame(0x8A, "") +
                        server_frame(0x88, bytes({0x0F, 0xA0}) + "r");
  const std::vector<Got> want = {{WsOpcode::kText, "Hello", 0},
                                 {WsOpcode::kPing, "ping!", 0},
                                 {WsOpcode::kText, "Hello", 0},
                                 {WsOpcode::kBinary, std::string(200, 'z'), 0},
                                 {WsOpcode::kPong, "", 0},
                                 {WsOpcode::kClose, "r", 4000}};
  WsDeframer d(4096);
  for (std::size_t i = 0; i <= s.size(); ++i) {
    for (std::size_t j = i; j <= s.size(); ++j) {
      d.reset();
      Result r;
      // Three chunks: [0,i) [i,j) [j,end).
      std::vector<std::string> parts = {s.substr(0, i), s.substr(i, j - i), s.substr(j)};
      for (const auto& p : parts) {
        std::vector<char> buf(p.size() + kWsPadding);
        std::memcpy(buf.data(), p.data(), p.size());
        d.feed(buf.data(), p.size());
        WsMessage m;
        WsStatus st;
        while ((st = d.next(m)) == WsStatus::kMessage) r.messages.push_back({m.op, std::string(m.data, m.len), m.close_code});
        ASSERT_TRUE(st == WsStatus::kNeedMore || st == WsStatus::kClosed) << to_string(st);
      }
      ASSERT_EQ(r.messages, want) << "split at " << i << ", " << j;
    }
  }
  d.reset();
  const Result one = run(d, s, {1});  // one byte per read
  EXPECT_EQ(one.messages, want);
}

TEST(WsDeframerTest, MixedStreamInManyChunkSizes) {
  const std::string s = mixed_stream();
  WsDeframer d(1 << 17);
  for (const std::size_t n : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{7},
                              std::size_t{64}, std::size_t{1000}, std::size_t{4096}, s.size()}) {
    d.reset();
    const Result r = run(d, s, {n});
    EXPECT_EQ(r.messages, mixed_expected()) << "chunk " << n;
    EXPECT_EQ(r.status, WsStatus::kClosed);  // the stream ends with a close frame
    WsMessage m;
    EXPECT_EQ(d.next(m), WsStatus::kClosed);
  }
}

TEST(WsDeframerTest, ThousandsOfRandomFramesInRandomChunks) {
  std::mt19937_64 rng(20261121);
  WsFramer framer(7);
  std::string stream;
  std::vector<Got> want;
  std::vector<char> out;
  for (int i = 0; i < 3000; ++i) {
    const int kind = static_cast<int>(rng() % 10);
    const std::size_t len = kind == 0 ? rng() % 70000 : kind < 3 ? rng() % 300 : rng() % 126;
    std::string payload(len, '\0');
    for (auto& c : payload) c = static_cast<char>(rng());
    if (kind == 9) {  // a fragmented message with pings between fragments
      const std::size_t cut = len / 2;
      stream += server_frame(0x02, payload.substr(0, cut));
      stream += server_frame(0x89, "x");
      want.push_back({WsOpcode::kPing, "x", 0});
      stream += server_frame(0x00, "");
      stream += server_frame(0x80, payload.substr(cut));
      want.push_back({WsOpcode::kBinary, payload, 0});
      continue;
    }
    const WsOpcode op = kind < 5 ? WsOpcode::kBinary : kind < 7 ? WsOpcode::kText
                                                     : kind == 7 ? WsOpcode::kPing : WsOpcode::kPong;
    if (op == WsOpcode::kPing || op == WsOpcode::kPong) payload.resize(std::min<std::size_t>(len, 125));
    out.resize(WsFramer::frame_size(payload.size()));
    // Build via the client framer, then turn it into a server frame (exercises the masking).
    const std::size_t n = framer.encode(op, payload.data(), payload.size(), out.data(), out.size());
    ASSERT_EQ(n, out.size());
    stream += unmask_client_frame({out.data(), n});
    want.push_back({op, payload, 0});
  }
  WsDeframer d(1 << 17);
  std::vector<std::size_t> sizes;
  for (int i = 0; i < 1000; ++i) sizes.push_back(1 + rng() % (i % 3 == 0 ? 20 : 9000));
  const Result r = run(d, stream, sizes);
  EXPECT_EQ(r.status, WsStatus::kNeedMore);
  ASSERT_EQ(r.messages.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) ASSERT_EQ(r.messages[i], want[i]) << "message " << i;
  EXPECT_GT(r.views, 0u);
}

// --- errors ------------------------------------------------------------------------------------

WsStatus status_of(std::string_view stream, std::size_t max = 1024) {
  WsDeframer d(max);
  return run_whole(d, stream).status;
}

TEST(WsDeframerTest, EveryErrorClass) {
  EXPECT_EQ(status_of(bytes({0x81, 0x80, 1, 2, 3, 4})), WsStatus::kMaskedFrame);
  EXPECT_EQ(status_of(bytes({0xC1, 0x00})), WsStatus::kReservedBits);  // RSV1
  EXPECT_EQ(status_of(bytes({0xA1, 0x00})), WsStatus::kReservedBits);  // RSV2
  EXPECT_EQ(status_of(bytes({0x91, 0x00})), WsStatus::kReservedBits);  // RSV3
  for (int op : {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
    EXPECT_EQ(status_of(bytes({0x80 | op, 0x00})), WsStatus::kUnknownOpcode) << op;
  }
  EXPECT_EQ(status_of(server_frame(0x89, std::string(126, 'p'))), WsStatus::kControlTooLong);
  EXPECT_EQ(status_of(bytes({0x88, 0x7E, 0x00, 0x02, 0x03, 0xE8})), WsStatus::kControlTooLong);
  EXPECT_EQ(status_of(bytes({0x09, 0x00})), WsStatus::kControlFragmented);
  EXPECT_EQ(status_of(bytes({0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 1})), WsStatus::kLengthHighBit);
  EXPECT_EQ(status_of(bytes({0x82, 0x7E, 0x00, 0x7D})), WsStatus::kNonMinimalLength);
  EXPECT_EQ(status_of(bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF})), WsStatus::kNonMinimalLength);
  EXPECT_EQ(status_of(bytes({0x80, 0x01, 'x'})), WsStatus::kUnexpectedContinuation);
  EXPECT_EQ(status_of(server_frame(0x01, "a") + server_frame(0x81, "b")), WsStatus::kExpectedContinuation);
  EXPECT_EQ(status_of(bytes({0x88, 0x01, 0x03})), WsStatus::kBadClosePayload);
  for (int code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535}) {
    EXPECT_EQ(status_of(server_frame(0x88, bytes({code >> 8, code & 0xFF}))), WsStatus::kBadCloseCode) << code;
  }
  for (int code : {1000, 1001, 1002, 1003, 1007, 1011, 1012, 1014, 3000, 4999}) {
    WsDeframer d(64);
    const Result r = run_whole(d, server_frame(0x88, bytes({code >> 8, code & 0xFF})));
    ASSERT_EQ(r.messages.size(), 1u) << code;
    EXPECT_EQ(r.messages[0].code, code);
  }
  for (std::size_t i = 0; i < kWsStatusCount; ++i) {
    EXPECT_FALSE(to_string(static_cast<WsStatus>(i)).empty());
  }
  EXPECT_EQ(to_string(WsStatus::kMaskedFrame), "masked server frame (RFC 6455 5.1)");
}

TEST(WsDeframerTest, EmptyCloseMeansNoStatus) {
  WsDeframer d(64);
  const Result r = run_whole(d, bytes({0x88, 0x00}) + server_frame(0x81, "ignored"));
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0], (Got{WsOpcode::kClose, "", 1005}));
  EXPECT_EQ(r.status, WsStatus::kClosed);  // §5.5.1: nothing after a close is delivered
}

TEST(WsDeframerTest, OversizedFrameAndMessage) {
  EXPECT_EQ(status_of(server_frame(0x82, std::string(101, 'x')), 100), WsStatus::kMessageTooBig);
  EXPECT_EQ(status_of(server_frame(0x82, std::string(100, 'x')), 100), WsStatus::kNeedMore);
  // Each fragment fits, the message does not.
  EXPECT_EQ(status_of(server_frame(0x02, std::string(60, 'x')) + server_frame(0x80, std::string(41, 'x')), 100),
            WsStatus::kMessageTooBig);
  // A huge declared length is refused from the header alone, before any payload.
  EXPECT_EQ(status_of(bytes({0x82, 0x7F, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}), 100),
            WsStatus::kMessageTooBig);
}

TEST(WsDeframerTest, ErrorInTheMiddleKeepsEarlierMessages) {
  WsDeframer d(64);
  const Result r = run(d, server_frame(0x81, "ok") + bytes({0x83, 0x00}) + server_frame(0x81, "no"), {3});
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.status, WsStatus::kUnknownOpcode);
}

// --- zero copy, padding, allocation --------------------------------------------------------------

TEST(WsDeframerTest, ViewsPointIntoTheCallersBufferAndCopiesHavePadding) {
  const std::string s = server_frame(0x81, "abc") + server_frame(0x81, "defgh");
  std::vector<char> buf(s.size() + kWsPadding);
  std::memcpy(buf.data(), s.data(), s.size());
  WsDeframer d(16);
  EXPECT_EQ(d.buffer_capacity(), 16u + kWsPadding);
  d.feed(buf.data(), s.size() - 2);  // second frame split
  WsMessage m;
  ASSERT_EQ(d.next(m), WsStatus::kMessage);
  EXPECT_EQ(m.data, buf.data() + 2);
  EXPECT_FALSE(m.copied);
  EXPECT_EQ(d.next(m), WsStatus::kNeedMore);
  d.feed(buf.data() + s.size() - 2, 2);
  ASSERT_EQ(d.next(m), WsStatus::kMessage);
  EXPECT_TRUE(m.copied);
  EXPECT_EQ(m.view(), "defgh");
  EXPECT_EQ(d.bytes_copied(), 5u);
}

TEST(WsDeframerTest, NoAllocationAfterConstruction) {
  const std::string s = mixed_stream();
  std::vector<char> buf(s.size() + kWsPadding);
  std::memcpy(buf.data(), s.data(), s.size());
  WsDeframer d(1 << 17);
  const std::size_t cap = d.buffer_capacity();
  const std::uint64_t before = shadow::testing::heap_allocations();
  std::size_t messages = 0;
  for (int round = 0; round < 20; ++round) {
    d.reset();
    const std::size_t step = 1 + static_cast<std::size_t>(round) * 997;
    for (std::size_t off = 0; off < s.size(); off += step) {
      d.feed(buf.data() + off, std::min(step, s.size() - off));
      WsMessage m;
      while (d.next(m) == WsStatus::kMessage) ++messages;
    }
  }
  WsFramer f(3);
  char out[256];
  for (int i = 0; i < 1000; ++i) {
    messages += f.encode(WsOpcode::kPong, "hello", 5, out, sizeof out) != 0;
  }
  EXPECT_EQ(shadow::testing::heap_allocations() - before, 0u);
  EXPECT_EQ(messages, 20 * mixed_expected().size() + 1000);
  EXPECT_EQ(d.buffer_capacity(), cap);
}

// --- framer ------------------------------------------------------------------------------------

TEST(WsFramerTest, ControlFramesCloseAndKeys) {
  WsFramer f(99);
  char out[256];
  const std::string big(126, 'x');
  EXPECT_EQ(f.encode(WsOpcode::kPing, big.data(), big.size(), out, sizeof out), 0u);
  EXPECT_EQ(f.encode(WsOpcode::kPing, "a", 1, out, sizeof out, /*fin=*/false), 0u);
  EXPECT_EQ(f.encode(WsOpcode::kText, "a", 1, out, 6), 0u);  // needs 7
  std::size_t n = f.encode_close(1000, "done", out, sizeof out);
  ASSERT_EQ(n, 2u + 4 + 6);
  WsDeframer d(64);
  const Result r = run_whole(d, unmask_client_frame({out, n}));
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0], (Got{WsOpcode::kClose, "done", 1000}));
  EXPECT_EQ(f.encode_close(1000, std::string(124, 'r'), out, sizeof out), 0u);
  // Keys differ from frame to frame, and between generators seeded differently.
  WsFramer g(100);
  int same = 0;
  auto prev = f.next_key();
  for (int i = 0; i < 100; ++i) {
    const auto k = f.next_key();
    same += k == prev;
    same += k == g.next_key();
    prev = k;
  }
  EXPECT_LE(same, 1);
  WsFramer seeded_randomly;  // getrandom()
  EXPECT_NE(seeded_randomly.next_key(), WsFramer().next_key());  // 2^-32 chance of a false failure
}

TEST(WsFramerTest, MaskIsItsOwnInverseAtEveryLength) {
  std::mt19937 rng(5);
  for (std::size_t len = 0; len < 40; ++len) {
    std::string s(len, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    std::string t = s;
    ws_mask(t.data(), t.size(), {1, 2, 3, 4});
    for (std::size_t i = 0; i < len; ++i) {
      ASSERT_EQ(static_cast<unsigned char>(t[i]), static_cast<unsigned char>(s[i]) ^ (1 + i % 4));
    }
    ws_mask(t.data(), t.size(), {1, 2, 3, 4});
    EXPECT_EQ(t, s);
  }
}

// --- server role: masked client frames in, unmasked frames out (§5.1, §5.3) --------------------

using ServerDeframer = BasicWsDeframer<WsRole::kServer>;

TEST(WsServerDeframerTest, Rfc5_7MaskedHelloIsUnmaskedIntoTheDeframersBuffer) {
  ServerDeframer d(64);
  const Result r = run_whole(d, bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0], (Got{WsOpcode::kText, "Hello", 0}));
  EXPECT_EQ(r.views, 0u);  // the fed chunk is read-only: unmasking needs a copy
  EXPECT_EQ(r.status, WsStatus::kNeedMore);
}

TEST(WsServerDeframerTest, ClientFramerOutputAtEverySplitPoint) {
  // Every kind of frame a client sends, fragmented text with a ping between its fragments
  // (§5.4), an extended length, then close: split at every byte, the unmasking must line up
  // with the key whatever the chunk boundaries (§5.3: byte i uses key[i mod 4]).
  WsFramer f(7);
  std::string wire;
  char buf[400 + WsFramer::kMaxHeader];
  auto add = [&](WsOpcode op, std::string_view p, bool fin = true) {
    const std::size_t n = f.encode(op, p.data(), p.size(), buf, sizeof buf, fin);
    ASSERT_GT(n, 0u);
    wire.append(buf, n);
  };
  const std::string big(300, 'x');
  add(WsOpcode::kText, "{\"op\":\"subscribe\"}");
  add(WsOpcode::kText, "Hel", false);
  add(WsOpcode::kPing, "p!");
  add(WsOpcode::kContinuation, "lo");
  add(WsOpcode::kBinary, big);
  wire.append(buf, f.encode_close(1001, "bye", buf, sizeof buf));
  const std::vector<Got> want = {{WsOpcode::kText, "{\"op\":\"subscribe\"}", 0},
                                 {WsOpcode::kPing, "p!", 0},
                                 {WsOpcode::kText, "Hello", 0},
                                 {WsOpcode::kBinary, big, 0},
                                 {WsOpcode::kClose, "bye", 1001}};
  for (std::size_t split = 1; split < wire.size(); ++split) {
    ServerDeframer d(1024);
    const Result r = run(d, wire, {split, wire.size()});
    ASSERT_EQ(r.messages, want) << "split at " << split;
    EXPECT_EQ(r.status, WsStatus::kClosed) << "split at " << split;
  }
}

TEST(WsServerDeframerTest, ErrorsMirrorTheClientsAndMapToCloseCodes) {
  auto status = [](std::string_view stream, std::size_t max = 1024) {
    ServerDeframer d(max);
    return run_whole(d, stream).status;
  };
  EXPECT_EQ(status(server_frame(0x81, "Hello")), WsStatus::kUnmaskedFrame);  // §5.1
  EXPECT_EQ(status(bytes({0xC1, 0x80, 0, 0, 0, 0})), WsStatus::kReservedBits);
  EXPECT_EQ(status(bytes({0x83, 0x80, 0, 0, 0, 0})), WsStatus::kUnknownOpcode);
  EXPECT_EQ(status(bytes({0x09, 0x80, 0, 0, 0, 0})), WsStatus::kControlFragmented);
  EXPECT_EQ(status(bytes({0x89, 0xFE, 0, 0x7E, 0, 0, 0, 0})), WsStatus::kControlTooLong);
  EXPECT_EQ(status(bytes({0x80, 0x80, 0, 0, 0, 0})), WsStatus::kUnexpectedContinuation);
  EXPECT_EQ(status(bytes({0x81, 0xFE, 0, 5, 0, 0, 0, 0})), WsStatus::kNonMinimalLength);
  EXPECT_EQ(status(bytes({0x88, 0x81, 0, 0, 0, 0, 'x'})), WsStatus::kBadClosePayload);
  EXPECT_EQ(status(bytes({0x88, 0x82, 0, 0, 0, 0, 0x03, 0xED})), WsStatus::kBadCloseCode);
  // A frame too big for the limit fails as soon as its length is in, before its key.
  EXPECT_EQ(status(bytes({0x82, 0xFF, 0, 0, 0, 0, 0, 0x10, 0, 0})), WsStatus::kMessageTooBig);
  EXPECT_EQ(to_string(WsStatus::kUnmaskedFrame), "unmasked client frame (RFC 6455 5.1)");
  EXPECT_EQ(ws_close_code_for(WsStatus::kMessageTooBig), 1009);  // §7.4.1
  EXPECT_EQ(ws_close_code_for(WsStatus::kUnmaskedFrame), 1002);
  EXPECT_EQ(ws_close_code_for(WsStatus::kMaskedFrame), 1002);
}

TEST(WsServerFramerTest, UnmaskedFramesTheClientDeframerReads) {
  WsServerFramer f;
  static_assert(WsServerFramer::kMaxHeader == 10 && WsServerFramer::frame_size(126) == 126 + 4);
  std::string wire;
  std::vector<char> buf(70000 + WsServerFramer::kMaxHeader);
  const std::string big(70000, 'b');
  for (const std::string& p : {std::string("Hello"), std::string(126, 'm'), big}) {
    const std::size_t n = f.encode(WsOpcode::kText, p.data(), p.size(), buf.data(), buf.size());
    ASSERT_EQ(n, WsServerFramer::frame_size(p.size()));
    wire.append(buf.data(), n);
  }
  EXPECT_EQ(wire.substr(0, 7), server_frame(0x81, "Hello"));  // §5.7: unmasked "Hello"
  wire.append(buf.data(), f.encode_close(1000, "done", buf.data(), buf.size()));
  EXPECT_EQ(f.encode(WsOpcode::kPing, big.data(), 126, buf.data(), buf.size()), 0u);  // §5.5
  WsDeframer d(1 << 17);
  const Result r = run(d, wire, {1000});
  ASSERT_EQ(r.messages.size(), 4u);
  EXPECT_EQ(r.messages[1].data, std::string(126, 'm'));
  EXPECT_EQ(r.messages[2].data, big);
  EXPECT_EQ(r.messages[3], (Got{WsOpcode::kClose, "done", 1000}));
  EXPECT_EQ(r.status, WsStatus::kClosed);
}

}  // namespace
}  // namespace shadow
