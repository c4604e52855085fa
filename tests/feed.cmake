# feed/ tests: decoders on hand-written messages (unit), on the recorded samples (data), the
# no-allocation contract (data), and fuzz targets or their corpus replayers (fuzz).
shadow_add_test(bybit_decoder_test SOURCES bybit_decoder_test.cc DEPS shadow::feed LABELS unit)
shadow_add_test(binance_decoder_test SOURCES binance_decoder_test.cc DEPS shadow::feed LABELS unit)
shadow_add_test(decoder_data_test SOURCES decoder_data_test.cc DEPS shadow::feed LABELS data)
shadow_add_test(decoder_alloc_test SOURCES decoder_alloc_test.cc support/counting_new.cc DEPS shadow::feed LABELS unit data)

# Fuzz targets. With SHADOW_BUILD_FUZZERS (clang) they are libFuzzer programs; the fuzzer and
# sanitizer flags are scoped to these targets so the rest of the build keeps its own flags.
# Without it, each target is linked with replay_main.cc into <name>_replay and a ctest (label
# fuzz) replays the in-repo corpus plus the recorded samples (one input per line).
foreach(fuzzer bybit_decoder_fuzz binance_decoder_fuzz)
  string(REGEX REPLACE "_decoder_fuzz$" "" venue ${fuzzer})
  if(SHADOW_BUILD_FUZZERS)
    add_executable(${fuzzer} fuzz/${fuzzer}.cc)
    target_link_libraries(${fuzzer} PRIVATE shadow::feed)
    target_compile_options(${fuzzer} PRIVATE -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer)
    target_link_options(${fuzzer} PRIVATE -fsanitize=fuzzer,address,undefined)
  else()
    add_executable(${fuzzer}_replay fuzz/${fuzzer}.cc fuzz/replay_main.cc)
    target_link_libraries(${fuzzer}_replay PRIVATE shadow::feed)
    add_test(NAME ${fuzzer}_replay
      COMMAND ${fuzzer}_replay ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/${venue}
              ${SHADOW_DATA_DIR}/bybit/xrpusdt_ob500_2024-12-01.jsonl
              ${SHADOW_DATA_DIR}/binance/spot_btcusdt_20240808.gz)
    set_tests_properties(${fuzzer}_replay PROPERTIES LABELS fuzz)
  endif()
endforeach()
