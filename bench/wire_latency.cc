// wire-latency: the end-to-end latency harness of the live feed (docs/PERFORMANCE.md, "Live
// feed: wire-to-decoded latency and syscalls per message").
//
// One run measures, side by side:
//   1. the kernel floor: a loopback TCP ping-pong in this process (bench/tcp_pingpong.h),
//      one-way = RTT / 2, at 64 B and at the size of a Bybit delta, with blocking recv, with
//      busy-polled recv, and with our UringReader busy-polling its completion queue;
//   2. for each rate and each scheme (--schemes ws,wss: the same load over ws:// and wss://,
//      one after the other, so TLS's cost is read off one run): shadow-exchange as a child
//      process (with --tls-cert/--tls-key for wss://) publishing orderbook.50 at a
//      constant rate (`--batch 1`: every order-flow event is its own message; `--busy-poll`;
//      `--send-log`: intended and actual send time per message), our WsClient -> BybitDecoder
//      -> SyncedBook<FlatBook> on this thread, and per message the time it was decoded and
//      applied. Joined by update id u with the exchange's send log, that gives
//        intended -> decoded   the headline: from the scheduled send time, so a stall anywhere
//                              (exchange, kernel, us) is counted, never hidden (coordinated
//                              omission, DESIGN.md "Latency")
//        sent -> decoded       wire-to-decoded: from the exchange's send(2) return
//        sent -> reaped        the kernel's part (compare with the ping-pong floor)
//        reaped -> decoded     in process: deframe + decode + book apply (DESIGN.md's
//                              wire-to-decision minus the quoting step)
//        intended -> sent      how late the exchange itself was
//      plus reader syscalls per message (UringReader's io_uring_enter and send counts over the
//      measured window) and the thread's context switches (getrusage(RUSAGE_THREAD), the same
//      counters as /proc/self/task/<tid>/status).
//
// The exchange runs pinned to the first allowed CPU, this thread to the second (the echo
// thread of the ping-pong to the first). Nothing on the measured path allocates: records go to
// an array sized and touched before the exchange starts.
//
// Files: wire_latency_options (command line), rate_run (one rate: the exchange child and the
// feed path), send_log (intended-send bookkeeping), latency_summary (percentiles),
// wire_latency_report (tables and JSON), tcp_pingpong (the kernel floor); this file runs them.
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "bench/latency_summary.h"
#include "bench/rate_run.h"
#include "bench/tcp_pingpong.h"
#include "bench/wire_latency_options.h"
#include "bench/wire_latency_report.h"
#include "core/thread_affinity.h"

namespace {

using namespace shadow;
using namespace shadow::bench;

std::vector<int> allowed_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int i = 0; i < CPU_SETSIZE; ++i) {
      if (CPU_ISSET(i, &set)) cpus.push_back(i);
    }
  }
  return cpus;
}

// Makes the wss:// certificates with tests/support/tls_certs.py (python3-cryptography) in a
// fresh temporary directory. Empty + `error` on failure.
std::string make_cert_dir(std::string& error) {
  char tmpl[] = "/tmp/wire-latency-tls-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    error = std::string("mkdtemp: ") + std::strerror(errno);
    return {};
  }
  const std::string cmd =
      std::string("/usr/bin/python3 '") + SHADOW_TLS_CERTS_SCRIPT + "' " + tmpl + " >/dev/null";
  if (std::system(cmd.c_str()) != 0) {
    std::error_code ec;
    std::filesystem::remove_all(tmpl, ec);
    error = "'" + cmd + "' failed (it needs /usr/bin/python3 with python3-cryptography, "
            "tools/install-deps); or pass --tls-dir DIR with ca.pem, localhost.pem, localhost.key";
    return {};
  }
  return tmpl;
}

