// convt/detail/widen.hpp — loads of a vector packet of floats from narrower
// input values (bfloat16, 8-bit integers), for the packings that read the
// input in place (indirect_lhs.hpp).
//
// bfloat16 is the top half of a float, so widening it is a zero extension
// and a shift; an 8-bit integer is a sign (or zero) extension and a
// conversion. On x86 with AVX2 / AVX-512 each is two instructions on
// registers. Elsewhere the values are converted one by one into memory and
// loaded back (the compiler vectorises the loop, but the packet then makes
// a round trip through the stack: on Zen 5 the packing of the GAN's RGB head
// spent most of its time there).
#pragma once

#include <cstdint>
#include <type_traits>

#include <Eigen/Core>

#include "convt/detail/im2col.hpp"

#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
#endif

namespace convt::detail {

/// Whether load_widened reads In values for a GEMM in Acc: the accumulator
/// itself, or a float GEMM's narrower inputs (converted exactly as
/// gather_tile converts them).
template <class In, class Acc>
constexpr bool widens_to() {
  if constexpr (std::is_same_v<In, Acc>) {
    return true;
  } else {
    return std::is_same_v<Acc, float> &&
           (std::is_same_v<In, Eigen::bfloat16> || std::is_same_v<In, std::int8_t> || std::is_same_v<In, std::uint8_t>);
  }
}

/// A packet of Acc from the packet's worth of In values at `p` (unaligned).
template <class Packet, class In>
inline Packet load_widened(const In* p) {
  using Acc = typename Eigen::internal::unpacket_traits<Packet>::type;
  static_assert(widens_to<In, Acc>(), "an input type load_widened converts");
  if constexpr (std::is_same_v<In, Acc>) {
    return Eigen::internal::ploadu<Packet>(p);
  } else {
#if defined(__AVX512F__)
    if constexpr (std::is_same_v<Packet, __m512>) {
      if constexpr (std::is_same_v<In, Eigen::bfloat16>) {
        const __m512i wide = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
        return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
      } else if constexpr (std::is_same_v<In, std::int8_t>) {
        return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
      } else {
        return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
      }
    }
#endif
#if defined(__AVX2__)
    if constexpr (std::is_same_v<Packet, __m256>) {
      if constexpr (std::is_same_v<In, Eigen::bfloat16>) {
        const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
        return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
      } else if constexpr (std::is_same_v<In, std::int8_t>) {
        return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
      } else {
        return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
      }
    }
#endif
    constexpr index_t n = Eigen::internal::unpacket_traits<Packet>::size;
    alignas(64) Acc v[n];
    copy_channels(p, 1, n, v);
    return Eigen::internal::pload<Packet>(v);
  }
}

}  // namespace convt::detail

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
