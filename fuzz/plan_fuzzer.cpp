// Fuzz target: the plan and weight loader (parsePlan, Model compilation and a run).
// Input: u32 word count (little-endian), then that many int32 plan words, then the rest
// of the bytes as float32 weights. A word count larger than the input takes every whole
// word that is there.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "run_model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  uint32_t declared;
  std::memcpy(&declared, data, 4);
  data += 4;
  size -= 4;
  size_t wordCount = std::min<size_t>(declared, size / 4);
  std::vector<int32_t> words(wordCount);
  if (wordCount) std::memcpy(words.data(), data, wordCount * 4);
  data += wordCount * 4;
  size -= wordCount * 4;
  std::vector<float> weights(size / 4);
  if (!weights.empty()) std::memcpy(weights.data(), data, weights.size() * 4);
  facebits_fuzz::compileAndRun(words.data(), words.size(), weights.data(), weights.size());
  return 0;
}
