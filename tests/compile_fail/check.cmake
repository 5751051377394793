# ctest driver for the compile-time errors convt promises:
#   cmake -DCXX=<compiler> -DSOURCE=<file.cpp> -DINCLUDES="<dir>;<dir>" -P check.cmake
# The source must fail to compile, with exactly one error, whose text
# matches the source's "// expect: <regex>" line.
cmake_minimum_required(VERSION 3.22)
file(STRINGS "${SOURCE}" expect_line REGEX "^// expect: ")
string(REGEX REPLACE "^// expect: " "" expect "${expect_line}")
set(include_flags "")
foreach(dir IN LISTS INCLUDES)
  list(APPEND include_flags "-I${dir}")
endforeach()
execute_process(COMMAND "${CXX}" -std=c++17 -fsyntax-only ${include_flags} "${SOURCE}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(REGEX MATCHALL "error:" errors "${err}")
list(LENGTH errors error_count)
if(rc EQUAL 0)
  message(FATAL_ERROR "${SOURCE} compiled; it must not")
elseif(NOT err MATCHES "${expect}")
  message(FATAL_ERROR "${SOURCE}: the errors do not say [${expect}]:\n${err}")
elseif(NOT error_count EQUAL 1)
  message(FATAL_ERROR "${SOURCE}: ${error_count} errors, expected one:\n${err}")
endif()
message(STATUS "${SOURCE}: one error, as expected: ${expect}")
