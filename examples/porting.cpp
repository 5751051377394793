// porting: the README's translator snippets (PyTorch, TensorFlow, Keras,
// ONNX, Flax), built and run as a test. Each runs on its framework's own
// tensors and layouts; the shapes printed are the frameworks' output shapes
// for these layers, and the PyTorch layer's packed kernel must give the
// direct call's values. (The values themselves are checked against the
// frameworks in tests/test_frameworks.cpp.)
#include <convt/convt.hpp>
#include <convt/translate.hpp>

#include <cstdio>
#include <string>

namespace {

template <class T, std::size_t R>
convt::Tensor<T, R> filled(const std::array<convt::index_t, R>& shape, int seed) {
  convt::Tensor<T, R> t(shape);
  for (convt::index_t i = 0; i < t.size(); ++i) t.data()[i] = static_cast<T>((i * 5 + seed) % 7 - 3);
  return t;
}

template <class Y>
void print(const char* framework, const Y& y) {
  std::string dims;
  for (auto e : y.shape()) dims += (dims.empty() ? "" : " x ") + std::to_string(e);
  std::printf("%s: %s\n", framework, dims.c_str());
}

bool pytorch() {
  const auto x = filled<float, 4>({2, 64, 8, 8}, 1);
  const auto weight = filled<float, 4>({64, 16, 4, 4}, 2);
  const auto bias = filled<float, 1>({32}, 3);
  auto call = convt::pytorch::conv_transpose<2>({64, 32, {4, 4}, {2, 2}, {1, 1}, {0, 0}, 2, true, {1, 1}});
  call.options.activation = convt::Activation::relu();
  auto y = call(x, weight, bias);           // same tensors, same layouts
  auto kernel = call.kernel(weight, bias);  // or: pack once, plan per input shape
  print("pytorch", y);
  const auto again = kernel.plan(x.shape())(x);
  for (convt::index_t i = 0; i < y.size(); ++i) {
    if (again.data()[i] != y.data()[i]) return false;
  }
  return true;
}

void tensorflow() {
  const auto x = filled<float, 4>({1, 8, 8, 3}, 4);
  const auto filters = filled<float, 4>({3, 3, 8, 3}, 5);
  const auto call = convt::tensorflow::conv_transpose<2>(/*input*/ {1, 8, 8, 3}, /*filters*/ {3, 3, 8, 3},
                                                         /*output_shape*/ {1, 16, 16, 8}, /*strides*/ {2, 2}, "SAME");
  auto y = call(x, filters);
  print("tensorflow", y);
}

void keras() {
  const auto x = filled<float, 4>({1, 8, 8, 3}, 6);
  const auto kernel = filled<float, 4>({3, 3, 8, 3}, 7);
  const auto bias = filled<float, 1>({8}, 8);
  const auto call = convt::keras::conv_transpose<2>(
      {8, {3, 3}, {2, 2}, "same", std::array<convt::index_t, 2>{1, 1}, "channels_last", {1, 1}, "relu"},
      /*input_shape*/ {1, 8, 8, 3});
  auto y = call(x, kernel, bias);
  print("keras", y);
}

void onnx() {
  const auto X = filled<float, 4>({1, 3, 8, 8}, 9);
  const auto W = filled<float, 4>({3, 8, 3, 3}, 10);
  const auto B = filled<float, 1>({8}, 11);
  convt::onnx::ConvTranspose<2> node;
  node.auto_pad = "SAME_UPPER";
  node.strides = {2, 2};
  const auto call = convt::onnx::conv_transpose<2>(node, /*X*/ {1, 3, 8, 8}, /*W*/ {3, 8, 3, 3}, /*B*/ true);
  auto y = call(X, W, B);
  print("onnx", y);
}

void flax() {
  const auto x = filled<float, 4>({1, 8, 8, 3}, 12);
  const auto k = filled<float, 4>({3, 3, 3, 8}, 13);
  const auto b = filled<float, 1>({8}, 14);
  const convt::flax::ConvTranspose<2> layer{8, {3, 3}, {2, 2}, "CIRCULAR"};
  const auto call = convt::flax::conv_transpose<2>(layer, /*input_shape*/ {1, 8, 8, 3});
  auto y = call(x, k, b);
  print("flax", y);
}

}  // namespace

int main() {
  if (!pytorch()) {
    std::printf("pytorch: the packed kernel's plan differs from the direct call\n");
    return 1;
  }
  tensorflow();
  keras();
  onnx();
  flax();
  return 0;
}
