// Phase grouping (detail/phase_groups.hpp) and border bands
// (detail/border_bands.hpp) on their own: which phases share a
// gathered matrix and where each member's rows lie in its group's grid.
// The values these groups compute are checked against the reference in
// test_parallel.cpp (TranslatedPhaseGroupsMatchReference).
#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <vector>

#include "convt/detail/border_bands.hpp"
#include "convt/detail/kernel.hpp"
#include "convt/detail/output_write.hpp"
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

// A dilated kernel's phases can be translations of each other by many rows
// (k2 s2 with rhs dilation 2001: offsets {0} and {1001}); grouping them would
// grow the grid by as many rows (a hang the fuzzer found), so they stay apart.
TEST(PhaseGroups, FarTranslationsAreNotGrouped) {
  Geometry<3> g;
  g.batch = 1;
  g.in_features = g.group_in = 4;
  PhaseSplit<3> kernel;
  kernel.axes[0] = owned_phases(2, 2, 2001, 0, Lowering::PhaseSplit);
  combine_phases(g, kernel);
  ASSERT_EQ(kernel.phases.size(), 2u);
  EXPECT_EQ(group_phases(kernel, 4, 256).size(), 2u);
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

// The widest group a kernel makes: 256 columns, or four phases of wide
// outputs up to 1024 (the mask head's k2 s2 layer, 256 features: all four
// phases on one packed input). k2 s2 with 256 features groups that way.
TEST(PhaseGroups, WideOutputsShareOnePackingOverFourPhases) {
  using Kernel = KernelData<float, float, 4>;
  EXPECT_EQ(Kernel::group_columns(1), 256);
  EXPECT_EQ(Kernel::group_columns(64), 256);
  EXPECT_EQ(Kernel::group_columns(100), 400);
  EXPECT_EQ(Kernel::group_columns(256), 1024);
  EXPECT_EQ(Kernel::group_columns(300), 1024);
  EXPECT_EQ(Kernel::group_columns(index_t{1} << 60), 1024);
  const auto kernel = kernel_split<4>(2, 2, 1, 256);  // PyTorch padding 0: JAX pads k - 1
  ASSERT_EQ(kernel.phases.size(), 4u);
  EXPECT_EQ(group_phases(kernel, 256, Kernel::group_columns(256)).size(), 1u);
  EXPECT_EQ(group_phases(kernel, 300, Kernel::group_columns(300)).size(), 2u);
  EXPECT_EQ(group_phases(kernel, 256, 256).size(), 4u);
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

// The output offset of every grid row a tile writes (tile_row_offsets, which
// walks runs along the innermost dimension), against the grid walked one row
// at a time: for 1-, 2- and 3-D k4 s2 groups whose members are shifted and
// have fewer rows than the grid (odd outputs), batch 2, tiles that start
// and end inside runs and cross batches; and each phase on its own.
template <std::size_t Rank>
void check_row_offsets(index_t in) {
  constexpr std::size_t S = Rank - 2;
  const auto kernel = kernel_split<Rank>(4, 2, 2, 8);
  const auto groups = group_phases(kernel, 4, 256);
  auto split = plan_split(kernel, in, 2 * in + 1, 8);
  const index_t batch = 2;
  const auto plan = plan_groups(kernel, groups, split, batch);
  const std::array<index_t, Rank> out_stride = [] {
    std::array<index_t, Rank> st{};
    st[0] = 1000003;
    st[1] = 1;
    for (std::size_t d = 0; d < S; ++d) st[2 + d] = 7 + 131 * static_cast<index_t>(S - d);
    return st;
  }();
  auto expected = [&](const Phase<S>& ph, const GridPlacement<S>* grid, index_t row) {
    const auto own = phase_counts(split.axes, ph.axis_phase);
    const auto counts = grid ? grid->counts : own;
    index_t off = 0;
    for (std::size_t d = S; d-- > 0;) {
      const index_t t = row % counts[d] - (grid ? grid->shift[d] : 0);
      row /= counts[d];
      if (t < 0 || t >= own[d]) return kSkipRow;
      const AxisPhase& ap = split.axes[d].phases[ph.axis_phase[d]];
      off += (ap.first + split.axes[d].step * t) * out_stride[2 + d];
    }
    return off + row * out_stride[0];
  };
  auto check = [&](const Phase<S>& ph, const GridPlacement<S>* grid, index_t total) {
    std::vector<index_t> got(static_cast<std::size_t>(total));
    for (index_t begin : {index_t{0}, index_t{1}, in - 1, in + 2, total / 2}) {
      for (index_t rows : {index_t{1}, index_t{3}, in + 1, total - begin}) {
        if (begin < 0 || rows <= 0 || begin + rows > total) continue;
        const bool skipped = tile_row_offsets(split, ph, grid, begin, rows, out_stride, got.data());
        bool any = false;
        for (index_t r = 0; r < rows; ++r) {
          const index_t want = expected(ph, grid, begin + r);
          any = any || want == kSkipRow;
          ASSERT_EQ(got[static_cast<std::size_t>(r)], want)
              << "rank " << Rank << " rows [" << begin << ", +" << rows << ") row " << r;
        }
        EXPECT_EQ(skipped, any);
      }
    }
  };
  bool shifted = false;
  for (const auto& grp : plan) {
    const GridPlacement<S> base{phase_counts(split.axes, grp.grid.axis_phase), {}};
    for (const auto& m : grp.members) {
      GridPlacement<S> at = base;
      at.shift = m.shift;
      shifted = shifted || m.partial;
      check(split.phases[m.phase], &at, grp.grid.rows);
      check(split.phases[m.phase], nullptr, split.phases[m.phase].rows * batch);
    }
  }
  EXPECT_TRUE(shifted);
}

TEST(PhaseGroups, RowOffsetsFollowTheGrid) {
  check_row_offsets<3>(5);
  check_row_offsets<4>(3);
  check_row_offsets<5>(2);
}

}  // namespace

namespace {

// Border bands (detail/border_bands.hpp) on their own: where a grid is cut
// and which kernel rows each band multiplies. Their values are checked
// against the reference in test_parallel.cpp (BorderBandsMatchReference).

// Offsets {-1, 0} over 5 rows of a 4-long input: row 0's first tap and row
// 4's second read padding; a phase whose only tap lies beyond the input
// meets it nowhere.
TEST(BorderBands, TapSegmentsFollowTheEdges) {
  AxisPhase ap;
  ap.count = 5;
  ap.offsets = {-1, 0};
  ap.taps = {0, 2};
  const auto segs = tap_segments(ap, 4);
  ASSERT_EQ(segs.size(), 3u);
  EXPECT_EQ((std::array<index_t, 2>{segs[0].begin, segs[0].end}), (std::array<index_t, 2>{0, 1}));
  EXPECT_EQ((std::array<std::size_t, 2>{segs[0].lo, segs[0].hi}), (std::array<std::size_t, 2>{1, 2}));
  EXPECT_EQ((std::array<index_t, 2>{segs[1].begin, segs[1].end}), (std::array<index_t, 2>{1, 4}));
  EXPECT_EQ((std::array<std::size_t, 2>{segs[1].lo, segs[1].hi}), (std::array<std::size_t, 2>{0, 2}));
  EXPECT_EQ((std::array<index_t, 2>{segs[2].begin, segs[2].end}), (std::array<index_t, 2>{4, 5}));
  EXPECT_EQ((std::array<std::size_t, 2>{segs[2].lo, segs[2].hi}), (std::array<std::size_t, 2>{0, 1}));

  AxisPhase beyond;
  beyond.count = 3;
  beyond.offsets = {5};
  beyond.taps = {0};
  const auto none = tap_segments(beyond, 2);
  ASSERT_EQ(none.size(), 1u);
  EXPECT_EQ(none[0].end, 3);
  EXPECT_EQ(none[0].lo, none[0].hi);
}

// Taps [1, 3) of 4 along H and [0, 2) of 4 along W, 10 channels: one run of
// kernel rows per H tap; with every W tap the two runs are one.
TEST(BorderBands, DepthRunsPerOuterTap) {
  const std::array<std::size_t, 2> full{4, 4};
  const auto runs = band_depth_runs<2>({TapSegment{0, 1, 1, 3}, TapSegment{0, 1, 0, 2}}, full, 10);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ((std::array<index_t, 3>{runs[0].lhs, runs[0].rhs, runs[0].length}), (std::array<index_t, 3>{0, 40, 20}));
  EXPECT_EQ((std::array<index_t, 3>{runs[1].lhs, runs[1].rhs, runs[1].length}), (std::array<index_t, 3>{20, 80, 20}));
  const auto merged = band_depth_runs<2>({TapSegment{0, 1, 1, 3}, TapSegment{0, 1, 0, 4}}, full, 10);
  ASSERT_EQ(merged.size(), 1u);
  EXPECT_EQ((std::array<index_t, 3>{merged[0].lhs, merged[0].rhs, merged[0].length}),
            (std::array<index_t, 3>{0, 40, 80}));
  EXPECT_TRUE((band_depth_runs<2>({TapSegment{0, 1, 0, 4}, TapSegment{0, 1, 0, 4}}, full, 10).empty()));
}

// DCGAN's projection: a 1 x 1 input, k4 s1 (JAX pads 3 on each side), 100
// channels. Output (y, x) meets only tap (3 - y, 3 - x): sixteen one-row
// bands of one tap each, together every kernel row once.
TEST(BorderBands, OneByOneInputIsCutToOneTapPerRow) {
  const auto kernel = kernel_split<4>(4, 1, 3, 100);
  const auto groups = group_phases(kernel, 512, 512);
  auto split = plan_split(kernel, 1, 4, 100);
  const auto bands = cut_border_bands(plan_groups(kernel, groups, split, 1), split, 1, 100);
  ASSERT_EQ(bands.size(), 16u);
  std::vector<int> seen(16, 0);
  for (const auto& b : bands) {
    EXPECT_EQ(b.grid.rows, 1);
    EXPECT_EQ(b.grid.depth, 100);
    ASSERT_EQ(b.depth_runs.size(), 1u);
    EXPECT_EQ(b.depth_runs[0].lhs, 0);
    EXPECT_EQ(b.depth_runs[0].length, 100);
    ASSERT_EQ(b.members.size(), 1u);
    const index_t y = -b.members[0].shift[0], x = -b.members[0].shift[1];  // the band's output row
    EXPECT_EQ(b.depth_runs[0].rhs, ((3 - y) * 4 + (3 - x)) * 100);
    ++seen[static_cast<std::size_t>(b.depth_runs[0].rhs / 100)];
    EXPECT_TRUE(b.members[0].partial);
  }
  EXPECT_EQ(seen, std::vector<int>(16, 1));
}

// k4 s2 p1 on a 4 x 4 input at batch 1: one tap in four reads padding, but
// the bands would stream the kernel rows 2.25 times for 16 rows — not cut.
// The same layer on 8 x 8 inputs at batch 16 is cut: every band holds
// enough rows.
TEST(BorderBands, CutOnlyWhereItPays) {
  const auto kernel = kernel_split<4>(4, 2, 2, 512);
  const auto groups = group_phases(kernel, 256, 256);
  ASSERT_EQ(groups.size(), 4u);
  auto small = plan_split(kernel, 4, 8, 512);
  const auto whole = cut_border_bands(plan_groups(kernel, groups, small, 1), small, 1, 512);
  ASSERT_EQ(whole.size(), 4u);
  for (const auto& g : whole) EXPECT_TRUE(g.depth_runs.empty());

  auto batched = plan_split(kernel, 8, 16, 512);
  const auto cut = cut_border_bands(plan_groups(kernel, groups, batched, 16), batched, 16, 512);
  EXPECT_EQ(cut.size(), 16u);  // each phase: {1, 7} rows x {1, 7} rows
  index_t rows = 0;
  for (const auto& g : cut) rows += g.grid.rows;
  EXPECT_EQ(rows, 16 * 4 * 8 * 8);
}

}  // namespace
