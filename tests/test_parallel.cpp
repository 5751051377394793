// Phase/tile/thread boundaries: every lowering, thread count and workspace cap
// gives the reference result, and results are bitwise identical across
// thread counts and workspace caps.
#include <array>
#include <atomic>
#include <chrono>
#include <complex>
#include <cstring>
#include <initializer_list>
#include <thread>
#include <type_traits>

#include "forced_packet_groups_swap.hpp"
#include "test_util.hpp"

namespace {

using testutil::check;

ref::Problem big2d(int s, int k, bool tk) {
  ref::Problem p;
  // 13 x 11 input, batch 3: phase row counts are not multiples of the
  // register block, so tiles end at ragged edges.
  p.lhs_shape = {3, 13, 11, 5};
  p.rhs_shape = {k, k, tk ? 7 : 5, tk ? 5 : 7};
  p.lhs_spec = "NHWC";
  p.rhs_spec = "HWIO";
  p.out_spec = "NHWC";
  p.strides = {s, s};
  p.padding = "SAME";
  p.dilation = {1, 1};
  p.transpose_kernel = tk;
  return p;
}

TEST(Parallel, ThreadsTilesLoweringsMatchReference) {
  for (int s : {1, 2, 3})
    for (int k : {2, 3, 4})
      for (int threads : {1, 2, 3, 4})
        for (std::size_t ws : {std::size_t{1}, std::size_t{40000}, std::size_t{16} << 20})
          for (auto lowering : {convt::Lowering::PhaseSplit, convt::Lowering::DenseDilated}) {
            convt::ConvTransposeOptions<2> opt;
            opt.num_threads = threads;
            opt.workspace_bytes = ws;
            opt.lowering = lowering;
            SCOPED_TRACE(::testing::Message() << "threads " << threads << " workspace " << ws << " dense "
                                              << (lowering == convt::Lowering::DenseDilated));
            check<4, float>(big2d(s, k, k == 3), opt, static_cast<std::uint32_t>(s * 10 + k));
          }
}

template <class T>
void bitwise_identical() {
  ref::Problem p = big2d(2, 3, false);
  p.lhs_shape = {4, 21, 17, 9};
  p.rhs_shape = {3, 3, 9, 6};
  const auto x = testutil::random_values<T>(static_cast<std::size_t>(ref::product(p.lhs_shape)), 3);
  const auto w = testutil::random_values<T>(static_cast<std::size_t>(ref::product(p.rhs_shape)), 4);
  const convt::TensorView<const T, 4> lhs(x.data(), testutil::to_array<4>(p.lhs_shape));
  const convt::TensorView<const T, 4> rhs(w.data(), testutil::to_array<4>(p.rhs_shape));
  convt::ConvTransposeOptions<2> opt;
  opt.num_threads = 1;
  const auto base = convt::conv_transpose(lhs, rhs, {2, 2}, convt::Padding::same(), opt);
  for (int threads : {1, 2, 3, 4, 7})
    for (std::size_t ws : {std::size_t{1}, std::size_t{3000}, std::size_t{100000}, std::size_t{1} << 30}) {
      opt.num_threads = threads;
      opt.workspace_bytes = ws;
      const auto got = convt::conv_transpose(lhs, rhs, {2, 2}, convt::Padding::same(), opt);
      ASSERT_EQ(0, std::memcmp(got.data(), base.data(), sizeof(T) * static_cast<std::size_t>(base.size())))
          << "threads " << threads << " workspace " << ws;
    }
}

TEST(Parallel, BitwiseIdenticalFloat) { bitwise_identical<float>(); }
TEST(Parallel, BitwiseIdenticalDouble) { bitwise_identical<double>(); }
TEST(Parallel, BitwiseIdenticalComplex) { bitwise_identical<std::complex<float>>(); }
TEST(Parallel, BitwiseIdenticalInt8) { bitwise_identical<std::int8_t>(); }

// Random (inexact) values: the result with every thread count and workspace
// cap in `caps` is bit for bit the one-thread result.
void bitwise_stable_random(const std::array<convt::index_t, 4>& lhs_shape,
                           const std::array<convt::index_t, 4>& rhs_shape, const convt::Padding& pad,
                           std::uint32_t seed, std::initializer_list<std::size_t> caps) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-1, 1);
  std::vector<float> x(static_cast<std::size_t>(lhs_shape[0] * lhs_shape[1] * lhs_shape[2] * lhs_shape[3]));
  std::vector<float> w(static_cast<std::size_t>(rhs_shape[0] * rhs_shape[1] * rhs_shape[2] * rhs_shape[3]));
  for (auto& v : x) v = dist(gen);
  for (auto& v : w) v = dist(gen);
  const convt::TensorView<const float, 4> lhs(x.data(), lhs_shape);
  const convt::TensorView<const float, 4> rhs(w.data(), rhs_shape);
  convt::ConvTransposeOptions<2> opt;
  opt.num_threads = 1;
  const auto base = convt::conv_transpose(lhs, rhs, {2, 2}, pad, opt);
  for (int threads : {2, 3})
    for (std::size_t ws : caps) {
      opt.num_threads = threads;
      opt.workspace_bytes = ws;
      const auto got = convt::conv_transpose(lhs, rhs, {2, 2}, pad, opt);
      ASSERT_EQ(0, std::memcmp(got.data(), base.data(), sizeof(float) * static_cast<std::size_t>(base.size())))
          << "threads " << threads << " workspace " << ws;
    }
}

