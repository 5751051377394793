// convt/detail/npy_header.hpp — the header dictionary of a .npy file
// ("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"): the
// subset of Python literals numpy writes, parsed strictly from untrusted
// bytes (fuzzed through convt/npy.hpp's reader).
#pragma once

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "convt/error.hpp"

namespace convt::npy::detail {

/// The Python-literal subset numpy writes in a header: a dict of string keys
/// to a string, a bool, or a tuple of integers.
class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& what) : s_(text), what_(what) {}

  struct Fields {
    std::string descr;
    bool fortran_order = false;
    std::vector<std::int64_t> shape;
  };

  Fields parse() {
    Fields f;
    bool have_descr = false, have_order = false, have_shape = false;
    expect('{');
    while (true) {
      skip_space();
      if (peek() == '}') break;
      const std::string key = string_literal();
      expect(':');
      if (key == "descr") {
        skip_space();
        if (peek() != '\'' && peek() != '"')
          fail("'descr' is not a simple dtype string (structured arrays are not supported)");
        f.descr = string_literal();
        have_descr = true;
      } else if (key == "fortran_order") {
        f.fortran_order = boolean();
        have_order = true;
      } else if (key == "shape") {
        f.shape = int_tuple();
        have_shape = true;
      } else {
        fail("unexpected key '" + key + "'");
      }
      skip_space();
      if (peek() == ',') {
        ++i_;
        continue;
      }
      skip_space();
      if (peek() != '}') fail("expected ',' or '}'");
    }
    expect('}');
    skip_space();
    if (i_ != s_.size()) fail("trailing characters after the dictionary");
    if (!have_descr || !have_order || !have_shape) fail("the header must have 'descr', 'fortran_order' and 'shape'");
    return f;
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    convt::detail::fail(what_ + ": bad .npy header (" + why + ")");
  }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void skip_space() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  void expect(char c) {
    skip_space();
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++i_;
  }
  std::string string_literal() {
    skip_space();
    const char quote = peek();
    if (quote != '\'' && quote != '"') fail("expected a string");
    const std::size_t end = s_.find(quote, i_ + 1);
    if (end == std::string::npos) fail("unterminated string");
    std::string v = s_.substr(i_ + 1, end - i_ - 1);
    i_ = end + 1;
    return v;
  }
  bool boolean() {
    skip_space();
    if (s_.compare(i_, 4, "True") == 0) {
      i_ += 4;
      return true;
    }
    if (s_.compare(i_, 5, "False") == 0) {
      i_ += 5;
      return false;
    }
    fail("'fortran_order' must be True or False");
  }
  std::vector<std::int64_t> int_tuple() {
    expect('(');
    std::vector<std::int64_t> v;
    while (true) {
      skip_space();
      if (peek() == ')') break;
      if (!std::isdigit(static_cast<unsigned char>(peek()))) fail("shape entries must be non-negative integers");
      std::int64_t x = 0;
      while (std::isdigit(static_cast<unsigned char>(peek()))) {
        const int digit = peek() - '0';
        if (x > (std::numeric_limits<std::int64_t>::max() - digit) / 10) fail("shape entry too large");
        x = x * 10 + digit;
        ++i_;
      }
      if (peek() == 'L') ++i_;  // Python 2 longs, as old numpy wrote them
      v.push_back(x);
      skip_space();
      if (peek() == ',') {
        ++i_;
      } else if (peek() != ')') {
        fail("expected ',' or ')' in the shape");
      }
    }
    expect(')');
    if (v.size() > 32) fail("more than 32 dimensions");
    return v;
  }

  const std::string& s_;
  std::string what_;
  std::size_t i_ = 0;
};

}  // namespace convt::npy::detail
