# convt_probe(<result-var> <probe-dir> [CMAKE_FLAGS ...])
#
# Configures and builds the small CMake project in <probe-dir> in a separate
# CMake process. An optional benchmark peer's CMake package can be broken in
# ways that abort any configure that calls find_package() on it: Debian's
# dnnl-config.cmake calls find_package(OpenCL) as REQUIRED, and OpenCL's dev
# files are only a Recommends of libdnnl-dev. Probing in a separate process
# turns such a failure into <result-var> = FALSE (the probe's output is kept
# in <binary-dir>/convt-probes/<name>.log) instead of a failed configure.
function(convt_probe result dir)
  cmake_parse_arguments(ARG "" "" "CMAKE_FLAGS" ${ARGN})
  get_filename_component(name "${dir}" NAME)
  set(bin "${CMAKE_CURRENT_BINARY_DIR}/convt-probes/${name}")
  set(log "${CMAKE_CURRENT_BINARY_DIR}/convt-probes/${name}.log")
  file(REMOVE_RECURSE "${bin}")
  execute_process(COMMAND ${CMAKE_COMMAND} -S "${dir}" -B "${bin}" -G "${CMAKE_GENERATOR}"
                          "-DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER}" "-DCMAKE_PREFIX_PATH=${CMAKE_PREFIX_PATH}"
                          ${ARG_CMAKE_FLAGS}
                  RESULT_VARIABLE configure_rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  set(ok FALSE)
  if(configure_rc EQUAL 0)
    execute_process(COMMAND ${CMAKE_COMMAND} --build "${bin}"
                    RESULT_VARIABLE build_rc OUTPUT_VARIABLE build_out ERROR_VARIABLE build_out)
    string(APPEND out "${build_out}")
    if(build_rc EQUAL 0)
      set(ok TRUE)
    endif()
  endif()
  file(WRITE "${log}" "${out}")
  set(${result} ${ok} PARENT_SCOPE)
endfunction()