// Realistic values (not exactly representable sums) to make rounding visible.
TEST(Parallel, BitwiseIdenticalRandomFloats) {
  bitwise_stable_random({2, 33, 29, 40}, {4, 4, 40, 24}, convt::Padding::same(), 1,
                        {std::size_t{1}, std::size_t{50000}, std::size_t{1} << 26});
}

// One plan shared by many threads running concurrently.
TEST(Parallel, ConcurrentRunsOnOnePlan) {
  ref::Problem p = big2d(2, 4, false);
  const auto w = testutil::random_values<float>(static_cast<std::size_t>(ref::product(p.rhs_shape)), 8);
  const convt::TensorView<const float, 4> rhs(w.data(), testutil::to_array<4>(p.rhs_shape));
  convt::ConvTransposeOptions<2> opt;
  opt.num_threads = 2;
  const auto plan = convt::make_plan(rhs, testutil::to_array<4>(p.lhs_shape), {2, 2}, convt::Padding::same(), opt);
  std::vector<std::vector<float>> inputs, expected;
  for (std::uint32_t i = 0; i < 6; ++i) {
    inputs.push_back(testutil::random_values<float>(static_cast<std::size_t>(ref::product(p.lhs_shape)), 100 + i));
    auto t = plan(convt::TensorView<const float, 4>(inputs.back().data(), plan.input_shape()));
    expected.emplace_back(t.data(), t.data() + t.size());
  }
  std::vector<std::thread> pool;
  std::vector<int> ok(6, 0);
  for (int i = 0; i < 6; ++i) {
    pool.emplace_back([&, i] {
      for (int rep = 0; rep < 5; ++rep) {
        auto t =
            plan(convt::TensorView<const float, 4>(inputs[static_cast<std::size_t>(i)].data(), plan.input_shape()));
        if (std::memcmp(t.data(), expected[static_cast<std::size_t>(i)].data(),
                        sizeof(float) * static_cast<std::size_t>(t.size())) != 0)
          return;
      }
      ok[static_cast<std::size_t>(i)] = 1;
    });
  }
  for (auto& t : pool) t.join();
  for (int i = 0; i < 6; ++i) EXPECT_EQ(ok[static_cast<std::size_t>(i)], 1) << "thread " << i;
}

// The default pool's helpers linger between jobs (parallel.hpp): jobs posted
// back to back, after short and long idle gaps, by two callers at once. Every
// unit runs exactly once, on a worker id below the job's worker count that
// no other unit of the job is using at the time (each worker owns scratch).
TEST(Parallel, HandOffBetweenJobs) {
  auto caller = [](int workers, std::chrono::microseconds gap, int jobs, bool* ok) {
    for (int job = 0; job < jobs; ++job) {
      const auto until = std::chrono::steady_clock::now() + gap;
      while (std::chrono::steady_clock::now() < until) {
      }
      const convt::index_t units = 3 + job % 9;
      std::vector<std::atomic<int>> runs(static_cast<std::size_t>(units));
      std::vector<std::atomic<bool>> busy(static_cast<std::size_t>(workers));
      std::atomic<bool> bad{false};
      convt::detail::parallel_for(units, workers, [&](convt::index_t u, int w) {
        if (w < 0 || w >= workers || busy[static_cast<std::size_t>(w)].exchange(true)) {
          bad = true;
          return;
        }
        runs[static_cast<std::size_t>(u)].fetch_add(1);
        std::this_thread::yield();
        busy[static_cast<std::size_t>(w)] = false;
      });
      for (const auto& r : runs) bad = bad || r.load() != 1;
      if (bad) return;
    }
    *ok = true;
  };
  for (auto gap : {std::chrono::microseconds(0), std::chrono::microseconds(50), std::chrono::microseconds(400)}) {
    bool ok_one = false;
    caller(2, gap, 40, &ok_one);
    EXPECT_TRUE(ok_one) << "one caller, gap " << gap.count() << " us";
    bool ok_a = false, ok_b = false;
    std::thread a(caller, 2, gap, 40, &ok_a), b(caller, 3, gap, 40, &ok_b);
    a.join();
    b.join();
    EXPECT_TRUE(ok_a && ok_b) << "two callers, gap " << gap.count() << " us";
  }
}

