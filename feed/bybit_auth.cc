#include "feed/bybit_auth.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>

namespace shadow {
namespace {

bool parse_ms(std::string_view s, std::int64_t& out) noexcept {
  if (s.empty() || s.size() > 18) return false;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size() && out >= 0;
}

}  // namespace

std::string hmac_sha256_hex(std::string_view key, std::string_view message) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), md, &n) == nullptr) {
    return {};
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (unsigned int i = 0; i < n; ++i) {
    out[2 * i] = kHex[md[i] >> 4];
    out[2 * i + 1] = kHex[md[i] & 15];
  }
  return out;
}

std::string bybit_rest_signature(std::string_view secret, std::int64_t timestamp_ms, std::string_view api_key,
                                 std::int64_t recv_window_ms, std::string_view payload) {
  std::string msg = std::to_string(timestamp_ms);
  msg.append(api_key).append(std::to_string(recv_window_ms)).append(payload);
  return hmac_sha256_hex(secret, msg);
}

std::string bybit_ws_auth_signature(std::string_view secret, std::int64_t expires_ms) {
  std::string msg = "GET/realtime";
  msg.append(std::to_string(expires_ms));
  return hmac_sha256_hex(secret, msg);
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

BybitAuthResult bybit_check_request(const BybitSignedRequest& r, std::string_view secret, std::int64_t now_ms) {
  if (r.api_key.empty() || secret.empty()) return {kBybitRetInvalidKey, "API key is invalid."};
  std::int64_t ts = 0, window = 5000;
  if (!parse_ms(r.timestamp, ts) || (!r.recv_window.empty() && !parse_ms(r.recv_window, window))) {
    return {kBybitRetTimestamp, "invalid request, please check your timestamp and recv_window param"};
  }
  if (!(now_ms - window <= ts && ts < now_ms + 1000)) {
    return {kBybitRetTimestamp, "invalid request, please check your server timestamp or recv_window param. req_timestamp[" +
                                    std::to_string(ts) + "],server_timestamp[" + std::to_string(now_ms) +
                                    "],recv_window[" + std::to_string(window) + "]"};
  }
  // The signature covers the header text as sent: no X-BAPI-RECV-WINDOW, nothing in its place
  // (the docs' "timestamp + key + [recv_window] + payload"), though the window is then 5000.
  std::string msg(r.timestamp);
  msg.append(r.api_key).append(r.recv_window).append(r.payload);
  if (!constant_time_equal(hmac_sha256_hex(secret, msg), r.sign)) {
    // Bybit echoes the string it signed. Echoed here as printable ASCII ('?' for anything else:
    // a payload's bytes need not be valid UTF-8, and the reply must stay valid JSON) and at most
    // 1 KiB of it (a 64 KiB body is not worth sending back).
    constexpr std::size_t kMaxEcho = 1024;
    std::string echo = "error sign! origin_string[";
    for (std::size_t i = 0; i < msg.size() && i < kMaxEcho; ++i) {
      const unsigned char c = static_cast<unsigned char>(msg[i]);
      echo += c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?';
    }
    if (msg.size() > kMaxEcho) echo += "...";
    echo += ']';
    return {kBybitRetSignError, echo};
  }
  return {};
}

}  // namespace shadow
