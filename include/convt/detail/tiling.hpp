// convt/detail/tiling.hpp — how a plan's work is cut into units: a pure
// function of the problem's sizes (no data, no types), tested on its own
// (tests/test_tiling.cpp).
//
// A work unit is (phase group, tile of rows, block of feature groups). Tiles
// are multiples of the GEMM's register block (gebp's mr rows), so a row's
// summation order never depends on the tiling: results are bitwise
// identical for any thread count and workspace cap.
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <vector>

#include "convt/error.hpp"

#ifndef CONVT_TILE_TARGET_BYTES
#define CONVT_TILE_TARGET_BYTES (256 * 1024)
#endif

#ifndef CONVT_STREAM_OUTPUT_BYTES
#define CONVT_STREAM_OUTPUT_BYTES (32 * 1024 * 1024)
#endif

namespace convt::detail {

/// The sizes tiling depends on.
struct TilingProblem {
  std::vector<index_t> group_rows;  // rows (GEMM M) of each phase group
  std::vector<bool> kernel_lhs;     // per group: multiplied with the kernel as gebp's lhs (kernel_as_lhs)
  index_t max_depth = 0;            // longest GEMM depth (K) of any group
  index_t max_kc = 1;               // largest depth block of the packed kernels
  index_t max_columns = 1;          // widest GEMM (N) of any group
  index_t feature_groups = 1;       // feature_group_count
  index_t group_out = 0;            // output features per feature group
  index_t row_block = 1;            // gebp's register block of rows (mr)
  index_t cache_rows = 1;           // Eigen's cache-blocking rows (mc) for the tallest group
  index_t element_bytes = 4;        // sizeof the GEMM's type (Acc)
  index_t sum_elements = 1;         // Acc elements per result value: sizeof(Sum) / sizeof(Acc)
  bool block_result = false;        // a gebp result block besides the sums: Sum wider than Acc, or
                                    // groups multiplied with the kernel as gebp's lhs (kernel_as_lhs)
  int workers = 1;
  std::size_t workspace_cap = std::size_t{16} << 20;
};

/// The decision.
struct Tiling {
  index_t tile_rows = 1;        // rows per unit (a multiple of row_block)
  index_t fg_block = 1;         // feature groups computed per unit
  index_t fg_blocks = 1;        // units per tile: ceil(feature_groups / fg_block)
  index_t staged_columns = 0;   // columns of the block that collects a unit's feature groups
  index_t worker_elements = 0;  // scratch Acc elements per worker: gather, packed block, results, staging
};

// Output features written together when feature groups are small.
inline constexpr index_t kStagedFeatures = 128;
// Only problems with at most this many units per worker are rebalanced.
inline constexpr index_t kUnitsPerWorker = 8;
/// gebp streams the packed kernel rows it multiplies once per call, whatever
/// the call's row count: measured on k4 layers (1 x 1 to 8 x 8 inputs, one
/// thread, Zen 4), that costs about as much as this many rows of
/// multiply-adds. A group multiplied with the kernel as gebp's lhs makes one
/// such call per unit; the others pass over the kernel once per register
/// block of rows, whatever the tiling.
inline constexpr index_t kStreamRows = 16;
// One tile's gather, packed block and result stay within this, so the
// stages hand data to each other in cache.
inline constexpr index_t kTileTargetBytes = CONVT_TILE_TARGET_BYTES;

// Outputs of at least this size are written with streaming stores
// (stream_output).
inline constexpr double kStreamOutputBytes = CONVT_STREAM_OUTPUT_BYTES;

/// Whether an output of `bytes` is written with streaming stores
/// (detail/stream_store.hpp): only outputs far larger than the caches, which
/// are evicted to memory before anything reads them, so reading each line
/// before writing it only costs bandwidth. Measured (AVX-512 Xeon, f32, 1 and
/// 2 threads): outputs of 67-268 MB (nnU-Net's 3-D decoder, the mask head's
/// 100 x 28 x 28 x 256) 1.1-1.2x faster; outputs of 0.25-4 MB unchanged or
/// slower, and the next layer would read them from the cache.
inline bool stream_output(double bytes) { return bytes >= kStreamOutputBytes; }

// Units of a group whose GEMM does fewer flops than this per byte of input
// read and output written prefetch (prefetch_units).
inline constexpr double kPrefetchFlopsPerByte = 80;

/// Whether a phase group's units prefetch their memory under the GEMM
/// (detail/prefetch.hpp; the engine also requires the input to be read
/// through the offset table): a row of `depth` x `columns` GEMM reads about one
/// input position (`in_row_bytes`) and writes `out_row_bytes`. Only where
/// the GEMM is short against that traffic does waiting for it show: in the
/// whole-model benchmark (Zen 5, 1 thread, each layer after the others had
/// filled the caches) the vocoders' 64 -> 32 layers (32 flops per byte),
/// the segmentation net's 21-feature k16 s8 layer (41) and the GAN's RGB
/// head (20) gained 1.1-1.3x; layers of a few hundred flops per byte
/// gained nothing and paid the prefetch instructions.
inline bool prefetch_units(index_t depth, index_t columns, index_t in_row_bytes, index_t out_row_bytes) {
  if (depth <= 0 || columns <= 0) return false;
  const double flops = 2.0 * static_cast<double>(depth) * static_cast<double>(columns);
  return flops < kPrefetchFlopsPerByte * static_cast<double>(in_row_bytes + out_row_bytes);
}

inline index_t ceil_div(index_t a, index_t b) { return a / b + (a % b != 0); }

/// Rows the busiest worker processes when units of `tile` rows are handed
/// out in order to whichever worker is free first; a unit of a group
/// multiplied with the kernel as gebp's lhs counts kStreamRows more.
inline index_t makespan(const TilingProblem& p, index_t tile, index_t fg_blocks) {
  // The workers' loads as a min-heap: choose_tiling asks for up to a few
  // hundred tiles of up to 8 units per worker, at plan creation.
  std::vector<index_t> load(static_cast<std::size_t>(std::max(p.workers, 1)), 0);
  const std::greater<index_t> later;
  index_t busiest = 0;
  for (std::size_t i = 0; i < p.group_rows.size(); ++i) {
    const index_t n = p.group_rows[i];
    const index_t stream = i < p.kernel_lhs.size() && p.kernel_lhs[i] ? kStreamRows : 0;
    for (index_t r = 0; r < n; r += tile) {
      for (index_t b = 0; b < fg_blocks; ++b) {
        std::pop_heap(load.begin(), load.end(), later);
        load.back() += std::min(tile, n - r) + stream;
        busiest = std::max(busiest, load.back());
        std::push_heap(load.begin(), load.end(), later);
      }
    }
  }
  return busiest;
}

inline Tiling choose_tiling(const TilingProblem& p) {
  Tiling t;
  // Feature groups per unit: up to kStagedFeatures output features written
  // together, the groups spread evenly over the blocks (513 depthwise
  // groups: 4 blocks of 103 and one of 101, not 4 x 128 + 1).
  const index_t G = std::max<index_t>(p.feature_groups, 1);
  const index_t most = std::min(G, std::max<index_t>(1, kStagedFeatures / std::max<index_t>(p.group_out, 1)));
  t.fg_block = ceil_div(G, ceil_div(G, most));
  t.fg_blocks = ceil_div(G, t.fg_block);

  index_t most_rows = 1;
  for (index_t r : p.group_rows) most_rows = std::max(most_rows, r);
  const index_t block = p.row_block;
  const index_t budget = static_cast<index_t>(std::min<std::size_t>(p.workspace_cap, std::size_t{1} << 62)) / p.workers;
  auto staged = [&] { return t.fg_block > 1 ? p.max_columns * t.fg_block : 0; };
  auto elements_per_row = [&] {
    return p.max_depth + p.max_kc + p.max_columns * (p.sum_elements + (p.block_result ? 1 : 0)) +
           staged() * p.sum_elements;
  };
  auto bytes_per_row = [&] { return p.element_bytes * elements_per_row(); };
  // The staging block is the first thing a small workspace cap gives up:
  // fewer feature groups per unit until one register block of rows fits.
  while (t.fg_block > 1 && block * bytes_per_row() > budget) {
    t.fg_block = (t.fg_block + 1) / 2;
    t.fg_blocks = ceil_div(G, t.fg_block);
  }
  const index_t per_row = bytes_per_row();
  // Eigen's own row blocking (so the packed lhs block stays in L2), within
  // the tile target and the workspace cap, rounded to the register block.
  index_t rows = std::max(std::min(p.cache_rows, kTileTargetBytes / std::max<index_t>(per_row, 1)), block);
  if (per_row > 0) rows = std::min(rows, budget / per_row);
  rows = std::max(block, rows / block * block);
  // No tile taller than the tallest group (rounded up to the block).
  rows = std::min(rows, ceil_div(most_rows, block) * block);
  // Small problems (a few units per worker): the block-rounded tiles can
  // leave one worker a whole tile behind the others, or cut a group that
  // streams its kernel per unit into several units. Of the tiles of whole
  // blocks (up to 4x taller, within the workspace cap and the tallest
  // group) whose busiest worker finishes sooner (makespan), take the
  // soonest, and of those the fewest units: FCN-8s's 289-row group on 2
  // workers (mr 48) runs as 144 + 144 + 1 rows, not 192 + 97; pix2pix's
  // 1024 -> 512 at 8 x 8 (four 64-row groups, 8 MB of kernel each) as one
  // unit per group, not 48 + 16 rows.
  auto unit_count = [&](index_t tile) {
    index_t n_units = 0;
    for (index_t n : p.group_rows) n_units += ceil_div(n, tile) * t.fg_blocks;
    return n_units;
  };
  const index_t few_units = kUnitsPerWorker * p.workers;
  if (unit_count(rows) <= few_units) {
    index_t tallest = std::min(4 * rows, ceil_div(most_rows, block) * block);
    if (per_row > 0) tallest = std::min(tallest, std::max(block, budget / per_row));
    const index_t current = makespan(p, rows, t.fg_blocks);
    index_t best = rows, best_time = current, best_units = unit_count(rows);
    for (index_t tile = block; tile <= tallest; tile += block) {
      const index_t n_units = unit_count(tile);
      if (n_units > few_units) continue;
      const index_t time = makespan(p, tile, t.fg_blocks);
      if (time < current && (time < best_time || (time == best_time && n_units < best_units))) {
        best = tile;
        best_time = time;
        best_units = n_units;
      }
    }
    rows = best;
  }
  t.tile_rows = rows;
  t.staged_columns = staged();
  t.worker_elements = rows * elements_per_row();
  return t;
}

/// Groups of at most this many rows whose GEMM is at least kKernelLhsDepth
/// deep and kKernelLhsColumns wide multiply with the kernel as gebp's lhs
/// too (kernel_as_lhs).
inline constexpr index_t kKernelLhsRows = 256;
inline constexpr index_t kKernelLhsDepth = 1024;
inline constexpr index_t kKernelLhsColumns = 96;

/// Whether a phase group of `rows` GEMM rows (all of its rows, over the
/// batch), `depth` deep and `columns` wide, multiplies with the kernel as
/// gebp's lhs (gemm_tile_kernel_lhs) instead of its own rows. gebp computes
/// register blocks of row_block (mr: 3 vector packets of rows) by 4 columns
/// and falls back to 2- and 1-packet blocks, half and quarter packets and
/// single rows for the rest.
///
/// Few rows: a group of fewer rows than mr leaves its register blocks part
/// empty and loads each kernel value for a few multiply-adds. With the
/// kernel's columns as gebp's rows the register block is full and the
/// group's rows are its 4-column panels. Measured (Eigen's float kernel,
/// AVX-512 Xeon, one thread; depth 1024-4096, 256-512 columns): 4 rows
/// 1.7-4.0x, 8: 2.0x, 12: 1.7-2.4x, 20-28: 1.4-1.8x, 40-44: 1.4x, 1 row
/// 1.0-1.25x; whole packets 16 and 32 rows (with 48) 0.84-1.06x there, but
/// on an AVX-512 EPYC (Zen 5), where gebp's one-packet path held 86% of the
/// profile of 4 x 4 inputs' layers (16 rows per phase), 16 rows 1.13-1.15x
/// (depth 2048, 256 columns) and 1.7-1.9x (depth 4096, 512 columns) at 1
/// and 2 threads — so whole packets swap there; on a second Xeon keeping
/// them read 1.14-1.30x, so Intel CPUs keep 16-row packets (`kept_packet`).
/// 2 or 3 rows stay: 0.80-0.86x (a panel of 4 mostly empty, where the
/// row-major product's single-row path is better).
///
/// Few rows of a deep, wide product: gebp multiplies each 4-column panel
/// of the kernel with the tile's rows straight from the packed kernel,
/// which a deep, wide kernel (megabytes) brings from memory for only one to
/// five register blocks of rows, plus a ragged block of the rest. Swapped,
/// a block of the kernel stays in cache while every row passes it.
/// Measured on Zen 5 (one / two threads, whole layers, against the build
/// before): 64 rows, depth 4096, 512 columns (pix2pix's 1024 -> 512 at
/// 8 x 8) 1.40x / 1.21x; 256 rows, 4096, 256: 1.09x / 1.08x; 75 and 100
/// rows, 1024, 1024 (the vocoders' first layers) 1.09-1.13x at one thread;
/// 64 rows, 1024, 128 (GANs' 8 x 8) unchanged. A trial swapping every
/// group: shallower products (depth 256-512) 0.96-1.07x, more rows
/// (289-4096) 0.95-1.04x, narrow ones (3-84 columns) 0.48-0.87x — they
/// stay.
///
/// Chosen per group from its shapes alone, so a group's summation order is
/// still a function of the shapes: groups of fewer than mr rows are one
/// tile whatever the tiling, and taller groups are cut into tiles of whole
/// register blocks, so of whole 4-row panels where mr is a multiple of 4
/// (elsewhere they do not swap) — results stay bitwise identical across
/// thread counts and workspace caps.
///
/// `kept_packet`, where nonzero, is the vector packet (rows) whose whole
/// multiples below the register block keep their rows as gebp's lhs: the
/// engine passes it on CPUs where gebp's one- and two-packet paths are the
/// faster choice (detail/cpu.hpp, packet_groups_swap).
inline bool kernel_as_lhs(index_t rows, index_t depth, index_t columns, index_t row_block, index_t kept_packet = 0) {
  if (rows <= 0) return false;
  if (rows < row_block) return rows != 2 && rows != 3 && (kept_packet <= 0 || rows % kept_packet != 0);
  // Tiles of a taller group must be whole 4-row panels (gebp's nr).
  return rows <= kKernelLhsRows && depth >= kKernelLhsDepth && columns >= kKernelLhsColumns && row_block % 4 == 0;
}

/// The work units of a tiling, numbered phase group by phase group; only
/// the running unit counts are stored, so nothing grows with the image.
class WorkUnits {
 public:
  struct Unit {
    std::size_t group;  // phase group
    index_t row0;       // first row of the tile
    index_t rows;       // rows of the tile
    index_t fg0;        // first feature group
    index_t fgs;        // feature groups of the unit
  };

