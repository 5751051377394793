// convt/detail/engine.hpp — a resolved problem with its kernel packed per
// phase, for one accumulator type; runs the pipeline gather → GEMM → write
// over (phase, row tile) work units.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <memory>
#include <vector>

#include "convt/detail/gemm.hpp"
#include "convt/detail/geometry.hpp"
#include "convt/detail/im2col.hpp"
#include "convt/detail/indirect_lhs.hpp"
#include "convt/detail/output_write.hpp"
#include "convt/detail/parallel.hpp"
#include "convt/detail/phases.hpp"
#include "convt/detail/scratch_pool.hpp"
#include "convt/padding.hpp"
#include "convt/tensor.hpp"
#include "convt/types.hpp"

#ifndef CONVT_TILE_TARGET_BYTES
#define CONVT_TILE_TARGET_BYTES (256 * 1024)
#endif

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
  virtual Accumulator accumulator() const noexcept = 0;
  virtual std::size_t packed_kernel_bytes() const noexcept = 0;
  virtual std::size_t workspace_bytes() const noexcept = 0;
  const Geometry<Rank>& geometry() const noexcept { return geometry_; }

 protected:
  explicit PlanBody(Geometry<Rank> g) : geometry_(std::move(g)) {}
  Geometry<Rank> geometry_;
};

/// The kernel in canonical [O, I, k...] order as a strided view (flipped and
/// O/I-swapped through strides when transpose_kernel is set).
template <std::size_t Rank, class R>
CanonicalKernel<Rank> canonical_kernel(const TensorView<const R, Rank>& rhs, const Layout<Rank>& layout,
                                       bool transpose_kernel) {
  CanonicalKernel<Rank> k;
  for (std::size_t i = 0; i < Rank; ++i) {
    k.extent[i] = rhs.shape()[layout.rhs[i]];
    k.stride[i] = rhs.strides()[layout.rhs[i]];
  }
  return transpose_kernel ? flip_kernel(k) : k;
}

template <class In, class Out, std::size_t Rank, class Acc>
class Engine final : public PlanBody<In, Out, Rank> {
  static constexpr std::size_t S = Rank - 2;
  using G = GemmTraits<Acc>;

 public:
  Engine(Geometry<Rank> g, PhaseSplit<Rank> split, const TensorView<const In, Rank>& rhs, int num_threads,
         std::size_t workspace_cap, Accumulator kind)
      : PlanBody<In, Out, Rank>(std::move(g)),
        split_(std::move(split)),
        workers_(resolve_threads(num_threads)),
        kind_(kind) {
    make_groups();
    if constexpr (std::is_same_v<In, Acc>) {
      // Reading channels in place (indirect_lhs.hpp) pays off when every
      // tap's run of channels is whole packets.
      constexpr index_t packet =
          Eigen::internal::unpacket_traits<typename G::Traits::LhsPacket4Packing>::size;
      const index_t channels = this->geometry_.group_in;
      if (packet > 1 && channels > 0 && channels % packet == 0) {
        zeros_.assign(static_cast<std::size_t>(channels), Acc(0));
      }
    }
    pack_kernel(rhs);
    choose_tiles(workspace_cap);
    make_units();
  }

  Accumulator accumulator() const noexcept override { return kind_; }

  std::size_t packed_kernel_bytes() const noexcept override {
    std::size_t bytes = 0;
    for (const auto& grp : groups_) {
      for (const auto& p : grp.packed) bytes += p.data.size() * sizeof(Acc);
    }
    return bytes;
  }

  std::size_t workspace_bytes() const noexcept override {
    return static_cast<std::size_t>(workers_) * static_cast<std::size_t>(worker_elements()) * sizeof(Acc);
  }

