// libFuzzer target: arbitrary bytes into BybitDecoder. Built with -fsanitize=fuzzer when
// SHADOW_BUILD_FUZZERS=ON, else linked with replay_main.cc as bybit_decoder_fuzz_replay.
#include <cstddef>
#include <cstdint>

#include "feed/bybit_decoder.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The decoder as it runs (one-pass path first) against one that reads through simdjson only.
  static shadow::SymbolTable symbols, reference_symbols;
  static shadow::BybitDecoder decoder(symbols);
  static shadow::BybitDecoder reference(reference_symbols);
  reference.set_one_pass(false);
  return shadow::fuzz::run_both_paths(decoder, reference, data, size);
}
