# sim/: FillSimulator on_level / on_trade cost with 4 open orders.
shadow_add_benchmark(fill_benchmark SOURCES fill_benchmark.cc DEPS shadow::sim)
