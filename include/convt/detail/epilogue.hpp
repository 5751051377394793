// convt/detail/epilogue.hpp — the per-element arithmetic after the sum
// (convt/epilogue.hpp says what and in which order), resolved once per plan.
//
// Every element of a result goes through the same instructions whichever
// write path (register transpose, ragged tails, strided output) it takes,
// so results stay bitwise identical for any thread count and workspace cap:
// bias, accumulation and the piecewise-linear activations are one inline
// scalar function; the transcendental ones run over whole vector packets,
// ragged ends padded into a packet, never through a different scalar
// formula.
#pragma once

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstddef>
#include <limits>
#include <type_traits>
#include <vector>

#include <Eigen/Core>

#include "convt/epilogue.hpp"
#include "convt/error.hpp"
#include "convt/types.hpp"

// Eigen's packet types carry vector attributes that GCC reports as ignored
// when they are template arguments (Eigen silences the same in its headers).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
#endif

namespace convt::detail {

/// What the user asked for after the sum, in the caller's terms.
struct EpilogueSpec {
  BiasView bias;
  double accumulate = 0;  // beta
  Activation activation;
};

/// The resolved epilogue of a plan with accumulator Acc and result Out. It
/// computes in E: the accumulator for floating and complex results, the
/// result type for integer ones (modular, exact).
template <class Acc, class Out>
class OutputEpilogue {
 public:
  using E = std::conditional_t<is_integer_v<Out>, Out, Acc>;
  using Kind = Activation::Kind;

  OutputEpilogue() = default;

  /// Validates `spec` for a result of `features` output features.
  OutputEpilogue(const EpilogueSpec& spec, index_t features) : kind_(spec.activation.kind()) {
    const char* result = element_traits<Out>::name;
    if (!spec.bias.empty()) {
      if (!spec.bias.holds<Out>()) {
        fail("bias: element type ", spec.bias.type_name(), " differs from the result type ", result,
             "; the bias must have the result type");
      }
      if (spec.bias.size() != features) {
        fail("bias: ", spec.bias.size(), " elements but the output has ", features,
             " features; the bias has one element per output feature");
      }
      bias_.resize(static_cast<std::size_t>(features));
      for (index_t f = 0; f < features; ++f) bias_[static_cast<std::size_t>(f)] = to_e(spec.bias.at<Out>(f));
    }
    const Activation& a = spec.activation;
    if constexpr (is_integer_v<Out>) {
      if (kind_ != Kind::None && kind_ != Kind::ReLU && kind_ != Kind::Clamp) {
        fail("activation ", a.name(), ": the result type ", result,
             " is an integer type, which allows none, relu and clamp");
      }
      if (spec.accumulate != std::floor(spec.accumulate) || !std::isfinite(spec.accumulate)) {
        fail("accumulate = ", spec.accumulate, ": the result type ", result,
             " is an integer type; beta must be an integer");
      }
      beta_ = wrap(spec.accumulate);
      // Bounds outside the result's range clamp nothing; fractional ones
      // round inwards (the result is an integer).
      lo_ = clip_to_result(std::ceil(a.lo()));
      hi_ = clip_to_result(std::floor(a.hi()));
    } else if constexpr (is_complex_v<Out>) {
      if (kind_ != Kind::None) {
        fail("activation ", a.name(), ": the result type ", result, " is complex, which allows no activation");
      }
      beta_ = E(static_cast<typename E::value_type>(spec.accumulate));
    } else {
      beta_ = static_cast<E>(spec.accumulate);
      slope_ = static_cast<E>(a.negative_slope());
      lo_ = static_cast<E>(a.lo());
      hi_ = static_cast<E>(a.hi());
    }
    if (kind_ == Kind::Clamp && !(a.lo() <= a.hi())) {
      fail("activation ", a.name(), ": clamp needs lo <= hi (got lo = ", a.lo(), ", hi = ", a.hi(), ")");
    }
    accumulate_ = spec.accumulate != 0;
  }

  /// Nothing to do beyond converting the sum.
  bool identity() const noexcept { return bias_.empty() && !accumulate_ && kind_ == Kind::None; }
  /// Reads the output it writes (beta != 0).
  bool reads_output() const noexcept { return accumulate_; }
  /// The activation is applied by activate() over packets before the
  /// write, not by finish().
  bool packet_activation() const noexcept { return is_transcendental(kind_); }
  /// An output no kernel tap reaches, in a zeroed output, stays zero.
  bool zero_stays_zero() const { return bias_.empty() && complete(E(0), nullptr) == Out(0); }
  const E* bias() const noexcept { return bias_.empty() ? nullptr : bias_.data(); }

  /// v + bias[f].
  E add_bias(E v, index_t f) const noexcept {
    if (bias_.empty()) return v;
    if constexpr (is_integer_v<Out>) {
      return wrap_add(v, bias_[static_cast<std::size_t>(f)]);
    } else {
      return v + bias_[static_cast<std::size_t>(f)];
    }
  }