// convt::set_default_pool_linger: checked, applied at once (also to a helper
// lingering now), 0 = the helpers sleep after every job.
TEST(Parallel, DefaultPoolLingerSetting) {
  using std::chrono::microseconds;
  const microseconds before = convt::default_pool_linger();
  for (auto bad : {microseconds(-1), convt::kMaxDefaultPoolLinger + microseconds(1)}) {
    try {
      convt::set_default_pool_linger(bad);
      ADD_FAILURE() << "accepted " << bad.count() << " us";
    } catch (const convt::Error& e) {
      EXPECT_NE(std::string(e.what()).find("linger = " + std::to_string(bad.count()) + " us"), std::string::npos)
          << e.what();
    }
    EXPECT_EQ(convt::default_pool_linger(), before);
  }
  const convt::detail::HelperRelay& relay = convt::detail::default_relay();
  auto one_job = [] {
    std::atomic<int> units_run{0};
    convt::detail::parallel_for(4, 2, [&](convt::index_t, int) { units_run.fetch_add(1); });
    EXPECT_EQ(units_run.load(), 4);
  };
  // Polls for up to `seconds` until some helper lingers (or none does).
  auto lingering_becomes = [&relay](bool some, double seconds) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while ((relay.lingering() > 0) != some && std::chrono::steady_clock::now() < until) std::this_thread::yield();
    return (relay.lingering() > 0) == some;
  };
  convt::set_default_pool_linger(convt::kMaxDefaultPoolLinger);
  EXPECT_EQ(convt::default_pool_linger(), convt::kMaxDefaultPoolLinger);
  one_job();
  EXPECT_TRUE(lingering_becomes(true, 5.0)) << "no helper lingers after a job with a 10 s linger";
  // Their 10 s are cut short by the new setting, well within 2 s.
  convt::set_default_pool_linger(microseconds(0));
  EXPECT_TRUE(lingering_becomes(false, 2.0)) << "a lingering helper kept polling after the linger was set to 0";
  one_job();
  EXPECT_FALSE(lingering_becomes(true, 0.05)) << "a helper lingered with the linger set to 0";
  convt::set_default_pool_linger(before);
}

}  // namespace

namespace {

// k == s with VALID padding: the phase's im2col matrix is the input itself
// and is read in place; output channel counts around the packet width
// exercise the register-transposed output write and its scalar remainders.
TEST(Parallel, InPlaceInputAndTransposedWriteBoundaries) {
  for (std::int64_t o : {1, 3, 4, 5, 8, 15, 16, 17, 33})
    for (std::int64_t n : {1, 3})
      for (int threads : {1, 2}) {
        ref::Problem p;
        p.lhs_shape = {n, 7, 5, 6};
        p.rhs_shape = {2, 2, 6, o};
        p.lhs_spec = "NHWC";
        p.rhs_spec = "HWIO";
        p.out_spec = "NHWC";
        p.strides = {2, 2};
        p.padding = "VALID";
        convt::ConvTransposeOptions<2> opt;
        opt.num_threads = threads;
        opt.workspace_bytes = 1;  // many tiles
        check<4, float>(p, opt, static_cast<std::uint32_t>(o));
        check<4, double>(p, opt, static_cast<std::uint32_t>(o + 1));
        p.strides = {1, 1};  // 1x1-like stride-1 case is not in place: taps != 1
        check<4, float>(p, opt, 2);
      }
  // 1x1 kernel at stride 3: one tap, rows map onto the input positions.
  ref::Problem q;
  q.lhs_shape = {2, 4, 3, 5};
  q.rhs_shape = {1, 1, 5, 17};
  q.lhs_spec = "NHWC";
  q.rhs_spec = "HWIO";
  q.out_spec = "NHWC";
  q.strides = {3, 3};
  q.padding = "VALID";
  check<4, float>(q);
}

}  // namespace

