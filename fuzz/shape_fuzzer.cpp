// Fuzz target: tensor shapes and op parameters. It builds a well-formed word stream (header,
// inputs, ops and const ranges laid end to end) from shapes, op types, params and const
// lengths that the fuzzer chooses. Most inputs therefore pass the header checks and reach
// shape inference, compilation and the kernels.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "run_model.h"

namespace {

int32_t pickParam(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange<int>(0, 7)) {
    case 0: return in.ConsumeIntegral<int32_t>();
    case 1: {
      float f = in.ConsumeFloatingPointInRange<float>(-8.0f, 8.0f);
      int32_t w;
      std::memcpy(&w, &f, 4);
      return w;
    }
    default: return in.ConsumeIntegralInRange<int32_t>(-1, 9);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const int32_t inputCount = in.ConsumeIntegralInRange<int32_t>(1, 2);
  const int32_t opCount = in.ConsumeIntegralInRange<int32_t>(1, 4);
  const int32_t tensorCount = inputCount + opCount;

  std::vector<int32_t> head;
  for (int32_t i = 0; i < inputCount; ++i) {
    int32_t rank = in.ConsumeIntegralInRange<int32_t>(1, 4);
    head.push_back(i);
    head.push_back(rank);
    for (int32_t d = 0; d < 4; ++d) head.push_back(d < rank ? in.ConsumeIntegralInRange<int32_t>(1, 12) : 1);
  }
  head.push_back(tensorCount - 1);  // the last op's output

  std::vector<int32_t> body;
  int64_t weightCount = 0;
  for (int32_t k = 0; k < opCount; ++k) {
    const int32_t available = inputCount + k;
    body.push_back(in.ConsumeIntegralInRange<int32_t>(1, 14));
    const int32_t inCount = in.ConsumeIntegralInRange<int32_t>(1, 3);
    body.push_back(inCount);
    for (int32_t i = 0; i < inCount; ++i) body.push_back(in.ConsumeIntegralInRange<int32_t>(0, available - 1));
    body.push_back(available);
    const int32_t paramCount = in.ConsumeIntegralInRange<int32_t>(0, 16);
    body.push_back(paramCount);
    for (int32_t p = 0; p < paramCount; ++p) body.push_back(pickParam(in));
    const int32_t constCount = in.ConsumeIntegralInRange<int32_t>(0, 3);
    body.push_back(constCount);
    for (int32_t c = 0; c < constCount; ++c) {
      const int32_t length = in.ConsumeIntegralInRange<int32_t>(0, 4096);
      body.push_back(static_cast<int32_t>(weightCount));
      body.push_back(length);
      weightCount += length;
    }
  }

  std::vector<int32_t> words = {facebits::kPlanMagic, facebits::kPlanVersion, tensorCount, opCount, inputCount, 1,
                                static_cast<int32_t>(weightCount)};
  words.insert(words.end(), head.begin(), head.end());
  words.insert(words.end(), body.begin(), body.end());
  std::vector<float> weights(static_cast<size_t>(weightCount));
  for (size_t i = 0; i < weights.size(); ++i) weights[i] = static_cast<float>(static_cast<int>(i % 17) - 8) * 0.125f;
  facebits_fuzz::compileAndRun(words.data(), words.size(), weights.data(), weights.size());
  return 0;
}