  void run(TensorView<const In, Rank> lhs, TensorView<Out, Rank> out, bool out_is_zero) const override {
    const Geometry<Rank>& g = this->geometry_;
    const auto lhs_stride = canonical_strides(lhs.strides(), g.layout.lhs);
    const auto out_stride = canonical_strides(out.strides(), g.layout.out);
    if (out.size() == 0) return;
    // Outputs that no phase covers (reached by no tap) are zeros.
    if (split_.zero_fill && !out_is_zero) {
      // Split the zero fill along the output's longest dimension.
      std::size_t dim = 0;
      for (std::size_t d = 1; d < Rank; ++d) {
        if (out.shape()[d] > out.shape()[dim]) dim = d;
      }
      auto slice_shape = out.shape();
      slice_shape[dim] = 1;
      parallel_for(out.shape()[dim], workers_, [&](index_t i, int) {
        fill_zero(TensorView<Out, Rank>(out.data() + i * out.strides()[dim], slice_shape, out.strides()));
      });
    }
    const index_t units = units_end_.empty() ? 0 : units_end_.back();
    if (units == 0) return;
    const int workers = static_cast<int>(std::min<index_t>(workers_, units));
    // Scratch is taken before any worker starts: nothing below throws.
    auto scratch = pool_.take([&] { return std::make_unique<Scratch>(split_.axes, workers_, worker_elements(), tile_rows_, max_taps_); });
    parallel_for(units, workers, [&](index_t u, int w) {
      const Unit un = unit(u);
      const Group& grp = groups_[un.group];
      const Phase<S>& ph = split_.phases[grp.phases.front()];
      const index_t rows = std::min(tile_rows_, ph.rows - un.row0);
      // This unit computes feature groups [fg0, fg0 + nfg): output features
      // [fg0 * Og, (fg0 + nfg) * Og).
      const index_t Og = g.group_out, Cg = g.group_in;
      const index_t fg0 = un.fg_block * fg_block_;
      const index_t nfg = std::min(fg_block_, g.groups - fg0);
      Out* const out_base = out.data() + fg0 * Og * out_stride[1];
      if (ph.depth == 0 || lhs.size() == 0) {
        // No tap, or no input element (the view's data may then be null):
        // every output of these phases is zero.
        for (std::size_t p : grp.phases) {
          zero_tile<Rank>(split_, split_.phases[p], un.row0, rows, nfg * Og, out_base, out_stride);
        }
        return;
      }
      Acc* im2col = scratch->buffer(w);
      Acc* block_a = im2col + tile_rows_ * split_.max_depth;
      Acc* res = block_a + tile_rows_ * max_kc_;
      Acc* block_res = res + tile_rows_ * max_group_cols_;
      GatherScratch<S>& gs = scratch->gather[static_cast<std::size_t>(w)];
      const index_t members = static_cast<index_t>(grp.phases.size());
      const bool staged = nfg > 1;
      // When the phase's im2col matrix is the input itself, read it in place
      // (row-major: rows = positions; channel-major: a column-major matrix).
      const index_t row_stride = direct_row_stride(ph, lhs_stride);
      const index_t col_stride = row_stride > 0 ? 0 : direct_col_stride(ph, lhs_stride);
      const bool col_major = col_stride > 0 || (row_stride == 0 && lhs_stride[1] != 1);
      // Otherwise, when packets of channels can be read from the input as
      // they are, the GEMM's packing reads them there (no gathered tile).
      const bool indirect = row_stride == 0 && !col_major && !zeros_.empty();
      if (indirect) tile_tap_offsets(split_, ph, un.row0, rows, lhs_stride, gs);
      for (index_t j = 0; j < nfg; ++j) {
        const index_t fg = fg0 + j;
        const In* lhs_group = lhs.data() + fg * Cg * lhs_stride[1];
        const Acc* a = im2col;
        index_t a_stride = ph.depth;
        if (row_stride > 0) {
          if constexpr (std::is_same_v<In, Acc>) a = lhs_group + un.row0 * row_stride;
          a_stride = row_stride;
        } else if (col_stride > 0) {
          if constexpr (std::is_same_v<In, Acc>) a = lhs_group + un.row0;
          a_stride = col_stride;
        } else if (indirect) {
          // packed straight from the input below
        } else if (!col_major) {
          gather_tile<Rank>(split_, ph, un.row0, rows, lhs_group, lhs_stride, Cg, gs, im2col);
        } else {
          gather_tile_colmajor<Rank>(split_, ph, un.row0, rows, lhs_group, lhs_stride, Cg, gs, im2col, rows);
          a_stride = rows;
        }
        // One GEMM per feature group for the phase group; member m's outputs
        // are columns [m*Og, (m+1)*Og).
        const PackedMatrix<Acc>& b = grp.packed[static_cast<std::size_t>(fg)];
        if (indirect) {
          if constexpr (std::is_same_v<In, Acc>) {
            const IndirectLhsMapper<Acc> mapped(lhs_group, gs.tile_tap_offset.data(), rows, Cg, zeros_.data());
            gemm_tile_packed(rows, b, block_a, res, [&](Acc* block, index_t k0, index_t kc) {
              pack_lhs_indirect(block, mapped.getSubMapper(0, k0), kc, rows);
            });
          }
        } else if (col_major) {
          gemm_tile<Eigen::ColMajor>(a, a_stride, rows, b, block_a, res);
        } else {
          gemm_tile<Eigen::RowMajor>(a, a_stride, rows, b, block_a, res);
        }
        if (!staged) break;
        // Several groups per unit (small Og, e.g. depthwise): stage the
        // results side by side, member m's block = [rows x nfg*Og], so the
        // output is written nfg*Og features at a time.
        for (index_t m = 0; m < members; ++m) {
          std::copy_n(res + m * Og * rows, Og * rows, block_res + (m * nfg + j) * Og * rows);
        }
      }
      const Acc* result = staged ? block_res : res;
      for (index_t m = 0; m < members; ++m) {
        write_tile<Rank>(split_, split_.phases[grp.phases[static_cast<std::size_t>(m)]], un.row0, rows,
                         result + m * nfg * Og * rows, nfg * Og, out_base, out_stride, gs.row_offset.data());
      }
    });
  }

