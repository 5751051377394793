// layer: the README's "Layers" example, built and run as a test. A 1-D
// vocoder upsampling layer (PyTorch's ConvTranspose1d(64, 32, 16, stride=8,
// padding=4) followed by LeakyReLU(0.1)), packed once and run on inputs whose
// length changes every call, on the application's own thread pool, with the
// bias and the activation fused into the output write. Checked against the
// unfused computation: conv_transpose, then the bias and the activation.
#include <convt/convt.hpp>
#include <convt/translate.hpp>
#include <unsupported/Eigen/CXX11/ThreadPool>

#include <array>
#include <cmath>
#include <cstdio>
#include <vector>

int main() {
  convt::Tensor<float, 3> weight({64, 32, 16});  // PyTorch's (in, out, k)
  convt::Tensor<float, 1> bias({32});
  for (convt::index_t i = 0; i < weight.size(); ++i) weight.data()[i] = static_cast<float>(i % 11) * 0.125f - 0.5f;
  for (convt::index_t i = 0; i < bias.size(); ++i) bias(i) = 0.25f * static_cast<float>(i % 3) - 0.25f;
  std::vector<convt::Tensor<float, 3>> inputs;  // a length that changes every call
  for (convt::index_t frames : {80, 113, 57}) {
    inputs.emplace_back(std::array<convt::index_t, 3>{1, 64, frames});
    for (convt::index_t i = 0; i < inputs.back().size(); ++i) {
      inputs.back().data()[i] = static_cast<float>((i * 7) % 13) - 6.0f;
    }
  }
  // The same layer unfused, to check against: translated without a bias,
  // then the bias and the activation by hand.
  const auto plain = convt::pytorch::conv_transpose<1>({64, 32, {16}, {8}, {4}, {0}, 1, /*bias=*/false});

  // README "Layers": the layer in PyTorch's words, the activation fused into the same call.
  auto call = convt::pytorch::conv_transpose<1>({64, 32, {16}, {8}, {4}});
  call.options.activation = convt::Activation::leaky_relu(0.1);
  Eigen::ThreadPool pool(2);  // or an adapter to your own pool
  call.options.thread_pool = &pool;
  const auto kernel = call.kernel(weight, bias);  // packs weight and bias once
  for (auto& x : inputs) {                        // any length, every call
    auto y = kernel.plan(x.shape())(x);           // a plan is bookkeeping only

    const auto z = plain(x, weight);
    for (convt::index_t c = 0; c < 32; ++c) {
      for (convt::index_t t = 0; t < z.extent(2); ++t) {
        const float v = z(0, c, t) + bias(c);
        const float expect = v >= 0 ? v : 0.1f * v;
        if (std::fabs(y(0, c, t) - expect) > 1e-4f * (1 + std::fabs(expect))) {
          std::printf("y(0, %lld, %lld) = %g, expected %g\n", static_cast<long long>(c), static_cast<long long>(t),
                      static_cast<double>(y(0, c, t)), static_cast<double>(expect));
          return 1;
        }
      }
    }
    std::printf("%lld frames -> %lld samples\n", static_cast<long long>(x.extent(2)),
                static_cast<long long>(y.extent(2)));
  }
  std::printf("packed kernel: %zu bytes, shared by every plan\n", kernel.packed_kernel_bytes());
  return 0;
}
