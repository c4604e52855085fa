// exchange/sandbox_ground_truth.{h,cc}: the ground-truth log of real orders, written to a file
// through the venue and parsed back as JSON (nlohmann): every line's common fields, a
// hand-computed story (queue ahead at acceptance, matches against background flow and another
// real order, the queue ahead of a maker before each aggressor, closes), and over a random run,
// each maker match's queue_ahead_before equal to what the same aggressor traded ahead of it at
// that price (from the engine's public trades).
#include "exchange/sandbox_ground_truth.h"
#include "exchange/sandbox_venue.h"
#include "tests/exchange/sandbox_venue_fixture.h"
#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <string>
#include <vector>

#include "core/random.h"

namespace shadow::test_support {
namespace {

using nlohmann::json;

// Every line of `path` parsed, after checking the fields each line carries.
std::vector<json> read_lines(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  std::vector<json> out;
  std::string line;
  std::uint64_t seq = 0;
  while (std::getline(in, line)) {
    json j;
    try {
      j = json::parse(line);
    } catch (const json::exception& e) {
      ADD_FAILURE() << "not JSON (" << e.what() << "): " << line;
      continue;
    }
    EXPECT_EQ(j.at("seq").get<std::uint64_t>(), ++seq) << line;
    EXPECT_TRUE(j.at("ts_ns").is_number_integer()) << line;
    EXPECT_GT(j.at("ts_ns").get<std::int64_t>(), 1'600'000'000'000'000'000) << line;
    EXPECT_TRUE(j.at("event").is_string()) << line;
    EXPECT_TRUE(j.at("uid").is_number_unsigned()) << line;
    EXPECT_TRUE(j.at("orderId").is_string()) << line;
    EXPECT_TRUE(j.at("orderLinkId").is_string()) << line;
    EXPECT_TRUE(j.at("category") == "linear" || j.at("category") == "spot") << line;
    EXPECT_EQ(j.at("symbol"), "BTCUSDT") << line;
    EXPECT_TRUE(j.at("side") == "Buy" || j.at("side") == "Sell") << line;
    const std::string event = j.at("event");
    if (event == "match") {
      for (const char* k : {"execId", "price", "qty", "leaves_qty"}) EXPECT_TRUE(j.at(k).is_string()) << k << " " << line;
      EXPECT_TRUE(j.at("trade_id").is_number_unsigned()) << line;
      EXPECT_TRUE(j.at("role") == "maker" || j.at("role") == "taker") << line;
      EXPECT_TRUE(j.at("counterparty") == "background" || j.at("counterparty") == "real") << line;
      EXPECT_EQ(j.at("counterparty_uid").is_null(), j.at("counterparty") == "background") << line;
      EXPECT_EQ(j.at("queue_ahead_before").is_null(), j.at("role") == "taker") << line;
    } else if (event == "accepted") {
      for (const char* k : {"orderType", "timeInForce", "price", "qty", "level_qty"}) {
        EXPECT_TRUE(j.at(k).is_string()) << k << " " << line;
      }
      EXPECT_TRUE(j.at("queue_ahead").is_string() || j.at("queue_ahead").is_null()) << line;
    } else if (event == "amended") {
      EXPECT_TRUE(j.at("price").is_string() && j.at("qty").is_string()) << line;
      EXPECT_TRUE(j.at("queue_ahead").is_string() || j.at("queue_ahead").is_null()) << line;
    } else if (event == "closed") {
      for (const char* k : {"orderStatus", "cumExecQty", "cancelType", "rejectReason"}) {
        EXPECT_TRUE(j.at(k).is_string()) << k << " " << line;
      }
    } else {
      ADD_FAILURE() << "unknown event: " << line;
    }
    out.push_back(std::move(j));
  }
  return out;
}

class SandboxGroundTruthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp_.path().empty()) << "mkdtemp failed";
    std::string error;
    ASSERT_TRUE(truth_.open(path(), error)) << error;
    h_.venue().set_ground_truth(&truth_);
  }
  std::string path() const { return tmp_.file("truth.jsonl"); }
  std::vector<json> lines() {
    truth_.flush();
    EXPECT_EQ(truth_.write_errors(), 0u);
    std::vector<json> out = read_lines(path());
    EXPECT_EQ(out.size(), truth_.lines());
    return out;
  }

  TempDir tmp_{"sandbox_ground_truth_test"};
  SandboxGroundTruth truth_;
  VenueHarness h_;
};

