// convt/translate.hpp — a transposed-convolution layer of PyTorch,
// TensorFlow, Keras or ONNX, given exactly as that framework names and orders
// its parameters, turned into the equivalent conv_transpose call: strides,
// explicit (lo, hi) padding, rhs_dilation, dimension_numbers (the framework's
// data format and kernel layout), transpose_kernel and feature_group_count.
//
//   // torch.nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1)
//   const auto call = convt::pytorch::conv_transpose<2>({64, 32, {4, 4}, {2, 2}, {1, 1}});
//   auto y = call(x, weight);   // x (N, C, H, W), weight (in, out/groups, kH, kW)
//
// Every translator returns the same ConvTransposeCall. The framework's own
// rules are checked here and reported as convt::Error naming the framework.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "convt/conv_transpose.hpp"
#include "convt/dimension_numbers.hpp"
#include "convt/error.hpp"
#include "convt/options.hpp"
#include "convt/padding.hpp"
#include "convt/plan.hpp"

namespace convt {

/// The arguments of one conv_transpose call besides lhs and rhs, as a
/// translator derives them from a framework's layer.
template <std::size_t N>
struct ConvTransposeCall {
  std::array<index_t, N> strides{};        ///< per spatial dimension
  Padding padding = Padding::valid();      ///< explicit (lo, hi) pairs
  ConvTransposeOptions<N> options;         ///< layout, dilation, transpose_kernel, groups

