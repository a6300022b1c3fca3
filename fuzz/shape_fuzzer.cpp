// Fuzz target: tensor shapes and op parameters. It builds a well-formed word stream (header,
// inputs, ops and const ranges laid end to end) from shapes, op types, params and const
// lengths that the fuzzer chooses. Most inputs therefore pass the header checks and reach
// shape inference, compilation and the kernels.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
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

// The param count that each op type expects (plan.h), given the rank of its first input.
int32_t expectedParams(int32_t type, int32_t rank) {
  switch (static_cast<facebits::OpType>(type)) {
    case facebits::OpType::CONV2D: return 15;
    case facebits::OpType::FULLY_CONNECTED: return 4;
    case facebits::OpType::BINARY: return 5;
    case facebits::OpType::UNARY: return 3;
    case facebits::OpType::PAD: return 8;
    case facebits::OpType::POOL2D: return 10;
    case facebits::OpType::RESHAPE:
    case facebits::OpType::TRANSPOSE: return 1 + rank;
    case facebits::OpType::SLICE: return 1 + 2 * rank;
    case facebits::OpType::RESIZE: return 4;
    case facebits::OpType::CHANNEL_AFFINE: return 0;
    default: return 1;
  }
}

// Const lengths that the op's checks can accept, derived from its params and input shape,
// so that weight and bias ranges of the right size are likely rather than rare.
int64_t clampLength(double length) { return static_cast<int64_t>(std::min(std::max(length, -1.0), 4e18)); }

std::vector<int64_t> lengthCandidates(int32_t type, const std::vector<int32_t>& params, const facebits::Shape& in) {
  const int64_t last = in.dims[in.rank - 1];
  std::vector<int64_t> out = {1, last, in.size()};
  if (type == static_cast<int32_t>(facebits::OpType::CONV2D) && params.size() >= 12 && params[10] > 0) {
    // Products are taken in double and clamped so that hostile params cannot overflow.
    // The caller drops lengths outside 0 .. 2^20.
    out.push_back(clampLength(static_cast<double>(params[11]) * params[0] * params[1] * static_cast<double>(last / params[10])));
    out.push_back(params[11]);
  }
  if (type == static_cast<int32_t>(facebits::OpType::FULLY_CONNECTED) && !params.empty()) {
    out.push_back(clampLength(static_cast<double>(params[0]) * static_cast<double>(in.size() / in.dims[0])));
    out.push_back(params[0]);
  }
  return out;
}

std::vector<int32_t> assemble(int32_t tensorCount, int32_t opCount, int32_t inputCount, int32_t output, int64_t weightCount,
                              const std::vector<int32_t>& inputs, const std::vector<int32_t>& body) {
  std::vector<int32_t> words = {facebits::kPlanMagic, facebits::kPlanVersion, tensorCount, opCount, inputCount, 1,
                                static_cast<int32_t>(weightCount)};
  words.insert(words.end(), inputs.begin(), inputs.end());
  words.push_back(output);
  words.insert(words.end(), body.begin(), body.end());
  return words;
}

std::vector<float> makeWeights(int64_t count) {
  std::vector<float> weights(static_cast<size_t>(count));
  for (size_t i = 0; i < weights.size(); ++i) weights[i] = static_cast<float>(static_cast<int>(i % 17) - 8) * 0.125f;
  return weights;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const int32_t inputCount = in.ConsumeIntegralInRange<int32_t>(1, 2);
  const int32_t maxOps = in.ConsumeIntegralInRange<int32_t>(1, 4);

  std::vector<int32_t> inputs;
  for (int32_t i = 0; i < inputCount; ++i) {
    int32_t rank = in.ConsumeIntegralInRange<int32_t>(1, 4);
    inputs.push_back(i);
    inputs.push_back(rank);
    for (int32_t d = 0; d < 4; ++d) inputs.push_back(d < rank ? in.ConsumeIntegralInRange<int32_t>(1, 12) : 1);
  }

  // Ops are added one at a time. After each, the plan so far is parsed to learn the shapes
  // that the next op's const lengths are derived from; an op that fails the checks ends it.
  std::vector<int32_t> body;
  int64_t weightCount = 0;
  std::vector<facebits::Shape> shapes;
  {
    std::vector<int32_t> words = assemble(inputCount, 0, inputCount, 0, 0, inputs, body);
    facebits::Plan plan = facebits::parsePlan(words.data(), words.size(), 0);
    shapes = plan.shapes;
  }
  int32_t opCount = 0;
  while (opCount < maxOps && in.remaining_bytes() > 0) {
    const int32_t available = inputCount + opCount;
    std::vector<int32_t> op;
    const int32_t type = in.ConsumeIntegralInRange<int32_t>(1, 14);
    op.push_back(type);
    const int32_t inCount = in.ConsumeIntegralInRange<int32_t>(1, 3);
    op.push_back(inCount);
    std::vector<int32_t> reads;
    for (int32_t i = 0; i < inCount; ++i) reads.push_back(in.ConsumeIntegralInRange<int32_t>(0, available - 1));
    op.insert(op.end(), reads.begin(), reads.end());
    op.push_back(available);

    const facebits::Shape& first = shapes[reads[0]];
    const int32_t paramCount = in.ConsumeBool() ? expectedParams(type, first.rank) : in.ConsumeIntegralInRange<int32_t>(0, 16);
    std::vector<int32_t> params;
    for (int32_t p = 0; p < paramCount; ++p) params.push_back(pickParam(in));
    op.push_back(paramCount);
    op.insert(op.end(), params.begin(), params.end());

    const int32_t constCount = in.ConsumeIntegralInRange<int32_t>(0, 3);
    op.push_back(constCount);
    const std::vector<int64_t> candidates = lengthCandidates(type, params, first);
    int64_t opWeights = 0;
    for (int32_t c = 0; c < constCount; ++c) {
      int64_t length = in.ConsumeBool() ? candidates[in.ConsumeIntegralInRange<size_t>(0, candidates.size() - 1)]
                                        : in.ConsumeIntegralInRange<int64_t>(0, 4096);
      if (length < 0 || length > (1 << 20)) length = 0;
      op.push_back(static_cast<int32_t>(weightCount + opWeights));
      op.push_back(static_cast<int32_t>(length));
      opWeights += length;
    }

    std::vector<int32_t> trial = body;
    trial.insert(trial.end(), op.begin(), op.end());
    std::vector<int32_t> words = assemble(available + 1, opCount + 1, inputCount, available, weightCount + opWeights, inputs, trial);
    std::vector<float> weights = makeWeights(weightCount + opWeights);
    // Every op, valid or not, goes through the full load path once.
    facebits_fuzz::compileAndRun(words.data(), words.size(), weights.data(), weights.size());
    try {
      shapes = facebits::parsePlan(words.data(), words.size(), weights.size()).shapes;
    } catch (const facebits::PlanError&) {
      break;
    }
    body = std::move(trial);
    weightCount += opWeights;
    ++opCount;
  }
  return 0;
}
