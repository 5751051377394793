// convt/detail/border_bands.hpp — phase groups cut where their taps read
// padding, so that the GEMM multiplies only taps that meet the input.
//
// Row t of a grid reads input position t + offset[j] through tap j; near the
// input's edges some of those positions are padding, and the gather writes
// zeros that the GEMM then multiplies. On large inputs that is a sliver of
// the work, but decoders start small: DCGAN's first layer (a 1 x 1 input,
// k4 s1) multiplies fifteen padding taps for every real one, and a k4 s2 p1
// layer on a 4 x 4 input one tap in four.
//
// Per dimension the taps a row meets are a contiguous range (offsets grow
// with the tap), and the range changes only where t crosses -offset[j] or
// in - offset[j]: so each dimension cuts into at most 2 * taps + 1 segments
// of constant range. Cut dimensions make the group's grid the product of
// their segments — border bands, each its own grid with only its taps (a
// plan group like any other: gathered, tiled and written as one). A band's
// GEMM reads the kernel matrix's rows of its taps: runs of the packed depth
// (DepthRun, gemm.hpp), one per combination of the outer dimensions' taps.
// Bands multiply fewer taps but are smaller GEMMs, each streaming its kernel
// rows again; a cost model (bands_cost) picks the dimensions to cut, or
// none: a 1 x 1 input is cut, 4 x 4 at batch 1 is not, 8 x 8 at batch 16 is.
//
// Skipping a tap drops products with padding zeros, which are zero — except
// for an infinite or NaN kernel element, whose product with padding is NaN
// where the definition has no term at all (the phase split skips the
// stride's inserted zeros the same way).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <vector>

#include "convt/detail/gemm.hpp"
#include "convt/detail/phase_groups.hpp"
#include "convt/detail/phases.hpp"
#include "convt/detail/tiling.hpp"

