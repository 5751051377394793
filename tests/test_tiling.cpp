// The tiling decision (detail/tiling.hpp) on its own, as a pure function of
// sizes: tiles are whole register blocks, scratch respects the workspace cap
// down to one block, staging is given up first, small problems are split
// evenly over workers and keep groups that stream their kernel per unit
// whole, and the work units cover every (group, row, feature group) exactly
// once.
#include <gtest/gtest.h>

#include <vector>

#include "convt/detail/tiling.hpp"

namespace {

using convt::index_t;
using convt::detail::choose_tiling;
using convt::detail::Tiling;
using convt::detail::TilingProblem;
using convt::detail::WorkUnits;

TilingProblem problem(std::vector<index_t> rows, int workers, std::size_t cap) {
  TilingProblem p;
  p.group_rows = std::move(rows);
  p.max_depth = 576;  // 64 channels x 9 taps
  p.max_kc = 320;
  p.max_columns = 64;
  p.feature_groups = 1;
  p.group_out = 64;
  p.row_block = 48;
  p.cache_rows = 4096;
  p.element_bytes = 4;
  p.workers = workers;
  p.workspace_cap = cap;
  return p;
}

// Gathered rows, packed block, results and staging; results in a type
// twice as wide (int8 sums: float blocks added in double) take two
// elements each, plus one for the float block.
index_t bytes_per_row(const TilingProblem& p, const Tiling& t) {
  return p.element_bytes * (p.max_depth + p.max_kc + p.max_columns * (p.sum_elements + (p.block_result ? 1 : 0)) +
                            t.staged_columns * p.sum_elements);
}

TEST(Tiling, TilesAreWholeBlocksWithinTheTargetAndTheCap) {
  for (int workers : {1, 2, 3, 8})
    for (std::size_t cap : {std::size_t{1}, std::size_t{100000}, std::size_t{1} << 20, std::size_t{16} << 20})
      for (index_t rows : {1, 47, 48, 49, 1000, 100000})
        for (bool wide_sums : {false, true}) {
          SCOPED_TRACE(::testing::Message()
                       << workers << " workers, cap " << cap << ", rows " << rows << (wide_sums ? ", wide sums" : ""));
          TilingProblem p = problem({rows, rows / 2 + 1}, workers, cap);
          p.sum_elements = wide_sums ? 2 : 1;
          p.block_result = wide_sums;
          const Tiling t = choose_tiling(p);
          EXPECT_EQ(t.tile_rows % p.row_block, 0);
          EXPECT_GE(t.tile_rows, p.row_block);
          // Never taller than the tallest group rounded up to a block.
          EXPECT_LE(t.tile_rows, (rows + 47) / 48 * 48);
          EXPECT_EQ(t.worker_elements, t.tile_rows * bytes_per_row(p, t) / p.element_bytes);
          // The cap holds unless one register block of rows already exceeds it.
          const index_t all = static_cast<index_t>(workers) * t.worker_elements * p.element_bytes;
          if (t.tile_rows > p.row_block) {
            EXPECT_LE(all, static_cast<index_t>(cap));
          }
        }
}

TEST(Tiling, TileTargetKeepsStagesInCache) {
  // Large cap, one worker: the tile is bounded by the cache target, not the cap.
  const TilingProblem p = problem({1 << 20}, 1, std::size_t{1} << 30);
  const Tiling t = choose_tiling(p);
  EXPECT_LE(t.tile_rows * bytes_per_row(p, t), convt::detail::kTileTargetBytes + p.row_block * bytes_per_row(p, t));
  EXPECT_EQ(t.tile_rows, convt::detail::kTileTargetBytes / bytes_per_row(p, t) / 48 * 48);
}

TEST(Tiling, FeatureGroupsAreStagedEvenlyAndShrinkFirst) {
  TilingProblem p = problem({2000}, 1, std::size_t{16} << 20);
  p.feature_groups = 513;  // depthwise
  p.group_out = 1;
  p.max_columns = 1;
  p.max_depth = 4;
  Tiling t = choose_tiling(p);
  EXPECT_EQ(t.fg_block, 103);  // 5 blocks of <= 128, spread evenly
  EXPECT_EQ(t.fg_blocks, 5);
  EXPECT_EQ(t.staged_columns, 103);
  // A tiny cap gives up the staging before the rows: one feature group.
  p.workspace_cap = 1;
  t = choose_tiling(p);
  EXPECT_EQ(t.fg_block, 1);
  EXPECT_EQ(t.fg_blocks, 513);
  EXPECT_EQ(t.staged_columns, 0);
  EXPECT_EQ(t.tile_rows, 48);
  // Wide groups: no staging at all.
  p = problem({2000}, 1, std::size_t{16} << 20);
  p.feature_groups = 4;
  p.group_out = 64;
  t = choose_tiling(p);
  EXPECT_EQ(t.fg_block, 2);  // 128 / 64
  EXPECT_EQ(t.fg_blocks, 2);
}

TEST(Tiling, SmallProblemsSplitEvenlyOverWorkers) {
  // 288 rows in Eigen's 96-row tiles leave one worker two tiles (192 rows)
  // and the other one (96); one 144-row tile per worker finishes sooner.
  TilingProblem p = problem({288}, 2, std::size_t{16} << 20);
  p.cache_rows = 96;
  p.max_depth = p.max_kc = 64;  // small rows: the cache target allows 96-row tiles
  const Tiling t = choose_tiling(p);
  EXPECT_EQ(t.tile_rows, 144);
  EXPECT_EQ(convt::detail::makespan(p, 144, 1), 144);
  EXPECT_EQ(convt::detail::makespan(p, 96, 1), 192);
  // Where the balanced split would not finish sooner, the tiles stay.
  p.group_rows = {200};  // 96, 96, 8 -> 104 rows at most; 144 + 56 -> 144
  EXPECT_EQ(choose_tiling(p).tile_rows, 96);
  // One worker: nothing to balance.
  p.group_rows = {288};
  p.workers = 1;
  EXPECT_EQ(choose_tiling(p).tile_rows, 96);
  // Shorter tiles where they balance better: FCN-8s's 289-row group in
  // Eigen's 192-row tiles leaves one worker 192 rows; 144 + 144 + 1 rows
  // finish after 145.
  p.group_rows = {289};
  p.workers = 2;
  p.cache_rows = 192;
  EXPECT_EQ(choose_tiling(p).tile_rows, 144);
  EXPECT_EQ(convt::detail::makespan(p, 144, 1), 145);
  EXPECT_EQ(convt::detail::makespan(p, 192, 1), 192);
  // Of equally quick tiles, the fewest units: on 3 workers 48- and 96-row
  // tiles both finish after 97 rows; 96 makes 4 units, not 7.
  p.workers = 3;
  EXPECT_EQ(choose_tiling(p).tile_rows, 96);
}

TEST(Tiling, GroupsStreamingTheirKernelPerUnitStayWhole) {
  // pix2pix's 1024 -> 512 at 8 x 8: four 64-row groups multiplied with the
  // kernel as gebp's lhs, which streams a group's kernel once per unit. A
  // deep product leaves room for one 48-row block per tile; 48 + 16 rows
  // would stream each kernel twice.
  TilingProblem p = problem({64, 64, 64, 64}, 1, std::size_t{16} << 20);
  p.max_depth = p.max_kc = 4096;
  p.max_columns = 512;
  p.cache_rows = 48;
  p.block_result = true;
  EXPECT_EQ(choose_tiling(p).tile_rows, 48);  // not streamed per unit: nothing gained
  p.kernel_lhs.assign(4, true);
  for (int workers : {1, 2, 4}) {
    p.workers = workers;
    const Tiling t = choose_tiling(p);
    EXPECT_EQ(t.tile_rows, 96) << workers << " workers";
    EXPECT_EQ(WorkUnits(p.group_rows, t, 1).count(), 4) << workers << " workers";
  }
  // One such group on two workers: two units, both busy.
  p.group_rows = {192};
  p.kernel_lhs.assign(1, true);
  p.workers = 2;
  EXPECT_EQ(choose_tiling(p).tile_rows, 96);
  // A workspace cap that holds only one block of rows keeps the tiles at one block.
  p.workspace_cap = 2 * 48 * 4 * (4096 + 4096 + 2 * 512);
  EXPECT_EQ(choose_tiling(p).tile_rows, 48);
}

TEST(Tiling, WorkUnitsCoverEverythingOnce) {
  for (index_t groups : {1, 3, 513}) {
    TilingProblem p = problem({1, 48, 95, 1000}, 2, 200000);
    p.feature_groups = groups;
    p.group_out = groups == 1 ? 64 : 2;
    const Tiling t = choose_tiling(p);
    const WorkUnits units(p.group_rows, t, groups);
    std::vector<std::vector<int>> seen(p.group_rows.size());
    for (std::size_t g = 0; g < p.group_rows.size(); ++g) {
      seen[g].assign(static_cast<std::size_t>(p.group_rows[g] * groups), 0);
    }
    for (index_t u = 0; u < units.count(); ++u) {
      const WorkUnits::Unit un = units[u];
      ASSERT_LT(un.group, p.group_rows.size());
      ASSERT_GT(un.rows, 0);
      ASSERT_LE(un.rows, t.tile_rows);
      ASSERT_EQ(un.row0 % t.tile_rows, 0);
      ASSERT_GT(un.fgs, 0);
      ASSERT_LE(un.fgs, t.fg_block);
      for (index_t r = un.row0; r < un.row0 + un.rows; ++r)
        for (index_t f = un.fg0; f < un.fg0 + un.fgs; ++f) ++seen[un.group][static_cast<std::size_t>(r * groups + f)];
    }
    for (const auto& s : seen)
      for (int c : s) ASSERT_EQ(c, 1);
  }
  EXPECT_EQ(WorkUnits().count(), 0);
}

}  // namespace

