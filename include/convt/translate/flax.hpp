// convt/translate/flax.hpp — flax.linen.ConvTranspose and
// flax.nnx.ConvTranspose as a conv_transpose call.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "convt/translate/call.hpp"

namespace convt::flax {

/// Flax's padding argument: 'SAME', 'VALID' or 'CIRCULAR'; one int for
/// every side; or one (low, high) pair per spatial dimension (an int in the
/// sequence pads both sides).
class Padding {
 public:
  /// 'SAME', 'VALID' or 'CIRCULAR'.
  Padding(const char* name) : value_(std::string(name)) {}  // NOLINT(google-explicit-constructor)
  /// 'SAME', 'VALID' or 'CIRCULAR'.
  Padding(std::string name) : value_(std::move(name)) {}  // NOLINT(google-explicit-constructor)
  /// The same padding on both sides of every spatial dimension.
  Padding(index_t all) : value_(all) {}  // NOLINT(google-explicit-constructor)
  /// One (low, high) pair per spatial dimension.
  Padding(std::vector<std::pair<index_t, index_t>> pairs) : value_(std::move(pairs)) {}  // NOLINT

  /// The string form, or empty.
  std::string name() const { return std::holds_alternative<std::string>(value_) ? std::get<std::string>(value_) : ""; }
  /// The (low, high) pairs for `n` spatial dimensions (empty for a string).
  std::vector<std::pair<index_t, index_t>> pairs(std::size_t n) const {
    if (std::holds_alternative<index_t>(value_)) {
      const index_t p = std::get<index_t>(value_);
      return std::vector<std::pair<index_t, index_t>>(n, {p, p});
    }
    if (std::holds_alternative<std::vector<std::pair<index_t, index_t>>>(value_)) {
      return std::get<std::vector<std::pair<index_t, index_t>>>(value_);
    }
    return {};
  }

