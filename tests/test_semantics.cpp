// Sweeps of conv_transpose against the naive reference: every padding mode,
// strides, dilations, transpose_kernel, ranks 2–6, layouts, views, empty dims.
#include "test_util.hpp"

namespace {

using testutil::check;

ref::Problem make(ref::Shape lhs, ref::Shape rhs, std::string l, std::string r, std::string o, ref::Shape s,
                  std::string pad = "SAME", ref::Shape dil = {}, bool tk = false) {
  ref::Problem p;
  p.lhs_shape = std::move(lhs);
  p.rhs_shape = std::move(rhs);
  p.lhs_spec = std::move(l);
  p.rhs_spec = std::move(r);
  p.out_spec = std::move(o);
  p.strides = std::move(s);
  p.padding = std::move(pad);
  p.dilation = std::move(dil);
  p.transpose_kernel = tk;
  return p;
}

// JAX's own testConvTranspose1D/2D grid: kernels 3–5, strides 1–3, both
// padding strings, dilation 1–2, transpose_kernel both ways.
TEST(Semantics, JaxGrid1D) {
  for (int k : {1, 2, 3, 4, 5})
    for (int s : {1, 2, 3, 4})
      for (const char* pad : {"SAME", "VALID"})
        for (int d : {1, 2})
          for (bool tk : {false, true}) {
            // NHC / HIO / NHC (JAX's default rank-3 layout).
            auto p = make({2, 7, 3}, {k, tk ? 4 : 3, tk ? 3 : 4}, "NHC", "HIO", "NHC", {s}, pad, {d}, tk);
            check<3, float>(p);
          }
}

TEST(Semantics, JaxGrid2D) {
  for (int k : {3, 4, 5})
    for (int s : {1, 2, 3})
      for (const char* pad : {"SAME", "VALID"})
        for (int d : {1, 2})
          for (bool tk : {false, true}) {
            auto p = make({2, 5, 6, 3}, {k, k - 1, tk ? 2 : 3, tk ? 3 : 2}, "NHWC", "HWIO", "NHWC",
                          {s, s + 1 > 3 ? 1 : s + 1}, pad, {d, 1}, tk);
            check<4, float>(p);
          }
}

TEST(Semantics, ThreeD) {
  for (int s : {1, 2, 3})
    for (const char* pad : {"SAME", "VALID"})
      for (bool tk : {false, true}) {
        auto p = make({1, 4, 3, 5, 2}, {3, 2, 3, tk ? 3 : 2, tk ? 2 : 3}, "NHWDC", "HWDIO", "NHWDC", {s, 2, 1}, pad,
                      {1, 2, 1}, tk);
        check<5, float>(p);
      }
}

TEST(Semantics, ExplicitPaddingIncludingNegative) {
  const std::vector<std::pair<std::int64_t, std::int64_t>> pairs = {{0, 0},  {1, 2},   {3, 0}, {-1, 0},
                                                                    {0, -2}, {-2, -3}, {5, 4}, {-4, 6}};
  for (auto [lo, hi] : pairs)
    for (int s : {1, 2, 3, 4})
      for (bool consistent : {false, true})
        for (int d : {1, 2}) {
          auto p = make({2, 6, 3}, {3, 3, 2}, "NHC", "HIO", "NHC", {s}, "EXPLICIT", {d});
          p.pads = {{lo, hi}};
          p.consistent = consistent;
          // Skip only combinations the definition itself rejects (checked in the error tests).
          const std::int64_t dk = 2 * d + 1, din = 5 * s + 1;
          const std::int64_t elo = consistent ? dk - lo - 1 : lo, ehi = consistent ? dk - hi - 1 : hi;
          if (din + elo + ehi < 0) continue;
          check<3, float>(p);
        }
}

TEST(Semantics, ExplicitPadding2DMixed) {
  auto p = make({1, 5, 4, 2}, {4, 3, 2, 3}, "NHWC", "HWIO", "NHWC", {2, 3}, "EXPLICIT", {1, 2});
  p.pads = {{-2, 3}, {4, -1}};
  check<4, float>(p);
  p.consistent = true;
  p.pads = {{1, 0}, {2, 2}};
  check<4, float>(p);
  p.transpose_kernel = true;
  p.rhs_shape = {4, 3, 3, 2};
  check<4, float>(p);
}

// SAME/VALID strings give the same pads with or without use_consistent_padding.
TEST(Semantics, ConsistentPaddingKeepsStrings) {
  for (const char* pad : {"SAME", "VALID"}) {
    auto p = make({1, 5, 2}, {4, 2, 3}, "NHC", "HIO", "NHC", {3}, pad, {2});
    p.consistent = true;
    check<3, float>(p);
  }
}

TEST(Semantics, Layouts) {
  struct L {
    const char *l, *r, *o;
  };
  const std::vector<L> layouts = {{"NCHW", "OIHW", "NCHW"}, {"NHWC", "OIHW", "NCHW"}, {"NCHW", "HWIO", "NHWC"},
                                  {"NHWC", "IOHW", "NHWC"}, {"CWNH", "WHOI", "HNCW"}, {"WNCH", "IHWO", "CHWN"},
                                  {"NCWH", "OIWH", "NCWH"}, {"HCNW", "HIWO", "WHCN"}};
  for (const auto& lay : layouts)
    for (bool tk : {false, true})
      for (int s : {1, 2, 3}) {
        // Extents: N=2, C=3, H=4, W=5; kernel H=3, W=2, I=C (O when tk), O=4.
        auto ext = [&](const std::string& spec, bool kernel) {
          ref::Shape sh;
          for (char c : spec) {
            if (c == 'N') sh.push_back(2);
            if (c == 'C') sh.push_back(3);
            if (c == 'H') sh.push_back(kernel ? 3 : 4);
            if (c == 'W') sh.push_back(kernel ? 2 : 5);
            if (c == 'I') sh.push_back(tk ? 4 : 3);
            if (c == 'O') sh.push_back(tk ? 3 : 4);
          }
          return sh;
        };
        auto p = make(ext(lay.l, false), ext(lay.r, true), lay.l, lay.r, lay.o, {s, 2}, s == 2 ? "VALID" : "SAME",
                      {1, 2}, tk);
        check<4, float>(p);
        check<4, float>(p, {}, 3, /*strided=*/true);
      }
}

// The 0-spatial-dimension case is a matrix product.
TEST(Semantics, Rank2IsMatmul) {
  auto p = make({5, 3}, {3, 4}, "NC", "IO", "NC", {});
  check<2, float>(p);
  p.transpose_kernel = true;
  p.rhs_shape = {4, 3};
  check<2, float>(p);
  check<2, double>(make({6, 7}, {4, 6}, "CN", "OI", "NC", {}, "VALID"), {}, 2, true);
}

TEST(Semantics, Rank6FourSpatialDims) {
  auto p =
      make({1, 2, 3, 2, 2, 3}, {2, 2, 1, 2, 3, 2}, "NCHWDT", "OIHWDT", "NCHWDT", {2, 1, 2, 3}, "SAME", {1, 2, 1, 1});
  check<6, float>(p);
  p.transpose_kernel = true;
  p.rhs_shape = {2, 2, 1, 2, 3, 2};
  p.padding = "VALID";
  check<6, float>(p);
  auto q = make({3, 2, 2, 1, 2, 2}, {2, 1, 2, 2, 3, 2}, "TWNDHC", "HOTIDW", "CTHNWD", {1, 2, 2, 1}, "SAME");
  check<6, double>(q, {}, 5, true);
}

TEST(Semantics, Rank7NeedsExplicitLayoutAndWorks) {
  auto p =
      make({1, 2, 2, 1, 2, 2, 1}, {2, 2, 1, 1, 2, 2, 1}, "NCABDEF", "OIABDEF", "NCABDEF", {2, 1, 1, 2, 1}, "VALID");
  check<7, double>(p);
}

TEST(Semantics, NonContiguousViews) {
  auto p = make({2, 4, 5, 3}, {3, 3, 3, 2}, "NHWC", "HWIO", "NHWC", {2, 2}, "SAME", {1, 1});
  check<4, float>(p, {}, 11, true);
  p.lhs_spec = "NCHW";
  p.lhs_shape = {2, 3, 4, 5};
  p.out_spec = "NCHW";
  check<4, float>(p, {}, 12, true);
}

TEST(Semantics, EmptyDimensions) {
  // Empty batch, empty features, empty spatial input, empty kernel, empty output channels.
  check<4, float>(make({0, 4, 5, 3}, {3, 3, 3, 2}, "NHWC", "HWIO", "NHWC", {2, 2}));
  check<4, float>(make({2, 4, 5, 0}, {3, 3, 0, 2}, "NHWC", "HWIO", "NHWC", {2, 2}));  // C = 0: all zeros
  check<4, float>(make({2, 0, 5, 3}, {3, 3, 3, 2}, "NHWC", "HWIO", "NHWC", {2, 1}));
  check<4, float>(make({2, 4, 5, 3}, {0, 3, 3, 2}, "NHWC", "HWIO", "NHWC", {2, 1}, "VALID"));
  check<4, float>(make({2, 4, 5, 3}, {3, 3, 3, 0}, "NHWC", "HWIO", "NHWC", {2, 1}));
  auto p = make({2, 0, 3}, {2, 3, 2}, "NHC", "HIO", "NHC", {2}, "EXPLICIT");
  p.pads = {{1, 1}};  // padded size 2 >= kernel 2: one output row of zeros
  check<3, float>(p);
}

TEST(Semantics, LargeStridesAndDilations) {
  // Stride larger than the dilated kernel: phases without any tap.
  check<3, float>(make({1, 4, 2}, {2, 2, 3}, "NHC", "HIO", "NHC", {5}, "VALID"));
  check<3, float>(make({1, 4, 2}, {3, 2, 3}, "NHC", "HIO", "NHC", {7}, "SAME", {3}));
  check<4, float>(make({1, 3, 3, 2}, {2, 3, 2, 2}, "NHWC", "HWIO", "NHWC", {4, 3}, "SAME", {3, 2}, true));
}

// Feature groups on every path of the engine: per-group GEMMs written
// directly (Og >= 16), several groups staged per unit (small Og, depthwise),
// partial last block, in-place input (k == s), channel-major layouts, the
// grouped transpose_kernel, thread counts and a workspace cap that forces
// one-block tiles.
TEST(Semantics, FeatureGroups) {
  struct G {
    std::int64_t groups, cg, og;
  };
  for (G g : {G{2, 3, 16}, G{2, 2, 20}, G{3, 1, 7}, G{17, 1, 1}, G{5, 2, 3}, G{4, 3, 1}}) {
    for (bool tk : {false, true}) {
      for (bool nchw : {false, true}) {
        for (std::int64_t k : {2, 3}) {
          const std::int64_t c = g.groups * g.cg, o = g.groups * g.og;
          const std::int64_t ki = tk ? g.og : g.cg, ko = tk ? c : o;  // rhs 'I' and 'O' extents
          auto p = nchw ? make({2, c, 5, 4}, {ko, ki, k, k}, "NCHW", "OIHW", "NCHW", {2, 2}, "VALID", {}, tk)
                        : make({2, 5, 4, c}, {k, k, ki, ko}, "NHWC", "HWIO", "NHWC", {2, 2}, "SAME", {}, tk);
          p.groups = g.groups;
          for (int threads : {1, 3}) {
            convt::ConvTransposeOptions<2> opt;
            opt.num_threads = threads;
            SCOPED_TRACE(::testing::Message()
                         << "groups " << g.groups << " cg " << g.cg << " og " << g.og << " threads " << threads);
            check<4, float>(p, opt);
            opt.workspace_bytes = 1;
            check<4, float>(p, opt, 2, true);
          }
        }
      }
    }
  }
  // Depthwise 1-D overlap-add (iSTFT-like, k = 4 s), as in the benchmark.
  auto p = make({1, 9, 12}, {16, 1, 12}, "NWC", "WIO", "NWC", {4}, "VALID");
  p.groups = 12;
  check<3, float>(p);
  check<3, double>(p);
}

}  // namespace
