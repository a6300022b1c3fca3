// POOL2D scalar kernel.
//
// Contract: input NHWC [n, h, w, c], output NHWC [n, oh, ow, c], any alignment.
// Global pooling (kh = kw = 0) reduces h and w to 1. Padded cells never win a max pool, and a
// NaN in a window makes its maximum NaN.
// An average divides by kh * kw when countIncludePad is set, otherwise by the number of
// real cells in the window.

#include <algorithm>
#include <limits>

#include "ops.h"

namespace facebits {

void poolScalar(const PoolGeometry& g, const float* input, float* output) {
  const bool isMax = g.kind == static_cast<int32_t>(PoolKind::MAX);
  if (g.global) {
    for (int64_t n = 0; n < g.n; ++n) {
      const float* image = input + n * g.h * g.w * g.c;
      float* out = output + n * g.c;
      for (int64_t c = 0; c < g.c; ++c) out[c] = isMax ? -std::numeric_limits<float>::infinity() : 0.0f;
      for (int64_t p = 0; p < g.h * g.w; ++p) {
        const float* in = image + p * g.c;
        for (int64_t c = 0; c < g.c; ++c) out[c] = isMax ? maxKeepingNan(out[c], in[c]) : out[c] + in[c];
      }
      if (!isMax) {
        const float scale = 1.0f / static_cast<float>(g.h * g.w);
        for (int64_t c = 0; c < g.c; ++c) out[c] *= scale;
      }
    }
    return;
  }
  for (int64_t n = 0; n < g.n; ++n) {
    for (int64_t oy = 0; oy < g.oh; ++oy) {
      const int64_t y0 = oy * g.sh - g.padTop;
      const int64_t yBegin = std::max<int64_t>(y0, 0);
      const int64_t yEnd = std::min<int64_t>(y0 + g.kh, g.h);
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        const int64_t x0 = ox * g.sw - g.padLeft;
        const int64_t xBegin = std::max<int64_t>(x0, 0);
        const int64_t xEnd = std::min<int64_t>(x0 + g.kw, g.w);
        float* out = output + ((n * g.oh + oy) * g.ow + ox) * g.c;
        for (int64_t c = 0; c < g.c; ++c) out[c] = isMax ? -std::numeric_limits<float>::infinity() : 0.0f;
        for (int64_t y = yBegin; y < yEnd; ++y) {
          for (int64_t x = xBegin; x < xEnd; ++x) {
            const float* in = input + ((n * g.h + y) * g.w + x) * g.c;
            for (int64_t c = 0; c < g.c; ++c) out[c] = isMax ? maxKeepingNan(out[c], in[c]) : out[c] + in[c];
          }
        }
        if (!isMax) {
          const int64_t cells = g.countIncludePad ? g.kh * g.kw : (yEnd - yBegin) * (xEnd - xBegin);
          const float scale = 1.0f / static_cast<float>(std::max<int64_t>(cells, 1));
          for (int64_t c = 0; c < g.c; ++c) out[c] *= scale;
        }
      }
    }
  }
}

}  // namespace facebits
