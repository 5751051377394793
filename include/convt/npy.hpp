// convt/npy.hpp — NumPy's .npy files (format versions 1.0, 2.0, 3.0) as
// convt Tensors: weights exported with numpy.save load straight into a
// Tensor of the type you ask for, and results save as numpy.save would
// write them. Opt-in: not included by convt/convt.hpp.
//
//   auto w = convt::npy::load<float, 4>("decoder.0.weight.npy");  // Error on dtype/rank mismatch
//   convt::npy::save("y.npy", y);                                  // Tensor or any TensorView
//
// Reading accepts little- and big-endian data ('<', '>', '|', '='), C and
// Fortran order, and the dtypes convt computes on: float16, float32,
// float64, complex64, complex128, int8, int16, int32, int64, uint8 (numpy
// has no bfloat16). It parses untrusted files: every size in the header is
// checked against the file before anything is allocated, and anything
// malformed is a convt::Error naming the file (tests/fuzz/fuzz_npy.cpp).
// Writing produces exactly what numpy.save writes for a C-order
// little-endian array: the same header text, padding and version choice.
#pragma once

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <complex>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "convt/detail/npy_header.hpp"
#include "convt/error.hpp"
#include "convt/tensor.hpp"
#include "convt/types.hpp"

namespace convt::npy {

/// The element types a .npy file may hold here (numpy's names).
enum class DType { float16, float32, float64, complex64, complex128, int8, int16, int32, int64, uint8 };

/// What the reader needs to know about one element type.
struct DTypeInfo {
  DType dtype;       ///< The element type.
  const char* name;  ///< numpy's name ("float32").
  char kind;         ///< numpy's kind character: 'f', 'c', 'i' or 'u'.
  std::size_t size;  ///< Bytes per element.
  std::size_t swap;  ///< Bytes per byte-swapped unit (complex: per component).
};

/// Every supported DType with its numpy name, kind and sizes.
inline constexpr DTypeInfo kDTypes[] = {
    {DType::float16, "float16", 'f', 2, 2},
    {DType::float32, "float32", 'f', 4, 4},
    {DType::float64, "float64", 'f', 8, 8},
    {DType::complex64, "complex64", 'c', 8, 4},
    {DType::complex128, "complex128", 'c', 16, 8},
    {DType::int8, "int8", 'i', 1, 1},
    {DType::int16, "int16", 'i', 2, 2},
    {DType::int32, "int32", 'i', 4, 4},
    {DType::int64, "int64", 'i', 8, 8},
    {DType::uint8, "uint8", 'u', 1, 1},
};

/// The DTypeInfo of `d`.
inline const DTypeInfo& info(DType d) {
  for (const auto& i : kDTypes) {
    if (i.dtype == d) return i;
  }
  convt::detail::fail("npy: unknown dtype");
}

/// numpy's dtype name ("float32", ...) → DType; throws on anything else.
inline DType dtype_from_name(const std::string& name) {
  for (const auto& i : kDTypes) {
    if (name == i.name) return i.dtype;
  }
  std::string known;
  for (const auto& i : kDTypes) known += std::string(known.empty() ? "" : ", ") + i.name;
  convt::detail::fail("unknown dtype '" + name + "' (supported: " + known + ")");
}

/// A dense array: native byte order, C (row-major) order.
struct Array {
  DType dtype = DType::float32;      ///< Element type of `bytes`.
  std::vector<std::int64_t> shape;   ///< Extents, outermost first; empty for a scalar.
  std::vector<unsigned char> bytes;  ///< count() elements of `dtype`, native byte order.

