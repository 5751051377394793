// Packed kernels (convt/kernel.hpp): one packed copy serves plans for any
// input shape, bitwise equal to make_plan and right against the reference —
// including shapes where phases sharing a GEMM have different row counts
// (the grid rows a member does not own are not written) and shapes so
// small that some phases have no output at all.
#include <cstring>

#include "epilogue_util.hpp"
#include "expect_error.hpp"

namespace {

using convt::index_t;

TEST(PackedKernel, OneCopyServesManyInputLengths) {
  // A vocoder-style upsampler: 8 -> 6 channels, k16 s8, PyTorch padding 4.
  std::vector<float> w = testutil::random_values<float>(8 * 6 * 16, 1);
  convt::ConvTransposeOptions<1> opt;
  opt.dimension_numbers = convt::DimensionNumbers{"NCH", "OIH", "NCH"};
  opt.transpose_kernel = true;
  const convt::Padding pad = convt::Padding::explicit_pads({{11, 11}});
  auto kernel = convt::make_kernel(convt::TensorView<const float, 3>(w.data(), {8, 6, 16}), {8}, pad, opt);
  const std::size_t packed = kernel.packed_kernel_bytes();
  EXPECT_GT(packed, 0u);
  std::vector<convt::Plan<float, float, 3>> plans;
  for (index_t frames = 1; frames <= 250; ++frames) plans.push_back(kernel.plan({1, 8, frames}));
  // Plans of a few frames multiply with the kernel as the GEMM's left
  // operand (tiling.hpp's kernel_as_lhs): the first of them packed it that
  // way too, once, for all of them.
  const std::size_t bytes = kernel.packed_kernel_bytes();
  EXPECT_EQ(bytes, 2 * packed);
  std::fill(w.begin(), w.end(), 0.0f);  // the kernel holds its own packed copy
  for (index_t frames : {1, 2, 7, 80, 113, 250}) {
    const auto& plan = plans[static_cast<std::size_t>(frames - 1)];
    EXPECT_EQ(plan.packed_kernel_bytes(), bytes);  // shared, not copied
    EXPECT_EQ(plan.output_shape(), (std::array<index_t, 3>{1, 6, 8 * frames}));
    EXPECT_EQ(kernel.output_shape({1, 8, frames}), plan.output_shape());
    const auto x =
        testutil::random_values<float>(static_cast<std::size_t>(8 * frames), static_cast<std::uint32_t>(frames));
    const std::vector<float> w2 = testutil::random_values<float>(8 * 6 * 16, 1);
    const convt::TensorView<const float, 3> lhs(x.data(), {1, 8, frames});
    const auto want =
        convt::conv_transpose(lhs, convt::TensorView<const float, 3>(w2.data(), {8, 6, 16}), {8}, pad, opt);
    const auto got = plan(lhs);
    ASSERT_EQ(0, std::memcmp(got.data(), want.data(), sizeof(float) * static_cast<std::size_t>(want.size())))
        << frames << " frames";
  }
  // A plan made from a copy of the handle, after the original is gone.
  const auto copy = kernel;
  kernel = copy;
  EXPECT_EQ(copy.plan({2, 8, 5}).output_shape(), (std::array<index_t, 3>{2, 6, 40}));
}

ref::Problem one_d(index_t in, index_t k, index_t s, index_t lo, index_t hi, index_t c = 3, index_t o = 5) {
  ref::Problem p;
  p.lhs_spec = "NWC";
  p.rhs_spec = "WIO";
  p.out_spec = "NWC";
  p.lhs_shape = {2, in, c};
  p.rhs_shape = {k, c, o};
  p.strides = {s};
  p.padding = "EXPLICIT";
  p.pads = {{lo, hi}};
  return p;
}

TEST(PackedKernel, GroupMembersWithDifferentRowCounts) {
  // k = s = 3, pads (0, 1), 5 inputs: 14 outputs; the phases of taps 1 and 2
  // share their shifts but have 4 and 5 rows: one grid of 5 rows, the
  // shorter member writes 4.
  for (int threads : {1, 2, 3})
    for (std::size_t ws : {std::size_t{1}, std::size_t{16} << 20}) {
      convt::ConvTransposeOptions<1> opt;
      opt.num_threads = threads;
      opt.workspace_bytes = ws;
      testutil::check<3, float>(one_d(5, 3, 3, 0, 1), opt, 1, true);
      testutil::check<3, float>(one_d(9, 6, 3, 2, 0, 16, 20), opt, 2);  // whole packets of channels: indirect packing
      testutil::check_epilogue<3, float>(one_d(5, 3, 3, 0, 1), {true, 1.0, convt::Activation::tanh()}, opt, 3, true);
      testutil::check_epilogue<3, double>(one_d(7, 3, 3, 1, 0), {true, 1.0, convt::Activation::relu()}, opt, 4);
      testutil::check_epilogue<3, std::int8_t, std::int32_t>(one_d(5, 3, 3, 0, 1),
                                                             {true, 1.0, convt::Activation::clamp(-3, 9)}, opt, 5);
    }
  // 2-D: unequal counts in one dimension, channel-major output.
  ref::Problem p;
  p.lhs_spec = "NHWC";
  p.rhs_spec = "OIHW";
  p.out_spec = "NCHW";
  p.lhs_shape = {1, 4, 5, 2};
  p.rhs_shape = {3, 2, 2, 3};
  p.strides = {2, 3};
  p.padding = "EXPLICIT";
  p.pads = {{1, 0}, {0, 1}};
  testutil::check<4, float>(p, {}, 6, true);
  testutil::check_epilogue<4, float>(p, {true, 1.0, convt::Activation::silu()}, {}, 7, true);
}

TEST(PackedKernel, OutputsShorterThanTheStride) {
  // Phases whose first output is past the end have no rows in the plan.
  for (index_t hi : {-7, -6, -5, -3, 0}) {
    testutil::check<3, float>(one_d(2, 4, 4, 3, hi), {}, 1);
    testutil::check_epilogue<3, float>(one_d(2, 4, 4, 3, hi), {true, 1.0, convt::Activation::sigmoid()}, {}, 2);
  }
  testutil::check<3, float>(one_d(1, 2, 5, 1, 0), {}, 3);
}

TEST(PackedKernel, PlansEqualMakePlanBitwise) {
  // Random (non-exact) values: make_kernel(...).plan(shape) and
  // make_plan(..., shape) take the same path, so they agree bit for bit.
  std::mt19937 gen(3);
  std::uniform_real_distribution<float> dist(-1, 1);
  for (index_t k : {1, 2, 3, 4, 5})
    for (index_t s : {1, 2, 3})
      for (index_t lo : {-1, 0, 2}) {
        std::vector<float> w(static_cast<std::size_t>(k * k * 4 * 3));
        for (auto& v : w) v = dist(gen);
        const convt::TensorView<const float, 4> rhs(w.data(), {k, k, 4, 3});
        convt::ConvTransposeOptions<2> opt;
        opt.rhs_dilation = std::array<index_t, 2>{1, 2};
        const convt::Padding pad = convt::Padding::explicit_pads({{lo, 1}, {k, lo}});
        const auto kernel = convt::make_kernel(rhs, {s, s + 1}, pad, opt);
        for (index_t h : {3, 6})
          for (index_t wd : {4, 9}) {
            std::vector<float> x(static_cast<std::size_t>(2 * h * wd * 4));
            for (auto& v : x) v = dist(gen);
            const convt::TensorView<const float, 4> lhs(x.data(), {2, h, wd, 4});
            const auto a = kernel.plan(lhs.shape())(lhs);
            const auto b = convt::make_plan(rhs, lhs.shape(), {s, s + 1}, pad, opt)(lhs);
            ASSERT_EQ(a.shape(), b.shape());
            if (a.size() == 0) continue;  // empty: no data to compare (memcmp takes no null pointer)
            ASSERT_EQ(0, std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<std::size_t>(a.size())))
                << "k " << k << " s " << s << " lo " << lo << " input " << h << "x" << wd;
          }
      }
}

