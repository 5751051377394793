// tests/test_util.hpp — runs a reference::Problem through convt and through
// the naive reference, and compares them.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <complex>
#include <cstdint>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include <convt/convt.hpp>

#include "reference.hpp"

namespace testutil {

template <class T>
struct RefValue {
  using type = double;
};
template <class T>
struct RefValue<std::complex<T>> {
  using type = std::complex<double>;
};
template <>
struct RefValue<std::int8_t> {
  using type = std::uint64_t;
};
template <>
struct RefValue<std::int16_t> {
  using type = std::uint64_t;
};
template <>
struct RefValue<std::int32_t> {
  using type = std::uint64_t;
};
template <>
struct RefValue<std::int64_t> {
  using type = std::uint64_t;
};
template <>
struct RefValue<std::uint8_t> {
  using type = std::uint64_t;
};

template <class V, class T>
V to_ref(const T& x) {
  if constexpr (std::is_integral_v<T>) {
    return static_cast<V>(static_cast<std::int64_t>(x));  // wraps into uint64 for negatives
  } else if constexpr (std::is_same_v<T, Eigen::half> || std::is_same_v<T, Eigen::bfloat16>) {
    return static_cast<V>(static_cast<float>(x));
  } else {
    return static_cast<V>(x);
  }
}

/// Random values that are exactly representable in T (small integers for
/// integer types, multiples of 1/64 in [-2, 2] for floating ones).
template <class T>
std::vector<T> random_values(std::size_t n, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::vector<T> v(n);
  if constexpr (std::is_integral_v<T>) {
    std::uniform_int_distribution<int> dist(std::is_signed_v<T> ? -7 : 0, 7);
    for (auto& x : v) x = static_cast<T>(dist(gen));
  } else {
    std::uniform_int_distribution<int> dist(-128, 128);
    for (auto& x : v) {
      if constexpr (std::is_same_v<T, std::complex<float>> || std::is_same_v<T, std::complex<double>>) {
        using R = typename T::value_type;
        x = T(static_cast<R>(dist(gen)) / R(64), static_cast<R>(dist(gen)) / R(64));
      } else {
        x = T(static_cast<float>(dist(gen)) / 64.0f);
      }
    }
  }
  return v;
}

template <class T>
double unit_roundoff() {
  if constexpr (std::is_same_v<T, Eigen::half>)
    return 1.0 / 2048;
  else if constexpr (std::is_same_v<T, Eigen::bfloat16>)
    return 1.0 / 256;
  else if constexpr (std::is_same_v<T, float> || std::is_same_v<T, std::complex<float>>)
    return 1.0 / (1 << 24);
  else
    return std::numeric_limits<double>::epsilon() / 2;
}

template <std::size_t N>
std::array<convt::index_t, N> to_array(const ref::Shape& s) {
  std::array<convt::index_t, N> a{};
  for (std::size_t i = 0; i < N; ++i) a[i] = s[i];
  return a;
}

inline std::string describe(const ref::Problem& p) {
  std::ostringstream os;
  os << "lhs" << ::testing::PrintToString(p.lhs_shape) << " rhs" << ::testing::PrintToString(p.rhs_shape) << " dn "
     << p.lhs_spec << "," << p.rhs_spec << "," << p.out_spec << " s" << ::testing::PrintToString(p.strides) << " d"
     << ::testing::PrintToString(p.dilation) << " pad " << p.padding;
  if (p.padding == "EXPLICIT") {
    for (auto [lo, hi] : p.pads) os << " (" << lo << "," << hi << ")";
  }
  os << " consistent=" << p.consistent << " tk=" << p.transpose_kernel << " groups=" << p.groups
     << (p.periodic ? " periodic" : "");
  return os.str();
}

template <std::size_t Rank>
convt::ConvTransposeOptions<Rank - 2> options_for(const ref::Problem& p, convt::ConvTransposeOptions<Rank - 2> o = {}) {
  o.dimension_numbers = convt::DimensionNumbers{p.lhs_spec, p.rhs_spec, p.out_spec};
  if (!p.dilation.empty()) o.rhs_dilation = to_array<Rank - 2>(p.dilation);
  o.transpose_kernel = p.transpose_kernel;
  o.use_consistent_padding = p.consistent;
  o.feature_group_count = p.groups;
  o.periodic_input = p.periodic;
  return o;
}

inline convt::Padding padding_for(const ref::Problem& p) {
  if (p.padding == "SAME") return convt::Padding::same();
  if (p.padding == "VALID") return convt::Padding::valid();
  return convt::Padding::explicit_pads(p.pads);
}

/// Compares one convt result element with the reference.
template <class Res, class Acc, class V>
::testing::AssertionResult close(const Res& got, const V& want, double abs_sum, std::int64_t terms) {
  if constexpr (std::is_integral_v<Res>) {
    const Res w = static_cast<Res>(static_cast<std::make_unsigned_t<Res>>(want));
    if (got == w) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "got " << +got << " want " << +w;
  } else {
    using C = std::complex<double>;
    C g;
    if constexpr (std::is_same_v<Res, Eigen::half> || std::is_same_v<Res, Eigen::bfloat16>) {
      g = C(static_cast<float>(got));
    } else {
      g = C(got);
    }
    const C w = C(want);
    const double tol = abs_sum * static_cast<double>(terms + 2) * unit_roundoff<Acc>() * 2 +
                       std::abs(w) * unit_roundoff<Res>() * 2 + 1e-300;
    if (std::abs(g - w) <= tol) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "got " << g << " want " << w << " tol " << tol;
  }
}

/// Runs `p` through convt (conv_transpose and, with `strided`, conv_transpose_into
/// a padded non-contiguous view over a strided input) and checks against the
/// reference. Acc names the accumulation type the tolerance assumes.
template <std::size_t Rank, class T, class Out = void, class Acc = void>
void check(const ref::Problem& p, convt::ConvTransposeOptions<Rank - 2> base = {}, std::uint32_t seed = 1,
           bool strided = false) {
  using Res = std::conditional_t<std::is_void_v<Out>, T, Out>;
  using AccT = std::conditional_t<std::is_void_v<Acc>, Res, Acc>;
  // Integer results are checked modulo 2^64, others in double precision.
  using V = typename RefValue<std::conditional_t<std::is_integral_v<Res>, T, Res>>::type;
  SCOPED_TRACE(describe(p));
  const auto lhs_shape = to_array<Rank>(p.lhs_shape);
  const auto rhs_shape = to_array<Rank>(p.rhs_shape);
  std::vector<T> rhs = random_values<T>(static_cast<std::size_t>(ref::product(p.rhs_shape)), seed * 7 + 1);
  // Input: contiguous, or embedded in a larger buffer (every extent + 1).
  ref::Shape buf_shape = p.lhs_shape;
  if (strided) {
    for (auto& e : buf_shape) e += 1;
  }
  std::vector<T> lhs_buf = random_values<T>(static_cast<std::size_t>(ref::product(buf_shape)), seed * 7 + 2);
  const ref::Shape lhs_strides = ref::row_major(buf_shape);
  std::vector<V> lhs_ref(lhs_buf.size()), rhs_ref(rhs.size());
  for (std::size_t i = 0; i < lhs_buf.size(); ++i) lhs_ref[i] = to_ref<V>(lhs_buf[i]);
  for (std::size_t i = 0; i < rhs.size(); ++i) rhs_ref[i] = to_ref<V>(rhs[i]);
  const auto want = ref::conv_transpose<V>(p, lhs_ref, rhs_ref, lhs_strides);

  const convt::TensorView<const T, Rank> lhs(lhs_buf.data(), lhs_shape, to_array<Rank>(lhs_strides));
  const convt::TensorView<const T, Rank> w(rhs.data(), rhs_shape);
  const auto opt = options_for<Rank>(p, base);
  const auto pad = padding_for(p);
  ASSERT_EQ(convt::conv_transpose_shape<Rank>(lhs_shape, rhs_shape, to_array<Rank - 2>(p.strides), pad, opt),
            to_array<Rank>(want.shape));
  // Reduction length C * prod(k): the rhs size over its output-feature extent.
  const ref::Resolved resolved = ref::resolve(p);
  const std::int64_t terms =
      std::max<std::int64_t>(1, ref::product(p.rhs_shape) / std::max<std::int64_t>(1, resolved.O));

  if (!strided) {
    const auto got = convt::conv_transpose<Out>(lhs, w, to_array<Rank - 2>(p.strides), pad, opt);
    ASSERT_EQ(got.shape(), to_array<Rank>(want.shape));
    for (std::size_t i = 0; i < want.value.size(); ++i) {
      ASSERT_TRUE((close<Res, AccT>(got.data()[i], want.value[i], want.abs_sum[i], terms))) << "at flat index " << i;
    }
    return;
  }
  // Output embedded in a larger buffer filled with a sentinel that must survive.
  ref::Shape obuf_shape = want.shape;
  for (auto& e : obuf_shape) e += 2;
  const Res sentinel = static_cast<Res>(static_cast<std::int8_t>(99));
  std::vector<Res> obuf(static_cast<std::size_t>(ref::product(obuf_shape)), sentinel);
  const ref::Shape ostr = ref::row_major(obuf_shape);
  std::int64_t base_off = 0;
  for (auto st : ostr) base_off += st;  // start at index (1, 1, ...)
  convt::TensorView<Res, Rank> out(obuf.data() + base_off, to_array<Rank>(want.shape), to_array<Rank>(ostr));
  convt::conv_transpose_into(lhs, w, out, to_array<Rank - 2>(p.strides), pad, opt);
  const ref::Shape wst = ref::row_major(want.shape);
  std::vector<bool> inside(obuf.size(), false);
  for (std::size_t i = 0; i < want.value.size(); ++i) {
    std::int64_t rem = static_cast<std::int64_t>(i), off = base_off;
    for (std::size_t d = 0; d < Rank; ++d) {
      off += (rem / wst[d]) * ostr[d];
      rem %= wst[d];
    }
    inside[static_cast<std::size_t>(off)] = true;
    ASSERT_TRUE((close<Res, AccT>(obuf[static_cast<std::size_t>(off)], want.value[i], want.abs_sum[i], terms)))
        << "at flat index " << i;
  }
  for (std::size_t i = 0; i < obuf.size(); ++i) {
    if (!inside[i]) {
      ASSERT_TRUE(obuf[i] == sentinel) << "wrote outside the output view at buffer index " << i;
    }
  }
}

}  // namespace testutil