namespace {

// Phases with identical im2col share one GEMM (k = s, and FCN-like k = 2s
// where phases fall into two shift patterns per dimension); wide outputs
// split a group into groups of at most 256 columns, or of four phases up to
// 1024 columns, which gebp multiplies 256 columns at a time (130 features:
// 520 columns = 256 + 256 + 8; 300 features: three phases, 900 columns).
TEST(Parallel, GroupedPhasesMatchReferenceAndAreBitwiseStable) {
  struct Case {
    std::int64_t k, s, o;
    const char* pad;
  };
  for (const Case& cs : {Case{2, 2, 5, "VALID"}, Case{6, 3, 4, "SAME"}, Case{8, 4, 3, "SAME"}, Case{4, 2, 100, "SAME"},
                         Case{3, 3, 130, "VALID"}, Case{6, 2, 7, "VALID"}, Case{2, 2, 300, "VALID"}}) {
    ref::Problem p;
    p.lhs_shape = {2, 6, 5, 3};
    p.rhs_shape = {cs.k, cs.k, 3, cs.o};
    p.lhs_spec = "NHWC";
    p.rhs_spec = "HWIO";
    p.out_spec = "NHWC";
    p.strides = {cs.s, cs.s};
    p.padding = cs.pad;
    for (int threads : {1, 2, 3})
      for (std::size_t ws : {std::size_t{1}, std::size_t{1} << 24}) {
        convt::ConvTransposeOptions<2> opt;
        opt.num_threads = threads;
        opt.workspace_bytes = ws;
        check<4, float>(p, opt, static_cast<std::uint32_t>(cs.k * 10 + cs.o));
      }
    // Bitwise: random (inexact) values, every thread count and cap.
    std::mt19937 gen(static_cast<std::uint32_t>(cs.o));
    std::uniform_real_distribution<float> dist(-1, 1);
    std::vector<float> x(static_cast<std::size_t>(ref::product(p.lhs_shape))),
        w(static_cast<std::size_t>(ref::product(p.rhs_shape)));
    for (auto& v : x) v = dist(gen);
    for (auto& v : w) v = dist(gen);
    const convt::TensorView<const float, 4> lhs(x.data(), testutil::to_array<4>(p.lhs_shape));
    const convt::TensorView<const float, 4> rhs(w.data(), testutil::to_array<4>(p.rhs_shape));
    const convt::Padding pad = testutil::padding_for(p);
    convt::ConvTransposeOptions<2> opt;
    opt.num_threads = 1;
    const auto base = convt::conv_transpose(lhs, rhs, {cs.s, cs.s}, pad, opt);
    for (int threads : {2, 4})
      for (std::size_t ws : {std::size_t{1}, std::size_t{20000}}) {
        opt.num_threads = threads;
        opt.workspace_bytes = ws;
        const auto got = convt::conv_transpose(lhs, rhs, {cs.s, cs.s}, pad, opt);
        ASSERT_EQ(0, std::memcmp(got.data(), base.data(), sizeof(float) * static_cast<std::size_t>(base.size())))
            << "k " << cs.k << " s " << cs.s << " threads " << threads << " workspace " << ws;
      }
  }
}

}  // namespace

