#include "exchange/sandbox_private_stream.h"

#include <algorithm>

#include "core/clock.h"
#include "core/json_text.h"
#include "exchange/sandbox_json.h"
#include "exchange/sandbox_service.h"
#include "feed/bybit_auth.h"

namespace shadow {
namespace {

std::int64_t wall_ms() noexcept { return realtime_ns() / 1'000'000; }

using S = SandboxPrivateStream;

struct TopicName {
  std::string_view name;
  std::uint16_t bits;   // what it subscribes to
  std::uint16_t named;  // its "categorised" flag (0: an all-in-one name)
  std::uint16_t family; // every bit of its base topic (for the no-mixing rule and unsubscribe)
};
constexpr std::uint16_t kOrders = S::kOrderLinear | S::kOrderSpot;
constexpr std::uint16_t kExecutions = S::kExecutionLinear | S::kExecutionSpot;
// The categorised-name flag of a base topic's family (0: the family has no categorised names).
constexpr std::uint16_t named_flag(std::uint16_t family) {
  return family == kOrders       ? S::kOrderNamed
         : family == kExecutions ? S::kExecutionNamed
         : family == S::kPosition ? S::kPositionNamed
                                  : 0;
}
constexpr TopicName kTopics[] = {
    {"order", kOrders, 0, kOrders},
    {"order.linear", S::kOrderLinear, S::kOrderNamed, kOrders},
    {"order.spot", S::kOrderSpot, S::kOrderNamed, kOrders},
    {"execution", kExecutions, 0, kExecutions},
    {"execution.linear", S::kExecutionLinear, S::kExecutionNamed, kExecutions},
    {"execution.spot", S::kExecutionSpot, S::kExecutionNamed, kExecutions},
    {"position", S::kPosition, 0, S::kPosition},
    {"position.linear", S::kPosition, S::kPositionNamed, S::kPosition},
    {"wallet", S::kWallet, 0, S::kWallet},
    {"dcp.future", S::kDcpFuture, 0, S::kDcpFuture},
    {"dcp.spot", S::kDcpSpot, 0, S::kDcpSpot},
};

}  // namespace

void SandboxPrivateStream::reply(ClientSession& c, std::string_view op, bool success, std::string_view msg,
                                 std::string_view req_id) {
  std::string r = "{";
  if (!req_id.empty()) {
    r += "\"req_id\":";
    r += req_id;
    r += ',';
  }
  r += success ? "\"success\":true,\"ret_msg\":" : "\"success\":false,\"ret_msg\":";
  append_json_string(r, msg);
  r += ",\"op\":";
  append_json_string(r, op);
  r += ",\"conn_id\":";
  append_json_string(r, c.conn_id);
  r += '}';
  fanout_.send_frame(c, WsOpcode::kText, r);
}

void SandboxPrivateStream::on_request(ClientSession& c, std::string_view op, const std::vector<std::string_view>& args,
                                      std::int64_t expires, std::string_view req_id) {
  if (op == "ping") {
    std::string r = "{";
    if (!req_id.empty()) {
      r += "\"req_id\":";
      r += req_id;
      r += ',';
    }
    r += "\"op\":\"pong\",\"args\":[\"" + std::to_string(wall_ms()) + "\"],\"conn_id\":";
    append_json_string(r, c.conn_id);
    r += '}';
    fanout_.send_frame(c, WsOpcode::kText, r);
    return;
  }
  if (op == "auth") {
    const SandboxAccount* a = args.empty() ? nullptr : accounts_.find_key(args[0]);
    bool ok = a != nullptr && c.uid == 0 && args.size() == 3 && expires > wall_ms();
    if (ok) ok = constant_time_equal(bybit_ws_auth_signature(a->api_secret, expires), args[2]);
    if (ok) c.uid = a->uid;
    reply(c, "auth", ok, ok ? "" : (c.uid != 0 ? "Repeat auth" : "Params Error"), req_id);
    return;
  }
  if (op == "subscribe" || op == "unsubscribe") {
    if (c.uid == 0) {
      reply(c, op, false, "Request not authorized", req_id);
      return;
    }
    subscribe(c, op == "subscribe", args, req_id);
    return;
  }
  reply(c, op, false, "error:unsupported op", req_id);
}

void SandboxPrivateStream::subscribe(ClientSession& c, bool sub, const std::vector<std::string_view>& args,
                                     std::string_view req_id) {
  const std::string_view op = sub ? "subscribe" : "unsubscribe";
  if (args.empty()) {
    reply(c, op, false, "error:args is empty", req_id);
    return;
  }
  std::vector<const TopicName*> topics;
  bool plain = false;
  bool categorised = false;
  for (const std::string_view t : args) {
    const TopicName* found = nullptr;
    for (const TopicName& n : kTopics)
      if (n.name == t) found = &n;
    if (found == nullptr) {
      reply(c, op, false, "error:topic:" + std::string(t), req_id);
      return;
    }
    (found->named != 0 ? categorised : plain) = true;
    // A base topic is received by its all-in-one name or by its categorised ones, never both:
    // the pushes could not say which name they answer.
    const std::uint16_t named = named_flag(found->family);
    const bool has_family = (c.private_topics & found->family) != 0;
    const bool session_named = (c.private_topics & named) != 0;
    if (sub && has_family && named != 0 && session_named != (found->named != 0)) {
      reply(c, op, false, "error:already subscribed,topic:" + std::string(t), req_id);
      return;
    }
    topics.push_back(found);
  }
  // Bybit: "all-in-one topics and categorised topics cannot be in the same request".
  if (plain && categorised) {
    reply(c, op, false, "error:all-in-one and categorised topics cannot be subscribed in one request", req_id);
    return;
  }
  for (const TopicName* t : topics) {
    if (sub) {
      c.private_topics = static_cast<std::uint16_t>(c.private_topics | t->bits | t->named);
    } else {
      c.private_topics = static_cast<std::uint16_t>(c.private_topics & ~t->bits);
      // Nothing of the family left: it may be subscribed by either kind of name again.
      if ((c.private_topics & t->family) == 0) {
        c.private_topics = static_cast<std::uint16_t>(c.private_topics & ~named_flag(t->family));
      }
    }
  }
  for (const auto& [bit, cat] : {std::pair{kDcpFuture, Category::kLinear}, std::pair{kDcpSpot, Category::kSpot}}) {
    bool asked = false;
    for (const TopicName* t : topics) asked |= (t->bits & bit) != 0;
    if (!asked || !sub) continue;
    DcpState* state = nullptr;
    for (DcpState& d : dcp_)
      if (d.uid == c.uid && d.category == cat) state = &d;
    if (state == nullptr) state = &dcp_.emplace_back(DcpState{c.uid, cat, false, 0});
    state->armed = true;
    state->dead_since = 0;
  }
  reply(c, op, true, "", req_id);
}

SandboxPrivateStream::Pending& SandboxPrivateStream::pending(std::uint64_t uid) {
  for (Pending& p : pending_)
    if (p.uid == uid) return p;
  pending_.push_back(Pending{uid, {}, {}, {}, false});
  return pending_.back();
}

bool SandboxPrivateStream::listening(std::uint64_t uid) const {
  for (const auto& [fd, cp] : fanout_.clients()) {
    if (cp->private_stream && cp->uid == uid && cp->private_topics != 0) return true;
  }
  return false;
}

// Nothing is rendered for an account nobody listens to: the exchange thread's work per fill
// stays the venue's own.
void SandboxPrivateStream::on_execution(const SandboxExecution& e) {
  if (!listening(e.uid)) return;
  std::string obj;
  append_execution_json(obj, e, venue_.market(e.market).instrument, SandboxJsonStyle::kPush);
  pending(e.uid).executions.emplace_back(e.market, std::move(obj));
}

void SandboxPrivateStream::on_order(const SandboxOrder& o) {
  if (!listening(o.uid)) return;
  std::string obj;
  append_order_json(obj, o, venue_.market(o.market).instrument, SandboxJsonStyle::kPush);
  pending(o.uid).orders.emplace_back(o.market, std::move(obj));
}

void SandboxPrivateStream::on_position(std::uint64_t uid, std::size_t market) {
  if (!listening(uid)) return;
  Pending& p = pending(uid);
  for (const std::size_t m : p.positions)
    if (m == market) return;
  p.positions.push_back(market);
}

void SandboxPrivateStream::on_wallet(std::uint64_t uid) {
  if (listening(uid)) pending(uid).wallet = true;
}

void SandboxPrivateStream::push(std::uint64_t uid, std::uint16_t bit, std::uint16_t named, std::string_view topic,
                                Category category, const std::string& data) {
  const std::string creation = std::to_string(wall_ms());
  for (auto& [fd, cp] : fanout_.clients()) {
    ClientSession& c = *cp;
    if (!c.private_stream || c.uid != uid || (c.private_topics & bit) == 0 || !c.live()) continue;
    scratch_ = "{\"id\":\"";
    scratch_ += std::to_string(uid);
    scratch_ += '-';
    scratch_ += std::to_string(++push_id_);
    scratch_ += "\",\"topic\":\"";
    scratch_ += topic;
    if (named != 0 && (c.private_topics & named) != 0) {
      scratch_ += '.';
      scratch_ += category_name(category);
    }
    scratch_ += "\",\"creationTime\":";
    scratch_ += creation;
    scratch_ += ",\"data\":[";
    scratch_ += data;
    scratch_ += "]}";
    fanout_.send_frame(c, WsOpcode::kText, scratch_);
    ++pushes_;
  }
}

void SandboxPrivateStream::flush() {
  if (pending_.empty()) return;
  std::vector<Pending> batch;
  batch.swap(pending_);
  for (const Pending& p : batch) {
    for (const Category cat : {Category::kLinear, Category::kSpot}) {
      const auto join = [&](const std::vector<std::pair<std::size_t, std::string>>& items) {
        std::string data;
        for (const auto& [m, obj] : items) {
          if (venue_.market(m).instrument.category != cat) continue;
          if (!data.empty()) data += ',';
          data += obj;
        }
        return data;
      };
      const bool linear = cat == Category::kLinear;
      if (const std::string d = join(p.executions); !d.empty()) {
        push(p.uid, linear ? kExecutionLinear : kExecutionSpot, kExecutionNamed, "execution", cat, d);
      }
      if (const std::string d = join(p.orders); !d.empty()) {
        push(p.uid, linear ? kOrderLinear : kOrderSpot, kOrderNamed, "order", cat, d);
      }
    }
    std::string positions;
    for (const std::size_t m : p.positions) {
      if (!positions.empty()) positions += ',';
      append_position_json(positions, venue_, p.uid, m, SandboxJsonStyle::kPush);
    }
    if (!positions.empty()) push(p.uid, kPosition, kPositionNamed, "position", Category::kLinear, positions);
    if (p.wallet) {
      std::string wallet;
      append_wallet_json(wallet, venue_, p.uid);
      push(p.uid, kWallet, 0, "wallet", Category::kLinear, wallet);
    }
  }
}

void SandboxPrivateStream::check_dcp(std::int64_t now_ns) {
  for (DcpState& d : dcp_) {
    if (!d.armed) continue;
    const std::uint16_t bit = d.category == Category::kLinear ? kDcpFuture : kDcpSpot;
    int window = service_.dcp_window(d.uid, d.category);
    if (window == 0) window = kDefaultDcpWindowS;
    const std::int64_t window_ns = std::int64_t{window} * 1'000'000'000;
    // The last sign of life of the account's DCP connections: a live one's last message.
    std::int64_t latest = 0;
    for (auto& [fd, cp] : fanout_.clients()) {
      const ClientSession& c = *cp;
      if (c.private_stream && c.uid == d.uid && (c.private_topics & bit) != 0 && c.live()) {
        latest = std::max(latest, c.last_in_ns);
      }
    }
    if (latest != 0 && now_ns - latest < window_ns) {
      d.dead_since = 0;
      continue;
    }
    if (d.dead_since == 0) d.dead_since = latest != 0 ? latest : now_ns;  // silent since, or gone now
    if (now_ns - d.dead_since < window_ns) continue;
    std::vector<const SandboxOrder*> cancelled;
    venue_.cancel_all(d.uid, d.category, "", "", "", wall_ms(), cancelled, "CancelByDCP");
    dcp_cancels_ += cancelled.size();
    d.armed = false;  // re-armed by the next dcp subscription
  }
}

}  // namespace shadow
