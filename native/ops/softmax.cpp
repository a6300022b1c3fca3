// SOFTMAX along one axis, max-subtracted for range safety. Any alignment; output may
// alias input.

#include <algorithm>

#include "ops.h"

namespace facebits {

void softmax(const Shape& shape, int32_t axis, const float* input, float* output) {
  int64_t outer = 1, inner = 1;
  for (int32_t i = 0; i < axis; ++i) outer *= shape.dims[i];
  for (int32_t i = axis + 1; i < shape.rank; ++i) inner *= shape.dims[i];
  const int64_t length = shape.dims[axis];
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t j = 0; j < inner; ++j) {
      const float* x = input + o * length * inner + j;
      float* y = output + o * length * inner + j;
      float maximum = x[0];
      for (int64_t i = 1; i < length; ++i) maximum = std::max(maximum, x[i * inner]);
      float sum = 0.0f;
      for (int64_t i = 0; i < length; ++i) {
        y[i * inner] = std::exp(x[i * inner] - maximum);
        sum += y[i * inner];
      }
      const float scale = 1.0f / sum;
      for (int64_t i = 0; i < length; ++i) y[i * inner] *= scale;
    }
  }
}

}  // namespace facebits
