// Bybit v5 request signing and its server-side check: the one implementation the dry-run order
// gateway (signing) and the embedded sandbox venue (verifying) share (issue 13).
//
// Bybit v5 "Integration Guidance", Authentication:
//   REST: X-BAPI-SIGN = hex(HMAC_SHA256(secret, timestamp + api_key + [recv_window] + payload)),
//         payload = the query string as sent (not sorted) for GET, the JSON body for POST;
//         headers X-BAPI-API-KEY, X-BAPI-TIMESTAMP (ms), X-BAPI-RECV-WINDOW (ms, default 5000).
//         A request is fresh when server_time - recv_window <= timestamp < server_time + 1000.
//   Private WebSocket: {"op":"auth","args":[api_key, expires, hex(HMAC_SHA256(secret,
//         "GET/realtime" + expires))]}, expires in ms and in the future.
// retCodes of a refused request: 10003 unknown API key, 10004 signature error, 10002 timestamp
// outside the receive window (or malformed).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace shadow {

// Lower-case hex of HMAC-SHA256(key, message) (RFC 2104, FIPS 180-4): 64 characters.
std::string hmac_sha256_hex(std::string_view key, std::string_view message);

// X-BAPI-SIGN of a REST request.
std::string bybit_rest_signature(std::string_view secret, std::int64_t timestamp_ms, std::string_view api_key,
                                 std::int64_t recv_window_ms, std::string_view payload);

// The third argument of the private WebSocket's auth request.
std::string bybit_ws_auth_signature(std::string_view secret, std::int64_t expires_ms);

// Equal without a data-dependent early exit (a signature compare must not leak its prefix).
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

inline constexpr int kBybitRetOk = 0;
inline constexpr int kBybitRetTimestamp = 10002;
inline constexpr int kBybitRetInvalidKey = 10003;
inline constexpr int kBybitRetSignError = 10004;

// The four headers of a signed REST request, as received (text, unparsed).
struct BybitSignedRequest {
  std::string_view api_key;
  std::string_view timestamp;    // X-BAPI-TIMESTAMP
  std::string_view recv_window;  // X-BAPI-RECV-WINDOW ("" : 5000)
  std::string_view sign;         // X-BAPI-SIGN
  std::string_view payload;      // query string (GET) or body (POST)
};

struct BybitAuthResult {
  int ret_code = kBybitRetOk;
  std::string ret_msg = "OK";
};

// Server side: checks a request whose key has the secret `secret` (empty: unknown key) at server
// time `now_ms`. Order as Bybit: key, then timestamp window, then signature.
BybitAuthResult bybit_check_request(const BybitSignedRequest& r, std::string_view secret, std::int64_t now_ms);

}  // namespace shadow
