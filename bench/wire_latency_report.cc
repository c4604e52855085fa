#include "bench/wire_latency_report.h"

#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

namespace shadow::bench {
namespace {

std::string us(std::int64_t ns) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f", static_cast<double>(ns) / 1000.0);
  return b;
}

void print_summary_row(const char* name, const Summary& s, bool have, std::size_t rounds = 0) {
  if (!have || s.n == 0) {
    std::printf("  %-34s %10s %10s %10s %10s\n", name, "n/a", "n/a", "n/a", "n/a");
    return;
  }
  std::printf("  %-34s %10s %10s %10s %10s", name, us(s.p50).c_str(), us(s.p99).c_str(),
              us(s.p999).c_str(), us(s.max).c_str());
  if (rounds > 0) std::printf(" %8zu", rounds);
  std::printf("\n");
}

void json_summary(FILE* f, const char* name, const Summary& s, bool have, bool last) {
  if (!have || s.n == 0) {
    std::fprintf(f, "      \"%s\": null%s\n", name, last ? "" : ",");
    return;
  }
  std::fprintf(f,
               "      \"%s\": {\"n\": %zu, \"p50_ns\": %" PRId64 ", \"p99_ns\": %" PRId64
               ", \"p999_ns\": %" PRId64 ", \"max_ns\": %" PRId64 "}%s\n",
               name, s.n, s.p50, s.p99, s.p999, s.max, last ? "" : ",");
}

std::string json_escape(std::string_view s) {
  std::string out;
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    if (static_cast<unsigned char>(ch) < 0x20) continue;
    out += ch;
  }
  return out;
}

// "\"TLSv1.3\"" or null.
std::string json_string_or_null(std::string_view s) {
  if (s.empty()) return "null";
  std::string out = "\"";
  out += json_escape(s);
  out += '"';
  return out;
}

}  // namespace

void print_pingpong(const Options& o, const std::vector<PingPongRow>& pp) {
  std::printf("\nkernel floor: loopback TCP ping-pong, TCP_NODELAY, one-way = RTT/2, up to %zu "
              "round trips or 10 s per case (us)\n",
              o.pingpong_rounds);
  std::printf("  %-34s %10s %10s %10s %10s %8s\n", "receive side, message size", "p50", "p99", "p99.9",
              "max", "rounds");
  for (const PingPongRow& r : pp) {
    char name[96];
    std::snprintf(name, sizeof name, "%s%s, %zu B", std::string(to_string(r.kind)).c_str(),
                  r.kind == PingPongKind::kUring && o.sqpoll ? "+SQPOLL" : "", r.size);
    if (!r.error.empty()) {
      std::printf("  %-34s error: %s\n", name, r.error.c_str());
    } else {
      print_summary_row(name, r.s, true, r.s.n);
    }
  }
}

// "ws://", "wss:// (TLSv1.3 TLS_AES_256_GCM_SHA384)", "wss-tls12 (TLSv1.2 ...)".
std::string transport_name(const RateResult& r) {
  std::string s = r.scheme == "ws" || r.scheme == "wss" ? r.scheme + "://" : r.scheme;
  if (!r.tls_version.empty()) s += " (" + r.tls_version + " " + r.tls_cipher + ")";
  return s;
}