TEST_F(SandboxGroundTruthTest, OpenFailsWithTheReason) {
  SandboxGroundTruth g;
  std::string error;
  EXPECT_FALSE(g.open(tmp_.file("no/such/dir/truth.jsonl"), error));
  EXPECT_EQ(error, "No such file or directory");
  EXPECT_FALSE(g.is_open());
}

TEST_F(SandboxGroundTruthTest, QueueAheadAtAcceptanceAndBeforeEachAggressor) {
  h_.bg_limit(kLinear, Side::kSell, D("100"), D("1"));
  const SandboxOrder* r1 = h_.place(1, h_.limit(kLinear, Side::kSell, D("100"), D("1")));
  h_.bg_limit(kLinear, Side::kSell, D("100"), D("0.5"));
  CreateOrderRequest second = h_.limit(kLinear, Side::kSell, D("100"), D("2"));
  second.order_link_id = "r2-link";
  const SandboxOrder* r2 = h_.place(2, second);
  ASSERT_TRUE(r1 && r2);
  h_.bg_market(kLinear, Side::kBuy, D("3"));    // bg 1, r1 1 (1 ahead), bg 0.5, r2 0.5 (2.5 ahead)
  h_.bg_market(kLinear, Side::kBuy, D("0.5"));  // r2 0.5: a new aggressor, nothing ahead
  const SandboxOrder* taker = h_.place(1, h_.limit(kLinear, Side::kBuy, D("100"), D("0.5"), TimeInForce::kIOC));
  ASSERT_NE(taker, nullptr);
  EXPECT_EQ(taker->state, OrderState::kFilled);
  const SandboxOrder* rest = h_.place(1, h_.limit(kLinear, Side::kBuy, D("99"), D("0.1")));
  ASSERT_NE(rest, nullptr);
  ASSERT_EQ(h_.amend(1, *rest, D("0.2"), 0).code, 0);
  ASSERT_EQ(h_.cancel(1, *rest).code, 0);

  const std::vector<json> l = lines();
  ASSERT_EQ(l.size(), 13u);  // r2 is still open (0.5 left): no closed line for it
  auto expect = [&](std::size_t i, const char* event, std::uint64_t uid, const SandboxOrder& o) {
    EXPECT_EQ(l[i].at("event"), event) << i;
    EXPECT_EQ(l[i].at("uid"), uid) << i;
    EXPECT_EQ(l[i].at("orderId"), o.order_id) << i;
    EXPECT_EQ(l[i].at("orderLinkId"), o.order_link_id) << i;
    EXPECT_EQ(l[i].at("category"), "linear") << i;
  };
  expect(0, "accepted", 1, *r1);
  EXPECT_EQ(l[0].at("queue_ahead"), "1");
  EXPECT_EQ(l[0].at("level_qty"), "1");
  EXPECT_EQ(l[0].at("price"), "100");
  EXPECT_EQ(l[0].at("qty"), "1");
  EXPECT_EQ(l[0].at("orderType"), "Limit");
  EXPECT_EQ(l[0].at("timeInForce"), "GTC");
  EXPECT_EQ(l[0].at("side"), "Sell");
  expect(1, "accepted", 2, *r2);
  EXPECT_EQ(l[1].at("orderLinkId"), "r2-link");
  EXPECT_EQ(l[1].at("queue_ahead"), "2.5");
  expect(2, "match", 1, *r1);
  EXPECT_EQ(l[2].at("role"), "maker");
  EXPECT_EQ(l[2].at("counterparty"), "background");
  EXPECT_EQ(l[2].at("queue_ahead_before"), "1");
  EXPECT_EQ(l[2].at("qty"), "1");
  EXPECT_EQ(l[2].at("price"), "100");
  EXPECT_EQ(l[2].at("leaves_qty"), "0");
  EXPECT_EQ(l[2].at("trade_id"), 2);
  EXPECT_EQ(l[2].at("execId"), h_.executions(1).at(0).exec_id);
  expect(3, "closed", 1, *r1);
  EXPECT_EQ(l[3].at("orderStatus"), "Filled");
  EXPECT_EQ(l[3].at("cumExecQty"), "1");
  expect(4, "match", 2, *r2);
  EXPECT_EQ(l[4].at("queue_ahead_before"), "2.5");
  EXPECT_EQ(l[4].at("qty"), "0.5");
  EXPECT_EQ(l[4].at("leaves_qty"), "1.5");
  expect(5, "match", 2, *r2);
  EXPECT_EQ(l[5].at("queue_ahead_before"), "0");
  EXPECT_EQ(l[5].at("leaves_qty"), "1");
  expect(6, "accepted", 1, *taker);
  EXPECT_TRUE(l[6].at("queue_ahead").is_null());  // an IOC never rests
  EXPECT_EQ(l[6].at("timeInForce"), "IOC");
  expect(7, "match", 2, *r2);
  EXPECT_EQ(l[7].at("counterparty"), "real");
  EXPECT_EQ(l[7].at("counterparty_uid"), 1);
  EXPECT_EQ(l[7].at("queue_ahead_before"), "0");
  EXPECT_EQ(l[7].at("leaves_qty"), "0.5");
  expect(8, "match", 1, *taker);
  EXPECT_EQ(l[8].at("role"), "taker");
  EXPECT_EQ(l[8].at("counterparty"), "real");
  EXPECT_EQ(l[8].at("counterparty_uid"), 2);
  EXPECT_EQ(l[8].at("side"), "Buy");
  EXPECT_EQ(l[7].at("trade_id"), l[8].at("trade_id"));
  expect(9, "closed", 1, *taker);
  EXPECT_EQ(l[9].at("orderStatus"), "Filled");
  expect(10, "accepted", 1, *rest);
  EXPECT_EQ(l[10].at("queue_ahead"), "0");
  EXPECT_EQ(l[10].at("level_qty"), "0");
  expect(11, "amended", 1, *rest);
  EXPECT_EQ(l[11].at("qty"), "0.2");
  EXPECT_EQ(l[11].at("queue_ahead"), "0");
  expect(12, "closed", 1, *rest);
  EXPECT_EQ(l[12].at("orderStatus"), "Cancelled");
  EXPECT_EQ(l[12].at("cancelType"), "CancelByUser");
}

