# A oneDNN CMake package whose dependency is missing, as Debian's
# dnnl-config.cmake is when libdnnl-dev is installed without its
# Recommends (OpenCL's dev files): find_package(OpenCL) is REQUIRED there.
find_package(ConvtTestNoSuchOpenCL REQUIRED)
