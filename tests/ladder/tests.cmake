# The ladder library's tests beside tests/unit/ladder*.c (registered by
# tests/CMakeLists.txt): where their fixtures are, and the checks that run
# the finack command or other programs.
set(FINACK_LADDER_DIR ${PROJECT_SOURCE_DIR}/tests/ladder)
foreach(t ladder_text ladder_json ladder_pcap)
  if(TARGET unit_${t})
    target_compile_definitions(unit_${t} PRIVATE LADDER_FIXTURES="${FINACK_LADDER_DIR}")
  endif()
endforeach()

# The command: drawing, formats and errors (cli.sh); the SVG as a browser
# renders it (svg_render.sh, skipped without chromium).
add_test(NAME ladder.cli COMMAND bash ${FINACK_LADDER_DIR}/cli.sh $<TARGET_FILE:finack>)
set_tests_properties(ladder.cli PROPERTIES LABELS ladder TIMEOUT 120)
add_test(NAME ladder.svg_render
         COMMAND bash ${FINACK_LADDER_DIR}/svg_render.sh $<TARGET_FILE:finack>)
set_tests_properties(ladder.svg_render PROPERTIES LABELS ladder TIMEOUT 180
                     SKIP_RETURN_CODE 77)
