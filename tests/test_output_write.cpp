// The output write's streaming stores (detail/stream_store.hpp, used by
// write_rows for outputs of 32 MB and more) must write exactly what its
// plain stores write, and nothing else: checked element by element with
// the output aligned to a cache line and one element off it, features that
// are whole packets and ragged ones, rows that are packed and spaced, tiles
// with rows that are not theirs, and row counts around the packet squares.
// The same for float sums written as int32 (int8 inputs), whose packets are
// converted in registers: against convert() element by element.
#include <cstdint>
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
