// exchange/sandbox_accounts.{h,cc}: the sandbox's accounts file (every field, its defaults, file
// order), every bad key refused with the exact message (file, line, key, what is allowed), the
// file's privacy, the environment variants, and no API secret or key in any message.
#include "exchange/sandbox_accounts.h"
#include "tests/support/temp_dir.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using shadow::Fixed;
using shadow::SandboxAccounts;

// Every secret and key below carries one of these, so a test can see that no message quotes one.
constexpr const char* kSecretMark = "unter2";
constexpr const char* kKeyMark = "KeyMark";

const char* const kEnv[] = {shadow::kSandboxAccountsEnv, shadow::kSandboxApiKeyEnv, shadow::kSandboxApiSecretEnv};

class SandboxAccountsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp_.path().empty()) << "mkdtemp failed";
    for (const char* name : kEnv) ::unsetenv(name);
  }
  void TearDown() override {
    for (const char* name : kEnv) ::unsetenv(name);
  }
  // `text` as a private (0600) file.
  std::string file(const std::string& text, mode_t mode = 0600) {
    const std::string p = tmp_.write("accounts.toml", text);
    EXPECT_EQ(::chmod(p.c_str(), mode), 0);
    return p;
  }
  // The error of loading `text`, after checking that it failed, left `out` as it was and
  // quoted no secret and no key.
  std::string error_of(const std::string& text, mode_t mode = 0600) {
    SandboxAccounts out;
    out.accounts.emplace_back().uid = 77;  // must survive a failed load
    std::string error;
    EXPECT_FALSE(shadow::load_sandbox_accounts(file(text, mode), out, error)) << text;
    EXPECT_EQ(out.accounts.size(), 1u);
    EXPECT_EQ(out.accounts.at(0).uid, 77u);
    EXPECT_EQ(error.find(kSecretMark), std::string::npos) << error;
    EXPECT_EQ(error.find(kKeyMark), std::string::npos) << error;
    return error;
  }
  std::string path() const { return tmp_.file("accounts.toml"); }
  shadow::test_support::TempDir tmp_{"sandbox_accounts_test"};
};

// Account 1 (lines 1-4) with `extra` from line 5 on.
std::string one_account(const std::string& extra) {
  return "[[account]]\n"
         "uid = 1001\n"
         "api_key = \"KeyMark1\"\n"
         "api_secret = \"hunter2-One\"\n" +
         extra;
}

