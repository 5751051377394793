// convt/options.hpp — the keyword arguments of conv_transpose beyond
// lhs, rhs, strides and padding.
#pragma once

#include <array>
#include <cstddef>
#include <optional>

#include "convt/dimension_numbers.hpp"
#include "convt/epilogue.hpp"
#include "convt/error.hpp"
#include "convt/types.hpp"

namespace Eigen {
class ThreadPoolInterface;  // unsupported/Eigen/CXX11/ThreadPool
}  // namespace Eigen

namespace convt {

/// How the transposed convolution is lowered to GEMMs. Both are exact; the
/// dense one exists to measure what the phase split saves.
enum class Lowering {
  /// Zero-skipping: one dense stride-1 correlation per output phase
  /// (y mod stride), gathering only the taps that meet real input elements.
  PhaseSplit,
  /// The textbook lowering: im2col over the stride-dilated input (the
  /// inserted zeros are gathered, never stored in a dilated copy) and one GEMM
  /// over every kernel tap.
  DenseDilated,
};

/// Keyword options of conv_transpose, named as in `jax.lax.conv_transpose`.
template <std::size_t NumSpatial>
struct ConvTransposeOptions {
  /// Kernel dilation per spatial dimension (rhs order); absent = all 1.
  std::optional<std::array<index_t, NumSpatial>> rhs_dilation;
  /// Layout strings; absent = JAX's default for the rank (ranks 2–5 only).
  std::optional<DimensionNumbers> dimension_numbers;
  /// Flip the kernel's spatial axes and swap its O and I axes first.
  bool transpose_kernel = false;
  /// Accumulation precision (a Precision, or a (lhs, rhs) pair).
  PrecisionConfig precision = Precision::Default;
  /// Explicit pads are forward-conv padding (PyTorch's convention).
  bool use_consistent_padding = false;
  /// convt's extension (not a JAX keyword): the input repeats periodically
  /// beyond its extent instead of being padded with zeros, so positive
  /// padding wraps around — the circular transposed convolution of Flax's
  /// padding='CIRCULAR' (convt::flax::conv_transpose sets it with the
  /// matching pads).
  bool periodic_input = false;
  /// Feature groups, as `feature_group_count` of
  /// `jax.lax.conv_general_dilated`: lhs features C = groups x (rhs 'I'),
  /// rhs 'O' divisible by groups, group g maps input features
  /// [g·C/groups, (g+1)·C/groups) to output features [g·O/groups, ...).
  /// With transpose_kernel the kernel is transposed within each group (the
  /// rhs 'O' axis then has C entries and 'I' has O/groups), which is
  /// PyTorch's grouped ConvTranspose weight (in, out/groups, k...).
  index_t feature_group_count = 1;
  /// Per-output-feature bias of the result type (convt/epilogue.hpp); the
  /// plan keeps a copy. Empty = none.
  BiasView bias;
  /// beta of out = conv + beta * out: 1 adds the result to what the output
  /// holds (skip connections, overlap-add); 0 overwrites without reading it.
  double accumulate = 0;
  /// Applied after the bias and the accumulation, before the one conversion
  /// to the result type.
  Activation activation;
  /// Worker threads; 0 = all hardware threads (with a thread_pool: its
  /// threads and the caller), 1 = the caller's thread only.
  int num_threads = 0;
  /// The pool that runs the parallel work (any Eigen::ThreadPoolInterface:
  /// Eigen::ThreadPool, or an adapter to the application's own pool); convt
  /// then starts no thread. Null: a process-wide Eigen::ThreadPool of
  /// hardware threads - 1, made by the first run that uses more than one
  /// worker and never destroyed. The calling thread always works too; the
  /// pool must outlive every run of the plan.
  Eigen::ThreadPoolInterface* thread_pool = nullptr;
  /// Cap on the extra memory of one call (im2col tiles and GEMM blocks of all
  /// workers), in bytes. The cap is honoured down to one register block of
  /// rows per worker.
  std::size_t workspace_bytes = std::size_t{16} << 20;
  /// Lowering strategy; leave at PhaseSplit except to measure.
  Lowering lowering = Lowering::PhaseSplit;
};

}  // namespace convt
