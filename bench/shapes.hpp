// bench/shapes.hpp — the benchmark suite's named real-world shapes.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace bench {

enum class DType { F32, BF16, I8toI32, F64 };

struct ShapeSpec {
  std::string name;
  std::int64_t n, c, o;                                     // batch, input features, output features
  std::vector<std::int64_t> in, k, s, r;                    // per spatial dimension
  std::string padding;                                      // "SAME", "VALID" or "EXPLICIT"
  std::vector<std::pair<std::int64_t, std::int64_t>> pads;  // transposed-conv pads when EXPLICIT
  bool nchw = false;                                        // NC.../OI.../NC... instead of N...C/...IO/N...C
  DType dtype = DType::F32;
  bool base = false;        // one of the 7 base shapes of the target table
  std::int64_t groups = 1;  // feature_group_count (c and o are totals)

  std::size_t nsp() const { return in.size(); }
  /// 2 * N * (C / groups) * O * prod(in) * prod(k): the multiply-adds that
  /// meet real input.
  double useful_flops() const {
    double f = 2.0 * static_cast<double>(n * (c / groups) * o);
    for (std::size_t d = 0; d < nsp(); ++d) f *= static_cast<double>(in[d] * k[d]);
    return f;
  }
};

inline std::vector<ShapeSpec> suite() {
  std::vector<ShapeSpec> v;
  auto add = [&](ShapeSpec s) { v.push_back(std::move(s)); };
  add({"dcgan_2d", 16, 256, 128, {8, 8}, {4, 4}, {2, 2}, {1, 1}, "SAME", {}, false, DType::F32, true});
  add({"unet_2d", 1, 128, 64, {64, 64}, {2, 2}, {2, 2}, {1, 1}, "VALID", {}, false, DType::F32, true});
  add({"fcn32_2d", 1, 21, 21, {16, 16}, {64, 64}, {32, 32}, {1, 1}, "SAME", {}, false, DType::F32, true});
  add({"unet_3d", 1, 64, 32, {16, 16, 16}, {2, 2, 2}, {2, 2, 2}, {1, 1, 1}, "VALID", {}, false, DType::F32, true});
  // HiFi-GAN's first upsampler: PyTorch padding (k - s) / 2 = 4, i.e.
  // transposed-conv pads k - 1 - 4 = 11 on each side: 256 -> 2048 samples.
  add({"hifigan_1d", 1, 512, 256, {256}, {16}, {8}, {1}, "EXPLICIT", {{11, 11}}, false, DType::F32, true});
  add({"s1_2d", 1, 64, 64, {32, 32}, {3, 3}, {1, 1}, {1, 1}, "SAME", {}, false, DType::F32, true});
  add({"dil_2d", 4, 64, 64, {32, 32}, {3, 3}, {2, 2}, {2, 2}, "SAME", {}, false, DType::F32, true});
  ShapeSpec s = v[0];
  s.name = "dcgan_2d_nchw";
  s.nchw = true;
  s.base = false;
  add(s);
  s = v[3];
  s.name = "unet_3d_ncdhw";
  s.nchw = true;
  s.base = false;
  add(s);
  s = v[0];
  s.name = "dcgan_2d_bf16";
  s.dtype = DType::BF16;
  s.base = false;
  add(s);
  s = v[0];
  s.name = "dcgan_2d_i8i32";
  s.dtype = DType::I8toI32;
  s.base = false;
  add(s);
  s = v[1];
  s.name = "unet_2d_f64";
  s.dtype = DType::F64;
  s.base = false;
  add(s);
  // Depthwise overlap-add (iSTFT-style synthesis: 513 frequency channels,
  // window 1024, hop 256): groups = channels.
  add({"depthwise_1d", 1, 513, 513, {224}, {1024}, {256}, {1}, "VALID", {}, false, DType::F32, false, 513});
  return v;
}

}  // namespace bench
