// convt/npy.hpp: typed loading with clear errors, saving exactly what
// numpy.save writes (checked against files numpy wrote, byte for byte), the
// encodings numpy can produce (versions, byte orders, Fortran order), and
// refusals of malformed files, all as convt::Error naming the file.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <convt/convt.hpp>
#include <convt/npy.hpp>

#include "expect_error.hpp"

namespace {

using convt::index_t;
using testutil::expect_error;

std::string fixtures() {
  const char* d = std::getenv("CONVT_NPY_FIXTURES");
  return d ? d : CONVT_TESTS_DIR "/npy";
}

std::vector<unsigned char> bytes_of(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

std::string temp_path(const std::string& name) {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/convt_test_npy_" + name;
}

TEST(Npy, LoadTypedAndSaveWhatNumpyWrites) {
  // f32_nhwc_same_out.npy and i8_i32_consistent_out.npy were written by
  // numpy.save (C order, little-endian): load, save, compare the bytes.
  const auto y = convt::npy::load<float, 4>(fixtures() + "/f32_nhwc_same_out.npy");
  const std::string path = temp_path("f32.npy");
  convt::npy::save(path, y);
  EXPECT_EQ(bytes_of(path), bytes_of(fixtures() + "/f32_nhwc_same_out.npy"));
  const auto z = convt::npy::load<std::int32_t, 4>(fixtures() + "/i8_i32_consistent_out.npy");
  convt::npy::save(path, z);
  EXPECT_EQ(bytes_of(path), bytes_of(fixtures() + "/i8_i32_consistent_out.npy"));
  std::remove(path.c_str());
}

TEST(Npy, SavesStridedViewsInCOrder) {
  convt::Tensor<double, 2> t({3, 4});
  for (index_t i = 0; i < 12; ++i) t.data()[i] = static_cast<double>(i);
  // The transpose, as a view with swapped strides.
  const convt::TensorView<const double, 2> transposed(t.data(), {4, 3}, {1, 4});
  const std::string path = temp_path("transposed.npy");
  convt::npy::save(path, transposed);
  const auto back = convt::npy::load<double, 2>(path);
  ASSERT_EQ(back.shape(), (std::array<index_t, 2>{4, 3}));
  for (index_t i = 0; i < 4; ++i)
    for (index_t j = 0; j < 3; ++j) EXPECT_EQ(back(i, j), t(j, i));
  // Empty arrays too.
  convt::npy::save(path, convt::Tensor<float, 3>({2, 0, 5}));
  EXPECT_EQ((convt::npy::load<float, 3>(path).shape()), (std::array<index_t, 3>{2, 0, 5}));
  std::remove(path.c_str());
}

TEST(Npy, ReadsEveryEncodingNumpyWrites) {
  // The same values stored big-endian in Fortran order (format 2.0 or 3.0
  // as make_fixtures.py chose) read back as C-order native data: checked
  // through the convolution the fixture pairs with its expected output.
  const auto x = convt::npy::load<double, 3>(fixtures() + "/f64_ncw_tk_fortran_bigendian_lhs.npy");
  const auto w = convt::npy::load<double, 3>(fixtures() + "/f64_ncw_tk_fortran_bigendian_rhs.npy");
  const auto want = convt::npy::load<double, 3>(fixtures() + "/f64_ncw_tk_fortran_bigendian_out.npy");
  convt::ConvTransposeOptions<1> opt;
  opt.dimension_numbers = convt::DimensionNumbers{"NCW", "OIW", "NCW"};
  opt.transpose_kernel = true;
  opt.rhs_dilation = std::array<index_t, 1>{2};
  const auto y = convt::conv_transpose(x, w, {3}, convt::Padding::explicit_pads({{3, -1}}), opt);
  ASSERT_EQ(y.shape(), want.shape());
  for (index_t i = 0; i < y.size(); ++i) EXPECT_EQ(y.data()[i], want.data()[i]) << i;
  const auto h = convt::npy::load<std::int16_t, 3>(fixtures() + "/i16_i64_bigendian_1d_lhs.npy");
  EXPECT_EQ(h.shape()[0] * h.shape()[1] * h.shape()[2], h.size());
}

TEST(Npy, ClearErrorsNamingTheFile) {
  const std::string f32 = fixtures() + "/f32_nhwc_same_out.npy";
  expect_error([&] { convt::npy::load<double, 4>(f32); },
               {"f32_nhwc_same_out.npy", "dtype float32", "float64 was requested"});
  expect_error([&] { convt::npy::load<float, 3>(f32); }, {"f32_nhwc_same_out.npy", "rank 4", "rank 3 was requested"});
  expect_error([&] { convt::npy::read(fixtures() + "/no-such-file.npy"); }, {"no-such-file.npy", "cannot open"});
  expect_error([&] { convt::npy::read(fixtures() + "/bad_magic.npy"); }, {"bad_magic.npy", "not a .npy file"});
  expect_error([&] { convt::npy::read(fixtures() + "/bad_version.npy"); }, {"format version"});
  expect_error([&] { convt::npy::read(fixtures() + "/bad_header.npy"); }, {"bad .npy header"});
  expect_error([&] { convt::npy::read(fixtures() + "/bad_truncated.npy"); }, {"data size mismatch"});
  expect_error([&] { convt::npy::read(fixtures() + "/bad_structured.npy"); }, {"structured"});
  expect_error([&] { convt::npy::read(fixtures() + "/bad_uint16.npy"); }, {"unsupported dtype '<u2'"});
  // Headers that claim more data than the file has: refused before
  // anything of that size is allocated.
  auto file_with_header = [](std::string header) {
    header += std::string(64 - (10 + header.size() + 1) % 64, ' ') + "\n";
    std::string file = std::string("\x93NUMPY\x01", 7) + '\0';
    file += static_cast<char>(header.size() & 0xff);
    file += static_cast<char>(header.size() >> 8);
    file += header;
    return std::vector<unsigned char>(file.begin(), file.end());
  };
  expect_error(
      [&] {
        convt::npy::parse(file_with_header("{'descr': '<f4', 'fortran_order': False, "
                                           "'shape': (4611686018427387904, 4611686018427387904), }"),
                          "huge.npy");
      },
      {"huge.npy", "(4611686018427387904, 4611686018427387904) too large"});
  // Found by the fuzzer: an empty array whose other extents multiply past
  // int64 (it has no data, so the size check passed) overflowed in count().
  expect_error(
      [&] {
        convt::npy::parse(file_with_header("{'descr': '|u1', 'fortran_order': False, "
                                           "'shape': (2084968426, 81, 84042397, 0, 3, 2), }"),
                          "empty.npy");
      },
      {"empty.npy", "(2084968426, 81, 84042397, 0, 3, 2)", "too large", "overflows int64"});
  const auto empty = convt::npy::parse(
      file_with_header("{'descr': '<f4', 'fortran_order': True, 'shape': (4611686018427387904, 0), }"), "e.npy");
  EXPECT_EQ(empty.count(), 0);
  convt::npy::Array made;
  made.shape = {4611686018427387904, 4};
  expect_error([&] { (void)made.count(); }, {"npy array element count", "overflows"});
  expect_error(
      [&] {
        convt::npy::parse(file_with_header("{'descr': '<f8', 'fortran_order': True, 'shape': (1000000, 1000000), }"),
                          "big.npy");
      },
      {"big.npy", "data size mismatch", "8000000000000 bytes"});
}

}  // namespace