void print_rate(const Options& o, const RateResult& r) {
  std::printf("\nrate %.0f events/s over %s offered: %.0f msgs/s received, exchange sent %s "
              "msgs/s; %zu messages measured over %.1f s after %.1f s warm-up (%" PRIu64
              " on the connection)\n",
              r.offered, transport_name(r).c_str(), r.achieved_msgs_per_s,
              r.have_send_log ? std::to_string(static_cast<long long>(r.exchange_msgs_per_s)).c_str() : "n/a",
              r.messages, o.seconds, o.warmup, r.total_messages);
  std::printf("  %-34s %10s %10s %10s %10s\n", "latency (us)", "p50", "p99", "p99.9", "max");
  print_summary_row("intended send -> decoded", r.intended_to_decoded, r.have_send_log);
  print_summary_row("sent -> decoded (wire-to-decoded)", r.sent_to_decoded, r.have_send_log);
  print_summary_row("  sent -> reaped (kernel)", r.sent_to_reaped, r.have_send_log);
  print_summary_row("  reaped -> decoded (in process)", r.reaped_to_decoded, true);
  print_summary_row("intended -> sent (exchange lag)", r.intended_to_sent, r.have_send_log);
  const double m = r.messages > 0 ? static_cast<double>(r.messages) : 1.0;
  std::printf("  reader syscalls: io_uring_enter %" PRIu64 " (send requests %" PRIu64 " ride on them) = %.5f per message; "
              "CQEs %" PRIu64 " (%.3f per message), re-arms %" PRIu64 ", ENOBUFS %" PRIu64 "\n",
              r.enter_calls, r.send_calls,
              static_cast<double>(r.enter_calls) / m, r.completions,
              static_cast<double>(r.completions) / m, r.rearms, r.no_buffers);
  std::printf("  reader context switches: %ld voluntary, %ld involuntary; gaps %" PRIu64
              ", decode errors %" PRIu64 ", unmatched %" PRIu64 ", lost %" PRIu64
              ", record overflow %" PRIu64 "; exchange: %s\n",
              r.vcsw, r.ivcsw, r.gaps, r.decode_errors, r.unmatched, r.lost, r.overflow,
              r.exchange_exit.empty() ? "n/a" : r.exchange_exit.c_str());
  if (!r.ok) std::printf("  FAILED: %s\n", r.error.c_str());
  std::fflush(stdout);
}

void print_scheme_table(const Options& o, const std::vector<RateResult>& results) {
  (void)o;
  std::printf("\nby scheme (us): intended send -> decoded | sent -> decoded (wire-to-decoded)\n");
  std::printf("  %9s %-10s %-8s %8s %8s %8s %9s | %8s %8s %8s %9s\n", "rate", "scheme", "TLS",
              "p50", "p99", "p99.9", "max", "p50", "p99", "p99.9", "max");
  for (const RateResult& r : results) {
    const Summary& a = r.intended_to_decoded;
    const Summary& b = r.sent_to_decoded;
    std::printf("  %9.0f %-10s %-8s", r.offered, r.scheme.c_str(),
                r.tls_version.empty() ? "-" : r.tls_version.c_str());
    if (!r.ok || !r.have_send_log || a.n == 0) {
      std::printf(" %s\n", r.ok ? "n/a (no send log)" : ("FAILED: " + r.error).c_str());
      continue;
    }
    std::printf(" %8s %8s %8s %9s | %8s %8s %8s %9s\n", us(a.p50).c_str(), us(a.p99).c_str(),
                us(a.p999).c_str(), us(a.max).c_str(), us(b.p50).c_str(), us(b.p99).c_str(),
                us(b.p999).c_str(), us(b.max).c_str());
  }
  std::fflush(stdout);
}

