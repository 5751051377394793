// convt/detail/output_write.hpp — stage 4: write a tile's GEMM result to its
// strided output positions q = first + step * t, in the output's own layout,
// converting from the accumulator to the result type (rounding once).
#pragma once

#include <array>
#include <cstddef>
#include <type_traits>

#include <Eigen/Core>

#include "convt/detail/phases.hpp"
#include "convt/tensor.hpp"
#include "convt/types.hpp"

// Eigen's packet types carry vector attributes that GCC reports as ignored
// when they are template arguments (Eigen silences the same in its headers).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
#endif

namespace convt::detail {

/// Writes zeros to every element of `out` (any strides, innermost
/// dimension in the inner loop).
template <class Out, std::size_t Rank>
void fill_zero(const TensorView<Out, Rank>& out) {
  if (out.size() == 0) return;
  if constexpr (Rank == 0) {
    *out.data() = Out(0);
  } else {
    std::array<index_t, Rank> idx{};
    const index_t inner = out.shape()[Rank - 1];
    const index_t inner_stride = out.strides()[Rank - 1];
    while (true) {
      index_t off = 0;
      for (std::size_t d = 0; d + 1 < Rank; ++d) off += idx[d] * out.strides()[d];
      Out* p = out.data() + off;
      for (index_t i = 0; i < inner; ++i) p[i * inner_stride] = Out(0);
      std::size_t d = Rank - 1;
      while (d > 0) {
        --d;
        if (++idx[d] < out.shape()[d]) break;
        idx[d] = 0;
        if (d == 0) return;
      }
      if (Rank == 1) return;
    }
  }
}

/// Output rows of a phase that no kernel tap reaches: zeros.
template <std::size_t Rank, class Out>
void zero_tile(const PhaseSplit<Rank>& split, const Phase<Rank - 2>& phase, index_t row_begin, index_t rows,
               index_t out_features, Out* out, const std::array<index_t, Rank>& out_stride) {
  constexpr std::size_t S = Rank - 2;
  RowCursor<S> cur(phase_counts(split.axes, phase.axis_phase), row_begin);
  for (index_t r = 0; r < rows; ++r, cur.next()) {
    index_t off = cur.n * out_stride[0];
    for (std::size_t d = 0; d < S; ++d) {
      off += (split.axes[d].phases[phase.axis_phase[d]].first + split.axes[d].step * cur.t[d]) * out_stride[2 + d];
    }
    for (index_t o = 0; o < out_features; ++o) out[off + o * out_stride[1]] = Out(0);
  }
}

/// `res` is column-major [rows x out_features] with leading dimension `rows`.
/// `out_stride` holds the canonical [N, C, spatial...] strides of the output.
/// `row_offset` is scratch for `rows` offsets.
template <std::size_t Rank, class Acc, class Out>
void write_tile(const PhaseSplit<Rank>& split, const Phase<Rank - 2>& phase, index_t row_begin, index_t rows,
                const Acc* res, index_t out_features, Out* out, const std::array<index_t, Rank>& out_stride,
                index_t* row_offset) {
  constexpr std::size_t S = Rank - 2;
  std::array<index_t, S> first{};
  std::array<index_t, S> step{};
  for (std::size_t d = 0; d < S; ++d) {
    first[d] = split.axes[d].phases[phase.axis_phase[d]].first;
    step[d] = split.axes[d].step;
  }
  RowCursor<S> cur(phase_counts(split.axes, phase.axis_phase), row_begin);
  const index_t o_stride = out_stride[1];
  auto row_target = [&]() {
    index_t off = cur.n * out_stride[0];
    for (std::size_t d = 0; d < S; ++d) off += (first[d] + step[d] * cur.t[d]) * out_stride[2 + d];
    return out + off;
  };
  if (o_stride != 1 && out_features > 1) {
    // Channel-strided output (NCHW-like): one channel at a time, so the reads
    // are contiguous and the writes walk neighbouring positions.
    for (index_t r = 0; r < rows; ++r, cur.next()) row_offset[r] = row_target() - out;
    for (index_t o = 0; o < out_features; ++o) {
      Out* dst = out + o * o_stride;
      const Acc* src = res + o * rows;
      for (index_t r = 0; r < rows; ++r) dst[row_offset[r]] = convert<Out>(src[r]);
    }
    return;
  }
  index_t r = 0;
  if constexpr (Eigen::internal::packet_traits<Acc>::Vectorizable) {
    // Unit channel stride: transpose packet-square blocks of the column-major
    // result in registers, so loads and stores are both contiguous (through a
    // small converted block when the result type differs).
    using Packet = typename Eigen::internal::packet_traits<Acc>::type;
    constexpr index_t P = Eigen::internal::unpacket_traits<Packet>::size;
    if (o_stride == 1 && out_features >= P) {
      Out* dst[P];
      for (; r + P <= rows; r += P) {
        for (index_t j = 0; j < P; ++j, cur.next()) dst[j] = row_target();
        index_t o = 0;
        for (; o + P <= out_features; o += P) {
          Eigen::internal::PacketBlock<Packet, P> block;
          for (index_t i = 0; i < P; ++i) block.packet[i] = Eigen::internal::ploadu<Packet>(res + (o + i) * rows + r);
          Eigen::internal::ptranspose(block);
          if constexpr (std::is_same_v<Acc, Out>) {
            for (index_t j = 0; j < P; ++j) Eigen::internal::pstoreu(dst[j] + o, block.packet[j]);
          } else {
            alignas(64) Acc line[P];
            for (index_t j = 0; j < P; ++j) {
              Eigen::internal::pstoreu(line, block.packet[j]);
              for (index_t i = 0; i < P; ++i) dst[j][o + i] = convert<Out>(line[i]);
            }
          }
        }
        for (; o < out_features; ++o) {
          for (index_t j = 0; j < P; ++j) dst[j][o] = convert<Out>(res[o * rows + r + j]);
        }
      }
    }
  }
  for (; r < rows; ++r, cur.next()) {
    Out* dst = row_target();
    const Acc* src = res + r;
    for (index_t o = 0; o < out_features; ++o) dst[o * o_stride] = convert<Out>(src[o * rows]);
  }
}

}  // namespace convt::detail

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
