// gemm_tile with a result type wider than the GEMM's (types.hpp's
// F32Blocks: int8 products summed by the float kernel): each call of the
// kernel sums one depth block into a float tile, added to the double result.
// Sums far beyond 2^24 are exact only if every block stays
// within 2^24 and the blocks are added, none dropped or added twice; with
// and without depth runs (border bands), which cut blocks further.
#include <cstdint>
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

}  // namespace