TEST_F(SandboxAccountsTest, AGoodFileGivesEveryFieldDefaultsAndFileOrder) {
  const std::string text = one_account(
                               "maker_fee_rate = \"-0.0001\"\n"
                               "taker_fee_rate = \"0.0006\"\n"
                               "leverage = 25\n"
                               "[account.wallet]\n"
                               "USDT = \"2500.5\"\n"
                               "BTC = \"2\"\n"
                               "ETH = \"0\"\n"
                               "\n"
                               "[[account]]\n"
                               "uid = 9007199254740991\n"
                               "api_key = \"KeyMark2\"\n"
                               "api_secret = \"!~hunter2\\\"x\"\n"  // any printable but space
                               "\n"
                               "[rate_limits]\n"
                               "\"order/create\" = 20\n"
                               "\"account/wallet-balance\" = 10000\n");
  SandboxAccounts out;
  std::string error;
  ASSERT_TRUE(shadow::load_sandbox_accounts(file(text), out, error)) << error;
  ASSERT_EQ(out.accounts.size(), 2u);
  const shadow::SandboxAccount& a = out.accounts[0];
  EXPECT_EQ(a.uid, 1001u);
  EXPECT_EQ(a.api_key, "KeyMark1");
  EXPECT_EQ(a.api_secret, "hunter2-One");
  EXPECT_EQ(a.maker_fee_rate, -10'000);
  EXPECT_EQ(a.taker_fee_rate, 60'000);
  EXPECT_EQ(a.leverage, 25);
  // File order, not the key order toml++ keeps.
  const std::vector<std::pair<std::string, Fixed>> wallet{
      {"USDT", 250'050'000'000}, {"BTC", 200'000'000}, {"ETH", 0}};
  EXPECT_EQ(a.wallet, wallet);
  const shadow::SandboxAccount& b = out.accounts[1];
  EXPECT_EQ(b.uid, 9'007'199'254'740'991u);
  EXPECT_EQ(b.api_secret, "!~hunter2\"x");
  EXPECT_EQ(b.maker_fee_rate, 20'000);  // 0.0002
  EXPECT_EQ(b.taker_fee_rate, 55'000);  // 0.00055
  EXPECT_EQ(b.leverage, 10);
  const std::vector<std::pair<std::string, Fixed>> usdt{{"USDT", 100'000 * shadow::kFixedScale}};
  EXPECT_EQ(b.wallet, usdt);

  EXPECT_EQ(out.find_key("KeyMark2"), &out.accounts[1]);
  EXPECT_EQ(out.find_key("KeyMark1"), &out.accounts[0]);
  EXPECT_EQ(out.find_key("KeyMark"), nullptr);
  EXPECT_EQ(out.find_key(""), nullptr);

  EXPECT_EQ(out.limits.limit("order/create"), 20);
  EXPECT_EQ(out.limits.limit("account/wallet-balance"), 10'000);
  EXPECT_EQ(out.limits.limit("order/amend"), 10);     // Bybit's figure, untouched
  EXPECT_EQ(out.limits.limit("order/history"), 50);
  EXPECT_EQ(out.limits.limit("market/time"), 0);      // public: no per-account limit
  EXPECT_EQ(out.limits.per_second.size(), shadow::default_sandbox_rate_limits().size());
}

TEST_F(SandboxAccountsTest, TheExampleOfTheDocsLoadsAsTheDocsSay) {
  std::ifstream in(SHADOW_SOURCE_DIR "/docs/SANDBOX.md");
  ASSERT_TRUE(in) << SHADOW_SOURCE_DIR "/docs/SANDBOX.md";
  std::stringstream doc;
  doc << in.rdbuf();
  const std::string md = doc.str();
  const std::size_t start = md.find("```toml\n");
  ASSERT_NE(start, std::string::npos) << "no ```toml block in docs/SANDBOX.md";
  const std::size_t end = md.find("```", start + 8);
  ASSERT_NE(end, std::string::npos);
  SandboxAccounts out;
  std::string error;
  ASSERT_TRUE(shadow::load_sandbox_accounts(file(md.substr(start + 8, end - start - 8)), out, error)) << error;
  ASSERT_EQ(out.accounts.size(), 2u);
  EXPECT_EQ(out.accounts[0].uid, 1001u);
  EXPECT_EQ(out.accounts[0].wallet.size(), 2u);
  EXPECT_EQ(out.accounts[1].uid, 1002u);
  EXPECT_EQ(out.accounts[1].leverage, 10);
  EXPECT_EQ(out.limits.limit("order/create"), 10);
}

TEST_F(SandboxAccountsTest, DefaultRateLimitsAreBybitsFigures) {
  const shadow::SandboxRateLimits limits;
  for (const char* e : {"order/create", "order/amend", "order/cancel", "order/cancel-all", "order/create-batch",
                        "order/cancel-batch"}) {
    EXPECT_EQ(limits.limit(e), 10) << e;
  }
  for (const char* e : {"order/realtime", "order/history", "execution/list", "position/list",
                        "account/wallet-balance"}) {
    EXPECT_EQ(limits.limit(e), 50) << e;
  }
  EXPECT_EQ(limits.limit("order/disconnected-cancel-all"), 5);  // Bybit: 5/s for every product
  for (const char* e : {"order/create@spot", "order/cancel@spot", "order/cancel-all@spot", "order/create-batch@spot",
                        "order/cancel-batch@spot"}) {
    EXPECT_EQ(limits.limit(e), 20) << e;  // spot's column of Bybit's table
  }
  EXPECT_EQ(limits.limit("order/amend@spot"), 10);
}

struct BadCase {
  std::string text;
  std::string message;  // after "FILE:"
};

TEST_F(SandboxAccountsTest, EveryBadKeyIsRefusedWithFileLineKeyAndWhatIsAllowed) {
  const std::string uid_rule = "must be a whole number in [1, 9007199254740991]";
  const std::string key_rule = "must be 1..64 characters of A-Z, a-z and 0-9";
  const std::string secret_rule = "must be 1..128 printable characters without spaces";
  const std::string maker = "must be a decimal string in [-0.01, 0.01] (e.g. \"0.0002\"; < 0: a rebate)";
  const std::string taker = "must be a decimal string in [0, 0.01] (e.g. \"0.00055\")";
  const std::string balance = "must be a decimal string in [0, 92233720368] (e.g. \"100000\")";
  const auto account = [](const std::string& uid, const std::string& key, const std::string& secret) {
    return "[[account]]\nuid = " + uid + "\napi_key = " + key + "\napi_secret = " + secret + "\n";
  };
  const std::string key = "\"KeyMark1\"", secret = "\"hunter2\"";
  const std::vector<BadCase> cases = {
      {account("0", key, secret), "2: account[1].uid: " + uid_rule + ", not 0"},
      {account("9007199254740992", key, secret), "2: account[1].uid: " + uid_rule + ", not 9007199254740992"},
      {account("-5", key, secret), "2: account[1].uid: " + uid_rule + ", not -5"},
      {account("\"1001\"", key, secret), "2: account[1].uid: " + uid_rule},
      {account("1001.0", key, secret), "2: account[1].uid: " + uid_rule},
      {account("1", "\"KeyMark-1\"", secret), "3: account[1].api_key: " + key_rule},
      {account("1", "\"\"", secret), "3: account[1].api_key: " + key_rule},
      {account("1", "\"KeyMark" + std::string(58, 'k') + "\"", secret), "3: account[1].api_key: " + key_rule},
      {account("1", "42", secret), "3: account[1].api_key: " + key_rule},
      {account("1", key, "\"hunter2 with space\""), "4: account[1].api_secret: " + secret_rule},
      {account("1", key, "\"hunter2\\ttab\""), "4: account[1].api_secret: " + secret_rule},
      {account("1", key, "\"hunter2\\u00e9\""), "4: account[1].api_secret: " + secret_rule},
      {account("1", key, "\"\""), "4: account[1].api_secret: " + secret_rule},
      {account("1", key, "\"hunter2" + std::string(122, 'x') + "\""), "4: account[1].api_secret: " + secret_rule},
      {one_account("maker_fee_rate = \"0.02\"\n"), "5: account[1].maker_fee_rate: " + maker + ", not 0.02"},
      {one_account("maker_fee_rate = \"-0.0100001\"\n"), "5: account[1].maker_fee_rate: " + maker + ", not -0.0100001"},
      {one_account("maker_fee_rate = 0.0002\n"),
       "5: account[1].maker_fee_rate: " + maker + ", quoted: a TOML number is not exact"},
      {one_account("taker_fee_rate = \"-0.0001\"\n"), "5: account[1].taker_fee_rate: " + taker + ", not -0.0001"},
      {one_account("taker_fee_rate = \"0.010000001\"\n"),
       "5: account[1].taker_fee_rate: " + taker + ": not a decimal with at most 8 decimals"},
      {one_account("taker_fee_rate = \"1e-4\"\n"),
       "5: account[1].taker_fee_rate: " + taker + ": not a decimal with at most 8 decimals"},
      {one_account("taker_fee_rate = 0\n"),
       "5: account[1].taker_fee_rate: " + taker + ", quoted: a TOML number is not exact"},
      {one_account("leverage = 0\n"), "5: account[1].leverage: must be a whole number in [1, 100], not 0"},
      {one_account("leverage = 101\n"), "5: account[1].leverage: must be a whole number in [1, 100], not 101"},
      {one_account("leverage = \"10\"\n"), "5: account[1].leverage: must be a whole number in [1, 100]"},
      {one_account("leverage = true\n"), "5: account[1].leverage: must be a whole number in [1, 100]"},
      {one_account("wallet = \"USDT\"\n"),
       "5: account[1].wallet: must be a table of COIN = \"balance\" ([account.wallet])"},
      {one_account("[account.wallet]\nUSDT = \"1\"\nusdc = \"1\"\n"),
       "7: account[1].wallet.usdc: a coin is 1..10 characters of A-Z and 0-9 (e.g. USDT)"},
      {one_account("[account.wallet]\nABCDEFGHIJK = \"1\"\n"),
       "6: account[1].wallet.ABCDEFGHIJK: a coin is 1..10 characters of A-Z and 0-9 (e.g. USDT)"},
      {one_account("[account.wallet]\nUSDT = \"-1\"\n"), "6: account[1].wallet.USDT: " + balance + ", not -1"},
      {one_account("[account.wallet]\nUSDT = 100\n"),
       "6: account[1].wallet.USDT: " + balance + ", quoted: a TOML number is not exact"},
      {one_account("[account.wallet]\nUSDT = \"100000000000\"\n"),
       "6: account[1].wallet.USDT: " + balance + ": not a decimal with at most 8 decimals"},  // over Fixed's range
      {one_account("fee = \"0.1\"\n"),
       "5: account[1].fee: unknown key; allowed: uid, api_key, api_secret, maker_fee_rate, taker_fee_rate, leverage, "
       "wallet"},
      {"[[account]]\napi_key = \"KeyMark1\"\napi_secret = \"hunter2\"\n",
       "1: account[1].uid: missing; each [[account]] needs uid, api_key and api_secret"},
      {"[[account]]\nuid = 1\napi_secret = \"hunter2\"\n",
       "1: account[1].api_key: missing; each [[account]] needs uid, api_key and api_secret"},
      {one_account("\n[[account]]\nuid = 2\napi_key = \"KeyMark2\"\n"),
       "6: account[2].api_secret: missing; each [[account]] needs uid, api_key and api_secret"},
      {one_account("\n[[account]]\nuid = 2\napi_key = \"KeyMark2\"\napi_secret = \"hunter2\"\ntaker_fee_rate = \"1\"\n"),
       "10: account[2].taker_fee_rate: " + taker + ", not 1"},
      {one_account("\n[[account]]\nuid = 1001\napi_key = \"KeyMark2\"\napi_secret = \"hunter2-Two\"\n"),
       "6: account[2].uid: 1001 is account[1]'s uid too; each account needs its own"},
      {one_account("\n[[account]]\nuid = 1002\napi_key = \"KeyMark1\"\napi_secret = \"hunter2-Two\"\n"),
       "6: account[2].api_key: the same as account[1]'s; each account needs its own key"},
      {"fees = 1\n" + one_account(""), "1: fees: unknown key; allowed: [[account]], [rate_limits]"},
      {"account = 1\n", "1: account: must be tables ([[account]])"},
      {"[account]\nuid = 1\n", "1: account: must be tables ([[account]])"},
      {one_account("[rate_limits]\n\"order/create\" = 0\n"),
       "6: rate_limits.\"order/create\": must be a whole number in [1, 10000], not 0"},
      {one_account("[rate_limits]\n\"order/cancel\" = 10001\n"),
       "6: rate_limits.\"order/cancel\": must be a whole number in [1, 10000], not 10001"},
      {one_account("[rate_limits]\n\"order/create\" = \"10\"\n"),
       "6: rate_limits.\"order/create\": must be a whole number in [1, 10000]"},
      {one_account("[rate_limits]\n\"market/time\" = 10\n"),
       "6: rate_limits.\"market/time\": unknown endpoint; allowed (the path after /v5/): order/create, order/amend, "
       "order/cancel, order/cancel-all, order/create-batch, order/cancel-batch, order/create@spot, order/amend@spot, "
       "order/cancel@spot, order/cancel-all@spot, order/create-batch@spot, order/cancel-batch@spot, "
       "order/disconnected-cancel-all, order/realtime, order/history, execution/list, position/list, "
       "account/wallet-balance"},
      {"rate_limits = 5\n" + one_account(""),
       "1: rate_limits: must be a table of \"ENDPOINT\" = requests per second ([rate_limits])"},
  };
  for (const BadCase& c : cases) EXPECT_EQ(error_of(c.text), path() + ":" + c.message) << c.text;
}

TEST_F(SandboxAccountsTest, TheFirstErrorInTheFileIsTheOneReported) {
  // toml++ keeps keys sorted: "uid" after "leverage"; the file's own order decides.
  EXPECT_EQ(error_of("[[account]]\nuid = 0\nleverage = 0\n"),
            path() + ":2: account[1].uid: must be a whole number in [1, 9007199254740991], not 0");
}

TEST_F(SandboxAccountsTest, AFileWithoutAccountsIsRefused) {
  EXPECT_EQ(error_of(""), path() + ": no [[account]]; at least one is needed");
  EXPECT_EQ(error_of("[rate_limits]\n\"order/create\" = 5\n"), path() + ": no [[account]]; at least one is needed");
}

TEST_F(SandboxAccountsTest, ASyntaxErrorGivesThePlaceButNoneOfTheText) {
  // toml++ would quote "\q" and "'h'": pieces of the secret.
  std::string text = one_account("");
  text.insert(text.find("hunter2-One") + 7, "\\q");  // "hunter2\q-One"
  std::string e = error_of(text);
  EXPECT_EQ(e.rfind(path() + ":4:", 0), 0u) << e;
  EXPECT_NE(e.find(": not valid TOML: Error while parsing string: unknown escape sequence"), std::string::npos) << e;
  EXPECT_EQ(e.find("\\q"), std::string::npos) << e;
  e = error_of("[[account]]\nuid = 1\napi_key = \"KeyMark1\"\napi_secret = hunter2\n");
  EXPECT_EQ(e, path() + ":4:14: not valid TOML: Error while parsing value: could not determine value type");
  e = error_of("[[account]]\nuid = 1\napi_key = \"KeyMark1\"\napi_secret = \"x\" hunter2\n");
  EXPECT_EQ(e, path() + ":4:18: not valid TOML: Error while parsing key-value pair: expected a comment or whitespace");
  e = error_of("[[account]]\nuid = 1\napi_key = \"KeyMark1\"\napi_secret = \"hunter2\n");
  EXPECT_EQ(e.rfind(path() + ":4:", 0), 0u) << e;
}

TEST_F(SandboxAccountsTest, AFileOthersCanReadIsRefused) {
  EXPECT_EQ(error_of(one_account(""), 0644),
            path() + ": mode 0644 lets others read it; allowed: 0600 or stricter (chmod 600 " + path() + ")");
  EXPECT_EQ(error_of(one_account(""), 0640),
            path() + ": mode 0640 lets others read it; allowed: 0600 or stricter (chmod 600 " + path() + ")");
  SandboxAccounts out;
  std::string error;
  EXPECT_FALSE(shadow::load_sandbox_accounts(tmp_.file("absent.toml"), out, error));
  EXPECT_EQ(error, tmp_.file("absent.toml") + ": cannot open: No such file or directory");
  EXPECT_FALSE(shadow::load_sandbox_accounts("/dev/zero", out, error));
  EXPECT_EQ(error, "/dev/zero: is a character device, not a regular file");
}

TEST_F(SandboxAccountsTest, TheEnvironmentGivesNothingAFileOrOneAccount) {
  SandboxAccounts out;
  out.accounts.emplace_back();
  std::string error;
  ASSERT_TRUE(shadow::sandbox_accounts_from_env(out, error)) << error;  // nothing set
  EXPECT_TRUE(out.accounts.empty());

  ::setenv(shadow::kSandboxApiKeyEnv, "KeyMarkEnv", 1);
  ::setenv(shadow::kSandboxApiSecretEnv, "hunter2-env", 1);
  ASSERT_TRUE(shadow::sandbox_accounts_from_env(out, error)) << error;
  ASSERT_EQ(out.accounts.size(), 1u);
  EXPECT_EQ(out.accounts[0].uid, 1u);
  EXPECT_EQ(out.accounts[0].api_key, "KeyMarkEnv");
  EXPECT_EQ(out.accounts[0].api_secret, "hunter2-env");
  EXPECT_EQ(out.accounts[0].maker_fee_rate, 20'000);
  EXPECT_EQ(out.accounts[0].taker_fee_rate, 55'000);
  EXPECT_EQ(out.accounts[0].leverage, 10);
  EXPECT_EQ(out.accounts[0].wallet.size(), 1u);
  EXPECT_EQ(out.limits.limit("order/create"), 10);

  // The file wins over the pair.
  ::setenv(shadow::kSandboxAccountsEnv, file(one_account("")).c_str(), 1);
  ASSERT_TRUE(shadow::sandbox_accounts_from_env(out, error)) << error;
  ASSERT_EQ(out.accounts.size(), 1u);
  EXPECT_EQ(out.accounts[0].uid, 1001u);
  EXPECT_EQ(out.accounts[0].api_key, "KeyMark1");

  // An empty variable counts as unset.
  ::setenv(shadow::kSandboxAccountsEnv, "", 1);
  ASSERT_TRUE(shadow::sandbox_accounts_from_env(out, error)) << error;
  EXPECT_EQ(out.accounts.at(0).api_key, "KeyMarkEnv");
}

TEST_F(SandboxAccountsTest, EnvironmentErrorsNameTheVariableAndNeverTheValue) {
  SandboxAccounts out;
  std::string error;
  const auto refused = [&]() {
    EXPECT_FALSE(shadow::sandbox_accounts_from_env(out, error));
    EXPECT_EQ(error.find(kSecretMark), std::string::npos) << error;
    EXPECT_EQ(error.find(kKeyMark), std::string::npos) << error;
    return error;
  };
  ::setenv(shadow::kSandboxApiKeyEnv, "KeyMarkEnv", 1);
  EXPECT_EQ(refused(), "SHADOW_SANDBOX_API_KEY is set without SHADOW_SANDBOX_API_SECRET; set both, or "
                       "SHADOW_SANDBOX_ACCOUNTS=FILE, or neither");
  ::unsetenv(shadow::kSandboxApiKeyEnv);
  ::setenv(shadow::kSandboxApiSecretEnv, "hunter2-env", 1);
  EXPECT_EQ(refused(), "SHADOW_SANDBOX_API_SECRET is set without SHADOW_SANDBOX_API_KEY; set both, or "
                       "SHADOW_SANDBOX_ACCOUNTS=FILE, or neither");
  ::setenv(shadow::kSandboxApiKeyEnv, "KeyMark_env", 1);
  EXPECT_EQ(refused(), "SHADOW_SANDBOX_API_KEY: must be 1..64 characters of A-Z, a-z and 0-9");
  ::setenv(shadow::kSandboxApiKeyEnv, "KeyMarkEnv", 1);
  ::setenv(shadow::kSandboxApiSecretEnv, "hunter2 env", 1);
  EXPECT_EQ(refused(), "SHADOW_SANDBOX_API_SECRET: must be 1..128 printable characters without spaces");
  ::setenv(shadow::kSandboxAccountsEnv, file(one_account(""), 0604).c_str(), 1);
  EXPECT_EQ(refused(), "SHADOW_SANDBOX_ACCOUNTS: " + path() +
                           ": mode 0604 lets others read it; allowed: 0600 or stricter (chmod 600 " + path() + ")");
  ::setenv(shadow::kSandboxAccountsEnv, file(one_account("leverage = 0\n")).c_str(), 1);
  EXPECT_EQ(refused(), "SHADOW_SANDBOX_ACCOUNTS: " + path() +
                           ":5: account[1].leverage: must be a whole number in [1, 100], not 0");
}

}  // namespace
