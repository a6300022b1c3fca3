// FULLY_CONNECTED scalar reference.
//
// Contract: input [rows][depth], weights [outFeatures][depth] row-major, bias [outFeatures]
// or nullptr, output [rows][outFeatures], any alignment. The fast path packs the weights
// into a PackedMatrix and calls the kernel table's GEMM (see gemm.cpp).

#include "ops.h"

namespace facebits {

void fullyConnectedReference(int64_t rows, int64_t depth, int64_t outFeatures, const float* input, const float* weights,
                             const float* bias, const ActParams& act, float* output) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* x = input + r * depth;
    for (int64_t o = 0; o < outFeatures; ++o) {
      const float* w = weights + o * depth;
      float acc = bias ? bias[o] : 0.0f;
      for (int64_t k = 0; k < depth; ++k) acc += x[k] * w[k];
      output[r * outFeatures + o] = activate(acc, act, o);
    }
  }
}

}  // namespace facebits
