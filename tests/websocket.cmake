# RFC 6455 client protocol layer (feed/websocket_frame.*, feed/websocket_handshake.*): unit
# tests, and the fuzz target or its corpus replayer (label fuzz).
shadow_add_test(websocket_test SOURCES websocket_test.cc support/counting_new.cc DEPS shadow::feed LABELS unit)

if(SHADOW_BUILD_FUZZERS)
  add_executable(websocket_fuzz fuzz/websocket_fuzz.cc)
  target_link_libraries(websocket_fuzz PRIVATE shadow::feed)
  target_compile_options(websocket_fuzz PRIVATE -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer)
  target_link_options(websocket_fuzz PRIVATE -fsanitize=fuzzer,address,undefined)
else()
  add_executable(websocket_fuzz_replay fuzz/websocket_fuzz.cc fuzz/replay_main.cc)
  target_link_libraries(websocket_fuzz_replay PRIVATE shadow::feed)
  add_test(NAME websocket_fuzz_replay
    COMMAND websocket_fuzz_replay ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/websocket)
  set_tests_properties(websocket_fuzz_replay PROPERTIES LABELS fuzz)
endif()
