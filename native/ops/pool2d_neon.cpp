// NEON max and average pooling, vectorised over channels (AArch64 Advanced SIMD).
//
// Contract: as poolScalar in pool2d.cpp. Any alignment; channels go 4 at a time and the
// last c % 4 take a scalar loop. Sums run in the same order as the scalar kernel, so
// results match it exactly for finite inputs. FMAX returns NaN when either operand is NaN,
// as the scalar max pool does.

#if defined(__aarch64__)

#include <arm_neon.h>

#include "../kernels.h"
#include "ops.h"

namespace facebits {

void poolNeon(const PoolGeometry& g, const float* input, float* output);

namespace {

// Reduces the cells [yBegin, yEnd) x [xBegin, xEnd) of one image into out[c].
void reduceWindow(const PoolGeometry& g, const float* image, int64_t yBegin, int64_t yEnd, int64_t xBegin, int64_t xEnd,
                  float scale, float* out) {
  const bool isMax = g.kind == 0;
  int64_t ch = 0;
  for (; ch + 4 <= g.c; ch += 4) {
    float32x4_t acc = vdupq_n_f32(isMax ? -__builtin_inff() : 0.0f);
    for (int64_t y = yBegin; y < yEnd; ++y) {
      const float* row = image + y * g.w * g.c + ch;
      for (int64_t x = xBegin; x < xEnd; ++x) {
        const float32x4_t v = vld1q_f32(row + x * g.c);
        acc = isMax ? vmaxq_f32(acc, v) : vaddq_f32(acc, v);
      }
    }
    if (!isMax) acc = vmulq_n_f32(acc, scale);
    vst1q_f32(out + ch, acc);
  }
  for (; ch < g.c; ++ch) {
    float acc = isMax ? -__builtin_inff() : 0.0f;
    for (int64_t y = yBegin; y < yEnd; ++y) {
      for (int64_t x = xBegin; x < xEnd; ++x) {
        const float v = image[(y * g.w + x) * g.c + ch];
        acc = isMax ? maxKeepingNan(acc, v) : acc + v;
      }
    }
    out[ch] = isMax ? acc : acc * scale;
  }
}

}  // namespace

void poolNeon(const PoolGeometry& g, const float* input, float* output) {
  if (g.global) {
    for (int64_t n = 0; n < g.n; ++n) {
      reduceWindow(g, input + n * g.h * g.w * g.c, 0, g.h, 0, g.w, 1.0f / static_cast<float>(g.h * g.w),
                   output + n * g.c);
    }
    return;
  }
  for (int64_t n = 0; n < g.n; ++n) {
    const float* image = input + n * g.h * g.w * g.c;
    for (int64_t oy = 0; oy < g.oh; ++oy) {
      const int64_t y0 = oy * g.sh - g.padTop;
      const int64_t yBegin = y0 < 0 ? 0 : y0;
      const int64_t yEnd = y0 + g.kh > g.h ? g.h : y0 + g.kh;
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        const int64_t x0 = ox * g.sw - g.padLeft;
        const int64_t xBegin = x0 < 0 ? 0 : x0;
        const int64_t xEnd = x0 + g.kw > g.w ? g.w : x0 + g.kw;
        int64_t cells = g.countIncludePad ? g.kh * g.kw : (yEnd - yBegin) * (xEnd - xBegin);
        if (cells < 1) cells = 1;
        reduceWindow(g, image, yBegin, yEnd, xBegin, xEnd, 1.0f / static_cast<float>(cells),
                     output + ((n * g.oh + oy) * g.ow + ox) * g.c);
      }
    }
  }
}

}  // namespace facebits

#endif  // __aarch64__
