// CHANNEL_AFFINE scalar kernel.
//
// Contract: y[r][c] = x[r][c] * scale[c] + shift[c] for r < rows, c < channels, any
// alignment, y may alias x.

#include "ops.h"

namespace facebits {

void channelAffineScalar(const float* x, const float* scale, const float* shift, float* y, int64_t rows,
                         int64_t channels) {
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < channels; ++c) y[r * channels + c] = x[r * channels + c] * scale[c] + shift[c];
  }
}

}  // namespace facebits
