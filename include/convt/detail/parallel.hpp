// convt/detail/parallel.hpp — work distribution over Eigen's thread pool.
// One process-wide pool; the calling thread always takes part, so a call with
// num_threads = 1 never touches the pool, and callers on their own threads may
// run concurrently without deadlock.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>

#define EIGEN_USE_THREADS
#include <unsupported/Eigen/CXX11/ThreadPool>

#include "convt/error.hpp"

namespace convt::detail {

inline int hardware_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

/// The shared pool: hardware_threads() - 1 helpers (the caller is the last).
inline Eigen::ThreadPool* shared_pool() {
  static Eigen::ThreadPool* pool = [] {
    const int helpers = std::max(1, hardware_threads() - 1);
    // Intentionally leaked: joining pool threads from a static destructor
    // races with other statics at exit.
    return new Eigen::ThreadPool(helpers);
  }();
  return pool;
}

/// Effective worker count for a requested num_threads (0 = all hardware).
inline int resolve_threads(int requested) {
  if (requested < 0) fail("num_threads = ", requested, ": must be >= 0 (0 = all hardware threads)");
  return requested == 0 ? hardware_threads() : requested;
}

/// Runs fn(unit, worker) for unit in [0, units) on `workers` workers
/// (worker ids 0..workers-1, 0 = the caller). Units are handed out in order
/// from a shared counter; which worker runs a unit does not affect results.
template <class Fn>
void parallel_for(index_t units, int workers, const Fn& fn) {
  if (units <= 0) return;
  const int w = static_cast<int>(std::min<index_t>(workers, units));
  if (w <= 1) {
    for (index_t u = 0; u < units; ++u) fn(u, 0);
    return;
  }
  std::atomic<index_t> next{0};
  std::atomic<int> running{w - 1};
  auto drain = [&](int worker) {
    for (index_t u = next.fetch_add(1); u < units; u = next.fetch_add(1)) fn(u, worker);
  };
  Eigen::ThreadPool* pool = shared_pool();
  for (int worker = 1; worker < w; ++worker) {
    pool->Schedule([&drain, &running, worker] {
      drain(worker);
      running.fetch_sub(1, std::memory_order_release);
    });
  }
  drain(0);
  // The helpers finish within about one unit of the caller: wait by
  // yielding rather than sleeping on a condition variable, whose wake-up
  // latency is comparable to a whole small convolution.
  while (running.load(std::memory_order_acquire) != 0) std::this_thread::yield();
}

}  // namespace convt::detail
