// convt/detail/im2col.hpp — stage 2: gather one tile of a phase's rows into a
// row-major [rows x depth] matrix (column = tap * in_features + c). Only the
// taps of the phase are gathered; positions outside the input (padding) and,
// in the dense lowering, the stride's inserted zeros are written as zeros.
// The input is read through its own strides: any layout, no transposes.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include <Eigen/Core>

#include "convt/detail/phases.hpp"
#include "convt/types.hpp"

namespace convt::detail {

/// Marks an input offset of a tap that meets padding or an inserted zero.
inline constexpr index_t kAbsentOffset = std::numeric_limits<index_t>::min();

/// Per-worker scratch of the gather: per dimension, the input offset of each
/// tap for the current row (kAbsentOffset when the tap meets padding/zeros).
template <std::size_t S>
struct GatherScratch {
  std::array<std::vector<index_t>, S> tap_offset;
  /// Input offset of every (row, tap) of a tile (tile_tap_offsets).
  std::vector<index_t> tile_tap_offset;
  /// tile_tap_offsets: the outer dimensions' tap tuples of one run of rows.
  std::vector<index_t> outer_offset;
  /// Output writes: offset of every row of a tile.
  std::vector<index_t> row_offset;
  GatherScratch(const std::array<AxisPhases, S>& axes, index_t tile_rows, index_t max_taps) {
    for (std::size_t d = 0; d < S; ++d) {
      std::size_t most = 0;
      for (const AxisPhase& p : axes[d].phases) most = std::max(most, p.taps.size());
      tap_offset[d].resize(most);
    }
    tile_tap_offset.resize(static_cast<std::size_t>(tile_rows * max_taps));
    outer_offset.resize(static_cast<std::size_t>(std::max<index_t>(max_taps, 1)));
    row_offset.resize(static_cast<std::size_t>(tile_rows));
  }
};

/// Copies `n` channel values (stride `stride`) into `dst`, converting.
template <class In, class Acc>
inline void copy_channels(const In* src, index_t stride, index_t n, Acc* dst) {
  if constexpr (std::is_same_v<In, Acc>) {
    if (stride == 1) {
      std::copy_n(src, n, dst);
      return;
    }
  } else if constexpr (std::is_same_v<In, Eigen::bfloat16> && std::is_same_v<Acc, float>) {
    if (stride == 1) {
      // bfloat16 is the top half of a float: a shift the compiler vectorises.
      for (index_t c = 0; c < n; ++c) {
        const std::uint32_t bits = std::uint32_t{Eigen::numext::bit_cast<std::uint16_t>(src[c])} << 16;
        dst[c] = Eigen::numext::bit_cast<float>(bits);
      }
      return;
    }
  } else if constexpr (std::is_same_v<In, Eigen::half> && std::is_same_v<Acc, float>) {
    if (stride == 1) {
      // Eigen's vectorised f16 -> f32 conversion.
      using Vec = Eigen::Array<Acc, Eigen::Dynamic, 1>;
      Eigen::Map<Vec>(dst, n) = Eigen::Map<const Eigen::Array<In, Eigen::Dynamic, 1>>(src, n).template cast<Acc>();
      return;
    }
  }
  for (index_t c = 0; c < n; ++c) dst[c] = convert<Acc>(src[c * stride]);
}

/// Input offset of inner-dimension tap `i` for the current row (0 without
/// spatial dimensions).
template <std::size_t S>
inline index_t inner_offset(const GatherScratch<S>& scratch, index_t i) {
  if constexpr (S == 0) {
    return 0;
  } else {
    return scratch.tap_offset[S - 1][static_cast<std::size_t>(i)];
  }
}

/// Input offset (input stride `stride`) of position u of `axis`'s dilated
/// input, kAbsentOffset where it is padding or an inserted zero.
inline index_t axis_offset(const AxisPhases& axis, index_t u, index_t stride) {
  index_t p = u;
  if (axis.divisor != 1) {
    if (floor_mod(u, axis.divisor) != 0) return kAbsentOffset;  // one of the stride's inserted zeros
    p = u / axis.divisor;                                       // exact
  }
  if (p >= 0 && p < axis.in) return p * stride;
  return axis.periodic ? floor_mod(p, axis.in) * stride : kAbsentOffset;  // the input repeats beyond its ends
}

/// Per dimension, the input offset of every tap of the phase for the row at
/// `cur` (kAbsentOffset where the tap meets padding or an inserted zero).
template <std::size_t Rank>
inline void row_tap_offsets(const PhaseSplit<Rank>& split, const std::array<const AxisPhase*, Rank - 2>& ap,
                            const RowCursor<Rank - 2>& cur, const std::array<index_t, Rank>& lhs_stride,
                            GatherScratch<Rank - 2>& scratch) {
  for (std::size_t d = 0; d < Rank - 2; ++d) {
    for (std::size_t j = 0; j < ap[d]->taps.size(); ++j) {
      scratch.tap_offset[d][j] = axis_offset(split.axes[d], cur.t[d] + ap[d]->offsets[j], lhs_stride[2 + d]);
    }
  }
}

/// Gathers rows [row_begin, row_begin + rows) of `phase` into `dst`
/// (row-major, leading dimension phase.depth).
/// `lhs_stride` holds the canonical [N, C, spatial...] strides of the input.
template <std::size_t Rank, class In, class Acc>
void gather_tile(const PhaseSplit<Rank>& split, const Phase<Rank - 2>& phase, index_t row_begin, index_t rows,
                 const In* lhs, const std::array<index_t, Rank>& lhs_stride, index_t in_features,
                 GatherScratch<Rank - 2>& scratch, Acc* dst) {
  constexpr std::size_t S = Rank - 2;
  const index_t c_stride = lhs_stride[1];
  std::array<const AxisPhase*, S> ap{};
  for (std::size_t d = 0; d < S; ++d) ap[d] = &split.axes[d].phases[phase.axis_phase[d]];
  RowCursor<S> cur(phase_counts(split.axes, phase.axis_phase), row_begin);
  index_t inner_taps = 1;
  bool merge_layout = false;
  if constexpr (S > 0) {
    inner_taps = static_cast<index_t>(ap[S - 1]->taps.size());
    merge_layout = inner_taps > 1 && ap[S - 1]->consecutive && split.axes[S - 1].divisor == 1 && c_stride == 1 &&
                   lhs_stride[2 + S - 1] == in_features;
  }

  for (index_t r = 0; r < rows; ++r, cur.next()) {
    row_tap_offsets(split, ap, cur, lhs_stride, scratch);
    Acc* out_row = dst + r * phase.depth;
    const In* row_base = lhs + cur.n * lhs_stride[0];
    // The taps of the innermost dimension are one contiguous input run when
    // their shifts are consecutive and the layout packs positions
    // channel-contiguously (NHWC-like): copy them in one go.
    bool merge_row = false;
    if constexpr (S > 0) {
      // All present and one run: the first and last are (a periodic input
      // may wrap in between).
      const index_t first = scratch.tap_offset[S - 1][0];
      const index_t last = scratch.tap_offset[S - 1][static_cast<std::size_t>(inner_taps - 1)];
      merge_row = merge_layout && first != kAbsentOffset && last != kAbsentOffset &&
                  last - first == (inner_taps - 1) * lhs_stride[2 + S - 1];
    }
    // Walk the outer tap tuples in row-major order; columns
    // [tap * in_features, (tap + 1) * in_features) belong to tap tuple `tap`.
    std::array<std::size_t, S> j{};
    for (index_t tap = 0; tap < phase.taps; tap += inner_taps) {
      index_t off = 0;
      bool present = true;
      for (std::size_t d = 0; d + 1 < S; ++d) {
        const index_t o = scratch.tap_offset[d][j[d]];
        if (o == kAbsentOffset) {
          present = false;
          break;
        }
        off += o;
      }
      Acc* col = out_row + tap * in_features;
      if (!present) {
        std::fill_n(col, inner_taps * in_features, Acc(0));
      } else if (merge_row) {
        copy_channels(row_base + off + inner_offset(scratch, 0), 1, inner_taps * in_features, col);
      } else {
        for (index_t i = 0; i < inner_taps; ++i, col += in_features) {
          const index_t o = inner_offset(scratch, i);
          if (o == kAbsentOffset) {
            std::fill_n(col, in_features, Acc(0));
          } else {
            copy_channels(row_base + off + o, c_stride, in_features, col);
          }
        }
      }
      if constexpr (S > 1) {
        for (std::size_t d = S - 1; d-- > 0;) {
          if (++j[d] < ap[d]->taps.size()) break;
          j[d] = 0;
        }
      }
    }
  }
}

/// Input offset of every (row, tap) of the tile rows [row_begin, row_begin +
/// rows) of `phase`, tap-major: scratch.tile_tap_offset[tap * rows + r]
/// (kAbsentOffset where the tap meets padding or an inserted zero). A run of
/// rows along the innermost dimension at a time: the outer dimensions' tap
/// tuples once per run, then each inner tap's offsets along the run, an
/// arithmetic progression wherever the taps meet real input (per row, this
/// table cost the vocoders' long 1-D layers 4% of their time).
template <std::size_t Rank>
void tile_tap_offsets(const PhaseSplit<Rank>& split, const Phase<Rank - 2>& phase, index_t row_begin, index_t rows,
                      const std::array<index_t, Rank>& lhs_stride, GatherScratch<Rank - 2>& scratch) {
  constexpr std::size_t S = Rank - 2;
  index_t* offsets = scratch.tile_tap_offset.data();
  const auto counts = phase_counts(split.axes, phase.axis_phase);
  RowCursor<S> cur(counts, row_begin);
  if constexpr (S == 0) {
    for (index_t r = 0; r < rows; ++r) offsets[r] = (cur.n + r) * lhs_stride[0];
  } else {
    constexpr std::size_t L = S - 1;
    std::array<const AxisPhase*, S> ap{};
    for (std::size_t d = 0; d < S; ++d) ap[d] = &split.axes[d].phases[phase.axis_phase[d]];
    const AxisPhases& axis = split.axes[L];
    const index_t inner_stride = lhs_stride[2 + L];
    const auto inner_taps = static_cast<index_t>(ap[L]->taps.size());
    index_t* outer = scratch.outer_offset.data();
    for (index_t r = 0; r < rows;) {
      // The outer dimensions' tap tuples, expanded one dimension at a time
      // in place (back to front, so no entry is overwritten before it is
      // read): after dimension d, entry i is the offset of the i-th tap
      // tuple of dims 0..d.
      row_tap_offsets(split, ap, cur, lhs_stride, scratch);
      outer[0] = cur.n * lhs_stride[0];
      index_t count = 1;
      for (std::size_t d = 0; d < L; ++d) {
        const index_t m = static_cast<index_t>(ap[d]->taps.size());
        const index_t* dim = scratch.tap_offset[d].data();
        for (index_t i = count; i-- > 0;) {
          const index_t a = outer[i];
          for (index_t j = m; j-- > 0;) {
            outer[i * m + j] = a == kAbsentOffset || dim[j] == kAbsentOffset ? kAbsentOffset : a + dim[j];
          }
        }
        count *= m;
      }
      const index_t t0 = cur.t[L];
      const index_t run = std::min(counts[L] - t0, rows - r);
      for (index_t i = 0; i < count; ++i) {
        for (index_t j = 0; j < inner_taps; ++j) {
          index_t* entry = offsets + (i * inner_taps + j) * rows + r;
          const index_t base = outer[i];
          const index_t u0 = t0 + ap[L]->offsets[static_cast<std::size_t>(j)];  // input position of the run's first row
          if (base == kAbsentOffset) {
            std::fill_n(entry, run, kAbsentOffset);
          } else if (axis.divisor == 1 && !axis.periodic) {
            // Rows [lo, hi) of the run meet the input, the others padding.
            const index_t lo = std::clamp<index_t>(-u0, 0, run);
            const index_t hi = std::clamp<index_t>(axis.in - u0, lo, run);
            std::fill_n(entry, lo, kAbsentOffset);
            for (index_t k = lo; k < hi; ++k) entry[k] = base + (u0 + k) * inner_stride;
            std::fill_n(entry + hi, run - hi, kAbsentOffset);
          } else {
            for (index_t k = 0; k < run; ++k) {
              const index_t off = axis_offset(axis, u0 + k, inner_stride);
              entry[k] = off == kAbsentOffset ? kAbsentOffset : base + off;
            }
          }
        }
      }
      r += run;
      cur.t[L] = t0 + run - 1;
      cur.next();
    }
  }
}

/// As gather_tile for inputs whose channels are not contiguous (NCHW-like):
/// writes the tile column-major (leading dimension `ld`), one column per
/// (tap, channel), so that consecutive rows — neighbouring positions — are
/// read and written next to each other.
template <std::size_t Rank, class In, class Acc>
void gather_tile_colmajor(const PhaseSplit<Rank>& split, const Phase<Rank - 2>& phase, index_t row_begin, index_t rows,
                          const In* lhs, const std::array<index_t, Rank>& lhs_stride, index_t in_features,
                          GatherScratch<Rank - 2>& scratch, Acc* dst, index_t ld) {
  tile_tap_offsets(split, phase, row_begin, rows, lhs_stride, scratch);
  const index_t* offsets = scratch.tile_tap_offset.data();
  const index_t c_stride = lhs_stride[1];
  for (index_t tap = 0; tap < phase.taps; ++tap) {
    const index_t* off = offsets + tap * rows;
    for (index_t c = 0; c < in_features; ++c) {
      const In* src = lhs + c * c_stride;
      Acc* col = dst + (tap * in_features + c) * ld;
      for (index_t r = 0; r < rows; ++r) col[r] = off[r] == kAbsentOffset ? Acc(0) : convert<Acc>(src[off[r]]);
    }
  }
}

}  // namespace convt::detail
