// convt-demo — transposed convolutions you can look at.
//
// 1. upsampling.png: an image (embedded test card, or --input) enlarged x4 by
//    conv_transpose with the bilinear kernel FCN initialises its deconvolution
//    layers with; beside it the input enlarged by pixel repetition.
// 2. checkerboard.png: the same three-layer stride-2 stack on a constant
//    input, with kernel 3 (uneven overlap: the checkerboard artifact of
//    Odena et al., 2016) and kernel 4 (even overlap: none).
// 3. generator.png: a DCGAN-style generator (4x4x128 noise -> 64x64x3 through
//    four kernel-4 stride-2 SAME layers, fixed random weights), with each
//    layer's shape and time.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "image.hpp"

namespace {

using convt::index_t;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

/// FCN's bilinear upsampling kernel for `factor`, HWIO with one 2-D filter on
/// the diagonal (each colour channel is upsampled by itself).
convt::Tensor<float, 4> bilinear_kernel(index_t factor, index_t channels) {
  const index_t k = 2 * factor - factor % 2;
  const double center = (k % 2 == 1) ? factor - 1 : factor - 0.5;
  convt::Tensor<float, 4> w({k, k, channels, channels});
  for (index_t y = 0; y < k; ++y)
    for (index_t x = 0; x < k; ++x) {
      const double v = (1 - std::abs(y - center) / factor) * (1 - std::abs(x - center) / factor);
      for (index_t c = 0; c < channels; ++c) w(y, x, c, c) = static_cast<float>(v);
    }
  return w;
}

/// Bilinear upsampling by conv_transpose (JAX 'SAME' gives exactly factor x
/// the size). Near the border fewer taps land on the image, so the result is
/// divided by the kernel's coverage there, computed by the same call on ones.
demo::Image upsample(const demo::Image& img, index_t factor, int threads) {
  convt::ConvTransposeOptions<2> opt;
  opt.num_threads = threads;
  const auto t0 = Clock::now();
  demo::Image up =
      convt::conv_transpose(img, bilinear_kernel(factor, 3), {factor, factor}, convt::Padding::same(), opt);
  const double ms = ms_since(t0);
  convt::Tensor<float, 4> ones({1, img.extent(1), img.extent(2), 1});
  for (index_t i = 0; i < ones.size(); ++i) ones.data()[i] = 1.0f;
  const auto coverage =
      convt::conv_transpose(ones, bilinear_kernel(factor, 1), {factor, factor}, convt::Padding::same(), opt);
  for (index_t y = 0; y < up.extent(1); ++y)
    for (index_t x = 0; x < up.extent(2); ++x)
      for (index_t c = 0; c < 3; ++c) up(0, y, x, c) /= coverage(0, y, x, 0);
  std::printf("upsampling: %lld x %lld x 3 -> %lld x %lld x 3, bilinear kernel %lld x %lld, stride %lld: %.2f ms\n",
              static_cast<long long>(img.extent(1)), static_cast<long long>(img.extent(2)),
              static_cast<long long>(up.extent(1)), static_cast<long long>(up.extent(2)),
              static_cast<long long>(2 * factor - factor % 2), static_cast<long long>(2 * factor - factor % 2),
              static_cast<long long>(factor), ms);
  return up;
}

/// Three stride-2 layers of all-ones kernels on a constant 8x8 input, shown
/// in grey normalised to the largest value.
demo::Image overlap_pattern(index_t k) {
  convt::Tensor<float, 4> x({1, 8, 8, 1});
  for (index_t i = 0; i < x.size(); ++i) x.data()[i] = 1.0f;
  convt::Tensor<float, 4> w({k, k, 1, 1});
  for (index_t i = 0; i < w.size(); ++i) w.data()[i] = 1.0f;
  for (int layer = 0; layer < 3; ++layer) x = convt::conv_transpose(x, w, {2, 2}, convt::Padding::same());
  float peak = 0.0f;
  for (index_t i = 0; i < x.size(); ++i) peak = std::max(peak, x.data()[i]);
  demo::Image grey({1, x.extent(1), x.extent(2), 3});  // 64 x 64
  for (index_t y = 0; y < x.extent(1); ++y)
    for (index_t xx = 0; xx < x.extent(2); ++xx)
      for (index_t c = 0; c < 3; ++c) grey(0, y, xx, c) = x(0, y, xx, 0) / peak;
  return grey;
}

/// A DCGAN-shaped generator with fixed random weights: the picture is an
/// abstract texture, the point is the shapes and the timing.
demo::Image generator(int threads) {
  std::mt19937 rng(2026);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  convt::Tensor<float, 4> x({1, 4, 4, 128});
  for (index_t i = 0; i < x.size(); ++i) x.data()[i] = normal(rng);
  const index_t widths[] = {128, 64, 32, 16, 3};
  convt::ConvTransposeOptions<2> opt;
  opt.num_threads = threads;
  for (int layer = 0; layer < 4; ++layer) {
    const index_t cin = widths[layer], cout = widths[layer + 1];
    // Random channel mixing times a bilinear spatial profile: the taps an
    // output sees sum to 1, so He scaling over the input channels keeps the
    // activations' size, and the picture is smooth colour fields rather
    // than pixel noise.
    const auto profile = bilinear_kernel(2, 1);
    const float scale = std::sqrt(2.0f / static_cast<float>(cin));
    convt::Tensor<float, 4> w({4, 4, cin, cout});
    for (index_t i = 0; i < cin; ++i)
      for (index_t o = 0; o < cout; ++o) {
        const float mix = normal(rng) * scale;
        for (index_t ky = 0; ky < 4; ++ky)
          for (index_t kx = 0; kx < 4; ++kx) w(ky, kx, i, o) = mix * profile(ky, kx, 0, 0);
      }
    const auto t0 = Clock::now();
    const auto plan = convt::make_plan(w, x.shape(), {2, 2}, convt::Padding::same(), opt);
    const double plan_ms = ms_since(t0);
    const auto t1 = Clock::now();
    auto y = plan(x);
    const double run_ms = ms_since(t1);
    std::printf(
        "generator layer %d: %lld x %lld x %lld -> %lld x %lld x %lld (k4 s2 SAME): plan %.2f ms, run %.2f ms\n",
        layer + 1, static_cast<long long>(x.extent(1)), static_cast<long long>(x.extent(2)),
        static_cast<long long>(cin), static_cast<long long>(y.extent(1)), static_cast<long long>(y.extent(2)),
        static_cast<long long>(cout), plan_ms, run_ms);
    for (index_t i = 0; i < y.size(); ++i) {
      float& v = y.data()[i];
      v = layer < 3 ? std::max(v, 0.0f) : 1.0f / (1.0f + std::exp(-2.0f * v));  // ReLU, then sigmoid
    }
    x = std::move(y);
  }
  return x;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"convt-demo: transposed convolutions you can look at (writes PNG files)."};
  std::string input, out_dir = "convt-demo-output";
  index_t factor = 4;
  int threads = 0;
  app.add_option("-i,--input", input, "Your own image (PNG, JPEG, BMP, ...); default: an embedded test card");
  app.add_option("-o,--output-dir", out_dir, "Where the PNG files go")->capture_default_str();
  app.add_option("-f,--factor", factor, "Upsampling factor")->capture_default_str()->check(CLI::Range(2, 16));
  app.add_option("-t,--threads", threads, "Worker threads (0 = all)")->capture_default_str();
  app.footer("Example:  convt-demo --input photo.jpg --factor 4 --output-dir /tmp/convt");
  CLI11_PARSE(app, argc, argv);

