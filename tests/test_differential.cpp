// Differential testing at scale: seeded random problems — ranks 2–6, random
// layouts, strides 1–5, dilations 1–4, every padding mode (negative pads,
// use_consistent_padding), transpose_kernel, empty dimensions, strided
// views, several element/preferred types, thread counts 1–4, workspace caps
// that force tiling, both lowerings — against the naive reference. Each
// problem prints as one descriptor line on failure, e.g.
//   #17 n2c3o4_in9x10_k3x3_s2x1_d2x1_pSAME_dnNCHW.OIHW.NCHW_tk1_f32_t3_ws4096
// CONVT_DIFF_PROBLEMS raises the count (default 3000); CONVT_DIFF_SEED moves
// the seed; CONVT_DIFF_ONLY=17 reruns one problem.
#include <cstdlib>
#include <cstring>
#include <optional>
#include <sstream>

#include "epilogue_util.hpp"

namespace {

// Every element type and preferred type. The first two (a floating and an
// integer accumulation) run at every rank, the next three at ranks 3 and 4,
// the rest at rank 4 only: each (rank, type) pair is a compiled engine, and
// the type handling does not depend on the rank.
enum class Kind {
  F32,
  I8toI32,
  F64,
  C64,
  BF16toF32,
  F16,
  BF16,
  C128,
  C64toC128,
  F32toF64,
  I8,
  I16,
  I32,
  I64,
  U8,
  U8toI16,
  I16toI64
};
constexpr int kKinds = 17;
constexpr int kEveryRank = 2;
constexpr int kFirstRank4Only = 5;
const char* kind_name(Kind k) {
  static const char* names[] = {"f32",    "i8i32", "f64", "c64", "bf16f32", "f16", "bf16",  "c128",  "c64c128",
                                "f32f64", "i8",    "i16", "i32", "i64",     "u8",  "u8i16", "i16i64"};
  return names[static_cast<int>(k)];
}

struct Drawn {
  ref::Problem p;
  Kind kind = Kind::F32;
  int threads = 1;
  std::size_t workspace = 0;
  bool dense = false;
  bool strided = false;
  std::optional<testutil::EpilogueCase> epilogue;  // bias, accumulation, activation
  std::string descriptor;
};

bool integer_result(Kind k) {
  return k == Kind::I8toI32 || k == Kind::I8 || k == Kind::I16 || k == Kind::I32 || k == Kind::I64 || k == Kind::U8 ||
         k == Kind::U8toI16 || k == Kind::I16toI64;
}
bool complex_result(Kind k) { return k == Kind::C64 || k == Kind::C128 || k == Kind::C64toC128; }

std::int64_t env_int(const char* name, std::int64_t fallback) {
  const char* v = std::getenv(name);
  return v ? std::atoll(v) : fallback;
}

std::string join(const ref::Shape& v) {
  std::ostringstream os;
  for (std::size_t i = 0; i < v.size(); ++i) os << (i ? "x" : "") << v[i];
  return v.empty() ? "-" : os.str();
}

Drawn draw(std::uint64_t seed) {
  std::mt19937_64 g(seed);
  auto pick = [&](std::int64_t lo, std::int64_t hi) { return std::uniform_int_distribution<std::int64_t>(lo, hi)(g); };
  auto rare_zero = [&](std::int64_t lo, std::int64_t hi) { return pick(0, 19) == 0 ? 0 : pick(lo, hi); };
  Drawn d;
  ref::Problem& p = d.p;
  const std::size_t nsp = static_cast<std::size_t>(std::vector<int>{0, 1, 1, 2, 2, 2, 3, 3, 4}[pick(0, 8)]);
  std::string letters = "HWDTXY";
  std::shuffle(letters.begin(), letters.end(), g);
  const std::string sp = letters.substr(0, nsp);
  auto perm = [&](std::string s) {
    std::shuffle(s.begin(), s.end(), g);
    return s;
  };
  p.lhs_spec = perm("NC" + sp);
  p.rhs_spec = perm("OI" + sp);
  p.out_spec = perm("NC" + sp);
  // One problem in four has feature groups (some depthwise: one feature
  // per group).
  p.groups = pick(0, 3) == 0 ? pick(2, 6) : 1;
  const std::int64_t n = rare_zero(1, 3);
  std::int64_t cg = p.groups == 1 ? rare_zero(1, 4) : rare_zero(1, 2);
  // Now and then whole vector packets of channels per tap (8 or 16: the
  // in-place packing of detail/indirect_lhs.hpp), kept to small problems.
  if (nsp <= 2 && pick(0, 7) == 0) cg = 8 * pick(1, 2);
  const std::int64_t og = p.groups == 1 ? rare_zero(1, 4) : pick(1, 3);
  const std::int64_t c = cg * p.groups, o = og * p.groups;
  p.transpose_kernel = pick(0, 1) == 1;
  ref::Shape in(nsp), k(nsp);
  for (std::size_t i = 0; i < nsp; ++i) {
    in[i] = rare_zero(1, 7);
    k[i] = rare_zero(1, 4);
    p.strides.push_back(pick(1, 5));
    p.dilation.push_back(pick(0, 2) == 0 ? pick(2, 4) : 1);
  }
  auto extent = [&](char ch, bool kernel) -> std::int64_t {
    if (ch == 'N') return n;
    if (ch == 'C') return c;
    // Grouped kernels: 'I' holds C / groups; with transpose_kernel 'O' holds
    // all C and 'I' holds O / groups (swapped within each group).
    if (ch == 'I') return p.transpose_kernel ? og : cg;
    if (ch == 'O') return p.transpose_kernel ? c : o;
    const std::size_t at = sp.find(ch);
    return kernel ? k[at] : in[at];
  };
  for (char ch : p.lhs_spec) p.lhs_shape.push_back(extent(ch, false));
  for (char ch : p.rhs_spec) p.rhs_shape.push_back(extent(ch, true));
  const std::int64_t mode = pick(0, 5);
  p.padding = mode == 0 ? "SAME" : mode == 1 ? "VALID" : "EXPLICIT";
  p.consistent = mode >= 4;
  if (p.padding == "EXPLICIT") {
    for (std::size_t i = 0; i < nsp; ++i) p.pads.emplace_back(pick(-4, 6), pick(-4, 6));
  }
  p.periodic = pick(0, 7) == 0;  // the circular transposed convolution (Flax's 'CIRCULAR')
  d.kind = static_cast<Kind>(pick(0, kKinds - 1));
  if (nsp != 2 && static_cast<int>(d.kind) >= kFirstRank4Only) d.kind = static_cast<Kind>(pick(0, kFirstRank4Only - 1));
  if (nsp != 1 && nsp != 2 && static_cast<int>(d.kind) >= kEveryRank)
    d.kind = static_cast<Kind>(pick(0, kEveryRank - 1));
  d.threads = static_cast<int>(pick(1, 4));
  const std::size_t caps[] = {1, 4096, std::size_t{16} << 20};
  d.workspace = caps[pick(0, 2)];
  d.dense = pick(0, 5) == 0;
  d.strided = pick(0, 2) == 0;
  // One problem in four with an epilogue the result type allows.
  if (pick(0, 3) == 0) {
    testutil::EpilogueCase e;
    e.bias = pick(0, 2) != 0;
    e.accumulate = std::vector<double>{0, 1, -2}[static_cast<std::size_t>(pick(0, 2))];
    using convt::Activation;
    const std::vector<Activation> floating = {
        Activation::none(),           Activation::relu(),      Activation::leaky_relu(0.25),
        Activation::clamp(-0.5, 0.5), Activation::tanh(),      Activation::sigmoid(),
        Activation::gelu(),           Activation::gelu_tanh(), Activation::silu()};
    const std::vector<Activation> integer = {Activation::none(), Activation::relu(), Activation::clamp(-9, 11)};
    if (integer_result(d.kind)) {
      e.activation = integer[static_cast<std::size_t>(pick(0, 2))];
    } else if (!complex_result(d.kind)) {
      e.activation = floating[static_cast<std::size_t>(pick(0, 8))];
    }
    d.epilogue = e;
  }
  std::ostringstream os;
  os << "n" << n << "c" << c << "o" << o << "_g" << p.groups << "_in" << join(in) << "_k" << join(k) << "_s"
     << join(p.strides) << "_d" << join(p.dilation) << "_p" << p.padding;
  for (auto [lo, hi] : p.pads) os << "(" << lo << "," << hi << ")";
  os << (p.consistent ? "c" : "") << (p.periodic ? "_periodic" : "") << "_dn" << p.lhs_spec << "." << p.rhs_spec << "."
     << p.out_spec << "_tk" << p.transpose_kernel << "_" << kind_name(d.kind) << "_t" << d.threads << "_ws"
     << d.workspace << (d.dense ? "_dense" : "") << (d.strided ? "_strided" : "");
  if (d.epilogue) {
    os << "_ep" << (d.epilogue->bias ? "b" : "") << "a" << d.epilogue->accumulate << d.epilogue->activation.name();
  }
  d.descriptor = os.str();
  return d;
}

/// Would the definition reject this padding (padded size < 0)?
bool padding_invalid(const ref::Problem& p) {
  const ref::Resolved r = ref::resolve(p);
  for (std::size_t i = 0; i < r.nsp; ++i) {
    const std::int64_t din = r.in[i] == 0 ? 0 : (r.in[i] - 1) * r.s[i] + 1;
    if (din + r.lo[i] + r.hi[i] < 0) return true;
  }
  return false;
}

template <std::size_t Rank, class T, class Out = void, class Acc = void>
void check_drawn(const Drawn& d, const convt::ConvTransposeOptions<Rank - 2>& opt, std::uint32_t seed) {
  if (d.epilogue) {
    testutil::check_epilogue<Rank, T, Out, Acc>(d.p, *d.epilogue, opt, seed, d.strided);
  } else {
    testutil::check<Rank, T, Out, Acc>(d.p, opt, seed, d.strided);
  }
}

template <std::size_t Rank>
void run(const Drawn& d) {
  convt::ConvTransposeOptions<Rank - 2> opt;
  opt.num_threads = d.threads;
  opt.workspace_bytes = d.workspace;
  opt.lowering = d.dense ? convt::Lowering::DenseDilated : convt::Lowering::PhaseSplit;
  switch (d.kind) {
    case Kind::F32: check_drawn<Rank, float>(d, opt, 1); break;
    case Kind::I8toI32: check_drawn<Rank, std::int8_t, std::int32_t>(d, opt, 3); break;
    default:
      if constexpr (Rank == 3 || Rank == 4) {
        switch (d.kind) {
          case Kind::F64: check_drawn<Rank, double>(d, opt, 2); return;
          case Kind::C64: check_drawn<Rank, std::complex<float>>(d, opt, 4); return;
          case Kind::BF16toF32: check_drawn<Rank, Eigen::bfloat16, float>(d, opt, 5); return;
          default: break;
        }
      }
      if constexpr (Rank == 4) {
        switch (d.kind) {
          case Kind::F16: check_drawn<4, Eigen::half, void, float>(d, opt, 6); break;
          case Kind::BF16: check_drawn<4, Eigen::bfloat16, void, float>(d, opt, 7); break;
          case Kind::C128: check_drawn<4, std::complex<double>>(d, opt, 8); break;
          case Kind::C64toC128: check_drawn<4, std::complex<float>, std::complex<double>>(d, opt, 9); break;
          case Kind::F32toF64: check_drawn<4, float, double>(d, opt, 10); break;
          case Kind::I8: check_drawn<4, std::int8_t>(d, opt, 11); break;
          case Kind::I16: check_drawn<4, std::int16_t>(d, opt, 12); break;
          case Kind::I32: check_drawn<4, std::int32_t>(d, opt, 13); break;
          case Kind::I64: check_drawn<4, std::int64_t>(d, opt, 14); break;
          case Kind::U8: check_drawn<4, std::uint8_t>(d, opt, 15); break;
          case Kind::U8toI16: check_drawn<4, std::uint8_t, std::int16_t>(d, opt, 16); break;
          case Kind::I16toI64: check_drawn<4, std::int16_t, std::int64_t>(d, opt, 17); break;
          default: break;
        }
      }
      break;
  }
}

TEST(Differential, RandomProblemsMatchReference) {
  const std::int64_t count = env_int("CONVT_DIFF_PROBLEMS", 3000);
  const std::uint64_t seed = static_cast<std::uint64_t>(env_int("CONVT_DIFF_SEED", 20261125));
  const std::int64_t only = env_int("CONVT_DIFF_ONLY", -1);
  std::int64_t errors = 0;
  for (std::int64_t i = 0; i < count; ++i) {
    if (only >= 0 && i != only) continue;
    const Drawn d = draw(seed + static_cast<std::uint64_t>(i));
    SCOPED_TRACE(::testing::Message() << "#" << i << " " << d.descriptor);
    if (padding_invalid(d.p)) {
      // The definition rejects it: convt must say so, naming the padding.
      ++errors;
      std::vector<float> dummy(1);
      EXPECT_THROW(
          {
            switch (d.p.lhs_shape.size()) {
              case 3:
                convt::conv_transpose_shape<3>(testutil::to_array<3>(d.p.lhs_shape),
                                               testutil::to_array<3>(d.p.rhs_shape), testutil::to_array<1>(d.p.strides),
                                               testutil::padding_for(d.p), testutil::options_for<3>(d.p));
                break;
              case 4:
                convt::conv_transpose_shape<4>(testutil::to_array<4>(d.p.lhs_shape),
                                               testutil::to_array<4>(d.p.rhs_shape), testutil::to_array<2>(d.p.strides),
                                               testutil::padding_for(d.p), testutil::options_for<4>(d.p));
                break;
              case 5:
                convt::conv_transpose_shape<5>(testutil::to_array<5>(d.p.lhs_shape),
                                               testutil::to_array<5>(d.p.rhs_shape), testutil::to_array<3>(d.p.strides),
                                               testutil::padding_for(d.p), testutil::options_for<5>(d.p));
                break;
              default:
                convt::conv_transpose_shape<6>(testutil::to_array<6>(d.p.lhs_shape),
                                               testutil::to_array<6>(d.p.rhs_shape), testutil::to_array<4>(d.p.strides),
                                               testutil::padding_for(d.p), testutil::options_for<6>(d.p));
                break;
            }
          },
          convt::Error);
      continue;
    }
    switch (d.p.lhs_shape.size()) {
      case 2: run<2>(d); break;
      case 3: run<3>(d); break;
      case 4: run<4>(d); break;
      case 5: run<5>(d); break;
      default: run<6>(d); break;
    }
    if (::testing::Test::HasFatalFailure()) return;
  }
  std::printf("%lld problems, %lld rejected padding checked as errors\n", static_cast<long long>(count),
              static_cast<long long>(errors));
}

// Property: for random problems, every thread count and workspace cap gives
// bitwise the same output.
TEST(Differential, BitwiseIdenticalAcrossThreadsAndCaps) {
  const std::int64_t count = env_int("CONVT_DIFF_PROBLEMS", 3000) / 10;
  std::int64_t compared = 0;
  for (std::int64_t i = 0; i < count; ++i) {
    Drawn d = draw(977 + static_cast<std::uint64_t>(i));
    if (d.p.lhs_shape.size() != 4 || padding_invalid(d.p)) continue;
    ++compared;
    SCOPED_TRACE(::testing::Message() << "#" << i << " " << d.descriptor);
    std::mt19937 gen(static_cast<std::uint32_t>(i));
    std::uniform_real_distribution<float> dist(-1, 1);
    std::vector<float> x(static_cast<std::size_t>(ref::product(d.p.lhs_shape)) + 1),
        w(static_cast<std::size_t>(ref::product(d.p.rhs_shape)) + 1);
    for (auto& v : x) v = dist(gen);
    for (auto& v : w) v = dist(gen);
    const convt::TensorView<const float, 4> lhs(x.data(), testutil::to_array<4>(d.p.lhs_shape));
    const convt::TensorView<const float, 4> rhs(w.data(), testutil::to_array<4>(d.p.rhs_shape));
    auto opt = testutil::options_for<4>(d.p);
    opt.num_threads = 1;
    const auto base =
        convt::conv_transpose(lhs, rhs, testutil::to_array<2>(d.p.strides), testutil::padding_for(d.p), opt);
    for (int threads : {2, 3, 4})
      for (std::size_t ws : {std::size_t{1}, std::size_t{5000}, std::size_t{1} << 26}) {
        opt.num_threads = threads;
        opt.workspace_bytes = ws;
        const auto got =
            convt::conv_transpose(lhs, rhs, testutil::to_array<2>(d.p.strides), testutil::padding_for(d.p), opt);
        ASSERT_EQ(got.size(), base.size());
        if (base.size() == 0) continue;
        ASSERT_EQ(0, std::memcmp(got.data(), base.data(), sizeof(float) * static_cast<std::size_t>(base.size())))
            << "threads " << threads << " workspace " << ws;
      }
  }
  EXPECT_GE(compared, count / 5) << "too few rank-4 problems drawn";
  std::printf("%lld problems compared bitwise\n", static_cast<long long>(compared));
}

}  // namespace
