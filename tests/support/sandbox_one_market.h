// A sandbox venue over one linear BTCUSDT engine with one account (uid, key, secret given;
// 10,000,000 USDT; every rate limit 10,000/s so tests and benchmarks measure the path, not the
// limiter), and the command service on it. Shared by tests/exchange/sandbox_gateway_test.cc and
// bench/sandbox_benchmark.cc.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "exchange/matching_engine.h"
#include "exchange/sandbox_accounts.h"
#include "exchange/sandbox_service.h"
#include "exchange/sandbox_venue.h"

namespace shadow::test {

struct OneMarketSandbox {
  MatchingEngine engine{MatchingEngine::Config{}};
  SandboxAccounts accounts;
  std::unique_ptr<SandboxVenue> venue;
  std::unique_ptr<SandboxService> service;

  OneMarketSandbox(std::uint64_t uid, const std::string& key, const std::string& secret) {
    SandboxAccount a;
    a.uid = uid;
    a.api_key = key;
    a.api_secret = secret;
    a.wallet = {{"USDT", 10'000'000 * kFixedScale}};
    accounts.accounts.push_back(a);
    for (auto& [name, rate] : accounts.limits.per_second) rate = 10'000;
    SandboxMarket m;
    m.instrument.symbol = "BTCUSDT";
    m.instrument.base_coin = "BTC";
    m.instrument.quote_coin = "USDT";
    m.engine = &engine;
    venue = std::make_unique<SandboxVenue>(accounts, std::vector<SandboxMarket>{m}, uid);
    engine.set_listener(venue->tap(0, nullptr));
    service = std::make_unique<SandboxService>(*venue, accounts);
  }
};

}  // namespace shadow::test
