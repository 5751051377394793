// convt/detail/view_checks.hpp — run-time checks on caller views: shapes,
// memory overlap between operands, and outputs that would write an element
// twice.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

#include "convt/error.hpp"
#include "convt/tensor.hpp"

namespace convt::detail {

struct ByteRange {
  std::uintptr_t begin = 0;
  std::uintptr_t end = 0;  // exclusive; begin == end for an empty view
};

template <class T, std::size_t Rank>
ByteRange byte_range(const TensorView<T, Rank>& v) {
  if (v.size() == 0) return {};
  index_t lo = 0;
  index_t hi = 0;
  for (std::size_t i = 0; i < Rank; ++i) {
    const index_t span = (v.shape()[i] - 1) * v.strides()[i];
    (span < 0 ? lo : hi) += span;
  }
  const auto base = reinterpret_cast<std::uintptr_t>(v.data());
  const auto size = static_cast<std::uintptr_t>(sizeof(T));
  return {base + static_cast<std::uintptr_t>(lo) * size, base + static_cast<std::uintptr_t>(hi + 1) * size};
}

template <class A, class B, std::size_t Rank>
void check_no_overlap(const TensorView<A, Rank>& out, const TensorView<B, Rank>& in, const char* in_name) {
  const ByteRange a = byte_range(out);
  const ByteRange b = byte_range(in);
  if (a.begin == a.end || b.begin == b.end) return;
  if (a.begin < b.end && b.begin < a.end) {
    fail("out: its memory overlaps ", in_name, " (out spans bytes [", a.begin, ", ", a.end, "), ", in_name, " spans [",
         b.begin, ", ", b.end, ")); conv_transpose cannot write in place");
  }
}

/// Rejects output views whose strides may map two indices to one element
/// (checked with the sufficient condition: sorted by |stride|, each stride
/// spans the previous dimension entirely).
template <class T, std::size_t Rank>
void check_unique_mapping(const TensorView<T, Rank>& out) {
  if (out.size() <= 1) return;
  std::array<std::size_t, Rank> order{};
  for (std::size_t i = 0; i < Rank; ++i) order[i] = i;
  auto mag = [&](std::size_t i) { return out.strides()[i] < 0 ? -out.strides()[i] : out.strides()[i]; };
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return mag(a) < mag(b); });
  index_t reach = 0;  // largest offset spanned by the dimensions so far
  for (std::size_t i : order) {
    if (out.shape()[i] <= 1) continue;
    if (mag(i) <= reach) {
      fail("out strides ", format_seq(out.strides()), " with shape ", format_seq(out.shape()),
           " may write one element twice (dimension ", i, " has stride ", out.strides()[i],
           "); output views must address every element once");
    }
    reach += mag(i) * (out.shape()[i] - 1);
  }
}

template <std::size_t Rank>
void check_shape_equal(const std::array<index_t, Rank>& got, const std::array<index_t, Rank>& want, const char* name,
                       const char* rule) {
  if (got != want) fail(name, " shape ", format_seq(got), " differs from ", format_seq(want), ": ", rule);
}

}  // namespace convt::detail
