# ctest driver for convt-npy:
#   cmake -DCLI=<convt-npy> -DFIXTURES=<tests/npy> -DWORK=<scratch dir> -P check_cli.cmake
# 1. every case of cases.txt: the output file must equal the expected .npy
#    byte for byte;
# 2. every bad invocation: exit status 2, one line on stderr, the output file
#    untouched and no temporary left beside it.
cmake_minimum_required(VERSION 3.22)
foreach(var CLI FIXTURES WORK)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_cli.cmake: -D${var}=... is required")
  endif()
endforeach()
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
set(failures 0)

# --- expected results ------------------------------------------------------
file(STRINGS "${FIXTURES}/cases.txt" lines REGEX "^[^#]")
list(LENGTH lines case_count)
if(case_count LESS 5)
  message(FATAL_ERROR "cases.txt has only ${case_count} cases")
endif()
foreach(line IN LISTS lines)
  separate_arguments(args UNIX_COMMAND "${line}")
  list(POP_FRONT args name)
  set(out "${WORK}/${name}.npy")
  # "@bias" names the case's bias file; --accumulate adds to what the output
  # file holds: the case's previous output.
  list(TRANSFORM args REPLACE "^@bias$" "${FIXTURES}/${name}_bias.npy")
  if("--accumulate" IN_LIST args)
    file(COPY_FILE "${FIXTURES}/${name}_prev.npy" "${out}")
  endif()
  execute_process(COMMAND "${CLI}" "${FIXTURES}/${name}_lhs.npy" "${FIXTURES}/${name}_rhs.npy" -o "${out}" ${args}
                  RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(SEND_ERROR "${name}: exit ${rc}: ${err}")
    math(EXPR failures "${failures} + 1")
    continue()
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files "${out}" "${FIXTURES}/${name}_out.npy" RESULT_VARIABLE same)
  if(NOT same EQUAL 0)
    message(SEND_ERROR "${name}: output differs from ${name}_out.npy")
    math(EXPR failures "${failures} + 1")
  else()
    message(STATUS "ok   ${name}")
  endif()
endforeach()

# --- refusals --------------------------------------------------------------
set(sentinel "previous contents; must survive a failed run\n")
set(lhs "${FIXTURES}/f32_nhwc_same_lhs.npy")
set(rhs "${FIXTURES}/f32_nhwc_same_rhs.npy")
# expect_refusal(<label> <stderr regex> <args...>): -o is added by the function.
function(expect_refusal label pattern)
  set(out "${WORK}/refused.npy")
  file(WRITE "${out}" "${sentinel}")
  execute_process(COMMAND "${CLI}" ${ARGN} -o "${out}" RESULT_VARIABLE rc OUTPUT_VARIABLE stdout ERROR_VARIABLE err)
  file(READ "${out}" after)
  string(REGEX MATCHALL "\n" newlines "${err}")
  list(LENGTH newlines newline_count)
  set(problem "")
  if(NOT rc EQUAL 2)
    set(problem "exit status ${rc}, expected 2")
  elseif(NOT newline_count EQUAL 1 OR NOT err MATCHES "^convt-npy: ")
    set(problem "stderr is not one 'convt-npy: ...' line: [${err}]")
  elseif(NOT err MATCHES "${pattern}")
    set(problem "stderr [${err}] does not match [${pattern}]")
  elseif(NOT after STREQUAL sentinel)
    set(problem "the output file was modified")
  elseif(EXISTS "${out}.tmp-convt-npy")
    set(problem "a temporary file was left behind")
  endif()
  if(problem)
    message(SEND_ERROR "${label}: ${problem}")
    set(failed 1 PARENT_SCOPE)
  else()
    message(STATUS "ok   refuses ${label}: ${err}")
  endif()
endfunction()

set(failed 0)
expect_refusal(missing-file "cannot open" "${WORK}/no-such.npy" "${rhs}" --strides 2,2)
expect_refusal(not-npy "not a .npy file" "${FIXTURES}/bad_magic.npy" "${rhs}" --strides 2,2)
expect_refusal(truncated "data size mismatch: shape \\(2, 5, 4, 3\\) of float32 needs 480 bytes"
               "${FIXTURES}/bad_truncated.npy" "${rhs}" --strides 2,2)
expect_refusal(version "format version 4.0" "${FIXTURES}/bad_version.npy" "${rhs}" --strides 2,2)
expect_refusal(header "bad .npy header" "${FIXTURES}/bad_header.npy" "${rhs}" --strides 2,2)
expect_refusal(structured "structured arrays" "${FIXTURES}/bad_structured.npy" "${rhs}" --strides 2,2)
expect_refusal(uint16 "unsupported dtype '<u2'" "${FIXTURES}/bad_uint16.npy" "${FIXTURES}/bad_uint16.npy" --strides 2,2)
expect_refusal(dtype-mismatch "dtype mismatch: lhs is float32, rhs is float64" "${lhs}"
               "${FIXTURES}/f64_ncw_tk_fortran_bigendian_rhs.npy" --strides 2,2)