TEST(PackedKernel, Errors) {
  using testutil::expect_error;
  std::vector<float> w(3 * 3 * 4 * 6, 1.0f);
  const convt::TensorView<const float, 4> rhs(w.data(), {3, 3, 4, 6});  // HWIO: I = 4
  const auto kernel = convt::make_kernel(rhs, {2, 2}, convt::Padding::same());
  expect_error(
      [&] {
        kernel.plan({1, 5, 5, 3});
      },
      {"feature mismatch", "lhs axis 'C'", "has 3", "rhs axis 'I'", "has 4"});
  expect_error([&] { convt::make_kernel(rhs, {2, 0}, convt::Padding::same()); }, {"strides[1] = 0"});
  convt::ConvTransposeOptions<2> opt;
  opt.transpose_kernel = true;
  opt.feature_group_count = 4;  // 'O' (6 input features after the swap) is not a multiple of 4
  expect_error(
      [&] {
        convt::make_kernel(rhs, {2, 2}, convt::Padding::same(), opt);
      },
      {"rhs axis 'O'", "has 6", "transpose_kernel", "feature_group_count = 4 does not divide"});
  // Padding that crops more than a small input has: an error for that
  // shape, not for the kernel.
  const auto cropping = convt::make_kernel(rhs, {1, 1}, convt::Padding::explicit_pads({{-3, -2}, {0, 0}}));
  expect_error([&] { cropping.plan({1, 4, 5, 4}); }, {"padding (-3, -2)", "size 4"});
  EXPECT_EQ(cropping.plan({1, 9, 5, 4}).output_shape(), (std::array<index_t, 4>{1, 2, 3, 6}));
}

}  // namespace
