#include "sinks/run_artifacts.h"

#include <cmath>
#include <cstdio>
#include <ctime>

#include "core/json_text.h"
#include "core/stage_timing.h"

namespace shadow {
namespace {

void str(std::string& o, std::string_view v) { append_json_string(o, v); }

using json::boolean;
using json::key;
using json::num;
using json::text;
using json::whole;

void opt(std::string& o, std::string_view k, bool has, double v) {
  key(o, k);
  if (has) num(o, v);
  else o += "null";
}

double fixed_to_double(Fixed v) { return static_cast<double>(v) / static_cast<double>(kFixedScale); }

void common_head(std::string& o, const RunInfo& run, std::string_view schema) {
  text(o, "schema", schema);
  text(o, "run_id", run.run_id);
}

void provenance(std::string& o, const RunInfo& run) {
  text(o, "config_hash", run.config_hash);
  text(o, "program_version", run.program_version);
  text(o, "host", run.host);
  text(o, "venue", run.venue);
}

}  // namespace

std::string rfc3339_utc(std::int64_t ns) {
  const std::time_t s = static_cast<std::time_t>(ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>((ns / 1'000'000) % 1000));
  return buf;
}

std::string kpis_json(const SymbolKpis& k, bool totals) {
  std::string o = "{";
  whole(o, "ticks", k.ticks);
  whole(o, "book_updates", k.book_updates);
  whole(o, "trades", k.trades);
  whole(o, "fills_maker", k.fills_maker);
  whole(o, "fills_taker", k.fills_taker);
  const double nm = money_to_double(k.notional_maker);
  const double nt = money_to_double(k.notional_taker);
  num(o, "notional_maker", nm);
  num(o, "notional_taker", nt);
  const bool filled = k.fills() > 0 && nm + nt > 0;
  opt(o, "maker_taker_ratio", filled, nm / (nm + nt));
  const double gross = money_to_double(k.gross());
  const double fees = money_to_double(k.fees);
  key(o, "pnl");
  o += '{';
  num(o, "gross", gross);
  num(o, "fees", fees);
  num(o, "net", gross - fees);
  o += '}';
  opt(o, "gross_bps", filled, gross / (nm + nt) * 1e4);
  opt(o, "fees_bps", filled, fees / (nm + nt) * 1e4);
  opt(o, "net_bps", filled, (gross - fees) / (nm + nt) * 1e4);
  opt(o, "position", !totals, fixed_to_double(k.position_end));
  const bool lat = k.latency.count() > 0;
  const LatencySummaryUs l = k.latency.summary_us();
  key(o, "latency_us");
  o += '{';
  opt(o, "p50", lat, l.p50);
  opt(o, "p95", lat, l.p95);
  opt(o, "p99", lat, l.p99);
  opt(o, "p999", lat, l.p999);
  opt(o, "max", lat, l.max);
  o += '}';
  whole(o, "latency_samples", k.latency.count());
  opt(o, "p95_latency_ms", lat, l.p95 / 1000.0);
  const bool fl = k.feed_latency_count() > 0;
  const auto feed_ms = [&](double q) { return k.feed_latency_quantile_ms(q); };
  key(o, "feed_latency_ms");
  o += '{';
  opt(o, "p50", fl, fl ? feed_ms(0.50) : 0);
  opt(o, "p95", fl, fl ? feed_ms(0.95) : 0);
  o += '}';
  opt(o, "clock_drift_ms", k.has_drift, k.clock_drift_ms);
  opt(o, "risk_ratio", k.has_risk, k.risk_ratio_max);
  whole(o, "orders_considered", k.orders_considered);
  whole(o, "would_place", k.would_place);
  key(o, "rejected");
  o += '{';
  for (std::size_t i = 0; i < kRejectRuleCount; ++i) {
    if (k.rejected[i] > 0) whole(o, to_string(static_cast<RejectRule>(i)), k.rejected[i]);
  }
  o += '}';
  whole(o, "gaps", k.gaps);
  whole(o, "resyncs", k.resyncs);
  whole(o, "reconnects", k.reconnects);
  whole(o, "decode_errors", k.decode_errors);
  whole(o, "sink_drops", k.sink_drops);
  key(o, "invalid_market_data");
  o += '{';
  whole(o, "price", k.invalid_price);
  whole(o, "qty", k.invalid_qty);
  whole(o, "crossed", k.crossed);
  o += '}';
  o += '}';
  return o;
}

namespace {

// {p50, p95, p99, p999, max, mean} in µs of a ns histogram (nulls when empty).
void quantiles_us(std::string& o, std::string_view name, const LatencyHistogram& h) {
  const bool has = h.count() > 0;
  const LatencySummaryUs l = h.summary_us();
  key(o, name);
  o += '{';
  opt(o, "p50", has, l.p50);
  opt(o, "p95", has, l.p95);
  opt(o, "p99", has, l.p99);
  opt(o, "p999", has, l.p999);
  opt(o, "max", has, l.max);
  opt(o, "mean", has, h.mean() / 1000.0);
  o += '}';
}

}  // namespace

std::string hot_threads_json(const std::array<HotThreadSched, 2>& threads) {
  std::string o = "[";
  for (const HotThreadSched& t : threads) {
    if (t.name == nullptr || !t.sched.ok) continue;
    if (o.back() != '[') o += ',';
    o += '{';
    text(o, "thread", t.name);
    whole(o, "involuntary_switches", t.sched.involuntary);
    whole(o, "voluntary_switches", t.sched.voluntary);
    num(o, "on_cpu_ms", static_cast<double>(t.sched.on_cpu_ns) / 1e6);
    num(o, "runqueue_wait_ms", static_cast<double>(t.sched.runqueue_ns) / 1e6);
    whole(o, "timeslices", t.sched.timeslices);
    whole(o, "minor_faults", t.sched.minor_faults);
    o += '}';
  }
  o += ']';
  return o;
}

std::string stage_kpis_json(const StageKpis& k) {
  std::string o = "{";
  whole(o, "sample_every", kStageSampleEvery);
  whole(o, "samples", k[Stage::kOwn].count());
  opt(o, "tsc_ticks_per_ns", k.ticks_per_ns > 0, k.ticks_per_ns);
  key(o, "stages_us");
  o += '{';
  for (std::size_t i = 0; i < kStageCount; ++i) quantiles_us(o, kStageNames[i], k.stage[i]);
  o += '}';
  whole(o, "chunks", k.chunk_size.count());
  const bool has = k.chunk_size.count() > 0;
  key(o, "chunk_size");
  o += '{';
  opt(o, "p50", has, static_cast<double>(k.chunk_size.value_at_quantile(0.50)));
  opt(o, "p99", has, static_cast<double>(k.chunk_size.value_at_quantile(0.99)));
  opt(o, "max", has, static_cast<double>(k.chunk_size.max()));
  opt(o, "mean", has, k.chunk_size.mean());
  o += '}';
  quantiles_us(o, "chunk_decided_us", k.chunk_decided);
  o += '}';
  return o;
}

SymbolKpis total_of(const IterationKpis& it) {
  SymbolKpis t;
  for (const SymbolKpis& s : it.symbols) t.merge(s);
  return t;
}

std::string iter_summary_json(const RunInfo& run, const IterationKpis& it) {
  std::string o = "{";
  common_head(o, run, "shadow.iter_summary/1");
  whole(o, "iteration", it.iteration);
  boolean(o, "partial", it.partial);
  text(o, "started_at", rfc3339_utc(it.started_realtime_ns));
  text(o, "ended_at", rfc3339_utc(it.ended_realtime_ns));
  num(o, "duration_s", static_cast<double>(it.ended_realtime_ns - it.started_realtime_ns) / 1e9);
  num(o, "warmup_s", it.warmup_s);
  provenance(o, run);
  key(o, "totals");
  o += kpis_json(total_of(it), true);
  key(o, "symbols");
  o += '{';
  for (std::size_t i = 0; i < it.symbols.size() && i < run.symbols.size(); ++i) {
    key(o, run.symbols[i]);
    o += kpis_json(it.symbols[i], false);
  }
  o += '}';
  key(o, "latency_stages");
  o += stage_kpis_json(it.stages);
  key(o, "hot_threads");
  o += hot_threads_json(it.hot_threads);
  o += "}\n";
  return o;
}

IterationBrief brief_of(const IterationKpis& it) {
  const SymbolKpis t = total_of(it);
  IterationBrief b;
  b.iteration = it.iteration;
  b.partial = it.partial;
  b.fills = t.fills();
  const double n = money_to_double(t.notional());
  b.has_net_bps = t.fills() > 0 && n > 0;
  if (b.has_net_bps) b.net_bps = (money_to_double(t.gross()) - money_to_double(t.fees)) / n * 1e4;
  b.has_p95 = t.latency.count() > 0;
  if (b.has_p95) b.p95_latency_ms = t.latency.summary_us().p95 / 1000.0;
  return b;
}

std::string run_summary_json(const RunInfo& run, const std::vector<SymbolKpis>& per_symbol,
                             const StageKpis& stages, const std::array<HotThreadSched, 2>& hot_threads,
                             const std::vector<IterationBrief>& iterations, bool partial,
                             std::string_view stop_reason, std::int64_t ended_realtime_ns) {
  std::string o = "{";
  common_head(o, run, "shadow.run_summary/1");
  text(o, "started_at", rfc3339_utc(run.started_realtime_ns));
  text(o, "ended_at", rfc3339_utc(ended_realtime_ns));
  provenance(o, run);
  key(o, "config");
  o += run.config_json;
  whole(o, "iterations_planned", run.iterations_planned);
  std::size_t partial_n = 0;
  for (const IterationBrief& b : iterations) partial_n += b.partial ? 1 : 0;
  whole(o, "iterations_completed", iterations.size() - partial_n);
  whole(o, "iterations_partial", partial_n);
  boolean(o, "partial", partial);
  text(o, "stop_reason", stop_reason);
  SymbolKpis total;
  for (const SymbolKpis& s : per_symbol) total.merge(s);
  key(o, "totals");
  o += kpis_json(total, true);
  key(o, "symbols");
  o += '{';
  for (std::size_t i = 0; i < per_symbol.size() && i < run.symbols.size(); ++i) {
    key(o, run.symbols[i]);
    o += kpis_json(per_symbol[i], false);
  }
  o += '}';
  key(o, "latency_stages");
  o += stage_kpis_json(stages);
  key(o, "hot_threads");
  o += hot_threads_json(hot_threads);
  key(o, "iterations");
  o += '[';
  for (const IterationBrief& b : iterations) {
    if (o.back() != '[') o += ',';
    o += '{';
    whole(o, "iteration", b.iteration);
    text(o, "file", "ITER_SUMMARY_" + std::to_string(b.iteration) + ".json");
    boolean(o, "partial", b.partial);
    whole(o, "fills", b.fills);
    opt(o, "net_bps", b.has_net_bps, b.net_bps);
    opt(o, "p95_latency_ms", b.has_p95, b.p95_latency_ms);
    o += '}';
  }
  o += "]}\n";
  return o;
}

void append_shadow_order_jsonl(std::string& out, const RunInfo& run, std::uint32_t iteration,
                               const ShadowOrder& o) {
  char buf[kFixedMaxChars];
  std::string j = "{";
  text(j, "run_id", run.run_id);
  whole(j, "iteration", iteration);
  key(j, "exchange_ts_ms");
  j += std::to_string(o.exch_ts_ms);
  key(j, "local_ts_ns");
  j += std::to_string(o.local_ns);
  text(j, "client_order_id", "shadow-" + std::to_string(o.symbol) + "-" + std::to_string(o.client_order_id));
  text(j, "symbol", o.symbol < run.symbols.size() ? std::string_view(run.symbols[o.symbol]) : "?");
  text(j, "side", o.side == Side::kBuy ? "buy" : "sell");
  text(j, "order_type", "limit");
  text(j, "size", to_chars_fixed(o.size, buf));
  text(j, "price", to_chars_fixed(o.price, buf));
  text(j, "route", "maker");
  key(j, "quote");
  j += '{';
  text(j, "bid", to_chars_fixed(o.bid, buf));
  text(j, "ask", to_chars_fixed(o.ask, buf));
  text(j, "mid", to_chars_fixed(o.mid, buf));
  num(j, "spread_bps", o.spread_bps);
  num(j, "age_ms", o.quote_age_ms);
  j += '}';
  text(j, "depth", to_chars_fixed(o.depth, buf));
  num(j, "expected_slippage_bps", o.expected_slippage_bps);
  num(j, "expected_fees_bps", o.expected_fees_bps);
  key(j, "risk");
  j += '{';
  whole(j, "tier", o.tier);
  num(j, "confidence", o.confidence);
  num(j, "conviction", o.conviction);
  text(j, "position", to_chars_fixed(o.position, buf));
  num(j, "risk_ratio", o.risk_ratio);
  j += '}';
  key(j, "checks");
  j += '{';
  boolean(j, "spread_ok", o.spread_ok != 0);
  boolean(j, "depth_ok", o.depth_ok != 0);
  boolean(j, "quote_fresh", o.quote_fresh != 0);
  boolean(j, "book_synced", o.book_synced != 0);
  j += '}';
  boolean(j, "would_place", o.would_place != 0);
  key(j, "rejection_reason");
  if (o.would_place) j += "null";
  else str(j, to_string(o.rejection));
  text(j, "config_hash", run.config_hash);
  j += "}\n";
  out += j;
}

void append_fill_jsonl(std::string& out, const RunInfo& run, std::uint32_t iteration, const Fill& f) {
  static constexpr const char* kReason[] = {"queue", "trade_through", "book_cross", "taker"};
  std::string o = "{";
  text(o, "run_id", run.run_id);
  whole(o, "iteration", iteration);
  key(o, "ts_ns");
  o += std::to_string(f.now_ns);
  text(o, "symbol", f.symbol < run.symbols.size() ? std::string_view(run.symbols[f.symbol]) : "?");
  whole(o, "order_id", f.order_id);
  text(o, "side", f.side == Side::kBuy ? "buy" : "sell");
  text(o, "liquidity", f.maker ? "maker" : "taker");
  char buf[kFixedMaxChars];
  text(o, "px", to_chars_fixed(f.px, buf));
  text(o, "qty", to_chars_fixed(f.qty, buf));
  text(o, "leaves", to_chars_fixed(f.leaves, buf));
  text(o, "fee", to_chars_fixed(f.fee, buf));
  text(o, "reason", kReason[static_cast<int>(f.reason) & 3]);
  text(o, "config_hash", run.config_hash);
  o += "}\n";
  out += o;
}

}  // namespace shadow

