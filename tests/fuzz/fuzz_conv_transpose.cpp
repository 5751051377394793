// libFuzzer target: bytes → a conv_transpose problem (layout strings, shapes,
// strides, dilations, padding, flags; mostly plausible, sometimes hostile).
// Every input must end in a convt::Error or in a result equal to the naive
// reference — never a crash, hang or sanitizer report.
//   build: cmake -DCONVT_BUILD_FUZZER=ON -DCMAKE_CXX_COMPILER=clang++ ...
//   run:   fuzz_conv_transpose -max_total_time=60 CORPUS_DIR tests/fuzz/corpus
#include <fuzzer/FuzzedDataProvider.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include <convt/convt.hpp>

#include "../reference.hpp"

namespace {

using convt::index_t;

index_t draw_extent(FuzzedDataProvider& f) {
  switch (f.ConsumeIntegralInRange<int>(0, 15)) {
    case 0: return f.ConsumeIntegral<index_t>();  // hostile: any value
    case 1: return f.ConsumeIntegralInRange<index_t>(0, index_t{1} << 62);
    default: return f.ConsumeIntegralInRange<index_t>(0, 5);
  }
}

index_t draw_small_or_any(FuzzedDataProvider& f, index_t lo, index_t hi) {
  return f.ConsumeIntegralInRange<int>(0, 15) == 0 ? f.ConsumeIntegral<index_t>() : f.ConsumeIntegralInRange(lo, hi);
}

std::string draw_spec(FuzzedDataProvider& f, std::string letters) {
  if (f.ConsumeIntegralInRange<int>(0, 15) == 0) return f.ConsumeRandomLengthString(8);  // hostile string
  for (std::size_t i = letters.size(); i > 1; --i) {
    std::swap(letters[i - 1], letters[f.ConsumeIntegralInRange<std::size_t>(0, i - 1)]);
  }
  return letters;
}

template <std::size_t Rank>
void run(FuzzedDataProvider& f) {
  constexpr std::size_t S = Rank - 2;
  const std::string sp = std::string("HWD").substr(0, S);
  ref::Problem p;
  p.lhs_spec = draw_spec(f, "NC" + sp);
  p.rhs_spec = draw_spec(f, "OI" + sp);
  p.out_spec = draw_spec(f, "NC" + sp);
  std::array<index_t, Rank> lhs_shape{}, rhs_shape{};
  for (auto& e : lhs_shape) e = draw_extent(f);
  for (auto& e : rhs_shape) e = draw_extent(f);
  std::array<index_t, S> strides{};
  std::array<index_t, S> dil{};
  for (auto& s : strides) s = draw_small_or_any(f, 1, 4);
  for (auto& r : dil) r = draw_small_or_any(f, 1, 3);
  convt::ConvTransposeOptions<S> opt;
  opt.dimension_numbers = convt::DimensionNumbers{p.lhs_spec, p.rhs_spec, p.out_spec};
  opt.rhs_dilation = dil;
  opt.transpose_kernel = f.ConsumeBool();
  opt.use_consistent_padding = f.ConsumeBool();
  opt.num_threads = f.ConsumeIntegralInRange<int>(1, 3);
  opt.workspace_bytes = f.ConsumeIntegralInRange<std::size_t>(1, 1 << 16);
  opt.feature_group_count = f.ConsumeIntegralInRange<int>(0, 3) == 0 ? draw_small_or_any(f, 1, 4) : 1;
  const int mode = f.ConsumeIntegralInRange<int>(0, 2);
  std::vector<std::pair<index_t, index_t>> pads;
  const std::size_t npads = f.ConsumeIntegralInRange<int>(0, 15) == 0 ? f.ConsumeIntegralInRange<std::size_t>(0, 4) : S;
  for (std::size_t i = 0; i < npads; ++i) {
    pads.emplace_back(draw_small_or_any(f, -4, 5), draw_small_or_any(f, -4, 5));
  }
  const convt::Padding padding = mode == 0   ? convt::Padding::same()
                                 : mode == 1 ? convt::Padding::valid()
                                             : convt::Padding::explicit_pads(pads);

  std::array<index_t, Rank> out_shape{};
  try {
    out_shape = convt::conv_transpose_shape<Rank>(lhs_shape, rhs_shape, strides, padding, opt);
  } catch (const convt::Error&) {
    return;  // rejected with a message: fine
  }
  // Accepted: compute it when small enough to check against the reference.
  auto elements = [](const auto& shape) {
    long double n = 1;
    for (auto e : shape) n *= static_cast<long double>(e);
    return n;
  };
  if (elements(lhs_shape) > 512 || elements(rhs_shape) > 512 || elements(out_shape) > 4096) return;
  std::vector<float> x(static_cast<std::size_t>(elements(lhs_shape))), w(static_cast<std::size_t>(elements(rhs_shape)));
  for (auto& v : x) v = static_cast<float>(f.ConsumeIntegralInRange<int>(-3, 3));
  for (auto& v : w) v = static_cast<float>(f.ConsumeIntegralInRange<int>(-3, 3));
  convt::Tensor<float, Rank> got;
  try {
    got = convt::conv_transpose(convt::TensorView<const float, Rank>(x.data(), lhs_shape),
                                convt::TensorView<const float, Rank>(w.data(), rhs_shape), strides, padding, opt);
  } catch (const convt::Error& e) {
    std::fprintf(stderr, "conv_transpose rejected what conv_transpose_shape accepted: %s\n", e.what());
    std::abort();
  }
  if (got.shape() != out_shape) {
    std::fprintf(stderr, "conv_transpose and conv_transpose_shape disagree\n");
    std::abort();
  }
  // An empty result has nothing to compare (and the reference would loop
  // over the other, possibly huge, extents for nothing).
  if (got.size() == 0) return;
  p.lhs_shape.assign(lhs_shape.begin(), lhs_shape.end());
  p.rhs_shape.assign(rhs_shape.begin(), rhs_shape.end());
  p.strides.assign(strides.begin(), strides.end());
  p.dilation.assign(dil.begin(), dil.end());
  p.padding = mode == 0 ? "SAME" : mode == 1 ? "VALID" : "EXPLICIT";
  p.pads = pads;
  p.consistent = opt.use_consistent_padding;
  p.transpose_kernel = opt.transpose_kernel;
  p.groups = opt.feature_group_count;
  const std::vector<double> xd(x.begin(), x.end()), wd(w.begin(), w.end());
  const auto want = ref::conv_transpose<double>(p, xd, wd);
  for (std::size_t i = 0; i < Rank; ++i) {
    if (want.shape[i] != got.shape()[i]) {
      std::fprintf(stderr, "shape mismatch on axis %zu\n", i);
      std::abort();
    }
  }
  for (std::size_t i = 0; i < want.value.size(); ++i) {
    if (static_cast<double>(got.data()[i]) != want.value[i]) {  // small integers: exact
      std::fprintf(stderr, "value mismatch at %zu: %g vs %g\n", i, static_cast<double>(got.data()[i]), want.value[i]);
      std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider f(data, size);
  switch (f.ConsumeIntegralInRange<int>(0, 3)) {
    case 0: run<2>(f); break;
    case 1: run<3>(f); break;
    case 2: run<4>(f); break;
    default: run<5>(f); break;
  }
  return 0;
}
