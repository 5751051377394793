// tests/expect_error.hpp — requires a convt::Error whose message contains
// every given fragment (the argument, the value, the rule).
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <convt/error.hpp>

namespace testutil {

template <class F>
void expect_error(F&& f, std::initializer_list<const char*> fragments) {
  try {
    f();
    ADD_FAILURE() << "no convt::Error thrown";
  } catch (const convt::Error& e) {
    const std::string msg = e.what();
    for (const char* frag : fragments) {
      EXPECT_NE(msg.find(frag), std::string::npos) << "message: " << msg << "\nmissing: " << frag;
    }
    static_assert(std::is_base_of_v<std::invalid_argument, convt::Error>, "convt::Error is an invalid_argument");
  }
}

}  // namespace testutil
