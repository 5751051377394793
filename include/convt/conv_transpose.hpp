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
/// row-major tensor of the result type (Out, or the input type). `lhs` and
/// `rhs` are TensorViews or Tensors (see `convt::view` in convt/eigen.hpp for
/// Eigen tensors).
template <class Out = void, class L, class R, class LV = detail::view_t<const L>, class RV = detail::view_t<const R>>
Tensor<detail::result_t<typename LV::value_type, Out>, LV::rank()> conv_transpose(
    const L& lhs, const R& rhs, const std::array<index_t, LV::rank() - 2>& strides, const Padding& padding,
    const ConvTransposeOptions<LV::rank() - 2>& options = {}) {
  static_assert(LV::rank() == RV::rank(), "convt::conv_transpose: lhs and rhs must have the same rank");
  static_assert(std::is_same_v<typename LV::value_type, typename RV::value_type>,
                "convt::conv_transpose: lhs and rhs must have the same element type (as in JAX)");
  const auto lhs_view = as_view(lhs);
  // The plan is bounded by the kernel; the output it allocates is checked
  // (a result too large to allocate is an Error) before any computation.
  return make_plan<Out>(as_view(rhs), lhs_view.shape(), strides, padding, options)(lhs_view);
}

/// As conv_transpose, writing into `out` (a TensorView with any strides, or a
/// Tensor; the shape must equal conv_transpose_shape). Nothing is written when
/// an Error is thrown.
template <class O, class L, class R, class OV = detail::view_t<O>, class LV = detail::view_t<const L>,
          class RV = detail::view_t<const R>>
void conv_transpose_into(O&& out, const L& lhs, const R& rhs, const std::array<index_t, LV::rank() - 2>& strides,
                         const Padding& padding, const ConvTransposeOptions<LV::rank() - 2>& options = {}) {
  static_assert(LV::rank() == RV::rank() && OV::rank() == LV::rank(),
                "convt::conv_transpose_into: out, lhs and rhs must have the same rank");
  static_assert(std::is_same_v<typename LV::value_type, typename RV::value_type>,
                "convt::conv_transpose_into: lhs and rhs must have the same element type (as in JAX)");
  static_assert(!std::is_const_v<typename OV::element_type>, "convt::conv_transpose_into: out must be writable");
  const auto out_view = as_view(out);
  const auto rhs_view = as_view(rhs);
  detail::check_no_overlap(out_view, rhs_view, "rhs");
  const auto plan = make_plan<typename OV::value_type>(rhs_view, as_view(lhs).shape(), strides, padding, options);
  plan.run(as_view(lhs), out_view);
}

}  // namespace convt
