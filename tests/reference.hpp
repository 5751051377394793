// tests/reference.hpp — an independent naive conv_transpose written from the
// definition (JAX's docs and source), for tests only. It shares no code with
// the library: its own layout parsing, padding rule, kernel flip and a direct
// loop over the stride-dilated, padded input.
#pragma once

#include <algorithm>
#include <complex>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace ref {

using Shape = std::vector<std::int64_t>;

struct Problem {
  Shape lhs_shape;  // physical, in lhs_spec order
  Shape rhs_shape;  // physical, in rhs_spec order
  std::string lhs_spec, rhs_spec, out_spec;
  Shape strides;                 // per spatial dim, rhs order
  Shape dilation;                // per spatial dim, rhs order (empty = 1)
  std::string padding = "SAME";  // "SAME", "VALID" or "EXPLICIT"
  std::vector<std::pair<std::int64_t, std::int64_t>> pads;
  bool consistent = false;
  bool transpose_kernel = false;
  std::int64_t groups = 1;  // feature_group_count
  bool periodic = false;    // the input repeats beyond its ends (convt's periodic_input)
};

inline std::int64_t product(const Shape& s) {
  std::int64_t p = 1;
  for (auto e : s) p *= e;
  return p;
}

inline Shape row_major(const Shape& s) {
  Shape st(s.size());
  std::int64_t acc = 1;
  for (std::size_t i = s.size(); i-- > 0;) {
    st[i] = acc;
    acc *= s[i];
  }
  return st;
}

struct Resolved {
  std::size_t nsp = 0;
  std::vector<char> spatial;  // rhs order
  Shape in, k, s, r, lo, hi, out;
  std::int64_t N = 0, C = 0, O = 0;
  Shape out_shape;  // physical, out_spec order
};

inline std::size_t pos(const std::string& spec, char c) {
  auto p = spec.find(c);
  if (p == std::string::npos) throw std::runtime_error("reference: letter missing");
  return p;
}

inline Resolved resolve(const Problem& p) {
  Resolved R;
  for (char c : p.rhs_spec)
    if (c != 'O' && c != 'I') R.spatial.push_back(c);
  R.nsp = R.spatial.size();
  R.N = p.lhs_shape[pos(p.lhs_spec, 'N')];
  R.C = p.lhs_shape[pos(p.lhs_spec, 'C')];
  // Grouped: lhs C = groups x Cg; out O = groups x Og. With
  // transpose_kernel the kernel is swapped within each group (JAX's
  // gradient of a grouped convolution; PyTorch's grouped ConvTranspose), so
  // its 'I' axis holds Og.
  R.O = p.transpose_kernel ? p.groups * p.rhs_shape[pos(p.rhs_spec, 'I')] : p.rhs_shape[pos(p.rhs_spec, 'O')];
  for (std::size_t d = 0; d < R.nsp; ++d) {
    const char c = R.spatial[d];
    const std::int64_t in = p.lhs_shape[pos(p.lhs_spec, c)];
    const std::int64_t k = p.rhs_shape[pos(p.rhs_spec, c)];
    const std::int64_t s = p.strides[d];
    const std::int64_t r = p.dilation.empty() ? 1 : p.dilation[d];
    const std::int64_t dk = k == 0 ? 0 : (k - 1) * r + 1;
    std::int64_t lo = 0, hi = 0;
    if (p.padding == "SAME") {  // jax _conv_transpose_padding
      const std::int64_t len = dk + s - 2;
      lo = s > dk - 1 ? dk - 1 : (len + 1) / 2;
      hi = len - lo;
    } else if (p.padding == "VALID") {
      const std::int64_t len = dk + s - 2 + std::max<std::int64_t>(dk - s, 0);
      lo = dk - 1;
      hi = len - lo;
    } else if (p.consistent) {
      lo = dk - p.pads[d].first - 1;
      hi = dk - p.pads[d].second - 1;
    } else {
      lo = p.pads[d].first;
      hi = p.pads[d].second;
    }
    const std::int64_t din = in == 0 ? 0 : (in - 1) * s + 1;
    const std::int64_t o = std::max<std::int64_t>(0, din + lo + hi - dk + 1);
    R.in.push_back(in);
    R.k.push_back(k);
    R.s.push_back(s);
    R.r.push_back(r);
    R.lo.push_back(lo);
    R.hi.push_back(hi);
    R.out.push_back(o);
  }
  R.out_shape.assign(p.out_spec.size(), 0);
  R.out_shape[pos(p.out_spec, 'N')] = R.N;
  R.out_shape[pos(p.out_spec, 'C')] = R.O;
  for (std::size_t d = 0; d < R.nsp; ++d) R.out_shape[pos(p.out_spec, R.spatial[d])] = R.out[d];
  return R;
}

