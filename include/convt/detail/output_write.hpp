// convt/detail/output_write.hpp — stage 4: write a tile's GEMM result to its
// strided output positions q = first + step * t, in the output's own layout,
// converting from the accumulator to the result type (rounding once).
#pragma once

#include <array>
#include <cstddef>

#include "convt/detail/im2col.hpp"
#include "convt/detail/phases.hpp"
#include "convt/types.hpp"

namespace convt::detail {

/// `res` is column-major [rows x out_features] with leading dimension `rows`.
/// `out_stride` holds the canonical [N, C, spatial...] strides of the output.
template <std::size_t Rank, class Acc, class Out>
void write_tile(const PhaseSplit<Rank>& split, const Phase<Rank - 2>& phase, index_t row_begin, index_t rows,
                const Acc* res, index_t out_features, Out* out, const std::array<index_t, Rank>& out_stride) {
  constexpr std::size_t S = Rank - 2;
  std::array<index_t, S> first{};
  std::array<index_t, S> step{};
  for (std::size_t d = 0; d < S; ++d) {
    first[d] = split.axes[d].phases[phase.axis_phase[d]].first;
    step[d] = split.axes[d].step;
  }
  RowCursor<S> cur(phase_counts(split.axes, phase.axis_phase), row_begin);
  const index_t o_stride = out_stride[1];
  for (index_t r = 0; r < rows; ++r, cur.next()) {
    index_t off = cur.n * out_stride[0];
    for (std::size_t d = 0; d < S; ++d) off += (first[d] + step[d] * cur.t[d]) * out_stride[2 + d];
    Out* dst = out + off;
    const Acc* src = res + r;
    for (index_t o = 0; o < out_features; ++o) dst[o * o_stride] = convert<Out>(src[o * rows]);
  }
}

}  // namespace convt::detail
