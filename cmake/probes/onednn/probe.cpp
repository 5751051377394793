#include <oneapi/dnnl/dnnl.hpp>

int main() { return dnnl_version()->major > 0 ? 0 : 1; }
