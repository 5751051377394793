// bench/peer_onednn.hpp — oneDNN's deconvolution as a benchmark peer:
// primitive created once, weights reordered once into its preferred format.
#pragma once

#include <omp.h>

#include <oneapi/dnnl/dnnl.hpp>
#include <vector>

#include "kernel_flip.hpp"
#include "shapes.hpp"

namespace bench {

class OneDnnDeconv {
 public:
  using tag = dnnl::memory::format_tag;
  using dt = dnnl::memory::data_type;

  /// x in the spec's layout; w = convt's kernel; pads = convt's resolved
  /// (lo, hi) per spatial dimension; out_sp = output spatial extents.
  OneDnnDeconv(const ShapeSpec& s, const std::vector<float>& x, const std::vector<float>& w,
               const std::vector<std::pair<std::int64_t, std::int64_t>>& pads, const std::vector<std::int64_t>& out_sp,
               int threads)
      : eng_(dnnl::engine::kind::cpu, 0), stream_(eng_), threads_(threads), x_(x) {
    // oneDNN sizes its parallel decomposition when the primitive is created.
    omp_set_num_threads(threads_);
    const std::size_t n = s.nsp();
    // Grouped weights are (G, O/G, C/G, k...).
    const std::int64_t g = s.groups, cg = s.c / g, og = s.o / g;
    dnnl::memory::dims src{s.n, s.c}, wei = g > 1 ? dnnl::memory::dims{g, og, cg} : dnnl::memory::dims{s.o, s.c},
                                      dst{s.n, s.o}, strides, dil, pl, pr;
    for (std::size_t d = 0; d < n; ++d) {
      src.push_back(s.in[d]);
      wei.push_back(s.k[d]);
      dst.push_back(out_sp[d]);
      strides.push_back(s.s[d]);
      dil.push_back(s.r[d] - 1);
      const std::int64_t dk = (s.k[d] - 1) * s.r[d] + 1;
      pl.push_back(dk - 1 - pads[d].first);
      pr.push_back(dk - 1 - pads[d].second);
    }
    const tag act = s.nchw ? (n == 1   ? tag::ncw
                              : n == 2 ? tag::nchw
                                       : tag::ncdhw)
                           : (n == 1   ? tag::nwc
                              : n == 2 ? tag::nhwc
                                       : tag::ndhwc);
    const tag user_w = g > 1 ? (n == 1   ? tag::goiw
                                : n == 2 ? tag::goihw
                                         : tag::goidhw)
                             : (n == 1   ? tag::oiw
                                : n == 2 ? tag::oihw
                                         : tag::oidhw);
    dnnl::memory::desc src_md(src, dt::f32, act), dst_md(dst, dt::f32, act);
    dnnl::memory::desc wei_any(wei, dt::f32, tag::any);
    dnnl::deconvolution_forward::desc desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::deconvolution_direct,
                                           src_md, wei_any, dst_md, strides, dil, pl, pr);
    pd_ = dnnl::deconvolution_forward::primitive_desc(desc, eng_);
    prim_ = dnnl::deconvolution_forward(pd_);
    // User weights in oi(d)hw, flipped, then reordered once.
    std::vector<float> user(w.size());
    std::int64_t taps = 1;
    for (auto e : s.k) taps *= e;
    for_each_flipped(s, w, [&](std::int64_t o, std::int64_t c, const std::vector<std::int64_t>& k, float v) {
      std::int64_t t = 0;
      for (std::size_t d = 0; d < n; ++d) t = t * s.k[d] + k[d];
      // (g, o mod og, c) in goi...: o already runs over all outputs, so
      // (o * cg + c) is the same flat index in both layouts.
      user[static_cast<std::size_t>((o * cg + c) * taps + t)] = v;
    });
    dnnl::memory user_mem({wei, dt::f32, user_w}, eng_, user.data());
    weights_ = dnnl::memory(pd_.weights_desc(), eng_);
    omp_set_num_threads(threads_);
    dnnl::reorder(user_mem, weights_).execute(stream_, user_mem, weights_);
    stream_.wait();
    src_ = dnnl::memory(src_md, eng_, x_.data());
    out_.resize(pd_.dst_desc().get_size() / sizeof(float));
    dst_ = dnnl::memory(pd_.dst_desc(), eng_, out_.data());
  }

  void run() {
    omp_set_num_threads(threads_);
    prim_.execute(stream_, {{DNNL_ARG_SRC, src_}, {DNNL_ARG_WEIGHTS, weights_}, {DNNL_ARG_DST, dst_}});
    stream_.wait();
  }
  const std::vector<float>& output() const { return out_; }
  std::string implementation() const { return pd_.impl_info_str(); }

 private:
  dnnl::engine eng_;
  dnnl::stream stream_;
  int threads_;
  std::vector<float> x_;
  dnnl::deconvolution_forward::primitive_desc pd_;
  dnnl::deconvolution_forward prim_;
  dnnl::memory weights_, src_, dst_;
  std::vector<float> out_;
};

}  // namespace bench