expect_refusal(rank2 "rank 2; convt-npy handles" "${FIXTURES}/bad_rank2.npy" "${FIXTURES}/bad_rank2.npy" --strides 2)
expect_refusal(feature-mismatch "rhs" "${lhs}" "${rhs}" --strides 2,2 --dimension-numbers NHWC,HWOI,NHWC)
expect_refusal(zero-stride "strides\\[1\\] = 0" "${lhs}" "${rhs}" --strides 2,0)
expect_refusal(stride-count "--strides: 3 values given" "${lhs}" "${rhs}" --strides 2,2,2)
expect_refusal(padding-syntax "--padding: 'SAME:1'" "${lhs}" "${rhs}" --strides 2,2 --padding SAME:1)
expect_refusal(precision "--precision: 'fast'" "${lhs}" "${rhs}" --strides 2,2 --precision fast)
expect_refusal(preferred-rule "float32 operands" "${lhs}" "${rhs}" --strides 2,2 --preferred-element-type int32)
expect_refusal(preferred-name "--preferred-element-type: unknown dtype 'float8'" "${lhs}" "${rhs}" --strides 2,2 --preferred-element-type float8)
expect_refusal(unknown-option "--frobnicate" "${lhs}" "${rhs}" --strides 2,2 --frobnicate)
expect_refusal(missing-strides "--strides is required" "${lhs}" "${rhs}")
expect_refusal(threads "num_threads" "${lhs}" "${rhs}" --strides 2,2 --threads -3)
if(failed)
  math(EXPR failures "${failures} + 1")
endif()

# An output directory that does not exist: nothing can be written.
execute_process(COMMAND "${CLI}" "${lhs}" "${rhs}" -o "${WORK}/missing-dir/y.npy" --strides 2,2
                RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 2 OR NOT err MATCHES "cannot write")
  message(SEND_ERROR "unwritable output: exit ${rc}, stderr [${err}]")
  math(EXPR failures "${failures} + 1")
endif()

# Epilogue refusals: a bias of another dtype than the result's, an unknown
# activation, an activation the result type does not allow, accumulating
# into an output file that does not exist or has another shape.
set(flags --strides 2,2 --padding 1:1,1:1 --use-consistent-padding --dimension-numbers NCHW,OIHW,NCHW --transpose-kernel)
set(tl "${FIXTURES}/f32_torch_bias_relu_2d_lhs.npy")
set(tr "${FIXTURES}/f32_torch_bias_relu_2d_rhs.npy")
expect_refusal(bias-dtype "--bias: dtype float64, but float32 was requested" "${tl}" "${tr}" ${flags}
               --bias "${FIXTURES}/f64_torch_leaky_relu_1d_bias.npy")
expect_refusal(bias-length "bias: 2 elements but the output has 3 features" "${tl}" "${tr}" ${flags}
               --bias "${FIXTURES}/f64_torch_leaky_relu_1d_bias.npy" --preferred-element-type float64)
expect_refusal(activation-name "--activation: activation \"softplus\"" "${tl}" "${tr}" ${flags} --activation softplus)
expect_refusal(activation-type "activation tanh: the result type int32" "${FIXTURES}/i8_i32_bias_clamp_accumulate_lhs.npy"
               "${FIXTURES}/i8_i32_bias_clamp_accumulate_rhs.npy" ${flags} --preferred-element-type int32 --activation tanh)
expect_refusal(accumulate-not-npy "refused.npy: not a .npy file" "${tl}" "${tr}" ${flags} --accumulate)
if(failed)
  math(EXPR failures "${failures} + 1")
endif()

# --version: exit 0, the library's version.
execute_process(COMMAND "${CLI}" --version RESULT_VARIABLE rc OUTPUT_VARIABLE version)
if(NOT rc EQUAL 0 OR NOT version MATCHES "^convt-npy [0-9]+\\.[0-9]+\\.[0-9]+")
  message(SEND_ERROR "--version: exit ${rc}, output [${version}]")
  math(EXPR failures "${failures} + 1")
endif()

# --help: exit 0, shows an example.
execute_process(COMMAND "${CLI}" --help RESULT_VARIABLE rc OUTPUT_VARIABLE help)
if(NOT rc EQUAL 0 OR NOT help MATCHES "convt-npy x.npy w.npy -o y.npy --strides 2,2 --padding SAME")
  message(SEND_ERROR "--help: exit ${rc} or no example: ${help}")
  math(EXPR failures "${failures} + 1")
endif()

if(failures GREATER 0)
  message(FATAL_ERROR "convt-npy: ${failures} check(s) failed")
endif()