namespace convt::detail {

// A band of r rows and t taps costs (r + kStreamRows) * t (tiling.hpp).

/// Cut only when the bands cost at most this share of the whole grid.
inline constexpr double kCutGain = 0.95;

/// Rows [begin, end) of a grid dimension that meet taps [lo, hi) (lo == hi:
/// no tap meets the input).
struct TapSegment {
  index_t begin = 0;
  index_t end = 0;
  std::size_t lo = 0;
  std::size_t hi = 0;
};

/// The segments of constant tap range of an axis phase over an input of
/// extent `in`, in row order; one segment of every tap when the offsets do
/// not increase (never for a phase split's taps, kept as a guard).
inline std::vector<TapSegment> tap_segments(const AxisPhase& ap, index_t in) {
  const std::size_t T = ap.offsets.size();
  const bool increasing = std::is_sorted(ap.offsets.begin(), ap.offsets.end());
  if (!increasing || ap.count <= 0) return {TapSegment{0, std::max<index_t>(ap.count, 0), 0, T}};
  std::vector<index_t> cuts{0, ap.count};
  for (index_t o : ap.offsets) {
    // Tap j meets the input for -o <= t < in - o.
    for (index_t c : {checked_sub(0, o, "tap offset"), checked_sub(in, o, "tap offset")}) {
      if (c > 0 && c < ap.count) cuts.push_back(c);
    }
  }
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  std::vector<TapSegment> segs;
  for (std::size_t i = 0; i + 1 < cuts.size(); ++i) {
    const index_t t = cuts[i];
    std::size_t lo = 0, hi = 0;
    while (lo < T && t + ap.offsets[lo] < 0) ++lo;
    hi = lo;
    while (hi < T && t + ap.offsets[hi] < in) ++hi;
    if (lo == hi) lo = hi = 0;
    if (!segs.empty() && segs.back().lo == lo && segs.back().hi == hi) {
      segs.back().end = cuts[i + 1];
    } else {
      segs.push_back({t, cuts[i + 1], lo, hi});
    }
  }
  return segs;
}

/// Whether a segment is a whole grid dimension with every tap.
inline bool is_whole(const TapSegment& s, index_t count, std::size_t taps) {
  return s.begin == 0 && s.end == count && s.lo == 0 && s.hi == taps;
}

/// The cost (kStreamRows) of the bands that are the product of the
/// dimensions' segments, `batch` images each.
template <std::size_t S>
double bands_cost(const std::array<const std::vector<TapSegment>*, S>& segs, index_t batch) {
  std::array<std::size_t, S> idx{};
  double total = 0;
  while (true) {
    double rows = static_cast<double>(batch), taps = 1;
    for (std::size_t d = 0; d < S; ++d) {
      const TapSegment& t = (*segs[d])[idx[d]];
      rows *= static_cast<double>(t.end - t.begin);
      taps *= static_cast<double>(t.hi - t.lo);
    }
    total += (rows + static_cast<double>(kStreamRows)) * taps;
    bool done = true;
    for (std::size_t d = S; d-- > 0;) {
      if (++idx[d] < segs[d]->size()) {
        done = false;
        break;
      }
      idx[d] = 0;
    }
    if (done) return total;
  }
}

/// Which dimensions to cut (of those with padding taps): the cheapest
/// choice by bands_cost, if it saves enough over none. Empty: none.
template <std::size_t S>
std::vector<bool> choose_cuts(const std::array<std::vector<TapSegment>, S>& segs,
                              const std::array<std::vector<TapSegment>, S>& whole, index_t batch) {
  std::vector<std::size_t> candidates;
  for (std::size_t d = 0; d < S; ++d) {
    if (segs[d].size() != 1 || !is_whole(segs[d][0], whole[d][0].end, whole[d][0].hi)) candidates.push_back(d);
  }
  if (candidates.empty()) return {};
  // Every subset for the usual ranks; beyond, all or nothing.
  const bool all_subsets = candidates.size() <= 4;
  const std::size_t choices = all_subsets ? std::size_t{1} << candidates.size() : 2;
  std::array<const std::vector<TapSegment>*, S> pick{};
  double best = 0;
  std::vector<bool> best_cut;
  for (std::size_t mask = 0; mask < choices; ++mask) {
    std::vector<bool> cut(S, false);
    for (std::size_t i = 0; i < candidates.size(); ++i) cut[candidates[i]] = all_subsets ? (mask >> i) & 1 : mask;
    for (std::size_t d = 0; d < S; ++d) pick[d] = cut[d] ? &segs[d] : &whole[d];
    const double c = bands_cost(pick, batch);
    if (mask == 0) {
      best = kCutGain * c;
    } else if (c <= best) {
      best = c;
      best_cut = cut;
    }
  }
  return best_cut;
}

/// The kernel matrix rows a band's taps use: per combination of the outer
/// dimensions' taps, the innermost dimension's range, merged where they
/// follow each other; none when the band uses every tap (the whole depth)
/// or none. `full` is the group's taps per dimension.
template <std::size_t S>
std::vector<DepthRun> band_depth_runs(const std::array<TapSegment, S>& band, const std::array<std::size_t, S>& full,
                                      index_t channels) {
  static_assert(S > 0, "a band has spatial dimensions");
  std::vector<DepthRun> runs;
  bool whole = true;
  for (std::size_t d = 0; d < S; ++d) {
    if (band[d].lo == band[d].hi) return runs;
    whole = whole && band[d].lo == 0 && band[d].hi == full[d];
  }
  if (whole) return runs;
  std::array<std::size_t, S> j{};
  for (std::size_t d = 0; d < S; ++d) j[d] = band[d].lo;
  const index_t length = static_cast<index_t>(band[S - 1].hi - band[S - 1].lo) * channels;
  for (index_t lhs = 0;; lhs += length) {
    index_t tap = 0;
    for (std::size_t d = 0; d < S; ++d) tap = tap * static_cast<index_t>(full[d]) + static_cast<index_t>(j[d]);
    const index_t rhs = tap * channels;
    if (!runs.empty() && runs.back().rhs + runs.back().length == rhs) {
      runs.back().length += length;
    } else {
      runs.push_back({lhs, rhs, length});
    }
    // Next combination of the outer dimensions' taps.
    bool done = true;
    for (std::size_t d = S - 1; d-- > 0;) {
      if (++j[d] < band[d].hi) {
        done = false;
        break;
      }
      j[d] = band[d].lo;
    }
    if (done) return runs;
  }
}

/// Cuts each plan group into border bands where choose_cuts finds it pays
/// (see the header); appends the bands' axis phases to `split`'s axes.
/// `channels` is the input features per feature group.
template <std::size_t Rank>
std::vector<PlanGroup<Rank - 2>> cut_border_bands(std::vector<PlanGroup<Rank - 2>> groups, PhaseSplit<Rank>& split,
                                                  index_t batch, index_t channels) {
  constexpr std::size_t S = Rank - 2;
  if constexpr (S == 0) {
    return groups;
  } else {
    std::vector<PlanGroup<S>> out;
    for (PlanGroup<S>& grp : groups) {
      std::array<std::vector<TapSegment>, S> segs, whole;
      std::array<std::size_t, S> full{};
      for (std::size_t d = 0; d < S; ++d) {
        const AxisPhases& ax = split.axes[d];
        const AxisPhase& ap = ax.phases[grp.grid.axis_phase[d]];
        full[d] = ap.taps.size();
        whole[d] = {TapSegment{0, ap.count, 0, full[d]}};
        // Only the phase split's dense taps: the dense lowering's taps meet
        // inserted zeros row by row, a periodic input has no padding.
        segs[d] = ax.divisor == 1 && !ax.periodic && grp.grid.depth > 0 ? tap_segments(ap, ax.in) : whole[d];
      }
      const std::vector<bool> cut = choose_cuts(segs, whole, batch);
      if (cut.empty()) {
        out.push_back(std::move(grp));
        continue;
      }
      for (std::size_t d = 0; d < S; ++d) {
        if (!cut[d]) segs[d] = whole[d];
      }
      // Each dimension's segments as axis phases of the split (the whole
      // grid dimension, uncut, keeps its own).
      std::array<std::vector<std::size_t>, S> seg_phase;
      for (std::size_t d = 0; d < S; ++d) {
        for (const TapSegment& s : segs[d]) {
          const AxisPhase& ap = split.axes[d].phases[grp.grid.axis_phase[d]];
          if (is_whole(s, ap.count, full[d])) {
            seg_phase[d].push_back(grp.grid.axis_phase[d]);
            continue;
          }
          AxisPhase band;
          band.first = ap.first;
          band.count = s.end - s.begin;
          for (std::size_t j = s.lo; j < s.hi; ++j) {
            band.taps.push_back(ap.taps[j]);
            band.offsets.push_back(ap.offsets[j] + s.begin);
          }
          mark_consecutive(band);
          split.axes[d].phases.push_back(std::move(band));
          seg_phase[d].push_back(split.axes[d].phases.size() - 1);
        }
      }
      std::array<std::size_t, S> idx{};
      while (true) {
        PlanGroup<S> band;
        band.kernel_group = grp.kernel_group;
        band.grid.rows = batch;
        band.grid.taps = 1;
        std::array<TapSegment, S> seg{};
        for (std::size_t d = 0; d < S; ++d) {
          seg[d] = segs[d][idx[d]];
          band.grid.axis_phase[d] = seg_phase[d][idx[d]];
          band.grid.rows = checked_mul(band.grid.rows, seg[d].end - seg[d].begin, "output rows");
          band.grid.taps *= static_cast<index_t>(seg[d].hi - seg[d].lo);
        }
        band.grid.depth = band.grid.taps * channels;
        band.depth_runs = band_depth_runs(seg, full, channels);
        // A member's row t is band row t + shift - begin; one whose rows
        // miss the band writes nothing in it.
        for (const auto& m : grp.members) {
          const Phase<S>& ph = split.phases[m.phase];
          auto member = m;
          bool meets = true;
          for (std::size_t d = 0; d < S; ++d) {
            member.shift[d] = m.shift[d] - seg[d].begin;
            const index_t own = split.axes[d].phases[ph.axis_phase[d]].count;
            meets = meets && member.shift[d] < seg[d].end - seg[d].begin && member.shift[d] + own > 0;
          }
          member.partial = true;
          if (meets) band.members.push_back(member);
        }
        if (!band.members.empty()) out.push_back(std::move(band));
        bool done = true;
        for (std::size_t d = S; d-- > 0;) {
          if (++idx[d] < segs[d].size()) {
            done = false;
            break;
          }
          idx[d] = 0;
        }
        if (done) break;
      }
    }
    return out;
  }
}

}  // namespace convt::detail
