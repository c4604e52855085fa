#include "feed/depth_snapshot_fetcher.h"

#include <httplib.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <utility>

#include "core/clock.h"
#include "core/host_port.h"
#include "core/input_text.h"
#include "core/thread_affinity.h"
#include "feed/snapshot_backoff.h"

namespace shadow {

static_assert(kSnapshotPadding >= simdjson::SIMDJSON_PADDING,
              "snapshot bodies must carry simdjson's padding (the decoders read past the text)");

namespace {

constexpr std::int64_t kMsNs = 1'000'000;
constexpr std::int64_t kMaxRetryAfterNs = 3LL * 24 * 3600 * 1'000'000'000;  // longest ban: 3 days
constexpr std::size_t kInitialBufferBytes = 64 * 1024;
constexpr std::size_t kShownBodyBytes = 160;

bool is_https(std::string_view url) { return url.substr(0, 8) == "https://"; }

// The authority part of base_url, or "" with `problem` set.
std::string_view authority_of(std::string_view url, std::string& problem) {
  std::string_view rest;
  if (url.substr(0, 8) == "https://") rest = url.substr(8);
  else if (url.substr(0, 7) == "http://") rest = url.substr(7);
  else {
    problem = "base_url must start with https:// or http://";
    return {};
  }
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find_first_of("/?#") != std::string_view::npos) {
    problem = "base_url must be scheme://host[:port] without a path (the endpoint is added)";
    return {};
  }
  return rest;
}

// Retry-After in seconds (RFC 9110 §10.2.3 also allows an HTTP date: Binance sends seconds; a
// date, or no header, gives -1 and the exponential backoff applies).
std::int64_t retry_after_ns(const std::string& v) {
  std::int64_t s = -1;
  const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), s);
  if (ec != std::errc() || p != v.data() + v.size() || s < 0) return -1;
  return std::min(s, kMaxRetryAfterNs / 1'000'000'000) * 1'000'000'000;
}

std::string ms_text(std::int64_t ns) { return std::to_string(ns / kMsNs) + " ms"; }

}  // namespace

