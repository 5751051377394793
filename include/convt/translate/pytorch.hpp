// convt/translate/pytorch.hpp — torch.nn.ConvTranspose{1,2,3}d as a
// conv_transpose call.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "convt/translate/call.hpp"

namespace convt::pytorch {

/// `torch.nn.ConvTranspose{N}d(in_channels, out_channels, kernel_size,
/// stride=1, padding=0, output_padding=0, groups=1, bias=True, dilation=1)`,
/// fields in the constructor's order. Input (N, C, spatial...), weight
/// (in_channels, out_channels / groups, kernel...), bias (out_channels,).
/// PyTorch's activation modules are separate: set the call's
/// options.activation to fuse one (e.g. Activation::relu()).
template <std::size_t N>
struct ConvTranspose {
  index_t in_channels = 0;                                       ///< C of the input
  index_t out_channels = 0;                                      ///< C of the output
  std::array<index_t, N> kernel_size{};                          ///< kernel extents
  std::array<index_t, N> stride = detail::filled<N>(1);          ///< stride
  std::array<index_t, N> padding = detail::filled<N>(0);         ///< implicit zero padding (crops the output)
  std::array<index_t, N> output_padding = detail::filled<N>(0);  ///< extra output on the high side
  index_t groups = 1;                                            ///< feature groups
  bool bias = true;                                              ///< the layer adds a learned bias
  std::array<index_t, N> dilation = detail::filled<N>(1);        ///< kernel dilation
};

/// The conv_transpose call equal to the PyTorch layer (torch's output size:
/// (in − 1)·stride − 2·padding + dilation·(kernel − 1) + output_padding + 1,
/// which must be at least 1). Throws Error, in PyTorch's terms, on what
/// PyTorch rejects: here for the layer's arguments, when called for the
/// input, weight and bias.
template <std::size_t N>
ConvTransposeCall<N> conv_transpose(const ConvTranspose<N>& layer) {
  const std::string fw = "PyTorch ConvTranspose" + std::to_string(N) + "d";
  detail::check_positive(layer.stride, fw, "stride");
  detail::check_positive(layer.dilation, fw, "dilation");
  if (layer.in_channels < 1 || layer.out_channels < 1) {
    detail::fail(fw, ": in_channels = ", layer.in_channels, " and out_channels = ", layer.out_channels,
                 " must be positive");
  }
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
  std::array<index_t, N> add{};
  for (std::size_t d = 0; d < N; ++d) {
    if (layer.padding[d] < 0 || layer.output_padding[d] < 0 || layer.kernel_size[d] < 1) {
      detail::fail(fw, ": kernel_size must be >= 1 and padding, output_padding >= 0 (dimension ", d, ": ",
                   layer.kernel_size[d], ", ", layer.padding[d], ", ", layer.output_padding[d], ")");
    }
    if (layer.output_padding[d] >= std::max(layer.stride[d], layer.dilation[d])) {
      detail::fail(fw, ": output padding must be smaller than either stride or dilation (dimension ", d,
                   ": output_padding ", layer.output_padding[d], ", stride ", layer.stride[d], ", dilation ",
                   layer.dilation[d], ")");
    }
    const index_t dk = dilate_dim(layer.kernel_size[d], layer.dilation[d]);
    pads.push_back(detail::crop_to_pads(dk, layer.padding[d], layer.padding[d], layer.output_padding[d]));
    add[d] = detail::checked_add(
        detail::checked_sub(dk, detail::checked_mul(2, layer.padding[d], "padding"), "padding"),
        layer.output_padding[d], "padding");  // = dilation·(kernel − 1) + 1 − 2·padding + output_padding
  }
  call.padding = Padding::explicit_pads(std::move(pads));
  call.options.dimension_numbers = detail::channels_first<N>();
  call.options.rhs_dilation = layer.dilation;
  call.options.transpose_kernel = true;  // weight (in, out/groups, k...): a grouped conv's kernel, transposed
  call.options.feature_group_count = layer.groups;

  detail::LayerContract<N>& c = call.layer;
  c.layer = fw;
  c.input_layout = detail::layout_text<N>(true);
  c.input_channels = layer.in_channels;
  c.weight_shape[0] = layer.in_channels;
  c.weight_shape[1] = layer.out_channels / layer.groups;
  c.weight_axes[0] = "in_channels";
  c.weight_axes[1] = "out_channels / groups";
  for (std::size_t d = 0; d < N; ++d) {
    c.weight_shape[2 + d] = layer.kernel_size[d];
    c.weight_axes[2 + d] = "kernel_size[" + std::to_string(d) + "]";
  }
  c.bias = layer.bias;
  c.spatial_input_nonempty = true;
  c.output_add = add;
  c.output_formula = "(in - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1";
  return call;
}

}  // namespace convt::pytorch
