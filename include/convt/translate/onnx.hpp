// convt/translate/onnx.hpp — an ONNX ConvTranspose node (opset 11+) as a
// conv_transpose call, computing what onnxruntime computes.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "convt/translate/call.hpp"

namespace convt::onnx {

/// ONNX `ConvTranspose` attributes, named as in the operator spec; empty
/// vectors mean "absent" (the spec's defaults). X is (N, C, spatial...), W is
/// (C, M / group, kernel...), the optional input B is (M,).
template <std::size_t N>
struct ConvTranspose {
  std::string auto_pad = "NOTSET";        ///< NOTSET, SAME_UPPER, SAME_LOWER or VALID
  std::vector<index_t> dilations{};       ///< default 1
  index_t group = 1;                      ///< feature groups
  std::vector<index_t> kernel_shape{};    ///< default: W's spatial extents
  std::vector<index_t> output_padding{};  ///< default 0
  std::vector<index_t> output_shape{};    ///< spatial output extents (absent: from pads)
  std::vector<index_t> pads{};            ///< [x1_begin, x2_begin, ..., x1_end, x2_end], default 0
  std::vector<index_t> strides{};         ///< default 1
};

/// The conv_transpose call equal to the ONNX node for X of `x_shape` and W
/// of `w_shape`, with onnxruntime's rules where the spec's text and its
/// reference implementation leave room: with output_shape (whatever
/// auto_pad says) or SAME_* (output = input · stride) the total padding is
/// max(0, stride·(in − 1) + output_padding + dilated kernel − output), split
/// total/2 at the start for SAME_UPPER and total − total/2 at the start
/// otherwise; an explicit output_shape longer than the full result is reached
/// with zeros at the end (SAME_* keeps the full result), and must satisfy
/// onnxruntime's check floor((output + total − dilated kernel) / stride) + 1
/// == input. Pass the node's B, when it has one, as the call's third
/// argument.
template <std::size_t N>
ConvTransposeCall<N> conv_transpose(const ConvTranspose<N>& node, const std::array<index_t, N + 2>& x_shape,
                                    const std::array<index_t, N + 2>& w_shape, bool has_bias = false) {
  const std::string fw = "ONNX ConvTranspose";
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
    detail::fail(fw, ": X has ", x_shape[1], " channels (dimension 1 of (N, C, ...) = ", detail::format_seq(x_shape),
                 ") but W's first dimension has ", w_shape[0]);
  }
  if (x_shape[1] % node.group != 0) {
    detail::fail(fw, ": X has ", x_shape[1], " channels, which group = ", node.group, " does not divide");
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
    index_t extend = 0;  // zeros appended at the end (output_shape past the full result)
    const bool same = ap == "SAME_UPPER" || ap == "SAME_LOWER";
    if (!node.output_shape.empty() || same) {
      // onnxruntime: the total padding is clamped at 0; an explicit
      // output_shape past the full result is reached with zeros at the end,
      // SAME_*'s in * stride is not (the output stays the full result).
      const index_t full = detail::checked_add(
          detail::checked_add(detail::checked_mul(str[d], in - 1, "output shape"), opad[d], "output shape"), dk,
          "output shape");
      const index_t out =
          node.output_shape.empty() ? detail::checked_mul(in, str[d], "output shape") : node.output_shape[d];
      const index_t total = std::max<index_t>(0, full - out);
      if (!node.output_shape.empty()) {
        const index_t span = detail::checked_sub(detail::checked_add(out, total, "output shape"), dk, "output shape");
        const index_t expect = span < 0 ? 0 : span / str[d] + 1;
        if (expect != in) {
          detail::fail(fw, ": output_shape[", d, "] = ", out, " is inconsistent with input extent ", in,
                       " (onnxruntime expects input size ", expect, " for output_size ", out, ", kernel ", kshape[d],
                       ", stride ", str[d], ", dilation ", dil[d], ", output_padding ", opad[d], ")");
        }
        extend = std::max<index_t>(0, out - full);
      }
      begin = ap == "SAME_UPPER" ? total / 2 : total - total / 2;
      end = total - begin;
    } else if (ap == "VALID") {
      begin = end = 0;
    }
    if (begin < 0 || end < 0) detail::fail(fw, ": pads must be >= 0 (dimension ", d, ": ", begin, ", ", end, ")");
    const index_t extent = detail::checked_add(
        detail::checked_sub(detail::checked_add(detail::checked_add(detail::checked_mul(in - 1, str[d], "output shape"),
                                                                    dk, "output shape"),
                                                opad[d], "output shape"),
                            detail::checked_add(begin, end, "output shape"), "output shape"),
        extend, "output shape");
    if (extent < 1) {
      detail::fail(fw, ": computed output dimension is ", extent, " <= 0 for spatial dimension ", d, " (input ",
                   detail::format_seq(x_shape), "); onnxruntime rejects it");
    }
    auto jp = detail::crop_to_pads(dk, begin, end, opad[d]);
    jp.second = detail::checked_add(jp.second, extend, "padding");
    jax_pads.push_back(jp);
  }
  call.padding = Padding::explicit_pads(std::move(jax_pads));
  call.options.dimension_numbers = detail::channels_first<N>();
  call.options.rhs_dilation = std::array<index_t, N>{};
  for (std::size_t d = 0; d < N; ++d) (*call.options.rhs_dilation)[d] = dil[d];
  call.options.transpose_kernel = true;  // W (C, M/group, k...): as PyTorch's weight
  call.options.feature_group_count = node.group;

  detail::LayerContract<N>& c = call.layer;
  c.layer = fw;
  c.input_name = "X";
  c.input_layout = detail::layout_text<N>(true);
  c.input_channels = x_shape[1];
  c.input_channels_name = "W's first dimension";
  c.input_shape = x_shape;
  c.input_shape_fixed = true;
  c.weight_name = "W";
  c.weight_shape = w_shape;
  c.weight_axes[0] = "C";
  c.weight_axes[1] = "M / group";
  for (std::size_t d = 0; d < N; ++d) c.weight_axes[2 + d] = "kernel dimension " + std::to_string(d);
  c.bias = has_bias;
  c.bias_name = "B";
  return call;
}

}  // namespace convt::onnx
