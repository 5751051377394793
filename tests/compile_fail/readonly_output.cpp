// conv_transpose_into with a read-only output (e.g. the old output-first
// argument order with const inputs).
// expect: out \(the third argument\) must be writable
#include <convt/convt.hpp>

int main() {
  convt::Tensor<float, 4> x({1, 4, 4, 3}), w({3, 3, 3, 8});
  const convt::Tensor<float, 4> y({1, 8, 8, 8});
  convt::conv_transpose_into(x, w, y, {2, 2}, convt::Padding::same());
  return 0;
}
