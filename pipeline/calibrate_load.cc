// load_calibration_run(): a dry-run directory's SHADOW_RUN_SUMMARY.json (its effective config),
// dryrun_decisions.jsonl, dryrun_real.jsonl and market.capture, for re-prediction
// (pipeline/calibrate_run.h). Every error names the file and, for a line, its number.
#include <algorithm>
#include <map>
#include <string_view>
#include <tuple>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "core/bounded_file.h"
#include "core/input_text.h"
#include "feed/capture_decoder.h"
#include "pipeline/calibrate_run.h"

namespace shadow {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxSummary = 64u << 20;
constexpr std::size_t kMaxLog = std::size_t{4} << 30;  // a JSONL log: 4 GiB

[[noreturn]] void bad(const std::string& where, const std::string& why) {
  throw CalibrationInputError(where + ": " + why);
}

std::string read_file(const std::string& path, std::size_t max) {
  std::string text, err;
  if (!read_regular_file(path, max, text, err)) bad(path, err);
  return text;
}

// Calls each(doc, where) for every non-blank line of a JSONL file.
template <class Each>
void for_each_line(const std::string& path, Each&& each) {
  const std::string text = read_file(path, kMaxLog);
  std::size_t no = 0;
  for (std::size_t b = 0; b < text.size();) {
    std::size_t e = text.find('\n', b);
    if (e == std::string::npos) e = text.size();
    ++no;
    const std::string_view line(text.data() + b, e - b);
    b = e + 1;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    const std::string where = path + ":" + std::to_string(no);
    json doc;
    try {
      doc = json::parse(line);
    } catch (const json::exception&) {
      bad(where, "malformed JSON: " + printable(line));
    }
    if (!doc.is_object()) bad(where, "not a JSON object");
    each(doc, where);
  }
}

const json& member(const json& o, const char* key, const std::string& where) {
  const auto it = o.find(key);
  if (it == o.end()) bad(where, std::string("\"") + key + "\" is missing");
  return *it;
}
std::string str(const json& o, const char* key, const std::string& where) {
  const json& v = member(o, key, where);
  if (!v.is_string()) bad(where, std::string("\"") + key + "\" must be a string");
  return v.get<std::string>();
}
std::int64_t integer(const json& o, const char* key, const std::string& where) {
  const json& v = member(o, key, where);
  if (!v.is_number_integer()) bad(where, std::string("\"") + key + "\" must be an integer");
  return v.get<std::int64_t>();
}
double number(const json& o, const char* key, const std::string& where) {
  const json& v = member(o, key, where);
  if (!v.is_number()) bad(where, std::string("\"") + key + "\" must be a number");
  return v.get<double>();
}
Fixed fixed(const json& o, const char* key, const std::string& where) {
  const std::string s = str(o, key, where);
  Fixed v = 0;
  if (!parse_fixed(s, v)) bad(where, std::string("\"") + key + "\" is not a decimal: '" + printable(s) + "'");
  return v;
}
Side side(const json& o, const std::string& where) {
  const std::string s = str(o, "side", where);
  if (s == "buy") return Side::kBuy;
  if (s == "sell") return Side::kSell;
  bad(where, "\"side\" must be buy or sell, not '" + printable(s) + "'");
}

std::uint16_t slot_of(const CalibrationRun& run, const json& o, const std::string& where) {
  const std::string s = str(o, "symbol", where);
  const auto it = std::find(run.symbols.begin(), run.symbols.end(), s);
  if (it == run.symbols.end()) bad(where, "symbol '" + printable(s) + "' is not one of the run's");
  return static_cast<std::uint16_t>(it - run.symbols.begin());
}

void load_summary(CalibrationRun& run) {
  const std::string path = run.dir + "/SHADOW_RUN_SUMMARY.json";
  json doc;
  try {
    doc = json::parse(read_file(path, kMaxSummary));
  } catch (const json::exception&) {
    bad(path, "malformed JSON");
  }
  if (!doc.is_object()) bad(path, "not a JSON object");
  if (doc.contains("run_id") && doc["run_id"].is_string()) run.run_id = doc["run_id"].get<std::string>();
  const std::string where = path + ": config";
  const json& c = member(doc, "config", path);
  if (!c.is_object()) bad(where, "not an object");
  const json& r = member(c, "run", where);
  if (str(r, "mode", where + ".run") != "dry-run") bad(run.dir, "not a dry-run (config.run.mode is not \"dry-run\")");
  const json& syms = member(member(c, "venue", where), "symbols", where + ".venue");
  if (!syms.is_array() || syms.empty()) bad(where + ".venue.symbols", "must be a non-empty array");
  for (const json& s : syms) {
    if (!s.is_string()) bad(where + ".venue.symbols", "must hold strings");
    run.symbols.push_back(s.get<std::string>());
  }
  const json& f = member(c, "fill", where);
  const std::string qm = str(f, "queue_model", where + ".fill");
  if (qm == "power") run.defaults.func = QueueFunc::kPower;
  else if (qm == "log") run.defaults.func = QueueFunc::kLog;
  else bad(where + ".fill.queue_model", "must be power or log, not '" + printable(qm) + "'");
  run.defaults.power_n = number(f, "power_n", where + ".fill");
  const std::string cr = str(f, "crossing", where + ".fill");
  run.fill.crossing_limit = cr == "take" ? CrossingLimit::kTakeThenRest : CrossingLimit::kRejectPostOnly;
  run.fill.max_open_orders = static_cast<std::size_t>(std::max<std::int64_t>(integer(f, "max_open_orders", where + ".fill"), 1));
  run.fill.max_position_notional = number(f, "max_position_notional", where + ".fill");
  const json& l = member(c, "latency", where);
  if (!str(l, "samples_file", where + ".latency").empty()) {
    bad(where + ".latency.samples_file", "runs with sampled latencies are not supported (constant entry_us/cancel_us only)");
  }
  run.defaults.entry_ns = static_cast<std::int64_t>(number(l, "entry_us", where + ".latency") * 1e3);
  run.defaults.cancel_ns = static_cast<std::int64_t>(number(l, "cancel_us", where + ".latency") * 1e3);
  const json& fe = member(c, "fees", where);
  run.fill.maker_fee_bps = number(fe, "maker_bps", where + ".fees");
  run.fill.taker_fee_bps = number(fe, "taker_bps", where + ".fees");
  const json& d = member(c, "dryrun", where);
  const double max_delta = number(d, "max_delta", where + ".dryrun");
  for (DeltaRule& rule : run.gate.rules) rule.threshold = max_delta;
  run.mark_interval_ns = static_cast<std::int64_t>(number(d, "mark_interval_ms", where + ".dryrun") * 1e6);
}

void load_decisions(CalibrationRun& run) {
  for_each_line(run.dir + "/dryrun_decisions.jsonl", [&](const json& o, const std::string& where) {
    CalibDecision d;
    const std::string kind = str(o, "kind", where);
    if (kind != "place" && kind != "cancel") bad(where, "\"kind\" must be place or cancel");
    d.place = kind == "place";
    d.slot = slot_of(run, o, where);
    d.order_id = static_cast<std::uint64_t>(integer(o, "order_id", where));
    d.iteration = static_cast<std::uint32_t>(integer(o, "iteration", where));
    d.side = side(o, where);
    d.px = fixed(o, "price", where);
    d.qty = fixed(o, "qty", where);
    d.ts_ns = integer(o, "ts_ns", where);
    run.decisions.push_back(d);
  });
  std::stable_sort(run.decisions.begin(), run.decisions.end(),
                   [](const CalibDecision& a, const CalibDecision& b) { return a.ts_ns < b.ts_ns; });
}

RealOrderState state_of(const std::string& s, const std::string& where) {
  if (s == "not_sent") return RealOrderState::kNotSent;
  if (s == "rejected") return RealOrderState::kRejected;
  if (s == "new") return RealOrderState::kNew;
  if (s == "cancelled") return RealOrderState::kCancelled;
  if (s == "filled") return RealOrderState::kFilled;
  bad(where, "unknown \"state\" '" + printable(s) + "'");
}

NotSentReason reason_of(const std::string& s) {
  static constexpr std::string_view kNames[] = {"none", "max_position", "max_order_notional", "max_open_orders",
                                                "max_orders_per_s", "kill_switch", "rate_limited", "queue_full",
                                                "gateway_down"};
  for (std::size_t i = 0; i < std::size(kNames); ++i) {
    if (kNames[i] == s) return static_cast<NotSentReason>(i);
  }
  return NotSentReason::kNone;
}

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 1469598103934665603ull;
  for (const char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return h;
}

// The own-order timeline: what the gateway's publish_own() did, from the reality log.
void build_own(CalibrationRun& run, const std::vector<std::tuple<std::int64_t, int, std::size_t>>& seq) {
  struct Open {
    bool acked = false, final = false;
    Fixed remaining = 0;
  };
  std::map<std::pair<std::uint16_t, std::uint64_t>, Open> open;
  for (const auto& [ts, kind, i] : seq) {
    if (kind == 0) {
      const RealOrderRecord& r = run.real_orders[i];
      Open& o = open[{r.symbol, r.order_id}];
      if (o.final) continue;
      const bool final = r.state != RealOrderState::kNew;
      if (!o.acked && (r.state == RealOrderState::kNew || r.state == RealOrderState::kCancelled ||
                       r.state == RealOrderState::kFilled)) {
        o.acked = true;
        o.remaining = std::max<Fixed>(r.qty - r.cum_qty, 0);
        if (!final && o.remaining > 0) run.own.push_back({ts, r.price, o.remaining, r.symbol, r.side});
        if (final) o.remaining = 0;
      } else if (final && o.acked && o.remaining > 0) {
        run.own.push_back({ts, r.price, -o.remaining, r.symbol, r.side});
        o.remaining = 0;
      }
      if (final) o.final = true;
    } else {
      const RealFillRecord& f = run.real_fills[i];
      Open& o = open[{f.symbol, f.order_id}];
      if (!o.acked || o.final || o.remaining <= 0) continue;
      const Fixed q = std::min(f.qty, o.remaining);
      o.remaining -= q;
      run.own.push_back({ts, f.price, -q, f.symbol, f.side});
    }
  }
}

void load_reality(CalibrationRun& run) {
  std::vector<std::tuple<std::int64_t, int, std::size_t>> seq;  // (ts, 0 order / 1 fill, index)
  std::map<std::uint64_t, bool> seen_exec;
  for_each_line(run.dir + "/dryrun_real.jsonl", [&](const json& o, const std::string& where) {
    const std::string kind = str(o, "kind", where);
    if (kind == "order") {
      RealOrderRecord r{};
      r.order_id = static_cast<std::uint64_t>(integer(o, "order_id", where));
      r.decision_ns = integer(o, "decision_ns", where);
      r.now_ns = integer(o, "ts_ns", where);
      r.venue_ms = integer(o, "venue_ms", where);
      r.price = fixed(o, "price", where);
      r.qty = fixed(o, "qty", where);
      r.cum_qty = fixed(o, "cum_qty", where);
      r.symbol = slot_of(run, o, where);
      r.side = side(o, where);
      r.state = state_of(str(o, "state", where), where);
      if (r.state == RealOrderState::kNotSent) r.not_sent = reason_of(str(o, "not_sent", where));
      if (r.state == RealOrderState::kRejected) r.ret_code = static_cast<std::int32_t>(integer(o, "ret_code", where));
      if (run.link_tag.empty()) {
        const std::string link = str(o, "order_link_id", where);
        std::string suffix("-");
        suffix.append(std::to_string(r.symbol)).append("-").append(std::to_string(r.order_id));
        if (link.size() > suffix.size() && link.compare(link.size() - suffix.size(), suffix.size(), suffix) == 0) {
          run.link_tag = link.substr(0, link.size() - suffix.size());
        }
      }
      seq.emplace_back(r.now_ns, 0, run.real_orders.size());
      run.real_orders.push_back(r);
    } else if (kind == "fill") {
      RealFillRecord f{};
      const std::string exec_id = str(o, "exec_id", where);
      f.exec_key = fnv1a(exec_id);
      if (seen_exec[f.exec_key]) return;  // a repeat: counted once, as the gateway does
      seen_exec[f.exec_key] = true;
      f.order_id = static_cast<std::uint64_t>(integer(o, "order_id", where));
      f.exec_ms = integer(o, "exec_ms", where);
      f.now_ns = integer(o, "ts_ns", where);
      f.price = fixed(o, "price", where);
      f.qty = fixed(o, "qty", where);
      f.leaves = fixed(o, "leaves", where);
      f.fee = fixed(o, "fee", where);
      f.symbol = slot_of(run, o, where);
      f.side = side(o, where);
      const std::string liq = str(o, "liquidity", where);
      if (liq != "maker" && liq != "taker") bad(where, "\"liquidity\" must be maker or taker");
      f.maker = liq == "maker" ? 1 : 0;
      exec_id.copy(f.exec_id, sizeof f.exec_id - 1);
      seq.emplace_back(f.now_ns, 1, run.real_fills.size());
      run.real_fills.push_back(f);
    } else {
      bad(where, "\"kind\" must be order or fill");
    }
  });
  std::stable_sort(seq.begin(), seq.end(), [](const auto& a, const auto& b) { return std::get<0>(a) < std::get<0>(b); });
  build_own(run, seq);
}

// Collects one message's events, keeping those of the run's symbols.
class Collect {
 public:
  Collect(CalibrationRun& run, const SymbolTable& table) : run_(run), table_(table), scratch_(kMaxEventsPerMessage) {}
  MarketEvent* claim() noexcept { return n_ < scratch_.size() ? &scratch_[n_++] : nullptr; }
  void abort() noexcept { n_ = 0; }
  void publish() noexcept {
    for (std::size_t i = 0; i < n_; ++i) {
      MarketEvent e = scratch_[i];
      if (e.kind == EventKind::kFeedReset) {
        e.symbol = kAllSymbols;
      } else if (e.kind == EventKind::kBookDelta || e.kind == EventKind::kBookSnapshot || e.kind == EventKind::kTrade) {
        const int s = slot(e.symbol);
        if (s < 0) continue;
        e.symbol = static_cast<std::uint16_t>(s);  // from here on: the slot
      } else {
        continue;
      }
      run_.events.push_back(e);
    }
    n_ = 0;
  }

