// One stride for a 2-D problem: a compile-time error, not strides[1] = 0.
// expect: strides need exactly one value per spatial dimension
#include <convt/convt.hpp>

int main() {
  convt::Tensor<float, 4> x({1, 4, 4, 3}), w({3, 3, 3, 8});
  return static_cast<int>(convt::conv_transpose(x, w, {2}, convt::Padding::same()).size());
}