namespace {

// Narrow layers whose phases' shifts are translations of each other (k4 s2,
// k6 s3: each phase's rows are another's shifted by one) share one grid one
// row longer per dimension (phase_groups.hpp); each member writes only its
// window, so both ends of every dimension are where it can go wrong. Whole
// packets of channels take the indirect packing, 3 channels the gather;
// NCHW outputs the channel-strided write; odd outputs give members of
// different counts.
template <std::size_t Rank>
void translated_groups(std::int64_t in, std::int64_t k, std::int64_t s, std::int64_t c, std::int64_t o, const char* pad,
                       bool channels_last) {
  constexpr std::size_t S = Rank - 2;
  const std::string sp = std::string("DHW").substr(3 - S);
  ref::Problem p;
  p.lhs_shape.assign(1, 2);
  if (!channels_last) p.lhs_shape.push_back(c);
  for (std::size_t d = 0; d < S; ++d) p.lhs_shape.push_back(in + static_cast<std::int64_t>(d));
  if (channels_last) p.lhs_shape.push_back(c);
  p.lhs_spec = channels_last ? "N" + sp + "C" : "NC" + sp;
  p.out_spec = p.lhs_spec;
  p.rhs_spec = sp + "IO";
  p.rhs_shape.assign(S, k);
  p.rhs_shape.push_back(c);
  p.rhs_shape.push_back(o);
  p.strides.assign(S, s);
  p.padding = pad;
  if (p.padding == "EXPLICIT") p.pads.assign(S, {k - 2, k - 1});  // an output one longer than a multiple of s
  for (int threads : {1, 2, 3})
    for (std::size_t ws : {std::size_t{1}, std::size_t{1} << 24}) {
      convt::ConvTransposeOptions<S> opt;
      opt.num_threads = threads;
      opt.workspace_bytes = ws;
      check<Rank, float>(p, opt, static_cast<std::uint32_t>(k * 100 + o * 10 + threads));
    }
}

TEST(Parallel, TranslatedPhaseGroupsMatchReference) {
  for (const char* pad : {"SAME", "VALID", "EXPLICIT"}) {
    translated_groups<3>(13, 4, 2, 16, 32, pad, true);
    translated_groups<3>(50, 6, 3, 3, 5, pad, true);
    translated_groups<3>(13, 4, 2, 16, 8, pad, false);
    translated_groups<4>(5, 4, 2, 16, 3, pad, true);
    translated_groups<4>(5, 4, 2, 3, 7, pad, false);
    translated_groups<5>(3, 4, 2, 3, 2, pad, true);
  }
}

// Border bands (detail/border_bands.hpp): small inputs whose rows meet only
// some taps — 1 x 1 inputs (DCGAN's and pix2pix's first layers), 2 x 2 at
// batch 16 — in ranks 3 to 5, both layouts, narrow outputs (translated
// groups cut into bands), two feature groups, a dilated kernel, and a
// periodic input (never cut), padding `wider` than the kernel, against the
// reference for 1-3 threads.
template <std::size_t Rank, class T = float, class Out = void>
void border_bands(std::int64_t batch, std::int64_t in, std::int64_t k, std::int64_t s, std::int64_t c, std::int64_t o,
                  const char* pad, bool channels_last, std::int64_t groups = 1, std::int64_t dilation = 1,
                  bool periodic = false, std::int64_t wider = 0) {
  constexpr std::size_t S = Rank - 2;
  const std::string sp = std::string("DHW").substr(3 - S);
  ref::Problem p;
  p.lhs_shape.assign(1, batch);
  if (!channels_last) p.lhs_shape.push_back(c * groups);
  for (std::size_t d = 0; d < S; ++d) p.lhs_shape.push_back(in + (in > 1 ? static_cast<std::int64_t>(d) : 0));
  if (channels_last) p.lhs_shape.push_back(c * groups);
  p.lhs_spec = channels_last ? "N" + sp + "C" : "NC" + sp;
  p.out_spec = p.lhs_spec;
  p.rhs_spec = sp + "IO";
  p.rhs_shape.assign(S, k);
  p.rhs_shape.push_back(c);
  p.rhs_shape.push_back(o * groups);
  p.strides.assign(S, s);
  p.dilation.assign(S, dilation);
  p.groups = groups;
  p.periodic = periodic;
  p.padding = pad;
  if (p.padding == "EXPLICIT") p.pads.assign(S, {k - 1 + wider, k - 2 + wider});
  for (int threads : {1, 2, 3})
    for (std::size_t ws : {std::size_t{1}, std::size_t{1} << 24}) {
      convt::ConvTransposeOptions<S> opt;
      opt.num_threads = threads;
      opt.workspace_bytes = ws;
      SCOPED_TRACE(::testing::Message() << "batch " << batch << " in " << in << " k " << k << " s " << s << " c " << c
                                        << " o " << o << " " << pad << " threads " << threads << " ws " << ws);
      check<Rank, T, Out>(p, opt, static_cast<std::uint32_t>(k * 100 + o * 10 + threads));
    }
}

TEST(Parallel, BorderBandsMatchReference) {
  for (const char* pad : {"SAME", "VALID", "EXPLICIT"}) {
    border_bands<4>(1, 1, 4, 1, 20, 40, pad, true);   // DCGAN's projection, scaled down
    border_bands<4>(3, 1, 4, 2, 16, 24, pad, false);  // pix2pix's first layer
    border_bands<4>(16, 2, 4, 2, 8, 16, pad, true);
    border_bands<4>(1, 1, 4, 1, 16, 3, pad, true);  // a narrow group of translated phases
    border_bands<3>(2, 1, 5, 1, 7, 9, pad, true);
    border_bands<5>(1, 1, 3, 1, 16, 8, pad, false);
    border_bands<4>(1, 1, 4, 1, 5, 6, pad, true, 2);
    border_bands<4>(2, 1, 3, 1, 6, 6, pad, true, 1, 2);
  }
  border_bands<4>(1, 1, 4, 1, 8, 8, "VALID", true, 1, 1, true);
  // Padding wider than the kernel: edge rows meet no tap (bands of no taps).
  border_bands<4>(2, 1, 3, 1, 8, 8, "EXPLICIT", true, 1, 1, false, 2);
  border_bands<3>(1, 2, 4, 2, 16, 4, "EXPLICIT", false, 1, 1, false, 3);
}

// int8 reductions longer than float sums exactly (> 1024 terms): float
// blocks of 1024 added in double (types.hpp, gemm_tile), through border
// bands' runs (which split blocks), staged feature groups, both layouts,
// 1-3 threads and a workspace of one register block; exact, so any slip at
// a block edge shows.
TEST(Parallel, ExactFloatBlocksMatchReference) {
  for (const char* pad : {"SAME", "EXPLICIT"}) {
    border_bands<4, std::int8_t, std::int32_t>(1, 1, 4, 1, 100, 24, pad, true);    // 16 one-tap bands, depth 1600
    border_bands<4, std::int8_t, std::int32_t>(2, 1, 4, 2, 300, 8, pad, false);    // 4 taps x 300: depth 1200
    border_bands<4, std::int8_t, std::int32_t>(1, 3, 2, 1, 520, 3, pad, true, 2);  // 2 groups of 3 outputs, depth 2080
    border_bands<3, std::int8_t, std::int32_t>(1, 6, 3, 1, 1100, 5, pad, true);    // depth 3300: four blocks
    border_bands<3, std::uint8_t, std::int32_t>(1, 6, 3, 1, 90, 5, pad, false);    // uint8: blocks of 256
  }
}

// Bands are fixed by the shapes: results stay bitwise identical for every
// thread count and workspace cap.
TEST(Parallel, BorderBandsBitwiseStable) {
  bitwise_stable_random({16, 2, 3, 24}, {4, 4, 24, 16}, convt::Padding::explicit_pads({{2, 2}, {2, 2}}), 11,
                        {std::size_t{1}, std::size_t{9000}, std::size_t{1} << 24});
  bitwise_stable_random({1, 1, 1, 40}, {4, 4, 40, 24}, convt::Padding::explicit_pads({{3, 3}, {3, 3}}), 12,
                        {std::size_t{1}, std::size_t{1} << 24});
}

// The grid's extra rows are computed and dropped: results stay bitwise
// identical for every thread count and workspace cap.
TEST(Parallel, TranslatedPhaseGroupsBitwiseStable) {
  bitwise_stable_random({2, 9, 7, 16}, {4, 4, 16, 3}, convt::Padding::explicit_pads({{2, 2}, {2, 3}}), 7,
                        {std::size_t{1}, std::size_t{9000}, std::size_t{1} << 24});
}

}  // namespace

