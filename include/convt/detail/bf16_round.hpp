// convt/detail/bf16_round.hpp — float to bfloat16 a block of values at a
// time, bit for bit what Eigen::bfloat16(float) gives one value at a time.
//
// Not Eigen's packet conversion: its AVX-512 path writes every NaN as +NaN
// (the scalar conversion keeps the sign), and where AVX512-BF16 is enabled
// the instruction it uses flushes denormal inputs to zero. The scalar rule —
// round to nearest even on the bits, a NaN to the quiet NaN of its sign — is
// written here over a fixed number of plain integers, which compilers turn
// into vector shifts, adds, a blend and a narrowing store on x86 and NEON,
// with no intrinsics and no compiler builtin. NaN is found from the bits, so
// that -ffast-math in a consumer's build cannot fold the test away.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include <Eigen/Core>

namespace convt::detail {

static_assert(sizeof(Eigen::bfloat16) == sizeof(std::uint16_t) && std::is_trivially_copyable_v<Eigen::bfloat16>,
              "bfloat16 values are written as their 16-bit patterns");

/// The bfloat16 bit pattern of `f`, as Eigen::bfloat16(f) rounds it.
inline std::uint16_t bf16_bits(float f) noexcept {
  std::uint32_t u = 0;
  std::memcpy(&u, &f, sizeof u);
  const bool nan = (u & 0x7fffffffu) > 0x7f800000u;
  // Adding 0x7fff plus the kept part's lowest bit carries into the kept
  // part exactly when the dropped half is above one half, or equal to it
  // with an odd kept part. Finite values round up to infinity naturally.
  const std::uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
  const std::uint32_t quiet_nan = ((u >> 16) & 0x8000u) | 0x7fc0u;
  // A select by mask, not `nan ? ... : ...`: unrolled into a large caller,
  // the conditional became a branch per value that the vectorizer left
  // scalar; the mask form vectorizes wherever the loop is placed.
  const std::uint32_t nan_mask = 0u - static_cast<std::uint32_t>(nan);
  return static_cast<std::uint16_t>((rounded & ~nan_mask) | (quiet_nan & nan_mask));
}

/// dst[i] = Eigen::bfloat16(src[i]) for i < N, bit for bit; `dst` holds
/// bfloat16 values or their bit patterns (uint16_t: scratch that, unlike
/// an array of Eigen::bfloat16, is not zeroed when it is declared).
template <int N, class Dst>
inline void round_to_bf16(const float* src, Dst* dst) noexcept {
  static_assert(std::is_same_v<Dst, Eigen::bfloat16> || std::is_same_v<Dst, std::uint16_t>,
                "bfloat16 values or their bit patterns");
  std::uint16_t bits[N];
  for (int i = 0; i < N; ++i) bits[i] = bf16_bits(src[i]);
  std::memcpy(static_cast<void*>(dst), bits, sizeof bits);
}

}  // namespace convt::detail