namespace {

// Groups of fewer rows than gebp's register block multiply with the kernel
// as gebp's lhs — whole packets too, but not 2 or 3 rows — whatever their
// depth and width; taller groups only when they are few rows (at most
// kKernelLhsRows) of a deep (kKernelLhsDepth) and wide (kKernelLhsColumns)
// product.
TEST(Tiling, KernelAsLhsForGroupsOfFewRows) {
  using convt::detail::kernel_as_lhs;
  using convt::detail::kKernelLhsColumns;
  using convt::detail::kKernelLhsDepth;
  using convt::detail::kKernelLhsRows;
  for (convt::index_t packet : {4, 8, 16}) {
    const convt::index_t block = 3 * packet;
    for (convt::index_t depth : {convt::index_t{1}, kKernelLhsDepth})
      for (convt::index_t columns : {convt::index_t{1}, kKernelLhsColumns}) {
        SCOPED_TRACE(::testing::Message() << "packet " << packet << " depth " << depth << " columns " << columns);
        EXPECT_FALSE(kernel_as_lhs(0, depth, columns, block));
        EXPECT_TRUE(kernel_as_lhs(1, depth, columns, block));
        EXPECT_FALSE(kernel_as_lhs(2, depth, columns, block));
        EXPECT_FALSE(kernel_as_lhs(3, depth, columns, block));
        for (convt::index_t rows = 4; rows < block; ++rows) {
          EXPECT_TRUE(kernel_as_lhs(rows, depth, columns, block)) << rows;
        }
        EXPECT_TRUE(kernel_as_lhs(packet, depth, columns, block));
        EXPECT_TRUE(kernel_as_lhs(2 * packet, depth, columns, block));
      }
    // Taller groups: shallow or narrow products keep their rows as gebp's
    // lhs (depth one short, width one short), deep and wide ones swap up to
    // kKernelLhsRows rows.
    for (convt::index_t rows : {block, block + 1, block + packet, kKernelLhsRows}) {
      EXPECT_FALSE(kernel_as_lhs(rows, kKernelLhsDepth - 1, kKernelLhsColumns, block)) << rows;
      EXPECT_FALSE(kernel_as_lhs(rows, kKernelLhsDepth, kKernelLhsColumns - 1, block)) << rows;
      EXPECT_TRUE(kernel_as_lhs(rows, kKernelLhsDepth, kKernelLhsColumns, block)) << rows;
      EXPECT_TRUE(kernel_as_lhs(rows, 4 * kKernelLhsDepth, 8 * kKernelLhsColumns, block)) << rows;
    }
    EXPECT_FALSE(kernel_as_lhs(kKernelLhsRows + 1, kKernelLhsDepth, kKernelLhsColumns, block));
    // A register block that is not whole 4-row panels (double's 6 rows of
    // 2-lane packets): tiles could split a panel, so tall groups stay.
    EXPECT_TRUE(kernel_as_lhs(5, kKernelLhsDepth, kKernelLhsColumns, 6));
    EXPECT_FALSE(kernel_as_lhs(64, kKernelLhsDepth, kKernelLhsColumns, 6));
    EXPECT_FALSE(kernel_as_lhs(100 * block + 5, 4 * kKernelLhsDepth, 8 * kKernelLhsColumns, block));
  }
  // Where whole packets keep their rows (kept_packet, Intel CPUs), groups
  // of one or two packets do not swap; the rows between them still do.
  for (convt::index_t packet : {4, 8, 16}) {
    const convt::index_t block = 3 * packet;
    SCOPED_TRACE(::testing::Message() << "kept packet " << packet);
    EXPECT_FALSE(kernel_as_lhs(packet, kKernelLhsDepth, kKernelLhsColumns, block, packet));
    EXPECT_FALSE(kernel_as_lhs(2 * packet, kKernelLhsDepth, kKernelLhsColumns, block, packet));
    EXPECT_TRUE(kernel_as_lhs(packet + 1, kKernelLhsDepth, kKernelLhsColumns, block, packet));
    EXPECT_TRUE(kernel_as_lhs(2 * packet - 1, kKernelLhsDepth, kKernelLhsColumns, block, packet));
    EXPECT_TRUE(kernel_as_lhs(1, kKernelLhsDepth, kKernelLhsColumns, block, packet));
    EXPECT_FALSE(kernel_as_lhs(3, kKernelLhsDepth, kKernelLhsColumns, block, packet));
    // Taller groups follow the deep-and-wide rule alone.
    EXPECT_TRUE(kernel_as_lhs(4 * packet, kKernelLhsDepth, kKernelLhsColumns, block, packet));
  }
  // Such a group is always one tile: tiles are whole register blocks, even
  // with a one-byte workspace cap.
  TilingProblem p = problem({47, 5000}, 2, 1);
  p.block_result = true;
  EXPECT_GE(choose_tiling(p).tile_rows, 47);
}

}  // namespace

