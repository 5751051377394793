// gemm.hpp's products on their own.
// gemm_tile with a result type wider than the GEMM's (types.hpp's
// F32Blocks: int8 products summed by the float kernel): each call of the
// kernel sums one depth block into a float tile, added to the double result.
// Sums far beyond 2^24 are exact only if every block stays
// within 2^24 and the blocks are added, none dropped or added twice; with
// and without depth runs (border bands), which cut blocks further.
// gemm_tile_kernel_lhs (the kernel as gebp's lhs, for few rows): the same
// product over register-block, panel, depth-block and run edges, for both
// storage orders of the left operand; and the repacking it relies on.
// gemm_tile's column slices (kGebpColumns per gebp call).
#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "convt/detail/gemm.hpp"
#include "convt/types.hpp"

namespace {

using convt::index_t;
using namespace convt::detail;

// A [m x depth] row-major, every element 127; B [depth x cols], 127 too.
struct BlockedGemm {
  index_t m = 7, depth = 12000, cols = 5;
  std::vector<float> a, b;
  BlockedGemm() : a(static_cast<std::size_t>(m * depth), 127.0f), b(static_cast<std::size_t>(depth * cols), 127.0f) {}
  // Packs A's columns [k0, k0 + kc) as gebp's lhs.
  auto packer() const {
    return [this](float* block, index_t k0, index_t kc) {
      using Mapper = GemmTraits<float>::LhsMapper;
      PackLhs<float, Mapper, Eigen::RowMajor>()(block, Mapper(a.data(), depth).getSubMapper(0, k0), kc, m);
    };
  }
};

template <class Sum>
std::vector<Sum> blocked_multiply(const BlockedGemm& p, const PackedMatrix<float>& packed,
                                  const std::vector<DepthRun>& runs) {
  AlignedVector<float> block(static_cast<std::size_t>(p.m * packed.kc)), part(static_cast<std::size_t>(p.m * p.cols));
  std::vector<Sum> res(static_cast<std::size_t>(p.m * p.cols), Sum(-1));
  gemm_tile<float, Sum>(p.m, packed, block.data(), res.data(), p.packer(), runs, part.data());
  return res;
}

TEST(GemmTile, DepthBlocksSummedInDoubleAreExact) {
  const BlockedGemm p;
  // 193,548,000: far past 2^24.
  const double exact = 127.0 * 127.0 * static_cast<double>(p.depth);
  const index_t block = convt::detail::exact_float_terms<std::int8_t>();
  const auto packed = pack_rhs(p.b.data(), p.depth, p.cols, block);
  ASSERT_LE(packed.kc, block);
  EXPECT_EQ(pack_rhs(p.b.data(), p.depth, p.cols, 16).kc, 16);
  // The data is beyond float: summed in float, one term after another, it rounds.
  float in_float = 0;
  for (index_t k = 0; k < p.depth; ++k) in_float += 127.0f * 127.0f;
  ASSERT_NE(static_cast<double>(in_float), exact);
  const std::vector<DepthRun> runs = {{0, 0, 2800}, {2800, 2800, 6000}, {8800, 8800, 3200}};
  for (index_t cap : {block, index_t{16}, index_t{1000}})
    for (bool with_runs : {false, true}) {
      const auto m = pack_rhs(p.b.data(), p.depth, p.cols, cap);
      for (double v : blocked_multiply<double>(p, m, with_runs ? runs : std::vector<DepthRun>{}))
        ASSERT_EQ(v, exact) << "cap " << cap << (with_runs ? " with runs" : "");
    }
  // Runs that skip rows: only the named rows are summed.
  const auto m = pack_rhs(p.b.data(), p.depth, p.cols, block);
  for (double v : blocked_multiply<double>(p, m, {{0, 400, 4800}, {4800, 8000, 4000}}))
    ASSERT_EQ(v, 127.0 * 127.0 * 8800.0);
}

// Depth blocks of an im2col depth end where a tap's channel run ends (whole
// runs per block), or on whole cache lines where a run is longer than a
// block; one block, a cap and runs shorter than a line stay as they were.
TEST(DepthBlock, CutAtRunEnds) {
  constexpr index_t line = 16;  // floats per 64-byte line
  for (index_t depth : {index_t{1024}, index_t{2304}, index_t{4096}, index_t{12000}})
    for (index_t run : {index_t{64}, index_t{192}, index_t{256}, index_t{1000}, index_t{4096}}) {
      if (depth % run != 0) continue;
      const index_t eigen = depth_block<float>(depth, 256);
      const index_t kc = depth_block<float>(depth, 256, 0, run);
      SCOPED_TRACE(::testing::Message() << "depth " << depth << " run " << run << " Eigen's kc " << eigen);
      EXPECT_LE(kc, eigen);
      if (eigen == depth) {
        EXPECT_EQ(kc, depth);
      } else if (eigen >= run) {
        EXPECT_EQ(kc % run, 0);
        EXPECT_GT(kc, eigen - run);
      } else {
        EXPECT_EQ(kc % line, 0);
        EXPECT_GT(kc, eigen - line);
      }
    }
  // A cap below a line: kept (exact sums need it). A cap is applied before
  // the cut: the block stays within it and still ends at a run or a line
  // (Eigen's own blocking differs between machines: on aarch64 it is below
  // the cap of 300 here).
  EXPECT_EQ(depth_block<float>(4096, 256, 10, 256), 10);
  const index_t capped = std::min<index_t>(depth_block<float>(4096, 256), 300);
  const index_t kc = depth_block<float>(4096, 256, 300, 256);
  EXPECT_LE(kc, 300);
  EXPECT_EQ(kc % (capped >= 256 ? 256 : line), 0) << "capped at " << capped;
}

// A [m x a_depth] (row- or column-major) and B [300 x cols] of small
// integers, and A * B over `runs` (none: all of B's rows) by a plain triple
// loop: exact in any order of summation, so a GEMM path must give it to the
// bit.
template <class T, class Sum = T>
struct SmallIntProduct {
  index_t m, cols, depth = 300, a_depth;
  bool a_row_major;
  std::vector<T> a, b;
  std::vector<Sum> want;
  SmallIntProduct(index_t rows, index_t columns, bool row_major, const std::vector<DepthRun>& runs, std::uint32_t seed)
      : m(rows),
        cols(columns),
        a_depth(runs.empty() ? depth : runs.back().lhs + runs.back().length),
        a_row_major(row_major),
        a(static_cast<std::size_t>(m * a_depth)),
        b(static_cast<std::size_t>(depth * cols)),
        want(static_cast<std::size_t>(m * cols), Sum(0)) {
    std::mt19937 gen(seed);
    std::uniform_int_distribution<int> small(-3, 3);
    for (T& v : a) v = static_cast<T>(small(gen));
    for (T& v : b) v = static_cast<T>(small(gen));
    const std::vector<DepthRun> all = runs.empty() ? std::vector<DepthRun>{{0, 0, depth}} : runs;
    for (index_t r = 0; r < m; ++r)
      for (index_t j = 0; j < cols; ++j)
        for (const DepthRun& run : all)
          for (index_t t = 0; t < run.length; ++t)
            want[static_cast<std::size_t>(j * m + r)] +=
                static_cast<Sum>(a_at(r, run.lhs + t) * b[static_cast<std::size_t>((run.rhs + t) * cols + j)]);
  }
  T a_at(index_t r, index_t k) const { return a[static_cast<std::size_t>(a_row_major ? r * a_depth + k : k * m + r)]; }
};

// gemm_tile over more columns than one gebp call takes (kGebpColumns): the
// slices cover every column once — whole panels and the ragged last
// columns — with and without depth runs (pieces of depth blocks), and with
// the depth blocks summed in a wider type. Small integers: exact in any
// order, so compared to the bit with a plain triple loop.
template <class Sum>
void sliced_product(index_t m, index_t cols, const std::vector<DepthRun>& runs) {
  const SmallIntProduct<float, Sum> p(m, cols, true, runs, static_cast<std::uint32_t>(m * 1000 + cols));
  const auto packed = pack_rhs(p.b.data(), p.depth, cols, 64);  // five depth blocks
  AlignedVector<float> block(static_cast<std::size_t>(m * packed.kc)), part(static_cast<std::size_t>(m * cols));
  std::vector<Sum> got(static_cast<std::size_t>(m * cols), Sum(-7));
  auto pack_a = [&](float* blk, index_t k0, index_t kc) {
    using Mapper = GemmTraits<float>::LhsMapper;
    PackLhs<float, Mapper, Eigen::RowMajor>()(blk, Mapper(p.a.data(), p.a_depth).getSubMapper(0, k0), kc, m);
  };
  gemm_tile<float, Sum>(m, packed, block.data(), got.data(), pack_a, runs, part.data());
  ASSERT_EQ(got, p.want) << "m " << m << " cols " << cols << (runs.empty() ? "" : " with runs");
}

TEST(GemmTile, ColumnsBeyondOneGebpCallAreSliced) {
  static_assert(kGebpColumns % GemmTraits<float>::Traits::nr == 0, "slices are whole panels");
  const std::vector<DepthRun> runs = {{0, 10, 100}, {100, 150, 150}};
  for (index_t m : {5, 53})
    for (index_t cols : {kGebpColumns + 1, 2 * kGebpColumns + 7})
      for (bool with_runs : {false, true}) {
        sliced_product<float>(m, cols, with_runs ? runs : std::vector<DepthRun>{});
        sliced_product<double>(m, cols, with_runs ? runs : std::vector<DepthRun>{});
      }
}

// Eigen's rhs panels read back (unpack_rhs_block) give the packed rows, for
// column counts around the 4-column panels and depths around the blocks.
template <class T>
void unpack_inverts_packing() {
  for (index_t depth : {1, 7, 37})
    for (index_t cols : {1, 3, 4, 5, 8, 13}) {
      std::vector<T> b(static_cast<std::size_t>(depth * cols));
      for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<T>(i + 1);
      const auto packed = pack_rhs(b.data(), depth, cols, 16);
      std::vector<T> rows;
      for (index_t k0 = 0, blk = 0; k0 < depth; k0 += packed.kc, ++blk) {
        const index_t kc = std::min(packed.kc, depth - k0);
        rows.assign(static_cast<std::size_t>(kc * cols), T(0));
        unpack_rhs_block(packed.data.data() + packed.block_offset[static_cast<std::size_t>(blk)], kc, cols,
                         rows.data());
        for (index_t i = 0; i < kc * cols; ++i)
          ASSERT_EQ(rows[static_cast<std::size_t>(i)], b[static_cast<std::size_t>(k0 * cols + i)])
              << "depth " << depth << " cols " << cols << " block " << blk;
      }
    }
}

TEST(GemmTile, UnpackInvertsEigensRhsPacking) {
  unpack_inverts_packing<float>();
  unpack_inverts_packing<double>();
}

// Small integers: every order of summation gives the exact product, so the
// two orientations must agree to the bit with a plain triple loop.
template <class T>
void kernel_lhs_product(index_t m, index_t cols, bool a_row_major, const std::vector<DepthRun>& runs) {
  const SmallIntProduct<T> p(m, cols, a_row_major, runs, static_cast<std::uint32_t>(m * 100 + cols));
  const index_t a_depth = p.a_depth;
  const std::vector<T>& a = p.a;
  const auto packed = pack_rhs(p.b.data(), p.depth, cols, 64);  // five depth blocks
  const auto as_lhs = repack_as_lhs(packed);
  AlignedVector<T> block(static_cast<std::size_t>((m + 4) * packed.kc)), part(static_cast<std::size_t>(m * cols));
  std::vector<T> got(static_cast<std::size_t>(m * cols), T(-7));
  auto pack_a = [&](T* blk, index_t k0, index_t kc) {
    // A's transpose, [a_depth x m]: column-major for a row-major A.
    if (a_row_major) {
      PackRhsOf<T, Eigen::ColMajor>()(blk, {a.data() + k0, a_depth}, kc, m);
    } else {
      PackRhsOf<T, Eigen::RowMajor>()(blk, {a.data() + k0 * m, m}, kc, m);
    }
  };
  gemm_tile_kernel_lhs<T, T>(m, as_lhs, block.data(), got.data(), pack_a, runs, part.data());
  ASSERT_EQ(got, p.want) << "m " << m << " cols " << cols << (a_row_major ? " row-major" : " column-major")
                         << (runs.empty() ? "" : " with runs");
}

TEST(GemmTile, KernelAsLhsComputesTheSameProduct) {
  // Runs that skip kernel rows and cross depth blocks (64 rows each).
  const std::vector<DepthRun> runs = {{0, 10, 100}, {100, 150, 150}};
  for (index_t m : {1, 2, 3, 4, 5, 12, 47, 48, 53})
    for (index_t cols : {1, 3, 17, 50})
      for (bool row_major : {true, false})
        for (bool with_runs : {false, true}) {
          kernel_lhs_product<float>(m, cols, row_major, with_runs ? runs : std::vector<DepthRun>{});
          if (cols == 17) kernel_lhs_product<double>(m, cols, row_major, with_runs ? runs : std::vector<DepthRun>{});
        }
}

// Depth blocks summed in double through the transposed product too.
TEST(GemmTile, KernelAsLhsDepthBlocksSummedInDoubleAreExact) {
  BlockedGemm p;
  const auto as_lhs =
      repack_as_lhs(pack_rhs(p.b.data(), p.depth, p.cols, convt::detail::exact_float_terms<std::int8_t>()));
  AlignedVector<float> block(static_cast<std::size_t>((p.m + 4) * as_lhs.kc)),
      part(static_cast<std::size_t>(p.m * p.cols));
  std::vector<double> res(static_cast<std::size_t>(p.m * p.cols), -1.0);
  auto pack_a = [&](float* blk, index_t k0, index_t kc) {
    PackRhsOf<float, Eigen::ColMajor>()(blk, {p.a.data() + k0, p.depth}, kc, p.m);
  };
  for (bool with_runs : {false, true}) {
    const std::vector<DepthRun> runs =
        with_runs ? std::vector<DepthRun>{{0, 400, 4800}, {4800, 8000, 4000}} : std::vector<DepthRun>{};
    gemm_tile_kernel_lhs<float, double>(p.m, as_lhs, block.data(), res.data(), pack_a, runs, part.data());
    for (double v : res) ASSERT_EQ(v, 127.0 * 127.0 * (with_runs ? 8800.0 : static_cast<double>(p.depth)));
  }
}

}  // namespace