  WorkUnits() = default;
  WorkUnits(const std::vector<index_t>& group_rows, const Tiling& t, index_t feature_groups)
      : group_rows_(group_rows),
        tile_rows_(t.tile_rows),
        fg_block_(t.fg_block),
        fg_blocks_(t.fg_blocks),
        feature_groups_(feature_groups) {
    index_t total = 0;
    for (index_t n : group_rows_) {
      total = checked_add(total, checked_mul(ceil_div(n, tile_rows_), fg_blocks_, "work units"), "work units");
      end_.push_back(total);
    }
  }

  index_t count() const noexcept { return end_.empty() ? 0 : end_.back(); }

  Unit operator[](index_t u) const noexcept {
    const auto it = std::upper_bound(end_.begin(), end_.end(), u);
    const auto g = static_cast<std::size_t>(it - end_.begin());
    const index_t local = u - (g == 0 ? 0 : end_[g - 1]);
    const index_t row0 = local / fg_blocks_ * tile_rows_;
    const index_t fg0 = local % fg_blocks_ * fg_block_;
    return {g, row0, std::min(tile_rows_, group_rows_[g] - row0), fg0, std::min(fg_block_, feature_groups_ - fg0)};
  }

 private:
  std::vector<index_t> group_rows_;
  std::vector<index_t> end_;  // per group: units of this and earlier groups
  index_t tile_rows_ = 1;
  index_t fg_block_ = 1;
  index_t fg_blocks_ = 1;
  index_t feature_groups_ = 1;
};

}  // namespace convt::detail
