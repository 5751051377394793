// tests/epilogue_util.hpp — runs a reference::Problem through convt with a
// bias, an accumulation into the output and an activation (the epilogue of
// convt/epilogue.hpp), and compares with the reference's sum put through
// the same epilogue, written here from the definitions: in double for
// floating results, modulo 2^bits of the result for integer ones.
#pragma once

#include <cmath>
#include <complex>
#include <type_traits>

#include "test_util.hpp"

namespace testutil {

struct EpilogueCase {
  bool bias = false;
  double accumulate = 0;
  convt::Activation activation;
};

inline double activate_reference(const convt::Activation& a, double x) {
  using K = convt::Activation::Kind;
  switch (a.kind()) {
    case K::None: return x;
    case K::ReLU: return x < 0 ? 0 : x;
    case K::LeakyReLU: return x < 0 ? a.negative_slope() * x : x;
    case K::Clamp: return std::min(std::max(x, a.lo()), a.hi());
    case K::Tanh: return std::tanh(x);
    case K::Sigmoid: return 1 / (1 + std::exp(-x));
    case K::GeluErf: return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
    case K::GeluTanh: return 0.5 * x * (1 + std::tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
    case K::SiLU: return x / (1 + std::exp(-x));
  }
  return x;
}

inline bool transcendental(const convt::Activation& a) {
  using K = convt::Activation::Kind;
  return a.kind() == K::Tanh || a.kind() == K::Sigmoid || a.kind() == K::GeluErf || a.kind() == K::GeluTanh ||
         a.kind() == K::SiLU;
}

/// want: the reference's sum (V: double, complex<double> or wrapping
/// uint64); prev: the output's previous value.
template <class Res, class AccT, class V>
::testing::AssertionResult epilogue_close(const Res& got, const V& want, double abs_sum, std::int64_t terms,
                                          const Res* bias, const Res& prev, const EpilogueCase& e) {
  if constexpr (std::is_integral_v<Res>) {
    using U = std::make_unsigned_t<Res>;
    U v = static_cast<U>(want);
    if (bias) v = static_cast<U>(v + static_cast<U>(*bias));
    const U beta = static_cast<U>(static_cast<std::int64_t>(e.accumulate));
    // In 64 bits: U may promote to int, where the product can overflow.
    v = static_cast<U>(
        v + static_cast<U>(static_cast<std::uint64_t>(beta) * static_cast<std::uint64_t>(static_cast<U>(prev))));
    Res r = static_cast<Res>(v);
    if (e.activation.kind() == convt::Activation::Kind::ReLU && r < Res(0)) r = 0;
    if (e.activation.kind() == convt::Activation::Kind::Clamp) {
      const double lo = std::ceil(e.activation.lo()), hi = std::floor(e.activation.hi());
      if (static_cast<double>(r) < lo) r = static_cast<Res>(lo);
      if (static_cast<double>(r) > hi) r = static_cast<Res>(hi);
    }
    if (got == r) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "got " << +got << " want " << +r;
  } else {
    using C = std::complex<double>;
    auto as_c = [](const Res& x) {
      if constexpr (std::is_same_v<Res, Eigen::half> || std::is_same_v<Res, Eigen::bfloat16>) {
        return C(static_cast<float>(x));
      } else {
        return C(x);
      }
    };
    C v = C(want);
    double extra = 0;  // magnitudes added after the sum
    if (bias) {
      v += as_c(*bias);
      extra += std::abs(as_c(*bias));
    }
    v += e.accumulate * as_c(prev);
    extra += std::abs(e.accumulate * as_c(prev));
    const double before = abs_sum * static_cast<double>(terms + 2) * unit_roundoff<AccT>() * 2 +
                          (std::abs(v) + extra) * unit_roundoff<AccT>() * 4;
    double after_scale = 1.0;
    if constexpr (!std::is_same_v<Res, std::complex<float>> && !std::is_same_v<Res, std::complex<double>>) {
      const double x = v.real();
      v = C(activate_reference(e.activation, x));
      after_scale = 1.2;  // |derivative| <= 1.13 for every activation here
    }
    const C g = as_c(got);
    // Fast vectorised tanh/exp in float: a few ulp of the result.
    const double approx = transcendental(e.activation) ? unit_roundoff<AccT>() * 16 * (1 + std::abs(v)) : 0;
    const double tol = before * after_scale + approx + std::abs(v) * unit_roundoff<Res>() * 2 + 1e-300;
    if (std::abs(g - v) <= tol) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "got " << g << " want " << v << " tol " << tol;
  }
}

/// Runs `p` with the epilogue `e`: into a fresh result (conv_transpose; the
/// output starts at zero) and into an output holding random values
/// (conv_transpose_into; embedded in a larger buffer whose other elements
/// must survive when `strided`).
template <std::size_t Rank, class T, class Out = void, class Acc = void>
void check_epilogue(const ref::Problem& p, const EpilogueCase& e, convt::ConvTransposeOptions<Rank - 2> base = {},
                    std::uint32_t seed = 1, bool strided = false) {
  using Res = std::conditional_t<std::is_void_v<Out>, T, Out>;
  using AccT = std::conditional_t<std::is_void_v<Acc>, Res, Acc>;
  using V = typename RefValue<std::conditional_t<std::is_integral_v<Res>, T, Res>>::type;
  SCOPED_TRACE(describe(p) + " bias " + std::to_string(e.bias) + " accumulate " + std::to_string(e.accumulate) +
               " activation " + e.activation.name());
  const auto lhs_shape = to_array<Rank>(p.lhs_shape);
  const auto rhs_shape = to_array<Rank>(p.rhs_shape);
  const std::vector<T> rhs = random_values<T>(static_cast<std::size_t>(ref::product(p.rhs_shape)), seed * 7 + 1);
  const std::vector<T> lhs = random_values<T>(static_cast<std::size_t>(ref::product(p.lhs_shape)), seed * 7 + 2);
  std::vector<V> lhs_ref(lhs.size()), rhs_ref(rhs.size());
  for (std::size_t i = 0; i < lhs.size(); ++i) lhs_ref[i] = to_ref<V>(lhs[i]);
  for (std::size_t i = 0; i < rhs.size(); ++i) rhs_ref[i] = to_ref<V>(rhs[i]);
  const auto want = ref::conv_transpose<V>(p, lhs_ref, rhs_ref);
  const ref::Resolved resolved = ref::resolve(p);
  const std::int64_t terms =
      std::max<std::int64_t>(1, ref::product(p.rhs_shape) / std::max<std::int64_t>(1, resolved.O));
  const std::vector<Res> bias = random_values<Res>(static_cast<std::size_t>(resolved.O), seed * 7 + 3);
  const std::size_t c_axis = p.out_spec.find('C');
  const ref::Shape ost = ref::row_major(want.shape);

  auto opt = options_for<Rank>(p, base);
  if (e.bias) opt.bias = convt::BiasView(bias.data(), resolved.O);
  opt.accumulate = e.accumulate;
  opt.activation = e.activation;
  const convt::TensorView<const T, Rank> x(lhs.data(), lhs_shape);
  const convt::TensorView<const T, Rank> w(rhs.data(), rhs_shape);
  const auto strides = to_array<Rank - 2>(p.strides);
  const auto pad = padding_for(p);
  auto feature_of = [&](std::size_t i) { return (static_cast<std::int64_t>(i) / ost[c_axis]) % want.shape[c_axis]; };

  // Fresh result: the output starts at zero.
  const auto fresh = convt::conv_transpose<Out>(x, w, strides, pad, opt);
  ASSERT_EQ(fresh.shape(), to_array<Rank>(want.shape));
  for (std::size_t i = 0; i < want.value.size(); ++i) {
    const Res* b = e.bias ? &bias[static_cast<std::size_t>(feature_of(i))] : nullptr;
    ASSERT_TRUE((epilogue_close<Res, AccT>(fresh.data()[i], want.value[i], want.abs_sum[i], terms, b, Res(0), e)))
        << "fresh result, flat index " << i;
  }

  // Into an output holding values (embedded in a larger buffer).
  ref::Shape obuf_shape = want.shape;
  if (strided) {
    for (auto& s : obuf_shape) s += 2;
  }
  const Res sentinel = static_cast<Res>(static_cast<std::int8_t>(99));
  std::vector<Res> obuf(static_cast<std::size_t>(ref::product(obuf_shape)), sentinel);
  const ref::Shape obs = ref::row_major(obuf_shape);
  std::int64_t base_off = 0;
  if (strided) {
    for (auto s : obs) base_off += s;
  }
  const std::vector<Res> prev = random_values<Res>(want.value.size(), seed * 7 + 4);
  std::vector<std::size_t> at(want.value.size());
  for (std::size_t i = 0; i < want.value.size(); ++i) {
    std::int64_t rem = static_cast<std::int64_t>(i), off = base_off;
    for (std::size_t d = 0; d < Rank; ++d) {
      off += (rem / ost[d]) * obs[d];
      rem %= ost[d];
    }
    at[i] = static_cast<std::size_t>(off);
    obuf[at[i]] = prev[i];
  }
  const convt::TensorView<Res, Rank> out(obuf.data() + base_off, to_array<Rank>(want.shape), to_array<Rank>(obs));
  convt::conv_transpose_into(x, w, out, strides, pad, opt);
  std::vector<bool> inside(obuf.size(), false);
  for (std::size_t i = 0; i < want.value.size(); ++i) {
    inside[at[i]] = true;
    const Res* b = e.bias ? &bias[static_cast<std::size_t>(feature_of(i))] : nullptr;
    ASSERT_TRUE((epilogue_close<Res, AccT>(obuf[at[i]], want.value[i], want.abs_sum[i], terms, b, prev[i], e)))
        << "into an output, flat index " << i;
  }
  for (std::size_t i = 0; i < obuf.size(); ++i) {
    if (!inside[i]) {
      ASSERT_TRUE(obuf[i] == sentinel) << "wrote outside the output view at buffer index " << i;
    }
  }
}

}  // namespace testutil
