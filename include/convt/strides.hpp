// convt/strides.hpp — the strides argument: one integer per spatial
// dimension, checked for its length at compile time where the rank is known
// (a braced list of the wrong length does not compile, instead of leaving
// the missing strides 0).
#pragma once

#include <array>
#include <cstddef>
#include <type_traits>

#include "convt/error.hpp"

namespace convt {

/// Strides per spatial dimension, in rhs order: `{2, 2}` or a
/// std::array<index_t, N>.
template <std::size_t N>
class Strides {
 public:
  /// One value per spatial dimension; another count is a compile-time error.
  template <class... I, std::enable_if_t<(std::is_integral_v<I> && ...), int> = 0>
  constexpr Strides(I... s) noexcept {  // NOLINT(google-explicit-constructor)
    static_assert(sizeof...(I) == N,
                  "convt: strides need exactly one value per spatial dimension (the operands' rank - 2)");
    if constexpr (sizeof...(I) == N) values_ = {static_cast<index_t>(s)...};
  }
  /// From an array of N values.
  constexpr Strides(const std::array<index_t, N>& s) noexcept : values_(s) {}  // NOLINT(google-explicit-constructor)

  /// The values.
  constexpr const std::array<index_t, N>& values() const noexcept { return values_; }
  /// The values.
  constexpr operator const std::array<index_t, N>&() const noexcept { return values_; }  // NOLINT

 private:
  std::array<index_t, N> values_{};
};

}  // namespace convt
