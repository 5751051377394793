// convt/detail/kernel_body.hpp — a packed kernel behind a type-erased
// handle: the accumulator is chosen when the kernel is made (precision,
// integer reduction length); the element, result types and rank are not
// erased. Plans are made from it for any input shape.
#pragma once

#include <algorithm>
#include <array>
#include <complex>
#include <cstddef>
#include <memory>

#include "convt/detail/engine.hpp"
#include "convt/detail/geometry.hpp"
#include "convt/detail/kernel.hpp"
#include "convt/options.hpp"
#include "convt/padding.hpp"
#include "convt/tensor.hpp"
#include "convt/types.hpp"

namespace convt::detail {

template <class In, class Out, std::size_t Rank>
class KernelBody {
 public:
  KernelBody(const std::array<index_t, Rank>& rhs_shape, const std::array<index_t, Rank - 2>& strides, Padding padding,
             const ConvTransposeOptions<Rank - 2>& options)
      : rhs_shape_(rhs_shape), strides_(strides), padding_(std::move(padding)), options_(options) {
    options_.bias = BiasView();  // copied into the kernel; the caller's memory is not referenced later
  }
  virtual ~KernelBody() = default;

  /// The geometry of this kernel on inputs of `lhs_shape` (validated).
  Geometry<Rank> geometry(const std::array<index_t, Rank>& lhs_shape) const {
    return resolve_geometry<Rank>(lhs_shape, rhs_shape_, strides_, padding_, options_);
  }
  /// A plan for inputs of geometry `g` (made by geometry()).
  virtual std::shared_ptr<const PlanBody<In, Out, Rank>> plan(Geometry<Rank> g) const = 0;
  virtual std::size_t packed_kernel_bytes() const noexcept = 0;

 private:
  std::array<index_t, Rank> rhs_shape_;
  std::array<index_t, Rank - 2> strides_;
  Padding padding_;
  ConvTransposeOptions<Rank - 2> options_;
};

template <class In, class Out, std::size_t Rank, class Acc, class Sum = Acc>
class KernelImpl final : public KernelBody<In, Out, Rank> {
 public:
  KernelImpl(const Geometry<Rank>& g, const TensorView<const In, Rank>& rhs,
             const std::array<index_t, Rank - 2>& strides, const Padding& padding,
             const ConvTransposeOptions<Rank - 2>& options)
      : KernelBody<In, Out, Rank>(rhs.shape(), strides, padding, options),
        data_(std::make_shared<const KernelData<Acc, Out, Rank, Sum>>(g, rhs, options)) {}

  std::shared_ptr<const PlanBody<In, Out, Rank>> plan(Geometry<Rank> g) const override {
    return std::make_shared<const Engine<In, Out, Rank, Acc, Sum>>(data_, std::move(g));
  }
  std::size_t packed_kernel_bytes() const noexcept override { return data_->bytes(); }

 private:
  std::shared_ptr<const KernelData<Acc, Out, Rank, Sum>> data_;
};

/// Packs `rhs` for the problem of geometry `g` (any input shape: only its
/// kernel side is used), with the accumulator its precision and longest
/// reduction call for.
template <class In, class Out, std::size_t Rank>
std::shared_ptr<const KernelBody<In, Out, Rank>> make_kernel_body(const Geometry<Rank>& g,
                                                                  const TensorView<const In, Rank>& rhs,
                                                                  const std::array<index_t, Rank - 2>& strides,
                                                                  const Padding& padding,
                                                                  const ConvTransposeOptions<Rank - 2>& o) {
  // The longest reduction any output element sees decides integer
  // exactness: the group's input features times the most taps a phase owns
  // (per dimension independently, so the product of the per-dimension most).
  index_t max_depth = g.group_in;
  for (const AxisPhases& ax : owned_axes(g, o.lowering)) {
    index_t most = 0;
    for (const AxisPhase& ph : ax.phases) most = std::max(most, static_cast<index_t>(ph.taps.size()));
    max_depth = checked_mul(max_depth, most, "GEMM depth");
  }
  const Accumulator kind = choose_accumulator<In, Out>(o.precision.effective(), max_depth);
  auto make = [&](auto acc, auto sum) -> std::shared_ptr<const KernelBody<In, Out, Rank>> {
    using Acc = decltype(acc);
    using Sum = decltype(sum);
    return std::make_shared<const KernelImpl<In, Out, Rank, Acc, Sum>>(g, rhs, strides, padding, o);
  };
  if constexpr (is_complex_v<In>) {
    if (kind == Accumulator::C64) return make(std::complex<float>(), std::complex<float>());
    return make(std::complex<double>(), std::complex<double>());
  } else if constexpr (is_integer_v<Out>) {
    switch (kind) {
      case Accumulator::F32: return make(float(), float());
      case Accumulator::F32Blocks: return make(float(), double());
      case Accumulator::F64: return make(double(), double());
      case Accumulator::I64: return make(std::int64_t(), std::int64_t());
      default: return make(std::uint64_t(), std::uint64_t());
    }
  } else {
    if (kind == Accumulator::F32) return make(float(), float());
    return make(double(), double());
  }
}

}  // namespace convt::detail
