// shadow-exchange --tls-cert/--tls-key beyond the happy path (exchange_client_test compares
// books over wss://): a plain ws:// client against the TLS server fails quickly with an error
// while wss:// clients keep being served (and the exit summary counts the refusal), and bad
// certificate or key flags exit 2 before listening, naming the flag. Certificates: throwaway,
// made for this run by tests/support/tls_certs.py.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "feed/ws_client.h"
#include "tests/support/exchange_process.h"
#include "tests/support/require.h"
#include "tests/support/tls_cert_dir.h"

namespace {

using namespace shadow;
using test_support::ExchangeProcess;
std::int64_t now_ms() { return test_support::mono_ms(); }

// Counts the book messages of one subscription; snapshot first, then deltas.
struct BookCounter {
  std::uint64_t snapshots = 0, deltas = 0, others = 0;
  bool closed = false;
  std::string close_reason;
  void on_message(const WsClientMessage& m) {
    const std::string_view v = m.view();
    if (v.find(R"("topic":"orderbook.50.BTCUSDT")") == std::string_view::npos) {
      ++others;
    } else if (v.find(R"("type":"snapshot")") != std::string_view::npos) {
      ++snapshots;
    } else {
      ++deltas;
    }
  }
  void on_closed(const WsCloseInfo& c) {
    closed = true;
    close_reason = std::string(c.reason);
  }
};

class ExchangeTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    dir_ = test_support::tls_cert_dir(why);
    if (dir_.empty()) SHADOW_MISSING(why);
  }
  std::string file(const char* name) const { return dir_ + "/" + name; }
  // The exchange must exit 2 before listening, with `message` on stderr.
  void expect_bad_input(const std::vector<std::string>& args, const std::string& message) {
    ExchangeProcess ex(SHADOW_EXCHANGE_BIN, args);
    EXPECT_TRUE(ex.url().empty()) << "it listened: " << ex.line();
    EXPECT_NE(ex.error().find("(exit status 2)"), std::string::npos) << ex.error();
    const std::string err = ex.stderr_text();
    EXPECT_NE(err.find(message), std::string::npos) << err;
  }
  std::string dir_;
};

TEST_F(ExchangeTlsTest, PlainClientIsRefusedCleanlyWhileWssIsServed) {
  ExchangeProcess ex(SHADOW_EXCHANGE_BIN, {"--rate", "2000", "--tls-cert", file("localhost.pem"),
                                           "--tls-key", file("localhost.key")});
  ASSERT_FALSE(ex.url().empty()) << ex.error() << "\n" << ex.stderr_text();
  ASSERT_EQ(ex.url().rfind("wss://localhost:", 0), 0u) << ex.url();

  // ws:// against TLS: the server's TLS layer refuses the HTTP request and closes; our client
  // fails the handshake at once, not at its 5 s timeout.
  {
    WsClient plain;
    std::string err;
    const std::int64_t t0 = now_ms();
    EXPECT_FALSE(plain.connect("ws://127.0.0.1:" + std::to_string(ex.port()) + "/v5/public/linear", err));
    EXPECT_LT(now_ms() - t0, 3000) << "the refusal waited for the handshake timeout: " << err;
    EXPECT_FALSE(err.empty());
    EXPECT_FALSE(plain.is_open());
  }

  // The server still serves wss:// clients: snapshot, then deltas.
  WsClientOptions o;
  o.tls.ca_file = file("ca.pem");
  WsClient ws(o);
  std::string err;
  ASSERT_TRUE(ws.connect(ex.url(), err)) << ex.url() << ": " << err;
  ASSERT_TRUE(ws.send_text(R"({"op":"subscribe","args":["orderbook.50.BTCUSDT"]})"));
  BookCounter h;
  const std::int64_t deadline = now_ms() + 5000;
  while (ws.is_open() && h.deltas < 300 && now_ms() < deadline) ws.poll(h);
  EXPECT_EQ(h.snapshots, 1u);
  EXPECT_GE(h.deltas, 300u) << "in 5 s at 2000 events/s";
  EXPECT_EQ(h.others, 1u) << "the subscribe reply";

  // Clean stop: close 1001 over TLS, exit 0, the refused handshake counted.
  ASSERT_TRUE(ex.terminate());
  const std::int64_t close_deadline = now_ms() + 3000;
  while (ws.is_open() && now_ms() < close_deadline) ws.poll(h);
  EXPECT_TRUE(h.closed);
  const int st = ex.wait(3000);
  ASSERT_NE(st, -1) << "shadow-exchange did not exit after SIGTERM";
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << ExchangeProcess::describe(st);
  const std::string summary = ex.stderr_text();
  EXPECT_NE(summary.find("clients=2 rejected=1 "), std::string::npos) << summary;
}

TEST_F(ExchangeTlsTest, MissingCertificateFileExits2NamingTheFlag) {
  expect_bad_input({"--tls-cert", file("no-such.pem"), "--tls-key", file("localhost.key")},
                   "--tls-cert: cannot read '" + file("no-such.pem") + "'");
}

TEST_F(ExchangeTlsTest, MissingKeyFileExits2NamingTheFlag) {
  expect_bad_input({"--tls-cert", file("localhost.pem"), "--tls-key", file("no-such.key")},
                   "--tls-key: cannot read '" + file("no-such.key") + "'");
}

TEST_F(ExchangeTlsTest, NotACertificateExits2NamingTheFlag) {
  expect_bad_input({"--tls-cert", file("localhost.key"), "--tls-key", file("localhost.key")},
                   "--tls-cert: TLS: cannot load the certificate '" + file("localhost.key") + "'");
}

TEST_F(ExchangeTlsTest, KeyOfAnotherCertificateExits2NamingTheFlag) {
  expect_bad_input({"--tls-cert", file("localhost.pem"), "--tls-key", file("wronghost.key")},
                   "--tls-key: TLS: cannot use the key '" + file("wronghost.key") + "'");
}

TEST_F(ExchangeTlsTest, CertificateWithoutKeyExits2) {
  expect_bad_input({"--tls-cert", file("localhost.pem")}, "--tls-cert and --tls-key go together");
}

}  // namespace