namespace {

// Channel-major inputs (NCHW-like): the column-major gather, and the input
// read in place as a column-major matrix when k = s without padding (one
// batch, or batch folded into positions as in "CNHW").
TEST(Parallel, ChannelMajorInputsInPlaceAndGathered) {
  struct L {
    const char *l, *o;
    std::int64_t n;
  };
  for (const L& lay :
       {L{"NCHW", "NCHW", 1}, L{"NCHW", "NHWC", 3}, L{"CNHW", "NCHW", 3}, L{"CHWN", "CNHW", 1}, L{"NCHW", "NCHW", 2}})
    for (std::int64_t k : {2, 3})
      for (int threads : {1, 2}) {
        ref::Problem p;
        auto ext = [&](const char* spec) {
          ref::Shape sh;
          for (const char* c = spec; *c; ++c) sh.push_back(*c == 'N' ? lay.n : *c == 'C' ? 5 : *c == 'H' ? 4 : 7);
          return sh;
        };
        p.lhs_shape = ext(lay.l);
        p.lhs_spec = lay.l;
        p.out_spec = lay.o;
        p.rhs_shape = {6, 5, k, k};
        p.rhs_spec = "OIHW";
        p.strides = {2, 2};
        p.padding = "VALID";
        convt::ConvTransposeOptions<2> opt;
        opt.num_threads = threads;
        opt.workspace_bytes = threads == 1 ? std::size_t{1} : std::size_t{1} << 24;
        check<4, float>(p, opt, static_cast<std::uint32_t>(k));
        check<4, double>(p, opt, static_cast<std::uint32_t>(k + 7), true);
      }
}

}  // namespace

