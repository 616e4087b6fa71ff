# finack sim: the scenarios' facts (tests/unit/sim_scenarios.c links the
# scenario library) and their pictures, byte for byte against tests/golden/
# (see tests/golden/README for regenerating them).
target_link_libraries(unit_sim_scenarios PRIVATE finack_simscen)

set(FINACK_GOLDEN_DIR ${PROJECT_SOURCE_DIR}/tests/golden)
set(FINACK_SIM_SCENARIOS handshake old-duplicate-syn isn close half-close close-wait
    time-wait-lost-ack reuseaddr simultaneous-open simultaneous-close send-buffer zero-window
    bdp custom)
foreach(scenario ${FINACK_SIM_SCENARIOS})
  foreach(kind txt svg)
    add_test(NAME golden.${scenario}.${kind}
             COMMAND bash ${FINACK_GOLDEN_DIR}/check.sh $<TARGET_FILE:finack> ${scenario} ${kind})
    set_tests_properties(golden.${scenario}.${kind} PROPERTIES LABELS golden TIMEOUT 60)
  endforeach()
endforeach()
foreach(scenario handshake close)
  add_test(NAME golden.${scenario}.ascii
           COMMAND bash ${FINACK_GOLDEN_DIR}/check.sh $<TARGET_FILE:finack> ${scenario} ascii)
  set_tests_properties(golden.${scenario}.ascii PROPERTIES LABELS golden TIMEOUT 60)
endforeach()
# Every committed SVG is well-formed XML.
add_test(NAME golden.svg_xml COMMAND bash ${FINACK_GOLDEN_DIR}/check.sh --xml ${FINACK_GOLDEN_DIR})
set_tests_properties(golden.svg_xml PROPERTIES LABELS golden TIMEOUT 60)
# The command's errors: one line, exit 2.
add_test(NAME golden.sim_usage
         COMMAND bash ${FINACK_GOLDEN_DIR}/check.sh --usage $<TARGET_FILE:finack>)
set_tests_properties(golden.sim_usage PROPERTIES LABELS golden TIMEOUT 60)
