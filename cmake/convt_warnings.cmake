# Warning flags for convt's own tests, examples and benchmarks (never put on
# the convt INTERFACE target: consumers choose their own flags).
function(convt_target_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic
    $<$<BOOL:${CONVT_WERROR}>:-Werror>)
endfunction()
