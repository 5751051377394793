// The CPU-dependent choice of the engine (convt/detail/cpu.hpp): the vendor
// read with CPUID is the one the operating system reports, and the test
// override of packet_groups_swap() wins over it and is undone.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "convt/convt.hpp"
#include "convt/detail/cpu.hpp"
#include "convt/detail/gemm.hpp"
#include "forced_packet_groups_swap.hpp"
#include "test_util.hpp"

namespace {

TEST(Cpu, VendorIsTheOneTheSystemReports) {
  using convt::detail::CpuVendor;
  const CpuVendor vendor = convt::detail::cpu_vendor();
  EXPECT_EQ(vendor, convt::detail::detect_cpu_vendor());
#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64) || defined(_M_IX86)
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line, reported;
  while (std::getline(cpuinfo, line))
    if (line.rfind("vendor_id", 0) == 0) {
      reported = line.substr(line.find(':') + 1);
      reported.erase(0, reported.find_first_not_of(" \t"));
      break;
    }
  if (!reported.empty()) {  // Linux
    const CpuVendor expected = reported == "GenuineIntel"   ? CpuVendor::Intel
                               : reported == "AuthenticAMD" ? CpuVendor::Amd
                                                            : CpuVendor::Other;
    EXPECT_EQ(vendor, expected) << reported;
  }
#else
  EXPECT_EQ(vendor, CpuVendor::Other);  // no CPUID
#endif
}

TEST(Cpu, PacketGroupsSwapFollowsTheVendorUnlessForced) {
  using convt::detail::packet_groups_swap;
  const bool intel = convt::detail::cpu_vendor() == convt::detail::CpuVendor::Intel;
  for (int round = 0; round < 2; ++round) {  // before and after an override
    EXPECT_EQ(packet_groups_swap(16), !intel);
    EXPECT_TRUE(packet_groups_swap(8));
    EXPECT_TRUE(packet_groups_swap(4));
    {
      const testutil::ForcedPacketGroupsSwap kept(false);
      EXPECT_FALSE(packet_groups_swap(16));
      EXPECT_FALSE(packet_groups_swap(4));
    }
    const testutil::ForcedPacketGroupsSwap swapped(true);
    EXPECT_TRUE(packet_groups_swap(16));
  }
}

// The engine follows the choice: a phase group of one vector packet of rows
// (a 1 x packet input, k4 s2: four phases of `packet` rows) multiplies with
// the kernel as gebp's lhs only where packet groups swap, and only then
// does its plan make the kernel's lhs copy.
TEST(Cpu, EngineFollowsPacketGroupsSwap) {
  const convt::index_t packet = convt::detail::GemmTraits<float>::packet;
  const std::vector<float> w = testutil::random_values<float>(4 * 4 * 16 * 80, 1);
  const convt::TensorView<const float, 4> rhs(w.data(), {4, 4, 16, 80});
  const convt::Padding pad = convt::Padding::explicit_pads({{2, 2}, {2, 2}});
  for (bool swap : {false, true}) {
    const testutil::ForcedPacketGroupsSwap forced(swap);
    const auto kernel = convt::make_kernel(rhs, {2, 2}, pad, {});
    const std::size_t packed = kernel.packed_kernel_bytes();
    const auto plan = kernel.plan({1, 1, packet, 16});
    EXPECT_EQ(kernel.packed_kernel_bytes(), swap ? 2 * packed : packed) << "swap " << swap;
  }
}

}  // namespace
