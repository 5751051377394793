// convt/translate/keras.hpp — keras.layers.Conv{1,2,3}DTranspose (Keras 3)
// as a conv_transpose call, on the TensorFlow or the JAX backend.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "convt/translate/call.hpp"
#include "convt/translate/tensorflow.hpp"

namespace convt::keras {

/// The Keras backend whose computation to reproduce. Both give the same
/// values where both compute; the TensorFlow backend rejects some 'same'
/// layers with an explicit output_padding (TensorFlow's output_shape rule)
/// that the JAX backend computes with its own padding formula.
enum class Backend { TensorFlow, Jax };

/// `keras.layers.Conv{N}DTranspose(filters, kernel_size, strides=1,
/// padding='valid', output_padding=None, data_format=None, dilation_rate=1,
/// activation=None, use_bias=True)`, fields in the constructor's order.
/// The kernel is Keras's (kernel..., filters, input_channels), the bias
/// (filters,). data_format "channels_last" (default) or "channels_first".
template <std::size_t N>
struct ConvTranspose {
  index_t filters = 0;                                          ///< output channels
  std::array<index_t, N> kernel_size{};                         ///< kernel extents
  std::array<index_t, N> strides = detail::filled<N>(1);        ///< strides
  std::string padding = "valid";                                ///< "valid" or "same"
  std::optional<std::array<index_t, N>> output_padding{};       ///< None, or per dimension
  std::string data_format = "channels_last";                    ///< or "channels_first"
  std::array<index_t, N> dilation_rate = detail::filled<N>(1);  ///< kernel dilation
  std::string activation =
      "linear";          ///< Keras's name: linear (None), relu, relu6, leaky_relu, tanh, sigmoid, gelu, silu/swish
  bool use_bias = true;  ///< the layer adds a learned bias
};

/// Keras's output length (keras.src.backend.common.backend_utils, as Keras
/// 3 computes the output_shape it passes to TensorFlow).
inline index_t deconv_output_length(index_t input_length, index_t kernel, const std::string& padding,
                                    std::optional<index_t> output_padding, index_t stride, index_t dilation) {
  const index_t dk = dilate_dim(kernel, dilation);
  if (padding == "valid") {
    const index_t op = output_padding ? *output_padding : std::max(dk, stride) - dk;
    return (input_length - 1) * stride + dk + op;
  }
  if (!output_padding) return input_length * stride;  // "same"
  return (input_length - 1) * stride + dk % 2 + *output_padding;
}

/// The activation a Keras activation name fuses as.
inline Activation activation_of(const std::string& name, const std::string& layer) {
  if (name.empty() || name == "linear" || name == "None") return Activation::none();
  if (name == "relu") return Activation::relu();
  if (name == "relu6") return Activation::clamp(0, 6);
  if (name == "leaky_relu") return Activation::leaky_relu(0.2);  // keras.activations.leaky_relu's default slope
  if (name == "tanh") return Activation::tanh();
  if (name == "sigmoid") return Activation::sigmoid();
  if (name == "gelu") return Activation::gelu();  // approximate=False
  if (name == "silu" || name == "swish") return Activation::silu();
  detail::fail(layer, ": activation '", name,
               "' is not one convt fuses (linear, relu, relu6, leaky_relu, tanh, sigmoid, gelu, silu, swish); "
               "translate the layer with activation 'linear' and apply it to the result");
}

/// The conv_transpose call equal to the Keras layer on inputs of
/// `input_shape`, on `backend`: the TensorFlow backend computes the output
/// shape and calls tf.nn.conv_transpose with it (so does this, with
/// TensorFlow's rules); the JAX backend calls jax.lax.conv_transpose with
/// Keras's own padding. Keras's kernel (k..., filters, in) is TensorFlow's
/// filters layout.
template <std::size_t N>
ConvTransposeCall<N> conv_transpose(const ConvTranspose<N>& layer, const std::array<index_t, N + 2>& input_shape,
                                    Backend backend = Backend::TensorFlow) {
  const std::string fw = "Keras Conv" + std::to_string(N) + "DTranspose";
  if (layer.padding != "valid" && layer.padding != "same") {
    detail::fail(fw, ": padding \"", layer.padding, "\" must be \"valid\" or \"same\"");
  }
  const bool first = layer.data_format == "channels_first";
  if (!first && layer.data_format != "channels_last") {
    detail::fail(fw, ": data_format \"", layer.data_format, "\" must be \"channels_last\" or \"channels_first\"");
  }
  if (layer.filters < 1) detail::fail(fw, ": filters = ", layer.filters, "; Expected a strictly positive value");
  for (std::size_t d = 0; d < N; ++d) {
    if (layer.kernel_size[d] < 1) detail::fail(fw, ": kernel_size[", d, "] = ", layer.kernel_size[d], "; cannot be 0");
  }
  detail::check_positive(layer.strides, fw, "strides");
  detail::check_positive(layer.dilation_rate, fw, "dilation_rate");
  bool strided = false, dilated = false;
  for (std::size_t d = 0; d < N; ++d) {
    strided = strided || layer.strides[d] > 1;
    dilated = dilated || layer.dilation_rate[d] > 1;
  }
  if (strided && dilated) {
    detail::fail(fw, ": `strides > 1` not supported in conjunction with `dilation_rate > 1` (strides ",
                 detail::format_seq(layer.strides), ", dilation_rate ", detail::format_seq(layer.dilation_rate), ")");
  }
  if (layer.output_padding) {
    for (std::size_t d = 0; d < N; ++d) {
      const index_t op = (*layer.output_padding)[d];
      if (op < 0 || op >= layer.strides[d]) {
        detail::fail(fw, ": `output_padding` must be strictly less than `strides` (dimension ", d, ": output_padding ",
                     op, ", stride ", layer.strides[d], ")");
      }
    }
  }
  const Activation activation = activation_of(layer.activation, fw);
  const std::size_t c_axis = first ? 1 : N + 1;
  const std::size_t sp0 = first ? 2 : 1;
  std::array<index_t, N + 2> filters_shape{}, output_shape{};
  output_shape[0] = input_shape[0];
  output_shape[c_axis] = layer.filters;
  for (std::size_t d = 0; d < N; ++d) {
    filters_shape[d] = layer.kernel_size[d];
    output_shape[sp0 + d] =
        deconv_output_length(input_shape[sp0 + d], layer.kernel_size[d], layer.padding,
                             layer.output_padding ? std::optional<index_t>((*layer.output_padding)[d]) : std::nullopt,
                             layer.strides[d], layer.dilation_rate[d]);
  }
  filters_shape[N] = layer.filters;
  filters_shape[N + 1] = input_shape[c_axis];
  // The TensorFlow backend: TensorFlow's own call for Keras's output_shape.
  // The JAX backend: the same layout and kernel, explicit JAX pads
  // (backend_utils._convert_conv_transpose_padding_args_from_keras_to_jax);
  // its padding does not depend on the input shape.
  ConvTransposeCall<N> call;
  if (backend == Backend::TensorFlow) {
    call = tensorflow::conv_transpose<N>(input_shape, filters_shape, output_shape, layer.strides,
                                         layer.padding == "same" ? "SAME" : "VALID",
                                         tensorflow::detail::data_format_name<N>(first), layer.dilation_rate);
  } else {
    call.strides = layer.strides;
    tensorflow::detail::layout_call<N>(call, fw, input_shape, filters_shape, first, layer.dilation_rate);
    call.layer.input_shape_fixed = false;  // the JAX backend's padding does not depend on the input shape
    std::vector<std::pair<index_t, index_t>> pads;
    for (std::size_t d = 0; d < N; ++d) {
      const index_t dk = dilate_dim(layer.kernel_size[d], layer.dilation_rate[d]);
      const index_t s = layer.strides[d];
      if (layer.padding == "valid") {
        const index_t op = layer.output_padding ? (*layer.output_padding)[d] : std::max(dk, s) - dk;
        pads.emplace_back(dk - 1, dk - 1 + op);
      } else {
        const index_t pad_len = layer.output_padding ? dk + dk % 2 - 2 + (*layer.output_padding)[d] : s + dk - 2;
        const index_t left = std::min(pad_len / 2 + pad_len % 2, dk - 1);
        pads.emplace_back(left, pad_len - left);
      }
    }
    call.padding = Padding::explicit_pads(std::move(pads));
  }
  call.options.activation = activation;
  call.layer.layer = fw + (backend == Backend::Jax ? " (JAX backend)" : "");
  call.layer.input_name = "inputs";
  call.layer.input_channels_name = "the channels the layer was built for";
  call.layer.weight_name = "kernel";
  call.layer.weight_axes[N] = "filters";
  call.layer.weight_axes[N + 1] = "input channels";
  call.layer.bias = layer.use_bias;
  return call;
}

}  // namespace convt::keras
