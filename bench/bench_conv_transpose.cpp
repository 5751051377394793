// bench_conv_transpose — convt against its own dense lowering, a GEMM of the
// same useful FLOPs (the ceiling), oneDNN and XNNPACK (when found), on the
// suite of bench/shapes.hpp, at 1 thread and at all hardware threads.
//   bench_conv_transpose [google-benchmark flags]
//   bench_conv_transpose --check   (peers and lowerings agree with convt; no timing)
// GFLOPs counters are useful FLOPs (2*N*C*O*prod(in)*prod(k)) per second; for
// the ceiling, the GEMM's own FLOPs.
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <convt/convt.hpp>

#include "shapes.hpp"
#ifdef CONVT_BENCH_ONEDNN
#include "peer_onednn.hpp"
#endif
#ifdef CONVT_BENCH_XNNPACK
#include "peer_xnnpack.hpp"
#endif

namespace bench {
namespace {

/// Something to time: run() is the timed call, output() its f32 result.
struct Runnable {
  std::function<void()> run;
  std::function<std::vector<float>()> output;
};

std::vector<float> random_floats(std::size_t n, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(gen);
  return v;
}

std::string spatial_letters(std::size_t n) { return std::string("DHW").substr(3 - n); }

template <std::size_t Rank>
std::array<convt::index_t, Rank> lhs_shape(const ShapeSpec& s) {
  std::array<convt::index_t, Rank> a{};
  a[0] = s.n;
  for (std::size_t d = 0; d < Rank - 2; ++d) a[(s.nchw ? 2 : 1) + d] = s.in[d];
  a[s.nchw ? 1 : Rank - 1] = s.c;
  return a;
}

template <std::size_t Rank>
std::array<convt::index_t, Rank> rhs_shape(const ShapeSpec& s) {
  std::array<convt::index_t, Rank> a{};
  if (s.nchw) {
    a[0] = s.o;
    a[1] = s.c / s.groups;
    for (std::size_t d = 0; d < Rank - 2; ++d) a[2 + d] = s.k[d];
  } else {
    for (std::size_t d = 0; d < Rank - 2; ++d) a[d] = s.k[d];
    a[Rank - 2] = s.c / s.groups;
    a[Rank - 1] = s.o;
  }
  return a;
}

template <std::size_t Rank>
convt::ConvTransposeOptions<Rank - 2> options(const ShapeSpec& s, int threads, convt::Lowering lowering) {
  convt::ConvTransposeOptions<Rank - 2> o;
  const std::string sp = spatial_letters(Rank - 2);
  o.dimension_numbers = s.nchw ? convt::DimensionNumbers{"NC" + sp, "OI" + sp, "NC" + sp}
                               : convt::DimensionNumbers{"N" + sp + "C", sp + "IO", "N" + sp + "C"};
  std::array<convt::index_t, Rank - 2> r{};
  for (std::size_t d = 0; d < Rank - 2; ++d) r[d] = s.r[d];
  o.rhs_dilation = r;
  o.feature_group_count = s.groups;
  o.num_threads = threads;
  o.lowering = lowering;
  return o;
}

convt::Padding padding(const ShapeSpec& s) {
  if (s.padding == "SAME") return convt::Padding::same();
  if (s.padding == "VALID") return convt::Padding::valid();
  return convt::Padding::explicit_pads(s.pads);
}

template <class T>
T from_float(float v) {
  if constexpr (std::is_integral_v<T>) {
    return static_cast<T>(std::lround(v * 8.0f));
  } else {
    return T(v);
  }
}

struct Problem {
  ShapeSpec spec;
  std::vector<float> x, w;
  std::vector<std::pair<std::int64_t, std::int64_t>> pads;  // resolved by convt
  std::vector<std::int64_t> out_sp;
};

/// What the convt entries fuse after the sum: nothing, or a bias and ReLU
/// (the layer most decoders have), to measure what the fusion costs.
enum class Fused { Nothing, BiasRelu };

/// What a convt entry times: a run of a ready plan, or making one — from
/// the unpacked kernel (make_plan: what a first call pays, comparable to a
/// peer's primitive creation with its weight reorder) or from a kernel
/// packed before (PackedKernel::plan: what a new input shape costs).
enum class Timed { Run, MakePlan, PlanFromKernel };

template <std::size_t Rank, class In, class Out>
Runnable convt_runnable(const Problem& p, int threads, convt::Lowering lowering, Fused fused, Timed timed) {
  struct State {
    convt::Tensor<In, Rank> x, w;
    std::vector<Out> bias;
    std::array<convt::index_t, Rank - 2> strides{};
    convt::ConvTransposeOptions<Rank - 2> opt;
    std::optional<convt::PackedKernel<In, Out, Rank>> kernel;
    std::optional<convt::Plan<In, Out, Rank>> plan;
    convt::Tensor<Out, Rank> y;
  };
  auto st = std::make_shared<State>();
  st->x = convt::Tensor<In, Rank>(lhs_shape<Rank>(p.spec));
  st->w = convt::Tensor<In, Rank>(rhs_shape<Rank>(p.spec));
  for (std::size_t i = 0; i < p.x.size(); ++i) st->x.data()[i] = from_float<In>(p.x[i]);
  for (std::size_t i = 0; i < p.w.size(); ++i) st->w.data()[i] = from_float<In>(p.w[i]);
  std::array<convt::index_t, Rank - 2> strides{};
  for (std::size_t d = 0; d < Rank - 2; ++d) strides[d] = p.spec.s[d];
  auto opt = options<Rank>(p.spec, threads, lowering);
  if (fused == Fused::BiasRelu) {
    const auto b = random_floats(static_cast<std::size_t>(p.spec.o), 3);
    for (float v : b) st->bias.push_back(from_float<Out>(v));
    opt.bias = convt::BiasView(st->bias.data(), p.spec.o);
    opt.activation = convt::Activation::relu();
  }
  st->strides = strides;
  st->opt = opt;
  st->kernel.emplace(convt::make_kernel<Out>(convt::view(st->w), strides, padding(p.spec), opt));
  st->plan.emplace(st->kernel->plan(st->x.shape()));
  st->y = convt::Tensor<Out, Rank>(st->plan->output_shape());
  Runnable r;
  switch (timed) {
    case Timed::Run: r.run = [st] { st->plan->run(convt::view(st->x), convt::view(st->y)); }; break;
    case Timed::MakePlan:
      r.run = [st, pad = padding(p.spec)] {
        auto plan = convt::make_plan<Out>(convt::view(st->w), st->x.shape(), st->strides, pad, st->opt);
        benchmark::DoNotOptimize(plan);
      };
      break;
    case Timed::PlanFromKernel:
      r.run = [st] {
        auto plan = st->kernel->plan(st->x.shape());
        benchmark::DoNotOptimize(plan);
      };
      break;
  }
  r.output = [st] {
    std::vector<float> v(static_cast<std::size_t>(st->y.size()));
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(st->y.data()[i]);
    return v;
  };
  return r;
}

template <std::size_t Rank>
Runnable convt_by_type(const Problem& p, int threads, convt::Lowering lowering, Fused fused, Timed timed) {
  switch (p.spec.dtype) {
    case DType::F32: return convt_runnable<Rank, float, float>(p, threads, lowering, fused, timed);
    case DType::BF16: return convt_runnable<Rank, Eigen::bfloat16, Eigen::bfloat16>(p, threads, lowering, fused, timed);
    case DType::I8toI32: return convt_runnable<Rank, std::int8_t, std::int32_t>(p, threads, lowering, fused, timed);
    case DType::F64: return convt_runnable<Rank, double, double>(p, threads, lowering, fused, timed);
  }
  return {};
}

Runnable make_convt(const Problem& p, int threads, convt::Lowering lowering, Fused fused = Fused::Nothing,
                    Timed timed = Timed::Run) {
  switch (p.spec.nsp()) {
    case 1: return convt_by_type<3>(p, threads, lowering, fused, timed);
    case 2: return convt_by_type<4>(p, threads, lowering, fused, timed);
    default: return convt_by_type<5>(p, threads, lowering, fused, timed);
  }
}

template <std::size_t Rank>
void resolve(Problem& p) {
  std::array<convt::index_t, Rank - 2> strides{};
  for (std::size_t d = 0; d < Rank - 2; ++d) strides[d] = p.spec.s[d];
  std::vector<float> w(p.w);
  const auto plan =
      convt::make_plan(convt::TensorView<const float, Rank>(w.data(), rhs_shape<Rank>(p.spec)), lhs_shape<Rank>(p.spec),
                       strides, padding(p.spec), options<Rank>(p.spec, 1, convt::Lowering::PhaseSplit));
  for (std::size_t d = 0; d < Rank - 2; ++d) {
    p.pads.push_back(plan.padding()[d]);
    p.out_sp.push_back(plan.output_shape()[(p.spec.nchw ? 2 : 1) + d]);
  }
}

Problem make_problem(const ShapeSpec& s) {
  Problem p;
  p.spec = s;
  std::int64_t nx = s.n * s.c, nw = s.c / s.groups * s.o;
  for (std::size_t d = 0; d < s.nsp(); ++d) {
    nx *= s.in[d];
    nw *= s.k[d];
  }
  p.x = random_floats(static_cast<std::size_t>(nx), 1);
  p.w = random_floats(static_cast<std::size_t>(nw), 2);
  if (s.nsp() == 1) resolve<3>(p);
  if (s.nsp() == 2) resolve<4>(p);
  if (s.nsp() == 3) resolve<5>(p);
  return p;
}

/// The ceiling: row-major [M x K] * [K x O] with M = output positions,
/// K = C * prod(k) / prod(s) (the taps of an average phase), split over
/// threads by rows. Returns the runnable and its FLOPs. (Not defined for
/// grouped shapes, which are G small GEMMs, not one.)
std::pair<Eigen::Index, Eigen::Index> gemm_ceiling_dims(const ShapeSpec& s) {
  double m = static_cast<double>(s.n), k = static_cast<double>(s.c);
  for (std::size_t d = 0; d < s.nsp(); ++d) {
    m *= static_cast<double>(s.in[d] * s.s[d]);
    k *= static_cast<double>(s.k[d]) / static_cast<double>(s.s[d]);
  }
  return {static_cast<Eigen::Index>(m), std::max<Eigen::Index>(1, std::lround(k))};
}

double make_gemm_ceiling_flops(const ShapeSpec& s) {
  const auto [M, K] = gemm_ceiling_dims(s);
  return 2.0 * static_cast<double>(M) * static_cast<double>(K) * static_cast<double>(s.o);
}

std::pair<Runnable, double> make_gemm_ceiling(const ShapeSpec& s, int threads) {
  using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const auto [M, K] = gemm_ceiling_dims(s);
  struct State {
    Mat a, b, c;
  };
  auto st = std::make_shared<State>();
  st->a = Mat::Random(M, K);
  st->b = Mat::Random(K, s.o);
  st->c = Mat::Zero(M, s.o);
  const int workers = threads;
  Runnable r;
  r.run = [st, workers, M = M] {
    const Eigen::Index chunk = (M + workers - 1) / workers;
    convt::detail::parallel_for(workers, workers, [&](convt::index_t u, int) {
      const Eigen::Index r0 = u * chunk, rows = std::min(chunk, M - r0);
      if (rows > 0) st->c.middleRows(r0, rows).noalias() = st->a.middleRows(r0, rows) * st->b;
    });
  };
  r.output = [] { return std::vector<float>{}; };
  return {r, make_gemm_ceiling_flops(s)};
}

/// Registers a benchmark whose state is built on first use, so filtered-out
/// benchmarks cost nothing and setup is never timed.
void register_one(const std::string& name, std::function<Runnable()> make, double flops) {
  auto cache = std::make_shared<std::shared_ptr<Runnable>>();
  benchmark::RegisterBenchmark(name.c_str(),
                               [cache, make, flops](benchmark::State& state) {
                                 if (!*cache) *cache = std::make_shared<Runnable>(make());
                                 Runnable& r = **cache;
                                 for (auto _ : state) r.run();
                                 state.counters["GFLOPs"] =
                                     benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
                               })
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond)
      ->MinTime(0.3);
}

// The dense lowering multiplies prod(s) times the useful FLOPs; beyond this
// it would take seconds per call and is left out (fcn32_2d: 1024x).
constexpr double kDenseFlopLimit = 3e11;

double dense_flops(const ShapeSpec& s) {
  double f = s.useful_flops();
  for (auto st : s.s) f *= static_cast<double>(st);
  return f;
}

void register_all(int all_threads) {
  for (const ShapeSpec& s : suite()) {
    // The problem (data, resolved pads) is shared by all of the shape's entries.
    auto problem = std::make_shared<std::shared_ptr<Problem>>();
    auto get = [problem, s]() -> const Problem& {
      if (!*problem) *problem = std::make_shared<Problem>(make_problem(s));
      return **problem;
    };
    for (int t : {1, all_threads}) {
      const std::string suffix = "/" + s.name + "/threads:" + std::to_string(t);
      register_one(
          "convt" + suffix, [get, t] { return make_convt(get(), t, convt::Lowering::PhaseSplit); }, s.useful_flops());
      if (s.base) {
        register_one(
            "convt_bias_relu" + suffix,
            [get, t] { return make_convt(get(), t, convt::Lowering::PhaseSplit, Fused::BiasRelu); }, s.useful_flops());
      }
      // Grouped shapes: the dense lowering is a GEMV per group (minutes).
      if (dense_flops(s) <= kDenseFlopLimit && s.groups == 1) {
        register_one(
            "dense" + suffix, [get, t] { return make_convt(get(), t, convt::Lowering::DenseDilated); },
            s.useful_flops());
      }
      if (s.dtype != DType::F32) continue;
      if (s.base && t == 1) {
        // Creation costs (one thread: packing is serial in convt and oneDNN).
        register_one(
            "create_convt" + suffix,
            [get] { return make_convt(get(), 1, convt::Lowering::PhaseSplit, Fused::Nothing, Timed::MakePlan); }, 0);
        register_one(
            "plan_convt" + suffix,
            [get] { return make_convt(get(), 1, convt::Lowering::PhaseSplit, Fused::Nothing, Timed::PlanFromKernel); },
            0);
#ifdef CONVT_BENCH_ONEDNN
        register_one(
            "create_onednn" + suffix,
            [get, s] {
              const Problem& p = get();
              // Every creation really creates: a user's first (and usually
              // only) creation of a primitive is never a cache hit.
              dnnl::set_primitive_cache_capacity(0);
              return Runnable{[&p, s] {
                                OneDnnDeconv peer(s, p.x, p.w, p.pads, p.out_sp, 1);
                                benchmark::DoNotOptimize(peer);
                              },
                              {}};
            },
            0);
#endif
      }
      if (s.groups == 1) {
        register_one(
            "gemm" + suffix, [s, t] { return make_gemm_ceiling(s, t).first; }, make_gemm_ceiling_flops(s));
      }
#ifdef CONVT_BENCH_ONEDNN
      register_one(
          "onednn" + suffix,
          [get, s, t] {
            const Problem& p = get();
            auto peer = std::make_shared<OneDnnDeconv>(s, p.x, p.w, p.pads, p.out_sp, t);
            return Runnable{[peer] { peer->run(); }, {}};
          },
          s.useful_flops());
#endif
#ifdef CONVT_BENCH_XNNPACK
      if (XnnpackDeconv::supports(s)) {
        register_one(
            "xnnpack" + suffix,
            [get, s, t] {
              const Problem& p = get();
              auto peer = std::make_shared<XnnpackDeconv>(s, p.x, p.w, p.pads, p.out_sp, t);
              return Runnable{[peer] { peer->run(); }, {}};
            },
            s.useful_flops());
      }
#endif
    }
  }
}

/// Largest |a - b| relative to the largest |b|.
double relative_error(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  double worst = 0, scale = 1e-30;
  for (std::size_t i = 0; i < a.size(); ++i) {
    worst = std::max(worst, static_cast<double>(std::abs(a[i] - b[i])));
    scale = std::max(scale, static_cast<double>(std::abs(b[i])));
  }
  return worst / scale;
}

int check_all(int threads) {
  int failures = 0, passes = 0;
  auto report = [&](const std::string& what, double err, double tol) {
    const bool ok = err <= tol;
    std::printf("%-34s max rel. error %.3g %s\n", what.c_str(), err, ok ? "ok" : "MISMATCH");
    (ok ? passes : failures) += 1;
  };
  for (const ShapeSpec& s : suite()) {
    if (s.dtype != DType::F32) continue;
    const Problem p = make_problem(s);
    auto convt_run = make_convt(p, threads, convt::Lowering::PhaseSplit);
    convt_run.run();
    const auto want = convt_run.output();
    if (s.base) {
      // The fused bias + ReLU entry computes relu(conv + bias).
      auto fused = make_convt(p, threads, convt::Lowering::PhaseSplit, Fused::BiasRelu);
      fused.run();
      const auto bias = random_floats(static_cast<std::size_t>(s.o), 3);
      std::int64_t positions = s.n;
      for (auto e : p.out_sp) positions *= e;
      std::vector<float> expect(want.size());
      for (std::size_t i = 0; i < want.size(); ++i) {
        const std::int64_t idx = static_cast<std::int64_t>(i);
        const std::int64_t o = s.nchw ? idx / (positions / s.n) % s.o : idx % s.o;
        expect[i] = std::max(0.0f, want[i] + bias[static_cast<std::size_t>(o)]);
      }
      report(s.name + " fused bias+ReLU", relative_error(fused.output(), expect), 1e-6);
    }
    if (dense_flops(s) <= kDenseFlopLimit && s.groups == 1) {
      auto dense = make_convt(p, threads, convt::Lowering::DenseDilated);
      dense.run();
      report(s.name + " dense lowering", relative_error(dense.output(), want), 1e-5);
    }
#ifdef CONVT_BENCH_ONEDNN
    OneDnnDeconv dnnl(s, p.x, p.w, p.pads, p.out_sp, threads);
    dnnl.run();
    report(s.name + " oneDNN", relative_error(dnnl.output(), want), 1e-4);
#endif
#ifdef CONVT_BENCH_XNNPACK
    if (XnnpackDeconv::supports(s)) {
      XnnpackDeconv xnn(s, p.x, p.w, p.pads, p.out_sp, threads);
      xnn.run();
      report(s.name + " XNNPACK", relative_error(xnn.output(), want), 1e-4);
    }
#endif
  }
  std::printf("peers: %d passed, %d failed\n", passes, failures);
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace bench

#ifndef CONVT_BENCH_PEERS
#define CONVT_BENCH_PEERS "unknown"
#endif

int main(int argc, char** argv) {
  const int all_threads = std::max(1u, std::thread::hardware_concurrency());
  // Which peers this build has (bench/CMakeLists.txt leaves out a missing or
  // broken one): printed so a table without a column explains itself.
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--check") == 0) {
      std::printf("peers in this build: %s\n", CONVT_BENCH_PEERS);
      return bench::check_all(all_threads);
    }
  }
  benchmark::AddCustomContext("peers", CONVT_BENCH_PEERS);
  // Eigen's operator* (used by the GEMM ceiling) would otherwise fork OpenMP
  // threads inside our own row split: the ceiling splits rows itself.
  Eigen::setNbThreads(1);
  bench::register_all(all_threads);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
