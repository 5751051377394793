// convt/plan.hpp — a transposed convolution prepared once (geometry resolved,
// kernel converted and packed per phase) and run many times.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <type_traits>

#include "convt/detail/engine.hpp"
#include "convt/detail/geometry.hpp"
#include "convt/detail/kernel_body.hpp"
#include "convt/detail/view_checks.hpp"
#include "convt/error.hpp"
#include "convt/options.hpp"
#include "convt/padding.hpp"
#include "convt/strides.hpp"
#include "convt/tensor.hpp"
#include "convt/types.hpp"

namespace convt {

/// A prepared conv_transpose for one kernel and one input shape. Immutable
/// after creation: `run` may be called concurrently from many threads. Copies
/// share the packed kernel, as do all plans made from one PackedKernel.
template <class In, class Out, std::size_t Rank>
class Plan {
 public:
  using input_type = In;    ///< element type of lhs and rhs
  using result_type = Out;  ///< element type of the output
  /// Rank of the operands.
  static constexpr std::size_t rank() noexcept { return Rank; }

  /// Shape of the output, in the output layout.
  const std::array<index_t, Rank>& output_shape() const noexcept { return body_->geometry().out_shape; }
  /// Shape the input must have.
  const std::array<index_t, Rank>& input_shape() const noexcept { return body_->geometry().lhs_shape; }
  /// Resolved (lo, hi) padding per spatial dimension (rhs order).
  const std::array<std::pair<index_t, index_t>, Rank - 2>& padding() const noexcept { return body_->geometry().pad; }
  /// Bytes held by the packed kernel (shared with the plans and the
  /// PackedKernel it came from; PackedKernel::packed_kernel_bytes).
  std::size_t packed_kernel_bytes() const noexcept { return body_->packed_kernel_bytes(); }
  /// Peak scratch bytes of one run (all workers).
  std::size_t workspace_bytes() const noexcept { return body_->workspace_bytes(); }

  /// Computes into `out` (any strides; shape must be output_shape()): the
  /// input first, the output second, as conv_transpose_into takes them.
  void run(TensorView<const In, Rank> lhs, TensorView<Out, Rank> out) const {
    if (lhs.shape() != input_shape() && lhs.shape() == output_shape() && out.shape() == input_shape()) {
      detail::fail("Plan::run(lhs, out): lhs has the output's shape ", detail::format_seq(lhs.shape()),
                   " and out the input's ", detail::format_seq(out.shape()),
                   "; the arguments look swapped (the input comes first, the output second)");
    }
    detail::check_shape_equal(lhs.shape(), input_shape(), "lhs", "the plan was made for that input shape");
    detail::check_shape_equal(out.shape(), output_shape(), "out", "out must have the plan's output_shape()");
    detail::check_unique_mapping(out);
    detail::check_no_overlap(out, lhs, "lhs");
    body_->run(lhs, out, false);
  }

  /// Computes into a new row-major tensor.
  Tensor<Out, Rank> operator()(TensorView<const In, Rank> lhs) const {
    detail::check_shape_equal(lhs.shape(), input_shape(), "lhs", "the plan was made for that input shape");
    Tensor<Out, Rank> out(output_shape());
    body_->run(lhs, view(out), true);
    return out;
  }

  /// Made by make_plan and PackedKernel::plan; not meant to be called directly.
  explicit Plan(std::shared_ptr<const detail::PlanBody<In, Out, Rank>> body) : body_(std::move(body)) {}

 private:
  std::shared_ptr<const detail::PlanBody<In, Out, Rank>> body_;
};

namespace detail {

template <class In, class Res>
constexpr bool types_allowed() {
  return is_supported_v<In> && preferred_type_allowed<In, Res>();
}

/// One static_assert per mistake; callers continue only when it passes.
template <class In, class Res>
constexpr void check_types() {
  static_assert(is_supported_v<In>,
                "convt: unsupported element type; use float, double, Eigen::half, Eigen::bfloat16, "
                "std::complex<float|double>, int8/16/32/64_t or uint8_t");
  static_assert(!is_supported_v<In> || preferred_type_allowed<In, Res>(),
                "convt: preferred element type (Out) not allowed for this input type; JAX's rule: not narrower "
                "than the input (integer -> integer of at least its width, not signed -> unsigned, or a float of at "
                "least its width; float -> float of at least its width; complex -> complex of at least its width)");
}

}  // namespace detail

/// Prepares conv_transpose(lhs, rhs, ...) for inputs of shape `lhs_shape`:
/// make_kernel(rhs, strides, padding, options).plan(lhs_shape) in one step.
/// `rhs` is a TensorView or a Tensor. The kernel is converted and packed now;
/// `rhs` (and options.bias) are not referenced later.
template <class Out = void, class R, class RV = detail::view_t<const R>, std::size_t Rank = RV::rank(),
          class In = typename RV::value_type>
Plan<In, detail::result_t<In, Out>, Rank> make_plan(const R& rhs, const std::array<index_t, Rank>& lhs_shape,
                                                    const Strides<Rank - 2>& strides, const Padding& padding,
                                                    const ConvTransposeOptions<Rank - 2>& options = {}) {
  using Res = detail::result_t<In, Out>;
  detail::check_types<In, Res>();
  if constexpr (detail::types_allowed<In, Res>()) {
    const TensorView<const In, Rank> rhs_view = view(rhs);
    // The input shape is known: validate everything first, with the input's
    // terms in the messages, then pack for this geometry.
    auto g = detail::resolve_geometry<Rank>(lhs_shape, rhs_view.shape(), strides, padding, options);
    return Plan<In, Res, Rank>(
        detail::make_kernel_body<In, Res, Rank>(g, rhs_view, strides, padding, options)->plan(std::move(g)));
  } else {
    return Plan<In, Res, Rank>(nullptr);
  }
}

}  // namespace convt