  /// v + beta * prev; `prev` null means the output holds zero.
  E add_scaled(E v, const Out* prev) const noexcept {
    if (!accumulate_ || prev == nullptr) return v;
    if constexpr (is_integer_v<Out>) {
      return wrap_add(v, wrap_mul(beta_, *prev));
    } else if constexpr (is_complex_v<Out>) {
      const E scaled = convert<E>(*prev) * beta_.real();
      return v + scaled;
    } else {
      const E scaled = beta_ * convert<E>(*prev);
      return v + scaled;
    }
  }

  /// The element's final value when the activation is piecewise linear (not
  /// packet_activation()): v (= sum + bias) + beta * prev, activated,
  /// converted.
  Out finish(E v, const Out* prev) const {
    v = add_scaled(v, prev);
    if constexpr (is_integer_v<Out>) {
      if constexpr (std::is_signed_v<Out>) {
        if (kind_ == Kind::ReLU) v = v < Out(0) ? Out(0) : v;
      }
      if (kind_ == Kind::Clamp) v = std::min(std::max(v, lo_), hi_);
      return v;
    } else {
      if constexpr (!is_complex_v<Out>) {
        switch (kind_) {
          case Kind::ReLU: v = v < E(0) ? E(0) : v; break;  // NaN stays NaN
          case Kind::LeakyReLU: v = v < E(0) ? v * slope_ : v; break;
          case Kind::Clamp: v = v < lo_ ? lo_ : (v > hi_ ? hi_ : v); break;
          default: break;
        }
      }
      return convert<Out>(v);
    }
  }

  /// True when a bias is added.
  bool has_bias() const noexcept { return !bias_.empty(); }

  /// finish() on a whole packet of values (E floating, vector packets):
  /// v + bias, + beta * prev (when reads_output()), the piecewise
  /// activation. Every value a write puts through the epilogue takes this
  /// path, ragged ends padded into a packet, so the instructions (fused
  /// multiply-adds or not) never depend on where a tile ends.
  template <class Packet>
  Packet finish_packet(Packet v, const Packet& bias, const Packet& prev) const {
    using namespace Eigen::internal;
    if (!bias_.empty()) v = padd(v, bias);
    if (accumulate_) v = padd(v, pmul(pset1<Packet>(beta_), prev));
    return activate_piecewise(v);
  }
  /// finish_packet() for an output that is not read (it holds zero), with
  /// what it needs in registers: made once per block of packets, so the
  /// write's inner loop has no loads of the epilogue and only loop-invariant
  /// branches. No beta term, as finish() without a previous value, and a
  /// missing bias adds -0 (x + -0 is x, bit for bit, for any sum: -0 and
  /// NaN included; arithmetic never yields a signalling NaN) —
  /// so its results are finish()'s bit for bit. ReLU is `v < 0 ? 0 : v` and
  /// clamp `v < lo ? lo : (hi < v ? hi : v)`, as in finish(); NaN stays NaN.
  template <class Packet>
  struct PiecewiseStep {
    Packet bias, lo, hi, slope;
    bool leaky, lower, upper;
    Packet operator()(Packet v) const {
      using namespace Eigen::internal;
      v = padd(v, bias);
      if (leaky) v = pselect(pcmp_lt(v, pzero(v)), pmul(v, slope), v);
      if (lower) v = pselect(pcmp_lt(v, lo), lo, v);
      if (upper) v = pselect(pcmp_lt(hi, v), hi, v);
      return v;
    }
  };
  /// The step for the packet of features whose biases start at `bias` (null:
  /// no bias). Not for packet_activation().
  template <class Packet>
  PiecewiseStep<Packet> piecewise_step(const E* bias) const {
    using Eigen::internal::pset1;
    const bool clamp = kind_ == Kind::Clamp;
    return {bias ? Eigen::internal::ploadu<Packet>(bias) : pset1<Packet>(-E(0)),
            pset1<Packet>(clamp ? lo_ : E(0)),
            pset1<Packet>(hi_),
            pset1<Packet>(slope_),
            kind_ == Kind::LeakyReLU,
            clamp || kind_ == Kind::ReLU,
            clamp};
  }

  /// The final value of one element for any activation: v (= sum + bias)
  /// + beta * prev, activated, converted. The transcendental activations
  /// go through activate() on a one-value packet, as whole tiles do.
  Out complete(E v, const Out* prev) const {
    if (!packet_activation()) return finish(v, prev);
    v = add_scaled(v, prev);
    if constexpr (std::is_floating_point_v<E>) activate(&v, 1);
    return convert<Out>(v);
  }

  /// The accumulator value → E (integer results wrap to the result type).
  E to_e(const Acc& sum) const noexcept {
    if constexpr (is_integer_v<Out>) {
      return convert<Out>(sum);
    } else {
      return sum;
    }
  }
  template <class T, std::enable_if_t<!std::is_same_v<T, Acc>, int> = 0>
  E to_e(const T& v) const noexcept {
    return convert<E>(v);
  }

