// Translators (convt/translate.hpp) and padding_for_output_shape: each
// framework's documented output-size formula and padding split, its
// rejections, round trips, and numerical equality with equivalent PyTorch or
// JAX calls where the semantics coincide. (PyTorch itself is checked against
// real PyTorch outputs in test_golden.cpp.)
#include <convt/convt.hpp>
#include <convt/translate.hpp>

#include <gtest/gtest.h>

#include "expect_error.hpp"

#include <array>
#include <string>

namespace {

using convt::index_t;
using Pads = std::vector<std::pair<index_t, index_t>>;

using testutil::expect_error;

// Small integer values: every sum is exact, so equivalent calls agree bitwise.
template <class T, std::size_t R>
convt::Tensor<T, R> integers(const std::array<index_t, R>& shape, int seed) {
  convt::Tensor<T, R> t(shape);
  for (index_t i = 0; i < t.size(); ++i) t.data()[i] = static_cast<T>(((i + seed) * 7 + seed * 3) % 9 - 4);
  return t;
}

template <class T, std::size_t R>
void expect_same(const convt::Tensor<T, R>& a, const convt::Tensor<T, R>& b) {
  ASSERT_EQ(a.shape(), b.shape());
  for (index_t i = 0; i < a.size(); ++i) ASSERT_EQ(a.data()[i], b.data()[i]) << "flat index " << i;
}

// PyTorch weight (in, out/groups, kh, kw) -> TF/Keras filters (kh, kw, out, in), groups = 1.
convt::Tensor<double, 4> torch_to_tf(const convt::Tensor<double, 4>& w) {
  convt::Tensor<double, 4> f({w.extent(2), w.extent(3), w.extent(1), w.extent(0)});
  for (index_t i = 0; i < w.extent(0); ++i)
    for (index_t o = 0; o < w.extent(1); ++o)
      for (index_t h = 0; h < w.extent(2); ++h)
        for (index_t x = 0; x < w.extent(3); ++x) f(h, x, o, i) = w(i, o, h, x);
  return f;
}

TEST(Translate, PyTorchOutputSizeFormula) {
  for (index_t in = 1; in <= 5; ++in)
    for (index_t k = 1; k <= 4; ++k)
      for (index_t s = 1; s <= 3; ++s)
        for (index_t d = 1; d <= 2; ++d)
          for (index_t p = 0; p <= 2; ++p)
            for (index_t op = 0; op < std::max(s, d); ++op) {
              const index_t want = (in - 1) * s - 2 * p + d * (k - 1) + op + 1;
              if (want <= 0) continue;
              const auto call = convt::pytorch::conv_transpose<1>({2, 4, {k}, {s}, {p}, {op}, 2, false, {d}});
              const auto shape =
                  convt::conv_transpose_shape<3>({1, 2, in}, {2, 2, k}, call.strides, call.padding, call.options);
              ASSERT_EQ(shape, (std::array<index_t, 3>{1, 4, want}))
                  << in << " " << k << " " << s << " " << d << " " << p << " " << op;
            }
}

TEST(Translate, PyTorchRejectsWhatPyTorchRejects) {
  expect_error(
      [] {
        convt::pytorch::conv_transpose<2>({4, 4, {3, 3}, {2, 2}, {1, 1}, {2, 0}});
      },
      {"PyTorch", "output padding must be smaller than either stride or dilation", "dimension 0"});
  // output_padding may reach the dilation when that is larger than the stride.
  EXPECT_NO_THROW(convt::pytorch::conv_transpose<1>({4, 4, {3}, {1}, {0}, {1}, 1, true, {2}}));
  expect_error(
      [] {
        convt::pytorch::conv_transpose<1>({6, 4, {3}, {1}, {0}, {0}, 4});
      },
      {"in_channels = 6 must be divisible by groups = 4"});
  expect_error(
      [] {
        convt::pytorch::conv_transpose<1>({4, 6, {3}, {1}, {0}, {0}, 4});
      },
      {"out_channels = 6 must be divisible by groups = 4"});
  expect_error([] { convt::pytorch::conv_transpose<1>({4, 4, {3}, {0}}); }, {"stride[0] = 0"});
}

TEST(Translate, TensorFlowSameAndValidEqualJaxPadding) {
  // tf.nn.conv2d_transpose(output_shape = in·s, 'SAME') is JAX's 'SAME' with
  // transpose_kernel; VALID with in·s + max(k - s, 0) is JAX's 'VALID'.
  for (index_t k : {1, 2, 3, 4, 5}) {
    for (index_t s : {1, 2, 3}) {
      const auto x = integers<double, 4>({2, 5, 4, 3}, 1);
      const auto f = integers<double, 4>({k, k, 2, 3}, 2);  // (kh, kw, out, in)
      convt::ConvTransposeOptions<2> jax;
      jax.transpose_kernel = true;  // JAX's default layouts NHWC / HWIO / NHWC
      const auto same = convt::tensorflow::conv_transpose<2>({2, 5, 4, 3}, {k, k, 2, 3}, {2, 5 * s, 4 * s, 2}, {s, s});
      expect_same(same(x, f), convt::conv_transpose(x, f, {s, s}, convt::Padding::same(), jax));
      const index_t extra = std::max<index_t>(k - s, 0);
      const auto valid = convt::tensorflow::conv_transpose<2>({2, 5, 4, 3}, {k, k, 2, 3},
                                                              {2, 5 * s + extra, 4 * s + extra, 2}, {s, s}, "VALID");
      expect_same(valid(x, f), convt::conv_transpose(x, f, {s, s}, convt::Padding::valid(), jax));
    }
  }
}

TEST(Translate, TensorFlowPaddingSplitAndOutputShapeRule) {
  // Odd forward padding: TF puts the extra element at the end (bottom/right),
  // so the transposed side keeps more at the start.
  auto pads = [](index_t in, index_t k, index_t s, index_t out, const char* mode) {
    return convt::tensorflow::conv_transpose<1>({1, in, 1}, {k, 1, 1}, {1, out, 1}, {s}, mode).padding.pads();
  };
  EXPECT_EQ(pads(4, 3, 2, 8, "SAME"), (Pads{{2, 1}}));  // forward pad (0, 1)
  EXPECT_EQ(pads(4, 3, 2, 7, "SAME"), (Pads{{1, 1}}));  // forward pad (1, 1)
  EXPECT_EQ(pads(4, 4, 2, 8, "SAME"), (Pads{{2, 2}}));  // forward pad (1, 1)
  EXPECT_EQ(pads(4, 3, 2, 9, "VALID"), (Pads{{2, 2}}));
  EXPECT_EQ(pads(4, 3, 2, 10, "VALID"), (Pads{{2, 3}}));
  expect_error([&] { pads(4, 3, 2, 9, "SAME"); }, {"TensorFlow conv1d_transpose (padding='SAME')", "[7, 8]"});
  expect_error([&] { pads(4, 3, 2, 6, "SAME"); }, {"ceil(output / stride) == input"});
  expect_error([&] { pads(4, 3, 2, 11, "VALID"); }, {"padding='VALID'", "[9, 10]"});
  expect_error(
      [] {
        convt::tensorflow::conv_transpose<2>({1, 4, 4, 3}, {3, 3, 2, 3}, {1, 8, 8, 2}, {2, 2}, "SAME", "NCWH");
      },
      {"data_format \"NCWH\"", "\"NHWC\" or \"NCHW\""});
  expect_error(
      [] {
        convt::tensorflow::conv_transpose<2>({1, 4, 4, 3}, {3, 3, 2, 5}, {1, 8, 8, 2}, {2, 2});
      },
      {"in_channels", "5", "3"});
}

TEST(Translate, TensorFlowNchwEqualsPyTorch) {
  // TF SAME with k = 4, s = 2 pads the forward side (1, 1): PyTorch padding=1.
  const auto x = integers<double, 4>({1, 3, 4, 5}, 3);  // NCHW
  const auto w = integers<double, 4>({3, 2, 4, 4}, 4);  // torch (in, out, kh, kw)
  const auto torch = convt::pytorch::conv_transpose<2>({3, 2, {4, 4}, {2, 2}, {1, 1}, {0, 0}, 1, false});
  const auto tf =
      convt::tensorflow::conv_transpose<2>({1, 3, 4, 5}, {4, 4, 2, 3}, {1, 2, 8, 10}, {2, 2}, "SAME", "NCHW");
  expect_same(tf(x, torch_to_tf(w)), torch(x, w));
}

TEST(Translate, KerasOutputLengthAndRules) {
  using convt::keras::deconv_output_length;
  EXPECT_EQ(deconv_output_length(5, 3, "valid", std::nullopt, 2, 1), 11);
  EXPECT_EQ(deconv_output_length(5, 3, "same", std::nullopt, 2, 1), 10);
  EXPECT_EQ(deconv_output_length(5, 1, "valid", std::nullopt, 3, 1), 15);  // k < s: max(k - s, 0) = 0
  EXPECT_EQ(deconv_output_length(5, 3, "same", 1, 2, 1), 10);
  EXPECT_EQ(deconv_output_length(5, 3, "same", 0, 2, 2), 9);  // dilated kernel 5, pad 2
  EXPECT_EQ(deconv_output_length(5, 4, "valid", 1, 2, 1), 13);
  convt::keras::ConvTranspose<2> layer{2, {3, 3}, {2, 2}, "same", std::array<index_t, 2>{2, 0}};
  expect_error(
      [&] {
        convt::keras::conv_transpose<2>(layer, {1, 5, 5, 3});
      },
      {"Keras", "`output_padding` must be strictly less than `strides`", "dimension 0"});
  layer.output_padding = std::nullopt;
  layer.data_format = "channels_middle";
  expect_error([&] { convt::keras::conv_transpose<2>(layer, {1, 5, 5, 3}); }, {"channels_last", "channels_first"});
}

TEST(Translate, KerasEqualsJaxAndPyTorchWhereTheyCoincide) {
  const auto x = integers<double, 4>({2, 5, 4, 3}, 5);  // NHWC
  const auto f = integers<double, 4>({3, 3, 2, 3}, 6);  // (kh, kw, filters, in)
  convt::ConvTransposeOptions<2> jax;
  jax.transpose_kernel = true;
  for (const char* mode : {"same", "valid"}) {
    convt::keras::ConvTranspose<2> layer{2, {3, 3}, {2, 2}, mode};
    layer.use_bias = false;
    const auto call = convt::keras::conv_transpose<2>(layer, {2, 5, 4, 3});
    const auto pad = std::string(mode) == "same" ? convt::Padding::same() : convt::Padding::valid();
    expect_same(call(x, f), convt::conv_transpose(x, f, {2, 2}, pad, jax));
  }
  // 'same' with output_padding 0, kernel 3, stride 2 = PyTorch padding 1,
  // output_padding 0 (channels_first to share the input).
  const auto xc = integers<double, 4>({1, 3, 4, 5}, 7);
  const auto w = integers<double, 4>({3, 2, 3, 3}, 8);
  const auto keras = convt::keras::conv_transpose<2>(
      {2, {3, 3}, {2, 2}, "same", std::array<index_t, 2>{0, 0}, "channels_first", {1, 1}, "linear", false},
      {1, 3, 4, 5});
  const auto torch = convt::pytorch::conv_transpose<2>({3, 2, {3, 3}, {2, 2}, {1, 1}, {0, 0}, 1, false});
  expect_same(keras(xc, torch_to_tf(w)), torch(xc, w));
}

TEST(Translate, KerasOutputPaddingIsNotPyTorchs) {
  // Keras 'same' + output_padding 1 (k 3, s 2): TensorFlow re-splits the
  // padding of the longer output, so the extra element lands at the start
  // where PyTorch (padding 1, output_padding 1) puts it at the end: the
  // results are the same sequence shifted by one.
  const auto x = integers<double, 3>({1, 2, 4}, 11);  // NCW
  const auto w = integers<double, 3>({2, 3, 3}, 12);  // torch (in, out, k)
  convt::Tensor<double, 3> f({3, 3, 2});              // keras (k, filters, in)
  for (index_t i = 0; i < 2; ++i)
    for (index_t o = 0; o < 3; ++o)
      for (index_t k = 0; k < 3; ++k) f(k, o, i) = w(i, o, k);
  const auto keras = convt::keras::conv_transpose<1>(
      {3, {3}, {2}, "same", std::array<index_t, 1>{1}, "channels_first", {1}, "linear", false}, {1, 2, 4})(x, f);
  const auto torch = convt::pytorch::conv_transpose<1>({2, 3, {3}, {2}, {1}, {1}, 1, false})(x, w);
  ASSERT_EQ(keras.shape(), torch.shape());  // both 8 long
  for (index_t o = 0; o < 3; ++o)
    for (index_t q = 1; q < 8; ++q) EXPECT_EQ(keras(0, o, q), torch(0, o, q - 1)) << o << " " << q;
}

TEST(Translate, OnnxAutoPadSplitAndOutputShape) {
  auto pads = [](const convt::onnx::ConvTranspose<1>& node, index_t in, index_t k) {
    return convt::onnx::conv_transpose<1>(node, {1, 2, in}, {2, 3, k}).padding.pads();
  };
  convt::onnx::ConvTranspose<1> node;
  node.strides = {2};
  // in 3, k 3, s 2 -> output 6, total padding 2·2 + 3 - 6 = 1 (odd).
  node.auto_pad = "SAME_UPPER";  // pads (0, 1): JAX pads (2 - 0, 2 - 1)
  EXPECT_EQ(pads(node, 3, 3), (Pads{{2, 1}}));
  node.auto_pad = "SAME_LOWER";  // pads (1, 0)
  EXPECT_EQ(pads(node, 3, 3), (Pads{{1, 2}}));
  node.auto_pad = "VALID";
  EXPECT_EQ(pads(node, 3, 3), (Pads{{2, 2}}));
  node.auto_pad = "NOTSET";
  node.pads = {1, 0};
  node.output_padding = {1};
  EXPECT_EQ(pads(node, 3, 3), (Pads{{1, 3}}));
  // output_shape: total = 2·2 + 0 + 3 - 5 = 2 -> (1, 1).
  node.pads.clear();
  node.output_padding.clear();
  node.output_shape = {5};
  EXPECT_EQ(pads(node, 3, 3), (Pads{{1, 1}}));
  for (index_t out = 1; out <= 7; ++out) {
    node.output_shape = {out};
    const auto call = convt::onnx::conv_transpose<1>(node, {1, 2, 3}, {2, 3, 3});
    EXPECT_EQ(convt::conv_transpose_shape<3>({1, 2, 3}, {2, 3, 3}, call.strides, call.padding, call.options)[2], out);
  }
  // onnxruntime: past the full output (7) by less than the stride, zeros at
  // the end; further is inconsistent with the input.
  node.output_shape = {8};
  EXPECT_EQ(pads(node, 3, 3), (Pads{{2, 3}}));
  node.output_shape = {9};
  expect_error([&] { pads(node, 3, 3); }, {"ONNX", "output_shape[0] = 9", "inconsistent", "expects input size 4"});
  node.output_shape.clear();
  node.output_padding = {2};
  expect_error([&] { pads(node, 3, 3); }, {"ONNX", "output_padding[0] = 2"});
  node.output_padding = {0, 0};
  expect_error([&] { pads(node, 3, 3); }, {"output_padding has 2 values; expected 1"});
}

TEST(Translate, OnnxEqualsPyTorchExport) {
  // torch.onnx exports ConvTranspose2d(padding=p, output_padding=op, groups=g)
  // as pads [p, p, p, p], output_padding [op, op], group g, same weight.
  const auto x = integers<double, 4>({2, 4, 3, 5}, 9);
  const auto w = integers<double, 4>({4, 3, 3, 2}, 10);  // (in, out/groups, kh, kw), groups 2
  const auto torch = convt::pytorch::conv_transpose<2>({4, 6, {3, 2}, {2, 3}, {1, 0}, {1, 2}, 2, false, {1, 1}});
  convt::onnx::ConvTranspose<2> node;
  node.group = 2;
  node.strides = {2, 3};
  node.pads = {1, 0, 1, 0};
  node.output_padding = {1, 2};
  node.kernel_shape = {3, 2};
  const auto onnx = convt::onnx::conv_transpose<2>(node, {2, 4, 3, 5}, {4, 3, 3, 2});
  EXPECT_EQ(onnx.padding.pads(), torch.padding.pads());
  expect_same(onnx(x, w), torch(x, w));
}

TEST(Translate, OutputShapeRoundTrip) {
  for (auto rule : {convt::OutputShapeRule::Same, convt::OutputShapeRule::Valid}) {
    for (index_t in = 0; in <= 6; ++in)
      for (index_t k = 1; k <= 5; ++k)
        for (index_t s = 1; s <= 4; ++s)
          for (index_t d = 1; d <= 3; ++d) {
            const index_t dk = (k - 1) * d + 1;
            const index_t lo = rule == convt::OutputShapeRule::Same ? (in == 0 ? 0 : (in - 1) * s + 1)
                                                                    : (in == 0 ? 0 : (in - 1) * s + dk);
            const index_t hi = rule == convt::OutputShapeRule::Same ? in * s : (in == 0 ? 0 : in * s + dk - 1);
            for (index_t out = std::max<index_t>(lo - 2, 0); out <= hi + 2; ++out) {
              SCOPED_TRACE(::testing::Message() << "in " << in << " k " << k << " s " << s << " d " << d << " out "
                                                << out << (rule == convt::OutputShapeRule::Same ? " SAME" : " VALID"));
              if (out < lo || out > hi) {
                EXPECT_THROW(convt::padding_for_output_shape<1>({in}, {k}, {s}, {out}, {d}, rule), convt::Error);
                continue;
              }
              const auto pad = convt::padding_for_output_shape<1>({in}, {k}, {s}, {out}, {d}, rule);
              convt::ConvTransposeOptions<1> opt;
              opt.rhs_dilation = std::array<index_t, 1>{d};
              EXPECT_EQ(convt::conv_transpose_shape<3>({1, in, 1}, {k, 1, 1}, {s}, pad, opt)[1], out);
            }
          }
  }
  expect_error(
      [] {
        convt::padding_for_output_shape<2>({4, 4}, {3, 3}, {2, 0}, {8, 8});
      },
      {"padding_for_output_shape", "dimension 1", "stride 0"});
}

// Defects found by cross-checking with the frameworks (each test fails on
// the translators before they were fixed).

TEST(Translate, PyTorchRejectsOutputsTooSmall) {
  // ConvTranspose1d(2, 7, kernel_size=2, stride=2, padding=1) on length 1:
  // PyTorch computes output size 0 and raises.
  const convt::Tensor<double, 3> x({1, 2, 1});
  const convt::Tensor<double, 3> w({2, 7, 2});
  const convt::Tensor<double, 1> b({7});
  const auto call = convt::pytorch::conv_transpose<1>({2, 7, {2}, {2}, {1}});
  expect_error([&] { call(x, w, b); },
               {"PyTorch ConvTranspose1d", "output size is too small", "output size of 0", "at least 1"});
  // ConvTranspose2d(4, 2, (5, 5), stride=(2, 1), padding=(10, 4),
  // output_padding=(2, 0), dilation=(3, 1)) on 5 x 1: width -3.
  const convt::Tensor<double, 4> x2({1, 4, 5, 1});
  const convt::Tensor<double, 4> w2({4, 2, 5, 5});
  const auto call2 = convt::pytorch::conv_transpose<2>({4, 2, {5, 5}, {2, 1}, {10, 4}, {2, 0}, 1, false, {3, 1}});
  expect_error([&] { call2(x2, w2); }, {"output size is too small", "output size of -3", "spatial dimension 1"});
  expect_error([&] { call2.plan(w2, {1, 4, 5, 1}); }, {"output size is too small"});
  // Empty spatial inputs too; an empty batch is fine.
  expect_error([&] { call(convt::Tensor<double, 3>({1, 2, 0}), w, b); }, {"empty spatial dimension"});
  EXPECT_EQ(call(convt::Tensor<double, 3>({0, 2, 3}), w, b).shape(), (std::array<index_t, 3>{0, 7, 4}));
}

TEST(Translate, KerasRejectsStridesWithDilation) {
  // Keras raises whenever any stride > 1 and any dilation > 1.
  expect_error(
      [] {
        convt::keras::conv_transpose<1>({6, {3}, {2}, "same", std::nullopt, "channels_first", {3}}, {1, 2, 5});
      },
      {"Keras Conv1DTranspose", "`strides > 1` not supported in conjunction with `dilation_rate > 1`"});
  expect_error(
      [] {
        convt::keras::conv_transpose<2>({6, {3, 3}, {2, 1}, "valid", std::nullopt, "channels_last", {1, 2}},
                                        {1, 5, 5, 2});
      },
      {"`strides > 1` not supported"});
}

TEST(Translate, OnnxOutputShapePastTheFullOutput) {
  // ONNX's backend test test_convtranspose_output_shape: X 1x1x3x3,
  // W 1x2x3x3, strides [3, 2], output_shape [10, 8]: the full output (9 x 7)
  // extended by a zero row and column.
  const auto x = integers<double, 4>({1, 1, 3, 3}, 13);
  const auto w = integers<double, 4>({1, 2, 3, 3}, 14);
  convt::onnx::ConvTranspose<2> node;
  node.strides = {3, 2};
  const auto full = convt::onnx::conv_transpose<2>(node, {1, 1, 3, 3}, {1, 2, 3, 3})(x, w);
  ASSERT_EQ(full.shape(), (std::array<index_t, 4>{1, 2, 9, 7}));
  node.output_shape = {10, 8};
  const auto y = convt::onnx::conv_transpose<2>(node, {1, 1, 3, 3}, {1, 2, 3, 3})(x, w);
  ASSERT_EQ(y.shape(), (std::array<index_t, 4>{1, 2, 10, 8}));
  for (index_t o = 0; o < 2; ++o)
    for (index_t h = 0; h < 10; ++h)
      for (index_t v = 0; v < 8; ++v) EXPECT_EQ(y(0, o, h, v), h < 9 && v < 7 ? full(0, o, h, v) : 0.0);
}

TEST(Translate, WeightsAreCheckedAgainstTheLayer) {
  // PyTorch layer with out_channels 32 given a (64, 16, 4, 4) weight.
  const auto call = convt::pytorch::conv_transpose<2>({64, 32, {4, 4}, {2, 2}, {1, 1}, {0, 0}, 1, false});
  const convt::Tensor<float, 4> x({1, 64, 5, 5});
  expect_error(
      [&] {
        call(x, convt::Tensor<float, 4>({64, 16, 4, 4}));
      },
      {"PyTorch ConvTranspose2d", "weight shape (64, 16, 4, 4)", "dimension 1 (out_channels / groups) is 16",
       "needs 32"});
  // Declared kernel 4, weight 3x3.
  expect_error(
      [&] {
        call(x, convt::Tensor<float, 4>({64, 32, 3, 3}));
      },
      {"dimension 2 (kernel_size[0]) is 3", "needs 4"});
  // Keras: kernel of another filters count; ONNX: W whose group split differs.
  const auto keras = convt::keras::conv_transpose<2>({8, {3, 3}, {2, 2}, "same"}, {1, 5, 5, 3});
  expect_error(
      [&] {
        keras(convt::Tensor<float, 4>({1, 5, 5, 3}), convt::Tensor<float, 4>({3, 3, 6, 3}),
              convt::Tensor<float, 1>({8}));
      },
      {"Keras Conv2DTranspose", "kernel shape (3, 3, 6, 3)", "(filters) is 6", "needs 8"});
  // A bias where the layer has none, none where it has one.
  expect_error(
      [&] {
        call(x, convt::Tensor<float, 4>({64, 32, 4, 4}), convt::Tensor<float, 1>({32}));
      },
      {"a bias was passed but the layer has none"});
  expect_error(
      [&] {
        keras(convt::Tensor<float, 4>({1, 5, 5, 3}), convt::Tensor<float, 4>({3, 3, 8, 3}));
      },
      {"the layer has a bias", "pass it"});
}

TEST(Translate, ErrorsSpeakTheFrameworksTerms) {
  // NHWC data given to a PyTorch layer: PyTorch's words, not JAX's.
  const auto call = convt::pytorch::conv_transpose<2>({3, 8, {4, 4}, {2, 2}, {1, 1}, {0, 0}, 1, false});
  const convt::Tensor<float, 4> nhwc({1, 16, 16, 3});
  try {
    call(nhwc, convt::Tensor<float, 4>({3, 8, 4, 4}));
    ADD_FAILURE() << "no error";
  } catch (const convt::Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("PyTorch ConvTranspose2d: input has 16 channels (dimension 1 of (N, C, H, W)"),
              std::string::npos)
        << msg;
    EXPECT_NE(msg.find("in_channels = 3"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("lhs axis"), std::string::npos) << msg;
  }
}

TEST(Translate, BiasAndActivationInOneCall) {
  // PyTorch ConvTranspose2d(..., bias=True) + ReLU, and Keras
  // Conv2DTranspose(..., activation='relu'): one call each, equal to the
  // convolution, the bias and the activation applied separately.
  const auto x = integers<double, 4>({1, 3, 4, 5}, 21);  // NCHW
  const auto w = integers<double, 4>({3, 2, 4, 4}, 22);  // (in, out, kh, kw)
  const auto b = integers<double, 1>({2}, 23);
  auto torch = convt::pytorch::conv_transpose<2>({3, 2, {4, 4}, {2, 2}, {1, 1}});
  torch.options.activation = convt::Activation::relu();
  const auto fused = torch(x, w, b);
  auto plain_layer = convt::pytorch::conv_transpose<2>({3, 2, {4, 4}, {2, 2}, {1, 1}, {0, 0}, 1, false});
  const auto plain = plain_layer(x, w);
  ASSERT_EQ(fused.shape(), plain.shape());
  for (index_t o = 0; o < 2; ++o)
    for (index_t h = 0; h < plain.extent(2); ++h)
      for (index_t v = 0; v < plain.extent(3); ++v) {
        EXPECT_EQ(fused(0, o, h, v), std::max(0.0, plain(0, o, h, v) + b(o)));
      }
  const auto xk = integers<double, 4>({1, 4, 5, 3}, 24);  // NHWC
  const auto k = integers<double, 4>({3, 3, 2, 3}, 25);   // (kh, kw, filters, in)
  const auto keras = convt::keras::conv_transpose<2>(
      {2, {3, 3}, {2, 2}, "same", std::nullopt, "channels_last", {1, 1}, "relu"}, {1, 4, 5, 3})(xk, k, b);
  const auto keras_plain = convt::keras::conv_transpose<2>(
      {2, {3, 3}, {2, 2}, "same", std::nullopt, "channels_last", {1, 1}, "linear", false}, {1, 4, 5, 3})(xk, k);
  for (index_t i = 0; i < keras.size(); ++i) {
    EXPECT_EQ(keras.data()[i], std::max(0.0, keras_plain.data()[i] + b(i % 2)));
  }
  expect_error(
      [] {
        convt::keras::conv_transpose<1>({2, {3}, {1}, "same", std::nullopt, "channels_last", {1}, "elu"}, {1, 4, 3});
      },
      {"activation 'elu' is not one convt fuses"});
}

}  // namespace

