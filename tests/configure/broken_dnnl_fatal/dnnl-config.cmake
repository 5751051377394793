# A oneDNN CMake package that aborts the configure outright.
message(FATAL_ERROR "this dnnl-config.cmake is broken on purpose (convt configure test)")
