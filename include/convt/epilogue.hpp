// convt/epilogue.hpp — what happens to each output element after the sum,
// fused into the output write: a per-output-feature bias, an accumulation
// into the existing output (out = conv + beta * out) and an activation. Set
// through ConvTransposeOptions (bias, accumulate, activation).
//
// Order and rounding, per element: the sum in the accumulator type, + bias,
// + beta * out, then the activation, then one conversion to the result
// type. Integer results are exact: the sum, bias and beta * out are added
// modulo 2^bits of the result type (as a framework computing in that type
// wraps), and the activation (none, relu or clamp) applies to that value.
#pragma once

#include <cstddef>
#include <limits>
#include <sstream>
#include <string>
#include <type_traits>

#include "convt/error.hpp"
#include "convt/tensor.hpp"
#include "convt/types.hpp"

namespace convt {

/// The elementwise function applied last, named as PyTorch and Keras name
/// them.
class Activation {
 public:
  /// The functions convt fuses.
  enum class Kind {
    None,       ///< identity ("linear")
    ReLU,       ///< max(x, 0)
    LeakyReLU,  ///< x for x >= 0, negative_slope * x otherwise
    Clamp,      ///< min(max(x, lo), hi) (ReLU6 is clamp(0, 6))
    Tanh,       ///< tanh(x)
    Sigmoid,    ///< 1 / (1 + exp(-x))
    GeluErf,    ///< x * (1 + erf(x / sqrt(2))) / 2 (PyTorch's GELU, Keras's gelu(approximate=False))
    GeluTanh,   ///< x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x^3))) / 2 (approximate='tanh')
    SiLU,       ///< x * sigmoid(x) (swish)
  };

  /// No activation.
  constexpr Activation() noexcept = default;
  /// No activation.
  static constexpr Activation none() noexcept { return Activation(); }
  /// max(x, 0).
  static constexpr Activation relu() noexcept { return Activation(Kind::ReLU); }
  /// x for x >= 0, negative_slope * x otherwise (PyTorch's default slope).
  static constexpr Activation leaky_relu(double negative_slope = 0.01) noexcept {
    Activation a(Kind::LeakyReLU);
    a.slope_ = negative_slope;
    return a;
  }
  /// min(max(x, lo), hi); lo <= hi is checked when a plan is made.
  static constexpr Activation clamp(double lo, double hi) noexcept {
    Activation a(Kind::Clamp);
    a.lo_ = lo;
    a.hi_ = hi;
    return a;
  }
  /// tanh(x).
  static constexpr Activation tanh() noexcept { return Activation(Kind::Tanh); }
  /// The logistic function.
  static constexpr Activation sigmoid() noexcept { return Activation(Kind::Sigmoid); }
  /// GELU, erf form.
  static constexpr Activation gelu() noexcept { return Activation(Kind::GeluErf); }
  /// GELU, tanh approximation.
  static constexpr Activation gelu_tanh() noexcept { return Activation(Kind::GeluTanh); }
  /// x * sigmoid(x).
  static constexpr Activation silu() noexcept { return Activation(Kind::SiLU); }

  /// Parses a name as convt-npy's --activation and the Keras translator
  /// take it: none|linear, relu, relu6, leaky_relu[:slope], clamp:lo:hi,
  /// tanh, sigmoid, gelu, gelu_tanh, silu|swish. Throws Error otherwise.
  static Activation parse(const std::string& spec) {
    const auto colon = spec.find(':');
    const std::string name = spec.substr(0, colon);
    const std::string args = colon == std::string::npos ? "" : spec.substr(colon + 1);
    auto number = [&](const std::string& text) {
      std::istringstream is(text);
      double v = 0;
      if (!(is >> v) || !is.eof()) detail::fail("activation \"", spec, "\": \"", text, "\" is not a number");
      return v;
    };
    auto no_args = [&](Activation a) {
      if (colon != std::string::npos) detail::fail("activation \"", spec, "\": ", name, " takes no argument");
      return a;
    };
    if (name == "none" || name == "linear") return no_args(none());
    if (name == "relu") return no_args(relu());
    if (name == "relu6") return no_args(clamp(0, 6));
    if (name == "tanh") return no_args(tanh());
    if (name == "sigmoid") return no_args(sigmoid());
    if (name == "gelu") return no_args(gelu());
    if (name == "gelu_tanh") return no_args(gelu_tanh());
    if (name == "silu" || name == "swish") return no_args(silu());
    if (name == "leaky_relu") return args.empty() ? leaky_relu() : leaky_relu(number(args));
    if (name == "clamp") {
      const auto second = args.find(':');
      if (second == std::string::npos) detail::fail("activation \"", spec, "\": clamp needs clamp:lo:hi");
      return clamp(number(args.substr(0, second)), number(args.substr(second + 1)));
    }
    detail::fail("activation \"", spec,
                 "\" is not one of none, linear, relu, relu6, leaky_relu[:slope], clamp:lo:hi, tanh, sigmoid, gelu, "
                 "gelu_tanh, silu, swish");
  }

