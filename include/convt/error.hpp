// convt/error.hpp — the one exception type convt throws, and overflow-checked
// index arithmetic that reports through it.
#pragma once

#include <cstdint>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace convt {

/// Signed index type of every extent, stride and offset in convt.
using index_t = std::int64_t;

/// Thrown for every invalid argument that reaches run time. The message names
/// the argument, the offending value(s) and the rule that was broken. When it is
/// thrown nothing has been written to any output.
class Error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

namespace detail {

/// Builds an Error message from streamable parts and throws it.
template <class... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  std::ostringstream os;
  (os << ... << parts);
  throw Error(os.str());
}

/// a * b, or an Error naming `what` when the product leaves int64.
inline index_t checked_mul(index_t a, index_t b, const char* what) {
  index_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) {
    fail(what, ": ", a, " * ", b, " overflows 64-bit signed indexing");
  }
  return r;
}

/// a + b, or an Error naming `what` when the sum leaves int64.
inline index_t checked_add(index_t a, index_t b, const char* what) {
  index_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) {
    fail(what, ": ", a, " + ", b, " overflows 64-bit signed indexing");
  }
  return r;
}

/// a - b, or an Error naming `what` when the difference leaves int64.
inline index_t checked_sub(index_t a, index_t b, const char* what) {
  index_t r = 0;
  if (__builtin_sub_overflow(a, b, &r)) {
    fail(what, ": ", a, " - ", b, " overflows 64-bit signed indexing");
  }
  return r;
}

/// Product of a shape's extents, overflow-checked.
template <class Shape>
index_t checked_product(const Shape& shape, const char* what) {
  index_t p = 1;
  for (index_t e : shape) p = checked_mul(p, e, what);
  return p;
}

/// Renders a sequence as "(a, b, c)" for messages.
template <class Seq>
std::string format_seq(const Seq& seq) {
  std::ostringstream os;
  os << '(';
  bool first = true;
  for (const auto& v : seq) {
    if (!first) os << ", ";
    os << v;
    first = false;
  }
  os << ')';
  return os.str();
}

}  // namespace detail
}  // namespace convt
