// A result type JAX's preferred_element_type rule does not allow: one
// static_assert, nothing after it.
// expect: preferred element type \(Out\) not allowed
#include <convt/convt.hpp>

int main() {
  convt::Tensor<float, 4> x({1, 4, 4, 3}), w({3, 3, 3, 8});
  return static_cast<int>(convt::conv_transpose<std::int32_t>(x, w, {2, 2}, convt::Padding::same()).size());
}
