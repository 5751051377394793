// convt/detail/indirect_lhs.hpp — stages 2 and 3 fused: the im2col tile
// packed for Eigen's GEMM kernel straight from the input.
//
// When the input's channels are contiguous, column (tap * C + c) of tile
// row r is input element offset[tap][r] + c. Instead of copying those runs
// into a row-major tile (gather_tile) that `gemm_pack_lhs` then reads again,
// the packing reads the input runs themselves through a (tap, row) offset
// table — XNNPACK's indirection buffer — converting narrower inputs
// (bfloat16, 8-bit integers) to the accumulator as it loads them. The packed
// block holds exactly the values the gathered tile would, so the GEMM and
// its summation order are unchanged.
#pragma once

#include <algorithm>
#include <type_traits>

#include <Eigen/Core>

#include "convt/detail/gemm.hpp"
#include "convt/detail/im2col.hpp"
#include "convt/detail/widen.hpp"

namespace convt::detail {

/// Row-major view of an im2col tile [rows x taps * C] whose (r, tap) channel
/// run starts at base + offsets[tap * ld + r], or reads as zeros where the
/// offset is kAbsentOffset; the runs hold In values, the tile Acc values.
/// Implements what gemm_pack_lhs (RowMajor) calls.
template <class In, class Acc>
class IndirectLhsMapper {
  static_assert(widens_to<In, Acc>(), "an input type the packings convert");

 public:
  using LinearMapper = void;  // gemm_pack_lhs names the type, never uses it

  IndirectLhsMapper(const In* base, const index_t* offsets, index_t ld, index_t channels, const In* zeros,
                    index_t row0 = 0, index_t col0 = 0)
      : base_(base), offsets_(offsets), ld_(ld), channels_(channels), zeros_(zeros), row0_(row0), col0_(col0) {}

  IndirectLhsMapper getSubMapper(index_t i, index_t k) const {
    return IndirectLhsMapper(base_, offsets_, ld_, channels_, zeros_, row0_ + i, col0_ + k);
  }

  Acc operator()(index_t i, index_t k) const {
    const index_t col = col0_ + k;
    const index_t tap = col / channels_;
    return convert<Acc>(run(i, tap)[col - tap * channels_]);
  }

  template <class Packet>
  Packet loadPacket(index_t i, index_t k) const {
    constexpr index_t n = Eigen::internal::unpacket_traits<Packet>::size;
    const index_t col = col0_ + k;
    const index_t tap = col / channels_;
    const index_t c = col - tap * channels_;
    if (c + n <= channels_) return load_widened<Packet>(run(i, tap) + c);
    // The packet straddles two taps (C or the depth block is not a multiple
    // of the packet): assemble it element by element.
    alignas(64) Acc v[n];
    for (index_t e = 0; e < n; ++e) v[e] = (*this)(i, k + e);
    return Eigen::internal::pload<Packet>(v);
  }

  index_t channels() const noexcept { return channels_; }
  index_t col0() const noexcept { return col0_; }

  /// First element of row i's channel run of `tap` (zeros for padding).
  const In* run(index_t i, index_t tap) const {
    const index_t off = offsets_[tap * ld_ + row0_ + i];
    return off == kAbsentOffset ? zeros_ : base_ + off;
  }

