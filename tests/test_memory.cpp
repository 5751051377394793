// Peak memory of a conv_transpose with a 4 GiB output: input + output +
// workspace cap + packed kernel, nothing that grows with the problem.
#include <gtest/gtest.h>

#include <sys/resource.h>

#include <cstdio>
#include <fstream>
#include <string>

#include <convt/convt.hpp>

namespace {

std::size_t peak_rss_bytes() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<std::size_t>(u.ru_maxrss) * 1024;  // Linux reports KiB
}

std::size_t current_rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * 4096;
}

TEST(Memory, FourGiBOutputStaysWithinInputsOutputWorkspaceAndKernel) {
  const std::size_t baseline = current_rss_bytes();
  // NHWC 8192 x 8192 x 4 -> 16384 x 16384 x 4 floats = 4 GiB, k3 s2 SAME
  // (gathered, not read in place).
  const convt::index_t in = 8192, c = 4, o = 4;
  convt::Tensor<float, 4> w({3, 3, c, o});
  for (convt::index_t i = 0; i < w.size(); ++i) w.data()[i] = static_cast<float>(i % 5) - 2.0f;
  convt::Tensor<float, 4> x({1, in, in, c});
  for (convt::index_t i = 0; i < x.size(); i += 997) x.data()[i] = 1.0f;
  convt::ConvTransposeOptions<2> opt;
  opt.workspace_bytes = std::size_t{16} << 20;
  const auto plan = convt::make_plan(convt::view(w), x.shape(), {2, 2}, convt::Padding::same(), opt);
  ASSERT_EQ(plan.output_shape(), (std::array<convt::index_t, 4>{1, 2 * in, 2 * in, o}));
  auto y = plan(convt::view(x));
  const std::size_t peak = peak_rss_bytes();
  const std::size_t inputs = sizeof(float) * static_cast<std::size_t>(x.size() + w.size());
  const std::size_t output = sizeof(float) * static_cast<std::size_t>(y.size());
  ASSERT_EQ(output, std::size_t{4} << 30);
  const std::size_t allowed = baseline + inputs + output + opt.workspace_bytes + plan.packed_kernel_bytes() +
                              (std::size_t{8} << 20);  // allocator and bookkeeping slack
  std::printf(
      "peak RSS %.1f MiB, allowed %.1f MiB (inputs %.1f, output %.1f, workspace cap %.1f, plan workspace %.3f)\n",
      static_cast<double>(peak) / (1 << 20), static_cast<double>(allowed) / (1 << 20),
      static_cast<double>(inputs) / (1 << 20), static_cast<double>(output) / (1 << 20),
      static_cast<double>(opt.workspace_bytes) / (1 << 20), static_cast<double>(plan.workspace_bytes()) / (1 << 20));
  EXPECT_LE(plan.workspace_bytes(), opt.workspace_bytes);
  EXPECT_LE(peak, allowed);
  // Spot-check one value from the definition: JAX's SAME for k3 s2 pads
  // lo = ceil((3 + 2 - 2) / 2) = 2, so output 2 meets dilated position k.
  ASSERT_EQ(plan.padding()[0].first, 2);
  double want = 0;
  for (int kh = 0; kh < 3; ++kh)
    for (int kw = 0; kw < 3; ++kw) {
      const int uh = 2 + kh - 2, uw = 2 + kw - 2;
      if (uh % 2 || uw % 2) continue;
      for (int ci = 0; ci < c; ++ci) want += double(x(0, uh / 2, uw / 2, ci)) * double(w(kh, kw, ci, 1));
    }
  EXPECT_EQ(static_cast<double>(y(0, 2, 2, 1)), want);
}

}  // namespace
