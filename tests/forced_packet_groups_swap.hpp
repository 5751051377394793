// tests/forced_packet_groups_swap.hpp — forces the engine's choice for
// groups of whole packets of rows (detail/cpu.hpp's packet_groups_swap) for
// a scope, so a test covers both choices whatever CPU runs it.
#pragma once

#include "convt/detail/cpu.hpp"

namespace testutil {

class ForcedPacketGroupsSwap {
 public:
  explicit ForcedPacketGroupsSwap(bool swap) { convt::detail::packet_groups_swap_override = swap ? 1 : 0; }
  ~ForcedPacketGroupsSwap() { convt::detail::packet_groups_swap_override = -1; }
  ForcedPacketGroupsSwap(const ForcedPacketGroupsSwap&) = delete;
  ForcedPacketGroupsSwap& operator=(const ForcedPacketGroupsSwap&) = delete;
};

}  // namespace testutil