std::string check(const DepthSnapshotConfig& c) {
  std::string problem;
  if (!check_url_text(c.base_url, problem)) return "base_url has " + problem;
  const std::string_view auth = authority_of(c.base_url, problem);
  if (!problem.empty()) return problem + " (got '" + printable(c.base_url) + "')";
  HostPort hp;
  if (!split_host_port(auth, hp, problem)) return "base_url has " + problem;
  if (std::string why = check_symbol_list(c.symbols); !why.empty()) return "symbols: " + why;
  if (depth_weight(c.market, c.limit) == 0)
    return "limit " + std::to_string(c.limit) + " is not allowed for " +
           std::string(to_string(c.market)) + " (allowed: " +
           std::string(allowed_depth_limits(c.market)) + ")";
  if (!c.ca_file.empty() && c.insecure_skip_verify)
    return "ca_file and insecure_skip_verify exclude each other";
  if (!c.ca_file.empty() && ::access(c.ca_file.c_str(), R_OK) != 0)
    return "ca_file '" + printable(c.ca_file) + "' cannot be read";
  auto in = [](std::int64_t v, std::int64_t lo, std::int64_t hi) { return v >= lo && v <= hi; };
  if (!in(c.connect_timeout_ms, 1, 600'000))
    return "connect_timeout_ms " + std::to_string(c.connect_timeout_ms) + " (allowed: 1..600000)";
  if (!in(c.read_timeout_ms, 1, 600'000))
    return "read_timeout_ms " + std::to_string(c.read_timeout_ms) + " (allowed: 1..600000)";
  if (c.max_body_bytes < 4096 || c.max_body_bytes > (1u << 30))
    return "max_body_bytes " + std::to_string(c.max_body_bytes) + " (allowed: 4096..1073741824)";
  if (!in(c.min_interval_ms, 0, 3'600'000))
    return "min_interval_ms " + std::to_string(c.min_interval_ms) + " (allowed: 0..3600000)";
  const int venue = venue_weight_limit_1m(c.market);
  if (!in(c.weight_budget_1m, 0, venue))
    return "weight_budget_1m " + std::to_string(c.weight_budget_1m) + " (allowed: 0..." +
           std::to_string(venue) + ", 0 = 80% of " + std::to_string(venue) + ")";
  const int budget = c.weight_budget_1m == 0 ? venue * 4 / 5 : c.weight_budget_1m;
  if (depth_weight(c.market, c.limit) > budget)
    return "weight_budget_1m " + std::to_string(budget) + " is below one request's weight " +
           std::to_string(depth_weight(c.market, c.limit)) + " (limit " +
           std::to_string(c.limit) + ")";
  if (!in(c.backoff_initial_ms, 1, 3'600'000))
    return "backoff_initial_ms " + std::to_string(c.backoff_initial_ms) + " (allowed: 1..3600000)";
  if (!in(c.backoff_max_ms, c.backoff_initial_ms, 3'600'000))
    return "backoff_max_ms " + std::to_string(c.backoff_max_ms) + " (allowed: backoff_initial_ms.." +
           "3600000)";
  if (!in(c.ban_default_ms, 0, kMaxRetryAfterNs / kMsNs))
    return "ban_default_ms " + std::to_string(c.ban_default_ms) + " (allowed: 0..259200000)";
  if (!in(c.idle_poll_ms, 1, 1000))
    return "idle_poll_ms " + std::to_string(c.idle_poll_ms) + " (allowed: 1..1000)";
  if (c.buffers > 1024) return "buffers " + std::to_string(c.buffers) + " (allowed: 0..1024)";
  return {};
}

struct DepthSnapshotFetcher::Counters {
  std::atomic<std::uint64_t> requests{0}, ok{0}, http_errors{0}, throttled_429{0}, banned_418{0},
      network_errors{0}, tls_errors{0}, bad_bodies{0}, oversized{0}, bytes{0}, budget_waits{0};
  std::atomic<std::int64_t> used_weight_1m{-1};
  mutable std::mutex error_mu;
  std::string last_error;

  void set_error(std::string text) {
    std::lock_guard<std::mutex> lock(error_mu);
    last_error = std::move(text);
  }
};

// Everything only the worker thread touches, plus the client that stop() may cut off.
struct DepthSnapshotFetcher::Worker {
  struct Symbol {
    std::string target;           // "/api/v3/depth?symbol=BTCUSDT&limit=1000"
    std::int64_t next_allowed_ns = 0;
    SnapshotBackoff backoff;
  };
  std::vector<Symbol> symbols;
  int weight = 0;
  WeightBudget budget;
  SnapshotBackoff throttle_backoff;  // 429/418 without Retry-After
  std::int64_t blocked_until_ns = 0; // all requests paused until then (429/418)
  bool budget_holding = false;
  std::size_t next = 0;              // round-robin start
  simdjson::dom::parser parser;
  std::mutex client_mu;              // guards `client` between the worker and stop()
  std::unique_ptr<httplib::Client> client;

  explicit Worker(const DepthSnapshotConfig& c)
      : weight(depth_weight(c.market, c.limit)),
        budget(c.weight_budget_1m == 0 ? venue_weight_limit_1m(c.market) * 4 / 5
                                       : c.weight_budget_1m),
        throttle_backoff(c.backoff_initial_ms * kMsNs, c.backoff_max_ms * kMsNs) {
    symbols.reserve(c.symbols.size());
    for (const std::string& s : c.symbols)
      symbols.push_back({std::string(depth_path(c.market)) + "?symbol=" + s +
                             "&limit=" + std::to_string(c.limit),
                         0, SnapshotBackoff(c.backoff_initial_ms * kMsNs, c.backoff_max_ms * kMsNs)});
  }
};

DepthSnapshotFetcher::DepthSnapshotFetcher(DepthSnapshotConfig cfg)
    : cfg_(std::move(cfg)),
      handoff_(cfg_.buffers != 0 ? cfg_.buffers : cfg_.symbols.size() + 1, kInitialBufferBytes),
      counters_(std::make_unique<Counters>()) {
  if (std::string why = check(cfg_); !why.empty()) throw std::invalid_argument(why);
  if (cfg_.base_url.back() == '/') cfg_.base_url.pop_back();  // httplib wants scheme://host:port
  pending_ = std::make_unique<std::atomic<std::uint8_t>[]>(cfg_.symbols.size());
  for (std::size_t i = 0; i < cfg_.symbols.size(); ++i) pending_[i].store(0);
  worker_ = std::make_unique<Worker>(cfg_);
}

DepthSnapshotFetcher::~DepthSnapshotFetcher() { stop(); }

void DepthSnapshotFetcher::start() {
  if (thread_.joinable() || stop_.load()) return;
  if (is_https(cfg_.base_url) && cfg_.insecure_skip_verify)
    std::fprintf(stderr,
                 "WARNING: depth snapshots from %s: TLS certificate verification is OFF "
                 "(insecure_skip_verify): anyone on the path can serve forged books. Labs only.\n",
                 cfg_.base_url.c_str());
  thread_ = std::thread([this] { run(); });
}

void DepthSnapshotFetcher::stop() {
  {
    std::lock_guard<std::mutex> lock(wake_mu_);
    stop_.store(true);
  }
  wake_cv_.notify_all();
  {
    std::lock_guard<std::mutex> lock(worker_->client_mu);
    if (worker_->client) worker_->client->stop();  // cuts off an exchange in flight
  }
  if (thread_.joinable()) thread_.join();
}

bool DepthSnapshotFetcher::request(std::uint32_t symbol_index) noexcept {
  if (symbol_index >= cfg_.symbols.size()) return false;
  pending_[symbol_index].store(1, std::memory_order_release);
  return true;
}

const DepthSnapshot* DepthSnapshotFetcher::take() noexcept { return handoff_.take(); }

void DepthSnapshotFetcher::release(const DepthSnapshot* s) noexcept { handoff_.release(s); }

DepthSnapshotStats DepthSnapshotFetcher::stats() const noexcept {
  const Counters& c = *counters_;
  constexpr auto r = std::memory_order_acquire;  // pairs with the release after set_error()
  DepthSnapshotStats s;
  s.requests = c.requests.load(r);
  s.ok = c.ok.load(r);
  s.http_errors = c.http_errors.load(r);
  s.throttled_429 = c.throttled_429.load(r);
  s.banned_418 = c.banned_418.load(r);
  s.network_errors = c.network_errors.load(r);
  s.tls_errors = c.tls_errors.load(r);
  s.bad_bodies = c.bad_bodies.load(r);
  s.oversized = c.oversized.load(r);
  s.bytes = c.bytes.load(r);
  s.budget_waits = c.budget_waits.load(r);
  s.used_weight_1m = c.used_weight_1m.load(r);
  return s;
}

std::string DepthSnapshotFetcher::last_error() const {
  std::lock_guard<std::mutex> lock(counters_->error_mu);
  return counters_->last_error;
}

void DepthSnapshotFetcher::sleep_until(std::int64_t deadline_mono_ns) {
  const std::int64_t d = deadline_mono_ns - monotonic_ns();
  if (d <= 0) return;
  std::unique_lock<std::mutex> lock(wake_mu_);
  wake_cv_.wait_for(lock, std::chrono::nanoseconds(d), [this] { return stop_.load(); });
}

void DepthSnapshotFetcher::run() {
  name_current_thread("shadow-snapshot");
  Worker& w = *worker_;
  {
    auto client = std::make_unique<httplib::Client>(cfg_.base_url);
    if (!client->is_valid()) {  // check() accepted it, httplib's URL parser did not
      counters_->set_error("base_url " + cfg_.base_url + ": not usable by the HTTP client");
      return;
    }
    client->set_connection_timeout(cfg_.connect_timeout_ms / 1000,
                                   (cfg_.connect_timeout_ms % 1000) * 1000);
    client->set_read_timeout(cfg_.read_timeout_ms / 1000, (cfg_.read_timeout_ms % 1000) * 1000);
    client->set_write_timeout(cfg_.read_timeout_ms / 1000, (cfg_.read_timeout_ms % 1000) * 1000);
    client->set_keep_alive(true);
    client->set_follow_location(false);  // a redirect is an error: the snapshot comes from here
    if (is_https(cfg_.base_url)) {
      client->enable_server_certificate_verification(!cfg_.insecure_skip_verify);
      if (!cfg_.ca_file.empty()) client->set_ca_cert_path(cfg_.ca_file);
      if (SSL_CTX* ctx = client->ssl_context()) SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    }
    std::lock_guard<std::mutex> lock(w.client_mu);
    w.client = std::move(client);
  }
  const std::size_t n = cfg_.symbols.size();
  const std::int64_t poll_ns = cfg_.idle_poll_ms * kMsNs;
  while (!stop_.load(std::memory_order_acquire)) {
    const std::int64_t now = monotonic_ns();
    if (now < w.blocked_until_ns) {  // 429/418: the whole IP waits
      sleep_until(w.blocked_until_ns);
      continue;
    }
    std::int64_t wake = now + poll_ns;
    std::size_t pick = n;
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t i = (w.next + k) % n;
      if (pending_[i].load(std::memory_order_acquire) == 0) continue;
      if (now >= w.symbols[i].next_allowed_ns) {
        pick = i;
        break;
      }
      wake = std::min(wake, w.symbols[i].next_allowed_ns);
    }
    if (pick == n) {
      sleep_until(wake);
      continue;
    }
    if (const std::int64_t hold = w.budget.wait_ns(realtime_ns(), w.weight); hold > 0) {
      if (!w.budget_holding) counters_->budget_waits.fetch_add(1, std::memory_order_relaxed);
      w.budget_holding = true;
      sleep_until(now + std::min(hold, poll_ns * 20));
      continue;
    }
    w.budget_holding = false;
    SnapshotBuffer* buf = handoff_.acquire();
    if (buf == nullptr) {  // the feed thread holds every buffer
      sleep_until(now + poll_ns);
      continue;
    }
    w.next = (pick + 1) % n;
    pending_[pick].store(0, std::memory_order_release);
    bool ok = false;
    try {
      ok = fetch(static_cast<std::uint32_t>(pick), buf);
    } catch (const std::exception& e) {  // out of memory growing a buffer, or from httplib
      counters_->set_error("GET " + cfg_.base_url + w.symbols[pick].target + ": " + e.what());
      w.symbols[pick].next_allowed_ns = monotonic_ns() + w.symbols[pick].backoff.next_delay_ns();
    }
    if (ok) {
      handoff_.publish(buf);
    } else {
      handoff_.recycle(buf);
      if (!stop_.load()) pending_[pick].store(1, std::memory_order_release);  // retry later
    }
  }
  std::lock_guard<std::mutex> lock(w.client_mu);
  w.client.reset();
}

bool DepthSnapshotFetcher::fetch(std::uint32_t index, SnapshotBuffer* buf) {
  Worker& w = *worker_;
  Worker::Symbol& sym = w.symbols[index];
  Counters& c = *counters_;
  const std::int64_t start = monotonic_ns();
  sym.next_allowed_ns = start + cfg_.min_interval_ms * kMsNs;
  c.requests.fetch_add(1, std::memory_order_relaxed);
  w.budget.on_sent(realtime_ns(), w.weight);

  int status = 0;
  std::string retry_after, used_weight;
  bool too_big = false;
  const auto on_head = [&](const httplib::Response& r) {
    status = r.status;
    retry_after = r.get_header_value("Retry-After");
    used_weight = r.get_header_value("X-MBX-USED-WEIGHT-1M");
    return true;
  };
  const auto on_body = [&](const char* d, std::size_t len) {
    if (stop_.load(std::memory_order_relaxed)) return false;
    c.bytes.fetch_add(len, std::memory_order_relaxed);
    if (!buf->append(d, len, cfg_.max_body_bytes)) {
      too_big = true;
      return false;
    }
    return true;
  };
  httplib::Result res = w.client->Get(sym.target, httplib::Headers{}, on_head, on_body);
  const std::int64_t done = monotonic_ns();
  if (stop_.load()) return false;

  if (!used_weight.empty()) {
    std::int64_t used = 0;
    const char* end = used_weight.data() + used_weight.size();
    const auto [p, ec] = std::from_chars(used_weight.data(), end, used);
    if (ec == std::errc() && p == end && used >= 0) {
      w.budget.on_used_weight(realtime_ns(), used);
      c.used_weight_1m.store(used, std::memory_order_relaxed);
    }
  }
  const std::string what = "GET " + cfg_.base_url + sym.target + ": ";
  // The error text is set before its counter moves (release; stats() loads acquire), so a
  // reader that sees the count also sees the text.
  const auto retry_symbol = [&](std::atomic<std::uint64_t>& counter, std::string why) {
    const std::int64_t d = sym.backoff.next_delay_ns();
    sym.next_allowed_ns = std::max(sym.next_allowed_ns, done + d);
    c.set_error(what + why + "; retry in " + ms_text(d));
    counter.fetch_add(1, std::memory_order_release);
    return false;
  };

  if (too_big) {
    return retry_symbol(c.oversized, "answer longer than max_body_bytes " +
                                         std::to_string(cfg_.max_body_bytes) + " (not kept)");
  }
  if (!res) {
    const httplib::Error e = res.error();
    if (e == httplib::Error::SSLConnection || e == httplib::Error::SSLLoadingCerts ||
        e == httplib::Error::SSLServerVerification) {
      return retry_symbol(c.tls_errors, tls_problem(static_cast<int>(e)));
    }
    ERR_clear_error();
    return retry_symbol(c.network_errors, "network error (" + httplib::to_string(e) + ")");
  }
  buf->seal();
  const std::string body_shown = printable(buf->json(), kShownBodyBytes);
  if (status == 429 || status == 418) {
    std::int64_t ra = retry_after_ns(retry_after);
    const bool given = ra >= 0;
    if (!given && status == 418) ra = cfg_.ban_default_ms * kMsNs;
    const std::int64_t d = w.throttle_backoff.next_delay_ns(ra);
    w.blocked_until_ns = std::max(w.blocked_until_ns, done + d);
    c.set_error(what + "HTTP " + std::to_string(status) +
                (status == 429 ? " (rate limited)" : " (IP banned)") +
                (given ? ", Retry-After " + retry_after + " s" : ", no Retry-After") +
                ", all requests paused " + ms_text(d) + ": " + body_shown);
    (status == 429 ? c.throttled_429 : c.banned_418).fetch_add(1, std::memory_order_release);
    return false;
  }
  if (status != 200) {
    return retry_symbol(c.http_errors, "HTTP " + std::to_string(status) + ": " + body_shown);
  }
  simdjson::dom::element doc;
  std::uint64_t last_update_id = 0;
  simdjson::dom::array bids, asks;
  if (w.parser.parse(buf->data, buf->size, false).get(doc) != simdjson::SUCCESS ||
      doc["lastUpdateId"].get_uint64().get(last_update_id) != simdjson::SUCCESS ||
      doc["bids"].get_array().get(bids) != simdjson::SUCCESS ||
      doc["asks"].get_array().get(asks) != simdjson::SUCCESS) {
    return retry_symbol(c.bad_bodies,
                        "answer is not a depth snapshot (no lastUpdateId, bids, asks): " +
                            body_shown);
  }
  sym.backoff.reset();
  w.throttle_backoff.reset();
  buf->symbol_index = index;
  buf->last_update_id = last_update_id;
  buf->request_mono_ns = start;
  buf->recv_mono_ns = done;
  buf->recv_realtime_ns = realtime_ns();
  c.ok.fetch_add(1, std::memory_order_relaxed);
  return true;
}

std::string DepthSnapshotFetcher::tls_problem(int error) const {
  const auto e = static_cast<httplib::Error>(error);
  std::string why;
  if (e == httplib::Error::SSLLoadingCerts) {
    why = "TLS: cannot load the CA certificates (" +
          (cfg_.ca_file.empty() ? std::string("system store") : "ca_file " + cfg_.ca_file) + ")";
  } else if (e == httplib::Error::SSLServerVerification) {
    const long v = worker_->client->get_openssl_verify_result();
    if (v != X509_V_OK) {
      why = "TLS certificate verification failed: " +
            std::string(X509_verify_cert_error_string(v)) + " (X509 error " + std::to_string(v) +
            ")" + (cfg_.ca_file.empty() ? "; a private CA needs ca_file" : "");
    } else {
      why = "TLS certificate does not match the host of " + cfg_.base_url;
    }
  } else {
    char text[256] = "no detail";
    if (const unsigned long code = ERR_peek_last_error(); code != 0)
      ERR_error_string_n(code, text, sizeof text);
    why = std::string("TLS handshake failed: ") + text;
  }
  ERR_clear_error();
  return why;
}

}  // namespace shadow
