# Fill simulation: queue position, latency, fills, fees, position and PnL.
shadow_add_test(queue_model_test SOURCES queue_model_test.cc DEPS shadow::sim LABELS unit)
shadow_add_test(latency_model_test SOURCES latency_model_test.cc DEPS shadow::sim LABELS unit)
shadow_add_test(fill_simulator_test SOURCES fill_simulator_test.cc support/counting_new.cc DEPS shadow::sim LABELS unit)