/// Result in double / complex<double> (or wrapping uint64 for integers),
/// row-major in out_spec order; also the sum of |terms| per element.
template <class V>
struct Output {
  Shape shape;
  std::vector<V> value;
  std::vector<double> abs_sum;
};

/// lhs/rhs hold the operands already converted to V (physical layouts,
/// rhs row-major; lhs row-major unless strides are given).
template <class V>
Output<V> conv_transpose(const Problem& p, const std::vector<V>& lhs, const std::vector<V>& rhs,
                         const Shape& lhs_strides_in = {}) {
  const Resolved R = resolve(p);
  const Shape ls = lhs_strides_in.empty() ? row_major(p.lhs_shape) : lhs_strides_in;
  const Shape ws = row_major(p.rhs_shape);
  Output<V> out;
  out.shape = R.out_shape;
  const Shape os = row_major(R.out_shape);
  out.value.assign(static_cast<std::size_t>(product(R.out_shape)), V(0));
  out.abs_sum.assign(out.value.size(), 0.0);
  const std::size_t n = R.nsp;
  // rhs'[o, i, k] after the optional transpose_kernel (flip + swap O/I).
  // o and i are global feature indices; group g = o / Og owns inputs
  // [g * Cg, (g + 1) * Cg).
  const std::int64_t Cg = R.C / p.groups, Og = R.O / p.groups;
  auto weight = [&](std::int64_t o, std::int64_t i, const Shape& k) {
    std::int64_t off = 0;
    const std::int64_t g = o / Og;
    const std::int64_t wo = p.transpose_kernel ? i : o;
    const std::int64_t wi = p.transpose_kernel ? o - g * Og : i - g * Cg;
    off += wo * ws[pos(p.rhs_spec, 'O')] + wi * ws[pos(p.rhs_spec, 'I')];
    for (std::size_t d = 0; d < n; ++d) {
      const std::int64_t kk = p.transpose_kernel ? R.k[d] - 1 - k[d] : k[d];
      off += kk * ws[pos(p.rhs_spec, R.spatial[d])];
    }
    return rhs[static_cast<std::size_t>(off)];
  };
  Shape y(n, 0), k(n, 0);
  const std::int64_t ntaps = product(R.k);
  const std::int64_t nout = product(R.out);
  for (std::int64_t b = 0; b < R.N; ++b)
    for (std::int64_t o = 0; o < R.O; ++o)
      for (std::int64_t yi = 0; yi < nout; ++yi) {
        std::int64_t rem = yi;
        for (std::size_t d = n; d-- > 0;) {
          y[d] = rem % R.out[d];
          rem /= R.out[d];
        }
        V acc(0);
        double abs_acc = 0;
        for (std::int64_t i = (o / Og) * Cg; i < (o / Og + 1) * Cg; ++i)
          for (std::int64_t ti = 0; ti < ntaps; ++ti) {
            std::int64_t r2 = ti;
            for (std::size_t d = n; d-- > 0;) {
              k[d] = r2 % R.k[d];
              r2 /= R.k[d];
            }
            // Position in the stride-dilated, padded input.
            std::int64_t loff = b * ls[pos(p.lhs_spec, 'N')] + i * ls[pos(p.lhs_spec, 'C')];
            bool real = true;
            for (std::size_t d = 0; d < n && real; ++d) {
              const std::int64_t u = y[d] + k[d] * R.r[d] - R.lo[d];
              const std::int64_t m = ((u % R.s[d]) + R.s[d]) % R.s[d];
              std::int64_t q = (u - m) / R.s[d];  // the input index, when u is not an inserted zero
              if (p.periodic && R.in[d] > 0) q = ((q % R.in[d]) + R.in[d]) % R.in[d];
              if (m != 0 || q < 0 || q >= R.in[d])
                real = false;
              else
                loff += q * ls[pos(p.lhs_spec, R.spatial[d])];
            }
            if (!real) continue;
            const V a = lhs[static_cast<std::size_t>(loff)];
            const V w = weight(o, i, k);
            acc += a * w;
            abs_acc += std::abs(static_cast<std::complex<double>>(a)) * std::abs(static_cast<std::complex<double>>(w));
          }
        std::int64_t off = b * os[pos(p.out_spec, 'N')] + o * os[pos(p.out_spec, 'C')];
        for (std::size_t d = 0; d < n; ++d) off += y[d] * os[pos(p.out_spec, R.spatial[d])];
        out.value[static_cast<std::size_t>(off)] = acc;
        out.abs_sum[static_cast<std::size_t>(off)] = abs_acc;
      }
  return out;
}

}  // namespace ref
