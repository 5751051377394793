// convt/detail/output_packets.hpp — stage 4's vector pieces: the step applied
// to each packet of results (none, or bias and a piecewise activation), the
// whole-packet conversions (float to int32, float to bfloat16), and packet
// squares of the column-major GEMM result transposed in registers.
#pragma once

#include <algorithm>
#include <type_traits>

#include <Eigen/Core>

#include "convt/detail/epilogue.hpp"
#include "convt/types.hpp"

// Eigen's packet types carry vector attributes that GCC reports as ignored
// when they are template arguments (Eigen silences the same in its headers).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
#endif

// Inlines every call in a function's body (GCC, clang); elsewhere the
// function is compiled as usual.
#if defined(__GNUC__) || defined(__clang__)
#define CONVT_FLATTEN __attribute__((flatten))
#else
#define CONVT_FLATTEN
#endif

namespace convt::detail {

/// The packet step of a plain write: none.
struct KeepPackets {
  /// The step for features [o, o + packet size).
  KeepPackets at(index_t) const noexcept { return {}; }
  /// The step for features [o, o + n), n < packet size (the other lanes
  /// are dropped).
  KeepPackets tail(index_t, index_t) const noexcept { return {}; }
  /// The packet unchanged.
  template <class Packet>
  const Packet& operator()(const Packet& p) const noexcept {
    return p;
  }
};

/// The packet step of a write through an epilogue of bias and a piecewise
/// activation (not packet_activation(), no accumulation): piecewise_step()
/// for the features' biases, the same bits as finish() lane by lane.
template <class Acc, class Out>
struct EpilogueSteps {
  const OutputEpilogue<Acc, Out>* ep;
  index_t feature0;  // the output feature of the tile's first column
  using Packet = typename Eigen::internal::packet_traits<Acc>::type;
  static constexpr index_t kLanes = Eigen::internal::unpacket_traits<Packet>::size;
  /// The step for features [o, o + packet size) of the tile.
  auto at(index_t o) const {
    return ep->template piecewise_step<Packet>(ep->has_bias() ? ep->bias() + feature0 + o : nullptr);
  }
  /// The step for features [o, o + n), n < packet size: the biases read
  /// through a padded copy, not past the bias's end.
  auto tail(index_t o, index_t n) const {
    if (!ep->has_bias()) return ep->template piecewise_step<Packet>(nullptr);
    Acc padded[kLanes] = {};
    std::copy_n(ep->bias() + feature0 + o, std::min(n, kLanes), padded);
    return ep->template piecewise_step<Packet>(padded);
  }
};

/// The int32 packet of as many lanes as float packet `Packet`, where Eigen
/// converts between them with one truncating instruction (pcast: SSE, AVX,
/// AVX-512, NEON).
template <class Packet>
struct Int32PacketOf {
  static constexpr bool kAvailable = false;
};
#if defined(EIGEN_VECTORIZE_SSE2) || defined(EIGEN_VECTORIZE_NEON)
template <>
struct Int32PacketOf<Eigen::internal::Packet4f> {
  static constexpr bool kAvailable = true;
  using type = Eigen::internal::Packet4i;
};
#endif
#if defined(EIGEN_VECTORIZE_AVX)
template <>
struct Int32PacketOf<Eigen::internal::Packet8f> {
  static constexpr bool kAvailable = true;
  using type = Eigen::internal::Packet8i;
};
#endif
#if defined(EIGEN_VECTORIZE_AVX512)
template <>
struct Int32PacketOf<Eigen::internal::Packet16f> {
  static constexpr bool kAvailable = true;
  using type = Eigen::internal::Packet16i;
};
#endif

/// Whether a plain write of Acc results to Out (no epilogue step) converts
/// whole packets: float sums of integers written as int32. Such sums are
/// exact integers of at most 2^24 (choose_accumulator), so the truncating
/// packet conversion gives what convert() gives element by element.
template <class Acc, class Out, class Packets>
constexpr bool int32_packets() {
  constexpr bool types = std::is_same_v<Acc, float> && std::is_same_v<Out, std::int32_t>;
  return types && std::is_same_v<Packets, KeepPackets> &&
         Int32PacketOf<typename Eigen::internal::packet_traits<float>::type>::kAvailable;
}

/// Calls store(j, packet) for j in [0, packet size), packet j holding
/// features [o, o + packet size) of row r + j of a column-major result
/// [rows x features]: a packet square transposed in registers. Flattened so
/// that Eigen's transpose is inlined, and `store` with it: GCC 12 calls the
/// transpose out of line from write_rows' large body, its block of packets
/// going through memory on both sides of the call (on the vocoders' last
/// layers the write took 0.29x of the GEMM kernel's time that way, 0.21x
/// inlined).
template <class Packet, class Acc, class Store>
CONVT_FLATTEN void store_transposed(const Acc* res, index_t rows, index_t r, index_t o, const Store& store) {
  constexpr index_t P = Eigen::internal::unpacket_traits<Packet>::size;
  Eigen::internal::PacketBlock<Packet, P> block;
  for (index_t i = 0; i < P; ++i) block.packet[i] = Eigen::internal::ploadu<Packet>(res + (o + i) * rows + r);
  Eigen::internal::ptranspose(block);
  for (index_t j = 0; j < P; ++j) store(j, block.packet[j]);
}

/// Features [o, o + n) (n < packet size) of rows [r, r + packet size) of a
/// column-major result [rows x features], the missing columns zero:
/// packet j holds row r + j (a packet square transposed in registers).
template <class Packet, class Acc>
CONVT_FLATTEN Eigen::internal::PacketBlock<Packet, Eigen::internal::unpacket_traits<Packet>::size> padded_square(
    const Acc* res, index_t rows, index_t r, index_t o, index_t n) {
  constexpr index_t P = Eigen::internal::unpacket_traits<Packet>::size;
  Eigen::internal::PacketBlock<Packet, P> block;
  for (index_t i = 0; i < P; ++i) {
    block.packet[i] =
        i < n ? Eigen::internal::ploadu<Packet>(res + (o + i) * rows + r) : Eigen::internal::pset1<Packet>(Acc(0));
  }
  Eigen::internal::ptranspose(block);
  return block;
}

/// Whether a plain write of Acc results to Out rounds whole packets to
/// bfloat16 (bf16_round.hpp) instead of one value at a time, after the
/// packet step (none, or bias and a piecewise activation: EpilogueSteps).
template <class Acc, class Out>
constexpr bool bf16_packets() {
  return std::is_same_v<Acc, float> && std::is_same_v<Out, Eigen::bfloat16>;
}

}  // namespace convt::detail

#undef CONVT_FLATTEN

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
