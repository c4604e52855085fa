#include "feed/bybit_private_decoder.h"

#include <simdjson.h>

#include <charconv>

#include "core/input_text.h"
#include "core/json_text.h"
#include "feed/bybit_auth.h"
#include "feed/internal/bybit_private_json.h"

namespace shadow {
namespace {

namespace dom = simdjson::dom;

// Up front so no message below it allocates; a bigger one grows the parser once, up to the max.
constexpr std::size_t kInitialCapacity = 256 * 1024;
constexpr std::size_t kMaxDocumentBytes = 16 * 1024 * 1024;

enum class TopicKind : std::uint8_t { kOrder, kExecution, kIgnored, kUnknown };

bool starts_with(std::string_view s, std::string_view p) noexcept { return s.substr(0, p.size()) == p; }

// Bybit v5's private topics (websocket/private/*): all-in-one and categorised names.
TopicKind topic_kind(std::string_view t) noexcept {
  if (t == "order" || starts_with(t, "order.")) return TopicKind::kOrder;
  // execution.fast(.category) has fewer fields (no isMaker on some, maker orderLinkId ""): not ours
  if (t == "execution.fast" || starts_with(t, "execution.fast.")) return TopicKind::kIgnored;
  if (t == "execution" || starts_with(t, "execution.")) return TopicKind::kExecution;
  if (t == "position" || starts_with(t, "position.") || t == "wallet" || t == "greeks" || starts_with(t, "dcp.") ||
      t == "dcp") {
    return TopicKind::kIgnored;
  }
  return TopicKind::kUnknown;
}

void append_item_error(std::string& out, std::size_t i, const feed_internal::BybitObjectError& e) {
  out = "data[";
  out += std::to_string(i);
  out += "].";
  out += e.field;
  out += ": ";
  out += e.why;
}

}  // namespace

std::string_view to_string(BybitOrderStatus s) noexcept {
  switch (s) {
    case BybitOrderStatus::kNew: return "New";
    case BybitOrderStatus::kPartiallyFilled: return "PartiallyFilled";
    case BybitOrderStatus::kUntriggered: return "Untriggered";
    case BybitOrderStatus::kRejected: return "Rejected";
    case BybitOrderStatus::kPartiallyFilledCanceled: return "PartiallyFilledCanceled";
    case BybitOrderStatus::kFilled: return "Filled";
    case BybitOrderStatus::kCancelled: return "Cancelled";
    case BybitOrderStatus::kTriggered: return "Triggered";
    case BybitOrderStatus::kDeactivated: return "Deactivated";
  }
  return "?";
}

std::string_view to_string(BybitPrivateStatus s) noexcept {
  switch (s) {
    case BybitPrivateStatus::kOk: return "ok";
    case BybitPrivateStatus::kMalformed: return "malformed";
    case BybitPrivateStatus::kUnknownTopic: return "unknown_topic";
  }
  return "?";
}

std::string bybit_private_auth_request(std::string_view api_key, std::string_view api_secret, std::int64_t expires_ms) {
  std::string out = R"({"op":"auth","args":[)";
  append_json_string(out, api_key);
  out += ',';
  out += std::to_string(expires_ms);  // a number, as in Bybit's example
  out += ',';
  append_json_string(out, bybit_ws_auth_signature(api_secret, expires_ms));
  out += "]}";
  return out;
}

std::string bybit_private_subscribe_request() { return R"({"op":"subscribe","args":["order","execution"]})"; }

std::string bybit_ping_request() { return R"({"op":"ping"})"; }

struct BybitPrivateDecoder::Impl {
  dom::parser parser{kMaxDocumentBytes};
};

BybitPrivateDecoder::BybitPrivateDecoder() : impl_(new Impl) {
  // allocate() fails only out of memory; decode() then reports every message as not parsed.
  if (impl_->parser.allocate(kInitialCapacity) != simdjson::SUCCESS) error_ = "out of memory";
  error_.reserve(256);
}

BybitPrivateDecoder::~BybitPrivateDecoder() { delete impl_; }

BybitPrivateStatus BybitPrivateDecoder::decode(const char* data, std::size_t len, std::size_t capacity,
                                               BybitPrivateHandler& h) {
  error_.clear();
  if (capacity < len + simdjson::SIMDJSON_PADDING) {
    error_ = "buffer without simdjson's padding (capacity < len + 64)";
    return BybitPrivateStatus::kMalformed;
  }
  dom::element root;
  if (const auto e = impl_->parser.parse(data, len, false).get(root)) {
    error_ = "not JSON: ";
    error_ += simdjson::error_message(e);
    return BybitPrivateStatus::kMalformed;
  }
  dom::object obj;
  if (root.get_object().get(obj) != simdjson::SUCCESS) {
    error_ = "not a JSON object";
    return BybitPrivateStatus::kMalformed;
  }

  std::string_view topic;
  if (const auto t = obj["topic"]; t.error() != simdjson::NO_SUCH_FIELD) {
    if (t.get_string().get(topic) != simdjson::SUCCESS) {
      error_ = "topic: not a string";
      return BybitPrivateStatus::kMalformed;
    }
    const TopicKind kind = topic_kind(topic);
    if (kind == TopicKind::kIgnored) return BybitPrivateStatus::kOk;
    if (kind == TopicKind::kUnknown) {
      error_ = "unknown topic '" + printable(topic) + "'";
      return BybitPrivateStatus::kUnknownTopic;
    }
    dom::array items;
    if (obj["data"].get_array().get(items) != simdjson::SUCCESS) {
      error_ = "data: missing or not an array";
      return BybitPrivateStatus::kMalformed;
    }
    BybitPrivateStatus st = BybitPrivateStatus::kOk;
    std::size_t i = 0;
    for (const dom::element item : items) {
      dom::object o;
      feed_internal::BybitObjectError err;
      bool ok = item.get_object().get(o) == simdjson::SUCCESS;
      if (!ok) err = {"", "not an object"};
      if (kind == TopicKind::kOrder) {
        BybitOrderUpdate u;
        if (ok && (ok = feed_internal::parse_bybit_order(o, u, err))) h.on_order(u);
      } else {
        BybitExecution x;
        if (ok && (ok = feed_internal::parse_bybit_execution(o, x, err))) h.on_execution(x);
      }
      if (!ok) {
        append_item_error(error_, i, err);
        st = BybitPrivateStatus::kMalformed;
      }
      ++i;
    }
    return st;
  }

  BybitOpAnswer a;
  if (obj["op"].get_string().get(a.op) != simdjson::SUCCESS) {
    error_ = "neither a string 'op' nor a 'topic'";
    return BybitPrivateStatus::kMalformed;
  }
  for (const dom::key_value_pair kv : obj) {
    const std::string_view k = kv.key;
    bool ok = true;
    if (k == "success") {
      ok = kv.value.get_bool().get(a.success) == simdjson::SUCCESS;
    } else if (k == "ret_msg") {
      ok = kv.value.get_string().get(a.ret_msg) == simdjson::SUCCESS;
    } else if (k == "req_id") {
      ok = kv.value.get_string().get(a.req_id) == simdjson::SUCCESS;
    } else if (k == "conn_id") {
      ok = kv.value.get_string().get(a.conn_id) == simdjson::SUCCESS;
    }
    if (!ok) {
      error_ = std::string(k) + ": wrong JSON type";
      return BybitPrivateStatus::kMalformed;
    }
  }
  if (a.op == "pong") {
    // The private pong: {"op":"pong","args":["1675418560633"]}, no success field.
    a.success = true;
    dom::array args;
    std::string_view ms;
    if (obj["args"].get_array().get(args) == simdjson::SUCCESS && args.size() > 0 &&
        args.at(0).get_string().get(ms) == simdjson::SUCCESS) {
      const auto [p, ec] = std::from_chars(ms.data(), ms.data() + ms.size(), a.server_ms);
      if (ec != std::errc() || p != ms.data() + ms.size()) {
        error_ = "args[0]: not a time in ms";
        return BybitPrivateStatus::kMalformed;
      }
    }
  }
  h.on_op(a);
  return BybitPrivateStatus::kOk;
}

}  // namespace shadow
