// Every C++ snippet in README.md is part of an example that is built and run
// as a test (examples/*.cpp): each code line of each ```cpp block must occur
// in one of them, compared without comments and whitespace (so clang-format
// may reflow the example). A README edit that is not made to an example, or
// an example edit not made to the README, fails here.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

const std::string kRoot = std::string(CONVT_TESTS_DIR) + "/..";

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The line without // and /* */ comments and without whitespace.
std::string code_of(const std::string& line) {
  std::string out;
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line.compare(i, 2, "//") == 0) break;
    if (line.compare(i, 2, "/*") == 0) {
      const std::size_t end = line.find("*/", i + 2);
      if (end == std::string::npos) break;
      i = end + 1;
      continue;
    }
    if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r') out += line[i];
  }
  return out;
}

std::string code_of_file(const std::string& text) {
  std::istringstream in(text);
  std::string line, out;
  while (std::getline(in, line)) out += code_of(line);
  return out;
}

TEST(Readme, EveryCppSnippetLineIsInABuiltAndRunExample) {
  std::string examples;
  for (const char* name : {"quickstart.cpp", "layer.cpp", "eigen_tensors.cpp", "porting.cpp"}) {
    examples += code_of_file(read_file(kRoot + "/examples/" + name));
  }
  std::istringstream readme(read_file(kRoot + "/README.md"));
  std::string line;
  int block = 0, lineno = 0, checked = 0;
  bool in_cpp = false;
  while (std::getline(readme, line)) {
    ++lineno;
    if (line.rfind("```", 0) == 0) {
      in_cpp = !in_cpp && line == "```cpp";
      block += in_cpp ? 1 : 0;
      continue;
    }
    if (!in_cpp) continue;
    const std::string code = code_of(line);
    if (code.empty()) continue;
    ++checked;
    EXPECT_NE(examples.find(code), std::string::npos)
        << "README.md:" << lineno << " (```cpp block " << block << ") is in no example: " << line;
  }
  EXPECT_GE(block, 8) << "the README's C++ snippets were not found";
  EXPECT_GE(checked, 40);
}

}  // namespace