 private:
  index_t worker_elements() const noexcept {
    return tile_rows_ * (split_.max_depth + max_kc_ + max_group_cols_ + staged_cols());
  }

  // Columns of the staging block that collects several feature groups.
  index_t staged_cols() const noexcept { return fg_block_ > 1 ? max_group_cols_ * fg_block_ : 0; }

  // Phases whose im2col matrices are identical (same row counts and tap
  // shifts in every dimension: e.g. all phases of k = s, or the two shift
  // patterns of FCN's k = 2s) share one gather and one GEMM against their
  // kernels side by side, up to kGroupColumns columns.
  bool same_im2col(const Phase<S>& a, const Phase<S>& b) const {
    if (a.depth != b.depth || a.rows != b.rows) return false;
    for (std::size_t d = 0; d < S; ++d) {
      const AxisPhase& x = split_.axes[d].phases[a.axis_phase[d]];
      const AxisPhase& y = split_.axes[d].phases[b.axis_phase[d]];
      if (x.count != y.count || x.offsets != y.offsets) return false;
    }
    return true;
  }

  void make_groups() {
    const index_t O = this->geometry_.group_out;
    const std::size_t most = static_cast<std::size_t>(std::max<index_t>(1, kGroupColumns / std::max<index_t>(O, 1)));
    std::vector<std::size_t> open;  // groups still accepting members
    for (std::size_t p = 0; p < split_.phases.size(); ++p) {
      bool placed = false;
      for (std::size_t gi : open) {
        Group& grp = groups_[gi];
        if (grp.phases.size() < most && same_im2col(split_.phases[grp.phases.front()], split_.phases[p])) {
          grp.phases.push_back(p);
          placed = true;
          break;
        }
      }
      if (!placed) {
        groups_.emplace_back();
        groups_.back().phases.push_back(p);
        open.push_back(groups_.size() - 1);
      }
    }
  }