  try {
    std::filesystem::create_directories(out_dir);
    const demo::Image img = input.empty() ? demo::default_image() : demo::load_image(input);
    std::printf("input: %s, %lld x %lld\n", input.empty() ? "embedded test card" : input.c_str(),
                static_cast<long long>(img.extent(1)), static_cast<long long>(img.extent(2)));

    const demo::Image up = upsample(img, factor, threads);
    const demo::Image big = demo::enlarge_nearest(img, factor);
    const std::string upsampling = out_dir + "/upsampling.png";
    demo::save_side_by_side(upsampling, {&big, &up});

    const demo::Image k3 = overlap_pattern(3), k4 = overlap_pattern(4);
    const std::string checkerboard = out_dir + "/checkerboard.png";
    const demo::Image k3_big = demo::enlarge_nearest(k3, 4), k4_big = demo::enlarge_nearest(k4, 4);
    demo::save_side_by_side(checkerboard, {&k3_big, &k4_big});
    std::printf("checkerboard: 3 stride-2 layers on a constant 8 x 8 input: kernel 3 (left) vs kernel 4 (right)\n");

    const demo::Image gen = generator(threads);
    const demo::Image gen_big = demo::enlarge_nearest(gen, 4);
    const std::string generated = out_dir + "/generator.png";
    demo::save_side_by_side(generated, {&gen_big});

    std::printf(
        "\npictures:\n  %s  (left: input, pixels repeated; right: bilinear conv_transpose x%lld)\n"
        "  %s  (left: kernel 3, checkerboard; right: kernel 4, even; both shown x4)\n"
        "  %s  (generator output, shown x4)\n",
        upsampling.c_str(), static_cast<long long>(factor), checkerboard.c_str(), generated.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "convt-demo: %s\n", e.what());
    return 2;
  }
  return 0;
}
