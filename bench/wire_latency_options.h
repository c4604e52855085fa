// wire-latency's command line: what to run (exchange binary, rates, window) and how the reader
// waits. parse_options exits with status 2 and the usage on a bad argument (core/cli.h).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace shadow::bench {

struct Options {
  std::string exchange;
  std::vector<double> rates{10000, 100000, 1000000};
  // Transports, each rate measured over each in turn: "ws", "wss" (TLS 1.3 by default),
  // "wss-tls12" (wss:// with the client capped at TLS 1.2).
  std::vector<std::string> schemes{"ws"};
  std::string tls_dir;  // ca.pem, localhost.pem/.key; empty = made by tests/support/tls_certs.py
  double seconds = 5;
  double warmup = 1;
  std::string symbol = "BTCUSDT";
  bool sqpoll = false;
  bool busy_poll = true;
  std::size_t pingpong_rounds = 20000;
  bool pingpong = true;
  std::string json;
};

Options parse_options(int argc, char** argv);

}  // namespace shadow::bench
