// Interop: Tensor arguments without convt::view(), and zero-copy bridges to
// Eigen::Tensor / Eigen::TensorMap in both storage orders.
#include <convt/convt.hpp>
#include <convt/eigen.hpp>

#include <gtest/gtest.h>

#include <array>

namespace {

using convt::index_t;

// A problem whose result depends on every index (strides 2 and 3, SAME).
struct Problem {
  convt::Tensor<float, 4> x{{2, 5, 4, 3}};  // N H W C
  convt::Tensor<float, 4> w{{3, 2, 3, 4}};  // H W I O
  Problem() {
    for (index_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>((i * 7) % 11) - 5.0f;
    for (index_t i = 0; i < w.size(); ++i) w.data()[i] = static_cast<float>((i * 5) % 9) * 0.5f - 2.0f;
  }
  convt::Tensor<float, 4> expected() const {
    return convt::conv_transpose(convt::view(x), convt::view(w), {2, 3}, convt::Padding::same());
  }
};

void expect_equal(const convt::Tensor<float, 4>& a, const convt::Tensor<float, 4>& b) {
  ASSERT_EQ(a.shape(), b.shape());
  for (index_t i = 0; i < a.size(); ++i) ASSERT_EQ(a.data()[i], b.data()[i]) << "flat index " << i;
}

TEST(Interop, TensorArgumentsWithoutView) {
  Problem p;
  const auto want = p.expected();
  expect_equal(convt::conv_transpose(p.x, p.w, {2, 3}, convt::Padding::same()), want);
  expect_equal(convt::conv_transpose(p.x, convt::view(p.w), {2, 3}, convt::Padding::same()), want);
  expect_equal(convt::conv_transpose(convt::view(p.x), p.w, {2, 3}, convt::Padding::same()), want);

  convt::Tensor<float, 4> out(want.shape());
  convt::conv_transpose_into(p.x, p.w, out, {2, 3}, convt::Padding::same());
  expect_equal(out, want);

  const auto plan = convt::make_plan(p.w, p.x.shape(), {2, 3}, convt::Padding::same());
  expect_equal(plan(p.x), want);
  convt::Tensor<float, 4> out2(want.shape());
  plan.run(p.x, out2);
  expect_equal(out2, want);

  // The preferred element type still applies.
  const auto wide = convt::conv_transpose<double>(p.x, p.w, {2, 3}, convt::Padding::same());
  static_assert(std::is_same_v<decltype(wide)::value_type, double>);
  EXPECT_EQ(wide.shape(), want.shape());
}

template <int Layout>
void check_eigen_round_trip() {
  Problem p;
  const auto want = p.expected();
  Eigen::Tensor<float, 4, Layout> ex(2, 5, 4, 3);
  Eigen::Tensor<float, 4, Layout> ew(3, 2, 3, 4);
  for (index_t n = 0; n < 2; ++n)
    for (index_t h = 0; h < 5; ++h)
      for (index_t w = 0; w < 4; ++w)
        for (index_t c = 0; c < 3; ++c) ex(n, h, w, c) = p.x(n, h, w, c);
  for (index_t h = 0; h < 3; ++h)
    for (index_t w = 0; w < 2; ++w)
      for (index_t i = 0; i < 3; ++i)
        for (index_t o = 0; o < 4; ++o) ew(h, w, i, o) = p.w(h, w, i, o);

  // Zero-copy: the view points at the Eigen tensor's storage.
  const auto vx = convt::view(ex);
  EXPECT_EQ(vx.data(), ex.data());
  EXPECT_EQ(vx(1, 3, 2, 1), ex(1, 3, 2, 1));
  const auto& cex = ex;
  EXPECT_EQ(convt::view(cex).data(), ex.data());

  expect_equal(convt::conv_transpose(convt::view(cex), convt::view(ew), {2, 3}, convt::Padding::same()), want);

  // Into an Eigen tensor of the same storage order.
  Eigen::Tensor<float, 4, Layout> ey(want.extent(0), want.extent(1), want.extent(2), want.extent(3));
  ey.setConstant(-99.0f);
  convt::conv_transpose_into(convt::view(ex), convt::view(ew), convt::view(ey), {2, 3}, convt::Padding::same());
  for (index_t n = 0; n < want.extent(0); ++n)
    for (index_t h = 0; h < want.extent(1); ++h)
      for (index_t w = 0; w < want.extent(2); ++w)
        for (index_t c = 0; c < want.extent(3); ++c) ASSERT_EQ(ey(n, h, w, c), want(n, h, w, c));

  // TensorMap over raw memory, read-only and writable.
  Eigen::TensorMap<const Eigen::Tensor<float, 4, Layout>> mx(ex.data(), 2, 5, 4, 3);
  Eigen::TensorMap<Eigen::Tensor<float, 4, Layout>> mw(ew.data(), 3, 2, 3, 4);
  static_assert(std::is_const_v<typename decltype(convt::view(mx))::element_type>);
  static_assert(!std::is_const_v<typename decltype(convt::view(mw))::element_type>);
  EXPECT_EQ(convt::view(mx).data(), ex.data());
  expect_equal(convt::conv_transpose(convt::view(mx), convt::view(mw), {2, 3}, convt::Padding::same()), want);

  // Back to Eigen: an owning copy in this storage order, indices preserved.
  const Eigen::Tensor<float, 4, Layout, index_t> back = convt::to_eigen<Layout>(want);
  for (index_t n = 0; n < want.extent(0); ++n)
    for (index_t h = 0; h < want.extent(1); ++h)
      for (index_t w = 0; w < want.extent(2); ++w)
        for (index_t c = 0; c < want.extent(3); ++c) ASSERT_EQ(back(n, h, w, c), want(n, h, w, c));
}

TEST(Interop, EigenRowMajor) { check_eigen_round_trip<Eigen::RowMajor>(); }
TEST(Interop, EigenColMajor) { check_eigen_round_trip<Eigen::ColMajor>(); }

TEST(Interop, AsEigenSharesStorage) {
  Problem p;
  auto y = p.expected();
  auto map = convt::as_eigen(y);
  EXPECT_EQ(map.data(), y.data());
  EXPECT_EQ(map.dimension(1), y.extent(1));
  map(1, 2, 3, 0) = 42.0f;
  EXPECT_EQ(y(1, 2, 3, 0), 42.0f);
  const auto& cy = y;
  EXPECT_EQ(convt::as_eigen(cy)(1, 2, 3, 0), 42.0f);
}

TEST(Interop, EmptyEigenTensor) {
  Eigen::Tensor<float, 3, Eigen::ColMajor> empty(0, 4, 2);
  const auto v = convt::view(empty);
  EXPECT_EQ(v.size(), 0);
  EXPECT_EQ(v.extent(1), 4);
}

}  // namespace
