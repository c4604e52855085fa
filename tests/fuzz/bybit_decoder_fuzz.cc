// libFuzzer target: arbitrary bytes into BybitDecoder. Built with -fsanitize=fuzzer when
// SHADOW_BUILD_FUZZERS=ON, else linked with replay_main.cc as bybit_decoder_fuzz_replay.
#include <cstddef>
#include <cstdint>

#include "feed/bybit_decoder.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static shadow::SymbolTable symbols;
  static shadow::BybitDecoder decoder(symbols);
  return shadow::fuzz::run_one(decoder, data, size);
}
