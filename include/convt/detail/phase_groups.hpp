// convt/detail/phase_groups.hpp — phases that share one gather and one GEMM.
//
// A kernel groups its phases once: phases whose taps have the same input
// shifts in every dimension (all phases of k = s, the two shift patterns of
// FCN's k = 2s, many of a long 1-D kernel) have the same im2col matrix up to
// its row count, so their kernels are packed side by side and multiplied
// against one gathered matrix. A group of at most kNarrowColumns columns
// then takes in other groups whose shifts are its own translated by a
// constant per dimension (every phase of k = 2s, e.g. k4 s2 p1): phase b's
// row t is phase a's row t + delta, so one matrix over the union of their
// rows serves both. That widens a GEMM of few output features (3 for an RGB
// head, 32 for a vocoder's last layer) and packs its left operand once
// instead of once per phase, for at most one extra row per dimension.
//
// A plan — one input shape — then lays each group's rows out on a grid: per
// dimension the grid starts at the members' smallest shift and spans the
// largest of their (shift + row count); a member writes only the grid rows
// inside its own window (GridPlacement, phases.hpp).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <vector>

#include "convt/detail/gemm.hpp"
#include "convt/detail/phases.hpp"

namespace convt::detail {

/// A kernel's phase group: members (indices into the kernel's phases) with
/// identical tap shifts, their kernels side by side in the packed matrix.
struct PhaseGroup {
  std::vector<std::size_t> phases;
};

/// Groups of at most this many GEMM columns take in groups whose shifts are
/// a translation of their own (see the header). Measured on k4 s2 layers of
/// published decoders: 3 → 12 columns 2.6–3x faster, 32 → 64 1.1–1.3x,
/// 64 → 128 1.05–1.15x; letting 128-column groups grow as well lost 9–12%
/// on 8 x 8 inputs (81 grid rows for 64).
inline constexpr index_t kNarrowColumns = 64;

/// Whether b's tap shifts are a's translated by a constant of at most one
/// row per dimension (`exact`: by zero — the same shifts). Row counts are
/// ignored.
template <std::size_t Rank>
bool shifts_match(const PhaseSplit<Rank>& split, const Phase<Rank - 2>& a, const Phase<Rank - 2>& b, bool exact) {
  if (a.depth != b.depth) return false;
  for (std::size_t d = 0; d < Rank - 2; ++d) {
    const auto& oa = split.axes[d].phases[a.axis_phase[d]].offsets;
    const auto& ob = split.axes[d].phases[b.axis_phase[d]].offsets;
    if (oa.size() != ob.size()) return false;
    const index_t delta = oa.empty() ? 0 : ob[0] - oa[0];
    if (exact && delta != 0) return false;
    // One row of translation at most: the grid grows by |delta| rows per
    // dimension (a huge dilation makes huge deltas — and grids).
    if (delta > 1 || delta < -1) return false;
    for (std::size_t j = 0; j < oa.size(); ++j) {
      if (ob[j] - oa[j] != delta) return false;
    }
  }
  return true;
}

/// Groups a kernel's phases, each group with at most `max_columns` output
/// columns (members x `group_out`): first phases with the same shifts, in
/// phase order; then groups of at most kNarrowColumns absorb later groups
/// whose shifts are translated (`translate`; false keeps exact matches only).
template <std::size_t Rank>
std::vector<PhaseGroup> group_phases(const PhaseSplit<Rank>& split, index_t group_out, index_t max_columns,
                                     bool translate = true) {
  const index_t width = std::max<index_t>(group_out, 1);
  const std::size_t most = static_cast<std::size_t>(std::max<index_t>(1, max_columns / width));
  auto lead = [&](const PhaseGroup& grp) -> const Phase<Rank - 2>& { return split.phases[grp.phases.front()]; };
  std::vector<PhaseGroup> groups;
  for (std::size_t p = 0; p < split.phases.size(); ++p) {
    bool placed = false;
    for (PhaseGroup& grp : groups) {
      if (grp.phases.size() < most && shifts_match(split, lead(grp), split.phases[p], true)) {
        grp.phases.push_back(p);
        placed = true;
        break;
      }
    }
    if (!placed) groups.push_back(PhaseGroup{{p}});
  }
  if (!translate) return groups;
  auto narrow = [&](const PhaseGroup& grp) {
    return static_cast<index_t>(grp.phases.size()) * width <= kNarrowColumns;
  };
  for (std::size_t i = 0; i < groups.size(); ++i) {
    for (std::size_t j = i + 1; j < groups.size() && narrow(groups[i]);) {
      if (narrow(groups[j]) && groups[i].phases.size() + groups[j].phases.size() <= most &&
          shifts_match(split, lead(groups[i]), lead(groups[j]), false)) {
        groups[i].phases.insert(groups[i].phases.end(), groups[j].phases.begin(), groups[j].phases.end());
        groups.erase(groups.begin() + static_cast<std::ptrdiff_t>(j));
      } else {
        ++j;
      }
    }
  }
  return groups;
}

/// A phase group as one plan runs it.
template <std::size_t S>
struct PlanGroup {
  struct Member {
    index_t column;                // position in the kernel group: output columns [column * Og, (column + 1) * Og)
    std::size_t phase;             // the plan's phase it writes
    bool partial;                  // some grid rows are not its own (its counts are smaller, or it is shifted)
    std::array<index_t, S> shift;  // its row t is grid row t + shift, per dimension
  };
  std::size_t kernel_group = 0;  // index into the kernel's groups (and packed matrices)
  Phase<S> grid;                 // the gathered rows: the smallest shifts, the members' rows in one window
  std::vector<Member> members;   // the members with outputs in this plan
  /// The kernel matrix rows the grid's taps multiply (border_bands.hpp);
  /// empty: all of them, in order.
  std::vector<DepthRun> depth_runs;
};

/// Lays the kernel's groups out for the plan's phases (`split`, counted for
/// the plan's shapes). A kernel phase that has outputs in the plan is the
/// plan phase with the same per-dimension indices (the plan keeps a prefix
/// of each dimension's sorted phases). Grid phases whose shifts or counts no
/// member has are appended to `split`'s axes (after their `kept` real
/// phases).
template <std::size_t Rank>
std::vector<PlanGroup<Rank - 2>> plan_groups(const PhaseSplit<Rank>& kernel, const std::vector<PhaseGroup>& groups,
                                             PhaseSplit<Rank>& split, index_t batch) {
  constexpr std::size_t S = Rank - 2;
  std::vector<PlanGroup<S>> out;
  if (split.phases.empty()) return out;
  auto first_offset = [](const AxisPhase& ap) { return ap.offsets.empty() ? index_t{0} : ap.offsets.front(); };
  for (std::size_t gi = 0; gi < groups.size(); ++gi) {
    PlanGroup<S> pg;
    pg.kernel_group = gi;
    // The grid starts at the smallest first shift of the present members.
    std::array<index_t, S> base{};
    std::array<index_t, S> extent{};
    for (std::size_t m = 0; m < groups[gi].phases.size(); ++m) {
      const Phase<S>& kp = kernel.phases[groups[gi].phases[m]];
      std::size_t index = 0;
      bool present = true;
      for (std::size_t d = 0; d < S; ++d) {
        present = present && kp.axis_phase[d] < split.axes[d].kept;
        index = index * split.axes[d].kept + kp.axis_phase[d];
      }
      if (!present) continue;
      pg.members.push_back({static_cast<index_t>(m), index, false, {}});
      for (std::size_t d = 0; d < S; ++d) {
        const index_t first = first_offset(split.axes[d].phases[kp.axis_phase[d]]);
        base[d] = pg.members.size() == 1 ? first : std::min(base[d], first);
      }
    }
    if (pg.members.empty()) continue;
    for (auto& member : pg.members) {
      const Phase<S>& ph = split.phases[member.phase];
      for (std::size_t d = 0; d < S; ++d) {
        const AxisPhase& ap = split.axes[d].phases[ph.axis_phase[d]];
        member.shift[d] = first_offset(ap) - base[d];
        extent[d] = std::max(extent[d], checked_add(member.shift[d], ap.count, "output rows"));
      }
    }
    // The grid: the first member's phase, with an appended axis phase where
    // its shift or count is not the grid's.
    pg.grid = split.phases[pg.members.front().phase];
    pg.grid.rows = batch;
    for (std::size_t d = 0; d < S; ++d) {
      const AxisPhase& lead = split.axes[d].phases[pg.grid.axis_phase[d]];
      const index_t lead_shift = pg.members.front().shift[d];
      if (lead.count != extent[d] || lead_shift != 0) {
        AxisPhase wide = lead;
        wide.count = extent[d];
        for (index_t& o : wide.offsets) o -= lead_shift;
        split.axes[d].phases.push_back(std::move(wide));
        pg.grid.axis_phase[d] = split.axes[d].phases.size() - 1;
      }
      pg.grid.rows = checked_mul(pg.grid.rows, extent[d], "output rows");
    }
    for (auto& member : pg.members) {
      const Phase<S>& ph = split.phases[member.phase];
      for (std::size_t d = 0; d < S; ++d) {
        member.partial =
            member.partial || member.shift[d] != 0 || split.axes[d].phases[ph.axis_phase[d]].count != extent[d];
      }
    }
    out.push_back(std::move(pg));
  }
  return out;
}

}  // namespace convt::detail
