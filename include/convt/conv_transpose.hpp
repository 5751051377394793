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
#include "convt/strides.hpp"
#include "convt/tensor.hpp"

namespace convt {

/// Output shape of conv_transpose for these shapes and arguments (validates
/// them exactly as conv_transpose does).
template <std::size_t Rank>
std::array<index_t, Rank> conv_transpose_shape(const std::array<index_t, Rank>& lhs_shape,
                                               const std::array<index_t, Rank>& rhs_shape,
                                               const Strides<Rank - 2>& strides, const Padding& padding,
                                               const ConvTransposeOptions<Rank - 2>& options = {}) {
  return detail::resolve_geometry<Rank>(lhs_shape, rhs_shape, strides, padding, options).out_shape;
}

namespace detail {
/// One static_assert per mistake: the entry points go on only when they pass.
template <class LV, class RV>
constexpr bool operands_agree() {
  static_assert(LV::rank() == RV::rank(), "convt: lhs and rhs must have the same rank");
  static_assert(LV::rank() != RV::rank() || std::is_same_v<typename LV::value_type, typename RV::value_type>,
                "convt: lhs and rhs must have the same element type (as in JAX)");
  return LV::rank() == RV::rank() && std::is_same_v<typename LV::value_type, typename RV::value_type>;
}
}  // namespace detail

/// `jax.lax.conv_transpose(lhs, rhs, strides, padding, ...)` into a new
/// row-major tensor of the result type (Out, or the input type). `lhs` and
/// `rhs` are TensorViews or Tensors (convt::view in convt/eigen.hpp makes
/// views of Eigen tensors). Each call packs the kernel; to run a kernel many
/// times, pack it once with make_plan or make_kernel.
template <class Out = void, class L, class R, class LV = detail::view_t<const L>, class RV = detail::view_t<const R>>
Tensor<detail::result_t<typename LV::value_type, Out>, LV::rank()> conv_transpose(
    const L& lhs, const R& rhs, const Strides<LV::rank() - 2>& strides, const Padding& padding,
    const ConvTransposeOptions<LV::rank() - 2>& options = {}) {
  if constexpr (detail::operands_agree<LV, RV>()) {
    const auto lhs_view = view(lhs);
    // The plan is bounded by the kernel; the output it allocates is checked
    // (a result too large to allocate is an Error) before any computation.
    return make_plan<Out>(view(rhs), lhs_view.shape(), strides, padding, options)(lhs_view);
  } else {
    return {};
  }
}

/// As conv_transpose, writing into `out` (a TensorView with any strides, or a
/// Tensor; the shape must equal conv_transpose_shape). Inputs first, output
/// last, as Plan::run takes them. Nothing is written when an Error is thrown.
/// Each call packs the kernel, as conv_transpose does.
template <class L, class R, class O, class LV = detail::view_t<const L>, class RV = detail::view_t<const R>,
          class OV = detail::view_t<O>>
void conv_transpose_into(const L& lhs, const R& rhs, O&& out, const Strides<LV::rank() - 2>& strides,
                         const Padding& padding, const ConvTransposeOptions<LV::rank() - 2>& options = {}) {
  static_assert(!std::is_const_v<typename OV::element_type>,
                "convt::conv_transpose_into: out (the third argument) must be writable");
  static_assert(OV::rank() == LV::rank(), "convt::conv_transpose_into: out must have the operands' rank");
  if constexpr (detail::operands_agree<LV, RV>() && OV::rank() == LV::rank() &&
                !std::is_const_v<typename OV::element_type>) {
    const auto out_view = view(out);
    const auto rhs_view = view(rhs);
    detail::check_no_overlap(out_view, rhs_view, "rhs");
    const auto plan = make_plan<typename OV::value_type>(rhs_view, view(lhs).shape(), strides, padding, options);
    plan.run(view(lhs), out_view);
  }
}

}  // namespace convt
