// BybitTradeClient against the real embedded sandbox venue (tools/shadow-exchange --rest-port,
// docs/SANDBOX.md): orders created, listed (every page), amended, cancelled; a duplicate
// orderLinkId; refusals with Bybit's retCodes; a wrong secret (and no secret in any message);
// the client's own token bucket and the venue's limit headers; the dead-man's switch window;
// fills of a crossing order in the execution list; the venue's clock; and a venue that never
// answers (a TCP listener that never accepts).
#include "feed/bybit_trade_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/clock.h"
#include "tests/support/exchange_process.h"
#include "tests/support/temp_dir.h"

namespace shadow {
namespace {

constexpr Fixed k = kFixedScale;
const std::string kKey = "Gk4vQ7pX2mN9";
const std::string kSecret = "s3cr3t-Zt8w";
const std::string kSymbol = "BTCUSDT";

std::int64_t now_ms() { return realtime_ns() / 1'000'000; }

class BybitTradeClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<test_support::TempDir>("bybit_trade_client_test");
    ASSERT_FALSE(dir_->path().empty());
    // order/create high so 60 orders go through at once; the dead-man's switch 1/s for the
    // limit test.
    const std::string accounts = dir_->write("accounts.toml", "[[account]]\nuid = 1001\napi_key = \"" + kKey +
                                                                  "\"\napi_secret = \"" + kSecret +
                                                                  "\"\n\n[rate_limits]\n\"order/create\" = 1000\n"
                                                                  "\"order/disconnected-cancel-all\" = 1\n");
    ASSERT_EQ(::chmod(accounts.c_str(), 0600), 0);
    ex_ = std::make_unique<test_support::ExchangeProcess>(
        SHADOW_EXCHANGE_BIN, std::vector<std::string>{"--rest-port", "0", "--accounts", accounts});
    ASSERT_FALSE(ex_->rest_url().empty()) << "shadow-exchange gave no REST URL: " << ex_->error() << " line '"
                                          << ex_->line() << "'";
  }
  static void TearDownTestSuite() {
    if (ex_) ex_->stop(3000);
    ex_.reset();
    dir_.reset();
  }
  void SetUp() override { ASSERT_TRUE(ex_ && !ex_->rest_url().empty()) << "no sandbox venue"; }

  static BybitTradeConfig config() {
    BybitTradeConfig c;
    c.rest_url = ex_->rest_url();
    c.api_key = kKey;
    c.api_secret = kSecret;
    return c;
  }
  static BybitOrderRequest low_bid(std::string_view link, Fixed qty = k / 1000) {
    // Far below the order flow's market (it starts at 50,000): rests, never crosses.
    return {.symbol = kSymbol, .side = Side::kBuy, .price = 20'000 * k, .qty = qty, .order_link_id = link,
            .post_only = true};
  }
  static const BybitOrderUpdate* find(const std::vector<BybitOrderUpdate>& v, std::string_view link) {
    for (const BybitOrderUpdate& u : v)
      if (u.order_link_id.view() == link) return &u;
    return nullptr;
  }

  static std::unique_ptr<test_support::TempDir> dir_;
  static std::unique_ptr<test_support::ExchangeProcess> ex_;
};
std::unique_ptr<test_support::TempDir> BybitTradeClientTest::dir_;
std::unique_ptr<test_support::ExchangeProcess> BybitTradeClientTest::ex_;

