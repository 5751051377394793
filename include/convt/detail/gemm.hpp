// convt/detail/gemm.hpp — stage 3: Eigen's GEMM kernel (gebp) on one tile.
//
// We drive Eigen's own packing routines and register-blocked kernel
// (Eigen/src/Core/products/GeneralBlockPanelKernel.h) instead of
// `Matrix::operator*` for two reasons:
//  * the kernel matrix is packed once, when the plan is made, in exactly the
//    panel format gebp consumes (operator* repacks it on every call);
//  * the summation order of every output element depends only on the depth
//    blocking (a function of the depth alone) and on the element's row
//    position relative to the phase's end, not on how rows are split into
//    tiles, so results are bitwise identical for any thread count and any
//    workspace cap. operator* switches to GEMV or a coefficient-wise product
//    for small tiles, which would change the order.
#pragma once

#include <algorithm>
#include <cstddef>
#include <type_traits>
#include <vector>

#include <Eigen/Core>

#include "convt/error.hpp"

namespace convt::detail {

template <class Acc>
using AlignedVector = std::vector<Acc, Eigen::aligned_allocator<Acc>>;

template <class Acc, int LhsOrder = Eigen::RowMajor>
struct GemmTraits {
  using Traits = Eigen::internal::gebp_traits<Acc, Acc>;
  using LhsMapper = Eigen::internal::const_blas_data_mapper<Acc, index_t, LhsOrder>;
  using RhsMapper = Eigen::internal::const_blas_data_mapper<Acc, index_t, Eigen::RowMajor>;
  using ResMapper = Eigen::internal::blas_data_mapper<Acc, index_t, Eigen::ColMajor, Eigen::Unaligned, 1>;
  using PackRhs = Eigen::internal::gemm_pack_rhs<Acc, index_t, RhsMapper, Traits::nr, Eigen::RowMajor>;
  using Kernel = Eigen::internal::gebp_kernel<Acc, Acc, index_t, ResMapper, Traits::mr, Traits::nr, false, false>;
  /// Rows of one register block: tiles are multiples of this (see header).
  static constexpr index_t row_block = Traits::mr;
};

/// Eigen's depth blocking for a reduction of `depth` terms; with one thread
/// Eigen derives it from the depth and the cache sizes only. `max_kc` > 0
/// caps it (blocks whose float sums must stay exact).
template <class Acc>
index_t depth_block(index_t depth, index_t cols, index_t max_kc = 0) {
  if (depth <= 0) return 1;
  index_t kc = depth;
  index_t mc = 4096;
  index_t nc = cols > 0 ? cols : 1;
  Eigen::internal::computeProductBlockingSizes<Acc, Acc, 1>(kc, mc, nc, index_t{1});
  if (max_kc > 0) kc = std::min(kc, max_kc);
  return std::max<index_t>(1, std::min(kc, depth));
}

/// A [depth x cols] matrix packed for gebp: consecutive depth blocks, each a
/// panel set of [kc x cols].
template <class Acc>
struct PackedMatrix {
  index_t depth = 0;
  index_t cols = 0;
  index_t kc = 1;
  std::vector<index_t> block_offset;  // start of each depth block, 64-byte aligned
  AlignedVector<Acc> data;
};

/// Packs a row-major [depth x cols] matrix in depth blocks of at most
/// `max_kc` rows (0: Eigen's blocking).
template <class Acc>
PackedMatrix<Acc> pack_rhs(const Acc* rowmajor, index_t depth, index_t cols, index_t max_kc = 0) {
  using G = GemmTraits<Acc>;
  PackedMatrix<Acc> p;
  p.depth = depth;
  p.cols = cols;
  p.kc = depth_block<Acc>(depth, cols, max_kc);
  constexpr index_t align = 64 / sizeof(Acc) > 0 ? 64 / sizeof(Acc) : 1;
  index_t total = 0;
  for (index_t k0 = 0; k0 < depth; k0 += p.kc) {
    p.block_offset.push_back(total);
    total += (std::min(p.kc, depth - k0) * cols + align - 1) / align * align;
  }
  p.data.resize(static_cast<std::size_t>(total));
  if (cols == 0) return p;  // nothing to pack; `rowmajor` may be null, and a mapper must not index it
  typename G::PackRhs pack;
  typename G::RhsMapper src(rowmajor, cols);
  for (index_t k0 = 0, b = 0; k0 < depth; k0 += p.kc, ++b) {
    const index_t kc = std::min(p.kc, depth - k0);
    pack(p.data.data() + p.block_offset[static_cast<std::size_t>(b)], src.getSubMapper(k0, 0), kc, cols);
  }
  return p;
}

/// A stretch of a GEMM's depth: A's columns [lhs, lhs + length) multiply
/// B's rows [rhs, rhs + length).
struct DepthRun {
  index_t lhs = 0;
  index_t rhs = 0;
  index_t length = 0;
};

/// res[m x cols] (column-major, leading dimension m) = A[m x depth] * B,
/// where pack_a(block_a, k0, kc) packs A's columns [k0, k0 + kc) in gebp's
/// lhs format. `block_a` holds at least m * B.kc elements. With `runs`, A
/// has only the runs' columns and meets the B rows they name; each run is
/// cut at B's depth blocks, so a row's summation order depends only on the
/// runs and the blocking, as without them.
///
/// A result type `Sum` wider than `Acc` (exact integer sums): each gebp
/// call, at most one depth block, sums into `part` (m * cols elements),
/// which is then added to `res` — exact when a block's sum is.
template <class Acc, class Sum, class PackA>
void gemm_tile(index_t m, const PackedMatrix<Acc>& b, Acc* block_a, Sum* res, const PackA& pack_a,
               const std::vector<DepthRun>& runs = {}, Acc* part = nullptr) {
  using G = GemmTraits<Acc>;
  constexpr bool blocks_summed = !std::is_same_v<Acc, Sum>;
  std::fill_n(res, m * b.cols, Sum(0));
  if (m == 0 || b.cols == 0) return;
  typename G::Kernel gebp;
  Acc* c_data = nullptr;
  if constexpr (blocks_summed) {
    c_data = part;
  } else {
    c_data = res;
  }
  typename G::ResMapper c(c_data, m);
  // gebp(kc, packed block, its depth, first row in it) into c; with a wider
  // Sum, c restarts at zero each call and is added to res.
  auto multiply = [&](index_t kc, const Acc* block, index_t block_depth, index_t offset) {
    if constexpr (blocks_summed) std::fill_n(part, m * b.cols, Acc(0));
    gebp(c, block_a, block, m, kc, b.cols, Acc(1), kc, block_depth, 0, offset);
    if constexpr (blocks_summed) {
      for (index_t i = 0; i < m * b.cols; ++i) res[i] += static_cast<Sum>(part[i]);
    }
  };
  if (runs.empty()) {
    for (index_t k0 = 0, blk = 0; k0 < b.depth; k0 += b.kc, ++blk) {
      const index_t kc = std::min(b.kc, b.depth - k0);
      pack_a(block_a, k0, kc);
      multiply(kc, b.data.data() + b.block_offset[static_cast<std::size_t>(blk)], kc, 0);
    }
    return;
  }
  for (const DepthRun& run : runs) {
    for (index_t k = run.rhs; k < run.rhs + run.length;) {
      // gebp addresses rows [k, k + kc) of a packed depth block through its
      // depth stride and offset: nothing is repacked.
      const index_t blk = k / b.kc;
      const index_t block_begin = blk * b.kc;
      const index_t block_depth = std::min(b.kc, b.depth - block_begin);
      const index_t kc = std::min(run.rhs + run.length, block_begin + block_depth) - k;
      pack_a(block_a, run.lhs + (k - run.rhs), kc);
      multiply(kc, b.data.data() + b.block_offset[static_cast<std::size_t>(blk)], block_depth, k - block_begin);
      k += kc;
    }
  }
}

/// Eigen's lhs packing routine for a data mapper of storage order LhsOrder.
template <class Acc, class LhsMapper, int LhsOrder>
using PackLhs = Eigen::internal::gemm_pack_lhs<Acc, index_t, LhsMapper, GemmTraits<Acc>::Traits::mr,
                                               GemmTraits<Acc>::Traits::LhsProgress,
                                               typename GemmTraits<Acc>::Traits::LhsPacket4Packing, LhsOrder>;

}  // namespace convt::detail