  // Kernel rows of each (phase group, feature group), row-major
  // [depth x (members * Og)]: row tap * Cg + c, column member * Og + o; then
  // packed for gebp. Feature group fg uses output features fg*Og + o and
  // input features fg*Cg + c of the canonical kernel; after transpose_kernel
  // (a swapped view) the group's slice lies along the I axis instead.
  void pack_kernel(const TensorView<const In, Rank>& rhs) {
    const Geometry<Rank>& g = this->geometry_;
    const CanonicalKernel<Rank> k = canonical_kernel(rhs, g.layout, g.transpose_kernel);
    // An empty kernel (some extent 0) contributes nothing: its packed
    // matrices stay zero and its (possibly null) data is never touched.
    const bool empty_kernel = rhs.size() == 0;
    const In* base = empty_kernel ? nullptr : rhs.data() + k.base_offset;
    const index_t O = g.group_out;
    const index_t C = g.group_in;
    std::vector<Acc> rows;
    for (Group& grp : groups_) {
      for (index_t fg = 0; fg < g.groups; ++fg) {
        const index_t depth = split_.phases[grp.phases.front()].depth;
        const index_t cols = O * static_cast<index_t>(grp.phases.size());
        const index_t group_offset = g.transpose_kernel ? fg * C * k.stride[1] : fg * O * k.stride[0];
        rows.assign(static_cast<std::size_t>(depth * cols), Acc(0));
        for (std::size_t m = 0; m < grp.phases.size() && !empty_kernel; ++m) {
          const Phase<S>& ph = split_.phases[grp.phases[m]];
          std::array<std::size_t, S> j{};
          for (index_t tap = 0; tap < ph.taps; ++tap) {
            index_t off = 0;
            for (std::size_t d = 0; d < S; ++d) {
              off += split_.axes[d].phases[ph.axis_phase[d]].taps[j[d]] * k.stride[2 + d];
            }
            for (index_t c = 0; c < C; ++c) {
              Acc* row = rows.data() + (tap * C + c) * cols + static_cast<index_t>(m) * O;
              const In* src = base + group_offset + off + c * k.stride[1];
              for (index_t o = 0; o < O; ++o) row[o] = convert<Acc>(src[o * k.stride[0]]);
            }
            for (std::size_t d = S; d-- > 0;) {
              if (++j[d] < split_.axes[d].phases[ph.axis_phase[d]].taps.size()) break;
              j[d] = 0;
            }
          }
        }
        grp.packed.push_back(pack_rhs(rows.data(), depth, cols));
        max_taps_ = std::max(max_taps_, split_.phases[grp.phases.front()].taps);
        max_kc_ = std::max(max_kc_, grp.packed.back().kc);
        max_group_cols_ = std::max(max_group_cols_, cols);
      }
    }
    // Feature groups computed per unit: up to kStagedFeatures output
    // features written together, the groups spread evenly over the blocks
    // (513 depthwise groups: 4 blocks of 103 and one of 101, not 4 x 128 + 1).
    const index_t Og = std::max<index_t>(g.group_out, 1);
    const index_t most = std::min(g.groups, std::max<index_t>(1, kStagedFeatures / Og));
    const index_t blocks = g.groups / most + (g.groups % most != 0);
    fg_block_ = g.groups / blocks + (g.groups % blocks != 0);
    fg_blocks_ = g.groups / fg_block_ + (g.groups % fg_block_ != 0);
  }

