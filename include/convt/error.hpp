// convt/error.hpp — the one exception type convt throws, and overflow-checked
// index arithmetic that reports through it.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

#include "convt/detail/overflow.hpp"

// Exceptions, or (-fno-exceptions) a handler: see set_error_handler.
#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
#define CONVT_HAS_EXCEPTIONS 1
#define CONVT_TRY try
#define CONVT_CATCH_ALLOCATION catch (const std::exception&)
#else
#define CONVT_HAS_EXCEPTIONS 0
#define CONVT_TRY if (true)
#define CONVT_CATCH_ALLOCATION else
#endif

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

/// Called with the message of every error in builds without exceptions
/// (-fno-exceptions). It must not return; if it does, or none is set, the
/// message goes to stderr and the program aborts.
using ErrorHandler = void (*)(const char* message);

namespace detail {
inline ErrorHandler& error_handler_slot() noexcept {
  static ErrorHandler handler = nullptr;
  return handler;
}
}  // namespace detail

/// Installs `handler` (see ErrorHandler); returns the previous one. Without
/// exceptions this is how errors reach the program; with exceptions convt
/// throws convt::Error and never calls it.
inline ErrorHandler set_error_handler(ErrorHandler handler) noexcept {
  ErrorHandler previous = detail::error_handler_slot();
  detail::error_handler_slot() = handler;
  return previous;
}

namespace detail {

/// Builds an Error message from streamable parts and throws it (or, without
/// exceptions, hands it to the error handler and aborts).
template <class... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  std::ostringstream os;
  (os << ... << parts);
#if CONVT_HAS_EXCEPTIONS
  throw Error(os.str());
#else
  const std::string message = os.str();
  if (ErrorHandler handler = error_handler_slot()) handler(message.c_str());
  std::fprintf(stderr, "convt error: %s\n", message.c_str());
  std::abort();
#endif
}

/// a * b, or an Error naming `what` when the product leaves int64.
inline index_t checked_mul(index_t a, index_t b, const char* what) {
  index_t r = 0;
  if (mul_overflow(a, b, &r)) {
    fail(what, ": ", a, " * ", b, " overflows 64-bit signed indexing");
  }
  return r;
}

/// a + b, or an Error naming `what` when the sum leaves int64.
inline index_t checked_add(index_t a, index_t b, const char* what) {
  index_t r = 0;
  if (add_overflow(a, b, &r)) {
    fail(what, ": ", a, " + ", b, " overflows 64-bit signed indexing");
  }
  return r;
}

/// a - b, or an Error naming `what` when the difference leaves int64.
inline index_t checked_sub(index_t a, index_t b, const char* what) {
  index_t r = 0;
  if (sub_overflow(a, b, &r)) {
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
