// CONCAT along one axis. All inputs share every dim except `axis`; any alignment.

#include <cstring>

#include "ops.h"

namespace facebits {

void concat(const Shape* shapes, const float* const* inputs, int64_t count, int32_t axis, float* output) {
  int64_t outer = 1;
  for (int32_t i = 0; i < axis; ++i) outer *= shapes[0].dims[i];
  int64_t inner = 1;
  for (int32_t i = axis + 1; i < shapes[0].rank; ++i) inner *= shapes[0].dims[i];
  float* out = output;
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t k = 0; k < count; ++k) {
      const int64_t run = shapes[k].dims[axis] * inner;
      std::memcpy(out, inputs[k] + o * run, sizeof(float) * run);
      out += run;
    }
  }
}

}  // namespace facebits