  // Tile height: Eigen's own row blocking for the largest phase (so the
  // packed lhs block stays in L2), reduced until all workers' scratch fits
  // the workspace cap, rounded to the register block.
  void choose_tiles(std::size_t cap) {
    index_t most_rows = 1;
    for (const auto& ph : split_.phases) most_rows = std::max(most_rows, ph.rows);
    index_t kc = std::max<index_t>(split_.max_depth, 1);
    index_t mc = most_rows;
    index_t nc = std::max<index_t>(max_group_cols_, 1);
    Eigen::internal::computeProductBlockingSizes<Acc, Acc, 1>(kc, mc, nc, index_t{1});
    const index_t block = G::row_block;
    const index_t budget = static_cast<index_t>(std::min<std::size_t>(cap, std::size_t{1} << 62)) / workers_;
    auto bytes_per_row = [&] {
      return static_cast<index_t>(sizeof(Acc)) * (split_.max_depth + max_kc_ + max_group_cols_ + staged_cols());
    };
    // The staging block is the first thing a small workspace cap gives up:
    // fewer feature groups per unit until one register block of rows fits.
    while (fg_block_ > 1 && block * bytes_per_row() > budget) {
      fg_block_ = (fg_block_ + 1) / 2;
      fg_blocks_ = this->geometry_.groups / fg_block_ + (this->geometry_.groups % fg_block_ != 0);
    }
    const index_t per_row = bytes_per_row();
    // Keep one tile's gather, packed block and result within a fraction of
    // L2, so the stages hand data to each other in cache.
    index_t rows = std::max(std::min(mc, kTileTargetBytes / std::max<index_t>(per_row, 1)), block);
    if (per_row > 0) rows = std::min(rows, budget / per_row);
    rows = std::max(block, rows / block * block);
    // No tile taller than the tallest phase (rounded up to the block).
    rows = std::min(rows, (most_rows + block - 1) / block * block);
    // Small problems: the block-rounded tiles can leave one worker a whole
    // tile behind the other. If splitting the tallest group into exactly one
    // tile per worker finishes sooner (taller tiles, up to 4x, within the
    // workspace cap), use that.
    if (workers_ > 1 && total_units(rows) <= kUnitsPerWorker * workers_) {
      const index_t even = (most_rows + workers_ - 1) / workers_;
      const index_t balanced = (even + block - 1) / block * block;
      if (balanced > rows && balanced <= 4 * rows && (per_row == 0 || balanced <= std::max(block, budget / per_row)) &&
          makespan(balanced) < makespan(rows)) {
        rows = balanced;
      }
    }
    tile_rows_ = rows;
  }

  index_t total_units(index_t tile) const {
    index_t n = 0;
    for (const Group& grp : groups_) n += (split_.phases[grp.phases.front()].rows + tile - 1) / tile * fg_blocks_;
    return n;
  }

  // Rows the busiest worker processes when units of `tile` rows are handed
  // out in order to whichever worker is free first.
  index_t makespan(index_t tile) const {
    std::vector<index_t> load(static_cast<std::size_t>(workers_), 0);
    for (const Group& grp : groups_) {
      for (index_t r = 0, n = split_.phases[grp.phases.front()].rows; r < n; r += tile) {
        for (index_t b = 0; b < fg_blocks_; ++b) *std::min_element(load.begin(), load.end()) += std::min(tile, n - r);
      }
    }
    return *std::max_element(load.begin(), load.end());
  }

  // One worker's buffers live in one aligned block: im2col tile, packed lhs
  // block, GEMM result. Left uninitialised: every element is written first.
  struct Scratch {
    struct AlignedFree {
      void operator()(Acc* p) const noexcept { Eigen::internal::aligned_free(p); }
    };
    Scratch(const std::array<AxisPhases, S>& axes, int workers, index_t elements_per_worker, index_t tile_rows,
            index_t max_taps)
        : stride(elements_per_worker),
          data(static_cast<Acc*>(Eigen::internal::aligned_malloc(
              sizeof(Acc) * static_cast<std::size_t>(elements_per_worker) * static_cast<std::size_t>(workers)))) {
      gather.reserve(static_cast<std::size_t>(workers));
      for (int w = 0; w < workers; ++w) gather.emplace_back(axes, tile_rows, max_taps);
    }
    Acc* buffer(int worker) const noexcept { return data.get() + stride * worker; }
    index_t stride;
    std::unique_ptr<Acc, AlignedFree> data;
    std::vector<GatherScratch<S>> gather;
  };

