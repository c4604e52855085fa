#include "feed/feed_session.h"

#include <cstdio>
#include <stdexcept>
#include <utility>

#include "core/json_text.h"
#include "feed/websocket_handshake.h"

namespace shadow {
namespace {

bool contains(std::string_view s, std::string_view what) noexcept {
  return s.find(what) != std::string_view::npos;
}

}  // namespace

std::string_view to_string(FeedVenue v) noexcept {
  return v == FeedVenue::kBybit ? "bybit" : "binance";
}

std::string_view to_string(SessionEventKind k) noexcept {
  switch (k) {
    case SessionEventKind::kConnected: return "connected";
    case SessionEventKind::kDisconnected: return "disconnected";
    case SessionEventKind::kConnectFailed: return "connect failed";
    case SessionEventKind::kGaveUp: return "gave up";
  }
  return "unknown";
}

bool venue_from_url(std::string_view host, std::string_view resource, FeedVenue& out) noexcept {
  if (contains(host, "bybit")) return out = FeedVenue::kBybit, true;
  if (contains(host, "binance")) return out = FeedVenue::kBinance, true;
  if (resource.rfind("/v5/", 0) == 0) return out = FeedVenue::kBybit, true;
  if (resource.rfind("/ws", 0) == 0 || resource.rfind("/stream", 0) == 0) {
    return out = FeedVenue::kBinance, true;
  }
  return false;
}

// Bybit v5 "Connect > How to Subscribe to Topics"; Binance "WebSocket Streams > Live
// Subscribing/Unsubscribing to streams".
std::string subscribe_request(FeedVenue v, const std::vector<std::string>& topics,
                              bool unsubscribe) {
  std::string m;
  if (v == FeedVenue::kBybit) {
    m = unsubscribe ? R"({"op":"unsubscribe","args":[)" : R"({"op":"subscribe","args":[)";
  } else {
    m = unsubscribe ? R"({"method":"UNSUBSCRIBE","params":[)" : R"({"method":"SUBSCRIBE","params":[)";
  }
  for (std::size_t i = 0; i < topics.size(); ++i) {
    if (i > 0) m += ',';
    append_json_string(m, topics[i]);
  }
  m += v == FeedVenue::kBybit ? "]}" : R"(],"id":1})";
  return m;
}

FeedSession::FeedSession(FeedSessionConfig cfg)
    : cfg_(std::move(cfg)), client_(cfg_.client), policy_(cfg_.reconnect) {
  WsUrl u;
  std::string err;
  if (!parse_ws_url(cfg_.url, u, err)) {
    throw std::invalid_argument("feed session: bad URL '" + cfg_.url + "': " + err);
  }
  if (!cfg_.topics.empty()) subscribe_ = subscribe_request(cfg_.venue, cfg_.topics);
  detail_.reserve(256);
  request_.reserve(256);
}

void FeedSession::on_closed(const WsCloseInfo& c) {
  closed_ = true;
  switch (c.kind) {
    case WsCloseKind::kClean: close_reason_ = DisconnectReason::kServerClose; break;
    case WsCloseKind::kProtocolError: close_reason_ = DisconnectReason::kProtocolError; break;
    case WsCloseKind::kConnectionLost:
    case WsCloseKind::kAborted: close_reason_ = DisconnectReason::kConnectionLost; break;
  }
  detail_.assign(to_string(c.kind));
  detail_ += ", code ";
  detail_ += std::to_string(c.code);
  if (!c.reason.empty()) {
    detail_ += ": ";
    detail_.append(c.reason.data(), c.reason.size());
  }
}

std::string FeedSession::give_up_detail(std::int64_t now) const {
  char head[96];
  std::snprintf(head, sizeof head, "no working connection for %.1f s (limit %.1f s), ",
                static_cast<double>(now - down_since_ns_) / 1e9, static_cast<double>(cfg_.give_up_after_ns) / 1e9);
  std::string d = head;
  d += std::to_string(failed_in_a_row_) + " failed connect attempt(s) in a row";
  if (!detail_.empty()) d += "; last: " + detail_;
  return d;
}

void FeedSession::send_heartbeat(std::int64_t now) {
  // Bybit v5 "How to Send the Heartbeat Packet": {"op":"ping"} every 20 s.
  if (client_.send_text(R"({"op":"ping"})")) ++stats_.pings_sent;
  next_ping_ns_ = now + cfg_.ping_interval_ns;
}

bool FeedSession::resync(std::string_view symbol) {
  if (state_ != State::kOpen || cfg_.venue != FeedVenue::kBybit) return false;
  // Every orderbook topic of the symbol (orderbook.<depth>.<SYM>): unsubscribe, then subscribe;
  // the venue answers the subscription with a snapshot that re-syncs the book.
  bool any = false;
  for (int pass = 0; pass < 2; ++pass) {
    request_.assign(pass == 0 ? R"({"op":"unsubscribe","args":[)" : R"({"op":"subscribe","args":[)");
    bool first = true;
    for (const std::string& t : cfg_.topics) {
      const std::string_view tv(t);
      if (tv.rfind("orderbook.", 0) != 0 || tv.size() <= symbol.size() + 1 ||
          tv.substr(tv.size() - symbol.size()) != symbol ||
          tv[tv.size() - symbol.size() - 1] != '.') {
        continue;
      }
      if (!first) request_ += ',';
      first = false;
      request_ += '"';
      request_ += tv;
      request_ += '"';
    }
    if (first) return false;  // no orderbook topic of this symbol
    request_ += "]}";
    any = client_.send_text(request_);
    if (!any) return false;
  }
  ++stats_.resubscribes;
  return any;
}

void FeedSession::stop(std::int64_t grace_ns) {
  if (state_ == State::kOpen && client_.close(1000, "done")) {
    state_ = State::kStopping;
    stop_deadline_ns_ = monotonic_ns() + grace_ns;
    return;
  }
  client_.abort();
  state_ = State::kDone;
}

}  // namespace shadow
