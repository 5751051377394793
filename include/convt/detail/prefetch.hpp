// convt/detail/prefetch.hpp — software prefetches of a work unit's memory
// while the GEMM of another computes.
//
// A unit reads its input rows (pack), multiplies, then writes its output
// rows. Where the layer's data are not in the caches (a decoder's layers
// each stream megabytes the previous layers evicted), the pack waits for
// the input and the write for each output line's read for ownership, and
// the GEMM in between leaves the memory system idle. Prefetching the
// output lines of the unit being computed, and the input of the unit the
// worker will likely take next, moves those waits under the GEMM. A
// prefetch is only a hint: a wrong address costs bandwidth, never a value.
#pragma once

#include <algorithm>
#include <cstddef>

#include "convt/detail/im2col.hpp"
#include "convt/detail/output_rows.hpp"
#include "convt/types.hpp"

namespace convt::detail {

inline constexpr index_t kPrefetchLineBytes = 64;

/// Brings the line holding `p` towards the core (`for_write`: in a state
/// that lets a store proceed without another request). A no-op where the
/// compiler has no prefetch builtin.
template <bool for_write>
inline void prefetch_line(const void* p) noexcept {
#if defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(p, for_write ? 1 : 0, 3);
#else
  (void)p;
#endif
}

/// The lines of the bytes [p, p + bytes).
template <bool for_write>
inline void prefetch_bytes(const void* p, index_t bytes) noexcept {
  if (bytes <= 0) return;
  // At line steps from the run's start: a run's straddled last line is
  // the next run's first (rows of consecutive positions), prefetched with
  // it. Also prefetching each run's last line measured slower on Zen 5
  // (the segmentation net's 84-byte output rows: the whole gain lost).
  const char* first = static_cast<const char*>(p);
  for (index_t b = 0; b < bytes; b += kPrefetchLineBytes) prefetch_line<for_write>(first + b);
}

/// A half-open run of input elements [begin, end).
struct ElementRange {
  index_t begin = 0;
  index_t end = 0;
};

/// Calls `fn(ElementRange)` for the input a tile reads, as few disjoint
/// runs: the tap-major offset table of `rows` rows and `taps` taps
/// (tile_tap_offsets; absent entries skipped), each entry the start of
/// `channels` elements. Each tap's rows lie between its least and greatest
/// offset, and neighbouring taps read mostly the same positions, so the
/// taps' spans, merged, cover the tile with each line once (ascending).
/// Where those spans hold more than twice the elements the entries read (a
/// sparse tile: strides, dilation), the entries' own runs are visited
/// instead. `spans` is scratch for `taps` ranges (no allocation: this runs
/// inside the workers).
template <class Fn>
void for_each_input_range(const index_t* offsets, index_t rows, index_t taps, index_t channels, ElementRange* spans,
                          const Fn& fn) {
  index_t count = 0, read = 0;
  for (index_t t = 0; t < taps; ++t) {
    ElementRange span{0, 0};
    bool any = false;
    for (index_t r = 0; r < rows; ++r) {
      const index_t off = offsets[t * rows + r];
      if (off == kAbsentOffset) continue;
      span.begin = any ? std::min(span.begin, off) : off;
      span.end = any ? std::max(span.end, off + channels) : off + channels;
      any = true;
      read += channels;
    }
    if (any) spans[count++] = span;
  }
  std::sort(spans, spans + count, [](const ElementRange& a, const ElementRange& b) { return a.begin < b.begin; });
  index_t merged = 0, covered = 0;
  for (index_t i = 0; i < count; ++i) {
    if (merged > 0 && spans[i].begin <= spans[merged - 1].end) {
      covered += std::max<index_t>(spans[i].end - spans[merged - 1].end, 0);
      spans[merged - 1].end = std::max(spans[merged - 1].end, spans[i].end);
    } else {
      covered += spans[i].end - spans[i].begin;
      spans[merged++] = spans[i];
    }
  }
  if (covered <= 2 * read) {
    for (index_t i = 0; i < merged; ++i) fn(spans[i]);
    return;
  }
  for (index_t e = 0; e < rows * taps; ++e) {
    if (offsets[e] != kAbsentOffset) fn(ElementRange{offsets[e], offsets[e] + channels});
  }
}

/// Prefetches the input of a tile whose offset table is `offsets`, relative
/// to `base` (for_each_input_range).
template <class In>
void prefetch_tile_input(const In* base, const index_t* offsets, index_t rows, index_t taps, index_t channels,
                         ElementRange* spans) {
  for_each_input_range(offsets, rows, taps, channels, spans, [&](const ElementRange& r) {
    prefetch_bytes<false>(base + r.begin, (r.end - r.begin) * static_cast<index_t>(sizeof(In)));
  });
}

/// Prefetches for writing the output rows of a tile: `features`
/// consecutive elements at `out + row_offset[r]` (tile_row_offsets; skipped
/// rows left out).
template <class Out>
void prefetch_tile_output(const Out* out, const index_t* row_offset, index_t rows, index_t features) {
  for (index_t r = 0; r < rows; ++r) {
    if (row_offset[r] != kSkipRow)
      prefetch_bytes<true>(out + row_offset[r], features * static_cast<index_t>(sizeof(Out)));
  }
}

}  // namespace convt::detail
