// SandboxGateway: the HTTP workers hand commands to the exchange thread and get answers back.
// Here the test thread plays the exchange loop (poll the eventfd, drain) while several client
// threads send signed orders at once; every request gets its own answer, the venue sees every
// order exactly once, order lists are rendered by the workers, and stop() returns while
// requests are in flight. In the concurrency slice: `make test-tsan` runs it under TSan.
#include "exchange/sandbox_gateway.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <poll.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "exchange/matching_engine.h"
#include "exchange/sandbox_service.h"
#include "exchange/sandbox_venue.h"
#include "feed/bybit_auth.h"
#include "tests/support/sandbox_one_market.h"

namespace shadow {
namespace {

struct Fixture : test::OneMarketSandbox {
  std::unique_ptr<SandboxGateway> gateway;
  Fixture() : OneMarketSandbox(9, "gwkey", "gwsecret") {
    gateway = std::make_unique<SandboxGateway>(accounts, *service);
  }
};

httplib::Result signed_request(httplib::Client& c, const std::string& method, const std::string& path,
                               const std::string& payload) {
  const std::int64_t ts = realtime_ns() / 1'000'000;
  const httplib::Headers h = {{"X-BAPI-API-KEY", "gwkey"},
                              {"X-BAPI-TIMESTAMP", std::to_string(ts)},
                              {"X-BAPI-RECV-WINDOW", "5000"},
                              {"X-BAPI-SIGN", bybit_rest_signature("gwsecret", ts, "gwkey", 5000, payload)}};
  if (method == "GET") return c.Get(path + "?" + payload, h);
  return c.Post(path, h, payload, "application/json");
}

// The exchange loop's part: wait on the eventfd and drain, until `stop`.
void serve(SandboxGateway& g, const std::atomic<bool>& stop, std::atomic<std::size_t>& drained) {
  while (!stop.load()) {
    pollfd p{g.event_fd(), POLLIN, 0};
    if (::poll(&p, 1, 10) > 0) drained += g.drain();
  }
}

TEST(SandboxGateway, ConcurrentClientsEachGetTheirOwnAnswer) {
  Fixture f;
  std::string error;
  ASSERT_TRUE(f.gateway->start(0, error)) << error;
  std::atomic<bool> stop{false};
  std::atomic<std::size_t> drained{0};
  std::thread loop(serve, std::ref(*f.gateway), std::cref(stop), std::ref(drained));

  constexpr int kClients = 4;
  constexpr int kOrders = 25;
  std::vector<std::vector<std::string>> answers(kClients);
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      httplib::Client http("127.0.0.1", f.gateway->port());
      http.set_keep_alive(true);
      for (int i = 0; i < kOrders; ++i) {
        std::string link = "c";
        link.append(std::to_string(c)).append("-").append(std::to_string(i));
        std::string body = R"({"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.001","price":")";
        body.append(std::to_string(60'000 + c * 100 + i)).append(R"(.0","orderLinkId":")").append(link).append("\"}");
        const httplib::Result r = signed_request(http, "POST", "/v5/order/create", body);
        answers[static_cast<std::size_t>(c)].push_back(r ? r->body : std::string("no answer"));
      }
    });
  }
  for (std::thread& t : clients) t.join();

  // Every answer is the one for its own request (its orderLinkId), and accepted.
  for (int c = 0; c < kClients; ++c) {
    ASSERT_EQ(answers[static_cast<std::size_t>(c)].size(), static_cast<std::size_t>(kOrders));
    for (int i = 0; i < kOrders; ++i) {
      const std::string& a = answers[static_cast<std::size_t>(c)][static_cast<std::size_t>(i)];
      EXPECT_NE(a.find("\"retCode\":0"), std::string::npos) << a;
      std::string want = "\"orderLinkId\":\"c";
      want.append(std::to_string(c)).append("-").append(std::to_string(i)).append("\"");
      EXPECT_NE(a.find(want), std::string::npos) << a;
    }
  }
  EXPECT_EQ(f.venue->account(9)->open.size(), static_cast<std::size_t>(kClients * kOrders));
  EXPECT_EQ(f.engine.order_count(), static_cast<std::size_t>(kClients * kOrders));

  // A list is rendered by the worker: the full JSON arrives, newest first.
  httplib::Client http("127.0.0.1", f.gateway->port());
  const httplib::Result list = signed_request(http, "GET", "/v5/order/realtime", "category=linear&symbol=BTCUSDT&limit=50");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->status, 200);
  EXPECT_NE(list->body.find("\"retCode\":0"), std::string::npos);
  EXPECT_NE(list->body.find("\"nextPageCursor\":\""), std::string::npos);
  EXPECT_EQ(list->get_header_value("X-Bapi-Limit"), "10000");
  std::size_t rows = 0;
  for (std::size_t at = list->body.find("\"orderStatus\":\"New\""); at != std::string::npos;
       at = list->body.find("\"orderStatus\":\"New\"", at + 1)) {
    ++rows;
  }
  EXPECT_EQ(rows, 50u);

  // Refusals never reach the loop: a bad signature is answered by the worker.
  const std::size_t before = drained.load();
  const httplib::Headers bad = {{"X-BAPI-API-KEY", "gwkey"},
                                {"X-BAPI-TIMESTAMP", std::to_string(realtime_ns() / 1'000'000)},
                                {"X-BAPI-SIGN", "00"}};
  const httplib::Result refused = http.Post("/v5/order/create", bad, "{}", "application/json");
  ASSERT_TRUE(refused);
  EXPECT_NE(refused->body.find("\"retCode\":10004"), std::string::npos) << refused->body;
  EXPECT_EQ(drained.load(), before);

  stop = true;
  loop.join();
  EXPECT_GE(drained.load(), static_cast<std::size_t>(kClients * kOrders + 1));
  f.gateway->stop();
}

TEST(SandboxGateway, StopReturnsWithRequestsInFlight) {
  Fixture f;
  std::string error;
  ASSERT_TRUE(f.gateway->start(0, error)) << error;
  // Nobody drains: the workers wait for the exchange thread, and stop() must still finish them.
  std::atomic<int> answered{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 3; ++c) {
    clients.emplace_back([&] {
      httplib::Client http("127.0.0.1", f.gateway->port());
      const httplib::Result r = signed_request(http, "GET", "/v5/account/wallet-balance", "accountType=UNIFIED");
      if (r) ++answered;
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  f.gateway->stop();  // drains what is waiting while httplib shuts down
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(answered.load(), 3);
}

}  // namespace
}  // namespace shadow
