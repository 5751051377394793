// The output write's streaming stores (detail/stream_store.hpp, used by
// write_rows for outputs of 32 MB and more) must write exactly what its
// plain stores write, and nothing else: checked element by element with
// the output aligned to a cache line and one element off it, features that
// are whole packets and ragged ones, rows that are packed and spaced, tiles
// with rows that are not theirs, and row counts around the packet squares.
// The same for float sums written as int32 (int8 inputs), whose packets are
// converted in registers: against convert() element by element. And for
// float results written as bfloat16, rounded a packet at a time
// (bf16_round.hpp): bit for bit what Eigen::bfloat16(float) gives, for
// NaNs of either sign and any payload, infinities, ties to even, values
// that round up to infinity, denormals and signed zeros; plain and
// streamed a line at a time; and through a bias and a piecewise
// activation (the epilogue's packet step) first.
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>

#include "convt/detail/output_write.hpp"
#include "convt/detail/tiling.hpp"
#include "convt/tensor.hpp"

namespace {

using convt::index_t;
using namespace convt::detail;

// Eigen's packet types carry vector attributes that GCC reports as ignored
// when they are template arguments.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
#endif
#if defined(__SSE2__)
static_assert(can_stream<float, Eigen::internal::packet_traits<float>::type>() &&
                  can_stream<double, Eigen::internal::packet_traits<double>::type>() &&
                  can_stream<std::int32_t, Eigen::internal::packet_traits<std::int32_t>::type>(),
              "x86 builds have streaming stores for their packets");
#endif
#if defined(EIGEN_VECTORIZE_SSE2) || defined(EIGEN_VECTORIZE_NEON)
static_assert(int32_packets<float, std::int32_t, KeepPackets>(), "float sums are written as int32 packets");
#endif
static_assert(!int32_packets<double, std::int32_t, KeepPackets>() && !int32_packets<float, std::int16_t, KeepPackets>(),
              "only float to int32 converts packets");
static_assert(bf16_packets<float, Eigen::bfloat16>() && !bf16_packets<double, Eigen::bfloat16>() &&
                  !bf16_packets<float, Eigen::half>(),
              "float results written as bfloat16 are rounded a packet at a time");
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

// Results `Acc` written as `Out`: exact integers up to 2^24 in magnitude,
// what a float sum of int8 products holds.
template <class Acc, class Out = Acc>
void streams_like_plain_stores() {
  constexpr index_t P = Eigen::internal::packet_traits<Acc>::size;
  using T = Out;
  const T sentinel = T(-7);
  auto plain_emit = [](T* dst, const Acc& v, index_t) { *dst = convert<Out>(v); };
  for (index_t features : {index_t{1}, P, 2 * P, 3 * P, P + 1})
    for (index_t rows : {P - 1, P, 3 * P + 2})
      for (index_t gap : {index_t{0}, P})
        for (index_t misalign : {0, 1})
          for (bool sparse : {false, true}) {
            const index_t row_stride = features + gap;
            std::vector<Acc> res(static_cast<std::size_t>(rows * features));
            for (std::size_t i = 0; i < res.size(); ++i) {
              res[i] = std::is_integral_v<Out> ? Acc(i % 5 == 0 ? (i % 2 ? 1 : -1) * ((1 << 24) - static_cast<int>(i))
                                                                : static_cast<int>(i % 97) - 48)
                                               : Acc(static_cast<double>(i % 97) - 48.5);
            }
            std::vector<index_t> offset(static_cast<std::size_t>(rows));
            for (index_t r = 0; r < rows; ++r) {
              // Sparse tiles: every third row belongs to another phase.
              offset[static_cast<std::size_t>(r)] = sparse && r % 3 == 1 ? kSkipRow : r * row_stride;
            }
            const auto size = static_cast<std::size_t>(rows * row_stride + misalign);
            std::vector<T, convt::detail::CacheLineAllocator<T>> plain(size, sentinel), streamed(size, sentinel);
            write_rows<true>(res.data(), rows, features, plain.data() + misalign, 1, offset.data(), sparse, plain_emit,
                             KeepPackets{}, false);
            write_rows<true>(res.data(), rows, features, streamed.data() + misalign, 1, offset.data(), sparse,
                             plain_emit, KeepPackets{}, true);
            for (index_t r = 0; r < rows; ++r) {
              for (index_t o = 0; o < row_stride; ++o) {
                const auto at = static_cast<std::size_t>(misalign + r * row_stride + o);
                const bool written = o < features && offset[static_cast<std::size_t>(r)] != kSkipRow;
                const T want = written ? convert<Out>(res[static_cast<std::size_t>(o * rows + r)]) : sentinel;
                ASSERT_EQ(plain[at], want) << "features " << features << " rows " << rows << " row " << r;
                ASSERT_EQ(streamed[at], want)
                    << "features " << features << " rows " << rows << " gap " << gap << " misalign " << misalign
                    << " sparse " << sparse << " row " << r << " feature " << o;
              }
            }
          }
}

TEST(OutputWrite, FloatStreamingStoresWriteWhatPlainStoresWrite) { streams_like_plain_stores<float>(); }
TEST(OutputWrite, DoubleStreamingStoresWriteWhatPlainStoresWrite) { streams_like_plain_stores<double>(); }
TEST(OutputWrite, FloatSumsWrittenAsInt32) { streams_like_plain_stores<float, std::int32_t>(); }

std::uint16_t bits_of(Eigen::bfloat16 v) {
  std::uint16_t b = 0;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

float float_of_bits(std::uint32_t u) {
  float f = 0;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// The values whose rounding has a rule of its own, then ordinary ones.
std::vector<float> bf16_edge_values() {
  const std::uint32_t patterns[] = {
      0x7fc00000u, 0xffc00000u,                            // quiet NaNs
      0x7f800001u, 0xff800001u, 0x7f807fffu, 0x7fa00000u,  // NaNs the rounding alone would make infinities; signalling
      0xffffffffu, 0x7fffffffu,  // NaNs the rounding alone would carry into or out of the sign bit
      0x7f800000u, 0xff800000u,  // infinities
      0x7f7fffffu, 0xff7fffffu, 0x7f7f7fffu, 0x7f7f8000u,  // largest finite: up to inf, down, tie to inf
      0x3f808000u, 0x3f818000u, 0xbf808000u, 0xbf818000u,  // ties: to the even below / above
      0x3f807fffu, 0x3f808001u,                            // just below and above a tie
      0x00000001u, 0x00008000u, 0x00018000u, 0x007fffffu, 0x807fffffu, 0x00800000u,  // denormals, smallest normal
      0x00000000u, 0x80000000u,                                                      // signed zeros
  };
  std::vector<float> v;
  for (std::uint32_t u : patterns) v.push_back(float_of_bits(u));
  return v;
}

// write_rows of float results to bfloat16 through the packet step `packets`
// and, for ragged ends, `emit`: every element bit for bit what `want(value,
// feature)` gives one value at a time.
template <class Emit, class Packets, class Want>
void rounds_to_bf16_like(const Emit& emit, const Packets& packets, const Want& want_of,
                         std::initializer_list<index_t> feature_counts) {
  using Bf = Eigen::bfloat16;
  constexpr index_t P = Eigen::internal::packet_traits<float>::size;
  const std::vector<float> edges = bf16_edge_values();
  const Bf sentinel = Bf(-7.0f);
  // Streamed lines need features that fill 64 bytes (32) and rows that
  // start on lines: features 32 and 64 with gap 0 or 32 stream; the other
  // cases take the plain stores.
  for (index_t features : feature_counts)
    for (index_t rows : {P - 1, P, 3 * P + 2})
      for (index_t gap : {index_t{0}, P, index_t{32}})
        for (index_t misalign : {0, 1})
          for (bool sparse : {false, true}) {
            const index_t row_stride = features + gap;
            std::vector<float> res(static_cast<std::size_t>(rows * features));
            for (std::size_t i = 0; i < res.size(); ++i) {
              // Every third value walks the edge table: across the row and
              // feature counts the edge values land on many packet lanes.
              // The others alternate in sign (the activations' two sides).
              res[i] = i % 3 == 0 ? edges[(i / 3) % edges.size()]
                                  : float_of_bits((i % 2 ? 0x3f800000u : 0xbf800000u) +
                                                  static_cast<std::uint32_t>(i * 0x3001u % 0x1000000u));
            }
            std::vector<index_t> offset(static_cast<std::size_t>(rows));
            for (index_t r = 0; r < rows; ++r) {
              offset[static_cast<std::size_t>(r)] = sparse && r % 3 == 1 ? kSkipRow : r * row_stride;
            }
            const auto size = static_cast<std::size_t>(rows * row_stride + misalign);
            for (bool stream : {false, true}) {
              std::vector<Bf, convt::detail::CacheLineAllocator<Bf>> out(size, sentinel);
              write_rows<true>(res.data(), rows, features, out.data() + misalign, 1, offset.data(), sparse, emit,
                               packets, stream);
              for (index_t r = 0; r < rows; ++r) {
                for (index_t o = 0; o < row_stride; ++o) {
                  const auto at = static_cast<std::size_t>(misalign + r * row_stride + o);
                  const bool written = o < features && offset[static_cast<std::size_t>(r)] != kSkipRow;
                  // res has no element for the gap's columns (o >= features).
                  const Bf want = written ? want_of(res[static_cast<std::size_t>(o * rows + r)], o) : sentinel;
                  ASSERT_EQ(bits_of(out[at]), bits_of(want))
                      << "features " << features << " rows " << rows << " gap " << gap << " misalign " << misalign
                      << " sparse " << sparse << " stream " << stream << " row " << r << " feature " << o
                      << " expected bits " << std::hex << bits_of(want);
                }
              }
            }
          }
}

TEST(OutputWrite, FloatResultsRoundedToBfloat16AsEigenRoundsOne) {
  using Bf = Eigen::bfloat16;
  for (std::uint32_t u : {0x7fc00001u, 0xff812345u, 0x3f808000u, 0x00018000u, 0x7f7fffffu}) {
    EXPECT_EQ(bf16_bits(float_of_bits(u)), bits_of(Bf(float_of_bits(u)))) << std::hex << u;
  }
  constexpr index_t P = Eigen::internal::packet_traits<float>::size;
  rounds_to_bf16_like([](Bf* dst, const float& v, index_t) { *dst = convert<Bf>(v); }, KeepPackets{},
                      [](float v, index_t) { return Bf(v); }, {1, 3, P, 3 * P, P + 1, 21, 32, 64});
}

// Bias and a piecewise activation on the packets, then the rounding: what
// the epilogue's finish() gives value by value (its own tests check it
// against the definition). The tile's features start 5 into the bias, as a
// tile of a later feature block reads it, and end at the bias's end: a
// ragged tail must not read past it.
TEST(OutputWrite, Bfloat16ResultsThroughBiasAndActivationRoundedAPacketAtATime) {
  using Bf = Eigen::bfloat16;
  constexpr index_t P = Eigen::internal::packet_traits<float>::size, kFeature0 = 5;
  const convt::Activation activations[] = {convt::Activation::none(), convt::Activation::relu(),
                                           convt::Activation::leaky_relu(0.2), convt::Activation::clamp(-1.5, 0.75)};
  for (index_t features : {index_t{1}, index_t{3}, P, 3 * P, P + 1, index_t{21}, index_t{32}, index_t{64}}) {
    const index_t bias_features = kFeature0 + features;
    std::vector<Bf> bias(static_cast<std::size_t>(bias_features));
    for (index_t f = 0; f < bias_features; ++f) {
      bias[static_cast<std::size_t>(f)] = f % 7 == 3 ? Bf(-0.0f) : Bf(static_cast<float>(f % 11) * 0.375f - 2.0f);
    }
    for (const convt::Activation& a : activations)
      for (bool with_bias : {true, false}) {
        if (!with_bias && a.kind() == convt::Activation::Kind::None) continue;  // identity: the test above
        EpilogueSpec spec;
        if (with_bias) spec.bias = convt::BiasView(bias.data(), bias_features);
        spec.activation = a;
        const OutputEpilogue<float, Bf> ep(spec, bias_features);
        ASSERT_FALSE(ep.identity() || ep.packet_activation() || ep.reads_output());
        auto finish = [&](float v, index_t o) { return ep.finish(ep.add_bias(v, kFeature0 + o), nullptr); };
        SCOPED_TRACE(a.name() + (with_bias ? " with bias" : " without bias"));
        rounds_to_bf16_like([&](Bf* dst, const float& v, index_t o) { *dst = finish(v, o); },
                            EpilogueSteps<float, Bf>{&ep, kFeature0}, finish, {features});
      }
  }
}

// The plan's choice: outputs from CONVT_STREAM_OUTPUT_BYTES on (the native
// test builds set it to 0: every output).
TEST(OutputWrite, StreamsOutputsFromTheThreshold) {
  EXPECT_TRUE(stream_output(kStreamOutputBytes));
  EXPECT_TRUE(stream_output(kStreamOutputBytes + 1));
  EXPECT_FALSE(stream_output(kStreamOutputBytes - 1));
}

// convt::Tensor starts on a cache line, so outputs it holds can be streamed.
TEST(OutputWrite, TensorsAreCacheLineAligned) {
  for (index_t n : {1, 3, 17, 1000}) {
    const convt::Tensor<float, 2> t({n, 3});
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.data()) % 64, 0u) << n;
    const convt::Tensor<double, 3> d({2, n, 5});
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(d.data()) % 64, 0u) << n;
  }
}

}  // namespace
