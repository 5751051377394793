// convt/conv_transpose.hpp — the public entry points. The rank is a template
// parameter: every loop over spatial dimensions below is over a
// std::array<_, Rank - 2> and unrolls per rank at compile time.
#pragma once

#include <array>
#include <cstddef>
#include <type_traits>

#include "convt/detail/geometry.hpp"
#include "convt/detail/view_checks.hpp"
#include "convt/options.hpp"
#include "convt/padding.hpp"
#include "convt/plan.hpp"
#include "convt/tensor.hpp"

namespace convt {

/// Output shape of conv_transpose for these shapes and arguments (validates
/// them exactly as conv_transpose does).
template <std::size_t Rank>
std::array<index_t, Rank> conv_transpose_shape(const std::array<index_t, Rank>& lhs_shape,
                                               const std::array<index_t, Rank>& rhs_shape,
                                               const std::array<index_t, Rank - 2>& strides, const Padding& padding,
                                               const ConvTransposeOptions<Rank - 2>& options = {}) {
  return detail::resolve_geometry<Rank>(lhs_shape, rhs_shape, strides, padding, options).out_shape;
}

/// `jax.lax.conv_transpose(lhs, rhs, strides, padding, ...)` into a new
/// row-major tensor of the result type (Out, or the input type).
template <class Out = void, class L, class R, std::size_t Rank>
Tensor<detail::result_t<std::remove_const_t<L>, Out>, Rank> conv_transpose(
    TensorView<L, Rank> lhs, TensorView<R, Rank> rhs, const std::array<index_t, Rank - 2>& strides,
    const Padding& padding, const ConvTransposeOptions<Rank - 2>& options = {}) {
  static_assert(std::is_same_v<std::remove_const_t<L>, std::remove_const_t<R>>,
                "convt::conv_transpose: lhs and rhs must have the same element type (as in JAX)");
  // The plan is bounded by the kernel; the output it allocates is checked
  // (a result too large to allocate is an Error) before any computation.
  return make_plan<Out>(rhs, lhs.shape(), strides, padding, options)(lhs);
}

/// As conv_transpose, writing into `out` (any strides; the shape must equal
/// conv_transpose_shape). Nothing is written when an Error is thrown.
template <class Out, class L, class R, std::size_t Rank>
void conv_transpose_into(TensorView<Out, Rank> out, TensorView<L, Rank> lhs, TensorView<R, Rank> rhs,
                         const std::array<index_t, Rank - 2>& strides, const Padding& padding,
                         const ConvTransposeOptions<Rank - 2>& options = {}) {
  static_assert(std::is_same_v<std::remove_const_t<L>, std::remove_const_t<R>>,
                "convt::conv_transpose_into: lhs and rhs must have the same element type (as in JAX)");
  static_assert(!std::is_const_v<Out>, "convt::conv_transpose_into: out must be writable");
  detail::check_no_overlap(out, rhs, "rhs");
  const auto plan = make_plan<Out>(rhs, lhs.shape(), strides, padding, options);
  plan.run(lhs, out);
}

}  // namespace convt
