// libFuzzer target: arbitrary bytes as shadow-run's TOML config (issue 11). The text goes
// through the same parser as `--config FILE` (toml++ and the key table), then finalize()'s
// cross-field checks. The contract: every input either yields a config whose values lie in the
// key table's ranges and whose canonical JSON and hash are rendered, or a ConfigError naming
// where — never a crash, an abort, another exception, or a hang. Built with -fsanitize=fuzzer
// when SHADOW_BUILD_FUZZERS=ON, else linked with replay_main.cc as config_fuzz_replay.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "pipeline/config_keys.h"
#include "pipeline/run_config.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  shadow::RunConfig c;
  try {
    c = shadow::parse_run_config(text, "fuzz.toml");
  } catch (const shadow::ConfigError& e) {
    const std::string_view what = e.what();
    SHADOW_FUZZ_CHECK(what.substr(0, 10) == "fuzz.toml:");  // every error names the file
    return 0;
  }
  // Files a config may name (latency samples, a password file) are read by finalize(); the
  // fuzzer must not wander over the disk, so those keys are cleared: their reading has its own
  // tests (bounded_file_test, shadow_run_input_test).
  c.latency_samples_file.clear();
  c.redis_password_file.clear();
  try {
    c.finalize();
  } catch (const shadow::ConfigError& e) {
    SHADOW_FUZZ_CHECK(std::string_view(e.what()).find(": ") != std::string_view::npos);
    return 0;
  }
  // A config that passed: every key's value is inside the table's range, and it rendered.
  for (const shadow::ConfigKey& k : shadow::config_keys()) {
    SHADOW_FUZZ_CHECK(shadow::check_value(k, shadow::load_value(k, c)).empty());
  }
  SHADOW_FUZZ_CHECK(c.hash.size() == 64);
  SHADOW_FUZZ_CHECK(!c.json.empty() && c.json.front() == '{' && c.json.back() == '}');
  return 0;
}
