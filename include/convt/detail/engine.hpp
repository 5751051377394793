// convt/detail/engine.hpp — the driver: a packed kernel (kernel.hpp) laid
// out for one input shape, run as work units of gather/pack
// (lhs_access.hpp) → GEMM (gemm.hpp) → write (output_write.hpp).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <memory>
#include <type_traits>
#include <vector>

#include "convt/detail/border_bands.hpp"
#include "convt/detail/cpu.hpp"
#include "convt/detail/gemm.hpp"
#include "convt/detail/geometry.hpp"
#include "convt/detail/im2col.hpp"
#include "convt/detail/kernel.hpp"
#include "convt/detail/lhs_access.hpp"
#include "convt/detail/output_fill.hpp"
#include "convt/detail/output_write.hpp"
#include "convt/detail/parallel.hpp"
#include "convt/detail/phase_groups.hpp"
#include "convt/detail/phases.hpp"
#include "convt/detail/plan_body.hpp"
#include "convt/detail/prefetch.hpp"
#include "convt/detail/scratch_pool.hpp"
#include "convt/detail/tiling.hpp"
#include "convt/detail/worker_scratch.hpp"
#include "convt/tensor.hpp"
#include "convt/types.hpp"

namespace convt::detail {

template <class In, class Out, std::size_t Rank, class Acc, class Sum = Acc>
class Engine final : public PlanBody<In, Out, Rank> {
  static constexpr std::size_t S = Rank - 2;
  using Kernel = KernelData<Acc, Out, Rank, Sum>;
  static constexpr bool kBlocksSummed = !std::is_same_v<Acc, Sum>;
  // Groups of few rows, and few rows of deep and wide products, multiply
  // with the kernel as gebp's lhs (kernel_as_lhs); measured and tested for
  // the real floating GEMMs.
  static constexpr bool kKernelLhsTypes = std::is_floating_point_v<Acc>;
  // Results (Sum) follow Acc arrays of whole register blocks of rows in the
  // scratch buffer: an even count of Acc elements keeps them Sum-aligned.
  static_assert(sizeof(Sum) % sizeof(Acc) == 0 && GemmTraits<Acc>::row_block % (sizeof(Sum) / sizeof(Acc)) == 0,
                "results are laid out in Acc elements");

 public:
  /// Lays `kernel` out for the input shape of `g` (made with the kernel's
  /// own arguments): bookkeeping only, the packed matrices are shared.
  Engine(std::shared_ptr<const Kernel> kernel, Geometry<Rank> g)
      : PlanBody<In, Out, Rank>(std::move(g)),
        kernel_(std::move(kernel)),
        split_(split_phases(this->geometry_, kernel_->owned)),
        groups_(cut_border_bands(plan_groups(kernel_->split, kernel_->groups, split_, this->geometry_.batch), split_,
                                 this->geometry_.batch, this->geometry_.group_in)) {
    const Geometry<Rank>& geo = this->geometry_;
    TilingProblem tp;
    for (const PlanGroup<S>& grp : groups_) tp.group_rows.push_back(grp.grid.rows);
    kernel_lhs_.assign(groups_.size(), nullptr);
    prefetch_.assign(groups_.size(), false);
    tp.kernel_lhs.assign(groups_.size(), false);
    for (std::size_t i = 0; i < groups_.size(); ++i) {
      const PlanGroup<S>& grp = groups_[i];
      const auto& matrices = kernel_->matrices.matrices[grp.kernel_group];
      const index_t columns = matrices.empty() ? 0 : matrices.front().cols;
      prefetch_[i] = prefetch_units(grp.grid.depth, columns, geo.group_in * static_cast<index_t>(sizeof(In)),
                                    columns * static_cast<index_t>(sizeof(Out)));
      if constexpr (kKernelLhsTypes) {
        if (kernel_as_lhs(grp.grid.rows, grp.grid.depth, columns, GemmTraits<Acc>::row_block,
                          packet_groups_swap(GemmTraits<Acc>::packet) ? 0 : GemmTraits<Acc>::packet)) {
          kernel_lhs_[i] = &kernel_->lhs_matrices(grp.kernel_group);
          tp.kernel_lhs[i] = true;
          result_block_ = true;
        }
      }
    }
    tp.max_depth = split_.max_depth;
    tp.max_kc = kernel_->matrices.max_kc;
    tp.max_columns = kernel_->matrices.max_columns;
    tp.feature_groups = geo.groups;
    tp.group_out = geo.group_out;
    tp.row_block = GemmTraits<Acc>::row_block;
    tp.cache_rows = cache_rows(tp);
    tp.element_bytes = static_cast<index_t>(sizeof(Acc));
    tp.sum_elements = static_cast<index_t>(sizeof(Sum) / sizeof(Acc));
    tp.block_result = result_block_;
    tp.workers = kernel_->run.workers;
    tp.workspace_cap = kernel_->run.workspace_cap;
    tiling_ = choose_tiling(tp);
    double out_bytes = static_cast<double>(sizeof(Out));
    for (index_t e : geo.out_shape) out_bytes *= static_cast<double>(e);
    stream_output_ = stream_output(out_bytes);
    units_ = WorkUnits(tp.group_rows, tiling_, geo.groups);
    if constexpr (widens_to<In, Acc>()) {
      // Reading channels in place (indirect_lhs.hpp) pays off when every
      // tap's run of channels is whole packets.
      using Packet = typename GemmTraits<Acc>::Traits::LhsPacket4Packing;
      constexpr index_t packet = Eigen::internal::unpacket_traits<Packet>::size;
      if (packet > 1 && geo.group_in > 0 && geo.group_in % packet == 0) {
        zeros_.assign(static_cast<std::size_t>(geo.group_in), In(0));
      }
    }
  }

