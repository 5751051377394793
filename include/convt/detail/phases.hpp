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

/// All phases of one spatial dimension (phases with no output are dropped).
struct AxisPhases {
  index_t step = 1;
  index_t divisor = 1;
  index_t in = 0;
  std::vector<AxisPhase> phases;  // the phases some tap reaches
  bool tapless = false;           // some output positions are reached by no tap
};

inline index_t floor_mod(index_t a, index_t m) {
  const index_t r = a % m;
  return r < 0 ? r + m : r;
}

inline AxisPhases split_axis(index_t in, index_t kernel, index_t stride, index_t dilation, index_t lo, index_t out,
                             Lowering lowering) {
  AxisPhases ax;
  ax.in = in;
  if (lowering == Lowering::DenseDilated || stride == 1) {
    ax.step = 1;
    ax.divisor = stride;
    AxisPhase ph;
    ph.first = 0;
    ph.count = out;
    for (index_t k = 0; k < kernel; ++k) {
      ph.taps.push_back(k);
      ph.offsets.push_back(checked_sub(checked_mul(k, dilation, "tap offset"), lo, "tap offset"));
    }
    mark_consecutive(ph);
    if (out > 0 && kernel > 0) ax.phases.push_back(std::move(ph));
    ax.tapless = out > 0 && kernel == 0;
    return ax;
  }
  ax.step = stride;
  ax.divisor = 1;
  // Tap k of output phi + s*t reads dilated position phi + s*t + k*r - lo, a
  // real input element iff phi == (lo - k*r) mod s: each tap belongs to one
  // phase. Only phases that own a tap are kept (at most `kernel` of them, so
  // nothing here grows with the stride or the image); the rest are zeros.
  const index_t num_phases = stride < out ? stride : out;
  std::map<index_t, AxisPhase> owned;
  for (index_t k = 0; k < kernel; ++k) {
    const index_t kr = checked_mul(k, dilation, "tap offset");
    const index_t phi = floor_mod(checked_sub(lo, kr, "tap offset"), stride);
    if (phi >= num_phases) continue;
    const index_t pos = checked_sub(checked_add(phi, kr, "tap offset"), lo, "tap offset");
    AxisPhase& ph = owned[phi];
    ph.taps.push_back(k);
    ph.offsets.push_back(pos / stride);  // exact: pos is a multiple of s
  }
  for (auto& [phi, ph] : owned) {
    ph.first = phi;
    ph.count = (out - phi - 1) / stride + 1;
    mark_consecutive(ph);
    ax.phases.push_back(std::move(ph));
  }
  ax.tapless = static_cast<index_t>(ax.phases.size()) < num_phases;
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
  /// input is empty): the output is zero-filled before the phases run.
  bool zero_fill = false;
};

template <std::size_t Rank>
PhaseSplit<Rank> split_phases(const Geometry<Rank>& g, Lowering lowering) {
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
    split.axes[d] = split_axis(g.in[d], g.kernel[d], g.stride[d], g.dilation[d], g.pad[d].first, g.out[d], lowering);
    split.zero_fill = split.zero_fill || split.axes[d].tapless;
    if (split.axes[d].phases.empty()) return split;  // no tap reaches any output
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
      if (d == 0) return split;
    }
    if constexpr (S == 0) return split;
  }
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

template <std::size_t S>
std::array<index_t, S> phase_counts(const std::array<AxisPhases, S>& axes, const std::array<std::size_t, S>& which) {
  std::array<index_t, S> c{};
  for (std::size_t d = 0; d < S; ++d) c[d] = axes[d].phases[which[d]].count;
  return c;
}

/// Phases whose im2col matrices are identical (same row counts and tap
/// shifts in every dimension: e.g. all phases of k = s, or the two shift
/// patterns of FCN's k = 2s) share one gather and one GEMM against their
/// kernels placed side by side.
struct PhaseGroup {
  std::vector<std::size_t> phases;  // members: indices into PhaseSplit::phases, all with the same im2col
};

template <std::size_t Rank>
bool same_im2col(const PhaseSplit<Rank>& split, const Phase<Rank - 2>& a, const Phase<Rank - 2>& b) {
  if (a.depth != b.depth || a.rows != b.rows) return false;
  for (std::size_t d = 0; d < Rank - 2; ++d) {
    const AxisPhase& x = split.axes[d].phases[a.axis_phase[d]];
    const AxisPhase& y = split.axes[d].phases[b.axis_phase[d]];
    if (x.count != y.count || x.offsets != y.offsets) return false;
  }
  return true;
}

/// Groups the phases of `split`, each group with at most `max_columns`
/// output columns (members x `group_out`), members in phase order.
template <std::size_t Rank>
std::vector<PhaseGroup> group_phases(const PhaseSplit<Rank>& split, index_t group_out, index_t max_columns) {
  const std::size_t most = static_cast<std::size_t>(std::max<index_t>(1, max_columns / std::max<index_t>(group_out, 1)));
  std::vector<PhaseGroup> groups;
  for (std::size_t p = 0; p < split.phases.size(); ++p) {
    bool placed = false;
    for (PhaseGroup& grp : groups) {
      if (grp.phases.size() < most && same_im2col(split, split.phases[grp.phases.front()], split.phases[p])) {
        grp.phases.push_back(p);
        placed = true;
        break;
      }
    }
    if (!placed) groups.push_back(PhaseGroup{{p}});
  }
  return groups;
}

}  // namespace convt::detail
