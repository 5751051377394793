// convt/dimension_numbers.hpp — JAX-style dimension-number strings and their
// resolution into axis permutations of the canonical (N, C, spatial...) order.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>

#include "convt/error.hpp"

namespace convt {

/// Layout strings as in `jax.lax.conv_general_dilated`, e.g.
/// {"NCHW", "OIHW", "NCHW"}. lhs/out name the batch 'N' and feature 'C' axes,
/// rhs the output-feature 'O' and input-feature 'I' axes; every other letter is
/// a spatial axis and must appear in all three strings.
struct DimensionNumbers {
  std::string lhs;  ///< input layout, e.g. "NHWC"
  std::string rhs;  ///< kernel layout, e.g. "HWIO"
  std::string out;  ///< output layout, e.g. "NHWC"
};

/// JAX's defaults for `conv_transpose` (ranks 2–5); no default exists for
/// other ranks.
inline std::optional<DimensionNumbers> default_dimension_numbers(std::size_t rank) {
  switch (rank) {
    case 2: return DimensionNumbers{"NC", "IO", "NC"};
    case 3: return DimensionNumbers{"NHC", "HIO", "NHC"};
    case 4: return DimensionNumbers{"NHWC", "HWIO", "NHWC"};
    case 5: return DimensionNumbers{"NHWDC", "HWDIO", "NHWDC"};
    default: return std::nullopt;
  }
}

namespace detail {

/// Axis positions of each operand in canonical order: [0] = N (lhs/out) or
/// O (rhs), [1] = C (lhs/out) or I (rhs), [2 + d] = spatial axis d, spatial
/// axes numbered in the order the rhs string names them (JAX's rule: strides,
/// padding and dilation follow the rhs order).
template <std::size_t Rank>
struct Layout {
  std::array<std::size_t, Rank> lhs{};
  std::array<std::size_t, Rank> rhs{};
  std::array<std::size_t, Rank> out{};
  std::array<char, Rank> spatial_letters{};  // first Rank - 2 entries used
  DimensionNumbers names;
};

template <std::size_t Rank>
std::array<std::size_t, Rank> canonical_axes(const std::string& spec, const char* which, char first, char second,
                                             const std::string& rhs_spec) {
  if (spec.size() != Rank) {
    fail("dimension_numbers.", which, " = \"", spec, "\" has ", spec.size(), " letters but the operands have rank ",
         Rank, "; each string names every axis exactly once");
  }
  for (std::size_t i = 0; i < spec.size(); ++i) {
    for (std::size_t j = i + 1; j < spec.size(); ++j) {
      if (spec[i] == spec[j]) {
        fail("dimension_numbers.", which, " = \"", spec, "\" names axis '", spec[i],
             "' twice; each letter must appear exactly once");
      }
    }
  }
  std::array<std::size_t, Rank> axes{};
  const auto first_pos = spec.find(first);
  const auto second_pos = spec.find(second);
  if (first_pos == std::string::npos || second_pos == std::string::npos) {
    fail("dimension_numbers.", which, " = \"", spec, "\" must contain '", first, "' and '", second, "' exactly once (",
         first == 'N' ? "batch and feature" : "output- and input-feature", " axes)");
  }
  axes[0] = first_pos;
  axes[1] = second_pos;
  std::size_t d = 2;
  for (char letter : rhs_spec) {
    if (letter == 'O' || letter == 'I') continue;
    const auto pos = spec.find(letter);
    if (pos == std::string::npos) {
      fail("dimension_numbers.", which, " = \"", spec, "\" lacks spatial axis '", letter, "' named by rhs \"", rhs_spec,
           "\"; all three strings must name the same spatial axes");
    }
    if (d < Rank) axes[d] = pos;
    ++d;
  }
  if (d != Rank) {
    fail("dimension_numbers.", which, " = \"", spec, "\" and rhs \"", rhs_spec,
         "\" disagree on the spatial axes; all three strings must name the same spatial axes");
  }
  return axes;
}

/// An operand view's element strides in canonical [N, C, spatial...] (or
/// [O, I, spatial...]) order; `axes` is that operand's Layout entry.
template <std::size_t Rank>
std::array<index_t, Rank> canonical_strides(const std::array<index_t, Rank>& strides,
                                            const std::array<std::size_t, Rank>& axes) {
  std::array<index_t, Rank> c{};
  for (std::size_t i = 0; i < Rank; ++i) c[i] = strides[axes[i]];
  return c;
}

/// Validates `dn` (or the rank's default when absent) and resolves it.
template <std::size_t Rank>
Layout<Rank> resolve_layout(const std::optional<DimensionNumbers>& dn) {
  static_assert(Rank >= 2, "conv_transpose needs rank >= 2 (batch and feature axes)");
  std::optional<DimensionNumbers> names = dn ? dn : default_dimension_numbers(Rank);
  if (!names) {
    fail("dimension_numbers: none given and JAX defines defaults only for ranks 2 to 5, but the operands have rank ",
         Rank, "; pass options.dimension_numbers");
  }
  const std::string& rhs = names->rhs;
  // Validate rhs first: its order defines the spatial numbering.
  if (rhs.size() != Rank) {
    fail("dimension_numbers.rhs = \"", rhs, "\" has ", rhs.size(), " letters but the operands have rank ", Rank,
         "; each string names every axis exactly once");
  }
  Layout<Rank> layout;
  layout.rhs = canonical_axes<Rank>(rhs, "rhs", 'O', 'I', rhs);
  for (char letter : {'N', 'C'}) {
    if (rhs.find(letter) != std::string::npos) {
      fail("dimension_numbers.rhs = \"", rhs, "\" contains '", letter,
           "', which names a batch/feature axis of lhs/out; the kernel's axes are 'O', 'I' and the spatial letters");
    }
  }
  layout.lhs = canonical_axes<Rank>(names->lhs, "lhs", 'N', 'C', rhs);
  layout.out = canonical_axes<Rank>(names->out, "out", 'N', 'C', rhs);
  for (std::size_t d = 2; d < Rank; ++d) layout.spatial_letters[d - 2] = rhs[layout.rhs[d]];
  layout.names = *names;
  return layout;
}

}  // namespace detail
}  // namespace convt
