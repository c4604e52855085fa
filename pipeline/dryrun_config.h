// The dry-run part of RunConfig (run.mode = dry-run, the [dryrun] keys; docs/DRYRUN.md): which
// venue the real orders go to, with which credentials, and the checks finalize() runs on them.
//
// Venues: the embedded sandbox (venue.kind = embedded: shadow-run starts shadow-exchange with
// its trading API on and a fresh key made for the run), the Bybit presets (bybit-linear,
// bybit-spot and their -testnet twins: Bybit's own trading endpoints), or venue.kind = url with
// dryrun.rest_url and dryrun.private_url. Binance presets and replays cannot dry-run.
//
// Credentials: dryrun.keys_file (a TOML file of mode 0600 with api_key and api_secret), else
// SHADOW_BYBIT_API_KEY and SHADOW_BYBIT_API_SECRET. Never from argv, never printed, never in the
// canonical JSON.
#pragma once

#include <string>

#include "pipeline/run_config.h"

namespace shadow {

// Bounds on a credentials file and on each credential.
inline constexpr std::size_t kMaxKeysFile = 4096;
inline constexpr std::size_t kMaxCredential = 256;

// Where the real orders go.
struct DryRunEndpoints {
  std::string rest_url;     // http(s)://HOST[:PORT]
  std::string private_url;  // ws(s)://HOST[:PORT]/v5/private
  std::string category;     // linear | spot
};

// finalize()'s dry-run checks (a no-op in shadow mode): the venue can dry-run, the URLs parse,
// the credentials are readable (not for the embedded sandbox, which gets a fresh key); fills
// c.dryrun_api_key / dryrun_api_secret. Throws ConfigError naming the key.
void finalize_dryrun(RunConfig& c, const std::string& where);

// The endpoints of a finalized dry-run config; for the embedded sandbox, its REST URL and its
// public WebSocket URL as the started exchange printed them.
DryRunEndpoints dryrun_endpoints(const RunConfig& c, const std::string& embedded_rest_url,
                                 const std::string& embedded_ws_url);

}  // namespace shadow
