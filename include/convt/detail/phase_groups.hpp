// convt/detail/phase_groups.hpp — phases that share one gather and one GEMM.
//
// A kernel groups its phases once: phases whose taps have the same input
// shifts in every dimension (all phases of k = s, the two shift patterns of
// FCN's k = 2s, many of a long 1-D kernel) have the same im2col matrix up to
// its row count, so their kernels are packed side by side and multiplied
// against one gathered matrix. A plan — one input shape — then lays each
// group's rows out on a grid: per dimension the largest row count of its
// members (counts differ by at most one when the output is not a multiple
// of the stride); a member writes only the grid rows inside its own counts.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <vector>

#include "convt/detail/phases.hpp"

namespace convt::detail {

/// A kernel's phase group: members (indices into the kernel's phases) with
/// identical tap shifts, their kernels side by side in the packed matrix.
struct PhaseGroup {
  std::vector<std::size_t> phases;
};

/// Same taps count and shifts in every dimension (row counts ignored).
template <std::size_t Rank>
bool same_shifts(const PhaseSplit<Rank>& split, const Phase<Rank - 2>& a, const Phase<Rank - 2>& b) {
  if (a.depth != b.depth) return false;
  for (std::size_t d = 0; d < Rank - 2; ++d) {
    if (split.axes[d].phases[a.axis_phase[d]].offsets != split.axes[d].phases[b.axis_phase[d]].offsets) return false;
  }
  return true;
}

/// Groups a kernel's phases, each group with at most `max_columns` output
/// columns (members x `group_out`), members in phase order.
template <std::size_t Rank>
std::vector<PhaseGroup> group_phases(const PhaseSplit<Rank>& split, index_t group_out, index_t max_columns) {
  const std::size_t most =
      static_cast<std::size_t>(std::max<index_t>(1, max_columns / std::max<index_t>(group_out, 1)));
  std::vector<PhaseGroup> groups;
  for (std::size_t p = 0; p < split.phases.size(); ++p) {
    bool placed = false;
    for (PhaseGroup& grp : groups) {
      if (grp.phases.size() < most && same_shifts(split, split.phases[grp.phases.front()], split.phases[p])) {
        grp.phases.push_back(p);
        placed = true;
        break;
      }
    }
    if (!placed) groups.push_back(PhaseGroup{{p}});
  }
  return groups;
}

/// A phase group as one plan runs it.
template <std::size_t S>
struct PlanGroup {
  struct Member {
    index_t column;     // position in the kernel group: output columns [column * Og, (column + 1) * Og)
    std::size_t phase;  // the plan's phase it writes
    bool partial;       // its row counts are smaller than the grid's: some grid rows are not its
  };
  std::size_t kernel_group = 0;  // index into the kernel's groups (and packed matrices)
  Phase<S> grid;                 // the gathered rows: the members' shifts, the largest counts
  std::vector<Member> members;   // the members with outputs in this plan
};

/// Lays the kernel's groups out for the plan's phases (`split`, counted for
/// the plan's shapes). A kernel phase that has outputs in the plan is the
/// plan phase with the same per-dimension indices (the plan keeps a prefix
/// of each dimension's sorted phases). Grid phases whose counts no member
/// has are appended to `split`'s axes (after their `kept` real phases).
template <std::size_t Rank>
std::vector<PlanGroup<Rank - 2>> plan_groups(const PhaseSplit<Rank>& kernel, const std::vector<PhaseGroup>& groups,
                                             PhaseSplit<Rank>& split, index_t batch) {
  constexpr std::size_t S = Rank - 2;
  std::vector<PlanGroup<S>> out;
  if (split.phases.empty()) return out;
  for (std::size_t gi = 0; gi < groups.size(); ++gi) {
    PlanGroup<S> pg;
    pg.kernel_group = gi;
    std::array<index_t, S> grid{};
    for (std::size_t m = 0; m < groups[gi].phases.size(); ++m) {
      const Phase<S>& kp = kernel.phases[groups[gi].phases[m]];
      std::size_t index = 0;
      bool present = true;
      for (std::size_t d = 0; d < S; ++d) {
        present = present && kp.axis_phase[d] < split.axes[d].kept;
        index = index * split.axes[d].kept + kp.axis_phase[d];
      }
      if (!present) continue;
      pg.members.push_back({static_cast<index_t>(m), index, false});
      for (std::size_t d = 0; d < S; ++d) {
        grid[d] = std::max(grid[d], split.axes[d].phases[kp.axis_phase[d]].count);
      }
    }
    if (pg.members.empty()) continue;
    // The grid: the first member's phase, with appended axis phases where
    // another member counts more rows.
    pg.grid = split.phases[pg.members.front().phase];
    pg.grid.rows = batch;
    for (std::size_t d = 0; d < S; ++d) {
      const AxisPhase& lead = split.axes[d].phases[pg.grid.axis_phase[d]];
      if (lead.count != grid[d]) {
        AxisPhase wide = lead;
        wide.count = grid[d];
        split.axes[d].phases.push_back(std::move(wide));
        pg.grid.axis_phase[d] = split.axes[d].phases.size() - 1;
      }
      pg.grid.rows = checked_mul(pg.grid.rows, grid[d], "output rows");
    }
    for (auto& member : pg.members) {
      const Phase<S>& ph = split.phases[member.phase];
      for (std::size_t d = 0; d < S; ++d) {
        member.partial = member.partial || split.axes[d].phases[ph.axis_phase[d]].count != grid[d];
      }
    }
    out.push_back(std::move(pg));
  }
  return out;
}

}  // namespace convt::detail
