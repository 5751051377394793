// convt/eigen.hpp — zero-copy bridges between convt and Eigen's Tensor module
// (unsupported/Eigen/CXX11/Tensor). Opt-in: not included by convt.hpp, so
// users who do not use Eigen::Tensor do not pay for parsing it.
//
//   Eigen::Tensor<float, 4, Eigen::RowMajor> x(1, 8, 8, 3);   // N H W C
//   auto y = convt::conv_transpose(convt::view(x), convt::view(w), {2, 2}, convt::Padding::same());
//   Eigen::Tensor<float, 4, Eigen::RowMajor> ey = convt::to_eigen(y);
//
// Indices keep their meaning across the bridge: element (i0, i1, ...) of the
// Eigen tensor is element (i0, i1, ...) of the view, for RowMajor and ColMajor
// storage alike (a ColMajor tensor becomes a view whose first axis has
// stride 1).
#pragma once

#include <array>
#include <cstddef>
#include <type_traits>
#include <utility>

#include <unsupported/Eigen/CXX11/Tensor>

#include "convt/tensor.hpp"

namespace convt {

namespace detail {

template <class Dims>
constexpr std::size_t eigen_rank() {
  return static_cast<std::size_t>(Eigen::internal::array_size<Dims>::value);
}

/// Shape and strides (in elements) of an Eigen tensor's dense storage.
template <std::size_t Rank, int Layout, class Dims>
std::pair<std::array<index_t, Rank>, std::array<index_t, Rank>> eigen_geometry(const Dims& dims) {
  std::array<index_t, Rank> shape{};
  std::array<index_t, Rank> strides{};
  for (std::size_t i = 0; i < Rank; ++i) shape[i] = static_cast<index_t>(dims[i]);
  // An extent of 0 counts as 1, as in row_major_strides: the view is empty
  // anyway, and the strides stay well-defined.
  index_t s = 1;
  if (Layout == Eigen::RowMajor) {
    for (std::size_t i = Rank; i-- > 0;) {
      strides[i] = s;
      s = checked_mul(s, shape[i] > 0 ? shape[i] : 1, "Eigen tensor size");
    }
  } else {
    for (std::size_t i = 0; i < Rank; ++i) {
      strides[i] = s;
      s = checked_mul(s, shape[i] > 0 ? shape[i] : 1, "Eigen tensor size");
    }
  }
  return {shape, strides};
}

template <std::size_t Rank>
std::array<index_t, Rank> reversed_axes() {
  std::array<index_t, Rank> axes{};
  for (std::size_t i = 0; i < Rank; ++i) axes[i] = static_cast<index_t>(Rank - 1 - i);
  return axes;
}

template <class T, std::size_t Rank, int Layout, class Dims>
TensorView<T, Rank> eigen_view(T* data, const Dims& dims) {
  const auto [shape, strides] = eigen_geometry<Rank, Layout>(dims);
  return TensorView<T, Rank>(data, shape, strides);
}

}  // namespace detail

/// A view of an `Eigen::Tensor` (RowMajor or ColMajor), sharing its storage.
template <class T, int NumDims, int Options, class IndexType>
TensorView<T, static_cast<std::size_t>(NumDims)> view(Eigen::Tensor<T, NumDims, Options, IndexType>& t) {
  return detail::eigen_view<T, static_cast<std::size_t>(NumDims), (Options & Eigen::RowMajor)>(t.data(),
                                                                                               t.dimensions());
}

/// A read-only view of an `Eigen::Tensor`.
template <class T, int NumDims, int Options, class IndexType>
TensorView<const T, static_cast<std::size_t>(NumDims)> view(const Eigen::Tensor<T, NumDims, Options, IndexType>& t) {
  return detail::eigen_view<const T, static_cast<std::size_t>(NumDims), (Options & Eigen::RowMajor)>(t.data(),
                                                                                                     t.dimensions());
}

/// A view of the memory an `Eigen::TensorMap` refers to (read-only when the
/// map is over a const tensor type).
template <class PlainTensor, int MapOptions, template <class> class MakePointer>
auto view(const Eigen::TensorMap<PlainTensor, MapOptions, MakePointer>& m) {
  using Scalar = typename PlainTensor::Scalar;
  using Element = std::conditional_t<std::is_const_v<PlainTensor>, const Scalar, Scalar>;
  constexpr std::size_t rank = static_cast<std::size_t>(PlainTensor::NumDimensions);
  constexpr int layout =
      static_cast<int>(PlainTensor::Layout) == static_cast<int>(Eigen::RowMajor) ? Eigen::RowMajor : Eigen::ColMajor;
  return detail::eigen_view<Element, rank, layout>(const_cast<Element*>(m.data()), m.dimensions());
}

/// A RowMajor `Eigen::TensorMap` over a convt Tensor's storage (no copy; valid
/// while the Tensor lives).
template <class T, std::size_t Rank>
Eigen::TensorMap<Eigen::Tensor<T, static_cast<int>(Rank), Eigen::RowMajor, index_t>> as_eigen(Tensor<T, Rank>& t) {
  Eigen::DSizes<index_t, static_cast<int>(Rank)> dims;
  for (std::size_t i = 0; i < Rank; ++i) dims[i] = t.extent(i);
  return Eigen::TensorMap<Eigen::Tensor<T, static_cast<int>(Rank), Eigen::RowMajor, index_t>>(t.data(), dims);
}

/// A read-only RowMajor `Eigen::TensorMap` over a convt Tensor's storage.
template <class T, std::size_t Rank>
Eigen::TensorMap<const Eigen::Tensor<T, static_cast<int>(Rank), Eigen::RowMajor, index_t>> as_eigen(
    const Tensor<T, Rank>& t) {
  Eigen::DSizes<index_t, static_cast<int>(Rank)> dims;
  for (std::size_t i = 0; i < Rank; ++i) dims[i] = t.extent(i);
  return Eigen::TensorMap<const Eigen::Tensor<T, static_cast<int>(Rank), Eigen::RowMajor, index_t>>(t.data(), dims);
}

/// A new `Eigen::Tensor` (RowMajor by default, or ColMajor) holding a copy of
/// a convt Tensor; the indices keep their meaning.
template <int Layout = Eigen::RowMajor, class T, std::size_t Rank>
Eigen::Tensor<T, static_cast<int>(Rank), Layout, index_t> to_eigen(const Tensor<T, Rank>& t) {
  static_assert(Layout == Eigen::RowMajor || Layout == Eigen::ColMajor, "convt::to_eigen: RowMajor or ColMajor");
  Eigen::Tensor<T, static_cast<int>(Rank), Layout, index_t> result;
  if constexpr (Layout == Eigen::RowMajor) {
    result = as_eigen(t);
  } else {
    // swap_layout reverses the dimensions; the shuffle puts them back.
    result = as_eigen(t).swap_layout().shuffle(detail::reversed_axes<Rank>());
  }
  return result;
}

}  // namespace convt
