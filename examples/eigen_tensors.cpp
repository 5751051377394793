// eigen_tensors: the README's "Eigen tensors" snippet, built and run as a
// test. Eigen tensors of either storage order go in and come out without
// copies (convt::view, convt::as_eigen); every route must give the same
// values.
#include <convt/convt.hpp>
#include <convt/eigen.hpp>

#include <cstdio>

int main() {
  Eigen::Tensor<float, 4, Eigen::RowMajor> x(1, 4, 4, 3);  // or ColMajor, or a TensorMap
  Eigen::Tensor<float, 4, Eigen::RowMajor> w(3, 3, 3, 8);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(i % 7) - 3.0f;
  for (Eigen::Index i = 0; i < w.size(); ++i) w.data()[i] = static_cast<float>(i % 5) - 2.0f;

  auto y = convt::conv_transpose(convt::view(x), convt::view(w), {2, 2}, convt::Padding::same());
  auto ey = convt::to_eigen(y);  // Eigen::Tensor<float, 4, RowMajor> (a copy)
  auto my = convt::as_eigen(y);  // Eigen::TensorMap over y's storage (no copy)
  Eigen::Tensor<float, 4, Eigen::ColMajor> eout(1, 8, 8, 8);
  convt::conv_transpose_into(convt::view(x), convt::view(w), convt::view(eout), {2, 2}, convt::Padding::same());

  for (Eigen::Index h = 0; h < 8; ++h) {
    for (Eigen::Index v = 0; v < 8; ++v) {
      for (Eigen::Index c = 0; c < 8; ++c) {
        const float want = y(0, h, v, c);
        if (ey(0, h, v, c) != want || my(0, h, v, c) != want || eout(0, h, v, c) != want) {
          std::printf("routes disagree at (0, %ld, %ld, %ld)\n", static_cast<long>(h), static_cast<long>(v),
                      static_cast<long>(c));
          return 1;
        }
      }
    }
  }
  std::printf("eigen: %ld x %ld x %ld x %ld, RowMajor and ColMajor agree\n", static_cast<long>(ey.dimension(0)),
              static_cast<long>(ey.dimension(1)), static_cast<long>(ey.dimension(2)),
              static_cast<long>(ey.dimension(3)));
  return 0;
}