Transport transport(const std::string& scheme, const std::string& tls_dir) {
  Transport t;
  t.scheme = scheme;
  t.tls = scheme != "ws";
  t.max_version = scheme == "wss-tls12" ? 12 : 13;
  t.tls_dir = tls_dir;
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse_options(argc, argv);
  ::signal(SIGPIPE, SIG_IGN);

  if (::access(o.exchange.c_str(), X_OK) != 0) {
    std::fprintf(stderr, "wire-latency: the exchange binary %s is not executable: %s\n",
                 o.exchange.c_str(), std::strerror(errno));
    return 1;
  }
  const ExchangeFeatures feat = detect_exchange_features(o.exchange);
  if (!feat.batch || !feat.busy_poll || !feat.send_log) {
    std::fprintf(stderr,
                 "wire-latency: warning: %s lacks%s%s%s; those figures are n/a or differ "
                 "(see its --help)\n",
                 o.exchange.c_str(), feat.batch ? "" : " --batch", feat.busy_poll ? "" : " --busy-poll",
                 feat.send_log ? "" : " --send-log");
  }

  // wss:// needs an exchange with --tls-cert and certificates naming localhost.
  const bool want_tls = std::any_of(o.schemes.begin(), o.schemes.end(),
                                    [](const std::string& s) { return s != "ws"; });
  std::string tls_dir = o.tls_dir, made_dir;
  if (want_tls) {
    if (!feat.tls) {
      std::fprintf(stderr, "wire-latency: %s has no --tls-cert (see its --help): wss:// cannot "
                   "be measured with it\n", o.exchange.c_str());
      return 1;
    }
    if (tls_dir.empty()) {
      std::string err;
      made_dir = tls_dir = make_cert_dir(err);
      if (tls_dir.empty()) {
        std::fprintf(stderr, "wire-latency: cannot make the wss:// certificates: %s\n", err.c_str());
        return 1;
      }
    }
    for (const char* f : {"ca.pem", "localhost.pem", "localhost.key"}) {
      if (::access((tls_dir + "/" + f).c_str(), R_OK) != 0) {
        std::fprintf(stderr, "wire-latency: --tls-dir %s: cannot read %s: %s\n", tls_dir.c_str(), f,
                     std::strerror(errno));
        return 1;
      }
    }
  }

  // Exchange and ping-pong echo on the first allowed CPU, this (reader) thread on the second.
  const std::vector<int> cpus = allowed_cpus();
  const int other_cpu = cpus.size() >= 2 ? cpus[0] : -1;
  const int reader_cpu = cpus.size() >= 2 ? cpus[1] : -1;
  if (reader_cpu >= 0) {
    pin_current_thread(reader_cpu);
  } else {
    std::fprintf(stderr,
                 "wire-latency: warning: only one CPU allowed: exchange and reader share it, "
                 "busy-polling figures are meaningless\n");
  }
  name_current_thread("wire-reader");

  std::printf("wire-latency: exchange %s (--batch %s, --busy-poll %s, --send-log %s)\n",
              o.exchange.c_str(), feat.batch ? "1" : "n/a", feat.busy_poll ? "on" : "n/a",
              feat.send_log ? "on" : "n/a");
  std::printf("wire-latency: reader %s%s; exchange/echo pinned to CPU %d, reader to CPU %d\n",
              o.busy_poll ? "busy-polls the CQ" : "blocks in io_uring_enter (1 ms)",
              o.sqpoll ? " + SQPOLL" : "", other_cpu, reader_cpu);

  // 1. The kernel floor.
  std::vector<PingPongRow> pp;
  if (o.pingpong) {
    const std::size_t warm = std::max<std::size_t>(1000, o.pingpong_rounds / 10);
    for (const std::size_t size : {std::size_t{64}, std::size_t{400}}) {
      for (const auto kind : {PingPongKind::kBlocking, PingPongKind::kBusy,
                              PingPongKind::kUring}) {
        PingPongResult r = run_tcp_pingpong(kind, size, o.pingpong_rounds, warm, other_cpu, o.sqpoll);
        PingPongRow row{kind, size, summarize(r.one_way_ns), r.error};
        pp.push_back(row);
      }
    }
    print_pingpong(o, pp);
  }

  // 2. The live feed, one exchange per rate and scheme.
  char tmpl[] = "/tmp/wire-latency-sendlog-XXXXXX";
  const int tfd = mkstemp(tmpl);
  if (tfd >= 0) ::close(tfd);
  const std::string send_log = tmpl;
  std::vector<RateResult> results;
  bool all_ok = true;
  for (const double rate : o.rates) {
    for (const std::string& scheme : o.schemes) {
      RateResult r = run_rate(o, rate, transport(scheme, tls_dir), feat, other_cpu, send_log);
      all_ok = all_ok && r.ok;
      print_rate(o, r);
      results.push_back(std::move(r));
    }
  }
  ::unlink(send_log.c_str());
  if (!made_dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(made_dir, ec);
  }
  if (o.schemes.size() > 1) print_scheme_table(o, results);

  if (!o.json.empty() && !write_json(o, feat, Placement{other_cpu, reader_cpu}, pp, results)) {
    return 1;
  }
  for (const RateResult& r : results) {
    if (!r.ok) {
      std::fprintf(stderr, "wire-latency: rate %.0f over %s:// failed: %s\n", r.offered,
                   r.scheme == "ws" ? "ws" : "wss", r.error.c_str());
    }
  }
  return all_ok ? 0 : 1;
}
