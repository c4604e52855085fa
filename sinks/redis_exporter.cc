#include "sinks/redis_exporter.h"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <stdexcept>
#include <utility>

#include "core/percent_decode.h"
#include "core/host_port.h"

namespace shadow {
namespace {

bool parse_int(std::string_view s, int lo, int hi, int& out) {
  if (s.empty()) return false;
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < lo || v > hi) return false;
  out = v;
  return true;
}

bool parse_db(std::string_view s, int& db, std::string& error) {
  if (!parse_int(s, 0, 1'000'000, db)) {
    error = "database '" + std::string(s) + "' is not a number >= 0";
    return false;
  }
  return true;
}

bool parse_unix(std::string_view rest, RedisTarget& out, std::string& error) {
  std::string_view path = rest;
  if (const auto q = rest.find('?'); q != std::string_view::npos) {
    path = rest.substr(0, q);
    std::string_view query = rest.substr(q + 1);
    while (!query.empty()) {
      const auto amp = query.find('&');
      const std::string_view kv = query.substr(0, amp);
      query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
      if (kv.substr(0, 3) == "db=") {
        if (!parse_db(kv.substr(3), out.db, error)) return false;
      } else {
        error = "unknown query parameter '" + std::string(kv) + "' (only db=N)";
        return false;
      }
    }
  }
  if (path.empty() || path.front() != '/') {
    error = "unix socket path must be absolute (unix:///path.sock)";
    return false;
  }
  if (path.size() >= 108) {  // sizeof(sockaddr_un::sun_path)
    error = "unix socket path is longer than 107 bytes";
    return false;
  }
  out.unix_path = std::string(path);
  return true;
}

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

timeval to_timeval(int ms) {
  ms = std::max(ms, 1);
  return timeval{ms / 1000, static_cast<suseconds_t>((ms % 1000) * 1000)};
}

// hiredis 0.14 writes with write(2), so a peer that died raises SIGPIPE, which would kill the
// whole program. Block it on this thread for the duration of the Redis I/O and consume the one
// we caused (the classic sigmask + sigtimedwait recipe; the program's own disposition stays).
class SigpipeGuard {
 public:
  SigpipeGuard() noexcept {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeGuard() {
    if (!was_pending_) {
      sigset_t pending;
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        const timespec zero{0, 0};
        while (sigtimedwait(&pipe_, nullptr, &zero) == -1 && errno == EINTR) {
        }
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t pipe_;
  sigset_t old_;
  bool was_pending_ = false;
};

struct ReplyFree {
  void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyFree>;

}  // namespace

bool parse_redis_url(std::string_view url, RedisTarget& out, std::string& error) {
  out = RedisTarget{};
  error.clear();
  if (url.empty()) {
    error = "empty URL";
    return false;
  }
  if (std::string problem; !check_url_text(url, problem)) {
    error = "URL has " + problem;  // not echoed: it may hold control bytes or a password
    return false;
  }
  if (url.front() == '/') return parse_unix(url, out, error);
  if (url.substr(0, 7) == "unix://") return parse_unix(url.substr(7), out, error);
  if (url.substr(0, 9) == "rediss://") {
    error = "TLS (rediss://) is not supported";
    return false;
  }
  if (url.substr(0, 8) != "redis://") {
    error = "expected redis://[[user]:password@]host[:port][/db], unix:///path.sock[?db=N] or "
            "/path.sock";
    return false;
  }
  std::string_view rest = url.substr(8);
  std::string_view path;
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    path = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const auto colon = userinfo.find(':');
    // Like redis-cli -u: "user:password", ":password", or a lone "password".
    const std::string_view user =
        colon == std::string_view::npos ? std::string_view() : userinfo.substr(0, colon);
    const std::string_view pass =
        colon == std::string_view::npos ? userinfo : userinfo.substr(colon + 1);
    if (!percent_decode(user, out.user) || !percent_decode(pass, out.password)) {
      error = "bad percent-encoding in user or password";
      return false;
    }
    if (out.password.empty()) {
      error = "empty password before '@'";
      return false;
    }
  }
  HostPort hp;
  if (!split_host_port(rest, hp, error)) {
    if (error == "no host") error = "missing host";
    return false;
  }
  out.host = std::string(hp.host);
  if (hp.port != 0) out.port = hp.port;
  if (!path.empty() && !parse_db(path, out.db, error)) return false;
  return true;
}

std::string redis_value_text(double v) {
  char buf[40];
  if (std::isfinite(v) && v == std::trunc(v) && std::fabs(v) < 9.0e15) {
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));  // -0.0 prints "0"
  } else {
    std::snprintf(buf, sizeof buf, "%.17g", v);
  }
  return buf;
}

std::string redis_run_json(const IterationExport& it) {
  std::string out = "{\"run_id\":";
  append_json_string(out, it.run_id);
  out += ",\"iteration\":" + std::to_string(it.iteration);
  out += ",\"config_hash\":";
  append_json_string(out, it.config_hash);
  out += it.partial ? ",\"partial\":true" : ",\"partial\":false";
  out += ",\"ended_at_ns\":" + std::to_string(it.ended_realtime_ns) + "}";
  return out;
}

void RedisExporter::ContextFree::operator()(redisContext* c) const noexcept { redisFree(c); }

RedisExporter::RedisExporter(RedisExporterConfig cfg) : cfg_(std::move(cfg)) {
  std::string error;
  if (!parse_redis_url(cfg_.url, target_, error)) {
    throw std::invalid_argument("redis URL: " + error);
  }
  if (!cfg_.password.empty()) target_.password = cfg_.password;
  if (cfg_.ttl_s <= 0) throw std::invalid_argument("redis TTL must be > 0 seconds");
  if (cfg_.channel.empty()) throw std::invalid_argument("redis channel must not be empty");
  cfg_.min_backoff_ns = std::max<std::int64_t>(cfg_.min_backoff_ns, 1);
  cfg_.max_backoff_ns = std::max(cfg_.max_backoff_ns, cfg_.min_backoff_ns);
  backoff_ns_ = cfg_.min_backoff_ns;
  label_ = target_.unix_path.empty()
               ? "redis " + target_.host + ":" + std::to_string(target_.port)
               : "redis unix:" + target_.unix_path;
}

RedisExporter::~RedisExporter() = default;

bool RedisExporter::export_iteration(const IterationExport& it, std::int64_t now_ns) {
  try {
    if (!ctx_ && now_ns < next_attempt_ns_) {
      // Still backing off after a failure: no connect attempt, so the sink thread is not held
      // up by a connect timeout per iteration during an outage.
      ++stats_.sink_drops;
      pending_ = it;
      return false;
    }
    if (attempt(it, now_ns)) {
      pending_.reset();
      return true;
    }
    ++stats_.sink_drops;
    pending_ = it;
  } catch (...) {  // allocation failure: still never throw
    ++stats_.sink_drops;
  }
  return false;
}

void RedisExporter::poll(std::int64_t now_ns) {
  if (!pending_ || now_ns < next_attempt_ns_) return;
  try {
    if (attempt(*pending_, now_ns)) pending_.reset();
  } catch (...) {
  }
}

void RedisExporter::flush(std::int64_t now_ns) {
  if (!pending_) return;
  try {
    if (attempt(*pending_, now_ns)) pending_.reset();
  } catch (...) {
  }
}

bool RedisExporter::attempt(const IterationExport& it, std::int64_t now_ns) {
  SigpipeGuard guard;
  if (!ctx_ && !connect()) {
    fail(stats_.last_error, now_ns);
    return false;
  }
  if (!write(it)) {
    fail(stats_.last_error, now_ns);
    return false;
  }
  backoff_ns_ = cfg_.min_backoff_ns;
  next_attempt_ns_ = 0;
  ++stats_.iterations_exported;
  return true;
}

void RedisExporter::fail(std::string what, std::int64_t now_ns) {
  ctx_.reset();
  stats_.last_error = std::move(what);
  next_attempt_ns_ = now_ns + backoff_ns_;
  backoff_ns_ = std::min(backoff_ns_ * 2, cfg_.max_backoff_ns);
}

bool RedisExporter::connect() {
  const timeval ctv = to_timeval(cfg_.connect_timeout_ms);
  std::unique_ptr<redisContext, ContextFree> c(
      target_.unix_path.empty()
          ? redisConnectWithTimeout(target_.host.c_str(), target_.port, ctv)
          : redisConnectUnixWithTimeout(target_.unix_path.c_str(), ctv));
  auto failed = [&](const std::string& what) {
    ++stats_.connect_failures;
    stats_.last_error = label_ + ": " + what;
    return false;
  };
  if (!c) return failed("connect: out of memory");
  if (c->err) return failed(std::string("connect: ") + c->errstr);
  if (redisSetTimeout(c.get(), to_timeval(cfg_.command_timeout_ms)) != REDIS_OK) {
    return failed(std::string("setting the timeout: ") + c->errstr);
  }
  auto command = [&](const char* what, Reply r) {
    if (!r) return failed(std::string(what) + " failed: " + c->errstr);
    if (r->type == REDIS_REPLY_ERROR) {
      return failed(std::string(what) + " failed: " + std::string(r->str, r->len));
    }
    return true;
  };
  if (!target_.password.empty()) {
    void* r = target_.user.empty()
                  ? redisCommand(c.get(), "AUTH %b", target_.password.data(),
                                 target_.password.size())
                  : redisCommand(c.get(), "AUTH %b %b", target_.user.data(), target_.user.size(),
                                 target_.password.data(), target_.password.size());
    if (!command("AUTH", Reply(static_cast<redisReply*>(r)))) return false;
  }
  if (target_.db != 0) {
    void* r = redisCommand(c.get(), "SELECT %d", target_.db);
    if (!command("SELECT", Reply(static_cast<redisReply*>(r)))) return false;
  }
  if (connected_once_) ++stats_.reconnects;
  connected_once_ = true;
  ctx_ = std::move(c);
  return true;
}

bool RedisExporter::write(const IterationExport& it) {
  redisContext* c = ctx_.get();
  std::size_t commands = 0;
  std::uint64_t keys = 0;
  std::string key;
  auto append_set = [&](const std::string& k, const std::string& v) {
    if (redisAppendCommand(c, "SET %b %b EX %d", k.data(), k.size(), v.data(), v.size(),
                           cfg_.ttl_s) != REDIS_OK) {
      return false;
    }
    ++commands;
    ++keys;
    return true;
  };
  bool ok = true;
  for (const KpiValue& kv : it.kpis) {
    if (!kv.present) continue;
    key.assign("shadow:latest:").append(kv.symbol).append(":").append(kv.name);
    if (!(ok = append_set(key, redis_value_text(kv.value)))) break;
  }
  if (ok) ok = append_set("shadow:latest:_run", redis_run_json(it));
  if (ok) {
    ok = redisAppendCommand(c, "PUBLISH %b %b", cfg_.channel.data(), cfg_.channel.size(),
                            it.iter_summary_json.data(), it.iter_summary_json.size()) == REDIS_OK;
    if (ok) ++commands;
  }
  if (!ok) {
    stats_.last_error = label_ + ": " + (c->err ? c->errstr : "appending a command failed");
    return false;
  }
  if (!read_replies(commands)) return false;
  stats_.keys_written += keys;
  ++stats_.messages_published;
  return true;
}

bool RedisExporter::read_replies(std::size_t commands) {
  redisContext* c = ctx_.get();
  // Read every reply (the first redisGetReply flushes the whole pipeline): one round trip.
  std::string first_error;
  for (std::size_t i = 0; i < commands; ++i) {
    void* raw = nullptr;
    if (redisGetReply(c, &raw) != REDIS_OK) {
      // errstr: "Server closed the connection", "Resource temporarily unavailable" (timeout)...
      stats_.last_error =
          label_ + ": " + (c->err && c->errstr[0] != '\0' ? c->errstr : "I/O error");
      return false;
    }
    Reply r(static_cast<redisReply*>(raw));
    if (r && r->type == REDIS_REPLY_ERROR && first_error.empty()) {
      first_error = std::string(r->str, r->len);
    }
  }
  if (!first_error.empty()) {
    stats_.last_error = label_ + ": " + first_error;
    return false;
  }
  return true;
}

std::string redis_dryrun_run_json(const DryRunExport& d) {
  std::string out = "{\"run_id\":";
  append_json_string(out, d.run_id);
  out += ",\"config_hash\":";
  append_json_string(out, d.config_hash);
  out += ",\"verdict\":";
  append_json_string(out, d.verdict());
  out += '}';
  return out;
}

bool RedisExporter::export_dryrun(const DryRunExport& d, std::int64_t now_ns) {
  try {
    SigpipeGuard guard;
    for (int tries = 0; tries < 2; ++tries) {
      const bool fresh = ctx_ == nullptr;
      if (fresh && !connect()) {
        fail(stats_.last_error, now_ns);
        break;
      }
      if (write_dryrun(d)) {
        backoff_ns_ = cfg_.min_backoff_ns;
        next_attempt_ns_ = 0;
        ++stats_.dryrun_exports;
        return true;
      }
      fail(stats_.last_error, now_ns);
      if (fresh) break;  // a new connection failed too: no second try
    }
  } catch (...) {  // allocation failure: still never throw
  }
  ++stats_.sink_drops;
  return false;
}

bool RedisExporter::write_dryrun(const DryRunExport& d) {
  redisContext* c = ctx_.get();
  std::size_t commands = 0;
  std::uint64_t keys = 0;
  bool ok = true;
  auto append = [&](int rc) {
    ok = ok && rc == REDIS_OK;
    if (ok) ++commands;
  };
  auto set = [&](const std::string& k, const std::string& v) {
    append(redisAppendCommand(c, "SET %b %b EX %d", k.data(), k.size(), v.data(), v.size(), cfg_.ttl_s));
    if (ok) ++keys;
  };
  std::string key;
  auto value = [&](const char* family, const DryRunKpiExport& k, const std::optional<double>& v) {
    key.assign("shadow:dryrun:").append(family).append(":").append(k.symbol).append(":").append(k.kpi);
    if (v) set(key, redis_value_text(*v));
    else append(redisAppendCommand(c, "DEL %b", key.data(), key.size()));  // null: no stale value
  };
  for (const DryRunKpiExport& k : d.kpis) {
    value("predicted", k, k.predicted);
    value("real", k, k.real);
    value("delta", k, k.delta);
  }
  set("shadow:dryrun:verdict", d.verdict());
  set("shadow:dryrun:_run", redis_dryrun_run_json(d));
  const std::string channel = cfg_.channel + ":dryrun";
  append(redisAppendCommand(c, "PUBLISH %b %b", channel.data(), channel.size(), d.message_json.data(),
                            d.message_json.size()));
  if (!ok) {
    stats_.last_error = label_ + ": " + (c->err ? c->errstr : "appending a command failed");
    return false;
  }
  if (!read_replies(commands)) return false;
  stats_.keys_written += keys;
  ++stats_.messages_published;
  return true;
}

}  // namespace shadow
