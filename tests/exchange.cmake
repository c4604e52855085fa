# The embedded exchange's market: L3 matching engine and the order-flow model (sim/).
shadow_add_test(matching_engine_test SOURCES matching_engine_test.cc support/counting_new.cc DEPS shadow::sim LABELS unit)
shadow_add_test(order_flow_test SOURCES order_flow_test.cc DEPS shadow::sim LABELS unit)
