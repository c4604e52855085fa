# End-to-end tests of the programs, against the independent reference in tests/reference/.
if(TARGET shadow-replay)
  add_test(NAME replay_cli_test
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/replay_cli_test.py
            $<TARGET_FILE:shadow-replay> ${SHADOW_DATA_DIR})
  set_tests_properties(replay_cli_test PROPERTIES LABELS "integration;data" SKIP_RETURN_CODE 77)
endif()
