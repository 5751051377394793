// convt/detail/overflow.hpp — overflow-detecting integer arithmetic: the
// compiler's __builtin_*_overflow where it has them (GCC, Clang), else a
// portable version (MSVC, or forced with -DCONVT_PORTABLE_OVERFLOW, which
// CI does in one build so the fallback stays tested). Both are always
// compiled; the macro only chooses which one convt uses.
#pragma once

#include <cstdint>
#include <limits>

#if !defined(CONVT_PORTABLE_OVERFLOW)
#if defined(__has_builtin)
#if __has_builtin(__builtin_mul_overflow) && __has_builtin(__builtin_add_overflow) && \
    __has_builtin(__builtin_sub_overflow)
#define CONVT_OVERFLOW_BUILTINS 1
#endif
#elif defined(__GNUC__) && __GNUC__ >= 5
#define CONVT_OVERFLOW_BUILTINS 1
#endif
#endif

namespace convt::detail {

// The portable versions: each tests the operands against the limits before
// computing, so no signed overflow ever happens (UBSan checks that in CI).

/// *r = a * b; true when the product leaves int64 (then *r is unspecified).
inline bool portable_mul_overflow(std::int64_t a, std::int64_t b, std::int64_t* r) noexcept {
  constexpr std::int64_t hi = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t lo = std::numeric_limits<std::int64_t>::min();
  bool over = false;
  if (a > 0) {
    over = b > 0 ? a > hi / b : b < lo / a;
  } else if (a < 0) {
    over = b > 0 ? a < lo / b : (b != 0 && b < hi / a);
  }
  if (!over) *r = a * b;
  return over;
}

/// *r = a * b; true when the product leaves uint64.
inline bool portable_mul_overflow(std::uint64_t a, std::uint64_t b, std::uint64_t* r) noexcept {
  const bool over = a != 0 && b > std::numeric_limits<std::uint64_t>::max() / a;
  if (!over) *r = a * b;
  return over;
}

/// *r = a + b; true when the sum leaves int64.
inline bool portable_add_overflow(std::int64_t a, std::int64_t b, std::int64_t* r) noexcept {
  const bool over =
      b > 0 ? a > std::numeric_limits<std::int64_t>::max() - b : a < std::numeric_limits<std::int64_t>::min() - b;
  if (!over) *r = a + b;
  return over;
}

/// *r = a - b; true when the difference leaves int64.
inline bool portable_sub_overflow(std::int64_t a, std::int64_t b, std::int64_t* r) noexcept {
  const bool over =
      b < 0 ? a > std::numeric_limits<std::int64_t>::max() + b : a < std::numeric_limits<std::int64_t>::min() + b;
  if (!over) *r = a - b;
  return over;
}

/// The versions convt uses.
template <class T>
bool mul_overflow(T a, T b, T* r) noexcept {
#if defined(CONVT_OVERFLOW_BUILTINS)
  return __builtin_mul_overflow(a, b, r);
#else
  return portable_mul_overflow(a, b, r);
#endif
}

inline bool add_overflow(std::int64_t a, std::int64_t b, std::int64_t* r) noexcept {
#if defined(CONVT_OVERFLOW_BUILTINS)
  return __builtin_add_overflow(a, b, r);
#else
  return portable_add_overflow(a, b, r);
#endif
}

inline bool sub_overflow(std::int64_t a, std::int64_t b, std::int64_t* r) noexcept {
#if defined(CONVT_OVERFLOW_BUILTINS)
  return __builtin_sub_overflow(a, b, r);
#else
  return portable_sub_overflow(a, b, r);
#endif
}

}  // namespace convt::detail
