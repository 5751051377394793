// convt/detail/output_write_finished.hpp — stage 4 through the epilogue's
// finish_packet(): bias, accumulation into the output and a piecewise-linear
// activation on floating results, a packet at a time.
#pragma once

#include <algorithm>
#include <type_traits>

#include <Eigen/Core>

#include "convt/detail/epilogue.hpp"
#include "convt/detail/output_packets.hpp"
#include "convt/detail/output_rows.hpp"
#include "convt/types.hpp"

// Eigen's packet types carry vector attributes that GCC reports as ignored
// when they are template arguments (Eigen silences the same in its headers).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
#endif

namespace convt::detail {

/// write_rows through the epilogue's finish_packet() (floating results,
/// piecewise-linear activation): unit channel stride takes packet squares
/// transposed in registers, everything else (ragged ends, channel-strided
/// outputs) goes lane by lane through a padded packet.
template <class Acc, class Out>
void write_rows_finished(const Acc* res, index_t rows, index_t features, Out* out, index_t o_stride,
                         const index_t* row_offset, bool sparse, const OutputEpilogue<Acc, Out>& ep, index_t feature0,
                         bool read_out) {
  using Packet = typename Eigen::internal::packet_traits<Acc>::type;
  constexpr index_t P = Eigen::internal::unpacket_traits<Packet>::size;
  const Acc* bias = ep.has_bias() ? ep.bias() + feature0 : nullptr;
  alignas(64) Acc lane_value[P], lane_bias[P], lane_prev[P];
  // n lanes (n <= P): value i is src[i * src_stride], destination dst[i],
  // bias bias_of(i).
  auto lanes = [&](Out* const* dst, const Acc* src, index_t src_stride, index_t n, auto bias_of) {
    for (index_t i = 0; i < P; ++i) {
      const bool live = i < n;
      lane_value[i] = live ? src[i * src_stride] : Acc(0);
      lane_bias[i] = live && bias ? bias_of(i) : Acc(0);
      lane_prev[i] = live && read_out ? convert<Acc>(*dst[i]) : Acc(0);
    }
    const Packet r =
        ep.finish_packet(Eigen::internal::pload<Packet>(lane_value), Eigen::internal::pload<Packet>(lane_bias),
                         Eigen::internal::pload<Packet>(lane_prev));
    Eigen::internal::pstore(lane_value, r);
    for (index_t i = 0; i < n; ++i) *dst[i] = convert<Out>(lane_value[i]);
  };
  Out* dst[P];
  if (o_stride != 1 && features > 1 && !sparse) {
    // Channel-strided output: a feature at a time, P rows per packet.
    for (index_t o = 0; o < features; ++o) {
      for (index_t r = 0; r < rows; r += P) {
        const index_t n = std::min(P, rows - r);
        for (index_t i = 0; i < n; ++i) dst[i] = out + row_offset[r + i] + o * o_stride;
        lanes(dst, res + o * rows + r, 1, n, [&](index_t) { return bias[o]; });
      }
    }
    return;
  }
  index_t r = 0;
  if (o_stride == 1) {
    for (; r + P <= rows; r += P) {
      Out* row[P];  // null: a row that is not the phase's (sparse tiles)
      for (index_t j = 0; j < P; ++j) row[j] = row_offset[r + j] == kSkipRow ? nullptr : out + row_offset[r + j];
      index_t o = 0;
      for (; o + P <= features; o += P) {
        const Packet b = bias ? Eigen::internal::ploadu<Packet>(bias + o) : Eigen::internal::pset1<Packet>(Acc(0));
        store_transposed<Packet>(res, rows, r, o, [&](index_t j, const Packet& v) {
          if (!row[j]) return;
          if constexpr (std::is_same_v<Acc, Out>) {
            const Packet prev =
                read_out ? Eigen::internal::ploadu<Packet>(row[j] + o) : Eigen::internal::pset1<Packet>(Acc(0));
            Eigen::internal::pstoreu(row[j] + o, ep.finish_packet(v, b, prev));
          } else {
            Eigen::internal::pstoreu(lane_value, v);
            for (index_t i = 0; i < P; ++i) dst[i] = row[j] + o + i;
            lanes(dst, lane_value, 1, P, [&](index_t i) { return bias[o + i]; });
          }
        });
      }
      if (o < features) {
        // Ragged features: their columns padded with zero packets, transposed
        // like the full squares; each row stores its first n lanes.
        const index_t n = features - o;
        const auto block = padded_square<Packet>(res, rows, r, o, n);
        for (index_t i = 0; i < P; ++i) lane_bias[i] = bias && i < n ? bias[o + i] : Acc(0);
        const Packet b = Eigen::internal::pload<Packet>(lane_bias);
        for (index_t j = 0; j < P; ++j) {
          if (!row[j]) continue;
          for (index_t i = 0; i < P; ++i) lane_prev[i] = read_out && i < n ? convert<Acc>(row[j][o + i]) : Acc(0);
          Eigen::internal::pstore(lane_value,
                                  ep.finish_packet(block.packet[j], b, Eigen::internal::pload<Packet>(lane_prev)));
          for (index_t i = 0; i < n; ++i) row[j][o + i] = convert<Out>(lane_value[i]);
        }
      }
    }
  }
  for (; r < rows; ++r) {  // ragged rows, rows of a sparse tile, single-feature outputs
    if (row_offset[r] == kSkipRow) continue;
    for (index_t o = 0; o < features; o += P) {
      const index_t n = std::min(P, features - o);
      for (index_t i = 0; i < n; ++i) dst[i] = out + row_offset[r] + (o + i) * o_stride;
      lanes(dst, res + o * rows + r, rows, n, [&](index_t i) { return bias[o + i]; });
    }
  }
}

}  // namespace convt::detail

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
