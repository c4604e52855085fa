// The exit-code contract of every shadow program (../shared/DESIGN.md "Exit codes"), so a CI
// job or an operator's script can tell a verdict from bad input from a broken host.
#pragma once

namespace shadow {

enum ExitCode : int {
  kExitOk = 0,              // success (a gate: PASS, or HOLD without --fail-on-hold)
  kExitHold = 1,            // completed, verdict HOLD (gates run with --fail-on-hold)
  kExitBadInput = 2,        // bad input or usage; the message names the file/line or flag/key
                            // and the allowed range
  kExitRuntimeFailure = 3,  // venue unreachable after the give-up policy, disk full, TLS failure
  kExitSignalBase = 128,    // 128 + N: stopped by signal N, artifacts complete
};

}  // namespace shadow
