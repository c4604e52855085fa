#include "pipeline/dryrun_config.h"

#include <toml++/toml.h>

#include <cstdlib>
#include <string_view>

#include "core/host_port.h"
#include "core/input_text.h"
#include "core/private_file.h"
#include "feed/websocket_handshake.h"

namespace shadow {
namespace {

// Bybit v5 "Integration Guidance": REST hosts and the private stream of mainnet and testnet.
constexpr std::string_view kBybitRest = "https://api.bybit.com";
constexpr std::string_view kBybitTestnetRest = "https://api-testnet.bybit.com";
constexpr std::string_view kBybitPrivate = "wss://stream.bybit.com/v5/private";
constexpr std::string_view kBybitTestnetPrivate = "wss://stream-testnet.bybit.com/v5/private";

bool is_bybit_preset(VenueKind v) noexcept {
  return v == VenueKind::kBybitLinear || v == VenueKind::kBybitSpot || v == VenueKind::kBybitLinearTestnet ||
         v == VenueKind::kBybitSpotTestnet;
}

void check_rest_url(const std::string& u, const std::string& where) {
  std::string problem;
  const bool scheme_ok = u.rfind("https://", 0) == 0 || u.rfind("http://", 0) == 0;
  if (!check_url_text(u, problem) || !scheme_ok) {
    throw ConfigError(where + "dryrun.rest_url (--dryrun-rest-url): expected http(s)://HOST[:PORT], got " +
                      (problem.empty() ? "'" + printable(u, 200) + "'" : problem));
  }
}

void check_private_url(const std::string& u, const std::string& where) {
  WsUrl parsed;
  std::string err;
  if (!parse_ws_url(u, parsed, err)) throw ConfigError(where + "dryrun.private_url (--dryrun-private-url): " + err);
}

// One credential: printable ASCII, no spaces, 1..kMaxCredential bytes. The value is never quoted.
void check_credential(std::string_view v, const std::string& what) {
  if (v.empty() || v.size() > kMaxCredential) {
    throw ConfigError(what + ": must be 1 to " + std::to_string(kMaxCredential) + " characters, not " +
                      std::to_string(v.size()));
  }
  for (const char ch : v) {
    if (static_cast<unsigned char>(ch) <= 0x20 || static_cast<unsigned char>(ch) >= 0x7f) {
      throw ConfigError(what + ": holds a space, a control byte or a non-ASCII byte");
    }
  }
}

void read_keys_file(RunConfig& c, const std::string& where) {
  const std::string key = where + "dryrun.keys_file (--dryrun-keys-file): " + c.dryrun_keys_file;
  std::string text, err;
  if (!read_private_file(c.dryrun_keys_file, kMaxKeysFile, text, err)) throw ConfigError(key + ": " + err);
  toml::table t;
  try {
    t = toml::parse(text, c.dryrun_keys_file);
  } catch (const toml::parse_error& e) {
    // The message names the line; the parser's description never holds the file's text.
    throw ConfigError(key + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
  }
  for (const auto& [k, v] : t) {
    if (k.str() != "api_key" && k.str() != "api_secret") {
      throw ConfigError(key + ": unknown key '" + printable(k.str(), 40) + "' (allowed: api_key, api_secret)");
    }
  }
  const auto* api_key = t["api_key"].as_string();
  const auto* api_secret = t["api_secret"].as_string();
  if (api_key == nullptr || api_secret == nullptr) throw ConfigError(key + ": needs api_key and api_secret (strings)");
  c.dryrun_api_key = api_key->get();
  c.dryrun_api_secret = api_secret->get();
  check_credential(c.dryrun_api_key, key + ": api_key");
  check_credential(c.dryrun_api_secret, key + ": api_secret");
}

void read_keys_env(RunConfig& c, const std::string& where) {
  const char* k = std::getenv(kDryRunApiKeyEnv);
  const char* s = std::getenv(kDryRunApiSecretEnv);
  if (k == nullptr || s == nullptr) {
    throw ConfigError(where + "dry-run on " + std::string(to_string(c.venue)) +
                      " needs an API key: set dryrun.keys_file (--dryrun-keys-file, a TOML file of mode 0600 with "
                      "api_key and api_secret) or " + kDryRunApiKeyEnv + " and " + kDryRunApiSecretEnv);
  }
  c.dryrun_api_key = k;
  c.dryrun_api_secret = s;
  check_credential(c.dryrun_api_key, where + kDryRunApiKeyEnv);
  check_credential(c.dryrun_api_secret, where + kDryRunApiSecretEnv);
}

}  // namespace

void finalize_dryrun(RunConfig& c, const std::string& where) {
  c.dryrun_api_key.clear();
  c.dryrun_api_secret.clear();
  if (c.mode != RunMode::kDryRun) return;
  if (c.venue == VenueKind::kReplay || (is_preset(c.venue) && !is_bybit_preset(c.venue))) {
    throw ConfigError(where + "run.mode (--mode): dry-run sends real orders through Bybit's v5 trading API: "
                      "venue.kind must be embedded, url or a Bybit preset, not " + std::string(to_string(c.venue)));
  }
  if (c.venue == VenueKind::kUrl && (c.dryrun_rest_url.empty() || c.dryrun_private_url.empty())) {
    throw ConfigError(where + "dryrun.rest_url and dryrun.private_url: both required for a dry-run with venue.kind url");
  }
  if (!c.dryrun_rest_url.empty()) check_rest_url(c.dryrun_rest_url, where);
  if (!c.dryrun_private_url.empty()) check_private_url(c.dryrun_private_url, where);
  if (!c.dryrun_keys_file.empty()) {
    read_keys_file(c, where);
  } else if (c.venue != VenueKind::kEmbedded) {
    read_keys_env(c, where);
  }
}

DryRunEndpoints dryrun_endpoints(const RunConfig& c, const std::string& embedded_rest_url,
                                 const std::string& embedded_ws_url) {
  DryRunEndpoints e;
  const bool spot = c.venue == VenueKind::kBybitSpot || c.venue == VenueKind::kBybitSpotTestnet;
  e.category = spot ? "spot" : "linear";
  const bool testnet = c.venue == VenueKind::kBybitLinearTestnet || c.venue == VenueKind::kBybitSpotTestnet;
  if (c.venue == VenueKind::kEmbedded) {
    e.rest_url = embedded_rest_url;
    // ws://127.0.0.1:PORT/v5/public/linear → ws://127.0.0.1:PORT/v5/private
    const std::size_t v5 = embedded_ws_url.find("/v5/");
    e.private_url = (v5 == std::string::npos ? embedded_ws_url : embedded_ws_url.substr(0, v5)) + "/v5/private";
  } else {
    e.rest_url = std::string(testnet ? kBybitTestnetRest : kBybitRest);
    e.private_url = std::string(testnet ? kBybitTestnetPrivate : kBybitPrivate);
  }
  if (!c.dryrun_rest_url.empty()) e.rest_url = c.dryrun_rest_url;
  if (!c.dryrun_private_url.empty()) e.private_url = c.dryrun_private_url;
  return e;
}

}  // namespace shadow
