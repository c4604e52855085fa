# io_uring reader + WebSocket client against a real peer (tests/peers/ws_echo_server.py,
# python3-websockets on loopback). Skips with a message when python3 or websockets is missing.
shadow_add_test(ws_client_test SOURCES ws_client_test.cc DEPS shadow::feed LABELS integration)
target_compile_definitions(ws_client_test PRIVATE
  SHADOW_WS_PEER="${CMAKE_CURRENT_SOURCE_DIR}/peers/ws_echo_server.py"
  SHADOW_PYTHON="${Python3_EXECUTABLE}")
set_tests_properties(ws_client_test PROPERTIES TIMEOUT 120)
