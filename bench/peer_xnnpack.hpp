// bench/peer_xnnpack.hpp — XNNPACK's NHWC deconvolution (2-D; 1-D runs as
// H = 1) as a benchmark peer: operator created and set up once.
#pragma once

#include <pthreadpool.h>
#include <xnnpack.h>

#include <limits>
#include <stdexcept>
#include <vector>

#include "kernel_flip.hpp"
#include "shapes.hpp"

namespace bench {

class XnnpackDeconv {
 public:
  static bool supports(const ShapeSpec& s) { return !s.nchw && (s.nsp() == 1 || s.nsp() == 2); }

  XnnpackDeconv(const ShapeSpec& s, const std::vector<float>& x, const std::vector<float>& w,
                const std::vector<std::pair<std::int64_t, std::int64_t>>& pads, const std::vector<std::int64_t>& out_sp,
                int threads)
      : x_(x) {
    if (xnn_initialize(nullptr) != xnn_status_success) throw std::runtime_error("xnn_initialize failed");
    const bool one_d = s.nsp() == 1;
    const std::int64_t kh = one_d ? 1 : s.k[0], kw = s.k[one_d ? 0 : 1];
    const std::int64_t sh = one_d ? 1 : s.s[0], sw = s.s[one_d ? 0 : 1];
    const std::int64_t rh = one_d ? 1 : s.r[0], rw = s.r[one_d ? 0 : 1];
    const std::int64_t ih = one_d ? 1 : s.in[0], iw = s.in[one_d ? 0 : 1];
    auto crop = [&](std::size_t d, bool hi) {
      const std::int64_t dk = (s.k[d] - 1) * s.r[d] + 1;
      return static_cast<std::uint32_t>(dk - 1 - (hi ? pads[d].second : pads[d].first));
    };
    const std::uint32_t top = one_d ? 0 : crop(0, false), bottom = one_d ? 0 : crop(0, true);
    const std::uint32_t left = crop(one_d ? 0 : 1, false), right = crop(one_d ? 0 : 1, true);
    // Kernel [G][O/G][KH][KW][C/G] (= [O][KH][KW][C/G]), flipped.
    const std::int64_t g = s.groups, cg = s.c / g;
    std::vector<float> kernel(w.size());
    std::int64_t taps = 1;
    for (auto e : s.k) taps *= e;
    for_each_flipped(s, w, [&](std::int64_t o, std::int64_t c, const std::vector<std::int64_t>& k, float v) {
      std::int64_t t = 0;
      for (std::size_t d = 0; d < s.nsp(); ++d) t = t * s.k[d] + k[d];
      kernel[static_cast<std::size_t>((o * taps + t) * cg + c)] = v;
    });
    const float inf = std::numeric_limits<float>::infinity();
    if (xnn_create_deconvolution2d_nhwc_f32(
            top, right, bottom, left, static_cast<std::uint32_t>(kh), static_cast<std::uint32_t>(kw),
            static_cast<std::uint32_t>(sh), static_cast<std::uint32_t>(sw), static_cast<std::uint32_t>(rh),
            static_cast<std::uint32_t>(rw), static_cast<std::uint32_t>(g), static_cast<std::size_t>(cg),
            static_cast<std::size_t>(s.o / g), static_cast<std::size_t>(s.c), static_cast<std::size_t>(s.o),
            kernel.data(), nullptr, -inf, inf, 0, &op_) != xnn_status_success) {
      throw std::runtime_error("xnn_create_deconvolution2d_nhwc_f32 failed");
    }
    if (threads > 1) pool_ = pthreadpool_create(static_cast<std::size_t>(threads));
    std::int64_t out_elems = s.n * s.o;
    for (auto e : out_sp) out_elems *= e;
    out_.resize(static_cast<std::size_t>(out_elems));
    // Output extent = s * (in - 1) + adjustment + dk - crops; JAX's pads give
    // adjustment 0 for every shape of the suite.
    if (xnn_setup_deconvolution2d_nhwc_f32(op_, static_cast<std::size_t>(s.n), static_cast<std::size_t>(ih),
                                           static_cast<std::size_t>(iw), 0, 0, x_.data(), out_.data(),
                                           pool_) != xnn_status_success) {
      throw std::runtime_error("xnn_setup_deconvolution2d_nhwc_f32 failed");
    }
  }
  ~XnnpackDeconv() {
    if (op_) xnn_delete_operator(op_);
    if (pool_) pthreadpool_destroy(pool_);
  }
  XnnpackDeconv(const XnnpackDeconv&) = delete;
  XnnpackDeconv& operator=(const XnnpackDeconv&) = delete;

  void run() {
    if (xnn_run_operator(op_, pool_) != xnn_status_success) throw std::runtime_error("xnn_run_operator failed");
  }
  const std::vector<float>& output() const { return out_; }

 private:
  std::vector<float> x_;
  std::vector<float> out_;
  xnn_operator_t op_ = nullptr;
  pthreadpool_t pool_ = nullptr;
};

}  // namespace bench
