// image.hpp — the demo's pictures: an embedded default image drawn in code,
// loading (stb_image: PNG, JPEG, ...) and saving (stb_image_write: PNG) as
// float NHWC tensors with values in [0, 1].
#pragma once

#include <convt/convt.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include <stb_image.h>
#include <stb_image_write.h>

namespace demo {

using Image = convt::Tensor<float, 4>;  // 1 x H x W x 3

/// A 64 x 64 test card: a sky gradient, a sun, hills, stripes and a
/// checkerboard — edges of every orientation and fine detail to upsample.
inline Image default_image() {
  constexpr convt::index_t n = 64;
  Image img({1, n, n, 3});
  for (convt::index_t y = 0; y < n; ++y) {
    for (convt::index_t x = 0; x < n; ++x) {
      const float fx = static_cast<float>(x) / n, fy = static_cast<float>(y) / n;
      float r = 0.35f + 0.3f * fy, g = 0.55f + 0.3f * fy, b = 0.95f;  // sky
      const float sun = std::hypot(fx - 0.72f, fy - 0.25f);
      if (sun < 0.13f) r = 1.0f, g = 0.85f, b = 0.2f;
      const float hill = 0.68f + 0.08f * std::sin(fx * 9.0f);
      if (fy > hill) r = 0.15f, g = 0.55f + 0.2f * std::sin(fx * 40.0f), b = 0.2f;  // striped field
      if (x < 16 && y < 16) {                                                       // checkerboard, 2-pixel squares
        const float c = ((x / 2 + y / 2) % 2) ? 0.95f : 0.05f;
        r = g = b = c;
      }
      img(0, y, x, 0) = r;
      img(0, y, x, 1) = g;
      img(0, y, x, 2) = b;
    }
  }
  return img;
}

/// Loads any image stb_image reads, as RGB.
inline Image load_image(const std::string& path) {
  int w = 0, h = 0, channels = 0;
  unsigned char* pixels = stbi_load(path.c_str(), &w, &h, &channels, 3);
  if (pixels == nullptr) throw std::runtime_error(path + ": cannot load image: " + stbi_failure_reason());
  Image img({1, h, w, 3});
  for (convt::index_t i = 0; i < img.size(); ++i) img.data()[i] = pixels[i] / 255.0f;
  stbi_image_free(pixels);
  return img;
}

/// Images placed side by side (top-aligned, white gaps), saved as one PNG.
inline void save_side_by_side(const std::string& path, const std::vector<const Image*>& images) {
  constexpr convt::index_t gap = 8;
  convt::index_t width = 0, height = 0;
  for (const Image* im : images) {
    width += im->extent(2) + (width ? gap : 0);
    height = std::max(height, im->extent(1));
  }
  std::vector<unsigned char> rgb(static_cast<std::size_t>(width * height * 3), 255);
  convt::index_t x0 = 0;
  for (const Image* im : images) {
    for (convt::index_t y = 0; y < im->extent(1); ++y) {
      for (convt::index_t x = 0; x < im->extent(2); ++x) {
        for (convt::index_t c = 0; c < 3; ++c) {
          const float v = std::clamp((*im)(0, y, x, c), 0.0f, 1.0f);
          rgb[static_cast<std::size_t>(((y * width) + x0 + x) * 3 + c)] =
              static_cast<unsigned char>(std::lround(v * 255.0f));
        }
      }
    }
    x0 += im->extent(2) + gap;
  }
  if (!stbi_write_png(path.c_str(), static_cast<int>(width), static_cast<int>(height), 3, rgb.data(),
                      static_cast<int>(width * 3))) {
    throw std::runtime_error(path + ": cannot write PNG");
  }
}

/// Nearest-neighbour enlargement, to show the input at the output's size.
inline Image enlarge_nearest(const Image& img, convt::index_t factor) {
  Image big({1, img.extent(1) * factor, img.extent(2) * factor, 3});
  for (convt::index_t y = 0; y < big.extent(1); ++y)
    for (convt::index_t x = 0; x < big.extent(2); ++x)
      for (convt::index_t c = 0; c < 3; ++c) big(0, y, x, c) = img(0, y / factor, x / factor, c);
  return big;
}

}  // namespace demo
