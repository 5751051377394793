// convt/kernel.hpp — a kernel packed once, independently of the input shape,
// from which plans for any input shape are made without packing again
// (XNNPACK's create → reshape → run): a vocoder or an image service whose
// input size changes every call keeps one packed copy.
#pragma once

#include <array>
#include <cstddef>
#include <memory>

#include "convt/detail/geometry.hpp"
#include "convt/detail/kernel_body.hpp"
#include "convt/error.hpp"
#include "convt/options.hpp"
#include "convt/padding.hpp"
#include "convt/plan.hpp"
#include "convt/strides.hpp"
#include "convt/tensor.hpp"
#include "convt/types.hpp"

namespace convt {

/// A kernel converted and packed for conv_transpose with fixed strides,
/// padding and options (bias and activation included), for inputs of any
/// batch and spatial extents. Immutable: plan() may be called from many
/// threads; copies share the packed data.
template <class In, class Out, std::size_t Rank>
class PackedKernel {
 public:
  using input_type = In;    ///< element type of lhs and rhs
  using result_type = Out;  ///< element type of the output
  /// Rank of the operands.
  static constexpr std::size_t rank() noexcept { return Rank; }

  /// A plan for inputs of `lhs_shape`. Its cost is bookkeeping (phases, tiles,
  /// work units), never proportional to the kernel: the packed data is shared.
  /// Throws Error when the shape does not fit the kernel (features, padding).
  Plan<In, Out, Rank> plan(const std::array<index_t, Rank>& lhs_shape) const {
    return Plan<In, Out, Rank>(body_->plan(body_->geometry(lhs_shape)));
  }
  /// Output shape for inputs of `lhs_shape` (validated as plan() does).
  std::array<index_t, Rank> output_shape(const std::array<index_t, Rank>& lhs_shape) const {
    return body_->geometry(lhs_shape).out_shape;
  }
  /// Bytes of the packed data: one copy, however many plans exist — two
  /// once a plan for an input of few positions per phase has been made
  /// (such plans multiply with the kernel packed the other way round).
  std::size_t packed_kernel_bytes() const noexcept { return body_->packed_kernel_bytes(); }

  /// Made by make_kernel; not meant to be called directly.
  explicit PackedKernel(std::shared_ptr<const detail::KernelBody<In, Out, Rank>> body) : body_(std::move(body)) {}

 private:
  std::shared_ptr<const detail::KernelBody<In, Out, Rank>> body_;
};

/// Packs `rhs` (a TensorView or Tensor) for conv_transpose with these
/// strides, padding and options, for any input shape. `rhs` and
/// options.bias are not referenced later. Throws Error on arguments that no
/// input shape could make valid.
template <class Out = void, class R, class RV = detail::view_t<const R>, std::size_t Rank = RV::rank(),
          class In = typename RV::value_type>
PackedKernel<In, detail::result_t<In, Out>, Rank> make_kernel(const R& rhs, const Strides<Rank - 2>& strides,
                                                              const Padding& padding,
                                                              const ConvTransposeOptions<Rank - 2>& options = {}) {
  using Res = detail::result_t<In, Out>;
  detail::check_types<In, Res>();
  if constexpr (detail::types_allowed<In, Res>()) {
    const TensorView<const In, Rank> rhs_view = view(rhs);
    const auto g = detail::kernel_geometry<Rank>(rhs_view.shape(), strides, padding, options);
    return PackedKernel<In, Res, Rank>(detail::make_kernel_body<In, Res, Rank>(g, rhs_view, strides, padding, options));
  } else {
    return PackedKernel<In, Res, Rank>(nullptr);
  }
}

}  // namespace convt
