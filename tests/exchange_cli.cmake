# The embedded exchange's WebSocket server: the server-side RFC 6455 pieces (feed/ws_server.h)
# and tools/shadow-exchange end to end against python3-websockets (skips with 77 when no Python
# with the websockets module is found; the script re-runs itself with /usr/bin/python3). The
# replay tests read the recorded samples in SHADOW_DATA_DIR and skip themselves without them.
shadow_add_test(ws_server_test SOURCES ws_server_test.cc DEPS shadow::feed LABELS unit)
if(TARGET shadow-exchange)
  add_test(NAME exchange_cli_test
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/exchange_cli_test.py
            $<TARGET_FILE:shadow-exchange> ${SHADOW_DATA_DIR})
  set_tests_properties(exchange_cli_test PROPERTIES
    LABELS integration SKIP_RETURN_CODE 77 TIMEOUT 180)
endif()
