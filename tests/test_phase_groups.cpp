// Phase grouping (detail/phase_groups.hpp) on its own: which phases share a
// gathered matrix and where each member's rows lie in its group's grid.
// The values these groups compute are checked against the reference in
// test_parallel.cpp (TranslatedPhaseGroupsMatchReference).
#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <vector>

#include "convt/detail/phase_groups.hpp"

namespace {

using convt::index_t;
using convt::Lowering;
using namespace convt::detail;

/// The phases of a kernel of `k` taps, stride `s` and low padding `lo` in
/// every one of Rank - 2 dimensions (a kernel's phases: no counts).
template <std::size_t Rank>
PhaseSplit<Rank> kernel_split(index_t k, index_t s, index_t lo, index_t group_in) {
  Geometry<Rank> g;
  g.batch = 1;
  g.in_features = g.group_in = group_in;
  PhaseSplit<Rank> split;
  for (auto& ax : split.axes) ax = owned_phases(k, s, 1, lo, Lowering::PhaseSplit);
  combine_phases(g, split);
  return split;
}

/// The same phases counted for an input of `in` and an output of `out` per
/// dimension.
template <std::size_t Rank>
PhaseSplit<Rank> plan_split(const PhaseSplit<Rank>& kernel, index_t in, index_t out, index_t group_in) {
  Geometry<Rank> g;
  g.batch = 1;
  g.in_features = g.group_in = group_in;
  PhaseSplit<Rank> split;
  for (std::size_t d = 0; d < Rank - 2; ++d) split.axes[d] = count_phases(kernel.axes[d], in, out, false);
  combine_phases(g, split);
  return split;
}

// k4 s2 with PyTorch's padding 1 (JAX pads 2 on each side): phase 0 reads
// input t - 1 and t, phase 1 reads t and t + 1 — phase 1's rows are phase
// 0's shifted by one, so a narrow layer (32 features) runs both on one
// matrix of in + 1 rows, 64 columns wide.
TEST(PhaseGroups, KEqualsTwoSTranslatedPhasesShareOneGrid) {
  const auto kernel = kernel_split<3>(4, 2, 2, 64);
  ASSERT_EQ(kernel.phases.size(), 2u);
  const auto groups = group_phases(kernel, 32, 256);
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].phases, (std::vector<std::size_t>{0, 1}));

  auto split = plan_split(kernel, 10, 20, 64);
  const auto plan = plan_groups(kernel, groups, split, 3);
  ASSERT_EQ(plan.size(), 1u);
  const auto& grid = split.axes[0].phases[plan[0].grid.axis_phase[0]];
  EXPECT_EQ(grid.count, 11);
  EXPECT_EQ(grid.offsets, (std::vector<index_t>{-1, 0}));  // the smaller shifts
  EXPECT_EQ(plan[0].grid.rows, 3 * 11);                    // batch 3
  ASSERT_EQ(plan[0].members.size(), 2u);
  EXPECT_EQ(plan[0].members[0].shift[0], 0);
  EXPECT_EQ(plan[0].members[1].shift[0], 1);
  EXPECT_TRUE(plan[0].members[0].partial);  // grid row 10 is not its
  EXPECT_TRUE(plan[0].members[1].partial);  // grid row 0 is not its
}

// The same kernel with wide outputs keeps one phase per group: the extra row
// would cost more than the shared packing saves.
TEST(PhaseGroups, WideOutputsAreNotTranslated) {
  const auto kernel = kernel_split<3>(4, 2, 2, 64);
  EXPECT_EQ(group_phases(kernel, kNarrowColumns + 1, 256).size(), 2u);
  EXPECT_EQ(group_phases(kernel, 32, 256, false).size(), 2u);
  EXPECT_EQ(group_phases(kernel, 32, 32).size(), 2u);  // no room for two members
}

// An RGB head (3 features), 2-D k4 s2 p1: the four phases are one group of
// 12 columns over an (H + 1) x (W + 1) grid, each member shifted by 0 or 1
// per dimension.
TEST(PhaseGroups, TwoDimensionalHeadIsOneGroupOfFour) {
  const auto kernel = kernel_split<4>(4, 2, 2, 64);
  ASSERT_EQ(kernel.phases.size(), 4u);
  const auto groups = group_phases(kernel, 3, 256);
  ASSERT_EQ(groups.size(), 1u);
  ASSERT_EQ(groups[0].phases.size(), 4u);
  auto split = plan_split(kernel, 32, 64, 64);
  const auto plan = plan_groups(kernel, groups, split, 1);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].grid.rows, 33 * 33);
  std::vector<std::array<index_t, 2>> shifts;
  for (const auto& m : plan[0].members) shifts.push_back(m.shift);
  EXPECT_EQ(shifts, (std::vector<std::array<index_t, 2>>{{0, 0}, {0, 1}, {1, 0}, {1, 1}}));
}

// Identical shifts are grouped first (FCN's k16 s8, 21 features: two shift
// patterns per dimension, groups of up to 12 phases); a group wider than
// kNarrowColumns is kept as it is, and only the narrow remainders of the
// patterns are merged across patterns. Every phase is in one group.
TEST(PhaseGroups, SameShiftGroupsComeFirst) {
  const auto kernel = kernel_split<4>(16, 8, 4, 21);
  const auto exact = group_phases(kernel, 21, 256, false);
  const auto groups = group_phases(kernel, 21, 256);
  EXPECT_LT(groups.size(), exact.size());
  for (const auto& e : exact) {
    if (static_cast<index_t>(e.phases.size()) * 21 <= kNarrowColumns) continue;
    bool kept = false;
    for (const auto& g : groups) kept = kept || g.phases == e.phases;
    EXPECT_TRUE(kept) << "group led by phase " << e.phases.front();
  }
  std::vector<int> seen(kernel.phases.size(), 0);
  for (const auto& g : groups) {
    EXPECT_LE(static_cast<index_t>(g.phases.size()) * 21, 256);
    for (std::size_t p : g.phases) ++seen[p];
  }
  EXPECT_EQ(seen, std::vector<int>(kernel.phases.size(), 1));
}

// An output that is not a multiple of the stride: phase 1 has one row fewer
// (out 9, k4 s2 lo 2: phase 0 has 5 rows, phase 1 has 4), so the grid spans
// max(0 + 5, 1 + 4) = 5 rows and only phase 0 skips none at the end.
TEST(PhaseGroups, OddOutputWindow) {
  const auto kernel = kernel_split<3>(4, 2, 2, 16);
  const auto groups = group_phases(kernel, 8, 256);
  ASSERT_EQ(groups.size(), 1u);
  auto split = plan_split(kernel, 5, 9, 16);
  const auto plan = plan_groups(kernel, groups, split, 1);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].grid.rows, 5);
  EXPECT_FALSE(plan[0].members[0].partial);
  EXPECT_TRUE(plan[0].members[1].partial);
}

}  // namespace
