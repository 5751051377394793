// The caller's thread pool (options.thread_pool): with it convt starts no
// thread of its own, computes what it computes single-threaded (bitwise),
// serves many concurrent callers on one plan, and does not deadlock when
// called from the pool's own threads. Its own binary, so that no other test
// has created the default pool before the thread count is taken.
#include <gtest/gtest.h>

#include <dirent.h>
#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include <convt/convt.hpp>

#include "test_util.hpp"

namespace {

/// Threads of this process (Linux: entries of /proc/self/task), or -1.
int thread_count() {
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return -1;
  int n = 0;
  while (const dirent* e = readdir(dir)) n += e->d_name[0] != '.';
  closedir(dir);
  return n;
}

struct Problem {
  std::vector<float> x = testutil::random_values<float>(2 * 17 * 13 * 16, 1);
  std::vector<float> w = testutil::random_values<float>(4 * 4 * 16 * 24, 2);
  convt::TensorView<const float, 4> lhs{x.data(), {2, 17, 13, 16}};
  convt::TensorView<const float, 4> rhs{w.data(), {4, 4, 16, 24}};
};

TEST(ThreadPool, CallerPoolDoesAllTheWorkAndConvtStartsNoThread) {
  // A sanitizer runtime (TSan) starts a helper thread of its own with the
  // process's first pthread_create: make it exist before counting.
  std::thread([] {}).join();
  const int before = thread_count();
  Eigen::ThreadPool pool(3);
  const int with_pool = thread_count();
  Problem p;
  convt::ConvTransposeOptions<2> serial;
  serial.num_threads = 1;
  const auto want = convt::conv_transpose(p.lhs, p.rhs, {2, 2}, convt::Padding::same(), serial);
  for (int threads : {0, 2, 4, 7})
    for (std::size_t ws : {std::size_t{1}, std::size_t{16} << 20}) {
      convt::ConvTransposeOptions<2> opt;
      opt.thread_pool = &pool;
      opt.num_threads = threads;
      opt.workspace_bytes = ws;
      opt.activation = convt::Activation::none();
      const auto got = convt::conv_transpose(p.lhs, p.rhs, {2, 2}, convt::Padding::same(), opt);
      ASSERT_EQ(0, std::memcmp(got.data(), want.data(), sizeof(float) * static_cast<std::size_t>(want.size())))
          << threads << " threads, workspace " << ws;
    }
  if (before >= 0) {
    EXPECT_EQ(with_pool, before + 3);
    EXPECT_EQ(thread_count(), with_pool) << "convt started threads of its own";
  }
}

TEST(ThreadPool, ConcurrentCallersOnOnePlanAndFromThePoolsOwnThreads) {
  Eigen::ThreadPool pool(2);
  Problem p;
  convt::ConvTransposeOptions<2> opt;
  opt.thread_pool = &pool;
  opt.num_threads = 3;
  opt.bias = convt::BiasView(p.w.data(), 24);
  opt.activation = convt::Activation::silu();
  const auto plan = convt::make_plan(p.rhs, {2, 17, 13, 16}, {2, 2}, convt::Padding::same(), opt);
  const auto want = plan(p.lhs);
  // Six application threads share the plan and the pool.
  std::atomic<int> ok{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < 6; ++i) {
    callers.emplace_back([&] {
      bool same = true;
      for (int rep = 0; rep < 4; ++rep) {
        const auto got = plan(p.lhs);
        same = same && std::memcmp(got.data(), want.data(), sizeof(float) * static_cast<std::size_t>(got.size())) == 0;
      }
      ok += same;
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(ok.load(), 6);
  // Calls made from inside the pool's tasks (both of its threads busy with
  // them) finish: the caller never waits for a helper that has not started.
  Eigen::Barrier done(4);
  std::atomic<int> inside{0};
  for (int i = 0; i < 4; ++i) {
    pool.Schedule([&] {
      const auto got = plan(p.lhs);
      inside += std::memcmp(got.data(), want.data(), sizeof(float) * static_cast<std::size_t>(got.size())) == 0;
      done.Notify();
    });
  }
  done.Wait();
  EXPECT_EQ(inside.load(), 4);
}

}  // namespace