  /// Number of elements (the product of `shape`; 1 for a scalar). Throws
  /// Error when the product leaves int64 (read and parse never return such a shape).
  std::int64_t count() const {
    for (auto e : shape) {
      if (e == 0) return 0;
    }
    return convt::detail::checked_product(shape, "npy array element count");
  }
};

namespace detail {

inline bool host_is_little_endian() {
  const std::uint16_t probe = 1;
  unsigned char first = 0;
  std::memcpy(&first, &probe, 1);
  return first == 1;
}

/// dtype string ("<f4", "|u1", ">c16", ...) → (dtype, stored big-endian?).
[[noreturn]] inline void unsupported_dtype(const std::string& what, const std::string& descr, const std::string& why) {
  convt::detail::fail(what + ": unsupported dtype '" + descr + "' (" + why + ")");
}

inline std::pair<DType, bool> parse_descr(const std::string& descr, const std::string& what) {
  const auto bad = [&](const std::string& why) { unsupported_dtype(what, descr, why); };
  if (descr.size() < 3) bad("expected a byte order, a kind and a size");
  const char order = descr[0];
  if (order != '<' && order != '>' && order != '|' && order != '=') bad("unknown byte order");
  const char kind = descr[1];
  std::size_t size = 0;
  for (std::size_t i = 2; i < descr.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(descr[i])) || size > 1000) bad("bad item size");
    size = size * 10 + static_cast<std::size_t>(descr[i] - '0');
  }
  for (const auto& i : kDTypes) {
    if (i.kind == kind && i.size == size) {
      if (order == '|' && size > 1) bad("'|' (no byte order) is only valid for 1-byte types");
      const bool big = order == '>' || (order == '=' && !host_is_little_endian());
      return {i.dtype, big};
    }
  }
  unsupported_dtype(what, descr, "supported: float16/32/64, complex64/128, int8/16/32/64, uint8");
}

inline std::uint64_t read_le(const unsigned char* p, int n) {
  std::uint64_t v = 0;
  for (int i = n; i-- > 0;) v = (v << 8) | p[i];
  return v;
}

/// Reverses the axes' order: Fortran order data → C order data.
inline std::vector<unsigned char> fortran_to_c(const std::vector<unsigned char>& in,
                                               const std::vector<std::int64_t>& shape, std::size_t item) {
  const std::size_t rank = shape.size();
  std::vector<unsigned char> out(in.size());
  std::int64_t count = 1;
  for (auto e : shape) count *= e;
  if (count == 0) return out;
  // Walk the C-order output; track the Fortran-order offset incrementally.
  std::vector<std::int64_t> idx(rank, 0), fstride(rank, 1);
  for (std::size_t d = 1; d < rank; ++d) fstride[d] = fstride[d - 1] * shape[d - 1];
  std::int64_t foff = 0;
  for (std::int64_t c = 0; c < count; ++c) {
    std::memcpy(out.data() + static_cast<std::size_t>(c) * item, in.data() + static_cast<std::size_t>(foff) * item,
                item);
    for (std::size_t d = rank; d-- > 0;) {
      if (++idx[d] < shape[d]) {
        foff += fstride[d];
        break;
      }
      foff -= fstride[d] * (shape[d] - 1);
      idx[d] = 0;
    }
  }
  return out;
}

}  // namespace detail

