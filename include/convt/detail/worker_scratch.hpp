// convt/detail/worker_scratch.hpp — what the workers of one run write into:
// per worker, one aligned block of the unit's buffers (gathered tile,
// packed block, GEMM results, staging) and its offset tables. A run takes
// a whole set from the plan's pool (scratch_pool.hpp), so repeated runs
// allocate nothing and workers allocate nothing ever.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <memory>
#include <vector>

#include <Eigen/Core>

#include "convt/detail/im2col.hpp"
#include "convt/detail/lhs_access.hpp"
#include "convt/detail/phases.hpp"
#include "convt/detail/prefetch.hpp"
#include "convt/detail/tiling.hpp"
#include "convt/types.hpp"

namespace convt::detail {

/// One unit's buffers in its worker's block, in the order the stages fill
/// them; the sizes are the tiling's per-row budget (choose_tiling).
template <class Acc, class Sum>
struct UnitBuffers {
  Acc* tile;     // the gathered im2col tile, [tile rows x depth]
  Acc* block_a;  // the GEMM's packed block of the tile, [tile rows x kc]
  Acc* part;     // gebp's own result where it is not `res` (TilingProblem::block_result)
  Sum* res;      // the unit's results, [tile rows x columns]
  Sum* staged;   // several feature groups' results side by side
};

template <class Acc, std::size_t S>
struct WorkerScratch {
  struct AlignedFree {
    void operator()(Acc* p) const noexcept { Eigen::internal::aligned_free(p); }
  };

  // Left uninitialised: every element is written before it is read.
  WorkerScratch(const std::array<AxisPhases, S>& axes, int workers, const Tiling& t, index_t max_taps,
                std::size_t phase_groups, bool prefetch)
      : stride(t.worker_elements),
        data(static_cast<Acc*>(Eigen::internal::aligned_malloc(
            sizeof(Acc) * static_cast<std::size_t>(t.worker_elements) * static_cast<std::size_t>(workers)))),
        taps(std::max<index_t>(max_taps, 1)) {
    gather.reserve(static_cast<std::size_t>(workers));
    for (int w = 0; w < workers; ++w) gather.emplace_back(axes, t.tile_rows, max_taps);
    if (prefetch) {
      ahead.reserve(static_cast<std::size_t>(workers));
      for (int w = 0; w < workers; ++w) ahead.emplace_back(axes, t.tile_rows, max_taps);
      spans.resize(static_cast<std::size_t>(workers * taps));
    }
    access.resize(phase_groups);
  }

  /// Worker `w`'s block carved for units of at most `tile_rows` rows,
  /// `depth` deep (gathered), packed in blocks of `kc`, `columns` wide;
  /// `result_block`: gebp's result is a block of its own.
  template <class Sum>
  UnitBuffers<Acc, Sum> buffers(int w, index_t tile_rows, index_t depth, index_t kc, index_t columns,
                                bool result_block) const noexcept {
    UnitBuffers<Acc, Sum> b{};
    b.tile = data.get() + stride * w;
    b.block_a = b.tile + tile_rows * depth;
    b.part = b.block_a + tile_rows * kc;
    b.res = reinterpret_cast<Sum*>(b.part + (result_block ? tile_rows * columns : 0));
    b.staged = b.res + tile_rows * columns;
    return b;
  }

  index_t stride;  // Acc elements per worker
  std::unique_ptr<Acc, AlignedFree> data;
  std::vector<GatherScratch<S>> gather;
  std::vector<LhsAccess> access;  // per phase group, resolved per run
  index_t taps;
  // Prefetching (when some group does): the offset table of the unit a
  // worker prefetches, and room for its input's spans.
  std::vector<GatherScratch<S>> ahead;
  std::vector<ElementRange> spans;
};

}  // namespace convt::detail
