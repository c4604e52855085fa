#include "exchange/request_handler.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <utility>

#include "core/json_text.h"

namespace shadow {

void RequestHandler::reply(ClientSession& c, std::string_view op, bool success,
                           std::string_view ret_msg, std::string_view req_id_json) {
  std::string r = success ? "{\"success\":true,\"ret_msg\":" : "{\"success\":false,\"ret_msg\":";
  append_json_string(r, ret_msg);
  r += ",\"conn_id\":";
  append_json_string(r, c.conn_id);
  if (!req_id_json.empty()) {
    r += ",\"req_id\":";
    r += req_id_json;
  }
  r += ",\"op\":";
  append_json_string(r, op);
  r += '}';
  fanout_.send_frame(c, WsOpcode::kText, r);
}

// Shadow extension (not Bybit): what the fault injector did so far.
std::string RequestHandler::stats() const {
  return "{\"op\":\"stats\",\"faults\":" + faults_.json() +
         ",\"connections\":" + std::to_string(counters_.handshaken) +
         ",\"messages\":" + std::to_string(counters_.market_msgs) + "}";
}

void RequestHandler::on_text(ClientSession& c, std::string_view text) {
  simdjson::dom::element doc;
  if (parser_.parse(text.data(), text.size()).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
    reply(c, "", false, "error:invalid JSON request", "");
    return;
  }
  std::string_view op;
  if (doc["op"].get(op) != simdjson::SUCCESS) {
    simdjson::dom::element id;
    if (replay_ != nullptr && doc["method"].error() == simdjson::SUCCESS &&
        doc["id"].get(id) == simdjson::SUCCESS) {
      // A Binance request ({"method":"SUBSCRIBE","params":[…],"id":1}) on a replay: every line
      // is served anyway; answer the way Binance does.
      fanout_.send_frame(c, WsOpcode::kText, "{\"result\":null,\"id\":" + simdjson::minify(id) + "}");
      return;
    }
    reply(c, "", false, "error:request without op", "");
    return;
  }
  std::string req_id;
  simdjson::dom::element rid;
  if (doc["req_id"].get(rid) == simdjson::SUCCESS) req_id = simdjson::minify(rid);
  Topics args;
  simdjson::dom::array arr;
  if (doc["args"].get(arr) == simdjson::SUCCESS) {
    for (simdjson::dom::element e : arr) {
      std::string_view s;
      if (e.get(s) == simdjson::SUCCESS) args.push_back(s);
    }
  }
  const std::string op_s(op);

  if (c.private_stream && private_ != nullptr) {
    // auth's second argument is a number (ms); a numeric string is taken too.
    // Positional here: a non-string argument keeps its place as "".
    Topics positional;
    std::int64_t expires = 0;
    if (doc["args"].get(arr) == simdjson::SUCCESS) {
      for (simdjson::dom::element e : arr) {
        std::string_view s;
        if (positional.size() == 1 && e.get(expires) == simdjson::SUCCESS) {
          positional.emplace_back();
          continue;
        }
        positional.push_back(e.get(s) == simdjson::SUCCESS ? s : std::string_view());
        if (positional.size() == 2 && !s.empty()) expires = std::strtoll(std::string(s).c_str(), nullptr, 10);
      }
    }
    private_->on_request(c, op, positional, expires, req_id);
    return;
  }
  if (op == "ping") {
    reply(c, "ping", true, "pong", req_id);
  } else if (op == "stats") {
    fanout_.send_frame(c, WsOpcode::kText, stats());
  } else if (op == "subscribe" || op == "unsubscribe") {
    if (replay_ != nullptr) subscribe_replay(c, op == "subscribe", args, op_s, req_id);
    else subscribe_model(c, op == "subscribe", args, op_s, req_id);
  } else if (op == "dump_l2") {
    dump_l2(c, args, req_id);
  } else {
    reply(c, op_s, false, "error:unsupported op", req_id);
  }
}

void RequestHandler::subscribe_model(ClientSession& c, bool sub, const Topics& args,
                                     const std::string& op, const std::string& req_id) {
  // Validate every topic first: a request with a bad topic changes nothing.
  std::vector<std::pair<std::size_t, std::uint8_t>> topics;
  for (const std::string_view t : args) {
    std::uint8_t bit = 0;
    std::string_view sym;
    if (t.substr(0, 13) == "orderbook.50.") bit = ClientSession::kBookBit, sym = t.substr(13);
    else if (t.substr(0, 12) == "publicTrade.") bit = ClientSession::kTradeBit, sym = t.substr(12);
    const std::size_t mi = bit != 0 ? market_->find(sym, c.category) : market_->size();
    if (mi == market_->size()) {
      reply(c, op, false, "error:handler not found,topic:" + std::string(t), req_id);
      return;
    }
    if (sub && (c.subs[mi] & bit) != 0) {
      reply(c, op, false, "error:already subscribed,topic:" + std::string(t), req_id);
      return;
    }
    topics.emplace_back(mi, bit);
  }
  if (topics.empty()) {
    reply(c, op, false, "error:args is empty", req_id);
    return;
  }
  reply(c, op, true, sub ? "subscribe" : "", req_id);
  for (const auto& [mi, bit] : topics) {
    if (!sub) {
      c.subs[mi] = static_cast<std::uint8_t>(c.subs[mi] & ~bit);
      continue;
    }
    c.subs[mi] = static_cast<std::uint8_t>(c.subs[mi] | bit);
    if (!c.market && fanout_.send_log() != nullptr) c.log_marks.reserve(4096);
    c.market = true;
    if (bit == ClientSession::kBookBit && !c.aborting) market_->send_snapshot(c, mi);
  }
}

// No snapshot is made up on a replay: the capture's own snapshot lines are the snapshots.
void RequestHandler::subscribe_replay(ClientSession& c, bool sub, const Topics& args,
                                      const std::string& op, const std::string& req_id) {
  if (args.empty()) {
    reply(c, op, false, "error:args is empty", req_id);
    return;
  }
  for (const std::string_view t : args) {
    if (sub && c.has_topic(t)) {
      reply(c, op, false, "error:already subscribed,topic:" + std::string(t), req_id);
      return;
    }
  }
  reply(c, op, true, sub ? "subscribe" : "", req_id);
  for (const std::string_view t : args) {
    if (sub) {
      if (!c.has_topic(t)) c.topics.emplace_back(t);
    } else {
      c.topics.erase(std::remove(c.topics.begin(), c.topics.end(), t), c.topics.end());
    }
  }
  if (sub) {
    c.market = true;
    replay_->start_clock();
  }
}

void RequestHandler::dump_l2(ClientSession& c, const Topics& args, const std::string& req_id) {
  if (market_ != nullptr) {
    market_->flush_pending();
    const std::size_t mi = args.empty() ? market_->size() : market_->find(args[0]);
    if (mi != market_->size()) {
      fanout_.send_frame(c, WsOpcode::kText, market_->dump_l2(mi));
      return;
    }
  }
  reply(c, "dump_l2", false, "error:unknown symbol", req_id);
}

}  // namespace shadow