 private:
  int slot(std::uint16_t id) {
    if (id >= slots_.size()) slots_.resize(id + 1u, -2);
    if (slots_[id] == -2) {
      const std::string_view name = table_.name(id);
      const auto it = std::find(run_.symbols.begin(), run_.symbols.end(), name);
      slots_[id] = it == run_.symbols.end() ? -1 : static_cast<int>(it - run_.symbols.begin());
    }
    return slots_[id];
  }
  CalibrationRun& run_;
  const SymbolTable& table_;
  std::vector<MarketEvent> scratch_;
  std::vector<int> slots_;
  std::size_t n_ = 0;
};

void load_capture(CalibrationRun& run) {
  const std::string path = run.dir + "/market.capture";
  SymbolTable table;
  CaptureDecoder dec(table);
  Collect sink(run, table);
  CaptureTally tally;
  std::string err;
  if (!decode_capture(path, Protocol::kAuto, dec, sink, err, [&](const CaptureLine&, DecodeStatus st) { tally.count(st); })) {
    bad(path, err);
  }
  if (tally.mostly_undecodable()) throw CalibrationInputError(tally.message(path));
}

}  // namespace

std::string describe(const CalibParams& p) {
  char buf[128];
  if (p.func == QueueFunc::kLog) {
    std::snprintf(buf, sizeof buf, "log entry=%gus cancel=%gus", static_cast<double>(p.entry_ns) / 1e3,
                  static_cast<double>(p.cancel_ns) / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "power(%g) entry=%gus cancel=%gus", p.power_n, static_cast<double>(p.entry_ns) / 1e3,
                  static_cast<double>(p.cancel_ns) / 1e3);
  }
  return buf;
}

CalibrationRun load_calibration_run(const std::string& dir) {
  CalibrationRun run;
  run.dir = dir;
  load_summary(run);
  load_decisions(run);
  load_reality(run);
  const std::string gt = dir + "/sandbox_ground_truth.jsonl";
  std::string err;
  const int fd = open_regular_file(gt, err);
  if (fd >= 0) {
    ::close(fd);
    run.ground_truth = gt;
  }
  load_capture(run);
  return run;
}

}  // namespace shadow