// Prefetching under the GEMM: only groups doing fewer than
// kPrefetchFlopsPerByte flops per byte of a row's input and output.
TEST(Tiling, PrefetchOnlyShortGemmsAgainstTheirTraffic) {
  using convt::detail::kPrefetchFlopsPerByte;
  using convt::detail::prefetch_units;
  // The vocoders' 64 -> 32 layers (k4 s2: depth 128, two phases of 32
  // columns; 256 input and 256 output bytes a row): 32 flops per byte.
  EXPECT_TRUE(prefetch_units(128, 64, 256, 256));
  // A deep, wide row (depth 1024, 512 columns, 1 KiB in, 2 KiB out): ~340
  // (the GANs' 8x8 layers are at ~170: depth 1024, 128 columns).
  EXPECT_FALSE(prefetch_units(1024, 512, 1024, 2048));
  // The boundary: 2 * depth * columns against the threshold times the bytes.
  const auto bytes = static_cast<convt::index_t>(2 * kPrefetchFlopsPerByte);  // 160
  EXPECT_FALSE(prefetch_units(80, 80, bytes, 0));                             // exactly at the threshold
  EXPECT_TRUE(prefetch_units(80, 80, bytes + 1, 0));
  EXPECT_TRUE(prefetch_units(80, 80, 0, bytes + 1));
  // Empty products have nothing to hide.
  EXPECT_FALSE(prefetch_units(0, 64, 256, 256));
  EXPECT_FALSE(prefetch_units(128, 0, 256, 256));
}
