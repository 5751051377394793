// convt/translate/call.hpp — what every framework translator returns: the
// conv_transpose call equal to a framework's layer, and what that layer
// requires of its operands (input channels, weight shape, bias), checked in
// the framework's own terms before convt's checks can speak JAX's.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "convt/conv_transpose.hpp"
#include "convt/dimension_numbers.hpp"
#include "convt/epilogue.hpp"
#include "convt/error.hpp"
#include "convt/kernel.hpp"
#include "convt/options.hpp"
#include "convt/padding.hpp"
#include "convt/plan.hpp"

namespace convt {

namespace detail {

/// What a framework's layer requires of the operands of its call, with the
/// names that framework gives them. Unknown entries (-1) are not checked.
template <std::size_t N>
struct LayerContract {
  std::string layer;  // e.g. "PyTorch ConvTranspose2d"
  std::string input_name = "input";
  std::string input_layout;  // e.g. "(N, C, H, W)"
  std::size_t input_channel_axis = 1;
  index_t input_channels = -1;  // what the layer declares
  std::string input_channels_name = "in_channels";
  std::array<index_t, N + 2> input_shape{};  // the whole input shape, when the call is made for one
  bool input_shape_fixed = false;
  std::string weight_name = "weight";
  std::array<index_t, N + 2> weight_shape{};   // -1: any
  std::array<std::string, N + 2> weight_axes;  // what each weight dimension is, in the layer's terms
  bool bias = false;                           // the layer has a bias to pass
  std::string bias_name = "bias";
  bool spatial_input_nonempty = false;  // the framework rejects empty spatial input extents (PyTorch)
  // Frameworks that reject outputs of fewer than one element per spatial
  // dimension (PyTorch) compute out = (in - 1) * stride + output_add.
  std::optional<std::array<index_t, N>> output_add;
  std::string output_formula;  // that formula in the framework's words
};

/// "(a, b, c)" of an index array.
template <std::size_t N>
std::string shape_text(const std::array<index_t, N>& a) {
  return format_seq(a);
}

/// What the layer requires of its input, in the framework's terms: the shape
/// the call was made for, the declared channels, non-empty spatial extents,
/// an output of at least one element.
template <std::size_t N>
void check_layer_input(const LayerContract<N>& c, const std::array<index_t, N + 2>& input_shape,
                       const std::array<index_t, N>& strides) {
  if (c.layer.empty()) return;  // a call not made by a translator
  if (c.input_shape_fixed && input_shape != c.input_shape) {
    detail::fail(c.layer, ": ", c.input_name, " shape ", detail::shape_text(input_shape), " differs from ",
                 detail::shape_text(c.input_shape), ", the input shape this call was made for");
  }
  if (c.input_channels >= 0 && input_shape[c.input_channel_axis] != c.input_channels) {
    detail::fail(c.layer, ": ", c.input_name, " has ", input_shape[c.input_channel_axis], " channels (dimension ",
                 c.input_channel_axis, " of ", c.input_layout, " = ", detail::shape_text(input_shape), ") but ",
                 c.input_channels_name, " = ", c.input_channels);
  }
  if (c.spatial_input_nonempty) {
    for (std::size_t d = 0; d < N; ++d) {
      if (input_shape[c.input_channel_axis == 1 ? 2 + d : 1 + d] < 1) {
        detail::fail(c.layer, ": ", c.input_name, " shape ", detail::shape_text(input_shape),
                     " has an empty spatial dimension; only zero batch inputs are supported");
      }
    }
  }
  if (c.output_add) {
    for (std::size_t d = 0; d < N; ++d) {
      const index_t in = input_shape[c.input_channel_axis == 1 ? 2 + d : 1 + d];
      const index_t extent = detail::checked_add(detail::checked_mul(in - 1, strides[d], "output size"),
                                                 (*c.output_add)[d], "output size");
      if (extent < 1) {
        detail::fail(c.layer, ": output size is too small: ", c.input_name, " ", detail::shape_text(input_shape),
                     " gives an output size of ", extent, " in spatial dimension ", d, " (", c.output_formula,
                     "); it must be at least 1");
      }
    }
  }
}

}  // namespace detail

/// A translated layer's packed kernel: a PackedKernel whose plan() first
/// checks the input as the layer's framework does (ConvTransposeCall::kernel
/// makes it).
template <class Packed, std::size_t N>
class LayerKernel {
 public:
  /// Made by ConvTransposeCall::kernel.
  LayerKernel(Packed packed, detail::LayerContract<N> layer, const std::array<index_t, N>& strides)
      : packed_(std::move(packed)), layer_(std::move(layer)), strides_(strides) {}

