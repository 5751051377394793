// The packing that reads the input in place (detail/indirect_lhs.hpp) must
// write exactly what Eigen's own gemm_pack_lhs writes for the gathered tile:
// the GEMM kernel consumes the block, so a difference in layout or values
// is a wrong result. Checked bit for bit over panel edges (rows around
// multiples of the register block), depth-block starts inside a tap and
// packets straddling taps, and absent (padding) taps.
#include <complex>
#include <cstring>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "convt/detail/indirect_lhs.hpp"

namespace {

using convt::index_t;
using namespace convt::detail;

template <class Acc>
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
      std::vector<Acc> input(static_cast<std::size_t>(most_rows * taps * (channels + 5)));
      using Real = typename Eigen::NumTraits<Acc>::Real;
      for (Acc& v : input) {
        if constexpr (Eigen::NumTraits<Acc>::IsComplex) {
          v = Acc(static_cast<Real>(value(rng)), static_cast<Real>(value(rng)));
        } else {
          v = static_cast<Acc>(value(rng));
        }
      }
      const std::vector<Acc> zeros(static_cast<std::size_t>(channels), Acc(0));
      std::vector<index_t> offsets(static_cast<std::size_t>(taps * most_rows));
      for (index_t r = 0; r < most_rows; ++r)
        for (index_t t = 0; t < taps; ++t) {
          const index_t slot = (r * taps + t) * 7 % (most_rows * taps);
          offsets[static_cast<std::size_t>(t * most_rows + r)] =
              (r + 2 * t) % 5 == 4 ? kAbsentOffset : slot * (channels + 5) + (slot % 3);
        }
      for (index_t rows : {index_t{0}, index_t{1}, P - 1, P, mr - 1, mr, mr + 1, mr + P, 2 * mr + 3, most_rows})
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
                      off == kAbsentOffset ? Acc(0) : input[static_cast<std::size_t>(off + c)];
              }
            using Mapper = typename GemmTraits<Acc>::LhsMapper;
            const std::size_t n = static_cast<std::size_t>(std::max<index_t>(1, rows * kc));
            AlignedVector<Acc> want(n + 64, Acc(-7)), got(n + 64, Acc(-7));
            PackLhs<Acc, Mapper, Eigen::RowMajor>()(want.data(), Mapper(tile.data(), depth).getSubMapper(0, col0), kc,
                                                    rows);
            const IndirectLhsMapper<Acc> mapped(input.data(), offsets.data(), most_rows, channels, zeros.data());
            pack_lhs_indirect(got.data(), mapped.getSubMapper(0, col0), kc, rows);
            // Including the elements past the block: nothing written beyond it.
            ASSERT_EQ(0, std::memcmp(want.data(), got.data(), sizeof(Acc) * want.size()));
          }
    }
}

TEST(IndirectPack, FloatMatchesEigensPacking) { packs_like_eigen<float>(); }
TEST(IndirectPack, DoubleMatchesEigensPacking) { packs_like_eigen<double>(); }
TEST(IndirectPack, ComplexMatchesEigensPacking) { packs_like_eigen<std::complex<float>>(); }

}  // namespace
