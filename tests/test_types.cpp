// Every element type and every allowed preferred_element_type, against the
// reference; precision semantics; integer wrap-around.
#include "test_util.hpp"

namespace {

using testutil::check;

ref::Problem problem2d(bool tk = false) {
  ref::Problem p;
  p.lhs_shape = {2, 5, 4, 6};  // NHWC, C = 6: with |x|,|w| <= 7 int8 sums wrap
  p.rhs_shape = {3, 3, 6, 4};
  p.lhs_spec = "NHWC";
  p.rhs_spec = "HWIO";
  p.out_spec = "NHWC";
  p.strides = {2, 3};
  p.padding = "SAME";
  p.dilation = {1, 2};
  p.transpose_kernel = tk;
  if (tk) p.rhs_shape = {3, 3, 4, 6};
  return p;
}

template <class T, class Out = void, class Acc = void>
void check_both(convt::ConvTransposeOptions<2> opt = {}) {
  check<4, T, Out, Acc>(problem2d(false), opt, 1);
  check<4, T, Out, Acc>(problem2d(true), opt, 2, true);
}

TEST(Types, Float) { check_both<float>(); }
TEST(Types, Double) { check_both<double>(); }
TEST(Types, FloatToDouble) { check_both<float, double>(); }
TEST(Types, Half) { check_both<Eigen::half, void, float>(); }
TEST(Types, HalfToFloat) { check_both<Eigen::half, float>(); }
TEST(Types, HalfToDouble) { check_both<Eigen::half, double>(); }
TEST(Types, BFloat16) { check_both<Eigen::bfloat16, void, float>(); }
TEST(Types, BFloat16ToFloat) { check_both<Eigen::bfloat16, float>(); }
TEST(Types, Complex64) { check_both<std::complex<float>>(); }
TEST(Types, Complex64ToComplex128) { check_both<std::complex<float>, std::complex<double>>(); }
TEST(Types, Complex128) { check_both<std::complex<double>>(); }
TEST(Types, Int8WrapsLikeXla) { check_both<std::int8_t>(); }
TEST(Types, Int8ToInt16) { check_both<std::int8_t, std::int16_t>(); }
TEST(Types, Int8ToInt32) { check_both<std::int8_t, std::int32_t>(); }
TEST(Types, Int8ToInt64) { check_both<std::int8_t, std::int64_t>(); }
TEST(Types, Int8ToFloat) { check_both<std::int8_t, float>(); }
TEST(Types, Int16) { check_both<std::int16_t>(); }
TEST(Types, Int16ToInt32) { check_both<std::int16_t, std::int32_t>(); }
TEST(Types, Int32) { check_both<std::int32_t>(); }
TEST(Types, Int32ToInt64) { check_both<std::int32_t, std::int64_t>(); }
TEST(Types, Int32ToDouble) { check_both<std::int32_t, double>(); }
TEST(Types, Int64) { check_both<std::int64_t>(); }
TEST(Types, UInt8) { check_both<std::uint8_t>(); }
TEST(Types, UInt8ToInt16) { check_both<std::uint8_t, std::int16_t>(); }
TEST(Types, UInt8ToInt32) { check_both<std::uint8_t, std::int32_t>(); }
TEST(Types, UInt8ToInt8) { check_both<std::uint8_t, std::int8_t>(); }
TEST(Types, HalfToBFloat16) { check_both<Eigen::half, Eigen::bfloat16, float>(); }
TEST(Types, BFloat16ToHalf) { check_both<Eigen::bfloat16, Eigen::half, float>(); }

TEST(Types, PreferredTypeRule) {
  using convt::detail::preferred_type_allowed;
  static_assert(preferred_type_allowed<std::int8_t, std::int32_t>());
  static_assert(preferred_type_allowed<std::int8_t, float>());
  static_assert(preferred_type_allowed<std::uint8_t, std::int16_t>());
  static_assert(preferred_type_allowed<std::uint8_t, std::int8_t>());   // JAX allows the same width
  static_assert(!preferred_type_allowed<std::int8_t, std::uint8_t>());  // ... but not signed -> unsigned
  static_assert(!preferred_type_allowed<std::int32_t, std::int16_t>());
  static_assert(!preferred_type_allowed<std::int32_t, Eigen::half>());  // narrower floating types
  static_assert(!preferred_type_allowed<std::int64_t, float>());
  static_assert(preferred_type_allowed<std::int16_t, Eigen::bfloat16>());
  static_assert(!preferred_type_allowed<float, Eigen::half>());
  static_assert(preferred_type_allowed<Eigen::half, Eigen::bfloat16>());
  static_assert(preferred_type_allowed<Eigen::bfloat16, Eigen::half>());
  static_assert(!preferred_type_allowed<float, std::int32_t>());
  static_assert(!preferred_type_allowed<float, std::complex<float>>());
  static_assert(!preferred_type_allowed<std::complex<double>, std::complex<float>>());
  static_assert(preferred_type_allowed<std::complex<float>, std::complex<double>>());
  SUCCEED();
}

// Highest accumulates float in double: the result is the double reference
// rounded once to float, so it is at least as close as any float sum.
TEST(Precision, HighestAccumulatesInDouble) {
  ref::Problem p = problem2d();
  p.lhs_shape = {1, 6, 6, 64};
  p.rhs_shape = {5, 5, 64, 3};
  p.strides = {1, 1};
  std::mt19937 gen(5);
  std::uniform_real_distribution<float> dist(-1, 1);
  std::vector<float> x(static_cast<std::size_t>(ref::product(p.lhs_shape))),
      w(static_cast<std::size_t>(ref::product(p.rhs_shape)));
  for (auto& v : x) v = dist(gen);
  for (auto& v : w) v = dist(gen);
  std::vector<double> xd(x.begin(), x.end()), wd(w.begin(), w.end());
  const auto want = ref::conv_transpose<double>(p, xd, wd);
  const convt::TensorView<const float, 4> lhs(x.data(), testutil::to_array<4>(p.lhs_shape));
  const convt::TensorView<const float, 4> rhs(w.data(), testutil::to_array<4>(p.rhs_shape));
  auto opt = testutil::options_for<4>(p);
  opt.precision = convt::Precision::Highest;
  const auto hi = convt::conv_transpose(lhs, rhs, {1, 1}, convt::Padding::same(), opt);
  opt.precision = {convt::Precision::Default, convt::Precision::Highest};  // a pair: the higher wins
  const auto pair = convt::conv_transpose(lhs, rhs, {1, 1}, convt::Padding::same(), opt);
  opt.precision = convt::Precision::Default;
  const auto lo = convt::conv_transpose(lhs, rhs, {1, 1}, convt::Padding::same(), opt);
  double err_hi = 0, err_lo = 0;
  for (std::size_t i = 0; i < want.value.size(); ++i) {
    const double rounded = static_cast<double>(static_cast<float>(want.value[i]));
    // Double accumulation of 1600 terms, rounded once: within one float ulp.
    ASSERT_LE(std::abs(hi.data()[i] - rounded), std::abs(rounded) * 1.2e-7 + 1e-30) << i;
    ASSERT_EQ(hi.data()[i], pair.data()[i]);
    err_hi += std::abs(hi.data()[i] - want.value[i]);
    err_lo += std::abs(lo.data()[i] - want.value[i]);
  }
  EXPECT_LT(err_hi, err_lo);
  EXPECT_EQ(convt::combine_precision(convt::Precision::High, convt::Precision::Default), convt::Precision::High);
}

// Integer accumulators: the exact sum when it fits, else modulo 2^64; either
// way the result wraps to the output width like XLA's integer convolution.
TEST(Types, IntegerExtremesWrapExactly) {
  ref::Problem p = problem2d();
  for (int variant = 0; variant < 2; ++variant) {
    std::vector<std::int32_t> x(static_cast<std::size_t>(ref::product(p.lhs_shape)));
    std::vector<std::int32_t> w(static_cast<std::size_t>(ref::product(p.rhs_shape)));
    std::mt19937 gen(9 + variant);
    for (auto& v : x) v = static_cast<std::int32_t>(gen());
    for (auto& v : w) v = static_cast<std::int32_t>(gen());
    std::vector<std::uint64_t> xr(x.size()), wr(w.size());
    for (std::size_t i = 0; i < x.size(); ++i) xr[i] = static_cast<std::uint64_t>(static_cast<std::int64_t>(x[i]));
    for (std::size_t i = 0; i < w.size(); ++i) wr[i] = static_cast<std::uint64_t>(static_cast<std::int64_t>(w[i]));
    const auto want = ref::conv_transpose<std::uint64_t>(p, xr, wr);
    const convt::TensorView<const std::int32_t, 4> lhs(x.data(), testutil::to_array<4>(p.lhs_shape));
    const convt::TensorView<const std::int32_t, 4> rhs(w.data(), testutil::to_array<4>(p.rhs_shape));
    const auto opt = testutil::options_for<4>(p);
    const auto got32 = convt::conv_transpose(lhs, rhs, {2, 3}, convt::Padding::same(), opt);
    const auto got64 = convt::conv_transpose<std::int64_t>(lhs, rhs, {2, 3}, convt::Padding::same(), opt);
    for (std::size_t i = 0; i < want.value.size(); ++i) {
      ASSERT_EQ(got32.data()[i], static_cast<std::int32_t>(static_cast<std::uint32_t>(want.value[i])));
      ASSERT_EQ(got64.data()[i], static_cast<std::int64_t>(want.value[i]));
    }
  }
}

// Integer results at the edges of each accumulator: float and double hold
// exact integer sums only below 2^24 / 2^53; the choice must keep them exact.
template <class In, class Out>
void extremes(std::int64_t c, std::int64_t k, std::uint32_t seed, std::int64_t stride = 1) {
  ref::Problem p;
  p.lhs_shape = {2, 5, c};
  p.rhs_shape = {k, c, 3};
  p.lhs_spec = "NHC";
  p.rhs_spec = "HIO";
  p.out_spec = "NHC";
  p.strides = {stride};
  p.padding = "SAME";
  std::mt19937 gen(seed);
  std::vector<In> x(static_cast<std::size_t>(ref::product(p.lhs_shape))),
      w(static_cast<std::size_t>(ref::product(p.rhs_shape)));
  // Extreme values: the largest magnitudes and random ones.
  for (auto& v : x) v = (gen() % 2) ? std::numeric_limits<In>::min() : static_cast<In>(gen());
  for (auto& v : w) v = (gen() % 2) ? std::numeric_limits<In>::min() : static_cast<In>(gen());
  std::vector<std::uint64_t> xr(x.size()), wr(w.size());
  for (std::size_t i = 0; i < x.size(); ++i) xr[i] = static_cast<std::uint64_t>(static_cast<std::int64_t>(x[i]));
  for (std::size_t i = 0; i < w.size(); ++i) wr[i] = static_cast<std::uint64_t>(static_cast<std::int64_t>(w[i]));
  const auto want = ref::conv_transpose<std::uint64_t>(p, xr, wr);
  const auto got =
      convt::conv_transpose<Out>(convt::TensorView<const In, 3>(x.data(), {2, 5, c}),
                                 convt::TensorView<const In, 3>(w.data(), {k, c, 3}), {stride}, convt::Padding::same());
  for (std::size_t i = 0; i < want.value.size(); ++i) {
    ASSERT_EQ(got.data()[i], static_cast<Out>(static_cast<std::make_unsigned_t<Out>>(want.value[i]))) << i;
  }
}

TEST(Types, IntegerAccumulatorEdges) {
  // Stride 1: every output reduces over C * k terms.
  extremes<std::int8_t, std::int32_t>(256, 4, 1);     // depth 1024: float, exactly at 2^24
  extremes<std::int8_t, std::int32_t>(257, 4, 2);     // depth 1028: float blocks of 1024 + 4, summed in double
  extremes<std::int8_t, std::int32_t>(257, 8, 9, 2);  // stride 2: 4 taps per phase, depth 1028: float blocks
  extremes<std::int8_t, std::int32_t>(1100, 4, 10);   // depth 4400: five blocks, sums far past 2^24
  extremes<std::int8_t, std::int8_t>(700, 4, 11);     // depth 2800: blocks, wrapped to int8
  extremes<std::uint8_t, std::int32_t>(300, 4, 12);   // depth 1200: blocks of 256
  extremes<std::uint8_t, std::int32_t>(65, 4, 13);    // depth 260: just past float's 258, one block of 256 + 4
  extremes<std::int8_t, std::int8_t>(64, 4, 3);       // float, wrapped to int8
  extremes<std::uint8_t, std::int16_t>(64, 4, 4);     // float (255^2 * 256 < 2^24), wrapped to int16
  extremes<std::int16_t, std::int64_t>(16, 4, 5);     // double
  extremes<std::int16_t, std::int16_t>(16, 4, 6);     // double, wrapped
  extremes<std::int32_t, std::int64_t>(1, 1, 7);      // depth 1: int64
  extremes<std::int64_t, std::int64_t>(3, 2, 8);      // uint64, modulo 2^64
}

TEST(Types, AccumulatorChoice) {
  using convt::detail::Accumulator;
  using convt::detail::choose_accumulator;
  EXPECT_EQ((choose_accumulator<float, float>(convt::Precision::Default, 100)), Accumulator::F32);
  EXPECT_EQ((choose_accumulator<float, float>(convt::Precision::Highest, 100)), Accumulator::F64);
  EXPECT_EQ((choose_accumulator<Eigen::half, Eigen::half>(convt::Precision::High, 100)), Accumulator::F32);
  // Exact integer sums in float while |depth * 128^2| <= 2^24, then float
  // blocks of 1024 summed in double (to 2^53), int64, uint64.
  EXPECT_EQ((choose_accumulator<std::int8_t, std::int32_t>(convt::Precision::Default, 1024)), Accumulator::F32);
  EXPECT_EQ((choose_accumulator<std::int8_t, std::int32_t>(convt::Precision::Default, 1025)), Accumulator::F32Blocks);
  EXPECT_EQ((choose_accumulator<std::int8_t, std::int64_t>(convt::Precision::Default, convt::index_t{1} << 39)),
            Accumulator::F32Blocks);
  EXPECT_EQ((choose_accumulator<std::int8_t, std::int64_t>(convt::Precision::Default, (convt::index_t{1} << 39) + 1)),
            Accumulator::I64);
  // uint8: blocks of 256 (2^24 / 255^2 = 258, to a multiple of 8); int16: a
  // block would be shorter than one product needs, so double.
  EXPECT_EQ((choose_accumulator<std::uint8_t, std::int32_t>(convt::Precision::Default, 259)), Accumulator::F32Blocks);
  EXPECT_EQ(convt::detail::exact_float_terms<std::int8_t>(), 1024);
  EXPECT_EQ(convt::detail::exact_float_terms<std::uint8_t>(), 256);
  EXPECT_EQ(convt::detail::exact_float_terms<std::int16_t>(), 0);
  EXPECT_EQ((choose_accumulator<std::int16_t, std::int32_t>(convt::Precision::Default, 1025)), Accumulator::F64);
  EXPECT_EQ((choose_accumulator<std::int16_t, std::int64_t>(convt::Precision::Default, 1 << 23)), Accumulator::F64);
  EXPECT_EQ((choose_accumulator<std::int16_t, std::int64_t>(convt::Precision::Default, (1 << 23) + 1)),
            Accumulator::I64);
  EXPECT_EQ((choose_accumulator<std::int32_t, std::int64_t>(convt::Precision::Default, 1)), Accumulator::I64);
  EXPECT_EQ((choose_accumulator<std::int32_t, std::int32_t>(convt::Precision::Default, 2)), Accumulator::U64);
  EXPECT_EQ((choose_accumulator<std::complex<float>, std::complex<float>>(convt::Precision::Highest, 1)),
            Accumulator::C128);
}

}  // namespace
