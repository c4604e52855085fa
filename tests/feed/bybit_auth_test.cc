// Bybit v5 signing and its server-side check. Expected values come from an independent
// implementation (Python's hmac/hashlib) and RFC 4231, not from this code.
#include "feed/bybit_auth.h"

#include <gtest/gtest.h>

namespace {

using namespace shadow;

constexpr std::string_view kBody =
    R"({"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.001","price":"60000","timeInForce":"PostOnly","orderLinkId":"shadow-1"})";
// python3: hmac.new(b"sandbox-secret", ("1700000000000" + "sandbox-key" + "5000" + body).encode(), sha256)
constexpr std::string_view kBodySign = "007966e069fd0bc50acb89ae3356b62b56561517a863475b8aaaf879741dd041";

TEST(BybitAuth, HmacSha256MatchesRfc4231) {
  EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),  // RFC 4231 test case 2
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(BybitAuth, RestAndWebSocketSignatures) {
  EXPECT_EQ(bybit_rest_signature("sandbox-secret", 1700000000000, "sandbox-key", 5000, kBody), kBodySign);
  // A GET: the query string as sent (the docs' example request, our own key and secret).
  // python3: hmac.new(b"docs-example-secret", ("1658384314791" + "docs-example-key" + "5000" +
  //          "category=option&symbol=BTC-29JUL22-25000-C").encode(), sha256)
  EXPECT_EQ(bybit_rest_signature("docs-example-secret", 1658384314791, "docs-example-key", 5000,
                                 "category=option&symbol=BTC-29JUL22-25000-C"),
            "5c01177d09aa539ec7373bb2a9fb0da36426697bf43de580167a19ed9330c187");
  // python3: hmac.new(b"sandbox-secret", b"GET/realtime1700000001000", sha256)
  EXPECT_EQ(bybit_ws_auth_signature("sandbox-secret", 1700000001000),
            "e14e7a3b91b98d7b3f450210a949453118b678d9ec38d3cee61b447bb717da1e");
}

TEST(BybitAuth, ServerAcceptsAFreshCorrectlySignedRequest) {
  const BybitSignedRequest r{"sandbox-key", "1700000000000", "5000", kBodySign, kBody};
  const BybitAuthResult ok = bybit_check_request(r, "sandbox-secret", 1700000000200);
  EXPECT_EQ(ok.ret_code, kBybitRetOk) << ok.ret_msg;
}

TEST(BybitAuth, EachRefusalHasBybitsRetCode) {
  BybitSignedRequest r{"sandbox-key", "1700000000000", "5000", kBodySign, kBody};
  EXPECT_EQ(bybit_check_request(r, "", 1700000000200).ret_code, kBybitRetInvalidKey);  // unknown key
  EXPECT_EQ(bybit_check_request(r, "other-secret", 1700000000200).ret_code, kBybitRetSignError);
  // Window: server_time - recv_window <= timestamp < server_time + 1000.
  EXPECT_EQ(bybit_check_request(r, "sandbox-secret", 1700000005000).ret_code, kBybitRetOk);       // oldest allowed
  EXPECT_EQ(bybit_check_request(r, "sandbox-secret", 1700000005001).ret_code, kBybitRetTimestamp); // too old
  EXPECT_EQ(bybit_check_request(r, "sandbox-secret", 1699999999001).ret_code, kBybitRetOk);
  EXPECT_EQ(bybit_check_request(r, "sandbox-secret", 1699999999000).ret_code, kBybitRetTimestamp); // from the future
  for (std::string_view bad : {"", "-1", "17e11", "1700000000000x", "99999999999999999999"}) {
    r.timestamp = bad;
    EXPECT_EQ(bybit_check_request(r, "sandbox-secret", 1700000000200).ret_code, kBybitRetTimestamp) << bad;
  }
  r.timestamp = "1700000000000";
  r.payload = R"({"category":"linear"})";  // the body was changed after signing
  const BybitAuthResult tampered = bybit_check_request(r, "sandbox-secret", 1700000000200);
  EXPECT_EQ(tampered.ret_code, kBybitRetSignError);
  EXPECT_EQ(tampered.ret_msg.find("sandbox-secret"), std::string::npos) << "the secret never shows";
}

// Found by sandbox_request_fuzz: the 10004 message echoed a payload's bytes, invalid UTF-8
// included, which made the JSON answer invalid. Now printable ASCII only, and at most 1 KiB.
TEST(BybitAuth, SignErrorEchoIsPrintableAsciiAndBounded) {
  const std::string payload = std::string("{\"a\":\"\xff\xfe\x01\"}") + std::string(4000, 'x');
  const BybitSignedRequest r{"sandbox-key", "1700000000000", "5000", "00", payload};
  const BybitAuthResult bad = bybit_check_request(r, "sandbox-secret", 1700000000200);
  EXPECT_EQ(bad.ret_code, kBybitRetSignError);
  EXPECT_EQ(bad.ret_msg.rfind("error sign! origin_string[1700000000000sandbox-key5000{\"a\":\"???\"}", 0), 0u) << bad.ret_msg;
  for (const char c : bad.ret_msg) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << static_cast<int>(static_cast<unsigned char>(c));
  EXPECT_LE(bad.ret_msg.size(), 1024u + 32u);
  EXPECT_EQ(bad.ret_msg.substr(bad.ret_msg.size() - 4), "...]");
}

TEST(BybitAuth, WithoutRecvWindowTheSignatureLeavesItOut) {
  const std::string sign = hmac_sha256_hex("s", std::string("1700000000000") + "k" + "a=1");
  const BybitSignedRequest r{"k", "1700000000000", "", sign, "a=1"};
  EXPECT_EQ(bybit_check_request(r, "s", 1700000000000).ret_code, kBybitRetOk);
}

TEST(BybitAuth, ConstantTimeEqual) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "ab"));
  EXPECT_TRUE(constant_time_equal("", ""));
}

}  // namespace
