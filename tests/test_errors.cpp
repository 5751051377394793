// Every invalid argument gets a convt::Error naming the argument, the value
// and the rule; nothing is written to the output.
#include <gtest/gtest.h>

#include "expect_error.hpp"

#include <limits>
#include <string>
#include <vector>

#include <convt/convt.hpp>

namespace {

using convt::index_t;
using convt::Padding;

using testutil::expect_error;

struct Fixture {
  std::vector<float> x = std::vector<float>(2 * 4 * 5 * 3, 1.0f);
  std::vector<float> w = std::vector<float>(3 * 3 * 3 * 2, 1.0f);
  convt::TensorView<const float, 4> lhs{x.data(), {2, 4, 5, 3}};  // NHWC
  convt::TensorView<const float, 4> rhs{w.data(), {3, 3, 3, 2}};  // HWIO
};

convt::ConvTransposeOptions<2> with_dn(std::string l, std::string r, std::string o) {
  convt::ConvTransposeOptions<2> opt;
  opt.dimension_numbers = convt::DimensionNumbers{std::move(l), std::move(r), std::move(o)};
  return opt;
}

TEST(Errors, DimensionNumbers) {
  Fixture f;
  auto call = [&](convt::ConvTransposeOptions<2> opt) {
    convt::conv_transpose(f.lhs, f.rhs, {2, 2}, Padding::same(), opt);
  };
  expect_error([&] { call(with_dn("NHWCX", "HWIO", "NHWC")); },
               {"dimension_numbers.lhs", "\"NHWCX\"", "5 letters", "rank 4"});
  expect_error([&] { call(with_dn("NHHC", "HWIO", "NHWC")); }, {"dimension_numbers.lhs", "'H' twice"});
  expect_error([&] { call(with_dn("XHWC", "HWIO", "NHWC")); }, {"dimension_numbers.lhs", "must contain 'N' and 'C'"});
  expect_error([&] { call(with_dn("NHWC", "HWIX", "NHWC")); }, {"dimension_numbers.rhs", "'O' and 'I'"});
  expect_error([&] { call(with_dn("NHWC", "HWIO", "NHDC")); }, {"dimension_numbers.out", "lacks spatial axis 'W'"});
  expect_error([&] { call(with_dn("NHWC", "HNIO", "NHWC")); }, {"dimension_numbers.rhs", "contains 'N'"});
  expect_error([&] { call(with_dn("NHWC", "HWIOO", "NHWC")); }, {"dimension_numbers.rhs", "5 letters"});
}

TEST(Errors, NoDefaultLayoutForRank6) {
  std::vector<float> x(1), w(1);
  convt::TensorView<const float, 6> lhs(x.data(), {1, 1, 1, 1, 1, 1});
  convt::TensorView<const float, 6> rhs(w.data(), {1, 1, 1, 1, 1, 1});
  expect_error(
      [&] {
        convt::conv_transpose(lhs, rhs, {1, 1, 1, 1}, Padding::valid());
      },
      {"dimension_numbers", "ranks 2 to 5", "rank 6"});
}

TEST(Errors, StridesDilationsPads) {
  Fixture f;
  expect_error(
      [&] {
        convt::conv_transpose(f.lhs, f.rhs, {2, 0}, Padding::same());
      },
      {"strides[1] = 0", "'W'", ">= 1"});
  expect_error([&] { convt::conv_transpose(f.lhs, f.rhs, {-1, 1}, Padding::same()); }, {"strides[0] = -1", "'H'"});
  convt::ConvTransposeOptions<2> opt;
  opt.rhs_dilation = std::array<index_t, 2>{1, 0};
  expect_error(
      [&] {
        convt::conv_transpose(f.lhs, f.rhs, {1, 1}, Padding::same(), opt);
      },
      {"rhs_dilation[1] = 0", ">= 1"});
  expect_error(
      [&] {
        convt::conv_transpose(f.lhs, f.rhs, {1, 1}, Padding::explicit_pads({{0, 0}}));
      },
      {"padding", "1 explicit", "2 spatial"});
  // Input H = 4 at stride 1 is 4 long; (-3, -2) removes 5.
  expect_error(
      [&] {
        convt::conv_transpose(f.lhs, f.rhs, {1, 1}, Padding::explicit_pads({{-3, -2}, {0, 0}}));
      },
      {"padding (-3, -2)", "'H'", "size 4", "< 0"});
  opt = {};
  opt.use_consistent_padding = true;  // forward pads (6, 6) with k = 3 become (-4, -4)
  expect_error(
      [&] {
        convt::conv_transpose(f.lhs, f.rhs, {1, 1}, Padding::explicit_pads({{0, 0}, {6, 6}}), opt);
      },
      {"padding (-4, -4)", "'W'", "size 5"});
  opt = {};
  opt.num_threads = -2;
  expect_error([&] { convt::conv_transpose(f.lhs, f.rhs, {1, 1}, Padding::same(), opt); }, {"num_threads = -2"});
}

TEST(Errors, FeatureMismatch) {
  Fixture f;
  std::vector<float> w(3 * 3 * 4 * 2);
  convt::TensorView<const float, 4> rhs(w.data(), {3, 3, 4, 2});
  expect_error(
      [&] {
        convt::conv_transpose(f.lhs, rhs, {1, 1}, Padding::same());
      },
      {"feature mismatch", "'C'", "\"NHWC\"", "has 3", "'I'", "\"HWIO\"", "has 4"});
  convt::ConvTransposeOptions<2> opt;
  opt.transpose_kernel = true;  // now rhs O (= 2) must equal C (= 3)
  expect_error(
      [&] {
        convt::conv_transpose(f.lhs, f.rhs, {1, 1}, Padding::same(), opt);
      },
      {"feature mismatch", "'O'", "has 2", "transpose_kernel"});
}

TEST(Errors, FeatureGroups) {
  std::vector<float> x(2 * 4 * 5 * 6, 1.0f), w(3 * 3 * 3 * 6, 1.0f);
  const convt::TensorView<const float, 4> lhs(x.data(), {2, 4, 5, 6});  // C = 6
  auto run = [&](std::array<convt::index_t, 4> rhs_shape, convt::index_t groups, bool tk = false) {
    convt::ConvTransposeOptions<2> opt;
    opt.feature_group_count = groups;
    opt.transpose_kernel = tk;
    convt::conv_transpose(lhs, convt::TensorView<const float, 4>(w.data(), rhs_shape), {2, 2}, Padding::same(), opt);
  };
  EXPECT_NO_THROW(run({3, 3, 3, 4}, 2));  // I = 6 / 2, O = 4 = 2 x 2
  expect_error([&] { run({3, 3, 3, 4}, 0); }, {"feature_group_count = 0", ">= 1"});
  expect_error([&] { run({3, 3, 3, 4}, 4); }, {"feature_group_count = 4", "does not divide", "has 6"});
  expect_error(
      [&] {
        run({3, 3, 2, 4}, 2);
      },
      {"feature mismatch", "feature_group_count = 2", "rhs axis 'I'", "must have 3", "but has 2"});
  expect_error([&] { run({3, 3, 3, 5}, 2); }, {"rhs axis 'O'", "has 5 output features", "feature_group_count = 2"});
  // transpose_kernel: 'O' holds all C, 'I' holds O / groups.
  std::vector<float> wt(3 * 3 * 2 * 6, 1.0f);
  auto run_tk = [&](std::array<convt::index_t, 4> rhs_shape, convt::index_t groups) {
    convt::ConvTransposeOptions<2> opt;
    opt.feature_group_count = groups;
    opt.transpose_kernel = true;
    return convt::conv_transpose(lhs, convt::TensorView<const float, 4>(wt.data(), rhs_shape), {2, 2}, Padding::same(),
                                 opt);
  };
  EXPECT_EQ(run_tk({3, 3, 2, 6}, 3).extent(3), 6);  // O = groups x I = 3 x 2
  expect_error([&] { run_tk({3, 3, 6, 2}, 3); }, {"rhs axis 'O'", "must have 6", "all lhs features", "but has 2"});
}

TEST(Errors, HugeFeatureGroupCountMakesASmallPlan) {
  // Any feature_group_count divides 0 features: the result is zeros, and the
  // plan must not hold one (empty) kernel per group (found by the fuzzer).
  std::vector<float> x(4, 1.0f);
  const convt::index_t huge = std::numeric_limits<convt::index_t>::max() - 1;
  for (bool tk : {false, true}) {
    convt::ConvTransposeOptions<1> opt;
    opt.feature_group_count = huge;
    opt.transpose_kernel = tk;
    // lhs (N 1, W 4, C 0); rhs (W 2, I 0, O 0): no features at all.
    const auto y =
        convt::conv_transpose(convt::TensorView<const float, 3>(x.data(), {1, 4, 0}),
                              convt::TensorView<const float, 3>(nullptr, {2, 0, 0}), {2}, Padding::valid(), opt);
    EXPECT_EQ(y.size(), 0);
    // An empty kernel with input features: G must divide C = 4; zeros out.
    opt.feature_group_count = 2;
    const auto z =
        convt::conv_transpose(convt::TensorView<const float, 3>(x.data(), {1, 1, 4}),
                              convt::TensorView<const float, 3>(nullptr, tk ? std::array<convt::index_t, 3>{0, 3, 4}
                                                                            : std::array<convt::index_t, 3>{0, 2, 6}),
                              {2}, Padding::valid(), opt);
    EXPECT_EQ(z.extent(2), 6);
    for (convt::index_t i = 0; i < z.size(); ++i) EXPECT_EQ(z.data()[i], 0.0f);
  }
}

TEST(Errors, ShapesAndViews) {
  std::vector<float> x(4);
  expect_error([&] { convt::TensorView<float, 2>(x.data(), {2, -2}); }, {"extent 1 is -2"});
  expect_error([&] { convt::TensorView<float, 2>(nullptr, {2, 2}); }, {"null pointer", "4 elements"});
  EXPECT_NO_THROW((convt::TensorView<float, 2>(nullptr, {0, 2})));
  const index_t big = index_t{1} << 40;
  expect_error([&] { convt::TensorView<float, 2>(x.data(), {big, big}); }, {"overflows"});
  expect_error([&] { convt::Tensor<float, 2>({big, big}); }, {"overflows"});
  // Overflow in the output-size arithmetic, without allocating anything.
  expect_error(
      [&] {
        convt::conv_transpose_shape<3>({1, index_t{1} << 62, 1}, {3, 1, 1}, {4}, Padding::same());
      },
      {"overflows"});
  convt::ConvTransposeOptions<1> opt;
  opt.rhs_dilation = std::array<index_t, 1>{index_t{1} << 62};
  expect_error([&] { convt::conv_transpose_shape<3>({1, 5, 1}, {9, 1, 1}, {1}, Padding::same(), opt); }, {"overflows"});
  expect_error(
      [&] {
        convt::conv_transpose_shape<3>({1, 5, 1}, {3, 1, 1}, {1},
                                       Padding::explicit_pads({{std::numeric_limits<index_t>::max(), 1}}));
      },
      {"overflows"});
}

TEST(Errors, OutputViewAndNothingWritten) {
  Fixture f;
  const auto shape = convt::conv_transpose_shape<4>(f.lhs.shape(), f.rhs.shape(), {2, 2}, Padding::same());
  ASSERT_EQ(shape, (std::array<index_t, 4>{2, 8, 10, 2}));
  std::vector<float> buf(2 * 8 * 10 * 2 + 64, -7.0f);
  auto untouched = [&] {
    for (float v : buf) ASSERT_EQ(v, -7.0f);
  };
  convt::TensorView<float, 4> wrong(buf.data(), {2, 8, 10, 3});
  expect_error(
      [&] {
        convt::conv_transpose_into(f.lhs, f.rhs, wrong, {2, 2}, Padding::same());
      },
      {"out shape (2, 8, 10, 3)", "(2, 8, 10, 2)"});
  untouched();
  convt::TensorView<float, 4> aliased(buf.data(), shape, {0, 20, 2, 1});
  expect_error(
      [&] {
        convt::conv_transpose_into(f.lhs, f.rhs, aliased, {2, 2}, Padding::same());
      },
      {"write one element twice"});
  untouched();
  // An error found late (bad padding) still writes nothing.
  convt::TensorView<float, 4> good(buf.data(), shape);
  expect_error(
      [&] {
        convt::conv_transpose_into(f.lhs, f.rhs, good, {2, 2}, Padding::explicit_pads({{0, 0}}));
      },
      {"padding"});
  untouched();
}

TEST(Errors, OverlapWithInputs) {
  // One buffer holding lhs, then the output starting inside lhs.
  std::vector<float> buf(1000, 1.0f);
  std::vector<float> w(3 * 1 * 1, 1.0f);
  convt::TensorView<const float, 3> lhs(buf.data(), {1, 10, 1});
  convt::TensorView<const float, 3> rhs(w.data(), {3, 1, 1});
  convt::TensorView<float, 3> out(buf.data() + 5, {1, 10, 1});
  expect_error([&] { convt::conv_transpose_into(lhs, rhs, out, {1}, Padding::same()); }, {"overlaps lhs"});
  convt::TensorView<float, 3> out2(w.data(), {1, 10, 1}, {0, 0, 0});
  std::vector<float> w2(3 * 1 * 1, 1.0f);
  convt::TensorView<float, 3> over_rhs(w2.data(), {1, 3, 1});
  convt::TensorView<const float, 3> rhs2(w2.data(), {3, 1, 1});
  convt::TensorView<const float, 3> lhs2(buf.data(), {1, 1, 1});
  expect_error([&] { convt::conv_transpose_into(lhs2, rhs2, over_rhs, {1}, Padding::same()); }, {"overlaps rhs"});
  (void)out2;
}

TEST(Errors, PlanInputShape) {
  Fixture f;
  const auto plan = convt::make_plan(f.rhs, f.lhs.shape(), {2, 2}, Padding::same());
  std::vector<float> x(2 * 4 * 6 * 3);
  convt::TensorView<const float, 4> other(x.data(), {2, 4, 6, 3});
  expect_error([&] { plan(other); }, {"lhs shape (2, 4, 6, 3)", "(2, 4, 5, 3)", "plan"});
}

}  // namespace

