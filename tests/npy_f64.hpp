// tests/npy_f64.hpp — reads the float64, C-order .npy files the golden script
// writes (format versions 1–3). Test-only: rejects anything else.
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace npy_f64 {

struct Array {
  std::vector<std::int64_t> shape;
  std::vector<double> data;
};

inline Array load(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot open " + path);
  char magic[8];
  f.read(magic, 8);
  if (!f || std::memcmp(magic, "\x93NUMPY", 6) != 0) throw std::runtime_error(path + ": not an .npy file");
  const int major = static_cast<unsigned char>(magic[6]);
  std::uint32_t header_len = 0;
  if (major == 1) {
    unsigned char b[2];
    f.read(reinterpret_cast<char*>(b), 2);
    header_len = b[0] | (b[1] << 8);
  } else {
    unsigned char b[4];
    f.read(reinterpret_cast<char*>(b), 4);
    header_len = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<std::uint32_t>(b[3]) << 24);
  }
  std::string header(header_len, '\0');
  f.read(header.data(), header_len);
  if (header.find("'descr': '<f8'") == std::string::npos || header.find("'fortran_order': False") == std::string::npos) {
    throw std::runtime_error(path + ": expected little-endian float64 in C order, header " + header);
  }
  Array a;
  const auto open = header.find("'shape': (");
  const auto close = header.find(')', open);
  std::string dims = header.substr(open + 10, close - open - 10);
  std::int64_t count = 1;
  std::size_t i = 0;
  while (i < dims.size()) {
    while (i < dims.size() && (dims[i] == ' ' || dims[i] == ',')) ++i;
    if (i >= dims.size()) break;
    std::size_t used = 0;
    a.shape.push_back(std::stoll(dims.substr(i), &used));
    count *= a.shape.back();
    i += used;
  }
  a.data.resize(static_cast<std::size_t>(count));
  f.read(reinterpret_cast<char*>(a.data.data()), static_cast<std::streamsize>(count * 8));
  if (!f) throw std::runtime_error(path + ": truncated data");
  return a;
}

}  // namespace npy_f64
