// lhs and rhs of different element types (JAX requires equal dtypes).
// expect: lhs and rhs must have the same element type
#include <convt/convt.hpp>

int main() {
  convt::Tensor<float, 4> x({1, 4, 4, 3});
  convt::Tensor<double, 4> w({3, 3, 3, 8});
  return static_cast<int>(convt::conv_transpose(x, w, {2, 2}, convt::Padding::same()).size());
}
