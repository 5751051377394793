// convt/detail/cpu.hpp — the one choice of the engine that depends on the
// CPU it runs on rather than on the instruction set it was compiled for:
// whether phase groups of whole vector packets of rows multiply with the
// kernel as gebp's lhs (kernel_as_lhs). Both choices compute the same
// values; which is faster was measured to differ between CPUs with the same
// AVX-512 instruction set (docs/design.md, "Few rows").
#pragma once

#include <atomic>
#include <cstring>

#include "convt/error.hpp"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#define CONVT_HAS_CPUID 1
#elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
#include <intrin.h>
#define CONVT_HAS_CPUID 1
#endif

namespace convt::detail {

enum class CpuVendor { Intel, Amd, Other };

/// The x86 CPUID vendor string; Other elsewhere and where it cannot be read.
inline CpuVendor detect_cpu_vendor() {
#ifdef CONVT_HAS_CPUID
  unsigned regs[4] = {0, 0, 0, 0};  // eax, ebx, ecx, edx of leaf 0
#if defined(_MSC_VER) && !defined(__clang__)
  int info[4];
  __cpuid(info, 0);
  for (int i = 0; i < 4; ++i) regs[i] = static_cast<unsigned>(info[i]);
#else
  if (__get_cpuid(0, &regs[0], &regs[1], &regs[2], &regs[3]) == 0) return CpuVendor::Other;
#endif
  char vendor[13] = {};
  std::memcpy(vendor, &regs[1], 4);  // the string is ebx, edx, ecx
  std::memcpy(vendor + 4, &regs[3], 4);
  std::memcpy(vendor + 8, &regs[2], 4);
  if (std::strcmp(vendor, "GenuineIntel") == 0) return CpuVendor::Intel;
  if (std::strcmp(vendor, "AuthenticAMD") == 0) return CpuVendor::Amd;
#endif
  return CpuVendor::Other;
}

inline CpuVendor cpu_vendor() {
  static const CpuVendor vendor = detect_cpu_vendor();
  return vendor;
}

/// Overrides packet_groups_swap() for tests, which cover both paths on any
/// CPU: -1 follows the CPU, 0 keeps packet groups' rows, 1 swaps them.
inline std::atomic<int> packet_groups_swap_override{-1};

/// Whether groups of whole vector packets of rows (fewer than gebp's
/// register block; `packet` rows each) multiply with the kernel as gebp's
/// lhs. Measured, 16-row phases of 4 x 4 inputs with AVX-512 float packets
/// of 16 rows (512 -> 256 and 1024 -> 512 features, k4 s2): swapping is
/// 1.13-1.9x faster on an AMD EPYC (Zen 5), where gebp's one-packet path is
/// slow, and 0.77-0.88x of keeping the rows on an Intel Xeon (0.84-1.06x on
/// a second one). So Intel CPUs keep the rows of 16-row packets; smaller
/// packets (AVX2, SSE, NEON; double), which were not measured, and other
/// CPUs swap.
inline bool packet_groups_swap(index_t packet) {
  const int forced = packet_groups_swap_override.load(std::memory_order_relaxed);
  if (forced >= 0) return forced != 0;
  return packet < 16 || cpu_vendor() != CpuVendor::Intel;
}

}  // namespace convt::detail
