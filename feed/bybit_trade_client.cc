#include "feed/bybit_trade_client.h"

#include <httplib.h>
#include <openssl/ssl.h>
#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <stdexcept>

#include "core/clock.h"
#include "core/host_port.h"
#include "core/input_text.h"
#include "core/json_text.h"
#include "feed/bybit_auth.h"
#include "feed/internal/bybit_private_json.h"

namespace shadow {
namespace {

namespace dom = simdjson::dom;

constexpr std::int64_t kNsPerMs = 1'000'000;
constexpr int kRetRateLimited = 10006;
constexpr int kRetBusy = 10016;
constexpr int kRetDuplicateLinear = 110072;
constexpr int kRetDuplicateSpot = 170141;
constexpr std::size_t kMaxPages = 10'000;     // a venue whose cursor never ends stops here
constexpr std::size_t kShownMsgBytes = 512;   // of a venue's retMsg

std::int64_t realtime_ms() noexcept { return realtime_ns() / kNsPerMs; }

bool is_https(std::string_view url) { return url.substr(0, 8) == "https://"; }

// The endpoints with a token bucket of their own (Bybit limits each per account and endpoint).
enum Endpoint : std::uint8_t { kCreate, kAmend, kCancel, kCancelAll, kRealtime, kHistory, kExecutions, kDcp,
                               kEndpoints, kPublic = kEndpoints };

// Tokens refilled continuously at `rate` per second, at most `rate` held (one second's burst).
// The venue's X-Bapi-Limit-Status lowers the tokens; a spent venue budget blocks until its reset.
struct TokenBucket {
  double rate = 0;  // 0: unlimited
  double tokens = 0;
  std::int64_t last_ns = 0;
  std::int64_t blocked_until_ns = 0;

