#include "exchange/sandbox_accounts.h"

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <unordered_map>

#include <toml++/toml.h>

#include "core/input_text.h"
#include "core/private_file.h"

namespace shadow {

std::vector<std::pair<std::string, int>> default_sandbox_rate_limits() {
  // Bybit's table has a column per category: "ENDPOINT" is linear's figure (and, for the query
  // endpoints, every category's), "ENDPOINT@spot" spot's where it differs.
  return {
      {"order/create", 10},        {"order/amend", 10},        {"order/cancel", 10},
      {"order/cancel-all", 10},    {"order/create-batch", 10}, {"order/cancel-batch", 10},
      {"order/create@spot", 20},   {"order/amend@spot", 10},   {"order/cancel@spot", 20},
      {"order/cancel-all@spot", 20}, {"order/create-batch@spot", 20}, {"order/cancel-batch@spot", 20},
      {"order/disconnected-cancel-all", 5},
      {"order/realtime", 50},      {"order/history", 50},      {"execution/list", 50},
      {"position/list", 50},       {"account/wallet-balance", 50},
  };
}

int SandboxRateLimits::limit(std::string_view endpoint) const noexcept {
  for (const auto& [name, rate] : per_second) {
    if (name == endpoint) return rate;
  }
  return 0;
}

const SandboxAccount* SandboxAccounts::find_key(std::string_view api_key) const noexcept {
  for (const SandboxAccount& a : accounts) {
    if (a.api_key == api_key) return &a;
  }
  return nullptr;
}

namespace {

constexpr Fixed kMaxFeeRate = 1'000'000;  // 0.01 = 1%
constexpr Fixed kMaxBalance = kFixedMax / kFixedScale * kFixedScale;  // 92233720368: Fixed's whole range
constexpr std::string_view kAccountKeys = "uid, api_key, api_secret, maker_fee_rate, taker_fee_rate, leverage, wallet";

// What each field must be, as the messages say it.
constexpr std::string_view kApiKeyRule = "must be 1..64 characters of A-Z, a-z and 0-9";
constexpr std::string_view kApiSecretRule = "must be 1..128 printable characters without spaces";
constexpr std::string_view kCoinRule = "a coin is 1..10 characters of A-Z and 0-9 (e.g. USDT)";

bool valid_api_key(std::string_view s) noexcept {
  if (s.empty() || s.size() > kMaxSandboxApiKey) return false;
  for (const char c : s) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

bool valid_api_secret(std::string_view s) noexcept {
  if (s.empty() || s.size() > kMaxSandboxApiSecret) return false;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return false;  // '!'..'~': no space, no control, no non-ASCII
  }
  return true;
}

bool valid_coin(std::string_view s) noexcept {
  if (s.empty() || s.size() > kMaxSandboxCoin) return false;
  for (const char c : s) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

// One refusal: the message is complete ("FILE:LINE: key: why").
struct Refusal {
  std::string message;
};

// toml++'s description of a syntax error without the file's text: it quotes what it found
// ("unknown escape sequence '\q'", "expected value, saw 'h'"), and inside a string that is a
// piece of a secret. Cut at the first quote or ", saw"; the line and column point at the place.
std::string syntax_reason(std::string_view d) {
  std::size_t cut = d.find('\'');
  cut = std::min(cut, d.find(" saw"));
  d = d.substr(0, std::min(cut, d.size()));
  while (!d.empty() && (d.back() == ' ' || d.back() == ',' || d.back() == ':')) d.remove_suffix(1);
  return printable(d, 200);
}

// A table's entries in file order: toml++ keeps a table sorted by key, and both the wallet's
// order and "the first error in the file" need the order they were written in.
std::vector<std::pair<std::string_view, const toml::node*>> in_file_order(const toml::table& t) {
  std::vector<std::pair<std::string_view, const toml::node*>> out;
  for (const auto& [name, node] : t) out.emplace_back(name.str(), &node);
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    const toml::source_position pa = a.second->source().begin, pb = b.second->source().begin;
    return pa.line != pb.line ? pa.line < pb.line : pa.column < pb.column;
  });
  return out;
}

class Reader {
 public:
  explicit Reader(const std::string& file) : file_(file) {}

  SandboxAccounts read(const toml::table& root) {
    SandboxAccounts out;
    for (const auto& [name, n] : in_file_order(root)) {
      const toml::node& node = *n;
      if (name == "account") {
        const toml::array* list = node.as_array();
        if (list == nullptr || !list->is_array_of_tables()) fail(node, "account", "must be tables ([[account]])");
        for (const toml::node& t : *list) out.accounts.push_back(account(*t.as_table(), out.accounts.size() + 1));
      } else if (name == "rate_limits") {
        rate_limits(node, out.limits);
      } else {
        fail(node, printable(name), "unknown key; allowed: [[account]], [rate_limits]");
      }
    }
    if (out.accounts.empty()) throw Refusal{file_ + ": no [[account]]; at least one is needed"};
    check_unique(out.accounts);
    return out;
  }

