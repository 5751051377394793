// Golden vectors from PyTorch (tests/golden/make_golden.py): convt with
// transpose_kernel=True, feature_group_count=groups and PyTorch's padding
// translated three ways (explicit transposed-conv pads by hand,
// use_consistent_padding, and the convt::pytorch translator) reproduces
// torch.nn.functional.conv_transpose{1,2,3}d, groups included.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <convt/convt.hpp>
#include <convt/translate.hpp>

#include <convt/npy.hpp>

namespace {

std::string golden_dir() {
  const char* d = std::getenv("CONVT_GOLDEN_DIR");
  return d ? d : CONVT_TESTS_DIR "/golden";
}

struct Case {
  std::string name;
  std::size_t nsp = 0;
  std::vector<std::int64_t> stride, padding, output_padding, dilation;
  std::int64_t groups = 1;
};

struct Array {
  std::vector<std::int64_t> shape;
  std::vector<double> data;
};

Array load(const std::string& path) {
  const convt::npy::Array a = convt::npy::read(path);
  if (a.dtype != convt::npy::DType::float64) throw std::runtime_error(path + ": expected float64");
  Array r{a.shape, std::vector<double>(static_cast<std::size_t>(a.count()))};
  if (!r.data.empty()) std::memcpy(r.data.data(), a.bytes.data(), a.bytes.size());
  return r;
}

enum class Mapping { ExplicitPads, ConsistentPadding, Translator };

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
    is >> c.groups;
    cases.push_back(c);
  }
  return cases;
}

template <std::size_t Rank>
void run_case(const Case& c, Mapping mapping) {
  constexpr std::size_t S = Rank - 2;
  const auto x = load(golden_dir() + "/" + c.name + "_lhs.npy");
  const auto w = load(golden_dir() + "/" + c.name + "_rhs.npy");
  const auto y = load(golden_dir() + "/" + c.name + "_out.npy");
  std::array<convt::index_t, Rank> xs{}, ws{};
  for (std::size_t i = 0; i < Rank; ++i) {
    xs[i] = x.shape[i];
    ws[i] = w.shape[i];
  }
  const convt::TensorView<const double, Rank> lhs(x.data.data(), xs);
  const convt::TensorView<const double, Rank> rhs(w.data.data(), ws);
  convt::Tensor<double, Rank> got;
  if (mapping == Mapping::Translator) {
    convt::pytorch::ConvTranspose<S> layer;
    layer.in_channels = xs[1];
    layer.out_channels = ws[1] * c.groups;
    layer.groups = c.groups;
    layer.bias = false;
    for (std::size_t d = 0; d < S; ++d) {
      layer.kernel_size[d] = ws[2 + d];
      layer.stride[d] = c.stride[d];
      layer.padding[d] = c.padding[d];
      layer.output_padding[d] = c.output_padding[d];
      layer.dilation[d] = c.dilation[d];
    }
    got = convt::pytorch::conv_transpose(layer)(lhs, rhs);
  } else {
    std::array<convt::index_t, S> strides{}, dil{};
    std::vector<std::pair<convt::index_t, convt::index_t>> pads;
    const std::string sp = std::string("DHW").substr(3 - S);
    for (std::size_t d = 0; d < S; ++d) {
      strides[d] = c.stride[d];
      dil[d] = c.dilation[d];
      if (mapping == Mapping::ConsistentPadding) {
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
    opt.use_consistent_padding = mapping == Mapping::ConsistentPadding;
    opt.feature_group_count = c.groups;
    got = convt::conv_transpose(lhs, rhs, strides, convt::Padding::explicit_pads(pads), opt);
  }
  for (std::size_t i = 0; i < Rank; ++i) ASSERT_EQ(got.shape()[i], y.shape[i]) << c.name << " axis " << i;
  for (std::size_t i = 0; i < y.data.size(); ++i) {
    ASSERT_NEAR(got.data()[i], y.data[i], 1e-12 * (1 + std::abs(y.data[i]))) << c.name << " at " << i;
  }
}

TEST(Golden, PyTorchConvTranspose) {
  const auto cases = read_cases();
  ASSERT_GE(cases.size(), 13u) << "golden.txt missing under " << golden_dir();
  int grouped = 0;
  for (const auto& c : cases) {
    grouped += c.groups > 1;
    for (Mapping m : {Mapping::ExplicitPads, Mapping::ConsistentPadding, Mapping::Translator}) {
      SCOPED_TRACE(c.name + (m == Mapping::ExplicitPads        ? " (explicit pads)"
                             : m == Mapping::ConsistentPadding ? " (use_consistent_padding)"
                                                               : " (pytorch translator)"));
      if (c.nsp == 1) run_case<3>(c, m);
      if (c.nsp == 2) run_case<4>(c, m);
      if (c.nsp == 3) run_case<5>(c, m);
    }
  }
  EXPECT_GE(grouped, 4);
}

}  // namespace
