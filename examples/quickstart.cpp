// quickstart: the README's usage example, built and run as a test.
// jax.lax.conv_transpose(x, w, strides=(2, 2), padding="SAME") with JAX's
// default NHWC / HWIO layout, then the same call with a reusable plan, into a
// new tensor and into existing memory.
#include <convt/convt.hpp>

#include <cstdio>

int main() {
  convt::Tensor<float, 4> x({1, 4, 4, 3});  // lhs, JAX's default NHWC
  convt::Tensor<float, 4> w({3, 3, 3, 8});  // rhs, HWIO
  for (convt::index_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(i % 7) - 3.0f;
  for (convt::index_t i = 0; i < w.size(); ++i) w.data()[i] = static_cast<float>(i % 5) * 0.25f;
  x(0, 1, 2, 0) = 1.5f;  // element access, row-major storage

  auto y = convt::conv_transpose(x, w, {2, 2}, convt::Padding::same());
  std::printf("output shape: %lld x %lld x %lld x %lld\n", static_cast<long long>(y.extent(0)),
              static_cast<long long>(y.extent(1)), static_cast<long long>(y.extent(2)),
              static_cast<long long>(y.extent(3)));
  const auto first = y;

  // Inference: resolve and pack the kernel once, run many times (thread-safe).
  auto plan = convt::make_plan(w, x.shape(), {2, 2}, convt::Padding::same());
  auto y2 = plan(x);  // a new tensor, or
  plan.run(x, y);     // into existing memory: input first, output second
  for (convt::index_t i = 0; i < y.size(); ++i) {
    if (y2.data()[i] != first.data()[i] || y.data()[i] != first.data()[i]) {
      std::printf("plan and conv_transpose disagree at %lld\n", static_cast<long long>(i));
      return 1;
    }
  }
  std::printf("y[0, 1, 1, 0] = %g\n", static_cast<double>(y(0, 1, 1, 0)));
  return 0;
}
