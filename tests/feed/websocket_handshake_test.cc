// RFC 6455 opening handshake (§4), the client's side: the Sec-WebSocket-Accept computation
// (§1.3 example), base64 (RFC 4648 vectors), ws:// URL parsing, the upgrade request (§4.1) and
// the incremental parser of the server's response with every error it names. The server's
// side (§4.2, parse_ws_upgrade) is checked here against this client in a round trip, and in
// detail with the exchange's WebSocket server (tests/exchange/ws_server_test.cc).
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "feed/websocket_handshake.h"

namespace shadow {

// Readable statuses in failure messages.
void PrintTo(WsHandshakeStatus s, std::ostream* os) { *os << to_string(s); }

namespace {

// --- handshake, base64, URL ----------------------------------------------------------------------

TEST(WsHandshakeTest, Rfc1_3AcceptExample) {
  EXPECT_EQ(ws_accept_for_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WsHandshakeTest, Base64Rfc4648Vectors) {
  const std::pair<std::string, std::string> v[] = {{"", ""},         {"f", "Zg=="},     {"fo", "Zm8="},
                                                   {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
                                                   {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, enc] : v) {
    EXPECT_EQ(base64_encode(plain.data(), plain.size()), enc);
    std::string out;
    ASSERT_TRUE(base64_decode(enc, out)) << enc;
    EXPECT_EQ(out, plain);
  }
  std::string out;
  ASSERT_TRUE(base64_decode("dGhlIHNhbXBsZSBub25jZQ==", out));
  EXPECT_EQ(out, "the sample nonce");  // §1.3
  for (const char* bad : {"Zg=", "Z===", "Zg=a", "Zh==", "Zm9=", "Zm9v!A==", "=Zm9"}) {
    EXPECT_FALSE(base64_decode(bad, out)) << bad;
  }
}

TEST(WsHandshakeTest, UrlParsing) {
  WsUrl u;
  std::string err;
  ASSERT_TRUE(parse_ws_url("ws://stream.bybit.com/v5/public/linear", u, err)) << err;
  EXPECT_EQ(u.host, "stream.bybit.com");
  EXPECT_EQ(u.port, 80);
  EXPECT_EQ(u.resource, "/v5/public/linear");
  ASSERT_TRUE(parse_ws_url("ws://127.0.0.1:9443", u, err)) << err;
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_EQ(u.port, 9443);
  EXPECT_EQ(u.resource, "/");
  ASSERT_TRUE(parse_ws_url("WS://[::1]:8080/ws?streams=btcusdt@depth", u, err)) << err;
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, 8080);
  EXPECT_EQ(u.resource, "/ws?streams=btcusdt@depth");
  ASSERT_TRUE(parse_ws_url("ws://h?x=1", u, err));
  EXPECT_EQ(u.resource, "/?x=1");
  ASSERT_TRUE(parse_ws_url("wss://stream.binance.com:9443/ws", u, err)) << err;
  EXPECT_TRUE(u.secure);
  EXPECT_EQ(u.port, 9443);
  ASSERT_TRUE(parse_ws_url("WSS://stream.bybit.com/v5/public/linear", u, err)) << err;
  EXPECT_TRUE(u.secure);
  EXPECT_EQ(u.port, 443);  // wss's default port
  EXPECT_FALSE(parse_ws_url("https://stream.bybit.com/", u, err));
  EXPECT_NE(err.find("wss://"), std::string::npos) << err;
  for (const char* bad : {"http://h/", "h:80/x", "ws://", "ws://:80/", "ws://h:/", "ws://h:0/",
                          "ws://h:65536/", "ws://h:8a/", "ws://h/#frag", "ws://[::1/", "ws://u@h/"}) {
    EXPECT_FALSE(parse_ws_url(bad, u, err)) << bad;
    EXPECT_FALSE(err.empty());
  }
  // Issue 11 finding 7: CR/LF in a URL would be copied into the upgrade request (header
  // injection). Refused, and the message does not echo the bytes.
  using namespace std::string_literals;
  for (const std::string& bad : {"ws://h/x\r\nX-Injected: 1"s, "ws://h/x\nHost: evil"s, "ws://h/a b"s,
                                 "ws://h/\x7f"s, "ws://h/\0x"s, "ws://h\r\n/"s}) {
    EXPECT_FALSE(parse_ws_url(bad, u, err)) << bad;
    EXPECT_EQ(err.find('\r'), std::string::npos) << err;
    EXPECT_EQ(err.find('\n'), std::string::npos) << err;
    EXPECT_EQ(err.find("Injected"), std::string::npos) << err;
  }
  EXPECT_FALSE(parse_ws_url("ws://h/x\r\nX: 1", u, err));
  EXPECT_EQ(err, "URL has a control character (0x0d) at offset 8 (only RFC 3986 URI characters are allowed)");
}

constexpr std::array<std::uint8_t, 16> kSampleNonce = {'t', 'h', 'e', ' ', 's', 'a', 'm', 'p',
                                                      'l', 'e', ' ', 'n', 'o', 'n', 'c', 'e'};

WsUrl url(const char* s) {
  WsUrl u;
  std::string err;
  EXPECT_TRUE(parse_ws_url(s, u, err)) << err;
  return u;
}

TEST(WsHandshakeTest, RequestMatchesRfc4_1) {
  WsHandshake hs(url("ws://server.example.com/chat"), kSampleNonce);
  EXPECT_EQ(hs.key(), "dGhlIHNhbXBsZSBub25jZQ==");
  EXPECT_EQ(hs.expected_accept(), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  EXPECT_EQ(hs.request(),
            "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n");
  WsHandshake hs2(url("ws://[::1]:9000/"));
  EXPECT_NE(hs2.request().find("Host: [::1]:9000\r\n"), std::string::npos);
  std::string nonce;
  ASSERT_TRUE(base64_decode(hs2.key(), nonce));
  EXPECT_EQ(nonce.size(), 16u);
  EXPECT_NE(hs2.key(), WsHandshake(url("ws://h/")).key());
}

const std::string kResponse =
    "HTTP/1.1 101 Switching Protocols\r\nupgrade: WebSocket\r\nCONNECTION: keep-alive, Upgrade\r\n"
    "Sec-WebSocket-Accept:   s3pPLMBiTxaQ9kYGzzhZRbK+xOo=  \r\nServer: test\r\n\r\n";

TEST(WsHandshakeTest, ResponseInPiecesWithFramesBehind) {
  const std::string frames("\x81\x05Hello", 7);  // an unmasked server frame
  const std::string all = kResponse + frames;
  for (std::size_t cut = 0; cut <= all.size(); ++cut) {
    WsHandshake hs(url("ws://server.example.com/chat"), kSampleNonce);
    std::size_t used = 0;
    WsHandshakeStatus st = hs.parse(all.data(), cut, used);
    std::size_t total = used;
    if (st == WsHandshakeStatus::kNeedMore) {
      ASSERT_EQ(used, cut);
      st = hs.parse(all.data() + cut, all.size() - cut, used);
      total += used;
    }
    ASSERT_EQ(st, WsHandshakeStatus::kDone) << hs.error() << " cut " << cut;
    ASSERT_EQ(total, kResponse.size()) << "cut " << cut;
    EXPECT_EQ(hs.status_code(), 101);
  }
  // Byte by byte.
  WsHandshake hs(url("ws://server.example.com/chat"), kSampleNonce);
  std::size_t used = 0, total = 0;
  WsHandshakeStatus st = WsHandshakeStatus::kNeedMore;
  for (std::size_t i = 0; i < all.size() && st == WsHandshakeStatus::kNeedMore; ++i) {
    st = hs.parse(all.data() + i, 1, used);
    total += used;
  }
  EXPECT_EQ(st, WsHandshakeStatus::kDone);
  EXPECT_EQ(total, kResponse.size());
}

WsHandshakeStatus respond(const std::string& response, std::string* error = nullptr) {
  WsHandshake hs(url("ws://server.example.com/chat"), kSampleNonce);
  std::size_t used = 0;
  const WsHandshakeStatus st = hs.parse(response.data(), response.size(), used);
  if (error) *error = hs.error();
  return st;
}

TEST(WsHandshakeTest, ResponseErrorsNameTheProblem) {
  std::string err;
  EXPECT_EQ(respond("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", &err), WsHandshakeStatus::kBadStatusLine);
  EXPECT_NE(err.find("HTTP/1.1 200 OK"), std::string::npos) << err;
  EXPECT_EQ(respond("HTTP/1.0 101 Switching\r\n\r\n"), WsHandshakeStatus::kBadStatusLine);
  EXPECT_EQ(respond("SSH-2.0-OpenSSH\r\n\r\n"), WsHandshakeStatus::kBadStatusLine);
  EXPECT_EQ(respond("HTTP/1.1 1x1 Switching\r\n\r\n"), WsHandshakeStatus::kBadStatusLine);
  const std::string ok_line = "HTTP/1.1 101 Switching Protocols\r\n";
  const std::string up = "Upgrade: websocket\r\n", conn = "Connection: Upgrade\r\n",
                    acc = "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n";
  EXPECT_EQ(respond(ok_line + up + conn + acc + "\r\n"), WsHandshakeStatus::kDone);
  EXPECT_EQ(respond(ok_line + conn + acc + "\r\n", &err), WsHandshakeStatus::kMissingHeader);
  EXPECT_NE(err.find("Upgrade"), std::string::npos) << err;
  EXPECT_EQ(respond(ok_line + up + acc + "\r\n", &err), WsHandshakeStatus::kMissingHeader);
  EXPECT_NE(err.find("Connection"), std::string::npos) << err;
  EXPECT_EQ(respond(ok_line + up + conn + "\r\n", &err), WsHandshakeStatus::kMissingHeader);
  EXPECT_NE(err.find("Sec-WebSocket-Accept"), std::string::npos) << err;
  EXPECT_EQ(respond(ok_line + "Upgrade: h2c\r\n" + conn + acc + "\r\n"), WsHandshakeStatus::kBadUpgrade);
  EXPECT_EQ(respond(ok_line + up + "Connection: close\r\n" + acc + "\r\n"), WsHandshakeStatus::kBadUpgrade);
  EXPECT_EQ(respond(ok_line + up + conn + "Sec-WebSocket-Accept: AAAA\r\n\r\n", &err), WsHandshakeStatus::kBadAccept);
  EXPECT_NE(err.find("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), std::string::npos) << err;
  EXPECT_EQ(respond(ok_line + up + conn + acc + "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"),
            WsHandshakeStatus::kUnrequested);
  EXPECT_EQ(respond(ok_line + up + conn + acc + "bad header\r\n\r\n"), WsHandshakeStatus::kBadHeader);
  EXPECT_EQ(respond(ok_line + up + " folded\r\n" + conn + acc + "\r\n"), WsHandshakeStatus::kBadHeader);
  EXPECT_EQ(respond(ok_line + "X: " + std::string(20000, 'a')), WsHandshakeStatus::kBadHeader);
  for (std::size_t i = 0; i < 8; ++i) EXPECT_FALSE(to_string(static_cast<WsHandshakeStatus>(i)).empty());
}

TEST(WsHandshakeTest, ServerSideAcceptsTheClientsRequestAndTheClientVerifiesTheAnswer) {
  WsHandshake hs(url("ws://127.0.0.1:9001/v5/public/linear?x=1"), kSampleNonce);
  WsUpgradeRequest req;
  std::size_t used = 0;
  int status = 0;
  std::string error;
  ASSERT_EQ(parse_ws_upgrade(hs.request() + "FRAMES", "/v5/public/linear?x=1", req, used, status,
                             error),
            WsUpgradeStatus::kDone)
      << error;
  EXPECT_EQ(used, hs.request().size());
  EXPECT_EQ(req.key, hs.key());
  const std::string response = ws_upgrade_response(req.key);
  EXPECT_EQ(hs.parse(response.data(), response.size(), used), WsHandshakeStatus::kDone)
      << hs.error();
  EXPECT_EQ(used, response.size());
  // §4.2.1: a request the server refuses gets an HTTP error naming why (§4.4: and the version).
  WsHandshake other(url("ws://127.0.0.1:9001/other"), kSampleNonce);
  EXPECT_EQ(parse_ws_upgrade(other.request(), "/v5/public/linear", req, used, status, error),
            WsUpgradeStatus::kBad);
  EXPECT_EQ(status, 404);
  const std::string refusal = ws_http_error(400, "Sec-WebSocket-Version must be 13");
  EXPECT_EQ(refusal.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u);
  EXPECT_NE(refusal.find("Sec-WebSocket-Version: 13\r\n"), std::string::npos);
}

}  // namespace
}  // namespace shadow
