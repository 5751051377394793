// convt/translate/tensorflow.hpp — tf.nn.conv{1,2,3}d_transpose as a
// conv_transpose call.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "convt/translate/call.hpp"

namespace convt::tensorflow {

/// TensorFlow's explicit padding: one (before, after) pair per input
/// dimension, in data_format order; the batch and channel pairs are (0, 0).
/// The pairs are the padding of the forward convolution whose gradient the
/// transposed convolution is.
template <std::size_t N>
using ExplicitPadding = std::array<std::pair<index_t, index_t>, N + 2>;

namespace detail {

using convt::detail::fail;

/// TensorFlow's data_format names: NWC/NHWC/NDHWC or NCW/NCHW/NCDHW.
template <std::size_t N>
std::string data_format_name(bool channels_first) {
  const std::string sp = convt::detail::spatial_letters<N>();
  return channels_first ? "NC" + sp : "N" + sp + "C";
}

/// Everything of a TensorFlow-style call but its padding: the layout
/// (data_format, filters (k..., out, in) transposed), dilations, and what the
/// layer requires of its operands.
template <std::size_t N>
void layout_call(ConvTransposeCall<N>& call, const std::string& fw, const std::array<index_t, N + 2>& input_shape,
                 const std::array<index_t, N + 2>& filters_shape, bool channels_first,
                 const std::array<index_t, N>& dilations) {
  const std::size_t c_axis = channels_first ? 1 : N + 1;
  const std::string format = data_format_name<N>(channels_first);
  const std::string sp = convt::detail::spatial_letters<N>();
  call.options.dimension_numbers =
      channels_first ? DimensionNumbers{"NC" + sp, sp + "IO", "NC" + sp} : convt::detail::channels_last<N>();
  call.options.rhs_dilation = dilations;
  // filters (k..., out, in) are the forward convolution's kernel; its
  // transpose (flip, swap) is the transposed convolution's: 'O' labels the
  // axis that meets the input channels.
  call.options.transpose_kernel = true;

  convt::detail::LayerContract<N>& c = call.layer;
  c.layer = fw;
  c.input_layout = "(" + format + ")";
  c.input_channel_axis = c_axis;
  c.input_channels = input_shape[c_axis];
  c.input_channels_name = "the input's channels";
  c.input_shape = input_shape;
  c.input_shape_fixed = true;
  c.weight_name = "filters";
  c.weight_shape = filters_shape;
  for (std::size_t d = 0; d < N; ++d) c.weight_axes[d] = "kernel extent " + std::to_string(d);
  c.weight_axes[N] = "output channels";
  c.weight_axes[N + 1] = "input channels";
  if (filters_shape[N + 1] != input_shape[c_axis]) {
    fail(fw, ": filters in_channels (last axis) = ", filters_shape[N + 1], " differs from the input's channels ",
         input_shape[c_axis]);
  }
}

template <std::size_t N>
ConvTransposeCall<N> translate(const std::array<index_t, N + 2>& input_shape,
                               const std::array<index_t, N + 2>& filters_shape,
                               const std::array<index_t, N + 2>& output_shape, const std::array<index_t, N>& strides,
                               const std::string& padding, const std::optional<ExplicitPadding<N>>& explicit_pads,
                               const std::optional<std::string>& data_format, const std::array<index_t, N>& dilations) {
  const std::string fw = "TensorFlow conv" + std::to_string(N) + "d_transpose";
  const std::string last = data_format_name<N>(false), first = data_format_name<N>(true);
  const std::string format = data_format.value_or(last);
  if (format != last && format != first)
    fail(fw, ": data_format \"", format, "\" must be \"", last, "\" or \"", first, "\"");
  const bool channels_first = format == first;
  convt::detail::check_positive(strides, fw, "strides");
  convt::detail::check_positive(dilations, fw, "dilations");
  const std::size_t c_axis = channels_first ? 1 : N + 1;
  const std::size_t sp0 = channels_first ? 2 : 1;
  if (input_shape[0] != output_shape[0]) {
    fail(fw, ": output_shape batch ", output_shape[0], " differs from the input's ", input_shape[0]);
  }
  std::array<index_t, N> in{}, kernel{}, out{};
  for (std::size_t d = 0; d < N; ++d) {
    in[d] = input_shape[sp0 + d];
    kernel[d] = filters_shape[d];
    out[d] = output_shape[sp0 + d];
  }
  ConvTransposeCall<N> call;
  call.strides = strides;
  if (explicit_pads && N != 2) {
    fail(fw,
         ": padding must be 'SAME' or 'VALID'; explicit padding lists are taken by conv2d_transpose only "
         "(TensorFlow: Expected string for argument 'padding')");
  }
  if (explicit_pads) {
    // The forward convolution of the output (padded by the pairs) must give
    // the input: floor((out + before + after - k') / s) + 1 == in; then the
    // transposed convolution crops `before` at the start and the output
    // extends to output_shape at the end.
    std::vector<std::pair<index_t, index_t>> pads;
    for (std::size_t i = 0; i < N + 2; ++i) {
      const auto [before, after] = (*explicit_pads)[i];
      const bool spatial = i >= sp0 && i < sp0 + N;
      if (!spatial && (before != 0 || after != 0)) {
        fail(fw, ": explicit padding of dimension ", i, " (", i == 0 ? "batch" : "channels", ") is (", before, ", ",
             after, "); only spatial dimensions may be padded");
      }
      if (before < 0 || after < 0) fail(fw, ": explicit padding (", before, ", ", after, ") must be >= 0");
    }
    for (std::size_t d = 0; d < N; ++d) {
      const auto [before, after] = (*explicit_pads)[sp0 + d];
      const index_t dk = dilate_dim(kernel[d], dilations[d]);
      const index_t span = convt::detail::checked_sub(
          convt::detail::checked_add(convt::detail::checked_add(out[d], before, "padding"), after, "padding"), dk,
          "padding");
      const index_t expect = span < 0 ? 0 : span / strides[d] + 1;
      if (expect != in[d]) {
        fail(fw, ": output extent ", out[d], " in spatial dimension ", d, " does not fit input extent ", in[d],
             " with explicit padding (", before, ", ", after, "), stride ", strides[d], " and dilated kernel ", dk,
             ": the forward convolution of the output gives ", expect,
             " (floor((output + before + after - kernel) / stride) + 1)");
      }
      const index_t lo = convt::detail::checked_sub(dk - 1, before, "padding");
      const index_t dilated_in = dilate_dim(in[d], strides[d]);
      const index_t hi = convt::detail::checked_sub(
          convt::detail::checked_sub(convt::detail::checked_add(out[d], dk - 1, "padding"), dilated_in, "padding"), lo,
          "padding");
      pads.emplace_back(lo, hi);
    }
    call.padding = Padding::explicit_pads(std::move(pads));
  } else {
    OutputShapeRule rule = OutputShapeRule::Same;
    if (padding == "VALID") {
      rule = OutputShapeRule::Valid;
    } else if (padding != "SAME") {
      fail(fw, ": padding \"", padding, "\" must be \"SAME\", \"VALID\" or a list of explicit (before, after) pairs");
    }
    call.padding = convt::detail::output_shape_padding(in, kernel, strides, out, dilations, rule,
                                                       (fw + " (padding='" + padding + "')").c_str());
  }
  layout_call<N>(call, fw, input_shape, filters_shape, channels_first, dilations);
  if (filters_shape[N] != output_shape[c_axis]) {
    fail(fw, ": filters output_channels (axis ", N, ") = ", filters_shape[N], " differs from output_shape's channels ",
         output_shape[c_axis]);
  }
  return call;
}

}  // namespace detail

/// `tf.nn.conv{N}d_transpose(input, filters, output_shape, strides,
/// padding='SAME', data_format, dilations)` with the tensors replaced by
/// their shapes. filters are (kernel..., output_channels, input_channels);
/// data_format "NWC"/"NHWC"/"NDHWC" (default) or "NCW"/"NCHW"/"NCDHW".
/// `strides` and `dilations` take N values (TF's 1- and N+2-value forms
/// reduce to these). The call is valid for this input shape only (the
/// padding depends on it). tf.nn.conv_transpose has no bias.
template <std::size_t N>
ConvTransposeCall<N> conv_transpose(const std::array<index_t, N + 2>& input_shape,
                                    const std::array<index_t, N + 2>& filters_shape,
                                    const std::array<index_t, N + 2>& output_shape,
                                    const std::array<index_t, N>& strides, const std::string& padding = "SAME",
                                    std::optional<std::string> data_format = std::nullopt,
                                    const std::array<index_t, N>& dilations = convt::detail::filled<N>(1)) {
  return detail::translate<N>(input_shape, filters_shape, output_shape, strides, padding, std::nullopt, data_format,
                              dilations);
}

/// The same with TensorFlow's explicit padding list (conv2d_transpose only,
/// as in TensorFlow).
template <std::size_t N>
ConvTransposeCall<N> conv_transpose(const std::array<index_t, N + 2>& input_shape,
                                    const std::array<index_t, N + 2>& filters_shape,
                                    const std::array<index_t, N + 2>& output_shape,
                                    const std::array<index_t, N>& strides, const ExplicitPadding<N>& padding,
                                    std::optional<std::string> data_format = std::nullopt,
                                    const std::array<index_t, N>& dilations = convt::detail::filled<N>(1)) {
  return detail::translate<N>(input_shape, filters_shape, output_shape, strides, "EXPLICIT", padding, data_format,
                              dilations);
}

}  // namespace convt::tensorflow
