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
#include "convt/detail/output_packets.hpp"
#include "convt/detail/output_rows.hpp"
#include "convt/detail/output_write_finished.hpp"
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

namespace convt::detail {

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

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
