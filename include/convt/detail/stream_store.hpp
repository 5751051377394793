// convt/detail/stream_store.hpp — non-temporal (streaming) stores of whole
// vector packets, for outputs much larger than the caches.
//
// An ordinary store first reads the cache line it writes (read for
// ownership); an output of tens of megabytes is evicted to memory before
// anything reads it again, so that read is wasted bandwidth. A streaming
// store writes the line without reading it. Only x86 has them as compiler
// intrinsics here; elsewhere can_stream() is false and the caller stores
// normally.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#if defined(__SSE2__) || defined(__AVX__) || defined(__AVX512F__)
#include <immintrin.h>
#define CONVT_HAS_STREAM_STORES 1
#else
#define CONVT_HAS_STREAM_STORES 0
#endif

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
#endif

namespace convt::detail {

/// Whether stream_packet() can store packets of type Packet holding
/// Scalar values: float, double or int32 packets of 16, 32 or 64 bytes,
/// where the instruction set has them.
template <class Scalar, class Packet>
constexpr bool can_stream() {
#if CONVT_HAS_STREAM_STORES
  if constexpr (!std::is_same_v<Scalar, float> && !std::is_same_v<Scalar, double> &&
                !std::is_same_v<Scalar, std::int32_t>) {
    return false;
  }
#if defined(__AVX512F__)
  if constexpr (sizeof(Packet) == 64) return true;
#endif
#if defined(__AVX__)
  if constexpr (sizeof(Packet) == 32) return true;
#endif
  return sizeof(Packet) == 16;
#else
  return false;
#endif
}

/// Stores packet `v` at `dst` (aligned to sizeof(Packet)) without reading
/// the line first. Requires can_stream<Scalar, Packet>().
template <class Scalar, class Packet>
inline void stream_packet(Scalar* dst, const Packet& v) {
  static_assert(can_stream<Scalar, Packet>(), "no streaming store for this packet");
#if CONVT_HAS_STREAM_STORES
  if constexpr (std::is_same_v<Scalar, float>) {
#if defined(__AVX512F__)
    if constexpr (sizeof(Packet) == 64) _mm512_stream_ps(dst, v);
#endif
#if defined(__AVX__)
    if constexpr (sizeof(Packet) == 32) _mm256_stream_ps(dst, v);
#endif
    if constexpr (sizeof(Packet) == 16) _mm_stream_ps(dst, v);
  } else if constexpr (std::is_same_v<Scalar, std::int32_t>) {
#if defined(__AVX512F__)
    if constexpr (sizeof(Packet) == 64) _mm512_stream_si512(reinterpret_cast<__m512i*>(dst), v);
#endif
#if defined(__AVX__)
    if constexpr (sizeof(Packet) == 32) _mm256_stream_si256(reinterpret_cast<__m256i*>(dst), v);
#endif
    if constexpr (sizeof(Packet) == 16) _mm_stream_si128(reinterpret_cast<__m128i*>(dst), v);
  } else {
#if defined(__AVX512F__)
    if constexpr (sizeof(Packet) == 64) _mm512_stream_pd(dst, v);
#endif
#if defined(__AVX__)
    if constexpr (sizeof(Packet) == 32) _mm256_stream_pd(dst, v);
#endif
    if constexpr (sizeof(Packet) == 16) _mm_stream_pd(dst, v);
  }
#else
  (void)dst;
  (void)v;
#endif
}

/// Whether stream_line() has streaming stores (x86).
constexpr bool can_stream_lines() { return CONVT_HAS_STREAM_STORES != 0; }

/// Copies the 64-byte cache line at `src` to `dst` (both aligned to 64
/// bytes) without reading the destination line first: for results narrower
/// than a packet's lanes (bfloat16), which are assembled a line at a time.
/// Requires can_stream_lines().
inline void stream_line(void* dst, const void* src) {
#if CONVT_HAS_STREAM_STORES
#if defined(__AVX512F__)
  _mm512_stream_si512(static_cast<__m512i*>(dst), _mm512_load_si512(src));
#elif defined(__AVX__)
  for (int half = 0; half < 2; ++half) {
    _mm256_stream_si256(static_cast<__m256i*>(dst) + half, _mm256_load_si256(static_cast<const __m256i*>(src) + half));
  }
#else
  for (int quarter = 0; quarter < 4; ++quarter) {
    _mm_stream_si128(static_cast<__m128i*>(dst) + quarter, _mm_load_si128(static_cast<const __m128i*>(src) + quarter));
  }
#endif
#else
  (void)dst;
  (void)src;
#endif
}

/// Orders this thread's streaming stores before its later stores (they are
/// weakly ordered, so the release that hands the output back to the caller
/// would not cover them).
inline void stream_fence() {
#if CONVT_HAS_STREAM_STORES
  _mm_sfence();
#endif
}

}  // namespace convt::detail

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
