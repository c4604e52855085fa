// The sandbox API's cost per request, split where the threads split it (docs/SANDBOX.md,
// "Threads and latency"), in one run:
//   Parse/*          HTTP worker: route, HMAC check, parameters (parse_sandbox_request)
//   Execute/*        exchange thread: rate limit, venue, the answer's JSON (SandboxService;
//                    order and execution lists only pick and copy their records)
//   Render/*         HTTP worker: the JSON of an order list
// Execute is what the public stream's publisher waits for when an order arrives; Parse is not
// on that thread at all. Peer for scale: Matching/AddCancel, the bare engine add + cancel of
// the same order, the floor of any order entry.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "exchange/matching_engine.h"
#include "exchange/order_flow.h"
#include "exchange/sandbox_request.h"
#include "exchange/sandbox_service.h"
#include "exchange/sandbox_venue.h"
#include "feed/bybit_auth.h"
#include "tests/support/sandbox_one_market.h"

namespace shadow {
namespace {

constexpr Fixed U = kFixedScale;

// The one-market sandbox with a book like the model's (10 levels a side, 5 background orders
// each) and `resting_real` real orders resting far from it.
struct Setup : test::OneMarketSandbox {
  explicit Setup(int resting_real = 0) : OneMarketSandbox(7, "benchkey", "benchsecret") {
    std::uint64_t id = OrderFlowConfig{}.first_order_id;
    for (int k = 1; k <= 10; ++k) {
      for (int i = 0; i < 5; ++i) {
        engine.add_limit(id++, Side::kBuy, 65'000 * U - k * U / 10, U / 100);
        engine.add_limit(id++, Side::kSell, 65'000 * U + k * U / 10, U / 100);
      }
    }
    for (int i = 0; i < resting_real; ++i) {
      CreateOrderRequest r;
      r.symbol = "BTCUSDT";
      r.price = 64'000 * U + i * U / 10;
      r.qty = U / 1000;
      venue->create(7, r, 1);
    }
  }
};

// order/realtime, limit 50, over 200 open orders.
SandboxCommand realtime50() {
  SandboxCommand q;
  q.endpoint = SandboxEndpoint::kRealtime;
  q.uid = 7;
  q.symbol = "BTCUSDT";
  q.limit = 50;
  return q;
}

RestRequest signed_post(std::string_view path, const std::string& body, std::string& ts, std::string& sign) {
  const std::int64_t now = realtime_ns() / 1'000'000;
  ts = std::to_string(now);
  sign = bybit_rest_signature("benchsecret", now, "benchkey", 5000, body);
  return RestRequest{"POST", path, "", body, "benchkey", ts, "5000", sign};
}

void BM_ParseCreate(benchmark::State& state) {
  Setup s;
  const std::string body =
      R"({"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.001","price":"64990.0","orderLinkId":"bench-1"})";
  std::string ts, sign;
  const RestRequest req = signed_post("/v5/order/create", body, ts, sign);
  SandboxCommand cmd;
  RestReply reply;
  for (auto _ : state) {
    if (!parse_sandbox_request(req, s.accounts, realtime_ns() / 1'000'000, cmd, reply)) {
      state.SkipWithError(reply.body.c_str());
      break;
    }
  }
}
BENCHMARK(BM_ParseCreate);

// Create then cancel the same resting order (the pair leaves the venue as it was).
void BM_ExecuteCreateCancel(benchmark::State& state) {
  Setup s;
  SandboxCommand create;
  create.endpoint = SandboxEndpoint::kCreate;
  create.uid = 7;
  create.create.symbol = "BTCUSDT";
  create.create.price = 64'990 * U;
  create.create.qty = U / 1000;
  SandboxCommand cancel;
  cancel.endpoint = SandboxEndpoint::kCancel;
  cancel.uid = 7;
  cancel.amend.ref.symbol = "BTCUSDT";
  std::int64_t now = 1;
  for (auto _ : state) {
    const RestReply r = s.service->execute(create, now);
    const SandboxVenue::Account* a = s.venue->account(7);
    cancel.amend.ref.order_id = s.venue->order(a->open.back())->order_id;
    const RestReply c = s.service->execute(cancel, now);
    benchmark::DoNotOptimize(r.body.data());
    benchmark::DoNotOptimize(c.body.data());
    now += 1000;  // a fresh rate-limit window
  }
  state.SetItemsProcessed(state.iterations() * 2);
}
BENCHMARK(BM_ExecuteCreateCancel);

// order/realtime with `limit` 50 over 200 open orders: what the exchange thread does (pick and
// copy 50 orders) and what the HTTP worker does (render them).
void BM_ExecuteRealtime50(benchmark::State& state) {
  Setup s(200);
  const SandboxCommand q = realtime50();
  std::int64_t now = 1;
  for (auto _ : state) {
    const RestReply r = s.service->execute(q, now);
    benchmark::DoNotOptimize(r.listing.get());
    now += 1000;
  }
}
BENCHMARK(BM_ExecuteRealtime50);

void BM_RenderRealtime50(benchmark::State& state) {
  Setup s(200);
  const RestReply r = s.service->execute(realtime50(), 1);
  for (auto _ : state) {
    const std::string body = s.service->render(*r.listing);
    benchmark::DoNotOptimize(body.data());
  }
}
BENCHMARK(BM_RenderRealtime50);

void BM_MatchingAddCancel(benchmark::State& state) {
  Setup s;
  std::uint64_t id = 1;
  for (auto _ : state) {
    s.engine.add_limit(id, Side::kBuy, 64'990 * U, U / 1000);
    s.engine.cancel(id);
    ++id;
  }
  state.SetItemsProcessed(state.iterations() * 2);
}
BENCHMARK(BM_MatchingAddCancel);

}  // namespace
}  // namespace shadow

BENCHMARK_MAIN();