 private:
  std::variant<std::string, index_t, std::vector<std::pair<index_t, index_t>>> value_;
};

/// `flax.linen.ConvTranspose(features, kernel_size, strides=None,
/// padding='SAME', kernel_dilation=None, use_bias=True, ...,
/// transpose_kernel=False)` (flax.nnx.ConvTranspose(in_features, features,
/// ...) alike). Inputs are channels-last (N, spatial..., C); the kernel is
/// (kernel..., in_features, features), or (kernel..., features, in_features)
/// with transpose_kernel; the bias is (features,).
template <std::size_t N>
struct ConvTranspose {
  index_t features = 0;                                           ///< output features
  std::array<index_t, N> kernel_size{};                           ///< kernel extents
  std::array<index_t, N> strides = detail::filled<N>(1);          ///< strides
  Padding padding = "SAME";                                       ///< see Padding
  std::array<index_t, N> kernel_dilation = detail::filled<N>(1);  ///< kernel dilation
  bool use_bias = true;                                           ///< the layer adds a learned bias
  bool transpose_kernel = false;                                  ///< flip and swap the kernel first
};

namespace detail {

template <std::size_t N>
ConvTransposeCall<N> flax_call(const ConvTranspose<N>& layer, index_t in_features, const std::string& fw) {
  convt::detail::check_positive(layer.strides, fw, "strides");
  convt::detail::check_positive(layer.kernel_dilation, fw, "kernel_dilation");
  if (layer.features < 1) convt::detail::fail(fw, ": features = ", layer.features, " must be positive");
  ConvTransposeCall<N> call;
  call.strides = layer.strides;
  const std::string name = layer.padding.name();
  if (name == "SAME") {
    call.padding = convt::Padding::same();
  } else if (name == "VALID") {
    call.padding = convt::Padding::valid();
  } else if (name == "CIRCULAR") {
    // The pads depend on the input's extents: conv_transpose(layer,
    // input_shape) sets them (circular_pads).
    call.options.periodic_input = true;
  } else if (!name.empty()) {
    convt::detail::fail(fw, ": padding '", name, "' must be 'SAME', 'VALID', 'CIRCULAR', an int or (low, high) pairs");
  } else {
    const auto pairs = layer.padding.pairs(N);
    if (pairs.size() != N) {
      convt::detail::fail(fw, ": padding has ", pairs.size(), " (low, high) pairs; expected ", N,
                          " (one per spatial dimension)");
    }
    call.padding = convt::Padding::explicit_pads(pairs);
  }
  call.options.dimension_numbers = convt::detail::channels_last<N>();
  call.options.rhs_dilation = layer.kernel_dilation;
  call.options.transpose_kernel = layer.transpose_kernel;

  convt::detail::LayerContract<N>& c = call.layer;
  c.layer = fw;
  c.input_name = "inputs";
  c.input_layout = convt::detail::layout_text<N>(false);
  c.input_channel_axis = N + 1;
  c.input_channels = in_features;
  c.input_channels_name = "in_features";
  c.weight_name = "kernel";
  for (std::size_t d = 0; d < N; ++d) {
    c.weight_shape[d] = layer.kernel_size[d];
    c.weight_axes[d] = "kernel_size[" + std::to_string(d) + "]";
  }
  c.weight_shape[N] = layer.transpose_kernel ? layer.features : in_features;
  c.weight_shape[N + 1] = layer.transpose_kernel ? in_features : layer.features;
  c.weight_axes[N] = layer.transpose_kernel ? "features" : "in_features";
  c.weight_axes[N + 1] = layer.transpose_kernel ? "in_features" : "features";
  c.bias = layer.use_bias;
  return call;
}

}  // namespace detail

/// The conv_transpose call equal to the Flax layer on inputs of
/// `in_features` channels (any spatial extents; not for 'CIRCULAR', whose
/// pads depend on them: use the input_shape form). Flax calls jax.lax.conv_transpose with the
/// padding as given; 'CIRCULAR' is jax.lax.conv_transpose with 'VALID'
/// whose result Flax wraps around to input · stride per dimension — here the
/// input wraps instead (options.periodic_input) with explicit pads that give
/// the same output positions, so the sum is computed once, without the
/// longer intermediate result.
template <std::size_t N>
ConvTransposeCall<N> conv_transpose(const ConvTranspose<N>& layer, index_t in_features) {
  const std::string fw = "Flax ConvTranspose";
  if (layer.padding.name() == "CIRCULAR") {
    convt::detail::fail(fw,
                        ": padding 'CIRCULAR' depends on the input's spatial extents: translate the layer with "
                        "conv_transpose(layer, input_shape)");
  }
  return detail::flax_call<N>(layer, in_features, fw);
}

/// The explicit pads a 'CIRCULAR' call needs for inputs of spatial extents
/// `in` (Flax's left pad a of the wrapped result: size_diff = -(Y - P) mod 2P
/// with Y the VALID output length and P = in * s; a = size_diff // 2 with
/// transpose_kernel, (size_diff + 1) // 2 without).
template <std::size_t N>
convt::Padding circular_pads(const ConvTranspose<N>& layer, const std::array<index_t, N>& in) {
  std::vector<std::pair<index_t, index_t>> pads;
  for (std::size_t d = 0; d < N; ++d) {
    const index_t s = layer.strides[d];
    const index_t dk = dilate_dim(layer.kernel_size[d], layer.kernel_dilation[d]);
    const index_t period = convt::detail::checked_mul(in[d], s, "circular period");
    const index_t valid = convt::detail::checked_add(convt::detail::checked_mul(in[d], s, "output size"),
                                                     std::max<index_t>(dk - s, 0), "output size");  // JAX VALID
    const index_t size_diff = period == 0 ? 0 : convt::detail::floor_mod(-(valid - period), 2 * period);
    const index_t a = layer.transpose_kernel ? size_diff / 2 : (size_diff + 1) / 2;
    const index_t lo = convt::detail::checked_add(dk - 1, a, "padding");
    // P outputs: (in - 1)s + 1 + lo + hi - k' + 1 = P.
    const index_t hi =
        convt::detail::checked_sub(convt::detail::checked_sub(convt::detail::checked_add(period, dk - 1, "padding"),
                                                              dilate_dim(in[d], s), "padding"),
                                   lo, "padding");
    pads.emplace_back(lo, hi);
  }
  return convt::Padding::explicit_pads(std::move(pads));
}

/// The call for a layer on inputs of `input_shape` (N, spatial..., C): with
/// 'CIRCULAR' padding the only form, since its pads depend on the input's
/// extents; for other paddings the same as conv_transpose(layer, C).
template <std::size_t N>
ConvTransposeCall<N> conv_transpose(const ConvTranspose<N>& layer, const std::array<index_t, N + 2>& input_shape) {
  ConvTransposeCall<N> call = detail::flax_call<N>(layer, input_shape[N + 1], "Flax ConvTranspose");
  if (call.options.periodic_input) {
    std::array<index_t, N> in{};
    for (std::size_t d = 0; d < N; ++d) in[d] = input_shape[1 + d];
    call.padding = circular_pads(layer, in);
    call.layer.input_shape = input_shape;
    call.layer.input_shape_fixed = true;
  }
  return call;
}

}  // namespace convt::flax
