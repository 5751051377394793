// convt/detail/geometry.hpp — a conv_transpose call resolved into canonical
// geometry: layout, feature counts, per-dimension sizes, padding, output shape.
// Everything the arguments can get wrong is rejected here, before any work.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>

#include "convt/dimension_numbers.hpp"
#include "convt/error.hpp"
#include "convt/options.hpp"
#include "convt/padding.hpp"

namespace convt::detail {

template <std::size_t Rank>
struct Geometry {
  static constexpr std::size_t S = Rank - 2;
  Layout<Rank> layout;
  std::array<index_t, Rank> lhs_shape{};
  std::array<index_t, Rank> rhs_shape{};
  std::array<index_t, Rank> out_shape{};
  index_t batch = 0;
  index_t in_features = 0;
  index_t out_features = 0;
  index_t groups = 1;     // feature_group_count
  index_t group_in = 0;   // in_features / groups
  index_t group_out = 0;  // out_features / groups
  bool transpose_kernel = false;
  bool periodic_input = false;        // options.periodic_input
  std::array<index_t, S> in{};        // lhs spatial extents
  std::array<index_t, S> kernel{};    // undilated kernel extents
  std::array<index_t, S> stride{};    // lhs dilation of the underlying conv
  std::array<index_t, S> dilation{};  // rhs dilation
  std::array<std::pair<index_t, index_t>, S> pad{};
  std::array<index_t, S> out{};  // output spatial extents
};

/// Extents >= 0, and the product of the extents (empty ones counted as 1)
/// within int64 — the rule TensorView and Tensor apply, so every shape
/// accepted here can also be viewed and allocated.
template <std::size_t Rank>
void check_operand_shape(const std::array<index_t, Rank>& shape, const char* name) {
  for (std::size_t i = 0; i < Rank; ++i) {
    if (shape[i] < 0) fail(name, " shape ", format_seq(shape), ": extent ", i, " is negative");
  }
  index_t p = 1;
  for (index_t e : shape) p = checked_mul(p, e > 0 ? e : 1, name);
}

/// The kernel's side of each spatial dimension: extents, strides,
/// dilations (validated) and the resolved padding.
template <std::size_t Rank>
void resolve_kernel_axes(Geometry<Rank>& g, const std::array<index_t, Rank>& rhs_shape,
                         const std::array<index_t, Rank - 2>& strides, const Padding& padding,
                         const ConvTransposeOptions<Rank - 2>& options) {
  constexpr std::size_t S = Rank - 2;
  std::array<index_t, S> dilated_kernel{};
  for (std::size_t d = 0; d < S; ++d) {
    const char letter = g.layout.spatial_letters[d];
    g.kernel[d] = rhs_shape[g.layout.rhs[2 + d]];
    g.stride[d] = strides[d];
    g.dilation[d] = options.rhs_dilation ? (*options.rhs_dilation)[d] : 1;
    if (g.stride[d] < 1) {
      fail("strides[", d, "] = ", g.stride[d], " (spatial axis '", letter, "'): strides must be >= 1");
    }
    if (g.dilation[d] < 1) {
      fail("rhs_dilation[", d, "] = ", g.dilation[d], " (spatial axis '", letter, "'): dilations must be >= 1");
    }
    dilated_kernel[d] = dilate_dim(g.kernel[d], g.dilation[d]);
  }
  g.pad = resolve_padding<S>(padding, options.use_consistent_padding, dilated_kernel, g.stride);
}

template <std::size_t Rank>
Geometry<Rank> resolve_geometry(const std::array<index_t, Rank>& lhs_shape, const std::array<index_t, Rank>& rhs_shape,
                                const std::array<index_t, Rank - 2>& strides, const Padding& padding,
                                const ConvTransposeOptions<Rank - 2>& options) {
  constexpr std::size_t S = Rank - 2;
  check_operand_shape(lhs_shape, "lhs");
  check_operand_shape(rhs_shape, "rhs");
  Geometry<Rank> g;
  g.layout = resolve_layout<Rank>(options.dimension_numbers);
  const Layout<Rank>& L = g.layout;
  g.lhs_shape = lhs_shape;
  g.rhs_shape = rhs_shape;
  g.transpose_kernel = options.transpose_kernel;
  g.periodic_input = options.periodic_input;
  g.batch = lhs_shape[L.lhs[0]];
  g.in_features = lhs_shape[L.lhs[1]];
  g.groups = options.feature_group_count;
  if (g.groups < 1) fail("feature_group_count = ", g.groups, ": must be >= 1");
  if (g.in_features % g.groups != 0) {
    fail("feature_group_count = ", g.groups, " does not divide the lhs features (axis 'C', position ", L.lhs[1],
         " of \"", L.names.lhs, "\", has ", g.in_features, "); each group takes C / feature_group_count of them");
  }
  // With transpose_kernel the kernel's O axis feeds the input features
  // (all C of them: the swap happens within each group).
  const std::size_t kin_axis = options.transpose_kernel ? L.rhs[0] : L.rhs[1];
  const std::size_t kout_axis = options.transpose_kernel ? L.rhs[1] : L.rhs[0];
  const index_t want_in = options.transpose_kernel ? g.in_features : g.in_features / g.groups;
  if (rhs_shape[kin_axis] != want_in) {
    if (g.groups == 1) {
      fail("feature mismatch: lhs axis 'C' (position ", L.lhs[1], " of \"", L.names.lhs, "\") has ", g.in_features,
           " but rhs axis '", options.transpose_kernel ? 'O' : 'I', "' (position ", kin_axis, " of \"", L.names.rhs,
           "\") has ", rhs_shape[kin_axis], options.transpose_kernel ? " (transpose_kernel=true swaps O and I)" : "",
           "; they must be equal");
    }
    fail("feature mismatch: lhs axis 'C' (position ", L.lhs[1], " of \"", L.names.lhs, "\") has ", g.in_features,
         " and feature_group_count = ", g.groups, ", so rhs axis '", options.transpose_kernel ? 'O' : 'I',
         "' (position ", kin_axis, " of \"", L.names.rhs, "\") must have ", want_in,
         options.transpose_kernel ? " (with transpose_kernel: all lhs features; O and I swap within each group)"
                                  : " (lhs features / feature_group_count)",
         " but has ", rhs_shape[kin_axis]);
  }
  if (options.transpose_kernel) {
    g.out_features = checked_mul(rhs_shape[kout_axis], g.groups, "output features");
  } else {
    g.out_features = rhs_shape[kout_axis];
    if (g.out_features % g.groups != 0) {
      fail("rhs axis 'O' (position ", kout_axis, " of \"", L.names.rhs, "\") has ", g.out_features,
           " output features, which feature_group_count = ", g.groups, " does not divide");
    }
  }
  // Without input features or kernel elements the output is all zeros
  // whatever the grouping, and a huge feature_group_count (any divides 0)
  // would make the plan hold that many empty kernels: compute one group.
  index_t rhs_elements = 1;
  for (index_t e : rhs_shape) rhs_elements = e == 0 ? 0 : rhs_elements;
  if (g.in_features == 0 || rhs_elements == 0) g.groups = 1;
  g.group_in = g.in_features / g.groups;
  g.group_out = g.out_features / g.groups;

  for (std::size_t d = 0; d < S; ++d) g.in[d] = lhs_shape[L.lhs[2 + d]];
  resolve_kernel_axes(g, rhs_shape, strides, padding, options);
  for (std::size_t d = 0; d < S; ++d) {
    const index_t dilated_in = dilate_dim(g.in[d], g.stride[d]);
    const index_t padded =
        checked_add(checked_add(dilated_in, g.pad[d].first, "padded input size"), g.pad[d].second, "padded input size");
    if (padded < 0) {
      fail("padding (", g.pad[d].first, ", ", g.pad[d].second, ") of spatial axis '", L.spatial_letters[d],
           "' (dimension ", d, "): the stride-dilated input has size ", dilated_in, " and the padding removes more (",
           dilated_in, " + ", g.pad[d].first, " + ", g.pad[d].second, " = ", padded, " < 0)");
    }
    const index_t span = padded - dilate_dim(g.kernel[d], g.dilation[d]);
    g.out[d] = span >= 0 ? checked_add(span, 1, "output size") : 0;
  }
  g.out_shape[L.out[0]] = g.batch;
  g.out_shape[L.out[1]] = g.out_features;
  for (std::size_t d = 0; d < S; ++d) g.out_shape[L.out[2 + d]] = g.out[d];
  check_operand_shape(g.out_shape, "output");
  return g;
}

/// The geometry of a kernel without an input shape (make_kernel): resolved
/// for a nominal input — one batch element, the input features the kernel
/// implies and spatial extents long enough that every phase has outputs —
/// with the same validation and messages as resolve_geometry.
template <std::size_t Rank>
Geometry<Rank> kernel_geometry(const std::array<index_t, Rank>& rhs_shape, const std::array<index_t, Rank - 2>& strides,
                               const Padding& padding, const ConvTransposeOptions<Rank - 2>& options) {
  constexpr std::size_t S = Rank - 2;
  check_operand_shape(rhs_shape, "rhs");
  Geometry<Rank> k;
  k.layout = resolve_layout<Rank>(options.dimension_numbers);
  const Layout<Rank>& L = k.layout;
  const index_t groups = options.feature_group_count;
  if (groups < 1) fail("feature_group_count = ", groups, ": must be >= 1");
  index_t features = 0;  // the input features the kernel takes
  if (options.transpose_kernel) {
    features = rhs_shape[L.rhs[0]];
    if (features % groups != 0) {
      fail("rhs axis 'O' (position ", L.rhs[0], " of \"", L.names.rhs, "\") has ", features,
           " entries: with transpose_kernel they are the input features, which feature_group_count = ", groups,
           " does not divide");
    }
  } else {
    features = checked_mul(rhs_shape[L.rhs[1]], groups, "input features");
  }
  resolve_kernel_axes(k, rhs_shape, strides, padding, options);
  std::array<index_t, Rank> lhs_shape{};
  lhs_shape[L.lhs[0]] = 1;
  lhs_shape[L.lhs[1]] = features;
  for (std::size_t d = 0; d < S; ++d) {
    // out = (in - 1)s + 1 + lo + hi - k' + 1 >= 2s: every phase has outputs.
    const index_t s = k.stride[d];
    const index_t dk = dilate_dim(k.kernel[d], k.dilation[d]);
    const index_t need = checked_sub(checked_sub(checked_add(checked_mul(2, s, "nominal input"), dk, "nominal input"),
                                                 k.pad[d].first, "nominal input"),
                                     k.pad[d].second, "nominal input");
    lhs_shape[L.lhs[2 + d]] = std::max<index_t>(1, need / s + 2);
  }
  return resolve_geometry<Rank>(lhs_shape, rhs_shape, strides, padding, options);
}

}  // namespace convt::detail