  /// Which function.
  constexpr Kind kind() const noexcept { return kind_; }
  /// LeakyReLU's slope for negative inputs.
  constexpr double negative_slope() const noexcept { return slope_; }
  /// Clamp's lower bound.
  constexpr double lo() const noexcept { return lo_; }
  /// Clamp's upper bound.
  constexpr double hi() const noexcept { return hi_; }

  /// The name parse() takes for this activation (for messages).
  std::string name() const {
    std::ostringstream os;
    switch (kind_) {
      case Kind::None: os << "none"; break;
      case Kind::ReLU: os << "relu"; break;
      case Kind::LeakyReLU: os << "leaky_relu:" << slope_; break;
      case Kind::Clamp: os << "clamp:" << lo_ << ":" << hi_; break;
      case Kind::Tanh: os << "tanh"; break;
      case Kind::Sigmoid: os << "sigmoid"; break;
      case Kind::GeluErf: os << "gelu"; break;
      case Kind::GeluTanh: os << "gelu_tanh"; break;
      case Kind::SiLU: os << "silu"; break;
    }
    return os.str();
  }

 private:
  constexpr explicit Activation(Kind k) noexcept : kind_(k) {}
  Kind kind_ = Kind::None;
  double slope_ = 0.01;
  double lo_ = -std::numeric_limits<double>::infinity();
  double hi_ = std::numeric_limits<double>::infinity();
};

/// A non-owning 1-D view of a bias vector of any supported element type: a
/// Tensor or TensorView of rank 1, or a pointer and a length. Its element
/// type must be the result type, which is checked (with its length) when a
/// plan is made; the plan keeps its own converted copy.
class BiasView {
 public:
  /// No bias.
  BiasView() noexcept = default;
  /// A strided 1-D view.
  template <class T, std::enable_if_t<detail::is_supported_v<T>, int> = 0>
  BiasView(const TensorView<T, 1>& v) noexcept  // NOLINT(google-explicit-constructor)
      : data_(v.data()),
        size_(v.shape()[0]),
        stride_(v.strides()[0]),
        type_(&type_tag<std::remove_cv_t<T>>),
        type_name_(detail::element_traits<std::remove_cv_t<T>>::name) {}
  /// A rank-1 Tensor.
  template <class T, std::enable_if_t<detail::is_supported_v<T>, int> = 0>
  BiasView(const Tensor<T, 1>& t) noexcept : BiasView(view(t)) {}  // NOLINT(google-explicit-constructor)
  /// `size` contiguous elements.
  template <class T, std::enable_if_t<detail::is_supported_v<T>, int> = 0>
  BiasView(const T* data, index_t size) : BiasView(TensorView<const T, 1>(data, {size})) {}

  /// True when no bias is given.
  bool empty() const noexcept { return type_ == nullptr; }
  /// Number of elements.
  index_t size() const noexcept { return size_; }
  /// numpy's name of the element type ("float32", ...), or "none".
  const char* type_name() const noexcept { return type_name_; }
  /// True when the elements are of type T.
  template <class T>
  bool holds() const noexcept {
    return type_ == &type_tag<T>;
  }
  /// Element i, when holds<T>().
  template <class T>
  const T& at(index_t i) const noexcept {
    return static_cast<const T*>(data_)[i * stride_];
  }

 private:
  // One function per element type; its address identifies the type without
  // RTTI (an inline function has one address in the whole program).
  template <class T>
  static void type_tag() noexcept {}

  const void* data_ = nullptr;
  index_t size_ = 0;
  index_t stride_ = 1;
  void (*type_)() noexcept = nullptr;
  const char* type_name_ = "none";
};

}  // namespace convt
