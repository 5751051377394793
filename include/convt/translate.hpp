// convt/translate.hpp — a transposed-convolution layer of PyTorch,
// TensorFlow, Keras, ONNX or Flax, given exactly as that framework names and
// orders its parameters, turned into the equivalent conv_transpose call:
// strides, explicit (lo, hi) padding, rhs_dilation, dimension_numbers (the
// framework's data format and kernel layout), transpose_kernel,
// feature_group_count, and the layer's bias and activation.
//
//   // torch.nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1)
//   const auto call = convt::pytorch::conv_transpose<2>({64, 32, {4, 4}, {2, 2}, {1, 1}});
//   auto y = call(x, weight, bias);   // x (N, C, H, W), weight (in, out/groups, kH, kW), bias (out,)
//
// Every translator returns the same ConvTransposeCall (translate/call.hpp),
// which checks the operands against the layer in the framework's terms. The
// framework's own rules are checked too and reported as convt::Error naming
// the framework.
#pragma once

#include "convt/translate/call.hpp"
#include "convt/translate/flax.hpp"
#include "convt/translate/keras.hpp"
#include "convt/translate/onnx.hpp"
#include "convt/translate/pytorch.hpp"
#include "convt/translate/tensorflow.hpp"