TEST_F(SandboxGroundTruthTest, MakerQueueAheadIsWhatTheSameAggressorTradedAheadAtThatPrice) {
  std::uint64_t rng = 2024;
  auto draw = [&](std::uint64_t n) { return splitmix64(rng) % n; };
  for (int i = 0; i < 3000; ++i) {
    const std::size_t m = draw(2) == 0 ? kLinear : kSpot;
    const Side s = draw(2) == 0 ? Side::kBuy : Side::kSell;
    const Fixed ticks = static_cast<Fixed>(draw(12)) - 2;
    const Fixed px = s == Side::kBuy ? D("100") - ticks * D("0.1") : D("100") + ticks * D("0.1");
    const Fixed qty = static_cast<Fixed>(60 + draw(1500)) * D("0.001");
    const std::uint64_t k = draw(10);
    if (k < 4) {
      h_.bg_limit(m, s, px, qty);
    } else if (k < 6) {
      h_.bg_market(m, s, qty);
    } else if (k < 9) {
      h_.create(1 + draw(2), h_.limit(m, s, px, qty, draw(4) == 0 ? TimeInForce::kIOC : TimeInForce::kGTC));
    } else {
      h_.create(1 + draw(2), h_.market(m, s, qty));
    }
  }
  const std::vector<json> l = lines();
  std::size_t matches = 0;
  std::size_t with_queue = 0;
  for (const json& j : l) {
    if (j.at("event") != "match") continue;
    ++matches;
    if (j.at("role") != "maker") continue;
    const Category c = j.at("category") == "spot" ? Category::kSpot : Category::kLinear;
    const std::size_t m = h_.venue().find_market(c, j.at("symbol").get<std::string>());
    const std::vector<Trade>& trades = h_.trades(m);
    const std::uint64_t id = j.at("trade_id");
    ASSERT_GE(id, 1u);
    ASSERT_LE(id, trades.size());
    const Trade& t = trades[id - 1];
    ASSERT_EQ(t.trade_id, id);
    Fixed ahead = 0;
    for (std::size_t i = id - 1; i > 0 && trades[i - 1].taker_order_id == t.taker_order_id && trades[i - 1].px == t.px; --i) {
      ahead += trades[i - 1].qty;
    }
    Fixed logged = 0;
    ASSERT_TRUE(parse_fixed(j.at("queue_ahead_before").get<std::string>(), logged)) << j.dump();
    EXPECT_EQ(logged, ahead) << j.dump();
    with_queue += ahead > 0 ? 1 : 0;
  }
  EXPECT_EQ(matches, h_.venue().executions_total());
  EXPECT_GT(with_queue, 50u) << "too few makers with a queue ahead to prove anything";
}

}  // namespace
}  // namespace shadow::test_support
