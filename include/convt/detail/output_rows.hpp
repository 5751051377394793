// convt/detail/output_rows.hpp — stage 4's addresses: the output offset of
// each row of a tile, for a phase's own rows or a phase group's grid.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <limits>

#include "convt/detail/phases.hpp"
#include "convt/types.hpp"

namespace convt::detail {

/// Marks a grid row that is not one of the writing phase's rows.
inline constexpr index_t kSkipRow = std::numeric_limits<index_t>::min();

/// Output offset of each row [row_begin, row_begin + rows) of `phase`
/// (canonical output strides `out_stride`) into `row_offset`. The rows are
/// those of a phase group's grid when `grid` is given (phase_groups.hpp):
/// rows outside the phase's own window get kSkipRow. Returns whether any did.
template <std::size_t Rank>
bool tile_row_offsets(const PhaseSplit<Rank>& split, const Phase<Rank - 2>& phase, const GridPlacement<Rank - 2>* grid,
                      index_t row_begin, index_t rows, const std::array<index_t, Rank>& out_stride,
                      index_t* row_offset) {
  constexpr std::size_t S = Rank - 2;
  std::array<index_t, S> first{};
  std::array<index_t, S> step{};
  const std::array<index_t, S> shift = grid ? grid->shift : std::array<index_t, S>{};
  const auto own = phase_counts(split.axes, phase.axis_phase);
  for (std::size_t d = 0; d < S; ++d) {
    // A phase with one row along d never steps there; its stride may be
    // far beyond the output (step x output stride need not fit index_t).
    step[d] = own[d] > 1 ? split.axes[d].step * out_stride[2 + d] : 0;
    first[d] = split.axes[d].phases[phase.axis_phase[d]].first * out_stride[2 + d] - shift[d] * step[d];
  }
  const std::array<index_t, S> counts = grid ? grid->counts : own;
  RowCursor<S> cur(counts, row_begin);
  bool skipped = false;
  if constexpr (S == 0) {
    for (index_t r = 0; r < rows; ++r) row_offset[r] = (cur.n + r) * out_stride[0];
  } else {
    // A run of rows along the innermost dimension at a time: the outer
    // dimensions' offset and window test once per run, then a step per row.
    constexpr std::size_t L = S - 1;
    for (index_t r = 0; r < rows;) {
      index_t base = cur.n * out_stride[0];
      bool outer_inside = true;
      for (std::size_t d = 0; d < L; ++d) {
        base += first[d] + step[d] * cur.t[d];
        outer_inside = outer_inside && cur.t[d] >= shift[d] && cur.t[d] - shift[d] < own[d];
      }
      const index_t t0 = cur.t[L];
      const index_t t_end = std::min(counts[L], t0 + (rows - r));
      // The phase's own rows of the run: [lo, hi).
      index_t lo = t0, hi = t0;
      if (outer_inside) {
        lo = std::clamp(shift[L], t0, t_end);
        hi = std::clamp(shift[L] + own[L], lo, t_end);
      }
      skipped = skipped || lo != t0 || hi != t_end;
      const index_t at = base + first[L];
      index_t t = t0;
      for (; t < lo; ++t, ++r) row_offset[r] = kSkipRow;
      for (; t < hi; ++t, ++r) row_offset[r] = at + step[L] * t;
      for (; t < t_end; ++t, ++r) row_offset[r] = kSkipRow;
      cur.t[L] = t_end - 1;
      cur.next();
    }
  }
  return skipped;
}

}  // namespace convt::detail
