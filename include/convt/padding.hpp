// convt/padding.hpp — JAX's conv_transpose conventions turned into a plain
// correlation: padding resolution ('SAME', 'VALID', explicit pairs,
// use_consistent_padding) and the kernel seen in canonical order, flipped
// for transpose_kernel.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>
#include <vector>

#include "convt/dimension_numbers.hpp"
#include "convt/error.hpp"
#include "convt/tensor.hpp"

namespace convt {

/// Padding argument of conv_transpose: 'SAME', 'VALID' or one (lo, hi) pair per
/// spatial dimension (negative values crop).
class Padding {
 public:
  /// Which of JAX's three padding forms this is.
  enum class Kind {
    Same,      ///< 'SAME': output extent = input extent x stride
    Valid,     ///< 'VALID': every kernel tap sees the whole dilated input
    Explicit,  ///< explicit (lo, hi) pairs
  };

  /// JAX's padding='SAME'.
  static Padding same() { return Padding(Kind::Same, {}); }
  /// JAX's padding='VALID'.
  static Padding valid() { return Padding(Kind::Valid, {}); }
  /// JAX's padding=[(lo, hi), ...]: one pair per spatial dimension, in rhs
  /// order; negative values crop.
  static Padding explicit_pads(std::vector<std::pair<index_t, index_t>> pads) {
    return Padding(Kind::Explicit, std::move(pads));
  }

  /// The form of this padding.
  Kind kind() const noexcept { return kind_; }
  /// The explicit pairs (empty for SAME and VALID).
  const std::vector<std::pair<index_t, index_t>>& pads() const noexcept { return pads_; }

