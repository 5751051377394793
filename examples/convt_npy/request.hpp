// request.hpp — convt-npy's command line, parsed into the keyword arguments
// of jax.lax.conv_transpose. The spellings follow JAX: padding 'SAME' /
// 'VALID' / explicit (lo, hi) pairs, precision names and aliases, layout
// strings.
#pragma once

#include <convt/convt.hpp>

#include <algorithm>
#include <cctype>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <convt/npy.hpp>

namespace npy = convt::npy;

namespace convt_npy {

/// A command-line value that does not parse; the message names the option.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Request {
  std::vector<convt::index_t> strides;
  std::string padding = "SAME";  // SAME, VALID or lo:hi,lo:hi,...
  std::optional<std::vector<convt::index_t>> rhs_dilation;
  std::optional<convt::DimensionNumbers> dimension_numbers;
  bool transpose_kernel = false;
  bool use_consistent_padding = false;
  convt::PrecisionConfig precision = convt::Precision::Default;
  std::optional<npy::DType> preferred_element_type;
  int threads = 0;
  convt::index_t feature_group_count = 1;  // convt's extension (not a JAX keyword)
  // The layer's epilogue (convt's extension): a bias of the result dtype, an
  // activation, and accumulation into what the output file holds (beta = 1).
  std::optional<npy::Array> bias;
  convt::Activation activation;
  std::optional<npy::Array> accumulate_into;
};

inline std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  parts.push_back(cur);
  return parts;
}

inline convt::index_t parse_int(const std::string& text, const std::string& option) {
  std::size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size()) {
    throw UsageError(option + ": '" + text + "' is not an integer");
  }
  return static_cast<convt::index_t>(v);
}

/// "2,2" → {2, 2}.
inline std::vector<convt::index_t> parse_int_list(const std::string& text, const std::string& option) {
  std::vector<convt::index_t> v;
  for (const auto& part : split(text, ',')) v.push_back(parse_int(part, option));
  return v;
}

inline std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

/// SAME | VALID (any case, as JAX) | lo:hi,lo:hi,... (negative values crop).
inline convt::Padding parse_padding(const std::string& text) {
  const std::string u = upper(text);
  if (u == "SAME") return convt::Padding::same();
  if (u == "VALID") return convt::Padding::valid();
  std::vector<std::pair<convt::index_t, convt::index_t>> pads;
  try {
    for (const auto& pair : split(text, ',')) {
      const auto lo_hi = split(pair, ':');
      if (lo_hi.size() != 2) throw UsageError("not a pair");
      pads.emplace_back(parse_int(lo_hi[0], "--padding"), parse_int(lo_hi[1], "--padding"));
    }
  } catch (const UsageError&) {
    throw UsageError("--padding: '" + text + "' is not SAME, VALID or lo:hi pairs separated by commas (e.g. 1:2,0:0)");
  }
  return convt::Padding::explicit_pads(std::move(pads));
}

/// JAX's precision names and their aliases (lax.Precision).
inline convt::Precision parse_one_precision(const std::string& text) {
  const std::string u = upper(text);
  if (u == "DEFAULT" || u == "FASTEST" || u == "BFLOAT16") return convt::Precision::Default;
  if (u == "HIGH" || u == "BFLOAT16_3X" || u == "TENSORFLOAT32") return convt::Precision::High;
  if (u == "HIGHEST" || u == "FLOAT32") return convt::Precision::Highest;
  throw UsageError("--precision: '" + text +
                   "' is not default, high or highest (or a JAX alias: fastest, bfloat16, "
                   "bfloat16_3x, tensorfloat32, float32)");
}

/// One precision, or "lhs,rhs" as JAX's (lhs, rhs) pair.
inline convt::PrecisionConfig parse_precision(const std::string& text) {
  const auto parts = split(text, ',');
  if (parts.size() == 1) return parse_one_precision(parts[0]);
  if (parts.size() == 2) return {parse_one_precision(parts[0]), parse_one_precision(parts[1])};
  throw UsageError("--precision: '" + text + "' must be one precision or an lhs,rhs pair");
}

/// "NHWC,HWIO,NHWC" → lhs, rhs and out layout strings.
inline convt::DimensionNumbers parse_dimension_numbers(const std::string& text) {
  const auto parts = split(text, ',');
  if (parts.size() != 3) {
    throw UsageError("--dimension-numbers: '" + text +
                     "' must be three layout strings lhs,rhs,out (e.g. NCHW,OIHW,NCHW)");
  }
  return {parts[0], parts[1], parts[2]};
}

}  // namespace convt_npy
