// convt/detail/parallel.hpp — work distribution over a thread pool: the
// caller's (options.thread_pool, any Eigen::ThreadPoolInterface) or, when
// none is given, one process-wide Eigen::ThreadPool made on first use. The
// calling thread always takes part, so a call with num_threads = 1 never
// touches a pool, and callers on their own threads (or on the pool's) may
// run concurrently without deadlock.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <memory>
#include <thread>

#define EIGEN_USE_THREADS
#include <unsupported/Eigen/CXX11/ThreadPool>

#include "convt/error.hpp"

namespace convt::detail {

inline int hardware_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

/// The default pool: hardware_threads() - 1 helpers (the caller is the
/// last worker), created by the first call that needs more than one worker
/// and no caller pool.
inline Eigen::ThreadPoolInterface* shared_pool() {
  static Eigen::ThreadPool* pool = [] {
    const int helpers = std::max(1, hardware_threads() - 1);
    // Intentionally leaked: joining pool threads from a static destructor
    // races with other statics at exit.
    return new Eigen::ThreadPool(helpers);
  }();
  return pool;
}

/// Effective worker count for a requested num_threads: 0 = all hardware
/// threads, or with a caller pool all its threads plus the caller (unless
/// the caller is one of them).
inline int resolve_threads(int requested, Eigen::ThreadPoolInterface* pool = nullptr) {
  if (requested < 0) fail("num_threads = ", requested, ": must be >= 0 (0 = all hardware threads)");
  if (requested > 0) return requested;
  if (pool == nullptr) return hardware_threads();
  return std::max(1, pool->NumThreads() + (pool->CurrentThreadId() < 0 ? 1 : 0));
}

/// Runs fn(unit, worker) for unit in [0, units) on `workers` workers
/// (worker ids 0..workers-1, 0 = the caller) using `pool` (null: the
/// default pool). Units are handed out in order from a shared counter;
/// which worker runs a unit does not affect results.
///
/// The caller drains units too and waits only for helpers that started:
/// a helper that starts after the caller closed the job (the pool was busy
/// elsewhere) finds it closed and leaves without touching `fn`, so a busy
/// or shared pool, or a caller that is itself a pool thread, never makes
/// the caller wait for a task that has not run.
template <class Fn>
void parallel_for(index_t units, int workers, const Fn& fn, Eigen::ThreadPoolInterface* pool = nullptr) {
  if (units <= 0) return;
  const int w = static_cast<int>(std::min<index_t>(workers, units));
  if (w <= 1) {
    for (index_t u = 0; u < units; ++u) fn(u, 0);
    return;
  }
  struct Job {
    std::atomic<index_t> next{0};
    std::atomic<int> active{0};
    std::atomic<bool> closed{false};
    index_t units = 0;
    const Fn* fn = nullptr;
    void drain(int worker) {
      for (index_t u = next.fetch_add(1); u < units; u = next.fetch_add(1)) (*fn)(u, worker);
    }
  };
  auto job = std::make_shared<Job>();
  job->units = units;
  job->fn = &fn;
  if (pool == nullptr) pool = shared_pool();
  for (int worker = 1; worker < w; ++worker) {
    pool->Schedule([job, worker] {
      // Registered before looking, so the caller either waits for this
      // helper or the helper sees the job closed (both sequentially
      // consistent: one of the two orders holds).
      job->active.fetch_add(1);
      if (!job->closed.load()) job->drain(worker);
      job->active.fetch_sub(1, std::memory_order_release);
    });
  }
  job->drain(0);
  job->closed.store(true);
  // Helpers that started finish within about one unit of the caller: wait
  // by yielding rather than on a condition variable, whose wake-up latency
  // is comparable to a whole small convolution.
  while (job->active.load(std::memory_order_acquire) != 0) std::this_thread::yield();
}

}  // namespace convt::detail