  /// A plan for inputs of `input_shape`, which the layer must accept.
  auto plan(const std::array<index_t, N + 2>& input_shape) const {
    detail::check_layer_input(layer_, input_shape, strides_);
    return packed_.plan(input_shape);
  }
  /// The PackedKernel (no framework checks on its plans).
  const Packed& packed() const noexcept { return packed_; }
  /// Bytes of the packed data, shared by every plan.
  std::size_t packed_kernel_bytes() const noexcept { return packed_.packed_kernel_bytes(); }

 private:
  Packed packed_;
  detail::LayerContract<N> layer_;
  std::array<index_t, N> strides_;
};

/// The arguments of one conv_transpose call besides lhs and rhs, as a
/// translator derives them from a framework's layer, and what that layer
/// requires of its operands. Call it with the framework's own input, weight
/// and (when the layer has one) bias tensors, or make a plan or a packed
/// kernel from it.
template <std::size_t N>
struct ConvTransposeCall {
  std::array<index_t, N> strides{};    ///< per spatial dimension
  Padding padding = Padding::valid();  ///< explicit (lo, hi) pairs
  ConvTransposeOptions<N> options;     ///< layout, dilation, transpose_kernel, groups, activation
  detail::LayerContract<N> layer;      ///< what the layer requires of its operands

  /// `conv_transpose<Out>(input, weight, ...)` for a layer without a bias.
  template <class Out = void, class L, class R>
  auto operator()(const L& input, const R& weight) const {
    check(view(input).shape(), view(weight).shape(), false);
    return conv_transpose<Out>(input, weight, strides, padding, options);
  }
  /// The same with the layer's bias (a rank-1 Tensor or TensorView of the
  /// result type), added in the output write.
  template <class Out = void, class L, class R, class B>
  auto operator()(const L& input, const R& weight, const B& bias) const {
    check(view(input).shape(), view(weight).shape(), true);
    return conv_transpose<Out>(input, weight, strides, padding, with_bias(bias));
  }

  /// A plan for inputs of `input_shape` (layer without a bias).
  template <class Out = void, class R>
  auto plan(const R& weight, const std::array<index_t, N + 2>& input_shape) const {
    check(input_shape, view(weight).shape(), false);
    return make_plan<Out>(weight, input_shape, strides, padding, options);
  }
  /// A plan for inputs of `input_shape`, with the layer's bias.
  template <class Out = void, class R, class B>
  auto plan(const R& weight, const B& bias, const std::array<index_t, N + 2>& input_shape) const {
    check(input_shape, view(weight).shape(), true);
    return make_plan<Out>(weight, input_shape, strides, padding, with_bias(bias));
  }

  /// The weight packed once for inputs of any shape the layer accepts (layer
  /// without a bias); its plan(input_shape) checks the input in the
  /// framework's terms, as this call does.
  template <class Out = void, class R>
  auto kernel(const R& weight) const {
    check_weight(view(weight).shape(), false);
    auto packed = make_kernel<Out>(weight, strides, padding, options);
    return LayerKernel<decltype(packed), N>(std::move(packed), layer, strides);
  }
  /// The same with the layer's bias.
  template <class Out = void, class R, class B>
  auto kernel(const R& weight, const B& bias) const {
    check_weight(view(weight).shape(), true);
    auto packed = make_kernel<Out>(weight, strides, padding, with_bias(bias));
    return LayerKernel<decltype(packed), N>(std::move(packed), layer, strides);
  }

