// Built with -fno-exceptions: convt compiles, computes, and reports errors
// through the installed handler (which must not return).
#include <convt/convt.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {
void on_error(const char* message) {
  std::printf("handler: %s\n", message);
  std::fflush(stdout);
  std::_Exit(std::strstr(message, "strides[0] = 0") != nullptr ? 0 : 3);
}
}  // namespace

int main() {
  convt::Tensor<float, 3> x({1, 3, 1});
  convt::Tensor<float, 3> w({2, 1, 1});
  x(0, 1, 0) = 1;
  w(0, 0, 0) = 2;
  w(1, 0, 0) = 3;
  const auto y = convt::conv_transpose(convt::view(x), convt::view(w), {2}, convt::Padding::valid());
  if (y.size() != 6 || y(0, 2, 0) != 3 || y(0, 3, 0) != 2) return 1;
  convt::set_error_handler(on_error);
  convt::conv_transpose(convt::view(x), convt::view(w), {0}, convt::Padding::valid());
  std::printf("the error handler was not called\n");
  return 2;
}
