// convt/detail/output_write.hpp — stage 4: write a tile's GEMM result to its
// strided output positions q = first + step * t, in the output's own layout,
// through the epilogue (bias, accumulation, activation; detail/epilogue.hpp)
// and one conversion from the accumulator to the result type.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include <Eigen/Core>

#include "convt/detail/bf16_round.hpp"
#include "convt/detail/epilogue.hpp"
#include "convt/detail/phases.hpp"
#include "convt/detail/stream_store.hpp"
#include "convt/tensor.hpp"
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

/// Marks a grid row that is not one of the writing phase's rows.
inline constexpr index_t kSkipRow = std::numeric_limits<index_t>::min();

/// Output offset of each row [row_begin, row_begin + rows) of `phase`
/// (canonical output strides `out_stride`) into `row_offset`. The rows are
/// those of a phase group's grid when `grid` is given (phase_groups.hpp):
/// rows outside the phase's own window get kSkipRow. Returns whether any did.
template <std::size_t Rank>
bool tile_row_offsets(const PhaseSplit<Rank>& split, const Phase<Rank - 2>& phase, const GridPlacement<Rank - 2>* grid,
                      index_t row_begin, index_t rows, const std::array<index_t, Rank>& out_stride,
                      index_t* row_offset) {
  constexpr std::size_t S = Rank - 2;
  std::array<index_t, S> first{};
  std::array<index_t, S> step{};
  const std::array<index_t, S> shift = grid ? grid->shift : std::array<index_t, S>{};
  for (std::size_t d = 0; d < S; ++d) {
    step[d] = split.axes[d].step * out_stride[2 + d];
    first[d] = split.axes[d].phases[phase.axis_phase[d]].first * out_stride[2 + d] - shift[d] * step[d];
  }
  const auto own = phase_counts(split.axes, phase.axis_phase);
  const std::array<index_t, S> counts = grid ? grid->counts : own;
  RowCursor<S> cur(counts, row_begin);
  bool skipped = false;
  if constexpr (S == 0) {
    for (index_t r = 0; r < rows; ++r) row_offset[r] = (cur.n + r) * out_stride[0];
  } else {
    // A run of rows along the innermost dimension at a time: the outer
    // dimensions' offset and window test once per run, then a step per row.
    constexpr std::size_t L = S - 1;
    for (index_t r = 0; r < rows;) {
      index_t base = cur.n * out_stride[0];
      bool outer_inside = true;
      for (std::size_t d = 0; d < L; ++d) {
        base += first[d] + step[d] * cur.t[d];
        outer_inside = outer_inside && cur.t[d] >= shift[d] && cur.t[d] - shift[d] < own[d];
      }
      const index_t t0 = cur.t[L];
      const index_t t_end = std::min(counts[L], t0 + (rows - r));
      // The phase's own rows of the run: [lo, hi).
      index_t lo = t0, hi = t0;
      if (outer_inside) {
        lo = std::clamp(shift[L], t0, t_end);
        hi = std::clamp(shift[L] + own[L], lo, t_end);
      }
      skipped = skipped || lo != t0 || hi != t_end;
      const index_t at = base + first[L];
      index_t t = t0;
      for (; t < lo; ++t, ++r) row_offset[r] = kSkipRow;
      for (; t < hi; ++t, ++r) row_offset[r] = at + step[L] * t;
      for (; t < t_end; ++t, ++r) row_offset[r] = kSkipRow;
      cur.t[L] = t_end - 1;
      cur.next();
    }
  }
  return skipped;
}

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