namespace {

TEST(Translate, LayerKernelPacksOnceAndChecksEachInputAsTheFrameworkDoes) {
  // ConvTranspose1d(3, 4, 4, stride=2, padding=1) with bias: one packed
  // kernel, plans for several lengths, each equal to the direct call.
  const auto call = convt::pytorch::conv_transpose<1>({3, 4, {4}, {2}, {1}});
  const auto w = integers<double, 3>({3, 4, 4}, 1);
  const auto b = integers<double, 1>({4}, 2);
  const auto kernel = call.kernel(w, b);
  for (index_t len : {1, 2, 7, 16}) {
    const auto x = integers<double, 3>({2, 3, len}, static_cast<int>(len));
    expect_same(kernel.plan(x.shape())(convt::view(x)), call(x, w, b));
  }
  EXPECT_GT(kernel.packed_kernel_bytes(), 0u);
  // The framework's checks, in its terms: input channels, empty spatial
  // input, an output too small; the weight and bias when packing.
  expect_error([&] { kernel.plan({1, 5, 4}); }, {"PyTorch ConvTranspose1d", "5 channels", "in_channels = 3"});
  expect_error([&] { kernel.plan({1, 3, 0}); }, {"empty spatial dimension"});
  const auto small = convt::pytorch::conv_transpose<1>({2, 7, {2}, {2}, {1}});
  const auto small_kernel = small.kernel(convt::Tensor<double, 3>({2, 7, 2}), convt::Tensor<double, 1>({7}));
  expect_error([&] { small_kernel.plan({1, 2, 1}); }, {"output size is too small", "output size of 0"});
  EXPECT_EQ(small_kernel.plan({1, 2, 2}).output_shape(), (std::array<index_t, 3>{1, 7, 2}));
  expect_error([&] { call.kernel(convt::Tensor<double, 3>({3, 4, 3}), b); }, {"weight dimension 2", "needs 4"});
  expect_error([&] { call.kernel(w); }, {"has a bias"});
}

}  // namespace
