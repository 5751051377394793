// convt/detail/phases.hpp — the phase split (docs/design.md, stage 1).
// Output positions q = phase + step * t of one phase form a dense stride-1
// correlation over the taps that meet real input elements:
//   input position u = t + offset[j] (then p = u / divisor, when divisible).
// PhaseSplit: step = stride, only the congruent taps, divisor 1 (every gathered
// element is real). DenseDilated: one phase, step 1, every tap, divisor =
// stride (non-divisible positions are the inserted zeros).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <map>
#include <vector>

#include "convt/detail/geometry.hpp"
#include "convt/error.hpp"
#include "convt/options.hpp"

namespace convt::detail {

/// One phase of one spatial dimension.
struct AxisPhase {
  index_t first = 0;             // first output position
  index_t count = 0;             // outputs in this phase: q = first + step * t, t < count
  std::vector<index_t> taps;     // kernel tap indices (of the canonical kernel)
  std::vector<index_t> offsets;  // u = t + offsets[j]
  bool consecutive = false;      // offsets[j] == offsets[0] + j for every j
};

inline void mark_consecutive(AxisPhase& ph) {
  ph.consecutive = true;
  for (std::size_t j = 1; j < ph.offsets.size(); ++j) {
    if (ph.offsets[j] != ph.offsets[0] + static_cast<index_t>(j)) ph.consecutive = false;
  }
}

/// All phases of one spatial dimension that own a kernel tap, sorted by
/// their first output position (a kernel's, before any input shape: counts
/// 0); a plan's counted copy keeps those with outputs, a prefix of them,
/// and may append grid phases (phase_groups.hpp) after `kept`.
struct AxisPhases {
  index_t step = 1;
  index_t divisor = 1;
  index_t in = 0;
  std::vector<AxisPhase> phases;
  std::size_t kept = 0;   // phases[0, kept) are real phases, sorted by `first`
  bool tapless = false;   // some output positions are reached by no tap
  bool periodic = false;  // input positions beyond [0, in) wrap around instead of padding with zeros
};

inline index_t floor_mod(index_t a, index_t m) {
  const index_t r = a % m;
  return r < 0 ? r + m : r;
}

/// The phases of one dimension and the taps each owns, for a kernel of
/// `kernel` taps dilated by `dilation`, stride `stride` and low padding `lo`.
inline AxisPhases owned_phases(index_t kernel, index_t stride, index_t dilation, index_t lo, Lowering lowering) {
  AxisPhases ax;
  if (lowering == Lowering::DenseDilated || stride == 1) {
    ax.step = 1;
    ax.divisor = stride;
    AxisPhase ph;
    for (index_t k = 0; k < kernel; ++k) {
      ph.taps.push_back(k);
      ph.offsets.push_back(checked_sub(checked_mul(k, dilation, "tap offset"), lo, "tap offset"));
    }
    mark_consecutive(ph);
    if (kernel > 0) ax.phases.push_back(std::move(ph));
  } else {
    ax.step = stride;
    // Tap k of output phi + s*t reads dilated position phi + s*t + k*r - lo,
    // a real input element iff phi == (lo - k*r) mod s: each tap belongs to
    // one phase. Only phases that own a tap are kept (at most `kernel` of
    // them, so nothing here grows with the stride or the image).
    std::map<index_t, AxisPhase> owned;
    for (index_t k = 0; k < kernel; ++k) {
      const index_t kr = checked_mul(k, dilation, "tap offset");
      const index_t phi = floor_mod(checked_sub(lo, kr, "tap offset"), stride);
      const index_t pos = checked_sub(checked_add(phi, kr, "tap offset"), lo, "tap offset");
      AxisPhase& ph = owned[phi];
      ph.taps.push_back(k);
      ph.offsets.push_back(pos / stride);  // exact: pos is a multiple of s
    }
    for (auto& [phi, ph] : owned) {
      ph.first = phi;
      mark_consecutive(ph);
      ax.phases.push_back(std::move(ph));
    }
  }
  ax.kept = ax.phases.size();
  return ax;
}

/// The owned phases counted for an input of extent `in` and an output of
/// extent `out`: phases whose first output is past the end are dropped (a
/// suffix, as they are sorted); the positions of other phases are zeros.
inline AxisPhases count_phases(const AxisPhases& owned, index_t in, index_t out, bool periodic) {
  AxisPhases ax;
  ax.step = owned.step;
  ax.divisor = owned.divisor;
  ax.in = in;
  ax.periodic = periodic;
  const index_t num_phases = ax.step < out ? ax.step : out;
  for (const AxisPhase& ph : owned.phases) {
    if (ph.first >= num_phases) break;
    ax.phases.push_back(ph);
    ax.phases.back().count = (out - ph.first - 1) / ax.step + 1;
  }
  ax.kept = ax.phases.size();
  ax.tapless = static_cast<index_t>(ax.kept) < num_phases;
  return ax;
}

/// A phase of the whole problem: one AxisPhase per spatial dimension.
template <std::size_t S>
struct Phase {
  std::array<std::size_t, S> axis_phase{};  // index into AxisPhases::phases per dimension
  index_t rows = 0;                         // batch * prod(count)
  index_t taps = 0;                         // prod(taps per dimension)
  index_t depth = 0;                        // group_in * taps: the GEMM's K
};

template <std::size_t Rank>
struct PhaseSplit {
  static constexpr std::size_t S = Rank - 2;
  std::array<AxisPhases, S> axes;
  std::vector<Phase<S>> phases;
  index_t max_depth = 0;
  /// Some outputs belong to no phase (reached by no tap, or the kernel or
  /// input is empty): they get the epilogue of an empty sum.
  bool zero_fill = false;
};

/// The owned phases of every spatial dimension of `g`'s kernel. A kernel
/// without elements owns no taps in any dimension: its other extents may be
/// anything up to int64 (nothing is allocated for them), so they must not be
/// walked tap by tap.
template <std::size_t Rank>
std::array<AxisPhases, Rank - 2> owned_axes(const Geometry<Rank>& g, Lowering lowering) {
  bool empty = g.in_features == 0 || g.out_features == 0;
  for (std::size_t d = 0; d < Rank - 2; ++d) empty = empty || g.kernel[d] == 0;
  std::array<AxisPhases, Rank - 2> axes;
  for (std::size_t d = 0; d < Rank - 2; ++d) {
    axes[d] = owned_phases(empty ? 0 : g.kernel[d], g.stride[d], g.dilation[d], g.pad[d].first, lowering);
  }
  return axes;
}

/// The phases of the whole problem: every combination of the per-dimension
/// phases in `axes`, in row-major order (the last dimension fastest).
template <std::size_t Rank>
void combine_phases(const Geometry<Rank>& g, PhaseSplit<Rank>& split) {
  constexpr std::size_t S = Rank - 2;
  for (std::size_t d = 0; d < S; ++d) {
    if (split.axes[d].phases.empty()) return;
  }
  std::array<std::size_t, S> idx{};
  while (true) {
    Phase<S> ph;
    ph.axis_phase = idx;
    ph.rows = g.batch;
    ph.taps = 1;
    for (std::size_t d = 0; d < S; ++d) {
      const AxisPhase& ap = split.axes[d].phases[idx[d]];
      ph.rows = checked_mul(ph.rows, ap.count, "output rows");
      ph.taps = checked_mul(ph.taps, static_cast<index_t>(ap.taps.size()), "kernel taps");
    }
    ph.depth = checked_mul(ph.taps, g.group_in, "GEMM depth");
    if (ph.depth > split.max_depth) split.max_depth = ph.depth;
    split.phases.push_back(ph);
    std::size_t d = S;
    while (d > 0) {
      --d;
      if (++idx[d] < split.axes[d].phases.size()) break;
      idx[d] = 0;
      if (d == 0) return;
    }
    if constexpr (S == 0) return;
  }
}

/// A kernel's phases (no input shape: rows and counts are 0): what its
/// packed matrices are made for. Empty when the kernel or its input features
/// are.
template <std::size_t Rank>
PhaseSplit<Rank> kernel_phases(const Geometry<Rank>& g, const std::array<AxisPhases, Rank - 2>& owned) {
  PhaseSplit<Rank> split;
  bool empty = g.in_features == 0;
  for (std::size_t d = 0; d < Rank - 2; ++d) empty = empty || g.kernel[d] == 0;
  if (empty) return split;
  split.axes = owned;
  combine_phases(g, split);
  return split;
}

/// The phases of a problem of geometry `g` whose kernel owns `owned`.
template <std::size_t Rank>
PhaseSplit<Rank> split_phases(const Geometry<Rank>& g, const std::array<AxisPhases, Rank - 2>& owned) {
  constexpr std::size_t S = Rank - 2;
  PhaseSplit<Rank> split;
  bool empty_out = g.batch == 0 || g.out_features == 0;
  bool empty_in = g.in_features == 0;
  for (std::size_t d = 0; d < S; ++d) {
    empty_out = empty_out || g.out[d] == 0;
    empty_in = empty_in || g.in[d] == 0 || g.kernel[d] == 0;
  }
  if (empty_out) return split;  // nothing to write
  if (empty_in) {               // an empty sum everywhere
    split.zero_fill = true;
    return split;
  }
  for (std::size_t d = 0; d < S; ++d) {
    split.axes[d] = count_phases(owned[d], g.in[d], g.out[d], g.periodic_input);
    split.zero_fill = split.zero_fill || split.axes[d].tapless;
  }
  combine_phases(g, split);
  return split;
}

/// Row index within a phase → (n, t_0, ..., t_{S-1}), and back to stepping.
template <std::size_t S>
struct RowCursor {
  index_t n = 0;
  std::array<index_t, S> t{};
  std::array<index_t, S> count{};

  RowCursor(const std::array<index_t, S>& counts, index_t row) : count(counts) {
    for (std::size_t d = S; d-- > 0;) {
      t[d] = row % count[d];
      row /= count[d];
    }
    n = row;
  }
  void next() {
    for (std::size_t d = S; d-- > 0;) {
      if (++t[d] < count[d]) return;
      t[d] = 0;
    }
    ++n;
  }
};

/// Where a phase's rows lie in a phase group's grid (phase_groups.hpp): the
/// grid's row counts and the phase's offset in them, per dimension — the
/// phase's row t is grid row t + shift.
template <std::size_t S>
struct GridPlacement {
  std::array<index_t, S> counts{};
  std::array<index_t, S> shift{};
};

template <std::size_t S>
std::array<index_t, S> phase_counts(const std::array<AxisPhases, S>& axes, const std::array<std::size_t, S>& which) {
  std::array<index_t, S> c{};
  for (std::size_t d = 0; d < S; ++d) c[d] = axes[d].phases[which[d]].count;
  return c;
}

}  // namespace convt::detail
