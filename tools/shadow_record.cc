// shadow-record: records a venue's WebSocket stream into a capture file, optionally tracing
// the books on the way. Reads the flags into RecordOptions and records with run_recorder()
// (pipeline/recorder.h).
//
//   shadow-record --url ws://HOST:PORT/PATH --subscribe TOPIC[,TOPIC...] --out CAPTURE
//                 [--book-trace FILE] [--duration S] [--protocol auto|bybit|binance]
//                 [--ping-interval S] [--max-errors N] [--reconnect] [--heartbeat-timeout S]
//
// The connection is a FeedSession (feed/feed_session.h): Bybit heartbeat, and with --reconnect
// every disconnect is logged with its reason and retried with jittered exponential backoff;
// the subscriptions are re-sent, the books invalidated until their next snapshot, and a book
// gap is repaired by resubscribing (a fresh snapshot). The capture holds the messages as
// received, so replaying it gives the same book trace.
//
// Stops after --duration seconds, on SIGINT/SIGTERM, or when the server closes (without
// --reconnect); then closes the connection (close 1000), flushes and fsyncs the files, prints a
// summary and exits 0.
// Exit 1: the connection or handshake failed (the message names the URL), or a file could not
// be created/written. Exit 2: usage error. Malformed messages are recorded as received (the
// capture is the raw truth) and counted as decode errors.
#include <string>

#include "feed/openssl_block_cache.h"
#include "core/cli.h"
#include "core/input_text.h"
#include <unistd.h>

#include "core/bounded_file.h"
#include "core/signals.h"
#include "feed/feed_session.h"
#include "feed/websocket_handshake.h"
#include "pipeline/recorder.h"


// OpenSSL's small TLS allocations come from per-thread free lists, installed before any shared
// library starts OpenSSL: the TLS steady state allocates nothing (feed/openssl_block_cache.h).
SHADOW_OPENSSL_BLOCK_CACHE_PREINIT()

