// convt/detail/parallel.hpp — work distribution over a thread pool: the
// caller's (options.thread_pool, any Eigen::ThreadPoolInterface) or, when
// none is given, one process-wide Eigen::ThreadPool made on first use. The
// calling thread always takes part, so a call with num_threads = 1 never
// touches a pool, and callers on their own threads (or on the pool's) may
// run concurrently without deadlock.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>

#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64) || defined(_M_IX86)
#include <immintrin.h>
#endif

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

/// One parallel_for call's units, handed to helpers through seats: each
/// helper takes a seat (worker id 1..helpers) or, when none is left, leaves.
struct ParallelJob {
  std::atomic<index_t> next{0};
  std::atomic<int> active{0};
  std::atomic<bool> closed{false};
  std::atomic<int> seats{0};  // helper seats not yet taken
  int helpers = 0;
  std::uint64_t generation = 0;  // its number among the jobs posted to a HelperRelay
  index_t units = 0;
  const void* fn = nullptr;
  void (*call)(const void* fn, index_t unit, int worker) = nullptr;

  void drain(int worker) {
    for (index_t u = next.fetch_add(1); u < units; u = next.fetch_add(1)) call(fn, u, worker);
  }
  /// Runs units as a helper if a seat is free and the caller has not
  /// closed the job. Registered (active) before looking, so the caller
  /// either waits for this helper or the helper sees the job closed and
  /// leaves without touching fn (both sequentially consistent: one of the
  /// two orders holds).
  void join() {
    const int seat = seats.fetch_sub(1);
    if (seat <= 0) return;
    active.fetch_add(1);
    if (!closed.load()) drain(helpers - seat + 1);
    active.fetch_sub(1, std::memory_order_release);
  }
};

/// How long a helper of the default pool keeps polling for the next job
/// after finishing one, before it goes back to the pool (where it sleeps),
/// in microseconds; set at run time by convt::set_default_pool_linger().
/// A sleeping pool thread wakes 20-35 us after it is handed work (KVM
/// guests, Zen 5), a sixth of a 0.15 ms layer, and Eigen's pool sleeps
/// after about 10 us without work: a decoder's next layer, after the
/// caller's own bias or normalization in between, would find it asleep.
/// GCC's OpenMP runtime spins its threads 300 000 times before they sleep.
#ifndef CONVT_HELPER_LINGER_MICROSECONDS
#define CONVT_HELPER_LINGER_MICROSECONDS 200
#endif
inline std::atomic<std::int64_t>& helper_linger_microseconds() noexcept {
  static std::atomic<std::int64_t> value{CONVT_HELPER_LINGER_MICROSECONDS};
  return value;
}

/// Tells the processor a thread is spinning (lets a sibling hyperthread run).
inline void spin_pause() noexcept {
#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64) || defined(_M_IX86)
  _mm_pause();
#elif (defined(__aarch64__) || defined(__arm__)) && (defined(__GNUC__) || defined(__clang__))
  __asm__ __volatile__("yield");
#endif
}

/// The default pool's helpers between jobs: a caller posts its job here
/// and schedules pool tasks only for the helpers that are not lingering.
class HelperRelay {
 public:
  /// Makes `job` the latest posted; returns the helpers lingering now.
  int post(const std::shared_ptr<ParallelJob>& job) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job->generation = generation_.load() + 1;
      posted_ = job;
      generation_.store(job->generation);
    }
    return lingering_.load();
  }

  /// After a helper's `job`: joins the jobs posted since, until none comes
  /// for the linger time, then returns to the pool.
  void linger(const ParallelJob& job) {
    if (helper_linger_microseconds().load(std::memory_order_relaxed) <= 0) return;
    using Clock = std::chrono::steady_clock;
    lingering_.fetch_add(1);
    std::uint64_t seen = job.generation;
    auto last_job = Clock::now();
    for (;;) {
      for (int i = 0; i < 64 && generation_.load(std::memory_order_relaxed) == seen; ++i) spin_pause();
      if (generation_.load() != seen) {
        seen = join_latest();
        last_job = Clock::now();
      } else if (Clock::now() - last_job >=
                 std::chrono::microseconds(helper_linger_microseconds().load(std::memory_order_relaxed))) {
        break;  // read each time: a shorter linger set meanwhile applies at once
      }
    }
    lingering_.fetch_sub(1);
    // A caller that counted this helper as lingering scheduled no task for
    // it: a job posted since the last look is joined on the way out.
    if (generation_.load() != seen) join_latest();
  }

  /// Helpers polling for the next job now.
  int lingering() const noexcept { return lingering_.load(); }

 private:
  std::uint64_t join_latest() {
    std::shared_ptr<ParallelJob> job;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job = posted_;
    }
    job->join();
    return job->generation;
  }

  std::mutex mutex_;
  std::shared_ptr<ParallelJob> posted_;  // guarded by mutex_
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<int> lingering_{0};
};

inline HelperRelay& default_relay() {
  static HelperRelay* relay = new HelperRelay();  // leaked with the default pool
  return *relay;
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
/// the caller wait for a task that has not run. Helpers of the default
/// pool linger for the next job (HelperRelay); a caller's pool gets its
/// threads back at once.
template <class Fn>
void parallel_for(index_t units, int workers, const Fn& fn, Eigen::ThreadPoolInterface* pool = nullptr) {
  if (units <= 0) return;
  const int w = static_cast<int>(std::min<index_t>(workers, units));
  if (w <= 1) {
    for (index_t u = 0; u < units; ++u) fn(u, 0);
    return;
  }
  auto job = std::make_shared<ParallelJob>();
  job->units = units;
  job->helpers = w - 1;
  job->seats.store(w - 1);
  job->fn = &fn;
  job->call = [](const void* f, index_t u, int worker) { (*static_cast<const Fn*>(f))(u, worker); };
  if (pool == nullptr) {
    HelperRelay& relay = default_relay();
    const int lingering = relay.post(job);
    Eigen::ThreadPoolInterface* shared = shared_pool();
    for (int i = lingering; i < w - 1; ++i) {
      shared->Schedule([job, &relay] {
        job->join();
        relay.linger(*job);
      });
    }
  } else {
    for (int i = 0; i < w - 1; ++i) pool->Schedule([job] { job->join(); });
  }
  job->drain(0);
  job->closed.store(true);
  // Helpers that started finish within about one unit of the caller: wait
  // by yielding rather than on a condition variable, whose wake-up latency
  // is comparable to a whole small convolution.
  while (job->active.load(std::memory_order_acquire) != 0) std::this_thread::yield();
}

}  // namespace convt::detail
