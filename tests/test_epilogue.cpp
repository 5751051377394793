// The fused epilogue (convt/epilogue.hpp): bias, accumulation into the
// output and every activation, against the reference put through the same
// epilogue — for every result type family, layouts, feature groups, thread
// counts, workspace caps (tile edges), outputs no tap reaches and empty
// inputs; bitwise identity across threads and caps; and the errors.
#include <cstring>
#include <limits>

#include "epilogue_util.hpp"
#include "expect_error.hpp"

namespace {

using convt::Activation;
using convt::index_t;
using testutil::check_epilogue;
using testutil::EpilogueCase;

const Activation kFloatActivations[] = {
    Activation::none(), Activation::relu(),    Activation::leaky_relu(0.2), Activation::clamp(-0.5, 0.75),
    Activation::tanh(), Activation::sigmoid(), Activation::gelu(),          Activation::gelu_tanh(),
    Activation::silu()};

// k3 s2 SAME over 5 x 7 (every output reached by a tap) and k2 s3 (outputs
// between the taps reached by none: the epilogue of an empty sum).
ref::Problem problem(const char* lhs, const char* rhs, const char* out, index_t k, index_t s, index_t c, index_t o,
                     index_t groups = 1) {
  ref::Problem p;
  p.lhs_spec = lhs;
  p.rhs_spec = rhs;
  p.out_spec = out;
  auto extent = [&](char ch, bool kernel) -> index_t {
    switch (ch) {
      case 'N': return 2;
      case 'C': return c;
      case 'I': return c / groups;
      case 'O': return o;
      case 'H': return kernel ? k : 5;
      default: return kernel ? k : 7;
    }
  };
  for (const char* ch = lhs; *ch; ++ch) p.lhs_shape.push_back(extent(*ch, false));
  for (const char* ch = rhs; *ch; ++ch) p.rhs_shape.push_back(extent(*ch, true));
  p.strides = {s, s};
  p.padding = "SAME";
  p.groups = groups;
  return p;
}

TEST(Epilogue, FloatEveryActivationLayoutGroupsAndThreads) {
  int n = 0;
  for (const Activation& a : kFloatActivations)
    for (const auto& layout : {std::array<const char*, 3>{"NHWC", "HWIO", "NHWC"}, {"NCHW", "OIHW", "NCHW"}})
      for (index_t groups : {1, 3}) {
        const ref::Problem p = problem(layout[0], layout[1], layout[2], n % 2 ? 2 : 3, n % 2 ? 3 : 2, 6, 21, groups);
        convt::ConvTransposeOptions<2> opt;
        opt.num_threads = 1 + n % 3;
        opt.workspace_bytes = n % 2 ? 1 : std::size_t{16} << 20;  // one register block per tile, or large tiles
        const EpilogueCase e{n % 3 != 2, n % 4 == 1 ? 1.0 : (n % 4 == 3 ? -0.5 : 0.0), a};
        check_epilogue<4, float>(p, e, opt, static_cast<std::uint32_t>(n), n % 2 == 0);
        ++n;
      }
}

// Narrow k4 s2 layers run their four phases on one grid whose extra rows
// are computed and not written (phase_groups.hpp): every write path of the
// epilogue (register-held bias + piecewise activation, the finished-packet
// path with accumulation, packet activations, channel-strided NCHW) must skip
// them, with whole packets of features and ragged ones.
TEST(Epilogue, TranslatedPhaseGroupsSkipForeignRows) {
  int n = 0;
  for (const Activation& a : {Activation::relu(), Activation::leaky_relu(0.2), Activation::clamp(-0.5, 0.75),
                              Activation::silu(), Activation::none()})
    for (const auto& layout : {std::array<const char*, 3>{"NHWC", "HWIO", "NHWC"}, {"NCHW", "OIHW", "NCHW"}})
      for (index_t o : {3, 16, 21}) {
        ref::Problem p = problem(layout[0], layout[1], layout[2], 4, 2, 16, o);
        p.padding = "EXPLICIT";
        p.pads = {{2, 2}, {2, 3}};  // odd output width: members of different counts
        convt::ConvTransposeOptions<2> opt;
        opt.num_threads = 1 + n % 2;
        opt.workspace_bytes = n % 3 ? std::size_t{16} << 20 : 1;
        const EpilogueCase e{n % 3 != 1, n % 2 ? 1.0 : 0.0, a};
        check_epilogue<4, float>(p, e, opt, static_cast<std::uint32_t>(100 + n), n % 4 == 0);
        ++n;
      }
}

// A 1 x 1 input cut into one-row border bands (detail/border_bands.hpp),
// each band written on its own: bias, accumulation and activation reach
// every output once, in both layouts, wide and narrow (translated) outputs.
TEST(Epilogue, BorderBandsWriteEveryOutputOnce) {
  int n = 0;
  for (const Activation& a : {Activation::relu(), Activation::clamp(-0.5, 0.75), Activation::silu()})
    for (const auto& layout : {std::array<const char*, 3>{"NHWC", "HWIO", "NHWC"}, {"NCHW", "OIHW", "NCHW"}})
      for (index_t o : {3, 40}) {
        ref::Problem p = problem(layout[0], layout[1], layout[2], 4, 1 + n % 2, 16, o);
        for (std::size_t i = 0; i < 4; ++i) {
          if (p.lhs_spec[i] == 'H' || p.lhs_spec[i] == 'W') p.lhs_shape[i] = 1;
        }
        // Odd cases pad beyond the kernel: edge rows meet no tap and get
        // the epilogue of an empty sum.
        p.padding = n % 2 ? "EXPLICIT" : "VALID";
        p.pads = {{5, 4}, {4, 6}};
        convt::ConvTransposeOptions<2> opt;
        opt.num_threads = 1 + n % 2;
        const EpilogueCase e{true, n % 3 ? 1.0 : 0.0, a};
        check_epilogue<4, float>(p, e, opt, static_cast<std::uint32_t>(300 + n), n % 4 == 0);
        ++n;
      }
}

TEST(Epilogue, DepthwiseStagedGroups) {
  // 40 groups of one feature: several groups staged per unit, and a cap
  // that shrinks the staging.
  for (std::size_t ws : {std::size_t{1}, std::size_t{16} << 20})
    for (const Activation& a : {Activation::relu(), Activation::tanh()}) {
      ref::Problem p = problem("NHWC", "HWIO", "NHWC", 4, 2, 40, 40, 40);
      convt::ConvTransposeOptions<2> opt;
      opt.workspace_bytes = ws;
      opt.num_threads = 2;
      check_epilogue<4, float>(p, EpilogueCase{true, 1.0, a}, opt, 3, true);
    }
}

TEST(Epilogue, OtherFloatingTypes) {
  const ref::Problem p = problem("NHWC", "HWIO", "NHWC", 3, 2, 4, 17);
  for (const Activation& a : {Activation::relu(), Activation::gelu_tanh(), Activation::clamp(-1, 1)}) {
    const EpilogueCase e{true, 1.0, a};
    check_epilogue<4, double>(p, e, {}, 1, true);
    check_epilogue<4, Eigen::bfloat16, float>(p, e, {}, 2);
    check_epilogue<4, Eigen::half, void, float>(p, e, {}, 3);
    check_epilogue<4, Eigen::bfloat16, void, float>(p, e, {}, 4);
    check_epilogue<4, float, double>(p, e, {}, 5);
    convt::ConvTransposeOptions<2> highest;
    highest.precision = convt::Precision::Highest;  // double accumulation, float result
    check_epilogue<4, float, void, double>(p, e, highest, 6);
  }
}

TEST(Epilogue, ComplexBiasAndAccumulate) {
  const ref::Problem p = problem("NCHW", "OIHW", "NCHW", 3, 2, 4, 5);
  check_epilogue<4, std::complex<float>>(p, EpilogueCase{true, 0.5, Activation::none()}, {}, 1, true);
  check_epilogue<4, std::complex<double>>(p, EpilogueCase{true, 1.0, Activation::none()}, {}, 2);
}

TEST(Epilogue, IntegerResultsAreExact) {
  const ref::Problem p = problem("NHWC", "HWIO", "NHWC", 3, 2, 6, 9);
  for (const Activation& a : {Activation::none(), Activation::relu(), Activation::clamp(-20.5, 30.5)})
    for (double beta : {0.0, 1.0, -2.0}) {
      const EpilogueCase e{true, beta, a};
      check_epilogue<4, std::int8_t, std::int32_t>(p, e, {}, 1, true);
      check_epilogue<4, std::int8_t>(p, e, {}, 2);  // wraps in int8 before the activation
      check_epilogue<4, std::int16_t, std::int64_t>(p, e, {}, 3);
      check_epilogue<4, std::uint8_t, std::int16_t>(p, e, {}, 4);
      check_epilogue<4, std::uint8_t>(p, EpilogueCase{true, beta == -2.0 ? 3.0 : beta, a}, {}, 5);
    }
}

TEST(Epilogue, EmptyInputAndOtherRanks) {
  // An empty input (no tap meets anything): every output is the epilogue of
  // zero; 1-D and 3-D.
  ref::Problem p = problem("NHWC", "HWIO", "NHWC", 3, 2, 0, 5);
  check_epilogue<4, float>(p, EpilogueCase{true, 1.0, Activation::sigmoid()}, {}, 1);
  ref::Problem q;
  q.lhs_spec = "NWC";
  q.rhs_spec = "WIO";
  q.out_spec = "NWC";
  q.lhs_shape = {1, 9, 3};
  q.rhs_shape = {4, 3, 18};
  q.strides = {3};
  q.padding = "VALID";
  check_epilogue<3, float>(q, EpilogueCase{true, 1.0, Activation::silu()}, {}, 2, true);
  ref::Problem r;
  r.lhs_spec = "NCDHW";
  r.rhs_spec = "OIDHW";
  r.out_spec = "NDHWC";
  r.lhs_shape = {1, 3, 2, 3, 2};
  r.rhs_shape = {5, 3, 2, 2, 2};
  r.strides = {2, 2, 2};
  r.padding = "VALID";
  check_epilogue<5, float>(r, EpilogueCase{true, 0.0, Activation::leaky_relu(0.1)}, {}, 3);
}

TEST(Epilogue, BitwiseIdenticalAcrossThreadsAndCaps) {
  std::mt19937 gen(5);
  std::uniform_real_distribution<float> dist(-1, 1);
  std::vector<float> x(2 * 13 * 11 * 16), w(3 * 3 * 16 * 37), b(37), prev(2 * 26 * 22 * 37);
  for (auto* v : {&x, &w, &b, &prev})
    for (auto& e : *v) e = dist(gen);
  const convt::TensorView<const float, 4> lhs(x.data(), {2, 13, 11, 16});
  const convt::TensorView<const float, 4> rhs(w.data(), {3, 3, 16, 37});
  for (const Activation& a : kFloatActivations) {
    convt::ConvTransposeOptions<2> opt;
    opt.bias = convt::BiasView(b.data(), 37);
    opt.accumulate = 1;
    opt.activation = a;
    opt.num_threads = 1;
    convt::Tensor<float, 4> base({2, 26, 22, 37});
    std::copy(prev.begin(), prev.end(), base.data());
    convt::conv_transpose_into(lhs, rhs, base, {2, 2}, convt::Padding::same(), opt);
    for (int threads : {2, 3})
      for (std::size_t ws : {std::size_t{1}, std::size_t{30000}, std::size_t{1} << 26}) {
        opt.num_threads = threads;
        opt.workspace_bytes = ws;
        convt::Tensor<float, 4> got({2, 26, 22, 37});
        std::copy(prev.begin(), prev.end(), got.data());
        convt::conv_transpose_into(lhs, rhs, got, {2, 2}, convt::Padding::same(), opt);
        ASSERT_EQ(0, std::memcmp(got.data(), base.data(), sizeof(float) * static_cast<std::size_t>(base.size())))
            << a.name() << " threads " << threads << " workspace " << ws;
      }
  }
}

TEST(Epilogue, ZeroBetaNeverReadsTheOutput) {
  std::vector<float> x(1 * 4 * 4 * 3, 1.0f), w(3 * 3 * 3 * 2, 0.5f);
  convt::Tensor<float, 4> out({1, 8, 8, 2});
  for (index_t i = 0; i < out.size(); ++i) out.data()[i] = std::numeric_limits<float>::quiet_NaN();
  convt::ConvTransposeOptions<2> opt;
  opt.activation = Activation::relu();
  convt::conv_transpose_into(convt::TensorView<const float, 4>(x.data(), {1, 4, 4, 3}),
                             convt::TensorView<const float, 4>(w.data(), {3, 3, 3, 2}), out, {2, 2},
                             convt::Padding::same(), opt);
  for (index_t i = 0; i < out.size(); ++i) ASSERT_FALSE(std::isnan(out.data()[i])) << i;
}

TEST(Epilogue, Errors) {
  using testutil::expect_error;
  std::vector<float> x(1 * 4 * 4 * 3, 1.0f), w(3 * 3 * 3 * 2, 0.5f);
  const convt::TensorView<const float, 4> lhs(x.data(), {1, 4, 4, 3});
  const convt::TensorView<const float, 4> rhs(w.data(), {3, 3, 3, 2});
  const std::vector<float> bias3(3);
  const std::vector<double> bias2(2);
  auto run = [&](convt::ConvTransposeOptions<2> opt) {
    convt::conv_transpose(lhs, rhs, {2, 2}, convt::Padding::same(), opt);
  };
  convt::ConvTransposeOptions<2> opt;
  opt.bias = convt::BiasView(bias3.data(), 3);
  expect_error([&] { run(opt); }, {"bias: 3 elements", "2 features"});
  opt.bias = convt::BiasView(bias2.data(), 2);
  expect_error([&] { run(opt); }, {"bias: element type float64", "result type float32"});
  opt = {};
  opt.activation = Activation::clamp(1, -1);
  expect_error([&] { run(opt); }, {"activation clamp:1:-1", "lo <= hi"});
  // Integer results: only none, relu, clamp; beta a whole number.
  std::vector<std::int8_t> xi(1 * 4 * 4 * 3, 1), wi(3 * 3 * 3 * 2, 1);
  const convt::TensorView<const std::int8_t, 4> lhs_i(xi.data(), {1, 4, 4, 3});
  const convt::TensorView<const std::int8_t, 4> rhs_i(wi.data(), {3, 3, 3, 2});
  convt::ConvTransposeOptions<2> iopt;
  iopt.activation = Activation::tanh();
  expect_error(
      [&] {
        convt::conv_transpose<std::int32_t>(lhs_i, rhs_i, {2, 2}, convt::Padding::same(), iopt);
      },
      {"activation tanh", "int32", "integer type", "none, relu and clamp"});
  iopt = {};
  iopt.accumulate = 0.5;
  expect_error(
      [&] {
        convt::conv_transpose<std::int32_t>(lhs_i, rhs_i, {2, 2}, convt::Padding::same(), iopt);
      },
      {"accumulate = 0.5", "beta must be an integer"});
  // Complex results: no activation.
  std::vector<std::complex<float>> xc(1 * 4 * 4 * 3), wc(3 * 3 * 3 * 2);
  convt::ConvTransposeOptions<2> copt;
  copt.activation = Activation::relu();
  expect_error(
      [&] {
        convt::conv_transpose(convt::TensorView<const std::complex<float>, 4>(xc.data(), {1, 4, 4, 3}),
                              convt::TensorView<const std::complex<float>, 4>(wc.data(), {3, 3, 3, 2}), {2, 2},
                              convt::Padding::same(), copt);
      },
      {"activation relu", "complex64", "no activation"});
  // Nothing written on error.
  convt::Tensor<float, 4> out({1, 8, 8, 2});
  out.data()[5] = 42;
  opt = {};
  opt.bias = convt::BiasView(bias3.data(), 3);
  EXPECT_THROW(convt::conv_transpose_into(lhs, rhs, out, {2, 2}, convt::Padding::same(), opt), convt::Error);
  EXPECT_EQ(out.data()[5], 42);
  EXPECT_EQ(out.data()[0], 0);
}

TEST(Epilogue, ActivationNames) {
  using testutil::expect_error;
  EXPECT_EQ(Activation::parse("relu").kind(), Activation::Kind::ReLU);
  EXPECT_EQ(Activation::parse("linear").kind(), Activation::Kind::None);
  EXPECT_EQ(Activation::parse("swish").kind(), Activation::Kind::SiLU);
  EXPECT_EQ(Activation::parse("leaky_relu:0.3").negative_slope(), 0.3);
  EXPECT_EQ(Activation::parse("leaky_relu").negative_slope(), 0.01);
  const Activation six = Activation::parse("relu6");
  EXPECT_EQ(six.kind(), Activation::Kind::Clamp);
  EXPECT_EQ(six.hi(), 6);
  EXPECT_EQ(Activation::parse("clamp:-1:2.5").lo(), -1);
  EXPECT_EQ(Activation::parse("clamp:-1:2.5").name(), "clamp:-1:2.5");
  expect_error([] { Activation::parse("softmax"); }, {"activation \"softmax\"", "relu", "gelu"});
  expect_error([] { Activation::parse("clamp:1"); }, {"clamp needs clamp:lo:hi"});
  expect_error([] { Activation::parse("relu:2"); }, {"relu takes no argument"});
  expect_error([] { Activation::parse("leaky_relu:x"); }, {"\"x\" is not a number"});
}

}  // namespace