/// Writes one value per (row, feature) of a tile: element (r, o) of the
/// column-major result `res` [rows x features] goes to
/// out[row_offset[r] + o * o_stride] through `emit(dst, value, o)`. With
/// `kPlain` and equal types, whole packets of the register transposes are
/// stored directly after `packets.at(o)(packet)` — which must compute what
/// `emit` computes for each lane (identity for a plain conversion); float to
/// int32 (int32_packets, plain conversions only) and float to bfloat16
/// (bf16_packets, after the step) convert whole packets, bit for bit what
/// `emit`'s convert() gives; bfloat16 results also take their last n < P
/// features as one padded packet through `packets.tail(o, n)`. With
/// `stream`, those packets go out as streaming stores (stream_store.hpp)
/// wherever every row of a square is aligned to a packet and the features
/// are whole packets, so that each cache line is written whole (bfloat16:
/// rows on lines and features in whole lines, assembled a line at a time).
template <bool kPlain, class Acc, class Out, class Emit, class Packets = KeepPackets>
void write_rows(const Acc* res, index_t rows, index_t features, Out* out, index_t o_stride, const index_t* row_offset,
                bool sparse, const Emit& emit, const Packets& packets = {}, bool stream = false) {
  // Rows that are not the phase's (kSkipRow, `sparse` tiles of a phase
  // group's grid) are computed but not stored.
  if (o_stride != 1 && features > 1) {
    // Channel-strided output (NCHW-like): one channel at a time, so the reads
    // are contiguous and the writes walk neighbouring positions.
    for (index_t o = 0; o < features; ++o) {
      Out* dst = out + o * o_stride;
      const Acc* src = res + o * rows;
      for (index_t r = 0; r < rows; ++r) {
        if (!sparse || row_offset[r] != kSkipRow) emit(dst + row_offset[r], src[r], o);
      }
    }
    return;
  }
  index_t r = 0;
  if constexpr (Eigen::internal::packet_traits<Acc>::Vectorizable) {
    // Unit channel stride: transpose packet-square blocks of the column-major
    // result in registers, so loads and stores are both contiguous (through a
    // small block when the value is converted or finished per element).
    using Packet = typename Eigen::internal::packet_traits<Acc>::type;
    constexpr index_t P = Eigen::internal::unpacket_traits<Packet>::size;
    // Packets stored as they are, converted to int32 packets, or rounded to
    // bfloat16 a packet at a time.
    constexpr bool kSame = kPlain && std::is_same_v<Acc, Out>;
    constexpr bool kToInt32 = kPlain && int32_packets<Acc, Out, Packets>();
    constexpr bool kToBf16 = kPlain && bf16_packets<Acc, Out>();
    using OutPacket = typename std::conditional_t<kToInt32, Int32PacketOf<Packet>, std::enable_if<true, Packet>>::type;
    constexpr bool kCanStream = (kSame || kToInt32) && can_stream<Out, OutPacket>();
    // Tiles without foreign rows get the loop without a test per row.
    bool streamed = false;
    auto squares = [&](auto sparse_rows) {
      constexpr bool kSparse = decltype(sparse_rows)::value;
      for (; r + P <= rows; r += P) {
        Out* dst[P];
        bool stream_square = kCanStream && stream && features % P == 0;
        for (index_t j = 0; j < P; ++j) {
          dst[j] = row_offset[r + j] == kSkipRow ? nullptr : out + row_offset[r + j];
          stream_square = stream_square && reinterpret_cast<std::uintptr_t>(dst[j]) % sizeof(Packet) == 0;
        }
        streamed = streamed || stream_square;
        index_t o = 0;
        if constexpr (kToBf16 && can_stream_lines()) {
          // bfloat16 packets are half a line (AVX-512) or less: each row's
          // line is assembled from kLine / P rounded packets, then streamed
          // whole.
          constexpr index_t kLine = 64 / static_cast<index_t>(sizeof(Out));
          static_assert(kLine % P == 0, "a line holds whole packets");
          bool stream_lines = stream && features % kLine == 0;
          for (index_t j = 0; j < P; ++j) {
            stream_lines = stream_lines && reinterpret_cast<std::uintptr_t>(dst[j]) % 64 == 0;
          }
          streamed = streamed || stream_lines;
          for (; stream_lines && o < features; o += kLine) {
            alignas(64) std::uint16_t lines[P][kLine];  // bit patterns: not zeroed on entry
            alignas(64) Acc line[P];
            for (index_t b = 0; b < kLine; b += P) {
              const auto step = packets.at(o + b);
              store_transposed<Packet>(res, rows, r, o + b, [&](index_t j, const Packet& v) {
                Eigen::internal::pstore(line, step(v));
                round_to_bf16<static_cast<int>(P)>(line, &lines[j][b]);
              });
            }
            for (index_t j = 0; j < P; ++j) {
              if (!kSparse || dst[j]) stream_line(dst[j] + o, lines[j]);
            }
          }
        }
        for (; o + P <= features; o += P) {
          if constexpr (kToInt32) {
            store_transposed<Packet>(res, rows, r, o, [&](index_t j, const Packet& p) {
              if (kSparse && !dst[j]) return;
              const OutPacket v = Eigen::internal::pcast<Packet, OutPacket>(p);
              if constexpr (kCanStream) {
                if (stream_square) {
                  stream_packet(dst[j] + o, v);
                  return;
                }
              }
              Eigen::internal::pstoreu(dst[j] + o, v);
            });
          } else if constexpr (kToBf16) {
            alignas(64) Acc line[P];
            const auto step = packets.at(o);
            store_transposed<Packet>(res, rows, r, o, [&](index_t j, const Packet& v) {
              if (kSparse && !dst[j]) return;
              Eigen::internal::pstore(line, step(v));
              round_to_bf16<static_cast<int>(P)>(line, dst[j] + o);
            });
          } else if constexpr (kSame) {
            const auto step = packets.at(o);
            store_transposed<Packet>(res, rows, r, o, [&](index_t j, const Packet& v) {
              if (kSparse && !dst[j]) return;
              if constexpr (kCanStream) {
                if (stream_square) {
                  stream_packet(dst[j] + o, step(v));
                  return;
                }
              }
              Eigen::internal::pstoreu(dst[j] + o, step(v));
            });
          } else {
            alignas(64) Acc line[P];
            store_transposed<Packet>(res, rows, r, o, [&](index_t j, const Packet& v) {
              if (kSparse && !dst[j]) return;
              Eigen::internal::pstoreu(line, v);
              for (index_t i = 0; i < P; ++i) emit(dst[j] + o + i, line[i], o + i);
            });
          }
        }
        if constexpr (kToBf16) {
          if (o < features) {
            // Ragged features (or fewer than a packet): their columns padded
            // with zero packets, stepped with the biases padded alike,
            // rounded whole; each row stores its first n values.
            const index_t n = features - o;
            const auto block = padded_square<Packet>(res, rows, r, o, n);
            const auto step = packets.tail(o, n);
            alignas(64) Acc line[P];
            std::uint16_t bits[P];
            for (index_t j = 0; j < P; ++j) {
              if (kSparse && !dst[j]) continue;
              Eigen::internal::pstore(line, step(block.packet[j]));
              round_to_bf16<static_cast<int>(P)>(line, bits);
              std::memcpy(static_cast<void*>(dst[j] + o), bits, static_cast<std::size_t>(n) * sizeof(Out));
            }
            o = features;
          }
        }
        for (; o < features; ++o) {
          for (index_t j = 0; j < P; ++j) {
            if (!kSparse || dst[j]) emit(dst[j] + o, res[o * rows + r + j], o);
          }
        }
      }
    };
    if (o_stride == 1 && (features >= P || kToBf16)) {
      if (sparse) {
        squares(std::true_type{});
      } else {
        squares(std::false_type{});
      }
    }
    if (streamed) stream_fence();
  }
  for (; r < rows; ++r) {
    if (row_offset[r] == kSkipRow) continue;
    Out* dst = out + row_offset[r];
    const Acc* src = res + r;
    for (index_t o = 0; o < features; ++o) emit(dst + o * o_stride, src[o * rows], o);
  }
}

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

