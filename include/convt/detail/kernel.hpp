// convt/detail/kernel.hpp — what a packed kernel holds: everything that
// depends on the kernel, strides, padding and options but not on the input
// shape — the phases that own taps, their groups, the packed matrices, the
// epilogue — made once and shared (immutable) by every plan made from it.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <type_traits>
#include <vector>

#include "convt/detail/epilogue.hpp"
#include "convt/detail/gemm.hpp"
#include "convt/detail/geometry.hpp"
#include "convt/detail/kernel_packing.hpp"
#include "convt/detail/parallel.hpp"
#include "convt/detail/phase_groups.hpp"
#include "convt/detail/phases.hpp"
#include "convt/options.hpp"
#include "convt/tensor.hpp"
#include "convt/types.hpp"

namespace convt::detail {

/// The options a packed kernel keeps for its plans.
struct RunOptions {
  int workers = 1;
  Eigen::ThreadPoolInterface* pool = nullptr;
  std::size_t workspace_cap = 0;
};

/// `Acc`: the GEMM's type; `Sum`: its results' (a wider Sum adds up depth
/// blocks whose Acc sums are exact, see gemm_tile).
template <class Acc, class Out, std::size_t Rank, class Sum = Acc>
struct KernelData {
  // Phase groups of at most kGroupColumns GEMM columns, or of
  // kSharedPhases phases of wide outputs up to kMaxGroupColumns: wide
  // enough to amortise the gather and packing of the left operand (with 256
  // features a phase alone fills 256 columns, and the mask head's k2 s2
  // layer packed its input once per phase: 9% of its profile, 2% shared
  // over the four; the layer 1.1-1.2x faster in noisy A/B runs), narrow
  // enough to keep the result tile in cache. gebp still takes kGebpColumns
  // at a time (gemm.hpp).
  static constexpr index_t kGroupColumns = 256, kSharedPhases = 4, kMaxGroupColumns = 1024;
  static constexpr index_t group_columns(index_t group_out) {
    return std::clamp(kSharedPhases * std::min(group_out, kMaxGroupColumns), kGroupColumns, kMaxGroupColumns);
  }

  /// `g` is the problem's geometry for any input shape (only its kernel,
  /// feature, stride, dilation and padding fields are used).
  template <class In>
  KernelData(const Geometry<Rank>& g, const TensorView<const In, Rank>& rhs, const ConvTransposeOptions<Rank - 2>& o)
      : run{resolve_threads(o.num_threads, o.thread_pool), o.thread_pool, o.workspace_bytes},
        epilogue(EpilogueSpec{o.bias, o.accumulate, o.activation}, g.out_features),
        zero_stays_zero(epilogue.zero_stays_zero()),
        owned(owned_axes(g, o.lowering)),
        split(kernel_phases(g, owned)),
        groups(group_phases(split, g.group_out, group_columns(g.group_out))),
        matrices(pack_kernel<Acc>(split, groups, g, rhs, exact_block<In>())),
        lazy_lhs_(std::make_unique<LazyLhs[]>(groups.size())) {}

  /// Depth blocks whose sums Acc holds exactly, when a wider Sum adds them
  /// up (0: Eigen's blocking).
  template <class In>
  static constexpr index_t exact_block() {
    if constexpr (std::is_same_v<Acc, Sum>) {
      return 0;
    } else {
      return exact_float_terms<In>();
    }
  }

  /// Phase group `group`'s matrices packed as gebp's lhs as well
  /// (repack_as_lhs), for plans whose groups of that kernel group have few
  /// rows (kernel_as_lhs). Made by the first plan that needs them and shared
  /// by every later one, so a kernel used only on large inputs never holds
  /// the second copy; safe when plans are made concurrently.
  const std::vector<PackedMatrix<Acc>>& lhs_matrices(std::size_t group) const {
    LazyLhs& lazy = lazy_lhs_[group];
    std::call_once(lazy.once, [&] {
      std::size_t added = 0;
      for (const PackedMatrix<Acc>& m : matrices.matrices[group]) {
        lazy.matrices.push_back(repack_as_lhs(m));
        added += lazy.matrices.back().data.size() * sizeof(Acc);
      }
      lhs_bytes_ += added;
    });
    return lazy.matrices;
  }

  /// Bytes of the packed matrices, with the lhs copies made so far.
  std::size_t bytes() const noexcept { return matrices.bytes() + lhs_bytes_.load(); }

  RunOptions run;
  OutputEpilogue<Sum, Out> epilogue;
  bool zero_stays_zero;                    // an output no tap reaches stays zero in a zeroed output
  std::array<AxisPhases, Rank - 2> owned;  // per dimension, the phases that own taps
  PhaseSplit<Rank> split;                  // the kernel's phases (no counts)
  std::vector<PhaseGroup> groups;
  PackedMatrices<Acc> matrices;  // [group][feature group]

 private:
  struct LazyLhs {
    std::once_flag once;
    std::vector<PackedMatrix<Acc>> matrices;  // [feature group]
  };
  std::unique_ptr<LazyLhs[]> lazy_lhs_;  // per phase group
  mutable std::atomic<std::size_t> lhs_bytes_{0};
};

}  // namespace convt::detail
