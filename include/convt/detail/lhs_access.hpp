// convt/detail/lhs_access.hpp — where a phase group's GEMM left operand (its
// im2col matrix) comes from, decided once per group and run from the input's
// strides, and how a tile of it is packed for Eigen's kernel.
#pragma once

#include <array>
#include <cstddef>
#include <type_traits>

#include "convt/detail/gemm.hpp"
#include "convt/detail/geometry.hpp"
#include "convt/detail/im2col.hpp"
#include "convt/detail/indirect_lhs.hpp"
#include "convt/detail/phases.hpp"

namespace convt::detail {

/// The source of a phase group's im2col matrix.
enum class LhsSource {
  /// No tap reaches these outputs, or the input is empty: they are zeros.
  Zeros,
  /// The matrix is the input itself, row-major (one tap whose rows map
  /// one-to-one onto the input's positions, channels contiguous): k = s
  /// without padding, 1x1 kernels, rank 2.
  InPlaceRows,
  /// The same for channel-major inputs: a column-major matrix.
  InPlaceColumns,
  /// Packed straight from the input through a (tap, row) offset table
  /// (indirect_lhs.hpp): channel-contiguous input of the accumulator type or
  /// one it widens on load (widens_to), whole vector packets of
  /// channels per group.
  Indirect,
  /// Gathered into a row-major tile (gather_tile).
  GatherRows,
  /// Gathered into a column-major tile (gather_tile_colmajor): channel-major
  /// inputs, whose neighbouring positions are adjacent in memory.
  GatherColumns,
};

struct LhsAccess {
  LhsSource source = LhsSource::Zeros;
  index_t stride = 0;  // in place: the matrix's row (InPlaceRows) or column (InPlaceColumns) stride
};

/// Row stride of the input read as the phase's im2col matrix (row-major:
/// rows = (n, spatial...) positions, unit channel stride), or 0 when it
/// cannot be.
template <std::size_t Rank>
index_t in_place_row_stride(const PhaseSplit<Rank>& split, const Phase<Rank - 2>& ph, const Geometry<Rank>& g,
                            const std::array<index_t, Rank>& st) {
  constexpr std::size_t S = Rank - 2;
  if (ph.taps != 1 || st[1] != 1 || ph.depth == 0) return 0;
  index_t expect = S > 0 ? st[2 + S - 1] : st[0];
  if (expect < g.in_features) return 0;
  const index_t row_stride = expect;
  for (std::size_t d = S; d-- > 0;) {
    const AxisPhase& ap = split.axes[d].phases[ph.axis_phase[d]];
    if (ap.offsets[0] != 0 || ap.count != g.in[d] || split.axes[d].divisor != 1) return 0;
    if (st[2 + d] != expect) return 0;
    expect *= g.in[d];
  }
  if (g.batch > 1 && st[0] != expect) return 0;
  return row_stride;
}

/// Channel-major twin: rows are consecutive input positions (unit position
/// stride, row-major spatial, one batch or batch folded into positions) and
/// channels are columns. Returns the channel stride, or 0.
template <std::size_t Rank>
index_t in_place_column_stride(const PhaseSplit<Rank>& split, const Phase<Rank - 2>& ph, const Geometry<Rank>& g,
                               const std::array<index_t, Rank>& st) {
  constexpr std::size_t S = Rank - 2;
  if (ph.taps != 1 || ph.depth == 0 || st[1] == 1) return 0;
  index_t expect = 1;
  for (std::size_t d = S; d-- > 0;) {
    const AxisPhase& ap = split.axes[d].phases[ph.axis_phase[d]];
    if (ap.offsets[0] != 0 || ap.count != g.in[d] || split.axes[d].divisor != 1) return 0;
    if (g.in[d] > 1 && st[2 + d] != expect) return 0;
    expect *= g.in[d];
  }
  if (g.batch > 1 && st[0] != expect) return 0;
  return st[1];
}

/// Decides the source of one phase group's matrix for an input with
/// canonical strides `st`. `in_place` says the input's element type is the
/// accumulator; `indirect` that its channels per group are whole packets.
template <std::size_t Rank>
LhsAccess resolve_lhs_access(const PhaseSplit<Rank>& split, const Phase<Rank - 2>& ph, const Geometry<Rank>& g,
                             const std::array<index_t, Rank>& st, bool input_empty, bool in_place, bool indirect) {
  if (ph.depth == 0 || input_empty) return {LhsSource::Zeros, 0};
  if (in_place) {
    if (const index_t rs = in_place_row_stride(split, ph, g, st)) return {LhsSource::InPlaceRows, rs};
    if (const index_t cs = in_place_column_stride(split, ph, g, st)) return {LhsSource::InPlaceColumns, cs};
  }
  if (st[1] != 1) return {LhsSource::GatherColumns, 0};
  return {indirect ? LhsSource::Indirect : LhsSource::GatherRows, 0};
}

/// One tile of a phase group's matrix for one feature group, ready to pack:
/// `lhs` points at the group's first input channel; for the gathering
/// sources `tile` receives the gathered matrix. Packs columns [k0, k0 + kc)
/// of the tile's rows into gebp's lhs format. `zeros`: a run of `channels`
/// zeros, read for padding by the Indirect source.
template <class In, class Acc, std::size_t Rank>
class LhsTile {
 public:
  LhsTile(const LhsAccess& access, const PhaseSplit<Rank>& split, const Phase<Rank - 2>& ph, index_t row0, index_t rows,
          const In* lhs, const std::array<index_t, Rank>& lhs_stride, index_t channels, GatherScratch<Rank - 2>& gs,
          Acc* tile, const In* zeros)
      : source_(access.source), rows_(rows), channels_(channels), offsets_(gs.tile_tap_offset.data()), zeros_(zeros) {
    switch (source_) {
      case LhsSource::InPlaceRows:
        if constexpr (std::is_same_v<In, Acc>) matrix_ = lhs + row0 * access.stride;
        stride_ = access.stride;
        break;
      case LhsSource::InPlaceColumns:
        if constexpr (std::is_same_v<In, Acc>) matrix_ = lhs + row0;
        stride_ = access.stride;
        break;
      case LhsSource::Indirect:
        // The offset table is the unit's (tile_tap_offsets), shared by its
        // feature groups; only the base moves.
        input_ = lhs;
        break;
      case LhsSource::GatherRows:
        gather_tile<Rank>(split, ph, row0, rows, lhs, lhs_stride, channels, gs, tile);
        matrix_ = tile;
        stride_ = ph.depth;
        break;
      case LhsSource::GatherColumns:
        gather_tile_colmajor<Rank>(split, ph, row0, rows, lhs, lhs_stride, channels, gs, tile, rows);
        matrix_ = tile;
        stride_ = rows;
        break;
      case LhsSource::Zeros: break;
    }
  }