  /// `conv_transpose<Out>(lhs, rhs, strides, padding, options)`.
  template <class Out = void, class L, class R>
  auto operator()(const L& lhs, const R& rhs) const {
    return conv_transpose<Out>(lhs, rhs, strides, padding, options);
  }
  /// `make_plan<Out>(rhs, lhs_shape, strides, padding, options)`.
  template <class Out = void, class R>
  auto plan(const R& rhs, const std::array<index_t, N + 2>& lhs_shape) const {
    return make_plan<Out>(rhs, lhs_shape, strides, padding, options);
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

/// TensorFlow's data_format names: NWC/NHWC/NDHWC or NCW/NCHW/NCDHW.
template <std::size_t N>
std::string tf_data_format(bool channels_first) {
  const std::string sp = spatial_letters<N>();
  return channels_first ? "NC" + sp : "N" + sp + "C";
}

template <std::size_t N>
void check_positive(const std::array<index_t, N>& v, const char* framework, const char* name) {
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

namespace pytorch {

/// `torch.nn.ConvTranspose{N}d(in_channels, out_channels, kernel_size, stride=1,
/// padding=0, output_padding=0, groups=1, bias, dilation=1)`, fields in the
/// constructor's order (bias is not part of the convolution). Input
/// (N, C, spatial...), weight (in_channels, out_channels / groups, kernel...).
template <std::size_t N>
struct ConvTranspose {
  index_t in_channels = 0;                                 ///< C of the input
  index_t out_channels = 0;                                ///< C of the output
  std::array<index_t, N> kernel_size{};                    ///< kernel extents
  std::array<index_t, N> stride = detail::filled<N>(1);    ///< stride
  std::array<index_t, N> padding = detail::filled<N>(0);   ///< implicit zero padding (crops the output)
  std::array<index_t, N> output_padding = detail::filled<N>(0);  ///< extra output on the high side
  index_t groups = 1;                                      ///< feature groups
  std::array<index_t, N> dilation = detail::filled<N>(1);  ///< kernel dilation
};

/// The conv_transpose call equal to the PyTorch layer (torch's output size:
/// (in − 1)·stride − 2·padding + dilation·(kernel − 1) + output_padding + 1).
/// Throws Error on what PyTorch rejects.
template <std::size_t N>
ConvTransposeCall<N> conv_transpose(const ConvTranspose<N>& layer) {
  constexpr const char* fw = "PyTorch ConvTranspose";
  detail::check_positive(layer.stride, fw, "stride");
  detail::check_positive(layer.dilation, fw, "dilation");
  if (layer.groups < 1) detail::fail(fw, ": groups = ", layer.groups, "; groups must be a positive integer");
  if (layer.in_channels % layer.groups != 0) {
    detail::fail(fw, ": in_channels = ", layer.in_channels, " must be divisible by groups = ", layer.groups);
  }
  if (layer.out_channels % layer.groups != 0) {
    detail::fail(fw, ": out_channels = ", layer.out_channels, " must be divisible by groups = ", layer.groups);
  }
  ConvTransposeCall<N> call;
  call.strides = layer.stride;
  std::vector<std::pair<index_t, index_t>> pads;
  for (std::size_t d = 0; d < N; ++d) {
    if (layer.padding[d] < 0 || layer.output_padding[d] < 0 || layer.kernel_size[d] < 0) {
      detail::fail(fw, ": kernel_size, padding and output_padding must be >= 0 (dimension ", d, ": ",
                   layer.kernel_size[d], ", ", layer.padding[d], ", ", layer.output_padding[d], ")");
    }
    if (layer.output_padding[d] >= std::max(layer.stride[d], layer.dilation[d])) {
      detail::fail(fw, ": output padding must be smaller than either stride or dilation (dimension ", d,
                   ": output_padding ", layer.output_padding[d], ", stride ", layer.stride[d], ", dilation ",
                   layer.dilation[d], ")");
    }
    const index_t dk = dilate_dim(layer.kernel_size[d], layer.dilation[d]);
    pads.push_back(detail::crop_to_pads(dk, layer.padding[d], layer.padding[d], layer.output_padding[d]));
  }
  call.padding = Padding::explicit_pads(std::move(pads));
  call.options.dimension_numbers = detail::channels_first<N>();
  call.options.rhs_dilation = layer.dilation;
  call.options.transpose_kernel = true;  // weight (in, out/groups, k...): a grouped conv's kernel, transposed
  call.options.feature_group_count = layer.groups;
  return call;
}

}  // namespace pytorch

namespace tensorflow {

/// `tf.nn.conv{N}d_transpose(input, filters, output_shape, strides,
/// padding='SAME', data_format, dilations)` with the tensors replaced by their
/// shapes. filters are (kernel..., output_channels, input_channels);
/// data_format "NWC"/"NHWC"/"NDHWC" (default) or "NCW"/"NCHW"/"NCDHW".
/// `strides` and `dilations` take N values (TF's 1- and N+2-value forms
/// reduce to these). The call is valid for this input shape only (the padding
/// depends on it).
template <std::size_t N>
ConvTransposeCall<N> conv_transpose(const std::array<index_t, N + 2>& input_shape,
                                    const std::array<index_t, N + 2>& filters_shape,
                                    const std::array<index_t, N + 2>& output_shape,
                                    const std::array<index_t, N>& strides, const std::string& padding = "SAME",
                                    std::optional<std::string> data_format = std::nullopt,
                                    const std::array<index_t, N>& dilations = detail::filled<N>(1)) {
  constexpr const char* fw = "TensorFlow conv_transpose";
  const std::string tf_last = detail::tf_data_format<N>(false);
  const std::string tf_first = detail::tf_data_format<N>(true);
  const std::string format = data_format.value_or(tf_last);
  bool channels_first = false;
  if (format == tf_first) {
    channels_first = true;
  } else if (format != tf_last) {
    detail::fail(fw, ": data_format \"", format, "\" must be \"", tf_last, "\" or \"", tf_first, "\"");
  }
  detail::check_positive(strides, fw, "strides");
  detail::check_positive(dilations, fw, "dilations");
  OutputShapeRule rule = OutputShapeRule::Same;
  if (padding == "VALID") {
    rule = OutputShapeRule::Valid;
  } else if (padding != "SAME") {
    detail::fail(fw, ": padding \"", padding, "\" must be \"SAME\" or \"VALID\"");
  }
  const std::size_t c_axis = channels_first ? 1 : N + 1;
  const std::size_t sp0 = channels_first ? 2 : 1;
  if (input_shape[0] != output_shape[0]) {
    detail::fail(fw, ": output_shape batch ", output_shape[0], " differs from the input's ", input_shape[0]);
  }
  if (filters_shape[N + 1] != input_shape[c_axis]) {
    detail::fail(fw, ": filters in_channels (last axis) = ", filters_shape[N + 1], " differs from the input's channels ",
                 input_shape[c_axis]);
  }
  if (filters_shape[N] != output_shape[c_axis]) {
    detail::fail(fw, ": filters output_channels (axis ", N, ") = ", filters_shape[N],
                 " differs from output_shape's channels ", output_shape[c_axis]);
  }
  std::array<index_t, N> in{}, kernel{}, out{};
  for (std::size_t d = 0; d < N; ++d) {
    in[d] = input_shape[sp0 + d];
    kernel[d] = filters_shape[d];
    out[d] = output_shape[sp0 + d];
  }
  ConvTransposeCall<N> call;
  call.strides = strides;
  call.padding = detail::output_shape_padding(in, kernel, strides, out, dilations, rule,
                                              rule == OutputShapeRule::Same ? "TensorFlow conv_transpose (padding='SAME')"
                                                                            : "TensorFlow conv_transpose (padding='VALID')");
  const std::string sp = detail::spatial_letters<N>();
  call.options.dimension_numbers =
      channels_first ? DimensionNumbers{"NC" + sp, sp + "IO", "NC" + sp} : detail::channels_last<N>();
  call.options.rhs_dilation = dilations;
  // filters (k..., out, in) are the forward convolution's kernel; its
  // transpose (flip, swap) is the transposed convolution's: 'O' labels the
  // axis that meets the input channels.
  call.options.transpose_kernel = true;
  return call;
}

}  // namespace tensorflow

namespace keras {

/// `keras.layers.Conv{N}DTranspose(filters, kernel_size, strides=1,
/// padding='valid', output_padding=None, data_format=None, dilation_rate=1)`
/// applied to inputs of `input_shape` (batch included). The kernel is Keras's
/// (kernel..., filters, input_channels). data_format "channels_last"
/// (default) or "channels_first".
template <std::size_t N>
struct ConvTranspose {
  index_t filters = 0;                                          ///< output channels
  std::array<index_t, N> kernel_size{};                         ///< kernel extents
  std::array<index_t, N> strides = detail::filled<N>(1);        ///< strides
  std::string padding = "valid";                                ///< "valid" or "same"
  std::optional<std::array<index_t, N>> output_padding{};         ///< None, or per dimension
  std::string data_format = "channels_last";                    ///< or "channels_first"
  std::array<index_t, N> dilation_rate = detail::filled<N>(1);  ///< kernel dilation
};

/// Keras's output length (keras.utils.conv_utils.deconv_output_length).
inline index_t deconv_output_length(index_t input_length, index_t kernel, const std::string& padding,
                                    std::optional<index_t> output_padding, index_t stride, index_t dilation) {
  const index_t dk = dilate_dim(kernel, dilation);
  if (!output_padding) {
    if (padding == "valid") return input_length * stride + std::max<index_t>(dk - stride, 0);
    return input_length * stride;  // "same"
  }
  const index_t pad = padding == "same" ? dk / 2 : 0;
  return (input_length - 1) * stride + dk - 2 * pad + *output_padding;
}

/// The conv_transpose call equal to the Keras layer on inputs of
/// `input_shape`: Keras computes the output size and calls TensorFlow's
/// conv_transpose with it, and so does this.
template <std::size_t N>
ConvTransposeCall<N> conv_transpose(const ConvTranspose<N>& layer, const std::array<index_t, N + 2>& input_shape) {
  constexpr const char* fw = "Keras ConvTranspose";
  if (layer.padding != "valid" && layer.padding != "same") {
    detail::fail(fw, ": padding \"", layer.padding, "\" must be \"valid\" or \"same\"");
  }
  const bool first = layer.data_format == "channels_first";
  if (!first && layer.data_format != "channels_last") {
    detail::fail(fw, ": data_format \"", layer.data_format, "\" must be \"channels_last\" or \"channels_first\"");
  }
  detail::check_positive(layer.strides, fw, "strides");
  detail::check_positive(layer.dilation_rate, fw, "dilation_rate");
  if (layer.output_padding) {
    for (std::size_t d = 0; d < N; ++d) {
      if ((*layer.output_padding)[d] >= layer.strides[d]) {
        detail::fail(fw, ": strides must be greater than output padding (dimension ", d, ": stride ", layer.strides[d],
                     ", output_padding ", (*layer.output_padding)[d], ")");
      }
    }
  }
  const std::size_t c_axis = first ? 1 : N + 1;
  const std::size_t sp0 = first ? 2 : 1;
  std::array<index_t, N + 2> filters_shape{}, output_shape{};
  output_shape[0] = input_shape[0];
  output_shape[c_axis] = layer.filters;
  for (std::size_t d = 0; d < N; ++d) {
    filters_shape[d] = layer.kernel_size[d];
    output_shape[sp0 + d] = deconv_output_length(
        input_shape[sp0 + d], layer.kernel_size[d], layer.padding,
        layer.output_padding ? std::optional<index_t>((*layer.output_padding)[d]) : std::nullopt, layer.strides[d],
        layer.dilation_rate[d]);
  }
  filters_shape[N] = layer.filters;
  filters_shape[N + 1] = input_shape[c_axis];
  return tensorflow::conv_transpose<N>(input_shape, filters_shape, output_shape, layer.strides,
                                       layer.padding == "same" ? "SAME" : "VALID", detail::tf_data_format<N>(first),
                                       layer.dilation_rate);
}

}  // namespace keras

namespace onnx {

/// ONNX `ConvTranspose` attributes (opset 11+), named as in the operator
/// spec; empty vectors mean "absent" (the spec's defaults). X is
/// (N, C, spatial...), W is (C, M / group, kernel...).
template <std::size_t N>
struct ConvTranspose {
  std::string auto_pad = "NOTSET";      ///< NOTSET, SAME_UPPER, SAME_LOWER or VALID
  std::vector<index_t> dilations{};       ///< default 1
  index_t group = 1;                    ///< feature groups
  std::vector<index_t> kernel_shape{};    ///< default: W's spatial extents
  std::vector<index_t> output_padding{};  ///< default 0
  std::vector<index_t> output_shape{};    ///< spatial output extents (absent: from pads)
  std::vector<index_t> pads{};            ///< [x1_begin, x2_begin, ..., x1_end, x2_end], default 0
  std::vector<index_t> strides{};         ///< default 1
};

/// The conv_transpose call equal to the ONNX node for X of `x_shape` and W
/// of `w_shape`, following the operator spec's formulas: with output_shape
/// (or SAME_*: output = input · stride) the total padding is
/// stride·(in − 1) + output_padding + dilated kernel − output, split
/// total/2 at the start for SAME_UPPER and total − total/2 at the start
/// otherwise.
template <std::size_t N>
ConvTransposeCall<N> conv_transpose(const ConvTranspose<N>& node, const std::array<index_t, N + 2>& x_shape,
                                    const std::array<index_t, N + 2>& w_shape) {
  constexpr const char* fw = "ONNX ConvTranspose";
  auto attr = [&](const std::vector<index_t>& v, std::size_t want, index_t fallback, const char* name) {
    if (v.empty()) return std::vector<index_t>(want, fallback);
    if (v.size() != want) detail::fail(fw, ": attribute ", name, " has ", v.size(), " values; expected ", want);
    return v;
  };
  const auto dil = attr(node.dilations, N, 1, "dilations");
  const auto str = attr(node.strides, N, 1, "strides");
  const auto opad = attr(node.output_padding, N, 0, "output_padding");
  const auto pads = attr(node.pads, 2 * N, 0, "pads");
  std::vector<index_t> kshape(w_shape.begin() + 2, w_shape.end());
  if (!node.kernel_shape.empty()) {
    if (attr(node.kernel_shape, N, 0, "kernel_shape") != kshape) {
      detail::fail(fw, ": kernel_shape ", detail::format_seq(node.kernel_shape), " differs from W's spatial shape ",
                   detail::format_seq(kshape));
    }
  }
  if (!node.output_shape.empty()) attr(node.output_shape, N, 0, "output_shape");
  const std::string& ap = node.auto_pad;
  if (ap != "NOTSET" && ap != "SAME_UPPER" && ap != "SAME_LOWER" && ap != "VALID") {
    detail::fail(fw, ": auto_pad \"", ap, "\" must be NOTSET, SAME_UPPER, SAME_LOWER or VALID");
  }
  if (node.group < 1) detail::fail(fw, ": group = ", node.group, " must be >= 1");
  if (x_shape[1] != w_shape[0]) {
    detail::fail(fw, ": X has ", x_shape[1], " channels but W's first axis has ", w_shape[0]);
  }
  ConvTransposeCall<N> call;
  std::vector<std::pair<index_t, index_t>> jax_pads;
  for (std::size_t d = 0; d < N; ++d) {
    if (str[d] < 1 || dil[d] < 1) {
      detail::fail(fw, ": strides and dilations must be >= 1 (dimension ", d, ": ", str[d], ", ", dil[d], ")");
    }
    if (opad[d] < 0 || opad[d] >= std::max(str[d], dil[d])) {
      detail::fail(fw, ": output_padding[", d, "] = ", opad[d],
                   " must be >= 0 and smaller than the stride or the dilation (", str[d], ", ", dil[d], ")");
    }
    call.strides[d] = str[d];
    const index_t dk = dilate_dim(kshape[d], dil[d]);
    const index_t in = x_shape[2 + d];
    index_t begin = pads[d], end = pads[N + d];
    const bool same = ap == "SAME_UPPER" || ap == "SAME_LOWER";
    if (ap == "VALID") {
      begin = end = 0;
    } else if (!node.output_shape.empty() || same) {
      const index_t out = node.output_shape.empty() ? detail::checked_mul(in, str[d], "output shape")
                                                    : node.output_shape[d];
      const index_t full = detail::checked_add(
          detail::checked_add(detail::checked_mul(str[d], in - 1, "output shape"), opad[d], "output shape"), dk,
          "output shape");
      const index_t total = full - out;
      if (total < 0) {
        detail::fail(fw, ": output_shape[", d, "] = ", out, " exceeds the full transposed convolution (", full,
                     " = stride·(in − 1) + output_padding + dilated kernel)");
      }
      begin = ap == "SAME_UPPER" ? total / 2 : total - total / 2;
      end = total - begin;
    }
    if (begin < 0 || end < 0) detail::fail(fw, ": pads must be >= 0 (dimension ", d, ": ", begin, ", ", end, ")");
    jax_pads.push_back(detail::crop_to_pads(dk, begin, end, opad[d]));
  }
  call.padding = Padding::explicit_pads(std::move(jax_pads));
  call.options.dimension_numbers = detail::channels_first<N>();
  call.options.rhs_dilation = std::array<index_t, N>{};
  for (std::size_t d = 0; d < N; ++d) (*call.options.rhs_dilation)[d] = dil[d];
  call.options.transpose_kernel = true;  // W (C, M/group, k...): as PyTorch's weight
  call.options.feature_group_count = node.group;
  return call;
}

}  // namespace onnx

}  // namespace convt
