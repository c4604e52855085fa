# The Redis exporter against real redis-server processes (started and killed by the test on free
# ports): keys, TTLs, PUBLISH, outage and recovery, AUTH, unix socket. Skips without
# /usr/bin/redis-server.
shadow_add_test(redis_exporter_test SOURCES redis_exporter_test.cc DEPS shadow::sinks
  LABELS integration)
set_tests_properties(redis_exporter_test PROPERTIES TIMEOUT 120)