namespace shadow {

std::vector<KpiValue> flatten_kpis(const std::string& symbol, const SymbolKpis& k, bool totals) {
  std::vector<KpiValue> v;
  const auto add = [&](const char* name, bool present, double value) {
    v.push_back(KpiValue{symbol, name, present ? value : 0, present});
  };
  const double nm = money_to_double(k.notional_maker);
  const double nt = money_to_double(k.notional_taker);
  const bool filled = k.fills() > 0 && nm + nt > 0;
  const double gross = money_to_double(k.gross());
  const double fees = money_to_double(k.fees);
  const bool lat = k.latency.count() > 0;
  const LatencySummaryUs l = k.latency.summary_us();
  const bool fl = k.feed_latency_count() > 0;
  add("ticks", true, static_cast<double>(k.ticks));
  add("book_updates", true, static_cast<double>(k.book_updates));
  add("trades", true, static_cast<double>(k.trades));
  add("fills_maker", true, static_cast<double>(k.fills_maker));
  add("fills_taker", true, static_cast<double>(k.fills_taker));
  add("notional_maker", true, nm);
  add("notional_taker", true, nt);
  add("maker_taker_ratio", filled, filled ? nm / (nm + nt) : 0);
  add("pnl_gross", true, gross);
  add("pnl_fees", true, fees);
  add("pnl_net", true, gross - fees);
  add("gross_bps", filled, filled ? gross / (nm + nt) * 1e4 : 0);
  add("fees_bps", filled, filled ? fees / (nm + nt) * 1e4 : 0);
  add("net_bps", filled, filled ? (gross - fees) / (nm + nt) * 1e4 : 0);
  add("position", !totals, static_cast<double>(k.position_end) / static_cast<double>(kFixedScale));
  add("latency_us_p50", lat, l.p50);
  add("latency_us_p95", lat, l.p95);
  add("latency_us_p99", lat, l.p99);
  add("latency_us_p999", lat, l.p999);
  add("latency_us_max", lat, l.max);
  add("latency_samples", true, static_cast<double>(k.latency.count()));
  add("p95_latency_ms", lat, l.p95 / 1000.0);
  add("feed_latency_ms_p50", fl, fl ? k.feed_latency_quantile_ms(0.50) : 0);
  add("feed_latency_ms_p95", fl, fl ? k.feed_latency_quantile_ms(0.95) : 0);
  add("clock_drift_ms", k.has_drift, k.clock_drift_ms);
  add("risk_ratio", k.has_risk, k.risk_ratio_max);
  add("orders_considered", true, static_cast<double>(k.orders_considered));
  add("would_place", true, static_cast<double>(k.would_place));
  for (std::size_t i = 0; i < kRejectRuleCount; ++i) {
    const std::string name = "rejected_" + std::string(to_string(static_cast<RejectRule>(i)));
    v.push_back(KpiValue{symbol, name, static_cast<double>(k.rejected[i]), true});
  }
  add("gaps", true, static_cast<double>(k.gaps));
  add("resyncs", true, static_cast<double>(k.resyncs));
  add("reconnects", true, static_cast<double>(k.reconnects));
  add("decode_errors", true, static_cast<double>(k.decode_errors));
  add("sink_drops", true, static_cast<double>(k.sink_drops));
  add("invalid_market_data_price", true, static_cast<double>(k.invalid_price));
  add("invalid_market_data_qty", true, static_cast<double>(k.invalid_qty));
  add("invalid_market_data_crossed", true, static_cast<double>(k.crossed));
  return v;
}

IterationExport export_of(const RunInfo& run, const IterationKpis& it, std::string iter_summary_json) {
  IterationExport e;
  e.run_id = run.run_id;
  e.config_hash = run.config_hash;
  e.iteration = it.iteration;
  e.partial = it.partial;
  e.ended_realtime_ns = it.ended_realtime_ns;
  for (std::size_t i = 0; i < it.symbols.size() && i < run.symbols.size(); ++i) {
    auto v = flatten_kpis(run.symbols[i], it.symbols[i], false);
    e.kpis.insert(e.kpis.end(), v.begin(), v.end());
  }
  auto t = flatten_kpis("_all", total_of(it), true);
  e.kpis.insert(e.kpis.end(), t.begin(), t.end());
  auto st = flatten_stages(it.stages);
  e.kpis.insert(e.kpis.end(), st.begin(), st.end());
  e.iter_summary_json = std::move(iter_summary_json);
  return e;
}

std::vector<KpiValue> flatten_stages(const StageKpis& k) {
  std::vector<KpiValue> v;
  const auto add = [&](std::string name, const LatencyHistogram& h) {
    const bool has = h.count() > 0;
    const LatencySummaryUs l = h.summary_us();
    const std::pair<const char*, double> qs[] = {{"p50", l.p50}, {"p99", l.p99}, {"p999", l.p999}, {"max", l.max}};
    for (const auto& [q, x] : qs) v.push_back(KpiValue{"_all", name + "_" + q, x, has});
  };
  for (std::size_t i = 0; i < kStageCount; ++i) add("stage_us_" + std::string(kStageNames[i]), k.stage[i]);
  add("chunk_decided_us", k.chunk_decided);
  const bool has = k.chunk_size.count() > 0;
  v.push_back(KpiValue{"_all", "chunk_size_p50", static_cast<double>(k.chunk_size.value_at_quantile(0.5)), has});
  v.push_back(KpiValue{"_all", "chunk_size_p99", static_cast<double>(k.chunk_size.value_at_quantile(0.99)), has});
  v.push_back(KpiValue{"_all", "chunk_size_max", static_cast<double>(k.chunk_size.max()), has});
  return v;
}

std::string stage_table_text(const StageKpis& k, const std::array<HotThreadSched, 2>& hot_threads) {
  std::string o;
  char line[160];
  std::snprintf(line, sizeof line,
                "where the time went (us; %llu sampled messages, 1 in %u; %llu completions):\n",
                static_cast<unsigned long long>(k[Stage::kOwn].count()), kStageSampleEvery,
                static_cast<unsigned long long>(k.chunk_size.count()));
  o += line;
  std::snprintf(line, sizeof line, "  %-16s %9s %9s %9s %9s %9s\n", "stage", "p50", "p99", "p99.9", "max", "mean");
  o += line;
  const auto row = [&](std::string_view name, const LatencyHistogram& h, double scale) {
    const LatencySummaryUs l = h.summary_us();
    std::snprintf(line, sizeof line, "  %-16.*s %9.3f %9.3f %9.3f %9.3f %9.3f\n", static_cast<int>(name.size()),
                  name.data(), l.p50 * scale, l.p99 * scale, l.p999 * scale, l.max * scale,
                  h.mean() / 1000.0 * scale);
    o += line;
  };
  for (std::size_t i = 0; i < kStageCount; ++i) row(kStageNames[i], k.stage[i], 1.0);
  row("chunk_decided", k.chunk_decided, 1.0);
  row("chunk_size (msgs)", k.chunk_size, 1000.0);
  for (const HotThreadSched& t : hot_threads) {
    if (t.name == nullptr || !t.sched.ok) continue;
    std::snprintf(line, sizeof line,
                  "hot thread %s: %llu preemptions, %llu voluntary switches, %.1f ms waiting for a CPU, %.1f ms on CPU, "
                  "%llu page faults\n",
                  t.name, static_cast<unsigned long long>(t.sched.involuntary),
                  static_cast<unsigned long long>(t.sched.voluntary), static_cast<double>(t.sched.runqueue_ns) / 1e6,
                  static_cast<double>(t.sched.on_cpu_ns) / 1e6, static_cast<unsigned long long>(t.sched.minor_faults));
    o += line;
  }
  return o;
}

}  // namespace shadow