 private:
  [[noreturn]] void fail(const toml::node& n, const std::string& key, std::string_view why) const {
    throw Refusal{file_ + ":" + std::to_string(n.source().begin.line) + ": " + key + ": " + std::string(why)};
  }

  SandboxAccount account(const toml::table& t, std::size_t index) {
    const std::string prefix = "account[" + std::to_string(index) + "]";
    lines_.push_back(t.source().begin.line);
    SandboxAccount a;
    bool uid = false, key = false, secret = false;
    for (const auto& [k, n] : in_file_order(t)) {
      const toml::node& node = *n;
      const std::string where = prefix + "." + printable(k);
      if (k == "uid") {
        a.uid = static_cast<std::uint64_t>(whole(node, where, 1, static_cast<std::int64_t>(kMaxSandboxUid)));
        uid = true;
      } else if (k == "api_key") {
        const auto v = node.value_exact<std::string>();
        if (!v || !valid_api_key(*v)) fail(node, where, kApiKeyRule);
        a.api_key = *v;
        key = true;
      } else if (k == "api_secret") {
        const auto v = node.value_exact<std::string>();
        if (!v || !valid_api_secret(*v)) fail(node, where, kApiSecretRule);
        a.api_secret = *v;
        secret = true;
      } else if (k == "maker_fee_rate") {
        a.maker_fee_rate =
            decimal(node, where, -kMaxFeeRate, kMaxFeeRate, "in [-0.01, 0.01] (e.g. \"0.0002\"; < 0: a rebate)");
      } else if (k == "taker_fee_rate") {
        a.taker_fee_rate = decimal(node, where, 0, kMaxFeeRate, "in [0, 0.01] (e.g. \"0.00055\")");
      } else if (k == "leverage") {
        a.leverage = static_cast<int>(whole(node, where, 1, kMaxSandboxLeverage));
      } else if (k == "wallet") {
        a.wallet = wallet(node, where);
      } else {
        fail(node, where, "unknown key; allowed: " + std::string(kAccountKeys));
      }
    }
    if (!uid) fail(t, prefix + ".uid", "missing; each [[account]] needs uid, api_key and api_secret");
    if (!key) fail(t, prefix + ".api_key", "missing; each [[account]] needs uid, api_key and api_secret");
    if (!secret) fail(t, prefix + ".api_secret", "missing; each [[account]] needs uid, api_key and api_secret");
    return a;
  }

  std::vector<std::pair<std::string, Fixed>> wallet(const toml::node& n, const std::string& where) {
    const toml::table* t = n.as_table();
    if (t == nullptr) fail(n, where, "must be a table of COIN = \"balance\" ([account.wallet])");
    std::vector<std::pair<std::string, Fixed>> out;
    for (const auto& [coin, value] : in_file_order(*t)) {
      const std::string key = where + "." + printable(coin);
      if (!valid_coin(coin)) fail(*value, key, kCoinRule);
      const Fixed balance = decimal(*value, key, 0, kMaxBalance, "in [0, 92233720368] (e.g. \"100000\")");
      out.emplace_back(std::string(coin), balance);
    }
    return out;
  }

  void rate_limits(const toml::node& n, SandboxRateLimits& limits) {
    const toml::table* t = n.as_table();
    if (t == nullptr) fail(n, "rate_limits", "must be a table of \"ENDPOINT\" = requests per second ([rate_limits])");
    for (const auto& [name, value] : in_file_order(*t)) {
      const std::string where = "rate_limits.\"" + printable(name) + "\"";
      auto it = limits.per_second.begin();
      while (it != limits.per_second.end() && it->first != name) ++it;
      if (it == limits.per_second.end()) {
        std::string known;
        for (const auto& [endpoint, rate] : limits.per_second) known += (known.empty() ? "" : ", ") + endpoint;
        fail(*value, where, "unknown endpoint; allowed (the path after /v5/): " + known);
      }
      it->second = static_cast<int>(whole(*value, where, 1, kMaxSandboxRateLimit));
    }
  }

