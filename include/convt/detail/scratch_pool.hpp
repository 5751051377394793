// convt/detail/scratch_pool.hpp — reusable per-call scratch for a plan.
// A plan may run concurrently, so each run takes a whole set of worker
// buffers from the pool and returns it; repeated runs pay no allocation or
// page faults. The pool holds one set per concurrent caller at most.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace convt::detail {

template <class Scratch>
class ScratchPool {
 public:
  class Lease {
   public:
    Lease(ScratchPool* pool, std::unique_ptr<Scratch> s) : pool_(pool), scratch_(std::move(s)) {}
    Lease(Lease&&) noexcept = default;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (scratch_) pool_->give_back(std::move(scratch_));
    }
    Scratch& operator*() const noexcept { return *scratch_; }
    Scratch* operator->() const noexcept { return scratch_.get(); }

   private:
    ScratchPool* pool_;
    std::unique_ptr<Scratch> scratch_;
  };

  /// A free set, or a new one from `make()` (which may throw; nothing is
  /// then held).
  template <class Make>
  Lease take(const Make& make) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!free_.empty()) {
        std::unique_ptr<Scratch> s = std::move(free_.back());
        free_.pop_back();
        return Lease(this, std::move(s));
      }
    }
    std::unique_ptr<Scratch> fresh = make();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      free_.reserve(issued_ + 1);
      ++issued_;
    }
    return Lease(this, std::move(fresh));
  }

 private:
  void give_back(std::unique_ptr<Scratch> s) noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    // Capacity for every set ever handed out was reserved in take(), so this
    // push_back does not allocate and cannot throw.
    free_.push_back(std::move(s));
  }

  std::mutex mutex_;
  std::vector<std::unique_ptr<Scratch>> free_;
  std::size_t issued_ = 0;  // sets created; free_ has room for all of them
};

}  // namespace convt::detail
