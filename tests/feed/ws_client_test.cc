// UringReader + WsClient against a real WebSocket server (tests/peers/ws_echo_server.py, run
// with python3-websockets on loopback): handshake, ordered delivery of small bursts and large
// messages, automatic pongs, close handshakes, handshake and protocol errors, and the
// single-shot recv fallback.
#include "feed/ws_client.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "tests/feed/ws_test_peer.h"
#include "tests/support/require.h"

namespace {

using namespace shadow::ws_test;

using shadow::WsClient;
using shadow::WsClientOptions;
using shadow::WsCloseInfo;
using shadow::WsCloseKind;

class WsClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!peer_available(why)) SHADOW_MISSING(why);
  }
};

TEST_F(WsClientTest, ReceivesBurstsAndLargeMessagesInOrderMultishot) {
  receive_sequence(WsClientOptions{}, shadow::UringRecvMode::kMultishot);
}

TEST_F(WsClientTest, SingleShotFallbackReceivesTheSame) {
  WsClientOptions o;
  o.reader.multishot = false;
  receive_sequence(o, shadow::UringRecvMode::kSingleShot);
}

TEST_F(WsClientTest, BusyPollSmallBuffersReceivesTheSame) {
  WsClientOptions o;
  o.reader.busy_poll_cq = true;
  o.reader.buffer_size = 4096;  // more reads, frames split across buffers
  o.reader.buffer_count = 8;    // ring runs dry: -ENOBUFS and re-arm paths
  receive_sequence(o, shadow::UringRecvMode::kMultishot);
}

TEST_F(WsClientTest, SqpollReceivesTheSame) {
  {  // SQPOLL may be refused (older kernels without privileges, seccomp): skip, not fail.
    io_uring ring{};
    io_uring_params p{};
    p.flags = IORING_SETUP_SQPOLL;
    if (int rc = io_uring_queue_init_params(8, &ring, &p); rc < 0) {
      GTEST_SKIP() << "IORING_SETUP_SQPOLL refused here: " << std::strerror(-rc);
    }
    io_uring_queue_exit(&ring);
  }
  WsClientOptions o;
  o.reader.sqpoll = true;
  receive_sequence(o, shadow::UringRecvMode::kMultishot);
}

TEST_F(WsClientTest, AnswersServerPing) {
  Peer peer("normal");
  ASSERT_GT(peer.port(), 0);
  WsClient c;
  std::string err;
  ASSERT_TRUE(c.connect(peer.url(), err)) << err;
  ASSERT_TRUE(c.send_text("cmd ping abc123"));
  Collector col;
  pump(c, col, 1);
  ASSERT_EQ(col.messages.size(), 1u) << col.close_reason;
  EXPECT_EQ(col.messages[0], "pong-ok abc123");
  EXPECT_EQ(c.stats().pings, 1u);
  c.abort();
}

TEST_F(WsClientTest, ServerCloseIsCleanWithCodeAndClientIsRestartable) {
  Peer peer("normal");
  ASSERT_GT(peer.port(), 0);
  WsClient c;
  for (int round = 0; round < 2; ++round) {
    std::string err;
    ASSERT_TRUE(c.connect(peer.url(), err)) << err;
    ASSERT_TRUE(c.send_text("cmd close 4001 going away"));
    Collector col;
    pump_until_closed(c, col);
    ASSERT_TRUE(col.closed);
    EXPECT_EQ(col.close.kind, WsCloseKind::kClean) << col.close_reason;
    EXPECT_EQ(col.close.code, 4001);
    EXPECT_EQ(col.close_reason, "going away");
    EXPECT_FALSE(c.is_open());
  }
}

TEST_F(WsClientTest, WrongAcceptIsAClearHandshakeError) {
  Peer peer("bad-accept");
  ASSERT_GT(peer.port(), 0);
  WsClient c;
  std::string err;
  EXPECT_FALSE(c.connect(peer.url(), err));
  EXPECT_NE(err.find("Sec-WebSocket-Accept"), std::string::npos) << err;
  EXPECT_FALSE(c.is_open());
}

TEST_F(WsClientTest, Non101StatusIsReportedWithTheStatusLine) {
  Peer peer("status403");
  ASSERT_GT(peer.port(), 0);
  WsClient c;
  std::string err;
  EXPECT_FALSE(c.connect(peer.url(), err));
  EXPECT_NE(err.find("403"), std::string::npos) << err;
}

TEST_F(WsClientTest, MaskedServerFrameIsAProtocolError) {
  Peer peer("masked");
  ASSERT_GT(peer.port(), 0);
  WsClient c;
  std::string err;
  ASSERT_TRUE(c.connect(peer.url(), err)) << err;
  Collector col;
  pump_until_closed(c, col);
  ASSERT_TRUE(col.closed);
  EXPECT_EQ(col.close.kind, WsCloseKind::kProtocolError);
  EXPECT_EQ(col.close.code, 1002);
  EXPECT_NE(col.close_reason.find("mask"), std::string::npos) << col.close_reason;
  EXPECT_TRUE(col.messages.empty());
}

TEST_F(WsClientTest, OversizedFrameIsAProtocolError) {
  Peer peer("oversized");
  ASSERT_GT(peer.port(), 0);
  WsClient c;
  std::string err;
  ASSERT_TRUE(c.connect(peer.url(), err)) << err;
  Collector col;
  pump_until_closed(c, col);
  ASSERT_TRUE(col.closed);
  EXPECT_EQ(col.close.kind, WsCloseKind::kProtocolError) << col.close_reason;
  EXPECT_EQ(col.close.code, 1009);
  EXPECT_TRUE(col.messages.empty());
}

TEST(WsClientNoPeerTest, ConnectRefusedIsReported) {
  WsClient c;
  std::string err;
  EXPECT_FALSE(c.connect("ws://127.0.0.1:1/", err));
  EXPECT_NE(err.find("connect"), std::string::npos) << err;
}

}  // namespace
