# feed/FeedSession (reconnect, resubscribe, heartbeat) and SequenceGuard; the session runs
# against tools/shadow-exchange with its fault flags (the issue's fault test). Starts the
# binary itself; no Python needed.
if(TARGET shadow-exchange)
  shadow_add_test(feed_session_test SOURCES feed_session_test.cc
    DEPS shadow::pipeline shadow::feed LABELS integration)
  target_compile_definitions(feed_session_test PRIVATE
    SHADOW_EXCHANGE_BIN="$<TARGET_FILE:shadow-exchange>")
  add_dependencies(feed_session_test shadow-exchange)
  set_tests_properties(feed_session_test PROPERTIES TIMEOUT 120)
endif()