/// Parses a whole .npy file held in memory; `what` names it in messages.
inline Array parse(const std::vector<unsigned char>& file, const std::string& what) {
  static const unsigned char magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (file.size() < 10 || std::memcmp(file.data(), magic, 6) != 0)
    convt::detail::fail(what + ": not a .npy file (bad magic)");
  const int major = file[6];
  if (major < 1 || major > 3) {
    convt::detail::fail(what + ": .npy format version " + std::to_string(major) + "." + std::to_string(file[7]) +
                        " is not supported (1.0, 2.0 and 3.0 are)");
  }
  const int len_bytes = major == 1 ? 2 : 4;
  const std::size_t prefix = 8 + static_cast<std::size_t>(len_bytes);
  if (file.size() < prefix) convt::detail::fail(what + ": truncated .npy header");
  const std::uint64_t header_len = detail::read_le(file.data() + 8, len_bytes);
  if (header_len > file.size() - prefix) convt::detail::fail(what + ": truncated .npy header");
  // Version 1 and 2 headers are latin-1, version 3 UTF-8; the keys and values
  // numpy writes are ASCII either way.
  const std::string header(reinterpret_cast<const char*>(file.data()) + prefix, static_cast<std::size_t>(header_len));
  const auto fields = detail::HeaderParser(header, what).parse();
  const auto [dtype, big_endian] = detail::parse_descr(fields.descr, what);
  const DTypeInfo& di = info(dtype);

  Array a;
  a.dtype = dtype;
  a.shape = fields.shape;
  // Tensor's rule: the product of the extents, empty ones counted as 1, fits
  // int64 — else even an empty array could not be viewed or indexed.
  std::uint64_t count = 1, nonzero_product = 1;
  for (auto e : a.shape) {
    if (e != 0 && nonzero_product > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) /
                                        static_cast<std::uint64_t>(e)) {
      convt::detail::fail(what + ": shape " + convt::detail::format_seq(a.shape) +
                          " too large: the product of its extents (empty ones counted as 1) overflows int64");
    }
    if (e != 0) nonzero_product *= static_cast<std::uint64_t>(e);
    count *= static_cast<std::uint64_t>(e);
  }
  const std::uint64_t available = file.size() - prefix - header_len;
  const bool fits = count <= std::numeric_limits<std::uint64_t>::max() / di.size;
  if (!fits || count * di.size != available) {
    std::string shape;
    for (auto e : a.shape) shape += (shape.empty() ? "" : ", ") + std::to_string(e);
    convt::detail::fail(what + ": data size mismatch: shape (" + shape + ") of " + di.name + " needs " +
                        (fits ? std::to_string(count * di.size) : std::string("more than 2^64")) +
                        " bytes, the file has " + std::to_string(available) + " after the header");
  }
  const auto* data = file.data() + prefix + header_len;
  a.bytes.assign(data, data + available);
  if (big_endian == detail::host_is_little_endian() && di.swap > 1) {
    for (std::size_t off = 0; off < a.bytes.size(); off += di.swap) {
      std::reverse(a.bytes.begin() + static_cast<std::ptrdiff_t>(off),
                   a.bytes.begin() + static_cast<std::ptrdiff_t>(off + di.swap));
    }
  }
  if (fields.fortran_order && a.shape.size() > 1) a.bytes = detail::fortran_to_c(a.bytes, a.shape, di.size);
  return a;
}

/// Reads a .npy file of any supported dtype and rank.
inline Array read(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) convt::detail::fail(path + ": cannot open: " + std::strerror(errno));
  std::vector<unsigned char> file((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) convt::detail::fail(path + ": read error");
  return parse(file, path);
}

/// The bytes numpy.save writes for `a` (C order, little-endian).
inline std::vector<unsigned char> serialize(const Array& a) {
  if (!detail::host_is_little_endian()) convt::detail::fail("npy: writing from a big-endian host is not implemented");
  const DTypeInfo& di = info(a.dtype);
  if (a.bytes.size() != static_cast<std::size_t>(a.count()) * di.size)
    convt::detail::fail("npy: array bytes do not match its shape");
  const char order = di.size == 1 ? '|' : '<';
  std::string shape = "(";
  for (std::size_t i = 0; i < a.shape.size(); ++i) {
    shape += (i ? ", " : "") + std::to_string(a.shape[i]);
  }
  if (a.shape.size() == 1) shape += ",";
  shape += ")";
  std::string header = std::string("{'descr': '") + order + di.kind + std::to_string(di.size) +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  // numpy pads the header with spaces and a newline so the data starts at a
  // multiple of 64 bytes, and switches to version 2.0 only when the header
  // length does not fit in 16 bits.
  constexpr std::size_t kAlign = 64;
  int major = 1;
  std::size_t hlen = header.size() + 1;
  std::size_t pad = kAlign - (6 + 2 + 2 + hlen) % kAlign;
  if (hlen + pad > 0xffff) {
    major = 2;
    pad = kAlign - (6 + 2 + 4 + hlen) % kAlign;
  }
  if (pad == kAlign) pad = 0;
  header += std::string(pad, ' ') + "\n";
  std::vector<unsigned char> out = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<unsigned char>(major), 0};
  const std::uint64_t n = header.size();
  for (int i = 0; i < (major == 1 ? 2 : 4); ++i) out.push_back(static_cast<unsigned char>((n >> (8 * i)) & 0xff));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), a.bytes.begin(), a.bytes.end());
  return out;
}

