// convt/detail/kernel_packing.hpp — the right-hand GEMM operands: for each
// phase group and feature group, the kernel rows of the group's taps with
// the members' output features side by side, converted to the accumulator
// type and packed once in Eigen's panel format (gemm.hpp).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <vector>

#include "convt/detail/gemm.hpp"
#include "convt/detail/geometry.hpp"
#include "convt/detail/phase_groups.hpp"
#include "convt/detail/phases.hpp"
#include "convt/padding.hpp"
#include "convt/tensor.hpp"
#include "convt/types.hpp"

namespace convt::detail {

/// A kernel's packed matrices: matrices[group][feature group] is the
/// [depth x (members * group_out)] kernel matrix of that phase group.
template <class Acc>
struct PackedMatrices {
  std::vector<std::vector<PackedMatrix<Acc>>> matrices;
  index_t max_kc = 1;       // largest depth block of any matrix
  index_t max_columns = 1;  // widest matrix
  index_t max_taps = 1;     // most taps of any phase group

  std::size_t bytes() const noexcept {
    std::size_t total = 0;
    for (const auto& per_group : matrices) {
      for (const auto& m : per_group) total += m.data.size() * sizeof(Acc);
    }
    return total;
  }
};

/// Kernel rows of one (phase group, feature group), row-major
/// [depth x (members * Og)]: row tap * Cg + c, column member * Og + o.
/// Feature group fg uses output features fg*Og + o and input features
/// fg*Cg + c of the canonical kernel; after transpose_kernel (a swapped view)
/// the group's slice lies along the I axis instead.
template <class Acc, class In, std::size_t Rank>
void kernel_rows(const PhaseSplit<Rank>& split, const PhaseGroup& group, const Geometry<Rank>& g,
                 const CanonicalKernel<Rank>& k, const In* base, index_t fg, std::vector<Acc>& rows) {
  constexpr std::size_t S = Rank - 2;
  const index_t O = g.group_out;
  const index_t C = g.group_in;
  const index_t depth = split.phases[group.phases.front()].depth;
  const index_t cols = O * static_cast<index_t>(group.phases.size());
  const index_t group_offset = g.transpose_kernel ? fg * C * k.stride[1] : fg * O * k.stride[0];
  rows.assign(static_cast<std::size_t>(depth * cols), Acc(0));
  if (base == nullptr) return;  // an empty kernel contributes nothing
  for (std::size_t m = 0; m < group.phases.size(); ++m) {
    const Phase<S>& ph = split.phases[group.phases[m]];
    std::array<std::size_t, S> j{};
    for (index_t tap = 0; tap < ph.taps; ++tap) {
      index_t off = 0;
      for (std::size_t d = 0; d < S; ++d) off += split.axes[d].phases[ph.axis_phase[d]].taps[j[d]] * k.stride[2 + d];
      for (index_t c = 0; c < C; ++c) {
        Acc* row = rows.data() + (tap * C + c) * cols + static_cast<index_t>(m) * O;
        const In* src = base + group_offset + off + c * k.stride[1];
        for (index_t o = 0; o < O; ++o) row[o] = convert<Acc>(src[o * k.stride[0]]);
      }
      for (std::size_t d = S; d-- > 0;) {
        if (++j[d] < split.axes[d].phases[ph.axis_phase[d]].taps.size()) break;
        j[d] = 0;
      }
    }
  }
}

/// Converts and packs the kernel for every phase group and feature group,
/// in depth blocks of at most `max_kc` rows (0: Eigen's blocking).
template <class Acc, class In, std::size_t Rank>
PackedMatrices<Acc> pack_kernel(const PhaseSplit<Rank>& split, const std::vector<PhaseGroup>& groups,
                                const Geometry<Rank>& g, const TensorView<const In, Rank>& rhs, index_t max_kc = 0) {
  const CanonicalKernel<Rank> k = canonical_kernel(rhs, g.layout, g.transpose_kernel);
  // An empty kernel (some extent 0): its matrices stay zero and its
  // (possibly null) data is never touched.
  const In* base = rhs.size() == 0 ? nullptr : rhs.data() + k.base_offset;
  PackedMatrices<Acc> packed;
  std::vector<Acc> rows;
  for (const PhaseGroup& grp : groups) {
    const index_t depth = split.phases[grp.phases.front()].depth;
    const index_t cols = g.group_out * static_cast<index_t>(grp.phases.size());
    auto& per_group = packed.matrices.emplace_back();
    for (index_t fg = 0; fg < g.groups; ++fg) {
      kernel_rows(split, grp, g, k, base, fg, rows);
      // Blocks cut at the ends of the taps' channel runs (depth_block).
      per_group.push_back(pack_rhs(rows.data(), depth, cols, max_kc, g.group_in));
      packed.max_kc = std::max(packed.max_kc, per_group.back().kc);
    }
    packed.max_taps = std::max(packed.max_taps, split.phases[grp.phases.front()].taps);
    packed.max_columns = std::max(packed.max_columns, cols);
  }
  return packed;
}

}  // namespace convt::detail
