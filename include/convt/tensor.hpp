// convt/tensor.hpp — TensorView (non-owning, strided) and Tensor (owning,
// row-major). Vocabulary follows mdspan: extents are the shape, strides are in
// elements, the mapping is offset = sum(index[i] * stride[i]).
#pragma once

#include <array>
#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

#include "convt/error.hpp"

namespace convt {

namespace detail {
template <std::size_t Rank>
void check_shape(const std::array<index_t, Rank>& shape, const char* what) {
  for (std::size_t i = 0; i < Rank; ++i) {
    if (shape[i] < 0) fail(what, ": extent ", i, " is ", shape[i], "; extents must be >= 0");
  }
  index_t p = 1;
  for (std::size_t i = 0; i < Rank; ++i) p = checked_mul(p, shape[i] > 0 ? shape[i] : 1, what);
}

/// Row-major strides of a validated shape (an extent of 0 counts as 1, so
/// later strides stay meaningful).
template <std::size_t Rank>
std::array<index_t, Rank> row_major_strides(const std::array<index_t, Rank>& shape, const char* what) {
  check_shape(shape, what);
  std::array<index_t, Rank> strides{};
  index_t s = 1;
  for (std::size_t i = Rank; i-- > 0;) {
    strides[i] = s;
    s *= (shape[i] > 0 ? shape[i] : 1);
  }
  return strides;
}
}  // namespace detail

/// A non-owning view of a rank-`Rank` array of `T` with arbitrary element
/// strides (negative and zero strides are allowed for inputs; outputs must not
/// alias themselves). `TensorView<T, R>` converts implicitly to
/// `TensorView<const T, R>`.
template <class T, std::size_t Rank>
class TensorView {
 public:
  using element_type = T;                          ///< T, possibly const
  using value_type = std::remove_cv_t<T>;          ///< T without const
  using extents_type = std::array<index_t, Rank>;  ///< the shape
  using strides_type = std::array<index_t, Rank>;  ///< element strides

  /// Number of dimensions.
  static constexpr std::size_t rank() noexcept { return Rank; }

  /// An empty view (no data, all extents 0).
  TensorView() noexcept : data_(nullptr), shape_{}, strides_{} {}

  /// Row-major contiguous view of `shape`.
  TensorView(T* data, const extents_type& shape)
      : data_(data), shape_(shape), strides_(detail::row_major_strides(shape, "TensorView shape")) {
    check_data();
  }

  /// View with explicit element strides.
  TensorView(T* data, const extents_type& shape, const strides_type& strides)
      : data_(data), shape_(shape), strides_(strides) {
    detail::check_shape(shape, "TensorView shape");
    check_data();
  }

  /// `TensorView<T>` → `TensorView<const T>`.
  template <class U, std::enable_if_t<std::is_same_v<const U, T> && !std::is_same_v<U, T>, int> = 0>
  TensorView(const TensorView<U, Rank>& other) noexcept  // NOLINT(google-explicit-constructor)
      : data_(other.data()), shape_(other.shape()), strides_(other.strides()) {}

  /// Address of element (0, ..., 0).
  T* data() const noexcept { return data_; }
  /// The extents.
  const extents_type& shape() const noexcept { return shape_; }
  /// The element strides.
  const strides_type& strides() const noexcept { return strides_; }
  /// Extent of dimension i.
  index_t extent(std::size_t i) const noexcept { return shape_[i]; }
  /// Stride (in elements) of dimension i.
  index_t stride(std::size_t i) const noexcept { return strides_[i]; }

  /// Number of elements (product of extents).
  index_t size() const noexcept {
    index_t p = 1;
    for (index_t e : shape_) p *= e;
    return p;
  }
  /// True when some extent is 0.
  bool empty() const noexcept { return size() == 0; }

  /// Element (idx...); no bounds check.
  template <class... I>
  T& operator()(I... idx) const noexcept {
    static_assert(sizeof...(I) == Rank, "TensorView::operator(): one index per dimension");
    const std::array<index_t, Rank> ix{static_cast<index_t>(idx)...};
    index_t off = 0;
    for (std::size_t i = 0; i < Rank; ++i) off += ix[i] * strides_[i];
    return data_[off];
  }

 private:
  void check_data() const {
    if (data_ == nullptr && size() != 0) {
      detail::fail("TensorView data: null pointer for a view of ", size(),
                   " elements; "
                   "only an empty view may have no data");
    }
  }