namespace {

// Channel-contiguous inputs whose channels fill whole packets are packed for
// the GEMM straight from the input (detail/indirect_lhs.hpp). Phase, tap,
// padding (absent taps), tile and depth-block edges, thread counts and
// workspace caps against the reference; and bit for bit against the same
// input read through a channel-strided view, which takes the gathering path.
// Narrower inputs (bfloat16, 8-bit integers) are widened to the float GEMM as
// they are packed. Out: the result type (void: T).
template <class T, class Out = void>
void indirect_packing(std::int64_t channels, std::int64_t groups) {
  using Res = std::conditional_t<std::is_void_v<Out>, T, Out>;
  struct Case {
    std::int64_t k, s, d;
    const char* pad;
    std::int64_t lo, hi;
  };
  for (const Case& c : {Case{3, 1, 1, "SAME", 0, 0}, Case{4, 2, 1, "SAME", 0, 0}, Case{5, 3, 1, "EXPLICIT", -1, 4},
                        Case{3, 2, 2, "SAME", 0, 0}, Case{7, 1, 1, "EXPLICIT", 6, 6}})
    for (int threads : {1, 2, 3})
      for (std::size_t ws : {std::size_t{1}, std::size_t{40000}, std::size_t{16} << 20}) {
        ref::Problem p;
        p.lhs_shape = {2, 9, 7, channels};
        p.rhs_shape = {c.k, c.k, channels / groups, 6 * groups};
        p.lhs_spec = "NHWC";
        p.rhs_spec = "HWIO";
        p.out_spec = "NHWC";
        p.strides = {c.s, c.s};
        p.dilation = {c.d, c.d};
        p.padding = c.pad;
        if (p.padding == "EXPLICIT") p.pads = {{c.lo, c.hi}, {c.hi, c.lo}};
        p.groups = groups;
        convt::ConvTransposeOptions<2> opt;
        opt.num_threads = threads;
        opt.workspace_bytes = ws;
        SCOPED_TRACE(::testing::Message() << "threads " << threads << " workspace " << ws);
        check<4, T, Out>(p, opt, static_cast<std::uint32_t>(c.k * 10 + c.s), ws == 1);

        // The same values through a view with channel stride 2.
        const auto shape = testutil::to_array<4>(p.lhs_shape);
        const auto x = testutil::random_values<T>(static_cast<std::size_t>(ref::product(p.lhs_shape)), 5);
        std::vector<T> spread(2 * x.size());
        for (std::size_t i = 0; i < x.size(); ++i) spread[2 * i] = x[i];
        const auto w = testutil::random_values<T>(static_cast<std::size_t>(ref::product(p.rhs_shape)), 6);
        const convt::TensorView<const T, 4> rhs(w.data(), testutil::to_array<4>(p.rhs_shape));
        const convt::TensorView<const T, 4> dense(x.data(), shape);
        auto st = dense.strides();
        for (auto& e : st) e *= 2;
        const convt::TensorView<const T, 4> strided(spread.data(), shape, st);
        const auto o = testutil::options_for<4>(p, opt);
        const auto pad = testutil::padding_for(p);
        const auto a = convt::conv_transpose<Out>(dense, rhs, {c.s, c.s}, pad, o);
        const auto b = convt::conv_transpose<Out>(strided, rhs, {c.s, c.s}, pad, o);
        ASSERT_EQ(a.shape(), b.shape());
        ASSERT_EQ(0, std::memcmp(a.data(), b.data(), sizeof(Res) * static_cast<std::size_t>(a.size())));
      }
}

TEST(Parallel, IndirectPackingFloat) {
  indirect_packing<float>(16, 1);
  indirect_packing<float>(32, 2);
}

TEST(Parallel, IndirectPackingDouble) {
  indirect_packing<double>(8, 1);
  indirect_packing<double>(32, 2);
}

TEST(Parallel, IndirectPackingComplex) { indirect_packing<std::complex<float>>(16, 1); }

TEST(Parallel, IndirectPackingBfloat16) {
  indirect_packing<Eigen::bfloat16>(16, 1);
  indirect_packing<Eigen::bfloat16, float>(32, 2);
}

// int8 -> int32 sums exact in float up to a depth of 1024, in exact float
// blocks beyond (k7: 32 x 49 terms); uint8 (its values above 127 are in
// tests/test_pack.cpp).
TEST(Parallel, IndirectPacking8BitIntegers) {
  indirect_packing<std::int8_t, std::int32_t>(16, 1);
  indirect_packing<std::int8_t, std::int32_t>(32, 2);
  indirect_packing<std::uint8_t, std::int32_t>(32, 1);
}

}  // namespace