bool write_json(const Options& o, const ExchangeFeatures& feat, Placement cpus,
                const std::vector<PingPongRow>& pp, const std::vector<RateResult>& results) {
  FILE* f = std::fopen(o.json.c_str(), "w");
  if (f == nullptr) {
    std::fprintf(stderr, "wire-latency: cannot write %s: %s\n", o.json.c_str(), std::strerror(errno));
    return false;
  }
  std::string schemes;
  for (const std::string& sc : o.schemes) {
    if (!schemes.empty()) schemes += ", ";
    schemes += json_string_or_null(sc);
  }
  std::fprintf(f, "{\n  \"options\": {\"schemes\": [%s], \"seconds\": %g, \"warmup\": %g, \"symbol\": \"%s\", "
               "\"sqpoll\": %s, \"busy_poll\": %s, \"exchange_cpu\": %d, \"reader_cpu\": %d, "
               "\"exchange_batch\": %s, \"exchange_busy_poll\": %s, \"send_log\": %s},\n",
               schemes.c_str(), o.seconds, o.warmup, o.symbol.c_str(), o.sqpoll ? "true" : "false",
               o.busy_poll ? "true" : "false", cpus.exchange_cpu, cpus.reader_cpu, feat.batch ? "true" : "false",
               feat.busy_poll ? "true" : "false", feat.send_log ? "true" : "false");
  std::fprintf(f, "  \"pingpong\": [\n");
  for (std::size_t i = 0; i < pp.size(); ++i) {
    const PingPongRow& r = pp[i];
    std::fprintf(f, "    {\"receive\": \"%s\", \"size\": %zu, ", std::string(to_string(r.kind)).c_str(), r.size);
    if (!r.error.empty()) {
      std::fprintf(f, "\"error\": \"%s\"}", json_escape(r.error).c_str());
    } else {
      std::fprintf(f, "\"one_way\": {\"n\": %zu, \"p50_ns\": %" PRId64 ", \"p99_ns\": %" PRId64
                   ", \"p999_ns\": %" PRId64 ", \"max_ns\": %" PRId64 "}}", r.s.n, r.s.p50, r.s.p99, r.s.p999, r.s.max);
    }
    std::fprintf(f, "%s\n", i + 1 < pp.size() ? "," : "");
  }
  std::fprintf(f, "  ],\n  \"rates\": [\n");
  for (std::size_t i = 0; i < results.size(); ++i) {
    const RateResult& r = results[i];
    const double m = r.messages > 0 ? static_cast<double>(r.messages) : 1.0;
    std::fprintf(f, "    {\n      \"offered_events_per_s\": %.0f, \"scheme\": \"%s\", \"tls_version\": %s, "
                 "\"tls_cipher\": %s, \"ok\": %s, \"error\": \"%s\",\n",
                 r.offered, json_escape(r.scheme).c_str(), json_string_or_null(r.tls_version).c_str(),
                 json_string_or_null(r.tls_cipher).c_str(), r.ok ? "true" : "false",
                 json_escape(r.error).c_str());
    std::fprintf(f, "      \"messages\": %zu, \"connection_messages\": %" PRIu64
                 ", \"received_msgs_per_s\": %.1f, \"exchange_sent_msgs_per_s\": %.1f,\n",
                 r.messages, r.total_messages, r.achieved_msgs_per_s, r.exchange_msgs_per_s);
    std::fprintf(f, "      \"gaps\": %" PRIu64 ", \"decode_errors\": %" PRIu64 ", \"unmatched\": %" PRIu64
                 ", \"lost\": %" PRIu64 ", \"record_overflow\": %" PRIu64 ", \"exchange_exit\": \"%s\",\n",
                 r.gaps, r.decode_errors, r.unmatched, r.lost, r.overflow, json_escape(r.exchange_exit).c_str());
    std::fprintf(f, "      \"syscalls\": {\"io_uring_enter\": %" PRIu64 ", \"send_requests\": %" PRIu64
                 ", \"per_message\": %.6f, \"cqes\": %" PRIu64 ", \"rearms\": %" PRIu64
                 ", \"enobufs\": %" PRIu64 ", \"voluntary_ctx_switches\": %ld, \"involuntary_ctx_switches\": %ld},\n",
                 r.enter_calls, r.send_calls, static_cast<double>(r.enter_calls) / m,
                 r.completions, r.rearms, r.no_buffers, r.vcsw, r.ivcsw);
    json_summary(f, "intended_to_decoded", r.intended_to_decoded, r.have_send_log, false);
    json_summary(f, "sent_to_decoded", r.sent_to_decoded, r.have_send_log, false);
    json_summary(f, "sent_to_reaped", r.sent_to_reaped, r.have_send_log, false);
    json_summary(f, "reaped_to_decoded", r.reaped_to_decoded, true, false);
    json_summary(f, "intended_to_sent", r.intended_to_sent, r.have_send_log, true);
    std::fprintf(f, "    }%s\n", i + 1 < results.size() ? "," : "");
  }
  std::fprintf(f, "  ]\n}\n");
  std::fclose(f);
  return true;
}

}  // namespace shadow::bench
