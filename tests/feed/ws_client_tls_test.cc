// WsClient over wss:// against a real TLS WebSocket server (tests/peers/ws_echo_server.py with
// an ssl context) and throwaway certificates made for this run by tests/support/tls_certs.py:
// the same ordered delivery as ws:// on every recv mode, verification failures with the
// reason named (unknown CA, wrong host, expired, no CA file), a server that dies in the middle
// of the handshake, the opt-in skip, and no allocation in steady state with TLS on (operator
// new and OpenSSL's own mallocs both counted).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <vector>

#include "feed/openssl_block_cache.h"
#include "feed/ws_client.h"
#include "tests/feed/ws_test_peer.h"
#include "tests/support/counting_new.h"
#include "tests/support/require.h"
#include "tests/support/tls_cert_dir.h"

namespace {

using namespace shadow::ws_test;

// OpenSSL allocates with CRYPTO_malloc, not operator new: shadow-run routes it through the
// block cache (feed/openssl_block_cache.h), and so does this test, which counts what the cache
// asks of malloc. Installed at preinit, as the programs do (checked below).

std::uint64_t all_allocations() {
  return shadow::testing::heap_allocations() + shadow::openssl_block_cache_mallocs();
}

class WsClientTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!peer_available(why)) SHADOW_MISSING(why);
    dir_ = shadow::test_support::tls_cert_dir(why);
    if (dir_.empty()) SHADOW_MISSING(why);
  }
  std::vector<std::string> serve(const std::string& stem) const {
    return {"--tls-cert", dir_ + "/" + stem + ".pem", "--tls-key", dir_ + "/" + stem + ".key"};
  }
  WsClientOptions trusting() const {
    WsClientOptions o;
    o.tls.ca_file = dir_ + "/ca.pem";
    return o;
  }
  // Connecting must fail, naming `reason`, well within the handshake timeout.
  void expect_refused(const std::string& stem, const WsClientOptions& o, const std::string& host,
                      const std::string& reason) {
    Peer peer("normal", serve(stem));
    ASSERT_GT(peer.port(), 0);
    WsClient c(o);
    std::string err;
    const std::int64_t t0 = now_ms();
    EXPECT_FALSE(c.connect(peer.url("wss", host), err));
    EXPECT_LT(now_ms() - t0, 4000) << "a refused certificate must not wait for the timeout";
    EXPECT_NE(err.find("certificate verify failed"), std::string::npos) << err;
    EXPECT_NE(err.find(reason), std::string::npos) << err;
    EXPECT_FALSE(c.is_open());
  }
  std::string dir_;
};

TEST_F(WsClientTlsTest, ReceivesTheSameAsPlainMultishot) {
  receive_sequence(trusting(), shadow::UringRecvMode::kMultishot, serve("localhost"), "wss", "localhost");
}

TEST_F(WsClientTlsTest, ReceivesTheSameSingleShotSmallBuffers) {
  WsClientOptions o = trusting();
  o.reader.multishot = false;
  o.reader.buffer_size = 4096;  // TLS records (up to 16 KiB) span several reads
  receive_sequence(o, shadow::UringRecvMode::kSingleShot, serve("localhost"), "wss", "localhost");
}

TEST_F(WsClientTlsTest, IpLiteralIsCheckedAgainstTheCertificateAddress) {
  receive_sequence(trusting(), shadow::UringRecvMode::kMultishot, serve("localhost"), "wss", "127.0.0.1");
  expect_refused("wronghost", trusting(), "127.0.0.1", "IP address mismatch");
}

TEST_F(WsClientTlsTest, UnknownCaIsRefused) {
  expect_refused("unknownca", trusting(), "localhost", "unable to get local issuer certificate");
}

TEST_F(WsClientTlsTest, WrongHostIsRefused) {
  expect_refused("wronghost", trusting(), "localhost", "hostname mismatch");
}

TEST_F(WsClientTlsTest, ExpiredCertificateIsRefused) {
  expect_refused("expired", trusting(), "localhost", "certificate has expired");
}

TEST_F(WsClientTlsTest, SystemStoreDoesNotTrustThePrivateCa) {
  expect_refused("localhost", WsClientOptions{}, "localhost", "unable to get local issuer certificate");
}

TEST_F(WsClientTlsTest, UnreadableCaFileIsNamed) {
  WsClientOptions o;
  o.tls.ca_file = dir_ + "/no-such-ca.pem";
  Peer peer("normal", serve("localhost"));
  WsClient c(o);
  std::string err;
  EXPECT_FALSE(c.connect(peer.url("wss", "localhost"), err));
  EXPECT_NE(err.find("no-such-ca.pem"), std::string::npos) << err;
}

TEST_F(WsClientTlsTest, InsecureSkipVerifyConnectsToAnUnknownCa) {
  WsClientOptions o;
  o.tls.insecure_skip_verify = true;
  Peer peer("normal", serve("unknownca"));
  WsClient c(o);
  std::string err;
  ASSERT_TRUE(c.connect(peer.url("wss", "localhost"), err)) << err;
  ASSERT_TRUE(c.send_text("hello"));
  Collector col;
  pump(c, col, 1);
  ASSERT_EQ(col.messages.size(), 1u) << col.close_reason;
  EXPECT_EQ(col.messages[0], "hello");
}

