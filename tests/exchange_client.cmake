# The issue's acceptance test: our client (WsClient -> BybitDecoder -> SyncedBook<FlatBook>,
# through pipeline's Replayer) against tools/shadow-exchange; at checkpoints our books must equal
# the exchange's own L2 view (dump_l2). Starts the binary itself; no Python needed.
if(TARGET shadow-exchange)
  shadow_add_test(exchange_client_test SOURCES exchange_client_test.cc
    DEPS shadow::pipeline shadow::feed LABELS integration)
  target_compile_definitions(exchange_client_test PRIVATE
    SHADOW_EXCHANGE_BIN="$<TARGET_FILE:shadow-exchange>")
  add_dependencies(exchange_client_test shadow-exchange)
  set_tests_properties(exchange_client_test PROPERTIES TIMEOUT 60)
endif()