namespace {

// An output too large to allocate is an Error, found before any work and
// before the plan sizes anything by the image (a zero-stride input view makes
// the huge input cost nothing).
TEST(Errors, OutputTooLargeToAllocate) {
  float one = 1.0f;
  const index_t huge = index_t{1} << 40;
  convt::TensorView<const float, 3> lhs(&one, {1, huge, 1}, {0, 0, 0});
  convt::TensorView<const float, 3> rhs(&one, {1, 1, 1}, {0, 0, 0});
  expect_error([&] { convt::conv_transpose(lhs, rhs, {4}, Padding::valid()); }, {"cannot allocate", "bytes"});
  // Byte count itself overflowing int64.
  expect_error([&] { convt::Tensor<double, 2>({index_t{1} << 31, index_t{1} << 30}); }, {"Tensor bytes", "overflows"});
}

// Found by the fuzzer: an empty operand whose other extents multiply past
// int64 was accepted by conv_transpose_shape but cannot be viewed; both now
// apply the same rule.
TEST(Errors, EmptyOperandWithHugeExtents) {
  expect_error(
      [&] {
        convt::conv_transpose_shape<3>({0, 3, 3363818036970565292}, {1, 1, 1}, {1}, Padding::valid());
      },
      {"lhs", "overflows"});
  expect_error(
      [&] {
        convt::conv_transpose_shape<3>({1, 1, 1}, {0, index_t{1} << 40, index_t{1} << 40}, {1}, Padding::valid());
      },
      {"rhs", "overflows"});
}

// Found by the fuzzer: huge strides made the plan enumerate min(stride,
// output) phases. Only phases that own a kernel tap are kept now, so a plan
// for a 2^40 stride is as small as its kernel.
TEST(Errors, HugeStrideMakesASmallPlan) {
  std::vector<float> w = {1, 2};
  convt::TensorView<const float, 3> rhs(w.data(), {2, 1, 1});
  const auto plan = convt::make_plan(rhs, {1, 3, 1}, {index_t{1} << 40}, Padding::valid());
  EXPECT_EQ(plan.output_shape()[1], 3 * (index_t{1} << 40));
  EXPECT_LT(plan.packed_kernel_bytes(), 1024u);
  // A zero batch gives an empty output: no phases at all.
  const auto empty = convt::make_plan(rhs, {0, 3, 1}, {index_t{1} << 40}, Padding::valid());
  EXPECT_EQ(empty.output_shape()[0], 0);
}

// Found by the fuzzer: a kernel without elements but with a 2^40 extent
// elsewhere was walked tap by tap when its phases were made (a hang, then
// out of memory). Such a kernel owns no taps: the plan is immediate and
// empty, and every output is the empty sum.
TEST(Errors, EmptyKernelWithHugeExtentMakesAnEmptyPlan) {
  const index_t huge = index_t{1} << 40;
  float one = 1;
  for (const std::array<index_t, 3>& rhs_shape :
       {std::array<index_t, 3>{huge, 1, 0}, std::array<index_t, 3>{huge, 0, 1}, std::array<index_t, 3>{0, 1, 1}}) {
    SCOPED_TRACE(convt::detail::format_seq(rhs_shape));
    convt::TensorView<const float, 3> rhs(&one, rhs_shape, {0, 0, 0});
    const std::array<index_t, 3> lhs_shape{1, 1, rhs_shape[1]};
    const auto plan = convt::make_plan(rhs, lhs_shape, {3}, Padding::valid());
    EXPECT_EQ(plan.packed_kernel_bytes(), 0u);
  }
  // The output of a kernel without output features is empty; with output
  // features and no taps it is all zeros.
  convt::TensorView<const float, 4> lhs(&one, {1, 1, 1, 1}, {0, 0, 0, 0});
  const auto none = convt::conv_transpose(lhs, convt::TensorView<const float, 4>(&one, {huge, 2, 1, 0}, {0, 0, 0, 0}),
                                          {2, 2}, Padding::valid());
  EXPECT_EQ(none.size(), 0);
  const auto zeros = convt::conv_transpose(lhs, convt::TensorView<const float, 4>(&one, {0, huge, 1, 2}, {0, 0, 0, 0}),
                                           {2, 2}, Padding::explicit_pads({{0, 0}, {huge, 0}}));
  ASSERT_EQ(zeros.shape(), (std::array<index_t, 4>{1, 2, 2, 2}));
  for (index_t i = 0; i < zeros.size(); ++i) EXPECT_EQ(zeros.data()[i], 0.0f);
}

// Negative strides are handled, not rejected: a flipped input view.
TEST(Errors, NegativeInputStridesAreSupported) {
  std::vector<float> x = {1, 2, 3, 4};
  std::vector<float> w = {1, 10};
  convt::TensorView<const float, 3> flipped(x.data() + 3, {1, 4, 1}, {4, -1, 1});
  convt::TensorView<const float, 3> rhs(w.data(), {2, 1, 1});
  const auto y = convt::conv_transpose(flipped, rhs, {1}, Padding::valid());
  // Input read as [4, 3, 2, 1]; VALID k2 s1 pads (1, 1): y[q] = xp[q] + 10 xp[q + 1].
  const float want[] = {40, 34, 23, 12, 1};
  ASSERT_EQ(y.size(), 5);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(y(0, i, 0), want[i]) << i;
}

// Overflow detection: the portable fallback (MSVC; CONVT_PORTABLE_OVERFLOW)
// and the version convt uses agree with exact 128-bit-free reasoning at the
// int64/uint64 boundaries; checked_* report through convt::Error.
TEST(Errors, OverflowArithmeticAtTheLimits) {
  using convt::detail::portable_add_overflow;
  using convt::detail::portable_mul_overflow;
  using convt::detail::portable_sub_overflow;
  constexpr index_t hi = std::numeric_limits<index_t>::max();
  constexpr index_t lo = std::numeric_limits<index_t>::min();
  struct Case {
    index_t a, b;
    bool mul, add, sub;
  };
  const Case cases[] = {
      {0, lo, false, false, true},
      {lo, 0, false, false, false},
      {-1, lo, true, true, false},
      {lo, -1, true, true, false},
      {lo, 1, false, false, true},
      {1, hi, false, true, false},
      {hi, 1, false, true, false},
      {hi, -1, false, false, true},
      {-1, hi, false, false, false},
      {2, hi / 2, false, false, false},
      {2, hi / 2 + 1, true, false, false},
      {-2, lo / 2, true, false, false},
      {-2, lo / 2 + 1, false, false, false},
      {2, lo / 2, false, false, false},
      {2, lo / 2 - 1, true, false, false},
      {3037000499, 3037000499, false, false, false},
      {3037000500, 3037000500, true, false, false},
      {-3037000500, 3037000500, true, false, false},
      {hi, hi, true, true, false},
      {lo, lo, true, true, false},
      {lo, hi, true, false, true},
      {hi, lo, true, false, true},
      {-1, -1, false, false, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::Message() << c.a << " op " << c.b);
    index_t r = 0;
    EXPECT_EQ(portable_mul_overflow(c.a, c.b, &r), c.mul);
    if (!c.mul) {
      EXPECT_EQ(r, c.a * c.b);
    }
    EXPECT_EQ(convt::detail::mul_overflow(c.a, c.b, &r), c.mul);
    EXPECT_EQ(portable_add_overflow(c.a, c.b, &r), c.add);
    if (!c.add) {
      EXPECT_EQ(r, c.a + c.b);
    }
    EXPECT_EQ(convt::detail::add_overflow(c.a, c.b, &r), c.add);
    EXPECT_EQ(portable_sub_overflow(c.a, c.b, &r), c.sub);
    if (!c.sub) {
      EXPECT_EQ(r, c.a - c.b);
    }
    EXPECT_EQ(convt::detail::sub_overflow(c.a, c.b, &r), c.sub);
    if (c.mul) {
      expect_error([&] { convt::detail::checked_mul(c.a, c.b, "test"); }, {"test: ", "overflows 64-bit"});
    } else {
      EXPECT_EQ(convt::detail::checked_mul(c.a, c.b, "test"), c.a * c.b);
    }
  }
  constexpr std::uint64_t umax = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t u = 0;
  EXPECT_FALSE(portable_mul_overflow(std::uint64_t{1} << 32, (std::uint64_t{1} << 32) - 1, &u));
  EXPECT_EQ(u, (std::uint64_t{1} << 32) * ((std::uint64_t{1} << 32) - 1));
  EXPECT_TRUE(portable_mul_overflow(std::uint64_t{1} << 32, std::uint64_t{1} << 32, &u));
  EXPECT_TRUE(portable_mul_overflow(umax, std::uint64_t{2}, &u));
  EXPECT_FALSE(portable_mul_overflow(umax, std::uint64_t{1}, &u));
  EXPECT_FALSE(portable_mul_overflow(std::uint64_t{0}, umax, &u));
  EXPECT_TRUE(convt::detail::mul_overflow(umax / 3 + 1, std::uint64_t{3}, &u));
}

}  // namespace