  T* data_;
  extents_type shape_;
  strides_type strides_;
};

namespace detail {
/// Allocates on cache-line (64-byte) boundaries, so that rows of whole
/// vector packets can be written with streaming stores (a line at a time;
/// detail/stream_store.hpp).
template <class T>
struct CacheLineAllocator {
  using value_type = T;
  static constexpr std::align_val_t kAlign{64};
  CacheLineAllocator() = default;
  template <class U>
  CacheLineAllocator(const CacheLineAllocator<U>&) noexcept {}  // NOLINT: rebinding
  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), kAlign)); }
  void deallocate(T* p, std::size_t) noexcept { ::operator delete(p, kAlign); }
  template <class U>
  bool operator==(const CacheLineAllocator<U>&) const noexcept {
    return true;
  }
  template <class U>
  bool operator!=(const CacheLineAllocator<U>&) const noexcept {
    return false;
  }
};
}  // namespace detail

/// An owning, row-major, zero-initialised array; its storage starts on a
/// 64-byte boundary.
template <class T, std::size_t Rank>
class Tensor {
 public:
  using value_type = T;                            ///< element type
  using extents_type = std::array<index_t, Rank>;  ///< the shape

  /// Number of dimensions.
  static constexpr std::size_t rank() noexcept { return Rank; }

  /// An empty tensor (all extents 0).
  Tensor() : shape_{} {}

  /// A zero-filled tensor of `shape`; Error if the shape is invalid or the
  /// memory cannot be allocated.
  explicit Tensor(const extents_type& shape) : shape_(shape) {
    detail::check_shape(shape, "Tensor shape");
    const index_t count = detail::checked_product(shape, "Tensor size");
    const index_t bytes = detail::checked_mul(count, static_cast<index_t>(sizeof(T)), "Tensor bytes");
    CONVT_TRY { data_.assign(static_cast<std::size_t>(count), T{}); }
    CONVT_CATCH_ALLOCATION {
      detail::fail("Tensor: cannot allocate ", bytes, " bytes for shape ", detail::format_seq(shape));
    }
  }

  /// The row-major storage.
  T* data() noexcept { return data_.data(); }
  /// The row-major storage.
  const T* data() const noexcept { return data_.data(); }
  /// The extents.
  const extents_type& shape() const noexcept { return shape_; }
  /// Extent of dimension i.
  index_t extent(std::size_t i) const noexcept { return shape_[i]; }
  /// Number of elements.
  index_t size() const noexcept { return static_cast<index_t>(data_.size()); }

  /// A writable view of the whole tensor (convt::view(t) says the same).
  operator TensorView<T, Rank>() noexcept { return TensorView<T, Rank>(data(), shape_); }  // NOLINT
  /// A read-only view of the whole tensor.
  operator TensorView<const T, Rank>() const noexcept {  // NOLINT
    return TensorView<const T, Rank>(data(), shape_);
  }

  /// Element (idx...); no bounds check.
  template <class... I>
  T& operator()(I... idx) noexcept {
    return TensorView<T, Rank>(*this)(idx...);
  }
  /// Element (idx...); no bounds check.
  template <class... I>
  const T& operator()(I... idx) const noexcept {
    return TensorView<const T, Rank>(*this)(idx...);
  }

 private:
  extents_type shape_;
  std::vector<T, detail::CacheLineAllocator<T>> data_;  // cache-line aligned
};

/// convt's one name for "a view of this": a TensorView of a Tensor (mutable
/// or const, as the Tensor is), of a TensorView (itself) and, with
/// convt/eigen.hpp, of Eigen tensors. Every entry point takes Tensors and
/// TensorViews alike through it.
template <class T, std::size_t Rank>
TensorView<T, Rank> view(TensorView<T, Rank> v) noexcept {
  return v;
}
/// A writable view of a Tensor.
template <class T, std::size_t Rank>
TensorView<T, Rank> view(Tensor<T, Rank>& t) noexcept {
  return TensorView<T, Rank>(t);
}
/// A read-only view of a Tensor.
template <class T, std::size_t Rank>
TensorView<const T, Rank> view(const Tensor<T, Rank>& t) noexcept {
  return TensorView<const T, Rank>(t);
}

namespace detail {
/// The view type `view` gives for an argument of type X (SFINAE-friendly).
template <class X>
using view_t = decltype(view(std::declval<X&>()));
}  // namespace detail

}  // namespace convt
