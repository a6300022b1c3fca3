// Fuzz target: the gallery's top-k Hamming scan (hammingTopK) over codes of any length,
// count, k and thread count, on every kernel set this CPU supports. The buffers have the
// exact sizes the binding checks, and the result must equal a brute-force ranking.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../native/binary.h"
#include "../native/cpu.h"
#include "../native/search.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const size_t bytes = 8 * in.ConsumeIntegralInRange<size_t>(1, 16);
  const size_t count = in.ConsumeIntegralInRange<size_t>(0, 300);
  const size_t k = in.ConsumeIntegralInRange<size_t>(0, 320);
  const unsigned threads = in.ConsumeIntegralInRange<unsigned>(0, 5);
  const std::vector<std::string> isas = facebits::supportedIsas();
  const std::string isa = isas[in.ConsumeIntegralInRange<size_t>(0, isas.size() - 1)];
  const std::vector<uint8_t> pattern = in.ConsumeRemainingBytes<uint8_t>();

  // Exact-size heap buffers, so that ASan sees a read one byte past either.
  uint8_t* query = static_cast<uint8_t*>(std::malloc(bytes));
  uint8_t* codes = static_cast<uint8_t*>(std::malloc(std::max<size_t>(count * bytes, 1)));
  for (size_t i = 0; i < bytes; ++i) query[i] = pattern.empty() ? 0 : pattern[i % pattern.size()];
  for (size_t i = 0; i < count * bytes; ++i) codes[i] = pattern.empty() ? uint8_t(i) : uint8_t(pattern[(i * 7 + 3) % pattern.size()] ^ (i / bytes));

  facebits::setIsa(isa);
  const std::vector<facebits::HammingHit> hits = facebits::hammingTopK(query, codes, count, bytes, k, threads);

  std::vector<facebits::HammingHit> expected;
  for (size_t i = 0; i < count; ++i) {
    expected.push_back({static_cast<uint32_t>(facebits::binary::hammingSerial(query, codes + i * bytes, bytes)), static_cast<uint32_t>(i)});
  }
  std::sort(expected.begin(), expected.end(), [](const facebits::HammingHit& a, const facebits::HammingHit& b) {
    return a.distance != b.distance ? a.distance < b.distance : a.index < b.index;
  });
  expected.resize(std::min(k, count));
  if (hits.size() != expected.size()) {
    std::fprintf(stderr, "hammingTopK (%s) returned %zu hits; expected %zu\n", isa.c_str(), hits.size(), expected.size());
    std::abort();
  }
  for (size_t i = 0; i < hits.size(); ++i) {
    if (hits[i].index != expected[i].index || hits[i].distance != expected[i].distance) {
      std::fprintf(stderr, "hammingTopK (%s) hit %zu is (%u, %u); expected (%u, %u)\n", isa.c_str(), i, hits[i].index,
                   hits[i].distance, expected[i].index, expected[i].distance);
      std::abort();
    }
  }
  std::free(query);
  std::free(codes);
  return 0;
}
