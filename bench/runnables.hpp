// bench/runnables.hpp — what the benchmarks time: a problem (data and
// resolved pads) and, for each library, a Runnable made from it; and the
// registration of one entry with Google Benchmark.
#pragma once

#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <convt/convt.hpp>

#include "shapes.hpp"

namespace bench {

/// Something to time: run() is the timed call, output() its f32 result.
/// A chain of layers (a whole model) also adds each layer's seconds into
/// step_seconds, so the entry reports every layer's time inside the model,
/// where the layers before it have left the caches full of their own data.
struct Runnable {
  std::function<void()> run;
  std::function<std::vector<float>()> output;
  std::shared_ptr<std::vector<double>> step_seconds = nullptr;
};

inline std::vector<float> random_floats(std::size_t n, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(gen);
  return v;
}

inline std::string spatial_letters(std::size_t n) { return std::string("DHW").substr(3 - n); }

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

inline convt::Padding padding(const ShapeSpec& s) {
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

inline Runnable make_convt(const Problem& p, int threads, convt::Lowering lowering, Fused fused = Fused::Nothing,
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

inline Problem make_problem(const ShapeSpec& s) {
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
inline std::pair<Eigen::Index, Eigen::Index> gemm_ceiling_dims(const ShapeSpec& s) {
  double m = static_cast<double>(s.n), k = static_cast<double>(s.c);
  for (std::size_t d = 0; d < s.nsp(); ++d) {
    m *= static_cast<double>(s.in[d] * s.s[d]);
    k *= static_cast<double>(s.k[d]) / static_cast<double>(s.s[d]);
  }
  return {static_cast<Eigen::Index>(m), std::max<Eigen::Index>(1, std::lround(k))};
}

inline double make_gemm_ceiling_flops(const ShapeSpec& s) {
  const auto [M, K] = gemm_ceiling_dims(s);
  return 2.0 * static_cast<double>(M) * static_cast<double>(K) * static_cast<double>(s.o);
}

inline std::pair<Runnable, double> make_gemm_ceiling(const ShapeSpec& s, int threads) {
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

/// Spins (does not sleep) for `d`: a caller busy with work of its own.
inline void spin_for(std::chrono::microseconds d) {
  const auto end = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < end) {
  }
}

/// Idle time before each layer of the "_after_idle" model entries: longer
/// than a pool's helpers spin before they sleep (Eigen's pool: ~10 us), shorter
/// than convt's default helpers linger (parallel.hpp).
inline constexpr std::chrono::microseconds kIdleBetweenLayers{100};

/// How an entry is timed: the wall time of each run, or (a chain whose
/// step_seconds are set) the sum of its steps' seconds only, not what the
/// chain does between them (chain_of's idle time).
enum class Clocked { Run, Steps };

/// Registers a benchmark whose state is built on first use, so filtered-out
/// benchmarks cost nothing and setup is never timed.
inline void register_one(const std::string& name, std::function<Runnable()> make, double flops,
                         Clocked clocked = Clocked::Run) {
  auto cache = std::make_shared<std::shared_ptr<Runnable>>();
  auto* b = benchmark::RegisterBenchmark(name.c_str(), [cache, make, flops, clocked](benchmark::State& state) {
    if (!*cache) *cache = std::make_shared<Runnable>(make());
    Runnable& r = **cache;
    auto clear_steps = [&r] {
      if (r.step_seconds) std::fill(r.step_seconds->begin(), r.step_seconds->end(), 0.0);
    };
    clear_steps();
    for (auto _ : state) {
      if (clocked == Clocked::Run) {
        r.run();
        continue;
      }
      clear_steps();
      r.run();
      double seconds = 0;
      for (double x : *r.step_seconds) seconds += x;
      state.SetIterationTime(seconds);
    }
    state.counters["GFLOPs"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    // "layer<i>_ms": layer i's (1-based) milliseconds per run of the chain.
    for (std::size_t i = 0; clocked == Clocked::Run && r.step_seconds && i < r.step_seconds->size(); ++i) {
      state.counters["layer" + std::to_string(i + 1) + "_ms"] =
          benchmark::Counter(1e3 * (*r.step_seconds)[i], benchmark::Counter::kAvgIterations);
    }
  });
  if (clocked == Clocked::Run) {
    b->UseRealTime();
  } else {
    b->UseManualTime();
  }
  b->Unit(benchmark::kMillisecond)->MinTime(0.3);
}

}  // namespace bench
