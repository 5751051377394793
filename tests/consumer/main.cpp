#include <convt/convt.hpp>

#include <cstdio>

int main() {
  convt::Tensor<double, 3> x({1, 3, 1});
  convt::Tensor<double, 3> w({2, 1, 1});
  x(0, 0, 0) = 1;
  x(0, 1, 0) = 2;
  x(0, 2, 0) = 3;
  w(0, 0, 0) = 10;
  w(1, 0, 0) = 1;
  // Stride 2, VALID: the dilated, padded input is [0, 1, 0, 2, 0, 3, 0] and
  // y[q] = xp[q] * w[0] + xp[q + 1] * w[1], as jax.lax.conv_transpose gives.
  const auto y = convt::conv_transpose(convt::view(x), convt::view(w), {2}, convt::Padding::valid());
  const double want[] = {1, 10, 2, 20, 3, 30};
  if (y.size() != 6) return 1;
  for (int i = 0; i < 6; ++i) {
    if (y(0, i, 0) != want[i]) return 1;
  }
  std::printf("consumer ok (convt %s)\n", CONVT_VERSION_STRING);
  return 0;
}
