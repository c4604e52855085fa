#include "bench/wire_latency_options.h"

#include <algorithm>
#include <cstdlib>
#include <string>

#include "core/cli.h"
#include "core/input_text.h"
#include "core/symbol_table.h"

namespace shadow::bench {
namespace {

constexpr const char* kUsage =
    "usage: wire-latency --exchange PATH [--rates 10000,100000,1000000] [--schemes ws,wss]\n"
    "                    [--tls-dir DIR] [--seconds S]\n"
    "                    [--warmup S] [--symbol BTCUSDT] [--sqpoll] [--busy-poll|--blocking]\n"
    "                    [--pingpong-rounds N] [--no-pingpong] [--json FILE]\n"
    "\n"
    "End-to-end latency of the live feed against shadow-exchange, with a loopback TCP\n"
    "ping-pong measured in the same run as the kernel floor (docs/PERFORMANCE.md).\n"
    "\n"
    "  --exchange PATH        the shadow-exchange binary (required)\n"
    "  --rates LIST           order-flow events per second, one run each (default\n"
    "                         10000,100000,1000000)\n"
    "  --schemes LIST         transports, each rate measured over each in turn (default ws):\n"
    "                         ws, wss (TLS; the client offers 1.3), wss-tls12 (wss with the\n"
    "                         client capped at TLS 1.2)\n"
    "  --tls-dir DIR          wss certificates: DIR/ca.pem (trusted by the client),\n"
    "                         DIR/localhost.pem and .key (served by the exchange); default: made\n"
    "                         for the run by tests/support/tls_certs.py in a temporary directory\n"
    "  --seconds S            measured seconds per rate and scheme (default 5)\n"
    "  --warmup S             seconds discarded after subscribing (default 1)\n"
    "  --symbol SYM           the one symbol published and subscribed (default BTCUSDT)\n"
    "  --sqpoll               UringReader with IORING_SETUP_SQPOLL\n"
    "  --busy-poll            the reader spins on its completion queue (default)\n"
    "  --blocking             the reader waits in io_uring_enter (1 ms timeout) when idle\n"
    "  --pingpong-rounds N    timed round trips per ping-pong case (default 20000)\n"
    "  --no-pingpong          skip the kernel floor\n"
    "  --json FILE            also write every number to FILE\n"
    "\n"
    "Exit status: 0 ok; 1 the run failed (exchange missing or silent, connection refused,\n"
    "connection lost, gaps or decode errors); 2 bad arguments.\n";

}  // namespace

Options parse_options(int argc, char** argv) {
  Options o;
  cli::Args cl("wire-latency", kUsage, argc, argv);
  while (cl.next()) {
    if (cl.is("--exchange")) {
      o.exchange = cl.value();
    } else if (cl.is("--rates")) {
      const std::string flag(cl.arg());
      o.rates.clear();
      for (const std::string& s : cl.list()) {
        char* end = nullptr;
        const double r = std::strtod(s.c_str(), &end);
        if (*end != '\0' || !(r >= 1 && r <= 1e8)) {
          cl.fail(flag + " needs rates in [1, 1e8] events/s, not '" + s + "'");
        }
        o.rates.push_back(r);
      }
      if (o.rates.empty()) cl.fail(flag + " needs at least one rate");
    } else if (cl.is("--schemes")) {
      const std::string flag(cl.arg());
      o.schemes = cl.list();
      if (o.schemes.empty()) cl.fail(flag + " needs at least one of ws, wss, wss-tls12");
      for (const std::string& s : o.schemes) {
        if (s != "ws" && s != "wss" && s != "wss-tls12") {
          cl.fail(flag + " takes ws, wss, wss-tls12, not '" + printable(s) + "'");
        }
      }
    } else if (cl.is("--tls-dir")) {
      o.tls_dir = cl.value();
      if (o.tls_dir.empty()) cl.fail("--tls-dir needs a directory");
    } else if (cl.is("--seconds")) {
      o.seconds = cl.number(0.1, 3600);
    } else if (cl.is("--warmup")) {
      o.warmup = cl.number(0, 3600);
    } else if (cl.is("--symbol")) {
      o.symbol = cl.value();
      if (o.symbol.empty() || o.symbol.size() > SymbolTable::kMaxNameLen ||
          !std::all_of(o.symbol.begin(), o.symbol.end(), [](char c) {
            return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
          })) {
        cl.fail("--symbol needs an upper-case alphanumeric symbol, not '" + o.symbol + "'");
      }
    } else if (cl.is("--sqpoll")) {
      o.sqpoll = true;
    } else if (cl.is("--busy-poll")) {
      o.busy_poll = true;
    } else if (cl.is("--blocking")) {
      o.busy_poll = false;
    } else if (cl.is("--pingpong-rounds")) {
      o.pingpong_rounds = cl.whole();
      if (o.pingpong_rounds == 0) cl.fail("--pingpong-rounds must be at least 1");
    } else if (cl.is("--no-pingpong")) {
      o.pingpong = false;
    } else if (cl.is("--json")) {
      o.json = cl.value();
    } else {
      cl.fail("unknown argument '" + std::string(cl.arg()) + "'");
    }
  }
  if (o.exchange.empty()) cl.fail("--exchange PATH is required");
  return o;
}

}  // namespace shadow::bench