  std::size_t packed_kernel_bytes() const noexcept override { return kernel_->bytes(); }

  std::size_t workspace_bytes() const noexcept override {
    return static_cast<std::size_t>(workers()) * static_cast<std::size_t>(tiling_.worker_elements) * sizeof(Acc);
  }

  void run(TensorView<const In, Rank> lhs, TensorView<Out, Rank> out, bool out_is_zero) const override {
    const Geometry<Rank>& g = this->geometry_;
    if (out.size() == 0) return;
    const auto lhs_stride = canonical_strides(lhs.strides(), g.layout.lhs);
    const auto out_stride = canonical_strides(out.strides(), g.layout.out);
    const OutputEpilogue<Sum, Out>& ep = kernel_->epilogue;
    // A fresh output is zero: beta * out adds nothing.
    const bool read_out = ep.reads_output() && !out_is_zero;
    if (split_.zero_fill) {
      if (!kernel_->zero_stays_zero || read_out) {
        // Only the outputs no tap reaches: the others accumulate.
        fill_uncovered(split_, canonical_strides(out.shape(), g.layout.out), out_stride, out.data(), ep, read_out,
                       workers(), kernel_->run.pool);
      } else if (!out_is_zero) {
        fill_zero_parallel(out, workers(), kernel_->run.pool);
      }
    }
    const index_t units = units_.count();
    if (units == 0) return;
    // Scratch is taken before any worker starts: nothing below throws.
    auto scratch = scratch_.take([&] {
      const bool prefetch = std::find(prefetch_.begin(), prefetch_.end(), true) != prefetch_.end();
      return std::make_unique<Scratch>(split_.axes, workers(), tiling_, kernel_->matrices.max_taps, groups_.size(),
                                       prefetch);
    });
    for (std::size_t i = 0; i < groups_.size(); ++i) {
      scratch->access[i] = resolve_lhs_access(split_, groups_[i].grid, g, lhs_stride, lhs.size() == 0,
                                              std::is_same_v<In, Acc>, !zeros_.empty());
    }
    const int active = static_cast<int>(std::min<index_t>(workers(), units));
    parallel_for(
        units, active,
        [&](index_t u, int w) {
          // Workers take units in turn: this one's next is likely `active`
          // units on (its input is prefetched under this unit's GEMM).
          const index_t next = u + active;
          run_unit(units_[u], next < units ? units_[next] : WorkUnits::Unit{}, next < units, *scratch, w, lhs, out,
                   lhs_stride, out_stride, read_out);
        },
        kernel_->run.pool);
  }

 private:
  using Scratch = WorkerScratch<Acc, S>;

  int workers() const noexcept { return kernel_->run.workers; }

