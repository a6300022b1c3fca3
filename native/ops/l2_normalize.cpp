// L2_NORMALIZE: y = x / max(||x||, eps) along the last axis, summed in double so long
// embeddings keep float32 accuracy. Any alignment; output may alias input.

#include <algorithm>

#include "ops.h"

namespace facebits {

void l2Normalize(int64_t rows, int64_t length, float eps, const float* input, float* output) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* x = input + r * length;
    float* y = output + r * length;
    double sum = 0.0;
    for (int64_t i = 0; i < length; ++i) sum += static_cast<double>(x[i]) * x[i];
    const double norm = std::max(std::sqrt(sum), static_cast<double>(eps));
    const float scale = norm > 0.0 ? static_cast<float>(1.0 / norm) : 0.0f;
    for (int64_t i = 0; i < length; ++i) y[i] = x[i] * scale;
  }
}

}  // namespace facebits