/// Writes `a` to `path` atomically: a temporary file in the same directory,
/// renamed over `path` only once complete, so a failure leaves `path` as it
/// was.
inline void write(const std::string& path, const Array& a) {
  const auto bytes = serialize(a);
  const std::string tmp = path + ".tmp-convt-npy";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) convt::detail::fail(path + ": cannot write a temporary file next to it: " + std::strerror(errno));
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    f.flush();
    if (!f) {
      f.close();
      std::remove(tmp.c_str());
      convt::detail::fail(path + ": write error");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    convt::detail::fail(path + ": cannot rename the temporary file into place: " + why);
  }
}

/// The dtype a .npy file uses for element type T (not for bfloat16, which
/// numpy lacks).
template <class T>
constexpr DType dtype_of() {
  static_assert(!std::is_same_v<T, Eigen::bfloat16>, "convt::npy: numpy has no bfloat16 dtype");
  if constexpr (std::is_same_v<T, Eigen::half>)
    return DType::float16;
  else if constexpr (std::is_same_v<T, float>)
    return DType::float32;
  else if constexpr (std::is_same_v<T, double>)
    return DType::float64;
  else if constexpr (std::is_same_v<T, std::complex<float>>)
    return DType::complex64;
  else if constexpr (std::is_same_v<T, std::complex<double>>)
    return DType::complex128;
  else if constexpr (std::is_same_v<T, std::int8_t>)
    return DType::int8;
  else if constexpr (std::is_same_v<T, std::int16_t>)
    return DType::int16;
  else if constexpr (std::is_same_v<T, std::int32_t>)
    return DType::int32;
  else if constexpr (std::is_same_v<T, std::int64_t>)
    return DType::int64;
  else {
    static_assert(std::is_same_v<T, std::uint8_t>, "convt::npy: not a dtype .npy files hold for convt");
    return DType::uint8;
  }
}

/// The array as a Tensor<T, Rank>: a convt::Error naming the file when its
/// dtype is not T or its rank is not Rank (no silent conversion).
template <class T, std::size_t Rank>
Tensor<T, Rank> to_tensor(const Array& a, const std::string& what) {
  if (a.dtype != dtype_of<T>()) {
    convt::detail::fail(what, ": dtype ", info(a.dtype).name, ", but ", info(dtype_of<T>()).name,
                        " was requested; convert the file (numpy: x.astype(...)) or request its dtype");
  }
  if (a.shape.size() != Rank) {
    convt::detail::fail(what, ": rank ", a.shape.size(), " (shape ", convt::detail::format_seq(a.shape), "), but rank ",
                        Rank, " was requested");
  }
  std::array<index_t, Rank> shape{};
  for (std::size_t i = 0; i < Rank; ++i) shape[i] = a.shape[i];
  Tensor<T, Rank> t(shape);
  if (!a.bytes.empty()) std::memcpy(static_cast<void*>(t.data()), a.bytes.data(), a.bytes.size());
  return t;
}

/// Reads `path` into a Tensor<T, Rank> (see to_tensor).
template <class T, std::size_t Rank>
Tensor<T, Rank> load(const std::string& path) {
  return to_tensor<T, Rank>(read(path), path);
}

/// The elements of a view (any strides) as an Array in C order.
template <class T, std::size_t Rank>
Array to_array(const TensorView<const T, Rank>& v) {
  Array a;
  a.dtype = dtype_of<T>();
  a.shape.assign(v.shape().begin(), v.shape().end());
  a.bytes.resize(static_cast<std::size_t>(v.size()) * sizeof(T));
  if (v.size() == 0) return a;
  std::array<index_t, Rank> idx{};
  unsigned char* out = a.bytes.data();
  for (index_t n = 0; n < v.size(); ++n) {
    index_t off = 0;
    for (std::size_t d = 0; d < Rank; ++d) off += idx[d] * v.strides()[d];
    std::memcpy(out + static_cast<std::size_t>(n) * sizeof(T), static_cast<const void*>(v.data() + off), sizeof(T));
    for (std::size_t d = Rank; d-- > 0;) {
      if (++idx[d] < v.shape()[d]) break;
      idx[d] = 0;
    }
  }
  return a;
}

/// Writes a Tensor or TensorView as numpy.save would (C order,
/// little-endian), atomically (see write).
template <class X, class V = convt::detail::view_t<const X>>
void save(const std::string& path, const X& x) {
  write(path, to_array<typename V::value_type, V::rank()>(view(x)));
}

}  // namespace convt::npy