  // Eigen's own row blocking for the tallest group (keeps the packed lhs
  // block in L2).
  static index_t cache_rows(const TilingProblem& tp) {
    index_t kc = std::max<index_t>(tp.max_depth, 1);
    index_t mc = 1;
    for (index_t r : tp.group_rows) mc = std::max(mc, r);
    index_t nc = std::max<index_t>(tp.max_columns, 1);
    Eigen::internal::computeProductBlockingSizes<Acc, Acc, 1>(kc, mc, nc, index_t{1});
    return mc;
  }

  /// Under a unit's GEMM (`un` in a group that prefetches): the output
  /// lines its write will store, and the input of unit `next`.
  void prefetch_under_gemm(const WorkUnits::Unit& un, const WorkUnits::Unit* next, Scratch& scratch, int w,
                           const In* lhs, Out* out_base, const std::array<index_t, Rank>& lhs_stride,
                           const std::array<index_t, Rank>& out_stride) const {
    const Geometry<Rank>& g = this->geometry_;
    const auto wi = static_cast<std::size_t>(w);
    // Only groups whose input is read through the (tap, row) offset table,
    // channels contiguous: where the GEMM reads the input in place (k = s),
    // prefetching the output alone measured 2-4% slower (U-Net's k2 s2).
    auto through_table = [&](std::size_t group) {
      const LhsSource source = scratch.access[group].source;
      return prefetch_[group] && (source == LhsSource::Indirect || source == LhsSource::GatherRows);
    };
    // Streamed outputs skip the caches on purpose; channel-strided rows are
    // not runs of lines.
    if (through_table(un.group) && !stream_output_ && out_stride[1] == 1) {
      const PlanGroup<S>& grp = groups_[un.group];
      const auto grid_counts = phase_counts(split_.axes, grp.grid.axis_phase);
      index_t* row_offset = scratch.gather[wi].row_offset.data();  // rewritten by the write
      for (const auto& m : grp.members) {
        const GridPlacement<S> at{grid_counts, m.shift};
        tile_row_offsets(split_, split_.phases[m.phase], m.partial ? &at : nullptr, un.row0, un.rows, out_stride,
                         row_offset);
        prefetch_tile_output(out_base, row_offset, un.rows, un.fgs * g.group_out);
      }
    }
    if (next == nullptr || !through_table(next->group)) return;
    const Phase<S>& grid = groups_[next->group].grid;
    GatherScratch<S>& table = scratch.ahead[wi];
    tile_tap_offsets(split_, grid, next->row0, next->rows, lhs_stride, table);
    prefetch_tile_input(lhs + next->fg0 * g.group_in, table.tile_tap_offset.data(), next->rows, grid.taps,
                        next->fgs * g.group_in, scratch.spans.data() + scratch.taps * w);
  }

