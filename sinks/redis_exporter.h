// Exports each finished iteration's KPIs to Redis (docs/REDIS.md): one SET per present KPI
// (`shadow:latest:{symbol}:{name}`, with a TTL), the `shadow:latest:_run` key and a PUBLISH of
// the ITER_SUMMARY document, all in one pipelined round trip. Runs on the sink thread, off the
// hot path; a Redis outage costs sink drops, never a crash or a stall longer than the timeouts.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "sinks/dryrun_export.h"
#include "sinks/run_artifacts.h"

struct redisContext;

namespace shadow {

// Where to connect: TCP (host, port) or a unix socket (unix_path non-empty).
struct RedisTarget {
  std::string host;
  int port = 6379;
  std::string unix_path;
  std::string user;
  std::string password{};
  int db = 0;
};

// Accepts redis://[[user]:password@]host[:port][/db] (host may be [v6addr]; user and password
// are percent-decoded), unix:///path.sock[?db=N] and a bare /path.sock. On failure returns false
// and `error` names what is wrong; `out` is then unspecified.
bool parse_redis_url(std::string_view url, RedisTarget& out, std::string& error);

struct RedisExporterConfig {
  std::string url;
  // AUTH password from outside the URL (shadow-run reads it from SHADOW_REDIS_PASSWORD or a 0600
  // file, never from argv); when set it replaces a password in the URL. Never logged.
  std::string password{};
  std::string channel = "shadow:iterations";
  int ttl_s = 3600;
  int connect_timeout_ms = 300;
  int command_timeout_ms = 500;
  std::int64_t min_backoff_ns = 100'000'000;
  std::int64_t max_backoff_ns = 5'000'000'000;
};

struct RedisExporterStats {
  std::uint64_t iterations_exported = 0;
  std::uint64_t keys_written = 0;
  std::uint64_t messages_published = 0;
  std::uint64_t sink_drops = 0;        // iterations that could not be exported when offered
  std::uint64_t dryrun_exports = 0;    // dry-run reports written (export_dryrun)
  std::uint64_t reconnects = 0;        // connections made after a failure or a lost connection
  std::uint64_t connect_failures = 0;  // connect, AUTH or SELECT failed
  std::string last_error;              // "redis 127.0.0.1:6379: AUTH failed: WRONGPASS ..."
};

// Contract: used by one thread (the sink thread); nothing throws after construction. Blocking
// is bounded by connect_timeout_ms + command_timeout_ms per attempt, and no attempt is made while
// a backoff runs, so an outage costs one timeout per backoff period at most. SIGPIPE from a
// dead peer is blocked and consumed on the calling thread around every Redis write.
class RedisExporter {
 public:
  // Throws std::invalid_argument("redis URL: ...") on a bad URL (the URL itself is not echoed: it
  // may hold a password). Does not connect yet.
  explicit RedisExporter(RedisExporterConfig cfg);
  ~RedisExporter();
  RedisExporter(const RedisExporter&) = delete;
  RedisExporter& operator=(const RedisExporter&) = delete;

  // Writes `it` now (connecting first when needed) and returns true when it went out. On failure
  // (or while the backoff after an earlier failure still runs) counts one sink drop, keeps `it`
  // as the pending latest (replacing an older pending one), drops the connection and schedules a
  // reconnect after an exponential backoff (min_backoff_ns doubling up to max_backoff_ns).
  bool export_iteration(const IterationExport& it, std::int64_t now_ns);

  // Cheap when nothing is pending. When a pending latest exists and the backoff has elapsed:
  // reconnects and writes it (no new drop is counted if that fails again).
  void poll(std::int64_t now_ns);

  // End of run: one last attempt for the pending latest, ignoring the backoff.
  void flush(std::int64_t now_ns);

  // End of a dry-run (docs/REDIS.md "Dry-run keys"): in one pipelined round trip, for every
  // scope and delta KPI of `d`, SET (with the TTL) or, when the value is null, DEL
  // shadow:dryrun:{predicted,real,delta}:{symbol}:{kpi}; SET shadow:dryrun:verdict (PASS|HOLD)
  // and shadow:dryrun:_run; PUBLISH d.message_json on "<channel>:dryrun". Same connection, AUTH,
  // timeouts and backoff bookkeeping as export_iteration(), but sent now whatever the backoff
  // (it is the end of the run, like flush()); when it fails on a connection made earlier (the
  // server may have restarted since), it is tried once more on a new connection. Returns true
  // when it went out; on failure counts one sink drop and keeps last_error. Never throws.
  bool export_dryrun(const DryRunExport& d, std::int64_t now_ns);

  const RedisExporterStats& stats() const noexcept { return stats_; }
  bool connected() const noexcept { return ctx_ != nullptr; }
  bool has_pending() const noexcept { return pending_.has_value(); }

 private:
  struct ContextFree {
    void operator()(redisContext* c) const noexcept;
  };

  bool attempt(const IterationExport& it, std::int64_t now_ns);
  bool connect();
  bool write(const IterationExport& it);
  bool write_dryrun(const DryRunExport& d);
  bool read_replies(std::size_t commands);  // the pipeline's replies; false on any error
  void fail(std::string what, std::int64_t now_ns);

  RedisExporterConfig cfg_;
  RedisTarget target_;
  std::string label_;  // "redis 127.0.0.1:6379" / "redis unix:/run/redis.sock"
  std::unique_ptr<redisContext, ContextFree> ctx_;
  std::optional<IterationExport> pending_;
  std::int64_t next_attempt_ns_ = 0;
  std::int64_t backoff_ns_ = 0;
  bool connected_once_ = false;
  RedisExporterStats stats_;
};

// The `_run` key's value: {"run_id":..,"iteration":n,"config_hash":..,"partial":..,
// "ended_at_ns":..}.
std::string redis_run_json(const IterationExport& it);

// The `shadow:dryrun:_run` key's value: {"run_id":..,"config_hash":..,"verdict":"PASS"|"HOLD"}.
std::string redis_dryrun_run_json(const DryRunExport& d);

// A KPI value as stored: whole numbers as integers, others with %.17g (round-trips a double).
std::string redis_value_text(double v);

}  // namespace shadow