 private:
  const In* base_;
  const index_t* offsets_;
  index_t ld_;
  index_t channels_;
  const In* zeros_;  // at least `channels_` zeros
  index_t row0_;
  index_t col0_;
};

/// Packs rows [0, m) x columns [0, kc) of `a` (a mapper at the depth block's
/// first column) into `block_a` in gebp's lhs format — what
/// PackLhs<Acc, IndirectLhsMapper<Acc>, RowMajor> writes, faster: a full
/// panel of mr rows is column-major [mr x kc], and each packet square is
/// loaded from its channel runs and transposed in registers, the runs'
/// starts looked up once per tap (Eigen's routine does it per packet,
/// through a loop it cannot unroll). Partial panels are left to Eigen's
/// routine. tests/test_pack.cpp checks the two agree bit for bit.
template <class In, class Acc>
void pack_lhs_indirect(Acc* block_a, const IndirectLhsMapper<In, Acc>& a, index_t kc, index_t m) {
  using Traits = typename GemmTraits<Acc>::Traits;
  using Packet = typename Traits::LhsPacket4Packing;
  constexpr index_t P = Eigen::internal::unpacket_traits<Packet>::size;
  constexpr index_t mr = Traits::mr;
  const index_t full = P > 1 && mr % P == 0 ? m / mr * mr : 0;
  const index_t C = a.channels();
  const In* runs[mr];
  for (index_t i = 0; i < full; i += mr) {
    Acc* panel = block_a + i * kc;
    index_t k = 0;
    while (k + P <= kc) {
      const index_t col = a.col0() + k;
      const index_t tap = col / C;
      const index_t c = col - tap * C;
      Eigen::internal::PacketBlock<Packet, P> square;
      if (c + P > C) {
        // A packet straddling two taps (C or the depth block is not a
        // multiple of the packet): assembled element by element.
        for (index_t r = 0; r < mr; r += P) {
          for (index_t p = 0; p < P; ++p) square.packet[p] = a.template loadPacket<Packet>(i + r + p, k);
          Eigen::internal::ptranspose(square);
          for (index_t p = 0; p < P; ++p) Eigen::internal::pstore(panel + (k + p) * mr + r, square.packet[p]);
        }
        k += P;
        continue;
      }
      // The block's whole packets inside this tap's runs.
      const index_t n = std::min(C - c, kc - k) / P * P;
      for (index_t r = 0; r < mr; ++r) runs[r] = a.run(i + r, tap) + c;
      for (index_t q = 0; q < n; q += P) {
        Acc* dst = panel + (k + q) * mr;
        for (index_t r = 0; r < mr; r += P) {
          for (index_t p = 0; p < P; ++p) square.packet[p] = load_widened<Packet>(runs[r + p] + q);
          Eigen::internal::ptranspose(square);
          for (index_t p = 0; p < P; ++p) Eigen::internal::pstore(dst + p * mr + r, square.packet[p]);
        }
      }
      k += n;
    }
    for (; k < kc; ++k) {
      for (index_t r = 0; r < mr; ++r) panel[k * mr + r] = a(i + r, k);
    }
  }
  if (full < m) {
    PackLhs<Acc, IndirectLhsMapper<In, Acc>, Eigen::RowMajor>()(block_a + full * kc, a.getSubMapper(full, 0), kc,
                                                                m - full);
  }
}

// Eigen's packet types carry vector attributes that GCC reports as ignored
// when they are template arguments (Eigen silences the same in its headers).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
#endif

/// The same rows [0, m) x columns [0, kc) packed as gebp's rhs instead, for
/// products with the kernel as gebp's lhs (gemm_tile_kernel_lhs): what
/// Eigen's gemm_pack_rhs writes for the gathered tile's transpose [kc x m]
/// (column-major: a tile row is a column), read from the channel runs. Four
/// rows form a panel of [kc x 4] values, each depth row's 4 values after
/// another; each group of 4 packets is loaded from the runs (their starts
/// looked up once per tap) and transposed in registers; the last m % 4 rows
/// follow one column at a time. tests/test_pack.cpp checks it against
/// Eigen's packing bit for bit. (The walk over a block's taps is written
/// out here and in pack_lhs_indirect: one helper calling the two packings'
/// loads and stores through lambdas measured slower with GCC 12 on Zen 5 —
/// the RGB head 0.057 → 0.075 ms, EnCodec's 64 → 32 0.99 → 1.07 ms.)
template <class In, class Acc>
void pack_rhs_indirect(Acc* block, const IndirectLhsMapper<In, Acc>& a, index_t kc, index_t m) {
  static_assert(GemmTraits<Acc>::Traits::nr == 4, "gebp's rhs panels are 4 columns wide");
  using Packet = typename Eigen::internal::packet_traits<Acc>::type;
  constexpr index_t P = Eigen::internal::unpacket_traits<Packet>::size;
  // Eigen's 4-packet register transpose: real types with packets of 4k lanes.
  constexpr bool kSquares = std::is_floating_point_v<Acc> && P % 4 == 0;
  const index_t C = a.channels();
  const index_t m4 = m / 4 * 4;
  for (index_t j = 0; j < m4; j += 4) {
    Acc* panel = block + j * kc;
    index_t k = 0;
    if constexpr (kSquares) {
      while (k + P <= kc) {
        const index_t col = a.col0() + k;
        const index_t tap = col / C;
        const index_t c = col - tap * C;
        Eigen::internal::PacketBlock<Packet, 4> square;
        if (c + P > C) {
          for (index_t p = 0; p < 4; ++p) square.packet[p] = a.template loadPacket<Packet>(j + p, k);
          Eigen::internal::ptranspose(square);
          for (index_t p = 0; p < 4; ++p) Eigen::internal::pstoreu(panel + 4 * k + p * P, square.packet[p]);
          k += P;
          continue;
        }
        const index_t n = std::min(C - c, kc - k) / P * P;
        const In* runs[4];
        for (index_t p = 0; p < 4; ++p) runs[p] = a.run(j + p, tap) + c;
        for (index_t q = 0; q < n; q += P) {
          for (index_t p = 0; p < 4; ++p) square.packet[p] = load_widened<Packet>(runs[p] + q);
          Eigen::internal::ptranspose(square);
          for (index_t p = 0; p < 4; ++p) Eigen::internal::pstoreu(panel + 4 * (k + q) + p * P, square.packet[p]);
        }
        k += n;
      }
    }
    for (; k < kc; ++k) {
      for (index_t p = 0; p < 4; ++p) panel[4 * k + p] = a(j + p, k);
    }
  }
  for (index_t j = m4; j < m; ++j) {
    Acc* column = block + j * kc;
    for (index_t k = 0; k < kc; ++k) column[k] = a(j, k);
  }
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

}  // namespace convt::detail
