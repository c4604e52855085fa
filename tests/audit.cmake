# shadow-audit: the aggregation rules, thresholds and schema checks as a unit test, and the
# program end to end (tests/audit_cli_test.py: run directories built from schemas/examples,
# exit codes 0/1/2, the summary checked independently with python3-jsonschema; skips with 77
# when no Python with jsonschema is found, re-running itself with /usr/bin/python3 first).
if(TARGET shadow-audit)
  shadow_add_test(audit_test SOURCES audit_test.cc DEPS shadow_audit_core LABELS unit)
  target_compile_definitions(audit_test PRIVATE SHADOW_SCHEMA_DIR="${PROJECT_SOURCE_DIR}/schemas")
  add_test(NAME audit_cli_test
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/audit_cli_test.py
            $<TARGET_FILE:shadow-audit> ${PROJECT_SOURCE_DIR}/schemas)
  set_tests_properties(audit_cli_test PROPERTIES LABELS integration SKIP_RETURN_CODE 77 TIMEOUT 120)
endif()