  /// options with the layer's bias (a rank-1 Tensor or TensorView).
  template <class B>
  ConvTransposeOptions<N> with_bias(const B& bias) const {
    ConvTransposeOptions<N> o = options;
    o.bias = BiasView(bias);
    return o;
  }

  /// Checks the operands' shapes against the layer, in the framework's terms
  /// (the rest is checked by conv_transpose).
  void check(const std::array<index_t, N + 2>& input_shape, const std::array<index_t, N + 2>& weight_shape,
             bool has_bias) const {
    detail::check_layer_input(layer, input_shape, strides);
    check_weight(weight_shape, has_bias);
  }
  /// The weight and bias part of check().
  void check_weight(const std::array<index_t, N + 2>& weight_shape, bool has_bias) const {
    const detail::LayerContract<N>& c = layer;
    if (c.layer.empty()) return;  // a call not made by a translator
    for (std::size_t i = 0; i < N + 2; ++i) {
      if (c.weight_shape[i] >= 0 && weight_shape[i] != c.weight_shape[i]) {
        detail::fail(c.layer, ": ", c.weight_name, " shape ", detail::shape_text(weight_shape),
                     " does not fit the layer: ", c.weight_name, " dimension ", i, " (", c.weight_axes[i], ") is ",
                     weight_shape[i], " but the layer needs ", c.weight_shape[i]);
      }
    }
    if (c.bias && !has_bias) {
      detail::fail(c.layer, ": the layer has a ", c.bias_name, " (", c.bias_name,
                   " = True): pass it as the third argument, or translate the layer without one");
    }
    if (!c.bias && has_bias) {
      detail::fail(c.layer, ": a ", c.bias_name, " was passed but the layer has none (", c.bias_name, " = False)");
    }
  }
};

namespace detail {

template <std::size_t N>
std::array<index_t, N> filled(index_t v) {
  std::array<index_t, N> a{};
  a.fill(v);
  return a;
}

/// Spatial letters for N dimensions: W, HW, DHW (then more for higher N).
template <std::size_t N>
std::string spatial_letters() {
  static_assert(N >= 1 && N <= 6, "convt translators: 1 to 6 spatial dimensions");
  return std::string("TUDHW").substr(5 - std::min<std::size_t>(N, 5)) + (N > 5 ? "V" : "");
}

template <std::size_t N>
DimensionNumbers channels_first() {
  const std::string sp = spatial_letters<N>();
  return {"NC" + sp, "OI" + sp, "NC" + sp};
}

template <std::size_t N>
DimensionNumbers channels_last() {
  const std::string sp = spatial_letters<N>();
  return {"N" + sp + "C", sp + "IO", "N" + sp + "C"};
}

/// "(N, C, H, W)" or "(N, H, W, C)".
template <std::size_t N>
std::string layout_text(bool channels_first) {
  const std::string sp = spatial_letters<N>();
  std::string s = "(N";
  if (channels_first) s += ", C";
  for (char c : sp) s += std::string(", ") + c;
  if (!channels_first) s += ", C";
  return s + ")";
}

template <std::size_t N>
void check_positive(const std::array<index_t, N>& v, const std::string& framework, const char* name) {
  for (std::size_t d = 0; d < N; ++d) {
    if (v[d] < 1) fail(framework, ": ", name, "[", d, "] = ", v[d], "; ", name, " must be >= 1");
  }
}

/// Crop-style padding (PyTorch `padding` / ONNX `pads`) plus output_padding
/// on the high side, as JAX pads of the transposed convolution.
inline std::pair<index_t, index_t> crop_to_pads(index_t dilated_kernel, index_t crop_lo, index_t crop_hi,
                                                index_t output_padding) {
  const index_t lo = checked_sub(dilated_kernel - 1, crop_lo, "padding");
  const index_t hi = checked_add(checked_sub(dilated_kernel - 1, crop_hi, "padding"), output_padding, "padding");
  return {lo, hi};
}

}  // namespace detail
}  // namespace convt
