shadow_add_test(fixed_point_test SOURCES fixed_point_test.cc DEPS shadow::sim LABELS unit)
