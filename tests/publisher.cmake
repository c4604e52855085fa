# The embedded exchange's Bybit v5 publisher (sim/bybit_publisher.h), checked by decoding its
# output with the feed's own BybitDecoder.
shadow_add_test(bybit_publisher_test SOURCES bybit_publisher_test.cc support/counting_new.cc DEPS shadow::feed shadow::sim LABELS unit)