namespace {

void kernel_as_lhs_groups_match_reference();

// Phase groups of fewer rows than gebp's register block multiply with the
// kernel as gebp's lhs (tiling.hpp's kernel_as_lhs): k4 s2 p1 with 80
// output features (no translated groups) on inputs whose phases have 1-5,
// 12, 16, 32, 47, 48 and 49 rows (float's block is 48 rows of 16-row
// packets; double's 24 of 8; 4 and 12 with SSE's 4-float packets), one tap
// band (1 x 1), channels that would be packed in place (16) and gathered
// (5), channel-major inputs, the input read in place (k = s), two feature
// groups, 1-3 threads and a workspace of one byte. Whole packets of rows
// swap on some CPUs and not on others (cpu.hpp): both ways, on any CPU.
TEST(Parallel, KernelAsLhsGroupsMatchReference) {
  for (bool swap : {false, true}) {
    SCOPED_TRACE(::testing::Message() << "packet groups swap " << swap);
    const testutil::ForcedPacketGroupsSwap forced(swap);
    kernel_as_lhs_groups_match_reference();
  }
}

// Results of such groups are bitwise the same for every thread count and
// workspace cap.
TEST(Parallel, KernelAsLhsGroupsBitwiseStable) {
  for (bool swap : {false, true}) {
    const testutil::ForcedPacketGroupsSwap forced(swap);
    for (std::array<convt::index_t, 4> shape :
         {std::array<convt::index_t, 4>{1, 2, 2, 32}, {1, 4, 4, 16}, {1, 5, 7, 16}, {3, 3, 3, 8}})
      bitwise_stable_random(shape, {4, 4, shape[3], 80}, convt::Padding::explicit_pads({{2, 2}, {2, 2}}), 13,
                            {std::size_t{1}, std::size_t{9000}, std::size_t{1} << 24});
  }
}

void kernel_as_lhs_groups_match_reference() {
  struct In {
    std::int64_t n, h, w;
  };
  for (const In& in : {In{1, 1, 1}, In{1, 1, 2}, In{1, 1, 3}, In{1, 2, 2}, In{1, 1, 5}, In{2, 2, 3}, In{1, 1, 47},
                       In{1, 4, 4}, In{1, 4, 8}, In{1, 6, 8}, In{1, 7, 7}})
    for (std::int64_t c : {16, 5})
      for (bool channels_last : {true, false})
        for (int threads : {1, 3}) {
          ref::Problem p;
          p.lhs_shape = channels_last ? ref::Shape{in.n, in.h, in.w, c} : ref::Shape{in.n, c, in.h, in.w};
          p.lhs_spec = channels_last ? "NHWC" : "NCHW";
          p.out_spec = p.lhs_spec;
          p.rhs_shape = {4, 4, c, 80};
          p.rhs_spec = "HWIO";
          p.strides = {2, 2};
          p.padding = "EXPLICIT";
          p.pads = {{2, 2}, {2, 2}};
          convt::ConvTransposeOptions<2> opt;
          opt.num_threads = threads;
          opt.workspace_bytes = threads == 1 ? std::size_t{1} : std::size_t{1} << 24;
          check<4, float>(p, opt, static_cast<std::uint32_t>(in.h * 10 + in.w));
          if (in.h * in.w >= 16) check<4, double>(p, opt, static_cast<std::uint32_t>(in.h * 10 + in.w));
          // k = s without padding: one tap, the input read in place.
          p.rhs_shape = {2, 2, c, 80};
          p.pads = {{1, 1}, {1, 1}};
          check<4, float>(p, opt, 3);
          // Two feature groups.
          p.rhs_shape = {4, 4, c, 48};
          p.pads = {{2, 2}, {2, 2}};
          p.lhs_shape[channels_last ? 3 : 1] = 2 * c;
          p.groups = 2;
          check<4, float>(p, opt, 4);
        }
  // double's whole packets and register block: 8, 16, 23 and 24 rows.
  for (std::int64_t w : {8, 16, 23, 24}) {
    ref::Problem p;
    p.lhs_shape = {1, 1, w, 6};
    p.lhs_spec = p.out_spec = "NHWC";
    p.rhs_shape = {4, 4, 6, 80};
    p.rhs_spec = "HWIO";
    p.strides = {2, 2};
    p.padding = "EXPLICIT";
    p.pads = {{2, 2}, {2, 2}};
    check<4, double>(p, {}, 5);
  }
}

// Few rows of deep, wide products multiply with the kernel as gebp's lhs
// too (kernel_as_lhs): k4 s2 p1, 256 input channels (depth 1024, channel
// runs packed straight from the input) or 260 (depth 1040, gathered), 32
// output features, so three phases form a 96-column group of 63, 64 or 72
// rows (batch 2) that swaps and the fourth a 32-column one that does not;
// channels last and channel-major, 1-3 threads, and a workspace of one
// byte (tiles of one register block: the group's rows in two tiles, the
// last panel of 4 rows ragged).
TEST(Parallel, DeepKernelAsLhsGroupsMatchReference) {
  struct Case {
    std::int64_t n, h, w, c;
    bool channels_last;
    int threads;
    std::size_t workspace;
  };
  for (const Case& k : {Case{1, 7, 7, 256, true, 1, 1}, Case{1, 7, 7, 256, true, 3, std::size_t{1} << 24},
                        Case{2, 5, 5, 260, true, 2, 1}, Case{1, 6, 8, 256, true, 1, 1},
                        Case{1, 7, 7, 256, false, 3, std::size_t{1} << 24}}) {
    ref::Problem p;
    p.lhs_shape = k.channels_last ? ref::Shape{k.n, k.h, k.w, k.c} : ref::Shape{k.n, k.c, k.h, k.w};
    p.lhs_spec = k.channels_last ? "NHWC" : "NCHW";
    p.out_spec = p.lhs_spec;
    p.rhs_shape = {4, 4, k.c, 32};
    p.rhs_spec = "HWIO";
    p.strides = {2, 2};
    p.padding = "EXPLICIT";
    p.pads = {{2, 2}, {2, 2}};
    convt::ConvTransposeOptions<2> opt;
    opt.num_threads = k.threads;
    opt.workspace_bytes = k.workspace;
    check<4, float>(p, opt, static_cast<std::uint32_t>(k.h * 10 + k.w + k.c));
    // Narrower inputs widened as they are packed as gebp's rhs.
    if (k.channels_last && k.workspace == 1) {
      check<4, Eigen::bfloat16, float>(p, opt, 3);
      check<4, std::int8_t, std::int32_t>(p, opt, 4);
    }
  }
}

// Their results are bitwise the same for every thread count and workspace
// cap, with a group's rows in one tile or in several (64 and 63 rows of 96
// columns; 72 rows of a 96-column group beside a 32-column one).
TEST(Parallel, DeepKernelAsLhsGroupsBitwiseStable) {
  for (std::array<convt::index_t, 4> shape :
       {std::array<convt::index_t, 4>{1, 8, 8, 256}, {1, 7, 9, 256}, {2, 5, 5, 260}})
    bitwise_stable_random(shape, {4, 4, shape[3], shape[3] == 260 ? 32 : 96},
                          convt::Padding::explicit_pads({{2, 2}, {2, 2}}), 17,
                          {std::size_t{1}, std::size_t{300000}, std::size_t{1} << 24});
}

}  // namespace
