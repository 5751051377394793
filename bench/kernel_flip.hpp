// bench/kernel_flip.hpp — oneDNN and XNNPACK define deconvolution in the
// scatter form (PyTorch's): jax.lax.conv_transpose with transpose_kernel.
// These helpers build their weights from convt's kernel, flipped.
#pragma once

#include <cstdint>
#include <vector>

#include "shapes.hpp"

namespace bench {

/// Reads convt's kernel (spatial..., I, O for N...C layouts; O, I, spatial...
/// for NC... layouts) at (o, c, k...); with groups, c indexes the group's
/// input features (I has C / groups entries).
inline float kernel_at(const ShapeSpec& s, const std::vector<float>& w, std::int64_t o, std::int64_t c,
                       const std::vector<std::int64_t>& k) {
  const std::int64_t cg = s.c / s.groups;
  std::int64_t off = 0;
  if (s.nchw) {
    off = o * cg + c;
    for (std::size_t d = 0; d < s.nsp(); ++d) off = off * s.k[d] + k[d];
  } else {
    for (std::size_t d = 0; d < s.nsp(); ++d) off = off * s.k[d] + k[d];
    off = (off * cg + c) * s.o + o;
  }
  return w[static_cast<std::size_t>(off)];
}

/// Calls f(o, c, k_peer, value) for every weight, with value = convt kernel at
/// the spatially flipped tap.
template <class F>
void for_each_flipped(const ShapeSpec& s, const std::vector<float>& w, F&& f) {
  std::int64_t taps = 1;
  for (auto e : s.k) taps *= e;
  std::vector<std::int64_t> k(s.nsp()), flipped(s.nsp());
  for (std::int64_t o = 0; o < s.o; ++o)
    for (std::int64_t c = 0; c < s.c / s.groups; ++c)
      for (std::int64_t t = 0; t < taps; ++t) {
        std::int64_t r = t;
        for (std::size_t d = s.nsp(); d-- > 0;) {
          k[d] = r % s.k[d];
          r /= s.k[d];
          flipped[d] = s.k[d] - 1 - k[d];
        }
        f(o, c, k, kernel_at(s, w, o, c, flipped));
      }
}

}  // namespace bench
