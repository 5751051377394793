// Plans: made once, run many times, independent of the kernel buffer after
// creation, same results as conv_transpose.
#include <cstring>

#include "test_util.hpp"

namespace {

TEST(Plan, RunsManyTimesAndOwnsItsKernel) {
  std::vector<float> w = testutil::random_values<float>(4 * 4 * 6 * 5, 1);
  const convt::TensorView<const float, 4> rhs(w.data(), {4, 4, 6, 5});
  const std::array<convt::index_t, 4> in_shape{2, 7, 9, 6};
  const auto plan = convt::make_plan(rhs, in_shape, {2, 2}, convt::Padding::same());
  EXPECT_EQ(plan.output_shape(), (std::array<convt::index_t, 4>{2, 14, 18, 5}));
  EXPECT_EQ(plan.input_shape(), in_shape);
  EXPECT_GT(plan.packed_kernel_bytes(), 0u);
  EXPECT_EQ(plan.padding()[0],
            (std::pair<convt::index_t, convt::index_t>{2, 2}));  // JAX SAME, k4 s2: ceil(4 / 2) each side
  std::vector<std::vector<float>> expected;
  std::vector<std::vector<float>> inputs;
  for (std::uint32_t i = 0; i < 3; ++i) {
    inputs.push_back(testutil::random_values<float>(2 * 7 * 9 * 6, 10 + i));
    const convt::TensorView<const float, 4> lhs(inputs.back().data(), in_shape);
    const auto direct = convt::conv_transpose(lhs, rhs, {2, 2}, convt::Padding::same());
    expected.emplace_back(direct.data(), direct.data() + direct.size());
  }
  std::fill(w.begin(), w.end(), 0.0f);  // the plan holds its own packed copy
  for (int rep = 0; rep < 2; ++rep)
    for (std::size_t i = 0; i < 3; ++i) {
      const convt::TensorView<const float, 4> lhs(inputs[i].data(), in_shape);
      const auto got = plan(lhs);
      ASSERT_EQ(0, std::memcmp(got.data(), expected[i].data(), expected[i].size() * sizeof(float)));
      convt::Tensor<float, 4> into(plan.output_shape());
      plan.run(lhs, convt::view(into));
      ASSERT_EQ(0, std::memcmp(into.data(), expected[i].data(), expected[i].size() * sizeof(float)));
    }
}

TEST(Plan, PreferredTypeAndTensorAccess) {
  std::vector<std::int8_t> w(3 * 2 * 4, 1), x(1 * 5 * 2, 2);
  const convt::TensorView<const std::int8_t, 3> rhs(w.data(), {3, 2, 4});
  const auto plan = convt::make_plan<std::int32_t>(rhs, {1, 5, 2}, {2}, convt::Padding::valid());
  static_assert(std::is_same_v<decltype(plan)::result_type, std::int32_t>);
  const auto y = plan(convt::TensorView<const std::int8_t, 3>(x.data(), {1, 5, 2}));
  EXPECT_EQ(y.shape(), (std::array<convt::index_t, 3>{1, 11, 4}));
  // Output 2 (a real input position, taps 0 and 2 meet inputs 1 and 0): 2 taps * 2 channels * 2.
  EXPECT_EQ(y(0, 2, 0), 8);
  EXPECT_EQ(y(0, 1, 3), 4);  // odd position: only tap 1 meets input 0
}

}  // namespace
