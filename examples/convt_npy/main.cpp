// convt-npy — jax.lax.conv_transpose from the shell, on .npy files.
//
//   convt-npy x.npy w.npy -o y.npy --strides 2,2 --padding SAME
//
// computes what `jax.lax.conv_transpose(x, w, (2, 2), 'SAME')` computes and
// writes it as numpy.save would. Any error prints one line on stderr, exits
// with status 2 and leaves the output file as it was.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <string>

#include <convt/npy.hpp>
#include "compute.hpp"
#include "request.hpp"

namespace {

using convt_npy::Request;

npy::Array dispatch(const Request& r, const npy::Array& lhs, const npy::Array& rhs) {
  switch (lhs.dtype) {
    case npy::DType::float16: return convt_npy::compute_float16(r, lhs, rhs);
    case npy::DType::float32: return convt_npy::compute_float32(r, lhs, rhs);
    case npy::DType::float64: return convt_npy::compute_float64(r, lhs, rhs);
    case npy::DType::complex64: return convt_npy::compute_complex64(r, lhs, rhs);
    case npy::DType::complex128: return convt_npy::compute_complex128(r, lhs, rhs);
    case npy::DType::int8: return convt_npy::compute_int8(r, lhs, rhs);
    case npy::DType::int16: return convt_npy::compute_int16(r, lhs, rhs);
    case npy::DType::int32: return convt_npy::compute_int32(r, lhs, rhs);
    case npy::DType::int64: return convt_npy::compute_int64(r, lhs, rhs);
    case npy::DType::uint8: return convt_npy::compute_uint8(r, lhs, rhs);
  }
  throw convt_npy::UsageError("lhs: unsupported dtype");
}

int fail(const std::string& message) {
  std::fprintf(stderr, "convt-npy: %s\n", message.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "convt-npy: jax.lax.conv_transpose(lhs, rhs, strides, padding, ...) on .npy files.\n"
      "The options are conv_transpose's keyword arguments, spelled as in JAX."};
  app.footer(
      "Example — jax.lax.conv_transpose(x, w, strides=(2, 2), padding='SAME') with x NHWC, w HWIO:\n"
      "  convt-npy x.npy w.npy -o y.npy --strides 2,2 --padding SAME\n"
      "PyTorch ConvTranspose2d(kernel_size=k, stride=2, padding=p, output_padding=q), weight (in, out, kh, kw),\n"
      "bias and ReLU (any k, p, q: --padding takes p:p-q with --use-consistent-padding), e.g. k 4, p 1, q 0:\n"
      "  convt-npy x.npy w.npy -o y.npy --strides 2,2 --padding 1:1,1:1 --use-consistent-padding \\\n"
      "            --dimension-numbers NCHW,OIHW,NCHW --transpose-kernel --bias b.npy --activation relu\n"
      "Errors print one line on stderr and exit with status 2; OUT is written only on success.");

  std::string lhs_path, rhs_path, out_path, strides_text, dilation_text, dn_text, precision_text, preferred_text,
      bias_path, activation_text;
  bool accumulate = false;
  Request r;
  app.add_option("lhs", lhs_path, "Input .npy (N, C and spatial axes; default layout NWC/NHWC/NDHWC)")->required();
  app.add_option("rhs", rhs_path, "Kernel .npy (default layout WIO/HWIO/DHWIO)")->required();
  app.add_option("-o,--output", out_path, "Result .npy (written atomically)")->required();
  app.add_option("--strides", strides_text, "Stride per spatial dimension, e.g. 2,2")->required();
  app.add_option("--padding", r.padding, "SAME, VALID, or lo:hi per spatial dimension, e.g. 1:2,0:0")
      ->default_val("SAME");
  app.add_option("--rhs-dilation", dilation_text, "Kernel dilation per spatial dimension, e.g. 1,1");
  app.add_option("--dimension-numbers", dn_text, "lhs,rhs,out layout strings, e.g. NCHW,OIHW,NCHW");
  app.add_flag("--transpose-kernel", r.transpose_kernel, "Flip the kernel's spatial axes and swap its I and O axes");
  app.add_flag("--use-consistent-padding", r.use_consistent_padding,
               "Explicit pads are forward-convolution padding (PyTorch's convention)");
  app.add_option("--precision", precision_text, "default | high | highest, or an lhs,rhs pair");
  app.add_option("--preferred-element-type", preferred_text,
                 "Result dtype: float16 float32 float64 complex64 complex128 int8 int16 int32 int64 uint8");
  app.add_option("--threads", r.threads, "Worker threads (0 = all hardware threads)")->default_val(0);
  app.add_option("--feature-group-count", r.feature_group_count,
                 "Feature groups (convt extension; with --transpose-kernel: PyTorch's grouped weight)")
      ->default_val(1);
  app.add_option("--bias", bias_path, "Per-output-feature bias .npy, of the result dtype (convt extension)");
  app.add_option("--activation", activation_text,
                 "After the bias: none, relu, relu6, leaky_relu[:slope], clamp:lo:hi, tanh, sigmoid, gelu, gelu_tanh, "
                 "silu (convt extension)");
  app.add_flag("--accumulate", accumulate,
               "Add the result to what OUT already holds (out = conv + out; convt extension)");
  app.set_version_flag("--version", std::string("convt-npy ") + CONVT_VERSION_STRING);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return fail(std::string(e.what()) + " (see --help)");
  }

  try {
    r.strides = convt_npy::parse_int_list(strides_text, "--strides");
    convt_npy::parse_padding(r.padding);  // usage errors before any file is read
    if (!dilation_text.empty()) r.rhs_dilation = convt_npy::parse_int_list(dilation_text, "--rhs-dilation");
    if (!dn_text.empty()) r.dimension_numbers = convt_npy::parse_dimension_numbers(dn_text);
    if (!precision_text.empty()) r.precision = convt_npy::parse_precision(precision_text);
    if (!activation_text.empty()) {
      try {
        r.activation = convt::Activation::parse(activation_text);
      } catch (const convt::Error& e) {
        throw convt_npy::UsageError(std::string("--activation: ") + e.what());
      }
    }
    if (!preferred_text.empty()) {
      try {
        r.preferred_element_type = npy::dtype_from_name(preferred_text);
      } catch (const convt::Error& e) {
        throw convt_npy::UsageError(std::string("--preferred-element-type: ") + e.what());
      }
    }

    const npy::Array lhs = npy::read(lhs_path);
    const npy::Array rhs = npy::read(rhs_path);
    if (!bias_path.empty()) r.bias = npy::read(bias_path);
    if (accumulate) r.accumulate_into = npy::read(out_path);
    if (lhs.dtype != rhs.dtype) {
      return fail(std::string("dtype mismatch: lhs is ") + npy::info(lhs.dtype).name + ", rhs is " +
                  npy::info(rhs.dtype).name + "; conv_transpose needs equal operand dtypes (as in JAX)");
    }
    if (lhs.shape.size() != rhs.shape.size()) {
      return fail("rank mismatch: lhs has rank " + std::to_string(lhs.shape.size()) + ", rhs has rank " +
                  std::to_string(rhs.shape.size()) + "; they must be equal");
    }
    npy::write(out_path, dispatch(r, lhs, rhs));
  } catch (const std::exception& e) {
    // convt::Error (from the library and the .npy reader) and UsageError
    // messages name the argument.
    return fail(e.what());
  }
  return 0;
}
