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
  /// Rows of one vector packet of the lhs.
  static constexpr index_t packet = Traits::LhsProgress;
};

/// gebp multiplies a packed lhs block by at most this many columns of the
/// packed kernel per call (a multiple of its 4-column panels): wider phase
/// groups share one packing of their left operand over all their columns,
/// while each call streams no more of the kernel through the cache than a
/// group of this width.
inline constexpr index_t kGebpColumns = 256;

/// Eigen's depth blocking for a reduction of `depth` terms; with one thread
/// Eigen derives it from the depth and the cache sizes only (and the
/// columns of one gebp call). `max_kc` > 0 caps it (blocks whose float sums
/// must stay exact). With `run` > 0 (an im2col depth made of taps' channel
/// runs of that length) a block of several is cut at a run's end: whole
/// runs where a block holds one, else whole cache lines of elements, so the
/// packings of the input (indirect_lhs.hpp) load whole vector packets from
/// a run instead of assembling the packets that straddle two runs, and
/// finish a block on whole packets. On Zen 5, where Eigen blocks the GANs'
/// 8 x 8 layers' depth (4 x 256) as 520 + 504, the element-wise path's
/// scalar stores were the packing's hottest instructions, and the cut
/// alone took the packing from 11.1% to 8.8% of the layer's time.
template <class Acc>
index_t depth_block(index_t depth, index_t cols, index_t max_kc = 0, index_t run = 0) {
  if (depth <= 0) return 1;
  index_t kc = depth;
  index_t mc = 4096;
  index_t nc = std::clamp<index_t>(cols, 1, kGebpColumns);
  Eigen::internal::computeProductBlockingSizes<Acc, Acc, 1>(kc, mc, nc, index_t{1});
  if (max_kc > 0) kc = std::min(kc, max_kc);
  kc = std::max<index_t>(1, std::min(kc, depth));
  if (run > 0 && kc < depth) {
    constexpr index_t line = 64 / sizeof(Acc) > 0 ? 64 / sizeof(Acc) : 1;
    const index_t unit = kc >= run ? run : line;
    if (kc >= unit) kc = kc / unit * unit;
  }
  return kc;
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
/// `max_kc` rows (0: Eigen's blocking), cut at the ends of runs of `run`
/// rows (depth_block).
template <class Acc>
PackedMatrix<Acc> pack_rhs(const Acc* rowmajor, index_t depth, index_t cols, index_t max_kc = 0, index_t run = 0) {
  using G = GemmTraits<Acc>;
  PackedMatrix<Acc> p;
  p.depth = depth;
  p.cols = cols;
  p.kc = depth_block<Acc>(depth, cols, max_kc, run);
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

/// Calls f(a_column, kc, block, block_depth, offset) for each piece of the
/// product A * B that one gebp call computes: A's columns [a_column,
/// a_column + kc) against rows [offset, offset + kc) of B's packed depth
/// block `block` (of `block_depth` rows). Without `runs`, B's depth blocks
/// in order; with them, each run cut at B's depth blocks — so a row's
/// summation order depends only on the runs and the blocking.
template <class Acc, class F>
void for_each_depth_piece(const PackedMatrix<Acc>& b, const std::vector<DepthRun>& runs, F&& f) {
  auto block = [&](index_t blk) { return b.data.data() + b.block_offset[static_cast<std::size_t>(blk)]; };
  if (runs.empty()) {
    for (index_t k0 = 0, blk = 0; k0 < b.depth; k0 += b.kc, ++blk) {
      const index_t kc = std::min(b.kc, b.depth - k0);
      f(k0, kc, block(blk), kc, index_t{0});
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
      f(run.lhs + (k - run.rhs), kc, block(blk), block_depth, k - block_begin);
      k += kc;
    }
  }
}

/// res[m x cols] (column-major, leading dimension m) = A[m x depth] * B,
/// where pack_a(block_a, k0, kc) packs A's columns [k0, k0 + kc) in gebp's
/// lhs format. `block_a` holds at least m * B.kc elements. With `runs`, A
/// has only the runs' columns and meets the B rows they name
/// (for_each_depth_piece).
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
  // gebp into c; with a wider Sum, c restarts at zero each depth piece and
  // is added to res. Columns [j, j + n) of a packed block start at column
  // j's panel (kGebpColumns is whole panels); slicing the columns changes
  // no element's summation.
  for_each_depth_piece(b, runs,
                       [&](index_t a_column, index_t kc, const Acc* block, index_t block_depth, index_t offset) {
                         pack_a(block_a, a_column, kc);
                         if constexpr (blocks_summed) std::fill_n(part, m * b.cols, Acc(0));
                         for (index_t j = 0; j < b.cols; j += kGebpColumns) {
                           const index_t n = std::min(kGebpColumns, b.cols - j);
                           gebp(typename G::ResMapper(c_data + j * m, m), block_a, block + j * block_depth, m, kc, n,
                                Acc(1), kc, block_depth, 0, offset);
                         }
                         if constexpr (blocks_summed) {
                           for (index_t i = 0; i < m * b.cols; ++i) res[i] += static_cast<Sum>(part[i]);
                         }
                       });
}

// Eigen's packet types carry vector attributes that GCC reports as ignored
// when they are template arguments (Eigen silences the same in its headers).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
#endif

/// res (column-major [m x cols]) = part (row-major [m x cols]): packet
/// squares transposed in registers where the type has them.
template <class Acc>
void transpose_result(const Acc* part, index_t m, index_t cols, Acc* res) {
  index_t r0 = 0;
  if constexpr (std::is_floating_point_v<Acc> && Eigen::internal::packet_traits<Acc>::Vectorizable) {
    using Packet = typename Eigen::internal::packet_traits<Acc>::type;
    constexpr index_t P = Eigen::internal::unpacket_traits<Packet>::size;
    for (; r0 + P <= m; r0 += P) {
      index_t j = 0;
      for (; j + P <= cols; j += P) {
        Eigen::internal::PacketBlock<Packet, P> square;
        for (index_t i = 0; i < P; ++i) square.packet[i] = Eigen::internal::ploadu<Packet>(part + (r0 + i) * cols + j);
        Eigen::internal::ptranspose(square);
        for (index_t i = 0; i < P; ++i) Eigen::internal::pstoreu(res + (j + i) * m + r0, square.packet[i]);
      }
      for (; j < cols; ++j) {
        for (index_t i = 0; i < P; ++i) res[j * m + r0 + i] = part[(r0 + i) * cols + j];
      }
    }
  }
  for (index_t r = r0; r < m; ++r) {
    for (index_t j = 0; j < cols; ++j) res[j * m + r] = part[r * cols + j];
  }
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

/// gemm_tile's product with the roles in gebp swapped: B, packed as gebp's
/// lhs by repack_as_lhs (the same depth blocks), runs along gebp's register
/// block of rows and A's m rows are its rhs panels. For a few rows this
/// fills the register block that A's rows would leave mostly empty.
/// pack_a(block_a, k0, kc) packs A's columns [k0, k0 + kc) in gebp's rhs
/// format. gebp's result is B^T A^T, [cols x m]: it goes to `part`
/// (m * cols elements) and is transposed into res; with a wider Sum, one
/// depth block at a time, as in gemm_tile.
template <class Acc, class Sum, class PackA>
void gemm_tile_kernel_lhs(index_t m, const PackedMatrix<Acc>& b_lhs, Acc* block_a, Sum* res, const PackA& pack_a,
                          const std::vector<DepthRun>& runs, Acc* part) {
  using G = GemmTraits<Acc>;
  constexpr bool blocks_summed = !std::is_same_v<Acc, Sum>;
  const index_t cols = b_lhs.cols;
  if (m == 0 || cols == 0) {
    std::fill_n(res, m * cols, Sum(0));
    return;
  }
  // One row: gebp's [cols x 1] result already has res's layout.
  Acc* c_data = part;
  if constexpr (!blocks_summed) {
    if (m == 1) c_data = res;
  }
  if constexpr (blocks_summed) std::fill_n(res, m * cols, Sum(0));
  std::fill_n(c_data, m * cols, Acc(0));
  typename G::Kernel gebp;
  typename G::ResMapper c(c_data, cols);
  auto add_transposed = [&] {
    for (index_t r = 0; r < m; ++r) {
      for (index_t j = 0; j < cols; ++j) res[j * m + r] += static_cast<Sum>(part[r * cols + j]);
    }
  };
  for_each_depth_piece(b_lhs, runs,
                       [&](index_t a_column, index_t kc, const Acc* block, index_t block_depth, index_t offset) {
                         pack_a(block_a, a_column, kc);
                         if constexpr (blocks_summed) std::fill_n(part, m * cols, Acc(0));
                         gebp(c, block, block_a, cols, kc, m, Acc(1), block_depth, kc, offset, 0);
                         if constexpr (blocks_summed) add_transposed();
                       });
  if constexpr (!blocks_summed) {
    if (c_data != res) transpose_result(part, m, cols, res);
  }
}

/// The values of one depth block packed by gemm_pack_rhs (row-major
/// source), back in row-major order [kc x cols]. Eigen's format for nr = 4:
/// panels of 4 columns, each holding its 4 values of one depth row after
/// another, then the remaining columns one at a time (tested against
/// pack_rhs in tests/test_gemm.cpp).
template <class Acc>
void unpack_rhs_block(const Acc* packed, index_t kc, index_t cols, Acc* rowmajor) {
  static_assert(GemmTraits<Acc>::Traits::nr == 4, "gebp's rhs panels are 4 columns wide");
  const index_t cols4 = cols / 4 * 4;
  for (index_t j = 0; j < cols4; j += 4) {
    const Acc* panel = packed + j * kc;
    for (index_t k = 0; k < kc; ++k) std::copy_n(panel + 4 * k, 4, rowmajor + k * cols + j);
  }
  for (index_t j = cols4; j < cols; ++j) {
    const Acc* column = packed + j * kc;
    for (index_t k = 0; k < kc; ++k) rowmajor[k * cols + j] = column[k];
  }
}

/// Eigen's lhs packing routine for a data mapper of storage order LhsOrder.
template <class Acc, class LhsMapper, int LhsOrder>
using PackLhs = Eigen::internal::gemm_pack_lhs<Acc, index_t, LhsMapper, GemmTraits<Acc>::Traits::mr,
                                               GemmTraits<Acc>::Traits::LhsProgress,
                                               typename GemmTraits<Acc>::Traits::LhsPacket4Packing, LhsOrder>;

/// Eigen's rhs packing routine for a matrix of storage order Order.
template <class Acc, int Order>
using PackRhsOf =
    Eigen::internal::gemm_pack_rhs<Acc, index_t, Eigen::internal::const_blas_data_mapper<Acc, index_t, Order>,
                                   GemmTraits<Acc>::Traits::nr, Order>;

/// `rhs` (packed by pack_rhs) packed again as gebp's lhs, B^T [cols x
/// depth], in the same depth blocks (gemm_tile_kernel_lhs).
template <class Acc>
PackedMatrix<Acc> repack_as_lhs(const PackedMatrix<Acc>& rhs) {
  using ColMapper = Eigen::internal::const_blas_data_mapper<Acc, index_t, Eigen::ColMajor>;
  PackedMatrix<Acc> p;
  p.depth = rhs.depth;
  p.cols = rhs.cols;
  p.kc = rhs.kc;
  p.block_offset = rhs.block_offset;
  p.data.resize(rhs.data.size());
  if (rhs.cols == 0) return p;
  std::vector<Acc> rows;
  for (index_t k0 = 0, b = 0; k0 < rhs.depth; k0 += rhs.kc, ++b) {
    const index_t kc = std::min(rhs.kc, rhs.depth - k0);
    const auto offset = rhs.block_offset[static_cast<std::size_t>(b)];
    rows.resize(static_cast<std::size_t>(kc * rhs.cols));
    unpack_rhs_block(rhs.data.data() + offset, kc, rhs.cols, rows.data());
    // B^T (j, k) = B (k, j): column-major [cols x kc], leading dimension cols.
    PackLhs<Acc, ColMapper, Eigen::ColMajor>()(p.data.data() + offset, ColMapper(rows.data(), rhs.cols), kc, rhs.cols);
  }
  return p;
}

}  // namespace convt::detail
