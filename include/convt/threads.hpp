// convt/threads.hpp — process-wide settings of convt's default thread pool
// (the one runs use when ConvTransposeOptions::thread_pool is null).
#pragma once

#include <chrono>
#include <cstdint>

#include "convt/detail/parallel.hpp"
#include "convt/error.hpp"

namespace convt {

/// The longest linger set_default_pool_linger() accepts: 10 s.
inline constexpr std::chrono::microseconds kMaxDefaultPoolLinger{10'000'000};

/// How long each helper thread of the default pool keeps polling for the
/// next run after finishing its part of one, before it sleeps. A sleeping
/// thread takes tens of microseconds to wake, a large share of a small
/// layer, so a decoder that runs its own code between layers keeps its
/// helper busy-waiting this long instead. 0 = sleep at once (no core spins
/// after a run: battery-powered and shared machines). The default is
/// CONVT_HELPER_LINGER_MICROSECONDS (200 us unless defined at compile
/// time). Takes effect at once, also for a helper lingering now; runs with
/// the caller's own pool are not affected. Thread-safe.
inline void set_default_pool_linger(std::chrono::microseconds linger) {
  if (linger.count() < 0 || linger > kMaxDefaultPoolLinger) {
    detail::fail("set_default_pool_linger: linger = ", linger.count(), " us: must be in [0, ",
                 kMaxDefaultPoolLinger.count(), "] us");
  }
  detail::helper_linger_microseconds().store(static_cast<std::int64_t>(linger.count()));
}

/// The current setting of set_default_pool_linger().
inline std::chrono::microseconds default_pool_linger() noexcept {
  return std::chrono::microseconds(detail::helper_linger_microseconds().load());
}

}  // namespace convt
