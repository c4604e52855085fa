# Prometheus: the exposition and the endpoint (unit), and the alert rules checked and unit-tested
# by promtool (Debian prometheus package). The end-to-end checks (promtool check metrics on a
# scrape of a running shadow-run, a real prometheus server scraping it) are in
# tests/shadow_run_cli_test.py.
shadow_add_test(prometheus_exporter_test SOURCES prometheus_exporter_test.cc DEPS shadow::sinks
  LABELS unit)
find_program(PROMTOOL promtool)
if(PROMTOOL)
  add_test(NAME alert_rules_check COMMAND ${PROMTOOL} check rules ${PROJECT_SOURCE_DIR}/ops/alerts/shadow_rules.yml)
  add_test(NAME alert_rules_unit COMMAND ${PROMTOOL} test rules ${PROJECT_SOURCE_DIR}/ops/alerts/tests.yml)
  set_tests_properties(alert_rules_check alert_rules_unit PROPERTIES LABELS unit)
endif()
