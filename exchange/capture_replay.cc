#include "exchange/capture_replay.h"

namespace shadow {
namespace {

// Parses a capture line in place: CaptureReader guarantees kCapturePadding readable bytes
// after it, which is simdjson's padding.
static_assert(kCapturePadding >= simdjson::SIMDJSON_PADDING);

simdjson::error_code parse_line(simdjson::dom::parser& p, const CaptureLine& l,
                                simdjson::dom::element& doc) {
  return p.parse(reinterpret_cast<const std::uint8_t*>(l.data), l.len, false).get(doc);
}

}  // namespace

bool ReplaySource::classify(simdjson::dom::element doc, ReplayLine& out, std::string& error) {
  simdjson::dom::object obj;
  if (doc.get(obj) != simdjson::SUCCESS) {
    error = "not a JSON object";
    return false;
  }
  out.topic = {};
  out.kind = MarketMessage::kOther;
  simdjson::dom::element topic;
  if (obj["topic"].get(topic) == simdjson::SUCCESS) {
    // Bybit v5: {"topic":"orderbook.50.BTCUSDT","type":"snapshot"|"delta",...}
    if (topic.get(out.topic) != simdjson::SUCCESS) {
      error = "\"topic\" is not a string";
      return false;
    }
    std::string_view type;
    if (out.topic.substr(0, 10) == "orderbook." && obj["type"].get(type) == simdjson::SUCCESS) {
      if (type == "delta") out.kind = MarketMessage::kDelta;
      else if (type == "snapshot") out.kind = MarketMessage::kSnapshot;
    }
    return true;
  }
  // Binance: a combined-stream wrapper {"stream":…,"data":{…}} or the event itself; a diff
  // depth event is "e":"depthUpdate", a REST or partial-depth snapshot carries "lastUpdateId".
  simdjson::dom::object ev = obj;
  simdjson::dom::object inner;
  if (obj["data"].get(inner) == simdjson::SUCCESS) ev = inner;
  std::string_view e;
  if (ev["e"].get(e) == simdjson::SUCCESS && e == "depthUpdate") {
    out.kind = MarketMessage::kDelta;
  } else if (ev["lastUpdateId"].error() == simdjson::SUCCESS) {
    out.kind = MarketMessage::kSnapshot;
  }
  return true;
}

bool ReplaySource::validate(const std::vector<std::string>& paths, std::string& error) {
  for (const std::string& path : paths) {
    CaptureReader r;
    if (!r.open(path, error)) return false;
    CaptureLine l;
    ReplayLine rl;
    while (r.next(l)) {
      simdjson::dom::element doc;
      std::string why;
      const simdjson::error_code ec = parse_line(parser_, l, doc);
      if (l.too_long) why = "longer than " + std::to_string(r.max_line_bytes()) + " bytes";
      else if (ec != simdjson::SUCCESS) why = std::string("not valid JSON: ") + simdjson::error_message(ec);
      else classify(doc, rl, why);
      if (!why.empty()) {
        error = path + ":" + std::to_string(l.line_no) + ": " + why;
        return false;
      }
    }
    if (!r.error().empty()) {
      error = r.error();
      return false;
    }
  }
  paths_ = paths;
  return true;
}

bool ReplaySource::next(ReplayLine& out) {
  for (;;) {
    if (!reader_) {
      if (file_ >= paths_.size()) return false;
      reader_ = std::make_unique<CaptureReader>();
      if (!reader_->open(paths_[file_], error_)) return false;
      prev_ns_ = 0;  // the new file starts right after the previous one's last line
    }
    CaptureLine l;
    if (!reader_->next(l)) {
      if (!reader_->error().empty()) {
        error_ = reader_->error();
        return false;
      }
      reader_.reset();
      ++file_;
      continue;
    }
    simdjson::dom::element doc;
    std::string why;
    const simdjson::error_code ec = parse_line(parser_, l, doc);
    if (ec != simdjson::SUCCESS) why = std::string("not valid JSON: ") + simdjson::error_message(ec);
    else classify(doc, out, why);
    if (!why.empty()) {  // the file changed since validate()
      error_ = paths_[file_] + ":" + std::to_string(l.line_no) + ": " + why;
      return false;
    }
    out.text = std::string_view(l.data, l.len);
    out.timed = l.local_ns != 0;
    if (out.timed) {
      // Out-of-order stamps (clock steps) add no time; the latest stamp stays the reference.
      if (l.local_ns > prev_ns_) {
        if (prev_ns_ != 0) offset_ns_ += l.local_ns - prev_ns_;
        prev_ns_ = l.local_ns;
      }
    }
    out.offset_ns = offset_ns_;
    ++lines_;
    return true;
  }
}

}  // namespace shadow
