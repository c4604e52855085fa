// The sandbox trading API's accounts (issue 13; docs/SANDBOX.md, "Accounts"): who may trade on
// the embedded exchange, with which API key and secret, at which fees and leverage, from which
// starting wallet; and how many requests per second each account may send to each endpoint.
//
// They come from a TOML file that must be private (core/private_file.h: mode 0600 or stricter,
// ours) or from the environment, never from the command line, where any user reads them in
// `ps`. No error message ever quotes an API secret or key, nor any text of the file around a
// TOML syntax error. Cold path: read once at start-up.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/fixed_point.h"

namespace shadow {

inline constexpr std::uint64_t kMaxSandboxUid = 9'007'199'254'740'991;  // 2^53 - 1: exact as a JSON number
inline constexpr std::size_t kMaxSandboxApiKey = 64;
inline constexpr std::size_t kMaxSandboxApiSecret = 128;
inline constexpr std::size_t kMaxSandboxCoin = 10;
inline constexpr int kMaxSandboxLeverage = 100;
inline constexpr int kMaxSandboxRateLimit = 10'000;
inline constexpr std::size_t kMaxSandboxAccountsFile = 1u << 20;  // 1 MiB: thousands of accounts

// The environment variables sandbox_accounts_from_env() reads.
inline constexpr const char* kSandboxAccountsEnv = "SHADOW_SANDBOX_ACCOUNTS";
inline constexpr const char* kSandboxApiKeyEnv = "SHADOW_SANDBOX_API_KEY";
inline constexpr const char* kSandboxApiSecretEnv = "SHADOW_SANDBOX_API_SECRET";

struct SandboxAccount {
  std::uint64_t uid = 0;          // 1..kMaxSandboxUid, unique
  std::string api_key;            // 1..64 of [A-Za-z0-9], unique (X-BAPI-API-KEY)
  std::string api_secret;         // 1..128 printable ASCII, no spaces (the HMAC key)
  Fixed maker_fee_rate = 20'000;  // 0.0002 (Bybit's base maker rate); allowed [-0.01, 0.01], < 0 = rebate
  Fixed taker_fee_rate = 55'000;  // 0.00055 (Bybit's base taker rate); allowed [0, 0.01]
  int leverage = 10;              // linear initial margin = notional / leverage; 1..100
  // Coin (1..10 of [A-Z0-9]) -> initial balance >= 0, in file order.
  std::vector<std::pair<std::string, Fixed>> wallet{{"USDT", 100'000 * kFixedScale}};
};

// The endpoints with a per-account limit and Bybit's figures for them (requests per second per
// UID, the non-VIP "API Rate Limit Table" of the v5 docs' "Rate Limit" page), in that order.
std::vector<std::pair<std::string, int>> default_sandbox_rate_limits();

struct SandboxRateLimits {
  // Keyed by the path after /v5/ ("order/create"), each 1..kMaxSandboxRateLimit requests per
  // second per account; always the endpoints of default_sandbox_rate_limits(), in its order.
  std::vector<std::pair<std::string, int>> per_second = default_sandbox_rate_limits();

  // The limit of `endpoint` ("order/create", "order/create@spot"), 0 when it has none.
  int limit(std::string_view endpoint) const noexcept;
};

struct SandboxAccounts {
  std::vector<SandboxAccount> accounts;  // file order
  SandboxRateLimits limits;

  // The account whose api_key is `api_key`, nullptr when none is.
  const SandboxAccount* find_key(std::string_view api_key) const noexcept;
};

// Reads the TOML file `path` (docs/SANDBOX.md, "Accounts"), which must be private
// (read_private_file) and hold at least one [[account]]. False with `error` naming the file, the
// line, the key and what is allowed ("a.toml:9: account[2].taker_fee_rate: must be a decimal
// string in [0, 0.01] ..."; accounts are counted from 1 in file order) and `out` untouched.
// Unknown keys, duplicate uids and duplicate api_keys are errors.
bool load_sandbox_accounts(const std::string& path, SandboxAccounts& out, std::string& error);

// From the environment: SHADOW_SANDBOX_ACCOUNTS=FILE (load_sandbox_accounts, its errors prefixed
// "SHADOW_SANDBOX_ACCOUNTS: "); else SHADOW_SANDBOX_API_KEY and SHADOW_SANDBOX_API_SECRET, both
// (one account, uid 1, every other field its default); else no accounts (true, `out` empty).
// Only one of the key and secret set is an error. An empty variable counts as unset.
bool sandbox_accounts_from_env(SandboxAccounts& out, std::string& error);

}  // namespace shadow
