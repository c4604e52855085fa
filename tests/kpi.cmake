# KPI building blocks in sim/: the latency histogram (quantiles against exact sorted samples,
# merge, edges, the no-allocation contract) and the quoter (hand-computed quotes).
shadow_add_test(latency_histogram_test SOURCES latency_histogram_test.cc support/counting_new.cc DEPS shadow::sim LABELS unit)
shadow_add_test(quoter_test SOURCES quoter_test.cc support/counting_new.cc DEPS shadow::sim LABELS unit)
