// layer: the README's "Layers" example, built and run as a test. A 1-D
// vocoder upsampling layer (PyTorch's ConvTranspose1d(64, 32, 16, stride=8,
// padding=4) followed by LeakyReLU(0.1)), packed once and run on inputs whose
// length changes every call, on the application's own thread pool, with the
// bias and the activation fused into the output write. Checked against the
// unfused computation: conv_transpose, then the bias and the activation.
#include <convt/convt.hpp>
#include <convt/translate.hpp>
#include <unsupported/Eigen/CXX11/ThreadPool>

#include <cmath>
#include <cstdio>

int main() {
  const convt::index_t in = 64, out = 32, k = 16;
  convt::Tensor<float, 3> weight({in, out, k});  // PyTorch's (in, out, k)
  convt::Tensor<float, 1> bias({out});
  for (convt::index_t i = 0; i < weight.size(); ++i) weight.data()[i] = static_cast<float>(i % 11) * 0.125f - 0.5f;
  for (convt::index_t i = 0; i < out; ++i) bias(i) = 0.25f * static_cast<float>(i % 3) - 0.25f;

  // The layer in PyTorch's words; the activation fused into the same call.
  auto call = convt::pytorch::conv_transpose<1>({in, out, {k}, {8}, {4}});
  call.options.activation = convt::Activation::leaky_relu(0.1);
  Eigen::ThreadPool pool(2);  // the application's pool: convt starts no thread of its own
  call.options.thread_pool = &pool;

  // Pack the weight (and bias) once; a plan per input length is bookkeeping only.
  const auto kernel = call.kernel(weight, bias);
  for (convt::index_t frames : {80, 113, 57}) {
    convt::Tensor<float, 3> x({1, in, frames});
    for (convt::index_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>((i * 7) % 13) - 6.0f;
    const auto plan = kernel.plan(x.shape());
    const auto y = plan(convt::view(x));

    // The same layer unfused: translated without bias, one thread, then the
    // bias and the activation by hand.
    const auto plain = convt::pytorch::conv_transpose<1>({in, out, {k}, {8}, {4}, {0}, 1, /*bias=*/false});
    const auto z = plain(x, weight);
    for (convt::index_t c = 0; c < out; ++c) {
      for (convt::index_t t = 0; t < z.extent(2); ++t) {
        const float v = z(0, c, t) + bias(c);
        const float expect = v >= 0 ? v : 0.1f * v;
        if (std::fabs(y(0, c, t) - expect) > 1e-4f * (1 + std::fabs(expect))) {
          std::printf("frames %lld: y(0, %lld, %lld) = %g, expected %g\n", static_cast<long long>(frames),
                      static_cast<long long>(c), static_cast<long long>(t), static_cast<double>(y(0, c, t)),
                      static_cast<double>(expect));
          return 1;
        }
      }
    }
    std::printf("%lld frames -> %lld samples\n", static_cast<long long>(frames), static_cast<long long>(y.extent(2)));
  }
  std::printf("packed kernel: %zu bytes, shared by every plan\n", kernel.packed_kernel_bytes());
  return 0;
}
