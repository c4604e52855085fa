# shadow-run end to end on the embedded exchange (and a recorded capture), then shadow-audit on
# what it wrote: artifacts valid under python3-jsonschema, verdicts and exit codes on a passing,
# a holding and a corrupted run; SIGINT mid-iteration; config errors. Skips (77) without
# python3-jsonschema.
if(TARGET shadow-run AND TARGET shadow-audit AND TARGET shadow-exchange)
  add_test(NAME shadow_run_cli_test
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/shadow_run_cli_test.py
            $<TARGET_FILE:shadow-run> $<TARGET_FILE:shadow-audit> ${PROJECT_SOURCE_DIR}/schemas
            ${PROJECT_SOURCE_DIR}/config/shadow.toml ${SHADOW_DATA_DIR})
  set_tests_properties(shadow_run_cli_test PROPERTIES
    LABELS integration SKIP_RETURN_CODE 77 TIMEOUT 300 RUN_SERIAL TRUE)
endif()

# The threads and rings on a capture (no network), under TSan in the concurrency slice.
shadow_add_test(shadow_run_test SOURCES shadow_run_test.cc DEPS shadow::pipeline
  LABELS integration concurrency)
target_compile_definitions(shadow_run_test PRIVATE SHADOW_DATA_DIR="${SHADOW_DATA_DIR}")
set_tests_properties(shadow_run_test PROPERTIES TIMEOUT 300)