  /// Applies a transcendental activation to n values in place: whole
  /// packets, the ragged end padded into one, so every value takes the same
  /// instructions.
  void activate(E* v, index_t n) const {
    if constexpr (std::is_same_v<E, float> && Eigen::internal::packet_traits<float>::Vectorizable &&
                  Eigen::internal::packet_traits<float>::HasTanh && Eigen::internal::packet_traits<float>::HasExp) {
      if (kind_ != Kind::GeluErf) {
        using Packet = typename Eigen::internal::packet_traits<float>::type;
        constexpr index_t P = Eigen::internal::unpacket_traits<Packet>::size;
        index_t i = 0;
        for (; i + P <= n; i += P)
          Eigen::internal::pstoreu(v + i, activate_packet(Eigen::internal::ploadu<Packet>(v + i)));
        if (i < n) {
          alignas(64) float pad[P] = {};
          std::copy(v + i, v + n, pad);
          Eigen::internal::pstore(pad, activate_packet(Eigen::internal::pload<Packet>(pad)));
          std::copy(pad, pad + (n - i), v + i);
        }
        return;
      }
    }
    if constexpr (std::is_floating_point_v<E>) {
      for (index_t i = 0; i < n; ++i) v[i] = activate_scalar(v[i]);
    }
  }

 private:
  template <class Packet>
  Packet activate_piecewise(const Packet& v) const {
    using namespace Eigen::internal;
    const Packet zero = pzero(v);
    switch (kind_) {
      case Kind::ReLU: return pselect(pcmp_lt(v, zero), zero, v);  // NaN stays NaN
      case Kind::LeakyReLU: return pselect(pcmp_lt(v, zero), pmul(v, pset1<Packet>(slope_)), v);
      case Kind::Clamp: {
        const Packet lo = pset1<Packet>(lo_), hi = pset1<Packet>(hi_);
        return pselect(pcmp_lt(v, lo), lo, pselect(pcmp_lt(hi, v), hi, v));
      }
      default: return v;
    }
  }

  static bool is_transcendental(Kind k) noexcept {
    return k == Kind::Tanh || k == Kind::Sigmoid || k == Kind::GeluErf || k == Kind::GeluTanh || k == Kind::SiLU;
  }

  template <class Packet>
  Packet activate_packet(const Packet& x) const {
    using namespace Eigen::internal;
    const Packet one = pset1<Packet>(1.0f);
    const Packet half = pset1<Packet>(0.5f);
    auto sigmoid = [&](const Packet& z) { return pdiv(one, padd(one, pexp(pnegate(z)))); };
    switch (kind_) {
      case Kind::Tanh: return ptanh(x);
      case Kind::Sigmoid: return sigmoid(x);
      case Kind::SiLU: return pmul(x, sigmoid(x));
      case Kind::GeluTanh: {
        const Packet inner =
            pmul(pset1<Packet>(0.7978845608028654f), padd(x, pmul(pset1<Packet>(0.044715f), pmul(x, pmul(x, x)))));
        return pmul(pmul(half, x), padd(one, ptanh(inner)));
      }
      default: return x;
    }
  }

  E activate_scalar(E x) const {
    using std::exp;
    switch (kind_) {
      case Kind::Tanh: return std::tanh(x);
      case Kind::Sigmoid: return E(1) / (E(1) + exp(-x));
      case Kind::SiLU: return x / (E(1) + exp(-x));
      case Kind::GeluErf: return E(0.5) * x * (E(1) + std::erf(x * E(0.7071067811865476)));
      case Kind::GeluTanh: {
        const E inner = E(0.7978845608028654) * (x + E(0.044715) * x * x * x);
        return E(0.5) * x * (E(1) + std::tanh(inner));
      }
      default: return x;
    }
  }

  // Integer results: arithmetic modulo 2^bits of the result type. `v` is a
  // finite whole number.
  static Out wrap(double v) noexcept {
    constexpr double two64 = 18446744073709551616.0;
    double r = std::fmod(v, two64);  // |r| < 2^64, exact
    if (r >= two64 / 2) r -= two64;
    if (r < -two64 / 2) r += two64;
    return convert<Out>(static_cast<std::int64_t>(r));
  }
  // A (whole or infinite) bound, limited to the result's range.
  static Out clip_to_result(double v) noexcept {
    if (!(v > static_cast<double>(std::numeric_limits<Out>::lowest()))) return std::numeric_limits<Out>::lowest();
    if (!(v < static_cast<double>(std::numeric_limits<Out>::max()))) return std::numeric_limits<Out>::max();
    return static_cast<Out>(v);
  }
  template <class T = Out>
  static T wrap_add(T a, T b) noexcept {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(static_cast<U>(a) + static_cast<U>(b)));
  }
  template <class T = Out>
  static T wrap_mul(T a, T b) noexcept {
    using U = std::make_unsigned_t<T>;
    using W = std::conditional_t<(sizeof(U) < sizeof(unsigned)), unsigned, U>;  // no promotion to signed int
    return static_cast<T>(static_cast<U>(static_cast<W>(static_cast<U>(a)) * static_cast<W>(static_cast<U>(b))));
  }

  Kind kind_ = Kind::None;
  std::vector<E> bias_;
  E beta_ = E(0);
  E slope_ = E(0);
  E lo_ = E(0);
  E hi_ = E(0);
  bool accumulate_ = false;
};

}  // namespace convt::detail

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
