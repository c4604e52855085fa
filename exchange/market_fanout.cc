#include "exchange/market_fanout.h"

namespace shadow {

void MarketFanout::send_frame(ClientSession& c, WsOpcode op, std::string_view payload) {
  if (c.queue_frame(op, payload)) ++counters_.frames_out;
}

// Without per-message faults this is the plain append; with them, the injector may drop or
// replace the message, mark the connection to be cut after it, or ask for a stall. Once a
// malformed or oversized frame is queued the connection gets nothing more: its client closes
// on that frame, and a fault queued behind it (which a slow client never reads) would still
// be counted against --faults-max.
bool MarketFanout::send_market(ClientSession& c, std::string_view frame, std::string_view text,
                               MarketMessage kind) {
  if (!per_message_faults_) {
    c.out += frame;
  } else {
    if (c.poisoned) return false;
    const FaultInjector::Decision d = faults_.on_message(c.faults, kind);
    switch (d.action) {
      case FaultInjector::Action::kDrop:
        return false;
      case FaultInjector::Action::kSend:
        c.out += frame;
        break;
      case FaultInjector::Action::kMalformedFrame:
        FaultInjector::append_rsv1_frame(c.out, text);
        c.poisoned = true;
        break;
      case FaultInjector::Action::kMalformedJson:
        FaultInjector::append_truncated_json(c.out, text);
        break;
      case FaultInjector::Action::kOversized:
        FaultInjector::append_oversized_header(c.out, text);
        c.poisoned = true;
        break;
    }
    if (d.disconnect) c.aborting = true;  // nothing more is queued for it
    if (d.stall) stall_requested_ = true;
  }
  ++counters_.frames_out;
  ++counters_.market_msgs;
  return true;
}

void MarketFanout::publish(std::size_t market, std::uint8_t topic_bit, std::string_view text,
                           std::int64_t intended_ns, std::uint64_t update_id) {
  const bool book = topic_bit == ClientSession::kBookBit;
  const MarketMessage kind = book ? MarketMessage::kDelta : MarketMessage::kOther;
  scratch_.clear();
  ws_append_server_frame(scratch_, WsOpcode::kText, text);
  bool logged = send_log_ == nullptr || !book;
  for (auto& [fd, cp] : clients_) {
    ClientSession& c = *cp;
    if (!c.live() || (c.subs[market] & topic_bit) == 0) continue;
    if (!send_market(c, scratch_, text, kind) || logged) continue;
    c.mark_log(send_log_->add(intended_ns, update_id, static_cast<std::uint32_t>(market),
                              SendLogRecord::kDelta));
    logged = true;
  }
}

void MarketFanout::send_snapshot(ClientSession& c, std::size_t market, std::string_view text,
                                 std::int64_t requested_ns, std::uint64_t update_id) {
  scratch_.clear();
  ws_append_server_frame(scratch_, WsOpcode::kText, text);
  if (send_market(c, scratch_, text, MarketMessage::kSnapshot) && send_log_ != nullptr)
    c.mark_log(send_log_->add(requested_ns, update_id, static_cast<std::uint32_t>(market),
                              SendLogRecord::kSnapshot));
}

void MarketFanout::publish_replay(const ReplayLine& line) {
  scratch_.clear();
  ws_append_server_frame(scratch_, WsOpcode::kText, line.text);
  for (auto& [fd, cp] : clients_) {
    if (cp->wants_line(line.topic)) send_market(*cp, scratch_, line.text, line.kind);
  }
}

}  // namespace shadow
