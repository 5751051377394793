// libFuzzer target for the .npy reader (convt/npy.hpp), which parses
// untrusted files: every input must end in a convt::Error or in an array
// whose bytes match its shape and dtype and which survives a write → read
// round trip unchanged — never a crash, a hang, an oversized allocation or a
// sanitizer report.
//   build: cmake -DCONVT_BUILD_FUZZER=ON -DCMAKE_CXX_COMPILER=clang++ ...
//   run:   fuzz_npy -max_total_time=60 CORPUS_DIR tests/fuzz/npy_corpus
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <convt/npy.hpp>

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  const std::vector<unsigned char> file(data, data + size);
  convt::npy::Array a;
  try {
    a = convt::npy::parse(file, "fuzz.npy");
  } catch (const convt::Error&) {
    return 0;  // refused, with a message: fine
  }
  const std::size_t item = convt::npy::info(a.dtype).size;
  if (a.bytes.size() != static_cast<std::size_t>(a.count()) * item) {
    std::fprintf(stderr, "parsed array holds %zu bytes, its shape needs %zu\n", a.bytes.size(),
                 static_cast<std::size_t>(a.count()) * item);
    std::abort();
  }
  const convt::npy::Array back = convt::npy::parse(convt::npy::serialize(a), "round trip");
  if (back.dtype != a.dtype || back.shape != a.shape || back.bytes != a.bytes) {
    std::fprintf(stderr, "write -> read round trip changed the array\n");
    std::abort();
  }
  return 0;
}