  // A TOML integer in [lo, hi]; the message quotes a wrong number (never a string: it may be a
  // secret in the wrong place).
  std::int64_t whole(const toml::node& n, const std::string& where, std::int64_t lo, std::int64_t hi) const {
    const std::string rule = "must be a whole number in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
    const std::optional<std::int64_t> v = n.value_exact<std::int64_t>();
    if (!v) fail(n, where, rule);
    if (*v < lo || *v > hi) fail(n, where, rule + ", not " + std::to_string(*v));
    return *v;
  }

  // A decimal string (exact: parse_fixed, no float) in [lo, hi]; `range` says it in words.
  Fixed decimal(const toml::node& n, const std::string& where, Fixed lo, Fixed hi, std::string_view range) const {
    const std::string rule = "must be a decimal string " + std::string(range);
    if (n.is_floating_point() || n.is_integer()) fail(n, where, rule + ", quoted: a TOML number is not exact");
    const std::optional<std::string> s = n.value_exact<std::string>();
    Fixed v = 0;
    if (!s || !parse_fixed(*s, v)) fail(n, where, rule + ": not a decimal with at most 8 decimals");
    if (v < lo || v > hi) {
      char buf[kFixedMaxChars];
      fail(n, where, rule + ", not " + std::string(to_chars_fixed(v, buf)));
    }
    return v;
  }

  // No two accounts share a uid or an api_key (the key picks the account of a request). The
  // key is not quoted: it is half of the credentials.
  void check_unique(const std::vector<SandboxAccount>& accounts) const {
    std::unordered_map<std::uint64_t, std::size_t> uids;
    std::unordered_map<std::string_view, std::size_t> keys;
    for (std::size_t i = 0; i < accounts.size(); ++i) {
      const std::string at = file_ + ":" + std::to_string(lines_[i]) + ": account[" + std::to_string(i + 1) + "]";
      if (const auto [it, fresh] = uids.emplace(accounts[i].uid, i + 1); !fresh) {
        throw Refusal{at + ".uid: " + std::to_string(accounts[i].uid) + " is account[" + std::to_string(it->second) +
                      "]'s uid too; each account needs its own"};
      }
      if (const auto [it, fresh] = keys.emplace(accounts[i].api_key, i + 1); !fresh) {
        throw Refusal{at + ".api_key: the same as account[" + std::to_string(it->second) +
                      "]'s; each account needs its own key"};
      }
    }
  }

  const std::string& file_;
  std::vector<std::uint32_t> lines_;  // the line of each [[account]], for check_unique()
};

// An environment variable's value, nullptr when unset or empty.
const char* env_value(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : nullptr;
}

}  // namespace

bool load_sandbox_accounts(const std::string& path, SandboxAccounts& out, std::string& error) {
  std::string text;
  if (!read_private_file(path, kMaxSandboxAccountsFile, text, error)) {
    error = path + ": " + error;
    return false;
  }
  try {
    toml::table root;
    try {
      root = toml::parse(text, path);
    } catch (const toml::parse_error& e) {
      throw Refusal{path + ":" + std::to_string(e.source().begin.line) + ":" + std::to_string(e.source().begin.column) +
                    ": not valid TOML: " + syntax_reason(e.description())};
    }
    out = Reader(path).read(root);
    return true;
  } catch (const Refusal& r) {
    error = r.message;
    return false;
  }
}

bool sandbox_accounts_from_env(SandboxAccounts& out, std::string& error) {
  if (const char* file = env_value(kSandboxAccountsEnv)) {
    if (load_sandbox_accounts(file, out, error)) return true;
    error = std::string(kSandboxAccountsEnv) + ": " + error;
    return false;
  }
  const char* key = env_value(kSandboxApiKeyEnv);
  const char* secret = env_value(kSandboxApiSecretEnv);
  if (key == nullptr && secret == nullptr) {
    out = SandboxAccounts{};
    return true;
  }
  if (key == nullptr || secret == nullptr) {
    error = std::string(key == nullptr ? kSandboxApiSecretEnv : kSandboxApiKeyEnv) + " is set without " +
            (key == nullptr ? kSandboxApiKeyEnv : kSandboxApiSecretEnv) + "; set both, or " + kSandboxAccountsEnv +
            "=FILE, or neither";
    return false;
  }
  if (!valid_api_key(key)) {
    error = std::string(kSandboxApiKeyEnv) + ": " + std::string(kApiKeyRule);
    return false;
  }
  if (!valid_api_secret(secret)) {
    error = std::string(kSandboxApiSecretEnv) + ": " + std::string(kApiSecretRule);
    return false;
  }
  SandboxAccounts accounts;
  SandboxAccount& a = accounts.accounts.emplace_back();
  a.uid = 1;
  a.api_key = key;
  a.api_secret = secret;
  out = std::move(accounts);
  return true;
}

}  // namespace shadow
