// bench_conv_transpose — convt against its own dense lowering, a GEMM of the
// same useful FLOPs (the ceiling), oneDNN and XNNPACK (when found), on the
// suite of bench/shapes.hpp and on whole decoders (bench/models.hpp: per
// layer, and "model_*" entries for all of a model's layers), at 1 thread and
// at all hardware threads.
//   bench_conv_transpose [google-benchmark flags]
//   bench_conv_transpose --check   (peers and lowerings agree with convt; no timing)
//   bench_conv_transpose --check-models   (the same on the layers of bench/models.hpp)
//   bench_conv_transpose --list-models    (the models' layers as JSON, for scripts/bench_python_peers.py)
// GFLOPs counters are useful FLOPs (2*N*C*O*prod(in)*prod(k)) per second; for
// the ceiling, the GEMM's own FLOPs.
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <convt/convt.hpp>

#include "models.hpp"
#include "runnables.hpp"
#include "shapes.hpp"
#ifdef CONVT_BENCH_ONEDNN
#include "peer_onednn.hpp"
#endif
#ifdef CONVT_BENCH_XNNPACK
#include "peer_xnnpack.hpp"
#endif

namespace bench {
namespace {

// The dense lowering multiplies prod(s) times the useful FLOPs; beyond this
// it would take seconds per call and is left out (fcn32_2d: 1024x).
constexpr double kDenseFlopLimit = 3e11;

double dense_flops(const ShapeSpec& s) {
  double f = s.useful_flops();
  for (auto st : s.s) f *= static_cast<double>(st);
  return f;
}

/// A peer's entry for `p` at `threads` ("onednn" or "xnnpack"), when this
/// build has the peer and the peer takes the shape.
std::optional<Runnable> peer_runnable(const std::string& peer, const Problem& p, int threads) {
  const ShapeSpec& s = p.spec;
#ifdef CONVT_BENCH_ONEDNN
  if (peer == "onednn") {
    auto deconv = std::make_shared<OneDnnDeconv>(s, p.x, p.w, p.pads, p.out_sp, threads);
    return Runnable{[deconv] { deconv->run(); }, {}};
  }
#endif
#ifdef CONVT_BENCH_XNNPACK
  if (peer == "xnnpack" && XnnpackDeconv::supports(s)) {
    auto deconv = std::make_shared<XnnpackDeconv>(s, p.x, p.w, p.pads, p.out_sp, threads);
    return Runnable{[deconv] { deconv->run(); }, {}};
  }
#endif
  (void)peer;  // with neither peer compiled in
  (void)s;
  (void)threads;
  return std::nullopt;
}

/// Making what a first call needs, one thread: convt's plan from the
/// unpacked kernel, or oneDNN's primitive with its weight reorder.
std::optional<Runnable> creation_runnable(const std::string& library, const Problem& p) {
  if (library == "convt") return make_convt(p, 1, convt::Lowering::PhaseSplit, Fused::Nothing, Timed::MakePlan);
#ifdef CONVT_BENCH_ONEDNN
  if (library == "onednn") {
    // Every creation really creates: a user's first (and usually only)
    // creation of a primitive is never a cache hit.
    dnnl::set_primitive_cache_capacity(0);
    return Runnable{[&p] {
                      OneDnnDeconv peer(p.spec, p.x, p.w, p.pads, p.out_sp, 1);
                      benchmark::DoNotOptimize(peer);
                    },
                    {}};
  }
#endif
  (void)p;
  return std::nullopt;
}

const char* const kPeers[] = {"onednn", "xnnpack"};

bool peer_supports(const std::string& peer, const ShapeSpec& s) {
  (void)peer;  // with neither peer compiled in
  (void)s;
#ifdef CONVT_BENCH_ONEDNN
  if (peer == "onednn") return true;
#endif
#ifdef CONVT_BENCH_XNNPACK
  if (peer == "xnnpack") return XnnpackDeconv::supports(s);
#endif
  return false;
}

/// A shape's problem, made on first use and shared by all of its entries.
std::function<const Problem&()> lazy_problem(const ShapeSpec& s) {
  auto problem = std::make_shared<std::shared_ptr<Problem>>();
  return [problem, s]() -> const Problem& {
    if (!*problem) *problem = std::make_shared<Problem>(make_problem(s));
    return **problem;
  };
}

void register_shape(const ShapeSpec& s, int all_threads, bool layer_of_model) {
  const auto get = lazy_problem(s);
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
    if (!layer_of_model && dense_flops(s) <= kDenseFlopLimit && s.groups == 1) {
      register_one(
          "dense" + suffix, [get, t] { return make_convt(get(), t, convt::Lowering::DenseDilated); }, s.useful_flops());
    }
    if (s.dtype != DType::F32) continue;
    if (s.base && t == 1) {
      // Creation costs (one thread: packing is serial in convt and oneDNN).
      register_one(
          "create_convt" + suffix, [get] { return *creation_runnable("convt", get()); }, 0);
      register_one(
          "plan_convt" + suffix,
          [get] { return make_convt(get(), 1, convt::Lowering::PhaseSplit, Fused::Nothing, Timed::PlanFromKernel); },
          0);
      if (peer_supports("onednn", s)) {
        register_one(
            "create_onednn" + suffix, [get] { return *creation_runnable("onednn", get()); }, 0);
      }
    }
    if (s.groups == 1) {
      register_one(
          "gemm" + suffix, [s, t] { return make_gemm_ceiling(s, t).first; }, make_gemm_ceiling_flops(s));
    }
    for (const std::string peer : kPeers) {
      if (peer_supports(peer, s)) {
        register_one(
            peer + suffix, [get, peer, t] { return *peer_runnable(peer, get(), t); }, s.useful_flops());
      }
    }
  }
}

/// Whole models: every transposed convolution of the model in turn, each on
/// its own input of the shape it has there ("model_<library>/<model>"), and
/// their creation ("create_model_<library>/<model>", one thread). Each layer
/// also has the entries of a single shape.
void register_models(int all_threads) {
  for (const Model& m : models()) {
    std::vector<std::function<const Problem&()>> layers;
    double flops = 0;
    for (const ShapeSpec& s : m.layers) {
      register_shape(s, all_threads, true);
      layers.push_back(lazy_problem(s));
      flops += s.useful_flops();
    }
    // Runs the per-layer runnables that `make` builds, in model order,
    // timing each (two clock reads per layer: tens of nanoseconds against
    // layers of 0.02 ms and more).
    // With `idle_between`, the caller first spins alone for that long before
    // each layer (untimed): the other layers of a decoder, which leave a
    // library's helper threads without work.
    auto chain_of = [](std::vector<std::function<const Problem&()>> problems, auto make,
                       std::chrono::microseconds idle_between = std::chrono::microseconds(0)) {
      auto steps = std::make_shared<std::vector<Runnable>>();
      for (const auto& get : problems) steps->push_back(make(get()));
      auto seconds = std::make_shared<std::vector<double>>(steps->size(), 0.0);
      return Runnable{[steps, seconds, idle_between] {
                        for (std::size_t i = 0; i < steps->size(); ++i) {
                          if (idle_between.count() > 0) spin_for(idle_between);
                          auto start = std::chrono::steady_clock::now();
                          (*steps)[i].run();
                          (*seconds)[i] +=
                              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
                        }
                      },
                      {},
                      seconds};
    };
    auto chain = [layers, chain_of](auto make) { return chain_of(layers, make); };
    auto chain_after_idle = [layers, chain_of](auto make) { return chain_of(layers, make, kIdleBetweenLayers); };
    // The same layers in bf16 (also with bias and ReLU) and int8 -> int32
    // (convt only: the peers' deconvolutions are timed in f32): what a
    // reduced-precision model costs against its f32 original.
    struct Typed {
      std::string kind;
      Fused fused;
      std::vector<std::function<const Problem&()>> problems;
    };
    std::vector<Typed> typed;
    for (const auto& [kind, dtype, fused] : {std::tuple{"model_convt_bf16", DType::BF16, Fused::Nothing},
                                             {"model_convt_bf16_bias_relu", DType::BF16, Fused::BiasRelu},
                                             {"model_convt_i8i32", DType::I8toI32, Fused::Nothing}}) {
      typed.push_back({kind, fused, {}});
      for (ShapeSpec s : m.layers) {
        s.dtype = dtype;
        typed.back().problems.push_back(lazy_problem(s));
      }
    }
    bool all_onednn = true, all_xnnpack = true;
    for (const ShapeSpec& s : m.layers) {
      all_onednn = all_onednn && peer_supports("onednn", s);
      all_xnnpack = all_xnnpack && peer_supports("xnnpack", s);
    }
    for (int t : {1, all_threads}) {
      const std::string suffix = "/" + m.name + "/threads:" + std::to_string(t);
      register_one(
          "model_convt" + suffix,
          [chain, t] { return chain([t](const Problem& p) { return make_convt(p, t, convt::Lowering::PhaseSplit); }); },
          flops);
      register_one(
          "model_convt_bias_relu" + suffix,
          [chain, t] {
            return chain(
                [t](const Problem& p) { return make_convt(p, t, convt::Lowering::PhaseSplit, Fused::BiasRelu); });
          },
          flops);
      for (const Typed& ty : typed) {
        register_one(
            ty.kind + suffix,
            [chain_of, problems = ty.problems, fused = ty.fused, t] {
              return chain_of(problems, [t, fused](const Problem& p) {
                return make_convt(p, t, convt::Lowering::PhaseSplit, fused);
              });
            },
            flops);
      }
      for (const std::string peer : kPeers) {
        if (peer == "onednn" ? !all_onednn : !all_xnnpack) continue;
        register_one(
            "model_" + peer + suffix,
            [chain, peer, t] { return chain([&](const Problem& p) { return *peer_runnable(peer, p, t); }); }, flops);
      }
      if (t != 1) {
        // Layers timed after the caller idled alone: what a thread hand-off
        // costs when the helpers have gone quiet (model time = the layers').
        register_one(
            "model_convt_after_idle" + suffix,
            [chain_after_idle, t] {
              return chain_after_idle([t](const Problem& p) { return make_convt(p, t, convt::Lowering::PhaseSplit); });
            },
            flops, Clocked::Steps);
        if (all_onednn) {
          register_one(
              "model_onednn_after_idle" + suffix,
              [chain_after_idle, t] {
                return chain_after_idle([&](const Problem& p) { return *peer_runnable("onednn", p, t); });
              },
              flops, Clocked::Steps);
        }
        continue;
      }
      for (const std::string library : {"convt", "onednn"}) {
        if (library == "onednn" && !all_onednn) continue;
        register_one(
            "create_model_" + library + suffix,
            [chain, library] { return chain([&](const Problem& p) { return *creation_runnable(library, p); }); }, 0);
      }
    }
  }
}

void register_all(int all_threads) {
  for (const ShapeSpec& s : suite()) register_shape(s, all_threads, false);
  register_models(all_threads);
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

int check_all(int threads, const std::vector<ShapeSpec>& shapes) {
  int failures = 0, passes = 0;
  auto report = [&](const std::string& what, double err, double tol) {
    const bool ok = err <= tol;
    std::printf("%-34s max rel. error %.3g %s\n", what.c_str(), err, ok ? "ok" : "MISMATCH");
    (ok ? passes : failures) += 1;
  };
  for (const ShapeSpec& s : shapes) {
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
      return bench::check_all(all_threads, bench::suite());
    }
    if (std::strcmp(argv[i], "--list-models") == 0) {
      bench::print_models_json(bench::models());
      return 0;
    }
    if (std::strcmp(argv[i], "--check-models") == 0) {  // the models' layers: larger, not a ctest test
      std::printf("peers in this build: %s\n", CONVT_BENCH_PEERS);
      std::vector<bench::ShapeSpec> layers;
      for (const bench::Model& m : bench::models()) layers.insert(layers.end(), m.layers.begin(), m.layers.end());
      return bench::check_all(all_threads, layers);
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
