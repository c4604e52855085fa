# shadow-record end to end: our WebSocket client against an independent python3-websockets
# server (tests/peers/capture_server.py) serving ../shared/data; the recorded book trace must
# equal shadow-replay's. Skips (77) when the data or the websockets module is missing.
if(TARGET shadow-record AND TARGET shadow-replay)
  add_test(NAME record_cli_test
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/record_cli_test.py
            $<TARGET_FILE:shadow-record> $<TARGET_FILE:shadow-replay> ${SHADOW_DATA_DIR})
  set_tests_properties(record_cli_test PROPERTIES
    LABELS "integration;data" SKIP_RETURN_CODE 77 TIMEOUT 300)
endif()
