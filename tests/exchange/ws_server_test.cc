// Tests of exchange/ws_server.h: the server's side of the RFC 6455 handshake and framing, checked
// against the RFC's own examples and round-tripped with the client role of the same layer
// (websocket_handshake.h, WsFramer, WsDeframer).
#include "exchange/ws_server.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "feed/websocket_frame.h"
#include "feed/websocket_handshake.h"

namespace shadow {
namespace {

// RFC 6455 §1.3 / §4.2.2: the sample nonce and its accept value.
constexpr const char* kRfcKey = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr const char* kRfcAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

std::string rfc_request(const std::string& extra = "") {
  return std::string("GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: ") +
         kRfcKey + "\r\nOrigin: http://example.com\r\nSec-WebSocket-Version: 13\r\n" + extra +
         "\r\n";
}

TEST(WsServerHandshake, RfcExampleAccepted) {
  const std::string req = rfc_request() + "FRAMES";
  WsUpgradeRequest out;
  std::size_t used = 0;
  int status = 0;
  std::string error;
  ASSERT_EQ(parse_ws_upgrade(req, "/chat", out, used, status, error), WsUpgradeStatus::kDone)
      << error;
  EXPECT_EQ(out.resource, "/chat");
  EXPECT_EQ(out.key, kRfcKey);
  EXPECT_EQ(used, req.size() - 6);  // the frame bytes after the head are not the head's
  const std::string resp = ws_upgrade_response(out.key);
  EXPECT_EQ(resp.rfind("HTTP/1.1 101 Switching Protocols\r\n", 0), 0u);
  EXPECT_NE(resp.find(std::string("Sec-WebSocket-Accept: ") + kRfcAccept + "\r\n"),
            std::string::npos);
  EXPECT_EQ(resp.substr(resp.size() - 4), "\r\n\r\n");
}

TEST(WsServerHandshake, IncompleteHeadNeedsMore) {
  const std::string req = rfc_request();
  WsUpgradeRequest out;
  std::size_t used = 1;
  int status = 0;
  std::string error;
  EXPECT_EQ(parse_ws_upgrade(std::string_view(req).substr(0, req.size() - 1), "", out, used,
                             status, error),
            WsUpgradeStatus::kNeedMore);
  EXPECT_EQ(used, 0u);
}

TEST(WsServerHandshake, RejectsWithReason) {
  struct Case {
    std::string from, to;
    int status;
    std::string reason_part;
  };
  const std::vector<Case> cases = {
      {"Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8", 400, "Version"},
      {"Upgrade: websocket", "Upgrade: h2c", 400, "Upgrade"},
      {"Connection: Upgrade", "Connection: keep-alive", 400, "Connection"},
      {std::string("Sec-WebSocket-Key: ") + kRfcKey, "Sec-WebSocket-Key: c2hvcnQ=", 400, "Key"},
      {"Host: server.example.com\r\n", "", 400, "Host"},
      {"GET /chat HTTP/1.1", "GET /chat HTTP/1.0", 400, "HTTP/1.1"},
      {"GET /chat", "POST /chat", 405, "GET"},
      {"GET /chat", "GET /other", 404, "/other"},
  };
  for (const Case& c : cases) {
    std::string req = rfc_request();
    req.replace(req.find(c.from), c.from.size(), c.to);
    WsUpgradeRequest out;
    std::size_t used = 0;
    int status = 0;
    std::string error;
    EXPECT_EQ(parse_ws_upgrade(req, "/chat", out, used, status, error), WsUpgradeStatus::kBad)
        << c.to;
    EXPECT_EQ(status, c.status) << c.to;
    EXPECT_NE(error.find(c.reason_part), std::string::npos) << error;
  }
  const std::string r = ws_http_error(400, "Sec-WebSocket-Version must be 13");
  EXPECT_EQ(r.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u);
  EXPECT_NE(r.find("Sec-WebSocket-Version: 13\r\n"), std::string::npos);  // §4.4
  EXPECT_NE(r.find("\r\n\r\nSec-WebSocket-Version must be 13\n"), std::string::npos);
}

TEST(WsServerHandshake, HeaderNamesAndTokensCaseInsensitive) {
  std::string req =
      "GET /v5/public/linear HTTP/1.1\r\nhost: 127.0.0.1\r\nUPGRADE: WebSocket\r\n"
      "connection: keep-alive, upgrade\r\nsec-websocket-key: " +
      std::string(kRfcKey) + "\r\nsec-websocket-version: 13\r\n\r\n";
  WsUpgradeRequest out;
  std::size_t used = 0;
  int status = 0;
  std::string error;
  EXPECT_EQ(parse_ws_upgrade(req, "/v5/public/linear", out, used, status, error),
            WsUpgradeStatus::kDone)
      << error;
}

// The feed's own client handshake against the server pieces, both directions.
TEST(WsServerHandshake, InteroperatesWithClientHandshake) {
  WsUrl url;
  std::string err;
  ASSERT_TRUE(parse_ws_url("ws://127.0.0.1:9000/v5/public/linear", url, err)) << err;
  WsHandshake hs(url);
  WsUpgradeRequest out;
  std::size_t used = 0;
  int status = 0;
  ASSERT_EQ(parse_ws_upgrade(hs.request(), "/v5/public/linear", out, used, status, err),
            WsUpgradeStatus::kDone)
      << err;
  const std::string resp = ws_upgrade_response(out.key);
  EXPECT_EQ(hs.parse(resp.data(), resp.size(), used), WsHandshakeStatus::kDone) << hs.error();
  EXPECT_EQ(used, resp.size());
}

TEST(WsServerFrame, RfcUnmaskedHello) {
  // RFC 6455 §5.7: a single-frame unmasked text message "Hello".
  std::string out;
  ws_append_server_frame(out, WsOpcode::kText, "Hello");
  EXPECT_EQ(out, std::string("\x81\x05Hello", 7));
  out.clear();
  ws_append_server_frame(out, WsOpcode::kPong, "Hello");
  EXPECT_EQ(out, std::string("\x8a\x05Hello", 7));
}

TEST(WsServerFrame, LengthEncodingsDecodeWithClientDeframer) {
  for (const std::size_t len : {0u, 1u, 125u, 126u, 65535u, 65536u, 200000u}) {
    std::string payload(len, 'x');
    for (std::size_t i = 0; i < len; ++i) payload[i] = static_cast<char>('a' + i % 26);
    std::string out;
    ws_append_server_frame(out, WsOpcode::kText, payload);
    EXPECT_EQ(out.size(), ws_server_frame_size(len));
    EXPECT_EQ(out.size() - len, len <= 125 ? 2u : len <= 65535 ? 4u : 10u);
    EXPECT_EQ(static_cast<unsigned char>(out[1]) & 0x80u, 0u) << "server frames are unmasked";
    std::vector<char> buf(out.begin(), out.end());
    buf.resize(out.size() + kWsPadding);
    WsDeframer d(1 << 20);  // the client's deframer rejects masked frames: a strict check
    d.feed(buf.data(), out.size());
    WsMessage m;
    ASSERT_EQ(d.next(m), WsStatus::kMessage) << len;
    EXPECT_EQ(m.op, WsOpcode::kText);
    EXPECT_EQ(m.view(), payload);
    EXPECT_EQ(d.next(m), WsStatus::kNeedMore);
  }
}

TEST(WsServerFrame, CloseFrame) {
  std::string out;
  ws_append_server_close(out, 1001, "shutdown");
  std::vector<char> buf(out.begin(), out.end());
  buf.resize(out.size() + kWsPadding);
  WsDeframer d;
  d.feed(buf.data(), out.size());
  WsMessage m;
  ASSERT_EQ(d.next(m), WsStatus::kMessage);
  EXPECT_EQ(m.op, WsOpcode::kClose);
  EXPECT_EQ(m.close_code, 1001);
  EXPECT_EQ(m.view(), "shutdown");
  out.clear();
  ws_append_server_close(out, 1000, std::string(300, 'r'));  // reason cut to fit 125 bytes
  EXPECT_EQ(out.size(), 2u + 125u);
}

TEST(WsServerDeframer, RfcMaskedHello) {
  // RFC 6455 §5.7: a single-frame masked text message "Hello".
  const std::string frame("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11);
  WsServerDeframer d;
  d.feed(frame.data(), frame.size());
  WsMessage m;
  ASSERT_EQ(d.next(m), WsServerDeframer::kMessage);
  EXPECT_EQ(m.op, WsOpcode::kText);
  EXPECT_EQ(m.view(), "Hello");
  EXPECT_EQ(d.next(m), WsServerDeframer::kNeedMore);
}

TEST(WsServerDeframer, UnmasksClientFramerOutputByteByByte) {
  WsFramer f(42);
  std::string wire;
  char buf[70000 + WsFramer::kMaxHeader];
  const std::string big(70000, 'z');
  const std::string texts[] = {"{\"op\":\"ping\"}", std::string(300, 'q'), big};
  for (const std::string& t : texts) {
    const std::size_t n = f.encode(WsOpcode::kText, t.data(), t.size(), buf, sizeof buf);
    ASSERT_GT(n, 0u);
    wire.append(buf, n);
  }
  // A fragmented message with a ping between its fragments (§5.4, §5.5).
  std::size_t n = f.encode(WsOpcode::kText, "Hel", 3, buf, sizeof buf, false);
  wire.append(buf, n);
  n = f.encode(WsOpcode::kPing, "p!", 2, buf, sizeof buf);
  wire.append(buf, n);
  n = f.encode(WsOpcode::kContinuation, "lo", 2, buf, sizeof buf);
  wire.append(buf, n);
  n = f.encode_close(1000, "bye", buf, sizeof buf);
  wire.append(buf, n);

  WsServerDeframer d(1 << 17);
  std::vector<std::pair<WsOpcode, std::string>> got;
  std::uint16_t close_code = 0;
  WsMessage m;
  for (const char c : wire) {
    d.feed(&c, 1);
    WsServerDeframer::Status st;
    while ((st = d.next(m)) == WsServerDeframer::kMessage) {
      got.emplace_back(m.op, std::string(m.view()));
      if (m.op == WsOpcode::kClose) close_code = m.close_code;
    }
    ASSERT_NE(st, WsServerDeframer::kError) << d.error();
  }
  ASSERT_EQ(got.size(), 6u);
  EXPECT_EQ(got[0].second, texts[0]);
  EXPECT_EQ(got[1].second, texts[1]);
  EXPECT_EQ(got[2].second, big);
  EXPECT_EQ(got[3], std::make_pair(WsOpcode::kPing, std::string("p!")));
  EXPECT_EQ(got[4], std::make_pair(WsOpcode::kText, std::string("Hello")));
  EXPECT_EQ(got[5], std::make_pair(WsOpcode::kClose, std::string("bye")));
  EXPECT_EQ(close_code, 1000);
  EXPECT_EQ(d.next(m), WsServerDeframer::kClosed);
}

TEST(WsServerDeframer, ProtocolErrors) {
  struct Case {
    std::string bytes;
    std::uint16_t code;
  };
  const std::vector<Case> cases = {
      {std::string("\x81\x05Hello", 7), 1002},                           // unmasked (§5.1)
      {std::string("\xc1\x80\0\0\0\0", 6), 1002},                        // RSV1 (§5.2)
      {std::string("\x83\x80\0\0\0\0", 6), 1002},                        // opcode 3
      {std::string("\x09\x80\0\0\0\0", 6), 1002},                        // fragmented ping
      {std::string("\x89\xfe\0\x7e\0\0\0\0", 8), 1002},                  // ping over 125
      {std::string("\x80\x80\0\0\0\0", 6), 1002},                        // lone continuation
      {std::string("\x81\xfe\0\x05\0\0\0\0", 8), 1002},                  // non-minimal length
      {std::string("\x88\x81\0\0\0\0x", 7), 1002},                       // 1-byte close
      {std::string("\x88\x82\0\0\0\0\x03\xed", 8), 1002},                // close code 1005
      {std::string("\x82\xff\0\0\0\0\0\x10\0\0", 10), 1009},             // 1 MiB > max
  };
  for (const Case& c : cases) {
    WsServerDeframer d(1024);
    d.feed(c.bytes.data(), c.bytes.size());
    WsMessage m;
    EXPECT_EQ(d.next(m), WsServerDeframer::kError) << d.error();
    EXPECT_EQ(d.close_code(), c.code) << d.error();
    EXPECT_FALSE(d.error().empty());
    EXPECT_EQ(d.next(m), WsServerDeframer::kError);  // sticky
  }
}

}  // namespace
}  // namespace shadow