/// Writes a tile's GEMM result to its output positions, converted to the
/// result type. `res` is column-major [rows x features] (leading dimension
/// `rows`); `out_stride` holds the canonical [N, C, spatial...] strides of
/// the output; `row_offset` is scratch for `rows` offsets. With an epilogue
/// (not identity), `feature0` is the output feature of res's first column
/// and `read_out` says the output holds values to accumulate into.
/// `stream`: plain writes of whole packets use streaming stores (write_rows).
template <std::size_t Rank, class Acc, class Out>
void write_tile(const PhaseSplit<Rank>& split, const Phase<Rank - 2>& phase, const GridPlacement<Rank - 2>* grid,
                index_t row_begin, index_t rows, Acc* res, index_t features, Out* out,
                const std::array<index_t, Rank>& out_stride, index_t* row_offset, const OutputEpilogue<Acc, Out>& ep,
                index_t feature0, bool read_out, bool stream = false) {
  const bool sparse = tile_row_offsets(split, phase, grid, row_begin, rows, out_stride, row_offset);
  const index_t o_stride = out_stride[1];
  auto convert_only = [](Out* dst, const Acc& v, index_t) { *dst = convert<Out>(v); };
  if (ep.identity()) {
    write_rows<true>(res, rows, features, out, o_stride, row_offset, sparse, convert_only, KeepPackets{}, stream);
    return;
  }
  if constexpr (std::is_floating_point_v<Acc> && std::is_same_v<typename OutputEpilogue<Acc, Out>::E, Acc> &&
                Eigen::internal::packet_traits<Acc>::Vectorizable) {
    if (!read_out && !ep.packet_activation()) {
      // Bias and the piecewise activation inside the plain write: on its
      // register-transposed packets through piecewise_step(), elsewhere
      // (ragged ends, sparse tiles, channel-strided outputs) through
      // finish(), which for these steps (an add, a compare, a multiply —
      // nothing to contract) gives the same bits lane by lane.
      write_rows<true>(
          res, rows, features, out, o_stride, row_offset, sparse,
          [&](Out* dst, const Acc& v, index_t o) { *dst = ep.finish(ep.add_bias(v, feature0 + o), nullptr); },
          EpilogueSteps<Acc, Out>{&ep, feature0}, stream);
    } else if (ep.packet_activation()) {
      // Bias, accumulation and the activation on the result tile (a column
      // at a time, the activation over whole packets), then a plain write.
      for (index_t o = 0; o < features; ++o) {
        Acc* col = res + o * rows;
        for (index_t r = 0; r < rows; ++r) col[r] = ep.add_bias(col[r], feature0 + o);
        if (read_out) {
          for (index_t r = 0; r < rows; ++r) {
            if (row_offset[r] != kSkipRow) col[r] = ep.add_scaled(col[r], out + row_offset[r] + o * o_stride);
          }
        }
        ep.activate(col, rows);
      }
      write_rows<true>(res, rows, features, out, o_stride, row_offset, sparse, convert_only, KeepPackets{},
                       stream && !read_out);
    } else {
      write_rows_finished(res, rows, features, out, o_stride, row_offset, sparse, ep, feature0, read_out);
    }
    return;
  }
  // Integer and complex results, or no vector packets: one scalar path for
  // every element.
  write_rows<false>(res, rows, features, out, o_stride, row_offset, sparse, [&](Out* dst, const Acc& v, index_t o) {
    *dst = ep.finish(ep.add_bias(ep.to_e(v), feature0 + o), read_out ? dst : nullptr);
  });
}

}  // namespace convt::detail

#undef CONVT_FLATTEN

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