  /// Packs the same columns in gebp's rhs format, for products with the
  /// kernel as gebp's lhs (gemm_tile_kernel_lhs): the tile's transpose is
  /// [depth x rows].
  void pack_as_rhs(Acc* block, index_t k0, index_t kc) const {
    if constexpr (widens_to<In, Acc>()) {
      if (source_ == LhsSource::Indirect) {
        pack_rhs_indirect(block, indirect().getSubMapper(0, k0), kc, rows_);
        return;
      }
    }
    // A row-major tile is a column-major transpose, and the other way round.
    if (source_ == LhsSource::InPlaceColumns || source_ == LhsSource::GatherColumns) {
      pack_rhs<Eigen::RowMajor>(block, k0, kc);
    } else {
      pack_rhs<Eigen::ColMajor>(block, k0, kc);
    }
  }

  void operator()(Acc* block, index_t k0, index_t kc) const {
    if constexpr (widens_to<In, Acc>()) {
      if (source_ == LhsSource::Indirect) {
        pack_lhs_indirect(block, indirect().getSubMapper(0, k0), kc, rows_);
        return;
      }
    }
    if (source_ == LhsSource::InPlaceColumns || source_ == LhsSource::GatherColumns) {
      pack<Eigen::ColMajor>(block, k0, kc);
    } else {
      pack<Eigen::RowMajor>(block, k0, kc);
    }
  }

 private:
  IndirectLhsMapper<In, Acc> indirect() const {
    return IndirectLhsMapper<In, Acc>(input_, offsets_, rows_, channels_, zeros_);
  }

  template <int Order>
  void pack(Acc* block, index_t k0, index_t kc) const {
    using Mapper = typename GemmTraits<Acc, Order>::LhsMapper;
    const Mapper a(matrix_, stride_);
    PackLhs<Acc, Mapper, Order>()(block, a.getSubMapper(0, k0), kc, rows_);
  }

  template <int TransposeOrder>
  void pack_rhs(Acc* block, index_t k0, index_t kc) const {
    using Mapper = Eigen::internal::const_blas_data_mapper<Acc, index_t, TransposeOrder>;
    const Mapper at(matrix_, stride_);
    PackRhsOf<Acc, TransposeOrder>()(block, at.getSubMapper(k0, 0), kc, rows_);
  }

  LhsSource source_;
  index_t rows_;
  index_t channels_;
  const index_t* offsets_;
  const In* zeros_;
  const In* input_ = nullptr;    // Indirect
  const Acc* matrix_ = nullptr;  // the other sources
  index_t stride_ = 0;
};

}  // namespace convt::detail
