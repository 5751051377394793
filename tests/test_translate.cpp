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
              const auto call = convt::pytorch::conv_transpose<1>({2, 4, {k}, {s}, {p}, {op}, 2, {d}});
              const auto shape = convt::conv_transpose_shape<3>({1, 2, in}, {2, 2, k}, call.strides, call.padding,
                                                                call.options);
              ASSERT_EQ(shape, (std::array<index_t, 3>{1, 4, want})) << in << " " << k << " " << s << " " << d << " "
                                                                      << p << " " << op;
            }
}

TEST(Translate, PyTorchRejectsWhatPyTorchRejects) {
  expect_error([] { convt::pytorch::conv_transpose<2>({4, 4, {3, 3}, {2, 2}, {1, 1}, {2, 0}}); },
               {"PyTorch", "output padding must be smaller than either stride or dilation", "dimension 0"});
  // output_padding may reach the dilation when that is larger than the stride.
  EXPECT_NO_THROW(convt::pytorch::conv_transpose<1>({4, 4, {3}, {1}, {0}, {1}, 1, {2}}));
  expect_error([] { convt::pytorch::conv_transpose<1>({6, 4, {3}, {1}, {0}, {0}, 4}); },
               {"in_channels = 6 must be divisible by groups = 4"});
  expect_error([] { convt::pytorch::conv_transpose<1>({4, 6, {3}, {1}, {0}, {0}, 4}); },
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
  expect_error([&] { pads(4, 3, 2, 9, "SAME"); }, {"TensorFlow conv_transpose (padding='SAME')", "[7, 8]"});
  expect_error([&] { pads(4, 3, 2, 6, "SAME"); }, {"ceil(output / stride) == input"});
  expect_error([&] { pads(4, 3, 2, 11, "VALID"); }, {"padding='VALID'", "[9, 10]"});
  expect_error([] { convt::tensorflow::conv_transpose<2>({1, 4, 4, 3}, {3, 3, 2, 3}, {1, 8, 8, 2}, {2, 2}, "SAME", "NCWH"); },
               {"data_format \"NCWH\"", "\"NHWC\" or \"NCHW\""});
  expect_error([] { convt::tensorflow::conv_transpose<2>({1, 4, 4, 3}, {3, 3, 2, 5}, {1, 8, 8, 2}, {2, 2}); },
               {"in_channels", "5", "3"});
}

TEST(Translate, TensorFlowNchwEqualsPyTorch) {
  // TF SAME with k = 4, s = 2 pads the forward side (1, 1): PyTorch padding=1.
  const auto x = integers<double, 4>({1, 3, 4, 5}, 3);   // NCHW
  const auto w = integers<double, 4>({3, 2, 4, 4}, 4);   // torch (in, out, kh, kw)
  const auto torch = convt::pytorch::conv_transpose<2>({3, 2, {4, 4}, {2, 2}, {1, 1}});
  const auto tf = convt::tensorflow::conv_transpose<2>({1, 3, 4, 5}, {4, 4, 2, 3}, {1, 2, 8, 10}, {2, 2}, "SAME", "NCHW");
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
  expect_error([&] { convt::keras::conv_transpose<2>(layer, {1, 5, 5, 3}); },
               {"Keras", "strides must be greater than output padding", "dimension 0"});
  layer.output_padding = std::nullopt;
  layer.data_format = "channels_middle";
  expect_error([&] { convt::keras::conv_transpose<2>(layer, {1, 5, 5, 3}); }, {"channels_last", "channels_first"});
}

TEST(Translate, KerasEqualsJaxAndPyTorchWhereTheyCoincide) {
  const auto x = integers<double, 4>({2, 5, 4, 3}, 5);   // NHWC
  const auto f = integers<double, 4>({3, 3, 2, 3}, 6);   // (kh, kw, filters, in)
  convt::ConvTransposeOptions<2> jax;
  jax.transpose_kernel = true;
  for (const char* mode : {"same", "valid"}) {
    const auto call = convt::keras::conv_transpose<2>({2, {3, 3}, {2, 2}, mode}, {2, 5, 4, 3});
    const auto pad = std::string(mode) == "same" ? convt::Padding::same() : convt::Padding::valid();
    expect_same(call(x, f), convt::conv_transpose(x, f, {2, 2}, pad, jax));
  }
  // 'same' with output_padding 0, kernel 3, stride 2 = PyTorch padding 1,
  // output_padding 0 (channels_first to share the input).
  const auto xc = integers<double, 4>({1, 3, 4, 5}, 7);
  const auto w = integers<double, 4>({3, 2, 3, 3}, 8);
  const auto keras = convt::keras::conv_transpose<2>(
      {2, {3, 3}, {2, 2}, "same", std::array<index_t, 2>{0, 0}, "channels_first"}, {1, 3, 4, 5});
  const auto torch = convt::pytorch::conv_transpose<2>({3, 2, {3, 3}, {2, 2}, {1, 1}, {0, 0}});
  expect_same(keras(xc, torch_to_tf(w)), torch(xc, w));
}

TEST(Translate, KerasOutputPaddingIsNotPyTorchs) {
  // Keras 'same' + output_padding 1 (k 3, s 2): TensorFlow re-splits the
  // padding of the longer output, so the extra element lands at the start
  // where PyTorch (padding 1, output_padding 1) puts it at the end: the
  // results are the same sequence shifted by one.
  const auto x = integers<double, 3>({1, 2, 4}, 11);   // NCW
  const auto w = integers<double, 3>({2, 3, 3}, 12);   // torch (in, out, k)
  convt::Tensor<double, 3> f({3, 3, 2});               // keras (k, filters, in)
  for (index_t i = 0; i < 2; ++i)
    for (index_t o = 0; o < 3; ++o)
      for (index_t k = 0; k < 3; ++k) f(k, o, i) = w(i, o, k);
  const auto keras = convt::keras::conv_transpose<1>(
      {3, {3}, {2}, "same", std::array<index_t, 1>{1}, "channels_first"}, {1, 2, 4})(x, f);
  const auto torch = convt::pytorch::conv_transpose<1>({2, 3, {3}, {2}, {1}, {1}})(x, w);
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
  node.output_shape = {8};
  expect_error([&] { pads(node, 3, 3); }, {"ONNX", "output_shape[0] = 8", "exceeds"});
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
  const auto torch = convt::pytorch::conv_transpose<2>({4, 6, {3, 2}, {2, 3}, {1, 0}, {1, 2}, 2, {1, 1}});
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
  expect_error([] { convt::padding_for_output_shape<2>({4, 4}, {3, 3}, {2, 0}, {8, 8}); },
               {"padding_for_output_shape", "dimension 1", "stride 0"});
}

}  // namespace