TEST_F(WsClientTlsTest, ServerClosingMidHandshakeIsAClearErrorAndDoesNotHang) {
  Peer peer("tls-drop");
  ASSERT_GT(peer.port(), 0);
  WsClient c(trusting());
  std::string err;
  const std::int64_t t0 = now_ms();
  EXPECT_FALSE(c.connect(peer.url("wss", "localhost"), err));
  EXPECT_LT(now_ms() - t0, 4000);
  EXPECT_NE(err.find("TLS handshake failed"), std::string::npos) << err;
  EXPECT_NE(err.find("before the handshake completed"), std::string::npos) << err;
}

TEST_F(WsClientTlsTest, TlsToAPlainServerIsATlsError) {
  Peer peer("normal");  // ws:// only
  WsClient c(trusting());
  std::string err;
  EXPECT_FALSE(c.connect(peer.url("wss", "localhost"), err));
  EXPECT_NE(err.find("TLS handshake failed"), std::string::npos) << err;
}

// Counts messages and bytes without storing them: a collector that allocates would hide the
// client's own allocations.
struct CountingCollector {
  std::size_t messages = 0, bytes = 0;
  bool closed = false;
  void on_message(const shadow::WsClientMessage& m) {
    ++messages;
    bytes += m.len;
  }
  void on_closed(const WsCloseInfo&) { closed = true; }
};

// Receives three rounds of bursts and large messages after a warm-up round; returns the
// allocations (operator new + OpenSSL) made while receiving the last two.
std::uint64_t receive_allocations(WsClient& c, std::size_t& messages) {
  const char* cmds[] = {"cmd burst 400 100 0", "cmd big 2 200000 400", "cmd burst 400 9 402"};
  CountingCollector col;
  // Counted while receiving; sending (these commands, a ping every 20 s) is counted apart.
  std::uint64_t allocs = 0;
  auto round = [&](std::size_t want) {
    for (const char* cmd : cmds) EXPECT_TRUE(c.send_text(cmd));
    const std::int64_t deadline = now_ms() + 10000;
    const std::uint64_t before = all_allocations(), new_before = shadow::testing::heap_allocations();
    while (c.is_open() && col.messages < want && now_ms() < deadline) c.poll(col);
    allocs += all_allocations() - before;
    // Our code (client, deframer, reader) never allocates here, whatever the TLS version.
    if (want > 802) {
      EXPECT_EQ(shadow::testing::heap_allocations() - new_before, 0u);
    }
    EXPECT_EQ(col.messages, want);
  };
  round(802);  // warm-up: OpenSSL's buffers, the deframer's reassembly buffer, BIO capacity
  allocs = 0;
  round(1604);
  round(2406);
  EXPECT_FALSE(col.closed);
  messages = col.messages - 802;
  std::printf("[ tls      ] %s %s: %llu allocations receiving %zu messages (%zu bytes)\n",
              std::string(c.tls().version()).c_str(), std::string(c.tls().cipher()).c_str(),
              static_cast<unsigned long long>(allocs), messages, col.bytes);
  return allocs;
}

// OpenSSL 3.0 mallocs 40 bytes per TLS 1.3 record decrypted and a few blocks per SSL_write
// (crypto/packet.c); the block cache serves them again from its free list: after warm-up,
// nothing reaches malloc, on either version.
void expect_steady_state_allocates_nothing(const WsClientOptions& o, const std::string& version,
                                           const std::vector<std::string>& serve_args) {
  ASSERT_TRUE(shadow::openssl_block_cache_installed()) << "CRYPTO_set_mem_functions was refused";
  Peer peer("normal", serve_args);
  ASSERT_GT(peer.port(), 0);
  WsClient c(o);
  std::string err;
  ASSERT_TRUE(c.connect(peer.url("wss", "localhost"), err)) << err;
  EXPECT_EQ(c.tls().version(), version);
  std::size_t messages = 0;
  EXPECT_EQ(receive_allocations(c, messages), 0u) << "allocations receiving over " << version;
  EXPECT_EQ(messages, 1604u);
  const std::uint64_t before = all_allocations();
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(c.send_ping("hb"));  // the heartbeat path
  EXPECT_EQ(all_allocations() - before, 0u) << "allocations sending pings over " << version;
}

TEST_F(WsClientTlsTest, Tls13SteadyStateAllocatesNothing) {
  expect_steady_state_allocates_nothing(trusting(), "TLSv1.3", serve("localhost"));
}

TEST_F(WsClientTlsTest, Tls12SteadyStateAllocatesNothing) {
  WsClientOptions o = trusting();
  o.tls.max_version = 12;
  expect_steady_state_allocates_nothing(o, "TLSv1.2", serve("localhost"));
}

}  // namespace

SHADOW_OPENSSL_BLOCK_CACHE_PREINIT()