  // When a phase has one tap that maps its rows one-to-one onto the input's
  // (n, spatial...) positions (k == s with no padding, 1x1 kernels, rank 2)
  // and the input is row-major over those with unit channel stride, the
  // im2col matrix is the input: returns its row stride, else 0.
  index_t direct_row_stride(const Phase<S>& ph, const std::array<index_t, Rank>& st) const noexcept {
    if constexpr (!std::is_same_v<In, Acc>) {
      return 0;
    } else {
      const Geometry<Rank>& g = this->geometry_;
      if (ph.taps != 1 || st[1] != 1 || ph.depth == 0) return 0;
      index_t expect = S > 0 ? st[2 + S - 1] : st[0];
      if (expect < g.in_features) return 0;
      const index_t row_stride = expect;
      for (std::size_t d = S; d-- > 0;) {
        const AxisPhase& ap = split_.axes[d].phases[ph.axis_phase[d]];
        if (ap.offsets[0] != 0 || ap.count != g.in[d] || split_.axes[d].divisor != 1) return 0;
        if (st[2 + d] != expect) return 0;
        expect *= g.in[d];
      }
      if (g.batch > 1 && st[0] != expect) return 0;
      return row_stride;
    }
  }

  // Channel-major twin of direct_row_stride: rows are consecutive input
  // positions (unit position stride, row-major spatial, one batch or batch
  // folded into positions) and channels are columns: returns the channel
  // stride, else 0.
  index_t direct_col_stride(const Phase<S>& ph, const std::array<index_t, Rank>& st) const noexcept {
    if constexpr (!std::is_same_v<In, Acc>) {
      return 0;
    } else {
      const Geometry<Rank>& g = this->geometry_;
      if (ph.taps != 1 || ph.depth == 0 || st[1] == 1) return 0;
      index_t expect = 1;
      for (std::size_t d = S; d-- > 0;) {
        const AxisPhase& ap = split_.axes[d].phases[ph.axis_phase[d]];
        if (ap.offsets[0] != 0 || ap.count != g.in[d] || split_.axes[d].divisor != 1) return 0;
        if (g.in[d] > 1 && st[2 + d] != expect) return 0;
        expect *= g.in[d];
      }
      if (g.batch > 1 && st[0] != expect) return 0;
      return st[1];
    }
  }

  // Work units are (phase group, tile, feature-group block) triples
  // numbered phase group by phase group; only the running unit counts are
  // stored, so nothing grows with the image size. Tiles are multiples of the
  // GEMM's register block, so a row's summation order never depends on the
  // tiling.
  void make_units() {
    index_t total = 0;
    for (const Group& grp : groups_) {
      const index_t rows = split_.phases[grp.phases.front()].rows;
      const index_t tiles = (rows + tile_rows_ - 1) / tile_rows_;
      total = checked_add(total, checked_mul(tiles, fg_blocks_, "work units"), "work units");
      units_end_.push_back(total);
    }
  }

  struct Unit {
    std::size_t group;
    index_t row0;
    index_t fg_block;
  };

  Unit unit(index_t u) const noexcept {
    const auto it = std::upper_bound(units_end_.begin(), units_end_.end(), u);
    const auto gi = static_cast<std::size_t>(it - units_end_.begin());
    const index_t local = u - (gi == 0 ? 0 : units_end_[gi - 1]);
    return {gi, local / fg_blocks_ * tile_rows_, local % fg_blocks_};
  }

  static constexpr index_t kTileTargetBytes = CONVT_TILE_TARGET_BYTES;

  PhaseSplit<Rank> split_;
  int workers_;
  std::vector<index_t> units_end_;  // per group: units of this and earlier groups
  mutable ScratchPool<Scratch> pool_;
  Accumulator kind_;
  struct Group {
    std::vector<std::size_t> phases;  // members, all with the same im2col
    std::vector<PackedMatrix<Acc>> packed;  // per feature group: [depth x (members * Og)]
  };
  static constexpr index_t kGroupColumns = 256;
  // Output features written together when feature groups are small.
  static constexpr index_t kStagedFeatures = 128;
  // Only problems with at most this many units per worker are rebalanced.
  static constexpr index_t kUnitsPerWorker = 8;

  std::vector<Group> groups_;
  AlignedVector<Acc> zeros_;  // one tap's channels of padding, when packing reads the input in place
  index_t max_group_cols_ = 1;
  index_t max_taps_ = 1;
  index_t max_kc_ = 1;
  index_t tile_rows_ = 1;
  index_t fg_block_ = 1;   // feature groups per unit
  index_t fg_blocks_ = 1;  // units per tile
};

}  // namespace convt::detail