TEST_F(BybitTradeClientTest, CreateListAmendCancel) {
  BybitTradeClient c(config());
  const BybitReply cr = c.create_order(low_bid("life-1"));
  ASSERT_EQ(cr.outcome, BybitOutcome::kOk) << cr.ret_msg;
  EXPECT_EQ(cr.http_status, 200);
  EXPECT_EQ(cr.ret_code, 0);
  EXPECT_FALSE(cr.order_id.empty());
  EXPECT_EQ(cr.order_link_id, "life-1");
  EXPECT_FALSE(cr.duplicate);
  EXPECT_GT(cr.latency_ns, 0);

  std::vector<BybitOrderUpdate> open;
  ASSERT_EQ(c.open_orders(kSymbol, open).outcome, BybitOutcome::kOk);
  const BybitOrderUpdate* o = find(open, "life-1");
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->order_id.view(), cr.order_id);
  EXPECT_EQ(o->status, BybitOrderStatus::kNew);
  EXPECT_EQ(o->side, Side::kBuy);
  EXPECT_EQ(o->price, 20'000 * k);
  EXPECT_EQ(o->qty, 100'000);
  EXPECT_EQ(o->leaves_qty, 100'000);
  EXPECT_EQ(o->cum_exec_qty, 0);
  EXPECT_GT(o->created_ms, 0);

  const BybitReply am = c.amend_order(kSymbol, "life-1", 20'000 * k + k / 2, 2 * k / 1000);
  ASSERT_EQ(am.outcome, BybitOutcome::kOk) << am.ret_msg;
  EXPECT_EQ(am.order_id, cr.order_id);
  open.clear();
  ASSERT_EQ(c.open_orders(kSymbol, open).outcome, BybitOutcome::kOk);
  o = find(open, "life-1");
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->price, 2'000'050'000'000);
  EXPECT_EQ(o->qty, 200'000);

  const BybitReply cc = c.cancel_order(kSymbol, "life-1");
  ASSERT_EQ(cc.outcome, BybitOutcome::kOk) << cc.ret_msg;
  EXPECT_EQ(cc.order_id, cr.order_id);
  open.clear();
  ASSERT_EQ(c.open_orders(kSymbol, open).outcome, BybitOutcome::kOk);
  EXPECT_EQ(find(open, "life-1"), nullptr);

  // Cancelling it again: the venue's 110001, a definitive refusal.
  const BybitReply again = c.cancel_order(kSymbol, "life-1");
  EXPECT_EQ(again.outcome, BybitOutcome::kRejected);
  EXPECT_EQ(again.ret_code, 110001);

  std::vector<BybitOrderUpdate> hist;
  ASSERT_EQ(c.order_history(kSymbol, now_ms() - 60'000, hist).outcome, BybitOutcome::kOk);
  o = find(hist, "life-1");
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->status, BybitOrderStatus::kCancelled);
  EXPECT_EQ(o->cancel_type.view(), "CancelByUser");
  EXPECT_EQ(o->qty, 200'000);
  EXPECT_EQ(c.requests_sent(), 8u);
}

TEST_F(BybitTradeClientTest, DuplicateOrderLinkIdIsARetryThatLanded) {
  BybitTradeClient c(config());
  const BybitReply first = c.create_order(low_bid("dup-1"));
  ASSERT_EQ(first.outcome, BybitOutcome::kOk) << first.ret_msg;
  const BybitReply second = c.create_order(low_bid("dup-1"));
  EXPECT_EQ(second.outcome, BybitOutcome::kOk) << second.ret_msg;
  EXPECT_TRUE(second.duplicate);
  EXPECT_EQ(second.ret_code, 110072);
  EXPECT_EQ(second.order_link_id, "dup-1");
  std::vector<BybitOrderUpdate> open;
  ASSERT_EQ(c.open_orders(kSymbol, open).outcome, BybitOutcome::kOk);
  int n = 0;
  for (const BybitOrderUpdate& u : open) n += u.order_link_id.view() == "dup-1";
  EXPECT_EQ(n, 1);
  EXPECT_EQ(c.cancel_order(kSymbol, "dup-1").outcome, BybitOutcome::kOk);
}

TEST_F(BybitTradeClientTest, CancelUnknownAndLocalRefusals) {
  BybitTradeClient c(config());
  const BybitReply r = c.cancel_order(kSymbol, "never-placed-1");
  EXPECT_EQ(r.outcome, BybitOutcome::kRejected);
  EXPECT_EQ(r.ret_code, 110001);
  EXPECT_EQ(r.ret_msg, "Order does not exist");
  EXPECT_EQ(r.http_status, 200);
  // Refused before sending: nothing counted as sent.
  const std::uint64_t sent = c.requests_sent();
  EXPECT_EQ(c.create_order(low_bid("has space")).outcome, BybitOutcome::kRejected);
  EXPECT_EQ(c.create_order(low_bid(std::string(37, 'x'))).outcome, BybitOutcome::kRejected);
  EXPECT_EQ(c.set_dcp(2).outcome, BybitOutcome::kRejected);
  EXPECT_EQ(c.requests_sent(), sent);
}

TEST_F(BybitTradeClientTest, WrongSecretIsAuthFailedAndNeverQuoted) {
  BybitTradeConfig cfg = config();
  cfg.api_secret = "wrong-Secret-9qX";
  BybitTradeClient c(cfg);
  const BybitReply r = c.create_order(low_bid("auth-1"));
  EXPECT_EQ(r.outcome, BybitOutcome::kAuthFailed);
  EXPECT_EQ(r.ret_code, 10004);
  EXPECT_NE(r.ret_msg.find("error sign!"), std::string::npos) << r.ret_msg;
  EXPECT_EQ(r.ret_msg.find("wrong-Secret-9qX"), std::string::npos) << r.ret_msg;
  EXPECT_EQ(r.ret_msg.find(kSecret), std::string::npos) << r.ret_msg;
  EXPECT_EQ(r.ret_msg.find(kKey), std::string::npos) << r.ret_msg;  // the venue echoes it; shown masked
  EXPECT_NE(r.ret_msg.find("Gk4v…"), std::string::npos) << r.ret_msg;

  cfg = config();
  cfg.api_key = "Unknown0Key1";
  BybitTradeClient u(cfg);
  const BybitReply ru = u.cancel_all(kSymbol);
  EXPECT_EQ(ru.outcome, BybitOutcome::kAuthFailed);
  EXPECT_EQ(ru.ret_code, 10003);
}

TEST_F(BybitTradeClientTest, LocalTokenBucket) {
  BybitTradeConfig cfg = config();
  cfg.create_per_s = 2;
  BybitTradeClient c(cfg);
  EXPECT_EQ(c.create_order(low_bid("tb-1")).outcome, BybitOutcome::kOk);
  EXPECT_EQ(c.create_order(low_bid("tb-2")).outcome, BybitOutcome::kOk);
  const std::int64_t before = now_ms();
  const BybitReply third = c.create_order(low_bid("tb-3"));
  EXPECT_EQ(third.outcome, BybitOutcome::kRateLimited);
  EXPECT_TRUE(third.local_throttle);
  EXPECT_EQ(third.http_status, 0);
  EXPECT_GT(third.retry_at_ms, before);
  EXPECT_LE(third.retry_at_ms, now_ms() + 500);  // one token of 2/s
  EXPECT_EQ(c.requests_sent(), 2u);
  EXPECT_EQ(c.cancel_order(kSymbol, "tb-1").outcome, BybitOutcome::kOk);  // its own bucket
  EXPECT_EQ(c.cancel_order(kSymbol, "tb-2").outcome, BybitOutcome::kOk);
}

TEST_F(BybitTradeClientTest, DeadMansSwitchWindowVenueLimitHeadersAndRetCode10006) {
  // order/disconnected-cancel-all is 1/s for this account (the accounts file).
  BybitTradeConfig cfg = config();
  cfg.dcp_per_s = 0;  // unlimited here: only the venue's headers limit
  BybitTradeClient a(cfg);
  BybitTradeClient b(cfg);
  const BybitReply set = a.set_dcp(10);
  ASSERT_EQ(set.outcome, BybitOutcome::kOk) << set.ret_msg;
  EXPECT_EQ(set.ret_code, 0);
  // X-Bapi-Limit-Status said 0 left: a's bucket holds the next one back without sending.
  const BybitReply held = a.set_dcp(20);
  EXPECT_EQ(held.outcome, BybitOutcome::kRateLimited);
  EXPECT_TRUE(held.local_throttle);
  EXPECT_EQ(a.requests_sent(), 1u);
  // b knows nothing of it: the venue answers 10006.
  const BybitReply venue = b.set_dcp(20);
  EXPECT_EQ(venue.outcome, BybitOutcome::kRateLimited);
  EXPECT_FALSE(venue.local_throttle);
  EXPECT_EQ(venue.ret_code, 10006);
  EXPECT_EQ(venue.http_status, 200);
  EXPECT_GT(venue.retry_at_ms, 0);
  EXPECT_LE(venue.retry_at_ms, now_ms() + 1500);
}

TEST_F(BybitTradeClientTest, OpenOrdersEveryPageThenCancelAll) {
  BybitTradeConfig cfg = config();
  cfg.create_per_s = 0;
  BybitTradeClient c(cfg);
  std::set<std::string> placed;
  for (int i = 0; i < 60; ++i) {  // more than one page of 50
    const std::string link = "page-" + std::to_string(i);
    ASSERT_EQ(c.create_order(low_bid(link)).outcome, BybitOutcome::kOk) << link;
    placed.insert(link);
  }
  std::vector<BybitOrderUpdate> open;
  ASSERT_EQ(c.open_orders(kSymbol, open).outcome, BybitOutcome::kOk);
  std::set<std::string> seen;
  for (const BybitOrderUpdate& u : open)
    if (u.order_link_id.view().substr(0, 5) == "page-") seen.insert(std::string(u.order_link_id.view()));
  EXPECT_EQ(seen, placed);

  const BybitReply r = c.cancel_all(kSymbol);
  ASSERT_EQ(r.outcome, BybitOutcome::kOk) << r.ret_msg;
  open.clear();
  ASSERT_EQ(c.open_orders(kSymbol, open).outcome, BybitOutcome::kOk);
  EXPECT_TRUE(open.empty()) << open.size() << " still open";
}

TEST_F(BybitTradeClientTest, CrossingOrderFillsInExecutionList) {
  BybitTradeClient c(config());
  const std::int64_t start = now_ms() - 1000;
  const BybitReply r = c.create_order({.symbol = kSymbol, .side = Side::kBuy, .price = 0, .qty = 3 * k / 1000,
                                       .order_link_id = "mkt-1", .post_only = false});
  ASSERT_EQ(r.outcome, BybitOutcome::kOk) << r.ret_msg;
  std::vector<BybitExecution> fills;
  ASSERT_EQ(c.executions(kSymbol, start, fills).outcome, BybitOutcome::kOk);
  Fixed qty = 0;
  std::set<std::string> ids;
  for (const BybitExecution& e : fills) {
    if (e.order_link_id.view() != "mkt-1") continue;
    EXPECT_EQ(e.order_id.view(), r.order_id);
    EXPECT_EQ(e.side, Side::kBuy);
    EXPECT_FALSE(e.is_maker);
    EXPECT_GT(e.exec_price, 0);
    EXPECT_GT(e.exec_fee, 0);  // taker
    EXPECT_EQ(e.order_qty, 300'000);
    EXPECT_EQ(e.exec_type.view(), "Trade");
    ids.insert(std::string(e.exec_id.view()));
    qty += e.exec_qty;
  }
  EXPECT_EQ(qty, 300'000);
  EXPECT_FALSE(ids.empty());
  // Flat again (reduce-only sell of what was bought).
  const BybitReply close = c.create_order({.symbol = kSymbol, .side = Side::kSell, .price = 0, .qty = 3 * k / 1000,
                                           .order_link_id = "mkt-2", .post_only = false, .reduce_only = true});
  EXPECT_EQ(close.outcome, BybitOutcome::kOk) << close.ret_msg;
}

TEST_F(BybitTradeClientTest, ServerTimeIsTheVenueClock) {
  BybitTradeClient c(config());
  std::int64_t ms = 0;
  const std::int64_t before = now_ms();
  const BybitReply r = c.server_time(ms);
  const std::int64_t after = now_ms();
  ASSERT_EQ(r.outcome, BybitOutcome::kOk) << r.ret_msg;
  EXPECT_GE(ms, before - 1000);
  EXPECT_LE(ms, after + 1000);
}

// A listener whose backlog completes the TCP handshake but which never reads or answers.
TEST(BybitTradeClientTimeout, SilentVenueIsUnknownWithinTheTimeout) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 8), 0);
  socklen_t len = sizeof a;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  BybitTradeConfig cfg;
  cfg.rest_url = "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  cfg.api_key = kKey;
  cfg.api_secret = kSecret;
  cfg.timeout_ms = 300;
  BybitTradeClient c(cfg);
  const std::int64_t t0 = monotonic_ns();
  const BybitReply r = c.create_order({.symbol = kSymbol, .side = Side::kBuy, .price = 20'000 * k, .qty = k / 1000,
                                       .order_link_id = "silent-1"});
  const std::int64_t waited_ms = (monotonic_ns() - t0) / 1'000'000;
  ::close(fd);
  EXPECT_EQ(r.outcome, BybitOutcome::kUnknown);
  EXPECT_EQ(r.http_status, 0);
  EXPECT_EQ(r.ret_code, -1);
  EXPECT_NE(r.ret_msg.find("no answer within 300 ms"), std::string::npos) << r.ret_msg;
  EXPECT_GE(waited_ms, 250);
  EXPECT_LT(waited_ms, 5000);
  EXPECT_EQ(c.requests_sent(), 1u);
}

TEST(BybitTradeClientConfig, CheckNamesTheFieldNeverTheSecret) {
  BybitTradeConfig c;
  c.rest_url = "http://127.0.0.1:1";
  c.api_key = kKey;
  c.api_secret = kSecret;
  EXPECT_EQ(check(c), "");
  c.category = "option";
  EXPECT_EQ(check(c), "category 'option' (allowed: linear, spot)");
  c.category = "linear";
  c.api_secret = "has space";
  EXPECT_EQ(check(c), "api_secret must be 1..128 printable characters without spaces");
  c.api_secret = kSecret;
  c.rest_url = "http://127.0.0.1:1/v5";
  EXPECT_NE(check(c).find("without a path"), std::string::npos);
  c.rest_url = "ftp://x";
  EXPECT_NE(check(c).find("https:// or http://"), std::string::npos);
  c.rest_url = "http://127.0.0.1:1";
  c.create_per_s = -1;
  EXPECT_EQ(check(c), "create_per_s -1 (allowed: 0..10000, 0 = unlimited)");
  c.create_per_s = 10;
  c.timeout_ms = 0;
  EXPECT_EQ(check(c), "timeout_ms 0 (allowed: 1..600000)");
  EXPECT_THROW(BybitTradeClient{c}, std::invalid_argument);
}

}  // namespace
}  // namespace shadow
