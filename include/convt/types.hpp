// convt/types.hpp — supported element types, JAX's preferred_element_type
// rule, precision, and the choice of the type the GEMM accumulates in.
#pragma once

#include <complex>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>

#include <Eigen/Core>

#include "convt/error.hpp"

namespace convt {

/// JAX's `precision` argument. On CPU: Default and High accumulate floating
/// inputs in the result type (f32 for f32/f16/bf16); Highest accumulates in
/// double (complex<double> for complex<float>) and rounds once at the end.
/// Integer arithmetic is exact (or wraps, see README) at every setting.
enum class Precision { Default, High, Highest };

/// JAX's `precision=(lhs, rhs)` pair: the computation runs at the higher one.
constexpr Precision combine_precision(Precision lhs, Precision rhs) noexcept {
  return static_cast<int>(lhs) >= static_cast<int>(rhs) ? lhs : rhs;
}

/// `options.precision` accepts a Precision or a (lhs, rhs) pair, like JAX.
struct PrecisionConfig {
  Precision lhs = Precision::Default;  ///< precision requested for lhs
  Precision rhs = Precision::Default;  ///< precision requested for rhs
  constexpr PrecisionConfig() noexcept = default;
  /// One precision for both operands.
  constexpr PrecisionConfig(Precision p) noexcept : lhs(p), rhs(p) {}  // NOLINT(google-explicit-constructor)
  /// A (lhs, rhs) pair.
  constexpr PrecisionConfig(Precision l, Precision r) noexcept : lhs(l), rhs(r) {}
  /// A (lhs, rhs) pair.
  constexpr PrecisionConfig(std::pair<Precision, Precision> p) noexcept  // NOLINT(google-explicit-constructor)
      : lhs(p.first), rhs(p.second) {}
  /// The precision the computation runs at (the higher of the pair).
  constexpr Precision effective() const noexcept { return combine_precision(lhs, rhs); }
  /// Same as effective().
  constexpr operator Precision() const noexcept { return effective(); }  // NOLINT(google-explicit-constructor)
};

namespace detail {

/// What kind of number an element type holds.
enum class ElementKind { SignedInteger, UnsignedInteger, Floating, Complex };

template <class T>
struct element_traits {
  static constexpr bool supported = false;
};
#define CONVT_ELEMENT(T, KIND, NAME)                       \
  template <>                                              \
  struct element_traits<T> {                               \
    static constexpr bool supported = true;                \
    static constexpr ElementKind kind = ElementKind::KIND; \
    static constexpr const char* name = NAME;              \
  };
CONVT_ELEMENT(std::int8_t, SignedInteger, "int8")
CONVT_ELEMENT(std::int16_t, SignedInteger, "int16")
CONVT_ELEMENT(std::int32_t, SignedInteger, "int32")
CONVT_ELEMENT(std::int64_t, SignedInteger, "int64")
CONVT_ELEMENT(std::uint8_t, UnsignedInteger, "uint8")
CONVT_ELEMENT(Eigen::half, Floating, "float16")
CONVT_ELEMENT(Eigen::bfloat16, Floating, "bfloat16")
CONVT_ELEMENT(float, Floating, "float32")
CONVT_ELEMENT(double, Floating, "float64")
CONVT_ELEMENT(std::complex<float>, Complex, "complex64")
CONVT_ELEMENT(std::complex<double>, Complex, "complex128")
#undef CONVT_ELEMENT

template <class T>
inline constexpr bool is_supported_v = element_traits<std::remove_cv_t<T>>::supported;
template <class T>
constexpr bool is_kind(ElementKind kind) {
  if constexpr (is_supported_v<T>) {
    return element_traits<std::remove_cv_t<T>>::kind == kind;
  } else {
    return false;
  }
}
template <class T>
inline constexpr bool is_integer_v = is_kind<T>(ElementKind::SignedInteger) || is_kind<T>(ElementKind::UnsignedInteger);
template <class T>
inline constexpr bool is_floating_v = is_kind<T>(ElementKind::Floating);
template <class T>
inline constexpr bool is_complex_v = is_kind<T>(ElementKind::Complex);
template <class T>
inline constexpr bool is_half_v = std::is_same_v<T, Eigen::half> || std::is_same_v<T, Eigen::bfloat16>;

/// JAX's preferred_element_type rule (lax's conv: the preferred type must
/// not be narrower than the input type): integer inputs may produce an
/// integer at least as wide (a signed one from an unsigned input, not an
/// unsigned one from a signed input) or a floating type at least as wide;
/// floating inputs a floating type at least as wide (so float16 and
/// bfloat16 convert into each other); complex a complex type at least as
/// wide. Checked against JAX 0.10 over every pair (tests/frameworks).
template <class In, class Out>
constexpr bool preferred_type_allowed() {
  if constexpr (!is_supported_v<In> || !is_supported_v<Out>) {
    return false;
  } else if constexpr (std::is_same_v<In, Out>) {
    return true;
  } else if constexpr (is_integer_v<In>) {
    if constexpr (is_floating_v<Out>) return sizeof(Out) >= sizeof(In);
    if constexpr (is_integer_v<Out>)
      return sizeof(Out) >= sizeof(In) && (std::is_signed_v<Out> || !std::is_signed_v<In>);
    return false;
  } else if constexpr (is_floating_v<In>) {
    return is_floating_v<Out> && sizeof(Out) >= sizeof(In);
  } else {
    return is_complex_v<Out> && sizeof(Out) >= sizeof(In);
  }
}

/// The result type: `Out`, or the input type when `Out` is void.
template <class In, class Out>
using result_t = std::conditional_t<std::is_void_v<Out>, In, Out>;

/// Types the GEMM can run in. Which one a problem uses is decided when the
/// plan is made (precision is a run-time option and integer accumulation
/// depends on the reduction length), see `choose_accumulator`.
/// F32Blocks: integer products summed by the float GEMM over depth blocks
/// short enough to be exact (exact_float_terms), the blocks added in double.
enum class Accumulator { F32, F64, C64, C128, I64, U64, F32Blocks };

template <Accumulator A>
struct accumulator_type;
template <>
struct accumulator_type<Accumulator::F32> {
  using type = float;
};
template <>
struct accumulator_type<Accumulator::F64> {
  using type = double;
};
template <>
struct accumulator_type<Accumulator::C64> {
  using type = std::complex<float>;
};
template <>
struct accumulator_type<Accumulator::C128> {
  using type = std::complex<double>;
};
template <>
struct accumulator_type<Accumulator::I64> {
  using type = std::int64_t;
};
template <>
struct accumulator_type<Accumulator::U64> {
  using type = std::uint64_t;
};

/// Largest magnitude an integer type holds (as an unsigned 64-bit value).
template <class T>
constexpr std::uint64_t max_magnitude() {
  if constexpr (std::is_signed_v<T>) {
    return static_cast<std::uint64_t>(std::numeric_limits<T>::max()) + 1u;
  } else {
    return static_cast<std::uint64_t>(std::numeric_limits<T>::max());
  }
}

/// How many products of two `In` values float sums exactly in any order:
/// 2^24 / max|In|^2, rounded down to a multiple of 8 so blocks keep the
/// GEMM kernel's depth unrolling (8) whole (1024 for int8, 256 for uint8;
/// 0 when one product is already too wide).
template <class In>
constexpr index_t exact_float_terms() {
  const std::uint64_t m = max_magnitude<In>();
  if (m > (std::uint64_t{1} << 12)) return 0;
  return static_cast<index_t>((std::uint64_t{1} << 24) / (m * m) / 8 * 8);
}

// Shortest exact block worth a float GEMM with a double sum per block
// rather than a double GEMM: each block's result is added once more.
inline constexpr index_t kMinExactBlock = 256;

/// Picks the accumulator for inputs `In`, result `Out`, a reduction of
/// `depth` terms and a precision. Integer sums are exact: when the worst case
/// |depth * max|In|^2| stays within 2^24 (2^53) every partial sum is an
/// integer that float (double) represents exactly, so the fast floating GEMM
/// kernel computes the exact integer result; beyond that, while the sum
/// stays within 2^53, blocks of exact_float_terms products in float, summed
/// in double (F32Blocks; double when blocks would be short); then int64, and past
/// int64 the sum is taken modulo 2^64 (unsigned, so wrap-around is defined),
/// which equals the wrapped result in any narrower integer type.
template <class In, class Out>
Accumulator choose_accumulator(Precision precision, index_t depth) {
  const bool highest = precision == Precision::Highest;
  if constexpr (is_complex_v<In>) {
    return (std::is_same_v<Out, std::complex<double>> || highest) ? Accumulator::C128 : Accumulator::C64;
  } else if constexpr (is_floating_v<Out>) {
    return (std::is_same_v<Out, double> || std::is_same_v<In, double> || highest) ? Accumulator::F64 : Accumulator::F32;
  } else {
    static_assert(is_integer_v<In> && is_integer_v<Out>, "unreachable: integer accumulation");
    std::uint64_t worst = 0;
    const std::uint64_t m = max_magnitude<In>();
    const bool overflow =
        mul_overflow(m, m, &worst) || mul_overflow(worst, static_cast<std::uint64_t>(depth > 0 ? depth : 1), &worst);
    if (!overflow) {
      if (worst <= (std::uint64_t{1} << 24)) return Accumulator::F32;
      if (worst <= (std::uint64_t{1} << 53)) {
        return exact_float_terms<In>() >= kMinExactBlock ? Accumulator::F32Blocks : Accumulator::F64;
      }
      if (worst <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return Accumulator::I64;
    }
    return Accumulator::U64;
  }
}

/// Value conversion between element, accumulator and result types.
/// Integer results wrap modulo 2^bits (two's complement), as XLA does.
template <class To, class From>
To convert(const From& v) {
  if constexpr (std::is_same_v<To, From>) {
    return v;
  } else if constexpr (is_half_v<From>) {
    return convert<To>(static_cast<float>(v));
  } else if constexpr (is_half_v<To>) {
    return To(static_cast<float>(v));
  } else if constexpr (std::is_integral_v<To> && std::is_integral_v<From>) {
    return static_cast<To>(static_cast<std::make_unsigned_t<To>>(v));
  } else if constexpr (std::is_integral_v<To>) {
    // An exact integer sum held in float/double (|v| <= 2^53): through int64,
    // then wrapped to the result width.
    return convert<To>(static_cast<std::int64_t>(v));
  } else if constexpr (is_complex_v<To> && !is_complex_v<From>) {
    return To(static_cast<typename To::value_type>(v));
  } else {
    return static_cast<To>(v);
  }
}

}  // namespace detail
}  // namespace convt
