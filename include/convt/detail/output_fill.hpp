// convt/detail/output_fill.hpp — outputs no kernel tap reaches: their sum is
// empty, so they hold the epilogue of zero (zero, or the bias through the
// activation, plus beta * out).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <vector>

#include "convt/detail/epilogue.hpp"
#include "convt/detail/output_write.hpp"
#include "convt/detail/parallel.hpp"
#include "convt/detail/phases.hpp"
#include "convt/tensor.hpp"

namespace convt::detail {

/// Writes zeros to every element of `out` (any strides, innermost
/// dimension in the inner loop).
template <class Out, std::size_t Rank>
void fill_zero(const TensorView<Out, Rank>& out) {
  if (out.size() == 0) return;
  if constexpr (Rank == 0) {
    *out.data() = Out(0);
  } else {
    std::array<index_t, Rank> idx{};
    const index_t inner = out.shape()[Rank - 1];
    const index_t inner_stride = out.strides()[Rank - 1];
    while (true) {
      index_t off = 0;
      for (std::size_t d = 0; d + 1 < Rank; ++d) off += idx[d] * out.strides()[d];
      Out* p = out.data() + off;
      for (index_t i = 0; i < inner; ++i) p[i * inner_stride] = Out(0);
      std::size_t d = Rank - 1;
      while (d > 0) {
        --d;
        if (++idx[d] < out.shape()[d]) break;
        idx[d] = 0;
        if (d == 0) return;
      }
      if (Rank == 1) return;
    }
  }
}

/// Zeros over the whole output, split over workers along its longest
/// dimension.
template <class Out, std::size_t Rank>
void fill_zero_parallel(const TensorView<Out, Rank>& out, int workers, Eigen::ThreadPoolInterface* pool) {
  std::size_t dim = 0;
  for (std::size_t d = 1; d < Rank; ++d) {
    if (out.shape()[d] > out.shape()[dim]) dim = d;
  }
  auto slice_shape = out.shape();
  slice_shape[dim] = 1;
  parallel_for(
      out.shape()[dim], workers,
      [&](index_t i, int) {
        fill_zero(TensorView<Out, Rank>(out.data() + i * out.strides()[dim], slice_shape, out.strides()));
      },
      pool);
}

/// Every feature of the output rows [row_begin, row_begin + rows) of
/// `phase` (rows of `grid` when given, as in write_tile) gets the epilogue of
/// an empty sum (features from `feature0`).
template <std::size_t Rank, class Acc, class Out>
void fill_tile(const PhaseSplit<Rank>& split, const Phase<Rank - 2>& phase, const GridPlacement<Rank - 2>* grid,
               index_t row_begin, index_t rows, index_t features, Out* out, const std::array<index_t, Rank>& out_stride,
               index_t* row_offset, const OutputEpilogue<Acc, Out>& ep, index_t feature0, bool read_out) {
  using E = typename OutputEpilogue<Acc, Out>::E;
  tile_row_offsets(split, phase, grid, row_begin, rows, out_stride, row_offset);
  for (index_t r = 0; r < rows; ++r) {
    if (row_offset[r] == kSkipRow) continue;
    for (index_t o = 0; o < features; ++o) {
      Out* dst = out + row_offset[r] + o * out_stride[1];
      *dst = ep.identity() ? Out(0) : ep.complete(ep.add_bias(E(0), feature0 + o), read_out ? dst : nullptr);
    }
  }
}

/// The outputs no phase covers, for an epilogue that does not keep them
/// zero or that accumulates (so the covered ones must not be touched): an
/// output is covered when its position's phase owns a tap in every spatial
/// dimension. `out_shape` and `out_stride` are canonical; work is split over
/// (batch, first spatial index).
template <std::size_t Rank, class Acc, class Out>
void fill_uncovered(const PhaseSplit<Rank>& split, const std::array<index_t, Rank>& out_shape,
                    const std::array<index_t, Rank>& out_stride, Out* out, const OutputEpilogue<Acc, Out>& ep,
                    bool read_out, int workers, Eigen::ThreadPoolInterface* pool) {
  constexpr std::size_t S = Rank - 2;
  using E = typename OutputEpilogue<Acc, Out>::E;
  const index_t features = out_shape[1];
  // Without accumulation an uncovered output depends on its feature only.
  std::vector<Out> value(read_out ? 0 : static_cast<std::size_t>(features));
  for (std::size_t o = 0; o < value.size(); ++o)
    value[o] = ep.complete(ep.add_bias(E(0), static_cast<index_t>(o)), nullptr);
  // Per spatial dimension and output index, whether a phase owns it: made
  // once, so the loop over positions below does no division.
  std::array<std::vector<char>, S> covered;
  for (std::size_t d = 0; d < S; ++d) {
    const AxisPhases& ax = split.axes[d];
    const auto end = ax.phases.begin() + static_cast<std::ptrdiff_t>(ax.kept);
    covered[d].resize(static_cast<std::size_t>(out_shape[2 + d]));
    for (index_t q = 0; q < out_shape[2 + d]; ++q) {
      const index_t phi = q % ax.step;
      const auto it =
          std::lower_bound(ax.phases.begin(), end, phi, [](const AxisPhase& p, index_t v) { return p.first < v; });
      covered[d][static_cast<std::size_t>(q)] = it != end && it->first == phi;
    }
  }
  const bool none_covered = split.phases.empty();
  const index_t o_stride = out_stride[1];
  auto fill_position = [&](index_t off) {
    Out* dst = out + off;
    if (!read_out && o_stride == 1) {
      std::copy(value.begin(), value.end(), dst);  // features contiguous: one block copy
      return;
    }
    for (index_t o = 0; o < features; ++o) {
      dst[o * o_stride] =
          read_out ? ep.complete(ep.add_bias(E(0), o), dst + o * o_stride) : value[static_cast<std::size_t>(o)];
    }
  };
  if constexpr (S == 0) {
    if (none_covered) {
      parallel_for(
          out_shape[0], workers, [&](index_t n, int) { fill_position(n * out_stride[0]); }, pool);
    }
  } else {
    index_t inner = 1;  // positions per (batch, first spatial index)
    for (std::size_t d = 1; d < S; ++d) inner *= out_shape[2 + d];
    parallel_for(
        out_shape[0] * out_shape[2], workers,
        [&](index_t job, int) {
          const index_t n = job / out_shape[2];
          std::array<index_t, S> q{};
          q[0] = job % out_shape[2];
          const bool outer_covered = !none_covered && covered[0][static_cast<std::size_t>(q[0])];
          for (index_t p = 0; p < inner; ++p) {
            bool is_covered = outer_covered;
            for (std::size_t d = 1; d < S && is_covered; ++d) is_covered = covered[d][static_cast<std::size_t>(q[d])];
            if (!is_covered) {
              index_t off = n * out_stride[0];
              for (std::size_t d = 0; d < S; ++d) off += q[d] * out_stride[2 + d];
              fill_position(off);
            }
            for (std::size_t d = S; d-- > 1;) {
              if (++q[d] < out_shape[2 + d]) break;
              q[d] = 0;
            }
          }
        },
        pool);
  }
}

}  // namespace convt::detail
