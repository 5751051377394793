// quickstart: the README's usage example, built and run as a test.
// jax.lax.conv_transpose(x, w, strides=(2, 2), padding="SAME") with JAX's
// default NHWC / HWIO layout, then the same call with a reusable plan.
#include <convt/convt.hpp>

#include <cstdio>

int main() {
  convt::Tensor<float, 4> x({1, 4, 4, 3});  // N H W C
  convt::Tensor<float, 4> w({3, 3, 3, 8});  // H W I O
  for (convt::index_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(i % 7) - 3.0f;
  for (convt::index_t i = 0; i < w.size(); ++i) w.data()[i] = static_cast<float>(i % 5) * 0.25f;

  const auto y = convt::conv_transpose(x, w, {2, 2}, convt::Padding::same());
  std::printf("output shape: %lld x %lld x %lld x %lld\n", static_cast<long long>(y.extent(0)),
              static_cast<long long>(y.extent(1)), static_cast<long long>(y.extent(2)),
              static_cast<long long>(y.extent(3)));

  // Inference loop: pack the kernel once, run many times.
  const auto plan = convt::make_plan(w, x.shape(), {2, 2}, convt::Padding::same());
  const auto again = plan(x);  // a new tensor, or
  convt::Tensor<float, 4> into(plan.output_shape());
  plan.run(x, into);  // into existing memory: input first, output second
  for (convt::index_t i = 0; i < y.size(); ++i) {
    if (again.data()[i] != y.data()[i] || into.data()[i] != y.data()[i]) {
      std::printf("plan and conv_transpose disagree at %lld\n", static_cast<long long>(i));
      return 1;
    }
  }
  std::printf("y[0, 1, 1, 0] = %g\n", static_cast<double>(y(0, 1, 1, 0)));
  return 0;
}
