// The python3-websockets peer of the WebSocket client tests (tests/peers/ws_echo_server.py) as
// a child process, and the collectors and pumps the tests share (ws_client_test.cc over ws://,
// ws_client_tls_test.cc over wss://).
#pragma once

#include <gtest/gtest.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "feed/ws_client.h"
#include "tests/support/child_process.h"

namespace shadow::ws_test {

using shadow::WsClient;
using shadow::WsClientOptions;
using shadow::WsCloseInfo;
using shadow::WsCloseKind;

inline std::int64_t now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

// The python3 that has the websockets module: CMake's interpreter (may be a pyenv without
// Debian's python3-websockets), else the system one.
inline std::string& peer_python() {
  static std::string py;
  return py;
}

inline bool peer_available(std::string& why) {
  if (!peer_python().empty()) return true;
  for (const char* py : {SHADOW_PYTHON, "/usr/bin/python3"}) {
    const std::string cmd = std::string(py) + " -c 'import websockets' >/dev/null 2>&1";
    if (access(py, X_OK) == 0 && std::system(cmd.c_str()) == 0) {
      peer_python() = py;
      return true;
    }
  }
  why = "python3 with the websockets module is not available (install python3-websockets: "
        "tools/install-deps)";
  return false;
}

// The peer script as a child process; its port is the first line it prints. `extra`: more
// arguments (--tls-cert/--tls-key for wss://).
class Peer {
 public:
  explicit Peer(const std::string& mode, std::vector<std::string> extra = {})
      : child_(args(mode, std::move(extra)), 15000), port_(std::atoi(child_.first_line().c_str())) {}
  int port() const { return port_; }
  std::string url() const { return "ws://127.0.0.1:" + std::to_string(port_) + "/test"; }
  std::string url(const std::string& scheme, const std::string& host) const {
    return scheme + "://" + host + ":" + std::to_string(port_) + "/test";
  }

 private:
  static std::vector<std::string> args(const std::string& mode, std::vector<std::string> extra) {
    std::vector<std::string> a = {peer_python(), SHADOW_WS_PEER, "--mode=" + mode};
    for (std::string& e : extra) a.push_back(std::move(e));
    return a;
  }
  shadow::test_support::ChildProcess child_;
  int port_ = 0;
};

struct Collector {
  std::vector<std::string> messages;
  bool closed = false;
  WsCloseInfo close;
  std::string close_reason;
  bool padding_ok = true;

  void on_message(const shadow::WsClientMessage& m) {
    if (m.capacity < m.len + shadow::kWsPadding || m.recv_mono_ns <= 0) padding_ok = false;
    messages.emplace_back(m.data, m.len);
  }
  void on_closed(const WsCloseInfo& c) {
    closed = true;
    close = c;
    close_reason = std::string(c.reason);
  }
};

// Polls until `n` messages arrived, the connection closed, or 10 s passed.
inline void pump(WsClient& c, Collector& col, std::size_t n) {
  const std::int64_t deadline = now_ms() + 10000;
  while (c.is_open() && col.messages.size() < n && now_ms() < deadline) c.poll(col);
}
inline void pump_until_closed(WsClient& c, Collector& col) {
  const std::int64_t deadline = now_ms() + 10000;
  while (c.is_open() && now_ms() < deadline) c.poll(col);
}

inline std::string payload(int i, std::size_t size) {
  char head[16];
  std::snprintf(head, sizeof head, "%08d|", i);
  std::string s(head);
  for (std::size_t j = 0; s.size() < size; ++j) s.push_back(static_cast<char>('a' + (i + j) % 26));
  s.resize(size);
  return s;
}

// Burst of small frames (one server write), large messages spanning reads, another burst.
// wss://: `peer_args` carry the server's certificate, `scheme`/`host` the URL.
inline void receive_sequence(const WsClientOptions& opts, shadow::UringRecvMode expect_mode,
                             std::vector<std::string> peer_args = {}, const std::string& scheme = "ws",
                             const std::string& host = "127.0.0.1") {
  Peer peer("normal", std::move(peer_args));
  ASSERT_GT(peer.port(), 0) << "the peer script did not print its port";
  WsClient c(opts);
  std::string err;
  ASSERT_TRUE(c.connect(peer.url(scheme, host), err)) << err;
  EXPECT_EQ(c.secure(), scheme == "wss");
  EXPECT_EQ(c.reader().mode(), expect_mode);

  std::vector<std::string> expect;
  ASSERT_TRUE(c.send_text("cmd burst 500 100 0"));
  for (int i = 0; i < 500; ++i) expect.push_back(payload(i, 100));
  ASSERT_TRUE(c.send_text("cmd big 3 300000 500"));
  for (int i = 500; i < 503; ++i) expect.push_back(payload(i, 300000));
  ASSERT_TRUE(c.send_text("cmd burst 300 7 503"));
  for (int i = 503; i < 803; ++i) expect.push_back(payload(i, 7));
  ASSERT_TRUE(c.send_text("hello echo"));
  expect.push_back("hello echo");

  Collector col;
  pump(c, col, expect.size());
  ASSERT_FALSE(col.closed) << col.close_reason;
  ASSERT_EQ(col.messages.size(), expect.size());
  for (std::size_t i = 0; i < expect.size(); ++i) {
    ASSERT_EQ(col.messages[i].size(), expect[i].size()) << "message " << i;
    ASSERT_TRUE(col.messages[i] == expect[i]) << "message " << i << " differs";
  }
  EXPECT_TRUE(col.padding_ok);
  const auto& st = c.reader().stats();
  EXPECT_LT(st.chunks, expect.size()) << "bursts should put several frames in one read";
  EXPECT_GT(c.stats().bytes_copied, 0u) << "large messages span reads";
  EXPECT_GT(st.enter_calls, 0u);
  std::printf("[ stats    ] mode=%s messages=%zu chunks=%llu enters=%llu sends=%llu rearms=%llu\n",
              std::string(to_string(c.reader().mode())).c_str(), expect.size(),
              static_cast<unsigned long long>(st.chunks),
              static_cast<unsigned long long>(st.enter_calls),
              static_cast<unsigned long long>(st.send_calls),
              static_cast<unsigned long long>(st.rearms));

  // Client-initiated close: the server echoes it, clean close with our code.
  ASSERT_TRUE(c.close(1000, "done"));
  pump_until_closed(c, col);
  ASSERT_TRUE(col.closed);
  EXPECT_EQ(col.close.kind, WsCloseKind::kClean) << col.close_reason;
  EXPECT_EQ(col.close.code, 1000);
}

}  // namespace shadow::ws_test
