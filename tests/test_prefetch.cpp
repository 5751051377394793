// The input runs a unit prefetches (detail/prefetch.hpp): the taps' spans of
// a tile's offset table merged into disjoint ascending runs that cover every
// element the tile reads, or the entries' own runs where the spans would
// cover more than twice what is read.
#include <gtest/gtest.h>

#include <vector>

#include "convt/detail/prefetch.hpp"

namespace {

using convt::index_t;
using convt::detail::ElementRange;
using convt::detail::for_each_input_range;
using convt::detail::kAbsentOffset;

std::vector<ElementRange> ranges(const std::vector<index_t>& offsets, index_t rows, index_t taps, index_t channels) {
  std::vector<ElementRange> spans(static_cast<std::size_t>(taps));
  std::vector<ElementRange> seen;
  for_each_input_range(offsets.data(), rows, taps, channels, spans.data(),
                       [&](const ElementRange& r) { seen.push_back(r); });
  return seen;
}

// Every element an entry reads lies in some run.
void expect_covered(const std::vector<ElementRange>& runs, const std::vector<index_t>& offsets, index_t channels) {
  for (index_t off : offsets) {
    if (off == kAbsentOffset) continue;
    for (index_t e = off; e < off + channels; ++e) {
      bool in = false;
      for (const ElementRange& r : runs) in = in || (r.begin <= e && e < r.end);
      EXPECT_TRUE(in) << "element " << e;
    }
  }
}

TEST(Prefetch, OverlappingTapsMergeIntoOneRun) {
  // 1-D, two taps, rows 0..3 at 8 channels: tap 0 reads positions 0..3,
  // tap 1 positions 1..4 (tap-major table).
  const std::vector<index_t> offsets = {0, 8, 16, 24, 8, 16, 24, 32};
  const auto runs = ranges(offsets, 4, 2, 8);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].begin, 0);
  EXPECT_EQ(runs[0].end, 40);
  expect_covered(runs, offsets, 8);
}

TEST(Prefetch, DisjointTapsStayApartInAscendingOrder) {
  // Tap 1's rows before tap 0's (a flipped kernel), a gap between them,
  // and an absent entry (padding) skipped: tap 0 reads 100 and 104, tap 1
  // only 0.
  const std::vector<index_t> offsets = {100, 104, kAbsentOffset, 0};
  const auto runs = ranges(offsets, 2, 2, 4);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].begin, 0);
  EXPECT_EQ(runs[0].end, 4);
  EXPECT_EQ(runs[1].begin, 100);
  EXPECT_EQ(runs[1].end, 108);
  expect_covered(runs, offsets, 4);
}

TEST(Prefetch, SparseTilesPrefetchTheirEntries) {
  // Rows far apart (a strided or dilated tile): a tap's span would be 3x
  // what it reads, so each entry is its own run.
  const std::vector<index_t> offsets = {0, 1000, 2000};
  const auto runs = ranges(offsets, 3, 1, 4);
  ASSERT_EQ(runs.size(), 3u);
  for (std::size_t i = 0; i < runs.size(); ++i) {
    EXPECT_EQ(runs[i].begin, offsets[i]);
    EXPECT_EQ(runs[i].end, offsets[i] + 4);
  }
  // A span of exactly twice what is read still merges (2 rows of 4 in 16
  // elements); one element more does not.
  EXPECT_EQ(ranges({0, 12}, 2, 1, 4).size(), 1u);
  EXPECT_EQ(ranges({0, 13}, 2, 1, 4).size(), 2u);
}

TEST(Prefetch, AllAbsentReadsNothing) { EXPECT_TRUE(ranges({kAbsentOffset, kAbsentOffset}, 2, 1, 16).empty()); }

}  // namespace