  void init(int per_s, std::int64_t now) {
    rate = per_s;
    tokens = per_s;
    last_ns = now;
  }
  void refill(std::int64_t now) {
    if (rate > 0 && now > last_ns) tokens = std::min(rate, tokens + static_cast<double>(now - last_ns) * rate / 1e9);
    last_ns = std::max(last_ns, now);
  }
  // 0 and one token taken, or the ns to wait before one is there.
  std::int64_t take(std::int64_t now) {
    if (now < blocked_until_ns) return blocked_until_ns - now;
    if (rate <= 0) return 0;
    refill(now);
    if (tokens >= 1) {
      tokens -= 1;
      return 0;
    }
    return static_cast<std::int64_t>(std::ceil((1 - tokens) / rate * 1e9));
  }
  void venue_says(std::int64_t remaining, std::int64_t now) {
    refill(now);
    tokens = std::min(tokens, static_cast<double>(std::max<std::int64_t>(remaining, 0)));
  }
  void block_until(std::int64_t until_ns) {
    blocked_until_ns = std::max(blocked_until_ns, until_ns);
    tokens = 0;
  }
};

bool parse_i64(std::string_view s, std::int64_t& out) {
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

bool valid_link_id(std::string_view s) {
  if (s.size() > 36) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

// A cursor back as Bybit sent it (already %-encoded), other bytes escaped.
void append_query_value(std::string& out, std::string_view v) {
  constexpr char kHex[] = "0123456789ABCDEF";
  for (const char c : v) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                       c == '_' || c == '.' || c == '~' || c == '%';
    if (plain) {
      out += c;
    } else {
      out += '%';
      out += kHex[static_cast<unsigned char>(c) >> 4];
      out += kHex[static_cast<unsigned char>(c) & 15];
    }
  }
}

void kv_str(std::string& out, std::string_view k, std::string_view v) {
  if (out.size() > 1) out += ',';
  append_json_string(out, k);
  out += ':';
  append_json_string(out, v);
}
void kv_fixed(std::string& out, std::string_view k, Fixed v) {
  char buf[kFixedMaxChars];
  kv_str(out, k, to_chars_fixed(v, buf));
}

BybitReply local_refusal(std::string why) {
  BybitReply r;
  r.outcome = BybitOutcome::kRejected;
  r.ret_msg = "not sent: " + why;
  return r;
}

}  // namespace

std::string_view to_string(BybitOutcome o) noexcept {
  switch (o) {
    case BybitOutcome::kOk: return "ok";
    case BybitOutcome::kRejected: return "rejected";
    case BybitOutcome::kRateLimited: return "rate_limited";
    case BybitOutcome::kUnknown: return "unknown";
    case BybitOutcome::kAuthFailed: return "auth_failed";
  }
  return "?";
}

std::string check(const BybitTradeConfig& c) {
  std::string problem;
  if (!check_url_text(c.rest_url, problem)) return "rest_url has " + problem;
  std::string_view rest = c.rest_url;
  if (rest.substr(0, 8) == "https://") rest.remove_prefix(8);
  else if (rest.substr(0, 7) == "http://") rest.remove_prefix(7);
  else return "rest_url must start with https:// or http:// (got '" + printable(c.rest_url) + "')";
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find_first_of("/?#") != std::string_view::npos)
    return "rest_url must be scheme://host[:port] without a path (got '" + printable(c.rest_url) + "')";
  HostPort hp;
  if (!split_host_port(rest, hp, problem)) return "rest_url has " + problem;
  if (c.category != "linear" && c.category != "spot")
    return "category '" + printable(c.category) + "' (allowed: linear, spot)";
  // Never quoted: only what is wrong with them.
  if (c.api_key.empty() || c.api_key.size() > 64 ||
      !std::all_of(c.api_key.begin(), c.api_key.end(), [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)); }))
    return "api_key must be 1..64 characters of A-Z a-z 0-9";
  if (c.api_secret.empty() || c.api_secret.size() > 128 ||
      !std::all_of(c.api_secret.begin(), c.api_secret.end(), [](char ch) { return ch > 0x20 && ch < 0x7f; }))
    return "api_secret must be 1..128 printable characters without spaces";
  auto in = [](std::int64_t v, std::int64_t lo, std::int64_t hi) { return v >= lo && v <= hi; };
  if (!in(c.recv_window_ms, 1, 60'000))
    return "recv_window_ms " + std::to_string(c.recv_window_ms) + " (allowed: 1..60000)";
  if (!in(c.connect_timeout_ms, 1, 600'000))
    return "connect_timeout_ms " + std::to_string(c.connect_timeout_ms) + " (allowed: 1..600000)";
  if (!in(c.timeout_ms, 1, 600'000)) return "timeout_ms " + std::to_string(c.timeout_ms) + " (allowed: 1..600000)";
  if (!c.ca_file.empty() && c.insecure_skip_verify) return "ca_file and insecure_skip_verify exclude each other";
  if (!c.ca_file.empty() && ::access(c.ca_file.c_str(), R_OK) != 0)
    return "ca_file '" + printable(c.ca_file) + "' cannot be read";
  const std::pair<const char*, int> rates[] = {{"create_per_s", c.create_per_s}, {"amend_per_s", c.amend_per_s},
                                               {"cancel_per_s", c.cancel_per_s}, {"cancel_all_per_s", c.cancel_all_per_s},
                                               {"query_per_s", c.query_per_s},   {"dcp_per_s", c.dcp_per_s}};
  for (const auto& [name, v] : rates)
    if (!in(v, 0, 10'000)) return std::string(name) + " " + std::to_string(v) + " (allowed: 0..10000, 0 = unlimited)";
  return "";
}

struct BybitTradeClient::Impl {
  const BybitTradeConfig& cfg;
  std::uint64_t& sent;
  std::unique_ptr<httplib::Client> http;
  TokenBucket buckets[kEndpoints];
  dom::parser parser;
  dom::object result;  // of the last answer, valid until the next request
  bool has_result = false;
  std::string masked_key;

  Impl(const BybitTradeConfig& c, std::uint64_t& s) : cfg(c), sent(s) {
    std::string base = cfg.rest_url;
    if (base.back() == '/') base.pop_back();  // httplib wants scheme://host:port
    http = std::make_unique<httplib::Client>(base);
    if (!http->is_valid()) throw std::invalid_argument("rest_url " + printable(base) + ": not usable by the HTTP client");
    http->set_connection_timeout(cfg.connect_timeout_ms / 1000, (cfg.connect_timeout_ms % 1000) * 1000);
    http->set_read_timeout(cfg.timeout_ms / 1000, (cfg.timeout_ms % 1000) * 1000);
    http->set_write_timeout(cfg.timeout_ms / 1000, (cfg.timeout_ms % 1000) * 1000);
    http->set_keep_alive(true);
    // A request's headers and body leave without waiting for the peer's delayed ACK (Nagle would
    // hold the body ~40 ms on Linux: every order would wait for it).
    http->set_tcp_nodelay(true);
    http->set_follow_location(false);  // a redirect is an error: orders go to this venue only
    if (is_https(base)) {
      http->enable_server_certificate_verification(!cfg.insecure_skip_verify);
      if (!cfg.ca_file.empty()) http->set_ca_cert_path(cfg.ca_file);
      if (SSL_CTX* ctx = http->ssl_context()) SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    }
    const std::int64_t now = monotonic_ns();
    const int per_s[kEndpoints] = {cfg.create_per_s, cfg.amend_per_s, cfg.cancel_per_s, cfg.cancel_all_per_s,
                                   cfg.query_per_s,  cfg.query_per_s, cfg.query_per_s,  cfg.dcp_per_s};
    for (int e = 0; e < kEndpoints; ++e) buckets[e].init(per_s[e], now);
    masked_key = cfg.api_key.substr(0, std::min<std::size_t>(4, cfg.api_key.size() / 2)) + "…";
  }

  // The venue's text without the key or the secret (a 10004 answer echoes the signed string,
  // key included), as printable ASCII.
  std::string scrub(std::string_view venue_text) const {
    std::string s(venue_text);
    const auto replace_all = [&s](const std::string& what, std::string_view with) {
      if (what.empty()) return;
      for (std::size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + with.size()))
        s.replace(p, what.size(), with);
    };
    replace_all(cfg.api_secret, "<secret>");
    replace_all(cfg.api_key, "<key>");
    s = printable(s, kShownMsgBytes);
    // After printable(), which would write the ellipsis' UTF-8 bytes as \xNN.
    const std::string_view key_tag = "<key>";
    for (std::size_t p = s.find(key_tag); p != std::string::npos; p = s.find(key_tag, p + masked_key.size()))
      s.replace(p, key_tag.size(), masked_key);
    return s;
  }

  // X-Bapi-Limit-Status / -Reset-Timestamp of an answer into the endpoint's bucket.
  void venue_limits(Endpoint ep, const httplib::Response& res, std::int64_t now_mono, BybitReply& r) {
    if (ep == kPublic) return;
    std::int64_t remaining = -1, reset_ms = 0;
    if (res.has_header("X-Bapi-Limit-Status") && parse_i64(res.get_header_value("X-Bapi-Limit-Status"), remaining))
      buckets[ep].venue_says(remaining, now_mono);
    if (res.has_header("X-Bapi-Limit-Reset-Timestamp"))
      (void)parse_i64(res.get_header_value("X-Bapi-Limit-Reset-Timestamp"), reset_ms);
    const std::int64_t now_ms = realtime_ms();
    if (remaining == 0 || r.outcome == BybitOutcome::kRateLimited) {
      const std::int64_t until_ms = reset_ms > now_ms ? reset_ms : now_ms + 1000;  // Bybit's window: 1 s
      buckets[ep].block_until(now_mono + (until_ms - now_ms) * kNsPerMs);
      if (r.outcome == BybitOutcome::kRateLimited) r.retry_at_ms = until_ms;
    }
  }

  // One request: bucket, signature, send, classify. `payload` is the query (GET) or body (POST).
  BybitReply send(Endpoint ep, bool post, const std::string& path, const std::string& payload) {
    BybitReply r;
    const std::int64_t now = monotonic_ns();
    if (ep != kPublic) {
      if (const std::int64_t wait = buckets[ep].take(now); wait > 0) {
        r.outcome = BybitOutcome::kRateLimited;
        r.local_throttle = true;
        r.retry_at_ms = realtime_ms() + (wait + kNsPerMs - 1) / kNsPerMs;
        r.ret_msg = "client-side rate limit of " + path + ": not sent";
        return r;
      }
    }
    httplib::Headers headers;
    if (ep != kPublic) {
      const std::int64_t ts = realtime_ms();
      headers.emplace("X-BAPI-API-KEY", cfg.api_key);
      headers.emplace("X-BAPI-TIMESTAMP", std::to_string(ts));
      headers.emplace("X-BAPI-RECV-WINDOW", std::to_string(cfg.recv_window_ms));
      headers.emplace("X-BAPI-SIGN", bybit_rest_signature(cfg.api_secret, ts, cfg.api_key, cfg.recv_window_ms, payload));
    }
    const std::int64_t t0 = monotonic_ns();
    httplib::Result res = post ? http->Post(path, headers, payload, "application/json")
                               : http->Get(payload.empty() ? path : path + "?" + payload, headers);
    ++sent;
    const std::int64_t t1 = monotonic_ns();
    r.latency_ns = t1 - t0;
    if (!res) {
      const httplib::Error e = res.error();
      r.ret_msg = e == httplib::Error::Read || e == httplib::Error::Write
                      ? "no answer within " + std::to_string(cfg.timeout_ms) + " ms (" + httplib::to_string(e) + ")"
                      : "network error (" + httplib::to_string(e) + ")";
      return r;  // kUnknown: the venue may have acted
    }
    r.http_status = res->status;
    if (res->status == 403 || res->status == 429) {
      r.outcome = BybitOutcome::kRateLimited;
      r.ret_msg = "HTTP " + std::to_string(res->status) + " (IP or system rate limit)";
      venue_limits(ep, *res, t1, r);
      return r;
    }
    if (res->status >= 500) {
      r.ret_msg = "HTTP " + std::to_string(res->status);
      return r;
    }
    has_result = false;
    dom::object root;
    std::int64_t code = 0;
    std::string_view msg;
    const bool bybit = parser.parse(res->body).get_object().get(root) == simdjson::SUCCESS &&
                       root["retCode"].get_int64().get(code) == simdjson::SUCCESS &&
                       root["retMsg"].get_string().get(msg) == simdjson::SUCCESS;
    if (!bybit) {
      r.outcome = res->status == 401 ? BybitOutcome::kAuthFailed
                  : res->status == 200 ? BybitOutcome::kUnknown : BybitOutcome::kRejected;
      r.ret_msg = "HTTP " + std::to_string(res->status) + ": not a Bybit answer";
      return r;
    }
    has_result = root["result"].get_object().get(result) == simdjson::SUCCESS;
    r.ret_code = static_cast<int>(code);
    r.ret_msg = scrub(msg);
    if (code == kBybitRetOk && res->status == 200) {
      r.outcome = BybitOutcome::kOk;
    } else if (code == kRetRateLimited) {
      r.outcome = BybitOutcome::kRateLimited;
    } else if (code == kRetBusy) {
      r.outcome = BybitOutcome::kUnknown;
    } else if ((code >= kBybitRetTimestamp && code <= 10005) || res->status == 401) {
      r.outcome = BybitOutcome::kAuthFailed;
    } else {
      r.outcome = BybitOutcome::kRejected;
    }
    venue_limits(ep, *res, t1, r);
    std::string_view s;
    if (has_result && result["orderId"].get_string().get(s) == simdjson::SUCCESS) r.order_id = s;
    if (has_result && result["orderLinkId"].get_string().get(s) == simdjson::SUCCESS) r.order_link_id = s;
    return r;
  }

  // Every page of a GET list: `parse(obj)` for each item of result.list.
  template <class Parse>
  BybitReply list(Endpoint ep, const std::string& path, const std::string& query, Parse&& parse) {
    std::string cursor;
    BybitReply r;
    std::int64_t latency = 0;
    for (std::size_t page = 0; page < kMaxPages; ++page) {
      std::string q = query;
      if (!cursor.empty()) {
        q += "&cursor=";
        append_query_value(q, cursor);
      }
      r = send(ep, false, path, q);
      latency += r.latency_ns;
      r.latency_ns = latency;
      if (r.outcome != BybitOutcome::kOk) return r;
      dom::array items;
      if (!has_result || result["list"].get_array().get(items) != simdjson::SUCCESS) {
        r.outcome = BybitOutcome::kUnknown;
        r.ret_msg = "result.list missing or not an array";
        return r;
      }
      std::size_t i = 0;
      for (const dom::element item : items) {
        dom::object o;
        feed_internal::BybitObjectError err{"", "not an object"};
        if (item.get_object().get(o) != simdjson::SUCCESS || !parse(o, err)) {
          r.outcome = BybitOutcome::kUnknown;
          r.ret_msg = "result.list[" + std::to_string(i) + "]." + std::string(err.field) + ": " + std::string(err.why);
          return r;
        }
        ++i;
      }
      std::string_view next;
      if (result["nextPageCursor"].get_string().get(next) != simdjson::SUCCESS || next.empty() || next == cursor ||
          items.size() == 0) {
        return r;
      }
      cursor = next;
    }
    r.outcome = BybitOutcome::kUnknown;
    r.ret_msg = path + ": more than " + std::to_string(kMaxPages) + " pages";
    return r;
  }

  std::string body_start(std::string_view symbol) const {
    std::string b = "{";
    kv_str(b, "category", cfg.category);
    if (!symbol.empty()) kv_str(b, "symbol", symbol);
    return b;
  }
  std::string query_start(std::string_view symbol, int limit) const {
    std::string q = "category=" + cfg.category + "&symbol=";
    append_query_value(q, symbol);
    return q + "&limit=" + std::to_string(limit);
  }
};

BybitTradeClient::BybitTradeClient(const BybitTradeConfig& cfg) : cfg_(cfg) {
  if (std::string why = check(cfg_); !why.empty()) throw std::invalid_argument(why);
  impl_ = std::make_unique<Impl>(cfg_, sent_);
}

BybitTradeClient::~BybitTradeClient() = default;

BybitReply BybitTradeClient::create_order(const BybitOrderRequest& o) {
  if (std::string why = check_symbol(o.symbol, "symbol"); !why.empty()) return local_refusal(why);
  if (!valid_link_id(o.order_link_id)) return local_refusal("orderLinkId must be 0..36 characters of A-Z a-z 0-9 _ -");
  if (o.qty <= 0 || o.price < 0 || (o.side != Side::kBuy && o.side != Side::kSell))
    return local_refusal("qty must be > 0, price >= 0 and side Buy or Sell");
  std::string b = impl_->body_start(o.symbol);
  kv_str(b, "side", o.side == Side::kBuy ? "Buy" : "Sell");
  kv_str(b, "orderType", o.price == 0 ? "Market" : "Limit");
  kv_fixed(b, "qty", o.qty);
  if (o.price != 0) {
    kv_fixed(b, "price", o.price);
    kv_str(b, "timeInForce", o.post_only ? "PostOnly" : "GTC");
  }
  if (!o.order_link_id.empty()) kv_str(b, "orderLinkId", o.order_link_id);
  if (o.reduce_only) b += R"(,"reduceOnly":true)";
  b += '}';
  BybitReply r = impl_->send(kCreate, true, "/v5/order/create", b);
  if (r.ret_code == kRetDuplicateLinear || r.ret_code == kRetDuplicateSpot) {
    r.outcome = BybitOutcome::kOk;  // the orderLinkId exists: an earlier try of this create landed
    r.duplicate = true;
  }
  if (r.order_link_id.empty()) r.order_link_id = o.order_link_id;
  return r;
}

BybitReply BybitTradeClient::amend_order(std::string_view symbol, std::string_view order_link_id, Fixed price, Fixed qty) {
  if (order_link_id.empty() || !valid_link_id(order_link_id))
    return local_refusal("orderLinkId must be 1..36 characters of A-Z a-z 0-9 _ -");
  if (price < 0 || qty < 0 || (price == 0 && qty == 0)) return local_refusal("amend needs a new price and/or qty > 0");
  std::string b = impl_->body_start(symbol);
  kv_str(b, "orderLinkId", order_link_id);
  if (qty != 0) kv_fixed(b, "qty", qty);  // Bybit: "do not pass it if not modify"
  if (price != 0) kv_fixed(b, "price", price);
  b += '}';
  BybitReply r = impl_->send(kAmend, true, "/v5/order/amend", b);
  if (r.order_link_id.empty()) r.order_link_id = order_link_id;
  return r;
}

BybitReply BybitTradeClient::cancel_order(std::string_view symbol, std::string_view order_link_id) {
  if (order_link_id.empty() || !valid_link_id(order_link_id))
    return local_refusal("orderLinkId must be 1..36 characters of A-Z a-z 0-9 _ -");
  std::string b = impl_->body_start(symbol);
  kv_str(b, "orderLinkId", order_link_id);
  b += '}';
  BybitReply r = impl_->send(kCancel, true, "/v5/order/cancel", b);
  if (r.order_link_id.empty()) r.order_link_id = order_link_id;
  return r;
}

BybitReply BybitTradeClient::cancel_all(std::string_view symbol) {
  if (std::string why = check_symbol(symbol, "symbol"); !why.empty()) return local_refusal(why);
  std::string b = impl_->body_start(symbol);
  b += '}';
  return impl_->send(kCancelAll, true, "/v5/order/cancel-all", b);
}

BybitReply BybitTradeClient::set_dcp(int time_window_s) {
  if (time_window_s < 3 || time_window_s > 300) return local_refusal("timeWindow must be 3..300 seconds");
  std::string b = "{";
  kv_str(b, "product", cfg_.category == "spot" ? "SPOT" : "DERIVATIVES");  // Bybit's default is OPTIONS
  b += ",\"timeWindow\":" + std::to_string(time_window_s) + '}';
  return impl_->send(kDcp, true, "/v5/order/disconnected-cancel-all", b);
}

BybitReply BybitTradeClient::open_orders(std::string_view symbol, std::vector<BybitOrderUpdate>& out) {
  if (std::string why = check_symbol(symbol, "symbol"); !why.empty()) return local_refusal(why);
  return impl_->list(kRealtime, "/v5/order/realtime", impl_->query_start(symbol, 50),
                     [&out](dom::object o, feed_internal::BybitObjectError& err) {
                       BybitOrderUpdate u;
                       if (!feed_internal::parse_bybit_order(o, u, err)) return false;
                       out.push_back(u);
                       return true;
                     });
}

BybitReply BybitTradeClient::order_history(std::string_view symbol, std::int64_t start_ms,
                                           std::vector<BybitOrderUpdate>& out) {
  if (std::string why = check_symbol(symbol, "symbol"); !why.empty()) return local_refusal(why);
  std::string q = impl_->query_start(symbol, 50);
  if (start_ms > 0) q += "&startTime=" + std::to_string(start_ms);
  return impl_->list(kHistory, "/v5/order/history", q, [&out](dom::object o, feed_internal::BybitObjectError& err) {
    BybitOrderUpdate u;
    if (!feed_internal::parse_bybit_order(o, u, err)) return false;
    out.push_back(u);
    return true;
  });
}

BybitReply BybitTradeClient::executions(std::string_view symbol, std::int64_t start_ms, std::vector<BybitExecution>& out) {
  if (std::string why = check_symbol(symbol, "symbol"); !why.empty()) return local_refusal(why);
  std::string q = impl_->query_start(symbol, 100);
  if (start_ms > 0) q += "&startTime=" + std::to_string(start_ms);
  return impl_->list(kExecutions, "/v5/execution/list", q, [&out](dom::object o, feed_internal::BybitObjectError& err) {
    BybitExecution x;
    if (!feed_internal::parse_bybit_execution(o, x, err)) return false;
    out.push_back(x);
    return true;
  });
}

BybitReply BybitTradeClient::server_time(std::int64_t& ms) {
  BybitReply r = impl_->send(kPublic, false, "/v5/market/time", "");
  if (r.outcome != BybitOutcome::kOk) return r;
  std::string_view s;
  std::int64_t v = 0;
  if (!impl_->has_result) {
    r.outcome = BybitOutcome::kUnknown;
    r.ret_msg = "answer without a result object";
  } else if (impl_->result["timeNano"].get_string().get(s) == simdjson::SUCCESS && parse_i64(s, v) && v > 0) {
    ms = v / kNsPerMs;
  } else if (impl_->result["timeSecond"].get_string().get(s) == simdjson::SUCCESS && parse_i64(s, v) && v > 0) {
    ms = v * 1000;
  } else {
    r.outcome = BybitOutcome::kUnknown;
    r.ret_msg = "result has neither timeNano nor timeSecond";
  }
  return r;
}

}  // namespace shadow
