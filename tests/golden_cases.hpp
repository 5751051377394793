// tests/golden_cases.hpp — reads the framework golden vectors of
// tests/frameworks (format: tests/frameworks/golden.py): one line per case of
// key=value fields, and every array of every case in one int32 .npy file.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <complex>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <convt/convt.hpp>
#include <convt/npy.hpp>

namespace golden {

using convt::index_t;

inline std::string frameworks_dir() { return CONVT_TESTS_DIR "/frameworks"; }

/// One case: its fields, and the framework's error text when it rejects it.
struct Case {
  std::map<std::string, std::string> fields;
  std::string error;  // empty: the framework computed a result

  const std::string& at(const std::string& key) const {
    const auto it = fields.find(key);
    if (it == fields.end()) throw std::runtime_error("case " + name() + " has no field " + key);
    return it->second;
  }
  std::string get(const std::string& key, const std::string& fallback) const {
    const auto it = fields.find(key);
    return it == fields.end() ? fallback : it->second;
  }
  bool has(const std::string& key) const { return fields.count(key) != 0; }
  std::string name() const { return fields.count("case") ? fields.at("case") : "?"; }
};

/// A framework's cases and their values.
struct Suite {
  std::vector<Case> cases;
  std::vector<std::int32_t> values;
  std::vector<std::string> header;  // the comment lines (versions)
};

inline Suite load(const std::string& name) {
  Suite s;
  std::ifstream f(frameworks_dir() + "/" + name + ".cases");
  if (!f) throw std::runtime_error("cannot open " + frameworks_dir() + "/" + name + ".cases");
  std::string line;
  while (std::getline(f, line)) {
    if (line.empty()) continue;
    if (line[0] == '#') {
      s.header.push_back(line);
      continue;
    }
    Case c;
    const auto err = line.find(" error=");
    if (err != std::string::npos) {
      c.error = line.substr(err + 7);
      line = line.substr(0, err);
    }
    std::istringstream is(line);
    std::string token;
    while (is >> token) {
      const auto eq = token.find('=');
      c.fields[token.substr(0, eq)] = token.substr(eq + 1);
    }
    s.cases.push_back(std::move(c));
  }
  const auto a = convt::npy::load<std::int32_t, 1>(frameworks_dir() + "/" + name + ".npy");
  s.values.assign(a.data(), a.data() + a.size());
  return s;
}

inline std::vector<index_t> ints(const std::string& text, char sep = ',') {
  std::vector<index_t> v;
  std::stringstream ss(text);
  std::string part;
  while (std::getline(ss, part, sep)) v.push_back(std::stoll(part));
  return v;
}

template <std::size_t N>
std::array<index_t, N> fixed(const std::vector<index_t>& v) {
  if (v.size() != N) throw std::runtime_error("expected " + std::to_string(N) + " values");
  std::array<index_t, N> a{};
  for (std::size_t i = 0; i < N; ++i) a[i] = v[i];
  return a;
}

/// "OFFSET:2x3x5" → offset and shape.
inline std::pair<std::size_t, std::vector<index_t>> slice(const std::string& field) {
  const auto colon = field.find(':');
  return {static_cast<std::size_t>(std::stoll(field.substr(0, colon))), ints(field.substr(colon + 1), 'x')};
}

template <class T>
inline constexpr bool is_complex = false;
template <class T>
inline constexpr bool is_complex<std::complex<T>> = true;

/// The array named by `field` as a Tensor<T, Rank> (complex: value pairs).
template <class T, std::size_t Rank>
convt::Tensor<T, Rank> tensor(const Suite& s, const std::string& field) {
  const auto [offset, shape] = slice(field);
  convt::Tensor<T, Rank> t(fixed<Rank>(shape));
  for (index_t i = 0; i < t.size(); ++i) {
    if constexpr (is_complex<T>) {
      using R = typename T::value_type;
      t.data()[i] = T(static_cast<R>(s.values[offset + 2 * static_cast<std::size_t>(i)]),
                      static_cast<R>(s.values[offset + 2 * static_cast<std::size_t>(i) + 1]));
    } else if constexpr (std::is_same_v<T, Eigen::half> || std::is_same_v<T, Eigen::bfloat16>) {
      t.data()[i] = T(static_cast<float>(s.values[offset + static_cast<std::size_t>(i)]));
    } else {
      t.data()[i] = static_cast<T>(s.values[offset + static_cast<std::size_t>(i)]);
    }
  }
  return t;
}

/// Exact comparison of a convt result with the framework's (as complex
/// doubles: every value is an integer).
template <class T, std::size_t Rank>
void expect_equal(const convt::Tensor<T, Rank>& got, const Suite& s, const std::string& field,
                  const std::string& what) {
  const auto [offset, shape] = slice(field);
  ASSERT_EQ(std::vector<index_t>(got.shape().begin(), got.shape().end()), shape) << what << ": shape";
  for (index_t i = 0; i < got.size(); ++i) {
    std::complex<double> g, w;
    const std::size_t k = static_cast<std::size_t>(i);
    if constexpr (is_complex<T>) {
      g = std::complex<double>(got.data()[i]);
      w = {static_cast<double>(s.values[offset + 2 * k]), static_cast<double>(s.values[offset + 2 * k + 1])};
    } else if constexpr (std::is_same_v<T, Eigen::half> || std::is_same_v<T, Eigen::bfloat16>) {
      g = static_cast<double>(static_cast<float>(got.data()[i]));
      w = static_cast<double>(s.values[offset + k]);
    } else {
      g = static_cast<double>(got.data()[i]);
      w = static_cast<double>(s.values[offset + k]);
    }
    ASSERT_EQ(g, w) << what << ": element " << i << " of " << got.size();
  }
}

/// "SAME", "VALID" or "lo:hi,lo:hi".
inline convt::Padding padding(const std::string& text) {
  if (text == "SAME") return convt::Padding::same();
  if (text == "VALID") return convt::Padding::valid();
  std::vector<std::pair<index_t, index_t>> pads;
  std::stringstream ss(text);
  std::string pair;
  while (std::getline(ss, pair, ',')) {
    const auto colon = pair.find(':');
    pads.emplace_back(std::stoll(pair.substr(0, colon)), std::stoll(pair.substr(colon + 1)));
  }
  return convt::Padding::explicit_pads(std::move(pads));
}

inline convt::Precision precision_of(const std::string& name) {
  if (name == "default") return convt::Precision::Default;
  if (name == "high") return convt::Precision::High;
  if (name == "highest") return convt::Precision::Highest;
  throw std::runtime_error("unknown precision " + name);
}

inline convt::PrecisionConfig precision(const std::string& text) {
  const auto comma = text.find(',');
  if (comma == std::string::npos) return precision_of(text);
  return {precision_of(text.substr(0, comma)), precision_of(text.substr(comma + 1))};
}

/// The comment lines of a suite and its case counts, for the test log.
inline void report(const Suite& s, const std::string& name, int computed, int rejected) {
  std::printf("%s: %d computed cases compared exactly, %d rejections (%s)\n", name.c_str(), computed, rejected,
              s.header.empty() ? "" : s.header.front().c_str());
}

}  // namespace golden
