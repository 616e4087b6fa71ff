# The ladder library's tests beside tests/unit/ladder*.c (registered by
# tests/CMakeLists.txt): where their fixtures are, and the checks that run
# the finack command or other programs.
set(FINACK_LADDER_DIR ${PROJECT_SOURCE_DIR}/tests/ladder)
foreach(t ladder_text ladder_json ladder_pcap)
  if(TARGET unit_${t})
    target_compile_definitions(unit_${t} PRIVATE LADDER_FIXTURES="${FINACK_LADDER_DIR}")
  endif()
endforeach()
