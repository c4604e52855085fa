# pipeline/ShadowEngine: book → quoter → checks → fill simulator → KPIs on the embedded
# exchange's market, in process.
shadow_add_test(shadow_engine_test SOURCES shadow_engine_test.cc
  DEPS shadow::pipeline shadow::feed shadow::sim LABELS unit)
