# feed/: shadow's simdjson On-Demand decoders against RapidJSON and nlohmann::json decoders
# doing the same work (same events, same parse_fixed) on the recorded samples
# (header-only peers: Debian rapidjson-dev, nlohmann-json3-dev).
shadow_add_benchmark(decoder_benchmark
  SOURCES decoder_benchmark.cc
  DEPS shadow::feed)
