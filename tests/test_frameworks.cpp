// convt against the frameworks its users port from: golden vectors written
// by JAX, Flax, TensorFlow, Keras (both backends), onnxruntime and PyTorch
// themselves (tests/frameworks, made by its generate_*.py with the pinned
// versions). Every value is an integer, so every result must be equal, not
// close; every case a framework rejects, convt must reject (both messages
// are printed side by side).
#include <cstdio>
#include <string>

#include <convt/translate.hpp>

#include "golden_cases.hpp"

namespace {

using convt::index_t;
using golden::Case;
using golden::Suite;

template <std::size_t N>
convt::DimensionNumbers dimension_numbers(const std::string& text) {
  const auto c1 = text.find(','), c2 = text.find(',', c1 + 1);
  return {text.substr(0, c1), text.substr(c1 + 1, c2 - c1 - 1), text.substr(c2 + 1)};
}

/// Runs `compute` (returning a Tensor) and compares with the case's result,
/// or requires a convt::Error where the framework rejected the case.
template <class Compute>
void expect_like_framework(const Suite& s, const Case& c, const std::string& framework, const Compute& compute,
                           int& computed, int& rejected) {
  SCOPED_TRACE(framework + " case " + c.name());
  if (c.error.empty()) {
    golden::expect_equal(compute(), s, c.at("result"), c.name());
    ++computed;
    return;
  }
  try {
    compute();
    ADD_FAILURE() << framework << " rejects " << c.name() << " (" << c.error << ") but convt computed it";
  } catch (const convt::Error& e) {
    std::printf("  %s rejects %s\n    %s: %s\n    convt: %s\n", framework.c_str(), c.name().c_str(), framework.c_str(),
                c.error.c_str(), e.what());
    ++rejected;
  }
}

// --- JAX: jax.lax.conv_transpose's keywords, one to four spatial dimensions.

template <std::size_t Rank, class In, class Out>
void run_jax(const Suite& s, const Case& c, int& computed, int& rejected) {
  constexpr std::size_t N = Rank - 2;
  expect_like_framework(
      s, c, "JAX",
      [&] {
        const auto x = golden::tensor<In, Rank>(s, c.at("lhs"));
        const auto w = golden::tensor<In, Rank>(s, c.at("rhs"));
        convt::ConvTransposeOptions<N> o;
        o.dimension_numbers = dimension_numbers<N>(c.at("dn"));
        o.rhs_dilation = golden::fixed<N>(golden::ints(c.at("dilation")));
        o.transpose_kernel = c.at("tk") == "1";
        o.use_consistent_padding = c.at("consistent") == "1";
        o.precision = golden::precision(c.at("precision"));
        o.feature_group_count = std::stoll(c.get("groups", "1"));
        return convt::conv_transpose<Out>(x, w, golden::fixed<N>(golden::ints(c.at("strides"))),
                                          golden::padding(c.at("padding")), o);
      },
      computed, rejected);
}

template <std::size_t Rank>
bool jax_float32(const Suite& s, const Case& c, int& computed, int& rejected) {
  if (c.at("dtype") != "float32" || c.at("out") != "float32") return false;
  run_jax<Rank, float, float>(s, c, computed, rejected);
  return true;
}

/// Element types are exercised in two spatial dimensions (rank 4); other
/// ranks run float32.
bool jax_types(const Suite& s, const Case& c, int& computed, int& rejected) {
  const std::string pair = c.at("dtype") + "->" + c.at("out");
#define CONVT_JAX_TYPE(IN_NAME, OUT_NAME, IN, OUT) \
  if (pair == IN_NAME "->" OUT_NAME) {             \
    run_jax<4, IN, OUT>(s, c, computed, rejected); \
    return true;                                   \
  }
  CONVT_JAX_TYPE("float64", "float64", double, double)
  CONVT_JAX_TYPE("float16", "float16", Eigen::half, Eigen::half)
  CONVT_JAX_TYPE("bfloat16", "bfloat16", Eigen::bfloat16, Eigen::bfloat16)
  CONVT_JAX_TYPE("int8", "int32", std::int8_t, std::int32_t)
  CONVT_JAX_TYPE("int8", "int8", std::int8_t, std::int8_t)
  CONVT_JAX_TYPE("int16", "int64", std::int16_t, std::int64_t)
  CONVT_JAX_TYPE("int32", "int32", std::int32_t, std::int32_t)
  CONVT_JAX_TYPE("int64", "int64", std::int64_t, std::int64_t)
  CONVT_JAX_TYPE("uint8", "uint8", std::uint8_t, std::uint8_t)
  CONVT_JAX_TYPE("uint8", "int8", std::uint8_t, std::int8_t)
  CONVT_JAX_TYPE("uint8", "int32", std::uint8_t, std::int32_t)
  CONVT_JAX_TYPE("bfloat16", "float32", Eigen::bfloat16, float)
  CONVT_JAX_TYPE("float16", "float32", Eigen::half, float)
  CONVT_JAX_TYPE("float16", "bfloat16", Eigen::half, Eigen::bfloat16)
  CONVT_JAX_TYPE("bfloat16", "float16", Eigen::bfloat16, Eigen::half)
  CONVT_JAX_TYPE("float32", "float64", float, double)
  CONVT_JAX_TYPE("int8", "float32", std::int8_t, float)
  CONVT_JAX_TYPE("int16", "bfloat16", std::int16_t, Eigen::bfloat16)
  CONVT_JAX_TYPE("complex64", "complex64", std::complex<float>, std::complex<float>)
  CONVT_JAX_TYPE("complex64", "complex128", std::complex<float>, std::complex<double>)
  CONVT_JAX_TYPE("complex128", "complex128", std::complex<double>, std::complex<double>)
#undef CONVT_JAX_TYPE
  return false;
}

TEST(Frameworks, Jax) {
  const Suite s = golden::load("jax");
  int computed = 0, rejected = 0;
  for (const Case& c : s.cases) {
    const std::size_t rank = golden::slice(c.at("lhs")).second.size();
    bool ran = false;
    switch (rank) {
      case 3: ran = jax_float32<3>(s, c, computed, rejected); break;
      case 4: ran = jax_float32<4>(s, c, computed, rejected) || jax_types(s, c, computed, rejected); break;
      case 5: ran = jax_float32<5>(s, c, computed, rejected); break;
      case 6: ran = jax_float32<6>(s, c, computed, rejected); break;
      default: break;
    }
    EXPECT_TRUE(ran) << c.name() << ": no convt instantiation for rank " << rank << " " << c.at("dtype") << " -> "
                     << c.at("out");
  }
  golden::report(s, "JAX", computed, rejected);
  EXPECT_GE(computed, 90);
  EXPECT_GE(rejected, 10);
}

// --- Flax: flax.linen.ConvTranspose, 'CIRCULAR' included.

template <std::size_t N>
void run_flax(const Suite& s, const Case& c, int& computed, int& rejected) {
  expect_like_framework(
      s, c, "Flax",
      [&] {
        convt::flax::ConvTranspose<N> layer;
        layer.features = std::stoll(c.at("features"));
        layer.kernel_size = golden::fixed<N>(golden::ints(c.at("kernel_size")));
        layer.strides = golden::fixed<N>(golden::ints(c.at("strides")));
        layer.kernel_dilation = golden::fixed<N>(golden::ints(c.at("kernel_dilation")));
        layer.use_bias = c.at("use_bias") == "1";
        layer.transpose_kernel = c.at("transpose_kernel") == "1";
        const std::string pad = c.at("padding");
        if (pad == "SAME" || pad == "VALID" || pad == "CIRCULAR") {
          layer.padding = pad;
        } else if (pad.find(':') == std::string::npos) {
          layer.padding = static_cast<index_t>(std::stoll(pad));
        } else {
          layer.padding = golden::padding(pad).pads();
        }
        const auto x = golden::tensor<float, N + 2>(s, c.at("lhs"));
        const auto w = golden::tensor<float, N + 2>(s, c.at("rhs"));
        const auto call = convt::flax::conv_transpose<N>(layer, x.shape());
        if (layer.use_bias) return call(x, w, golden::tensor<float, 1>(s, c.at("bias")));
        return call(x, w);
      },
      computed, rejected);
}

TEST(Frameworks, Flax) {
  const Suite s = golden::load("flax");
  int computed = 0, rejected = 0;
  for (const Case& c : s.cases) {
    switch (golden::slice(c.at("lhs")).second.size()) {
      case 3: run_flax<1>(s, c, computed, rejected); break;
      case 4: run_flax<2>(s, c, computed, rejected); break;
      default: run_flax<3>(s, c, computed, rejected); break;
    }
  }
  golden::report(s, "Flax", computed, rejected);
  EXPECT_GE(computed, 10);
}

// --- TensorFlow: tf.nn.conv{1,2,3}d_transpose, every output_shape its rule
// allows and one past it, explicit padding lists, dilations.

template <std::size_t N>
void run_tensorflow(const Suite& s, const Case& c, int& computed, int& rejected) {
  expect_like_framework(
      s, c, "TensorFlow",
      [&] {
        const auto x = golden::tensor<float, N + 2>(s, c.at("lhs"));
        const auto f = golden::tensor<float, N + 2>(s, c.at("rhs"));
        const bool first = c.at("data_format") == "NC";
        const std::string format = convt::tensorflow::detail::data_format_name<N>(first);
        const auto out = golden::fixed<N + 2>(golden::ints(c.at("output_shape")));
        const auto strides = golden::fixed<N>(golden::ints(c.at("strides")));
        const auto dilations = golden::fixed<N>(golden::ints(c.at("dilations")));
        const std::string pad = c.at("padding");
        if (pad == "SAME" || pad == "VALID") {
          return convt::tensorflow::conv_transpose<N>(x.shape(), f.shape(), out, strides, pad, format, dilations)(x, f);
        }
        convt::tensorflow::ExplicitPadding<N> explicit_pads{};
        if (pad == "batch") {
          explicit_pads[0] = {1, 0};
        } else {
          const auto pairs = golden::padding(pad).pads();
          for (std::size_t d = 0; d < N; ++d) explicit_pads[(first ? 2 : 1) + d] = pairs[d];
        }
        return convt::tensorflow::conv_transpose<N>(x.shape(), f.shape(), out, strides, explicit_pads, format,
                                                    dilations)(x, f);
      },
      computed, rejected);
}

TEST(Frameworks, TensorFlow) {
  const Suite s = golden::load("tensorflow");
  int computed = 0, rejected = 0;
  for (const Case& c : s.cases) {
    switch (std::stoi(c.at("dims"))) {
      case 1: run_tensorflow<1>(s, c, computed, rejected); break;
      case 2: run_tensorflow<2>(s, c, computed, rejected); break;
      default: run_tensorflow<3>(s, c, computed, rejected); break;
    }
  }
  golden::report(s, "TensorFlow", computed, rejected);
  EXPECT_GE(computed, 80);
}

// --- Keras 3: Conv{1,2,3}DTranspose with bias and activation, on the
// TensorFlow and the JAX backend.

template <std::size_t N>
void run_keras(const Suite& s, const Case& c, convt::keras::Backend backend, int& computed, int& rejected) {
  expect_like_framework(
      s, c, backend == convt::keras::Backend::Jax ? "Keras (JAX)" : "Keras (TensorFlow)",
      [&] {
        convt::keras::ConvTranspose<N> layer;
        layer.filters = std::stoll(c.at("filters"));
        layer.kernel_size = golden::fixed<N>(golden::ints(c.at("kernel_size")));
        layer.strides = golden::fixed<N>(golden::ints(c.at("strides")));
        layer.padding = c.at("padding");
        if (c.at("output_padding") != "none")
          layer.output_padding = golden::fixed<N>(golden::ints(c.at("output_padding")));
        layer.data_format = c.at("data_format");
        layer.dilation_rate = golden::fixed<N>(golden::ints(c.at("dilation_rate")));
        layer.activation = c.at("activation");
        layer.use_bias = c.at("use_bias") == "1";
        const auto x = golden::tensor<float, N + 2>(s, c.at("lhs"));
        const auto k = golden::tensor<float, N + 2>(s, c.at("rhs"));
        const auto call = convt::keras::conv_transpose<N>(layer, x.shape(), backend);
        if (layer.use_bias) return call(x, k, golden::tensor<float, 1>(s, c.at("bias")));
        return call(x, k);
      },
      computed, rejected);
}

void keras_suite(const char* name, convt::keras::Backend backend) {
  const Suite s = golden::load(name);
  int computed = 0, rejected = 0;
  for (const Case& c : s.cases) {
    switch (golden::ints(c.at("kernel_size")).size()) {
      case 1: run_keras<1>(s, c, backend, computed, rejected); break;
      case 2: run_keras<2>(s, c, backend, computed, rejected); break;
      default: run_keras<3>(s, c, backend, computed, rejected); break;
    }
  }
  golden::report(s, name, computed, rejected);
  EXPECT_GE(computed, 9);
  EXPECT_GE(rejected, 2);
}

TEST(Frameworks, KerasTensorFlowBackend) { keras_suite("keras_tensorflow", convt::keras::Backend::TensorFlow); }
TEST(Frameworks, KerasJaxBackend) { keras_suite("keras_jax", convt::keras::Backend::Jax); }

// --- onnxruntime: ConvTranspose nodes, auto_pad, pads, output_padding,
// output_shape (inside, past and beyond the full result), dilations, group,
// bias B.

template <std::size_t N>
void run_onnx(const Suite& s, const Case& c, int& computed, int& rejected) {
  expect_like_framework(
      s, c, "onnxruntime",
      [&] {
        convt::onnx::ConvTranspose<N> node;
        node.auto_pad = c.at("auto_pad");
        node.strides = golden::ints(c.at("strides"));
        node.kernel_shape = golden::ints(c.at("kernel_shape"));
        node.dilations = golden::ints(c.at("dilations"));
        node.group = std::stoll(c.at("group"));
        for (auto [field, target] : {std::pair<const char*, std::vector<index_t>*>{"pads", &node.pads},
                                     {"output_padding", &node.output_padding},
                                     {"output_shape", &node.output_shape}}) {
          if (c.at(field) != "none") *target = golden::ints(c.at(field));
        }
        const auto x = golden::tensor<float, N + 2>(s, c.at("lhs"));
        const auto w = golden::tensor<float, N + 2>(s, c.at("rhs"));
        const bool bias = c.has("bias");
        const auto call = convt::onnx::conv_transpose<N>(node, x.shape(), w.shape(), bias);
        if (bias) return call(x, w, golden::tensor<float, 1>(s, c.at("bias")));
        return call(x, w);
      },
      computed, rejected);
}

TEST(Frameworks, OnnxRuntime) {
  const Suite s = golden::load("onnxruntime");
  int computed = 0, rejected = 0, reference_differs = 0;
  for (const Case& c : s.cases) {
    reference_differs += c.get("reference", "") == "differs";
    switch (std::stoi(c.at("dims"))) {
      case 1: run_onnx<1>(s, c, computed, rejected); break;
      case 2: run_onnx<2>(s, c, computed, rejected); break;
      default: run_onnx<3>(s, c, computed, rejected); break;
    }
  }
  golden::report(s, "onnxruntime", computed, rejected);
  std::printf(
      "onnxruntime: %d cases where ONNX's reference implementation gives other values (convt follows "
      "onnxruntime)\n",
      reference_differs);
  EXPECT_GE(computed, 150);
}

// --- PyTorch: random ConvTranspose{1,2,3}d layers with bias, groups,
// output_padding and dilation, and what PyTorch rejects.

template <std::size_t N>
void run_pytorch(const Suite& s, const Case& c, int& computed, int& rejected) {
  expect_like_framework(
      s, c, "PyTorch",
      [&] {
        convt::pytorch::ConvTranspose<N> layer;
        layer.in_channels = std::stoll(c.at("in_channels"));
        layer.out_channels = std::stoll(c.at("out_channels"));
        layer.kernel_size = golden::fixed<N>(golden::ints(c.at("kernel_size")));
        layer.stride = golden::fixed<N>(golden::ints(c.at("stride")));
        layer.padding = golden::fixed<N>(golden::ints(c.at("padding")));
        layer.output_padding = golden::fixed<N>(golden::ints(c.at("output_padding")));
        layer.groups = std::stoll(c.at("groups"));
        layer.bias = c.at("bias") == "1";
        layer.dilation = golden::fixed<N>(golden::ints(c.at("dilation")));
        const auto call = convt::pytorch::conv_transpose<N>(layer);
        const auto x = golden::tensor<double, N + 2>(s, c.at("lhs"));
        const auto w = golden::tensor<double, N + 2>(s, c.at("weight"));
        if (layer.bias) return call(x, w, golden::tensor<double, 1>(s, c.at("bias_values")));
        return call(x, w);
      },
      computed, rejected);
}

TEST(Frameworks, PyTorch) {
  const Suite s = golden::load("pytorch");
  int computed = 0, rejected = 0;
  for (const Case& c : s.cases) {
    switch (std::stoi(c.at("dims"))) {
      case 1: run_pytorch<1>(s, c, computed, rejected); break;
      case 2: run_pytorch<2>(s, c, computed, rejected); break;
      default: run_pytorch<3>(s, c, computed, rejected); break;
    }
  }
  golden::report(s, "PyTorch", computed, rejected);
  EXPECT_GE(computed, 100);
  EXPECT_GE(rejected, 6);
}

}  // namespace
