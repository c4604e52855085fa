# Reconnect schedule for the live feed (feed/reconnect_policy.*): backoff bounds, stable-period
# reset, heartbeat boundary, counters, jitter spread. Pure logic, no sockets.
shadow_add_test(reconnect_policy_test SOURCES reconnect_policy_test.cc DEPS shadow::feed LABELS unit)
