// The packings that read the input in place (detail/indirect_lhs.hpp) must
// write exactly what Eigen's own gemm_pack_lhs writes for the gathered tile
// (and gemm_pack_rhs for its transpose): the GEMM kernel consumes the
// block, so a difference in layout or values is a wrong result. Checked bit for bit over panel edges (rows around
// multiples of the register block), depth-block starts inside a tap and
// packets straddling taps, and absent (padding) taps. The offset table the
// packing reads (tile_tap_offsets) is checked against the position formula
// of docs/design.md for every row of tiles that start and end anywhere.
#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>

#include "convt/detail/im2col.hpp"
#include "convt/detail/indirect_lhs.hpp"

namespace {

using convt::index_t;
using namespace convt::detail;

// In: the input's type, widened to Acc as it is packed.
template <class In, class Acc>
void packs_like_eigen() {
  using Traits = typename GemmTraits<Acc>::Traits;
  constexpr index_t P = Eigen::internal::unpacket_traits<typename Traits::LhsPacket4Packing>::size;
  constexpr index_t mr = Traits::mr;
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> value(-1, 1);
  for (index_t channels : {P, 2 * P, 3 * P})
    for (index_t taps : {1, 3}) {
      const index_t depth = taps * channels;
      const index_t most_rows = 2 * mr + P + 3;
      // The input: one run of `channels` per (row, tap), scattered through
      // a buffer with gaps; every fifth (row, tap) is padding.
      std::vector<In> input(static_cast<std::size_t>(most_rows * taps * (channels + 5)));
      using Real = typename Eigen::NumTraits<Acc>::Real;
      for (In& v : input) {
        if constexpr (Eigen::NumTraits<Acc>::IsComplex) {
          v = In(static_cast<Real>(value(rng)), static_cast<Real>(value(rng)));
        } else if constexpr (std::is_integral_v<In>) {
          v = static_cast<In>(std::lround(value(rng) * 127.0) + (std::is_signed_v<In> ? 0 : 128));
        } else {
          v = static_cast<In>(value(rng));
        }
      }
      const std::vector<In> zeros(static_cast<std::size_t>(channels), In(0));
      std::vector<index_t> offsets(static_cast<std::size_t>(taps * most_rows));
      for (index_t r = 0; r < most_rows; ++r)
        for (index_t t = 0; t < taps; ++t) {
          const index_t slot = (r * taps + t) * 7 % (most_rows * taps);
          offsets[static_cast<std::size_t>(t * most_rows + r)] =
              (r + 2 * t) % 5 == 4 ? kAbsentOffset : slot * (channels + 5) + (slot % 3);
        }
      for (index_t rows :
           {index_t{0}, index_t{1}, index_t{6}, P - 1, P, mr - 1, mr, mr + 1, mr + P, 2 * mr + 3, most_rows})
        for (index_t col0 : {index_t{0}, index_t{3}, P, channels - 1, channels + 1})
          for (index_t kc : {index_t{1}, P - 1, P, P + 1, 2 * P + 5, depth}) {
            if (rows > most_rows || col0 + kc > depth || kc <= 0) continue;
            SCOPED_TRACE(::testing::Message() << "C " << channels << " taps " << taps << " rows " << rows << " col0 "
                                              << col0 << " kc " << kc);
            // The gathered tile Eigen's packing would read: row-major [rows x depth].
            std::vector<Acc> tile(static_cast<std::size_t>(std::max<index_t>(1, rows * depth)));
            for (index_t r = 0; r < rows; ++r)
              for (index_t t = 0; t < taps; ++t) {
                const index_t off = offsets[static_cast<std::size_t>(t * most_rows + r)];
                for (index_t c = 0; c < channels; ++c)
                  tile[static_cast<std::size_t>(r * depth + t * channels + c)] =
                      off == kAbsentOffset ? Acc(0) : convert<Acc>(input[static_cast<std::size_t>(off + c)]);
              }
            using Mapper = typename GemmTraits<Acc>::LhsMapper;
            const std::size_t n = static_cast<std::size_t>(std::max<index_t>(1, rows * kc));
            AlignedVector<Acc> want(n + 64, Acc(-7)), got(n + 64, Acc(-7));
            PackLhs<Acc, Mapper, Eigen::RowMajor>()(want.data(), Mapper(tile.data(), depth).getSubMapper(0, col0), kc,
                                                    rows);
            const IndirectLhsMapper<In, Acc> mapped(input.data(), offsets.data(), most_rows, channels, zeros.data());
            pack_lhs_indirect(got.data(), mapped.getSubMapper(0, col0), kc, rows);
            // Including the elements past the block: nothing written beyond it.
            ASSERT_EQ(0, std::memcmp(want.data(), got.data(), sizeof(Acc) * want.size()));
            // As gebp's rhs: Eigen's packing of the tile's transpose, which
            // is column-major [depth x rows].
            using ColMapper = Eigen::internal::const_blas_data_mapper<Acc, index_t, Eigen::ColMajor>;
            std::fill(want.begin(), want.end(), Acc(-7));
            std::fill(got.begin(), got.end(), Acc(-7));
            PackRhsOf<Acc, Eigen::ColMajor>()(want.data(), ColMapper(tile.data(), depth).getSubMapper(col0, 0), kc,
                                              rows);
            pack_rhs_indirect(got.data(), mapped.getSubMapper(0, col0), kc, rows);
            ASSERT_EQ(0, std::memcmp(want.data(), got.data(), sizeof(Acc) * want.size())) << "as rhs";
          }
    }
}

TEST(IndirectPack, FloatMatchesEigensPacking) { packs_like_eigen<float, float>(); }
TEST(IndirectPack, DoubleMatchesEigensPacking) { packs_like_eigen<double, double>(); }
TEST(IndirectPack, ComplexMatchesEigensPacking) { packs_like_eigen<std::complex<float>, std::complex<float>>(); }
// Narrower inputs widened as they are packed: the same values gather_tile
// converts.
TEST(IndirectPack, Bfloat16WidenedMatchesEigensPacking) { packs_like_eigen<Eigen::bfloat16, float>(); }
TEST(IndirectPack, Int8WidenedMatchesEigensPacking) { packs_like_eigen<std::int8_t, float>(); }
TEST(IndirectPack, Uint8WidenedMatchesEigensPacking) { packs_like_eigen<std::uint8_t, float>(); }

// Eigen's packet types carry vector attributes GCC reports as ignored when
// they are template arguments.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
#endif

/// load_widened at packet type Packet: every lane bit for bit what convert()
/// gives, at offsets that are not aligned, over every value of the 8-bit
/// types and bfloat16 values that include -0, infinities, NaN and
/// subnormals.
template <class Packet, class In>
void widens_like_convert() {
  constexpr index_t P = Eigen::internal::unpacket_traits<Packet>::size;
  std::vector<In> src;
  if constexpr (std::is_integral_v<In>) {
    for (int v = std::numeric_limits<In>::min(); v <= std::numeric_limits<In>::max(); ++v)
      src.push_back(static_cast<In>(v));
  } else {
    for (std::uint32_t bits : {0x0000u, 0x8000u, 0x7f80u, 0xff80u, 0x7fc1u, 0x0001u, 0x807fu, 0x3f80u, 0xc2f7u})
      src.push_back(Eigen::numext::bit_cast<In>(static_cast<std::uint16_t>(bits)));
    for (int v = -300; v <= 300; v += 7) src.push_back(In(static_cast<float>(v) / 8.0f));
  }
  for (std::size_t at = 0; at + static_cast<std::size_t>(P) <= src.size(); ++at) {
    alignas(64) float got[P];
    Eigen::internal::pstoreu(got, load_widened<Packet>(src.data() + at));
    for (index_t i = 0; i < P; ++i) {
      const float want = convert<float>(src[at + static_cast<std::size_t>(i)]);
      ASSERT_EQ(0, std::memcmp(&want, got + i, sizeof(float))) << "lane " << i << " at " << at << " of " << P;
    }
  }
}

template <class In>
void widens_at_every_width() {
  using Full = typename Eigen::internal::packet_traits<float>::type;
  using Half = typename Eigen::internal::unpacket_traits<Full>::half;
  using Quarter = typename Eigen::internal::unpacket_traits<Half>::half;
  widens_like_convert<Full, In>();
  widens_like_convert<Half, In>();
  widens_like_convert<Quarter, In>();
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

TEST(Widen, Bfloat16MatchesConvert) { widens_at_every_width<Eigen::bfloat16>(); }
TEST(Widen, Int8MatchesConvert) { widens_at_every_width<std::int8_t>(); }
TEST(Widen, Uint8MatchesConvert) { widens_at_every_width<std::uint8_t>(); }

/// The input offset of tap tuple `tap` (row-major over the dimensions) of
/// row `row` of `ph`, from the position formula alone: u = t + offset, then
/// p = u / divisor where divisible; outside [0, in) padding, or wrapped
/// around for a periodic input.
template <std::size_t Rank>
index_t expected_offset(const PhaseSplit<Rank>& split, const Phase<Rank - 2>& ph, index_t row, index_t tap,
                        const std::array<index_t, Rank>& stride) {
  constexpr std::size_t S = Rank - 2;
  std::array<index_t, S> t{}, j{};
  for (std::size_t d = S; d-- > 0;) {
    const AxisPhase& ap = split.axes[d].phases[ph.axis_phase[d]];
    t[d] = row % ap.count;
    row /= ap.count;
    j[d] = tap % static_cast<index_t>(ap.taps.size());
    tap /= static_cast<index_t>(ap.taps.size());
  }
  index_t off = row * stride[0];
  for (std::size_t d = 0; d < S; ++d) {
    const AxisPhases& ax = split.axes[d];
    const index_t u = t[d] + ax.phases[ph.axis_phase[d]].offsets[static_cast<std::size_t>(j[d])];
    if (floor_mod(u, ax.divisor) != 0) return kAbsentOffset;
    index_t p = (u - floor_mod(u, ax.divisor)) / ax.divisor;
    if (p < 0 || p >= ax.in) {
      if (!ax.periodic) return kAbsentOffset;
      p = floor_mod(p, ax.in);
    }
    off += p * stride[2 + d];
  }
  return off;
}

template <std::size_t Rank>
void tap_offsets_match_positions() {
  constexpr std::size_t S = Rank - 2;
  for (convt::Lowering lowering : {convt::Lowering::PhaseSplit, convt::Lowering::DenseDilated})
    for (bool periodic : {false, true})
      for (index_t k : {1, 3, 4})
        for (index_t s : {1, 2, 3})
          for (index_t lo : {-2, 0, 2, 5})
            for (index_t in : {1, 3, Rank < 5 ? 6 : 2}) {
              Geometry<Rank> g;
              g.batch = 2;
              g.in_features = g.group_in = 3;
              const index_t out = in * s + k - 2 > 0 ? in * s + k - 2 : 1;
              PhaseSplit<Rank> split;
              for (std::size_t d = 0; d < S; ++d) {
                // The dimensions differ: dilation 2 on the first, the
                // input one longer on the last.
                const index_t extent = d + 1 == S && S > 1 ? in + 1 : in;
                split.axes[d] = count_phases(owned_phases(k, s, d == 0 ? 2 : 1, lo, lowering), extent,
                                             d + 1 == S && S > 1 ? out + s : out, periodic);
              }
              combine_phases(g, split);
              // Channel-contiguous strides, positions apart by more than the
              // channels (a padded view), and the batch stride last.
              std::array<index_t, Rank> stride{};
              stride[1] = 1;
              index_t step = 5;
              for (std::size_t d = S; d-- > 0;) {
                stride[2 + d] = step;
                step *= split.axes[d].in + 1;
              }
              stride[0] = step;
              index_t max_taps = 1;
              for (const auto& ph : split.phases) max_taps = std::max(max_taps, ph.taps);
              for (const auto& ph : split.phases) {
                const index_t total = ph.rows;
                GatherScratch<S> gs(split.axes, total, max_taps);
                for (index_t row0 : {index_t{0}, index_t{1}, total / 3, total - 1})
                  for (index_t rows : {index_t{1}, index_t{2}, index_t{7}, total}) {
                    if (row0 < 0 || row0 + rows > total) continue;
                    SCOPED_TRACE(::testing::Message()
                                 << "rank " << Rank << " lowering " << static_cast<int>(lowering) << " periodic "
                                 << periodic << " k " << k << " s " << s << " lo " << lo << " in " << in << " rows ["
                                 << row0 << ", " << row0 + rows << ")");
                    tile_tap_offsets(split, ph, row0, rows, stride, gs);
                    for (index_t tap = 0; tap < ph.taps; ++tap)
                      for (index_t r = 0; r < rows; ++r) {
                        ASSERT_EQ(gs.tile_tap_offset[static_cast<std::size_t>(tap * rows + r)],
                                  expected_offset(split, ph, row0 + r, tap, stride))
                            << "tap " << tap << " row " << row0 + r;
                      }
                  }
              }
            }
}

TEST(IndirectPack, TapOffsetsMatchPositions1D) { tap_offsets_match_positions<3>(); }
TEST(IndirectPack, TapOffsetsMatchPositions2D) { tap_offsets_match_positions<4>(); }
TEST(IndirectPack, TapOffsetsMatchPositions3D) { tap_offsets_match_positions<5>(); }

}  // namespace