namespace {

using namespace shadow;

constexpr const char* kUsage =
    "usage: shadow-record --url ws[s]://HOST:PORT/PATH --subscribe TOPIC[,TOPIC...] --out CAPTURE\n"
    "                     [--book-trace FILE] [--duration S] [--protocol auto|bybit|binance]\n"
    "                     [--ping-interval S] [--max-errors N] [--reconnect]\n"
    "                     [--heartbeat-timeout S] [--ca-file FILE] [--insecure-skip-verify]\n"
    "                     [--tls-max-version 12|13]\n"
    "\n"
    "Records a WebSocket market-data stream as a capture (`<local_receive_ns> <raw json>` per\n"
    "line, readable by shadow-replay) and optionally writes the book trace on the way.\n"
    "  --url URL             ws:// or wss:// endpoint (Bybit v5 public, Binance /ws or\n"
    "                        /stream?streams=); wss:// verifies the certificate and host name\n"
    "  --subscribe TOPICS    comma-separated topics/streams to subscribe to; Bybit sends\n"
    "                        {\"op\":\"subscribe\",\"args\":[...]}, Binance\n"
    "                        {\"method\":\"SUBSCRIBE\",\"params\":[...],\"id\":1}. May be omitted for\n"
    "                        Binance when the URL names the streams (/ws/S or ?streams=a/b)\n"
    "  --out CAPTURE         capture file to create ('-' is standard output)\n"
    "  --book-trace FILE     also write the book trace shadow-replay --book-trace would\n"
    "  --duration S          stop after S seconds (default: until the server closes or a signal)\n"
    "  --protocol P          venue; auto (default) tells it from the URL (host or path)\n"
    "  --ping-interval S     Bybit application heartbeat {\"op\":\"ping\"} period (default 20;\n"
    "                        0 = never). Binance needs none: it pings, WsClient answers\n"
    "  --max-errors N        print at most N decode errors (default 20); all are counted\n"
    "  --reconnect           on a disconnect or failed connect, retry with backoff (100 ms\n"
    "                        doubling to 30 s, jittered), resubscribe and go on recording;\n"
    "                        a book gap is repaired by resubscribing (Bybit). Without it the\n"
    "                        recording ends when the connection does\n"
    "  --heartbeat-timeout S no byte for S seconds ends the connection (default 30; 0 = off)\n"
    "  --ca-file FILE        wss://: trust the CAs in this PEM file instead of the system store\n"
    "  --insecure-skip-verify  wss://: no certificate or host-name check (labs only; logged)\n"
    "  --tls-max-version V   wss://: highest TLS version offered, 13 (default) or 12\n";

RecordOptions parse_args(int argc, char** argv) {
  RecordOptions a;
  cli::Args cl("shadow-record", kUsage, argc, argv);
  while (cl.next()) {
    if (cl.is("--url")) {
      a.url = cl.value();
    } else if (cl.is("--subscribe")) {
      a.topics = cl.list();
      if (a.topics.empty()) cl.fail("--subscribe needs at least one topic");
    } else if (cl.is("--out")) {
      a.out_path = cl.value();
    } else if (cl.is("--book-trace")) {
      a.trace_path = cl.value();
    } else if (cl.is("--duration")) {
      a.duration_s = cl.number(0, 1e9);
      if (a.duration_s == 0) cl.fail("--duration must be > 0");
    } else if (cl.is("--ping-interval")) {
      a.ping_interval_s = cl.number(0, 1e9);
    } else if (cl.is("--protocol")) {
      const std::string p = cl.value();
      if (!parse_protocol(p, a.protocol)) cl.fail("--protocol must be auto, bybit or binance, not '" + printable(p) + "'");
    } else if (cl.is("--max-errors")) {
      a.max_errors = cl.whole();
    } else if (cl.is("--reconnect")) {
      a.reconnect = true;
    } else if (cl.is("--heartbeat-timeout")) {
      a.heartbeat_timeout_s = cl.number(0, 1e9);
    } else if (cl.is("--ca-file")) {
      a.tls.ca_file = cl.value();
      std::string err;
      const int fd = open_regular_file(a.tls.ca_file, err);
      if (fd < 0) cl.fail("--ca-file: " + err);
      ::close(fd);
    } else if (cl.is("--insecure-skip-verify")) {
      a.tls.insecure_skip_verify = true;
    } else if (cl.is("--tls-max-version")) {
      const std::uint64_t v = cl.whole();
      if (v != 12 && v != 13) cl.fail("--tls-max-version must be 12 or 13, not " + std::to_string(v));
      a.tls.max_version = static_cast<int>(v);
    } else {
      cl.fail("unexpected argument " + printable(cl.arg()));
    }
  }
  if (a.url.empty()) cl.fail("--url is required");
  if (a.out_path.empty()) cl.fail("--out is required");
  WsUrl u;
  std::string err;
  if (!parse_ws_url(a.url, u, err)) cl.fail("bad --url: " + err);  // the message names the problem; the URL may hold control bytes
  FeedVenue v;
  if (a.protocol == Protocol::kAuto && venue_from_url(u.host, u.resource, v)) {
    a.protocol = v == FeedVenue::kBybit ? Protocol::kBybit : Protocol::kBinance;
  }
  if (a.protocol == Protocol::kAuto) {
    cl.fail("cannot tell the venue from '" + a.url + "'; pass --protocol bybit|binance");
  }
  const bool streams_in_url = u.resource.find("streams=") != std::string::npos ||
                              u.resource.rfind("/ws/", 0) == 0;
  if (a.topics.empty() && !(a.protocol == Protocol::kBinance && streams_in_url)) {
    cl.fail("--subscribe is required (only Binance URLs naming their streams may omit it)");
  }
  if (a.trace_path == "-" && a.out_path == "-") cl.fail("--out and --book-trace both '-'");
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  const RecordOptions opt = parse_args(argc, argv);
  signals::install_stop_handlers();
  return run_recorder(opt);
}
