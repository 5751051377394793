// Golden vectors from PyTorch (tests/golden/make_golden.py): convt with
// transpose_kernel=True and PyTorch's padding translated both ways (explicit
// transposed-conv pads, and use_consistent_padding) reproduces
// torch.nn.functional.conv_transpose{1,2,3}d.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <convt/convt.hpp>

#include "npy_f64.hpp"

namespace {

std::string golden_dir() {
  const char* d = std::getenv("CONVT_GOLDEN_DIR");
  return d ? d : "tests/golden";
}

struct Case {
  std::string name;
  std::size_t nsp = 0;
  std::vector<std::int64_t> stride, padding, output_padding, dilation;
};

std::vector<Case> read_cases() {
  std::ifstream f(golden_dir() + "/golden.txt");
  std::vector<Case> cases;
  std::string line;
  while (std::getline(f, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream is(line);
    Case c;
    is >> c.name >> c.nsp;
    for (auto* v : {&c.stride, &c.padding, &c.output_padding, &c.dilation}) {
      v->resize(c.nsp);
      for (auto& x : *v) is >> x;
    }
    cases.push_back(c);
  }
  return cases;
}

template <std::size_t Rank>
void run_case(const Case& c, bool consistent) {
  constexpr std::size_t S = Rank - 2;
  const auto x = npy_f64::load(golden_dir() + "/" + c.name + "_lhs.npy");
  const auto w = npy_f64::load(golden_dir() + "/" + c.name + "_rhs.npy");
  const auto y = npy_f64::load(golden_dir() + "/" + c.name + "_out.npy");
  std::array<convt::index_t, Rank> xs{}, ws{};
  for (std::size_t i = 0; i < Rank; ++i) {
    xs[i] = x.shape[i];
    ws[i] = w.shape[i];
  }
  std::array<convt::index_t, S> strides{}, dil{};
  std::vector<std::pair<convt::index_t, convt::index_t>> pads;
  const std::string sp = std::string("DHW").substr(3 - S);
  for (std::size_t d = 0; d < S; ++d) {
    strides[d] = c.stride[d];
    dil[d] = c.dilation[d];
    if (consistent) {
      // Forward-conv padding; output_padding extends the high side.
      pads.emplace_back(c.padding[d], c.padding[d] - c.output_padding[d]);
    } else {
      const convt::index_t lo = c.dilation[d] * (ws[2 + d] - 1) - c.padding[d];
      pads.emplace_back(lo, lo + c.output_padding[d]);
    }
  }
  convt::ConvTransposeOptions<S> opt;
  opt.dimension_numbers = convt::DimensionNumbers{"NC" + sp, "OI" + sp, "NC" + sp};
  opt.rhs_dilation = dil;
  opt.transpose_kernel = true;
  opt.use_consistent_padding = consistent;
  const auto got = convt::conv_transpose(convt::TensorView<const double, Rank>(x.data.data(), xs),
                                         convt::TensorView<const double, Rank>(w.data.data(), ws), strides,
                                         convt::Padding::explicit_pads(pads), opt);
  for (std::size_t i = 0; i < Rank; ++i) ASSERT_EQ(got.shape()[i], y.shape[i]) << c.name << " axis " << i;
  for (std::size_t i = 0; i < y.data.size(); ++i) {
    ASSERT_NEAR(got.data()[i], y.data[i], 1e-12 * (1 + std::abs(y.data[i]))) << c.name << " at " << i;
  }
}

TEST(Golden, PyTorchConvTranspose) {
  const auto cases = read_cases();
  ASSERT_GE(cases.size(), 9u) << "golden.txt missing under " << golden_dir();
  for (const auto& c : cases) {
    for (bool consistent : {false, true}) {
      SCOPED_TRACE(c.name + (consistent ? " (use_consistent_padding)" : " (explicit pads)"));
      if (c.nsp == 1) run_case<3>(c, consistent);
      if (c.nsp == 2) run_case<4>(c, consistent);
      if (c.nsp == 3) run_case<5>(c, consistent);
    }
  }
}

}  // namespace
