// convt/detail/plan_body.hpp — the type-erased body a Plan holds: one input
// shape's engine, whatever accumulator the kernel chose.
#pragma once

#include <cstddef>
#include <utility>

#include "convt/detail/geometry.hpp"
#include "convt/tensor.hpp"

namespace convt::detail {

/// Type-erased plan body: the accumulator is chosen at run time (precision,
/// integer reduction length), the element and result types are not.
template <class In, class Out, std::size_t Rank>
class PlanBody {
 public:
  virtual ~PlanBody() = default;
  /// `out_is_zero`: `out` already holds zeros (a fresh Tensor), so outputs
  /// no tap reaches need not be written.
  virtual void run(TensorView<const In, Rank> lhs, TensorView<Out, Rank> out, bool out_is_zero) const = 0;
  virtual std::size_t packed_kernel_bytes() const noexcept = 0;
  virtual std::size_t workspace_bytes() const noexcept = 0;
  const Geometry<Rank>& geometry() const noexcept { return geometry_; }

 protected:
  explicit PlanBody(Geometry<Rank> g) : geometry_(std::move(g)) {}
  Geometry<Rank> geometry_;
};

}  // namespace convt::detail