  void run_unit(const WorkUnits::Unit& un, const WorkUnits::Unit& next_unit, bool has_next, Scratch& scratch, int w,
                const TensorView<const In, Rank>& lhs, const TensorView<Out, Rank>& out,
                const std::array<index_t, Rank>& lhs_stride, const std::array<index_t, Rank>& out_stride,
                bool read_out) const {
    const LhsAccess& access = scratch.access[un.group];
    GatherScratch<S>& gs = scratch.gather[static_cast<std::size_t>(w)];
    const Geometry<Rank>& g = this->geometry_;
    const PlanGroup<S>& grp = groups_[un.group];
    const index_t Og = g.group_out, Cg = g.group_in;
    const auto grid_counts = phase_counts(split_.axes, grp.grid.axis_phase);
    auto placement = [&](const typename PlanGroup<S>::Member& m) { return GridPlacement<S>{grid_counts, m.shift}; };
    // This unit computes output features [fg0 * Og, (fg0 + fgs) * Og).
    Out* const out_base = out.data() + un.fg0 * Og * out_stride[1];
    const OutputEpilogue<Sum, Out>& ep = kernel_->epilogue;
    if (access.source == LhsSource::Zeros) {
      for (const auto& m : grp.members) {
        const GridPlacement<S> at = placement(m);
        fill_tile<Rank>(split_, split_.phases[m.phase], m.partial ? &at : nullptr, un.row0, un.rows, un.fgs * Og,
                        out_base, out_stride, gs.row_offset.data(), ep, un.fg0 * Og, read_out);
      }
      return;
    }
    const auto& matrices = kernel_->matrices.matrices[grp.kernel_group];
    const index_t columns = matrices.front().cols / std::max<index_t>(Og, 1);  // members of the kernel group
    const UnitBuffers<Acc, Sum> buf = scratch.template buffers<Sum>(
        w, tiling_.tile_rows, split_.max_depth, kernel_->matrices.max_kc, kernel_->matrices.max_columns, result_block_);
    Sum* const res = buf.res;
    if (access.source == LhsSource::Indirect) tile_tap_offsets(split_, grp.grid, un.row0, un.rows, lhs_stride, gs);
    for (index_t j = 0; j < un.fgs; ++j) {
      const index_t fg = un.fg0 + j;
      const LhsTile<In, Acc, Rank> pack_lhs(access, split_, grp.grid, un.row0, un.rows,
                                            lhs.data() + fg * Cg * lhs_stride[1], lhs_stride, Cg, gs, buf.tile,
                                            zeros_.data());
      // One GEMM per feature group for the phase group; kernel member m's
      // outputs are columns [m*Og, (m+1)*Og).
      const auto fgi = static_cast<std::size_t>(fg);
      // After the unit's first pack, before its first GEMM block.
      bool prefetch = j == 0 && !scratch.ahead.empty();
      auto after_pack = [&] {
        if (!prefetch) return;
        prefetch = false;
        prefetch_under_gemm(un, has_next ? &next_unit : nullptr, scratch, w, lhs.data(), out_base, lhs_stride,
                            out_stride);
      };
      if (kernel_lhs_[un.group] != nullptr) {
        if constexpr (kKernelLhsTypes) {
          auto pack_rhs = [&](Acc* block, index_t k0, index_t kc) {
            pack_lhs.pack_as_rhs(block, k0, kc);
            after_pack();
          };
          gemm_tile_kernel_lhs(un.rows, (*kernel_lhs_[un.group])[fgi], buf.block_a, res, pack_rhs, grp.depth_runs,
                               buf.part);
        }
      } else {
        auto pack = [&](Acc* block, index_t k0, index_t kc) {
          pack_lhs(block, k0, kc);
          after_pack();
        };
        gemm_tile(un.rows, matrices[fgi], buf.block_a, res, pack, grp.depth_runs, buf.part);
      }
      if (un.fgs == 1) break;
      // Several groups per unit (small Og, e.g. depthwise): stage the
      // results side by side, member m's block = [rows x fgs*Og], so the
      // output is written fgs*Og features at a time.
      for (index_t m = 0; m < columns; ++m) {
        std::copy_n(res + m * Og * un.rows, Og * un.rows, buf.staged + (m * un.fgs + j) * Og * un.rows);
      }
    }
    Sum* result = un.fgs > 1 ? buf.staged : res;
    for (const auto& m : grp.members) {
      const GridPlacement<S> at = placement(m);
      write_tile<Rank>(split_, split_.phases[m.phase], m.partial ? &at : nullptr, un.row0, un.rows,
                       result + m.column * un.fgs * Og * un.rows, un.fgs * Og, out_base, out_stride,
                       gs.row_offset.data(), ep, un.fg0 * Og, read_out, stream_output_);
    }
  }

  std::shared_ptr<const Kernel> kernel_;
  PhaseSplit<Rank> split_;  // the plan's phases, counted, and the groups' grid phases
  std::vector<PlanGroup<S>> groups_;
  // Per group: its kernel group's matrices packed as gebp's lhs when the
  // group multiplies with them that way (kernel_as_lhs), else null.
  std::vector<const std::vector<PackedMatrix<Acc>>*> kernel_lhs_;
  bool result_block_ = kBlocksSummed;  // scratch holds a gebp result block besides the results
  bool stream_output_ = false;         // the output write uses streaming stores (stream_output)
  std::vector<bool> prefetch_;         // per group: its units prefetch under the GEMM (prefetch_units)
  Tiling tiling_;
  WorkUnits units_;
  std::vector<In> zeros_;  // one tap's channels of padding, when packing reads the input in place
  mutable ScratchPool<Scratch> scratch_;
};

}  // namespace convt::detail
