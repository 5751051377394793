// bench/models.hpp — the transposed convolutions of published decoders, at
// batch 1 (a mask head: its 100 detections of one image), f32, channels
// last. Each layer as the model has it, from the paper and its reference
// code; PyTorch's padding p becomes the transposed-convolution pads
// k - 1 - p (plus output_padding on the high side). Only the transposed
// convolutions are timed: the models' other operations (convolutions,
// norms, activations, skip concatenations) are the same for every library.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "shapes.hpp"

namespace bench {

struct Model {
  std::string name;
  std::string source;
  std::vector<ShapeSpec> layers;
};

inline std::vector<Model> models() {
  std::vector<Model> v;
  // A layer of `model`: input features c, output features o, input extents
  // in, kernel k, stride s, PyTorch padding p (pads k - 1 - p; p_hi adds
  // output_padding or an asymmetric trim).
  auto layer = [](const std::string& name, std::int64_t n, std::int64_t c, std::int64_t o, std::vector<std::int64_t> in,
                  std::int64_t k, std::int64_t s, std::int64_t p_lo, std::int64_t p_hi) {
    ShapeSpec spec{name, n, c, o, in, {}, {}, {}, "EXPLICIT", {}};
    for (std::size_t d = 0; d < in.size(); ++d) {
      spec.k.push_back(k);
      spec.s.push_back(s);
      spec.r.push_back(1);
      spec.pads.emplace_back(k - 1 - p_lo, k - 1 - p_hi);
    }
    return spec;
  };
  auto add = [&](std::string name, std::string source, std::vector<ShapeSpec> layers) {
    for (std::size_t i = 0; i < layers.size(); ++i)
      layers[i].name = name + "." + std::to_string(i + 1) + "_" + layers[i].name;
    v.push_back({std::move(name), std::move(source), std::move(layers)});
  };
  add("dcgan", "Radford et al. 2016, DCGAN generator (PyTorch examples/dcgan: nz 100, ngf 64, 64x64 RGB)",
      {layer("z100to512_1x1", 1, 100, 512, {1, 1}, 4, 1, 0, 0), layer("512to256_4x4", 1, 512, 256, {4, 4}, 4, 2, 1, 1),
       layer("256to128_8x8", 1, 256, 128, {8, 8}, 4, 2, 1, 1), layer("128to64_16x16", 1, 128, 64, {16, 16}, 4, 2, 1, 1),
       layer("64to3_32x32", 1, 64, 3, {32, 32}, 4, 2, 1, 1)});
  add("sngan_cifar", "Miyato et al. 2018, SN-GAN standard CNN generator for CIFAR-10 (after the 4x4x512 linear layer)",
      {layer("512to256_4x4", 1, 512, 256, {4, 4}, 4, 2, 1, 1), layer("256to128_8x8", 1, 256, 128, {8, 8}, 4, 2, 1, 1),
       layer("128to64_16x16", 1, 128, 64, {16, 16}, 4, 2, 1, 1)});
  // Skip connections concatenate the encoder's features: the input
  // features of every up-convolution but the innermost are doubled.
  add("pix2pix_unet256", "Isola et al. 2017, pix2pix U-Net-256 generator's decoder (ngf 64, 256x256 RGB)",
      {layer("512to512_1x1", 1, 512, 512, {1, 1}, 4, 2, 1, 1), layer("1024to512_2x2", 1, 1024, 512, {2, 2}, 4, 2, 1, 1),
       layer("1024to512_4x4", 1, 1024, 512, {4, 4}, 4, 2, 1, 1),
       layer("1024to512_8x8", 1, 1024, 512, {8, 8}, 4, 2, 1, 1),
       layer("1024to256_16x16", 1, 1024, 256, {16, 16}, 4, 2, 1, 1),
       layer("512to128_32x32", 1, 512, 128, {32, 32}, 4, 2, 1, 1),
       layer("256to64_64x64", 1, 256, 64, {64, 64}, 4, 2, 1, 1),
       layer("128to3_128x128", 1, 128, 3, {128, 128}, 4, 2, 1, 1)});
  // Caffe's deconvolution without padding: 21 classes, full (not grouped)
  // kernels, bilinear-initialized and learned; a 512x512 image.
  add("fcn8s", "Long et al. 2015, FCN-8s upsampling (voc-fcn8s: upscore2, upscore_pool4, upscore8; 512x512 image)",
      {layer("21to21_16x16_k4s2", 1, 21, 21, {16, 16}, 4, 2, 0, 0),
       layer("21to21_32x32_k4s2", 1, 21, 21, {32, 32}, 4, 2, 0, 0),
       layer("21to21_64x64_k16s8", 1, 21, 21, {64, 64}, 16, 8, 0, 0)});
  add("maskrcnn_mask", "He et al. 2017, Mask R-CNN mask head (Detectron2: 256 features, 14x14 RoIs, 100 detections)",
      {layer("256to256_14x14_x100", 100, 256, 256, {14, 14}, 2, 2, 0, 0)});
  add("hifigan_v1", "Kong et al. 2020, HiFi-GAN V1 generator (upsample rates 8,8,2,2; kernels 16,16,4,4; 100 frames)",
      {layer("512to256_100", 1, 512, 256, {100}, 16, 8, 4, 4), layer("256to128_800", 1, 256, 128, {800}, 16, 8, 4, 4),
       layer("128to64_6400", 1, 128, 64, {6400}, 4, 2, 1, 1), layer("64to32_12800", 1, 64, 32, {12800}, 4, 2, 1, 1)});
  // SEANet decoder, kernel 2 x stride, non-causal: of the k - s extra
  // samples, half (rounded down) is trimmed on the right, the rest on the left.
  add("encodec_24k", "Defossez et al. 2022, EnCodec 24 kHz decoder (ratios 8,5,4,2; 32 filters; 1 s = 75 frames)",
      {layer("512to256_75", 1, 512, 256, {75}, 16, 8, 4, 4), layer("256to128_600", 1, 256, 128, {600}, 10, 5, 3, 2),
       layer("128to64_3000", 1, 128, 64, {3000}, 8, 4, 2, 2), layer("64to32_12000", 1, 64, 32, {12000}, 4, 2, 1, 1)});
  add("nnunet_3d", "Isensee et al. 2021, nnU-Net 3d_fullres decoder (features 32..320, 128^3 patch)",
      {layer("320to320_4^3", 1, 320, 320, {4, 4, 4}, 2, 2, 0, 0),
       layer("320to256_8^3", 1, 320, 256, {8, 8, 8}, 2, 2, 0, 0),
       layer("256to128_16^3", 1, 256, 128, {16, 16, 16}, 2, 2, 0, 0),
       layer("128to64_32^3", 1, 128, 64, {32, 32, 32}, 2, 2, 0, 0),
       layer("64to32_64^3", 1, 64, 32, {64, 64, 64}, 2, 2, 0, 0)});
  return v;
}

/// The models and their layers as JSON (one object per model: name, source,
/// layers with batch n, features c and o, per-dimension in, k, s and the
/// transposed convolution's pads), so scripts can time other libraries on
/// exactly these layers.
inline void print_models_json(const std::vector<Model>& models) {
  auto list = [](const std::vector<std::int64_t>& v) {
    std::string s = "[";
    for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
    return s + "]";
  };
  std::printf("[\n");
  for (std::size_t m = 0; m < models.size(); ++m) {
    std::printf("  {\"name\": \"%s\", \"source\": \"%s\", \"layers\": [\n", models[m].name.c_str(),
                models[m].source.c_str());
    for (std::size_t l = 0; l < models[m].layers.size(); ++l) {
      const ShapeSpec& s = models[m].layers[l];
      std::string pads = "[";
      for (std::size_t d = 0; d < s.pads.size(); ++d)
        pads += (d ? ", [" : "[") + std::to_string(s.pads[d].first) + ", " + std::to_string(s.pads[d].second) + "]";
      std::printf(
          "    {\"name\": \"%s\", \"n\": %lld, \"c\": %lld, \"o\": %lld, \"in\": %s, \"k\": %s, "
          "\"s\": %s, \"pads\": %s]}%s\n",
          s.name.c_str(), static_cast<long long>(s.n), static_cast<long long>(s.c), static_cast<long long>(s.o),
          list(s.in).c_str(), list(s.k).c_str(), list(s.s).c_str(), pads.c_str(),
          l + 1 < models[m].layers.size() ? "," : "");
    }
    std::printf("  ]}%s\n", m + 1 < models.size() ? "," : "");
  }
  std::printf("]\n");
}

}  // namespace bench