 private:
  Padding(Kind kind, std::vector<std::pair<index_t, index_t>> pads) : kind_(kind), pads_(std::move(pads)) {}
  Kind kind_;
  std::vector<std::pair<index_t, index_t>> pads_;
};

/// Size of a dimension of extent `d` after dilation by `r` (r - 1 zeros
/// between neighbours): 0 for an empty dimension, else 1 + r * (d - 1).
inline index_t dilate_dim(index_t d, index_t r) {
  return d == 0 ? 0 : detail::checked_add(1, detail::checked_mul(r, d - 1, "dilated size"), "dilated size");
}

/// How padding_for_output_shape places the padding: TensorFlow's rule for
/// `conv_transpose(..., output_shape, padding=...)`.
enum class OutputShapeRule {
  /// 'SAME': the forward convolution of the requested output reproduces the
  /// input with SAME padding: ceil(out / stride) == in.
  Same,
  /// 'VALID': ... with no padding: ceil((out - k + 1) / stride) == in.
  Valid,
};

namespace detail {

/// padding_for_output_shape, with `who` naming the caller in errors.
template <std::size_t N>
Padding output_shape_padding(const std::array<index_t, N>& in, const std::array<index_t, N>& kernel,
                             const std::array<index_t, N>& strides, const std::array<index_t, N>& out,
                             const std::array<index_t, N>& rhs_dilation, OutputShapeRule rule, const char* who) {
  std::vector<std::pair<index_t, index_t>> pads;
  for (std::size_t d = 0; d < N; ++d) {
    if (in[d] < 0 || kernel[d] < 0 || out[d] < 0) {
      fail(who, ": dimension ", d, ": extents must be >= 0 (in ", in[d], ", kernel ", kernel[d], ", output ", out[d],
           ")");
    }
    if (strides[d] < 1 || rhs_dilation[d] < 1) {
      fail(who, ": dimension ", d, ": stride ", strides[d], " and dilation ", rhs_dilation[d], " must be >= 1");
    }
    const index_t s = strides[d];
    const index_t dk = dilate_dim(kernel[d], rhs_dilation[d]);
    const index_t base = in[d] == 0 ? 0 : checked_mul(in[d] - 1, s, "output shape");  // (in-1)·s
    // The requested output is valid iff the forward convolution of an input
    // of extent out[d] has extent in[d] under the rule.
    index_t lo_forward = 0;
    if (rule == OutputShapeRule::Same) {
      const index_t first = in[d] == 0 ? 0 : checked_add(base, 1, "output shape");
      const index_t last = checked_mul(in[d], s, "output shape");
      if (out[d] < first || out[d] > last) {
        fail(who, ": output extent ", out[d], " in spatial dimension ", d, ": with input extent ", in[d],
             " and stride ", s, " TensorFlow's SAME rule needs ceil(output / stride) == input, i.e. an output in [",
             first, ", ", last, "]");
      }
      const index_t total = std::max<index_t>(checked_sub(checked_add(base, dk, "padding"), out[d], "padding"), 0);
      lo_forward = total / 2;
    } else {
      const index_t first = in[d] == 0 ? 0 : checked_add(base, dk, "output shape");
      const index_t last = in[d] == 0 ? 0 : checked_sub(checked_add(first, s, "output shape"), 1, "output shape");
      if (out[d] < first || out[d] > last) {
        fail(who, ": output extent ", out[d], " in spatial dimension ", d, ": with input extent ", in[d], ", stride ",
             s, " and dilated kernel ", dk,
             " TensorFlow's VALID rule needs ceil((output - kernel + 1) / stride) == input, i.e. an output in [", first,
             ", ", last, "]");
      }
    }
    // lo: the forward padding seen from the transposed side; hi: whatever
    // makes the extent exactly out[d] (dilated input + lo + hi - dk + 1).
    const index_t lo = checked_sub(dk - 1, lo_forward, "padding");
    const index_t dilated_in = dilate_dim(in[d], s);
    const index_t reach = checked_sub(checked_add(out[d], dk - 1, "padding"), dilated_in, "padding");
    const index_t hi = checked_sub(reach, lo, "padding");
    pads.emplace_back(lo, hi);
  }
  return Padding::explicit_pads(std::move(pads));
}

}  // namespace detail

/// The explicit (lo, hi) pads (JAX's convention, for conv_transpose without
/// use_consistent_padding) that make conv_transpose's output spatial extents
/// exactly `out` — the `output_shape` argument TensorFlow has and JAX lacks.
/// All arrays are per spatial dimension in rhs order; `kernel` is undilated.
/// Throws Error when `out[d]` is not reachable from `in[d]` under `rule`: SAME
/// needs (in−1)·s < out ≤ in·s, VALID needs (in−1)·s + k' ≤ out < in·s + k'
/// (k' the dilated kernel). Within that range the forward padding is split as
/// TensorFlow splits it (the odd element at the end).
template <std::size_t N>
Padding padding_for_output_shape(const std::array<index_t, N>& in, const std::array<index_t, N>& kernel,
                                 const std::array<index_t, N>& strides, const std::array<index_t, N>& out,
                                 const std::array<index_t, N>& rhs_dilation,
                                 OutputShapeRule rule = OutputShapeRule::Same) {
  return detail::output_shape_padding(in, kernel, strides, out, rhs_dilation, rule, "padding_for_output_shape");
}

/// padding_for_output_shape without kernel dilation.
template <std::size_t N>
Padding padding_for_output_shape(const std::array<index_t, N>& in, const std::array<index_t, N>& kernel,
                                 const std::array<index_t, N>& strides, const std::array<index_t, N>& out,
                                 OutputShapeRule rule = OutputShapeRule::Same) {
  std::array<index_t, N> ones{};
  ones.fill(1);
  return padding_for_output_shape(in, kernel, strides, out, ones, rule);
}

namespace detail {
template <std::size_t N>
std::array<index_t, N> to_std_array(const index_t (&a)[N]) {
  std::array<index_t, N> r{};
  for (std::size_t i = 0; i < N; ++i) r[i] = a[i];
  return r;
}
}  // namespace detail

/// padding_for_output_shape with braced lists: ({8, 8}, {3, 3}, {2, 2},
/// {16, 16}[, {1, 1}][, rule]); every list has one value per spatial
/// dimension.
template <std::size_t N>
Padding padding_for_output_shape(const index_t (&in)[N], const index_t (&kernel)[N], const index_t (&strides)[N],
                                 const index_t (&out)[N], OutputShapeRule rule = OutputShapeRule::Same) {
  return padding_for_output_shape(detail::to_std_array(in), detail::to_std_array(kernel), detail::to_std_array(strides),
                                  detail::to_std_array(out), rule);
}
/// padding_for_output_shape with braced lists and kernel dilation.
template <std::size_t N>
Padding padding_for_output_shape(const index_t (&in)[N], const index_t (&kernel)[N], const index_t (&strides)[N],
                                 const index_t (&out)[N], const index_t (&rhs_dilation)[N],
                                 OutputShapeRule rule = OutputShapeRule::Same) {
  return padding_for_output_shape(detail::to_std_array(in), detail::to_std_array(kernel), detail::to_std_array(strides),
                                  detail::to_std_array(out), detail::to_std_array(rhs_dilation), rule);
}

namespace detail {

/// JAX's `_conv_transpose_padding` for one dimension; `k` is the dilated
/// kernel size, `s` the stride.
inline std::pair<index_t, index_t> transpose_padding(Padding::Kind kind, index_t k, index_t s) {
  // Values come from validated shapes, strides and dilations, but may be huge:
  // every step is checked.
  index_t pad_len = checked_sub(checked_add(k, s, "padding"), 2, "padding");
  index_t pad_a = 0;
  if (kind == Padding::Kind::Same) {
    pad_a = s > k - 1 ? k - 1 : pad_len / 2 + pad_len % 2;  // ceil(pad_len / 2); pad_len > 0 here
  } else {
    if (k > s) pad_len = checked_add(pad_len, k - s, "padding");
    pad_a = k - 1;
  }
  return {pad_a, pad_len - pad_a};
}

/// Resolves the padding argument into one (lo, hi) pair per spatial dimension
/// of the transposed convolution. `dilated_kernel[d]` is the dilated kernel
/// size; explicit pairs under `use_consistent_padding` are forward-conv
/// padding and become (k - lo - 1, k - hi - 1) (PyTorch's convention).
template <std::size_t S>
std::array<std::pair<index_t, index_t>, S> resolve_padding(const Padding& padding, bool use_consistent_padding,
                                                           const std::array<index_t, S>& dilated_kernel,
                                                           const std::array<index_t, S>& strides) {
  std::array<std::pair<index_t, index_t>, S> out{};
  if (padding.kind() != Padding::Kind::Explicit) {
    for (std::size_t d = 0; d < S; ++d) out[d] = transpose_padding(padding.kind(), dilated_kernel[d], strides[d]);
    return out;
  }
  if (padding.pads().size() != S) {
    fail("padding: got ", padding.pads().size(), " explicit (lo, hi) pairs but the problem has ", S,
         " spatial dimension(s); give exactly one pair per spatial dimension");
  }
  for (std::size_t d = 0; d < S; ++d) {
    const auto [lo, hi] = padding.pads()[d];
    if (use_consistent_padding) {
      const index_t k1 = dilated_kernel[d] - 1;
      out[d] = {checked_sub(k1, lo, "padding"), checked_sub(k1, hi, "padding")};
    } else {
      out[d] = {lo, hi};
    }
  }
  return out;
}

/// A strided description of the kernel in canonical order [O, I, k_0, ...]:
/// element (o, i, k...) lives at base + sum(index * stride). Flipping is a
/// negative stride and a moved base, so no kernel copy is made here.
template <std::size_t Rank>
struct CanonicalKernel {
  std::array<index_t, Rank> extent{};
  std::array<index_t, Rank> stride{};
  index_t base_offset = 0;
};

/// transpose_kernel: flip every spatial axis and swap O and I, as JAX's
/// `_flip_axes` + `swapaxes` (Keras Conv*DTranspose / gradient of conv).
template <std::size_t Rank>
CanonicalKernel<Rank> flip_kernel(CanonicalKernel<Rank> k) {
  for (std::size_t d = 2; d < Rank; ++d) {
    if (k.extent[d] > 0) k.base_offset += (k.extent[d] - 1) * k.stride[d];
    k.stride[d] = -k.stride[d];
  }
  std::swap(k.extent[0], k.extent[1]);
  std::swap(k.stride[0], k.stride[1]);
  return k;
}

/// The kernel in canonical [O, I, k...] order as a strided view (flipped and
/// O/I-swapped through strides when transpose_kernel is set).
template <std::size_t Rank, class R>
CanonicalKernel<Rank> canonical_kernel(const TensorView<const R, Rank>& rhs, const Layout<Rank>& layout,
                                       bool transpose_kernel) {
  CanonicalKernel<Rank> k;
  for (std::size_t i = 0; i < Rank; ++i) {
    k.extent[i] = rhs.shape()[layout.rhs[i]];
    k.stride[i] = rhs.strides()[layout.rhs[i]];
  }
  return transpose_kernel ? flip_kernel(k) : k;
}

}  // namespace detail
}  // namespace convt
